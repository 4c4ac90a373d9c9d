package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/aws/smithy-go/middleware"

	"mediashare/internal/awsbackend"
	"mediashare/internal/backend"
	"mediashare/internal/blob/fileblob"
	"mediashare/internal/events"
	eventsqlite "mediashare/internal/events/sqlite"
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
	return &backend.Backend{
		Events: store, Audit: store, Streams: store, Feed: store, Poison: store.Poison, Attempts: store, FeedStats: store.Stats,
		View: view, Changes: view, Blobs: blobs, Close: db.Close,
	}, nil
}

// loadSecret reads the cookie-signing key, creating it on first start.
func loadSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		b = make([]byte, 32)
		rand.Read(b)
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
		return b, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read --secret-file %s: %w", path, err)
	}
	if len(b) < 16 {
		return nil, fmt.Errorf("--secret-file %s holds %d bytes; want at least 16", path, len(b))
	}
	return b, nil
}
