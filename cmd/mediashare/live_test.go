package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

type sseEvent struct{ id, event, data string }

// sseClient reads a /live stream.
type sseClient struct {
	t      testing.TB
	events chan sseEvent
	cancel func()
}

func openLive(t testing.TB, s *site, c *http.Client, lastID string) *sseClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", s.url+"/live", nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := (&http.Client{Jar: c.Jar}).Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		cancel()
		t.Fatalf("GET /live: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := &sseClient{t: t, events: make(chan sseEvent, 100), cancel: func() { cancel(); resp.Body.Close() }}
	go func() {
		defer close(sc.events)
		r := bufio.NewReader(resp.Body)
		var ev sseEvent
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case line == "":
				if ev.event != "" {
					sc.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				if ev.data != "" {
					ev.data += "\n"
				}
				ev.data += line[6:]
			}
		}
	}()
	t.Cleanup(sc.cancel)
	return sc
}

// next returns the next entry message, or fails after the timeout.
func (sc *sseClient) next(timeout time.Duration) sseEvent {
	sc.t.Helper()
	select {
	case ev, ok := <-sc.events:
		if !ok {
			sc.t.Fatal("the live stream ended")
		}
		return ev
	case <-time.After(timeout):
		sc.t.Fatal("no live message within", timeout)
	}
	return sseEvent{}
}

func cardIn(t testing.TB, data string) (eib, status string, deleted bool) {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if del := doc.Find(`[hx-swap-oob=delete][id^=entry-]`); del.Length() > 0 {
		return strings.TrimPrefix(del.AttrOr("id", ""), "entry-"), "", true
	}
	card := doc.Find(`[data-testid=card][hx-swap-oob=true]`)
	if card.Length() != 1 || doc.Find(`[hx-swap-oob="afterbegin:#cards"] [data-testid=card]`).Length() != 1 {
		t.Fatalf("live message is not an upsert of one card: %s", data)
	}
	return card.AttrOr("data-eib", ""), card.AttrOr("data-status", ""), false
}

// The live stream carries every change of an entry, in order, and a
// reconnect with Last-Event-ID replays what was missed exactly once.
func TestLiveStreamAndReplay(t *testing.T) { backends(t, testLiveStreamAndReplay) }

func testLiveStreamAndReplay(t *testing.T, start func(func(*config)) *site) {
	s := start(nil)
	c := browser(t)
	sc := openLive(t, s, c, "")
	resp := s.post(c, "/entries", uploadParts("live one", "c", "p.png", "image/png", smallPNG(t, 3)), false)
	readBody(t, resp)

	var eib string
	var ids []string
	// One message per change (the upload, then the thumbnail), each
	// rendering the card as it is when sent: processing, then ready (or
	// ready twice, when the thumbnail landed before the first was sent).
	for len(ids) < 2 {
		ev := sc.next(10 * time.Second)
		id, status, _ := cardIn(t, ev.data)
		if ev.event != "entry" || (status != "processing" && status != "ready") {
			t.Fatalf("message %q with status %q, want an entry message", ev.event, status)
		}
		if eib == "" {
			eib = id
		}
		if id != eib {
			t.Fatalf("message about %s, want %s", id, eib)
		}
		if len(ids) == 1 && status != "ready" {
			t.Fatalf("the second message has status %q, want ready", status)
		}
		ids = append(ids, ev.id)
	}
	if !(ids[0] < ids[1]) {
		t.Errorf("message ids do not increase: %v", ids)
	}

	// Disconnect, change things while away, reconnect from the last id.
	sc.cancel()
	resp = s.post(c, "/entries/"+eib+"/delete", nil, false)
	readBody(t, resp)
	resp = s.post(c, "/entries", uploadParts("while away", "c", "p.png", "image/png", smallPNG(t, 4)), false)
	readBody(t, resp)
	time.Sleep(300 * time.Millisecond)
	if s.cfg.Backend == "aws" {
		time.Sleep(2 * time.Second) // the change log shows changes once they settle
	}

	again := openLive(t, s, c, ids[1])
	ev := again.next(5 * time.Second)
	if id, _, deleted := cardIn(t, ev.data); !deleted || id != eib {
		t.Fatalf("first replayed message: %s, want the deletion of %s", ev.data, eib)
	}
	// Then the new entry's changes, each once, in order, rendered as the
	// entry is now; then silence.
	prev := ev.id
	var newStatus string
	for {
		select {
		case ev, ok := <-again.events:
			if !ok {
				t.Fatal("the stream ended")
			}
			if !(ev.id > prev) {
				t.Fatalf("message %s after %s: duplicated or out of order", ev.id, prev)
			}
			prev = ev.id
			if id, status, deleted := cardIn(t, ev.data); !deleted && id != eib {
				newStatus = status
			}
			continue
		case <-time.After(500 * time.Millisecond):
		}
		break
	}
	if newStatus != "ready" {
		t.Errorf("the entry uploaded while away arrived as %q, want ready", newStatus)
	}
}

// A browser back after the change log forgot where it was is told to
// reload instead of being given an incomplete replay.
func TestLiveAsksForAReloadWhenTheLogForgot(t *testing.T) {
	s := startSite(t, func(c *config) { awsConfig(t, c) })
	old := fmt.Sprintf("%013d#01M8AAAAAAAAAAAAAAAAAAAAAA#%010d", time.Now().Add(-48*time.Hour).UnixMilli(), 1)
	sc := openLive(t, s, browser(t), old)
	if ev := sc.next(5 * time.Second); ev.event != "reload" {
		t.Fatalf("first message %q, want reload", ev.event)
	}
	select {
	case _, open := <-sc.events:
		if open {
			t.Error("the stream went on after asking for a reload")
		}
	case <-time.After(5 * time.Second):
		t.Error("the stream stayed open after asking for a reload")
	}
}
