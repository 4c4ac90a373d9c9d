package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/smithy-go/middleware"

	authsqlite "mediashare/internal/authstore/sqlite"
	"mediashare/internal/awsbackend"
	"mediashare/internal/backend"
	"mediashare/internal/blob/fileblob"
	"mediashare/internal/events"
	eventsqlite "mediashare/internal/events/sqlite"
	keysqlite "mediashare/internal/keyring/sqlite"
	viewsqlite "mediashare/internal/projections/sqlite"
	"mediashare/internal/sqlitedb"
)

// openBackend opens the configured backend.
// apiOptions go to every AWS client (the metrics middleware).
func openBackend(ctx context.Context, c config, log *slog.Logger, apiOptions ...func(*middleware.Stack) error) (*backend.Backend, error) {
	if c.Backend != "aws" {
		return openEmbedded(ctx, c, log)
	}
	return awsbackend.Open(ctx, c.AWS, log, apiOptions...)
}

// openEmbedded opens the embedded backend: one SQLite file for events,
// view, checkpoints, attempt counts and dead letters, and media files,
// all under the data directory.
func openEmbedded(ctx context.Context, c config, log *slog.Logger) (*backend.Backend, error) {
	db, err := sqlitedb.Open(filepath.Join(c.Data, "mediashare.db"))
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*backend.Backend, error) { db.Close(); return nil, err }
	store, err := eventsqlite.New(ctx, db)
	if err != nil {
		return fail(err)
	}
	store.Poison = &events.Poison{MaxAttempts: c.MaxAttempts, Log: log.With("component", "feed")}
	view, err := viewsqlite.New(ctx, db)
	if err != nil {
		return fail(err)
	}
	blobs, err := fileblob.New(filepath.Join(c.Data, "media"))
	if err != nil {
		return fail(err)
	}
	auth, err := authsqlite.New(ctx, db, nil)
	if err != nil {
		return fail(err)
	}
	keys, err := keysqlite.New(ctx, db)
	if err != nil {
		return fail(err)
	}
	return &backend.Backend{
		Events: store, Audit: store, Streams: store, Feed: store, Poison: store.Poison, Attempts: store, FeedStats: store.Stats,
		View: view, Changes: view, Blobs: blobs, Auth: auth, Keys: keys, Close: db.Close,
	}, nil
}

// loadSecret reads the cookie-signing keys, creating the file (one new
// key) on first start. The file holds one key a line, newest first: the
// newest signs, every one verifies, so rotating (a new first line, the
// old key kept below it until every cookie has been re-signed or it may
// lapse) keeps every owner's rights. Blank lines and lines starting with
// # are skipped. A file that is not text (the single binary key earlier
// versions made) is one key, as before.
func loadSecret(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		raw := make([]byte, 32)
		rand.Read(raw)
		key := hex.EncodeToString(raw)
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
		if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
		return [][]byte{[]byte(key)}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read --secret-file %s: %w", path, err)
	}
	if !isKeyText(b) {
		if len(b) < 16 {
			return nil, fmt.Errorf("--secret-file %s holds %d bytes; want at least 16", path, len(b))
		}
		return [][]byte{b}, nil
	}
	var keys [][]byte
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(line) < 16 {
			return nil, fmt.Errorf("--secret-file %s: the key on line %d has %d characters; want at least 16", path, i+1, len(line))
		}
		keys = append(keys, []byte(line))
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("--secret-file %s holds no key", path)
	}
	return keys, nil
}

// isKeyText reports whether b is a text file of keys (printable ASCII,
// spaces and line ends only).
func isKeyText(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 || c > 0x7e) && c != '\n' && c != '\r' && c != '\t' {
			return false
		}
	}
	return true
}
