// Package sqlite is the embedded backend's keyring: a table in the one
// SQLite file. Destroying a key overwrites it in place and then
// checkpoints and truncates the write-ahead log, so (with the
// secure_delete setting internal/sqlitedb turns on) the key's bytes are
// gone from the database file and its WAL, not only hidden.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"mediashare/internal/keyring"
)

var _ keyring.Store = (*Store)(nil)

// Store is a keyring.Store on SQLite.
type Store struct {
	db *sql.DB
}

const schema = `
CREATE TABLE IF NOT EXISTS keyring (
	entry     TEXT PRIMARY KEY,
	key       BLOB,                       -- NULL once destroyed
	created   INTEGER NOT NULL,           -- Unix ms
	destroyed INTEGER NOT NULL DEFAULT 0  -- Unix ms; 0 while the key lives
) WITHOUT ROWID;`

// New prepares the table in db (from sqlitedb.Open).
func New(ctx context.Context, db *sql.DB) (*Store, error) {
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return nil, fmt.Errorf("keyring/sqlite: create schema: %w", err)
	}
	return &Store{db: db}, nil
}

// Ping implements keyring.Store.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Create implements keyring.Store.
func (s *Store) Create(ctx context.Context, entry string, key []byte) ([]byte, error) {
	if err := keyring.Check(entry, key); err != nil {
		return nil, err
	}
	if key == nil {
		return nil, fmt.Errorf("keyring/sqlite: create %s: no key", entry)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO keyring (entry, key, created) VALUES (?, ?, ?) ON CONFLICT (entry) DO NOTHING`,
		entry, key, time.Now().UnixMilli()); err != nil {
		return nil, fmt.Errorf("keyring/sqlite: create %s: %w", entry, err)
	}
	return s.Get(ctx, entry)
}

// Get implements keyring.Store.
func (s *Store) Get(ctx context.Context, entry string) ([]byte, error) {
	var key []byte
	var destroyed int64
	err := s.db.QueryRowContext(ctx, `SELECT key, destroyed FROM keyring WHERE entry = ?`, entry).Scan(&key, &destroyed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, keyring.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("keyring/sqlite: get %s: %w", entry, err)
	}
	if destroyed != 0 {
		return nil, &keyring.DestroyedError{Entry: entry, At: time.UnixMilli(destroyed).UTC()}
	}
	return key, nil
}

// Destroy implements keyring.Store.
func (s *Store) Destroy(ctx context.Context, entry string, at time.Time) error {
	if err := keyring.Check(entry, nil); err != nil {
		return err
	}
	ms := at.UnixMilli()
	if ms <= 0 {
		ms = 1
	}
	// With secure_delete on, SQLite zeroes the space the key's cell
	// leaves behind in the page.
	if _, err := s.db.ExecContext(ctx, `INSERT INTO keyring (entry, key, created, destroyed) VALUES (?, NULL, ?, ?)
		ON CONFLICT (entry) DO UPDATE SET key = NULL, destroyed = CASE WHEN destroyed = 0 THEN excluded.destroyed ELSE destroyed END`,
		entry, ms, ms); err != nil {
		return fmt.Errorf("keyring/sqlite: destroy %s: %w", entry, err)
	}
	return s.truncateWAL(ctx)
}

// truncateWAL copies the WAL into the database and empties it, so the
// frames that held the key are gone. A busy checkpoint (readers still on
// old frames) is retried for a few seconds, then reported.
func (s *Store) truncateWAL(ctx context.Context) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		var busy, logFrames, checkpointed int
		if err := s.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &checkpointed); err != nil {
			return fmt.Errorf("keyring/sqlite: checkpoint after destroy: %w", err)
		}
		if busy == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("keyring/sqlite: checkpoint after destroy: the log is still in use; the key is destroyed but may linger in the WAL until the next checkpoint")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
