package web

import (
	"context"
	"sync"
	"time"
)

// DefaultBusyBytes is how many bytes of uploads in progress make the
// foreground busy: a few large photos, not a trickle of small ones.
const DefaultBusyBytes = 32 << 20

// Foreground tells background work when uploads of many bytes are in
// progress (from the first byte of their bodies to their answers), so
// that it can let them have the cores first: the reactor's thumbnails
// wait (a bounded time) while it is busy, and uploads arriving together
// are not slowed by decodes of the first ones. Small uploads
// never make it busy, so a burst of them keeps its thumbnails flowing.
// The zero value is ready; a nil *Foreground is never busy.
type Foreground struct {
	// BusyBytes is the bytes of uploads in progress that make it busy
	// (DefaultBusyBytes when zero).
	BusyBytes int64

	mu       sync.Mutex
	inFlight int64         // bytes announced by the uploads in progress
	idle     chan struct{} // closed when it stops being busy; nil while idle
}

func (f *Foreground) busyBytes() int64 {
	if f.BusyBytes > 0 {
		return f.BusyBytes
	}
	return DefaultBusyBytes
}

// Uploading counts an upload of n bytes as in progress until the
// returned func is called (calling it again does nothing).
func (f *Foreground) Uploading(n int64) func() {
	if f == nil || n <= 0 {
		return func() {}
	}
	f.mu.Lock()
	f.inFlight += n
	if f.inFlight >= f.busyBytes() && f.idle == nil {
		f.idle = make(chan struct{})
	}
	f.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			f.inFlight -= n
			if f.inFlight < f.busyBytes() && f.idle != nil {
				close(f.idle)
				f.idle = nil
			}
			f.mu.Unlock()
		})
	}
}

// Busy reports whether uploads of enough bytes are in progress.
func (f *Foreground) Busy() bool {
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.idle != nil
}

// Wait returns once the foreground is not busy, limit has passed, or ctx
// is done, and says how long it waited.
func (f *Foreground) Wait(ctx context.Context, limit time.Duration) time.Duration {
	if f == nil || limit <= 0 {
		return 0
	}
	f.mu.Lock()
	idle := f.idle
	f.mu.Unlock()
	if idle == nil {
		return 0
	}
	start := time.Now()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C:
	case <-ctx.Done():
	}
	return time.Since(start)
}
