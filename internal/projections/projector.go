package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

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
// checkpoint of the last one it applied. On a feed that delivers batches
// and a view that stores them, each batch is one write (HandleBatch).
func (p *Projector) Run(ctx context.Context) error {
	var err error
	bf, feedOK := p.Feed.(events.BatchFeed)
	if _, viewOK := p.View.(BatchPutter); feedOK && viewOK {
		err = bf.FollowBatches(ctx, ViewConsumer, p.View, liveBatch, p.HandleBatch)
	} else {
		err = p.Feed.Follow(ctx, ViewConsumer, p.View, p.Handle)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// liveBatch bounds the events of one batch of the live projector.
const liveBatch = 200

// HandleBatch is the events.BatchHandler of the projector on a view that
// stores rows in batches: each stream's row is read once, the batch's
// events are applied to it in order (Apply, as Handle does), and the rows
// that changed are written in one transaction. A failed write fails every
// event of the batch (they are delivered again; Put's version guard makes
// that harmless).
func (p *Projector) HandleBatch(ctx context.Context, evs []events.Event) []error {
	bp, ok := p.View.(BatchPutter)
	errs := make([]error, len(evs))
	if !ok {
		for i, e := range evs {
			errs[i] = p.Handle(ctx, e)
		}
		return errs
	}
	fail := func(err error) []error {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	rows, changed := map[string]Entry{}, map[string]bool{}
	var order []string
	for _, e := range evs {
		cur, ok := rows[e.Stream]
		if !ok {
			var err error
			cur, err = p.View.Get(ctx, e.Stream)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return fail(err)
			}
			rows[e.Stream] = cur
			order = append(order, e.Stream)
		}
		next, change, err := Apply(ctx, p.Keys, cur, e)
		if errors.Is(err, entry.ErrKeys) {
			return fail(err) // the key store did not answer: try again
		}
		if err != nil {
			p.log().Error("projection skipped an unreadable event", "stream", e.Stream, "version", e.Version, "type", e.Type, "error", err)
			continue
		}
		if change {
			rows[e.Stream], changed[e.Stream] = next, true
		}
	}
	var batch []Entry
	for _, s := range order {
		if changed[s] {
			batch = append(batch, rows[s])
		}
	}
	stored, err := bp.PutBatch(ctx, batch)
	if err != nil {
		return fail(fmt.Errorf("projections: apply a batch of %d events: %w", len(evs), err))
	}
	if p.OnChange != nil {
		for i, ok := range stored {
			if ok {
				p.OnChange(batch[i])
			}
		}
	}
	return errs
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

// RebuildOptions tune Rebuild.
type RebuildOptions struct {
	// Settle bounds how late the store's global read may show an event
	// that another writer appended (an index read eventually consistently,
	// positions from the writers' clocks). When events were appended
	// while the rebuild ran (serving instances take uploads), the rebuild
	// waits this long after its last write and reads the tail once more,
	// so that what a live projector applied meanwhile is in the view. Zero
	// for a store whose read shows every committed event at once (SQLite).
	Settle time.Duration
}

// Rebuild empties the view and projects every event again from the
// store's global read, returning how many events it read. A view that
// stores rows in bulk (Loader) or in batches (BatchPutter) gets one write
// per page of events: the rows are folded in memory with Apply, the same
// projection as the live projector's, and written once per page; then the
// events from the last page on are read again and what is new (appended
// during the rebuild) is applied with Put, so that a live projector
// running meanwhile cannot leave the view behind the events.
func Rebuild(ctx context.Context, store events.Store, view View, keys entry.Keys, opt RebuildOptions) (int, error) {
	if err := view.Reset(ctx); err != nil {
		return 0, err
	}
	if l, ok := view.(Loader); ok {
		return rebuildBatched(ctx, store, view, l.Load, l.Loaded, keys, opt)
	}
	if bp, ok := view.(BatchPutter); ok {
		write := func(ctx context.Context, rows []Entry) error {
			_, err := bp.PutBatch(ctx, rows)
			return err
		}
		return rebuildBatched(ctx, store, view, write, nil, keys, opt)
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

// Rebuild's batches: events read per page, and rows kept in memory
// between pages (past it they are read back from the view). Variables so
// that tests can make them small.
var (
	rebuildPage = 2000
	rebuildRows = 100_000
)

// rebuilder is the state of a batched rebuild: the latest row of each
// stream met so far. Until it is first cleared (forgot), a stream not in
// rows has no row of ours: the read starts at the oldest event, so
// folding from the zero row is right.
type rebuilder struct {
	view   View
	keys   entry.Keys
	rows   map[string]Entry
	forgot bool
}

// row returns the latest row of stream.
func (r *rebuilder) row(ctx context.Context, stream string) (Entry, error) {
	cur, ok := r.rows[stream]
	if !ok && r.forgot {
		var err error
		cur, err = r.view.Get(ctx, stream)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return cur, err
		}
	}
	return cur, nil
}

// apply folds e into its stream's row and reports whether the row changed.
func (r *rebuilder) apply(ctx context.Context, e events.Event) (bool, error) {
	cur, err := r.row(ctx, e.Stream)
	if err != nil {
		return false, err
	}
	next, change, err := Apply(ctx, r.keys, cur, e)
	if errors.Is(err, entry.ErrKeys) {
		return false, err
	}
	if err != nil {
		slog.Default().Error("projection skipped an unreadable event", "stream", e.Stream, "version", e.Version, "type", e.Type, "error", err)
		return false, nil
	}
	if change {
		r.rows[e.Stream] = next
	}
	return change, nil
}

// rebuildBatched folds and writes the pages; loaded, when set, is called
// once they are all written, before the tail (and, should the rebuild
// fail before that, on the way out, so the view is left whole).
func rebuildBatched(ctx context.Context, store events.Store, view View, write func(context.Context, []Entry) error, loaded func(context.Context) error, keys entry.Keys, opt RebuildOptions) (n int, err error) {
	if loaded != nil {
		defer func() {
			if loaded != nil {
				err = errors.Join(err, loaded(context.WithoutCancel(ctx)))
			}
		}()
	}
	r := &rebuilder{view: view, keys: keys, rows: map[string]Entry{}}
	// The next page is read while this one is applied and written.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type page struct {
		evs        []events.Event
		from, next string // the positions the page was read after, and of its end
		err        error
	}
	pages := make(chan page, 1)
	produce := func() {
		defer close(pages)
		pos := ""
		for {
			evs, next, err := store.ReadAll(rctx, pos, rebuildPage)
			select {
			case pages <- page{evs, pos, next, err}:
			case <-rctx.Done():
				return
			}
			if err != nil || len(evs) == 0 {
				return
			}
			pos = next
		}
	}
	go produce()
	// A page's rows are written while the next page is folded: one write
	// in flight at a time, so that pages land in order.
	var inflight chan error
	wait := func() error {
		if inflight == nil {
			return nil
		}
		err := <-inflight
		inflight = nil
		if err != nil {
			return fmt.Errorf("projections: rebuild: %w", err)
		}
		return nil
	}
	defer wait()
	// n counts the events read.
	var last page // the last page of events
	for pg := range pages {
		if pg.err != nil {
			return n, pg.err
		}
		if len(pg.evs) == 0 {
			break
		}
		if r.forgot {
			// Rows are read back from the view: the last page's must be in.
			if err := wait(); err != nil {
				return n, err
			}
		}
		changed := map[string]bool{}
		for _, e := range pg.evs {
			change, err := r.apply(ctx, e)
			if err != nil {
				return n, err
			}
			if change {
				changed[e.Stream] = true
			}
		}
		batch := make([]Entry, 0, len(changed))
		for _, e := range pg.evs { // in the order of their first event
			if changed[e.Stream] {
				batch = append(batch, r.rows[e.Stream])
				delete(changed, e.Stream)
			}
		}
		if err := wait(); err != nil {
			return n, err
		}
		if len(batch) > 0 {
			done := make(chan error, 1)
			go func() { done <- write(ctx, batch) }()
			inflight = done
		}
		n += len(pg.evs)
		last = pg
		if len(r.rows) > rebuildRows {
			clear(r.rows)
			r.forgot = true
		}
	}
	if err := wait(); err != nil {
		return n, err
	}
	cancel()
	if loaded != nil {
		err, loaded = loaded(ctx), nil
		if err != nil {
			return n, fmt.Errorf("projections: rebuild: %w", err)
		}
	}
	// The tail: what was appended while the rows were written (and what a
	// live projector may have applied to a row the load then replaced) is
	// applied with Put's version guard.
	seen := make(map[string]bool, len(last.evs))
	for _, e := range last.evs {
		seen[e.Position] = true
	}
	fresh, err := r.tail(ctx, store, last.next, seen)
	n += fresh
	if err != nil || fresh == 0 || opt.Settle <= 0 {
		return n, err
	}
	// Events came in during the rebuild: others write now. Once the
	// store's read has settled, every event appended before the last
	// write shows, so one more read, from the last page on (an event that
	// showed late may sort before the end of the first read), leaves
	// nothing behind.
	t := time.NewTimer(opt.Settle)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return n, ctx.Err()
	case <-t.C:
	}
	more, err := r.tail(ctx, store, last.from, seen)
	return n + more, err
}

// tail applies with Put every event after from that is not in seen, and
// adds it to seen; it returns how many it read.
func (r *rebuilder) tail(ctx context.Context, store events.Store, from string, seen map[string]bool) (int, error) {
	n, pos := 0, from
	for {
		evs, next, err := store.ReadAll(ctx, pos, rebuildPage)
		if err != nil {
			return n, fmt.Errorf("projections: rebuild: read the tail: %w", err)
		}
		if len(evs) == 0 {
			return n, nil
		}
		for _, e := range evs {
			if seen[e.Position] {
				continue
			}
			seen[e.Position] = true
			n++
			change, err := r.apply(ctx, e)
			if err != nil {
				return n, err
			}
			if !change {
				continue
			}
			if _, err := r.view.Put(ctx, r.rows[e.Stream]); err != nil {
				return n, fmt.Errorf("projections: rebuild: apply the tail: %w", err)
			}
		}
		pos = next
	}
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
