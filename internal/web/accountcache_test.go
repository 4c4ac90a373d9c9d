package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mediashare/internal/accounts"
	authsqlite "mediashare/internal/authstore/sqlite"
	evsqlite "mediashare/internal/events/sqlite"
	"mediashare/internal/metrics"
	"mediashare/internal/people"
	"mediashare/internal/policy"
	"mediashare/internal/sqlitedb"
	"mediashare/static"
)

// testClock is one clock for the stores, the account use cases and the
// instances' caches.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// twoInstances are two sites on one real SQLite file, each with its own
// account use cases and cache, as two instances behind a load balancer.
type twoInstances struct {
	clock *testClock
	a, b  *Server
	ha    http.Handler
	hb    http.Handler
	ttl   time.Duration
}

const cacheTTL = 30 * time.Second

func newTwoInstances(t *testing.T) *twoInstances {
	t.Helper()
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "mediashare.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	clock := &testClock{t: time.Now()}
	evs, err := evsqlite.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := authsqlite.New(ctx, db, clock.now)
	if err != nil {
		t.Fatal(err)
	}
	pol := policy.Policy{Uploads: policy.UploadsMembers, SignUp: policy.SignUpOpen, PasswordLogin: true}
	keys := [][]byte{[]byte("one key for both instances")}
	site := func() *Server {
		return &Server{
			Metrics: metrics.New(), Assets: static.New(), Owners: &Owners{Keys: keys}, Log: slog.New(slog.DiscardHandler),
			Policy: pol, AccountCache: cacheTTL, now: clock.now,
			People: &people.Service{
				Events: evs, Audit: evs, Auth: auth, Policy: pol, SessionTTL: time.Hour, InviteTTL: time.Hour, Now: clock.now,
				Hasher: accounts.NewHasher(accounts.Params{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 2),
			},
		}
	}
	x := &twoInstances{clock: clock, a: site(), b: site(), ttl: cacheTTL}
	x.ha, x.hb = x.a.Handler(), x.b.Handler()
	return x
}

// signIn signs name in through a's use cases (no request of a's) and
// returns the session cookie's value and the session's hash.
func (x *twoInstances) signIn(t *testing.T, name string) (cookie, hash string) {
	t.Helper()
	signed, err := x.a.People.SignIn(context.Background(), name, "plum-kettle-87-orbit", people.Client{IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	return x.a.sessionValue(signed.Secret), signed.Session.TokenHash
}

func (x *twoInstances) signUp(t *testing.T, name string) {
	t.Helper()
	if _, err := x.a.People.SignUp(context.Background(), people.SignUpInput{Username: name, Password: "plum-kettle-87-orbit", Client: people.Client{IP: "192.0.2.1"}}); err != nil {
		t.Fatal(err)
	}
}

// do sends one same-origin request with the session cookie (if any).
func do(h http.Handler, method, path, cookie string, form url.Values) *httptest.ResponseRecorder {
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	r := httptest.NewRequest(method, path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// signedIn reports whether h takes cookie as a sign-in (its account page).
func signedIn(t *testing.T, h http.Handler, cookie string) bool {
	t.Helper()
	switch w := do(h, "GET", "/account", cookie, nil); w.Code {
	case http.StatusOK:
		return true
	case http.StatusForbidden:
		return false
	default:
		t.Fatalf("GET /account: %d %s", w.Code, w.Body)
		return false
	}
}

// admin reports whether h takes cookie as an admin's (the invites page).
func admin(t *testing.T, h http.Handler, cookie string) bool {
	t.Helper()
	switch w := do(h, "GET", "/admin/invites", cookie, nil); w.Code {
	case http.StatusOK:
		return true
	case http.StatusForbidden:
		return false
	default:
		t.Fatalf("GET /admin/invites: %d %s", w.Code, w.Body)
		return false
	}
}

// What an instance keeps of a sign-in: a sign-out, a revoked session, a
// demotion and a disabled account made through instance a take effect on
// a at once; b, which kept the sign-in, follows within --account-cache
// (and not before: its pages cost no store lookups meanwhile); a kept
// sign-in ends with its session.
func TestAccountCacheFollowsChanges(t *testing.T) {
	x := newTwoInstances(t)
	x.signUp(t, "ada") // the first account: admin
	x.signUp(t, "bob")
	ada, _ := x.signIn(t, "ada")
	bob1, _ := x.signIn(t, "bob")
	bob2, bob2Hash := x.signIn(t, "bob")
	for _, c := range []string{ada, bob1, bob2} {
		if !signedIn(t, x.ha, c) || !signedIn(t, x.hb, c) {
			t.Fatal("a fresh sign-in refused")
		}
	}
	if !admin(t, x.hb, ada) || admin(t, x.hb, bob1) {
		t.Fatal("roles: want ada admin, bob not")
	}

	t.Run("revoked session", func(t *testing.T) {
		w := do(x.ha, "POST", "/account/sessions/"+bob2Hash+"/revoke", bob1, url.Values{})
		if w.Code != http.StatusSeeOther {
			t.Fatalf("revoke: %d %s", w.Code, w.Body)
		}
		if signedIn(t, x.ha, bob2) {
			t.Error("a: the revoked session still signs in")
		}
		if !signedIn(t, x.hb, bob2) {
			t.Error("b: the kept sign-in was asked again before --account-cache (the cache is not used)")
		}
		x.clock.add(x.ttl)
		if signedIn(t, x.hb, bob2) {
			t.Errorf("b: the revoked session still signs in %s after the revocation", x.ttl)
		}
		if !signedIn(t, x.hb, bob1) {
			t.Error("b: bob's other session was refused")
		}
	})

	t.Run("demoted", func(t *testing.T) {
		carl := "carl"
		x.signUp(t, carl)
		if _, err := x.a.People.Moderate(context.Background(), policy.Principal{AccountID: accountID(t, "ada"), Admin: true}, accountID(t, carl), "promote", ""); err != nil {
			t.Fatal(err)
		}
		c, _ := x.signIn(t, carl)
		if !admin(t, x.ha, c) || !admin(t, x.hb, c) {
			t.Fatal("a promoted account is not admin")
		}
		w := do(x.ha, "POST", "/admin/accounts/"+accountID(t, carl)+"/demote", ada, url.Values{"reason": {"test"}})
		if w.Code != http.StatusSeeOther {
			t.Fatalf("demote: %d %s", w.Code, w.Body)
		}
		if admin(t, x.ha, c) {
			t.Error("a: a demoted account is still admin")
		}
		x.clock.add(x.ttl)
		if admin(t, x.hb, c) {
			t.Errorf("b: a demoted account is still admin %s after", x.ttl)
		}
	})

	t.Run("disabled", func(t *testing.T) {
		if !signedIn(t, x.ha, bob1) || !signedIn(t, x.hb, bob1) {
			t.Fatal("bob refused before being disabled")
		}
		w := do(x.ha, "POST", "/admin/accounts/"+accountID(t, "bob")+"/disable", ada, url.Values{"reason": {"spam"}})
		if w.Code != http.StatusSeeOther {
			t.Fatalf("disable: %d %s", w.Code, w.Body)
		}
		if signedIn(t, x.ha, bob1) {
			t.Error("a: a disabled account still signs in")
		}
		x.clock.add(x.ttl - time.Second)
		if !signedIn(t, x.hb, bob1) {
			t.Error("b: the kept sign-in was asked again before --account-cache")
		}
		x.clock.add(time.Second)
		if signedIn(t, x.hb, bob1) {
			t.Errorf("b: a disabled account still signs in %s after", x.ttl)
		}
	})

	t.Run("signed out", func(t *testing.T) {
		c, _ := x.signIn(t, "ada")
		if !signedIn(t, x.ha, c) || !signedIn(t, x.hb, c) {
			t.Fatal("a fresh sign-in refused")
		}
		if w := do(x.ha, "POST", "/logout", c, url.Values{}); w.Code != http.StatusSeeOther {
			t.Fatalf("logout: %d %s", w.Code, w.Body)
		}
		if signedIn(t, x.ha, c) {
			t.Error("a: a signed-out session still signs in")
		}
		x.clock.add(x.ttl)
		if signedIn(t, x.hb, c) {
			t.Errorf("b: a signed-out session still signs in %s after", x.ttl)
		}
	})

	t.Run("session expires", func(t *testing.T) {
		c, _ := x.signIn(t, "ada")
		x.clock.add(time.Hour - time.Second) // the session lasts an hour
		if !signedIn(t, x.hb, c) {
			t.Fatal("b: a live session refused")
		}
		x.clock.add(2 * time.Second)
		if signedIn(t, x.hb, c) {
			t.Error("b: a kept sign-in outlived its session")
		}
	})

	t.Run("forged cookie", func(t *testing.T) {
		c, _ := x.signIn(t, "ada")
		if !signedIn(t, x.hb, c) {
			t.Fatal("b: a fresh sign-in refused")
		}
		secret, _, _ := strings.Cut(c, ".")
		for _, v := range []string{secret + ".x", secret, c + "x", strings.ToUpper(c)} {
			if signedIn(t, x.hb, v) {
				t.Errorf("b: the cookie %q signs in", v)
			}
		}
	})
}

func accountID(t *testing.T, name string) string {
	t.Helper()
	n, err := accounts.ParseName(name)
	if err != nil {
		t.Fatal(err)
	}
	return n.ID()
}

// A fresh site's pages ask for its first account: kept as above, so the
// site made on instance a stops asking on a at once and on b within
// --account-cache; and the kept "not yet" is never in the way of the
// sign-up itself.
func TestAccountCacheFirstAdmin(t *testing.T) {
	x := newTwoInstances(t)
	first := func(h http.Handler) bool {
		t.Helper()
		w := do(h, "GET", "/login", "", nil)
		if w.Code != http.StatusOK {
			t.Fatalf("GET /login: %d %s", w.Code, w.Body)
		}
		return strings.Contains(w.Body.String(), `data-testid="first-admin"`)
	}
	if !first(x.ha) || !first(x.hb) {
		t.Fatal("a fresh site does not ask for its first account")
	}
	w := do(x.ha, "POST", "/signup", "", url.Values{"username": {"ada"}, "password": {"plum-kettle-87-orbit"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("sign-up: %d %s", w.Code, w.Body)
	}
	if first(x.ha) {
		t.Error("a: still asks for a first account after its own sign-up")
	}
	if !first(x.hb) {
		t.Error("b: asked the store again before --account-cache (the cache is not used)")
	}
	x.clock.add(x.ttl)
	if first(x.hb) {
		t.Errorf("b: still asks for a first account %s after", x.ttl)
	}
}

// A "not yet" b keeps is never in the way of a sign-up through b: the
// account it makes is not a second admin.
func TestAccountCacheFirstAdminSignUpElsewhere(t *testing.T) {
	x := newTwoInstances(t)
	if w := do(x.hb, "GET", "/login", "", nil); !strings.Contains(w.Body.String(), `data-testid="first-admin"`) {
		t.Fatal("a fresh site does not ask for its first account")
	}
	x.signUp(t, "ada") // through a's use cases: b has not seen it
	w := do(x.hb, "POST", "/signup", "", url.Values{"username": {"bob"}, "password": {"plum-kettle-87-orbit"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("b: sign-up: %d %s", w.Code, w.Body)
	}
	bob, _ := x.signIn(t, "bob")
	ada, _ := x.signIn(t, "ada")
	if admin(t, x.hb, bob) || !admin(t, x.hb, ada) {
		t.Error("b: want ada admin and bob not")
	}
}

// The cache holds a bounded number of sign-ins.
func TestAccountCacheIsBounded(t *testing.T) {
	var c accountCache
	now := time.Now()
	for i := range 3 * accountCacheMax {
		c.keep(strings.Repeat("x", i%7)+string(rune('a'+i%26))+time.Duration(i).String(), policy.Principal{AccountID: "u"}, 0, now, now.Add(time.Minute))
		if len(c.sessions) > accountCacheMax {
			t.Fatalf("%d sign-ins kept, the bound is %d", len(c.sessions), accountCacheMax)
		}
	}
	c.keep("k", policy.Principal{AccountID: "u"}, 0, now, now.Add(time.Minute))
	if _, ok := c.session("k", 0, now); !ok {
		t.Error("the newest sign-in was not kept")
	}
	if _, ok := c.session("k", 1, now); ok {
		t.Error("a sign-in kept across a write")
	}
}
