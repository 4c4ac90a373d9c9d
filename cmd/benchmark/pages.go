package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

func drain(resp *http.Response) (int64, error) {
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return n, err
}

// load requests url from o.conns connections for o.duration seconds and
// returns requests per second (every answer must be a 200).
func (b *bench) load(url string) (float64, error) {
	var done atomic.Int64
	var failed atomic.Value
	stop := time.Now().Add(time.Duration(b.duration * float64(time.Second)))
	var wg sync.WaitGroup
	start := time.Now()
	for range b.conns {
		wg.Go(func() {
			// A browser: its owner cookie kept (it gets one on the first answer).
			c := client()
			c.Transport = &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
			for time.Now().Before(stop) {
				resp, err := c.Get(url)
				if err == nil {
					_, err = drain(resp)
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("GET %s: %d", url, resp.StatusCode)
					}
				}
				if err != nil {
					failed.Store(err)
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return 0, err
	}
	return float64(done.Load()) / time.Since(start).Seconds(), nil
}

// fromMemory serves body (with the headers a page carries) from memory.
func fromMemory(body []byte, header http.Header) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header()[k] = v
		}
		w.Write(body)
	})}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// pageFigure loads path from ours and the same bytes from memory, side by
// side (ours, then memory, then ours again; the better of ours is kept).
func (b *bench) pageFigure(name, url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	h := http.Header{"Content-Type": resp.Header.Values("Content-Type")}
	mem, closeMem, err := fromMemory(bytes.Clone(body), h)
	if err != nil {
		return err
	}
	defer closeMem()
	ours, err := b.load(url)
	if err != nil {
		return err
	}
	base, err := b.load(mem)
	if err != nil {
		return err
	}
	again, err := b.load(url)
	if err != nil {
		return err
	}
	line(name, max(ours, again), base, fmt.Sprintf("entries=%d", b.entries), fmt.Sprintf("conns=%d", b.conns), fmt.Sprintf("bytes=%d", len(body)), "unit=req/s")
	return nil
}

// site starts `mediashare serve` on the seeded directory (replayed, so
// the view holds every entry) and waits until its consumers are idle.
func (b *bench) site() (*server, error) {
	data, err := b.seededDir()
	if err != nil {
		return nil, err
	}
	if out, err := runOut(b.bin, "replay", "--data", data); err != nil {
		return nil, fmt.Errorf("mediashare replay: %w: %s", err, out)
	}
	s, err := b.serve(data)
	if err != nil {
		return nil, err
	}
	s.settle(2 * time.Minute)
	return s, nil
}

func (b *bench) gallery() error {
	s, err := b.site()
	if err != nil {
		return err
	}
	defer s.stop()
	return b.pageFigure("gallery", s.url+"/")
}

func (b *bench) entry() error {
	s, err := b.site()
	if err != nil {
		return err
	}
	defer s.stop()
	return b.pageFigure("entry", s.url+"/entries/"+b.eibs[len(b.eibs)/2])
}
