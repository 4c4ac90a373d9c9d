// Package views holds mediashare's templ components: the layout, the
// gallery and its cards, the upload form, the entry page and error pages.
// Components receive view models (the types below), built outside views
// by the web layer; they never call storage and import no domain package
// (a test in this package pins that).
package views

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Page is what every full page needs.
type Page struct {
	Asset  func(name string) string // hashed static URL
	Viewer string                   // the visitor's owner id
	Title  string
	// OwnerUnverified: the browser's owner cookie could not be verified,
	// so it owns nothing here for now (the page says so).
	OwnerUnverified bool
	// Who is signed in ("" for nobody), and whether as an admin.
	UserName string
	Admin    bool
	// FirstAdmin: the site has no account yet; the page asks for its
	// admin account.
	FirstAdmin bool
}

// UploadForm is the upload form's state: values to keep and the error to show.
type UploadForm struct {
	Title, Comment string
	Error          string
	Field          string // which field the error concerns
	MaxBytes       int64
	Notice         string // e.g. "Uploaded. Your picture is being processed."
	Files          []FileResult
	// Duplicate is set when the one file sent is one the visitor already
	// has: nothing new was stored and the notice links the entry.
	Duplicate *Duplicate
	// RequestID names one sending of the form, so that a retried request
	// (a lost response, a double click) makes its entries only once. The
	// handler mints a fresh one for every form it renders.
	RequestID string
	// SignIn: only members may upload and the visitor is not signed in;
	// the form asks them to sign in instead.
	SignIn bool
}

// FileResult is the outcome of one file of a several-file upload.
type FileResult struct {
	Name      string
	OK        bool
	Error     string
	Duplicate *Duplicate // OK, but the visitor already had it: no new entry
}

// Duplicate is an entry of the visitor's that already holds the bytes
// just sent, in the gallery or in the trash (which offers to restore it).
type Duplicate struct {
	EIB     string
	Title   string
	InTrash bool
}

// Card statuses (a card's data-status).
const (
	Processing = "processing" // uploaded, no preview yet
	Ready      = "ready"      // thumbnail made
	Failed     = "failed"     // no preview could be made
)

// EntryCard is one entry as the gallery shows it (the Card component).
type EntryCard struct {
	EIB       string
	Title     string
	Comment   string
	Timestamp time.Time // upload time
	Status    string    // Processing, Ready, Failed
	// Visible is false for an entry that is gone: the live stream removes its card.
	Visible bool

	Thumbnail                   string // blob key of the grid thumbnail
	ThumbWidth, ThumbHeight     int
	Preview                     string // blob key of the larger rendition, "" if none
	PreviewWidth, PreviewHeight int
	Placeholder                 string // "#rrggbb" while the thumbnail loads
}

// EntryDetail is one entry as its page shows it.
type EntryDetail struct {
	EntryCard
	Resource      string // blob key of the original
	ContentType   string
	Size          int64
	Width, Height int
	// PreviewPending: ready, and its larger preview is still being made
	// (after the grid thumbnail, at a lower priority).
	PreviewPending bool
	CanDelete      bool // the visitor may delete it
	DeleteToTrash  bool // deleting moves it to the trash (the trash is on)
	CanErase       bool // the visitor may erase it (shred its title, comment and file name, remove its files)
	// Reporting: the reasons a report may give (empty: no report form),
	// and the notice after one was sent.
	ReportReasons []string
	Reported      bool
	// The trash, shown to the entry's owner only.
	InTrash    bool
	TrashUntil time.Time
	CanRestore bool
	CanPurge   bool // may delete it for good now
}

// TrashPage is the visitor's trash.
type TrashPage struct {
	Entries []TrashCard
	Next    string // URL of the next page, "" at the end
	// Retention says how long the trash keeps an entry, for people.
	Retention string
}

// TrashCard is one entry in the trash.
type TrashCard struct {
	EntryCard
	Until time.Time // when it is deleted for good
}

// EventRow is one event of an entry's history or of the audit log.
type EventRow struct {
	Position string // in the audit log's order
	Stream   string // the entry's eib
	Version  int
	Type     string
	Time     time.Time
	Who      string // who did it, for people
	Details  string // what it says, for people
	// The audit log only: the entry's title and whether it is still there.
	Title  string
	Exists bool
}

// Gallery is the home page.
type Gallery struct {
	Entries []EntryCard
	Next    string // cursor of the next page
	Form    UploadForm
	// LiveFrom is the change log position the page reflects: the live
	// stream starts after it, so no change between render and connect is lost.
	LiveFrom string
}

// EntryPage is one entry with its history.
type EntryPage struct {
	Entry   EntryDetail
	History []EventRow
}

// HistoryPage is one page of the audit log.
type HistoryPage struct {
	Rows        []EventRow
	Types       []string // the event types one may filter by
	Type, Entry string   // the filters
	Older       string   // URL of the next (older) page, "" at the end
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

func thumbSrcset(ctx context.Context, e EntryCard) string {
	return fmt.Sprintf("%s %dw, %s %dw", MediaURL(ctx, e.Thumbnail), e.ThumbWidth, MediaURL(ctx, e.Preview), e.PreviewWidth)
}

func previewSrcset(ctx context.Context, e EntryCard) string { return thumbSrcset(ctx, e) }

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

// Dims formats an image's dimensions for people.
func Dims(w, h int) string { return fmt.Sprintf("%d × %d px", w, h) }

func placeholderStyle(e EntryCard) string {
	if len(e.Placeholder) == 7 && e.Placeholder[0] == '#' && strings.Trim(e.Placeholder[1:], "0123456789abcdefABCDEF") == "" {
		return "background-color:" + e.Placeholder
	}
	return ""
}

func statusLabel(s string) string {
	switch s {
	case Processing:
		return "processing"
	case Ready:
		return "ready"
	case Failed:
		return "no preview"
	}
	return s
}

// deleteConfirm is the question before a delete.
func deleteConfirm(e EntryDetail) string {
	if e.DeleteToTrash {
		return "Move “" + e.Title + "” to the trash?"
	}
	return "Delete “" + e.Title + "”? This cannot be undone."
}

// AdminPage is the admins' moderation queue.
type AdminPage struct {
	Entries []ReportedEntry
	Older   string // URL of the next page of the queue, "" at the end
	Notice  string
	// Accounts, for promoting, demoting, disabling and enabling.
	Accounts []AdminAccount
}

// AdminAccount is one account as the moderation page lists it.
type AdminAccount struct {
	ID, Name string
	Admin    bool
	Disabled bool
	Self     bool // the admin looking
}

// ReportedEntry is an entry with its open reports.
type ReportedEntry struct {
	EntryCard
	Reports []OpenReport
}

// OpenReport is one open report, as the admins see it.
type OpenReport struct {
	ID       string
	Time     time.Time
	Reason   string
	Text     string
	Reporter string // a short form of the reporter's opaque id
}
