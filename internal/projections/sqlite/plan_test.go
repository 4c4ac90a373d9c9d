package sqlite

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"mediashare/internal/sqlitedb"
)

// The gallery must cost O(page): both list queries walk the gallery index
// and never sort or scan the table.
func TestListUsesTheGalleryIndex(t *testing.T) {
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "view.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := New(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, query string
		args        []any
	}{
		{"first page", listFirst, []any{25}},
		{"next page", listAfter, []any{1, 1, "x", 25}},
	}
	for _, tt := range tests {
		rows, err := db.Query(`EXPLAIN QUERY PLAN `+tt.query, tt.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		got := strings.Join(plan, "; ")
		if !strings.Contains(got, "entries_gallery") || strings.Contains(got, "TEMP B-TREE") {
			t.Errorf("%s: plan %q, want a walk of entries_gallery with no sort", tt.name, got)
		}
	}
}

// The trash and the duplicate check cost O(page) too: each query walks
// its own index, without a sort or a scan.
func TestTrashAndCopiesUseTheirIndexes(t *testing.T) {
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "view.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := New(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, query, index string
		args               []any
	}{
		{"an owner's trash, first page", trashFirst, "entries_trash", []any{"alice", 25}},
		{"an owner's trash, next page", trashAfter, "entries_trash", []any{"alice", 1, 1, "x", 25}},
		{"the trash past its period", expired, "entries_expiry", []any{1, 100}},
		{"an owner's copies of some bytes", copies, "entries_copies", []any{"alice", "abc"}},
		{"an owner's entries, first page", ownedFirst, "entries_owned", []any{"alice", 25}},
		{"an owner's entries, next page", ownedAfter, "entries_owned", []any{"alice", 1, 1, "x", 25}},
	}
	for _, tt := range tests {
		rows, err := db.Query(`EXPLAIN QUERY PLAN `+tt.query, tt.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		got := strings.Join(plan, "; ")
		if !strings.Contains(got, tt.index) || strings.Contains(got, "TEMP B-TREE") || strings.Contains(got, "SCAN entries") {
			t.Errorf("%s: plan %q, want a walk of %s with no sort or scan", tt.name, got, tt.index)
		}
	}
}

// Reset sets the secondary indexes aside for a rebuild's load; Loaded
// makes them again from the loaded rows, so the queries walk them as
// before; and the list of what Reset drops is every index New makes.
func TestResetSetsIndexesAsideUntilLoaded(t *testing.T) {
	ctx := context.Background()
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "view.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, err := New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	names := func() []string {
		rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entries' AND sql IS NOT NULL ORDER BY name`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var n string
			rows.Scan(&n)
			out = append(out, n)
		}
		return out
	}
	made := names()
	want := slices.Clone(secondaryIndexes)
	slices.Sort(want)
	if !slices.Equal(made, want) {
		t.Fatalf("New made indexes %v; Reset sets aside %v", made, want)
	}
	if err := v.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if got := names(); len(got) != 0 {
		t.Errorf("after Reset: indexes %v, want none until Loaded", got)
	}
	if err := v.Load(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := v.Loaded(ctx); err != nil {
		t.Fatal(err)
	}
	if got := names(); !slices.Equal(got, want) {
		t.Errorf("after Loaded: indexes %v, want %v", got, want)
	}
	var plan string
	if err := db.QueryRow(`EXPLAIN QUERY PLAN `+listFirst, 25).Scan(new(int), new(int), new(int), &plan); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "entries_gallery") {
		t.Errorf("the gallery's plan after a rebuild: %q, want a walk of entries_gallery", plan)
	}
}
