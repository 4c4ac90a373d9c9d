package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
)

// Owners gives every visitor a stable, signed, anonymous owner id in a
// cookie, so that people can delete what they uploaded and nothing else.
type Owners struct {
	// Keys are the HMAC keys, newest first: the newest signs, every one
	// verifies, so a rotated-in key keeps every owner's rights. Shared by
	// every instance.
	Keys   [][]byte
	Secure bool // set the Secure flag and use the __Host- prefix (behind TLS)

	// verified keeps cookie values a key verified (value → owner id), so
	// that a returning browser costs no HMAC. Keys are fixed for the life
	// of the process; bounded by verifiedMax.
	mu       sync.Mutex
	verified map[string]string
}

// verifiedMax bounds the owner cookies kept as verified.
const verifiedMax = 4096

// The owner cookie's names: __Host- (Secure, path /, no domain: no
// subdomain or plain-HTTP page can set it) behind TLS, the plain name
// otherwise.
const (
	ownerCookie       = "mediashare_owner"
	ownerCookieSecure = "__Host-mediashare_owner"
)

type ownerKey struct{}

type ownerState struct {
	id         string
	unverified bool
}

// OwnerFrom returns the owner id the middleware put in ctx.
func OwnerFrom(ctx context.Context) string {
	s, _ := ctx.Value(ownerKey{}).(ownerState)
	return s.id
}

// OwnerUnverified reports whether the request carried an owner cookie
// that no key verifies. Such a request has no owner: it may browse but
// not upload or delete, and its cookie is left alone.
func OwnerUnverified(ctx context.Context) bool {
	s, _ := ctx.Value(ownerKey{}).(ownerState)
	return s.unverified
}

func sign(key []byte, id string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

func (o *Owners) sign(id string) string { return sign(o.Keys[0], id) }

func (o *Owners) verify(v string) (string, bool) {
	o.mu.Lock()
	id, ok := o.verified[v]
	o.mu.Unlock()
	if ok {
		return id, true
	}
	id, sig, ok := strings.Cut(v, ".")
	if !ok || len(id) != 22 {
		return "", false
	}
	for _, k := range o.Keys {
		if hmac.Equal([]byte(sig), []byte(sign(k, id))) {
			o.mu.Lock()
			if o.verified == nil || len(o.verified) >= verifiedMax {
				o.verified = map[string]string{}
			}
			o.verified[strings.Clone(v)] = id
			o.mu.Unlock()
			return id, true
		}
	}
	return "", false
}

func (o *Owners) name() string {
	if o.Secure {
		return ownerCookieSecure
	}
	return ownerCookie
}

func (o *Owners) set(w http.ResponseWriter, id string) {
	http.SetCookie(w, &http.Cookie{
		Name: o.name(), Value: id + "." + o.sign(id), Path: "/", MaxAge: 5 * 365 * 24 * 3600,
		HttpOnly: true, Secure: o.Secure, SameSite: http.SameSiteLaxMode,
	})
}

// Middleware reads the owner cookie, or issues one. A cookie that fails
// verification is neither replaced nor overwritten (a key rotated out
// too early, or instances with different keys, must not cost anyone
// their rights for good): the request goes on without an owner, marked
// unverified.
func (o *Owners) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ownerScoped(r.URL.Path) {
			next.ServeHTTP(w, r) // cacheable and machine routes carry no cookie
			return
		}
		var st ownerState
		c, err := r.Cookie(o.name())
		if err != nil && o.Secure {
			// A cookie under the old, unprefixed name is not adopted: a
			// sibling subdomain or a plain-HTTP response can plant one (a
			// valid signed id of the attacker's own), which is what the
			// __Host- prefix exists to prevent. It is expired instead.
			if _, lerr := r.Cookie(ownerCookie); lerr == nil {
				http.SetCookie(w, &http.Cookie{Name: ownerCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
			}
		}
		switch {
		case err == nil:
			if id, ok := o.verify(c.Value); ok {
				st.id = id
			} else {
				st.unverified = true
			}
		default:
			var b [16]byte
			rand.Read(b[:])
			st.id = base64.RawURLEncoding.EncodeToString(b[:])
			o.set(w, st.id)
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ownerKey{}, st)))
	})
}

func ownerScoped(path string) bool {
	for _, p := range []string{"/media/", "/static/", "/metrics", "/healthz", "/readyz", "/api/"} {
		if strings.HasPrefix(path, p) {
			return false
		}
	}
	return true
}
