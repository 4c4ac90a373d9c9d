// Command thumbbench measures the thumbnail pipeline against libvips'
// vipsthumbnail, each side as a separate process so that peak memory (the
// child's maximum resident set) is comparable.
//
//	thumbbench [-runs 5] [-vips vipsthumbnail] [dir]   compare, one line per photo
//	thumbbench -one [-preview 1280] file out.png        make one thumbnail (the measured child)
//
// The comparison prints, for each image in dir (default ../shared/photos):
//
//	thumb file=<name> ours_s=<median s> vips_s=<median s> ratio=<ours/vips> ours_peak_mib=<n> vips_peak_mib=<n>
//
// then `thumbs max_ratio=<r> max_mem_ratio=<m>`, then the throughput of each
// side with every core busy (one process per core, all the photos over and
// over), and of ours in one process as the server runs it.
//
// Phone formats: with -phone (the default) and a build that reads them
// (tag nativeheif), the JPEGs under 2 MB are also encoded as HEIC
// (heif-enc) and 10-bit AVIF (avifenc) first, and those files get lines of
// their own (file=Storm.jpg.heic, file=Storm.jpg.avif), side by side with
// vipsthumbnail, which reads both through libheif.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"mediashare/internal/thumbnail"
)

func main() {
	// bild's parallel package sets GOMAXPROCS to NumCPU in its init; go
	// back to the runtime's default (which honours CPU quotas) unless the
	// environment chose.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.SetDefaultGOMAXPROCS()
	}
	one := flag.Bool("one", false, "make one thumbnail: thumbbench -one in out.png")
	preview := flag.Int("preview", 0, "with -one: also make a preview with this longest side")
	runs := flag.Int("runs", 5, "runs per side and photo (the median is reported)")
	vips := flag.String("vips", "vipsthumbnail", "the vipsthumbnail command")
	size := flag.Int("size", thumbnail.DefaultMaxSide, "longest side of the thumbnail")
	rounds := flag.Int("rounds", 3, "throughput: passes over the photos")
	phone := flag.Bool("phone", true, "also measure HEIC and AVIF copies of the smaller JPEGs (needs heif-enc, avifenc and the nativeheif build)")
	flag.Parse()

	var err error
	if *one {
		if flag.NArg() != 2 {
			err = errors.New("usage: thumbbench -one in out.png")
		} else {
			err = makeOne(flag.Arg(0), flag.Arg(1), *size, *preview)
		}
	} else {
		dir := "../shared/photos"
		if flag.NArg() > 0 {
			dir = flag.Arg(0)
		}
		err = compare(dir, *vips, *size, *runs, *rounds, *phone)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "thumbbench:", err)
		os.Exit(1)
	}
}

func makeOne(in, out string, size, preview int) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := thumbnail.Make(context.Background(), f, thumbnail.Options{MaxSide: size, PreviewSide: preview})
	if err != nil {
		return err
	}
	if res.Preview != nil {
		if err := os.WriteFile(strings.TrimSuffix(out, ".png")+"-preview"+res.Preview.Ext, res.Preview.Data, 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(out, res.PNG, 0o644)
}

// run runs a command and returns its wall time and peak resident memory.
func run(name string, args ...string) (time.Duration, int64, error) {
	cmd := exec.Command(name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err != nil {
		return 0, 0, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, stderr.String())
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var rss int64
	if ru != nil {
		rss = ru.Maxrss * 1024 // kilobytes on Linux
	}
	return took, rss, nil
}

func images(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".jpg", ".jpeg", ".png", ".gif", ".webp":
			if e.Type().IsRegular() {
				out = append(out, filepath.Join(dir, e.Name()))
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no images in %s", dir)
	}
	return out, nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// phoneCopies encodes the JPEGs of files under 2 MB as HEIC and 10-bit
// AVIF in dir and returns the new files.
func phoneCopies(files []string, dir string) ([]string, error) {
	if !thumbnail.HEIFNative {
		fmt.Println("phone formats skipped: this build has no libheif (build with -tags nativeheif)")
		return nil, nil
	}
	var out []string
	for _, f := range files {
		st, err := os.Stat(f)
		ext := strings.ToLower(filepath.Ext(f))
		if err != nil || st.Size() > 2<<20 || (ext != ".jpg" && ext != ".jpeg") {
			continue
		}
		base := filepath.Join(dir, filepath.Base(f))
		if _, _, err := run("heif-enc", "-q", "80", "-o", base+".heic", f); err != nil {
			return nil, fmt.Errorf("%w (apt-get install -y libheif-examples)", err)
		}
		if _, _, err := run("avifenc", "-d", "10", "-s", "8", f, base+".avif"); err != nil {
			return nil, fmt.Errorf("%w (apt-get install -y libavif-bin)", err)
		}
		out = append(out, base+".heic", base+".avif")
	}
	return out, nil
}

func compare(dir, vips string, size, runs, rounds int, phone bool) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	files, err := images(dir)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "thumbbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if phone {
		more, err := phoneCopies(files, tmp)
		if err != nil {
			return err
		}
		files = append(files, more...)
	}

	ours := func(i int, f string) []string {
		return []string{"-one", "-size", fmt.Sprint(size), f, filepath.Join(tmp, fmt.Sprintf("ours-%d.png", i))}
	}
	theirs := func(i int, f string) []string {
		return []string{"-s", fmt.Sprint(size), "-o", filepath.Join(tmp, fmt.Sprintf("vips-%d-%%s.png", i)), f}
	}

	var maxRatio, maxMem float64
	for _, f := range files {
		var ot, vt []time.Duration
		var om, vm int64
		for i := range runs + 1 { // the first run of each warms the page cache
			d, m, err := run(self, ours(0, f)...)
			if err != nil {
				return err
			}
			d2, m2, err := run(vips, theirs(0, f)...)
			if err != nil {
				return err
			}
			if i == 0 {
				continue
			}
			ot, vt = append(ot, d), append(vt, d2)
			om, vm = max(om, m), max(vm, m2)
		}
		o, v := median(ot), median(vt)
		ratio := o.Seconds() / v.Seconds()
		memRatio := float64(om) / float64(vm)
		maxRatio, maxMem = max(maxRatio, ratio), max(maxMem, memRatio)
		fmt.Printf("thumb file=%s ours_s=%.3f vips_s=%.3f ratio=%.2f ours_peak_mib=%.1f vips_peak_mib=%.1f\n",
			filepath.Base(f), o.Seconds(), v.Seconds(), ratio, mib(om), mib(vm))
	}
	fmt.Printf("thumbs max_ratio=%.2f max_mem_ratio=%.2f\n", maxRatio, maxMem)

	if rounds <= 0 {
		return nil
	}
	workers := runtime.NumCPU()
	var jobs []string
	for range rounds {
		jobs = append(jobs, files...)
	}
	oursRate, err := throughput(workers, jobs, func(i int, f string) error { _, _, err := run(self, ours(i, f)...); return err })
	if err != nil {
		return err
	}
	vipsRate, err := throughput(workers, jobs, func(i int, f string) error { _, _, err := run(vips, theirs(i, f)...); return err })
	if err != nil {
		return err
	}
	limiter := thumbnail.NewLimiter(0)
	inRate, err := throughput(workers, jobs, func(_ int, f string) error {
		r, err := os.Open(f)
		if err != nil {
			return err
		}
		defer r.Close()
		_, err = thumbnail.Make(context.Background(), r, thumbnail.Options{MaxSide: size, Limiter: limiter})
		return err
	})
	if err != nil {
		return err
	}
	fmt.Printf("throughput workers=%d thumbnails=%d ours_per_s=%.1f vips_per_s=%.1f ours_in_process_per_s=%.1f\n",
		workers, len(jobs), oursRate, vipsRate, inRate)
	return nil
}

// throughput runs every job on workers goroutines and returns jobs per second.
func throughput(workers int, jobs []string, do func(worker int, file string) error) (float64, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(jobs) {
					return
				}
				if err := do(w, jobs[i]); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return float64(len(jobs)) / time.Since(start).Seconds(), nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
