package projections

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"mediashare/internal/blob"
	"mediashare/internal/events"
	"mediashare/internal/ids"
)

// ReactorConsumer is the feed consumer name of the Reactor.
const ReactorConsumer = "reactor"

// Thumbnail is what the Reactor needs from the thumbnail maker: the grid
// thumbnail (an encoded PNG and its size), a placeholder colour, and
// optionally a larger preview for the entry page.
type Thumbnail struct {
	PNG           []byte
	Width, Height int
	Placeholder   string
	Preview       *Rendition // nil when there is none (a small original)
}

// Rendition is one more encoded image of an original.
type Rendition struct {
	Data          []byte
	ContentType   string // "image/jpeg" or "image/png"
	Ext           string // ".jpg" or ".png", the key's suffix
	Width, Height int
}

// PreviewKey is the key of an original's preview: "<resource>-preview.jpg"
// (or ".png" for an image with transparency).
func PreviewKey(resource, ext string) string { return resource + "-preview" + ext }

// MakeThumbnail makes the grid thumbnail (and the preview) of an original.
type MakeThumbnail func(ctx context.Context, original io.ReadSeeker) (Thumbnail, error)

// Reactor does the work that events call for and records the outcome as
// new events: on MediaUploaded it makes the thumbnail (ThumbnailGenerated
// or ThumbnailFailed); on MediaDeleted it removes the blobs (MediaPurged).
// Each reaction checks the stream first and appends with the version it
// saw, so a redelivered event does its work at most once more and never
// records it twice.
type Reactor struct {
	Feed        events.Feed
	Events      events.Store
	Blobs       blob.Store
	Checkpoints events.Checkpoints
	Thumbnail   MakeThumbnail
	// ThumbnailTimeout bounds one thumbnail (decode included).
	ThumbnailTimeout time.Duration
	Log              *slog.Logger
	// Observe, when set, is told how long each thumbnail took and whether it failed.
	Observe func(d time.Duration, failed bool)
	Now     func() time.Time
}

// Run reacts until ctx is done.
func (r *Reactor) Run(ctx context.Context) error {
	err := r.Feed.Follow(ctx, ReactorConsumer, r.Checkpoints, r.Handle)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// Handle reacts to one event.
func (r *Reactor) Handle(ctx context.Context, e events.Event) error {
	switch e.Type {
	case events.MediaUploaded:
		return r.thumbnail(ctx, e)
	case events.MediaDeleted:
		return r.purge(ctx, e)
	}
	return nil
}

// state summarises a stream for the reactions.
type state struct {
	version     int
	uploaded    events.Uploaded
	thumbnailed bool // ThumbnailGenerated or ThumbnailFailed recorded
	deleted     bool
	purged      bool
	thumbKeys   []string
}

func (r *Reactor) load(ctx context.Context, stream string) (state, error) {
	evs, err := r.Events.Load(ctx, stream)
	if err != nil {
		return state{}, fmt.Errorf("projections: react: load %s: %w", stream, err)
	}
	var s state
	for _, e := range evs {
		s.version = e.Version
		switch e.Type {
		case events.MediaUploaded:
			if err := e.Decode(&s.uploaded); err != nil {
				return s, err
			}
		case events.ThumbnailGenerated:
			s.thumbnailed = true
			var p events.ThumbnailsGenerated
			if err := e.Decode(&p); err == nil {
				for _, t := range p.Thumbnails {
					s.thumbKeys = append(s.thumbKeys, t.Key)
				}
			}
		case events.ThumbnailFailed:
			s.thumbnailed = true
		case events.MediaDeleted:
			s.deleted = true
		case events.MediaPurged:
			s.purged = true
		}
	}
	return s, nil
}

func (r *Reactor) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reactor) log() *slog.Logger {
	if r.Log == nil {
		return slog.Default()
	}
	return r.Log
}

func (r *Reactor) record(ctx context.Context, stream string, expected int, t events.Type, payload any) error {
	at := r.now()
	ev, err := events.New(ids.New(at), t, stream, at, events.SystemActor, payload)
	if err != nil {
		return err
	}
	_, err = r.Events.Append(ctx, stream, expected, ev)
	return err
}

func (r *Reactor) thumbnail(ctx context.Context, e events.Event) error {
	s, err := r.load(ctx, e.Stream)
	if err != nil {
		return err
	}
	if s.thumbnailed || s.deleted {
		return nil // done already, or no longer wanted
	}
	original := s.uploaded.Original
	thumbKey := ThumbnailKey(original)

	start := time.Now()
	thumb, failure, err := r.make(ctx, original)
	if err != nil {
		return err // storage trouble: try again later
	}
	took := time.Since(start)
	if r.Observe != nil {
		r.Observe(took, failure != "")
	}
	if failure != "" {
		r.log().Warn("thumbnail failed", "eib", e.Stream, "reason", failure)
		err := r.record(ctx, e.Stream, s.version, events.ThumbnailFailed, events.ThumbnailFailure{Reason: failure})
		if events.IsConflict(err) {
			return nil // the stream moved on (deleted, or done elsewhere)
		}
		return err
	}
	// Every blob is stored before the event that names it. The grid
	// thumbnail comes first in the event; the preview, if any, second.
	info, err := r.Blobs.Put(ctx, thumbKey, bytes.NewReader(thumb.PNG), "image/png")
	if err != nil {
		return fmt.Errorf("projections: store thumbnail %s: %w", thumbKey, err)
	}
	thumbs := []events.Thumb{{Key: thumbKey, Width: thumb.Width, Height: thumb.Height, ContentType: "image/png", Size: info.Size}}
	if p := thumb.Preview; p != nil {
		key := PreviewKey(original, p.Ext)
		info, err := r.Blobs.Put(ctx, key, bytes.NewReader(p.Data), p.ContentType)
		if err != nil {
			return fmt.Errorf("projections: store preview %s: %w", key, err)
		}
		thumbs = append(thumbs, events.Thumb{Key: key, Width: p.Width, Height: p.Height, ContentType: p.ContentType, Size: info.Size})
	}
	err = r.record(ctx, e.Stream, s.version, events.ThumbnailGenerated, events.ThumbnailsGenerated{
		Thumbnails:  thumbs,
		Placeholder: thumb.Placeholder,
		Millis:      took.Milliseconds(),
	})
	if events.IsConflict(err) {
		// Deleted while we worked: the purge may already have run, so the
		// renditions we just wrote must not outlive the entry.
		if s2, lerr := r.load(ctx, e.Stream); lerr == nil && s2.deleted {
			for _, t := range thumbs {
				if err := r.Blobs.Delete(ctx, t.Key); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return err
}

// make returns the thumbnail, or a failure reason for a file that cannot
// be thumbnailed, or an error for trouble worth retrying.
func (r *Reactor) make(ctx context.Context, original string) (Thumbnail, string, error) {
	o, err := r.Blobs.Open(ctx, original)
	if errors.Is(err, blob.ErrNotFound) {
		return Thumbnail{}, "the original file is missing", nil
	}
	if err != nil {
		return Thumbnail{}, "", fmt.Errorf("projections: open original %s: %w", original, err)
	}
	defer o.Close()
	tctx := ctx
	if r.ThumbnailTimeout > 0 {
		var cancel context.CancelFunc
		tctx, cancel = context.WithTimeout(ctx, r.ThumbnailTimeout)
		defer cancel()
	}
	thumb, err := r.Thumbnail(tctx, o)
	switch {
	case err == nil:
		return thumb, "", nil
	case ctx.Err() != nil:
		return Thumbnail{}, "", ctx.Err() // shutting down: retry after restart
	case errors.Is(err, context.DeadlineExceeded):
		return Thumbnail{}, "making the preview took too long", nil
	default:
		return Thumbnail{}, "could not make a preview: " + err.Error(), nil
	}
}

func (r *Reactor) purge(ctx context.Context, e events.Event) error {
	s, err := r.load(ctx, e.Stream)
	if err != nil {
		return err
	}
	if s.purged {
		return nil
	}
	keys := []string{s.uploaded.Original, ThumbnailKey(s.uploaded.Original)}
	for _, k := range s.thumbKeys {
		if k != keys[1] {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		if err := r.Blobs.Delete(ctx, k); err != nil {
			return fmt.Errorf("projections: purge %s: %w", e.Stream, err)
		}
	}
	err = r.record(ctx, e.Stream, s.version, events.MediaPurged, events.Purged{Keys: keys})
	if events.IsConflict(err) {
		return r.purge(ctx, e) // something else was appended meanwhile; look again
	}
	return err
}
