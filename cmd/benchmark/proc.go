package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// bench holds what the figures share: the options, a temporary
// directory, and the seeded data directory of 10,000 entries.
type bench struct {
	options
	tmp    string
	seeded string // a data directory with o.entries entries, made once
	eibs   []string
}

func (b *bench) close() {
	if b.tmp != "" && b.keep {
		fmt.Fprintln(os.Stderr, "benchmark: kept", b.tmp)
		b.tmp = ""
	} else if b.tmp != "" {
		os.RemoveAll(b.tmp)
		b.tmp = ""
	}
}

// dir makes a fresh directory under the bench's temporary directory.
func (b *bench) dir(name string) (string, error) {
	if b.tmp == "" {
		t, err := os.MkdirTemp("", "mediashare-bench")
		if err != nil {
			return "", err
		}
		b.tmp = t
	}
	return os.MkdirTemp(b.tmp, name)
}

// server is a running `mediashare serve` process.
type server struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
	logs *os.File
}

// serve starts `mediashare serve` on data with the extra flags, and
// returns once it listens.
func (b *bench) serve(data string, flags ...string) (*server, error) {
	logs, err := os.Create(filepath.Join(data, "serve.log"))
	if err != nil {
		return nil, err
	}
	// Anyone may upload (the original lab's site): the figures measure
	// the upload path, not signing in.
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--log-format", "json", "--uploads", "anyone"}, flags...)
	args = append(args, strings.Fields(b.serveFlags)...)
	cmd := exec.Command(b.bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", b.bin, err)
	}
	s := &server{cmd: cmd, done: make(chan struct{}), logs: logs}
	addr := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stderr)
		sent := false
		for {
			l, err := r.ReadString('\n')
			logs.WriteString(l)
			if !sent && strings.Contains(l, "mediashare is serving") {
				var rec struct{ Addr string }
				if json.Unmarshal([]byte(l), &rec) == nil && rec.Addr != "" {
					addr <- rec.Addr
					sent = true
				}
			}
			if err != nil {
				return
			}
		}
	}()
	go func() { cmd.Wait(); close(s.done) }()
	select {
	case a := <-addr:
		s.url = a
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("mediashare serve exited: see %s", logs.Name())
	case <-time.After(60 * time.Second):
		s.stop()
		return nil, errors.New("mediashare serve did not listen within 60 s")
	}
}

// stop ends the server (SIGTERM, then SIGKILL).
func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.logs.Close()
}

// status reads a field of /proc/PID/status in KiB (VmHWM: peak RSS).
func (s *server) status(field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, s.cmd.Process.Pid)
}

// cpu is the process's CPU time so far.
func (s *server) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which ends with ')'): utime is the 12th, stime the 13th.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * time.Second / 100 // USER_HZ
}

// settle waits until the server is idle (its consumers have caught up):
// less than 5% of a core over half a second, for at most limit.
func (s *server) settle(limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		before := s.cpu()
		time.Sleep(500 * time.Millisecond)
		if s.cpu()-before < 25*time.Millisecond {
			return
		}
	}
}

// run runs a command and returns its wall time.
func run(name string, args ...string) (time.Duration, error) {
	cmd := exec.Command(name, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, out.String())
	}
	return took, nil
}

func runOut(name string, args ...string) ([]byte, error) {
	return exec.Command(name, args...).CombinedOutput()
}
