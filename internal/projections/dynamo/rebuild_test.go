package dynamo_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mediashare/internal/awstest"
	"mediashare/internal/events"
	"mediashare/internal/events/eventstest"
	eventsqlite "mediashare/internal/events/sqlite"
	"mediashare/internal/projections"
	"mediashare/internal/projections/dynamo"
	"mediashare/internal/sqlitedb"
)

func newView(t *testing.T) *dynamo.View {
	t.Helper()
	db := dynamodb.NewFromConfig(awstest.Config(t, awstest.Moto(t)))
	table := awstest.Name("view")
	if _, err := db.CreateTable(context.Background(), dynamo.TableInput(table)); err != nil {
		t.Fatalf("create table %s: %v", table, err)
	}
	v := dynamo.New(db, table)
	v.Settle = time.Millisecond
	return v
}

func newStore(t *testing.T) *eventsqlite.Store {
	t.Helper()
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := eventsqlite.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func eibOf(i int) string { return fmt.Sprintf("01JDDYNAMO%016d", i) }

// lifeOf is the events of entry i: ready, failed, in the trash, restored,
// deleted and purged, by i.
func lifeOf(t *testing.T, i int) []events.Event {
	eib := eibOf(i)
	evs := []events.Event{eventstest.MustEvent(t, events.MediaUploaded, eib, events.Uploaded{
		Title: fmt.Sprintf("photo %d", i), Comment: "c", MediaType: "image", ContentType: "image/jpeg",
		Size: 100, Width: 40, Height: 30, Original: eib + ".jpg", Owner: fmt.Sprintf("owner-%d", i%2), SHA256: fmt.Sprintf("%064x", i%3),
	})}
	thumb := eventstest.MustEvent(t, events.ThumbnailGenerated, eib, events.ThumbnailsGenerated{
		Thumbnails: []events.Thumb{{Key: eib + ".jpg-tn.png", Width: 32, Height: 24}}, Placeholder: "#102030"})
	trash := eventstest.MustEvent(t, events.MediaTrashed, eib, events.Trashed{Reason: "owner", PurgeAfter: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)})
	switch i % 5 {
	case 0:
		evs = append(evs, thumb)
	case 1:
		evs = append(evs, eventstest.MustEvent(t, events.ThumbnailFailed, eib, events.ThumbnailFailure{Reason: "decode_failed", Message: "no preview"}))
	case 2:
		evs = append(evs, thumb, trash)
	case 3:
		evs = append(evs, thumb, trash, eventstest.MustEvent(t, events.MediaRestored, eib, events.Restored{Reason: "owner"}))
	case 4:
		evs = append(evs, thumb, eventstest.MustEvent(t, events.MediaDeleted, eib, events.Deleted{Reason: "owner"}),
			eventstest.MustEvent(t, events.MediaPurged, eib, events.Purged{Keys: []string{eib + ".jpg"}}))
	}
	return evs
}

// appendLives appends the lives of n entries, their events interleaved.
func appendLives(t *testing.T, s events.Store, n int) {
	t.Helper()
	lives := make([][]events.Event, n)
	for i := range n {
		lives[i] = lifeOf(t, i)
	}
	for step := 0; step < 5; step++ {
		for i, l := range lives {
			if step < len(l) {
				if _, err := s.Append(context.Background(), eibOf(i), step, l[step]); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// everything is what a view shows of entries 0..n-1: rows, gallery,
// trash, owned entries and copies of both owners.
func everything(t *testing.T, v projections.View, n int) string {
	t.Helper()
	ctx := context.Background()
	var b []string
	for i := range n {
		e, err := v.Get(ctx, eibOf(i))
		if err != nil {
			t.Fatalf("Get %s: %v", eibOf(i), err)
		}
		b = append(b, fmt.Sprintf("%+v", e))
	}
	page, err := v.List(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, fmt.Sprint("gallery ", page))
	for _, owner := range []string{"owner-0", "owner-1"} {
		tr, err := v.Trash(ctx, owner, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		own, err := v.Owned(ctx, owner, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, fmt.Sprint("trash ", tr), fmt.Sprint("owned ", own))
		for h := range 3 {
			cp, err := v.Copies(ctx, owner, fmt.Sprintf("%064x", h))
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(cp, func(a, b projections.Entry) int { return compare(a.EIB, b.EIB) })
			b = append(b, fmt.Sprint("copies ", cp))
		}
	}
	return fmt.Sprint(b)
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// The rebuild of the DynamoDB view (rows folded in memory, loaded with
// BatchWriteItem) gives the view the live projector gives, event by
// event: rows, gallery, trash, owners' entries and copies.
func TestRebuildMatchesTheLiveProjector(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	const n = 12 // 60 items: three requests of 25
	appendLives(t, store, n)
	live, rebuilt := newView(t), newView(t)
	p := &projections.Projector{View: live}
	evs, _, err := store.ReadAll(ctx, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if err := p.Handle(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := projections.Rebuild(ctx, store, rebuilt, nil, projections.RebuildOptions{})
	if err != nil || got != len(evs) {
		t.Fatalf("Rebuild = %d, %v; want %d events", got, err, len(evs))
	}
	want := everything(t, live, n)
	if have := everything(t, rebuilt, n); have != want {
		t.Errorf("rebuilt view differs from the live one:\n got %s\nwant %s", have, want)
	}
	// A rebuild over the rebuilt view (Reset first) gives it again.
	if _, err := projections.Rebuild(ctx, store, rebuilt, nil, projections.RebuildOptions{}); err != nil {
		t.Fatal(err)
	}
	if have := everything(t, rebuilt, n); have != want {
		t.Errorf("second rebuild differs from the live view:\n got %s\nwant %s", have, want)
	}
	// Every rebuilt row is in the change log at its version.
	changes, err := rebuilt.Changes(ctx, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]int{}
	for _, c := range changes {
		last[c.EIB] = c.Version
	}
	for i := range n {
		e, _ := rebuilt.Get(ctx, eibOf(i))
		if last[e.EIB] != e.Version {
			t.Errorf("change log has %s at v%d, want v%d", e.EIB, last[e.EIB], e.Version)
		}
	}
}

// liveMeanwhile is a view whose first Load is preceded by what a live
// projector does while a rebuild runs: events are appended, and the live
// projector applies them to the view as it is then (rows not loaded yet,
// or a row it moved ahead that the load then replaces).
type liveMeanwhile struct {
	*dynamo.View
	before func()
	done   bool
}

func (l *liveMeanwhile) Load(ctx context.Context, rows []projections.Entry) error {
	if !l.done {
		l.done = true
		l.before()
	}
	return l.View.Load(ctx, rows)
}

// A live projector that runs during the rebuild cannot leave the rebuilt
// view behind the events: what it applied to a row not loaded yet, or to
// a row that the load then replaced with an older one, is applied again
// from the tail.
func TestRebuildBesideALiveProjector(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	const n = 10
	appendLives(t, store, n)
	v := &liveMeanwhile{View: newView(t)}
	live := &projections.Projector{View: v.View}
	appendLive := func(eib string, e events.Event) {
		evs, err := store.Load(ctx, eib)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Append(ctx, eib, len(evs), e); err != nil {
			t.Fatal(err)
		}
		evs, _ = store.Load(ctx, eib)
		if err := live.Handle(ctx, evs[len(evs)-1]); err != nil {
			t.Fatal(err)
		}
	}
	ready, other := eibOf(0), eibOf(5) // both ready, in the gallery
	v.before = func() {
		// The row is not loaded yet: the live projector has nothing to
		// apply this to, and drops it.
		appendLive(ready, eventstest.MustEvent(t, events.MediaTrashed, ready, events.Trashed{Reason: "owner", PurgeAfter: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}))
		// The live projector has the row ahead (as if loaded by an earlier
		// page); the load replaces it with the older one it folded.
		evs, err := store.Load(ctx, other)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if err := live.Handle(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		appendLive(other, eventstest.MustEvent(t, events.MediaDeleted, other, events.Deleted{Reason: "owner"}))
	}
	total := 0
	for i := range n {
		total += len(lifeOf(t, i))
	}
	got, err := projections.Rebuild(ctx, store, v, nil, projections.RebuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got != total+2 {
		t.Errorf("Rebuild read %d events, want %d (the two appended meanwhile too)", got, total+2)
	}
	if e, err := v.Get(ctx, ready); err != nil || !e.InTrash() || e.Version != 3 {
		t.Errorf("entry trashed during the rebuild: %+v (%v), want in the trash at v3", e, err)
	}
	if e, err := v.Get(ctx, other); err != nil || e.Status != projections.Deleted || e.Version != 3 {
		t.Errorf("entry deleted during the rebuild: %+v (%v), want deleted at v3", e, err)
	}
	// And the whole view is the one the live projector makes of the events.
	want := newView(t)
	p := &projections.Projector{View: want}
	evs, _, _ := store.ReadAll(ctx, "", 1000)
	for _, e := range evs {
		if err := p.Handle(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if have, w := everything(t, v, n), everything(t, want, n); have != w {
		t.Errorf("view after a rebuild beside a live projector:\n got %s\nwant %s", have, w)
	}
}

// Load refuses what would break a BatchWriteItem request or the table:
// an eib twice, and eibs that name the table's own items.
func TestLoadRejectsBadRows(t *testing.T) {
	ctx := context.Background()
	v := newView(t)
	ok := projections.Entry{EIB: eibOf(1), Status: projections.Processing, Version: 1, Timestamp: time.Now(), UpdatedAt: time.Now()}
	for _, tt := range []struct {
		name string
		rows []projections.Entry
	}{
		{"an eib twice", []projections.Entry{ok, ok}},
		{"no eib", []projections.Entry{{Version: 1}}},
		{"a checkpoint's eib", []projections.Entry{{EIB: "#checkpoint/entries-view", Version: 1}}},
		{"a change item's eib", []projections.Entry{ok, {EIB: "#change/0000000000001#x#0000000001", Version: 1}}},
	} {
		if err := v.Load(ctx, tt.rows); err == nil {
			t.Errorf("%s: Load = nil, want an error", tt.name)
		}
	}
	if _, err := v.Get(ctx, ok.EIB); err == nil {
		t.Error("a refused Load stored a row")
	}
	if cs, _ := v.Changes(ctx, "", 10); len(cs) != 0 {
		t.Errorf("a refused Load recorded changes: %v", cs)
	}
}

// Reset's parallel scan deletes every item but the change log's, whatever
// segment it falls in.
func TestResetEmptiesEverySegment(t *testing.T) {
	ctx := context.Background()
	db := dynamodb.NewFromConfig(awstest.Config(t, awstest.Moto(t)))
	table := awstest.Name("view")
	if _, err := db.CreateTable(ctx, dynamo.TableInput(table)); err != nil {
		t.Fatal(err)
	}
	v := dynamo.New(db, table)
	v.Writers = 3
	var rows []projections.Entry
	now := time.Now().UTC()
	for i := range 40 {
		rows = append(rows, projections.Entry{EIB: eibOf(i), Owner: "o", SHA256: "ab", Status: projections.Ready, Version: 2, Timestamp: now, UpdatedAt: now})
	}
	if err := v.Load(ctx, rows); err != nil {
		t.Fatal(err)
	}
	if err := v.SaveCheckpoint(ctx, projections.ViewConsumer, "gen-1"); err != nil {
		t.Fatal(err)
	}
	if err := v.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: &table, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	changes := 0
	for _, it := range out.Items {
		k := it[dynamo.AttrEIB].(*types.AttributeValueMemberS).Value
		if !strings.HasPrefix(k, "#change/") {
			t.Errorf("Reset left %s", k)
			continue
		}
		changes++
	}
	if changes != len(rows) {
		t.Errorf("Reset left %d change items, want the %d of the load", changes, len(rows))
	}
}
