package web

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"mediashare/internal/accounts"
	"mediashare/internal/apperr"
	"mediashare/internal/authstore"
)

// The JSON API under /api/v1: the same use cases as the pages, for tools
// (ShareX, scripts, the mediashare CLI). It is authorised by personal
// access tokens only (Authorization: Bearer mst_…); it never reads a
// cookie, so a browser's session or owner cookie gives it nothing and no
// cross-site form can use it. Reads are public, as the pages are: a token
// is optional there, and one that is presented must be valid and carry
// the read scope. Uploads need the upload scope, deletes the delete scope.

// APIConfig is what the API needs besides the gallery.
type APIConfig struct {
	// Tokens looks tokens up; nil: no token is ever valid.
	Tokens authstore.Tokens
	// Account returns the account a token belongs to (disabled accounts'
	// tokens are refused; its display name is shown as the owner's).
	// Nil: tokens are taken at their word and owners have no name.
	Account func(ctx context.Context, id string) (accounts.Account, error)
	// CORSOrigins are the origins whose pages may call the API from a
	// browser; none by default.
	CORSOrigins []string
}

//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument is the OpenAPI 3.1 description of the API, as served at
// /api/openapi.json.
func OpenAPIDocument() []byte { return slices.Clone(openAPIDocument) }

func (s *Server) apiRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/openapi.json", s.apiOpenAPI)
	mux.HandleFunc("GET /api/v1/entries", s.apiEntryList)
	mux.HandleFunc("POST /api/v1/entries", s.apiEntryCreate)
	mux.HandleFunc("GET /api/v1/entries/{eib}", s.apiEntryShow)
	mux.HandleFunc("DELETE /api/v1/entries/{eib}", s.apiEntryDelete)
	mux.HandleFunc("GET /api/v1/entries/{eib}/history", s.apiEntryHistory)
	mux.HandleFunc("GET /api/v1/history", s.apiHistory)
	for path, allow := range map[string]string{
		"/api/openapi.json": "GET, HEAD", "/api/v1/entries": "GET, HEAD, POST", "/api/v1/entries/{eib}": "GET, HEAD, DELETE",
		"/api/v1/entries/{eib}/history": "GET, HEAD", "/api/v1/history": "GET, HEAD",
	} {
		mux.HandleFunc(path, s.apiMethodNotAllowed(allow))
	}
	mux.HandleFunc("/api/", s.apiNowhere)
	mux.HandleFunc("POST /account/tokens", s.tokenCreate)
	mux.HandleFunc("POST /account/tokens/{id}/revoke", s.tokenRevoke)
	mux.HandleFunc("POST /account/tokens/sharex", s.sharexDownload)
	mux.HandleFunc("GET /entries/{eib}/delete/{key}", s.deletionLinkShow)
	mux.HandleFunc("POST /entries/{eib}/delete/{key}", s.deletionLinkDelete)
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

func (s *Server) apiOpenAPI(w http.ResponseWriter, r *http.Request) {
	if !s.apiQuery(w, r) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(openAPIDocument)
}

// apiErrorBody is every error's JSON.
type apiErrorBody struct {
	Error apiErrorDetail `json:"error"`
}

type apiErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// apiError answers with the JSON error: the status and message the pages
// give for the same error.
func (s *Server) apiError(w http.ResponseWriter, r *http.Request, err error) {
	code := status(err)
	if code >= 500 {
		s.log().Error("api error", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	retryAfter(w, err)
	c := string(apperr.CodeOf(err))
	if errors.Is(err, errUnauthorized) {
		code, c = http.StatusUnauthorized, "unauthorized"
		w.Header().Set("WWW-Authenticate", `Bearer realm="mediashare"`)
	}
	s.writeJSON(w, code, apiErrorBody{Error: apiErrorDetail{Code: c, Message: apperr.MessageOf(err), Field: apperr.FieldOf(err)}})
}

func (s *Server) writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// errUnauthorized is the one answer for a token that is missing (where
// one is needed), malformed, unknown, expired or revoked, or whose
// account is disabled: which of them is not said.
var errUnauthorized = &apperr.Error{Code: apperr.Forbidden, Message: "A valid API token is needed: send it as Authorization: Bearer <token>."}

// touchEvery is how stale a token's recorded last use may get.
const touchEvery = time.Minute

// apiToken authenticates the request's bearer token and checks it
// carries scope. With optional, a request without an Authorization
// header is let through anonymously (ok with a zero token).
func (s *Server) apiToken(r *http.Request, scope string, optional bool) (authstore.Token, accounts.Account, error) {
	h := r.Header.Values("Authorization")
	if len(h) == 0 && optional {
		return authstore.Token{}, accounts.Account{}, nil
	}
	if len(h) != 1 {
		return authstore.Token{}, accounts.Account{}, errUnauthorized
	}
	scheme, secret, ok := strings.Cut(h[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || len(secret) > authstore.MaxSecretLength ||
		!strings.HasPrefix(secret, authstore.TokenPrefix) || s.API.Tokens == nil {
		return authstore.Token{}, accounts.Account{}, errUnauthorized
	}
	hash := authstore.HashToken(secret)
	t, err := s.API.Tokens.Token(r.Context(), hash)
	if errors.Is(err, authstore.ErrNotFound) {
		return authstore.Token{}, accounts.Account{}, errUnauthorized
	}
	if err != nil {
		return authstore.Token{}, accounts.Account{}, err
	}
	var acct accounts.Account
	if s.API.Account != nil {
		if acct, err = s.API.Account(r.Context(), t.AccountID); err != nil {
			return authstore.Token{}, accounts.Account{}, err
		}
		if !acct.Exists() || acct.CanSignIn() != nil {
			return authstore.Token{}, accounts.Account{}, errUnauthorized
		}
	}
	// The last use is recorded to the minute: a busy client does not
	// make every read a write.
	if time.Since(t.LastUsed) > touchEvery {
		if err := s.API.Tokens.TouchToken(context.WithoutCancel(r.Context()), hash); err != nil {
			s.log().Warn("api: could not record a token's use", "error", err)
		}
	}
	if !t.Has(scope) {
		return authstore.Token{}, accounts.Account{}, apperr.New(apperr.Forbidden, "This token does not have the %s scope.", scope)
	}
	return t, acct, nil
}

// apiQuery refuses query parameters the route does not know (400).
func (s *Server) apiQuery(w http.ResponseWriter, r *http.Request, known ...string) bool {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		s.apiError(w, r, apperr.New(apperr.Invalid, "The query string could not be read."))
		return false
	}
	for k, v := range q {
		if !slices.Contains(known, k) {
			if len(known) == 0 {
				s.apiError(w, r, apperr.New(apperr.Invalid, "Unknown parameter %q: this route takes none.", k))
			} else {
				s.apiError(w, r, apperr.New(apperr.Invalid, "Unknown parameter %q: this route takes %s.", k, strings.Join(known, ", ")))
			}
			return false
		}
		if len(v) > 1 {
			s.apiError(w, r, apperr.New(apperr.Invalid, "The parameter %q is given more than once.", k))
			return false
		}
	}
	return true
}

// baseURL is the site's absolute address for r: Server.PublicURL
// (--public-url), or the
// request's scheme and Host when the Host is a plain host[:port] (no
// user info, path or odd characters); otherwise "" (relative URLs).
func (s *Server) baseURL(r *http.Request) string {
	if s.PublicURL != "" {
		return strings.TrimSuffix(s.PublicURL, "/")
	}
	host := r.Host
	if !plainHost(host) {
		return ""
	}
	scheme := "http"
	if r.TLS != nil || s.Owners.Secure {
		scheme = "https"
	}
	return scheme + "://" + host
}

func plainHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		host, port = h, ""
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return false
		}
	}
	if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil {
		return true
	}
	if host == "" {
		return false
	}
	for _, c := range host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// abs makes a site path or a media URL absolute.
func (s *Server) abs(r *http.Request, u string) string {
	if u == "" || strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
		return u
	}
	return s.baseURL(r) + u
}

// apiCORS answers the origins --api-cors-origins allows (no cookies are
// involved: the API reads none). Requests from them skip the pages'
// cross-origin check, which is about cookies; every other origin's
// state-changing request is refused by it as before.
func (s *Server) apiCORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isAPI(r) {
			if o := r.Header.Get("Origin"); o != "" {
				w.Header().Add("Vary", "Origin")
				if slices.Contains(s.API.CORSOrigins, o) {
					w.Header().Set("Access-Control-Allow-Origin", o)
					w.Header().Set("Access-Control-Expose-Headers", "Retry-After, WWW-Authenticate")
					r = r.WithContext(context.WithValue(r.Context(), corsKey{}, true))
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

type corsKey struct{}

func corsAllowed(r *http.Request) bool { v, _ := r.Context().Value(corsKey{}).(bool); return v }

// apiMethodNotAllowed answers a method a route does not take: 405, in
// JSON (preflights go to apiPreflight).
func (s *Server) apiMethodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			s.apiPreflight(w, r)
			return
		}
		w.Header().Set("Allow", allow)
		s.writeJSON(w, http.StatusMethodNotAllowed, apiErrorBody{Error: apiErrorDetail{Code: "method_not_allowed",
			Message: "This address takes " + allow + "."}})
	}
}

// apiNowhere answers what no API route takes: a preflight, or 404 in
// JSON.
func (s *Server) apiNowhere(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		s.apiPreflight(w, r)
		return
	}
	s.notFound(w, r) // JSON, by renderError
}

// apiPreflight answers CORS preflight requests of allowed origins.
func (s *Server) apiPreflight(w http.ResponseWriter, r *http.Request) {
	if !corsAllowed(r) {
		s.apiError(w, r, apperr.New(apperr.Forbidden, "This origin may not call the API."))
		return
	}
	w.Header().Set("Access-Control-Allow-Methods", "GET, POST, DELETE")
	w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	w.Header().Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}
