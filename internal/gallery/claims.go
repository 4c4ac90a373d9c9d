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

// maxClaims bounds the entries one sign-in claims (the next one claims
// the rest).
const maxClaims = 500

// Claim gives account the entries the anonymous owner still has (in the
// gallery or the trash): one EntryClaimed on each entry's stream, as the
// entry aggregate decides. It returns how many it claimed.
func (s *Service) Claim(ctx context.Context, owner, account string) (int, error) {
	if owner == "" || events.IsAccountStream(owner) {
		return 0, nil
	}
	n := 0
	for n < maxClaims {
		page, err := s.View.Owned(ctx, owner, "", 50)
		if err != nil {
			return n, fmt.Errorf("gallery: claim for %s: %w", account, err)
		}
		progressed := false
		for _, row := range page.Entries {
			ok, err := s.claimOne(ctx, row.EIB, owner, account)
			if err != nil {
				return n, err
			}
			if ok {
				n++
				progressed = true
			}
		}
		if page.Next == "" || !progressed {
			return n, nil
		}
	}
	return n, nil
}

// claimOne claims one entry, looking again when a concurrent event moved
// its stream on. It reports false when the aggregate says no (another
// owner's now, or deleted meanwhile).
func (s *Service) claimOne(ctx context.Context, eib, owner, account string) (bool, error) {
	for attempt := 0; ; attempt++ {
		evs, err := s.Events.Load(ctx, eib)
		if errors.Is(err, events.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("gallery: claim %s: %w", eib, err)
		}
		life, err := entry.Fold(evs)
		if err != nil {
			return false, fmt.Errorf("gallery: claim %s: %w", eib, err)
		}
		at := s.now()
		ev, err := life.Claim(owner, account, ids.New(at), at)
		if err != nil {
			return false, nil
		}
		appended, err := s.Events.Append(ctx, eib, life.Version, ev)
		if events.IsConflict(err) && attempt < 3 {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("gallery: claim %s: %w", eib, err)
		}
		s.awaitProjection(ctx, eib, appended[0].Version)
		return true, nil
	}
}

// Owned returns a page of owner's entries that are not deleted (in the
// gallery or the trash), newest first.
func (s *Service) Owned(ctx context.Context, owner, cursor string, limit int) (projections.Page, error) {
	if limit <= 0 {
		limit = s.Limits.PageSize
	}
	limit = min(limit, s.Limits.MaxPageSize)
	p, err := s.View.Owned(ctx, owner, cursor, limit)
	if errors.Is(err, projections.ErrBadCursor) {
		return p, apperr.New(apperr.Invalid, "That page link is not valid.")
	}
	return p, err
}

// Usage is how many bytes of originals owner keeps (in the gallery and
// the trash), for the quota. It reads every entry of the owner's:
// O(entries), a page of 100 at a time.
func (s *Service) Usage(ctx context.Context, owner string) (int64, error) {
	var used int64
	cursor := ""
	for {
		p, err := s.View.Owned(ctx, owner, cursor, 100)
		if err != nil {
			return 0, fmt.Errorf("gallery: usage of %s: %w", owner, err)
		}
		for _, e := range p.Entries {
			used += e.Size
		}
		if p.Next == "" {
			return used, nil
		}
		cursor = p.Next
	}
}
