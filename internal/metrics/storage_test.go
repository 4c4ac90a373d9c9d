package metrics_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"mediashare/internal/backend"
	"mediashare/internal/blob/fileblob"
	"mediashare/internal/events"
	"mediashare/internal/events/eventstest"
	eventsqlite "mediashare/internal/events/sqlite"
	"mediashare/internal/metrics"
	"mediashare/internal/projections"
	viewsqlite "mediashare/internal/projections/sqlite"
	"mediashare/internal/sqlitedb"
)

// Every method of every storage port is timed and counted by port,
// operation and outcome, on the real embedded adapters.
func TestInstrumentCountsEveryStorageCall(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlitedb.Open(filepath.Join(dir, "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store, err := eventsqlite.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	view, err := viewsqlite.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := fileblob.New(filepath.Join(dir, "media"))
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	be := m.Instrument(&backend.Backend{Events: store, Audit: store, Streams: store, Feed: store, View: view, Changes: view, Blobs: blobs})

	e := eventstest.MustEvent(t, events.MediaUploaded, "s1", events.Uploaded{Title: "t", Original: "s1.png"})
	calls := []struct {
		port, op, outcome string
		call              func() error
	}{
		{"events", "append", "ok", func() error { _, err := be.Events.Append(ctx, "s1", 0, e); return err }},
		{"events", "append", "conflict", func() error {
			_, err := be.Events.Append(ctx, "s1", 0, eventstest.MustEvent(t, events.MediaDeleted, "s1", events.Deleted{}))
			return err
		}},
		{"events", "load", "ok", func() error { _, err := be.Events.Load(ctx, "s1"); return err }},
		{"events", "load", "not_found", func() error { _, err := be.Events.Load(ctx, "nope"); return err }},
		{"events", "read_all", "ok", func() error { _, _, err := be.Events.ReadAll(ctx, "", 10); return err }},
		{"events", "read_all", "error", func() error { _, _, err := be.Events.ReadAll(ctx, "garbage", 10); return err }},
		{"events", "ping", "ok", func() error { return be.Events.Ping(ctx) }},
		{"audit", "history", "ok", func() error { _, _, err := be.Audit.History(ctx, events.Filter{}, "", 10); return err }},
		{"streams", "streams", "ok", func() error { return be.Streams.Streams(ctx, 1, func(context.Context, string) error { return nil }) }},
		{"view", "put", "ok", func() error {
			_, err := be.View.Put(ctx, projections.Entry{EIB: "s1", Version: 1, Status: projections.Processing, Timestamp: time.Now(), UpdatedAt: time.Now()})
			return err
		}},
		{"view", "get", "ok", func() error { _, err := be.View.Get(ctx, "s1"); return err }},
		{"view", "get", "not_found", func() error { _, err := be.View.Get(ctx, "nope"); return err }},
		{"view", "list", "ok", func() error { _, err := be.View.List(ctx, "", 10); return err }},
		{"view", "save_checkpoint", "ok", func() error { return be.View.SaveCheckpoint(ctx, "c", "1") }},
		{"view", "checkpoint", "ok", func() error { _, err := be.View.Checkpoint(ctx, "c"); return err }},
		{"view", "ping", "ok", func() error { return be.View.Ping(ctx) }},
		{"changes", "changes", "ok", func() error { _, err := be.Changes.Changes(ctx, "", 10); return err }},
		{"changes", "last_change", "ok", func() error { _, err := be.Changes.LastChange(ctx); return err }},
		{"blobs", "put", "ok", func() error { _, err := be.Blobs.Put(ctx, "a.png", strings.NewReader("x"), "image/png"); return err }},
		{"blobs", "stat", "ok", func() error { _, err := be.Blobs.Stat(ctx, "a.png"); return err }},
		{"blobs", "open", "ok", func() error {
			o, err := be.Blobs.Open(ctx, "a.png")
			if err == nil {
				o.Close()
			}
			return err
		}},
		{"blobs", "open", "not_found", func() error { _, err := be.Blobs.Open(ctx, "b.png"); return err }},
		{"blobs", "delete", "ok", func() error { return be.Blobs.Delete(ctx, "a.png") }},
		{"blobs", "ping", "ok", func() error { return be.Blobs.Ping(ctx) }},
		{"view", "put_batch", "ok", func() error {
			bp, ok := be.View.(projections.BatchPutter)
			if !ok {
				t.Fatal("the decorated SQLite view lost PutBatch: the live projector would take one event at a time")
			}
			_, err := bp.PutBatch(ctx, []projections.Entry{{EIB: "s2", Version: 1, Status: projections.Processing, Timestamp: time.Now(), UpdatedAt: time.Now()}})
			return err
		}},
		{"view", "reset", "ok", func() error { return be.View.Reset(ctx) }},
		{"view", "load", "ok", func() error {
			l, ok := be.View.(projections.Loader)
			if !ok {
				t.Fatal("the decorated SQLite view lost Load: a rebuild would not load in bulk")
			}
			return l.Load(ctx, []projections.Entry{{EIB: "s3", Version: 1, Status: projections.Processing, Timestamp: time.Now(), UpdatedAt: time.Now()}})
		}},
		{"view", "loaded", "ok", func() error { return be.View.(projections.Loader).Loaded(ctx) }},
	}
	for _, c := range calls {
		err := c.call()
		if (err == nil) != (c.outcome == "ok") {
			t.Fatalf("%s.%s: got error %v, want outcome %s", c.port, c.op, err, c.outcome)
		}
		if got := counterValue(t, m.StorageOps.WithLabelValues(c.port, c.op, c.outcome)); got != 1 {
			t.Errorf("mediashare_storage_operations_total{port=%q,operation=%q,outcome=%q} = %v, want 1", c.port, c.op, c.outcome, got)
		}
	}
	if n := seriesCount(m.StorageDuration); n != 23 {
		t.Errorf("duration series: got %d, want 23 (one per port and operation called)", n)
	}
	if got := counterValue(t, m.EventsAppended.WithLabelValues(string(events.MediaUploaded))); got != 1 {
		t.Errorf("appended MediaUploaded counted %v times, want 1", got)
	}
	if r, ok := be.Changes.(projections.ChangeRetention); !ok || !r.Retains("1") {
		t.Error("the decorated change log of a log that forgets nothing must retain every position")
	}
}

// A view without bulk writes stays without them once decorated, so the
// projector's and the rebuild's checks still choose right.
func TestInstrumentKeepsOnlyTheBulkWritesAViewHas(t *testing.T) {
	be := metrics.New().Instrument(&backend.Backend{View: plainView{}})
	if _, ok := be.View.(projections.BatchPutter); ok {
		t.Error("a view without PutBatch gained one")
	}
	if _, ok := be.View.(projections.Loader); ok {
		t.Error("a view without Load gained one")
	}
	type loadOnly struct {
		plainView
		projections.Loader
	}
	be = metrics.New().Instrument(&backend.Backend{View: loadOnly{}})
	if _, ok := be.View.(projections.Loader); !ok {
		t.Error("a view with Load lost it")
	}
	if _, ok := be.View.(projections.BatchPutter); ok {
		t.Error("a view with Load only gained PutBatch")
	}
}

// plainView is a projections.View and nothing more.
type plainView struct{ projections.View }

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func seriesCount(c prometheus.Collector) int {
	ch := make(chan prometheus.Metric, 100)
	go func() { c.Collect(ch); close(ch) }()
	n := 0
	for range ch {
		n++
	}
	return n
}
