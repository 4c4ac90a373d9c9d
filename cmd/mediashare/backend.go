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

	"mediashare/internal/blob"
	"mediashare/internal/blob/fileblob"
	"mediashare/internal/events"
	eventsqlite "mediashare/internal/events/sqlite"
	"mediashare/internal/metrics"
	"mediashare/internal/projections"
	viewsqlite "mediashare/internal/projections/sqlite"
	"mediashare/internal/sqlitedb"
)

// backend is the storage the commands run on.
type backend struct {
	Events events.Store
	Feed   events.Feed
	View   projections.View
	Blobs  blob.Store
	Close  func() error
	// Stream, when set, reads the stream consumer's counters (AWS).
	Stream func() metrics.StreamStats
}

// openBackend opens the configured backend.
// apiOptions go to every AWS client (the metrics middleware).
func openBackend(ctx context.Context, c config, log *slog.Logger, apiOptions ...func(*middleware.Stack) error) (*backend, error) {
	if c.Backend != "aws" {
		return openEmbedded(ctx, c.Data)
	}
	b, err := awsbackend.Open(ctx, c.AWS, log, apiOptions...)
	if err != nil {
		return nil, err
	}
	stream := func() metrics.StreamStats {
		s := b.Stream.Stats()
		return metrics.StreamStats{Delivered: s.Delivered, HandlerErrors: s.HandlerErrors, Parked: s.Parked, Trimmed: s.Trimmed,
			ExpiredIterators: s.ExpiredIterators, Throttled: s.Throttled, LeasesTaken: s.LeasesTaken, LeasesLost: s.LeasesLost}
	}
	return &backend{Events: b.Events, Feed: b.Feed, View: b.View, Blobs: b.Blobs, Close: func() error { return nil }, Stream: stream}, nil
}

// openEmbedded opens the embedded backend: one SQLite file for events,
// view and checkpoints, and media files, all under dir.
func openEmbedded(ctx context.Context, dir string) (*backend, error) {
	db, err := sqlitedb.Open(filepath.Join(dir, "mediashare.db"))
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*backend, error) { db.Close(); return nil, err }
	store, err := eventsqlite.New(ctx, db)
	if err != nil {
		return fail(err)
	}
	view, err := viewsqlite.New(ctx, db)
	if err != nil {
		return fail(err)
	}
	blobs, err := fileblob.New(filepath.Join(dir, "media"))
	if err != nil {
		return fail(err)
	}
	return &backend{Events: store, Feed: store, View: view, Blobs: blobs, Close: db.Close}, nil
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
