package dynamo

import (
	"sync/atomic"

	"mediashare/internal/events"
)

// Stats counts what the feed has met since it was made.
type Stats = events.FeedStats

// counters are the feed's own counts; deliveries, handler errors and
// parked events come from its Poison.
type counters struct {
	unreadable, trimmed, expired, throttled, empty, taken, lost atomic.Int64
}

// Stats returns the feed's counters.
func (f *Feed) Stats() Stats {
	s := f.poison().Stats()
	c := &f.stats
	s.Parked += c.unreadable.Load()
	s.Trimmed, s.ExpiredIterators, s.Throttled = c.trimmed.Load(), c.expired.Load(), c.throttled.Load()
	s.EmptyReads, s.LeasesTaken, s.LeasesLost = c.empty.Load(), c.taken.Load(), c.lost.Load()
	return s
}
