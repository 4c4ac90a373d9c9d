// Package events holds mediashare's domain events and the ports of the
// event store: an append-only log with one stream per entry (stream id =
// the entry's eib), versioned 1, 2, 3 … Adapters live in subpackages
// (sqlite for the embedded backend); eventstest is the conformance suite
// every adapter passes.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Type names what happened. The meaning of a type never changes; new
// meanings get new types.
type Type string

const (
	MediaUploaded      Type = "MediaUploaded"
	ThumbnailGenerated Type = "ThumbnailGenerated"
	ThumbnailFailed    Type = "ThumbnailFailed"
	MediaDeleted       Type = "MediaDeleted"
	MediaPurged        Type = "MediaPurged"
	// MediaTrashed: the entry was moved to its owner's trash; it may be
	// restored until its payload's purge_after, when it is deleted for good.
	MediaTrashed Type = "MediaTrashed"
	// MediaRestored: a trashed entry was put back in the gallery.
	MediaRestored Type = "MediaRestored"
	// PreviewGenerated: the entry page's larger preview was made, after
	// the grid thumbnail (ThumbnailGenerated) and at a lower priority.
	// Older builds recorded the preview as ThumbnailGenerated's second
	// thumbnail instead; both mean the same.
	PreviewGenerated Type = "PreviewGenerated"
)

// Types lists every event type: an entry's, in the order of its life, then an account's.
var Types = []Type{MediaUploaded, ThumbnailGenerated, ThumbnailFailed, PreviewGenerated, MediaTrashed, MediaRestored, MediaDeleted, MediaPurged, EntryClaimed,
	AccountRegistered, AccountPromoted, AccountDemoted, AccountDisabled, AccountEnabled, PasswordChanged,
	MediaErased, EntryReported, ReportDismissed}

// SchemaVersion is the payload schema written by this build.
const SchemaVersion = 1

// Actor says who caused an event.
type Actor string

// SystemActor is the actor of events the service records by itself.
const SystemActor Actor = "system"

// OwnerActor is the actor for an owner id.
func OwnerActor(owner string) Actor { return Actor("owner:" + owner) }

// Event is one immutable fact in a stream.
type Event struct {
	ID      string          // unique id (time-sortable); a retried append with the same id is a no-op
	Type    Type            //
	Stream  string          // the entry's eib
	Version int             // 1, 2, 3 … within the stream
	Time    time.Time       // UTC, millisecond precision
	Actor   Actor           //
	Schema  int             // payload schema version
	Data    json.RawMessage // the payload as JSON
	// Position is where the adapter holds the event in its global order
	// (the audit log and change feed order). Set by the store, opaque.
	Position string
}

// Decode unmarshals the payload into v.
func (e Event) Decode(v any) error {
	if err := json.Unmarshal(e.Data, v); err != nil {
		return fmt.Errorf("events: decode %s %s v%d: %w", e.Type, e.Stream, e.Version, err)
	}
	return nil
}

// New makes an event of type t with payload p. The store fills Version
// and Position on append.
func New(id string, t Type, stream string, at time.Time, actor Actor, p any) (Event, error) {
	data, err := json.Marshal(p)
	if err != nil {
		return Event{}, fmt.Errorf("events: encode %s: %w", t, err)
	}
	return Event{ID: id, Type: t, Stream: stream, Time: at.UTC().Truncate(time.Millisecond), Actor: actor, Schema: SchemaVersion, Data: data}, nil
}

// Payloads.

// Uploaded is the payload of MediaUploaded.
type Uploaded struct {
	Title       string `json:"title"`
	Comment     string `json:"comment"`
	MediaType   string `json:"media_type"` // "image"
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	Original    string `json:"original_key"`
	Owner       string `json:"owner"`
	Filename    string `json:"filename,omitempty"`
}

// Thumb is one generated rendition.
type Thumb struct {
	Key         string `json:"key"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// ThumbnailsGenerated is the payload of ThumbnailGenerated.
type ThumbnailsGenerated struct {
	Thumbnails  []Thumb `json:"thumbnails"`
	Placeholder string  `json:"placeholder"` // CSS colour, e.g. "#6a7b8c"
	Millis      int64   `json:"millis"`      // how long it took
}

// PreviewMade is the payload of PreviewGenerated.
type PreviewMade struct {
	Preview Thumb `json:"preview"`
	Millis  int64 `json:"millis"` // how long it took
}

// ThumbnailFailure is the payload of ThumbnailFailed. Reason is a code
// ("decode_failed") and Message says it safely to people; events written
// before the code was introduced carry a free-text Reason and no Message.
type ThumbnailFailure struct {
	Reason  string `json:"reason"`
	Message string `json:"message,omitempty"`
}

// ReasonPoison is the ThumbnailFailed reason of an upload whose handling
// kept stopping the process (see Poison).
const ReasonPoison = "poison"

// Deleted is the payload of MediaDeleted: the entry is deleted for good
// and its blobs are to be removed now (by the reactor, which then records
// MediaPurged). It has meant that since the first build; with the trash
// it is recorded when the retention ends, when the owner empties the
// trash (or deletes one trashed entry now), when an admin purges, or at
// once when the trash is off (--trash-retention 0).
type Deleted struct {
	// Reason says why: "owner" (its owner deleted it, or emptied it from
	// the trash), "admin" (an admin purged it) or "retention" (its trash
	// period ended).
	Reason string `json:"reason"`
}

// Trashed is the payload of MediaTrashed.
type Trashed struct {
	Reason     string    `json:"reason"`      // "owner" or "admin": who moved it to the trash
	PurgeAfter time.Time `json:"purge_after"` // when the trash period ends (UTC, ms)
}

// Restored is the payload of MediaRestored.
type Restored struct {
	Reason string `json:"reason"` // "owner" or "admin": who restored it
}

// Purged is the payload of MediaPurged.
type Purged struct {
	Keys []string `json:"keys"`
}

// ConflictError reports that a stream had moved past the expected version.
type ConflictError struct {
	Stream   string
	Expected int
	Actual   int
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("events: stream %s is at version %d, expected %d", e.Stream, e.Actual, e.Expected)
}

// IsConflict reports whether err is (or wraps) a *ConflictError.
func IsConflict(err error) bool {
	var c *ConflictError
	return errors.As(err, &c)
}

// ErrNotFound is returned by Load for a stream with no events.
var ErrNotFound = errors.New("events: stream not found")

// ErrBadPosition is returned (wrapped) for a position the store did not
// make: a reader's malformed cursor.
var ErrBadPosition = errors.New("events: bad position")

// Store is the event store.
type Store interface {
	// Append adds events to stream, numbering them expected+1, expected+2 …
	// It fails with *ConflictError when the stream is not at version
	// expected (0 for a new stream). It returns the events as stored.
	//
	// Retries are idempotent by event ID, by one rule on every adapter: when
	// the events stored after expected begin with the first k events of the
	// batch (same IDs, same order, k ≥ 1), those k count as stored and the
	// rest are appended after them (a conflict if the stream is past
	// expected+k). So a retried append never appends twice, and a retry of a
	// batch that landed only in part (possible where an append is not one
	// transaction) completes it. Events without an ID never match.
	Append(ctx context.Context, stream string, expected int, evs ...Event) ([]Event, error)
	// Load returns the stream's events in version order, or ErrNotFound.
	Load(ctx context.Context, stream string) ([]Event, error)
	// ReadAll returns up to limit events after position (use "" for the
	// start) in the store's global order, and the position to resume from.
	// It is the audit log's read.
	ReadAll(ctx context.Context, after string, limit int) (evs []Event, next string, err error)
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
}

// Handler handles one event delivered by a Feed. An error is retried
// under the poison-event rule (see Poison): a bounded number of attempts,
// then the event is parked and the feed moves on.
type Handler func(ctx context.Context, e Event) error

// Checkpoints is where a consumer keeps its position in a feed. The
// consumer owns it (the entries view stores its own), so that a view and
// its checkpoint can live side by side, and clearing it (a rebuild's
// Reset) starts the consumer over. What the feed writes there is opaque
// to the consumer.
type Checkpoints interface {
	Checkpoint(ctx context.Context, name string) (string, error) // "" when none
	SaveCheckpoint(ctx context.Context, name, position string) error
}

// Feed is the ordered change feed that projectors consume.
type Feed interface {
	// Follow calls h for each event, in order within each stream, never
	// concurrently. It blocks until ctx is done and returns ctx.Err() on a
	// clean stop.
	//
	// The checkpoint contract, the same on every adapter: Follow resumes
	// after the last event handled under name, and an event handled (or
	// parked) is not delivered again to a later Follow unless cp is
	// cleared. cp holds the consumer's token of its position: when
	// cp.Checkpoint(name) is "" (never saved, or Reset), Follow starts
	// over from the oldest event the feed still holds. (SQLite keeps the
	// position itself in cp; the DynamoDB Streams feed keeps per-shard
	// positions in its lease table, written only by the lease holder, and
	// in cp a generation that, once cleared, restarts every shard; it also
	// takes a nil cp: lease positions only.)
	//
	// Handler errors and crashes follow the poison-event rule (Poison).
	Follow(ctx context.Context, name string, cp Checkpoints, h Handler) error
}

// Filter selects events of the audit log. Empty fields select everything.
type Filter struct {
	Types  []Type
	Stream string
}

// Match reports whether e passes the filter.
func (f Filter) Match(e Event) bool {
	if f.Stream != "" && e.Stream != f.Stream {
		return false
	}
	if len(f.Types) == 0 {
		return true
	}
	for _, t := range f.Types {
		if e.Type == t {
			return true
		}
	}
	return false
}

// Auditor reads the audit log newest first.
type Auditor interface {
	// History returns up to limit events matching f that come before the
	// position ("" for the newest), newest first, and the position to
	// continue from ("" at the end).
	History(ctx context.Context, f Filter, before string, limit int) (evs []Event, next string, err error)
}

// Record is an event as JSON for tools (the NDJSON export, the CLI).
type Record struct {
	Position string          `json:"position"`
	ID       string          `json:"id"`
	Type     Type            `json:"type"`
	Stream   string          `json:"stream"`
	Version  int             `json:"version"`
	Time     time.Time       `json:"time"`
	Actor    Actor           `json:"actor"`
	Schema   int             `json:"schema"`
	Data     json.RawMessage `json:"data"`
}

// Record returns the event as a Record.
func (e Event) Record() Record {
	return Record{Position: e.Position, ID: e.ID, Type: e.Type, Stream: e.Stream, Version: e.Version, Time: e.Time, Actor: e.Actor, Schema: e.Schema, Data: e.Data}
}

// StreamLister lists every stream of a store, for rebuilds that read each
// stream whole and in order.
type StreamLister interface {
	// Streams calls fn once for each stream, from up to segments workers
	// at a time; the first error stops it.
	Streams(ctx context.Context, segments int, fn func(ctx context.Context, stream string) error) error
}
