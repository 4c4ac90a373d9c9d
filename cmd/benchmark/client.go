package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"sync"
	"time"
)

// client is one browser: a cookie jar (its owner cookie) and keep-alive
// connections.
func client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}, Timeout: 5 * time.Minute}
}

// multipartBody is an upload form with one file.
func multipartBody(title, filename string, data []byte) (*bytes.Buffer, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("title", title)
	w.WriteField("comment", "benchmark")
	part, _ := w.CreateFormFile("file", filename)
	part.Write(data)
	w.Close()
	return &buf, w.FormDataContentType()
}

var eibRe = regexp.MustCompile(`data-eib="([^"]+)"`)

// upload posts one file as htmx does and returns the new entry's eib.
func upload(c *http.Client, url, title, filename string, data []byte) (string, error) {
	body, ct := multipartBody(title, filename, data)
	req, err := http.NewRequest("POST", url+"/entries", body)
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("HX-Request", "true")
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("upload %s: %d %s", filename, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	m := eibRe.FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("upload %s: no card in the answer", filename)
	}
	return string(m[1]), nil
}

// watcher is a second client on /live: it notes when each entry's card
// first arrives as ready.
type watcher struct {
	cancel context.CancelFunc
	mu     sync.Mutex
	ready  map[string]time.Time
	failed map[string]bool
	wake   chan struct{}
	err    error
}

var cardRe = regexp.MustCompile(`data-eib="([^"]+)"[^>]*data-status="([a-z]+)"`)

func watch(url string) (*watcher, error) {
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/live", nil)
	c := client()
	c.Timeout = 0
	resp, err := c.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		cancel()
		resp.Body.Close()
		return nil, fmt.Errorf("GET /live: %d", resp.StatusCode)
	}
	w := &watcher{cancel: cancel, ready: map[string]time.Time{}, failed: map[string]bool{}, wake: make(chan struct{}, 1)}
	go func() {
		defer resp.Body.Close()
		r := bufio.NewReaderSize(resp.Body, 1<<16)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				w.mu.Lock()
				w.err = err
				w.mu.Unlock()
				return
			}
			if !strings.HasPrefix(l, "data: ") {
				continue
			}
			now := time.Now()
			for _, m := range cardRe.FindAllStringSubmatch(l, -1) {
				if m[2] != "ready" && m[2] != "failed" {
					continue
				}
				w.mu.Lock()
				if _, ok := w.ready[m[1]]; !ok {
					w.ready[m[1]] = now
					w.failed[m[1]] = m[2] == "failed"
				}
				w.mu.Unlock()
				select {
				case w.wake <- struct{}{}:
				default:
				}
			}
		}
	}()
	return w, nil
}

// wait returns when eib was seen ready, or fails after limit.
func (w *watcher) wait(eib string, limit time.Duration) (time.Time, error) {
	deadline := time.After(limit)
	for {
		w.mu.Lock()
		at, ok := w.ready[eib]
		failed, err := w.failed[eib], w.err
		w.mu.Unlock()
		if ok && failed {
			return at, fmt.Errorf("entry %s: the thumbnail failed (see the serve log)", eib)
		}
		if ok {
			return at, nil
		}
		if err != nil {
			return time.Time{}, fmt.Errorf("live stream ended: %w", err)
		}
		select {
		case <-w.wake:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			return time.Time{}, fmt.Errorf("entry %s not ready on /live within %s", eib, limit)
		}
	}
}

func (w *watcher) close() { w.cancel() }
