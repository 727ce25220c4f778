// Command fullsize measures AirLine on the welding study's full-size images
// (3264 × 2448): per image, the time to decode it, compute its environment
// features, detect lines (default parameters) and score them, and the peak
// RSS of the process doing it (a worker's work), with and without
// downscaling the image by an integer factor before detection; the lines
// found on a downscaled image are mapped back and scored at full size
// against the full-size labels (soft LP_r, r = 20 px, and F_r), so the
// factors are compared on the same measure.
//
// Each factor runs in its own child process (this binary again) with
// GOMAXPROCS = -procs (default 2, the machine the study ran on), so its
// peak RSS (VmHWM) is its own. Without -data it first writes a generated
// weld set (bohost data weld: -n images at 3264 × 2448, JPEG) to a
// temporary directory.
//
//	go run ./bench/fullsize [-n 8] [-factors 1,2,4] [-procs 2] [-data ground_truth.json]
//
// Output: a Markdown table (docs/airline.md, "Full-size images").
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"bohost/host/airline"
	"bohost/host/dataset"
	"bohost/host/envfeat"
	"bohost/host/memctl"
)

const childEnv = "BOHOST_FULLSIZE_CHILD"

// result is what a child reports for one factor.
type result struct {
	Factor      int       `json:"factor"`
	W           int       `json:"w"`
	H           int       `json:"h"`
	Images      int       `json:"images"`
	DecodeMs    []float64 `json:"decode_ms"`
	DownMs      []float64 `json:"down_ms"`
	FeatMs      []float64 `json:"feat_ms"`
	DetectMs    []float64 `json:"detect_ms"`
	SoftLP      []float64 `json:"soft_lp"`
	SoftP       []float64 `json:"soft_precision"`
	FR          []float64 `json:"f_r"`
	NLines      []int     `json:"n_lines"`
	PeakRSS     uint64    `json:"peak_rss_bytes"`
	BaselineRSS uint64    `json:"baseline_rss_bytes"` // after opening the data set and the evaluator
	Procs       int       `json:"procs"`
}

func main() {
	if v := os.Getenv(childEnv); v != "" {
		if err := child(v); err != nil {
			fmt.Fprintln(os.Stderr, "fullsize child:", err)
			os.Exit(1)
		}
		return
	}
	n := flag.Int("n", 8, "images (generated when -data is not given; else the first n of the label file)")
	factors := flag.String("factors", "1,2,4", "downscale factors (1: full size)")
	procs := flag.Int("procs", 2, "GOMAXPROCS of each measuring process")
	data := flag.String("data", "", "a welding label file (ground_truth.json); default: a generated weld set at 3264x2448")
	seed := flag.Uint64("seed", 1, "seed of the generated weld set")
	flag.Parse()
	if err := run(*n, *factors, *procs, *data, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "fullsize:", err)
		os.Exit(1)
	}
}

func run(n int, factors string, procs int, data string, seed uint64) error {
	var fs []int
	for _, s := range strings.Split(factors, ",") {
		f, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || f < 1 || f > 16 {
			return fmt.Errorf("-factors: %q is not a factor in [1, 16]", s)
		}
		fs = append(fs, f)
	}
	if data == "" {
		dir, err := os.MkdirTemp("", "bohost-fullsize-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		t0 := time.Now()
		// One more than n per 8: the empty label of each block is excluded.
		sum, err := dataset.WriteWeldSet(context.Background(), dir, dataset.WeldSetOptions{N: n + (n+7)/8, Seed: seed})
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "generated %d images at 3264x2448 in %.1f s\n", len(sum.Labels), time.Since(t0).Seconds())
		data = filepath.Join(dir, dataset.WeldLabelFile)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	var rs []result
	for _, f := range fs {
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d,%d,%s", childEnv, f, n, data), "GOMAXPROCS="+strconv.Itoa(procs))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("factor %d: %v", f, err)
		}
		var r result
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			return fmt.Errorf("factor %d: %v: %q", f, err, out.String())
		}
		rs = append(rs, r)
	}
	printTable(rs, data)
	return nil
}

// child measures one factor: "factor,n,labelfile".
func child(spec string) error {
	parts := strings.SplitN(spec, ",", 3)
	if len(parts) != 3 {
		return fmt.Errorf("bad %s %q", childEnv, spec)
	}
	f, _ := strconv.Atoi(parts[0])
	n, _ := strconv.Atoi(parts[1])
	r, err := measure(f, n, parts[2])
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// measure decodes, downscales by f, computes the environment features of,
// detects lines on and scores the first n images of a label file.
func measure(f, n int, labels string) (result, error) {
	ds, err := dataset.OpenLabels(labels, dataset.LabelOptions{})
	if err != nil {
		return result{}, err
	}
	ev, err := airline.New(airline.Options{Metric: airline.MetricSoftLP})
	if err != nil {
		return result{}, err
	}
	r := result{Factor: f, Procs: runtime.GOMAXPROCS(0)}
	r.BaselineRSS, _ = memctl.ProcRSS("self")
	ctx := context.Background()
	ms := func(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }
	for i := 0; i < min(n, ds.Len()); i++ {
		it := ds.Item(i)
		t := time.Now()
		img, err := ds.Image(i)
		if err != nil {
			return result{}, err
		}
		r.DecodeMs = append(r.DecodeMs, ms(t))
		t = time.Now()
		work := img
		if f > 1 {
			if work, err = dataset.Downscale(img, f); err != nil {
				return result{}, err
			}
		}
		r.DownMs = append(r.DownMs, ms(t))
		r.W, r.H = work.W, work.H
		t = time.Now()
		envfeat.Features(work)
		r.FeatMs = append(r.FeatMs, ms(t))
		t = time.Now()
		segs, err := ev.Detect(ctx, nil, work)
		if err != nil {
			return result{}, err
		}
		r.DetectMs = append(r.DetectMs, ms(t))
		rec := ev.ScoreSegments(dataset.UpscaleSegments(segs, f), it.Lines, img.W, img.H)
		r.SoftLP, r.SoftP, r.FR = append(r.SoftLP, rec.Soft.LP), append(r.SoftP, rec.Soft.Precision), append(r.FR, rec.F)
		r.NLines = append(r.NLines, len(segs))
		r.Images++
	}
	_, r.PeakRSS = memctl.ProcRSS("self")
	return r, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func mean(v []float64) float64 {
	t := 0.0
	for _, x := range v {
		t += x
	}
	return t / float64(len(v))
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func printTable(rs []result, data string) {
	fmt.Printf("# AirLine at full size (%s)\n\n", data)
	fmt.Printf("%d images; each row one process with GOMAXPROCS=%d on %s/%s, %d CPUs, %s; %s.\n",
		rs[0].Images, rs[0].Procs, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), time.Now().UTC().Format(time.RFC3339))
	fmt.Printf("Times are medians per image (ms); detection with AirLine's default parameters; scores at full size against the full-size labels ")
	fmt.Printf("(lines found on a downscaled image mapped back), mean over the images.\n\n")
	fmt.Printf("| factor | detection size | decode | downscale | env features | detect | total | peak RSS (MiB) | RSS after open (MiB) | soft LP_r (r=20) | soft precision | F_r | lines |\n")
	fmt.Printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rs {
		tot := make([]float64, len(r.DecodeMs))
		for i := range tot {
			tot[i] = r.DecodeMs[i] + r.DownMs[i] + r.FeatMs[i] + r.DetectMs[i]
		}
		nl := make([]float64, len(r.NLines))
		for i, v := range r.NLines {
			nl[i] = float64(v)
		}
		fmt.Printf("| %d | %d × %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.3f | %.3f | %.3f | %.0f |\n",
			r.Factor, r.W, r.H, median(r.DecodeMs), median(r.DownMs), median(r.FeatMs), median(r.DetectMs), median(tot),
			mib(r.PeakRSS), mib(r.BaselineRSS), mean(r.SoftLP), mean(r.SoftP), mean(r.FR), mean(nl))
	}
}
