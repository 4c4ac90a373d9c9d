package web

import (
	"context"
	"crypto/hmac"
	"net/http"
	"strings"
	"time"

	"mediashare/internal/accounts"
	"mediashare/internal/apperr"
	"mediashare/internal/authstore"
	"mediashare/internal/people"
	"mediashare/internal/policy"
)

// peopleService is what the account handlers need of the account use
// cases; *people.Service is one.
type peopleService interface {
	HasAccounts(ctx context.Context) (bool, error)
	Resolve(ctx context.Context, secret string) (accounts.Account, authstore.Session, bool, error)
	SignUp(ctx context.Context, in people.SignUpInput) (people.Signed, error)
	SignIn(ctx context.Context, username, password string, c people.Client) (people.Signed, error)
	SignOut(ctx context.Context, accountID, sessionHash string) error
	Sessions(ctx context.Context, accountID string) ([]authstore.Session, error)
	RevokeSession(ctx context.Context, accountID, hash string) error
	ChangePassword(ctx context.Context, accountID, current, next string, c people.Client) (people.Signed, error)
	Invite(ctx context.Context, secret string) (authstore.Invite, error)
	CreateInvite(ctx context.Context, by policy.Principal, role string) (string, authstore.Invite, error)
	Invites(ctx context.Context, by policy.Principal) ([]authstore.Invite, error)
	RevokeInvite(ctx context.Context, by policy.Principal, hash string) error
	Account(ctx context.Context, id string) (accounts.Account, error)
	Users(ctx context.Context) ([]accounts.Account, error)
	Moderate(ctx context.Context, by policy.Principal, id, action, reason string) (accounts.Account, error)
}

var _ peopleService = (*people.Service)(nil)

// The session cookie's names: __Host- behind TLS (Secure, path /, no
// domain), the plain name otherwise.
const (
	sessionCookie       = "mediashare_session"
	sessionCookieSecure = "__Host-mediashare_session"
)

type principalKey struct{}

type principalState struct {
	p policy.Principal
	// refused: the request carried a session cookie that signs nobody in
	// (another site's key, expired, revoked, a disabled account).
	refused bool
}

// PrincipalFrom is who the request comes from, as the identity
// middleware resolved it: the one function handlers read it through.
func PrincipalFrom(ctx context.Context) policy.Principal {
	s, _ := ctx.Value(principalKey{}).(principalState)
	return s.p
}

// sessionRefused reports whether the request's session cookie signed
// nobody in.
func sessionRefused(ctx context.Context) bool {
	s, _ := ctx.Value(principalKey{}).(principalState)
	return s.refused
}

func (s *Server) sessionName() string {
	if s.Owners.Secure {
		return sessionCookieSecure
	}
	return sessionCookie
}

// sessionValue is the cookie's value: the session's secret and an HMAC
// of it under the site's newest key, so that a cookie another site (or
// anyone) made is refused before any lookup.
func (s *Server) sessionValue(secret string) string {
	return secret + "." + sign(s.Owners.Keys[0], "session:"+secret)
}

func (s *Server) sessionSecret(v string) (string, bool) {
	secret, sig, ok := strings.Cut(v, ".")
	if !ok || len(v) > 2*authstore.MaxSecretLength || !strings.HasPrefix(secret, authstore.SessionPrefix) {
		return "", false
	}
	for _, k := range s.Owners.Keys {
		if hmac.Equal([]byte(sig), []byte(sign(k, "session:"+secret))) {
			return secret, true
		}
	}
	return "", false
}

func (s *Server) setSession(w http.ResponseWriter, signed people.Signed) {
	maxAge := int(time.Until(signed.Session.Expires).Seconds())
	http.SetCookie(w, &http.Cookie{
		Name: s.sessionName(), Value: s.sessionValue(signed.Secret), Path: "/", MaxAge: max(maxAge, 1),
		HttpOnly: true, Secure: s.Owners.Secure, SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.sessionName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.Owners.Secure, SameSite: http.SameSiteLaxMode})
}

// identify resolves the request's principal (a signed-in account from
// the session cookie, and the anonymous owner id the owner middleware
// found) into the request's context. A session cookie that signs nobody
// in is cleared and the request goes on anonymously, marked so that
// what needs an account says why.
func (s *Server) identify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ownerScoped(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		st := principalState{p: policy.Principal{Owner: OwnerFrom(r.Context()), OwnerUnverified: OwnerUnverified(r.Context())}}
		if c, err := r.Cookie(s.sessionName()); err == nil && s.People != nil {
			signed, ok, err := s.resolveSession(r.Context(), c.Value)
			if err != nil {
				s.renderError(w, r, err)
				return
			}
			if ok {
				st.p.AccountID, st.p.Name, st.p.Admin, st.p.Session = signed.AccountID, signed.Name, signed.Admin, signed.Session
			} else {
				st.refused = true
				s.clearSession(w)
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, st)))
	})
}

// resolveSession is whom the session cookie's value signs in (the
// principal's account fields), from what this instance keeps
// (accountcache.go) or the stores.
func (s *Server) resolveSession(ctx context.Context, cookie string) (policy.Principal, bool, error) {
	writes, now := s.pages.writes.Load(), s.clock() // before asking: a write meanwhile voids the answer
	if s.AccountCache > 0 {
		if p, ok := s.accounts.session(cookie, writes, now); ok {
			return p, true, nil
		}
	}
	secret, ok := s.sessionSecret(cookie)
	if !ok {
		return policy.Principal{}, false, nil
	}
	a, sess, ok, err := s.People.Resolve(ctx, secret)
	if err != nil || !ok {
		return policy.Principal{}, false, err
	}
	p := policy.Principal{AccountID: a.ID, Name: a.DisplayName, Admin: a.IsAdmin(), Session: sess.TokenHash}
	if s.AccountCache > 0 {
		until := now.Add(s.AccountCache)
		if sess.Expires.Before(until) {
			until = sess.Expires
		}
		s.accounts.keep(cookie, p, writes, now, until)
	}
	return p, true, nil
}

// notSignedIn is the refusal of something that needs an account, saying
// why when a session cookie was refused.
func notSignedIn(ctx context.Context, what string) error {
	if sessionRefused(ctx) {
		return apperr.New(apperr.Forbidden, "Your sign-in is no longer valid here (it expired, was signed out, or was made by another site). Please sign in again.")
	}
	return apperr.New(apperr.Forbidden, "Please sign in to %s.", what)
}

// policy is the site's policy; without accounts (no People) anyone may
// upload, as in the original lab.
func (s *Server) policy() policy.Policy {
	if s.People == nil {
		p := s.Policy
		p.Uploads = policy.UploadsAnyone
		return p
	}
	return s.Policy
}
