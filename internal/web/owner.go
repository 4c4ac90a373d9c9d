package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
)

// Owners gives every visitor a stable, signed, anonymous owner id in a
// cookie, so that people can delete what they uploaded and nothing else.
type Owners struct {
	Key    []byte // HMAC key; shared by every instance
	Secure bool   // set the Secure flag (behind TLS)
}

const ownerCookie = "mediashare_owner"

type ownerKey struct{}

// OwnerFrom returns the owner id the middleware put in ctx.
func OwnerFrom(ctx context.Context) string {
	s, _ := ctx.Value(ownerKey{}).(string)
	return s
}

func (o *Owners) sign(id string) string {
	m := hmac.New(sha256.New, o.Key)
	m.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

func (o *Owners) verify(v string) (string, bool) {
	id, sig, ok := strings.Cut(v, ".")
	if !ok || len(id) != 22 {
		return "", false
	}
	return id, hmac.Equal([]byte(sig), []byte(o.sign(id)))
}

// Middleware reads the owner cookie, or issues one.
func (o *Owners) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ownerScoped(r.URL.Path) {
			next.ServeHTTP(w, r) // cacheable and machine routes carry no cookie
			return
		}
		var id string
		if c, err := r.Cookie(ownerCookie); err == nil {
			if v, ok := o.verify(c.Value); ok {
				id = v // a cookie whose signature does not match names no one
			}
		}
		if id == "" {
			var b [16]byte
			rand.Read(b[:])
			id = base64.RawURLEncoding.EncodeToString(b[:])
			http.SetCookie(w, &http.Cookie{
				Name: ownerCookie, Value: id + "." + o.sign(id), Path: "/", MaxAge: 5 * 365 * 24 * 3600,
				HttpOnly: true, Secure: o.Secure, SameSite: http.SameSiteLaxMode,
			})
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ownerKey{}, id)))
	})
}

func ownerScoped(path string) bool {
	for _, p := range []string{"/media/", "/static/", "/metrics", "/healthz", "/readyz"} {
		if strings.HasPrefix(path, p) {
			return false
		}
	}
	return true
}
