package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// ingestPhoto is the 16 MB photo of the ingest figure.
const ingestPhoto = "Elephants_5640x3172.jpg"

// ingest: o.uploads concurrent uploads of the 16 MB photo, in MB/s of
// request bodies until the last answer; beside a handler that only
// writes the body to a file. Our peak RSS (VmHWM) is read from /proc.
func (b *bench) ingest() error {
	img, err := os.ReadFile(filepath.Join(b.photos, ingestPhoto))
	if err != nil {
		return err
	}
	body, ct := multipartBody("ingest", ingestPhoto, img)
	form := body.Bytes()

	// The baseline: the body to a file, nothing else.
	sink, err := b.dir("ingest-sink")
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var n atomic.Int64
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Create(filepath.Join(sink, fmt.Sprint(n.Add(1))))
		if err == nil {
			_, err = io.Copy(f, r.Body)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})}
	go srv.Serve(ln)
	base, err := b.posts("http://"+ln.Addr().String()+"/entries", form, ct)
	srv.Close()
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}

	data, err := b.dir("ingest")
	if err != nil {
		return err
	}
	s, err := b.serve(data, b.uploadFlags()...)
	if err != nil {
		return err
	}
	defer s.stop()
	ours, err := b.posts(s.url+"/entries", form, ct)
	if err != nil {
		return err
	}
	hwm, err := s.status("VmHWM")
	if err != nil {
		return err
	}
	line("ingest", ours, base, fmt.Sprintf("uploads=%d", b.uploads), fmt.Sprintf("mb_each=%.1f", float64(len(form))/1e6),
		fmt.Sprintf("rss_mib=%.0f", float64(hwm)/1024), "unit=MB/s")
	return nil
}

// posts sends o.uploads copies of form at once and returns MB/s.
func (b *bench) posts(url string, form []byte, ct string) (float64, error) {
	var wg sync.WaitGroup
	errs := make(chan error, b.uploads)
	start := time.Now()
	for range b.uploads {
		wg.Go(func() {
			c := client()
			req, _ := http.NewRequest("POST", url, bytes.NewReader(form))
			req.Header.Set("Content-Type", ct)
			req.Header.Set("HX-Request", "true")
			resp, err := c.Do(req)
			if err != nil {
				errs <- err
				return
			}
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				errs <- fmt.Errorf("POST %s: %d %.200s", url, resp.StatusCode, msg)
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return float64(b.uploads) * float64(len(form)) / 1e6 / took.Seconds(), nil
}
