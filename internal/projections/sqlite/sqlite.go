// Package sqlite is the embedded entries view: a table keyed by eib, with
// an index on (timestamp, eib) so that gallery pages are index range
// reads, and the projectors' checkpoints beside it.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"mediashare/internal/projections"
)

var (
	_ projections.View        = (*View)(nil)
	_ projections.ChangeLog   = (*View)(nil)
	_ projections.BatchPutter = (*View)(nil)
	_ projections.Loader      = (*View)(nil)
)

// View is a projections.View on SQLite.
type View struct {
	db *sql.DB
	// last is LastChange's statement, prepared once: pages ask for the
	// head often.
	last *sql.Stmt
}

const schema = `
CREATE TABLE IF NOT EXISTS entries (
	eib          TEXT PRIMARY KEY,
	eid          TEXT NOT NULL,
	timestamp_ms INTEGER NOT NULL,
	title        TEXT NOT NULL,
	comment      TEXT NOT NULL,
	resource     TEXT NOT NULL,
	thumbnail    TEXT NOT NULL,
	type         TEXT NOT NULL,
	status       TEXT NOT NULL,
	owner        TEXT NOT NULL,
	content_type TEXT NOT NULL,
	size         INTEGER NOT NULL,
	width        INTEGER NOT NULL,
	height       INTEGER NOT NULL,
	thumb_width  INTEGER NOT NULL,
	thumb_height INTEGER NOT NULL,
	preview      TEXT NOT NULL DEFAULT '',
	preview_width  INTEGER NOT NULL DEFAULT 0,
	preview_height INTEGER NOT NULL DEFAULT 0,
	placeholder  TEXT NOT NULL,
	fail_reason  TEXT NOT NULL,
	version      INTEGER NOT NULL,
	updated_ms   INTEGER NOT NULL,
	visible      INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS changes (
	seq     INTEGER PRIMARY KEY AUTOINCREMENT,
	eib     TEXT NOT NULL,
	version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
	name     TEXT PRIMARY KEY,
	position TEXT NOT NULL
);`

// New prepares the view's tables in db.
func New(ctx context.Context, db *sql.DB) (*View, error) {
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return nil, fmt.Errorf("projections/sqlite: create schema: %w", err)
	}
	if err := addColumns(ctx, db); err != nil {
		return nil, err
	}
	last, err := db.PrepareContext(ctx, `SELECT MAX(seq) FROM changes`)
	if err != nil {
		return nil, fmt.Errorf("projections/sqlite: prepare: %w", err)
	}
	return &View{db: db, last: last}, nil
}

// addColumns brings a view made by an older build up to date. The view
// can always be rebuilt (mediashare replay) to fill what is new.
func addColumns(ctx context.Context, db *sql.DB) error {
	have := map[string]bool{}
	rows, err := db.QueryContext(ctx, `SELECT name FROM pragma_table_info('entries')`)
	if err != nil {
		return fmt.Errorf("projections/sqlite: read schema: %w", err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		have[name] = true
	}
	rows.Close()
	for _, col := range []struct{ name, def string }{
		{"preview", `TEXT NOT NULL DEFAULT ''`}, {"preview_width", `INTEGER NOT NULL DEFAULT 0`}, {"preview_height", `INTEGER NOT NULL DEFAULT 0`},
		{"sha256", `TEXT NOT NULL DEFAULT ''`}, {"trash_until_ms", `INTEGER NOT NULL DEFAULT 0`},
	} {
		if !have[col.name] {
			if _, err := db.ExecContext(ctx, `ALTER TABLE entries ADD COLUMN `+col.name+` `+col.def); err != nil {
				return fmt.Errorf("projections/sqlite: add column %s: %w", col.name, err)
			}
		}
	}
	if _, err := db.ExecContext(ctx, indexes); err != nil {
		return fmt.Errorf("projections/sqlite: create indexes: %w", err)
	}
	return nil
}

// indexes serve the trash, the duplicate check and an owner's entries
// (see plan_test.go): an
// owner's trash and the trash by end of period are partial indexes over
// the rows in the trash only; copies are found by (owner, sha256).
const indexes = `
CREATE INDEX IF NOT EXISTS entries_gallery ON entries (visible, timestamp_ms DESC, eib DESC);
CREATE INDEX IF NOT EXISTS entries_trash ON entries (owner, trash_until_ms DESC, eib DESC) WHERE trash_until_ms > 0;
CREATE INDEX IF NOT EXISTS entries_expiry ON entries (trash_until_ms, eib) WHERE trash_until_ms > 0;
CREATE INDEX IF NOT EXISTS entries_copies ON entries (owner, sha256);
CREATE INDEX IF NOT EXISTS entries_owned ON entries (owner, timestamp_ms DESC, eib DESC) WHERE status != 'deleted';`

const columns = `eib, eid, timestamp_ms, title, comment, resource, thumbnail, type, status, owner, content_type, size, width, height, thumb_width, thumb_height, preview, preview_width, preview_height, placeholder, fail_reason, sha256, trash_until_ms, version, updated_ms`

type scanner interface{ Scan(...any) error }

func scan(s scanner) (projections.Entry, error) {
	var (
		e                  projections.Entry
		ts, updated, until int64
		status             string
	)
	err := s.Scan(&e.EIB, &e.EID, &ts, &e.Title, &e.Comment, &e.Resource, &e.Thumbnail, &e.Type, &status, &e.Owner,
		&e.ContentType, &e.Size, &e.Width, &e.Height, &e.ThumbWidth, &e.ThumbHeight, &e.Preview, &e.PreviewWidth, &e.PreviewHeight,
		&e.Placeholder, &e.FailReason, &e.SHA256, &until, &e.Version, &updated)
	e.Status = projections.Status(status)
	e.Timestamp, e.UpdatedAt = time.UnixMilli(ts).UTC(), time.UnixMilli(updated).UTC()
	e.TrashUntil = fromMillis(until)
	return e, err
}

// millis is t in Unix milliseconds, 0 for the zero time (at least 1
// otherwise, so that 0 always means "not in the trash").
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return max(t.UnixMilli(), 1)
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// Get implements projections.View.
func (v *View) Get(ctx context.Context, eib string) (projections.Entry, error) {
	e, err := scan(v.db.QueryRowContext(ctx, `SELECT `+columns+` FROM entries WHERE eib = ?`, eib))
	if errors.Is(err, sql.ErrNoRows) {
		return projections.Entry{}, projections.ErrNotFound
	}
	if err != nil {
		return projections.Entry{}, fmt.Errorf("projections/sqlite: get %s: %w", eib, err)
	}
	return e, nil
}

const upsert = `INSERT INTO entries (` + columns + `, visible)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (eib) DO UPDATE SET
			eid = excluded.eid, timestamp_ms = excluded.timestamp_ms, title = excluded.title, comment = excluded.comment,
			resource = excluded.resource, thumbnail = excluded.thumbnail, type = excluded.type, status = excluded.status,
			owner = excluded.owner, content_type = excluded.content_type, size = excluded.size, width = excluded.width,
			height = excluded.height, thumb_width = excluded.thumb_width, thumb_height = excluded.thumb_height,
			preview = excluded.preview, preview_width = excluded.preview_width, preview_height = excluded.preview_height,
			placeholder = excluded.placeholder, fail_reason = excluded.fail_reason, sha256 = excluded.sha256,
			trash_until_ms = excluded.trash_until_ms, version = excluded.version,
			updated_ms = excluded.updated_ms, visible = excluded.visible
		WHERE excluded.version > entries.version`

const recordChange = `INSERT INTO changes (eib, version) VALUES (?, ?)`

func args(e projections.Entry) []any {
	visible := 0
	if e.Visible() {
		visible = 1
	}
	return []any{e.EIB, e.EID, e.Timestamp.UnixMilli(), e.Title, e.Comment, e.Resource, e.Thumbnail, e.Type, string(e.Status), e.Owner,
		e.ContentType, e.Size, e.Width, e.Height, e.ThumbWidth, e.ThumbHeight, e.Preview, e.PreviewWidth, e.PreviewHeight,
		e.Placeholder, e.FailReason, e.SHA256, trashUntil(e), e.Version, e.UpdatedAt.UnixMilli(), visible}
}

type execer interface {
	ExecContext(ctx context.Context, args ...any) (sql.Result, error)
}

// put stores e with the upsert and records the change, reporting whether
// the row was stored.
func put(ctx context.Context, up, change execer, e projections.Entry) (bool, error) {
	res, err := up.ExecContext(ctx, args(e)...)
	if err != nil {
		return false, fmt.Errorf("projections/sqlite: put %s v%d: %w", e.EIB, e.Version, err)
	}
	n, err := res.RowsAffected()
	if err != nil || n == 0 {
		return false, err
	}
	if _, err := change.ExecContext(ctx, e.EIB, e.Version); err != nil {
		return false, fmt.Errorf("projections/sqlite: put %s v%d: record change: %w", e.EIB, e.Version, err)
	}
	return true, nil
}

// stmt runs a query in a transaction.
type stmt struct {
	tx    *sql.Tx
	query string
}

func (s stmt) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	return s.tx.ExecContext(ctx, s.query, args...)
}

// Put implements projections.View. A stored row is recorded in the
// change log in the same transaction.
func (v *View) Put(ctx context.Context, e projections.Entry) (bool, error) {
	tx, err := v.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("projections/sqlite: put %s v%d: %w", e.EIB, e.Version, err)
	}
	defer tx.Rollback()
	stored, err := put(ctx, stmt{tx, upsert}, stmt{tx, recordChange}, e)
	if err != nil {
		return false, err
	}
	if !stored {
		tx.Rollback()
		if e.Status == projections.Erased {
			return false, v.forget(ctx, e.EIB) // a retry: make sure the log is emptied
		}
		return false, nil
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("projections/sqlite: put %s v%d: commit: %w", e.EIB, e.Version, err)
	}
	if e.Status == projections.Erased {
		return true, v.forget(ctx, e.EIB)
	}
	return true, nil
}

// PutBatch implements projections.BatchPutter: every row in one
// transaction, through prepared statements. An erased row's old contents
// are forgotten after the commit, as Put does.
func (v *View) PutBatch(ctx context.Context, rows []projections.Entry) ([]bool, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	tx, err := v.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("projections/sqlite: put %d rows: %w", len(rows), err)
	}
	defer tx.Rollback()
	up, err := tx.PrepareContext(ctx, upsert)
	if err != nil {
		return nil, fmt.Errorf("projections/sqlite: put %d rows: %w", len(rows), err)
	}
	defer up.Close()
	change, err := tx.PrepareContext(ctx, recordChange)
	if err != nil {
		return nil, fmt.Errorf("projections/sqlite: put %d rows: %w", len(rows), err)
	}
	defer change.Close()
	stored := make([]bool, len(rows))
	erased := ""
	for i, e := range rows {
		if stored[i], err = put(ctx, up, change, e); err != nil {
			return nil, err
		}
		if e.Status == projections.Erased {
			erased = e.EIB
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("projections/sqlite: put %d rows: commit: %w", len(rows), err)
	}
	if erased != "" {
		return stored, v.forget(ctx, erased)
	}
	return stored, nil
}

// secondaryIndexes are the indexes of indexes, which Reset drops (a
// rebuild loads faster without them: built once at the end, they cost a
// sort instead of ten thousand insertions each) and Loaded, or the next
// New, creates again.
var secondaryIndexes = []string{"entries_gallery", "entries_trash", "entries_expiry", "entries_copies", "entries_owned"}

// Loaded implements projections.Loader: the indexes Reset dropped are
// made again, from the loaded rows.
func (v *View) Loaded(ctx context.Context) error {
	if _, err := v.db.ExecContext(ctx, indexes); err != nil {
		return fmt.Errorf("projections/sqlite: loaded: create indexes: %w", err)
	}
	return nil
}

// Load implements projections.Loader with PutBatch: one transaction,
// with Put's version guard kept (it costs SQLite nothing).
func (v *View) Load(ctx context.Context, rows []projections.Entry) error {
	_, err := v.PutBatch(ctx, rows)
	return err
}

// forget makes an erased row's old contents unrecoverable from the file:
// the update freed them (and the database's secure_delete zeroed that
// space), and the write-ahead log still holds the pages as they were, so
// it is checkpointed into the database and truncated. Readers on old
// pages can hold the checkpoint up: it is retried for a while, then
// reported (the projector retries the event, and with it this).
func (v *View) forget(ctx context.Context, eib string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		var busy, logFrames, done int
		if err := v.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done); err != nil {
			return fmt.Errorf("projections/sqlite: erase %s: checkpoint: %w", eib, err)
		}
		if busy == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("projections/sqlite: erase %s: the write-ahead log is still in use; its old pages stay until a checkpoint", eib)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Positions are zero-padded so that they order as strings.
func position(seq int64) string { return fmt.Sprintf("%020d", seq) }

// Changes implements projections.ChangeLog.
func (v *View) Changes(ctx context.Context, after string, limit int) ([]projections.Change, error) {
	var seq int64
	if after != "" {
		n, err := strconv.ParseInt(after, 10, 64)
		if err != nil {
			return nil, projections.ErrBadCursor
		}
		seq = n
	}
	rows, err := v.db.QueryContext(ctx, `SELECT seq, eib, version FROM changes WHERE seq > ? ORDER BY seq LIMIT ?`, seq, limit)
	if err != nil {
		return nil, fmt.Errorf("projections/sqlite: changes after %q: %w", after, err)
	}
	defer rows.Close()
	var out []projections.Change
	for rows.Next() {
		var c projections.Change
		if err := rows.Scan(&seq, &c.EIB, &c.Version); err != nil {
			return nil, fmt.Errorf("projections/sqlite: changes: %w", err)
		}
		c.Position = position(seq)
		out = append(out, c)
	}
	return out, rows.Err()
}

// LastChange implements projections.ChangeLog.
func (v *View) LastChange(ctx context.Context) (string, error) {
	var seq sql.NullInt64
	if err := v.last.QueryRowContext(ctx).Scan(&seq); err != nil {
		return "", fmt.Errorf("projections/sqlite: last change: %w", err)
	}
	if !seq.Valid {
		return "", nil
	}
	return position(seq.Int64), nil
}

// The gallery queries walk the entries_gallery index (see plan_test.go).
const (
	listFirst = `SELECT ` + columns + ` FROM entries WHERE visible = 1
		ORDER BY timestamp_ms DESC, eib DESC LIMIT ?`
	listAfter = `SELECT ` + columns + ` FROM entries WHERE visible = 1
		AND (timestamp_ms < ? OR (timestamp_ms = ? AND eib < ?))
		ORDER BY timestamp_ms DESC, eib DESC LIMIT ?`
)

// List implements projections.View. The cursor is "<timestamp_ms>.<eib>"
// of the last entry of the previous page.
func (v *View) List(ctx context.Context, cursor string, limit int) (projections.Page, error) {
	if limit <= 0 {
		limit = 24
	}
	var (
		rows *sql.Rows
		err  error
	)
	if cursor == "" {
		rows, err = v.db.QueryContext(ctx, listFirst, limit+1)
	} else {
		ts, eib, ok := strings.Cut(cursor, ".")
		ms, perr := strconv.ParseInt(ts, 10, 64)
		if !ok || perr != nil {
			return projections.Page{}, projections.ErrBadCursor
		}
		rows, err = v.db.QueryContext(ctx, listAfter, ms, ms, eib, limit+1)
	}
	if err != nil {
		return projections.Page{}, fmt.Errorf("projections/sqlite: list: %w", err)
	}
	defer rows.Close()
	var page projections.Page
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return projections.Page{}, fmt.Errorf("projections/sqlite: list: %w", err)
		}
		page.Entries = append(page.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return projections.Page{}, fmt.Errorf("projections/sqlite: list: %w", err)
	}
	if len(page.Entries) > limit {
		page.Entries = page.Entries[:limit]
		last := page.Entries[limit-1]
		page.Next = strconv.FormatInt(last.Timestamp.UnixMilli(), 10) + "." + last.EIB
	}
	return page, nil
}

// trashUntil is the row's trash_until_ms: set only while it is in the trash.
func trashUntil(e projections.Entry) int64 {
	if !e.InTrash() {
		return 0
	}
	return millis(e.TrashUntil)
}

// The trash and copies queries (see plan_test.go for the indexes they use).
const (
	trashFirst = `SELECT ` + columns + ` FROM entries WHERE owner = ? AND trash_until_ms > 0
		ORDER BY trash_until_ms DESC, eib DESC LIMIT ?`
	trashAfter = `SELECT ` + columns + ` FROM entries WHERE owner = ? AND trash_until_ms > 0
		AND (trash_until_ms < ? OR (trash_until_ms = ? AND eib < ?))
		ORDER BY trash_until_ms DESC, eib DESC LIMIT ?`
	expired = `SELECT ` + columns + ` FROM entries WHERE trash_until_ms > 0 AND trash_until_ms <= ?
		ORDER BY trash_until_ms, eib LIMIT ?`
	copies = `SELECT ` + columns + ` FROM entries WHERE owner = ? AND sha256 = ? AND status != 'deleted' LIMIT 20`
)

// Trash implements projections.View. The cursor is
// "<trash_until_ms>.<eib>" of the last entry of the previous page.
func (v *View) Trash(ctx context.Context, owner, cursor string, limit int) (projections.Page, error) {
	return v.ownerPage(ctx, "trash", trashFirst, trashAfter, owner, cursor, limit, func(e projections.Entry) int64 { return millis(e.TrashUntil) })
}

// Expired implements projections.View.
func (v *View) Expired(ctx context.Context, at time.Time, limit int) ([]projections.Entry, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := v.db.QueryContext(ctx, expired, at.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("projections/sqlite: expired trash: %w", err)
	}
	es, err := scanAll(rows)
	if err != nil {
		return nil, fmt.Errorf("projections/sqlite: expired trash: %w", err)
	}
	return es, nil
}

const (
	ownedFirst = `SELECT ` + columns + ` FROM entries WHERE owner = ? AND status != 'deleted'
		ORDER BY timestamp_ms DESC, eib DESC LIMIT ?`
	ownedAfter = `SELECT ` + columns + ` FROM entries WHERE owner = ? AND status != 'deleted'
		AND (timestamp_ms < ? OR (timestamp_ms = ? AND eib < ?))
		ORDER BY timestamp_ms DESC, eib DESC LIMIT ?`
)

// Owned implements projections.View. The cursor is "<timestamp_ms>.<eib>"
// of the last entry of the page before.
func (v *View) Owned(ctx context.Context, owner, cursor string, limit int) (projections.Page, error) {
	return v.ownerPage(ctx, "entries", ownedFirst, ownedAfter, owner, cursor, limit, func(e projections.Entry) int64 { return e.Timestamp.UnixMilli() })
}

// ownerPage is a page of owner's rows in the order of a key in
// milliseconds (key), then eib, both descending: first reads the first
// page (owner, limit), after the page after a cursor "<ms>.<eib>"
// (owner, ms, ms, eib, limit); what names the list in errors.
func (v *View) ownerPage(ctx context.Context, what, first, after, owner, cursor string, limit int, key func(projections.Entry) int64) (projections.Page, error) {
	if limit <= 0 {
		limit = 24
	}
	if owner == "" {
		return projections.Page{}, nil
	}
	var (
		rows *sql.Rows
		err  error
	)
	if cursor == "" {
		rows, err = v.db.QueryContext(ctx, first, owner, limit+1)
	} else {
		ts, eib, ok := strings.Cut(cursor, ".")
		ms, perr := strconv.ParseInt(ts, 10, 64)
		if !ok || perr != nil || eib == "" {
			return projections.Page{}, projections.ErrBadCursor
		}
		rows, err = v.db.QueryContext(ctx, after, owner, ms, ms, eib, limit+1)
	}
	if err != nil {
		return projections.Page{}, fmt.Errorf("projections/sqlite: %s of %s: %w", what, owner, err)
	}
	es, err := scanAll(rows)
	if err != nil {
		return projections.Page{}, fmt.Errorf("projections/sqlite: %s of %s: %w", what, owner, err)
	}
	page := projections.Page{Entries: es}
	if len(es) > limit {
		page.Entries = es[:limit]
		last := es[limit-1]
		page.Next = strconv.FormatInt(key(last), 10) + "." + last.EIB
	}
	return page, nil
}

// Copies implements projections.View.
func (v *View) Copies(ctx context.Context, owner, sha256 string) ([]projections.Entry, error) {
	if owner == "" || sha256 == "" {
		return nil, nil
	}
	rows, err := v.db.QueryContext(ctx, copies, owner, sha256)
	if err != nil {
		return nil, fmt.Errorf("projections/sqlite: copies: %w", err)
	}
	es, err := scanAll(rows)
	if err != nil {
		return nil, fmt.Errorf("projections/sqlite: copies: %w", err)
	}
	return es, nil
}

func scanAll(rows *sql.Rows) ([]projections.Entry, error) {
	defer rows.Close()
	var out []projections.Entry
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Reset implements projections.View; it also drops the secondary indexes
// until Loaded (or the next New) makes them again: Reset is a rebuild's
// first step.
func (v *View) Reset(ctx context.Context) error {
	tx, err := v.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("projections/sqlite: reset: %w", err)
	}
	defer tx.Rollback()
	qs := []string{`DELETE FROM entries`, `DELETE FROM checkpoints`}
	for _, name := range secondaryIndexes {
		qs = append(qs, `DROP INDEX IF EXISTS `+name)
	}
	for _, q := range qs {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("projections/sqlite: reset: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("projections/sqlite: reset: %w", err)
	}
	return nil
}

// Ping implements projections.View.
func (v *View) Ping(ctx context.Context) error {
	if err := v.db.PingContext(ctx); err != nil {
		return fmt.Errorf("projections/sqlite: ping: %w", err)
	}
	return nil
}

// Checkpoint implements events.Checkpoints.
func (v *View) Checkpoint(ctx context.Context, name string) (string, error) {
	var pos string
	err := v.db.QueryRowContext(ctx, `SELECT position FROM checkpoints WHERE name = ?`, name).Scan(&pos)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("projections/sqlite: checkpoint %s: %w", name, err)
	}
	return pos, nil
}

// SaveCheckpoint implements events.Checkpoints.
func (v *View) SaveCheckpoint(ctx context.Context, name, position string) error {
	_, err := v.db.ExecContext(ctx, `INSERT INTO checkpoints (name, position) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET position = excluded.position`, name, position)
	if err != nil {
		return fmt.Errorf("projections/sqlite: save checkpoint %s: %w", name, err)
	}
	return nil
}
