// Package backend holds the one type both storage wirings return (the
// embedded one in cmd/mediashare, the AWS one in internal/awsbackend):
// every port the commands use, typed, so that nothing is found by a
// runtime type assertion.
package backend

import (
	"context"

	"mediashare/internal/authstore"
	"mediashare/internal/blob"
	"mediashare/internal/events"
	"mediashare/internal/keyring"
	"mediashare/internal/projections"
)

// Backend is the storage the commands run on.
type Backend struct {
	Events  events.Store        // the event store
	Audit   events.Auditor      // the audit log's newest-first read
	Streams events.StreamLister // every stream, for catch-up rebuilds
	Feed    events.Feed         // the change feed the consumers follow
	// Poison is the poison-event rule Feed applies; consumers register
	// their park hooks on it (SetPark) and metrics their hooks (OnPark,
	// OnRetry) before following.
	Poison *events.Poison
	// Attempts is where Feed keeps attempt counts and dead letters.
	Attempts events.Attempts
	// FeedStats reads the feed's counters.
	FeedStats func() events.FeedStats
	// StreamStats is true when FeedStats fills the DynamoDB Streams
	// fields (iterators, throttling, leases, trims).
	StreamStats bool

	View    projections.View      // the entries view
	Changes projections.ChangeLog // the view's change log (the live gallery)
	Blobs   blob.Store            // originals and renditions

	Auth authstore.Store // sessions, API tokens, invites, password credentials
	Keys keyring.Store   // per-entry data keys (erasure by crypto-shredding)

	// Invalidate, when a CDN is in front of the blobs, makes it forget
	// blob keys (an erased entry's); nil when there is none.
	Invalidate func(ctx context.Context, keys []string) error

	// Close releases what the backend holds (the SQLite file).
	Close func() error
}
