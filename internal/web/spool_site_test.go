package web_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"mediashare/internal/blob/fileblob"
	"mediashare/internal/foreground"
	"mediashare/internal/gallery"
	"mediashare/internal/limits"
	"mediashare/internal/live"
	"mediashare/internal/metrics"
	"mediashare/internal/web"
	"mediashare/static"
)

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still not %s after 20s", what)
		}
	}
}

// newSpoolSite is a site with a real spool and a Foreground that a body of
// 1 KiB makes busy.
func newSpoolSite(t *testing.T, keep bool) (*fakeGallery, *web.Server, *limits.Spool) {
	t.Helper()
	blobs, err := fileblob.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	spool, err := limits.NewSpool(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	f := newFake()
	f.limits.MaxBytes, f.limits.MaxRequestBytes = 1<<20, 4<<20
	f.limits.KeepOriginalMetadata = keep
	s := &web.Server{
		Gallery: f, Blobs: blobs, Metrics: metrics.New(), Assets: static.New(),
		Owners: &web.Owners{Keys: [][]byte{[]byte("test key for owner cookies")}},
		Live:   live.NewHub(8), Changes: noChanges{}, Done: make(chan struct{}), Log: slog.New(slog.DiscardHandler),
		Spool: spool, Foreground: &foreground.Tracker{BusyBytes: 1 << 10},
	}
	return f, s, spool
}

// From the first bytes of an upload's body to its answer the foreground
// is busy; then it is not.
func TestUploadBodyMakesTheForegroundBusy(t *testing.T) {
	f, s, _ := newSpoolSite(t, false)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	content := strings.Repeat("x", 64<<10)
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	req, _ := http.NewRequest("POST", srv.URL+"/entries", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("HX-Request", "true")
	answered := make(chan *http.Response, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			close(answered)
			return
		}
		answered <- resp
	}()
	mw.WriteField("title", "t")
	mw.WriteField("comment", "c")
	fw, _ := mw.CreateFormFile("file", "a.jpg")
	io.WriteString(fw, content[:1000])
	eventually(t, "busy while the body streams", s.Foreground.Heavy)
	io.WriteString(fw, content[1000:])
	mw.Close()
	pw.Close()
	resp := <-answered
	if resp == nil {
		return
	}
	resp.Body.Close()
	if s.Foreground.Heavy() {
		t.Error("still busy after the upload was answered")
	}
	if len(f.uploads) != 1 || f.uploads[0].body != content {
		t.Fatalf("the gallery got %d uploads, want the one with its %d bytes", len(f.uploads), len(content))
	}
}

// The gallery is told where the spooled file lies, with the hash of its
// bytes when they are stored as they are; a scratch file it asks for is
// a spool file, removed with the request.
func TestUploadTellsTheGalleryOfTheSpool(t *testing.T) {
	for _, keep := range []bool{false, true} {
		f, s, spool := newSpoolSite(t, keep)
		content := strings.Repeat("photo bytes ", 5000)
		var scratchName string
		f.uploadErr = func(in gallery.UploadInput) error {
			sp := in.Spooled
			if sp == nil || !limits.IsSpoolFile(sp.Path) || !strings.HasPrefix(sp.Path, spool.Dir()) {
				t.Fatalf("keep=%v: Spooled %+v, want a file in the spool %s", keep, sp, spool.Dir())
			}
			if b, err := os.ReadFile(sp.Path); err != nil || string(b) != content {
				t.Errorf("keep=%v: the spooled file holds %d bytes (%v), want the %d sent", keep, len(b), err, len(content))
			}
			want := ""
			if keep {
				h := sha256.Sum256([]byte(content))
				want = hex.EncodeToString(h[:])
			}
			if sp.SHA256 != want {
				t.Errorf("keep=%v: SHA256 %q, want %q", keep, sp.SHA256, want)
			}
			sc, err := sp.Scratch()
			if err != nil {
				t.Fatalf("Scratch: %v", err)
			}
			scratchName = sc.Name()
			if !limits.IsSpoolFile(scratchName) {
				t.Errorf("the scratch file %s is not a spool file", scratchName)
			}
			if _, err := sc.Write([]byte("copy")); err != nil {
				t.Error(err)
			}
			return sc.Remove()
		}
		body, ct := multipartBody(t, part{"title", "", "T"}, part{"comment", "", "C"}, part{"file", "p.jpg", content})
		req := httptest.NewRequest("POST", "/entries", body)
		req.Header.Set("Content-Type", ct)
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, req)
		if w.Code != http.StatusSeeOther {
			t.Errorf("keep=%v: got %d %.200s, want 303", keep, w.Code, w.Body.String())
		}
		if left, _ := os.ReadDir(spool.Dir()); len(left) != 0 || spool.Used() != 0 {
			t.Errorf("keep=%v: the spool holds %v (%d bytes counted), want nothing", keep, left, spool.Used())
		}
		if _, err := os.Stat(scratchName); !os.IsNotExist(err) {
			t.Errorf("keep=%v: the scratch file is still there: %v", keep, err)
		}
	}
}

// A spool full while the gallery writes its copy is the 507 the page
// shows, with Retry-After, and nothing is left in the spool.
func TestScratchCopyOverTheSpoolCap(t *testing.T) {
	f, s, _ := newSpoolSite(t, false)
	spool, err := limits.NewSpool(t.TempDir(), 70_000)
	if err != nil {
		t.Fatal(err)
	}
	s.Spool = spool
	content := strings.Repeat("z", 60_000)
	f.uploadErr = func(in gallery.UploadInput) error {
		sc, err := in.Spooled.Scratch()
		if err != nil {
			return err
		}
		defer sc.Remove()
		_, err = sc.Write([]byte(content)) // 60 KB more than the 10 KB left
		return err
	}
	body, ct := multipartBody(t, part{"title", "", "T"}, part{"comment", "", "C"}, part{"file", "p.jpg", content})
	req := httptest.NewRequest("POST", "/entries", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("HX-Request", "true")
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	if w.Code != http.StatusInsufficientStorage || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "no room for more uploads") {
		t.Errorf("got %d (Retry-After %q) %.300s, want 507 with Retry-After and the spool's message", w.Code, w.Header().Get("Retry-After"), w.Body.String())
	}
	if left, _ := os.ReadDir(spool.Dir()); len(left) != 0 || spool.Used() != 0 {
		t.Errorf("the spool holds %v (%d bytes counted), want nothing", left, spool.Used())
	}
}
