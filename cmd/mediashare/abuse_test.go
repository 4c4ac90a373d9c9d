package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"mediashare/internal/events"
)

// The abuse suite: a real `mediashare serve` process, traffic an attacker
// would send, on loopback. Every case is bounded in requests and time
// and ends by checking that the site still serves its gallery quickly
// and lost nothing it accepted.

// abuseSite is one `mediashare serve` process on the embedded backend.
type abuseSite struct {
	*site
	spool string
}

func startAbuseSite(t *testing.T, args ...string) *abuseSite {
	t.Helper()
	addr, data := freeAddr(t), t.TempDir()
	cmd := exec.Command(mediashareBinary(t), append([]string{"serve", "--uploads", "anyone", "--addr", addr, "--data", data, "--log-level", "warn"}, args...)...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &abuseSite{site: &site{t: t, url: "http://" + addr, data: data, cfg: config{Backend: "embedded"}}, spool: filepath.Join(data, "spool")}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if t.Failed() {
			t.Logf("log of mediashare serve:\n%s", log.String())
		}
	})
	waitFor(t, "the process answers /readyz", func() bool {
		resp, err := http.Get(s.url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return s
}

// stillServes checks that the gallery answers quickly and shows at least
// the entries accepted (none lost), and returns the time it took.
func (s *abuseSite) stillServes(accepted int) time.Duration {
	s.t.Helper()
	start := time.Now()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(s.url + "/")
	if err != nil {
		s.t.Fatalf("after the abuse the gallery does not answer: %v", err)
	}
	took := time.Since(start)
	doc := mustDoc(s.t, resp)
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("after the abuse GET / = %d", resp.StatusCode)
	}
	if took > 5*time.Second {
		s.t.Errorf("after the abuse the gallery took %v", took)
	}
	if n := doc.Find(`[data-testid=card]`).Length(); n != accepted {
		s.t.Errorf("gallery shows %d entries, want the %d accepted", n, accepted)
	}
	if n := len(s.events()); n < accepted {
		s.t.Errorf("event log holds %d events, want at least the %d accepted uploads", n, accepted)
	}
	return took
}

// spoolFiles lists what is left in the spool directory.
func (s *abuseSite) spoolFiles() []string {
	entries, err := os.ReadDir(s.spool)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// metric sums the samples of a metric family, and counts its series.
func (s *abuseSite) metric(name string) (sum float64, series int) {
	s.t.Helper()
	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		series++
		f := strings.Fields(line)
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		sum += v
	}
	return sum, series
}

// Random methods add no label series: the method label comes from a
// closed set.
func TestAbuseRandomMethods(t *testing.T) {
	s := startAbuseSite(t)
	c := &http.Client{Timeout: 10 * time.Second}
	junk := func(n int) {
		for range n {
			m := fmt.Sprintf("M%d", rand.IntN(1_000_000))
			req, _ := http.NewRequest(m, s.url+"/", nil)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	junk(20)
	s.metric("mediashare_http_requests_total") // the scrape's own series exists from here on
	_, before := s.metric("mediashare_http_requests_total")
	_, durBefore := s.metric("mediashare_http_request_duration_seconds_count")
	start := time.Now()
	junk(300)
	_, after := s.metric("mediashare_http_requests_total")
	_, durAfter := s.metric("mediashare_http_request_duration_seconds_count")
	t.Logf("figures: 300 requests with random methods in %v; request series %d before, %d after", time.Since(start).Round(time.Millisecond), before, after)
	if after != before || durAfter != durBefore {
		t.Errorf("series grew: requests %d → %d, durations %d → %d", before, after, durBefore, durAfter)
	}
	resp, _ := http.Get(s.url + "/metrics")
	body := string(readBody(t, resp))
	if !strings.Contains(body, `method="other"`) || strings.Contains(body, `method="M`) {
		t.Error(`junk methods are not all labelled "other"`)
	}
	s.stillServes(0)
}

// A burst of uploads from one client: the first five are taken, the rest
// get 429 with Retry-After and the form's message, both as the htmx
// fragment and as the whole page; every accepted upload becomes an entry.
func TestAbuseUploadBurst(t *testing.T) {
	s := startAbuseSite(t, "--uploads-per-minute", "5")
	c := browser(t)
	accepted, refused := 0, 0
	start := time.Now()
	for i := range 12 {
		resp := s.post(c, "/entries", uploadParts(fmt.Sprintf("burst %d", i), "c", "p.png", "image/png", smallPNG(t, i)), i%2 == 0)
		body := readBody(t, resp)
		switch resp.StatusCode {
		case http.StatusCreated, http.StatusSeeOther:
			accepted++
		case http.StatusTooManyRequests:
			refused++
			ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
			if err != nil || ra < 1 || ra > 60 {
				t.Errorf("upload %d: Retry-After %q, want 1–60 seconds", i, resp.Header.Get("Retry-After"))
			}
			doc, _ := goquery.NewDocumentFromReader(bytes.NewReader(body))
			msg := doc.Find(`[data-testid=form-error]`).Text()
			if !strings.Contains(msg, "uploads in the last minute") {
				t.Errorf("upload %d (htmx %v): form message %q", i, i%2 == 0, msg)
			}
			if i%2 == 1 && doc.Find(`[data-testid=gallery]`).Length()+doc.Find(`[data-testid=card]`).Length() == 0 && doc.Find("html").Length() == 0 {
				t.Errorf("upload %d: the full page was not a page", i)
			}
		default:
			t.Fatalf("upload %d: %d %s", i, resp.StatusCode, body)
		}
	}
	t.Logf("figures: 12 uploads in %v: %d accepted, %d refused with 429", time.Since(start).Round(time.Millisecond), accepted, refused)
	if accepted != 5 || refused != 7 {
		t.Errorf("got %d accepted and %d refused, want 5 and 7", accepted, refused)
	}
	// Another client is not held back by the first.
	other := browser(t)
	req, _ := http.NewRequest("GET", s.url+"/", nil)
	resp, _ := other.Do(req)
	readBody(t, resp)
	if sum, _ := s.metric(`mediashare_limit_refusals_total{reason="upload_rate"}`); sum != 7 {
		t.Errorf("refusals counted: %v, want 7", sum)
	}
	took := s.stillServes(accepted)
	t.Logf("figures: gallery served in %v after the burst", took.Round(time.Millisecond))
	if len(s.spoolFiles()) != 0 {
		t.Errorf("spool not empty: %v", s.spoolFiles())
	}
}

// openStream opens /live with a client address (the process trusts
// X-Forwarded-For from loopback in this test).
func openStream(t *testing.T, url, client string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/live", nil)
	req.Header.Set("X-Forwarded-For", client)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// More live streams than the caps: 429 for one client over its cap, 503
// when the instance is full, each with Retry-After; closing streams
// makes room again.
func TestAbuseLiveStreams(t *testing.T) {
	s := startAbuseSite(t, "--live-per-client", "3", "--live-max", "6", "--trusted-proxies", "127.0.0.1/32,::1")
	var open []*http.Response
	defer func() {
		for _, r := range open {
			r.Body.Close()
		}
	}()
	for range 3 {
		r := openStream(t, s.url, "198.51.100.1")
		if r.StatusCode != http.StatusOK {
			t.Fatalf("stream within the cap: %d", r.StatusCode)
		}
		open = append(open, r)
	}
	r := openStream(t, s.url, "198.51.100.1")
	body := readBody(t, r)
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "live galleries open") {
		t.Fatalf("fourth stream of one client: %d, Retry-After %q, %q", r.StatusCode, r.Header.Get("Retry-After"), body)
	}
	for i := range 3 {
		r := openStream(t, s.url, fmt.Sprintf("198.51.100.%d", 10+i))
		if r.StatusCode != http.StatusOK {
			t.Fatalf("stream %d of another client: %d", i, r.StatusCode)
		}
		open = append(open, r)
	}
	refused := 1
	for i := range 4 {
		r := openStream(t, s.url, fmt.Sprintf("203.0.113.%d", i))
		readBody(t, r)
		if r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
			t.Fatalf("stream over the instance's cap: %d, Retry-After %q", r.StatusCode, r.Header.Get("Retry-After"))
		}
		refused++
	}
	open[0].Body.Close()
	open = open[1:]
	start := time.Now()
	var again *http.Response
	waitFor(t, "a closed stream makes room", func() bool {
		again = openStream(t, s.url, "192.0.2.50")
		if again.StatusCode == http.StatusOK {
			return true
		}
		again.Body.Close()
		return false
	})
	open = append(open, again)
	t.Logf("figures: 6 streams open, %d refused (429 and 503), room again %v after one closed", refused, time.Since(start).Round(time.Millisecond))
	s.stillServes(0)
}

// A body trickled at 1 byte/s is cut off with 408 and leaves nothing in
// the spool; the site keeps serving.
func TestAbuseTrickledBody(t *testing.T) {
	s := startAbuseSite(t, "--body-timeout", "3s")
	body, ct := multipartBody(t, uploadParts("slow", "c", "p.png", "image/png", smallPNG(t, 1)))
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /entries HTTP/1.1\r\nHost: x\r\nHX-Request: true\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", ct, body.Len())
	head := body.Bytes()[:400] // the fields and the file part's start: something reaches the spool
	conn.Write(head)
	start := time.Now()
	go func() {
		for _, b := range body.Bytes()[400:] {
			time.Sleep(time.Second)
			if _, err := conn.Write([]byte{b}); err != nil {
				return
			}
		}
	}()
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to the trickled body: %v", err)
	}
	msg := readBody(t, resp)
	cut := time.Since(start)
	t.Logf("figures: trickled body cut off after %v with %d", cut.Round(time.Millisecond), resp.StatusCode)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(msg), "too slowly") {
		t.Fatalf("got %d %q, want 408 with a message", resp.StatusCode, msg)
	}
	if cut > 10*time.Second {
		t.Errorf("cut off after %v, want about the 3 s body timeout", cut)
	}
	waitFor(t, "the spool is empty", func() bool { return len(s.spoolFiles()) == 0 })
	s.stillServes(0)
	if files := s.mediaFiles(); len(files) != 0 {
		t.Errorf("media stored: %v", files)
	}
}

// A full disk, simulated by a small spool cap and by a free-space floor
// above what the volume has: uploads get 507 with the form's message,
// nothing is stored, and reading goes on.
func TestAbuseFullDisk(t *testing.T) {
	photo, err := os.ReadFile("../../../shared/photos/Storm.jpg")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"spool cap", []string{"--spool-max-bytes", "16KiB"}, "no room for more uploads"},
		{"free space", []string{"--min-free-bytes", "1000000GiB"}, "running out of storage space"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startAbuseSite(t, tc.args...)
			c := browser(t)
			for _, htmx := range []bool{true, false} {
				resp := s.post(c, "/entries", uploadParts("too much", "c", "storm.jpg", "image/jpeg", photo), htmx)
				doc := mustDoc(t, resp)
				if resp.StatusCode != http.StatusInsufficientStorage {
					t.Fatalf("htmx %v: got %d, want 507", htmx, resp.StatusCode)
				}
				if msg := doc.Find(`[data-testid=form-error]`).Text(); !strings.Contains(msg, tc.want) {
					t.Errorf("htmx %v: form message %q, want %q", htmx, msg, tc.want)
				}
				if resp.Header.Get("Retry-After") == "" {
					t.Errorf("htmx %v: no Retry-After", htmx)
				}
			}
			if files := s.mediaFiles(); len(files) != 0 {
				t.Errorf("media stored: %v", files)
			}
			if evs := s.events(); len(evs) != 0 {
				t.Errorf("events appended: %d", len(evs))
			}
			if left := s.spoolFiles(); len(left) != 0 {
				t.Errorf("spool not empty: %v", left)
			}
			s.stillServes(0)
		})
	}
}

// Malformed cursors and parameters are 400 with a message, never 500,
// and never echoed into the live stream.
func TestAbuseBadCursors(t *testing.T) {
	s := startAbuseSite(t)
	c := browser(t)
	resp := s.post(c, "/entries", uploadParts("kept", "c", "p.png", "image/png", smallPNG(t, 1)), false)
	readBody(t, resp)
	for _, tc := range []struct {
		name, path string
		header     map[string]string
	}{
		{"history before garbage", "/history?before=garbage", nil},
		{"history before negative", "/history?before=-5", nil},
		{"history before huge", "/history?before=" + strings.Repeat("9", 500), nil},
		{"history type unknown", "/history?type=Nope", nil},
		{"export before garbage", "/history.ndjson?before=garbage", nil},
		{"export limit zero", "/history.ndjson?limit=0", nil},
		{"export limit huge", "/history.ndjson?limit=1000000", nil},
		{"export limit garbage", "/history.ndjson?limit=ten", nil},
		{"gallery after garbage", "/?after=garbage", nil},
		{"gallery after garbage, htmx", "/?after=garbage", map[string]string{"HX-Request": "true"}},
		{"live last with a newline", "/live?last=1%0Aevent:%20evil", nil},
		{"live last garbage", "/live?last=garbage", nil},
		{"Last-Event-ID garbage", "/live", map[string]string{"Last-Event-ID": "garbage\u00e9"}},
		{"Last-Event-ID too long", "/live", map[string]string{"Last-Event-ID": strings.Repeat("1", 300)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := s.do(c, "GET", tc.path, tc.header)
			body := string(readBody(t, resp))
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("got %d, want 400: %.200s", resp.StatusCode, body)
			}
			if strings.Contains(body, "evil") || strings.Contains(body, "garbage") {
				t.Errorf("the bad value is echoed: %.200s", body)
			}
			if strings.TrimSpace(body) == "" {
				t.Error("no message")
			}
		})
	}
	s.stillServes(1)
}

// /readyz answers from a cached check: a flood of probes costs the
// backend at most one probe a second.
func TestAbuseReadyzIsCached(t *testing.T) {
	s := startAbuseSite(t)
	before, _ := s.metric("mediashare_ready_probes_total")
	start := time.Now()
	n := 0
	for ; time.Since(start) < 2500*time.Millisecond; n++ {
		time.Sleep(time.Millisecond)
		resp, err := http.Get(s.url + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("/readyz = %d", resp.StatusCode)
		}
	}
	elapsed := time.Since(start)
	after, _ := s.metric("mediashare_ready_probes_total")
	probes := after - before
	t.Logf("figures: %d /readyz in %v made %v backend probes", n, elapsed.Round(time.Millisecond), probes)
	if limit := elapsed.Seconds() + 1; probes > limit || probes < 1 {
		t.Errorf("%v probes in %v, want one a second at most (and at least one)", probes, elapsed)
	}
	s.stillServes(0)
}

// startHeldUpload sends an upload's headers and the first part of its
// body as client (X-Forwarded-For), and holds the rest back; finish sends
// the rest and reads the answer.
func startHeldUpload(t *testing.T, url, client string, parts []part) (finish func() *http.Response) {
	t.Helper()
	body, ct := multipartBody(t, parts)
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /entries HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", client, ct, body.Len())
	b := body.Bytes()
	conn.Write(b[:len(b)/2])
	return func() *http.Response {
		conn.Write(b[len(b)/2:])
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("held upload: %v", err)
		}
		readBody(t, resp)
		return resp
	}
}

// Uploads at once: one client's second upload while its first is in
// progress gets 429; a third client's while the instance is at its cap
// gets 503; both with Retry-After and the form's message. The held
// uploads then finish and become entries.
func TestAbuseConcurrentUploads(t *testing.T) {
	s := startAbuseSite(t, "--uploads-per-client", "1", "--uploads-in-flight", "2", "--trusted-proxies", "127.0.0.1/32",
		"--min-body-rate", "0", "--body-timeout", "60s")
	inFlight := func(n float64) func() bool {
		return func() bool { v, _ := s.metric("mediashare_http_requests_in_flight"); return v >= n+1 } // +1: the scrape itself
	}
	post := func(client string, htmx bool) *http.Response {
		body, ct := multipartBody(t, uploadParts("extra", "c", "p.png", "image/png", smallPNG(t, 9)))
		req, _ := http.NewRequest("POST", s.url+"/entries", body)
		req.Header.Set("Content-Type", ct)
		req.Header.Set("X-Forwarded-For", client)
		if htmx {
			req.Header.Set("HX-Request", "true")
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	check := func(what string, resp *http.Response, code int, msg string) {
		t.Helper()
		doc := mustDoc(t, resp)
		if resp.StatusCode != code || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: got %d (Retry-After %q), want %d with Retry-After", what, resp.StatusCode, resp.Header.Get("Retry-After"), code)
		}
		if got := doc.Find(`[data-testid=form-error]`).Text(); !strings.Contains(got, msg) {
			t.Errorf("%s: form message %q, want %q", what, got, msg)
		}
	}
	finishA := startHeldUpload(t, s.url, "198.51.100.1", uploadParts("held A", "c", "a.png", "image/png", smallPNG(t, 1)))
	waitFor(t, "the first upload is in progress", inFlight(1))
	check("a second upload of the same client", post("198.51.100.1", true), http.StatusTooManyRequests, "uploads in progress")
	finishC := startHeldUpload(t, s.url, "198.51.100.2", uploadParts("held C", "c", "c.png", "image/png", smallPNG(t, 2)))
	waitFor(t, "two uploads are in progress", inFlight(2))
	check("an upload over the instance's cap", post("198.51.100.3", false), http.StatusServiceUnavailable, "as many uploads as it can")
	start := time.Now()
	for name, finish := range map[string]func() *http.Response{"A": finishA, "C": finishC} {
		if resp := finish(); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("held upload %s: %d, want 303", name, resp.StatusCode)
		}
	}
	if resp := post("198.51.100.3", true); resp.StatusCode != http.StatusCreated {
		t.Errorf("after the held uploads finished: %d, want 201", resp.StatusCode)
	} else {
		readBody(t, resp)
	}
	t.Logf("figures: 2 uploads refused while 2 were held; the next one taken %v after they finished", time.Since(start).Round(time.Millisecond))
	s.stillServes(3)
	if left := s.spoolFiles(); len(left) != 0 {
		t.Errorf("spool not empty: %v", left)
	}
}

// Hostile multipart bodies: a text field past the form's budget, more
// files than allowed, a body that is not multipart at all. Each is a 400
// with the form's message, leaves nothing stored and nothing spooled; a
// part the form does not have is skipped.
func TestAbuseHostileMultipart(t *testing.T) {
	s := startAbuseSite(t)
	c := browser(t)
	png := smallPNG(t, 3)
	many := uploadParts("", "c", "", "", nil)
	for i := range 21 {
		many = append(many, part{name: "file", filename: fmt.Sprintf("f%d.png", i), contentType: "image/png", data: png})
	}
	for _, tc := range []struct {
		name  string
		parts []part
		want  string
	}{
		{"a title past the budget", uploadParts(strings.Repeat("t", 70<<10), "c", "p.png", "image/png", png), "too long"},
		{"21 files", many, "at most 20 files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := s.post(c, "/entries", tc.parts, true)
			doc := mustDoc(t, resp)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(doc.Find(`[data-testid=form-error]`).Text(), tc.want) {
				t.Errorf("got %d %q, want 400 with %q", resp.StatusCode, doc.Find(`[data-testid=form-error]`).Text(), tc.want)
			}
		})
	}
	req, _ := http.NewRequest("POST", s.url+"/entries", strings.NewReader("title=x&comment=y"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if doc := mustDoc(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(doc.Find(`[data-testid=form-error]`).Text(), "could not be read") {
		t.Errorf("not multipart: got %d", resp.StatusCode)
	}
	if files, evs, left := s.mediaFiles(), s.events(), s.spoolFiles(); len(files)+len(evs)+len(left) != 0 {
		t.Errorf("after the hostile bodies: media %v, %d events, spool %v", files, len(evs), left)
	}
	extra := append(uploadParts("kept", "c", "p.png", "image/png", png), part{name: "evil", filename: "x.sh", contentType: "text/plain", data: []byte("#!/bin/sh")})
	if resp := s.post(c, "/entries", extra, false); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("with a part the form does not have: %d, want 303", resp.StatusCode)
	} else {
		readBody(t, resp)
	}
	s.stillServes(1)
}

// /history.ndjson is paged: at most ?limit= rows, the next page in the
// Link header; following the links reads every event once.
func TestHistoryExportIsPaged(t *testing.T) {
	s := startSite(t, nil)
	c := browser(t)
	for i := range 3 {
		readBody(t, s.post(c, "/entries", uploadParts(fmt.Sprint("paged ", i), "c", "p.png", "image/png", smallPNG(t, i)), false))
	}
	// Count once every thumbnail is recorded: the log must not grow while
	// it is paged through.
	waitFor(t, "the three thumbnails", func() bool {
		n := 0
		for _, e := range s.events() {
			if e.Type == events.ThumbnailGenerated {
				n++
			}
		}
		return n == 3
	})
	total := len(s.events())
	seen := map[string]bool{}
	pages := 0
	for path := "/history.ndjson?limit=2"; path != ""; pages++ {
		if pages > total {
			t.Fatal("the links never end")
		}
		resp := s.get(c, path)
		lines := strings.Split(strings.TrimSpace(string(readBody(t, resp))), "\n")
		if resp.StatusCode != http.StatusOK || len(lines) > 2 {
			t.Fatalf("%s: %d with %d lines, want 200 with at most 2", path, resp.StatusCode, len(lines))
		}
		for _, l := range lines {
			if seen[l] {
				t.Errorf("line read twice: %s", l)
			}
			seen[l] = true
		}
		path = ""
		if link := resp.Header.Get("Link"); link != "" {
			start, end := strings.Index(link, "<"), strings.Index(link, ">")
			if start != 0 || end < 0 || !strings.HasSuffix(link, `rel="next"`) {
				t.Fatalf("Link %q", link)
			}
			path = link[1:end]
		}
	}
	if len(seen) != total {
		t.Errorf("read %d events in %d pages, want all %d", len(seen), pages, total)
	}
}
