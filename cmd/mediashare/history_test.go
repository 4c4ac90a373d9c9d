package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"mediashare/internal/entry"
	"mediashare/internal/events"
)

// The history page and the NDJSON export list exactly the events that
// happened, newest first, with the filters applied.
func TestHistoryPageAndExport(t *testing.T) { backends(t, testHistoryPageAndExport) }

func testHistoryPageAndExport(t *testing.T, start func(func(*config)) *site) {
	s := start(func(c *config) { c.TrashRetention = 0 }) // the delete purges at once
	c := browser(t)
	for i, title := range []string{"first", "second"} {
		readBody(t, s.post(c, "/entries", uploadParts(title, "c", "p.png", "image/png", smallPNG(t, i)), false))
	}
	var first string
	for eib, card := range s.cards(c) {
		if card.Find("[data-testid=title]").Text() == "first" {
			first = eib
		}
	}
	waitFor(t, "thumbnails", func() bool { return len(s.events()) == 4 })
	readBody(t, s.post(c, "/entries/"+first+"/delete", nil, false))
	waitFor(t, "purge", func() bool { return len(s.events()) == 6 })

	log := s.events() // oldest first
	var want []string
	for i := len(log) - 1; i >= 0; i-- {
		want = append(want, log[i].Position)
	}

	doc := mustDoc(t, s.get(c, "/history"))
	var got []string
	doc.Find(`[data-testid=event]`).Each(func(_ int, r *goquery.Selection) { got = append(got, r.AttrOr("data-position", "")) })
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("history page positions %v, want %v", got, want)
	}
	// The deleted entry is named but no longer linked; the other is linked.
	doc.Find(`[data-testid=event]`).Each(func(_ int, r *goquery.Selection) {
		linked := r.Find(`[data-testid=entry-link]`).Length() == 1
		if deleted := r.AttrOr("data-eib", "") == first; linked == deleted {
			t.Errorf("event %s of %s: linked=%v", r.AttrOr("data-type", ""), r.AttrOr("data-eib", ""), linked)
		}
		if title := r.Find("td").Eq(3).Text(); title != "first" && title != "second" {
			t.Errorf("event %s: title %q", r.AttrOr("data-type", ""), title)
		}
	})

	tests := []struct {
		name, query string
		keep        func(e events.Event) bool
	}{
		{"all", "", func(events.Event) bool { return true }},
		{"by type", "?type=MediaUploaded", func(e events.Event) bool { return e.Type == events.MediaUploaded }},
		{"by entry", "?entry=" + first, func(e events.Event) bool { return e.Stream == first }},
		{"by both", "?type=MediaDeleted&entry=" + first, func(e events.Event) bool { return e.Stream == first && e.Type == events.MediaDeleted }},
	}
	// The export shows uploads with their sealed fields opened, as the
	// entry aggregate reads them with the site's keys.
	for i, e := range log {
		r, err := entry.Reveal(context.Background(), e, s.app.backend.Keys)
		if err != nil {
			t.Fatal(err)
		}
		if e.Type == events.MediaUploaded && (e.Schema != events.SealedSchema || strings.Contains(string(e.Data), `"title":"first"`)) {
			t.Errorf("the stored upload is not sealed: schema %d %s", e.Schema, e.Data)
		}
		log[i] = r
	}
	for _, tt := range tests {
		var want []events.Record
		for i := len(log) - 1; i >= 0; i-- {
			if tt.keep(log[i]) {
				want = append(want, log[i].Record())
			}
		}
		resp := s.get(c, "/history.ndjson"+tt.query)
		if ct := resp.Header.Get("Content-Type"); ct != "application/x-ndjson" {
			t.Errorf("%s: Content-Type %q", tt.name, ct)
		}
		var got []events.Record
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var r events.Record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: line %q: %v", tt.name, sc.Text(), err)
			}
			got = append(got, r)
		}
		resp.Body.Close()
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if string(gj) != string(wj) {
			t.Errorf("%s: export\n got %s\nwant %s", tt.name, gj, wj)
		}
		page := mustDoc(t, s.get(c, "/history"+tt.query)).Find(`[data-testid=event]`).Length()
		if page != len(want) {
			t.Errorf("%s: the page lists %d events, want %d", tt.name, page, len(want))
		}
	}
	for _, bad := range []string{"?type=Nonsense", "?entry=../../x"} {
		resp := s.get(c, "/history"+bad)
		readBody(t, resp)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET /history%s: %d, want 400", bad, resp.StatusCode)
		}
	}
}
