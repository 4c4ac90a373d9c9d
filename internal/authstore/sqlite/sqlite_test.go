package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"mediashare/internal/authstore"
	"mediashare/internal/authstore/authstoretest"
	"mediashare/internal/authstore/sqlite"
	"mediashare/internal/sqlitedb"
)

func TestConformance(t *testing.T) {
	authstoretest.Run(t, func(t *testing.T, clock authstore.Clock) authstore.Store {
		db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "mediashare.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s, err := sqlite.New(context.Background(), db, clock)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
