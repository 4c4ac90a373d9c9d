package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"mediashare/internal/projections"
	"mediashare/internal/projections/sqlite"
	"mediashare/internal/projections/viewtest"
	"mediashare/internal/sqlitedb"
)

func TestConformance(t *testing.T) {
	viewtest.Run(t, func(t *testing.T) projections.View {
		db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "view.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		v, err := sqlite.New(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		return v
	})
}
