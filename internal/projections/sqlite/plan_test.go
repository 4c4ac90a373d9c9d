package sqlite

import (
	"context"
	"path/filepath"
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
