package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"mediashare/internal/apperr"
	"mediashare/internal/blob/fileblob"
	"mediashare/internal/entry"
	"mediashare/internal/events"
	"mediashare/internal/gallery"
	"mediashare/internal/ids"
	"mediashare/internal/live"
	"mediashare/internal/metrics"
	"mediashare/internal/projections"
	"mediashare/internal/web"
	"mediashare/static"
)

// fakeGallery is a web.Service that records what the handlers ask and
// answers what a test sets.
type fakeGallery struct {
	mu        sync.Mutex
	limits    gallery.Limits
	uploads   []upload
	uploadErr func(in gallery.UploadInput) error
	deletes   []deletion
	deleteErr error
	erasures  []erasure
	eraseErr  error
	rows      map[string]projections.Entry
	history   map[string][]events.Event
	page      projections.Page
	pageErr   error
	audit     []gallery.AuditRow
	readyErr  error
	// The trash: what was asked of it, and what it answers.
	restores, purges []deletion
	empties          []string
	trashErr         error
	duplicate        *gallery.Uploaded // Upload answers with it
}

type upload struct {
	in   gallery.UploadInput
	body string
}

type deletion struct {
	eib, owner string
	admin      bool
	as         events.Actor
}

type erasure struct {
	eib    string
	actor  entry.Actor
	reason string
}

var _ web.Service = (*fakeGallery)(nil)

func newFake() *fakeGallery {
	l := gallery.DefaultLimits
	l.MaxBytes, l.MaxRequestBytes, l.MaxFiles = 1000, 4000, 3
	return &fakeGallery{limits: l, rows: map[string]projections.Entry{}, history: map[string][]events.Event{}}
}

func (f *fakeGallery) UploadLimits() gallery.Limits { return f.limits }

func (f *fakeGallery) ValidateComment(c string) error {
	if strings.TrimSpace(c) == "" {
		return apperr.FieldError(apperr.Invalid, "comment", "Please write a comment.")
	}
	return nil
}

func (f *fakeGallery) Upload(ctx context.Context, in gallery.UploadInput) (gallery.Uploaded, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.uploadErr != nil {
		if err := f.uploadErr(in); err != nil {
			return gallery.Uploaded{}, err
		}
	}
	if f.duplicate != nil {
		return *f.duplicate, nil
	}
	var body []byte
	if in.File != nil {
		body, _ = io.ReadAll(in.File)
	}
	in.File = nil
	f.uploads = append(f.uploads, upload{in, string(body)})
	eib := fmt.Sprintf("01JDWEB%019d", len(f.uploads))
	return gallery.Uploaded{Entry: projections.Entry{EIB: eib, Title: strings.TrimSpace(in.Title), Comment: strings.TrimSpace(in.Comment), Status: projections.Processing, Size: in.Size, Owner: in.Owner, Version: 1}}, nil
}

func (f *fakeGallery) Restore(ctx context.Context, eib string, a entry.Actor) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.restores = append(f.restores, deletion{eib, a.Owner, a.Admin, a.As})
	return f.trashErr
}

func (f *fakeGallery) Purge(ctx context.Context, eib string, a entry.Actor) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.purges = append(f.purges, deletion{eib, a.Owner, a.Admin, a.As})
	return f.trashErr
}

func (f *fakeGallery) EmptyTrash(ctx context.Context, owner string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.empties = append(f.empties, owner)
	return 0, f.trashErr
}

func (f *fakeGallery) TrashPage(ctx context.Context, owner, cursor string) (projections.Page, error) {
	var p projections.Page
	for _, row := range f.rows {
		if row.InTrash() && row.Owner == owner {
			p.Entries = append(p.Entries, row)
		}
	}
	return p, nil
}

func (f *fakeGallery) EntryFor(ctx context.Context, eib, viewer string) (projections.Entry, []events.Event, error) {
	row, ok := f.rows[eib]
	if ok && row.InTrash() && row.Owner == viewer {
		return row, f.history[eib], nil
	}
	return f.Entry(ctx, eib)
}

func (f *fakeGallery) Delete(ctx context.Context, eib string, a entry.Actor) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deletes = append(f.deletes, deletion{eib, a.Owner, a.Admin, a.As})
	return f.deleteErr
}

func (f *fakeGallery) Erase(ctx context.Context, eib string, a entry.Actor, reason string) (events.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.erasures = append(f.erasures, erasure{eib, a, reason})
	return events.Event{}, f.eraseErr
}

func (f *fakeGallery) Report(ctx context.Context, in gallery.ReportInput) error { return f.eraseErr }

func (f *fakeGallery) Queue(ctx context.Context, before string, limit int) ([]gallery.Reported, string, error) {
	return nil, "", nil
}

func (f *fakeGallery) Dismiss(ctx context.Context, eib, report string, a entry.Actor, reason string) error {
	return f.eraseErr
}

func (f *fakeGallery) Entry(ctx context.Context, eib string) (projections.Entry, []events.Event, error) {
	row, ok := f.rows[eib]
	if !ok || !row.Visible() {
		return projections.Entry{}, nil, apperr.New(apperr.NotFound, "There is no such entry. It may have been deleted.")
	}
	return row, f.history[eib], nil
}

func (f *fakeGallery) Lookup(ctx context.Context, eib string) (projections.Entry, error) {
	row, ok := f.rows[eib]
	if !ok {
		return row, projections.ErrNotFound
	}
	return row, nil
}

func (f *fakeGallery) Page(ctx context.Context, cursor string, limit int) (projections.Page, error) {
	if cursor == "bogus" {
		return projections.Page{}, apperr.New(apperr.Invalid, "That page link is not valid.")
	}
	return f.page, f.pageErr
}

func (f *fakeGallery) History(ctx context.Context, fl events.Filter, before string, limit int) ([]gallery.AuditRow, string, error) {
	return f.audit, "", nil
}

func (f *fakeGallery) Ready(ctx context.Context) error { return f.readyErr }

// noChanges is a change log the fake gallery does not keep: its head
// moves on every read, so no page is ever served from the page cache.
type noChanges struct{}

func (noChanges) Changes(ctx context.Context, after string, limit int) ([]projections.Change, error) {
	return nil, nil
}
func (noChanges) LastChange(ctx context.Context) (string, error) {
	return fmt.Sprint(time.Now().UnixNano()), nil
}

type site struct {
	fake    *fakeGallery
	handler http.Handler
	cookie  *http.Cookie // the visitor's owner cookie
	owner   string
}

func newSite(t *testing.T) *site {
	t.Helper()
	blobs, err := fileblob.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := newFake()
	s := &web.Server{
		Gallery: f, Blobs: blobs, Metrics: metrics.New(), Assets: static.New(),
		Owners: &web.Owners{Keys: [][]byte{[]byte("test key for owner cookies")}},
		Live:   live.NewHub(8), Changes: noChanges{}, Done: make(chan struct{}), Log: slog.New(slog.DiscardHandler),
	}
	st := &site{fake: f, handler: s.Handler()}
	// A first visit issues the owner cookie.
	res := st.do(t, httptest.NewRequest("GET", "/", nil))
	for _, c := range res.Result().Cookies() {
		if c.Name == "mediashare_owner" {
			st.cookie = c
			st.owner, _, _ = strings.Cut(c.Value, ".")
		}
	}
	if st.cookie == nil {
		t.Fatal("the first visit got no owner cookie")
	}
	return st
}

func (s *site) do(t *testing.T, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	if s.cookie != nil {
		r.AddCookie(s.cookie)
	}
	w := httptest.NewRecorder()
	s.handler.ServeHTTP(w, r)
	return w
}

func htmx(r *http.Request) *http.Request {
	r.Header.Set("HX-Request", "true")
	return r
}

func doc(t *testing.T, w *httptest.ResponseRecorder) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(bytes.NewReader(w.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func isFullPage(w *httptest.ResponseRecorder) bool {
	return strings.Contains(w.Body.String(), "<!doctype html>") || strings.Contains(w.Body.String(), "<!DOCTYPE html>")
}

type part struct{ name, filename, content string }

func multipartBody(t *testing.T, parts ...part) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.filename != "" {
			w, err = mw.CreateFormFile(p.name, p.filename)
		} else {
			w, err = mw.CreateFormField(p.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, p.content)
	}
	mw.Close()
	return &b, mw.FormDataContentType()
}

func post(t *testing.T, parts ...part) *http.Request {
	body, ct := multipartBody(t, parts...)
	r := httptest.NewRequest("POST", "/entries", body)
	r.Header.Set("Content-Type", ct)
	return r
}

func TestGalleryPageAndFragments(t *testing.T) {
	s := newSite(t)
	s.fake.page = projections.Page{Entries: []projections.Entry{
		{EIB: "01JDWEB0000000000000000001", Title: "Ready one", Status: projections.Ready, Thumbnail: "a.jpg-tn.png", ThumbWidth: 320, ThumbHeight: 240, Placeholder: "#102030"},
		{EIB: "01JDWEB0000000000000000002", Title: "Failed one", Status: projections.Failed},
		{EIB: "01JDWEB0000000000000000003", Title: "New one", Status: projections.Processing},
	}, Next: "c1"}

	tests := []struct {
		name     string
		req      *http.Request
		code     int
		full     bool
		cards    int
		errorMsg string
	}{
		{"the whole page", httptest.NewRequest("GET", "/", nil), 200, true, 3, ""},
		{"the next cards for htmx", htmx(httptest.NewRequest("GET", "/?after=c0", nil)), 200, false, 3, ""},
		{"a history restore is a whole page", func() *http.Request {
			r := htmx(httptest.NewRequest("GET", "/?after=c0", nil))
			r.Header.Set("HX-History-Restore-Request", "true")
			return r
		}(), 200, true, 3, ""},
		{"a page link we did not make", htmx(httptest.NewRequest("GET", "/?after=bogus", nil)), 400, true, 0, "That page link is not valid."},
		{"a page link we did not make, without htmx", httptest.NewRequest("GET", "/?after=bogus", nil), 400, true, 0, "That page link is not valid."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := s.do(t, tt.req)
			if w.Code != tt.code {
				t.Fatalf("status: got %d, want %d; body %s", w.Code, tt.code, w.Body)
			}
			if got := isFullPage(w); got != tt.full {
				t.Errorf("whole page: got %v, want %v", got, tt.full)
			}
			d := doc(t, w)
			if got := d.Find(`[data-testid=card]`).Length(); got != tt.cards {
				t.Errorf("cards: got %d, want %d", got, tt.cards)
			}
			if tt.errorMsg != "" {
				if got := strings.TrimSpace(d.Find(`[data-testid=error-message]`).Text()); got != tt.errorMsg {
					t.Errorf("message: got %q, want %q", got, tt.errorMsg)
				}
				return
			}
			if !strings.Contains(w.Header().Get("Vary"), "HX-Request") {
				t.Errorf("Vary: got %q, want HX-Request in it", w.Header().Get("Vary"))
			}
			statuses := d.Find(`[data-testid=card]`).Map(func(_ int, c *goquery.Selection) string { v, _ := c.Attr("data-status"); return v })
			if got, want := strings.Join(statuses, ","), "ready,failed,processing"; got != want {
				t.Errorf("card statuses: got %s, want %s", got, want)
			}
			if d.Find(`[data-testid=thumbnail]`).Length() != 1 || d.Find(`[data-testid=failed]`).Length() != 1 || d.Find(`[data-testid=processing]`).Length() != 1 {
				t.Errorf("each card should show its state: %s", w.Body)
			}
			if href, _ := d.Find(`[data-testid=more]`).Attr("href"); href != "/?after=c1" {
				t.Errorf("more link: got %q", href)
			}
		})
	}
}

func TestEveryRenderedFormHasAFreshRequestID(t *testing.T) {
	s := newSite(t)
	seen := map[string]bool{}
	for i, req := range []*http.Request{
		httptest.NewRequest("GET", "/", nil),
		httptest.NewRequest("GET", "/", nil),
		htmx(post(t, part{"title", "", ""}, part{"comment", "", "c"}, part{"file", "a.jpg", "x"})),  // refused: the form again
		htmx(post(t, part{"title", "", "t"}, part{"comment", "", "c"}, part{"file", "a.jpg", "x"})), // accepted: a fresh form
	} {
		if i == 2 {
			s.fake.uploadErr = func(in gallery.UploadInput) error {
				if in.Title == "" {
					return apperr.FieldError(apperr.Invalid, "title", "Please give the image a title.")
				}
				return nil
			}
		}
		w := s.do(t, req)
		id, ok := doc(t, w).Find(`input[name=request]`).Attr("value")
		if !ok || !ids.Valid(id) {
			t.Fatalf("render %d (status %d): request id %q is not an id", i, w.Code, id)
		}
		if seen[id] {
			t.Errorf("render %d reused request id %s", i, id)
		}
		seen[id] = true
	}
}

func TestUpload(t *testing.T) {
	good := []part{{"title", "", " Harbour "}, {"comment", "", "at dawn"}, {"request", "", "01JDREQUEST000000000000001"}, {"file", "harbour.jpg", "jpeg bytes"}}
	tests := []struct {
		name      string
		req       func(t *testing.T) *http.Request
		uploadErr error
		code      int
		location  string
		full      bool
		message   string
		field     string
		uploads   int
	}{
		{name: "htmx: the fresh form and the new card", req: func(t *testing.T) *http.Request { return htmx(post(t, good...)) }, code: 201, uploads: 1},
		{name: "a plain form: back to the gallery", req: func(t *testing.T) *http.Request { return post(t, good...) }, code: 303, location: "/", uploads: 1},
		{name: "the service refuses a field", req: func(t *testing.T) *http.Request { return htmx(post(t, good...)) },
			uploadErr: apperr.FieldError(apperr.Unsupported, "file", "Only JPEG, PNG, GIF and WebP images can be uploaded."), code: 415,
			message: "Only JPEG, PNG, GIF and WebP images can be uploaded.", field: "file"},
		{name: "the service refuses, without htmx: the whole gallery with the message", req: func(t *testing.T) *http.Request { return post(t, good...) },
			uploadErr: apperr.FieldError(apperr.Invalid, "title", "Please give the image a title."), code: 400, full: true,
			message: "Please give the image a title.", field: "title"},
		{name: "our own failure says so safely", req: func(t *testing.T) *http.Request { return htmx(post(t, good...)) },
			uploadErr: errors.New("disk on fire at /var/lib/x"), code: 500, message: "Something went wrong on our side. Please try again."},
		{name: "a body over the request limit", req: func(t *testing.T) *http.Request {
			r := htmx(post(t, good...))
			r.ContentLength = 1 << 30
			return r
		}, code: 413, message: "The upload is larger than the 4 KB limit for one request; send fewer files at once.", field: "file"},
		{name: "a body that is not multipart", req: func(t *testing.T) *http.Request {
			r := htmx(httptest.NewRequest("POST", "/entries", strings.NewReader("title=x")))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, code: 400, message: "The upload could not be read. Please choose the file again.", field: "file"},
		{name: "a truncated multipart body", req: func(t *testing.T) *http.Request {
			body, ct := multipartBody(t, good...)
			r := htmx(httptest.NewRequest("POST", "/entries", bytes.NewReader(body.Bytes()[:body.Len()/2])))
			r.Header.Set("Content-Type", ct)
			return r
		}, code: 400, message: "The upload could not be read. Please choose the file again.", field: "file"},
		{name: "too many files", req: func(t *testing.T) *http.Request {
			return htmx(post(t, part{"comment", "", "c"}, part{"file", "1.jpg", "1"}, part{"file", "2.jpg", "2"}, part{"file", "3.jpg", "3"}, part{"file", "4.jpg", "4"}))
		}, code: 400, message: "Send at most 3 files at once.", field: "file"},
		{name: "several files and no comment", req: func(t *testing.T) *http.Request {
			return htmx(post(t, part{"file", "1.jpg", "1"}, part{"file", "2.jpg", "2"}))
		}, code: 400, message: "Please write a comment.", field: "comment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSite(t)
			if tt.uploadErr != nil {
				s.fake.uploadErr = func(gallery.UploadInput) error { return tt.uploadErr }
			}
			w := s.do(t, tt.req(t))
			if w.Code != tt.code {
				t.Fatalf("status: got %d, want %d; body %s", w.Code, tt.code, w.Body)
			}
			if got := w.Header().Get("Location"); got != tt.location {
				t.Errorf("Location: got %q, want %q", got, tt.location)
			}
			if got := len(s.fake.uploads); got != tt.uploads {
				t.Errorf("uploads stored: got %d, want %d", got, tt.uploads)
			}
			if tt.code == 303 {
				return
			}
			if got := isFullPage(w); got != tt.full {
				t.Errorf("whole page: got %v, want %v", got, tt.full)
			}
			d := doc(t, w)
			if tt.message != "" {
				e := d.Find(`[data-testid=form-error]`)
				if got := strings.TrimSpace(e.Text()); got != tt.message {
					t.Errorf("message: got %q, want %q", got, tt.message)
				}
				if got, _ := e.Attr("data-field"); got != tt.field {
					t.Errorf("field: got %q, want %q", got, tt.field)
				}
				if strings.Contains(w.Body.String(), "disk on fire") {
					t.Error("an internal error reached the page")
				}
				return
			}
			// Accepted with htmx: a fresh form with a notice, and the card out of band.
			if got := strings.TrimSpace(d.Find(`[data-testid=form-notice]`).Text()); got != "Uploaded “Harbour”. The preview is on its way." {
				t.Errorf("notice: got %q", got)
			}
			if v, _ := d.Find(`#title`).Attr("value"); v != "" {
				t.Errorf("the fresh form kept the title %q", v)
			}
			card := d.Find(`[hx-swap-oob="afterbegin:#cards"] [data-testid=card]`)
			if card.Length() != 1 || card.AttrOr("data-status", "") != "processing" {
				t.Errorf("no processing card put in front of the gallery: %s", w.Body)
			}
			up := s.fake.uploads[0]
			if up.in.Owner != s.owner || up.in.RequestID != "01JDREQUEST000000000000001" || up.in.Filename != "harbour.jpg" || up.body != "jpeg bytes" || up.in.Title != " Harbour " {
				t.Errorf("the service got %+v %q", up.in, up.body)
			}
		})
	}
}

func TestSeveralFilesReportEachFile(t *testing.T) {
	s := newSite(t)
	s.fake.uploadErr = func(in gallery.UploadInput) error {
		if in.Filename == "bad.gif" {
			return apperr.FieldError(apperr.Unsupported, "file", "That file is not an image we accept.")
		}
		return nil
	}
	w := s.do(t, htmx(post(t, part{"comment", "", "c"}, part{"request", "", "01JDREQUEST000000000000002"}, part{"file", "good_one.jpg", "1"}, part{"file", "bad.gif", "2"})))
	if w.Code != 200 {
		t.Fatalf("status: got %d, want 200 (some uploaded); body %s", w.Code, w.Body)
	}
	d := doc(t, w)
	if got := d.Find(`[data-testid=file-ok]`).AttrOr("data-file", ""); got != "good_one.jpg" {
		t.Errorf("ok file: got %q", got)
	}
	if got := strings.TrimSpace(d.Find(`[data-testid=file-error]`).Text()); got != "bad.gif: That file is not an image we accept." {
		t.Errorf("file error: got %q", got)
	}
	if len(s.fake.uploads) != 1 || s.fake.uploads[0].in.Title != "good one" || s.fake.uploads[0].in.Index != 0 {
		t.Errorf("uploads: %+v", s.fake.uploads)
	}
}

func TestCrossOriginRequestsAreRefused(t *testing.T) {
	for _, tt := range []struct {
		name   string
		req    func(t *testing.T) *http.Request
		header map[string]string
	}{
		{"an upload from another site", func(t *testing.T) *http.Request {
			return post(t, part{"title", "", "t"}, part{"comment", "", "c"}, part{"file", "a.jpg", "x"})
		},
			map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"an upload with a foreign origin", func(t *testing.T) *http.Request {
			return post(t, part{"title", "", "t"}, part{"comment", "", "c"}, part{"file", "a.jpg", "x"})
		},
			map[string]string{"Origin": "https://evil.example"}},
		{"a delete from another site", func(t *testing.T) *http.Request {
			return httptest.NewRequest("DELETE", "/entries/01JDWEB0000000000000000001", nil)
		},
			map[string]string{"Sec-Fetch-Site": "cross-site", "HX-Request": "true"}},
		{"a plain delete form from another site", func(t *testing.T) *http.Request {
			return httptest.NewRequest("POST", "/entries/01JDWEB0000000000000000001/delete", nil)
		}, map[string]string{"Sec-Fetch-Site": "same-site"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSite(t)
			r := tt.req(t)
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			w := s.do(t, r)
			if w.Code != http.StatusForbidden {
				t.Fatalf("status: got %d, want 403", w.Code)
			}
			if got := strings.TrimSpace(doc(t, w).Find(`[data-testid=error-message]`).Text()); got != "This request came from another site and was refused." {
				t.Errorf("message: got %q", got)
			}
			if len(s.fake.uploads) != 0 || len(s.fake.deletes) != 0 {
				t.Errorf("a refused request reached the service: %+v %+v", s.fake.uploads, s.fake.deletes)
			}
		})
	}
	// The same requests from the site itself pass.
	s := newSite(t)
	r := post(t, part{"title", "", "t"}, part{"comment", "", "c"}, part{"file", "a.jpg", "x"})
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	if w := s.do(t, r); w.Code != 303 || len(s.fake.uploads) != 1 {
		t.Errorf("a same-origin upload: got %d with %d uploads, want 303 and 1", w.Code, len(s.fake.uploads))
	}
}

func TestDelete(t *testing.T) {
	const eib = "01JDWEB0000000000000000001"
	for _, tt := range []struct {
		name     string
		req      *http.Request
		err      error
		code     int
		location string
		hxTarget string
		message  string
	}{
		{"htmx: the page goes back to the gallery", htmx(httptest.NewRequest("DELETE", "/entries/"+eib, nil)), nil, 200, "", "/", ""},
		{"a plain form", httptest.NewRequest("POST", "/entries/"+eib+"/delete", nil), nil, 303, "/", "", ""},
		{"not the owner", htmx(httptest.NewRequest("DELETE", "/entries/"+eib, nil)), apperr.New(apperr.Forbidden, "You can only delete your own uploads."), 403, "", "", "You can only delete your own uploads."},
		{"already deleted", httptest.NewRequest("POST", "/entries/"+eib+"/delete", nil), apperr.New(apperr.NotFound, "This entry has already been deleted."), 404, "", "", "This entry has already been deleted."},
		{"a store failure", httptest.NewRequest("POST", "/entries/"+eib+"/delete", nil), errors.New("dynamodb: throttled"), 500, "", "", "Something went wrong on our side. Please try again."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSite(t)
			s.fake.deleteErr = tt.err
			w := s.do(t, tt.req)
			if w.Code != tt.code {
				t.Fatalf("status: got %d, want %d; body %s", w.Code, tt.code, w.Body)
			}
			if got := w.Header().Get("Location"); got != tt.location {
				t.Errorf("Location: got %q, want %q", got, tt.location)
			}
			if got := w.Header().Get("HX-Redirect"); got != tt.hxTarget {
				t.Errorf("HX-Redirect: got %q, want %q", got, tt.hxTarget)
			}
			if want := []deletion{{eib, s.owner, false, ""}}; len(s.fake.deletes) != 1 || s.fake.deletes[0] != want[0] {
				t.Errorf("deletes: got %+v, want %+v (the cookie's owner, never an admin)", s.fake.deletes, want)
			}
			if tt.message != "" {
				if got := strings.TrimSpace(doc(t, w).Find(`[data-testid=error-message]`).Text()); got != tt.message {
					t.Errorf("message: got %q, want %q", got, tt.message)
				}
			}
		})
	}
	// A forged owner cookie is not the owner: nothing is deleted (403
	// with the message), and the cookie is neither honoured nor replaced
	// (a key rotated out too early must not cost anyone their rights).
	s := newSite(t)
	r := httptest.NewRequest("POST", "/entries/"+eib+"/delete", nil)
	r.AddCookie(&http.Cookie{Name: "mediashare_owner", Value: s.owner + ".forgedsignature"})
	w := httptest.NewRecorder()
	s.handler.ServeHTTP(w, r)
	if len(s.fake.deletes) != 0 || w.Code != http.StatusForbidden {
		t.Errorf("a forged cookie: %d, deleted %+v; want 403 and nothing deleted", w.Code, s.fake.deletes)
	}
	if msg := doc(t, w).Find(`[data-testid=error-message]`).Text(); !strings.Contains(msg, "could not be verified") {
		t.Errorf("a forged cookie: message %q", msg)
	}
	if cs := w.Result().Cookies(); len(cs) != 0 {
		t.Errorf("a forged cookie was replaced: %+v", cs)
	}
}

// entryWith puts an entry owned by owner, and its history, in the fake.
func entryWith(t *testing.T, f *fakeGallery, eib, owner string, extra ...events.Event) {
	t.Helper()
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	up, err := events.New("e1", events.MediaUploaded, eib, at, events.OwnerActor(owner), events.Uploaded{
		Title: "Harbour", Comment: "at dawn", MediaType: "image", ContentType: "image/jpeg", Size: 2048, Width: 640, Height: 480, Original: eib + ".jpg", Owner: owner,
	})
	if err != nil {
		t.Fatal(err)
	}
	up.Version = 1
	f.history[eib] = append([]events.Event{up}, extra...)
	row := projections.Entry{}
	for _, e := range f.history[eib] {
		if row, _, err = projections.Apply(context.Background(), nil, row, e); err != nil {
			t.Fatal(err)
		}
	}
	f.rows[eib] = row
}

func event(t *testing.T, v int, typ events.Type, eib string, actor events.Actor, p any) events.Event {
	t.Helper()
	e, err := events.New(fmt.Sprintf("e%d", v), typ, eib, time.Date(2026, 12, 1, 10, 0, v, 0, time.UTC), actor, p)
	if err != nil {
		t.Fatal(err)
	}
	e.Version = v
	return e
}

func TestEntryPageShowsDeleteToItsOwnerOnly(t *testing.T) {
	s := newSite(t)
	const mine, theirs = "01JDWEB0000000000000000001", "01JDWEB0000000000000000002"
	entryWith(t, s.fake, mine, s.owner, event(t, 2, events.ThumbnailFailed, mine, events.SystemActor, entry.FailureOf(entry.DecodeFailed).Payload()))
	entryWith(t, s.fake, theirs, "someone-else", event(t, 2, events.ThumbnailFailed, theirs, events.SystemActor, events.ThumbnailFailure{Reason: "could not make a preview: old words"}))
	for _, tt := range []struct {
		eib      string
		canDel   bool
		failText string
	}{{mine, true, "The image could not be decoded."}, {theirs, false, "could not make a preview: old words"}} {
		w := s.do(t, httptest.NewRequest("GET", "/entries/"+tt.eib, nil))
		if w.Code != 200 {
			t.Fatalf("%s: status %d", tt.eib, w.Code)
		}
		d := doc(t, w)
		if got := d.Find(`[data-testid=delete-form]`).Length() == 1; got != tt.canDel {
			t.Errorf("%s: delete form shown: got %v, want %v", tt.eib, got, tt.canDel)
		}
		if got := d.Find(`[data-testid=status]`).Text(); got != "no preview" {
			t.Errorf("%s: status label %q", tt.eib, got)
		}
		rows := d.Find(`[data-testid=event]`)
		if rows.Length() != 2 {
			t.Fatalf("%s: history rows %d, want 2", tt.eib, rows.Length())
		}
		cells := rows.First().Find("td").Map(func(_ int, c *goquery.Selection) string { return c.Text() })
		if want := `"Harbour", image/jpeg, 2 KB, 640 × 480 px`; cells[4] != want {
			t.Errorf("%s: upload details: got %q, want %q", tt.eib, cells[4], want)
		}
		if got := rows.Eq(1).Find("td").Eq(4).Text(); got != tt.failText {
			t.Errorf("%s: failure details: got %q, want %q", tt.eib, got, tt.failText)
		}
		if got := rows.Eq(1).Find("td").Eq(3).Text(); got != "system" {
			t.Errorf("%s: who: got %q", tt.eib, got)
		}
	}
	// Gone or never there: a 404 page with its message; the card answers empty.
	for _, eib := range []string{"01JDWEB0000000000000000009", "not-an-id", "..%2F..%2Fetc%2Fpasswd"} {
		w := s.do(t, httptest.NewRequest("GET", "/entries/"+eib, nil))
		if w.Code != 404 || !strings.Contains(doc(t, w).Find(`[data-testid=error-message]`).Text(), "There is no such entry") {
			t.Errorf("%s: got %d %s", eib, w.Code, w.Body)
		}
	}
	if w := s.do(t, htmx(httptest.NewRequest("GET", "/entries/01JDWEB0000000000000000009/card", nil))); w.Code != 200 || w.Body.Len() != 0 {
		t.Errorf("the card of a gone entry: got %d %q, want 200 and nothing", w.Code, w.Body)
	}
	if w := s.do(t, htmx(httptest.NewRequest("GET", "/entries/"+mine+"/card", nil))); w.Code != 200 || doc(t, w).Find(`[data-testid=card][data-status=failed]`).Length() != 1 {
		t.Errorf("the card of an entry: got %d %s", w.Code, w.Body)
	}
}

func TestHistory(t *testing.T) {
	s := newSite(t)
	const eib = "01JDWEB0000000000000000001"
	del := event(t, 3, events.MediaDeleted, eib, events.OwnerActor("abcdefghijklmnop"), events.Deleted{Reason: "owner"})
	del.Position = "p3"
	purged := event(t, 4, events.MediaPurged, eib, events.SystemActor, events.Purged{Keys: []string{"a", "b"}})
	s.fake.audit = []gallery.AuditRow{{Event: purged, Title: "Harbour"}, {Event: del, Title: "Harbour"}}
	w := s.do(t, httptest.NewRequest("GET", "/history", nil))
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	d := doc(t, w)
	details := d.Find(`[data-testid=event]`).Map(func(_ int, r *goquery.Selection) string { return r.Find("td").Eq(5).Text() })
	if got, want := strings.Join(details, "|"), "2 files removed|by owner"; got != want {
		t.Errorf("details: got %q, want %q", got, want)
	}
	if got := d.Find(`[data-testid=event]`).Eq(1).Find("td").Eq(4).Text(); got != "owner abcdefgh" {
		t.Errorf("who: got %q", got)
	}
	if got := d.Find(`[data-testid=event]`).Eq(1).AttrOr("data-position", ""); got != "p3" {
		t.Errorf("position: got %q", got)
	}
	if got := d.Find(`[data-testid=entry-link]`).Length(); got != 0 {
		t.Errorf("a gone entry is linked %d times", got)
	}
	options := d.Find(`select#type option`).Map(func(_ int, o *goquery.Selection) string { return o.AttrOr("value", "") })
	if got, want := strings.Join(options, ","), ",MediaUploaded,ThumbnailGenerated,ThumbnailFailed,PreviewGenerated,MediaTrashed,MediaRestored,MediaDeleted,MediaPurged,EntryClaimed,"+
		"MediaErased,EntryReported,ReportDismissed"; got != want { // a visitor: no account types
		t.Errorf("type filter options: got %s, want %s", got, want)
	}

	for _, tt := range []struct{ url, message string }{
		{"/history?type=Bogus", `There is no event type "Bogus".`},
		{"/history?type=%3Cscript%3E", `There is no event type "<script>".`},
		{"/history?entry=..%2F..", `"../.." is not an entry id.`},
	} {
		w := s.do(t, httptest.NewRequest("GET", tt.url, nil))
		if w.Code != 400 {
			t.Errorf("%s: status %d, want 400", tt.url, w.Code)
		}
		if got := strings.TrimSpace(doc(t, w).Find(`[data-testid=error-message]`).Text()); got != tt.message {
			t.Errorf("%s: message %q, want %q", tt.url, got, tt.message)
		}
		if strings.Contains(w.Body.String(), "<script>") {
			t.Errorf("%s: the filter reached the page unescaped", tt.url)
		}
	}
	w = s.do(t, httptest.NewRequest("GET", "/history.ndjson?type=Bogus", nil))
	if w.Code != 400 || !strings.Contains(w.Body.String(), "There is no event type") {
		t.Errorf("ndjson with a bad filter: got %d %q", w.Code, w.Body)
	}
	w = s.do(t, httptest.NewRequest("GET", "/history.ndjson", nil))
	var recs []events.Record
	for _, line := range strings.Split(strings.TrimSpace(w.Body.String()), "\n") {
		var r events.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("ndjson line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 2 || recs[0].Type != events.MediaPurged || recs[1].Position != "p3" {
		t.Errorf("ndjson: got %+v", recs)
	}
}

func TestReadyAndUnknownRoutes(t *testing.T) {
	s := newSite(t)
	if w := s.do(t, httptest.NewRequest("GET", "/readyz", nil)); w.Code != 200 {
		t.Errorf("readyz: got %d, want 200", w.Code)
	}
	s.fake.readyErr = errors.New("sqlite: disk I/O error")
	// /readyz answers from a check at most a second old.
	w := s.do(t, httptest.NewRequest("GET", "/readyz", nil))
	for deadline := time.Now().Add(5 * time.Second); w.Code == 200 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		w = s.do(t, httptest.NewRequest("GET", "/readyz", nil))
	}
	if w.Code != 503 || strings.Contains(w.Body.String(), "disk") {
		t.Errorf("readyz with a store down: got %d %q, want 503 without the cause", w.Code, w.Body)
	}
	w = s.do(t, httptest.NewRequest("GET", "/no/such/page", nil))
	if w.Code != 404 || strings.TrimSpace(doc(t, w).Find(`[data-testid=error-message]`).Text()) != "There is nothing at this address." {
		t.Errorf("unknown path: got %d %s", w.Code, w.Body)
	}
	for _, key := range []string{"..%2Fsecret.key", "%2Fetc%2Fpasswd", "nope.jpg"} {
		if w := s.do(t, httptest.NewRequest("GET", "/media/"+key, nil)); w.Code != 404 {
			t.Errorf("media %s: got %d, want 404", key, w.Code)
		}
	}
}

func TestRenderChange(t *testing.T) {
	s := newSite(t)
	const eib = "01JDWEB0000000000000000001"
	entryWith(t, s.fake, eib, "o")
	srv := &web.Server{Gallery: s.fake}
	m, err := srv.RenderChange(context.Background(), projections.Change{Position: "7", EIB: eib, Version: 1})
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != "7" || !strings.Contains(m.Data, `data-status="processing"`) || !strings.Contains(m.Data, `hx-swap-oob="true"`) {
		t.Errorf("a live card: got %+v", m)
	}
	row := s.fake.rows[eib]
	row.Status, row.Version = projections.Deleted, 2
	s.fake.rows[eib] = row
	m, err = srv.RenderChange(context.Background(), projections.Change{Position: "8", EIB: eib, Version: 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := `<div id="entry-` + eib + `" hx-swap-oob="delete"></div>`; m.Data != want {
		t.Errorf("a deleted entry's live message: got %q, want %q", m.Data, want)
	}
}
