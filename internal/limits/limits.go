// Package limits bounds what one client, and every client together, may
// ask of an instance: uploads per minute, uploads and live streams at
// once, how slowly a request body may arrive, how much the multipart
// spool may hold and how full the data volume may get. It knows nothing
// of pages: a refusal carries a status, a Retry-After and a message safe
// to show, and the web layer renders it.
package limits

import (
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Refusal is a request turned away by a limit.
type Refusal struct {
	Status     int           // 429, 503, 507, 408, 413
	RetryAfter time.Duration // 0: no Retry-After
	Reason     string        // a metric label from a closed set (Reasons)
	Message    string        // safe to show
}

func (r *Refusal) Error() string { return fmt.Sprintf("limits: %s: %s", r.Reason, r.Message) }

// RetryAfterSeconds is the Retry-After header's value (whole seconds, at
// least 1).
func (r *Refusal) RetryAfterSeconds() int {
	return max(1, int(math.Ceil(r.RetryAfter.Seconds())))
}

// The reasons a request is refused, for metric labels.
const (
	ReasonUploadRate    = "upload_rate"
	ReasonUploadsClient = "uploads_client"
	ReasonUploadsTotal  = "uploads_total"
	ReasonStreamsClient = "streams_client"
	ReasonStreamsTotal  = "streams_total"
	ReasonClients       = "clients"
	ReasonSlowBody      = "slow_body"
	ReasonSpoolFull     = "spool_full"
	ReasonDiskLow       = "disk_low"
)

// Reasons lists every reason, so that counters can export zeros.
var Reasons = []string{ReasonUploadRate, ReasonUploadsClient, ReasonUploadsTotal, ReasonStreamsClient,
	ReasonStreamsTotal, ReasonClients, ReasonSlowBody, ReasonSpoolFull, ReasonDiskLow}

// Config sets the limits; a zero field means no limit (MaxClients and
// IdleAfter have defaults).
type Config struct {
	UploadsPerMinute int // upload requests one client may start per minute (and in a burst)
	UploadsPerClient int // upload requests one client may have in progress
	UploadsTotal     int // upload requests in progress on the instance
	StreamsPerClient int // /live streams one client may hold open
	StreamsTotal     int // /live streams open on the instance
	MaxClients       int // clients whose state is kept (default 10000)
	IdleAfter        time.Duration
}

// Limiter keeps the state per client: a token bucket for the upload rate
// and counts of what is in progress. Memory is bounded: at most
// MaxClients clients are tracked; idle ones are forgotten first.
type Limiter struct {
	cfg     Config
	now     func() time.Time
	mu      sync.Mutex
	clients map[string]*client
	uploads int // in progress, every client
	streams int
	swept   time.Time
}

type client struct {
	rate    *rate.Limiter
	uploads int
	streams int
	seen    time.Time
}

// New returns a limiter with cfg.
func New(cfg Config) *Limiter {
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = 10000
	}
	if cfg.IdleAfter <= 0 {
		cfg.IdleAfter = 10 * time.Minute
	}
	return &Limiter{cfg: cfg, now: time.Now, clients: map[string]*client{}}
}

// Clients is how many clients the limiter tracks now.
func (l *Limiter) Clients() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}

// InProgress is how many uploads and streams are open now.
func (l *Limiter) InProgress() (uploads, streams int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.uploads, l.streams
}

// busyRetry is the Retry-After of a refusal that waits for something in
// progress to finish.
const busyRetry = 5 * time.Second

// Upload admits one upload request of client key. On success the caller
// must call release when the request is done; on refusal err is a
// *Refusal.
func (l *Limiter) Upload(key string) (release func(), err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	c, err := l.client(key, now)
	if err != nil {
		return nil, err
	}
	if n := l.cfg.UploadsTotal; n > 0 && l.uploads >= n {
		return nil, &Refusal{Status: http.StatusServiceUnavailable, RetryAfter: busyRetry, Reason: ReasonUploadsTotal,
			Message: "The site is taking as many uploads as it can right now. Please try again in a few seconds."}
	}
	if n := l.cfg.UploadsPerClient; n > 0 && c.uploads >= n {
		return nil, &Refusal{Status: http.StatusTooManyRequests, RetryAfter: busyRetry, Reason: ReasonUploadsClient,
			Message: fmt.Sprintf("You already have %d uploads in progress. Please wait for them to finish.", c.uploads)}
	}
	if c.rate != nil {
		res := c.rate.ReserveN(now, 1)
		if d := res.DelayFrom(now); !res.OK() || d > 0 {
			res.CancelAt(now)
			return nil, &Refusal{Status: http.StatusTooManyRequests, RetryAfter: d, Reason: ReasonUploadRate,
				Message: fmt.Sprintf("You have sent %d uploads in the last minute, the most we take. Please try again in %s.",
					l.cfg.UploadsPerMinute, wait(d))}
		}
	}
	c.uploads++
	l.uploads++
	return l.releaser(func() { c.uploads--; l.uploads-- }, c), nil
}

// Stream admits one live stream of client key.
func (l *Limiter) Stream(key string) (release func(), err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, err := l.client(key, l.now())
	if err != nil {
		return nil, err
	}
	if n := l.cfg.StreamsTotal; n > 0 && l.streams >= n {
		return nil, &Refusal{Status: http.StatusServiceUnavailable, RetryAfter: 30 * time.Second, Reason: ReasonStreamsTotal,
			Message: "The live gallery is full on this server right now. Reload the page in a little while."}
	}
	if n := l.cfg.StreamsPerClient; n > 0 && c.streams >= n {
		return nil, &Refusal{Status: http.StatusTooManyRequests, RetryAfter: 30 * time.Second, Reason: ReasonStreamsClient,
			Message: fmt.Sprintf("You have %d live galleries open already; close some tabs.", c.streams)}
	}
	c.streams++
	l.streams++
	return l.releaser(func() { c.streams--; l.streams-- }, c), nil
}

// releaser returns a release function that works once.
func (l *Limiter) releaser(undo func(), c *client) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			undo()
			c.seen = l.now()
		})
	}
}

// client returns key's state, making room for it if needed. l.mu is held.
func (l *Limiter) client(key string, now time.Time) (*client, error) {
	if now.Sub(l.swept) > l.cfg.IdleAfter {
		l.sweep(now, false)
	}
	c, ok := l.clients[key]
	if !ok {
		if len(l.clients) >= l.cfg.MaxClients {
			l.sweep(now, true)
		}
		if len(l.clients) >= l.cfg.MaxClients {
			return nil, &Refusal{Status: http.StatusServiceUnavailable, RetryAfter: busyRetry, Reason: ReasonClients,
				Message: "The site is very busy right now. Please try again in a few seconds."}
		}
		c = &client{}
		if n := l.cfg.UploadsPerMinute; n > 0 {
			c.rate = rate.NewLimiter(rate.Limit(float64(n)/60), n)
		}
		l.clients[key] = c
	}
	c.seen = now
	return c, nil
}

// sweep forgets clients with nothing in progress that have been idle for
// IdleAfter (their bucket has refilled: forgetting them changes nothing).
// With full set, when that frees nothing, it forgets the longest idle
// client with nothing in progress.
func (l *Limiter) sweep(now time.Time, full bool) {
	l.swept = now
	var oldest string
	for k, c := range l.clients {
		if c.uploads > 0 || c.streams > 0 {
			continue
		}
		if now.Sub(c.seen) >= l.cfg.IdleAfter && (c.rate == nil || c.rate.TokensAt(now) >= float64(c.rate.Burst())) {
			delete(l.clients, k)
			continue
		}
		if oldest == "" || c.seen.Before(l.clients[oldest].seen) {
			oldest = k
		}
	}
	if full && len(l.clients) >= l.cfg.MaxClients && oldest != "" {
		delete(l.clients, oldest)
	}
}

func wait(d time.Duration) string {
	s := max(1, int(math.Ceil(d.Seconds())))
	if s == 1 {
		return "a second"
	}
	return fmt.Sprintf("%d seconds", s)
}
