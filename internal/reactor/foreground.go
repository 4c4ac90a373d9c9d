package reactor

import (
	"context"
	"sync"
	"time"
)

// Foreground counts the work in flight that previews give way to:
// uploads being received and grid thumbnails being made. The zero value
// is ready to use; a nil *Foreground counts nothing and is always idle.
type Foreground struct {
	mu   sync.Mutex
	busy int
	last time.Time // when the last piece of work ended
}

// Begin counts one more piece of work until the returned func is called
// (once).
func (f *Foreground) Begin() (end func()) {
	if f == nil {
		return func() {}
	}
	f.mu.Lock()
	f.busy++
	f.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			f.busy--
			f.last = time.Now()
			f.mu.Unlock()
		})
	}
}

// Busy reports how many pieces of work are in flight.
func (f *Foreground) Busy() int {
	if f == nil {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.busy
}

// idleFor reports whether nothing has been in flight for quiet, and if
// not, how long to look again after.
func (f *Foreground) idleFor(quiet time.Duration, now time.Time) (bool, time.Duration) {
	if f == nil {
		return true, 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.busy > 0 {
		return false, quiet
	}
	if left := quiet - now.Sub(f.last); left > 0 {
		return false, left
	}
	return true, 0
}

// WaitIdle returns once nothing has been in flight for quiet, or at
// until, whichever comes first, or with ctx's error when it is done.
// It reports whether the foreground was idle.
func (f *Foreground) WaitIdle(ctx context.Context, quiet time.Duration, until time.Time) (bool, error) {
	for {
		now := time.Now()
		idle, wait := f.idleFor(quiet, now)
		if idle {
			return true, nil
		}
		left := until.Sub(now)
		if left <= 0 {
			return false, nil
		}
		t := time.NewTimer(min(wait, left, 100*time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return false, ctx.Err()
		case <-t.C:
		}
	}
}
