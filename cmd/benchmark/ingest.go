package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
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

	// The baseline: the body to a file, nothing else. Beside it, for the
	// reader (not the ratio), the same handler made durable (the file
	// fsynced before the answer, as ours must be), and made durable and
	// hashing the body with SHA-256 as it arrives (as ours must, to find
	// duplicates and name the bytes it stored): what any durable,
	// deduplicating upload path costs at least on this machine.
	base, err := b.sinkPosts(form, ct, sinkPlain)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	durable, err := b.sinkPosts(form, ct, sinkDurable)
	if err != nil {
		return fmt.Errorf("durable baseline: %w", err)
	}
	hashed, err := b.sinkPosts(form, ct, sinkDurable|sinkHash)
	if err != nil {
		return fmt.Errorf("durable hashing baseline: %w", err)
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
	syscall.Sync()
	ours, err := b.posts(s.url+"/entries", form, ct)
	if err != nil {
		return err
	}
	hwm, err := s.status("VmHWM")
	if err != nil {
		return err
	}
	line("ingest", ours, base, fmt.Sprintf("uploads=%d", b.uploads), fmt.Sprintf("mb_each=%.1f", float64(len(form))/1e6),
		fmt.Sprintf("rss_mib=%.0f", float64(hwm)/1024), "unit=MB/s",
		fmt.Sprintf("durable_baseline=%.0f", durable), fmt.Sprintf("ratio_durable=%.2f", ours/durable),
		fmt.Sprintf("durable_sha256_baseline=%.0f", hashed), fmt.Sprintf("ratio_durable_sha256=%.2f", ours/hashed))
	return nil
}

// What a sink handler does beyond writing the body to a file.
const (
	sinkPlain   = 0
	sinkDurable = 1 << iota // fsync the file before the answer
	sinkHash                // SHA-256 the body on the way
)

// sinkPosts serves a handler that writes each body to a file (fsynced
// before the answer, hashed on the way, as mode says) and returns posts'
// MB/s against it.
func (b *bench) sinkPosts(form []byte, ct string, mode int) (float64, error) {
	sink, err := b.dir("ingest-sink")
	if err != nil {
		return 0, err
	}
	// Each side starts with nothing left to write back, and leaves
	// nothing: the files of one would otherwise be written to the disk
	// during the next.
	defer os.RemoveAll(sink)
	syscall.Sync()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	var n atomic.Int64
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Create(filepath.Join(sink, fmt.Sprint(n.Add(1))))
		if err == nil {
			var w io.Writer = f
			var h hash.Hash
			if mode&sinkHash != 0 {
				h = sha256.New()
				w = io.MultiWriter(f, h)
			}
			_, err = io.Copy(w, r.Body)
			if err == nil && mode&sinkDurable != 0 {
				err = f.Sync()
			}
			if h != nil {
				h.Sum(nil) // as ours names the bytes it stored
			}
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
	defer srv.Close()
	return b.posts("http://"+ln.Addr().String()+"/entries", form, ct)
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
