package web

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// serveOwner runs the owner middleware once and returns the owner it saw,
// whether it was unverified, and the cookies it set.
func serveOwner(o *Owners, cookies ...*http.Cookie) (owner string, unverified bool, set []*http.Cookie) {
	h := o.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		owner, unverified = OwnerFrom(r.Context()), OwnerUnverified(r.Context())
	}))
	r := httptest.NewRequest("GET", "/", nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return owner, unverified, w.Result().Cookies()
}

func TestOwnerKeysRotate(t *testing.T) {
	old := &Owners{Keys: [][]byte{[]byte("the old key, 16+ bytes")}}
	id, _, set := serveOwner(old)
	if id == "" || len(set) != 1 || set[0].Name != ownerCookie {
		t.Fatalf("first visit: owner %q, cookies %v", id, set)
	}
	cookie := set[0]

	rotated := &Owners{Keys: [][]byte{[]byte("the new key, 16+ bytes"), []byte("the old key, 16+ bytes")}}
	got, unverified, set := serveOwner(rotated, cookie)
	if got != id || unverified || len(set) != 0 {
		t.Fatalf("after rotation: owner %q (want %q), unverified %v, cookies %v", got, id, unverified, set)
	}
	// New cookies are signed with the newest key.
	_, _, fresh := serveOwner(rotated)
	newOnly := &Owners{Keys: [][]byte{[]byte("the new key, 16+ bytes")}}
	if _, unverified, _ := serveOwner(newOnly, fresh[0]); unverified {
		t.Error("a cookie issued after rotation does not verify with the newest key")
	}
}

// A cookie no key verifies is kept (not overwritten): the request has no
// owner and is marked so the page can say it.
func TestUnverifiedCookieIsKept(t *testing.T) {
	o := &Owners{Keys: [][]byte{[]byte("a key of sixteen bytes")}}
	for _, v := range []string{
		"AAAAAAAAAAAAAAAAAAAAAA.forged",
		"AAAAAAAAAAAAAAAAAAAAAA." + sign([]byte("some other key 1234"), "AAAAAAAAAAAAAAAAAAAAAA"),
		"garbage",
		"",
	} {
		owner, unverified, set := serveOwner(o, &http.Cookie{Name: ownerCookie, Value: v})
		if owner != "" || !unverified || len(set) != 0 {
			t.Errorf("cookie %q: owner %q, unverified %v, cookies set %v; want no owner, unverified, nothing set", v, owner, unverified, set)
		}
	}
}

func TestSecureOwnerCookieHasHostPrefix(t *testing.T) {
	key := [][]byte{[]byte("a key of sixteen bytes")}
	o := &Owners{Keys: key, Secure: true}
	id, _, set := serveOwner(o)
	if len(set) != 1 || set[0].Name != "__Host-mediashare_owner" || !set[0].Secure || set[0].Path != "/" || set[0].Domain != "" {
		t.Fatalf("secure cookie: %+v", set)
	}
	if got, _, _ := serveOwner(o, set[0]); got != id {
		t.Errorf("__Host- cookie read back: owner %q, want %q", got, id)
	}
	// A cookie under the old, unprefixed name is not adopted (anyone able
	// to set cookies for a sibling subdomain could plant their own signed
	// id): the visitor gets a fresh owner and the old cookie is expired.
	plainID, _, plain := serveOwner(&Owners{Keys: key})
	got, _, set := serveOwner(o, plain[0])
	if got == plainID || got == "" {
		t.Errorf("unprefixed cookie under Secure: owner %q; want a fresh one, not %q", got, plainID)
	}
	names := []string{}
	for _, c := range set {
		names = append(names, c.Name)
	}
	slices.Sort(names)
	if strings.Join(names, ",") != "__Host-mediashare_owner,mediashare_owner" {
		t.Errorf("unprefixed cookie: set %v, want a fresh __Host- cookie and the old one expired", names)
	}
}

// Owner cookies a key verified are kept as verified (a returning browser
// costs no HMAC), by their exact value: a tampered copy of a kept cookie
// is still refused, and the kept ones are bounded.
func TestVerifiedOwnerCookiesAreKept(t *testing.T) {
	o := &Owners{Keys: [][]byte{[]byte("a key of sixteen bytes")}}
	id, _, set := serveOwner(o)
	cookie := set[0]
	for range 2 {
		if got, unverified, _ := serveOwner(o, cookie); got != id || unverified {
			t.Fatalf("a returning browser: owner %q (want %q), unverified %v", got, id, unverified)
		}
	}
	sig := cookie.Value[len(id)+1:]
	for _, v := range []string{
		cookie.Value + "x", cookie.Value[:len(cookie.Value)-1], "B" + cookie.Value[1:],
		id + "." + sig[:len(sig)-1] + "A", strings.ToLower(cookie.Value),
	} {
		if v == cookie.Value {
			continue
		}
		if got, unverified, _ := serveOwner(o, &http.Cookie{Name: ownerCookie, Value: v}); got != "" || !unverified {
			t.Errorf("tampered cookie %q: owner %q, unverified %v", v, got, unverified)
		}
	}
	for range verifiedMax + 10 {
		_, _, set := serveOwner(o)
		serveOwner(o, set[0])
		if n := len(o.verified); n > verifiedMax {
			t.Fatalf("%d cookies kept, the bound is %d", n, verifiedMax)
		}
	}
}
