package gallery

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"mediashare/internal/apperr"
	"mediashare/internal/entry"
	"mediashare/internal/events"
	"mediashare/internal/ids"
	"mediashare/internal/projections"
)

// ReportInput is a visitor's report of an entry.
type ReportInput struct {
	EIB      string
	Reporter string // an opaque id of the reporter (account or owner cookie); "" for none
	Reason   string // one of events.ReportReasons
	Text     string // optional (required for "other")
	// Admit, when set, is asked once the report is decided, before it is
	// recorded (the rate per client): refused forms cost nothing.
	Admit func() error
}

// Report records a report of an entry (EntryReported on its stream).
// The entry aggregate decides: a reason from the list, a bounded text,
// one open report per reporter, only entries in the gallery.
func (s *Service) Report(ctx context.Context, in ReportInput) error {
	if !ids.Valid(in.EIB) {
		return apperr.New(apperr.NotFound, "There is no such entry.")
	}
	for attempt := 0; ; attempt++ {
		evs, err := s.Events.Load(ctx, in.EIB)
		if errors.Is(err, events.ErrNotFound) {
			return apperr.New(apperr.NotFound, "There is no such entry.")
		}
		if err != nil {
			return fmt.Errorf("gallery: report %s: %w", in.EIB, err)
		}
		life, err := entry.Fold(evs)
		if err != nil {
			return fmt.Errorf("gallery: report %s: %w", in.EIB, err)
		}
		at := s.now()
		ev, err := life.Report(in.Reporter, in.Reason, in.Text, ids.New(at), at)
		if err != nil {
			return err
		}
		if in.Admit != nil && attempt == 0 {
			if err := in.Admit(); err != nil {
				return err
			}
		}
		if ev, err = s.sealReport(ctx, ev); err != nil {
			return err
		}
		_, err = s.Events.Append(ctx, in.EIB, life.Version, ev)
		if events.IsConflict(err) && attempt < s.Limits.DeleteRetries {
			continue
		}
		if err != nil {
			return fmt.Errorf("gallery: report %s: %w", in.EIB, err)
		}
		return nil
	}
}

// sealReport seals a report's text with the entry's key: the text may
// quote what it reports, and an erasure must shred it too.
func (s *Service) sealReport(ctx context.Context, ev events.Event) (events.Event, error) {
	if s.Keys == nil {
		return ev, nil
	}
	var p events.Reported
	if err := ev.Decode(&p); err != nil || p.Text == "" {
		return ev, err
	}
	key, err := s.Keys.Get(ctx, ev.Stream)
	if err != nil {
		return events.Event{}, fmt.Errorf("gallery: report %s: the entry's key: %w", ev.Stream, err)
	}
	if p, err = entry.SealReport(key, ev.Stream, p); err != nil {
		return events.Event{}, err
	}
	out, err := events.New(ev.ID, ev.Type, ev.Stream, ev.Time, ev.Actor, p)
	out.Schema = events.SealedSchema
	return out, err
}

// Reported is an entry with open reports, for the admins' queue.
type Reported struct {
	Entry   projections.Entry // the view's row (title, thumbnail)
	Reports []entry.Report    // open, oldest first
}

// Queue returns the entries with open reports, the most recently
// reported first, from a page of the audit log's reports before the
// cursor (""), and the cursor of the next page. Each entry's events
// decide which of its reports are still open.
func (s *Service) Queue(ctx context.Context, before string, limit int) ([]Reported, string, error) {
	if s.Audit == nil {
		return nil, "", apperr.New(apperr.Unavailable, "This backend keeps no audit log.")
	}
	if len(before) > 128 {
		return nil, "", badHistoryCursor
	}
	evs, next, err := s.Audit.History(ctx, events.Filter{Types: []events.Type{events.EntryReported}}, before, limit)
	if errors.Is(err, events.ErrBadPosition) {
		return nil, "", badHistoryCursor
	}
	if err != nil {
		return nil, "", fmt.Errorf("gallery: reports: %w", err)
	}
	var out []Reported
	seen := map[string]bool{}
	for _, e := range evs {
		if seen[e.Stream] {
			continue
		}
		seen[e.Stream] = true
		stream, err := s.Events.Load(ctx, e.Stream)
		if err != nil {
			return nil, "", fmt.Errorf("gallery: reports: %w", err)
		}
		life, err := entry.Fold(stream)
		if err != nil {
			return nil, "", fmt.Errorf("gallery: reports: %w", err)
		}
		if len(life.Reports) == 0 || !life.Visible() {
			continue // closed, or out of the gallery (removed, in the trash, erased)
		}
		row, err := s.View.Get(ctx, e.Stream)
		if err != nil && !errors.Is(err, projections.ErrNotFound) {
			return nil, "", fmt.Errorf("gallery: reports: %w", err)
		}
		// The texts are sealed: open the open ones (one key lookup).
		keys := s.keys()
		reports := slices.Clone(life.Reports)
		for i, r := range reports {
			for _, ev := range stream {
				if ev.ID == r.ID && ev.Type == events.EntryReported {
					if f, err := entry.Read(ctx, ev, keys); err == nil {
						reports[i].Text = f.Report.Text
					}
				}
			}
		}
		out = append(out, Reported{Entry: row, Reports: reports})
	}
	return out, next, nil
}

// Dismiss closes an open report of an entry for an admin.
func (s *Service) Dismiss(ctx context.Context, eib, report string, a entry.Actor, reason string) error {
	if !ids.Valid(eib) {
		return apperr.New(apperr.NotFound, "There is no such entry.")
	}
	for attempt := 0; ; attempt++ {
		evs, err := s.Events.Load(ctx, eib)
		if errors.Is(err, events.ErrNotFound) {
			return apperr.New(apperr.NotFound, "There is no such entry.")
		}
		if err != nil {
			return fmt.Errorf("gallery: dismiss %s: %w", eib, err)
		}
		life, err := entry.Fold(evs)
		if err != nil {
			return fmt.Errorf("gallery: dismiss %s: %w", eib, err)
		}
		at := s.now()
		ev, err := life.Dismiss(a, report, reason, ids.New(at), at)
		if err != nil {
			return err
		}
		_, err = s.Events.Append(ctx, eib, life.Version, ev)
		if events.IsConflict(err) && attempt < s.Limits.DeleteRetries {
			continue
		}
		if err != nil {
			return fmt.Errorf("gallery: dismiss %s: %w", eib, err)
		}
		return nil
	}
}
