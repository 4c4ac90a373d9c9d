package projections

import (
	"context"
	"errors"
	"time"

	"mediashare/internal/events"
)

// Lag measures how far the entries view is behind the event store: zero
// when the view reflects the newest event, else the age of that newest
// event (a lower bound of the real lag that keeps growing while the
// projector is stalled, so an alert on it fires). Any instance can
// measure it, whichever instance projects.
func Lag(ctx context.Context, audit events.Auditor, view View, now time.Time) (time.Duration, error) {
	newest, _, err := audit.History(ctx, events.Filter{}, "", 1)
	if err != nil || len(newest) == 0 {
		return 0, err
	}
	e := newest[0]
	row, err := view.Get(ctx, e.Stream)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return 0, err
	}
	if row.Version >= e.Version {
		return 0, nil
	}
	return max(now.Sub(e.Time), 0), nil
}
