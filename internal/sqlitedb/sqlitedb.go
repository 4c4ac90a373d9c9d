// Package sqlitedb opens the embedded backend's single SQLite file with
// the settings every adapter relies on: WAL, fsync on commit, a busy
// timeout, immediate write transactions so that concurrent writers queue
// instead of deadlocking, and one write gate per file in this process so
// that they queue in Go rather than in SQLite's sleeping busy handler
// (gate.go).
package sqlitedb

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	"modernc.org/sqlite" // pure-Go driver
)

// gates holds the write gate of each database file this process opened.
var gates sync.Map // absolute path -> *gate

// Open opens (creating if needed) the database at path.
func Open(path string) (*sql.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("sqlitedb: create directory for %s: %w", path, err)
	}
	q := url.Values{}
	// secure_delete zeroes what a DELETE or UPDATE frees, so erased
	// content and destroyed keys (internal/keyring) leave no bytes behind.
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(1)", "secure_delete(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	base, err := sqlite.NewConnector("file:" + path + "?" + q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlitedb: open %s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlitedb: open %s: %w", path, err)
	}
	g, _ := gates.LoadOrStore(abs, newGate())
	db := sql.OpenDB(&gatedConnector{base: base, gate: g.(*gate)})
	// Writers waiting at the gate hold a connection each: enough for
	// readers to find one meanwhile. Eight stay open between bursts, not
	// database/sql's two, so a burst does not reopen connections (each
	// open runs the pragmas above); a connection's page cache is 2 MB
	// at most.
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(8)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlitedb: open %s: %w", path, err)
	}
	return db, nil
}
