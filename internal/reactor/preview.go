package reactor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"mediashare/internal/blob"
	"mediashare/internal/entry"
	"mediashare/internal/events"
)

// PreviewConsumer is the feed consumer name of the previews (RunPreviews).
const PreviewConsumer = "previews"

// Defaults of the preview's priority.
const (
	DefaultPreviewDelay = 30 * time.Second
	DefaultPreviewQuiet = 300 * time.Millisecond
)

// RunPreviews makes the previews until ctx is done: a consumer of the
// feed of its own (PreviewConsumer), one preview at a time, so that it
// takes at most one core, and only once the foreground has been idle
// (see PreviewDelay). Its checkpoint moves past an event once its preview
// is recorded, so a crash between the grid thumbnail and the preview
// still ends with a preview; the poison rule applies as to the reactor
// (an event whose preview keeps failing or killing the process is parked,
// and the entry keeps showing its original or its grid thumbnail). On a
// feed that delivers batches it takes them (HandlePreviewBatch): most
// events call for no preview, and one at a time each cost three writes
// (its attempt counted, forgotten, the checkpoint), which after an
// upgrade or a restore of a large log kept the disk busy for minutes.
func (r *Reactor) RunPreviews(ctx context.Context) error {
	if r.Preview == nil {
		return nil
	}
	var err error
	if bf, ok := r.Feed.(events.BatchFeed); ok {
		err = bf.FollowBatches(ctx, PreviewConsumer, r.Checkpoints, previewBatch, r.HandlePreviewBatch)
	} else {
		err = r.Feed.Follow(ctx, PreviewConsumer, r.Checkpoints, r.HandlePreview)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// previewBatch bounds the events of one batch of the previews consumer.
const previewBatch = 200

// HandlePreviewBatch is the previews consumer's events.BatchHandler: the
// events in order, one preview at a time (HandlePreview); after a failure
// the entry's later events in the batch are left (events.ErrNotHandled).
func (r *Reactor) HandlePreviewBatch(ctx context.Context, evs []events.Event) []error {
	errs := make([]error, len(evs))
	failed := map[string]bool{}
	for i, e := range evs {
		if failed[e.Stream] {
			errs[i] = events.ErrNotHandled
			continue
		}
		if errs[i] = r.HandlePreview(ctx, e); errs[i] != nil {
			failed[e.Stream] = true
		}
	}
	return errs
}

func (r *Reactor) previewDelay() time.Duration {
	if r.PreviewDelay > 0 {
		return r.PreviewDelay
	}
	return DefaultPreviewDelay
}

func (r *Reactor) previewQuiet() time.Duration {
	if r.PreviewQuiet > 0 {
		return r.PreviewQuiet
	}
	return DefaultPreviewQuiet
}

// HandlePreview makes the preview an event calls for: after the grid
// thumbnail (ThumbnailGenerated), or after a restore from the trash of an
// entry that had none yet (MediaRestored), when the entry aggregate says
// it is still needed (entry.NeedsPreview). It waits for the foreground
// first, at most until PreviewDelay after the event.
func (r *Reactor) HandlePreview(ctx context.Context, ev events.Event) error {
	if r.Preview == nil || (ev.Type != events.ThumbnailGenerated && ev.Type != events.MediaRestored) {
		return nil
	}
	e, err := r.load(ctx, ev.Stream)
	if err != nil {
		return err
	}
	if !e.NeedsPreview() {
		return nil
	}
	if _, err := r.Foreground.WaitIdle(ctx, r.previewQuiet(), ev.Time.Add(r.previewDelay())); err != nil {
		return err
	}
	// It may have been deleted, trashed or made elsewhere meanwhile.
	if e, err = r.load(ctx, ev.Stream); err != nil || !e.NeedsPreview() {
		return err
	}
	return r.preview(ctx, e)
}

func (r *Reactor) preview(ctx context.Context, e entry.Entry) error {
	start := time.Now()
	var p *Rendition
	failure, err := r.decode(ctx, e.EIB, e.Original, "preview", func(ctx context.Context, o blob.Object) error {
		var err error
		p, err = r.Preview(ctx, o)
		return err
	})
	if err != nil {
		return err // storage trouble, or stopping: try again later
	}
	took := time.Since(start)
	if r.ObservePreview != nil {
		r.ObservePreview(took, failure != nil)
	}
	if failure != nil || p == nil {
		// Logged by decode (a failure), or none to make: the entry page
		// shows the original or the grid thumbnail. Nothing is recorded;
		// a restore or a replay of the feed asks again.
		return nil
	}
	key := entry.PreviewKey(e.Original, p.Ext)
	info, err := r.Blobs.Put(ctx, key, bytes.NewReader(p.Data), p.ContentType)
	if err != nil {
		return errors.Join(fmt.Errorf("reactor: store preview %s: %w", key, err), r.remove(ctx, e.EIB, []string{key}))
	}
	payload := events.PreviewMade{
		Preview: events.Thumb{Key: key, Width: p.Width, Height: p.Height, ContentType: p.ContentType, Size: info.Size},
		Millis:  took.Milliseconds(),
	}
	recorded, err := r.recordPreview(ctx, e, payload)
	if recorded {
		return nil
	}
	// Not recorded by us: trashed, deleted or erased meanwhile, made
	// elsewhere, or the store failed. Keep the blob only if the entry,
	// folded again now, names it.
	last, lerr := r.load(ctx, e.EIB)
	if lerr != nil {
		return errors.Join(err, lerr, r.remove(ctx, e.EIB, []string{key}))
	}
	return errors.Join(err, r.remove(ctx, e.EIB, last.Unwanted([]string{key})))
}

// recordPreview appends PreviewGenerated at the version seen, folding the
// stream again after each conflict while the preview is still wanted.
func (r *Reactor) recordPreview(ctx context.Context, e entry.Entry, payload events.PreviewMade) (bool, error) {
	for range r.attempts() {
		err := r.record(ctx, e.EIB, e.Version, events.PreviewGenerated, payload)
		if !events.IsConflict(err) {
			return err == nil, err
		}
		if e, err = r.load(ctx, e.EIB); err != nil {
			return false, err
		}
		if !e.NeedsPreview() {
			return false, nil
		}
	}
	return false, fmt.Errorf("reactor: record %s for %s: %w after %d attempts", events.PreviewGenerated, e.EIB, errGaveUp, r.attempts())
}
