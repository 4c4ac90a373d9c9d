package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"mediashare/internal/accounts"
	"mediashare/internal/authstore"
	"mediashare/internal/events"
	"mediashare/internal/media/mediatest"
	"mediashare/internal/web"
)

// openAPI is the API's document, loaded and validated once per test
// binary, and the tally of the responses checked against it.
var openAPI struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error

	mu        sync.Mutex
	validated map[string]int // "GET /api/v1/entries 200" → responses checked
}

func apiDoc(t testing.TB) (*openapi3.T, routers.Router) {
	t.Helper()
	openAPI.once.Do(func() {
		loader := openapi3.NewLoader()
		openAPI.doc, openAPI.err = loader.LoadFromData(web.OpenAPIDocument())
		if openAPI.err == nil {
			openAPI.err = openAPI.doc.Validate(loader.Context)
		}
		if openAPI.err == nil {
			openAPI.router, openAPI.err = legacy.NewRouter(openAPI.doc)
		}
		openAPI.validated = map[string]int{}
	})
	if openAPI.err != nil {
		t.Fatalf("the OpenAPI document: %v", openAPI.err)
	}
	return openAPI.doc, openAPI.router
}

// apiCall is one request to the API, its response validated against the
// document: every documented route's every response, whatever the test
// asked.
type apiCall struct {
	method, path, token string
	body                []byte
	contentType         string
	header              map[string]string
}

type apiResult struct {
	code   int
	header http.Header
	body   []byte
}

// errorBody decodes an error answer, failing when it is not one.
func (r apiResult) errorBody(t testing.TB) (code, message string) {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Message == "" || e.Error.Code == "" {
		t.Fatalf("not a JSON error (%d): %s", r.code, r.body)
	}
	return e.Error.Code, e.Error.Message
}

func (s *site) api(c apiCall) apiResult {
	s.t.Helper()
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, s.url+c.path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	b := readBody(s.t, resp)
	res := apiResult{code: resp.StatusCode, header: resp.Header, body: b}
	if v := resp.Header.Values("Set-Cookie"); len(v) > 0 {
		s.t.Errorf("%s %s set cookies %v: the API uses none", c.method, c.path, v)
	}
	if ct := resp.Header.Get("Content-Type"); len(b) > 0 && ct != "application/json" {
		s.t.Errorf("%s %s: Content-Type %q, want application/json", c.method, c.path, ct)
	}

	validateAPIResponse(s.t, req, res)
	return res
}

// validateAPIResponse checks an answer of the API against the document
// (an undocumented route must still answer with a JSON error), and
// counts it.
func validateAPIResponse(t testing.TB, req *http.Request, res apiResult) {
	t.Helper()
	_, router := apiDoc(t)
	vreq := httptest.NewRequest(req.Method, req.URL.RequestURI(), nil)
	vreq.Header = req.Header.Clone()
	route, params, err := router.FindRoute(vreq)
	if err != nil {
		if res.code < 400 {
			t.Errorf("%s %s: %d from a route the document does not have", req.Method, req.URL.Path, res.code)
		} else {
			res.errorBody(t)
		}
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route},
		Status:                 res.code, Header: res.header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	in.SetBodyBytes(res.body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s → %d does not match the OpenAPI document: %v\n%s", req.Method, req.URL.Path, res.code, err, res.body)
	}
	openAPI.mu.Lock()
	openAPI.validated[fmt.Sprintf("%s %s %d", req.Method, route.Path, res.code)]++
	openAPI.mu.Unlock()
}

// validatingProxy is a reverse proxy to target that checks every /api/
// answer against the document: clients that are not the test's own
// (the CLI, ShareX's request) are checked too.
func validatingProxy(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := httputil.NewSingleHostReverseProxy(u)
	p.ModifyResponse = func(resp *http.Response) error {
		if !strings.HasPrefix(resp.Request.URL.Path, "/api/") {
			return nil
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		validateAPIResponse(t, resp.Request, apiResult{code: resp.StatusCode, header: resp.Header, body: b})
		return nil
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv.URL
}

// mustAccount registers an account straight in the site's event store.
func (s *site) mustAccount(name, role string) accounts.Account {
	s.t.Helper()
	n, err := accounts.ParseName(name)
	if err != nil {
		s.t.Fatal(err)
	}
	ev, err := accounts.Register(accounts.Registration{Name: n, Role: role, Via: events.ViaPassword}, time.Now())
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.app.backend.Events.Append(context.Background(), n.ID(), 0, ev); err != nil {
		s.t.Fatal(err)
	}
	a, err := accountByName(context.Background(), s.app.backend.Events, name)
	if err != nil {
		s.t.Fatal(err)
	}
	return a
}

// mustToken makes a token in the site's auth store; expires 0: never.
func (s *site) mustToken(acct accounts.Account, scopes string, expires time.Time) (secret, hash string) {
	s.t.Helper()
	secret, hash, err := authstore.NewSecret(authstore.TokenPrefix)
	if err != nil {
		s.t.Fatal(err)
	}
	sc, err := authstore.ParseScopes(scopes)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := s.app.backend.Auth.CreateToken(context.Background(), authstore.Token{
		TokenHash: hash, AccountID: acct.ID, Name: "test " + scopes, Scopes: sc, Created: time.Now().Add(-time.Hour), Expires: expires,
	}); err != nil {
		s.t.Fatal(err)
	}
	return secret, hash
}

// entryEvents are the events on entry streams (not accounts').
func entryEvents(evs []events.Event) []events.Event {
	var out []events.Event
	for _, e := range evs {
		if !events.IsAccountStream(e.Stream) {
			out = append(out, e)
		}
	}
	return out
}

func apiUpload(t testing.TB, parts []part) ([]byte, string) {
	t.Helper()
	b, ct := multipartBody(t, parts)
	return b.Bytes(), ct
}

type uploadedJSON struct {
	EIB          string `json:"eib"`
	URL          string `json:"url"`
	MediaURL     string `json:"media_url"`
	ThumbnailURL string `json:"thumbnail_url"`
	DeletionURL  string `json:"deletion_url"`
	Status       string `json:"status"`
}

type entryJSON struct {
	EIB, Title, Comment, Owner, Status string
	Size                               int64
	Width, Height                      int
	URL                                string    `json:"url"`
	MediaURL                           string    `json:"media_url"`
	ThumbnailURL                       string    `json:"thumbnail_url"`
	PreviewURL                         string    `json:"preview_url"`
	PreviewWidth                       int       `json:"preview_width"`
	PreviewHeight                      int       `json:"preview_height"`
	UploadedAt                         time.Time `json:"uploaded_at"`
	ContentType                        string    `json:"content_type"`
}

func mustJSON[T any](t testing.TB, r apiResult) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("answer %d %s: %v", r.code, r.body, err)
	}
	return v
}

func fetch(t testing.TB, u string) (int, string, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	b := readBody(t, resp)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// The API end to end on both backends with real tokens: who may do what,
// uploads and their URLs, reads, paging, history, deletes and deletion
// links, every response checked against the OpenAPI document.
func TestAPI(t *testing.T) { backends(t, testAPI) }

func testAPI(t *testing.T, start func(func(*config)) *site) {
	s := start(nil)
	alice := s.mustAccount("Alice", events.RoleMember)
	bob := s.mustAccount("bob", events.RoleMember)
	all, allHash := s.mustToken(alice, "read,upload,delete", time.Time{})
	readOnly, _ := s.mustToken(alice, "read", time.Time{})
	uploadOnly, uploadHash := s.mustToken(alice, "upload", time.Now().Add(time.Hour))
	bobDelete, _ := s.mustToken(bob, "read,delete", time.Time{})
	expired, _ := s.mustToken(alice, "read,upload,delete", time.Now().Add(-time.Minute))
	revoked, revokedHash := s.mustToken(alice, "read,upload,delete", time.Time{})
	if err := s.app.backend.Auth.RevokeToken(context.Background(), alice.ID, revokedHash); err != nil {
		t.Fatal(err)
	}
	photo, err := os.ReadFile(mediatest.Photo(t, "Storm.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	good, goodCT := apiUpload(t, uploadParts("Storm", "over the sea", "storm.jpg", "image/jpeg", photo))

	mallory := s.mustAccount("mallory", events.RoleMember)
	disabledTok, _ := s.mustToken(mallory, "read,upload,delete", time.Time{})
	dis, err := mallory.Disable(accounts.Operator, "testing", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.backend.Events.Append(context.Background(), mallory.ID, mallory.Version, dis); err != nil {
		t.Fatal(err)
	}

	t.Run("missing, wrong, expired and revoked tokens are one 401", func(t *testing.T) {
		var first []byte
		for _, tc := range []struct {
			name   string
			header map[string]string
			token  string
		}{
			{name: "missing"},
			{name: "wrong", token: "mst_" + strings.Repeat("A", 43)},
			{name: "not ours", token: "ghp_0123456789"},
			{name: "expired", token: expired},
			{name: "revoked", token: revoked},
			{name: "a disabled account's", token: disabledTok},
			{name: "too long", token: "mst_" + strings.Repeat("x", 500)},
			{name: "basic scheme", header: map[string]string{"Authorization": "Basic YWxpY2U6cGFzc3dvcmQ="}},
			{name: "no scheme", header: map[string]string{"Authorization": all}},
		} {
			r := s.api(apiCall{method: "POST", path: "/api/v1/entries", token: tc.token, header: tc.header, body: good, contentType: goodCT})
			if r.code != http.StatusUnauthorized {
				t.Errorf("%s: %d, want 401: %s", tc.name, r.code, r.body)
			}
			if r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s: no WWW-Authenticate", tc.name)
			}
			if first == nil {
				first = r.body
			} else if !bytes.Equal(r.body, first) {
				t.Errorf("%s: answer %s differs from %s: it hints which part was wrong", tc.name, r.body, first)
			}
			// A read with a bad token is refused too (reads need no token,
			// but one that is sent must be good).
			if tc.name != "missing" {
				if r := s.api(apiCall{method: "GET", path: "/api/v1/entries", token: tc.token, header: tc.header}); r.code != 401 {
					t.Errorf("%s read: %d, want 401", tc.name, r.code)
				}
			}
		}
		// A browser's cookies are no token.
		c := browser(t)
		readBody(t, s.get(c, "/"))
		req, _ := http.NewRequest("POST", s.url+"/api/v1/entries", bytes.NewReader(good))
		req.Header.Set("Content-Type", goodCT)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if readBody(t, resp); resp.StatusCode != 401 {
			t.Errorf("upload with the owner cookie and no token: %d, want 401", resp.StatusCode)
		}
		if evs := entryEvents(s.events()); len(evs) != 0 {
			t.Errorf("refused uploads appended %v", evs)
		}
		if files := s.mediaFiles(); len(files) != 0 {
			t.Errorf("refused uploads stored %v", files)
		}
	})

	t.Run("scopes", func(t *testing.T) {
		r := s.api(apiCall{method: "POST", path: "/api/v1/entries", token: readOnly, body: good, contentType: goodCT})
		if _, msg := r.errorBody(t); r.code != 403 || !strings.Contains(msg, "upload scope") {
			t.Errorf("upload with a read token: %d %q", r.code, msg)
		}
		r = s.api(apiCall{method: "GET", path: "/api/v1/entries", token: uploadOnly})
		if _, msg := r.errorBody(t); r.code != 403 || !strings.Contains(msg, "read scope") {
			t.Errorf("read with an upload token: %d %q", r.code, msg)
		}
		r = s.api(apiCall{method: "DELETE", path: "/api/v1/entries/01ARZ3NDEKTSV4RRFFQ69G5FAV", token: uploadOnly})
		if _, msg := r.errorBody(t); r.code != 403 || !strings.Contains(msg, "delete scope") {
			t.Errorf("delete with an upload token: %d %q", r.code, msg)
		}
		if evs := entryEvents(s.events()); len(evs) != 0 {
			t.Errorf("refused requests appended %v", evs)
		}
	})

	// An upload with the upload token: 201 at once, then ready.
	r := s.api(apiCall{method: "POST", path: "/api/v1/entries", token: uploadOnly, body: good, contentType: goodCT})
	if r.code != http.StatusCreated {
		t.Fatalf("upload: %d %s", r.code, r.body)
	}
	up := mustJSON[uploadedJSON](t, r)
	for name, u := range map[string]string{"url": up.URL, "media_url": up.MediaURL, "thumbnail_url": up.ThumbnailURL, "deletion_url": up.DeletionURL} {
		if !strings.HasPrefix(u, s.url+"/") {
			t.Errorf("%s %q is not an absolute URL of the site %s", name, u, s.url)
		}
	}
	if up.Status != "processing" && up.Status != "ready" {
		t.Errorf("status %q", up.Status)
	}
	if code, ct, b := fetch(t, up.MediaURL); code != 200 || ct != "image/jpeg" || len(b) == 0 {
		t.Errorf("media_url: %d %s", code, ct)
	}
	if code, _, _ := fetch(t, up.URL); code != 200 {
		t.Errorf("url (the entry page): %d", code)
	}
	var got entryJSON
	waitFor(t, "the entry ready", func() bool {
		r := s.api(apiCall{method: "GET", path: "/api/v1/entries/" + up.EIB})
		got = mustJSON[entryJSON](t, r)
		return got.Status == "ready"
	})
	if got.Title != "Storm" || got.Comment != "over the sea" || got.Owner != "Alice" || got.Size == 0 || got.Width == 0 || got.Height == 0 {
		t.Errorf("entry %+v", got)
	}
	if got.ThumbnailURL != up.ThumbnailURL || got.MediaURL != up.MediaURL || got.URL != up.URL {
		t.Errorf("entry URLs %+v differ from the upload's %+v", got, up)
	}
	if code, ct, _ := fetch(t, up.ThumbnailURL); code != 200 || !strings.HasPrefix(ct, "image/") {
		t.Errorf("thumbnail_url once ready: %d %s", code, ct)
	}
	if got.PreviewURL != "" {
		t.Logf("the preview was made by the time the entry was ready (%s)", got.PreviewURL)
	}
	// The preview comes after the grid thumbnail, at a lower priority.
	waitFor(t, "the preview", func() bool {
		got = mustJSON[entryJSON](t, s.api(apiCall{method: "GET", path: "/api/v1/entries/" + up.EIB}))
		return got.PreviewURL != ""
	})
	if code, ct, _ := fetch(t, got.PreviewURL); code != 200 || ct != "image/jpeg" {
		t.Errorf("preview_url %q: %d %s", got.PreviewURL, code, ct)
	}
	if got.PreviewWidth != 1280 || got.PreviewHeight != 853 {
		t.Errorf("preview %d×%d, want 1280×853", got.PreviewWidth, got.PreviewHeight)
	}

	t.Run("the same bytes again are a duplicate", func(t *testing.T) {
		r := s.api(apiCall{method: "POST", path: "/api/v1/entries", token: uploadOnly, body: good, contentType: goodCT})
		dup := mustJSON[struct {
			uploadedJSON
			Duplicate bool `json:"duplicate"`
			InTrash   bool `json:"in_trash"`
		}](t, r)
		if r.code != 200 || !dup.Duplicate || dup.EIB != up.EIB || dup.URL != up.URL {
			t.Errorf("duplicate: %d %s", r.code, r.body)
		}
	})

	t.Run("last used is recorded", func(t *testing.T) {
		ts, err := s.app.backend.Auth.Tokens(context.Background(), alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		used := map[string]bool{}
		for _, tk := range ts {
			used[tk.TokenHash] = !tk.LastUsed.IsZero()
		}
		if !used[uploadHash] {
			t.Error("the token that uploaded has no last-used time")
		}
		if used[allHash] {
			t.Error("a token not used yet has a last-used time")
		}
	})

	t.Run("list, pages and the entry's history", func(t *testing.T) {
		for i := range 3 {
			b, ct := apiUpload(t, uploadParts(fmt.Sprint("small ", i), "c", "p.png", "image/png", smallPNG(t, i)))
			if r := s.api(apiCall{method: "POST", path: "/api/v1/entries", token: all, body: b, contentType: ct}); r.code != 201 {
				t.Fatalf("upload %d: %d %s", i, r.code, r.body)
			}
		}
		var seen []string
		cursor := ""
		for pages := 0; ; pages++ {
			path := "/api/v1/entries?limit=3"
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			page := mustJSON[struct {
				Entries    []entryJSON `json:"entries"`
				NextCursor string      `json:"next_cursor"`
			}](t, s.api(apiCall{method: "GET", path: path, token: readOnly}))
			for _, e := range page.Entries {
				seen = append(seen, e.Title)
			}
			if cursor = page.NextCursor; cursor == "" || pages > 3 {
				break
			}
		}
		if want := []string{"small 2", "small 1", "small 0", "Storm"}; !slices.Equal(seen, want) {
			t.Errorf("entries %v, want %v (newest first)", seen, want)
		}
		h := mustJSON[struct {
			Events []events.Record `json:"events"`
		}](t, s.api(apiCall{method: "GET", path: "/api/v1/entries/" + up.EIB + "/history"}))
		var types []string
		for _, e := range h.Events {
			types = append(types, string(e.Type))
		}
		if strings.Join(types, ",") != "MediaUploaded,ThumbnailGenerated,PreviewGenerated" {
			t.Errorf("history %v", types)
		}
		// Sealed fields are shown opened, as the history page shows them.
		if len(h.Events) > 0 && !strings.Contains(string(h.Events[0].Data), `"title":"Storm"`) {
			t.Errorf("the upload's event in the API: %s", h.Events[0].Data)
		}
	})

	t.Run("global history with filters and cursors", func(t *testing.T) {
		var ids []string
		cursor := ""
		for range 10 {
			path := "/api/v1/history?type=MediaUploaded&limit=2"
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			page := mustJSON[struct {
				Events     []events.Record `json:"events"`
				NextCursor string          `json:"next_cursor"`
			}](t, s.api(apiCall{method: "GET", path: path}))
			for _, e := range page.Events {
				if e.Type != events.MediaUploaded {
					t.Errorf("type filter let %s through", e.Type)
				}
				ids = append(ids, e.Stream)
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		if len(ids) != 4 || ids[3] != up.EIB {
			t.Errorf("uploads in the history %v, want 4 ending with %s", ids, up.EIB)
		}
		one := mustJSON[struct {
			Events []events.Record `json:"events"`
		}](t, s.api(apiCall{method: "GET", path: "/api/v1/history?entry=" + up.EIB, token: all}))
		if len(one.Events) != 3 {
			t.Errorf("entry filter: %d events, want 3 (uploaded, thumbnail, preview)", len(one.Events))
		}
	})

	t.Run("bad parameters", func(t *testing.T) {
		for _, tc := range []struct {
			path, message string
			code          int
		}{
			{"/api/v1/entries?limit=0", "limit must be", 400},
			{"/api/v1/entries?limit=101", "limit must be", 400},
			{"/api/v1/entries?limit=x", "limit must be", 400},
			{"/api/v1/entries?cursor=garbage", "not valid", 400},
			{"/api/v1/entries?cursor=" + strings.Repeat("a", 300), "not valid", 400},
			{"/api/v1/entries?page=2", "Unknown parameter", 400},
			{"/api/v1/entries?limit=1&limit=2", "more than once", 400},
			{"/api/v1/entries/" + up.EIB + "?x=1", "Unknown parameter", 400},
			{"/api/v1/entries/not-an-id", "no such entry", 404},
			{"/api/v1/entries/01ARZ3NDEKTSV4RRFFQ69G5FAV", "no such entry", 404},
			{"/api/v1/entries/01ARZ3NDEKTSV4RRFFQ69G5FAV/history", "no such entry", 404},
			{"/api/v1/history?type=Nope", "no event type", 400},
			{"/api/v1/history?entry=../../etc", "not an entry id", 400},
			{"/api/v1/history?cursor=zzz", "not valid", 400},
			{"/api/v1/history?limit=501", "limit must be", 400},
			{"/api/v1/history?verbose=1", "Unknown parameter", 400},
			{"/api/v1/nothing", "nothing at this address", 404},
			{"/api/openapi.json?x=1", "Unknown parameter", 400},
		} {
			r := s.api(apiCall{method: "GET", path: tc.path})
			if _, msg := r.errorBody(t); r.code != tc.code || !strings.Contains(msg, tc.message) {
				t.Errorf("GET %s: %d %q, want %d with %q", tc.path, r.code, msg, tc.code, tc.message)
			}
		}
		for _, tc := range []struct{ method, path, allow string }{
			{"PUT", "/api/v1/entries", "GET, HEAD, POST"},
			{"PATCH", "/api/v1/entries/" + up.EIB, "GET, HEAD, DELETE"},
			{"POST", "/api/v1/history", "GET, HEAD"},
			{"DELETE", "/api/openapi.json", "GET, HEAD"},
		} {
			r := s.api(apiCall{method: tc.method, path: tc.path, token: all})
			if code, _ := r.errorBody(t); r.code != 405 || code != "method_not_allowed" || r.header.Get("Allow") != tc.allow {
				t.Errorf("%s %s: %d %s, Allow %q", tc.method, tc.path, r.code, code, r.header.Get("Allow"))
			}
		}
	})

	t.Run("deletes: a stranger's refused, the owner's done", func(t *testing.T) {
		r := s.api(apiCall{method: "DELETE", path: "/api/v1/entries/" + up.EIB, token: bobDelete})
		if _, msg := r.errorBody(t); r.code != 403 {
			t.Errorf("bob deleting alice's entry: %d %q", r.code, msg)
		}
		if r := s.api(apiCall{method: "DELETE", path: "/api/v1/entries/" + up.EIB, token: all}); r.code != 204 {
			t.Fatalf("alice deleting: %d %s", r.code, r.body)
		}
		if r := s.api(apiCall{method: "GET", path: "/api/v1/entries/" + up.EIB}); r.code != 404 {
			t.Errorf("deleted entry: %d", r.code)
		}
		// It went to the trash: deleting again is a conflict, its files wait
		// there for the retention period.
		r = s.api(apiCall{method: "DELETE", path: "/api/v1/entries/" + up.EIB, token: all})
		if _, msg := r.errorBody(t); r.code != 409 {
			t.Errorf("deleting again: %d %q, want 409", r.code, msg)
		}
		if types := streamTypes(s.events(), up.EIB); !strings.HasSuffix(types, ",MediaTrashed") {
			t.Errorf("events of the deleted entry: %s", types)
		}
	})

	t.Run("deletion link", func(t *testing.T) {
		b, ct := apiUpload(t, uploadParts("linked", "c", "p.png", "image/png", smallPNG(t, 9)))
		r := s.api(apiCall{method: "POST", path: "/api/v1/entries", token: uploadOnly, body: b, contentType: ct})
		if r.code != 201 {
			t.Fatalf("upload: %d %s", r.code, r.body)
		}
		up := mustJSON[uploadedJSON](t, r)
		c := browser(t)
		get := func(u string) *http.Response {
			req, _ := http.NewRequest("GET", u, nil)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}
		resp := get(up.DeletionURL)
		doc := mustDoc(t, resp)
		if resp.StatusCode != 200 || doc.Find(`[data-testid=deletion-form]`).Length() != 1 {
			t.Fatalf("GET the deletion link: %d", resp.StatusCode)
		}
		if resp.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("Referrer-Policy %q", resp.Header.Get("Referrer-Policy"))
		}
		action, _ := doc.Find(`[data-testid=deletion-form]`).Attr("action")
		key := up.DeletionURL[strings.LastIndexByte(up.DeletionURL, '/')+1:]
		for _, bad := range []string{
			strings.Replace(up.DeletionURL, key, strings.Repeat("A", len(key)), 1),
			strings.Replace(up.DeletionURL, key, key[:20], 1),
			strings.Replace(up.DeletionURL, up.EIB, "01ARZ3NDEKTSV4RRFFQ69G5FAV", 1),
		} {
			if resp := get(bad); mustDoc(t, resp).Find(`[data-testid=error-message]`).Text() == "" || resp.StatusCode != 404 {
				t.Errorf("GET %s: %d, want 404 with a message", bad, resp.StatusCode)
			}
			req, _ := http.NewRequest("POST", bad, nil)
			resp, _ := c.Do(req)
			if readBody(t, resp); resp.StatusCode != 404 {
				t.Errorf("POST %s: %d, want 404", bad, resp.StatusCode)
			}
		}
		// Another site's page cannot make a browser post it.
		req, _ := http.NewRequest("POST", s.url+action, nil)
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, _ = c.Do(req)
		if readBody(t, resp); resp.StatusCode != 403 {
			t.Errorf("cross-site POST of the deletion link: %d, want 403", resp.StatusCode)
		}
		if r := s.api(apiCall{method: "GET", path: "/api/v1/entries/" + up.EIB}); r.code != 200 {
			t.Fatalf("the entry went before the link was used: %d", r.code)
		}
		req, _ = http.NewRequest("POST", s.url+action, nil)
		resp, _ = c.Do(req)
		if doc := mustDoc(t, resp); resp.StatusCode != 200 || doc.Find(`[data-testid=deletion-done]`).Length() != 1 {
			t.Errorf("POST the deletion link: %d", resp.StatusCode)
		}
		if r := s.api(apiCall{method: "GET", path: "/api/v1/entries/" + up.EIB}); r.code != 404 {
			t.Errorf("after the deletion link: %d, want 404", r.code)
		}
		req, _ = http.NewRequest("POST", s.url+action, nil)
		resp, _ = c.Do(req)
		if readBody(t, resp); resp.StatusCode != 404 {
			t.Errorf("the deletion link a second time: %d, want 404", resp.StatusCode)
		}
		var deleted []string
		for _, e := range s.events() {
			if e.Stream == up.EIB && e.Type == events.MediaTrashed {
				deleted = append(deleted, string(e.Actor))
			}
		}
		if len(deleted) != 1 {
			t.Errorf("MediaTrashed events %v, want one", deleted)
		}
	})

	t.Run("several files, one result each", func(t *testing.T) {
		b, ct := multipartBody(t, []part{
			{name: "comment", data: []byte("three at once")},
			{name: "file", filename: "one.png", contentType: "image/png", data: smallPNG(t, 20)},
			{name: "file", filename: "notes.txt", contentType: "text/plain", data: []byte("not an image")},
			{name: "file", filename: "two.png", contentType: "image/png", data: smallPNG(t, 21)},
		})
		r := s.api(apiCall{method: "POST", path: "/api/v1/entries", token: all, body: b.Bytes(), contentType: ct})
		res := mustJSON[struct {
			Results []struct {
				File  string        `json:"file"`
				Entry *uploadedJSON `json:"entry"`
				Error *struct {
					Code, Message, Field string
				} `json:"error"`
			} `json:"results"`
		}](t, r)
		if r.code != 200 || len(res.Results) != 3 || res.Results[0].Entry == nil || res.Results[1].Error == nil || res.Results[2].Entry == nil {
			t.Fatalf("%d %s", r.code, r.body)
		}
		if e := mustJSON[entryJSON](t, s.api(apiCall{method: "GET", path: "/api/v1/entries/" + res.Results[0].Entry.EIB})); e.Title != "one" {
			t.Errorf("a blank title takes the file's name: %q", e.Title)
		}
	})

	// Every operation's answers were checked against the document.
	openAPI.mu.Lock()
	defer openAPI.mu.Unlock()
	for _, op := range []string{"GET /api/v1/entries 200", "POST /api/v1/entries 201", "POST /api/v1/entries 200", "POST /api/v1/entries 401",
		"POST /api/v1/entries 403", "GET /api/v1/entries/{eib} 200", "GET /api/v1/entries/{eib} 404", "DELETE /api/v1/entries/{eib} 204",
		"DELETE /api/v1/entries/{eib} 403", "GET /api/v1/entries/{eib}/history 200", "GET /api/v1/history 200", "GET /api/v1/history 400"} {
		if openAPI.validated[op] == 0 {
			t.Errorf("no answer of %s was checked against the document", op)
		}
	}
}

// Every bad upload of the upload form, sent to the API: the same status
// and message, as JSON, and nothing stored.
func TestAPIBadUploads(t *testing.T) { backends(t, testAPIBadUploads) }

func testAPIBadUploads(t *testing.T, start func(func(*config)) *site) {
	s := start(func(c *config) { c.MaxUploadBytes = 4 << 20 })
	token, _ := s.mustToken(s.mustAccount("carol", events.RoleMember), "upload", time.Time{})
	photo, err := os.ReadFile(mediatest.Photo(t, "Storm.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	pngPhoto, err := os.ReadFile(mediatest.Photo(t, "Gulp.png"))
	if err != nil {
		t.Fatal(err)
	}
	noise := bytes.Repeat([]byte{0x13, 0x37, 0x42}, 2000)
	huge := make([]byte, 4<<20+1)
	copy(huge, photo)
	tests := []struct {
		name    string
		parts   []part
		code    int
		message string
	}{
		{"blank title", uploadParts("   ", "c", "a.jpg", "image/jpeg", photo), 400, "give the image a title"},
		{"blank comment", uploadParts("t", "", "a.jpg", "image/jpeg", photo), 400, "write a comment"},
		{"title too long", uploadParts(strings.Repeat("é", 201), "c", "a.jpg", "image/jpeg", photo), 400, "at most 200 characters"},
		{"comment too long", uploadParts("t", strings.Repeat("x", 2001), "a.jpg", "image/jpeg", photo), 400, "at most 2000 characters"},
		{"title not UTF-8", uploadParts("t\xff", "c", "a.jpg", "image/jpeg", photo), 400, "UTF-8"},
		{"no file", uploadParts("t", "c", "", "", nil), 400, "choose an image"},
		{"empty file", uploadParts("t", "c", "a.jpg", "image/jpeg", []byte{}), 400, "empty"},
		{"HTML named .jpg", uploadParts("t", "c", "cat.jpg", "image/jpeg", []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>")), 415, "Only JPEG, PNG, GIF"},
		{"SVG", uploadParts("t", "c", "x.svg", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="10" height="10"/></svg>`)), 415, "Only JPEG, PNG, GIF"},
		{"random bytes", uploadParts("t", "c", "x.png", "image/png", noise), 415, "Only JPEG, PNG, GIF"},
		{"truncated JPEG", uploadParts("t", "c", "a.jpg", "image/jpeg", photo[:len(photo)/2]), 400, "truncated"},
		{"truncated PNG", uploadParts("t", "c", "a.png", "image/png", pngPhoto[:len(pngPhoto)/3]), 400, "truncated"},
		{"over the size limit", uploadParts("t", "c", "big.jpg", "image/jpeg", huge), 413, "larger than the 4 MiB limit"},
		{"pixel bomb", uploadParts("t", "c", "bomb.png", "image/png", pngHeader(30000, 30000)), 413, "megapixel"},
		{"unknown field", append(uploadParts("t", "c", "a.jpg", "image/jpeg", photo), part{name: "owner", data: []byte("admin")}), 400, `Unknown field "owner"`},
		{"the request field of the form", append(uploadParts("t", "c", "a.jpg", "image/jpeg", photo), part{name: "request", data: []byte("x")}), 400, "Unknown field"},
		{"a file in a text field", []part{{name: "title", filename: "t.txt", contentType: "text/plain", data: []byte("t")}, {name: "comment", data: []byte("c")}}, 400, "Unknown field"},
		{"file as text", []part{{name: "title", data: []byte("t")}, {name: "comment", data: []byte("c")}, {name: "file", data: []byte("hello")}}, 400, "must carry a file"},
		{"too many files", func() []part {
			ps := uploadParts("t", "c", "", "", nil)
			for range 21 {
				ps = append(ps, part{name: "file", filename: "p.png", contentType: "image/png", data: smallPNG(t, 1)})
			}
			return ps
		}(), 400, "at most 20 files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, ct := apiUpload(t, tt.parts)
			r := s.api(apiCall{method: "POST", path: "/api/v1/entries", token: token, body: b, contentType: ct})
			if _, msg := r.errorBody(t); r.code != tt.code || !strings.Contains(msg, tt.message) {
				t.Errorf("%d %q, want %d with %q", r.code, msg, tt.code, tt.message)
			}
		})
	}
	t.Run("not multipart", func(t *testing.T) {
		r := s.api(apiCall{method: "POST", path: "/api/v1/entries", token: token, body: []byte(`{"title":"t"}`), contentType: "application/json"})
		if _, msg := r.errorBody(t); r.code != 400 || !strings.Contains(msg, "could not be read") {
			t.Errorf("%d %q", r.code, msg)
		}
	})
	t.Run("cross-site from a browser", func(t *testing.T) {
		b, ct := apiUpload(t, uploadParts("t", "c", "a.jpg", "image/jpeg", photo))
		r := s.api(apiCall{method: "POST", path: "/api/v1/entries", token: token, body: b, contentType: ct,
			header: map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}})
		if _, msg := r.errorBody(t); r.code != 403 || r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%d %q, CORS %q", r.code, msg, r.header.Get("Access-Control-Allow-Origin"))
		}
	})
	if evs := entryEvents(s.events()); len(evs) != 0 {
		t.Errorf("bad uploads appended %d events: %v", len(evs), evs)
	}
	if files := s.mediaFiles(); len(files) != 0 {
		t.Errorf("bad uploads left files behind: %v", files)
	}
}

// The rate limits of the upload form apply to the API unchanged.
func TestAPIRateLimited(t *testing.T) {
	s := startSite(t, func(c *config) { c.UploadsPerMinute = 2 })
	token, _ := s.mustToken(s.mustAccount("dave", events.RoleMember), "upload", time.Time{})
	codes := []int{}
	for i := range 3 {
		b, ct := apiUpload(t, uploadParts(fmt.Sprint(i), "c", "p.png", "image/png", smallPNG(t, i)))
		r := s.api(apiCall{method: "POST", path: "/api/v1/entries", token: token, body: b, contentType: ct})
		codes = append(codes, r.code)
		if r.code == 429 {
			if _, msg := r.errorBody(t); msg == "" || r.header.Get("Retry-After") == "" {
				t.Errorf("429 without a message or Retry-After")
			}
		}
	}
	if !slices.Equal(codes, []int{201, 201, 429}) {
		t.Errorf("codes %v, want 201, 201, 429", codes)
	}
}

// CORS is off unless --api-cors-origins names the origin; --public-url
// makes the URLs.
func TestAPICORSAndPublicURL(t *testing.T) {
	s := startSite(t, func(c *config) {
		c.APICORSOrigins = "https://tool.example"
		c.PublicURL = "https://media.example/"
	})
	token, _ := s.mustToken(s.mustAccount("erin", events.RoleMember), "read,upload", time.Time{})
	pre := func(origin string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", s.url+"/api/v1/entries", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		return resp
	}
	if resp := pre("https://tool.example"); resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://tool.example" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight from the allowed origin: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := pre("https://evil.example"); resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin: %d %v", resp.StatusCode, resp.Header)
	}
	b, ct := apiUpload(t, uploadParts("t", "c", "p.png", "image/png", smallPNG(t, 1)))
	r := s.api(apiCall{method: "POST", path: "/api/v1/entries", token: token, body: b, contentType: ct,
		header: map[string]string{"Origin": "https://tool.example", "Sec-Fetch-Site": "cross-site"}})
	if r.code != 201 || r.header.Get("Access-Control-Allow-Origin") != "https://tool.example" {
		t.Fatalf("upload from the allowed origin: %d %s", r.code, r.body)
	}
	up := mustJSON[uploadedJSON](t, r)
	for _, u := range []string{up.URL, up.MediaURL, up.ThumbnailURL, up.DeletionURL} {
		if !strings.HasPrefix(u, "https://media.example/") || strings.HasPrefix(u, "https://media.example//") {
			t.Errorf("URL %q does not start with --public-url", u)
		}
	}
	// Without --public-url a Host that is not a plain host name gives
	// relative URLs, never the header's text.
	s2 := startSite(t, nil)
	token2, _ := s2.mustToken(s2.mustAccount("frank", events.RoleMember), "upload", time.Time{})
	req, _ := http.NewRequest("POST", s2.url+"/api/v1/entries", bytes.NewReader(b))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+token2)
	req.Host = "evil.example/x?"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	if resp.StatusCode == 201 && bytes.Contains(body, []byte("evil.example")) {
		t.Errorf("a hostile Host header made the URLs: %s", body)
	}
}

// The OpenAPI document is served, is valid OpenAPI 3.1, and describes
// every route; every response of this test binary is checked against it
// (the routes' tests above run through site.api).
func TestAPIOpenAPIDocument(t *testing.T) {
	doc, _ := apiDoc(t)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	s := startSite(t, nil)
	r := s.api(apiCall{method: "GET", path: "/api/openapi.json"})
	if r.code != 200 || !bytes.Equal(r.body, web.OpenAPIDocument()) {
		t.Errorf("GET /api/openapi.json: %d, %d bytes", r.code, len(r.body))
	}
	want := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			want[method+" "+path] = true
		}
	}
	for _, op := range []string{"GET /api/v1/entries", "POST /api/v1/entries", "GET /api/v1/entries/{eib}", "DELETE /api/v1/entries/{eib}",
		"GET /api/v1/entries/{eib}/history", "GET /api/v1/history", "GET /api/openapi.json"} {
		if !want[op] {
			t.Errorf("the document lacks %s", op)
		}
	}
	// A response that breaks the document is caught (the check can fail).
	_, router := apiDoc(t)
	req := httptest.NewRequest("GET", "/api/v1/entries/x", nil)
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatal(err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 200, Header: http.Header{"Content-Type": {"application/json"}},
	}
	in.SetBodyBytes([]byte(`{"eib":"x","title":"t","surprise":true}`))
	if err := openapi3filter.ValidateResponse(context.Background(), in); err == nil {
		t.Error("a response with a missing and an unknown field passed the document")
	}
}

// --api-cors-origins takes origins only, and says which flag was wrong.
func TestAPICORSFlagRefusesNonOrigins(t *testing.T) {
	for _, v := range []string{"*", "tool.example", "ftp://tool.example", "https://tool.example/app", "https://u:p@tool.example", "https://tool.example?x=1", "https://"} {
		err := run(context.Background(), []string{"serve", "--data", t.TempDir(), "--api-cors-origins", v}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--api-cors-origins") {
			t.Errorf("--api-cors-origins %q: %v, want a refusal naming the flag", v, err)
		}
	}
	if got, err := parseOrigins(" https://a.example, http://b.example:8080/ ,"); err != nil || !slices.Equal(got, []string{"https://a.example", "http://b.example:8080"}) {
		t.Errorf("parseOrigins: %v %v", got, err)
	}
}

// mediashare tokens on the AWS backend: made, listed with its last use,
// revoked, each seen by the running site at once.
// (The embedded backend's run against a serve process in
// TestAPIClientAndShareXAgainstServe.)
func TestTokensCommandOnAWS(t *testing.T) {
	s := startSite(t, func(c *config) { awsConfig(t, c) })
	s.mustAccount("judy", events.RoleMember)
	a := s.cfg.AWS
	flags := []string{"--backend", "aws", "--bucket", a.Bucket, "--table", a.Table, "--events-table", a.EventsTable,
		"--region", a.Region, "--endpoint", a.Endpoint, "--s3-path-style", "--user", "judy"}
	cmd := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(context.Background(), append(args, flags...), &out, &errb)
		if err != nil {
			return errb.String(), err
		}
		return out.String(), nil
	}
	out, err := cmd("tokens", "create", "--scopes", "read")
	if err != nil {
		t.Fatalf("tokens create: %v %s", err, out)
	}
	token := strings.TrimSpace(out)
	if r := s.api(apiCall{method: "GET", path: "/api/v1/entries", token: token}); r.code != 200 {
		t.Errorf("the new token: %d", r.code)
	}
	out, err = cmd("tokens", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) != 2 || strings.HasSuffix(strings.TrimSpace(lines[1]), "never") {
		t.Fatalf("tokens list: %v\n%s", err, out)
	}
	if out, err := cmd("tokens", "revoke", "--id", strings.Fields(lines[1])[0]); err != nil {
		t.Fatalf("tokens revoke: %v %s", err, out)
	}
	if r := s.api(apiCall{method: "GET", path: "/api/v1/entries", token: token}); r.code != 401 {
		t.Errorf("the revoked token: %d", r.code)
	}
}
