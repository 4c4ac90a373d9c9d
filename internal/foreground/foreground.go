// Package foreground counts what the site is doing for people right now
// (uploads being received and answered, grid thumbnails being made) so
// that background work can let it have the cores first. Two kinds of
// background work ask it two questions:
//
//   - the reactor's thumbnails wait, a bounded time, while uploads of many
//     bytes are in progress (Heavy, WaitLight): decodes of the first large
//     photos would slow the ones still arriving, and raise the peak memory;
//     a lone upload or a burst of small ones never makes it heavy;
//   - previews wait until nothing at all has been in flight for a moment
//     (WaitIdle): they are what nobody is waiting for.
//
// One Tracker serves a process; web counts the uploads, the reactor its
// grid thumbnails.
package foreground

import (
	"context"
	"sync"
	"time"
)

// DefaultBusyBytes is how many bytes of uploads in progress make the
// foreground heavy: a few large photos, not a trickle of small ones.
const DefaultBusyBytes = 32 << 20

// Tracker counts the foreground work in flight. The zero value is ready
// to use; a nil *Tracker counts nothing, is never heavy and always idle.
type Tracker struct {
	// BusyBytes is the bytes of uploads in progress that make it heavy
	// (DefaultBusyBytes when zero).
	BusyBytes int64

	mu    sync.Mutex
	n     int           // pieces of work in flight: uploads and thumbnails
	bytes int64         // bytes announced by the uploads in flight
	last  time.Time     // when the last piece of work ended
	heavy chan struct{} // closed when it stops being heavy; nil while light
}

func (t *Tracker) busyBytes() int64 {
	if t.BusyBytes > 0 {
		return t.BusyBytes
	}
	return DefaultBusyBytes
}

// Upload counts an upload of n bytes as in flight until the returned func
// is called (calling it again does nothing).
func (t *Tracker) Upload(n int64) (end func()) {
	if t == nil {
		return func() {}
	}
	n = max(n, 0)
	t.mu.Lock()
	t.n++
	t.bytes += n
	if t.bytes >= t.busyBytes() && t.heavy == nil {
		t.heavy = make(chan struct{})
	}
	t.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			t.n--
			t.bytes -= n
			t.last = time.Now()
			if t.bytes < t.busyBytes() && t.heavy != nil {
				close(t.heavy)
				t.heavy = nil
			}
			t.mu.Unlock()
		})
	}
}

// Begin counts one piece of work other than an upload (a batch of grid
// thumbnails) as in flight until the returned func is called (once).
func (t *Tracker) Begin() (end func()) { return t.Upload(0) }

// InFlight reports how many pieces of work are in flight.
func (t *Tracker) InFlight() int {
	if t == nil {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

// Heavy reports whether uploads of BusyBytes or more are in progress.
func (t *Tracker) Heavy() bool {
	if t == nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.heavy != nil
}

// WaitLight returns once the foreground is not heavy, limit has passed,
// or ctx is done, and says how long it waited.
func (t *Tracker) WaitLight(ctx context.Context, limit time.Duration) time.Duration {
	if t == nil || limit <= 0 {
		return 0
	}
	t.mu.Lock()
	heavy := t.heavy
	t.mu.Unlock()
	if heavy == nil {
		return 0
	}
	start := time.Now()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case <-heavy:
	case <-timer.C:
	case <-ctx.Done():
	}
	return time.Since(start)
}

// idleFor reports whether nothing has been in flight for quiet, and if
// not, how long to look again after.
func (t *Tracker) idleFor(quiet time.Duration, now time.Time) (bool, time.Duration) {
	if t == nil {
		return true, 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n > 0 {
		return false, quiet
	}
	if left := quiet - now.Sub(t.last); left > 0 {
		return false, left
	}
	return true, 0
}

// WaitIdle returns once nothing has been in flight for quiet, or at
// until, whichever comes first, or with ctx's error when it is done. It
// reports whether the foreground was idle.
func (t *Tracker) WaitIdle(ctx context.Context, quiet time.Duration, until time.Time) (bool, error) {
	for {
		now := time.Now()
		idle, wait := t.idleFor(quiet, now)
		if idle {
			return true, nil
		}
		left := until.Sub(now)
		if left <= 0 {
			return false, nil
		}
		timer := time.NewTimer(min(wait, left, 100*time.Millisecond))
		select {
		case <-ctx.Done():
			timer.Stop()
			return false, ctx.Err()
		case <-timer.C:
		}
	}
}
