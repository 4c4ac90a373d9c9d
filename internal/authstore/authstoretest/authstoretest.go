// Package authstoretest is the conformance suite of authstore.Store: every
// adapter's test file calls Run with a constructor.
package authstoretest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"mediashare/internal/authstore"
)

// Clock is a clock the suite moves by hand.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// NewStore makes an empty store whose idea of now is clock.
type NewStore func(t *testing.T, clock authstore.Clock) authstore.Store

// start is the suite's time: nanoseconds set, to pin that stores keep them.
var start = time.Date(2026, 12, 1, 12, 0, 0, 123456789, time.UTC)

type fixture struct {
	ctx   context.Context
	clock *Clock
	s     authstore.Store
}

func setup(t *testing.T, newStore NewStore) fixture {
	t.Helper()
	c := NewClock(start)
	return fixture{ctx: context.Background(), clock: c, s: newStore(t, c.Now)}
}

func secret(t *testing.T, prefix string) string {
	t.Helper()
	_, h, err := authstore.NewSecret(prefix)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func wantErr(t *testing.T, what string, got, want error) {
	t.Helper()
	if !errors.Is(got, want) {
		t.Fatalf("%s: got error %v, want %v", what, got, want)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// Run runs the conformance suite.
func Run(t *testing.T, newStore NewStore) {
	t.Run("Ping", func(t *testing.T) {
		f := setup(t, newStore)
		must(t, "ping", f.s.Ping(f.ctx))
	})
	t.Run("Sessions", func(t *testing.T) { testSessions(t, newStore) })
	t.Run("SessionExpiry", func(t *testing.T) { testSessionExpiry(t, newStore) })
	t.Run("RevokeSessions", func(t *testing.T) { testRevokeSessions(t, newStore) })
	t.Run("Tokens", func(t *testing.T) { testTokens(t, newStore) })
	t.Run("TokenExpiry", func(t *testing.T) { testTokenExpiry(t, newStore) })
	t.Run("Invites", func(t *testing.T) { testInvites(t, newStore) })
	t.Run("ReleaseInvite", func(t *testing.T) { testReleaseInvite(t, newStore) })
	t.Run("InviteConsumedOnce", func(t *testing.T) { testInviteRace(t, newStore) })
	t.Run("Credentials", func(t *testing.T) { testCredentials(t, newStore) })
}

func newSession(t *testing.T, f fixture, account string, ttl time.Duration) authstore.Session {
	t.Helper()
	now := f.clock.Now()
	s := authstore.Session{
		TokenHash: secret(t, authstore.SessionPrefix), AccountID: account,
		Created: now, Expires: now.Add(ttl), LastSeen: now,
		UserAgent: "Firefox 140 on Linux", IP: "192.0.2.0/24",
	}
	must(t, "create session", f.s.CreateSession(f.ctx, s))
	return s
}

func sameSession(t *testing.T, got, want authstore.Session) {
	t.Helper()
	if got.TokenHash != want.TokenHash || got.AccountID != want.AccountID || !got.Created.Equal(want.Created) ||
		!got.Expires.Equal(want.Expires) || !got.LastSeen.Equal(want.LastSeen) || got.UserAgent != want.UserAgent || got.IP != want.IP {
		t.Errorf("session: got %+v, want %+v", got, want)
	}
	if got.Created.Location() != time.UTC {
		t.Errorf("times come back in %v, want UTC", got.Created.Location())
	}
}

func hashes[T any](xs []T, h func(T) string) []string {
	var out []string
	for _, x := range xs {
		out = append(out, h(x))
	}
	return out
}

func testSessions(t *testing.T, newStore NewStore) {
	f := setup(t, newStore)
	a := newSession(t, f, "user-a", time.Hour)
	got, err := f.s.Session(f.ctx, a.TokenHash)
	must(t, "look up", err)
	sameSession(t, got, a)

	_, err = f.s.Session(f.ctx, secret(t, authstore.SessionPrefix))
	wantErr(t, "look up an unknown hash", err, authstore.ErrNotFound)
	_, err = f.s.Session(f.ctx, "")
	wantErr(t, "look up an empty hash", err, authstore.ErrNotFound)
	wantErr(t, "create a session whose hash is taken", f.s.CreateSession(f.ctx, authstore.Session{TokenHash: a.TokenHash, AccountID: "user-b", Created: start, Expires: start.Add(time.Hour)}), authstore.ErrExists)
	got, _ = f.s.Session(f.ctx, a.TokenHash)
	if got.AccountID != "user-a" {
		t.Fatalf("a second create with the same hash moved the session to %s", got.AccountID)
	}

	f.clock.Advance(time.Minute)
	must(t, "touch", f.s.TouchSession(f.ctx, a.TokenHash))
	got, _ = f.s.Session(f.ctx, a.TokenHash)
	if want := start.Add(time.Minute); !got.LastSeen.Equal(want) {
		t.Errorf("last seen after touch: got %v, want %v", got.LastSeen, want)
	}
	if !got.Created.Equal(a.Created) {
		t.Errorf("touch changed created: %v", got.Created)
	}

	f.clock.Advance(time.Second)
	b := newSession(t, f, "user-a", time.Hour)
	f.clock.Advance(time.Second)
	other := newSession(t, f, "user-b", time.Hour)
	list, err := f.s.Sessions(f.ctx, "user-a")
	must(t, "list", err)
	if got, want := hashes(list, func(s authstore.Session) string { return s.TokenHash }), []string{b.TokenHash, a.TokenHash}; !slices.Equal(got, want) {
		t.Errorf("sessions of user-a: got %v, want %v (newest first, not user-b's)", got, want)
	}

	// Another account cannot revoke it.
	must(t, "revoke as another account", f.s.RevokeSession(f.ctx, "user-b", a.TokenHash))
	if _, err := f.s.Session(f.ctx, a.TokenHash); err != nil {
		t.Fatalf("user-b revoked user-a's session: %v", err)
	}
	must(t, "revoke", f.s.RevokeSession(f.ctx, "user-a", a.TokenHash))
	_, err = f.s.Session(f.ctx, a.TokenHash)
	wantErr(t, "look up a revoked session", err, authstore.ErrNotFound)
	must(t, "revoke again", f.s.RevokeSession(f.ctx, "user-a", a.TokenHash))
	list, _ = f.s.Sessions(f.ctx, "user-a")
	if got, want := hashes(list, func(s authstore.Session) string { return s.TokenHash }), []string{b.TokenHash}; !slices.Equal(got, want) {
		t.Errorf("after revoking one: got %v, want %v", got, want)
	}
	if _, err := f.s.Session(f.ctx, other.TokenHash); err != nil {
		t.Errorf("user-b's session: %v", err)
	}
	list, _ = f.s.Sessions(f.ctx, "user-nobody")
	if len(list) != 0 {
		t.Errorf("sessions of an account with none: %v", list)
	}
}

func testSessionExpiry(t *testing.T, newStore NewStore) {
	f := setup(t, newStore)
	short := newSession(t, f, "user-a", time.Minute)
	long := newSession(t, f, "user-a", time.Hour)
	f.clock.Advance(time.Minute - time.Nanosecond)
	if _, err := f.s.Session(f.ctx, short.TokenHash); err != nil {
		t.Fatalf("a session a nanosecond before it expires: %v", err)
	}
	f.clock.Advance(time.Nanosecond)
	_, err := f.s.Session(f.ctx, short.TokenHash)
	wantErr(t, "look up a session at its expiry", err, authstore.ErrNotFound)
	list, _ := f.s.Sessions(f.ctx, "user-a")
	if got, want := hashes(list, func(s authstore.Session) string { return s.TokenHash }), []string{long.TokenHash}; !slices.Equal(got, want) {
		t.Errorf("list after one expired: got %v, want %v", got, want)
	}
	if err := f.s.TouchSession(f.ctx, short.TokenHash); err != nil && !errors.Is(err, authstore.ErrNotFound) {
		t.Errorf("touch an expired session: %v", err)
	}
	if _, err := f.s.Session(f.ctx, short.TokenHash); !errors.Is(err, authstore.ErrNotFound) {
		t.Errorf("touching an expired session brought it back: %v", err)
	}
}

func testRevokeSessions(t *testing.T, newStore NewStore) {
	f := setup(t, newStore)
	var before []authstore.Session
	for range 3 {
		before = append(before, newSession(t, f, "user-a", time.Hour))
		f.clock.Advance(time.Millisecond)
	}
	other := newSession(t, f, "user-b", time.Hour)
	f.clock.Advance(time.Millisecond)
	must(t, "revoke all", f.s.RevokeSessions(f.ctx, "user-a"))
	for i, s := range before {
		if _, err := f.s.Session(f.ctx, s.TokenHash); !errors.Is(err, authstore.ErrNotFound) {
			t.Errorf("session %d after revoking all: got %v, want ErrNotFound", i, err)
		}
	}
	if _, err := f.s.Session(f.ctx, other.TokenHash); err != nil {
		t.Errorf("another account's session after revoking user-a's: %v", err)
	}
	// A session made before the revocation but stored after it (as a
	// concurrent sign-in might) does not work either.
	late := authstore.Session{TokenHash: secret(t, authstore.SessionPrefix), AccountID: "user-a", Created: start, Expires: start.Add(time.Hour)}
	must(t, "create a late session", f.s.CreateSession(f.ctx, late))
	if _, err := f.s.Session(f.ctx, late.TokenHash); !errors.Is(err, authstore.ErrNotFound) {
		t.Errorf("a session made before the revocation: got %v, want ErrNotFound", err)
	}
	f.clock.Advance(time.Millisecond)
	fresh := newSession(t, f, "user-a", time.Hour)
	if _, err := f.s.Session(f.ctx, fresh.TokenHash); err != nil {
		t.Errorf("a session made after revoking all: %v", err)
	}
	list, _ := f.s.Sessions(f.ctx, "user-a")
	if got, want := hashes(list, func(s authstore.Session) string { return s.TokenHash }), []string{fresh.TokenHash}; !slices.Equal(got, want) {
		t.Errorf("list after revoking all: got %v, want %v", got, want)
	}
	must(t, "revoke all of an account with none", f.s.RevokeSessions(f.ctx, "user-nobody"))
}

func newToken(t *testing.T, f fixture, account, name string, ttl time.Duration) authstore.Token {
	t.Helper()
	now := f.clock.Now()
	tk := authstore.Token{TokenHash: secret(t, authstore.TokenPrefix), AccountID: account, Name: name, Scopes: []string{authstore.ScopeRead, authstore.ScopeUpload}, Created: now}
	if ttl > 0 {
		tk.Expires = now.Add(ttl)
	}
	must(t, "create token", f.s.CreateToken(f.ctx, tk))
	return tk
}

func sameToken(t *testing.T, got, want authstore.Token) {
	t.Helper()
	if got.TokenHash != want.TokenHash || got.AccountID != want.AccountID || got.Name != want.Name || !slices.Equal(got.Scopes, want.Scopes) ||
		!got.Created.Equal(want.Created) || !got.Expires.Equal(want.Expires) || !got.LastUsed.Equal(want.LastUsed) {
		t.Errorf("token: got %+v, want %+v", got, want)
	}
}

func testTokens(t *testing.T, newStore NewStore) {
	f := setup(t, newStore)
	a := newToken(t, f, "user-a", "ShareX on my laptop", 0)
	got, err := f.s.Token(f.ctx, a.TokenHash)
	must(t, "look up", err)
	sameToken(t, got, a)
	if !got.LastUsed.IsZero() || !got.Expires.IsZero() {
		t.Errorf("a new token without expiry: last used %v, expires %v; want both zero", got.LastUsed, got.Expires)
	}
	if !got.Has(authstore.ScopeUpload) || got.Has(authstore.ScopeDelete) {
		t.Errorf("scopes: %v", got.Scopes)
	}
	_, err = f.s.Token(f.ctx, secret(t, authstore.TokenPrefix))
	wantErr(t, "look up an unknown token", err, authstore.ErrNotFound)
	wantErr(t, "create a token whose hash is taken", f.s.CreateToken(f.ctx, authstore.Token{TokenHash: a.TokenHash, AccountID: "user-b", Name: "x", Scopes: []string{"read"}, Created: start}), authstore.ErrExists)

	f.clock.Advance(time.Hour)
	must(t, "touch", f.s.TouchToken(f.ctx, a.TokenHash))
	got, _ = f.s.Token(f.ctx, a.TokenHash)
	if want := start.Add(time.Hour); !got.LastUsed.Equal(want) {
		t.Errorf("last used: got %v, want %v", got.LastUsed, want)
	}

	f.clock.Advance(time.Second)
	b := newToken(t, f, "user-a", "script", 24*time.Hour)
	newToken(t, f, "user-b", "theirs", 0)
	list, err := f.s.Tokens(f.ctx, "user-a")
	must(t, "list", err)
	if got, want := hashes(list, func(t authstore.Token) string { return t.TokenHash }), []string{b.TokenHash, a.TokenHash}; !slices.Equal(got, want) {
		t.Fatalf("tokens of user-a: got %v, want %v", got, want)
	}
	if list[1].Name != "ShareX on my laptop" || !list[1].LastUsed.Equal(start.Add(time.Hour)) {
		t.Errorf("listed token: %+v", list[1])
	}

	wantErr(t, "revoke another account's token", f.s.RevokeToken(f.ctx, "user-b", a.TokenHash), authstore.ErrNotFound)
	if _, err := f.s.Token(f.ctx, a.TokenHash); err != nil {
		t.Fatalf("user-b revoked user-a's token: %v", err)
	}
	must(t, "revoke", f.s.RevokeToken(f.ctx, "user-a", a.TokenHash))
	_, err = f.s.Token(f.ctx, a.TokenHash)
	wantErr(t, "look up a revoked token", err, authstore.ErrNotFound)
	wantErr(t, "revoke twice", f.s.RevokeToken(f.ctx, "user-a", a.TokenHash), authstore.ErrNotFound)
	list, _ = f.s.Tokens(f.ctx, "user-a")
	if len(list) != 1 || list[0].TokenHash != b.TokenHash {
		t.Errorf("after revoking: %v", list)
	}
}

func testTokenExpiry(t *testing.T, newStore NewStore) {
	f := setup(t, newStore)
	forever := newToken(t, f, "user-a", "forever", 0)
	day := newToken(t, f, "user-a", "a day", 24*time.Hour)
	f.clock.Advance(24 * time.Hour)
	_, err := f.s.Token(f.ctx, day.TokenHash)
	wantErr(t, "look up an expired token", err, authstore.ErrNotFound)
	wantErr(t, "revoke an expired token", f.s.RevokeToken(f.ctx, "user-a", day.TokenHash), authstore.ErrNotFound)
	f.clock.Advance(10 * 365 * 24 * time.Hour)
	if _, err := f.s.Token(f.ctx, forever.TokenHash); err != nil {
		t.Errorf("a token without expiry, ten years on: %v", err)
	}
	list, _ := f.s.Tokens(f.ctx, "user-a")
	if len(list) != 1 || list[0].TokenHash != forever.TokenHash {
		t.Errorf("list: got %v, want only the one without expiry", list)
	}
}

func newInvite(t *testing.T, f fixture, ttl time.Duration) authstore.Invite {
	t.Helper()
	now := f.clock.Now()
	i := authstore.Invite{TokenHash: secret(t, authstore.InvitePrefix), CreatedBy: "user-admin", Role: "member", Created: now, Expires: now.Add(ttl)}
	must(t, "create invite", f.s.CreateInvite(f.ctx, i))
	return i
}

func testInvites(t *testing.T, newStore NewStore) {
	f := setup(t, newStore)
	a := newInvite(t, f, time.Hour)
	got, err := f.s.Invite(f.ctx, a.TokenHash)
	must(t, "look up", err)
	if got.TokenHash != a.TokenHash || got.CreatedBy != a.CreatedBy || got.Role != "member" || !got.Created.Equal(a.Created) || !got.Expires.Equal(a.Expires) || got.ConsumedBy != "" || !got.ConsumedAt.IsZero() {
		t.Errorf("invite: got %+v, want %+v", got, a)
	}
	wantErr(t, "create an invite whose hash is taken", f.s.CreateInvite(f.ctx, a), authstore.ErrExists)
	_, err = f.s.Invite(f.ctx, secret(t, authstore.InvitePrefix))
	wantErr(t, "look up an unknown invite", err, authstore.ErrNotFound)
	_, err = f.s.ConsumeInvite(f.ctx, secret(t, authstore.InvitePrefix), "user-x")
	wantErr(t, "consume an unknown invite", err, authstore.ErrNotFound)

	f.clock.Advance(time.Second)
	b := newInvite(t, f, time.Minute)
	f.clock.Advance(time.Second)
	c := newInvite(t, f, 2*time.Hour)
	list, err := f.s.Invites(f.ctx)
	must(t, "list", err)
	if got, want := hashes(list, func(i authstore.Invite) string { return i.TokenHash }), []string{c.TokenHash, b.TokenHash, a.TokenHash}; !slices.Equal(got, want) {
		t.Errorf("invites: got %v, want %v", got, want)
	}

	used, err := f.s.ConsumeInvite(f.ctx, a.TokenHash, "user-new")
	must(t, "consume", err)
	if used.ConsumedBy != "user-new" || !used.ConsumedAt.Equal(f.clock.Now()) || used.Role != "member" {
		t.Errorf("consumed: %+v", used)
	}
	_, err = f.s.ConsumeInvite(f.ctx, a.TokenHash, "user-other")
	wantErr(t, "consume a used invite", err, authstore.ErrInviteUsed)
	_, err = f.s.Invite(f.ctx, a.TokenHash)
	wantErr(t, "look up a used invite", err, authstore.ErrInviteUsed)

	f.clock.Advance(time.Minute)
	_, err = f.s.Invite(f.ctx, b.TokenHash)
	wantErr(t, "look up an expired invite", err, authstore.ErrInviteExpired)
	_, err = f.s.ConsumeInvite(f.ctx, b.TokenHash, "user-late")
	wantErr(t, "consume an expired invite", err, authstore.ErrInviteExpired)

	list, _ = f.s.Invites(f.ctx)
	if got, want := hashes(list, func(i authstore.Invite) string { return i.TokenHash }), []string{c.TokenHash}; !slices.Equal(got, want) {
		t.Errorf("usable invites: got %v, want %v", got, want)
	}
	must(t, "revoke", f.s.RevokeInvite(f.ctx, c.TokenHash))
	_, err = f.s.ConsumeInvite(f.ctx, c.TokenHash, "user-x")
	wantErr(t, "consume a revoked invite", err, authstore.ErrNotFound)
	must(t, "revoke again", f.s.RevokeInvite(f.ctx, c.TokenHash))
	list, _ = f.s.Invites(f.ctx)
	if len(list) != 0 {
		t.Errorf("invites after all used, expired or revoked: %v", list)
	}
}

// testReleaseInvite: a sign-up that failed after consuming gives the
// invite back, usable as before; only its consumer can, and a revoked
// invite stays revoked.
func testReleaseInvite(t *testing.T, newStore NewStore) {
	f := setup(t, newStore)
	a := newInvite(t, f, time.Hour)
	must(t, "release an unused invite", f.s.ReleaseInvite(f.ctx, a.TokenHash, "user-new"))
	must(t, "release an unknown invite", f.s.ReleaseInvite(f.ctx, secret(t, authstore.InvitePrefix), "user-new"))
	_, err := f.s.ConsumeInvite(f.ctx, a.TokenHash, "user-new")
	must(t, "consume", err)
	must(t, "release by another account", f.s.ReleaseInvite(f.ctx, a.TokenHash, "user-other"))
	_, err = f.s.Invite(f.ctx, a.TokenHash)
	wantErr(t, "look up an invite another account released", err, authstore.ErrInviteUsed)
	must(t, "release", f.s.ReleaseInvite(f.ctx, a.TokenHash, "user-new"))
	got, err := f.s.Invite(f.ctx, a.TokenHash)
	must(t, "look up a released invite", err)
	if got.ConsumedBy != "" || !got.ConsumedAt.IsZero() || !got.Expires.Equal(a.Expires) || got.Role != a.Role {
		t.Errorf("released invite: %+v, want it as made: %+v", got, a)
	}
	if list, _ := f.s.Invites(f.ctx); len(list) != 1 {
		t.Errorf("%d usable invites after a release, want 1", len(list))
	}
	used, err := f.s.ConsumeInvite(f.ctx, a.TokenHash, "user-second")
	if err != nil || used.ConsumedBy != "user-second" {
		t.Errorf("consume a released invite: %+v, %v", used, err)
	}
	must(t, "revoke", f.s.RevokeInvite(f.ctx, a.TokenHash))
	must(t, "release a revoked invite", f.s.ReleaseInvite(f.ctx, a.TokenHash, "user-second"))
	_, err = f.s.Invite(f.ctx, a.TokenHash)
	wantErr(t, "look up a revoked invite after a release", err, authstore.ErrNotFound)
}

func testInviteRace(t *testing.T, newStore NewStore) {
	f := setup(t, newStore)
	for round := range 3 {
		inv := newInvite(t, f, time.Hour)
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = f.s.ConsumeInvite(f.ctx, inv.TokenHash, fmt.Sprintf("user-%d", i))
			}()
		}
		close(start)
		wg.Wait()
		winners := 0
		winner := ""
		for i, err := range errs {
			switch {
			case err == nil:
				winners++
				winner = fmt.Sprintf("user-%d", i)
			case errors.Is(err, authstore.ErrInviteUsed):
			default:
				t.Errorf("round %d, consumer %d: got %v, want nil or ErrInviteUsed", round, i, err)
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: %d of %d concurrent consumes won, want exactly 1", round, winners, n)
		}
		_, err := f.s.Invite(f.ctx, inv.TokenHash)
		wantErr(t, "the invite after the race", err, authstore.ErrInviteUsed)
		if got, _ := f.s.ConsumeInvite(f.ctx, inv.TokenHash, "user-late"); got.ConsumedBy != "" && got.ConsumedBy != winner {
			t.Errorf("round %d: the invite says it was used by %s, the winner was %s", round, got.ConsumedBy, winner)
		}
	}
}

func testCredentials(t *testing.T, newStore NewStore) {
	f := setup(t, newStore)
	_, err := f.s.Credential(f.ctx, "user-a")
	wantErr(t, "credential of an account with none", err, authstore.ErrNotFound)
	c := authstore.Credential{AccountID: "user-a", Hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5", Updated: start}
	must(t, "set", f.s.SetCredential(f.ctx, c))
	must(t, "set another account's", f.s.SetCredential(f.ctx, authstore.Credential{AccountID: "user-b", Hash: "other", Updated: start}))
	got, err := f.s.Credential(f.ctx, "user-a")
	must(t, "get", err)
	if got.AccountID != c.AccountID || got.Hash != c.Hash || !got.Updated.Equal(c.Updated) {
		t.Errorf("credential: got %+v, want %+v", got, c)
	}
	c2 := authstore.Credential{AccountID: "user-a", Hash: "$argon2id$new", Updated: start.Add(time.Hour)}
	must(t, "replace", f.s.SetCredential(f.ctx, c2))
	got, _ = f.s.Credential(f.ctx, "user-a")
	if got.Hash != c2.Hash || !got.Updated.Equal(c2.Updated) {
		t.Errorf("replaced credential: got %+v, want %+v", got, c2)
	}
	got, _ = f.s.Credential(f.ctx, "user-b")
	if got.Hash != "other" {
		t.Errorf("user-b's credential: %+v", got)
	}
}
