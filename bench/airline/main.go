// Command airline compares bohost's pure-Go AirLine evaluator (host/airline)
// with OpenCV's line-segment detectors (host/cv) and prints Markdown tables:
//
//  1. time per image of AirLine's Detect (default parameters) against OpenCV's
//     LSD (and Canny+Hough) on the same images, measured side by side
//     (interleaved per image, median of -reps runs), first single-threaded
//     (GOMAXPROCS=1 and cv.SetNumThreads(1)), then on all cores;
//
//  2. mean F3 (host/metric.FScore, r = 3 px at 640×480) of AirLine's default
//     parameters, LSD and Canny(50,150)+HoughLinesP(1, 1°, 50, 30, 5) on York
//     Urban's train and test splits when the shared folder has them
//     (testsupport.YorkUrban, $BOHOST_SHARED), otherwise on the synthetic set.
//
//     go run ./bench/airline [-data DIR] [-reps 3] [-timing 0] [-seed 1]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"syscall"
	"time"

	"bohost/host/airline"
	"bohost/host/cv"
	"bohost/host/dataset"
	"bohost/host/imgbuf"
	"bohost/host/metric"
	"bohost/host/testsupport"
)

type detector struct {
	name string
	run  func(*imgbuf.Gray) ([]imgbuf.Segment, error)
}

type split struct {
	name string
	ds   *dataset.Dataset
}

func main() {
	dataDir := flag.String("data", "", "data set directory (images + JSON + split.json); default: York Urban from the shared folder, else the synthetic set")
	reps := flag.Int("reps", 3, "timed runs per image and detector (the median is kept)")
	timing := flag.Int("timing", 0, "number of images timed (0 = all images of the timing split)")
	seed := flag.Uint64("seed", 1, "AirLine evaluator seed")
	synthetic := flag.Bool("synthetic", false, "use the synthetic data set even when York Urban is present")
	flag.Parse()
	if err := run(*dataDir, *synthetic, *reps, *timing, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "airline bench:", err)
		os.Exit(1)
	}
}

func run(dataDir string, synthetic bool, reps, timing int, seed uint64) error {
	if reps < 1 {
		return fmt.Errorf("-reps must be >= 1, got %d", reps)
	}
	splits, source, err := loadSplits(dataDir, synthetic)
	if err != nil {
		return err
	}
	ev, err := airline.New(airline.Options{Seed: seed})
	if err != nil {
		return err
	}
	ctx := context.Background()
	dets := []detector{
		{"AirLine (defaults)", func(g *imgbuf.Gray) ([]imgbuf.Segment, error) { return ev.Detect(ctx, nil, g) }},
		{"OpenCV LSD", cv.LSD},
		{"Canny+Hough", func(g *imgbuf.Gray) ([]imgbuf.Segment, error) { return cv.Hough(g, cv.HoughParams{}) }},
	}

	fmt.Printf("# AirLine vs OpenCV line detectors\n\n")
	fmt.Printf("data: %s; %s/%s, %d CPUs, %s; OpenCV threads by default %d; %s\n\n",
		source, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), cv.NumThreads(), time.Now().UTC().Format(time.RFC3339))

	// Timing on the last split (York Urban: test).
	ts := splits[len(splits)-1]
	n := ts.ds.Len()
	if timing > 0 && timing < n {
		n = timing
	}
	imgs := make([]*imgbuf.Gray, n)
	for i := range imgs {
		if imgs[i], err = ts.ds.Image(i); err != nil {
			return err
		}
	}
	fmt.Printf("## Time per image (%s split, %d images, median of %d interleaved runs per image)\n\n", ts.name, n, reps)
	fmt.Println("| threads | detector | mean ms/image | median ms/image | × LSD | CPU ms/image | CPU × LSD |")
	fmt.Println("|---|---|---|---|---|---|---|")
	defaultThreads := cv.NumThreads()
	for _, mode := range []struct {
		name     string
		procs    int
		cvThread int
	}{{"1 (GOMAXPROCS=1, cv 1)", 1, 1}, {fmt.Sprintf("all (GOMAXPROCS=%d, cv %d)", runtime.NumCPU(), defaultThreads), runtime.NumCPU(), defaultThreads}} {
		old := runtime.GOMAXPROCS(mode.procs)
		cv.SetNumThreads(mode.cvThread)
		ms, cpu, err := timeSideBySide(dets, imgs, reps)
		runtime.GOMAXPROCS(old)
		cv.SetNumThreads(defaultThreads)
		if err != nil {
			return err
		}
		lsdMean, lsdCPU := mean(ms[1]), mean(cpu[1])
		for d := range dets {
			fmt.Printf("| %s | %s | %.1f | %.1f | %.2f | %.1f | %.2f |\n", mode.name, dets[d].name,
				mean(ms[d]), median(ms[d]), mean(ms[d])/lsdMean, mean(cpu[d]), mean(cpu[d])/lsdCPU)
		}
	}

	fmt.Printf("\n## Mean F3 (r = metric.Radius: 3 px at 640×480; images with ground truth)\n\n")
	fmt.Println("| split | images | detector | F3 | P3 | R3 | lines/image |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, s := range splits {
		scores := make([][]metric.Score, len(dets))
		lines := make([]int, len(dets))
		for i := 0; i < s.ds.Len(); i++ {
			img, err := s.ds.Image(i)
			if err != nil {
				return err
			}
			it := s.ds.Item(i)
			for d, det := range dets {
				segs, err := det.run(img)
				if err != nil {
					return fmt.Errorf("%s on %s: %w", det.name, it.ID, err)
				}
				lines[d] += len(segs)
				scores[d] = append(scores[d], metric.FScore(segs, it.Lines, img.W, img.H, 0))
			}
		}
		for d, det := range dets {
			m, k := metric.Mean(scores[d])
			fmt.Printf("| %s | %d | %s | %.3f | %.3f | %.3f | %.0f |\n", s.name, k, det.name, m.F, m.Precision, m.Recall,
				float64(lines[d])/float64(max(1, s.ds.Len())))
		}
	}
	return nil
}

// loadSplits opens the train and test splits of dir (or York Urban), or the
// synthetic set when neither is available.
func loadSplits(dir string, synthetic bool) ([]split, string, error) {
	if dir == "" {
		if p, ok := testsupport.YorkUrban(); ok {
			dir = p
		}
	}
	if dir == "" || synthetic {
		var out []split
		for _, name := range []string{"train", "test"} {
			ds, err := dataset.Synthetic(dataset.SynthOptions{Seed: 1, Split: name})
			if err != nil {
				return nil, "", err
			}
			out = append(out, split{"synthetic " + name, ds})
		}
		why := "York Urban not found under $BOHOST_SHARED"
		if synthetic {
			why = "-synthetic"
		}
		return out, fmt.Sprintf("dataset.Synthetic (%s, seed 1, %s)", dataset.GeneratorVersion, why), nil
	}
	var out []split
	for _, name := range []string{"train", "test"} {
		ds, err := dataset.Open(dir, dataset.Options{Split: name})
		if err != nil {
			if len(out) == 0 && name == "train" {
				// No split.json: use every image as one split.
				all, err2 := dataset.Open(dir, dataset.Options{})
				if err2 != nil {
					return nil, "", err2
				}
				return []split{{"all", all}}, dir, nil
			}
			return nil, "", err
		}
		out = append(out, split{name, ds})
	}
	return out, dir, nil
}

// timeSideBySide times every detector on every image, interleaved (image i:
// det 0, det 1, ..., repeated reps times), after one untimed warm-up run each,
// and returns per detector the per-image median wall and process-CPU
// milliseconds (CPU time is less sensitive to other load on a shared machine;
// on several threads it is the sum over threads).
func timeSideBySide(dets []detector, imgs []*imgbuf.Gray, reps int) (wall, cpu [][]float64, err error) {
	for _, d := range dets {
		if _, err := d.run(imgs[0]); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", d.name, err)
		}
	}
	wall = make([][]float64, len(dets))
	cpu = make([][]float64, len(dets))
	rw := make([][]float64, len(dets))
	rc := make([][]float64, len(dets))
	for _, img := range imgs {
		for d := range rw {
			rw[d], rc[d] = rw[d][:0], rc[d][:0]
		}
		for r := 0; r < reps; r++ {
			for d, det := range dets {
				c0, t0 := cpuMs(), time.Now()
				if _, err := det.run(img); err != nil {
					return nil, nil, fmt.Errorf("%s: %w", det.name, err)
				}
				rw[d] = append(rw[d], float64(time.Since(t0).Microseconds())/1000)
				rc[d] = append(rc[d], cpuMs()-c0)
			}
		}
		for d := range rw {
			wall[d] = append(wall[d], median(rw[d]))
			cpu[d] = append(cpu[d], median(rc[d]))
		}
	}
	return wall, cpu, nil
}

// cpuMs is the process's user+system CPU time in milliseconds.
func cpuMs() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(max(1, len(v)))
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
