package people

import (
	"net/http"
	"sync"
	"time"

	"mediashare/internal/apperr"
	"mediashare/internal/limits"
)

// ReasonSignIn is the limit refusal's reason (a metric label) for too
// many failed sign-ins.
const ReasonSignIn = "signin_failures"

// Failures counts failed sign-ins per account name and per client, in a
// fixed window: past the limit of either, sign-ins are refused (429 with
// Retry-After) until the window ends, even with the right password, so
// guessing costs a window per few tries. Each instance counts its own
// (behind a load balancer an attacker gets the limit once per instance).
// A success clears the name's count, not the client's.
type Failures struct {
	PerAccount int           // failures one name may take in a window; 0: no limit
	PerClient  int           // failures one client may make in a window; 0: no limit
	Window     time.Duration // default 15 minutes
	MaxKeys    int           // names and clients remembered (default 10000); the fewest failures go first
	Now        func() time.Time

	mu      sync.Mutex
	counts  map[string]*failCount
	evicted int
}

type failCount struct {
	n     int
	start time.Time
}

func (f *Failures) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *Failures) window() time.Duration {
	if f.Window <= 0 {
		return 15 * time.Minute
	}
	return f.Window
}

// count returns the live count of key (nil when none), under f.mu.
func (f *Failures) count(key string, now time.Time) *failCount {
	c := f.counts[key]
	if c != nil && now.Sub(c.start) >= f.window() {
		delete(f.counts, key)
		return nil
	}
	return c
}

// Check refuses when the name or the client is over its limit.
func (f *Failures) Check(name, client string) error {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.over(name, client, f.now())
}

func (f *Failures) over(name, client string, now time.Time) error {
	for _, k := range []struct {
		key   string
		limit int
	}{{"n:" + name, f.PerAccount}, {"c:" + client, f.PerClient}} {
		if k.limit <= 0 {
			continue
		}
		if c := f.count(k.key, now); c != nil && c.n >= k.limit {
			wait := c.start.Add(f.window()).Sub(now)
			return tooMany(wait)
		}
	}
	return nil
}

// Fail counts a failure; it returns the refusal when this one reaches a
// limit (so the answer to the last allowed try already says to wait).
func (f *Failures) Fail(name, client string) error {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	if f.counts == nil {
		f.counts = map[string]*failCount{}
	}
	for _, key := range []string{"n:" + name, "c:" + client} {
		c := f.count(key, now)
		if c == nil {
			f.evict(now)
			c = &failCount{start: now}
			f.counts[key] = c
		}
		c.n++
	}
	return f.over(name, client, now)
}

// Succeed forgets the name's failures.
func (f *Failures) Succeed(name string) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.counts, "n:"+name)
}

// evict keeps the map bounded: expired counts go, then the one with the
// fewest failures (the oldest of those). A flood of new names or clients
// (one failure each) so evicts its own entries first, and the count of
// a name someone keeps guessing at survives it.
func (f *Failures) evict(now time.Time) {
	max := f.MaxKeys
	if max <= 0 {
		max = 10000
	}
	if len(f.counts) < max {
		return
	}
	var victim string
	var least *failCount
	for k, c := range f.counts {
		if now.Sub(c.start) >= f.window() {
			delete(f.counts, k)
			continue
		}
		if least == nil || c.n < least.n || c.n == least.n && c.start.Before(least.start) {
			victim, least = k, c
		}
	}
	if len(f.counts) >= max && least != nil {
		delete(f.counts, victim)
		f.evicted++
	}
}

func tooMany(wait time.Duration) error {
	if wait < time.Second {
		wait = time.Second
	}
	r := &limits.Refusal{Status: http.StatusTooManyRequests, RetryAfter: wait, Reason: ReasonSignIn,
		Message: "Too many failed sign-ins. Please wait " + wait.Round(time.Minute).String() + " and try again."}
	if wait < time.Minute {
		r.Message = "Too many failed sign-ins. Please wait a minute and try again."
	}
	return &apperr.Error{Code: apperr.TooMany, Message: r.Message, Field: "password", Err: r}
}
