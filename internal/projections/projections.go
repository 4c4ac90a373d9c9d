// Package projections turns events into the entries view that the gallery
// reads; it only projects (the work events call for is internal/reactor's).
// The view is keyed by eib with the attributes of the
// original application; adapters live in subpackages (sqlite for the
// embedded backend) and viewtest is their conformance suite.
package projections

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"mediashare/internal/entry"
	"mediashare/internal/events"
)

// Status is where an entry is in its life.
type Status string

const (
	Processing Status = "processing" // uploaded, no thumbnail yet
	Ready      Status = "ready"      // thumbnail made
	Failed     Status = "failed"     // no preview could be made; the entry stays visible
	Deleted    Status = "deleted"    // a tombstone: out of the gallery, kept so late events cannot revive it
	Erased     Status = "erased"     // a tombstone scrubbed of everything personal: title, comment, keys of blobs
)

// An entry in its owner's trash keeps the status it had (processing,
// ready, failed: a thumbnail that lands meanwhile is recorded) and has
// TrashUntil set; it is out of the gallery until it is restored.

// Entry is one row of the entries view.
type Entry struct {
	// The attributes of the original application.
	EIB       string    // the entry's id and stream id (hash key)
	EID       string    // the id of the upload event
	Timestamp time.Time // upload time (UTC)
	Title     string
	Comment   string
	Resource  string // the original's blob key
	Thumbnail string // the thumbnail's blob key, "<resource>-tn.png"
	Type      string // "image"

	// What mediashare adds.
	Status        Status
	Owner         string
	ContentType   string
	Size          int64
	Width         int
	Height        int
	ThumbWidth    int
	ThumbHeight   int
	Preview       string // the larger rendition for the entry page, "" if none
	PreviewWidth  int
	PreviewHeight int
	Placeholder   string // "#rrggbb" while the thumbnail loads
	FailReason    string
	SHA256        string    // of the original's bytes, as MediaUploaded recorded them
	TrashUntil    time.Time // in the trash until then (zero: not in the trash)
	Version       int       // the stream version this row reflects
	UpdatedAt     time.Time // time of that event
}

// Visible reports whether the entry belongs in the gallery.
func (e Entry) Visible() bool {
	return e.Status != Deleted && e.Status != Erased && e.EIB != "" && e.TrashUntil.IsZero()
}

// InTrash reports whether the entry is in its owner's trash.
func (e Entry) InTrash() bool {
	return e.Status != Deleted && e.Status != Erased && e.EIB != "" && !e.TrashUntil.IsZero()
}

// ThumbnailKey is the key of an original's grid thumbnail, as in the
// original application.
func ThumbnailKey(resource string) string { return entry.ThumbnailKey(resource) }

// ErrNotFound is returned by View.Get for an eib the view has never seen.
var ErrNotFound = errors.New("projections: entry not found")

// Page is one page of the gallery.
type Page struct {
	Entries []Entry
	Next    string // cursor of the next page, "" at the end
}

// View stores the entries view. Rows are written whole, guarded by
// version: a row is replaced only by one with a higher version, so
// duplicate and stale writes change nothing.
type View interface {
	// Get returns the row for eib (tombstones included) or ErrNotFound.
	Get(ctx context.Context, eib string) (Entry, error)
	// Put stores e unless the stored row's version is >= e.Version, and
	// reports whether it stored.
	Put(ctx context.Context, e Entry) (bool, error)
	// List returns visible entries, newest first, after the cursor ("" for
	// the first page). It costs O(limit), never a scan of the table.
	List(ctx context.Context, cursor string, limit int) (Page, error)
	// Trash returns owner's entries in the trash, the one whose period
	// ends last first, after the cursor ("" for the first page). O(limit).
	Trash(ctx context.Context, owner, cursor string, limit int) (Page, error)
	// Expired returns up to limit entries in the trash (of every owner)
	// whose period ended at or before at, the earliest first. O(limit).
	Expired(ctx context.Context, at time.Time, limit int) ([]Entry, error)
	// Copies returns owner's entries, in the gallery or the trash, whose
	// original has the sha256: an index read, O(matches), never a scan.
	// On AWS the index is eventually consistent (a copy projected a
	// moment ago may be missed).
	Copies(ctx context.Context, owner, sha256 string) ([]Entry, error)
	// Owned returns owner's entries that are not deleted (in the gallery
	// or the trash), newest upload first, after the cursor ("" for the
	// first page). O(limit). On AWS the index is eventually consistent.
	Owned(ctx context.Context, owner, cursor string, limit int) (Page, error)
	// Reset empties the view and the checkpoints, for a rebuild.
	Reset(ctx context.Context) error
	// Ping reports whether the view is reachable.
	Ping(ctx context.Context) error
	events.Checkpoints
}

// BatchPutter is implemented by a view that stores many rows in one write,
// for rebuilds. PutBatch stores each row under Put's rule (unless the
// stored row's version is >= its version) and records each stored row as
// a change, all in one transaction: every row or none. It reports, row
// by row, whether it stored.
type BatchPutter interface {
	PutBatch(ctx context.Context, rows []Entry) ([]bool, error)
}

// Loader is implemented by a view that a rebuild fills in bulk. Load
// stores rows (one per eib) into a view that Reset emptied, each recorded
// as a change, as fast as the store allows: it need not be one
// transaction, and it may skip Put's version guard (a row written
// meanwhile by a live projector can be replaced by an older one). Rebuild
// makes up for that: once loaded, it reads the events again from its last
// page on and applies what is new with Put, so the view ends as the live
// projection. A failed Load leaves some rows stored; the rebuild is run
// again, Reset first. Loaded is called once every page is loaded (before
// the tail): what the view set aside at Reset for a fast load (SQLite's
// secondary indexes) is put back; until then the view answers every
// query, more slowly.
type Loader interface {
	Load(ctx context.Context, rows []Entry) error
	Loaded(ctx context.Context) error
}

// Apply is the projection: the row that results from applying e to cur
// (the zero Entry when the view has no row). It reports false when e
// changes nothing: an event at or below the row's version, or an event
// of an account's stream. The entry aggregate decides what e does (the
// row is read back into the aggregate's state, e folded in with
// entry.Entry.Apply, and the row laid out from the result), so the rules
// of an entry's life live only in internal/entry; the projection adds
// the layout: sealed fields opened with keys, and tombstones that only
// move their version on. An erasure, whatever came before, leaves a
// scrubbed tombstone: the ids, the upload time and the version, nothing
// personal and no blob keys.
func Apply(ctx context.Context, keys entry.Keys, cur Entry, e events.Event) (Entry, bool, error) {
	if events.IsAccountStream(e.Stream) {
		return cur, false, nil // an account's stream: no entry of the view
	}
	if e.Version <= cur.Version {
		return cur, false, nil
	}
	if cur.EIB == "" && e.Type != events.MediaUploaded && e.Type != events.MediaErased && slices.Contains(events.Types, e.Type) {
		// An event of a stream the view never saw uploaded (none was):
		// there is no row to change, and no row can be made of it.
		return cur, false, nil
	}
	if e.Type == events.MediaErased {
		return Scrubbed(cur, e), true, nil
	}
	life, err := aggregateOf(cur).Apply(e)
	if err != nil {
		return cur, false, fmt.Errorf("projections: %w", err)
	}
	if cur.Status == Deleted || cur.Status == Erased {
		next := cur // a tombstone only moves its version on
		next.Version, next.UpdatedAt = e.Version, e.Time
		return next, true, nil
	}
	next := rowOf(life)
	if e.Type == events.MediaUploaded && cur.EIB == "" && life.Sealed {
		// Only uploads carry sealed fields: the row shows them opened.
		f, err := entry.Read(ctx, e, keys)
		if err != nil {
			return cur, false, fmt.Errorf("projections: %w", err)
		}
		next.Title, next.Comment = f.Upload.Title, f.Upload.Comment
	}
	return next, true, nil
}

// aggregateOf is the entry aggregate's state that the row r records (the
// zero Entry for no row): what its next event is decided against.
func aggregateOf(r Entry) entry.Entry {
	if r.EIB == "" {
		return entry.Entry{}
	}
	a := entry.Entry{
		EIB: r.EIB, Version: r.Version, UploadID: r.EID, UploadedAt: r.Timestamp, UpdatedAt: r.UpdatedAt,
		Owner: r.Owner, Title: r.Title, Comment: r.Comment, MediaType: r.Type, ContentType: r.ContentType,
		Size: r.Size, SHA256: r.SHA256, Width: r.Width, Height: r.Height, Original: r.Resource,
		Placeholder: r.Placeholder,
	}
	var st entry.Status
	switch r.Status {
	case Processing:
		st = entry.Processing
	case Ready:
		st = entry.Ready
		a.Renditions = []entry.Rendition{{Key: r.Thumbnail, Width: r.ThumbWidth, Height: r.ThumbHeight}}
		if r.Preview != "" {
			a.Renditions = append(a.Renditions, entry.Rendition{Key: r.Preview, Width: r.PreviewWidth, Height: r.PreviewHeight})
		}
	case Failed:
		st, a.Failure = entry.Failed, entry.Failure{Message: r.FailReason}
	case Deleted:
		st = entry.Deleted
	case Erased:
		st = entry.Erased
	}
	a.Status = st
	if r.InTrash() {
		a.Status, a.TrashedFrom, a.TrashUntil = entry.Trashed, st, r.TrashUntil
	}
	return a
}

// rowOf lays out the aggregate's state a as a row of the view.
func rowOf(a entry.Entry) Entry {
	r := Entry{
		EIB: a.EIB, EID: a.UploadID, Timestamp: a.UploadedAt,
		Title: a.Title, Comment: a.Comment,
		Resource: a.Original, Thumbnail: ThumbnailKey(a.Original), Type: a.MediaType,
		Owner: a.Owner, ContentType: a.ContentType, Size: a.Size, SHA256: a.SHA256,
		Width: a.Width, Height: a.Height, Version: a.Version, UpdatedAt: a.UpdatedAt,
	}
	st := a.Status
	if st == entry.Trashed {
		st, r.TrashUntil = a.TrashedFrom, a.TrashUntil
	}
	switch st {
	case entry.Processing:
		r.Status = Processing
	case entry.Ready:
		r.Status = Ready
	case entry.Failed:
		r.Status = Failed
	case entry.Deleted, entry.Purged:
		r.Status = Deleted // a tombstone keeps what it showed
	case entry.Erased:
		r.Status = Erased
	}
	r.Placeholder, r.FailReason = a.Placeholder, a.Failure.Message
	if a.Failure == (entry.Failure{}) {
		// The grid thumbnail comes first, then the preview if there is one.
		if len(a.Renditions) > 0 {
			t := a.Renditions[0]
			r.Thumbnail, r.ThumbWidth, r.ThumbHeight = t.Key, t.Width, t.Height
		}
		if len(a.Renditions) > 1 {
			t := a.Renditions[1]
			r.Preview, r.PreviewWidth, r.PreviewHeight = t.Key, t.Width, t.Height
		}
	}
	return r
}

// Scrubbed is the erased tombstone that e (a MediaErased) leaves of cur:
// it keeps the entry's ids, upload time and owner, and forgets the rest.
func Scrubbed(cur Entry, e events.Event) Entry {
	return Entry{
		EIB: e.Stream, EID: cur.EID, Timestamp: cur.Timestamp, Type: cur.Type, Owner: cur.Owner,
		Status: Erased, Version: e.Version, UpdatedAt: e.Time,
	}
}

// ErrBadCursor is returned by View.List for a cursor it did not make.
var ErrBadCursor = errors.New("projections: bad page cursor")

// Change says that the view's row for EIB now reflects Version. Every row
// the view stores is recorded as a change, in one global order, so that
// every instance can follow what the projector did (the live gallery).
type Change struct {
	Position string // global, and ordered as strings: a later change has a greater position
	EIB      string
	Version  int
}

// ChangeLog is the view's record of its changes.
type ChangeLog interface {
	// Changes returns up to limit changes after position ("" for the
	// oldest kept), oldest first.
	Changes(ctx context.Context, after string, limit int) ([]Change, error)
	// LastChange returns the position of the newest change, "" if none.
	LastChange(ctx context.Context) (string, error)
}

// ChangeRetention is implemented by a change log that forgets old
// changes: Retains reports whether every change after position is still
// kept, so that a replay from it is complete.
type ChangeRetention interface {
	Retains(position string) bool
}
