// Package sqlite is the embedded backend's authstore: tables in the one
// SQLite file (internal/sqlitedb), times as Unix nanoseconds.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"mediashare/internal/authstore"
)

var _ authstore.Store = (*Store)(nil)

// Store is an authstore.Store on SQLite.
type Store struct {
	db  *sql.DB
	now authstore.Clock
}

const schema = `
CREATE TABLE IF NOT EXISTS auth_sessions (
	hash       TEXT PRIMARY KEY,
	account    TEXT NOT NULL,
	created    INTEGER NOT NULL,
	expires    INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	user_agent TEXT NOT NULL,
	ip         TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS auth_sessions_by_account ON auth_sessions (account, created);
CREATE INDEX IF NOT EXISTS auth_sessions_by_expiry ON auth_sessions (expires);
CREATE TABLE IF NOT EXISTS auth_revocations (
	account TEXT PRIMARY KEY,
	before  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS auth_tokens (
	hash      TEXT PRIMARY KEY,
	account   TEXT NOT NULL,
	name      TEXT NOT NULL,
	scopes    TEXT NOT NULL,
	created   INTEGER NOT NULL,
	expires   INTEGER NOT NULL, -- 0: never
	last_used INTEGER NOT NULL  -- 0: never
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS auth_tokens_by_account ON auth_tokens (account, created);
CREATE TABLE IF NOT EXISTS auth_invites (
	hash        TEXT PRIMARY KEY,
	created_by  TEXT NOT NULL,
	role        TEXT NOT NULL,
	created     INTEGER NOT NULL,
	expires     INTEGER NOT NULL,
	consumed_by TEXT NOT NULL DEFAULT '',
	consumed_at INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS auth_invites_by_created ON auth_invites (created);
CREATE TABLE IF NOT EXISTS auth_credentials (
	account TEXT PRIMARY KEY,
	hash    TEXT NOT NULL,
	updated INTEGER NOT NULL
) WITHOUT ROWID;`

// New prepares the tables in db (from sqlitedb.Open). now is the store's
// clock; nil means time.Now.
func New(ctx context.Context, db *sql.DB, now authstore.Clock) (*Store, error) {
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return nil, fmt.Errorf("authstore/sqlite: create schema: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, now: now}, nil
}

func ns(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNS(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// Ping implements authstore.Store.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// CreateSession implements authstore.Sessions. It also removes sessions
// that expired a day ago or more, so the table does not grow for ever.
func (s *Store) CreateSession(ctx context.Context, x authstore.Session) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO auth_sessions (hash, account, created, expires, last_seen, user_agent, ip) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		x.TokenHash, x.AccountID, ns(x.Created), ns(x.Expires), ns(x.LastSeen), x.UserAgent, x.IP)
	if isUnique(err) {
		return fmt.Errorf("authstore/sqlite: create session: %w", authstore.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("authstore/sqlite: create session: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM auth_sessions WHERE expires < ?`, ns(s.now().Add(-24*time.Hour))); err != nil {
		return fmt.Errorf("authstore/sqlite: sweep expired sessions: %w", err)
	}
	return nil
}

// live is the condition on auth_sessions (as s) of a session that works at now.
const liveSession = `s.expires > ? AND s.created >= COALESCE((SELECT before FROM auth_revocations r WHERE r.account = s.account), 0)`

const sessionCols = `s.hash, s.account, s.created, s.expires, s.last_seen, s.user_agent, s.ip`

func scanSession(sc interface{ Scan(...any) error }) (authstore.Session, error) {
	var x authstore.Session
	var created, expires, seen int64
	if err := sc.Scan(&x.TokenHash, &x.AccountID, &created, &expires, &seen, &x.UserAgent, &x.IP); err != nil {
		return authstore.Session{}, err
	}
	x.Created, x.Expires, x.LastSeen = fromNS(created), fromNS(expires), fromNS(seen)
	return x, nil
}

// Session implements authstore.Sessions.
func (s *Store) Session(ctx context.Context, hash string) (authstore.Session, error) {
	x, err := scanSession(s.db.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM auth_sessions s WHERE s.hash = ? AND `+liveSession, hash, ns(s.now())))
	if errors.Is(err, sql.ErrNoRows) {
		return authstore.Session{}, authstore.ErrNotFound
	}
	if err != nil {
		return authstore.Session{}, fmt.Errorf("authstore/sqlite: session: %w", err)
	}
	return x, nil
}

// TouchSession implements authstore.Sessions.
func (s *Store) TouchSession(ctx context.Context, hash string) error {
	now := ns(s.now())
	res, err := s.db.ExecContext(ctx, `UPDATE auth_sessions SET last_seen = ? WHERE hash = ? AND expires > ?`, now, hash, now)
	if err != nil {
		return fmt.Errorf("authstore/sqlite: touch session: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return authstore.ErrNotFound
	}
	return nil
}

// RevokeSession implements authstore.Sessions.
func (s *Store) RevokeSession(ctx context.Context, account, hash string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM auth_sessions WHERE hash = ? AND account = ?`, hash, account); err != nil {
		return fmt.Errorf("authstore/sqlite: revoke session: %w", err)
	}
	return nil
}

// RevokeSessions implements authstore.Sessions: it records that sessions
// made before now no longer count, then deletes them.
func (s *Store) RevokeSessions(ctx context.Context, account string) error {
	now := ns(s.now())
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("authstore/sqlite: revoke sessions: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO auth_revocations (account, before) VALUES (?, ?) ON CONFLICT (account) DO UPDATE SET before = MAX(before, excluded.before)`, account, now); err != nil {
		return fmt.Errorf("authstore/sqlite: revoke sessions: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM auth_sessions WHERE account = ? AND created < ?`, account, now); err != nil {
		return fmt.Errorf("authstore/sqlite: revoke sessions: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("authstore/sqlite: revoke sessions: %w", err)
	}
	return nil
}

// Sessions implements authstore.Sessions.
func (s *Store) Sessions(ctx context.Context, account string) ([]authstore.Session, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+sessionCols+` FROM auth_sessions s WHERE s.account = ? AND `+liveSession+` ORDER BY s.created DESC, s.hash`, account, ns(s.now()))
	if err != nil {
		return nil, fmt.Errorf("authstore/sqlite: list sessions: %w", err)
	}
	defer rows.Close()
	var out []authstore.Session
	for rows.Next() {
		x, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("authstore/sqlite: list sessions: %w", err)
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

const tokenCols = `hash, account, name, scopes, created, expires, last_used`

const liveToken = `(expires = 0 OR expires > ?)`

func scanToken(sc interface{ Scan(...any) error }) (authstore.Token, error) {
	var x authstore.Token
	var scopes string
	var created, expires, used int64
	if err := sc.Scan(&x.TokenHash, &x.AccountID, &x.Name, &scopes, &created, &expires, &used); err != nil {
		return authstore.Token{}, err
	}
	if scopes != "" {
		x.Scopes = strings.Split(scopes, ",")
	}
	x.Created, x.Expires, x.LastUsed = fromNS(created), fromNS(expires), fromNS(used)
	return x, nil
}

// CreateToken implements authstore.Tokens.
func (s *Store) CreateToken(ctx context.Context, x authstore.Token) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO auth_tokens (`+tokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		x.TokenHash, x.AccountID, x.Name, strings.Join(x.Scopes, ","), ns(x.Created), ns(x.Expires), ns(x.LastUsed))
	if isUnique(err) {
		return fmt.Errorf("authstore/sqlite: create token: %w", authstore.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("authstore/sqlite: create token: %w", err)
	}
	return nil
}

// Token implements authstore.Tokens.
func (s *Store) Token(ctx context.Context, hash string) (authstore.Token, error) {
	x, err := scanToken(s.db.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM auth_tokens WHERE hash = ? AND `+liveToken, hash, ns(s.now())))
	if errors.Is(err, sql.ErrNoRows) {
		return authstore.Token{}, authstore.ErrNotFound
	}
	if err != nil {
		return authstore.Token{}, fmt.Errorf("authstore/sqlite: token: %w", err)
	}
	return x, nil
}

// TouchToken implements authstore.Tokens.
func (s *Store) TouchToken(ctx context.Context, hash string) error {
	now := ns(s.now())
	res, err := s.db.ExecContext(ctx, `UPDATE auth_tokens SET last_used = ? WHERE hash = ? AND `+liveToken, now, hash, now)
	if err != nil {
		return fmt.Errorf("authstore/sqlite: touch token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return authstore.ErrNotFound
	}
	return nil
}

// RevokeToken implements authstore.Tokens.
func (s *Store) RevokeToken(ctx context.Context, account, hash string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM auth_tokens WHERE hash = ? AND account = ? AND `+liveToken, hash, account, ns(s.now()))
	if err != nil {
		return fmt.Errorf("authstore/sqlite: revoke token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return authstore.ErrNotFound
	}
	return nil
}

// Tokens implements authstore.Tokens.
func (s *Store) Tokens(ctx context.Context, account string) ([]authstore.Token, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+tokenCols+` FROM auth_tokens WHERE account = ? AND `+liveToken+` ORDER BY created DESC, hash`, account, ns(s.now()))
	if err != nil {
		return nil, fmt.Errorf("authstore/sqlite: list tokens: %w", err)
	}
	defer rows.Close()
	var out []authstore.Token
	for rows.Next() {
		x, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("authstore/sqlite: list tokens: %w", err)
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

const inviteCols = `hash, created_by, role, created, expires, consumed_by, consumed_at`

func scanInvite(sc interface{ Scan(...any) error }) (authstore.Invite, error) {
	var x authstore.Invite
	var created, expires, consumed int64
	if err := sc.Scan(&x.TokenHash, &x.CreatedBy, &x.Role, &created, &expires, &x.ConsumedBy, &consumed); err != nil {
		return authstore.Invite{}, err
	}
	x.Created, x.Expires, x.ConsumedAt = fromNS(created), fromNS(expires), fromNS(consumed)
	return x, nil
}

// CreateInvite implements authstore.Invites.
func (s *Store) CreateInvite(ctx context.Context, x authstore.Invite) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO auth_invites (`+inviteCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		x.TokenHash, x.CreatedBy, x.Role, ns(x.Created), ns(x.Expires), x.ConsumedBy, ns(x.ConsumedAt))
	if isUnique(err) {
		return fmt.Errorf("authstore/sqlite: create invite: %w", authstore.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("authstore/sqlite: create invite: %w", err)
	}
	return nil
}

func usable(x authstore.Invite, now time.Time) error {
	switch {
	case x.ConsumedBy != "":
		return authstore.ErrInviteUsed
	case !now.Before(x.Expires):
		return authstore.ErrInviteExpired
	}
	return nil
}

// Invite implements authstore.Invites.
func (s *Store) Invite(ctx context.Context, hash string) (authstore.Invite, error) {
	x, err := scanInvite(s.db.QueryRowContext(ctx, `SELECT `+inviteCols+` FROM auth_invites WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return authstore.Invite{}, authstore.ErrNotFound
	}
	if err != nil {
		return authstore.Invite{}, fmt.Errorf("authstore/sqlite: invite: %w", err)
	}
	if err := usable(x, s.now()); err != nil {
		return authstore.Invite{}, err
	}
	return x, nil
}

// ConsumeInvite implements authstore.Invites: one conditional UPDATE, so
// SQLite's write lock makes exactly one of concurrent consumers win.
func (s *Store) ConsumeInvite(ctx context.Context, hash, account string) (authstore.Invite, error) {
	now := s.now()
	x, err := scanInvite(s.db.QueryRowContext(ctx, `UPDATE auth_invites SET consumed_by = ?, consumed_at = ? WHERE hash = ? AND consumed_by = '' AND expires > ? RETURNING `+inviteCols,
		account, ns(now), hash, ns(now)))
	if err == nil {
		return x, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return authstore.Invite{}, fmt.Errorf("authstore/sqlite: consume invite: %w", err)
	}
	// Say why: missing, used or expired.
	if _, err := s.Invite(ctx, hash); err != nil {
		return authstore.Invite{}, err
	}
	return authstore.Invite{}, authstore.ErrInviteUsed // it was usable a moment ago: someone else won
}

// ReleaseInvite implements authstore.Invites: one conditional UPDATE.
func (s *Store) ReleaseInvite(ctx context.Context, hash, account string) error {
	if account == "" {
		return nil
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE auth_invites SET consumed_by = '', consumed_at = 0 WHERE hash = ? AND consumed_by = ?`, hash, account); err != nil {
		return fmt.Errorf("authstore/sqlite: release invite: %w", err)
	}
	return nil
}

// RevokeInvite implements authstore.Invites.
func (s *Store) RevokeInvite(ctx context.Context, hash string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM auth_invites WHERE hash = ?`, hash); err != nil {
		return fmt.Errorf("authstore/sqlite: revoke invite: %w", err)
	}
	return nil
}

// Invites implements authstore.Invites.
func (s *Store) Invites(ctx context.Context) ([]authstore.Invite, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+inviteCols+` FROM auth_invites WHERE consumed_by = '' AND expires > ? ORDER BY created DESC, hash`, ns(s.now()))
	if err != nil {
		return nil, fmt.Errorf("authstore/sqlite: list invites: %w", err)
	}
	defer rows.Close()
	var out []authstore.Invite
	for rows.Next() {
		x, err := scanInvite(rows)
		if err != nil {
			return nil, fmt.Errorf("authstore/sqlite: list invites: %w", err)
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// SetCredential implements authstore.Credentials.
func (s *Store) SetCredential(ctx context.Context, c authstore.Credential) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO auth_credentials (account, hash, updated) VALUES (?, ?, ?) ON CONFLICT (account) DO UPDATE SET hash = excluded.hash, updated = excluded.updated`,
		c.AccountID, c.Hash, ns(c.Updated)); err != nil {
		return fmt.Errorf("authstore/sqlite: set credential: %w", err)
	}
	return nil
}

// Credential implements authstore.Credentials.
func (s *Store) Credential(ctx context.Context, account string) (authstore.Credential, error) {
	c := authstore.Credential{AccountID: account}
	var updated int64
	err := s.db.QueryRowContext(ctx, `SELECT hash, updated FROM auth_credentials WHERE account = ?`, account).Scan(&c.Hash, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return authstore.Credential{}, authstore.ErrNotFound
	}
	if err != nil {
		return authstore.Credential{}, fmt.Errorf("authstore/sqlite: credential: %w", err)
	}
	c.Updated = fromNS(updated)
	return c, nil
}
