package events

import (
	"context"
	"errors"
	"fmt"
)

// BatchHandler handles a batch of events delivered by a BatchFeed, and
// returns one error per event (nil: handled). It may handle the events
// of different streams concurrently, but a stream's events in order: once
// one fails, the stream's later events in the batch are left unhandled
// (ErrNotHandled).
type BatchHandler func(ctx context.Context, evs []Event) []error

// ErrNotHandled is a batch handler's answer for an event it left alone
// because an earlier event of its stream failed.
var ErrNotHandled = errors.New("events: not handled (an earlier event of its stream failed)")

// BatchFeed is a Feed that can also deliver events in batches, for a
// consumer that does slow work (the reactor): the events of a batch are
// counted as attempts in one write, handled (concurrently across
// streams), and the checkpoint is saved after the batch. Handlers must be
// idempotent: a batch cut short by a crash is delivered again. The
// poison-event rule holds per event: an event found with an unfinished
// attempt (the process died during its batch) and the rest of its stream
// in the batch are delivered one at a time under Poison, so an innocent
// event is never parked for a neighbour that crashed the process.
type BatchFeed interface {
	Feed
	FollowBatches(ctx context.Context, name string, cp Checkpoints, max int, h BatchHandler) error
}

// BatchAttempts is an Attempts that counts and forgets many events in one
// write.
type BatchAttempts interface {
	Attempts
	// BeginAll counts one more attempt at each key, durably, in one write,
	// and returns the counts with this one, in the order of keys.
	BeginAll(ctx context.Context, consumer string, keys []string) ([]int, error)
	// ForgetAll removes the counts of keys, in one write.
	ForgetAll(ctx context.Context, consumer string, keys []string) error
}

// DeliverBatch hands evs to h under the poison-event rule and returns nil
// once every event is handled or parked; an error means the feed must
// deliver the batch again later. where names each event's place.
func (p *Poison) DeliverBatch(ctx context.Context, a BatchAttempts, consumer string, evs []Event, where func(Event) string, h BatchHandler, single Handler) error {
	if len(evs) == 0 {
		return nil
	}
	keys := make([]string, len(evs))
	for i, e := range evs {
		keys[i] = AttemptKey(e)
	}
	counts, err := a.BeginAll(ctx, consumer, keys)
	if err != nil {
		return fmt.Errorf("events: count attempts of a batch of %d for %s: %w", len(evs), consumer, err)
	}
	// A stream with an unfinished attempt goes one event at a time.
	suspect := map[string]bool{}
	for i, e := range evs {
		if counts[i] > 1 {
			suspect[e.Stream] = true
		}
	}
	var batch, alone []Event
	for _, e := range evs {
		if suspect[e.Stream] {
			alone = append(alone, e)
		} else {
			batch = append(batch, e)
		}
	}
	for i, e := range evs {
		if !suspect[e.Stream] {
			p.log().Debug("events: handling event", "consumer", consumer, "stream", e.Stream, "version", e.Version, "type", e.Type,
				"attempt", counts[i], "of", p.maxAttempts(), "batch", len(batch))
		}
	}
	var done []string
	if len(batch) > 0 {
		errs := h(ctx, batch)
		if len(errs) != len(batch) {
			return fmt.Errorf("events: batch handler of %s answered %d results for %d events", consumer, len(errs), len(batch))
		}
		if err := ctx.Err(); err != nil {
			// Stopped: the handled ones are idempotent, the batch comes again.
			return errors.Join(err, a.ForgetAll(context.WithoutCancel(ctx), consumer, keysOf(batch)))
		}
		for i, e := range batch {
			if errs[i] == nil {
				p.delivered.Add(1)
				done = append(done, AttemptKey(e))
				continue
			}
			if !errors.Is(errs[i], ErrNotHandled) {
				p.handlerErrors.Add(1)
			}
			alone = append(alone, e)
		}
	}
	if len(done) > 0 {
		if err := a.ForgetAll(context.WithoutCancel(ctx), consumer, done); err != nil {
			p.log().Warn("events: forget attempts", "consumer", consumer, "error", err)
		}
	}
	// The rest one at a time, in the feed's order (a stream's in version
	// order), each attempt counted again by Deliver: take back the batch's.
	inBatch := map[string]bool{}
	for _, e := range alone {
		inBatch[AttemptKey(e)] = true
	}
	for _, e := range evs {
		k := AttemptKey(e)
		if !inBatch[k] {
			continue
		}
		if err := a.Uncount(ctx, consumer, k); err != nil {
			return fmt.Errorf("events: take back a batch attempt at %s for %s: %w", k, consumer, err)
		}
		if err := p.Deliver(ctx, a, consumer, where(e), e, single); err != nil {
			return err
		}
	}
	return nil
}

func keysOf(evs []Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = AttemptKey(e)
	}
	return out
}
