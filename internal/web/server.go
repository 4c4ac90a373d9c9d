// Package web is mediashare's HTTP layer: routes, middleware and thin
// handlers that parse a request, call the gallery service and render a
// templ view (a whole page, or an htmx fragment).
package web

import (
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"mediashare/internal/blob"
	"mediashare/internal/foreground"
	"mediashare/internal/gallery"
	"mediashare/internal/limits"
	"mediashare/internal/live"
	"mediashare/internal/metrics"
	"mediashare/internal/policy"
	"mediashare/internal/projections"
	"mediashare/static"
	"mediashare/views"
)

// Service is what the handlers need of the use cases, as the small
// interfaces each handler declares beside it; *gallery.Service is one.
type Service interface {
	uploader
	deleter
	eraser
	reporter
	moderator
	entryReader
	pager
	auditLog
	readiness
	rowReader
	restorer
	purger
	trashReader
}

var _ Service = (*gallery.Service)(nil)

// Server holds what the handlers need.
type Server struct {
	Gallery Service
	Blobs   blob.Store
	Metrics *metrics.Metrics
	Assets  *static.Assets
	Owners  *Owners
	Log     *slog.Logger

	// Accounts: the use cases (nil: no accounts, everyone anonymous) and
	// the policy that decides who may do what.
	People peopleService
	Policy policy.Policy
	// OIDC signs people in with an identity provider; nil: not configured.
	OIDC oidcLogin
	// PublicURL is the site's address (--public-url) for links made to be
	// sent elsewhere (invites); "" uses the request's host.
	PublicURL string
	// MediaBase is where browsers fetch media: "" for mediashare's own
	// /media/, or a bucket's or CDN's URL ending in "/".
	MediaBase string

	// The live gallery.
	Live    *live.Hub
	Changes projections.ChangeLog
	// Head, when set, says how far the change log has been followed
	// (false: not yet): kept pages are served by it without asking the
	// change log on every request (the live poller's Head).
	Head      func() (string, bool)
	Heartbeat time.Duration   // between keep-alive comments on idle streams
	Done      <-chan struct{} // closed when the server shuts down: live streams end

	// Limits for hostile traffic; nil or zero fields mean no limit.
	Limits *limits.Limiter // uploads and live streams per client and in total
	// Reports limits reports per client (nil: no limit).
	Reports *limits.Keyed
	// ClientKey names the client a request counts against: the IP
	// address for now (limits.Clients), an account once there are
	// accounts. Nil: the peer's address.
	ClientKey    func(*http.Request) string
	Spool        *limits.Spool // where upload files wait; nil: a private temporary directory
	Disk         *limits.Disk  // uploads are refused when the data volume runs low
	Body         limits.Body   // how slowly a request body may arrive
	WriteTimeout time.Duration // for every response but /live's stream

	// Foreground counts the uploads being received and answered (with
	// their bytes), for background work to give way to (the reactor's
	// thumbnails and previews); nil: not counted.
	Foreground *foreground.Tracker

	// The JSON API (api.go): tokens, accounts, public URL, CORS.
	API APIConfig

	// AccountCache is how long this instance keeps what a session cookie
	// resolved to (the account, its role, the session), and that a fresh
	// site has no account yet, before asking the stores again
	// (accountcache.go). This instance's own changes take effect at
	// once; a change made through another instance (a sign-out, a
	// disabled account) reaches this one within AccountCache. Zero: ask
	// on every request.
	AccountCache time.Duration
	// now is the clock of AccountCache (nil: time.Now); tests set it.
	now func() time.Time

	spoolOnce sync.Once
	ready     readyCache
	pages     pageCache // rendered gallery and entry pages, per version of the view
	accounts  accountCache
}

// Handler returns the site with its middleware.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.galleryList)
	mux.HandleFunc("POST /entries", s.entryCreate)
	mux.HandleFunc("GET /entries/{eib}", s.entryShow)
	mux.HandleFunc("GET /entries/{eib}/card", s.entryCard)
	mux.HandleFunc("DELETE /entries/{eib}", s.entryDelete)
	mux.HandleFunc("POST /entries/{eib}/delete", s.entryDelete)
	mux.HandleFunc("POST /entries/{eib}/restore", s.entryRestore)
	mux.HandleFunc("POST /entries/{eib}/purge", s.entryPurge)
	mux.HandleFunc("GET /trash", s.trashList)
	mux.HandleFunc("POST /trash/empty", s.trashEmpty)
	mux.HandleFunc("POST /entries/{eib}/erase", s.entryErase)
	mux.HandleFunc("POST /entries/{eib}/report", s.entryReport)
	mux.HandleFunc("POST /entries/{eib}/reports/{report}/dismiss", s.reportDismiss)
	mux.HandleFunc("GET /admin", s.adminShow)
	mux.HandleFunc("POST /admin/accounts/{id}/{action}", s.accountModerate)
	mux.HandleFunc("GET /media/{key...}", s.mediaGet)
	mux.HandleFunc("GET /live", s.liveStream)
	mux.HandleFunc("GET /signup", s.signupForm)
	mux.HandleFunc("POST /signup", s.signupCreate)
	mux.HandleFunc("GET /login", s.loginForm)
	mux.HandleFunc("POST /login", s.loginCreate)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /login/oidc", s.oidcBegin)
	mux.HandleFunc("GET "+oidcCallbackPath, s.oidcCallback)
	mux.HandleFunc("GET /account", s.accountShow)
	mux.HandleFunc("POST /account/password", s.passwordChange)
	mux.HandleFunc("POST /account/sessions/{id}/revoke", s.sessionRevoke)
	mux.HandleFunc("GET /admin/invites", s.invitesList)
	mux.HandleFunc("POST /admin/invites", s.inviteCreate)
	mux.HandleFunc("GET /history", s.historyList)
	mux.HandleFunc("GET /history.ndjson", s.historyExport)
	mux.Handle("GET /static/", s.Assets)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.Metrics.Handler())
	s.apiRoutes(mux)
	mux.HandleFunc("/", s.notFound)

	h := s.deadlines(recordPattern(s.countWrites(mux)))
	h = s.Owners.Middleware(s.noteUnverified(s.identify(h)))
	h = crossOrigin(h, s.renderError)
	h = s.apiCORS(h)
	h = s.withMediaBase(h)
	h = securityHeaders(h, mediaOrigin(s.MediaBase), s.Owners.Secure)
	h = s.instrument(h)
	h = s.recoverPanics(h)
	return h
}

func (s *Server) withMediaBase(next http.Handler) http.Handler {
	if s.MediaBase == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(views.WithMediaBase(r.Context(), s.MediaBase)))
	})
}

// mediaOrigin is the origin of an absolute media base ("" for a path).
func mediaOrigin(base string) string {
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

func (s *Server) page(r *http.Request, title string) views.Page {
	p := PrincipalFrom(r.Context())
	pg := views.Page{Asset: s.Assets.URL, Viewer: p.OwnerID(), Title: title, OwnerUnverified: p.OwnerUnverified && !p.SignedIn(),
		UserName: p.Name, Admin: p.Admin}
	if s.People != nil && !p.SignedIn() {
		pg.FirstAdmin = s.firstAdmin(r.Context())
	}
	return pg
}

func (s *Server) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// clientKey is the client the request counts against: the account when
// someone is signed in (on any device or address), else the address.
func (s *Server) clientKey(r *http.Request) string {
	if p := PrincipalFrom(r.Context()); p.SignedIn() {
		return "account:" + p.AccountID
	}
	return s.addressKey(r)
}

// addressKey is the client's address as a key, whoever is signed in.
func (s *Server) addressKey(r *http.Request) string {
	if s.ClientKey != nil {
		return s.ClientKey(r)
	}
	return (&limits.Clients{}).ClientKey(r)
}
