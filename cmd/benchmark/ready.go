package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func photos(dir string) ([]string, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range des {
		switch strings.ToLower(filepath.Ext(d.Name())) {
		case ".jpg", ".jpeg", ".png", ".gif", ".webp":
			if d.Type().IsRegular() {
				out = append(out, filepath.Join(dir, d.Name()))
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no photos in %s", dir)
	}
	return out, nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// ready: for each photo, the time from the start of the upload until a
// second client's /live stream carries the entry's ready card, beside
// `vipsthumbnail -s 320` on the same file (medians of o.runs, after one
// warm-up run of each).
func (b *bench) ready() error {
	files, err := photos(b.photos)
	if err != nil {
		return err
	}
	data, err := b.dir("ready")
	if err != nil {
		return err
	}
	s, err := b.serve(data)
	if err != nil {
		return err
	}
	defer s.stop()
	w, err := watch(s.url)
	if err != nil {
		return err
	}
	defer w.close()
	out, err := b.dir("vips")
	if err != nil {
		return err
	}
	for _, f := range files {
		img, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var ours, vips, posts []time.Duration
		for i := range b.runs + 1 {
			// A new visitor each time: the same bytes from one owner are a duplicate.
			uploader := client()
			start := time.Now()
			eib, err := upload(uploader, s.url, fmt.Sprint("ready ", i), filepath.Base(f), img)
			if err != nil {
				return err
			}
			posted := time.Since(start)
			at, err := w.wait(eib, 2*time.Minute)
			if err != nil {
				return err
			}
			v, err := run(b.vips, "-s", "320", "-o", filepath.Join(out, "%s-tn.png"), f)
			if err != nil {
				return err
			}
			if i > 0 { // the first of each warms caches
				ours, vips, posts = append(ours, at.Sub(start)), append(vips, v), append(posts, posted)
			}
		}
		o, v := median(ours), median(vips)
		// upload_s: until the upload's answer (stored, appended, projected).
		line("ready", o.Seconds(), v.Seconds(), "file="+filepath.Base(f), "unit=s", fmt.Sprintf("upload_s=%.3f", median(posts).Seconds()))
	}
	return nil
}

// burst: o.burst uploads of Storm.jpg, 8 at a time, each from a new visitor, until the
// last one is ready on /live; beside vipsthumbnail over as many copies,
// o.cores processes each with its share of the files. Meanwhile a reader
// loads the gallery's first page; its p99 is reported.
func (b *bench) burst() error {
	storm := filepath.Join(b.photos, "Storm.jpg")
	img, err := os.ReadFile(storm)
	if err != nil {
		return err
	}
	// The baseline first: vipsthumbnail over copies of the file.
	copies, err := b.dir("burst-copies")
	if err != nil {
		return err
	}
	shares := make([][]string, b.cores)
	for i := range b.burstN {
		p := filepath.Join(copies, fmt.Sprintf("storm-%04d.jpg", i))
		if err := os.WriteFile(p, img, 0o644); err != nil {
			return err
		}
		shares[i%b.cores] = append(shares[i%b.cores], p)
	}
	out, err := b.dir("burst-vips")
	if err != nil {
		return err
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, b.cores)
	for _, share := range shares {
		wg.Go(func() {
			if _, err := run(b.vips, append([]string{"-s", "320", "-o", filepath.Join(out, "%s-tn.png")}, share...)...); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	vips := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return err
	}

	data, err := b.dir("burst")
	if err != nil {
		return err
	}
	s, err := b.serve(data, b.uploadFlags()...)
	if err != nil {
		return err
	}
	defer s.stop()
	w, err := watch(s.url)
	if err != nil {
		return err
	}
	defer w.close()

	// A reader of the gallery's first page, all along.
	stopReading := make(chan struct{})
	var lat []time.Duration
	var readErr error
	var reading sync.WaitGroup
	reading.Go(func() {
		c := client()
		for {
			select {
			case <-stopReading:
				return
			default:
			}
			t := time.Now()
			resp, err := c.Get(s.url + "/")
			if err == nil {
				_, err = drain(resp)
				if err == nil && resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("GET /: %d", resp.StatusCode)
				}
			}
			if err != nil {
				readErr = err
				return
			}
			lat = append(lat, time.Since(t))
			time.Sleep(20 * time.Millisecond)
		}
	})

	start = time.Now()
	eibs := make([]string, b.burstN)
	var next atomic.Int64
	errs = make(chan error, 8)
	var uploading sync.WaitGroup
	for range 8 {
		uploading.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.burstN {
					return
				}
				// A new visitor for each: the same bytes from one owner are a duplicate.
				eib, err := upload(client(), s.url, fmt.Sprint("burst ", i), "Storm.jpg", img)
				if err != nil {
					errs <- err
					return
				}
				eibs[i] = eib
			}
		})
	}
	uploading.Wait()
	accepted := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		close(stopReading)
		return err
	}
	var last time.Time
	for _, eib := range eibs {
		at, err := w.wait(eib, 10*time.Minute)
		if err != nil {
			close(stopReading)
			return err
		}
		if at.After(last) {
			last = at
		}
	}
	ours := last.Sub(start)
	close(stopReading)
	reading.Wait()
	if readErr != nil {
		return readErr
	}
	// The entry pages' previews come after, at a lower priority: the
	// time until the last one is recorded shows the deferral.
	previews, err := waitPreviews(s.url, eibs, 10*time.Minute)
	if err != nil {
		return err
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p99 := lat[(len(lat)-1)*99/100]
	line("burst", ours.Seconds(), vips.Seconds(), fmt.Sprintf("uploads=%d", b.burstN), "unit=s",
		fmt.Sprintf("accepted_per_s=%.0f", float64(b.burstN)/accepted.Seconds()),
		fmt.Sprintf("gallery_p99_ms=%.1f", float64(p99.Microseconds())/1000), fmt.Sprintf("vips_procs=%d", b.cores),
		fmt.Sprintf("previews_s=%.2f", previews.Sub(start).Seconds()))
	return nil
}

// waitPreviews polls /api/v1/entries/{eib} until every entry shows its
// preview, and returns when the last one was seen (within the polling
// interval of when it was recorded).
func waitPreviews(url string, eibs []string, within time.Duration) (time.Time, error) {
	c := client()
	deadline := time.Now().Add(within)
	for _, eib := range eibs {
		for {
			resp, err := c.Get(url + "/api/v1/entries/" + eib)
			if err != nil {
				return time.Time{}, err
			}
			var e struct {
				PreviewURL string `json:"preview_url"`
			}
			err = json.NewDecoder(resp.Body).Decode(&e)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				return time.Time{}, fmt.Errorf("GET /api/v1/entries/%s: %d %v", eib, resp.StatusCode, err)
			}
			if e.PreviewURL != "" {
				break
			}
			if time.Now().After(deadline) {
				return time.Time{}, fmt.Errorf("entry %s: no preview after %s", eib, within)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return time.Now(), nil
}

// uploadFlags lift the per-client upload limits (the benchmark uploads
// from one address, as many clients would) and make room for o.uploads
// uploads in flight at once.
func (b *bench) uploadFlags() []string {
	return []string{"--uploads-per-minute", "0", "--uploads-per-client", "0", "--uploads-in-flight", fmt.Sprint(max(64, b.uploads))}
}
