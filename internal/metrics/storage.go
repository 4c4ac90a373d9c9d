package metrics

import (
	"context"
	"errors"
	"io"
	"time"

	"mediashare/internal/backend"
	"mediashare/internal/blob"
	"mediashare/internal/events"
	"mediashare/internal/keyring"
	"mediashare/internal/projections"
)

// Storage decorators: every method of every storage port, on either
// backend, is timed and counted by port, operation and outcome
// (mediashare_storage_operations_total, ..._duration_seconds).

// Outcomes of a storage operation (a closed set of label values).
const (
	outcomeOK       = "ok"
	outcomeNotFound = "not_found"
	outcomeConflict = "conflict"
	outcomeError    = "error"
)

func storageOutcome(err error) string {
	switch {
	case err == nil:
		return outcomeOK
	case errors.Is(err, events.ErrNotFound), errors.Is(err, projections.ErrNotFound), errors.Is(err, blob.ErrNotFound),
		errors.Is(err, keyring.ErrNotFound), errors.Is(err, keyring.ErrDestroyed):
		return outcomeNotFound
	case events.IsConflict(err):
		return outcomeConflict
	}
	return outcomeError
}

// observe records one call of port.op that started at start.
func (m *Metrics) observe(port, op string, start time.Time, err error) {
	m.StorageDuration.WithLabelValues(port, op).Observe(time.Since(start).Seconds())
	m.StorageOps.WithLabelValues(port, op, storageOutcome(err)).Inc()
}

// Instrument returns b with every storage port decorated for metrics;
// the feed and the close function are b's own.
func (m *Metrics) Instrument(b *backend.Backend) *backend.Backend {
	out := *b
	out.Events = m.Events(b.Events)
	if b.Audit != nil {
		out.Audit = &timedAuditor{a: b.Audit, m: m}
	}
	if b.Streams != nil {
		out.Streams = &timedLister{l: b.Streams, m: m}
	}
	out.View = m.view(b.View)
	if b.Changes != nil {
		out.Changes = &timedChanges{c: b.Changes, m: m}
	}
	out.Blobs = &timedBlobs{b: b.Blobs, m: m}
	if b.Keys != nil {
		out.Keys = &timedKeys{k: b.Keys, m: m}
	}
	return &out
}

// Events wraps an event store so that every call is timed and counted,
// and appends are counted by event type.
func (m *Metrics) Events(s events.Store) events.Store { return &countingStore{s: s, m: m} }

type countingStore struct {
	s events.Store
	m *Metrics
}

func (c *countingStore) Append(ctx context.Context, stream string, expected int, evs ...events.Event) ([]events.Event, error) {
	start := time.Now()
	out, err := c.s.Append(ctx, stream, expected, evs...)
	c.m.observe("events", "append", start, err)
	if err == nil {
		for _, e := range evs {
			c.m.EventsAppended.WithLabelValues(string(e.Type)).Inc()
		}
	}
	return out, err
}

func (c *countingStore) Load(ctx context.Context, stream string) ([]events.Event, error) {
	start := time.Now()
	evs, err := c.s.Load(ctx, stream)
	c.m.observe("events", "load", start, err)
	return evs, err
}

func (c *countingStore) ReadAll(ctx context.Context, after string, limit int) ([]events.Event, string, error) {
	start := time.Now()
	evs, next, err := c.s.ReadAll(ctx, after, limit)
	c.m.observe("events", "read_all", start, err)
	return evs, next, err
}

func (c *countingStore) Ping(ctx context.Context) error {
	start := time.Now()
	err := c.s.Ping(ctx)
	c.m.observe("events", "ping", start, err)
	return err
}

type timedAuditor struct {
	a events.Auditor
	m *Metrics
}

func (t *timedAuditor) History(ctx context.Context, f events.Filter, before string, limit int) ([]events.Event, string, error) {
	start := time.Now()
	evs, next, err := t.a.History(ctx, f, before, limit)
	t.m.observe("audit", "history", start, err)
	return evs, next, err
}

type timedLister struct {
	l events.StreamLister
	m *Metrics
}

func (t *timedLister) Streams(ctx context.Context, segments int, fn func(ctx context.Context, stream string) error) error {
	start := time.Now()
	err := t.l.Streams(ctx, segments, fn)
	t.m.observe("streams", "streams", start, err)
	return err
}

type timedView struct {
	v projections.View
	m *Metrics
}

// view wraps v, keeping the bulk writes it offers (projections.Loader for
// a rebuild, projections.BatchPutter for the live projector's batches):
// without them the projector would fall back to one event at a time.
func (m *Metrics) view(v projections.View) projections.View {
	t := &timedView{v: v, m: m}
	l, load := v.(projections.Loader)
	bp, batch := v.(projections.BatchPutter)
	switch {
	case load && batch:
		return &timedLoadBatchView{timedView: t, l: l, bp: bp}
	case load:
		return &timedLoadView{timedView: t, l: l}
	case batch:
		return &timedBatchView{timedView: t, bp: bp}
	}
	return t
}

type timedLoadView struct {
	*timedView
	l projections.Loader
}

func (t *timedLoadView) Load(ctx context.Context, rows []projections.Entry) error {
	return t.timedView.load(ctx, t.l, rows)
}

func (t *timedLoadView) Loaded(ctx context.Context) error { return t.timedView.loaded(ctx, t.l) }

type timedBatchView struct {
	*timedView
	bp projections.BatchPutter
}

func (t *timedBatchView) PutBatch(ctx context.Context, rows []projections.Entry) ([]bool, error) {
	return t.timedView.putBatch(ctx, t.bp, rows)
}

type timedLoadBatchView struct {
	*timedView
	l  projections.Loader
	bp projections.BatchPutter
}

func (t *timedLoadBatchView) Load(ctx context.Context, rows []projections.Entry) error {
	return t.timedView.load(ctx, t.l, rows)
}

func (t *timedLoadBatchView) Loaded(ctx context.Context) error { return t.timedView.loaded(ctx, t.l) }

func (t *timedLoadBatchView) PutBatch(ctx context.Context, rows []projections.Entry) ([]bool, error) {
	return t.timedView.putBatch(ctx, t.bp, rows)
}

func (t *timedView) load(ctx context.Context, l projections.Loader, rows []projections.Entry) error {
	start := time.Now()
	err := l.Load(ctx, rows)
	t.m.observe("view", "load", start, err)
	return err
}

func (t *timedView) loaded(ctx context.Context, l projections.Loader) error {
	start := time.Now()
	err := l.Loaded(ctx)
	t.m.observe("view", "loaded", start, err)
	return err
}

func (t *timedView) putBatch(ctx context.Context, bp projections.BatchPutter, rows []projections.Entry) ([]bool, error) {
	start := time.Now()
	ok, err := bp.PutBatch(ctx, rows)
	t.m.observe("view", "put_batch", start, err)
	return ok, err
}

func (t *timedView) Get(ctx context.Context, eib string) (projections.Entry, error) {
	start := time.Now()
	e, err := t.v.Get(ctx, eib)
	t.m.observe("view", "get", start, err)
	return e, err
}

func (t *timedView) Put(ctx context.Context, e projections.Entry) (bool, error) {
	start := time.Now()
	ok, err := t.v.Put(ctx, e)
	t.m.observe("view", "put", start, err)
	return ok, err
}

func (t *timedView) List(ctx context.Context, cursor string, limit int) (projections.Page, error) {
	start := time.Now()
	p, err := t.v.List(ctx, cursor, limit)
	t.m.observe("view", "list", start, err)
	return p, err
}

func (t *timedView) Trash(ctx context.Context, owner, cursor string, limit int) (projections.Page, error) {
	start := time.Now()
	p, err := t.v.Trash(ctx, owner, cursor, limit)
	t.m.observe("view", "trash", start, err)
	return p, err
}

func (t *timedView) Expired(ctx context.Context, at time.Time, limit int) ([]projections.Entry, error) {
	start := time.Now()
	es, err := t.v.Expired(ctx, at, limit)
	t.m.observe("view", "expired", start, err)
	return es, err
}

func (t *timedView) Owned(ctx context.Context, owner, cursor string, limit int) (projections.Page, error) {
	start := time.Now()
	p, err := t.v.Owned(ctx, owner, cursor, limit)
	t.m.observe("view", "owned", start, err)
	return p, err
}

func (t *timedView) Copies(ctx context.Context, owner, sha256 string) ([]projections.Entry, error) {
	start := time.Now()
	es, err := t.v.Copies(ctx, owner, sha256)
	t.m.observe("view", "copies", start, err)
	return es, err
}

func (t *timedView) Reset(ctx context.Context) error {
	start := time.Now()
	err := t.v.Reset(ctx)
	t.m.observe("view", "reset", start, err)
	return err
}

func (t *timedView) Ping(ctx context.Context) error {
	start := time.Now()
	err := t.v.Ping(ctx)
	t.m.observe("view", "ping", start, err)
	return err
}

func (t *timedView) Checkpoint(ctx context.Context, name string) (string, error) {
	start := time.Now()
	p, err := t.v.Checkpoint(ctx, name)
	t.m.observe("view", "checkpoint", start, err)
	return p, err
}

func (t *timedView) SaveCheckpoint(ctx context.Context, name, position string) error {
	start := time.Now()
	err := t.v.SaveCheckpoint(ctx, name, position)
	t.m.observe("view", "save_checkpoint", start, err)
	return err
}

type timedChanges struct {
	c projections.ChangeLog
	m *Metrics
}

func (t *timedChanges) Changes(ctx context.Context, after string, limit int) ([]projections.Change, error) {
	start := time.Now()
	cs, err := t.c.Changes(ctx, after, limit)
	t.m.observe("changes", "changes", start, err)
	return cs, err
}

func (t *timedChanges) LastChange(ctx context.Context) (string, error) {
	start := time.Now()
	p, err := t.c.LastChange(ctx)
	t.m.observe("changes", "last_change", start, err)
	return p, err
}

// Retains implements projections.ChangeRetention: a change log that
// forgets nothing retains every position.
func (t *timedChanges) Retains(position string) bool {
	if r, ok := t.c.(projections.ChangeRetention); ok {
		return r.Retains(position)
	}
	return true
}

type timedBlobs struct {
	b blob.Store
	m *Metrics
}

func (t *timedBlobs) Put(ctx context.Context, key string, r io.Reader, contentType string) (blob.Info, error) {
	start := time.Now()
	info, err := t.b.Put(ctx, key, r, contentType)
	t.m.observe("blobs", "put", start, err)
	return info, err
}

func (t *timedBlobs) PutFile(ctx context.Context, key, path, contentType, sum string) (blob.Info, error) {
	start := time.Now()
	info, err := t.b.PutFile(ctx, key, path, contentType, sum)
	t.m.observe("blobs", "put_file", start, err)
	return info, err
}

func (t *timedBlobs) Open(ctx context.Context, key string) (blob.Object, error) {
	start := time.Now()
	o, err := t.b.Open(ctx, key)
	t.m.observe("blobs", "open", start, err)
	return o, err
}

func (t *timedBlobs) Stat(ctx context.Context, key string) (blob.Info, error) {
	start := time.Now()
	info, err := t.b.Stat(ctx, key)
	t.m.observe("blobs", "stat", start, err)
	return info, err
}

func (t *timedBlobs) Delete(ctx context.Context, key string) error {
	start := time.Now()
	err := t.b.Delete(ctx, key)
	t.m.observe("blobs", "delete", start, err)
	return err
}

func (t *timedBlobs) Ping(ctx context.Context) error {
	start := time.Now()
	err := t.b.Ping(ctx)
	t.m.observe("blobs", "ping", start, err)
	return err
}

// FeedHooks sets the poison rule's metrics hooks: parked events and
// retries by consumer (and reason), on either backend.
func (m *Metrics) FeedHooks(p *events.Poison, consumers ...string) {
	for _, c := range consumers {
		m.FeedRetries.WithLabelValues(c)
		for _, r := range []events.ParkReason{events.ParkPoison, events.ParkFailed} {
			m.FeedParked.WithLabelValues(c, string(r))
		}
	}
	known := map[string]bool{}
	for _, c := range consumers {
		known[c] = true
	}
	label := func(c string) string {
		if known[c] {
			return c
		}
		return "other"
	}
	p.OnPark = func(consumer string, reason events.ParkReason) {
		m.FeedParked.WithLabelValues(label(consumer), string(reason)).Inc()
	}
	p.OnRetry = func(consumer string) { m.FeedRetries.WithLabelValues(label(consumer)).Inc() }
}
