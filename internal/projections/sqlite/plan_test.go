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
