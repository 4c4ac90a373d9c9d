// Package reactor does the work that an entry's events call for and
// records the outcome as new events: on MediaUploaded it makes the grid
// thumbnail (ThumbnailGenerated or ThumbnailFailed); on MediaDeleted it
// removes the blobs (MediaPurged). What is still to do is the entry
// aggregate's decision (internal/entry); the reactor does it. It is a
// consumer of the change feed beside the projector, which only projects.
//
// The entry page's larger preview is made after the grid thumbnail, at a
// lower priority, by a second consumer of the feed (RunPreviews, under
// PreviewConsumer, with a checkpoint of its own): it makes one preview
// at a time, each once the Foreground has been idle a moment (no upload
// being received, no grid thumbnail being made) or once it has waited
// PreviewDelay, and records PreviewGenerated (preview.go).
package reactor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"mediashare/internal/blob"
	"mediashare/internal/entry"
	"mediashare/internal/events"
	"mediashare/internal/foreground"
	"mediashare/internal/ids"
)

// Consumer is the feed consumer name of the Reactor.
const Consumer = "reactor"

// DefaultAttempts bounds the appends one reaction tries when the stream
// keeps moving on (optimistic concurrency conflicts).
const DefaultAttempts = 5

// Thumbnail is what the Reactor needs from the thumbnail maker: the grid
// thumbnail (an encoded PNG and its size) and a placeholder colour.
type Thumbnail struct {
	PNG           []byte
	Width, Height int
	Placeholder   string
}

// Rendition is one more encoded image of an original.
type Rendition struct {
	Data          []byte
	ContentType   string // "image/jpeg" or "image/png"
	Ext           string // ".jpg" or ".png", the key's suffix
	Width, Height int
}

// MakeThumbnail makes the grid thumbnail of an original.
type MakeThumbnail func(ctx context.Context, original io.ReadSeeker) (Thumbnail, error)

// MakePreview makes the entry page's preview of an original, or nil for
// one that gets none (no larger than the grid thumbnail).
type MakePreview func(ctx context.Context, original io.ReadSeeker) (*Rendition, error)

// Reactor reacts to the events of the feed. Each reaction folds the
// stream first and appends with the version it saw, so a redelivered
// event does its work at most once more and never records it twice.
type Reactor struct {
	Feed        events.Feed
	Events      events.Store
	Blobs       blob.Store
	Checkpoints events.Checkpoints
	Thumbnail   MakeThumbnail
	// ThumbnailTimeout bounds one thumbnail, and one preview (decode included).
	ThumbnailTimeout time.Duration
	// Preview makes the previews (RunPreviews); nil makes none.
	Preview MakePreview
	// Foreground, when set, is the work previews give way to: the
	// reactor counts its grid thumbnails there, the web its uploads.
	Foreground *foreground.Tracker
	// PreviewDelay bounds how long a preview waits for the foreground
	// to be idle, from its ThumbnailGenerated (DefaultPreviewDelay when
	// 0): past it the preview is made anyway, so previews are never
	// starved by a steady stream of uploads.
	PreviewDelay time.Duration
	// PreviewQuiet is how long the foreground must have been idle before
	// a preview starts (DefaultPreviewQuiet when 0): enough for an upload
	// just accepted to reach the reactor.
	PreviewQuiet time.Duration
	// ObservePreview, when set, is told how long each preview took and whether it failed.
	ObservePreview func(d time.Duration, failed bool)
	// Attempts bounds the appends of one reaction on conflict
	// (DefaultAttempts when 0); past it the event fails and is delivered again.
	Attempts int
	// Workers bounds the entries handled at once on a batch feed
	// (GOMAXPROCS when 0; 1 handles one event at a time).
	Workers int
	// Batch bounds the events of one batch (16 × Workers when 0).
	Batch int
	Log   *slog.Logger
	// Observe, when set, is told how long each thumbnail took and whether it failed.
	Observe func(d time.Duration, failed bool)
	Now     func() time.Time
	// Keys destroys an erased entry's key (nil: no keyring).
	Keys Destroyer
	// Invalidate, when set, tells the CDN in front of the media to forget
	// the keys of an erased entry (CloudFront CreateInvalidation).
	Invalidate func(ctx context.Context, keys []string) error
}

// Destroyer destroys an entry's data key (a keyring.Store is one).
type Destroyer interface {
	Destroy(ctx context.Context, entry string, at time.Time) error
}

// Run reacts until ctx is done. On a feed that delivers batches
// (events.BatchFeed), the events of different entries are handled
// concurrently, Workers at a time.
func (r *Reactor) Run(ctx context.Context) error {
	var err error
	if bf, ok := r.Feed.(events.BatchFeed); ok && r.workers() > 1 {
		err = bf.FollowBatches(ctx, Consumer, r.Checkpoints, r.batch(), r.HandleBatch)
	} else {
		err = r.Feed.Follow(ctx, Consumer, r.Checkpoints, r.Handle)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

func (r *Reactor) workers() int {
	if r.Workers > 0 {
		return r.Workers
	}
	return runtime.GOMAXPROCS(0)
}

func (r *Reactor) batch() int {
	if r.Batch > 0 {
		return r.Batch
	}
	return 16 * r.workers()
}

// HandleBatch is the events.BatchHandler of the reactor: the events of
// each entry in order, different entries on up to Workers goroutines
// (the thumbnail maker's own limiter bounds the decodes by memory and
// cores). After a failure the entry's later events are not handled.
func (r *Reactor) HandleBatch(ctx context.Context, evs []events.Event) []error {
	errs := make([]error, len(evs))
	var order []string
	byStream := map[string][]int{}
	for i, e := range evs {
		if _, ok := byStream[e.Stream]; !ok {
			order = append(order, e.Stream)
		}
		byStream[e.Stream] = append(byStream[e.Stream], i)
	}
	for _, e := range evs {
		if e.Type == events.MediaUploaded {
			defer r.Foreground.Begin()() // grid thumbnails are due: previews wait
			break
		}
	}
	work := make(chan []int)
	var wg sync.WaitGroup
	for range min(r.workers(), len(order)) {
		wg.Go(func() {
			for idx := range work {
				var failed bool
				for _, i := range idx {
					if failed {
						errs[i] = events.ErrNotHandled
						continue
					}
					if errs[i] = r.Handle(ctx, evs[i]); errs[i] != nil {
						failed = true
					}
				}
			}
		})
	}
	for _, s := range order {
		work <- byStream[s]
	}
	close(work)
	wg.Wait()
	return errs
}

// Handle reacts to one event.
func (r *Reactor) Handle(ctx context.Context, e events.Event) error {
	switch e.Type {
	case events.MediaUploaded:
		defer r.Foreground.Begin()()
		return r.thumbnail(ctx, e.Stream)
	case events.MediaDeleted:
		return r.purge(ctx, e.Stream)
	case events.MediaErased:
		return r.erase(ctx, e)
	}
	return nil
}

// erase does an erased entry's work, again if the request that erased it
// did it already (each step is idempotent): destroy the key, remove every
// blob the entry had, and invalidate them in the CDN. An error retries
// the event.
func (r *Reactor) erase(ctx context.Context, ev events.Event) error {
	e, err := r.load(ctx, ev.Stream)
	if err != nil {
		return err
	}
	if !e.NeedsErase() {
		return nil
	}
	if r.Keys != nil {
		if err := r.Keys.Destroy(ctx, e.EIB, ev.Time); err != nil {
			return fmt.Errorf("reactor: erase %s: destroy the key: %w", e.EIB, err)
		}
	}
	keys := e.EraseKeys()
	for _, k := range keys {
		if err := r.Blobs.Delete(ctx, k); err != nil && !errors.Is(err, blob.ErrNotFound) {
			return fmt.Errorf("reactor: erase %s: %w", e.EIB, err)
		}
	}
	if r.Invalidate != nil && len(keys) > 0 {
		if err := r.Invalidate(ctx, keys); err != nil {
			return fmt.Errorf("reactor: erase %s: invalidate the CDN: %w", e.EIB, err)
		}
	}
	return nil
}

func (r *Reactor) load(ctx context.Context, stream string) (entry.Entry, error) {
	evs, err := r.Events.Load(ctx, stream)
	if err != nil {
		return entry.Entry{}, fmt.Errorf("reactor: load %s: %w", stream, err)
	}
	e, err := entry.Fold(evs)
	if err != nil {
		return entry.Entry{}, fmt.Errorf("reactor: fold %s: %w", stream, err)
	}
	return e, nil
}

func (r *Reactor) attempts() int {
	if r.Attempts > 0 {
		return r.Attempts
	}
	return DefaultAttempts
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

// errGaveUp is returned when a stream kept moving on for every attempt.
var errGaveUp = errors.New("the stream kept changing")

// recordOutcome appends the outcome of the thumbnail work at the
// version seen, folding the stream again after each conflict: while the
// work is still wanted it tries again, up to the attempts allowed. It
// reports whether the outcome was recorded.
func (r *Reactor) recordOutcome(ctx context.Context, e entry.Entry, t events.Type, payload any) (bool, error) {
	for range r.attempts() {
		err := r.record(ctx, e.EIB, e.Version, t, payload)
		if !events.IsConflict(err) {
			return err == nil, err
		}
		if e, err = r.load(ctx, e.EIB); err != nil {
			return false, err
		}
		if !e.NeedsThumbnail() {
			return false, nil // deleted meanwhile, or done elsewhere
		}
	}
	return false, fmt.Errorf("reactor: record %s for %s: %w after %d attempts", t, e.EIB, errGaveUp, r.attempts())
}

func (r *Reactor) thumbnail(ctx context.Context, stream string) error {
	e, err := r.load(ctx, stream)
	if err != nil {
		return err
	}
	if !e.NeedsThumbnail() {
		return nil // done already, or no longer wanted
	}
	start := time.Now()
	thumb, failure, err := r.make(ctx, stream, e.Original)
	if err != nil {
		return err // storage trouble: try again later
	}
	took := time.Since(start)
	if r.Observe != nil {
		r.Observe(took, failure != nil)
	}
	if failure != nil {
		_, err := r.recordOutcome(ctx, e, events.ThumbnailFailed, failure.Payload())
		return err
	}

	// Every blob is stored before the event that names it. The preview
	// comes later, by an event of its own (PreviewGenerated).
	thumbKey := entry.ThumbnailKey(e.Original)
	var written []string
	info, err := r.Blobs.Put(ctx, thumbKey, bytes.NewReader(thumb.PNG), "image/png")
	if err != nil {
		return fmt.Errorf("reactor: store thumbnail %s: %w", thumbKey, err)
	}
	written = append(written, thumbKey)
	thumbs := []events.Thumb{{Key: thumbKey, Width: thumb.Width, Height: thumb.Height, ContentType: "image/png", Size: info.Size}}
	recorded, err := r.recordOutcome(ctx, e, events.ThumbnailGenerated, events.ThumbnailsGenerated{
		Thumbnails:  thumbs,
		Placeholder: thumb.Placeholder,
		Millis:      took.Milliseconds(),
	})
	if recorded {
		return nil
	}
	// Not recorded by us: deleted meanwhile (the purge may already have
	// run), done elsewhere, or the store failed. Keep only what the entry,
	// folded again now, names; if it cannot be read, keep nothing. On an
	// error the event is delivered again and the work redone if still wanted.
	last, lerr := r.load(ctx, stream)
	if lerr != nil {
		return errors.Join(err, lerr, r.remove(ctx, stream, written))
	}
	return errors.Join(err, r.remove(ctx, stream, last.Unwanted(written)))
}

func (r *Reactor) remove(ctx context.Context, stream string, keys []string) error {
	var errs []error
	for _, k := range keys {
		if err := r.Blobs.Delete(context.WithoutCancel(ctx), k); err != nil && !errors.Is(err, blob.ErrNotFound) {
			errs = append(errs, fmt.Errorf("reactor: remove unrecorded rendition %s of %s: %w", k, stream, err))
		}
	}
	return errors.Join(errs...)
}

// make returns the thumbnail, or the failure for a file that cannot be
// thumbnailed, or an error for trouble worth retrying.
func (r *Reactor) make(ctx context.Context, stream, original string) (Thumbnail, *entry.Failure, error) {
	var thumb Thumbnail
	failure, err := r.decode(ctx, stream, original, "thumbnail", func(ctx context.Context, o blob.Object) error {
		var err error
		thumb, err = r.Thumbnail(ctx, o)
		return err
	})
	if failure != nil || err != nil {
		return Thumbnail{}, failure, err
	}
	return thumb, nil, nil
}

// decode opens the original and runs fn on it under ThumbnailTimeout. It
// returns the failure for a file that cannot be made into a rendition
// (what is the rendition's name, for the log), or an error for trouble
// worth retrying. A failure's raw cause is logged here and never recorded
// in an event.
func (r *Reactor) decode(ctx context.Context, stream, original, what string, fn func(ctx context.Context, o blob.Object) error) (*entry.Failure, error) {
	fail := func(code string, cause error) (*entry.Failure, error) {
		f := entry.FailureOf(code)
		r.log().Warn(what+" failed", "eib", stream, "reason", f.Code, "error", cause)
		return &f, nil
	}
	o, err := r.Blobs.Open(ctx, original)
	if errors.Is(err, blob.ErrNotFound) {
		return fail(entry.OriginalMissing, err)
	}
	if err != nil {
		return nil, fmt.Errorf("reactor: open original %s: %w", original, err)
	}
	defer o.Close()
	tctx := ctx
	if r.ThumbnailTimeout > 0 {
		var cancel context.CancelFunc
		tctx, cancel = context.WithTimeout(ctx, r.ThumbnailTimeout)
		defer cancel()
	}
	err = fn(tctx, o)
	switch {
	case err == nil:
		return nil, nil
	case ctx.Err() != nil:
		return nil, ctx.Err() // shutting down: retry after restart
	case errors.Is(err, context.DeadlineExceeded):
		return fail(entry.TooSlow, err)
	default:
		return fail(entry.DecodeFailed, err)
	}
}

func (r *Reactor) purge(ctx context.Context, stream string) error {
	for range r.attempts() {
		e, err := r.load(ctx, stream)
		if err != nil {
			return err
		}
		if !e.NeedsPurge() {
			return nil
		}
		keys := e.PurgeKeys()
		for _, k := range keys {
			if err := r.Blobs.Delete(ctx, k); err != nil {
				return fmt.Errorf("reactor: purge %s: %w", stream, err)
			}
		}
		err = r.record(ctx, stream, e.Version, events.MediaPurged, events.Purged{Keys: keys})
		if !events.IsConflict(err) {
			return err
		}
		// Something was appended meanwhile (a late rendition): look again.
	}
	return fmt.Errorf("reactor: purge %s: %w after %d attempts", stream, errGaveUp, r.attempts())
}

// Park is the reactor's events.ParkFunc: the feed gives up on an event
// (its handling kept failing, or kept killing the process). For an upload
// still waiting for its thumbnail it records ThumbnailFailed with the
// safe reason "poison", so the entry shows that no preview could be made
// and the feed moves on. It is idempotent.
func (r *Reactor) Park(ctx context.Context, ev events.Event, reason events.ParkReason) error {
	if ev.Type != events.MediaUploaded {
		return nil // a purge given up on leaves its blobs; the dead letter says so
	}
	e, err := r.load(ctx, ev.Stream)
	if err != nil {
		return err
	}
	if !e.NeedsThumbnail() {
		return nil
	}
	r.log().Error("thumbnail given up on", "eib", ev.Stream, "reason", reason)
	_, err = r.recordOutcome(ctx, e, events.ThumbnailFailed, entry.FailureOf(entry.Poison).Payload())
	return err
}
