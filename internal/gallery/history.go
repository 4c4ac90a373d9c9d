package gallery

import (
	"context"
	"errors"
	"fmt"

	"mediashare/internal/apperr"
	"mediashare/internal/entry"
	"mediashare/internal/events"
	"mediashare/internal/ids"
	"mediashare/internal/projections"
)

// AuditRow is one event of the audit log with what a reader wants beside
// it: the entry's title and whether the entry is still there.
type AuditRow struct {
	Event  events.Event
	Title  string
	Exists bool
}

// ParseFilter checks the audit log's filters as a person typed them.
func ParseFilter(typ, entry string) (events.Filter, error) {
	var f events.Filter
	if typ != "" {
		known := false
		for _, t := range events.Types {
			known = known || string(t) == typ
		}
		if !known {
			return f, apperr.New(apperr.Invalid, "There is no event type %q.", typ)
		}
		f.Types = []events.Type{events.Type(typ)}
	}
	if entry != "" {
		if !ids.Valid(entry) {
			return f, apperr.New(apperr.Invalid, "%q is not an entry id.", entry)
		}
		f.Stream = entry
	}
	return f, nil
}

// reveal returns evs with their sealed fields opened (or entry.ErasedText
// once the key is gone), as the history and the export show them.
func (s *Service) reveal(ctx context.Context, keys entry.Keys, evs []events.Event) ([]events.Event, error) {
	out := make([]events.Event, len(evs))
	for i, e := range evs {
		r, err := entry.Reveal(ctx, e, keys)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

var badHistoryCursor = apperr.New(apperr.Invalid, "That page link of the history is not valid.")

// History returns a page of the audit log, newest first. A page may hold
// fewer than limit rows and still have a next cursor: the store stopped
// at its bound of reads (a filter that matches little).
func (s *Service) History(ctx context.Context, f events.Filter, before string, limit int) ([]AuditRow, string, error) {
	if s.Audit == nil {
		return nil, "", apperr.New(apperr.Unavailable, "This backend keeps no audit log.")
	}
	if len(before) > 128 {
		return nil, "", badHistoryCursor
	}
	evs, next, err := s.Audit.History(ctx, f, before, limit)
	if errors.Is(err, events.ErrBadPosition) {
		return nil, "", badHistoryCursor
	}
	if err != nil {
		return nil, "", fmt.Errorf("gallery: history: %w", err)
	}
	rows := make([]AuditRow, len(evs))
	entries := map[string]projections.Entry{}
	// One key lookup per entry on the page, whatever its events: the
	// page's events are shown with their sealed fields opened.
	if evs, err = s.reveal(ctx, s.keys(), evs); err != nil {
		return nil, "", fmt.Errorf("gallery: history: %w", err)
	}
	for i, e := range evs {
		rows[i].Event = e
		row, ok := entries[e.Stream]
		if !ok {
			row, err = s.View.Get(ctx, e.Stream)
			if err != nil && !errors.Is(err, projections.ErrNotFound) {
				return nil, "", fmt.Errorf("gallery: history: %w", err)
			}
			entries[e.Stream] = row
		}
		rows[i].Title, rows[i].Exists = row.Title, row.Visible()
		if rows[i].Title == "" && e.Type == events.MediaUploaded {
			if f, err := entry.Read(ctx, e, nil); err == nil {
				rows[i].Title = f.Upload.Title
			}
		}
	}
	return rows, next, nil
}
