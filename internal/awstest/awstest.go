// Package awstest is the test harness of the AWS adapters: it runs one
// moto server (DynamoDB, DynamoDB Streams and S3 over HTTP) per test
// binary and hands out clients configured for it.
//
// A package that uses it stops the server in TestMain:
//
//	func TestMain(m *testing.M) { code := m.Run(); awstest.Stop(); os.Exit(code) }
package awstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// RequireEnv names the variable that turns a missing moto_server from a
// skip into a failure (CI sets it).
const RequireEnv = "MEDIASHARE_REQUIRE_INTEGRATION"

// Region is the region of every client the harness makes.
const Region = "us-east-1"

var (
	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{} // closed when cmd has exited
	endpoint string
	startErr error
	started  bool
)

// Moto returns the URL of this test binary's moto server, starting it on
// a free loopback port the first time. Without moto_server on PATH the
// test is skipped, or fails when MEDIASHARE_REQUIRE_INTEGRATION=1.
func Moto(t testing.TB) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if !started {
		started = true
		endpoint, startErr = start()
	}
	if startErr == errNoMoto {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatal("moto_server not found: install with pip install 'moto[server]==5.2.1'")
		}
		t.Skip("moto_server not found on PATH; skipping the AWS integration test (pip install 'moto[server]==5.2.1', or set " + RequireEnv + "=1 to fail instead)")
	}
	if startErr != nil {
		t.Fatalf("awstest: start moto_server: %v", startErr)
	}
	return endpoint
}

var errNoMoto = fmt.Errorf("moto_server not found")

// NewMoto starts a moto server of the test's own, on a free loopback
// port, and stops it when the test ends. Use it where a test changes the
// server's process-wide state (moto's IAM enforcement, switched on with
// POST /moto-api/reset-auth, applies to every request it serves). Without
// moto_server on PATH the test is skipped, or fails when
// MEDIASHARE_REQUIRE_INTEGRATION=1.
func NewMoto(t testing.TB) string {
	t.Helper()
	c, done, url, err := startServer()
	if err == errNoMoto {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatal("moto_server not found: install with pip install 'moto[server]==5.2.1'")
		}
		t.Skip("moto_server not found on PATH; skipping the AWS integration test (pip install 'moto[server]==5.2.1', or set " + RequireEnv + "=1 to fail instead)")
	}
	if err != nil {
		t.Fatalf("awstest: start moto_server: %v", err)
	}
	t.Cleanup(func() { kill(c, done) })
	return url
}

func start() (string, error) {
	c, done, url, err := startServer()
	if err != nil {
		return "", err
	}
	cmd, exited = c, done
	return url, nil
}

// startServer starts moto_server and waits until it answers.
func startServer() (*exec.Cmd, chan struct{}, string, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, nil, "", errNoMoto
	}
	port, err := freePort()
	if err != nil {
		return nil, nil, "", err
	}
	c := exec.Command(bin, "-H", "127.0.0.1", "-p", port)
	// Its own process group, so Stop reaches the Python process behind a
	// pyenv shim; and killed with us if the test binary dies first.
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	var out strings.Builder
	c.Stdout, c.Stderr = &out, &out
	if err := c.Start(); err != nil {
		return nil, nil, "", err
	}
	done := make(chan struct{})
	go func() { c.Wait(); close(done) }()
	url := "http://127.0.0.1:" + port
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return nil, nil, "", fmt.Errorf("moto_server exited: %s", out.String())
		default:
		}
		resp, err := http.Get(url + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			front, err := serialize(url)
			if err != nil {
				kill(c, done)
				return nil, nil, "", err
			}
			return c, done, front, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	kill(c, done)
	return nil, nil, "", fmt.Errorf("moto_server did not answer on %s within 60 s: %s", url, out.String())
}

// serialize starts a proxy in front of the moto server at target that
// hands it one request at a time, and returns the proxy's URL. moto's
// threaded server checks a condition and then writes without a lock, so
// concurrent conditional writes can all succeed (seen: 3 of 8 concurrent
// consumes of one invite, two consumers both holding one lease), where
// DynamoDB applies each atomically. One request at a time gives the
// tests DynamoDB's guarantee; the Host header is kept as signed.
func serialize(target string) (string, error) {
	u, err := url.Parse(target)
	if err != nil {
		return "", err
	}
	rp := &httputil.ReverseProxy{FlushInterval: -1, Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(u)
		pr.Out.Host = pr.In.Host // SigV4 signs the Host the client used
	}}
	var one sync.Mutex
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		one.Lock()
		defer one.Unlock()
		rp.ServeHTTP(w, r)
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	return "http://" + l.Addr().String(), nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}

// Stop ends the moto server, if one was started. Call it from TestMain.
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	stopLocked()
}

func stopLocked() {
	if cmd == nil || cmd.Process == nil {
		return
	}
	kill(cmd, exited)
	cmd = nil
}

// kill ends a moto server's process group: SIGTERM, then SIGKILL after 3 s.
func kill(c *exec.Cmd, done chan struct{}) {
	syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// Credentials are moto's static test credentials.
var Credentials = credentials.NewStaticCredentialsProvider("test", "test", "")

// Config returns an AWS configuration for the moto server at endpoint:
// static credentials and region set as options, never through the
// process environment, so parallel test binaries do not clash.
func Config(t testing.TB, endpoint string) aws.Config {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(Region),
		config.WithCredentialsProvider(Credentials),
		config.WithBaseEndpoint(endpoint),
	)
	if err != nil {
		t.Fatalf("awstest: aws config: %v", err)
	}
	return cfg
}

// Name returns a unique, lowercase name for a table or bucket, beginning
// with prefix (which should be short and lowercase).
func Name(prefix string) string {
	var b [6]byte
	rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}
