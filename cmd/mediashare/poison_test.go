package main

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mediashare/internal/events"
	eventsqlite "mediashare/internal/events/sqlite"
	"mediashare/internal/media/mediatest"
	"mediashare/internal/sqlitedb"
)

// An upload whose thumbnail kills the process each time it is tried (here
// SIGKILL, as the OOM killer would) is tried --feed-max-attempts times
// across restarts, then parked: ThumbnailFailed with the safe reason
// "poison", a dead letter, a metric, and the site goes on to make the next
// upload's thumbnail.
func TestPoisonUploadIsParkedAfterCrashes(t *testing.T) {
	const maxAttempts = 3
	bin := mediashareBinary(t)
	heavy := heavyPoisonPNG(t)
	data := t.TempDir()

	// killedWhileDecoding starts the process, waits for the reactor to
	// begin attempt n at the upload (logged after the attempt is counted),
	// lets the decode run a moment, and kills the process.
	var eib string
	for n := 1; n <= maxAttempts; n++ {
		p := startServe(t, bin, data, maxAttempts)
		if n == 1 {
			eib = upload(t, p.site, browser(t), "heavy.png", "image/png", heavy)
		}
		p.waitLog(t, 60*time.Second, "events: handling event", "consumer=reactor", "type=MediaUploaded", "stream="+eib, "attempt="+itoa(n))
		// Decoding has begun once the process has burnt 200 ms of CPU past
		// the attempt's start (the whole thumbnail takes seconds of CPU):
		// measured in CPU time, so a loaded machine only makes it slower.
		start, cpu0 := time.Now(), cpuTime(p.cmd.Process.Pid)
		for cpuTime(p.cmd.Process.Pid)-cpu0 < 200*time.Millisecond {
			if time.Since(start) > 30*time.Second {
				t.Fatal("the process did not start decoding within 30 s of the attempt")
			}
			time.Sleep(5 * time.Millisecond)
		}
		rss := vmRSS(p.cmd.Process.Pid)
		p.kill()
		t.Logf("attempt %d: killed while decoding, %v after the attempt began, at %d MiB resident", n, time.Since(start).Round(time.Millisecond), rss>>20)
		if got := streamTypes(eventsIn(t, data), eib); got != "MediaUploaded" {
			t.Fatalf("after killed attempt %d the entry's events are %s, want MediaUploaded alone (the kill came too late)", n, got)
		}
	}

	// The next start parks the upload at once and moves on.
	p := startServe(t, bin, data, maxAttempts)
	recoverStart := time.Now()
	alice := browser(t)
	card := p.waitStatus(alice, eib, "failed")
	t.Logf("recovered: the poison upload was parked %v after the restart", time.Since(recoverStart).Round(time.Millisecond))
	if got := strings.TrimSpace(card.Find(`[data-testid=failed]`).Text()); got != "Could not make a preview" {
		t.Errorf("the parked entry's card says %q, want %q", got, "Could not make a preview")
	}
	doc := mustDoc(t, p.get(alice, "/entries/"+eib))
	if got := doc.Find(`[data-testid=status]`).AttrOr("class", ""); !strings.Contains(got, "failed") {
		t.Errorf("the entry page's status badge has class %q, want failed", got)
	}
	p.waitLog(t, 10*time.Second, "parked an event", "consumer=reactor", "reason=poison")

	evs := eventsIn(t, data)
	if got := streamTypes(evs, eib); got != "MediaUploaded,ThumbnailFailed" {
		t.Fatalf("the poison entry's events: %s, want MediaUploaded ThumbnailFailed", got)
	}
	for _, e := range evs {
		if e.Stream == eib && e.Type == events.ThumbnailFailed {
			var f events.ThumbnailFailure
			if err := json.Unmarshal(e.Data, &f); err != nil {
				t.Fatal(err)
			}
			if f.Reason != "poison" || f.Message != "The image could not be processed." {
				t.Errorf("ThumbnailFailed payload: %+v, want reason poison with its safe message", f)
			}
		}
	}
	metrics := string(readBody(t, p.get(alice, "/metrics")))
	if !strings.Contains(metrics, `mediashare_feed_events_parked_total{consumer="reactor",reason="poison"} 1`) {
		t.Errorf("/metrics does not count the parked upload:\n%s", grepLines(metrics, "mediashare_feed_events_parked_total"))
	}

	// Nothing else is stuck: the next upload becomes ready.
	photo, err := os.ReadFile(mediatest.Photo(t, "Storm.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	next := upload(t, p.site, alice, "Storm.jpg", "image/jpeg", photo)
	p.waitStatus(alice, next, "ready")
	p.stopGracefully(t)

	dead := deadLettersIn(t, data, "reactor")
	if len(dead) != 1 || dead[0].Stream != eib || dead[0].Reason != events.ParkPoison || dead[0].Attempts != maxAttempts {
		t.Errorf("dead letters of the reactor: %+v, want one for %s, reason poison, %d attempts", dead, eib, maxAttempts)
	}
}

// serveProcess is a `mediashare serve` process whose log is read line by line.
type serveProcess struct {
	*site
	cmd *exec.Cmd

	mu    sync.Mutex
	lines []string
	more  chan struct{} // closed and replaced on every new line
	log   bytes.Buffer
}

func startServe(t *testing.T, bin, data string, maxAttempts int) *serveProcess {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "--uploads", "anyone", "--addr", addr, "--data", data, "--log-level", "debug", "--feed-max-attempts", itoa(maxAttempts))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProcess{site: &site{t: t, url: "http://" + addr, data: data}, cmd: cmd, more: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.log.WriteString(sc.Text() + "\n")
			close(p.more)
			p.more = make(chan struct{})
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if t.Failed() {
			p.mu.Lock()
			t.Logf("log of the process on %s:\n%s", addr, p.log.String())
			p.mu.Unlock()
		}
	})
	waitFor(t, "the process answers /readyz", func() bool {
		resp, err := http.Get(p.url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return p
}

// waitLog waits for a log line holding every part.
func (p *serveProcess) waitLog(t *testing.T, within time.Duration, parts ...string) {
	t.Helper()
	deadline := time.After(within)
	seen := 0
	for {
		p.mu.Lock()
		lines, more := p.lines[seen:], p.more
		seen = len(p.lines)
		p.mu.Unlock()
	line:
		for _, l := range lines {
			for _, part := range parts {
				if !strings.Contains(l, part) {
					continue line
				}
			}
			return
		}
		select {
		case <-more:
		case <-deadline:
			t.Fatalf("no log line with %q within %v", parts, within)
		}
	}
}

func (p *serveProcess) kill() {
	p.cmd.Process.Kill()
	p.cmd.Wait()
}

func (p *serveProcess) stopGracefully(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Error("the process did not stop within 30 s of SIGINT")
		p.kill()
	}
}

// upload posts one file and returns the new entry's eib.
func upload(t *testing.T, s *site, c *http.Client, name, contentType string, data []byte) string {
	t.Helper()
	before := s.cards(c)
	resp := s.post(c, "/entries", uploadParts("t "+name, "c", name, contentType, data), false)
	if body := readBody(t, resp); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload of %s: %d %s, want 303", name, resp.StatusCode, body)
	}
	for eib := range s.cards(c) {
		if _, ok := before[eib]; !ok {
			return eib
		}
	}
	t.Fatalf("the upload of %s made no card", name)
	return ""
}

func eventsIn(t *testing.T, data string) []events.Event {
	t.Helper()
	db, err := sqlitedb.Open(filepath.Join(data, "mediashare.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return readEvents(t, db)
}

func deadLettersIn(t *testing.T, data, consumer string) []events.DeadLetter {
	t.Helper()
	db, err := sqlitedb.Open(filepath.Join(data, "mediashare.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store, err := eventsqlite.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := store.DeadLetters(context.Background(), consumer)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// cpuTime is the CPU time a process has used (user and system), from
// /proc/PID/stat in clock ticks of 10 ms.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces): state is
	// field 3, utime 14, stime 15.
	rest := string(b)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// vmRSS is a process's resident memory in bytes (0 when unknown).
func vmRSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func itoa(n int) string { return strconv.Itoa(n) }

var (
	heavyOnce sync.Once
	heavyData []byte
	heavyErr  error
)

// heavyPoisonPNG is a 10000 × 10000 16-bit RGBA PNG (100 megapixels, within
// the upload limits): about 1 MB on disk, 800 MB decoded, seconds of work
// to decode. Made once per test run, streamed through zlib.
func heavyPoisonPNG(t *testing.T) []byte {
	t.Helper()
	heavyOnce.Do(func() {
		const w, h = 10000, 10000
		var buf bytes.Buffer
		buf.WriteString("\x89PNG\r\n\x1a\n")
		chunk := func(typ string, data []byte) {
			var n [4]byte
			binary.BigEndian.PutUint32(n[:], uint32(len(data)))
			buf.Write(n[:])
			crc := crc32.NewIEEE()
			crc.Write([]byte(typ))
			crc.Write(data)
			buf.WriteString(typ)
			buf.Write(data)
			binary.BigEndian.PutUint32(n[:], crc.Sum32())
			buf.Write(n[:])
		}
		ihdr := make([]byte, 13)
		binary.BigEndian.PutUint32(ihdr[0:], w)
		binary.BigEndian.PutUint32(ihdr[4:], h)
		ihdr[8], ihdr[9] = 16, 6 // 16 bits per sample, RGBA
		chunk("IHDR", ihdr)
		var idat bytes.Buffer
		zw, err := zlib.NewWriterLevel(&idat, zlib.BestSpeed)
		if err != nil {
			heavyErr = err
			return
		}
		row := make([]byte, 1+w*8) // filter byte "none", then opaque mid-grey pixels
		for i := 1; i < len(row); i += 8 {
			row[i], row[i+2], row[i+4], row[i+6], row[i+7] = 0x80, 0x80, 0x80, 0xff, 0xff
		}
		for y := 0; y < h; y++ {
			zw.Write(row)
		}
		if heavyErr = zw.Close(); heavyErr != nil {
			return
		}
		chunk("IDAT", idat.Bytes())
		chunk("IEND", nil)
		heavyData = buf.Bytes()
	})
	if heavyErr != nil {
		t.Fatal(heavyErr)
	}
	return heavyData
}
