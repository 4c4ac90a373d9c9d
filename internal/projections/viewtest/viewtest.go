// Package viewtest is the conformance suite every projections.View
// adapter passes: viewtest.Run(t, newView).
package viewtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"mediashare/internal/ids"
	"mediashare/internal/projections"
)

// Run runs the suite; newView must return an empty view each call.
func Run(t *testing.T, newView func(t *testing.T) projections.View) {
	tests := []struct {
		name string
		fn   func(t *testing.T, v projections.View)
	}{
		{"PutAndGetRoundTrip", testRoundTrip},
		{"GetMissing", testGetMissing},
		{"StaleAndDuplicatePutsChangeNothing", testVersionGuard},
		{"TombstonesLeaveTheGalleryAndStay", testTombstone},
		{"ListNewestFirstInPages", testList},
		{"ListRejectsForeignCursor", testBadCursor},
		{"Checkpoints", testCheckpoints},
		{"Reset", testReset},
		{"ChangeLogRecordsStoredRows", testChangeLog},
		{"TrashListsAnOwnersTrashInPages", testTrash},
		{"ExpiredListsTheTrashPastItsPeriod", testExpired},
		{"CopiesFindAnOwnersCopiesOfSomeBytes", testCopies},
		{"OwnedListsAnOwnersEntriesInPages", testOwned},
		{"PutBatchKeepsPutsRule", testPutBatch},
		{"LoadFillsAnEmptiedView", testLoad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newView(t)) })
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

var base = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// entry makes a processing entry uploaded at base+i seconds.
func entry(i int) projections.Entry {
	at := base.Add(time.Duration(i) * time.Second)
	eib := ids.New(at)
	return projections.Entry{
		EIB: eib, EID: ids.New(at), Timestamp: at, Title: fmt.Sprintf("title %d <i>", i), Comment: "a comment\nwith lines",
		Resource: eib + ".jpg", Thumbnail: eib + ".jpg-tn.png", Type: "image", Status: projections.Processing,
		Owner: "owner-1", ContentType: "image/jpeg", Size: 12345, Width: 4000, Height: 3000, Version: 1, UpdatedAt: at,
		SHA256: fmt.Sprintf("%064x", i),
	}
}

// trashed is e moved to the trash until until, one version on.
func trashed(e projections.Entry, until time.Time) projections.Entry {
	e.Version++
	e.TrashUntil = until
	return e
}

func eibs(es []projections.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.EIB
	}
	return out
}

func testTrash(t *testing.T, v projections.View) {
	c := ctx(t)
	var want []string // latest end of period first
	for i := 0; i < 5; i++ {
		e := entry(50 + i)
		e.Status, e.ThumbWidth, e.Placeholder = projections.Ready, 320, "#123456"
		mustPut(t, v, e)
		te := trashed(e, base.Add(time.Duration(30+i)*time.Hour))
		mustPut(t, v, te)
		want = append([]string{e.EIB}, want...)
		if i == 0 {
			if got := mustGet(t, v, e.EIB); got != te {
				t.Errorf("a row in the trash round trip:\n got %+v\nwant %+v", got, te)
			}
		}
	}
	// Not in alice's trash: another owner's, one in the gallery, one
	// restored, one deleted for good from the trash.
	other := entry(60)
	other.Owner = "owner-2"
	mustPut(t, v, trashed(other, base.Add(40*time.Hour)))
	mustPut(t, v, entry(61))
	back := entry(62)
	mustPut(t, v, back)
	tb := trashed(back, base.Add(41*time.Hour))
	mustPut(t, v, tb)
	tb.Version, tb.TrashUntil = 3, time.Time{}
	mustPut(t, v, tb)
	gone := entry(63)
	tg := trashed(gone, base.Add(42*time.Hour))
	mustPut(t, v, tg)
	tg.Version, tg.Status, tg.TrashUntil = 3, projections.Deleted, time.Time{}
	mustPut(t, v, tg)

	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("Trash never ended")
		}
		page, err := v.Trash(c, "owner-1", cursor, 2)
		if err != nil {
			t.Fatalf("Trash(%q): %v", cursor, err)
		}
		if len(page.Entries) > 2 {
			t.Fatalf("Trash returned %d entries, limit 2", len(page.Entries))
		}
		for _, e := range page.Entries {
			if !e.InTrash() || e.Visible() || e.Owner != "owner-1" || e.Title == "" || e.Placeholder != "#123456" {
				t.Errorf("a trash row: %+v", e)
			}
		}
		got = append(got, eibs(page.Entries)...)
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("owner-1's trash:\n got %v\nwant %v", got, want)
	}
	page, err := v.Trash(c, "owner-2", "", 10)
	if err != nil || fmt.Sprint(eibs(page.Entries)) != fmt.Sprint([]string{other.EIB}) {
		t.Errorf("owner-2's trash: %v (%v), want only its own", eibs(page.Entries), err)
	}
	if page, err := v.Trash(c, "", "", 10); err != nil || len(page.Entries) != 0 {
		t.Errorf("the trash of no owner: %v (%v), want empty", eibs(page.Entries), err)
	}
	if _, err := v.Trash(c, "owner-1", "not-a-cursor", 2); !errors.Is(err, projections.ErrBadCursor) {
		t.Errorf("Trash with a foreign cursor: got %v, want ErrBadCursor", err)
	}
	gallery, err := v.List(c, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range gallery.Entries {
		if e.InTrash() {
			t.Errorf("an entry in the trash is listed in the gallery: %s", e.EIB)
		}
	}
	if !slices.Contains(eibs(gallery.Entries), back.EIB) {
		t.Error("a restored entry is not back in the gallery")
	}
}

func testExpired(t *testing.T, v projections.View) {
	c := ctx(t)
	now := base.Add(100 * time.Hour)
	var want []string // earliest end of period first
	for i, d := range []time.Duration{-3 * time.Hour, -2 * time.Hour, -time.Millisecond, 0} {
		e := entry(70 + i)
		if i%2 == 1 {
			e.Owner = "owner-2" // every owner's trash
		}
		mustPut(t, v, e)
		mustPut(t, v, trashed(e, now.Add(d)))
		want = append(want, e.EIB)
	}
	later := entry(75)
	mustPut(t, v, later)
	mustPut(t, v, trashed(later, now.Add(time.Millisecond)))
	restored := entry(76)
	mustPut(t, v, restored)
	tr := trashed(restored, now.Add(-time.Hour))
	mustPut(t, v, tr)
	tr.Version, tr.TrashUntil = 3, time.Time{}
	mustPut(t, v, tr)

	got, err := v.Expired(c, now, 10)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(eibs(got)) != fmt.Sprint(want) {
		t.Errorf("expired at now:\n got %v\nwant %v (not the later one, not the restored one)", eibs(got), want)
	}
	for _, e := range got {
		if !e.InTrash() || e.Title == "" {
			t.Errorf("an expired row: %+v", e)
		}
	}
	if got, err := v.Expired(c, now, 2); err != nil || fmt.Sprint(eibs(got)) != fmt.Sprint(want[:2]) {
		t.Errorf("expired with limit 2: %v (%v), want %v", eibs(got), err, want[:2])
	}
	if got, err := v.Expired(c, base, 10); err != nil || len(got) != 0 {
		t.Errorf("expired long before: %v (%v), want none", eibs(got), err)
	}
}

func testCopies(t *testing.T, v projections.View) {
	c := ctx(t)
	a, b := entry(80), entry(81)
	b.SHA256 = a.SHA256 // the same bytes twice (from before the check)
	inTrash := entry(82)
	inTrash.SHA256 = a.SHA256
	theirs := entry(83)
	theirs.SHA256, theirs.Owner = a.SHA256, "owner-2"
	gone := entry(84)
	gone.SHA256 = a.SHA256
	for _, e := range []projections.Entry{a, b, inTrash, theirs, gone, entry(85)} {
		mustPut(t, v, e)
	}
	mustPut(t, v, trashed(inTrash, base.Add(time.Hour)))
	gone.Version, gone.Status = 2, projections.Deleted
	mustPut(t, v, gone)

	got, err := v.Copies(c, "owner-1", a.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{a.EIB, b.EIB, inTrash.EIB}
	slices.Sort(want)
	g := eibs(got)
	slices.Sort(g)
	if fmt.Sprint(g) != fmt.Sprint(want) {
		t.Errorf("owner-1's copies:\n got %v\nwant %v (gallery and trash, not deleted, not another owner's)", g, want)
	}
	for _, e := range got {
		if e.SHA256 != a.SHA256 || e.Owner != "owner-1" || e.Title == "" {
			t.Errorf("a copy row: %+v", e)
		}
	}
	if got, err := v.Copies(c, "owner-2", a.SHA256); err != nil || fmt.Sprint(eibs(got)) != fmt.Sprint([]string{theirs.EIB}) {
		t.Errorf("owner-2's copies: %v (%v)", eibs(got), err)
	}
	for _, tt := range []struct{ name, owner, sha string }{
		{"other bytes", "owner-1", fmt.Sprintf("%064x", 999)},
		{"no owner", "", a.SHA256},
		{"no hash", "owner-1", ""},
	} {
		if got, err := v.Copies(c, tt.owner, tt.sha); err != nil || len(got) != 0 {
			t.Errorf("%s: %v (%v), want none", tt.name, eibs(got), err)
		}
	}
	// Deleted for good (from the gallery or the trash): no longer a copy.
	a.Version, a.Status = 2, projections.Deleted
	mustPut(t, v, a)
	if got, _ := v.Copies(c, "owner-1", a.SHA256); slices.Contains(eibs(got), a.EIB) {
		t.Error("a deleted entry is still found as a copy")
	}
}

func mustPut(t *testing.T, v projections.View, e projections.Entry) bool {
	t.Helper()
	ok, err := v.Put(ctx(t), e)
	if err != nil {
		t.Fatalf("Put %s v%d: %v", e.EIB, e.Version, err)
	}
	return ok
}

func mustGet(t *testing.T, v projections.View, eib string) projections.Entry {
	t.Helper()
	e, err := v.Get(ctx(t), eib)
	if err != nil {
		t.Fatalf("Get %s: %v", eib, err)
	}
	return e
}

func testRoundTrip(t *testing.T, v projections.View) {
	want := entry(1)
	want.ThumbWidth, want.ThumbHeight, want.Placeholder, want.FailReason = 320, 240, "#112233", "none"
	want.Preview, want.PreviewWidth, want.PreviewHeight = want.Resource+"-preview.jpg", 1280, 960
	if !mustPut(t, v, want) {
		t.Fatal("Put of a new entry reported not stored")
	}
	got := mustGet(t, v, want.EIB)
	if got != want {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
}

func testGetMissing(t *testing.T, v projections.View) {
	if _, err := v.Get(ctx(t), ids.New(base)); !errors.Is(err, projections.ErrNotFound) {
		t.Errorf("Get of a missing eib: got %v, want ErrNotFound", err)
	}
}

func testVersionGuard(t *testing.T, v projections.View) {
	e1 := entry(2)
	e3 := e1
	e3.Version, e3.Status, e3.Placeholder = 3, projections.Ready, "#abcdef"
	e2 := e1
	e2.Version, e2.Status = 2, projections.Failed
	mustPut(t, v, e1)
	if !mustPut(t, v, e3) {
		t.Fatal("a newer version was not stored")
	}
	tests := []struct {
		name string
		e    projections.Entry
	}{
		{"older version arriving late", e2},
		{"duplicate of the current version", e3},
		{"first version again", e1},
	}
	for _, tt := range tests {
		if mustPut(t, v, tt.e) {
			t.Errorf("%s: Put reported stored, want ignored", tt.name)
		}
		if got := mustGet(t, v, e1.EIB); got != e3 {
			t.Errorf("%s: row changed to %+v, want %+v", tt.name, got, e3)
		}
	}
}

func testTombstone(t *testing.T, v projections.View) {
	e := entry(3)
	mustPut(t, v, e)
	dead := e
	dead.Version, dead.Status = 2, projections.Deleted
	mustPut(t, v, dead)
	late := e
	late.Version = 1
	mustPut(t, v, late) // a late duplicate of the upload
	if got := mustGet(t, v, e.EIB); got.Status != projections.Deleted {
		t.Errorf("after a late duplicate the status is %q, want deleted", got.Status)
	}
	page, err := v.List(ctx(t), "", 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range page.Entries {
		if p.EIB == e.EIB {
			t.Errorf("a deleted entry is listed in the gallery")
		}
	}
}

func testList(t *testing.T, v projections.View) {
	var want []string
	for i := 0; i < 7; i++ {
		e := entry(10 + i)
		mustPut(t, v, e)
		want = append([]string{e.EIB}, want...) // newest first
	}
	// Two entries in the same millisecond still get a stable order.
	same := entry(20)
	same2 := entry(20)
	mustPut(t, v, same)
	mustPut(t, v, same2)
	first, second := same.EIB, same2.EIB
	if first < second {
		first, second = second, first
	}
	want = append([]string{first, second}, want...)

	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("List never ended")
		}
		page, err := v.List(ctx(t), cursor, 3)
		if err != nil {
			t.Fatalf("List(%q): %v", cursor, err)
		}
		if len(page.Entries) > 3 {
			t.Fatalf("List returned %d entries, limit 3", len(page.Entries))
		}
		for _, e := range page.Entries {
			got = append(got, e.EIB)
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("gallery order:\n got %v\nwant %v", got, want)
	}
}

func testBadCursor(t *testing.T, v projections.View) {
	if _, err := v.List(ctx(t), "not-a-cursor", 3); !errors.Is(err, projections.ErrBadCursor) {
		t.Errorf("List with a foreign cursor: got %v, want ErrBadCursor", err)
	}
}

func testCheckpoints(t *testing.T, v projections.View) {
	c := ctx(t)
	if got, err := v.Checkpoint(c, "entries"); err != nil || got != "" {
		t.Fatalf("a new checkpoint: got %q (%v), want empty", got, err)
	}
	for _, pos := range []string{"1", "42"} {
		if err := v.SaveCheckpoint(c, "entries", pos); err != nil {
			t.Fatal(err)
		}
		if got, _ := v.Checkpoint(c, "entries"); got != pos {
			t.Errorf("checkpoint: got %q, want %q", got, pos)
		}
	}
	if got, _ := v.Checkpoint(c, "other"); got != "" {
		t.Errorf("another consumer's checkpoint: got %q, want empty", got)
	}
}

func testReset(t *testing.T, v projections.View) {
	c := ctx(t)
	e := entry(30)
	mustPut(t, v, e)
	if err := v.SaveCheckpoint(c, "entries", "7"); err != nil {
		t.Fatal(err)
	}
	if err := v.Reset(c); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	if _, err := v.Get(c, e.EIB); !errors.Is(err, projections.ErrNotFound) {
		t.Errorf("after Reset Get: got %v, want ErrNotFound", err)
	}
	if got, _ := v.Checkpoint(c, "entries"); got != "" {
		t.Errorf("after Reset the checkpoint is %q, want empty", got)
	}
	if err := v.Ping(c); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func testChangeLog(t *testing.T, v projections.View) {
	c := ctx(t)
	cl, ok := v.(projections.ChangeLog)
	if !ok {
		t.Fatalf("%T does not implement projections.ChangeLog (the live gallery follows it)", v)
	}
	if last, err := cl.LastChange(c); err != nil || last != "" {
		t.Fatalf("LastChange of an empty view: %q (%v), want empty", last, err)
	}
	a, b := entry(40), entry(41)
	mustPut(t, v, a)
	mustPut(t, v, b)
	a2 := a
	a2.Version, a2.Status = 2, projections.Ready
	mustPut(t, v, a2)
	mustPut(t, v, a) // stale: not stored, not a change
	changes, err := cl.Changes(c, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []projections.Change{{EIB: a.EIB, Version: 1}, {EIB: b.EIB, Version: 1}, {EIB: a.EIB, Version: 2}}
	if len(changes) != len(want) {
		t.Fatalf("changes: got %v, want %v", changes, want)
	}
	for i := range want {
		if changes[i].EIB != want[i].EIB || changes[i].Version != want[i].Version {
			t.Errorf("change %d: got %+v, want %+v", i, changes[i], want[i])
		}
		if i > 0 && !(changes[i-1].Position < changes[i].Position) {
			t.Errorf("positions do not increase as strings: %q then %q", changes[i-1].Position, changes[i].Position)
		}
	}
	last, err := cl.LastChange(c)
	if err != nil || last != changes[2].Position {
		t.Errorf("LastChange: %q (%v), want %q", last, err, changes[2].Position)
	}
	rest, err := cl.Changes(c, changes[0].Position, 10)
	if err != nil || len(rest) != 2 || rest[0].Position != changes[1].Position {
		t.Errorf("Changes after the first: %v (%v), want the last two", rest, err)
	}
	if more, _ := cl.Changes(c, last, 10); len(more) != 0 {
		t.Errorf("Changes after the last: %v, want none", more)
	}
	if page, _ := cl.Changes(c, "", 1); len(page) != 1 {
		t.Errorf("Changes with limit 1 returned %d", len(page))
	}
}

func testOwned(t *testing.T, v projections.View) {
	c := ctx(t)
	var want []string // newest upload first
	for i := 0; i < 5; i++ {
		e := entry(80 + i)
		e.Owner = "owner-9"
		mustPut(t, v, e)
		want = append([]string{e.EIB}, want...)
	}
	// One in the trash still counts; a deleted one and another owner's do not.
	tr := entry(85)
	tr.Owner = "owner-9"
	mustPut(t, v, tr)
	mustPut(t, v, trashed(tr, base.Add(50*time.Hour)))
	want = append([]string{tr.EIB}, want...)
	gone := entry(86)
	gone.Owner = "owner-9"
	mustPut(t, v, gone)
	gone.Version, gone.Status = 2, projections.Deleted
	mustPut(t, v, gone)
	other := entry(87)
	other.Owner = "owner-10"
	mustPut(t, v, other)
	// An entry that changes owner (a claim) moves to its new owner.
	moved := entry(88)
	moved.Owner = "owner-10"
	mustPut(t, v, moved)
	moved.Version, moved.Owner = 2, "owner-9"
	mustPut(t, v, moved)
	want = append([]string{moved.EIB}, want...)

	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 6 {
			t.Fatal("Owned never ended")
		}
		page, err := v.Owned(c, "owner-9", cursor, 2)
		if err != nil {
			t.Fatalf("Owned(%q): %v", cursor, err)
		}
		if len(page.Entries) > 2 {
			t.Fatalf("Owned returned %d entries, limit 2", len(page.Entries))
		}
		for _, e := range page.Entries {
			if e.Owner != "owner-9" || e.Status == projections.Deleted || e.Title == "" {
				t.Errorf("an owned row: %+v", e)
			}
		}
		got = append(got, eibs(page.Entries)...)
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("owner-9's entries:\n got %v\nwant %v", got, want)
	}
	if page, err := v.Owned(c, "owner-10", "", 10); err != nil || fmt.Sprint(eibs(page.Entries)) != fmt.Sprint([]string{other.EIB}) {
		t.Errorf("owner-10's entries after the claim: %v, %v; want [%s]", eibs(page.Entries), err, other.EIB)
	}
	if _, err := v.Owned(c, "owner-9", "not a cursor", 2); !errors.Is(err, projections.ErrBadCursor) {
		t.Errorf("a bad cursor: %v, want ErrBadCursor", err)
	}
}

// testPutBatch: a view that stores rows in batches (for rebuilds) keeps
// Put's version guard and records each stored row as a change, and no
// other.
func testPutBatch(t *testing.T, v projections.View) {
	bp, ok := v.(projections.BatchPutter)
	if !ok {
		t.Skipf("%T stores rows one at a time (no projections.BatchPutter)", v)
	}
	c := ctx(t)
	a, b, d := entry(50), entry(51), entry(52)
	a2 := a
	a2.Version, a2.Status, a2.Placeholder = 2, projections.Ready, "#0a0b0c"
	mustPut(t, v, a2) // already ahead: the batch's a (v1) must not replace it
	before, err := v.(projections.ChangeLog).LastChange(c)
	if err != nil {
		t.Fatal(err)
	}
	if stored, err := bp.PutBatch(c, nil); err != nil || len(stored) != 0 {
		t.Errorf("PutBatch(nil) = %v, %v; want nothing, nil", stored, err)
	}
	stored, err := bp.PutBatch(c, []projections.Entry{a, b, d})
	if err != nil || fmt.Sprint(stored) != "[false true true]" {
		t.Fatalf("PutBatch = %v, %v; want [false true true] (a is stale)", stored, err)
	}
	if got := mustGet(t, v, a.EIB); got.Version != 2 || got.Status != projections.Ready {
		t.Errorf("stale batch row replaced a newer one: %+v", got)
	}
	for _, e := range []projections.Entry{b, d} {
		if got := mustGet(t, v, e.EIB); got.Version != 1 || got.Title != e.Title {
			t.Errorf("batch row %s: got %+v, want %+v", e.EIB, got, e)
		}
	}
	changes, err := v.(projections.ChangeLog).Changes(c, before, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 || changes[0].EIB != b.EIB || changes[1].EIB != d.EIB {
		t.Errorf("changes of the batch: %v, want b and d once each", changes)
	}
	if stored, err := bp.PutBatch(c, []projections.Entry{b, d}); err != nil || fmt.Sprint(stored) != "[false false]" {
		t.Errorf("the same batch again = %v, %v; want nothing stored", stored, err)
	}
	page, err := v.List(c, "", 10)
	if err != nil || len(page.Entries) != 3 {
		t.Errorf("gallery after batches: %d entries (%v), want 3", len(page.Entries), err)
	}
}

// testLoad: a view a rebuild fills in bulk (projections.Loader) stores
// every row with its change, and once Loaded the rows are found as Put's
// are: by Get,
// in the gallery, the trash, an owner's entries and copies. A row loaded
// again (the next page of a rebuild) replaces its copies too, and Put's
// version guard holds against loaded rows.
func testLoad(t *testing.T, v projections.View) {
	l, ok := v.(projections.Loader)
	if !ok {
		t.Fatalf("%T does not implement projections.Loader (a rebuild loads rows in bulk)", v)
	}
	c := ctx(t)
	if err := v.Reset(c); err != nil {
		t.Fatal(err)
	}
	before, err := v.(projections.ChangeLog).LastChange(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Load(c, nil); err != nil {
		t.Errorf("Load(nil) = %v, want nil", err)
	}
	var rows []projections.Entry
	for i := range 30 { // more than one request of 25 items on DynamoDB
		e := entry(100 + i)
		e.Version, e.Status, e.ThumbWidth, e.ThumbHeight, e.Placeholder = 2, projections.Ready, 320, 240, "#0a0b0c"
		rows = append(rows, e)
	}
	inTrash := trashed(rows[3], base.Add(48*time.Hour))
	gone := rows[4]
	gone.Version, gone.Status = 3, projections.Deleted
	rows[3], rows[4] = inTrash, gone
	if err := l.Load(c, rows); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if err := l.Loaded(c); err != nil {
		t.Fatalf("Loaded: %v", err)
	}
	for _, e := range rows {
		got := mustGet(t, v, e.EIB)
		if fmt.Sprint(got) != fmt.Sprint(e) {
			t.Errorf("loaded row:\n got %+v\nwant %+v", got, e)
		}
	}
	var want []string // the gallery: newest first, not the trash or the deleted
	for _, e := range slices.Backward(rows) {
		if e.Visible() {
			want = append(want, e.EIB)
		}
	}
	page, err := v.List(c, "", 100)
	if err != nil || fmt.Sprint(eibs(page.Entries)) != fmt.Sprint(want) {
		t.Errorf("gallery after Load: %v (%v)\nwant %v", eibs(page.Entries), err, want)
	}
	if tr, err := v.Trash(c, "owner-1", "", 10); err != nil || fmt.Sprint(eibs(tr.Entries)) != fmt.Sprint([]string{inTrash.EIB}) {
		t.Errorf("trash after Load: %v (%v), want [%s]", eibs(tr.Entries), err, inTrash.EIB)
	}
	if cp, err := v.Copies(c, "owner-1", rows[5].SHA256); err != nil || fmt.Sprint(eibs(cp)) != fmt.Sprint([]string{rows[5].EIB}) {
		t.Errorf("copies after Load: %v (%v), want [%s]", eibs(cp), err, rows[5].EIB)
	}
	if cp, _ := v.Copies(c, "owner-1", gone.SHA256); len(cp) != 0 {
		t.Errorf("a deleted row is a copy after Load: %v", eibs(cp))
	}
	if own, err := v.Owned(c, "owner-1", "", 100); err != nil || len(own.Entries) != len(rows)-1 {
		t.Errorf("owned after Load: %d entries (%v), want %d (all but the deleted)", len(own.Entries), err, len(rows)-1)
	}
	changes, err := v.(projections.ChangeLog).Changes(c, before, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, ch := range changes {
		got[ch.EIB]++
		if ch.Version != mustGet(t, v, ch.EIB).Version {
			t.Errorf("change %+v: not the loaded row's version", ch)
		}
	}
	if len(got) != len(rows) || len(changes) != len(rows) {
		t.Errorf("changes of the load: %d for %d rows, want one each", len(changes), len(got))
	}

	// The next page: the trashed row restored, a row trashed.
	restored := inTrash
	restored.Version, restored.TrashUntil = restored.Version+1, time.Time{}
	nowTrashed := trashed(rows[6], base.Add(72*time.Hour))
	if err := l.Load(c, []projections.Entry{restored, nowTrashed}); err != nil {
		t.Fatalf("Load again: %v", err)
	}
	if tr, err := v.Trash(c, "owner-1", "", 10); err != nil || fmt.Sprint(eibs(tr.Entries)) != fmt.Sprint([]string{nowTrashed.EIB}) {
		t.Errorf("trash after the second Load: %v (%v), want [%s]", eibs(tr.Entries), err, nowTrashed.EIB)
	}
	if page, _ := v.List(c, "", 100); !slices.Contains(eibs(page.Entries), restored.EIB) || slices.Contains(eibs(page.Entries), nowTrashed.EIB) {
		t.Errorf("gallery after the second Load: %v", eibs(page.Entries))
	}
	// Put's guard holds against loaded rows.
	stale := rows[7]
	stale.Version, stale.Title = 1, "stale"
	if mustPut(t, v, stale) {
		t.Error("a stale Put replaced a loaded row")
	}
	newer := rows[7]
	newer.Version, newer.Title = 3, "newer"
	if !mustPut(t, v, newer) || mustGet(t, v, newer.EIB).Title != "newer" {
		t.Error("a newer Put did not replace a loaded row")
	}
}
