package limits

import (
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ReasonReportRate is the reason of a report refused by its rate.
const ReasonReportRate = "report_rate"

// Keyed is a token bucket per client for one kind of request (reports):
// N an hour, in a burst of Burst. It keeps at most MaxClients buckets;
// a full bucket (a client idle long enough) is forgotten first, and past
// that the bucket seen least recently, so memory stays bounded.
type Keyed struct {
	PerHour    int // 0: no limit
	Burst      int // default PerHour
	MaxClients int // default 10000
	Message    string
	now        func() time.Time

	mu      sync.Mutex
	buckets map[string]*keyedBucket
}

type keyedBucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// Allow takes one token of key's bucket, or refuses with a *Refusal (429
// with Retry-After) and takes nothing.
func (k *Keyed) Allow(key string) error {
	if k == nil || k.PerHour <= 0 {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	now := time.Now()
	if k.now != nil {
		now = k.now()
	}
	if k.buckets == nil {
		k.buckets = map[string]*keyedBucket{}
	}
	b, ok := k.buckets[key]
	if !ok {
		k.makeRoom(now)
		burst := k.Burst
		if burst <= 0 {
			burst = k.PerHour
		}
		b = &keyedBucket{lim: rate.NewLimiter(rate.Limit(float64(k.PerHour)/3600), burst)}
		k.buckets[key] = b
	}
	b.seen = now
	res := b.lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); !res.OK() || d > 0 {
		res.CancelAt(now)
		msg := k.Message
		if msg == "" {
			msg = "Too many requests. Please try again later."
		}
		return &Refusal{Status: http.StatusTooManyRequests, RetryAfter: d, Reason: ReasonReportRate, Message: msg}
	}
	return nil
}

// makeRoom forgets buckets when the map is full: the full ones, then the
// one seen least recently. k.mu is held.
func (k *Keyed) makeRoom(now time.Time) {
	max := k.MaxClients
	if max <= 0 {
		max = 10000
	}
	if len(k.buckets) < max {
		return
	}
	var oldest string
	for key, b := range k.buckets {
		if b.lim.TokensAt(now) >= float64(b.lim.Burst()) {
			delete(k.buckets, key)
			continue
		}
		if oldest == "" || b.seen.Before(k.buckets[oldest].seen) {
			oldest = key
		}
	}
	if len(k.buckets) >= max && oldest != "" {
		delete(k.buckets, oldest)
	}
}
