package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"mediashare/internal/keyring/keyringtest"
	"mediashare/internal/keyring/sqlite"
	"mediashare/internal/sqlitedb"
)

func TestConformance(t *testing.T) {
	keyringtest.Run(t, func(t *testing.T) keyringtest.Subject {
		path := filepath.Join(t.TempDir(), "mediashare.db")
		db, err := sqlitedb.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s, err := sqlite.New(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		return keyringtest.Subject{Store: s, Raw: func(t *testing.T) []byte {
			var all []byte
			for _, suffix := range []string{"", "-wal", "-journal"} {
				b, err := os.ReadFile(path + suffix)
				if err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
				all = append(all, b...)
			}
			return all
		}}
	})
}
