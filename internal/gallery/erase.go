package gallery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"mediashare/internal/apperr"
	"mediashare/internal/blob"
	"mediashare/internal/entry"
	"mediashare/internal/events"
	"mediashare/internal/ids"
)

// Erase erases an entry for a (its owner, or an admin with a reason),
// from any state, the trash included: it records MediaErased (who, why;
// nothing personal), destroys the entry's key, so every sealed copy of
// its title, comment and file name is unreadable from then on, removes
// its original and renditions, and waits briefly for the view to scrub
// its row. The reactor does the same work again on MediaErased (and
// invalidates the CDN), so an erase interrupted after its event still
// completes. It returns the MediaErased event as stored.
func (s *Service) Erase(ctx context.Context, eib string, a entry.Actor, reason string) (events.Event, error) {
	if !ids.Valid(eib) {
		return events.Event{}, apperr.New(apperr.NotFound, "There is no such entry.")
	}
	for attempt := 0; ; attempt++ {
		evs, err := s.Events.Load(ctx, eib)
		if errors.Is(err, events.ErrNotFound) {
			return events.Event{}, apperr.New(apperr.NotFound, "There is no such entry.")
		}
		if err != nil {
			return events.Event{}, fmt.Errorf("gallery: erase %s: %w", eib, err)
		}
		life, err := entry.Fold(evs)
		if err != nil {
			return events.Event{}, fmt.Errorf("gallery: erase %s: %w", eib, err)
		}
		at := s.now()
		ev, err := life.Erase(a, reason, ids.New(at), at)
		if err != nil {
			return events.Event{}, err
		}
		appended, err := s.Events.Append(ctx, eib, life.Version, ev)
		if events.IsConflict(err) && attempt < s.Limits.DeleteRetries {
			continue
		}
		if err != nil {
			return events.Event{}, fmt.Errorf("gallery: erase %s: %w", eib, err)
		}
		if err := Shred(ctx, s.Keys, s.Blobs, life, at); err != nil {
			// Recorded: the reactor finishes it. Say so, without details.
			s.log().Error("erase: recorded, but its work is left to the reactor", "eib", eib, "error", err)
		}
		s.awaitProjection(ctx, eib, appended[0].Version)
		return appended[0], nil
	}
}

// Keyring is what an erasure needs of the keyring.
type Keyring interface {
	Destroy(ctx context.Context, entry string, at time.Time) error
}

// Shred does an erased entry's work: destroy its key, then remove every
// blob it had. Each step is idempotent (a missing blob is gone already).
func Shred(ctx context.Context, keys Keyring, blobs blob.Store, life entry.Entry, at time.Time) error {
	ctx = context.WithoutCancel(ctx)
	var errs []error
	if keys != nil {
		if err := keys.Destroy(ctx, life.EIB, at); err != nil {
			errs = append(errs, fmt.Errorf("destroy the key of %s: %w", life.EIB, err))
		}
	}
	for _, k := range life.EraseKeys() {
		if err := blobs.Delete(ctx, k); err != nil && !errors.Is(err, blob.ErrNotFound) {
			errs = append(errs, fmt.Errorf("remove %s: %w", k, err))
		}
	}
	return errors.Join(errs...)
}
