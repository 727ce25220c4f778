#include <opencv2/imgproc.hpp>
#include <cstdio>
#include <cmath>
int main(){
  int Ts[]={6,4,8,12}; int Ks[]={9,5,7,13}; int Hs[]={50,-1};
  for(int T: Ts) for(int K: Ks) for(int hl: Hs){
    int half = hl<0 ? K/2 : hl;
    printf("T=%d K=%d half=%d\n",T,K,half);
    for(int i=0;i<T;i++){
      cv::Mat k = cv::Mat::zeros(K,K,CV_8U);
      double th = (double)i*180/T*3.1415926/180;
      int dx=(int)(cos(th)*half), dy=(int)(sin(th)*half);
      int c=K/2;
      cv::line(k, cv::Point(c-dx,c-dy), cv::Point(c+dx,c+dy), cv::Scalar(1), 1);
      for(int j=0;j<K*K;j++) if(k.data[j]) printf("%d,",j);
      printf("\n");
    }
  }
}
