package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"mediashare/internal/events"
	"mediashare/internal/events/eventstest"
	"mediashare/internal/events/sqlite"
	"mediashare/internal/sqlitedb"
)

func TestConformance(t *testing.T) {
	eventstest.Run(t, func(t *testing.T) eventstest.Subject {
		db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "events.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s, err := sqlite.New(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		s.RetryDelay = 20 * time.Millisecond
		s.Poison = &events.Poison{MaxAttempts: 3, RetryDelay: 10 * time.Millisecond}
		return eventstest.Subject{Store: s, Feed: s, Attempts: s, Poison: s.Poison}
	})
}
