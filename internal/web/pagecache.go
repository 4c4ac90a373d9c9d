package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mediashare/internal/ids"
	"mediashare/internal/policy"
	"mediashare/views"
)

// Rendered gallery and entry pages are kept and revalidated by the view's
// version: the change log's head, which every instance follows in the
// shared view (the live poller: poked by the local projector at each
// change, polling for the others' every --live-poll). A request takes the
// head the instance knows (no query), and answers
//   - 304 when the browser's If-None-Match names the page of this head,
//     this viewer and this URL;
//   - else the page kept for that key, or a fresh one, kept for the next.
// A change anywhere moves the head, so no instance serves an old page
// once it has seen the change (the moment its live browsers are told). The upload form's request id is fresh in every answer: the
// page is kept in two parts around it.

// pageCacheMax bounds the pages kept for one head (pages per viewer).
const pageCacheMax = 1024

type pageCache struct {
	once  sync.Once
	token string // stands for the request id in a kept page; random per process
	build string // names this build's templates and assets in every ETag

	// writes counts the requests that may have changed the view or an
	// account through this instance (every method but GET and HEAD, and
	// the OpenID callback), each counted when it has answered: a browser
	// reads its own writes at once, before the change log's head
	// (settled, followed by the poller) shows them, and what this
	// instance keeps of accounts (accountcache.go) is asked again.
	writes atomic.Int64

	mu    sync.Mutex
	head  string
	pages map[string]*keptPage
}

type keptPage struct {
	parts [][]byte // the body split at each request id
	etag  []string // the ETag header's value: etagOf its key
}

// keptPageOf keeps body, split at each token, under etag.
func keptPageOf(body []byte, token, etag string) *keptPage {
	return &keptPage{parts: bytes.Split(body, []byte(token)), etag: []string{etag}}
}

func (c *pageCache) init() {
	c.once.Do(func() {
		var b [16]byte
		rand.Read(b[:])
		c.token = "ZZ" + strings.ToUpper(hex.EncodeToString(b[:12])) // 26 characters, like an id
		c.build = buildIdentity()
	})
}

// buildIdentity names the running build: the same on every instance of
// one release (so a page revalidates on any of them), different after an
// upgrade. A build from a modified tree is named by its start as well.
func buildIdentity() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return fmt.Sprint(time.Now().UnixNano())
	}
	id := info.String()
	for _, st := range info.Settings {
		if st.Key == "vcs.modified" && st.Value == "true" || st.Key == "vcs.revision" && st.Value == "" {
			id += fmt.Sprint(time.Now().UnixNano())
		}
	}
	if !strings.Contains(id, "vcs.revision") {
		id += fmt.Sprint(time.Now().UnixNano())
	}
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:8])
}

// get returns the page kept under key for head.
func (c *pageCache) get(head, key string) *keptPage {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.head != head {
		return nil
	}
	return c.pages[key]
}

// put keeps p under key for head; a new head drops every page of the old.
func (c *pageCache) put(head, key string, p *keptPage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.head != head || c.pages == nil || len(c.pages) >= pageCacheMax {
		c.head, c.pages = head, map[string]*keptPage{}
	}
	c.pages[key] = p
}

// etagOf names the page of key (the head, the viewer, what the URL asks).
// Weak: the bodies differ in their request ids.
func etagOf(key string) string {
	sum := sha256.Sum256([]byte(key))
	return `W/"` + hex.EncodeToString(sum[:12]) + `"`
}

// notModified reports whether the request already holds the page etag.
func notModified(r *http.Request, etag string) bool {
	for _, v := range strings.Split(r.Header.Get("If-None-Match"), ",") {
		v = strings.TrimSpace(v)
		if v == etag || v == "*" || strings.TrimPrefix(v, "W/") == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}

// cacheHeaders are the headers of a page that browsers keep and ask
// about again (never use without asking).
func cacheHeaders(w http.ResponseWriter, etag []string) {
	h := w.Header()
	h["Etag"] = etag
	h["Cache-Control"] = revalidate
	if v, ok := h["Vary"]; ok {
		h["Vary"] = append(v, pageVary...)
	} else {
		h["Vary"] = pageVary
	}
}

// The values every kept page's answer carries, made once. Header values
// are shared read-only (Set replaces them; an Add copies, their length
// being their capacity).
var (
	revalidate = []string{"private, no-cache"}
	pageVary   = []string{"HX-Request", "Cookie"}
	htmlType   = []string{"text/html; charset=utf-8"}
)

// servePage answers with the page kept under key for head, or renders it
// (render writes the body, with token wherever a request id goes), keeps
// it, and answers; or answers 304 when the browser holds it already.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request, head, key string, render func(w *bytes.Buffer, token string) (keep bool, err error)) {
	c := &s.pages
	c.init()
	head = head + "." + strconv.FormatInt(c.writes.Load(), 10)
	key = pageKey(c.build, head, key)
	p := c.get(head, key)
	var etag string
	if p != nil {
		etag = p.etag[0]
	} else {
		etag = etagOf(key)
	}
	if notModified(r, etag) {
		cacheHeaders(w, []string{etag})
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if p == nil {
		var buf bytes.Buffer
		keep, err := render(&buf, c.token)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		p = keptPageOf(buf.Bytes(), c.token, etag)
		if !keep {
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Add("Vary", "HX-Request")
			p.write(w)
			return
		}
		c.put(head, key, p)
	}
	cacheHeaders(w, p.etag)
	p.write(w)
}

// answers holds the buffers pages with request ids are answered from.
var answers = sync.Pool{New: func() any { return new([]byte) }}

// write answers 200 with the page, a fresh request id wherever one goes,
// in one write of a known length.
func (p *keptPage) write(w http.ResponseWriter) {
	h := w.Header()
	h["Content-Type"] = htmlType
	if len(p.parts) == 1 {
		h.Set("Content-Length", strconv.Itoa(len(p.parts[0])))
		w.WriteHeader(http.StatusOK)
		w.Write(p.parts[0])
		return
	}
	bp := answers.Get().(*[]byte)
	b := (*bp)[:0]
	now := time.Now()
	for i, part := range p.parts {
		if i > 0 {
			b = append(b, ids.New(now)...)
		}
		b = append(b, part...)
	}
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
	*bp = b
	answers.Put(bp)
}

// countWrites counts each request that may change the view once it has
// been answered (see pageCache.writes).
func (s *Server) countWrites(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		if r.Method != http.MethodGet && r.Method != http.MethodHead || r.URL.Path == oidcCallbackPath {
			s.pages.writes.Add(1)
		}
	})
}

// viewVersion is the change log's head as this instance knows it: the
// live poller's when it follows the log, else read from the log.
func (s *Server) viewVersion(ctx context.Context) (string, error) {
	if s.Head != nil {
		if h, ok := s.Head(); ok {
			return h, nil
		}
	}
	return s.Changes.LastChange(ctx)
}

// viewerKey names, for the keys of kept pages, everything a page may
// show differently to one viewer and another: who the principal is and
// what the page's frame shows of the request (views.Page without its
// functions). Each field goes in with its length, so no two viewers
// share a key. TestViewerKeyNamesEveryField fails when either struct
// gains a field this does not name.
func viewerKey(p policy.Principal, pg views.Page) string {
	b := make([]byte, 0, 160)
	for _, v := range [...]string{p.AccountID, p.Name, p.Session, p.Owner, pg.Viewer, pg.Title, pg.UserName} {
		b = strconv.AppendInt(b, int64(len(v)), 10)
		b = append(b, ':')
		b = append(b, v...)
	}
	for _, v := range [...]bool{p.Admin, p.OwnerUnverified, pg.OwnerUnverified, pg.Admin, pg.FirstAdmin} {
		b = strconv.AppendBool(b, v)
		b = append(b, ',')
	}
	return string(b)
}

// pageKey joins what a page depends on besides the view.
func pageKey(parts ...string) string { return strings.Join(parts, "\x00") }
