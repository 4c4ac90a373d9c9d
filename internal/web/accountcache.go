package web

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"mediashare/internal/policy"
)

// What the frame of every page needs of accounts (who the session cookie
// signs in, and on a fresh site that it has no account yet) would cost
// store lookups on every request: the session, the account's events,
// the first-admin slot. This instance keeps those answers for
// Server.AccountCache, and forgets all of them at its next write
// (pageCache.writes: every request but a GET or HEAD, and the OpenID
// callback, counted once answered), so a sign-out, a revoked session,
// a password change or a disabled account takes effect here at once.
// Made through another instance, it reaches this one within
// AccountCache. A kept answer also ends when its session expires.
//
// Only sign-ins are kept: a refused cookie is asked about again (and
// cleared) each time. The kept principal is keyed by the cookie's whole
// value, so a kept answer is only ever given to a request that carries
// the very cookie the stores (and the signature check) accepted.

// accountCacheMax bounds the sessions kept at once.
const accountCacheMax = 4096

type accountCache struct {
	// noAccounts: the site had no account yet, as of writes, until.
	noAccounts atomic.Pointer[keptAnswer]

	mu       sync.Mutex
	sessions map[string]keptSession
}

type keptAnswer struct {
	writes int64
	until  time.Time
}

type keptSession struct {
	keptAnswer
	p policy.Principal // AccountID, Name, Admin, Session
}

func (a keptAnswer) valid(writes int64, now time.Time) bool {
	return a.writes == writes && now.Before(a.until)
}

func (s *Server) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// firstAdmin reports whether the site has yet to make its first account
// (the frame then says so). Once it has one the answer is for good (the
// people service keeps it); a "not yet" is kept as above.
func (s *Server) firstAdmin(ctx context.Context) bool {
	c := &s.accounts
	writes, now := s.pages.writes.Load(), s.clock() // before asking: a write meanwhile voids the answer
	if k := c.noAccounts.Load(); k != nil && k.valid(writes, now) {
		return true
	}
	has, err := s.People.HasAccounts(ctx)
	if err != nil || has {
		return false
	}
	if s.AccountCache > 0 {
		c.noAccounts.Store(&keptAnswer{writes: writes, until: now.Add(s.AccountCache)})
	}
	return true
}

// keptSession returns the principal kept for the session cookie's value.
func (c *accountCache) session(cookie string, writes int64, now time.Time) (policy.Principal, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.sessions[cookie]
	if !ok {
		return policy.Principal{}, false
	}
	if !k.valid(writes, now) {
		delete(c.sessions, cookie)
		return policy.Principal{}, false
	}
	return k.p, true
}

// keep keeps p for the cookie's value, resolved when this instance had
// answered writes writes, until until.
func (c *accountCache) keep(cookie string, p policy.Principal, writes int64, now, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sessions == nil {
		c.sessions = map[string]keptSession{}
	}
	if len(c.sessions) >= accountCacheMax {
		for key, k := range c.sessions {
			if !k.valid(writes, now) {
				delete(c.sessions, key)
			}
		}
		if len(c.sessions) >= accountCacheMax {
			clear(c.sessions)
		}
	}
	c.sessions[cookie] = keptSession{keptAnswer{writes: writes, until: until}, p}
}
