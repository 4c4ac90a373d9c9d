package web_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"mediashare/internal/events"
	"mediashare/internal/projections"
)

// entryOf stores an entry of the content type and size, with events after
// its upload, in the fake gallery (row projected by projections.Apply).
func entryOf(t *testing.T, s *site, eib, contentType string, w, h int, extra ...events.Event) {
	t.Helper()
	up, err := events.New("e1", events.MediaUploaded, eib, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), events.OwnerActor(s.owner), events.Uploaded{
		Title: "Phone", Comment: "c", MediaType: "image", ContentType: contentType, Size: 2048, Width: w, Height: h, Original: eib + ".img", Owner: s.owner,
	})
	if err != nil {
		t.Fatal(err)
	}
	up.Version = 1
	s.fake.history[eib] = append([]events.Event{up}, extra...)
	row := projections.Entry{}
	for _, e := range s.fake.history[eib] {
		if row, _, err = projections.Apply(context.Background(), nil, row, e); err != nil {
			t.Fatal(err)
		}
	}
	s.fake.rows[eib] = row
}

func gridMade(t *testing.T, eib string) events.Event {
	return event(t, 2, events.ThumbnailGenerated, eib, events.SystemActor, events.ThumbnailsGenerated{
		Thumbnails: []events.Thumb{{Key: eib + ".img-tn.png", Width: 320, Height: 213, ContentType: "image/png", Size: 9}}, Placeholder: "#102030", Millis: 40})
}

func previewMade(t *testing.T, eib string) events.Event {
	return event(t, 3, events.PreviewGenerated, eib, events.SystemActor, events.PreviewMade{
		Preview: events.Thumb{Key: eib + ".img-preview.jpg", Width: 1280, Height: 853, ContentType: "image/jpeg", Size: 99}, Millis: 120})
}

// The entry page shows the preview once it is made; before, the original
// for a type browsers show, or for HEIC the grid thumbnail with a note
// that says a larger one is on its way; the history shows the new event.
func TestEntryPageBeforeAndAfterThePreview(t *testing.T) {
	s := newSite(t)
	const (
		jpegPending = "01JDWEB0000000000000000011"
		heicPending = "01JDWEB0000000000000000012"
		heicDone    = "01JDWEB0000000000000000013"
		heicSmall   = "01JDWEB0000000000000000014"
	)
	entryOf(t, s, jpegPending, "image/jpeg", 1920, 1280, gridMade(t, jpegPending))
	entryOf(t, s, heicPending, "image/heic", 1920, 1280, gridMade(t, heicPending))
	entryOf(t, s, heicDone, "image/heic", 1920, 1280, gridMade(t, heicDone), previewMade(t, heicDone))
	entryOf(t, s, heicSmall, "image/heic", 320, 213, gridMade(t, heicSmall))
	for _, tt := range []struct {
		eib, shows, src, note, history string
	}{
		{jpegPending, "original", jpegPending + ".img", "", "MediaUploaded,ThumbnailGenerated"},
		{heicPending, "preview", heicPending + ".img-tn.png", "the larger preview is still being made", "MediaUploaded,ThumbnailGenerated"},
		{heicDone, "preview", heicDone + ".img-preview.jpg", "", "MediaUploaded,ThumbnailGenerated,PreviewGenerated"},
		{heicSmall, "preview", heicSmall + ".img-tn.png", "This is the thumbnail: browsers do not show HEIC", "MediaUploaded,ThumbnailGenerated"},
	} {
		w := s.do(t, httptest.NewRequest("GET", "/entries/"+tt.eib, nil))
		if w.Code != 200 {
			t.Fatalf("%s: status %d", tt.eib, w.Code)
		}
		d := doc(t, w)
		img := d.Find(`figure [data-testid=` + tt.shows + `]`)
		if img.Length() != 1 || !strings.HasSuffix(img.AttrOr("src", ""), "/"+tt.src) {
			t.Errorf("%s: figure shows %d [data-testid=%s] with src %q, want %s", tt.eib, img.Length(), tt.shows, img.AttrOr("src", ""), tt.src)
		}
		note := d.Find(`[data-testid=preview-note]`)
		if got := note.Length() == 1; got != (tt.note != "") || !strings.Contains(note.Text(), tt.note) {
			t.Errorf("%s: note %q, want one saying %q", tt.eib, strings.TrimSpace(note.Text()), tt.note)
		}
		var types []string
		d.Find(`[data-testid=event]`).Each(func(_ int, r *goquery.Selection) { types = append(types, r.AttrOr("data-type", "")) })
		if got := strings.Join(types, ","); got != tt.history {
			t.Errorf("%s: history %s, want %s", tt.eib, got, tt.history)
		}
		if tt.eib == heicDone {
			if got := d.Find(`[data-testid=event]`).Eq(2).Find("td").Eq(4).Text(); got != "preview 1280 × 853 px in 120 ms" {
				t.Errorf("PreviewGenerated details: got %q", got)
			}
			if !strings.Contains(img.AttrOr("srcset", ""), "1280w") {
				t.Errorf("the preview has no srcset: %q", img.AttrOr("srcset", ""))
			}
		}
	}
}
