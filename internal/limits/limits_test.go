package limits

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

func refusal(t *testing.T, err error) *Refusal {
	t.Helper()
	var r *Refusal
	if !errors.As(err, &r) {
		t.Fatalf("got %v, want a *Refusal", err)
	}
	return r
}

func TestUploadRatePerClient(t *testing.T) {
	l := New(Config{UploadsPerMinute: 3})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return now }
	for i := range 3 {
		release, err := l.Upload("a")
		if err != nil {
			t.Fatalf("upload %d: %v", i, err)
		}
		release()
	}
	_, err := l.Upload("a")
	r := refusal(t, err)
	if r.Status != http.StatusTooManyRequests || r.Reason != ReasonUploadRate {
		t.Fatalf("got %d %s, want 429 %s", r.Status, r.Reason, ReasonUploadRate)
	}
	if got := r.RetryAfterSeconds(); got != 20 {
		t.Errorf("Retry-After: got %d s, want 20 s (one token every 20 s)", got)
	}
	if _, err := l.Upload("b"); err != nil {
		t.Errorf("another client is limited too: %v", err)
	}
	now = now.Add(20 * time.Second)
	if _, err := l.Upload("a"); err != nil {
		t.Errorf("after Retry-After: %v", err)
	}
}

func TestConcurrentUploads(t *testing.T) {
	l := New(Config{UploadsPerClient: 2, UploadsTotal: 3})
	r1, _ := l.Upload("a")
	r2, _ := l.Upload("a")
	if _, err := l.Upload("a"); refusal(t, err).Status != http.StatusTooManyRequests {
		t.Fatal("third upload of one client: want 429")
	}
	r3, err := l.Upload("b")
	if err != nil {
		t.Fatal(err)
	}
	r := refusal(t, func() error { _, err := l.Upload("c"); return err }())
	if r.Status != http.StatusServiceUnavailable || r.RetryAfter <= 0 {
		t.Fatalf("over the global cap: got %d (Retry-After %v), want 503 with Retry-After", r.Status, r.RetryAfter)
	}
	r1()
	r1() // twice changes nothing
	if up, _ := l.InProgress(); up != 2 {
		t.Fatalf("in progress after one release: got %d, want 2", up)
	}
	if _, err := l.Upload("c"); err != nil {
		t.Fatalf("after a release: %v", err)
	}
	r2()
	r3()
}

func TestStreams(t *testing.T) {
	l := New(Config{StreamsPerClient: 1, StreamsTotal: 2})
	ra, _ := l.Stream("a")
	if _, err := l.Stream("a"); refusal(t, err).Reason != ReasonStreamsClient {
		t.Fatal("second stream of a: want streams_client")
	}
	l.Stream("b")
	if _, err := l.Stream("c"); refusal(t, err).Status != http.StatusServiceUnavailable {
		t.Fatal("third stream: want 503")
	}
	ra()
	if _, err := l.Stream("c"); err != nil {
		t.Fatal(err)
	}
}

// The state per client is bounded: idle clients are forgotten, and a
// flood of new addresses never grows the table past MaxClients.
func TestClientsAreBounded(t *testing.T) {
	l := New(Config{UploadsPerMinute: 1, MaxClients: 100, IdleAfter: time.Minute})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return now }
	for i := range 1000 {
		release, err := l.Upload(fmt.Sprint("client-", i))
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		release()
		if n := l.Clients(); n > 100 {
			t.Fatalf("after %d clients the limiter tracks %d, want at most 100", i+1, n)
		}
	}
	now = now.Add(2 * time.Minute)
	l.Upload("late")
	if n := l.Clients(); n != 1 {
		t.Errorf("after everyone went idle: tracks %d clients, want 1", n)
	}
	// Clients with work in progress are never forgotten; when every slot
	// is busy a newcomer is refused.
	busy := New(Config{UploadsPerClient: 1, MaxClients: 2})
	busy.Upload("x")
	busy.Upload("y")
	if _, err := busy.Upload("z"); refusal(t, err).Reason != ReasonClients {
		t.Fatal("newcomer with every slot busy: want clients refusal")
	}
}

func TestClientKey(t *testing.T) {
	trusted, err := ParseCIDRs("10.0.0.0/8, 192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	c := &Clients{Trusted: trusted}
	for _, tc := range []struct {
		name, peer, xff, want string
	}{
		{"untrusted peer: its header is ignored", "203.0.113.9:4000", "198.51.100.1", "ip:203.0.113.9"},
		{"trusted proxy", "10.1.2.3:4000", "198.51.100.1", "ip:198.51.100.1"},
		{"spoofed left part skipped", "10.1.2.3:4000", "6.6.6.6, 198.51.100.1", "ip:198.51.100.1"},
		{"chain of proxies", "10.1.2.3:4000", "198.51.100.1, 192.0.2.1, 10.9.9.9", "ip:198.51.100.1"},
		{"garbage stops the walk", "10.1.2.3:4000", "198.51.100.1, bogus", "ip:10.1.2.3"},
		{"no header", "10.1.2.3:4000", "", "ip:10.1.2.3"},
		{"ipv6 by /64", "[2001:db8:1:2:3:4:5:6]:443", "", "ip:2001:db8:1:2::/64"},
		{"mapped ipv4", "[::ffff:203.0.113.9]:1", "", "ip:203.0.113.9"},
		{"junk peer", "nonsense", "", "ip:unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if got := c.ClientKey(r); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	for _, bad := range []string{"10.0.0.0/33", "banana", "10.0.0.0/8,,x"} {
		if _, err := ParseCIDRs(bad); err == nil {
			t.Errorf("ParseCIDRs(%q): want an error", bad)
		}
	}
}

func TestSpoolCap(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(dir+"/upload-leftover", []byte("x"), 0o600)
	s, err := NewSpool(dir, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir + "/upload-leftover"); !os.IsNotExist(err) {
		t.Error("a leftover spool file survived start-up")
	}
	a, _ := s.Create()
	if _, err := a.Write(make([]byte, 800)); err != nil {
		t.Fatal(err)
	}
	b, _ := s.Create()
	if _, err := b.Write(make([]byte, 300)); !errors.Is(err, ErrSpoolFull) {
		t.Fatalf("over the cap: got %v, want ErrSpoolFull", err)
	}
	// io.Copy (which prefers ReadFrom) is held to the cap too.
	if _, err := io.Copy(b, strings.NewReader(strings.Repeat("x", 300))); !errors.Is(err, ErrSpoolFull) {
		t.Fatalf("io.Copy over the cap: got %v, want ErrSpoolFull", err)
	}
	a.Remove()
	if _, err := b.Write(make([]byte, 300)); err != nil {
		t.Fatalf("after a removal: %v", err)
	}
	b.Remove()
	if s.Used() != 0 {
		t.Errorf("used after removing everything: %d", s.Used())
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 0 {
		t.Errorf("files left in the spool: %d", len(left))
	}
}

func TestDiskCheck(t *testing.T) {
	free := uint64(10 << 20)
	d := &Disk{Dir: t.TempDir(), MinFree: 5 << 20, Free: func(string) (uint64, error) { return free, nil }}
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
	free = 1 << 20
	d.checked = time.Time{}
	if r := refusal(t, d.Check()); r.Status != http.StatusInsufficientStorage {
		t.Fatalf("got %d, want 507", r.Status)
	}
	if n, err := FreeBytes(t.TempDir()); err != nil || n == 0 {
		t.Errorf("FreeBytes of a real directory: %d, %v", n, err)
	}
}

// A body trickled far below the minimum rate is cut off within the grace
// period plus a little, on a real connection.
func TestSlowBodyIsCutOff(t *testing.T) {
	got := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Body{MinRate: 1000, Grace: 500 * time.Millisecond, Deadline: 10 * time.Second}.Wrap(w, r)
		_, err := io.Copy(io.Discard, r.Body)
		got <- err
		if errors.Is(err, ErrSlowBody) {
			w.WriteHeader(http.StatusRequestTimeout)
		}
	}))
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
	start := time.Now()
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				if _, err := conn.Write([]byte("x")); err != nil {
					return
				}
			}
		}
	}()
	defer close(stop)
	select {
	case err := <-got:
		if !errors.Is(err, ErrSlowBody) {
			t.Fatalf("got %v, want ErrSlowBody", err)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("the trickled body was not cut off")
	}
	t.Logf("cut off after %v", time.Since(start).Round(time.Millisecond))
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line := make([]byte, 12)
	io.ReadFull(conn, line)
	if !strings.HasPrefix(string(line), "HTTP/1.1 408") {
		t.Errorf("response: got %q, want HTTP/1.1 408", line)
	}
}

// A body that keeps up passes, and the deadline is lifted when it ends.
func TestFastBodyPasses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Body{MinRate: 1000, Grace: 200 * time.Millisecond, Deadline: 10 * time.Second}.Wrap(w, r)
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		time.Sleep(400 * time.Millisecond) // past the rate's due time: the handler is not cut off
		if r.Context().Err() != nil {
			http.Error(w, "context cancelled", 500)
			return
		}
		fmt.Fprint(w, n)
	}))
	defer srv.Close()
	resp, err := http.Post(srv.URL, "application/octet-stream", strings.NewReader(strings.Repeat("x", 1<<20)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != fmt.Sprint(1<<20) {
		t.Fatalf("got %d %q", resp.StatusCode, b)
	}
}
