// Package views holds mediashare's templ components: the layout, the
// gallery and its cards, the upload form, the entry page and error pages.
// Components receive plain data; they never call storage.
package views

import (
	"context"
	"fmt"
	"strings"
	"time"

	"mediashare/internal/events"
	"mediashare/internal/gallery"
	"mediashare/internal/ids"
	"mediashare/internal/projections"
)

// Page is what every full page needs.
type Page struct {
	Asset  func(name string) string // hashed static URL
	Viewer string                   // the visitor's owner id
	Title  string
}

// UploadForm is the upload form's state: values to keep and the error to show.
type UploadForm struct {
	Title, Comment string
	Error          string
	Field          string // which field the error concerns
	MaxBytes       int64
	Notice         string // e.g. "Uploaded. Your picture is being processed."
	Files          []FileResult
}

// FileResult is the outcome of one file of a several-file upload.
type FileResult struct {
	Name  string
	OK    bool
	Error string
}

// Gallery is the home page.
type Gallery struct {
	Entries []projections.Entry
	Next    string // cursor of the next page
	Form    UploadForm
	Viewer  string
	// LiveFrom is the change log position the page reflects: the live
	// stream starts after it, so no change between render and connect is lost.
	LiveFrom string
}

// EntryPage is one entry with its history.
type EntryPage struct {
	Entry   projections.Entry
	History []events.Event
	Viewer  string
}

// HistoryPage is one page of the audit log.
type HistoryPage struct {
	Rows        []gallery.AuditRow
	Type, Entry string // the filters
	Older       string // URL of the next (older) page, "" at the end
	NDJSONURL   string
}

type mediaBaseKey struct{}

// DefaultMediaBase is where mediashare itself serves media.
const DefaultMediaBase = "/media/"

// WithMediaBase says where browsers fetch media for what is rendered
// with ctx: mediashare's /media/ (the default), or a bucket's or CDN's URL.
func WithMediaBase(ctx context.Context, base string) context.Context {
	return context.WithValue(ctx, mediaBaseKey{}, base)
}

// MediaURL is where a browser fetches a blob.
func MediaURL(ctx context.Context, key string) string {
	base, _ := ctx.Value(mediaBaseKey{}).(string)
	if base == "" {
		base = DefaultMediaBase
	}
	return base + key
}

// EntryURL is an entry's page.
func EntryURL(eib string) string { return "/entries/" + eib }

func moreURL(cursor string) string { return "/?after=" + cursor }

func thumbSrcset(ctx context.Context, e projections.Entry) string {
	return fmt.Sprintf("%s %dw, %s %dw", MediaURL(ctx, e.Thumbnail), e.ThumbWidth, MediaURL(ctx, e.Preview), e.PreviewWidth)
}

func previewSrcset(ctx context.Context, e projections.Entry) string { return thumbSrcset(ctx, e) }

// newRequestID names one sending of the upload form, so that a retried
// request (a lost response, a double click) makes its entries only once.
func newRequestID() string { return ids.New(time.Now()) }

func cardID(eib string) string { return "entry-" + eib }

func liveURL(from string) string {
	if from == "" {
		return "/live"
	}
	return "/live?last=" + from
}

func stamp(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 UTC") }

func iso(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// HumanBytes formats a size for people.
func HumanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func dims(w, h int) string { return fmt.Sprintf("%d × %d px", w, h) }

func placeholderStyle(e projections.Entry) string {
	if len(e.Placeholder) == 7 && e.Placeholder[0] == '#' && strings.Trim(e.Placeholder[1:], "0123456789abcdefABCDEF") == "" {
		return "background-color:" + e.Placeholder
	}
	return ""
}

func mine(e projections.Entry, viewer string) bool { return viewer != "" && e.Owner == viewer }

func statusLabel(s projections.Status) string {
	switch s {
	case projections.Processing:
		return "processing"
	case projections.Ready:
		return "ready"
	case projections.Failed:
		return "no preview"
	}
	return string(s)
}

// describe summarises an event for the history table.
func describe(e events.Event) string {
	switch e.Type {
	case events.MediaUploaded:
		var p events.Uploaded
		if e.Decode(&p) == nil {
			return fmt.Sprintf("%q, %s, %s, %s", p.Title, p.ContentType, HumanBytes(p.Size), dims(p.Width, p.Height))
		}
	case events.ThumbnailGenerated:
		var p events.ThumbnailsGenerated
		if e.Decode(&p) == nil && len(p.Thumbnails) > 0 {
			return fmt.Sprintf("%s in %d ms", dims(p.Thumbnails[0].Width, p.Thumbnails[0].Height), p.Millis)
		}
	case events.ThumbnailFailed:
		var p events.ThumbnailFailure
		if e.Decode(&p) == nil {
			return p.Reason
		}
	case events.MediaDeleted:
		var p events.Deleted
		if e.Decode(&p) == nil {
			return "by " + p.Reason
		}
	case events.MediaPurged:
		var p events.Purged
		if e.Decode(&p) == nil {
			return fmt.Sprintf("%d files removed", len(p.Keys))
		}
	}
	return ""
}

func actorLabel(a events.Actor) string {
	s := string(a)
	if owner, ok := strings.CutPrefix(s, "owner:"); ok {
		if len(owner) > 8 {
			owner = owner[:8]
		}
		return "owner " + owner
	}
	return s
}
