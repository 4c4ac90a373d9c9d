package gallery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"mediashare/internal/apperr"
	"mediashare/internal/entry"
	"mediashare/internal/events"
	"mediashare/internal/ids"
	"mediashare/internal/projections"
)

// Restore takes an entry out of its owner's trash and puts it back in
// the gallery as it was (its thumbnail kept, nothing decoded again). Only
// its owner (or an admin) may, until its trash period ends.
func (s *Service) Restore(ctx context.Context, eib string, a entry.Actor) error {
	return s.decide(ctx, "restore", eib, func(life entry.Entry, id string, at time.Time) (events.Event, error) {
		return life.Restore(a, id, at)
	})
}

// Purge deletes an entry for good now: its owner from the trash ("delete
// now"), an admin from the gallery or the trash. The reactor removes the
// blobs and records MediaPurged.
func (s *Service) Purge(ctx context.Context, eib string, a entry.Actor) error {
	return s.decide(ctx, "purge", eib, func(life entry.Entry, id string, at time.Time) (events.Event, error) {
		return life.Purge(a, id, at)
	})
}

// maxEmpty bounds the entries one EmptyTrash deletes (the button can be
// pressed again).
const maxEmpty = 1000

// EmptyTrash deletes for good every entry in owner's trash (up to a
// bound) and returns how many it deleted.
func (s *Service) EmptyTrash(ctx context.Context, owner string) (int, error) {
	if owner == "" {
		return 0, apperr.New(apperr.Forbidden, "This browser has no trash.")
	}
	n := 0
	for n < maxEmpty {
		page, err := s.View.Trash(ctx, owner, "", 100)
		if err != nil {
			return n, fmt.Errorf("gallery: empty the trash: %w", err)
		}
		progressed := false
		for _, e := range page.Entries {
			err := s.Purge(ctx, e.EIB, entry.Actor{Owner: owner})
			switch apperr.CodeOf(err) {
			case "":
				n++
				progressed = true
			case apperr.NotFound, apperr.Conflict:
				// restored or deleted meanwhile (the view catches up)
			default:
				return n, err
			}
		}
		if !progressed || page.Next == "" {
			return n, nil
		}
	}
	return n, nil
}

// TrashPage is a page of the viewer's trash.
func (s *Service) TrashPage(ctx context.Context, owner, cursor string) (projections.Page, error) {
	if owner == "" {
		return projections.Page{}, nil
	}
	p, err := s.View.Trash(ctx, owner, cursor, s.Limits.PageSize)
	if errors.Is(err, projections.ErrBadCursor) {
		return p, apperr.New(apperr.Invalid, "That page link is not valid.")
	}
	return p, err
}

// EntryFor returns the entry and its history as viewer may see it: a
// visible entry for anyone, an entry in the trash for its owner only;
// otherwise a NotFound error.
func (s *Service) EntryFor(ctx context.Context, eib, viewer string) (projections.Entry, []events.Event, error) {
	notFound := apperr.New(apperr.NotFound, "There is no such entry. It may have been deleted.")
	if !ids.Valid(eib) {
		return projections.Entry{}, nil, notFound
	}
	e, err := s.View.Get(ctx, eib)
	if errors.Is(err, projections.ErrNotFound) || (err == nil && !e.Visible() && !(e.InTrash() && viewer != "" && e.Owner == viewer)) {
		return projections.Entry{}, nil, notFound
	}
	if err != nil {
		return projections.Entry{}, nil, err
	}
	history, err := s.Events.Load(ctx, eib)
	if err != nil {
		return projections.Entry{}, nil, fmt.Errorf("gallery: history of %s: %w", eib, err)
	}
	if history, err = s.reveal(ctx, s.keys(), history); err != nil { // one key lookup: the entry's
		return projections.Entry{}, nil, fmt.Errorf("gallery: history of %s: %w", eib, err)
	}
	return e, history, nil
}

// ExpireTrash deletes for good the entries whose trash period ended by
// now: the view names them (O(page)), each one's events decide, and the
// MediaDeleted is appended at the version seen. Every instance may run
// it at once: optimistic concurrency lets one append win, and the others
// (a conflict) do nothing; the reactor then purges the blobs once. It
// returns how many it deleted.
func (s *Service) ExpireTrash(ctx context.Context, limit int) (int, error) {
	now := s.now()
	due, err := s.View.Expired(ctx, now, limit)
	if err != nil {
		return 0, fmt.Errorf("gallery: expire the trash: %w", err)
	}
	n := 0
	var errs []error
	for _, row := range due {
		evs, err := s.Events.Load(ctx, row.EIB)
		if err != nil {
			errs = append(errs, fmt.Errorf("gallery: expire %s: %w", row.EIB, err))
			continue
		}
		life, err := entry.Fold(evs)
		if err != nil {
			errs = append(errs, fmt.Errorf("gallery: expire %s: %w", row.EIB, err))
			continue
		}
		at := s.now()
		ev, err := life.Expire(ids.New(at), at)
		if err != nil {
			continue // restored or deleted meanwhile: the view is behind
		}
		if _, err := s.Events.Append(ctx, row.EIB, life.Version, ev); err != nil {
			if !events.IsConflict(err) {
				errs = append(errs, fmt.Errorf("gallery: expire %s: %w", row.EIB, err))
			}
			continue // another instance won, or the owner acted meanwhile
		}
		n++
	}
	return n, errors.Join(errs...)
}

// SweepTrash runs ExpireTrash every interval until ctx is done.
func (s *Service) SweepTrash(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for {
			n, err := s.ExpireTrash(ctx, 100)
			if err != nil && ctx.Err() == nil {
				s.log().Error("trash: expiring entries failed", "error", err)
			}
			if n > 0 {
				s.log().Info("trash: entries deleted for good at the end of their period", "count", n)
			}
			if n < 100 || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// SweepInterval is how often the trash is looked at for a retention: a
// hundredth of it, between a second and a minute.
func SweepInterval(retention time.Duration) time.Duration {
	return min(max(retention/100, time.Second), time.Minute)
}
