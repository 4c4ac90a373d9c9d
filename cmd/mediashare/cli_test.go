package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"mediashare/internal/events"
)

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestEventsCommandPrintsAndFollows(t *testing.T) {
	s := startSite(t, nil)
	c := browser(t)
	readBody(t, s.post(c, "/entries", uploadParts("one", "c", "p.png", "image/png", smallPNG(t, 1)), false))
	waitFor(t, "thumbnail", func() bool { return len(s.events()) == 2 })

	var out bytes.Buffer
	if err := run(context.Background(), []string{"events", "--json", "--data", s.data}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var types []string
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var r events.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		types = append(types, string(r.Type))
	}
	if got := strings.Join(types, ","); got != "MediaUploaded,ThumbnailGenerated" {
		t.Errorf("events --json: %s", got)
	}

	// --follow prints what is appended later, until interrupted.
	ctx, cancel := context.WithCancel(context.Background())
	var follow syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"events", "--follow", "--data", s.data}, &follow, io.Discard) }()
	readBody(t, s.post(c, "/entries", uploadParts("two", "c", "p.png", "image/png", smallPNG(t, 2)), false))
	waitFor(t, "followed events", func() bool { return strings.Count(follow.String(), "\n") == 4 })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("events --follow returned %v", err)
	}
	if lines := strings.Split(strings.TrimSpace(follow.String()), "\n"); !strings.Contains(lines[3], "ThumbnailGenerated") {
		t.Errorf("last followed line %q", lines[3])
	}
}

func TestReplayCommandRebuildsTheView(t *testing.T) {
	s := startSite(t, nil)
	c := browser(t)
	for i := 0; i < 3; i++ {
		readBody(t, s.post(c, "/entries", uploadParts(fmt.Sprint("p", i), "c", "p.png", "image/png", smallPNG(t, i)), false))
	}
	waitFor(t, "every card ready", func() bool {
		cards := s.cards(c)
		for _, card := range cards {
			if card.AttrOr("data-status", "") != "ready" {
				return false
			}
		}
		return len(cards) == 3
	})
	before := galleryHTML(t, s)
	s.stop()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"replay", "--data", s.data}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "replayed 6 events") {
		t.Errorf("replay said %q", out.String())
	}
	s2 := startSite(t, func(cfg *config) { cfg.Data = s.data })
	time.Sleep(100 * time.Millisecond)
	if after := galleryHTML(t, s2); after != before {
		t.Errorf("gallery after replay differs:\n got %s\nwant %s", after, before)
	}
}

// galleryHTML is the markup of the gallery's cards.
func galleryHTML(t *testing.T, s *site) string {
	t.Helper()
	var b strings.Builder
	mustDoc(t, s.get(browser(t), "/")).Find(`[data-testid=card]`).Each(func(_ int, card *goquery.Selection) {
		h, _ := goquery.OuterHtml(card)
		b.WriteString(h)
	})
	return b.String()
}

// `mediashare replay --backend aws` rebuilds the DynamoDB view (a bulk
// load) while a serving instance runs: the gallery comes back as it was,
// and the instance's live projector goes on projecting afterwards.
func TestReplayOnAWSBesideAServingInstance(t *testing.T) {
	s := startSite(t, func(c *config) { awsConfig(t, c) })
	c := browser(t)
	for i := 0; i < 3; i++ {
		readBody(t, s.post(c, "/entries", uploadParts(fmt.Sprint("p", i), "c", "p.png", "image/png", smallPNG(t, i)), false))
	}
	allReady := func(n int) func() bool {
		return func() bool {
			cards := s.cards(c)
			for _, card := range cards {
				if card.AttrOr("data-status", "") != "ready" {
					return false
				}
			}
			return len(cards) == n
		}
	}
	waitFor(t, "every card ready", allReady(3))
	before := galleryHTML(t, s)
	a := s.cfg.AWS
	var out bytes.Buffer
	args := []string{"replay", "--backend", "aws", "--bucket", a.Bucket, "--table", a.Table, "--events-table", a.EventsTable,
		"--region", a.Region, "--endpoint", a.Endpoint, "--s3-path-style"}
	if err := run(context.Background(), args, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "replayed 6 events") {
		t.Errorf("replay said %q", out.String())
	}
	waitFor(t, "the gallery as before the replay", func() bool { return galleryHTML(t, s) == before })
	readBody(t, s.post(c, "/entries", uploadParts("after", "c", "p.png", "image/png", smallPNG(t, 9)), false))
	waitFor(t, "the upload after the replay ready", allReady(4))
}
