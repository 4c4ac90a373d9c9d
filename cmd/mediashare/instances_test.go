package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mediashare/internal/events"
	"mediashare/internal/media/mediatest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// mediashareBinary builds `mediashare` once per test run.
func mediashareBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mediashare-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "mediashare")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// process is one `mediashare serve` process.
type process struct {
	*site
	cmd *exec.Cmd
	log *bytes.Buffer
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startProcess runs `mediashare serve --backend aws` on c's resources
// (with c.Backend "embedded", on c.Data and c.SecretFile instead), with
// the extra flags given.
func startProcess(t *testing.T, c config, extra ...string) *process {
	t.Helper()
	addr := freeAddr(t)
	args := []string{"serve", "--uploads", "anyone", "--addr", addr, "--data", t.TempDir(), "--secret-file", c.SecretFile,
		"--backend", "aws", "--bucket", c.AWS.Bucket, "--table", c.AWS.Table, "--events-table", c.AWS.EventsTable,
		"--region", c.AWS.Region, "--endpoint", c.AWS.Endpoint, "--s3-path-style", "--lease-duration", c.AWSLeaseDuration.String(), "--preview-poll", c.AWSPreviewPoll.String()}
	if c.Backend == "embedded" {
		args = []string{"serve", "--uploads", "anyone", "--addr", addr, "--data", c.Data, "--secret-file", c.SecretFile, "--backend", "embedded"}
	}
	args = append(args, "--log-level", "debug",
		// Its visitors all come from loopback, one client to the limits
		// per client: those stay off here (the abuse suite tests them).
		"--uploads-per-minute", "0", "--uploads-per-client", "0", "--live-per-client", "0")
	cmd := exec.Command(mediashareBinary(t), append(args, extra...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{site: &site{t: t, url: "http://" + addr, cfg: c, data: c.Data}, cmd: cmd, log: &log}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Signal(os.Interrupt)
			cmd.Wait()
		}
		if t.Failed() {
			t.Logf("log of the process on %s:\n%s", addr, log.String())
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

// kill stops the process at once, as a crash or a lost machine would.
func (p *process) kill() {
	p.cmd.Process.Kill()
	p.cmd.Wait()
}

// Two `mediashare serve` processes on one moto backend: an upload through
// A appears in B's gallery with its thumbnail; A killed in the middle of
// projecting loses nothing and doubles nothing once B takes over its lease.
func TestTwoProcessesShareOneAWSBackend(t *testing.T) {
	c := defaultConfig(t)
	awsConfig(t, &c)
	a := startProcess(t, c)
	time.Sleep(500 * time.Millisecond) // A takes the stream's lease first
	b := startProcess(t, c)
	alice := browser(t)

	readBody(t, a.post(alice, "/entries", uploadParts("through A", "seen by B", "p.png", "image/png", smallPNG(t, 1)), false))
	var eib string
	for k := range a.cards(alice) {
		eib = k
	}
	b.waitStatus(browser(t), eib, "ready")

	// Upload a batch of real photos through B and kill A while it makes
	// their thumbnails.
	photo, err := os.ReadFile(mediatest.Photo(t, "Storm.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	for i := 0; i < n; i++ { // at once, as a burst of visitors would
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := b.post(browser(t), "/entries", uploadParts(fmt.Sprint("batch ", i), "c", "storm.jpg", "image/jpeg", photo), false)
			readBody(t, resp)
			if resp.StatusCode != http.StatusSeeOther {
				t.Errorf("upload %d through B: %d", i, resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	a.kill()
	pending := 0
	for _, card := range b.cards(alice) {
		if card.AttrOr("data-status", "") != "ready" {
			pending++
		}
	}
	if pending == 0 {
		t.Fatal("A had finished everything before it was killed: the takeover was not exercised")
	}
	t.Logf("A killed with %d of %d entries still to finish", pending, n+1)
	waitFor(t, "every entry ready in B's gallery after the takeover", func() bool {
		cards := b.cards(alice)
		if len(cards) != n+1 {
			return false
		}
		for _, card := range cards {
			if card.AttrOr("data-status", "") != "ready" {
				return false
			}
		}
		return true
	})
	// Nothing doubled: one upload, one thumbnail and (once made, for the
	// photos larger than the grid thumbnail) one preview per entry.
	for k := range b.cards(alice) {
		b.waitPreview(k)
	}
	perStream := map[string][]string{}
	for _, e := range b.events() {
		perStream[e.Stream] = append(perStream[e.Stream], string(e.Type))
	}
	if len(perStream) != n+1 {
		t.Errorf("%d streams, want %d", len(perStream), n+1)
	}
	for stream, types := range perStream {
		if got := lessPreview(strings.Join(types, ",")); got != string(events.MediaUploaded)+","+string(events.ThumbnailGenerated) || strings.Count(strings.Join(types, ","), "PreviewGenerated") > 1 {
			t.Errorf("stream %s: %s", stream, got)
		}
	}
}
