// Package live fans view changes out to every open browser. A Poller on
// each instance follows the entries view's change log (so every instance
// sees every change, whichever instance projected it) and publishes
// rendered messages to a Hub; each server-sent event stream subscribes to
// the Hub. Publishing never blocks: a subscriber that cannot keep up is
// dropped, and its browser reconnects with the last id it saw.
package live

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"mediashare/internal/projections"
)

// Message is one server-sent event. ID is the change log position.
type Message struct {
	ID    string
	Event string
	Data  string
}

// Hub broadcasts messages to subscribers.
type Hub struct {
	buffer int

	mu   sync.Mutex
	subs map[*Subscription]struct{}
}

// NewHub returns a hub whose subscribers may fall buffer messages behind.
func NewHub(buffer int) *Hub {
	return &Hub{buffer: buffer, subs: map[*Subscription]struct{}{}}
}

// Subscription receives published messages on C until it is closed or
// dropped (then C is closed).
type Subscription struct {
	C       <-chan Message
	c       chan Message
	hub     *Hub
	dropped bool
}

// Subscribe adds a subscriber.
func (h *Hub) Subscribe() *Subscription {
	c := make(chan Message, h.buffer)
	s := &Subscription{C: c, c: c, hub: h}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Close removes the subscriber.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	if _, ok := s.hub.subs[s]; ok {
		delete(s.hub.subs, s)
		close(s.c)
	}
}

// Dropped reports whether the hub dropped the subscriber for being slow.
func (s *Subscription) Dropped() bool {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.dropped
}

// Publish sends m to every subscriber without blocking.
func (h *Hub) Publish(m Message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		select {
		case s.c <- m:
		default:
			s.dropped = true
			delete(h.subs, s)
			close(s.c)
		}
	}
}

// DropAll disconnects every subscriber (their browsers reconnect).
func (h *Hub) DropAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		s.dropped = true
		delete(h.subs, s)
		close(s.c)
	}
}

// Len is the number of subscribers.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Render turns a change into the message browsers get.
type Render func(ctx context.Context, c projections.Change) (Message, error)

// Poller follows a change log and publishes each change to a hub.
type Poller struct {
	Changes  projections.ChangeLog
	Render   Render
	Hub      *Hub
	Interval time.Duration // how often to look when not poked
	Log      *slog.Logger

	once sync.Once
	poke chan struct{}
	head atomic.Pointer[string] // the change log position read up to
}

// Head returns the position of the change log the poller has read up to
// (every change at or before it has been published), and false until it
// has first read the log. Pages kept by version use it: the local
// projector pokes the poller on each change, and changes made through
// other instances arrive within Interval.
func (p *Poller) Head() (string, bool) {
	if h := p.head.Load(); h != nil {
		return *h, true
	}
	return "", false
}

func (p *Poller) setHead(pos string) { p.head.Store(&pos) }

func (p *Poller) init() { p.once.Do(func() { p.poke = make(chan struct{}, 1) }) }

// Poke asks the poller to look now (the local projector just changed the
// view). It never blocks.
func (p *Poller) Poke() {
	p.init()
	select {
	case p.poke <- struct{}{}:
	default:
	}
}

// Run publishes changes made after it starts, until ctx is done.
func (p *Poller) Run(ctx context.Context) error {
	p.init()
	cursor, err := p.Changes.LastChange(ctx)
	for err != nil {
		p.log().Warn("live: cannot read the change log", "error", err)
		if !wait(ctx, nil, time.Second) {
			return nil
		}
		cursor, err = p.Changes.LastChange(ctx)
	}
	p.setHead(cursor)
	interval := p.Interval
	if interval <= 0 {
		interval = time.Second
	}
	for {
		changes, err := p.Changes.Changes(ctx, cursor, 100)
		if err != nil && !errors.Is(err, context.Canceled) {
			p.log().Warn("live: cannot read the change log", "error", err)
		}
		for _, c := range changes {
			m, err := p.Render(ctx, c)
			if err != nil {
				p.log().Warn("live: cannot render a change", "eib", c.EIB, "error", err)
				break // try again from here
			}
			p.Hub.Publish(m)
			cursor = c.Position
			p.setHead(cursor)
		}
		if len(changes) == 100 {
			continue
		}
		if !wait(ctx, p.poke, interval) {
			return nil
		}
	}
}

func wait(ctx context.Context, poke <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-poke:
		return true
	case <-t.C:
		return true
	}
}

func (p *Poller) log() *slog.Logger {
	if p.Log == nil {
		return slog.Default()
	}
	return p.Log
}
