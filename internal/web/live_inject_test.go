package web_test

import (
	"bufio"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"mediashare/internal/blob/fileblob"
	"mediashare/internal/live"
	"mediashare/internal/metrics"
	"mediashare/internal/web"
	"mediashare/static"
)

// A card whose text holds lone CRs must not start fields of its own in the
// event stream (a lone CR ends an SSE line): every line of its data is a
// data: line, and the stream carries exactly the one event published.
func TestLiveDataCannotInjectFields(t *testing.T) {
	blobs, err := fileblob.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	hub := live.NewHub(8)
	s := &web.Server{
		Gallery: newFake(), Blobs: blobs, Metrics: metrics.New(), Assets: static.New(),
		Owners: &web.Owners{Keys: [][]byte{[]byte("test key for owner cookies")}},
		Live:   hub, Changes: noChanges{}, Done: make(chan struct{}), Log: slog.New(slog.DiscardHandler),
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/live")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /live: %s", res.Status)
	}
	// Publish until the subscription exists (it subscribes before replying).
	evil := "<p>x\r\rid: 9\revent: reload\rdata: y\r</p>\r\nend"
	done := make(chan struct{})
	defer close(done)
	go func() {
		// Ids rise: the stream sends each id once.
		for id := 100; ; id++ {
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
				hub.Publish(live.Message{ID: fmt.Sprint(id), Event: "upsert", Data: evil})
			}
		}
	}()
	sc := bufio.NewScanner(res.Body)
	sc.Split(splitSSELines)
	// Read from the first event to the third: everything in between must
	// be the published events' own fields, the card's text only in data:.
	deadline := time.AfterFunc(10*time.Second, func() { res.Body.Close() })
	defer deadline.Stop()
	seen, lines := 0, []string{}
	for sc.Scan() && seen < 3 {
		line := sc.Text()
		if ours(line) {
			seen++
		}
		if seen > 0 {
			lines = append(lines, line)
		}
	}
	if seen < 3 {
		t.Fatalf("only %d events arrived: %q", seen, lines)
	}
	for _, l := range lines {
		switch {
		case l == "", ours(l), l == "event: upsert", strings.HasPrefix(l, "data: "), l == "data:", strings.HasPrefix(l, ":"):
		default:
			t.Errorf("the card's text started a field of its own: %q", l)
		}
	}
}

// ours reports an id line of the test's own events (100 and up).
func ours(line string) bool {
	n, err := strconv.Atoi(strings.TrimPrefix(line, "id: "))
	return strings.HasPrefix(line, "id: ") && err == nil && n >= 100
}

// splitSSELines splits as a browser's EventSource does: CRLF, LF or a lone CR
// each end a line.
func splitSSELines(data []byte, atEOF bool) (int, []byte, error) {
	for i, b := range data {
		switch b {
		case '\n':
			return i + 1, data[:i], nil
		case '\r':
			if i+1 < len(data) {
				if data[i+1] == '\n' {
					return i + 2, data[:i], nil
				}
				return i + 1, data[:i], nil
			}
			if atEOF {
				return i + 1, data[:i], nil
			}
			return 0, nil, nil // a CR at the end: wait to see if LF follows
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}
