// Package sqlite is the embedded event store: one table in the SQLite
// file, ordered by a global sequence that is both the audit log's order
// and the change feed's.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"mediashare/internal/events"
)

var (
	_ events.Store        = (*Store)(nil)
	_ events.Feed         = (*Store)(nil)
	_ events.Auditor      = (*Store)(nil)
	_ events.StreamLister = (*Store)(nil)
	_ events.Attempts     = (*Store)(nil)
)

// Store is an events.Store and events.Feed on SQLite.
type Store struct {
	db *sql.DB

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every append

	// PollInterval bounds how long Follow waits before looking for events
	// appended by another process. Wake-ups from this process are instant.
	PollInterval time.Duration
	// RetryDelay is how long Follow waits after a failed read or
	// checkpoint, and the first wait after a handler error when Poison is
	// nil.
	RetryDelay time.Duration
	// Poison is the poison-event rule Follow applies (a default one with
	// RetryDelay when nil). Its attempt counts and dead letters are kept
	// in this store's tables.
	Poison *events.Poison

	defaultPoison events.Poison
}

const schema = `
CREATE TABLE IF NOT EXISTS events (
	seq      INTEGER PRIMARY KEY AUTOINCREMENT,
	id       TEXT NOT NULL UNIQUE,
	stream   TEXT NOT NULL,
	version  INTEGER NOT NULL,
	type     TEXT NOT NULL,
	time_ms  INTEGER NOT NULL,
	actor    TEXT NOT NULL,
	schema   INTEGER NOT NULL,
	data     BLOB NOT NULL,
	UNIQUE (stream, version)
);
CREATE INDEX IF NOT EXISTS events_by_type ON events (type, seq);
CREATE TABLE IF NOT EXISTS feed_attempts (
	consumer TEXT NOT NULL,
	key      TEXT NOT NULL,
	attempts INTEGER NOT NULL,
	PRIMARY KEY (consumer, key)
);
CREATE TABLE IF NOT EXISTS dead_letters (
	seq      INTEGER PRIMARY KEY AUTOINCREMENT,
	consumer TEXT NOT NULL,
	key      TEXT NOT NULL,
	position TEXT NOT NULL,
	stream   TEXT NOT NULL,
	version  INTEGER NOT NULL,
	event_id TEXT NOT NULL,
	type     TEXT NOT NULL,
	reason   TEXT NOT NULL,
	attempts INTEGER NOT NULL,
	error    TEXT NOT NULL,
	at_ms    INTEGER NOT NULL
);`

// New prepares the events table in db.
func New(ctx context.Context, db *sql.DB) (*Store, error) {
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return nil, fmt.Errorf("events/sqlite: create schema: %w", err)
	}
	return &Store{db: db, changed: make(chan struct{}), PollInterval: time.Second, RetryDelay: time.Second}, nil
}

// Append implements events.Store.
func (s *Store) Append(ctx context.Context, stream string, expected int, evs ...events.Event) ([]events.Event, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("events/sqlite: append %s: begin: %w", stream, err)
	}
	defer tx.Rollback()

	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM events WHERE stream = ?`, stream).Scan(&current); err != nil {
		return nil, fmt.Errorf("events/sqlite: append %s: read version: %w", stream, err)
	}
	var out []events.Event
	start := 0
	if current != expected {
		// A retry of an append that already landed (or landed in part) is
		// a success: the stored prefix counts, the rest is appended.
		stored, err := s.storedPrefix(ctx, tx, stream, expected, evs)
		if err != nil {
			return nil, err
		}
		if len(stored) == len(evs) {
			return stored, nil
		}
		if len(stored) == 0 || current != expected+len(stored) {
			return nil, &events.ConflictError{Stream: stream, Expected: expected, Actual: current}
		}
		out, start = stored, len(stored)
	}
	for i := start; i < len(evs); i++ {
		e := evs[i]
		e.Stream = stream
		e.Version = expected + 1 + i
		if e.Schema == 0 {
			e.Schema = events.SchemaVersion
		}
		e.Time = e.Time.UTC().Truncate(time.Millisecond)
		res, err := tx.ExecContext(ctx, `INSERT INTO events (id, stream, version, type, time_ms, actor, schema, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			e.ID, e.Stream, e.Version, string(e.Type), e.Time.UnixMilli(), string(e.Actor), e.Schema, []byte(e.Data))
		if err != nil {
			return nil, fmt.Errorf("events/sqlite: append %s v%d: %w", stream, e.Version, err)
		}
		seq, err := res.LastInsertId()
		if err != nil {
			return nil, fmt.Errorf("events/sqlite: append %s v%d: %w", stream, e.Version, err)
		}
		e.Position = strconv.FormatInt(seq, 10)
		out = append(out, e)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("events/sqlite: append %s: commit: %w", stream, err)
	}
	s.notify()
	return out, nil
}

// storedPrefix returns the events stored at expected+1 … that carry the
// IDs of evs' first events, in order.
func (s *Store) storedPrefix(ctx context.Context, tx *sql.Tx, stream string, expected int, evs []events.Event) ([]events.Event, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+columns+` FROM events WHERE stream = ? AND version > ? ORDER BY version LIMIT ?`, stream, expected, len(evs))
	if err != nil {
		return nil, fmt.Errorf("events/sqlite: append %s: check retry: %w", stream, err)
	}
	stored, err := scanAll(rows)
	if err != nil {
		return nil, fmt.Errorf("events/sqlite: append %s: check retry: %w", stream, err)
	}
	n := 0
	for n < len(stored) && evs[n].ID != "" && stored[n].ID == evs[n].ID && stored[n].Version == expected+1+n {
		n++
	}
	return stored[:n], nil
}

func (s *Store) notify() {
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

func (s *Store) changes() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

const columns = `seq, id, stream, version, type, time_ms, actor, schema, data`

func scanAll(rows *sql.Rows) ([]events.Event, error) {
	defer rows.Close()
	var out []events.Event
	for rows.Next() {
		var (
			e      events.Event
			seq    int64
			typ    string
			timeMS int64
			actor  string
			data   []byte
		)
		if err := rows.Scan(&seq, &e.ID, &e.Stream, &e.Version, &typ, &timeMS, &actor, &e.Schema, &data); err != nil {
			return nil, err
		}
		e.Type, e.Actor, e.Data = events.Type(typ), events.Actor(actor), data
		e.Time = time.UnixMilli(timeMS).UTC()
		e.Position = strconv.FormatInt(seq, 10)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Load implements events.Store.
func (s *Store) Load(ctx context.Context, stream string) ([]events.Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+columns+` FROM events WHERE stream = ? ORDER BY version`, stream)
	if err != nil {
		return nil, fmt.Errorf("events/sqlite: load %s: %w", stream, err)
	}
	evs, err := scanAll(rows)
	if err != nil {
		return nil, fmt.Errorf("events/sqlite: load %s: %w", stream, err)
	}
	if len(evs) == 0 {
		return nil, events.ErrNotFound
	}
	return evs, nil
}

func parsePosition(p string) (int64, error) {
	if p == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(p, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("events/sqlite: %w %q", events.ErrBadPosition, p)
	}
	return n, nil
}

// ReadAll implements events.Store.
func (s *Store) ReadAll(ctx context.Context, after string, limit int) ([]events.Event, string, error) {
	seq, err := parsePosition(after)
	if err != nil {
		return nil, after, err
	}
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+columns+` FROM events WHERE seq > ? ORDER BY seq LIMIT ?`, seq, limit)
	if err != nil {
		return nil, after, fmt.Errorf("events/sqlite: read after %q: %w", after, err)
	}
	evs, err := scanAll(rows)
	if err != nil {
		return nil, after, fmt.Errorf("events/sqlite: read after %q: %w", after, err)
	}
	next := after
	if len(evs) > 0 {
		next = evs[len(evs)-1].Position
	}
	return evs, next, nil
}

// History implements events.Auditor.
func (s *Store) History(ctx context.Context, f events.Filter, before string, limit int) ([]events.Event, string, error) {
	seq, err := parsePosition(before)
	if err != nil {
		return nil, "", err
	}
	if before == "" {
		seq = math.MaxInt64
	}
	if limit <= 0 {
		limit = 50
	}
	q := `SELECT ` + columns + ` FROM events WHERE seq < ?`
	args := []any{seq}
	if f.Stream != "" {
		q += ` AND stream = ?`
		args = append(args, f.Stream)
	}
	if len(f.Types) > 0 {
		q += ` AND type IN (?` + strings.Repeat(`, ?`, len(f.Types)-1) + `)`
		for _, t := range f.Types {
			args = append(args, string(t))
		}
	}
	q += ` ORDER BY seq DESC LIMIT ?`
	args = append(args, limit+1)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("events/sqlite: history: %w", err)
	}
	evs, err := scanAll(rows)
	if err != nil {
		return nil, "", fmt.Errorf("events/sqlite: history: %w", err)
	}
	next := ""
	if len(evs) > limit {
		evs = evs[:limit]
		next = evs[limit-1].Position
	}
	return evs, next, nil
}

// Streams implements events.StreamLister (one worker: SQLite has one writer
// and reads are cheap).
func (s *Store) Streams(ctx context.Context, _ int, fn func(ctx context.Context, stream string) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT stream FROM events WHERE version = 1 ORDER BY seq`)
	if err != nil {
		return fmt.Errorf("events/sqlite: list streams: %w", err)
	}
	var streams []string
	for rows.Next() {
		var st string
		if err := rows.Scan(&st); err != nil {
			rows.Close()
			return fmt.Errorf("events/sqlite: list streams: %w", err)
		}
		streams = append(streams, st)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("events/sqlite: list streams: %w", err)
	}
	for _, st := range streams {
		if err := fn(ctx, st); err != nil {
			return err
		}
	}
	return nil
}

// Ping implements events.Store.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT 1 FROM events LIMIT 1`).Scan(&n); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("events/sqlite: ping: %w", err)
	}
	return nil
}

func (s *Store) poison() *events.Poison {
	if s.Poison != nil {
		return s.Poison
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.defaultPoison.RetryDelay == 0 {
		s.defaultPoison.RetryDelay = s.RetryDelay
	}
	return &s.defaultPoison
}

// Stats returns the feed's counters (deliveries, handler errors, parked
// events: those of its Poison).
func (s *Store) Stats() events.FeedStats { return s.poison().Stats() }

// Follow implements events.Feed by tailing the global sequence. The
// position kept in cp is the sequence number of the last event handled.
func (s *Store) Follow(ctx context.Context, name string, cp events.Checkpoints, h events.Handler) error {
	if cp == nil {
		return fmt.Errorf("events/sqlite: follow %s: no checkpoints given", name)
	}
	poison := s.poison()
	pos, err := cp.Checkpoint(ctx, name)
	for err != nil {
		if !sleep(ctx, s.RetryDelay) {
			return ctx.Err()
		}
		pos, err = cp.Checkpoint(ctx, name)
	}
	for {
		wake := s.changes() // taken before reading, so no append is missed
		evs, _, err := s.ReadAll(ctx, pos, 100)
		if err != nil {
			if !sleep(ctx, s.RetryDelay) {
				return ctx.Err()
			}
			continue
		}
		for _, e := range evs {
			for {
				if err := ctx.Err(); err != nil {
					return err
				}
				err := poison.Deliver(ctx, s, name, e.Position, e, h)
				if err == nil {
					err = cp.SaveCheckpoint(ctx, name, e.Position)
				}
				if err == nil {
					break
				}
				if ctx.Err() == nil {
					slog.Warn("events/sqlite: feed stalled; retrying", "consumer", name, "position", e.Position, "error", err)
				}
				if !sleep(ctx, s.RetryDelay) {
					return ctx.Err()
				}
			}
			pos = e.Position
		}
		if len(evs) > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-time.After(s.PollInterval):
		}
	}
}

// Begin implements events.Attempts.
func (s *Store) Begin(ctx context.Context, consumer, key string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `INSERT INTO feed_attempts (consumer, key, attempts) VALUES (?, ?, 1)
		ON CONFLICT (consumer, key) DO UPDATE SET attempts = attempts + 1 RETURNING attempts`, consumer, key).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("events/sqlite: count attempt %s/%s: %w", consumer, key, err)
	}
	return n, nil
}

// Uncount implements events.Attempts.
func (s *Store) Uncount(ctx context.Context, consumer, key string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE feed_attempts SET attempts = attempts - 1 WHERE consumer = ? AND key = ? AND attempts > 0`, consumer, key); err != nil {
		return fmt.Errorf("events/sqlite: uncount attempt %s/%s: %w", consumer, key, err)
	}
	return nil
}

// Forget implements events.Attempts.
func (s *Store) Forget(ctx context.Context, consumer, key string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM feed_attempts WHERE consumer = ? AND key = ?`, consumer, key); err != nil {
		return fmt.Errorf("events/sqlite: forget attempts %s/%s: %w", consumer, key, err)
	}
	return nil
}

// Park implements events.Attempts.
func (s *Store) Park(ctx context.Context, d events.DeadLetter) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO dead_letters (consumer, key, position, stream, version, event_id, type, reason, attempts, error, at_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.Consumer, d.Key, d.Where, d.Stream, d.Version, d.EventID, string(d.Type), string(d.Reason), d.Attempts, d.Error, d.At.UnixMilli())
	if err != nil {
		return fmt.Errorf("events/sqlite: write dead letter %s/%s: %w", d.Consumer, d.Key, err)
	}
	return nil
}

// DeadLetters implements events.Attempts.
func (s *Store) DeadLetters(ctx context.Context, consumer string) ([]events.DeadLetter, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT consumer, key, position, stream, version, event_id, type, reason, attempts, error, at_ms
		FROM dead_letters WHERE consumer = ? ORDER BY seq`, consumer)
	if err != nil {
		return nil, fmt.Errorf("events/sqlite: read dead letters of %s: %w", consumer, err)
	}
	defer rows.Close()
	var out []events.DeadLetter
	for rows.Next() {
		var (
			d        events.DeadLetter
			typ, why string
			atMS     int64
		)
		if err := rows.Scan(&d.Consumer, &d.Key, &d.Where, &d.Stream, &d.Version, &d.EventID, &typ, &why, &d.Attempts, &d.Error, &atMS); err != nil {
			return nil, fmt.Errorf("events/sqlite: read dead letters of %s: %w", consumer, err)
		}
		d.Type, d.Reason, d.At = events.Type(typ), events.ParkReason(why), time.UnixMilli(atMS).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

func sleep(ctx context.Context, d time.Duration) bool { return events.Sleep(ctx, d) }
