package main

import (
	"bufio"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mediashare/internal/media/mediatest"
)

// The decode memory budget under attack: a real `mediashare serve`
// process with --decode-memory 512MiB gets several 100-megapixel 16-bit
// RGBA PNGs at once, one of them interlaced (800 MB each when decoded
// whole; about 1 MB on the wire). Each becomes a thumbnail, decoded row
// by row (pass by pass) and reduced, and the process' peak RSS (VmHWM)
// stays under the budget plus a constant. A 100-megapixel CMYK JPEG,
// which only the Go decoder reads and only whole (1.2 GB), is refused at
// the upload with 413 and a message, and leaves nothing behind.
func TestAbuseDecodeHeavyPNGs(t *testing.T) {
	const (
		budget = 512 << 20
		// slack is what the process holds besides its decodes: the Go
		// runtime and GC headroom, SQLite, HTTP buffers, the uploads
		// being spooled.
		slack   = 192 << 20
		uploads = 5 // two of each plain variant, one interlaced
	)
	dir := t.TempDir()
	files := []string{heavyPNGFile(t, dir, 0, false), heavyPNGFile(t, dir, 1, false), heavyPNGFile(t, dir, 2, true)}
	bomb := cmykJPEGHeader(t, dir)

	addr, data := freeAddr(t), t.TempDir()
	cmd := exec.Command(mediashareBinary(t), "serve", "--uploads", "anyone", "--addr", addr, "--data", data,
		"--decode-memory", strconv.Itoa(budget), "--max-upload-bytes", "25MiB", "--thumbnail-timeout", "120s",
		"--uploads-per-client", "0") // every upload comes from 127.0.0.1: the per-client cap is another test's
	var log syncBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if t.Failed() {
			t.Logf("log of the process:\n%s", log.String())
		}
	})
	s := &site{t: t, url: "http://" + addr, data: data, cfg: config{Backend: "embedded", Data: data}}
	waitFor(t, "the process answers /readyz", func() bool {
		resp, err := http.Get(s.url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if !strings.Contains(log.String(), "decode_memory=512MiB") {
		t.Errorf("the process did not log its decode budget:\n%s", log.String())
	}
	startRSS := vmHWM(t, cmd.Process.Pid)

	// The refusal first: nothing of it may remain.
	c := browser(t)
	bombData, err := os.ReadFile(bomb)
	if err != nil {
		t.Fatal(err)
	}
	for _, htmx := range []bool{false, true} {
		resp := s.post(c, "/entries", uploadParts("CMYK", "whole or nothing", "bomb.jpg", "image/jpeg", bombData), htmx)
		msg := mustDoc(t, resp).Find(`[data-testid=form-error]`).Text()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(msg, "too large for this server to make a preview") || !strings.Contains(msg, "CMYK") {
			t.Errorf("CMYK 100 MP JPEG (htmx %v): got %d %q, want 413 with the reason", htmx, resp.StatusCode, msg)
		}
	}
	if evs, files := s.events(), s.mediaFiles(); len(evs) != 0 || len(files) != 0 {
		t.Fatalf("the refused upload left %d events and files %v", len(evs), files)
	}

	// Then the heavy ones, all at once, each from its own browser.
	start := time.Now()
	var wg sync.WaitGroup
	statuses := make([]int, uploads)
	for i := range uploads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := os.ReadFile(files[i%len(files)])
			if err != nil {
				t.Error(err)
				return
			}
			resp := s.post(browser(t), "/entries", uploadParts(fmt.Sprint("heavy ", i), "16-bit RGBA, 100 MP", filepath.Base(files[i%len(files)]), "image/png", b), false)
			readBody(t, resp)
			statuses[i] = resp.StatusCode
		}()
	}
	// Sample the peak while they are worked on.
	var peak int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				if n, err := readVmHWM(cmd.Process.Pid); err == nil {
					peak = max(peak, n)
				}
			}
		}
	}()
	wg.Wait()
	for i, st := range statuses {
		if st != http.StatusSeeOther {
			t.Fatalf("upload %d: status %d, want 303", i, st)
		}
	}
	accepted := time.Since(start)

	// Every one becomes ready.
	ready := map[string]time.Duration{}
	deadline := time.Now().Add(90 * time.Second)
	for len(ready) < uploads {
		cards := s.cards(c)
		if len(cards) != uploads {
			t.Fatalf("the gallery has %d cards, want %d", len(cards), uploads)
		}
		for eib, card := range cards {
			switch card.AttrOr("data-status", "") {
			case "ready":
				if _, ok := ready[eib]; !ok {
					ready[eib] = time.Since(start)
				}
			case "failed":
				t.Fatalf("entry %s failed: %s", eib, card.Text())
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 90 s only %d of %d entries are ready", len(ready), uploads)
		}
		time.Sleep(100 * time.Millisecond)
	}
	close(stop)
	<-sampled
	peak = max(peak, vmHWM(t, cmd.Process.Pid))
	var durations []time.Duration
	for _, d := range ready {
		durations = append(durations, d)
	}
	slices.Sort(durations)
	var times []string
	for _, d := range durations {
		times = append(times, d.Round(100*time.Millisecond).String())
	}
	t.Logf("decode budget %d MiB: %d uploads of 10000×10000 16-bit RGBA PNGs (%d KiB each, one interlaced) accepted in %v; ready after %s; peak RSS %d MiB (%d MiB before the uploads); a 100 MP CMYK JPEG refused with 413",
		budget>>20, uploads, fileSize(t, files[0])>>10, accepted.Round(10*time.Millisecond), strings.Join(times, ", "), peak>>20, startRSS>>20)
	if limit := int64(budget + slack); peak > limit {
		t.Errorf("peak RSS %d MiB, want at most %d MiB (the budget plus %d MiB)", peak>>20, limit>>20, slack>>20)
	}

	// The site still answers at once, and nothing accepted was lost.
	t0 := time.Now()
	cards := s.cards(c)
	if took := time.Since(t0); took > 2*time.Second {
		t.Errorf("the gallery page took %v", took)
	}
	for eib := range ready {
		if card := cards[eib]; card == nil || card.AttrOr("data-status", "") != "ready" {
			t.Errorf("entry %s is not ready in the gallery", eib)
		}
	}
	if n := len(s.mediaFiles()); n < 3*uploads {
		t.Errorf("%d media files, want an original, a thumbnail and a preview for each of %d entries", n, uploads)
	}
}

// On both backends: an image that could never be decoded within the
// budget is refused at the upload (413, the reason beside the form, the
// text kept), nothing stored; a photograph beside it is accepted.
func TestDecodeBudgetRefusesAtUpload(t *testing.T) { backends(t, testDecodeBudgetRefusesAtUpload) }

func testDecodeBudgetRefusesAtUpload(t *testing.T, start func(func(*config)) *site) {
	s := start(func(c *config) { c.DecodeMemory = 256 << 20 })
	c := browser(t)
	bomb, err := os.ReadFile(cmykJPEGHeader(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	for _, htmx := range []bool{false, true} {
		resp := s.post(c, "/entries", uploadParts("CMYK", "whole or nothing", "bomb.jpg", "image/jpeg", bomb), htmx)
		doc := mustDoc(t, resp)
		msg := doc.Find(`[data-testid=form-error]`).Text()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(msg, "256 MiB") || !strings.Contains(msg, "CMYK") {
			t.Errorf("htmx %v: got %d %q, want 413 naming the budget and what to do", htmx, resp.StatusCode, msg)
		}
		if got, _ := doc.Find(`input[name=title]`).Attr("value"); got != "CMYK" {
			t.Errorf("htmx %v: title not kept: %q", htmx, got)
		}
	}
	if evs, files := s.events(), s.mediaFiles(); len(evs) != 0 || len(files) != 0 {
		t.Fatalf("the refused upload left %d events and files %v", len(evs), files)
	}
	photo, err := os.ReadFile(mediatest.Photo(t, "Gulp.png"))
	if err != nil {
		t.Fatal(err)
	}
	resp := s.post(c, "/entries", uploadParts("a photo", "fits", "gulp.png", "image/png", photo), false)
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a photograph within the budget: status %d", resp.StatusCode)
	}
	for eib := range s.cards(c) {
		s.waitStatus(c, eib, "ready")
	}
}

// vmHWM reads a process' peak resident set size from /proc.
func vmHWM(t testing.TB, pid int) int64 {
	t.Helper()
	n, err := readVmHWM(pid)
	if err != nil {
		t.Fatalf("read the peak RSS: %v", err)
	}
	return n
}

func readVmHWM(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// heavyPNGFile writes (once per test run and variant) a 10000×10000
// 16-bit RGBA PNG, Adam7-interlaced or not: bands of colour, half
// translucent, that compress to about 1 MB. It is streamed: no more than
// a row is ever in memory.
func heavyPNGFile(t testing.TB, dir string, variant int, interlaced bool) string {
	t.Helper()
	const w, h = 10000, 10000
	path := filepath.Join(dir, fmt.Sprintf("heavy-%d-%v.png", variant, interlaced))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	bw.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	passes := [][4]int{{0, 0, 1, 1}}
	var il byte
	if interlaced {
		il = 1
		passes = [][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}
	}
	writeChunk(bw, "IHDR", append(ihdr, 16, 6, 0, 0, il))
	cw := &chunkWriter{w: bw}
	zw, _ := zlib.NewWriterLevel(cw, zlib.BestSpeed)
	for _, p := range passes {
		x0, y0, dx, dy := p[0], p[1], p[2], p[3]
		pw := (w - x0 + dx - 1) / dx
		row, same := make([]byte, 1+8*pw), make([]byte, 1+8*pw)
		same[0] = 2 // filter Up on a row equal to the one above: all zeros
		band := -1
		for y := y0; y < h; y += dy {
			if y/1000 == band { // rows repeat within a band
				if _, err := zw.Write(same); err != nil {
					t.Fatal(err)
				}
				continue
			}
			band = y / 1000
			for i := range pw {
				x := x0 + i*dx
				q := row[1+8*i:]
				c := uint16((band*6553 + variant*20000) & 0xffff)
				a := uint16(0xffff)
				if x >= w/2 {
					c, a = ^c, 0x8000
				}
				binary.BigEndian.PutUint16(q[0:], c)
				binary.BigEndian.PutUint16(q[2:], uint16(x/40*263))
				binary.BigEndian.PutUint16(q[4:], ^c)
				binary.BigEndian.PutUint16(q[6:], a)
			}
			if _, err := zw.Write(row); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	cw.flush()
	writeChunk(bw, "IEND", nil)
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	return path
}

// cmykJPEGHeader is the frame header of a 10000×10000 CMYK JPEG with a
// token scan: enough for the upload checks, which read headers only. Only
// the Go decoder reads CMYK, and only whole (about 1.2 GB).
func cmykJPEGHeader(t testing.TB, dir string) string {
	t.Helper()
	seg := func(marker byte, payload []byte) []byte {
		b := []byte{0xFF, marker}
		b = binary.BigEndian.AppendUint16(b, uint16(len(payload)+2))
		return append(b, payload...)
	}
	b := []byte{0xFF, 0xD8}
	b = append(b, seg(0xEE, []byte("Adobe\x00\x64\x00\x00\x00\x00\x02"))...)
	sof := []byte{8}
	sof = binary.BigEndian.AppendUint16(sof, 10000)
	sof = binary.BigEndian.AppendUint16(sof, 10000)
	sof = append(sof, 4, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0)
	b = append(b, seg(0xC0, sof)...)
	b = append(b, seg(0xDA, []byte{4, 1, 0, 2, 0, 3, 0, 4, 0, 0, 63, 0})...)
	b = append(b, 0x12, 0x34, 0xFF, 0xD9)
	path := filepath.Join(dir, "cmyk.jpg")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeChunk(w io.Writer, typ string, data []byte) {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	w.Write(binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:])))
}

// chunkWriter cuts what is written into IDAT chunks of 256 KiB.
type chunkWriter struct {
	w   io.Writer
	buf []byte
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	c.buf = append(c.buf, p...)
	for len(c.buf) >= 256<<10 {
		writeChunk(c.w, "IDAT", c.buf[:256<<10])
		c.buf = append(c.buf[:0], c.buf[256<<10:]...)
	}
	return len(p), nil
}

func (c *chunkWriter) flush() {
	if len(c.buf) > 0 {
		writeChunk(c.w, "IDAT", c.buf)
		c.buf = c.buf[:0]
	}
}
