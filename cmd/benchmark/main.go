// Command benchmark measures mediashare side by side with a baseline run
// in the same command, and prints one line per figure:
//
//	bench NAME value=… baseline=… ratio=… [more=…]
//
// ratio is ours over the baseline in the figure's own unit: a time for
// ready and burst (lower is better), a rate for the others (higher is
// better). The figures (see docs/benchmarks.md):
//
//	ready        upload through a real `mediashare serve` until a second client on /live sees the thumbnail, per photo; baseline `vipsthumbnail -s 320` on the same file
//	burst        1,000 uploads of Storm.jpg until the last thumbnail is on /live; baseline vipsthumbnail over 1,000 copies, one process per core; gallery p99 during the burst, and previews_s: until the last entry page preview (made after, at a lower priority) is in /api/v1
//	replay       `mediashare replay` of the embedded view, events/s; baseline the target, 50,000 events/s
//	rebuild-aws  `mediashare replay --backend aws` on moto, rows/s; baseline a plain BatchWriteItem loop of the same items
//	gallery      GET / at 10,000 entries, req/s, 16 connections; baseline the same bytes served from memory
//	entry        GET /entries/{eib} at 10,000 entries, the same way
//	ingest       50 concurrent 16 MB uploads, MB/s; baseline a handler that only writes the body to a file; peak RSS from /proc
//
// It runs `mediashare` as a separate process (-bin), each figure on a fresh
// data directory. `go tool task bench` builds the binaries and runs it.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
)

type options struct {
	bin        string // the mediashare binary
	photos     string // the photos directory
	runs       int    // runs per photo (ready; the median is reported)
	burstN     int    // uploads in the burst
	entries    int    // entries seeded for gallery, entry and replay
	awsRows    int    // entries seeded for rebuild-aws
	uploads    int    // concurrent uploads of ingest
	duration   float64
	conns      int
	vips       string
	cores      int
	keep       bool
	serveFlags string // extra serve flags, space-separated
}

func main() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.SetDefaultGOMAXPROCS()
	}
	var o options
	flag.StringVar(&o.bin, "bin", "bin/mediashare", "the mediashare binary to measure")
	flag.StringVar(&o.photos, "photos", "../shared/photos", "directory of photos (ready, burst, ingest)")
	flag.IntVar(&o.runs, "runs", 3, "ready: runs per photo and side (the median is reported)")
	flag.IntVar(&o.burstN, "burst", 1000, "burst: uploads of Storm.jpg")
	flag.IntVar(&o.entries, "entries", 10000, "gallery, entry, replay: entries in the view")
	flag.IntVar(&o.awsRows, "aws-entries", 100, "rebuild-aws: entries in the events table on moto")
	flag.IntVar(&o.uploads, "uploads", 50, "ingest: concurrent uploads of the 16 MB photo")
	flag.Float64Var(&o.duration, "duration", 4, "gallery, entry: seconds of load per side")
	flag.IntVar(&o.conns, "conns", 16, "gallery, entry: connections")
	flag.StringVar(&o.vips, "vips", "vipsthumbnail", "the vipsthumbnail command")
	flag.IntVar(&o.cores, "cores", runtime.NumCPU(), "burst: vipsthumbnail processes (one per core)")
	flag.StringVar(&o.serveFlags, "serve-flags", "", "extra flags for every `mediashare serve` it starts, space-separated (e.g. --debug-addr 127.0.0.1:6060 to profile one figure)")
	flag.BoolVar(&o.keep, "keep", false, "keep the data directories (their path is printed)")
	only := flag.String("only", "ready,burst,replay,rebuild-aws,gallery,entry,ingest", "figures to run, comma-separated")
	flag.Parse()

	figures := []struct {
		name string
		run  func(*bench) error
	}{
		{"ready", (*bench).ready}, {"burst", (*bench).burst}, {"replay", (*bench).replay},
		{"rebuild-aws", (*bench).rebuildAWS}, {"gallery", (*bench).gallery}, {"entry", (*bench).entry},
		{"ingest", (*bench).ingest},
	}
	want := map[string]bool{}
	for _, name := range strings.Split(*only, ",") {
		name = strings.TrimSpace(name)
		if !slices.ContainsFunc(figures, func(f struct {
			name string
			run  func(*bench) error
		}) bool {
			return f.name == name
		}) {
			fmt.Fprintf(os.Stderr, "benchmark: -only: unknown figure %q\n", name)
			os.Exit(2)
		}
		want[name] = true
	}
	b := &bench{options: o}
	defer b.close()
	failed := false
	for _, f := range figures {
		if !want[f.name] {
			continue
		}
		if err := f.run(b); err != nil {
			fmt.Fprintf(os.Stderr, "benchmark: %s: %v\n", f.name, err)
			failed = true
		}
	}
	b.close()
	if failed {
		os.Exit(1)
	}
}

// line prints one figure.
func line(name string, value, baseline float64, extra ...string) {
	fmt.Println(format(name, value, baseline, extra...))
}

// format is one figure's line: ratio is value over baseline, in the
// figure's own unit.
func format(name string, value, baseline float64, extra ...string) string {
	ratio := 0.0
	if baseline != 0 {
		ratio = value / baseline
	}
	s := fmt.Sprintf("bench %s value=%s baseline=%s ratio=%.2f", name, num(value), num(baseline), ratio)
	for _, e := range extra {
		s += " " + e
	}
	return s
}

func num(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}
