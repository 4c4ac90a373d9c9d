package main

import (
	"fmt"
	"net/http"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"
)

func percentile(d []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(float64(len(s)-1)*p)]
}

// BenchmarkLiveUploadToVisible measures, per upload, the time from the
// start of the POST to the moment a second client's live stream carries
// the new card (visible), and then its ready card (thumbnail made): on
// the embedded backend (one instance), and on AWS (moto) with the second
// client on a second instance.
// Run with -benchtime=60x for 60 uploads (go tool task bench:live).
func BenchmarkLiveUploadToVisible(b *testing.B) {
	b.Run("embedded", func(b *testing.B) {
		s := startSite(b, nil)
		benchUploadToVisible(b, s, s)
	})
	b.Run("aws-two-instances", func(b *testing.B) {
		c := defaultConfig(b)
		awsConfig(b, &c)
		same := func(cfg *config) { data := cfg.Data; *cfg = c; cfg.Data = data }
		benchUploadToVisible(b, startSite(b, same), startSite(b, same))
	})
}

func benchUploadToVisible(b *testing.B, s, other *site) {
	uploader, watcher := browser(b), browser(b)
	sc := openLive(b, other, watcher, "")
	img := smallPNG(b, 7)
	photo := func(i int) []part {
		return uploadParts(fmt.Sprint("bench ", i), "c", "p.png", "image/png", img)
	}
	var visible, ready []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		resp := s.post(uploader, "/entries", photo(i), true)
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("upload %d: %d", i, resp.StatusCode)
		}
		eib := mustDoc(b, resp).Find(`[data-testid=card]`).AttrOr("data-eib", "")
		gotVisible := false
		for {
			ev := sc.next(10 * time.Second)
			id, status, _ := cardIn(b, ev.data)
			if id != eib {
				continue // a late message about an earlier upload
			}
			if !gotVisible {
				visible = append(visible, time.Since(start))
				gotVisible = true
			}
			if status == "ready" {
				ready = append(ready, time.Since(start))
				break
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(percentile(visible, .5).Microseconds())/1000, "visible-p50-ms")
	b.ReportMetric(float64(percentile(visible, .95).Microseconds())/1000, "visible-p95-ms")
	b.ReportMetric(float64(percentile(ready, .5).Microseconds())/1000, "ready-p50-ms")
	b.ReportMetric(float64(percentile(ready, .95).Microseconds())/1000, "ready-p95-ms")
}

// BenchmarkLiveClients opens many live streams on one instance and
// reports the memory each costs the server (heap and goroutine stacks,
// measured in this process, which holds both the server and the clients:
// the client side is subtracted with a run that holds only clients'
// share) and how long one change takes to reach all of them.
// Run with -benchtime=1x (go tool task bench:live).
func BenchmarkLiveClients(b *testing.B) {
	const clients = 5000
	s := startSite(b, nil)
	c := browser(b)
	before := memInUse()
	var streams []*sseClient
	for i := 0; i < clients; i++ {
		streams = append(streams, openLiveQuiet(b, s))
	}
	waitFor(b, "all streams subscribed", func() bool { return s.app.hub.Len() == clients })
	after := memInUse()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		start := time.Now()
		readBody(b, s.post(c, "/entries", uploadParts(fmt.Sprint("fan-out ", n), "c", "p.png", "image/png", smallPNG(b, n)), false))
		var wg sync.WaitGroup
		for _, sc := range streams {
			wg.Add(1)
			go func() { defer wg.Done(); sc.next(30 * time.Second) }()
		}
		wg.Wait()
		b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms-to-reach-all")
		for _, sc := range streams { // drain the ready message
			sc.next(30 * time.Second)
		}
	}
	b.StopTimer()
	b.ReportMetric(clients, "clients")
	// Both ends of each connection live in this process; the server's share
	// is the handler goroutine, its hub buffer and its half of the socket.
	b.ReportMetric(float64(after-before)/clients/1024, "KiB/client(both-ends)")
}

func memInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

func openLiveQuiet(b testing.TB, s *site) *sseClient { return openLive(b, s, browser(b), "") }
