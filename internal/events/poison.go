package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// The poison-event rule, the same on every feed:
//
//   - Before each attempt to handle an event, the feed durably counts the
//     attempt (Attempts.Begin), so an attempt that kills the process (out
//     of memory, a panic in cgo, SIGKILL) still counts after a restart.
//   - A handler error is retried in place with a doubling delay, each
//     retry another counted attempt.
//   - Once MaxAttempts attempts have been made (failed, or never finished),
//     the event is parked: the consumer's park hook runs (it records the
//     outcome the consumer owes, e.g. ThumbnailFailed), a dead letter is
//     written, it is logged and counted, and the feed moves on.
//   - A handler that returns because it was stopped (an error wrapping
//     context.Canceled while the feed is stopping) does not use up an
//     attempt.
//
// Poison implements the rule; both feeds call Deliver for every event.

// ParkReason says why an event was parked. It is a code, safe to store in
// events and to show.
type ParkReason string

const (
	// ParkPoison: attempts started and never finished (the process died
	// handling the event).
	ParkPoison ParkReason = "poison"
	// ParkFailed: the handler kept returning errors.
	ParkFailed ParkReason = "failed"
)

// ParkFunc is a consumer's last word on an event it gives up on: it
// records what the consumer owes instead (the reactor appends
// ThumbnailFailed). It must be idempotent: after a crash it may run again.
type ParkFunc func(ctx context.Context, e Event, reason ParkReason) error

// DeadLetter is the record of a parked event, for operators.
type DeadLetter struct {
	Consumer string
	Key      string // the attempt key: "<stream>/<version>"
	Where    string // where the feed held the event (its position, or "<shard>#<sequence>")
	Stream   string
	Version  int
	EventID  string
	Type     Type
	Reason   ParkReason
	Attempts int
	Error    string // the last handler error, raw, for operators only; never stored in an event
	At       time.Time
}

// Attempts is the durable record of delivery attempts and dead letters
// that a feed keeps (SQLite: tables in the same file; DynamoDB: items in
// the lease table).
type Attempts interface {
	// Begin counts one more attempt of consumer at key, durably, and
	// returns the count with this one.
	Begin(ctx context.Context, consumer, key string) (int, error)
	// Uncount takes back the latest attempt (it was stopped, not failed).
	Uncount(ctx context.Context, consumer, key string) error
	// Forget removes the count of key (the event was handled or parked).
	Forget(ctx context.Context, consumer, key string) error
	// Park writes a dead letter.
	Park(ctx context.Context, d DeadLetter) error
	// DeadLetters lists consumer's dead letters, oldest first.
	DeadLetters(ctx context.Context, consumer string) ([]DeadLetter, error)
}

// AttemptKey is the key of an event's attempts: unique in a store.
func AttemptKey(e Event) string { return fmt.Sprintf("%s/%d", e.Stream, e.Version) }

// DefaultMaxAttempts is how many attempts an event gets before it is
// parked when Poison.MaxAttempts is zero.
const DefaultMaxAttempts = 3

// DefaultRetryDelay is the first wait after a failed attempt when
// Poison.RetryDelay is zero.
const DefaultRetryDelay = 5 * time.Second

// FeedStats counts what a feed has met since it was made. Every feed
// fills the delivery fields; the DynamoDB Streams feed fills the rest.
type FeedStats struct {
	Delivered        int64 // handler calls that succeeded
	HandlerErrors    int64 // handler calls that failed
	Parked           int64 // events given up on and written as dead letters
	Trimmed          int64 // TrimmedDataAccessException met
	ExpiredIterators int64 // ExpiredIteratorException met
	Throttled        int64 // LimitExceededException (or other throttling) met
	EmptyReads       int64 // GetRecords calls that returned nothing
	LeasesTaken      int64 // leases acquired (new, free, released or expired)
	LeasesLost       int64 // leases found taken by another owner
}

// Poison is the poison-event rule as a decorator of handlers. One Poison
// may serve several feeds and consumers. The zero value is usable; set
// Attempts before use (a feed sets its own when it is nil).
type Poison struct {
	// MaxAttempts bounds the attempts at one event (DefaultMaxAttempts
	// when zero).
	MaxAttempts int
	// RetryDelay is the wait after the first failed attempt; it doubles
	// after each (DefaultRetryDelay when zero: with 3 attempts a failing
	// handler is tried at 0, 5 and 15 s, which rides out a short outage of
	// a store before the event is parked).
	RetryDelay time.Duration
	// Log receives parked events (error) and retries (warn); slog.Default
	// when nil.
	Log *slog.Logger
	// OnPark and OnRetry, when set, are told of every parked event and
	// every retry (metrics hooks; they must not block).
	OnPark  func(consumer string, reason ParkReason)
	OnRetry func(consumer string)

	mu       sync.Mutex
	parks    map[string]ParkFunc
	mayParks map[string]func(Event) bool

	delivered, handlerErrors, parked atomic.Int64
}

// SetPark registers consumer's park hook.
func (p *Poison) SetPark(consumer string, fn ParkFunc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.parks == nil {
		p.parks = map[string]ParkFunc{}
	}
	p.parks[consumer] = fn
}

// SetMayPark registers which of consumer's events it may give up on. An
// event it may not skip is retried until it succeeds, with the backoff
// capped, logged at each retry past the bound: the entries view must see
// every event (a parked MediaDeleted would leave the entry in the
// gallery), and a purge must happen (a parked one would leave blobs
// public), while a thumbnail that cannot be made is parked as
// ThumbnailFailed. A consumer with no rule may park any event.
func (p *Poison) SetMayPark(consumer string, may func(Event) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mayParks == nil {
		p.mayParks = map[string]func(Event) bool{}
	}
	p.mayParks[consumer] = may
}

func (p *Poison) mayPark(consumer string, e Event) bool {
	p.mu.Lock()
	may := p.mayParks[consumer]
	p.mu.Unlock()
	return may == nil || may(e)
}

func (p *Poison) park(consumer string) ParkFunc {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.parks[consumer]
}

// Stats returns the delivery counters (the other FeedStats fields are 0).
func (p *Poison) Stats() FeedStats {
	return FeedStats{Delivered: p.delivered.Load(), HandlerErrors: p.handlerErrors.Load(), Parked: p.parked.Load()}
}

func (p *Poison) maxAttempts() int {
	if p.MaxAttempts <= 0 {
		return DefaultMaxAttempts
	}
	return p.MaxAttempts
}

func (p *Poison) log() *slog.Logger {
	if p.Log == nil {
		return slog.Default()
	}
	return p.Log
}

// Backoff is the wait before retry number attempt+1 (attempt counts
// from 0): RetryDelay doubled attempt times, at most 32 times RetryDelay.
func (p *Poison) Backoff(attempt int) time.Duration {
	d := p.RetryDelay
	if d <= 0 {
		d = DefaultRetryDelay
	}
	for i := 0; i < attempt && i < 5; i++ {
		d *= 2
	}
	return d
}

// Deliver hands e to h under the rule, using a as the attempt record.
// where is the feed's own name for the event's place (for dead letters).
// It returns nil once e is handled or parked; an error means the feed
// must deliver e again later (ctx is done, or the attempt record or the
// park hook failed).
func (p *Poison) Deliver(ctx context.Context, a Attempts, consumer, where string, e Event, h Handler) error {
	key := AttemptKey(e)
	log := p.log().With("consumer", consumer, "stream", e.Stream, "version", e.Version, "type", e.Type)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := a.Begin(ctx, consumer, key)
		if err != nil {
			return fmt.Errorf("events: count attempt at %s for %s: %w", key, consumer, err)
		}
		if n > p.maxAttempts() {
			// Earlier attempts started and never finished: the process
			// died handling this event.
			if p.mayPark(consumer, e) {
				return p.parkEvent(ctx, a, consumer, where, e, ParkPoison, n-1, "attempts never finished (the process stopped while handling the event)")
			}
			log.Error("events: earlier attempts never finished, and this consumer may not skip the event: trying again", "attempt", n)
		}
		log.Debug("events: handling event", "attempt", n, "of", p.maxAttempts())
		herr := h(ctx, e)
		if herr == nil {
			p.delivered.Add(1)
			if err := a.Forget(context.WithoutCancel(ctx), consumer, key); err != nil {
				log.Warn("events: forget attempts", "error", err)
			}
			return nil
		}
		p.handlerErrors.Add(1)
		if ctx.Err() != nil {
			if errors.Is(herr, context.Canceled) || errors.Is(herr, context.DeadlineExceeded) {
				// Stopped, not failed: the attempt does not count.
				if err := a.Uncount(context.WithoutCancel(ctx), consumer, key); err != nil {
					log.Warn("events: take back a stopped attempt", "error", err)
				}
			}
			return ctx.Err()
		}
		if n >= p.maxAttempts() {
			if p.mayPark(consumer, e) {
				return p.parkEvent(ctx, a, consumer, where, e, ParkFailed, n, herr.Error())
			}
			log.Error("events: handler keeps failing, and this consumer may not skip the event: retrying until it succeeds", "attempt", n, "error", herr)
		} else {
			log.Warn("events: handler failed; retrying", "attempt", n, "of", p.maxAttempts(), "error", herr)
		}
		if p.OnRetry != nil {
			p.OnRetry(consumer)
		}
		if !Sleep(ctx, p.Backoff(n-1)) {
			return ctx.Err()
		}
	}
}

func (p *Poison) parkEvent(ctx context.Context, a Attempts, consumer, where string, e Event, reason ParkReason, attempts int, cause string) error {
	if fn := p.park(consumer); fn != nil {
		if err := fn(ctx, e, reason); err != nil {
			// Not parked yet: the feed delivers the event again, and the
			// next Begin finds it over the bound and parks it.
			return fmt.Errorf("events: park %s v%d for %s: %w", e.Stream, e.Version, consumer, err)
		}
	}
	d := DeadLetter{
		Consumer: consumer, Key: AttemptKey(e), Where: where, Stream: e.Stream, Version: e.Version, EventID: e.ID, Type: e.Type,
		Reason: reason, Attempts: attempts, Error: cause, At: time.Now().UTC(),
	}
	if err := a.Park(context.WithoutCancel(ctx), d); err != nil {
		return fmt.Errorf("events: write dead letter for %s v%d: %w", e.Stream, e.Version, err)
	}
	if err := a.Forget(context.WithoutCancel(ctx), consumer, d.Key); err != nil {
		p.log().Warn("events: forget attempts", "consumer", consumer, "key", d.Key, "error", err)
	}
	p.parked.Add(1)
	if p.OnPark != nil {
		p.OnPark(consumer, reason)
	}
	p.log().Error("events: parked an event its consumer cannot handle; moving on", "consumer", consumer, "stream", e.Stream,
		"version", e.Version, "type", e.Type, "where", where, "reason", reason, "attempts", attempts, "error", cause)
	return nil
}

// Sleep waits d or until ctx is done, and reports whether it waited d.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
