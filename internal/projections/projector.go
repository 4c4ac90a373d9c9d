package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"mediashare/internal/entry"
	"mediashare/internal/events"
)

// ViewConsumer is the feed consumer name of the entries view projector.
const ViewConsumer = "entries-view"

// Projector applies every event to the entries view. It is idempotent by
// version: a redelivered event changes nothing, so a projector killed at
// any point loses nothing and duplicates nothing after restart.
type Projector struct {
	Feed events.Feed
	View View
	// Keys opens the sealed fields of uploads (a keyring.Store). One
	// lookup per upload, the only events with sealed fields; nil leaves
	// them blank.
	Keys entry.Keys
	Log  *slog.Logger
	// OnChange, when set, is told of every row the projector stores (the
	// live gallery listens here). It must not block.
	OnChange func(Entry)
}

// Run projects until ctx is done. It stops between events, after the
// checkpoint of the last one it applied.
func (p *Projector) Run(ctx context.Context) error {
	err := p.Feed.Follow(ctx, ViewConsumer, p.View, p.Handle)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// Handle applies one event to the view.
func (p *Projector) Handle(ctx context.Context, e events.Event) error {
	cur, err := p.View.Get(ctx, e.Stream)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	next, changed, err := Apply(ctx, p.Keys, cur, e)
	if errors.Is(err, entry.ErrKeys) {
		return err // the key store did not answer: try again
	}
	if err != nil {
		// A payload this build cannot read: skip it rather than block the
		// feed forever, and say so loudly.
		p.log().Error("projection skipped an unreadable event", "stream", e.Stream, "version", e.Version, "type", e.Type, "error", err)
		return nil
	}
	if !changed {
		return nil
	}
	stored, err := p.View.Put(ctx, next)
	if err != nil {
		return fmt.Errorf("projections: apply %s v%d: %w", e.Stream, e.Version, err)
	}
	if stored && p.OnChange != nil {
		p.OnChange(next)
	}
	return nil
}

// Rebuild empties the view and projects every event again from the
// store's global read, returning how many events it applied.
func Rebuild(ctx context.Context, store events.Store, view View, keys entry.Keys) (int, error) {
	if err := view.Reset(ctx); err != nil {
		return 0, err
	}
	p := &Projector{View: view, Keys: keys}
	n, pos := 0, ""
	for {
		evs, next, err := store.ReadAll(ctx, pos, 500)
		if err != nil {
			return n, err
		}
		if len(evs) == 0 {
			break
		}
		for _, e := range evs {
			if err := p.Handle(ctx, e); err != nil {
				return n, err
			}
			n++
		}
		pos = next
	}
	// Reset cleared the checkpoint: the live projector reads the feed
	// from its start again, which changes nothing (Apply is idempotent by
	// version) and catches what was appended during the rebuild.
	return n, nil
}

func (p *Projector) log() *slog.Logger {
	if p.Log == nil {
		return slog.Default()
	}
	return p.Log
}

// CatchUp applies every stream of the store to the view, each read whole
// and in version order, from several workers at once. It does not empty
// the view first, so it can run beside the live projector: both write
// rows guarded by version, and a row only moves forward. It repairs what
// the feed lost (records trimmed from a stream before they were read).
func CatchUp(ctx context.Context, lister events.StreamLister, store events.Store, view View, keys entry.Keys, workers int) (int, error) {
	var n atomic.Int64
	p := &Projector{View: view, Keys: keys}
	err := lister.Streams(ctx, workers, func(ctx context.Context, stream string) error {
		evs, err := store.Load(ctx, stream)
		if err != nil {
			return err
		}
		for _, e := range evs {
			if err := p.Handle(ctx, e); err != nil {
				return err
			}
		}
		n.Add(int64(len(evs)))
		return nil
	})
	return int(n.Load()), err
}
