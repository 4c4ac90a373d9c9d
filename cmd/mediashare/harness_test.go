package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"mediashare/internal/awsbackend"
	"mediashare/internal/awstest"
	"mediashare/internal/entry"
	"mediashare/internal/events"
	eventsqlite "mediashare/internal/events/sqlite"
	"mediashare/internal/sqlitedb"
)

// site is a running `mediashare serve` on a free port with its own data.
type site struct {
	app  *app
	t    testing.TB
	url  string
	data string
	cfg  config
	stop func()

	awsEvents events.Store // opened on first use by events()
}

// defaultConfig is serve's configuration with no flags, on a free port
// with its own data directory.
func defaultConfig(t testing.TB) config {
	t.Helper()
	var c config
	fs := newFlagSet("serve", &c)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	c.Addr, c.Data = "127.0.0.1:0", t.TempDir()
	c.ShutdownTimeout = 10 * time.Second
	// Every request of a test comes from loopback, one client: the
	// limits per client stay off here (benchmarks upload b.N times and
	// open many streams); the abuse suite turns them on.
	c.UploadsPerMinute, c.LivePerClient = 0, 0
	// The tests written before accounts are about anonymous visitors
	// (owner cookies) and run as the original lab did; the account tests
	// (accounts_test.go) set members, the default.
	c.Uploads = "anyone"
	return c
}

// awsConfig points c at fresh tables and a fresh bucket in the moto
// server, made by `mediashare setup`.
func awsConfig(t testing.TB, c *config) {
	t.Helper()
	endpoint := awstest.Moto(t)
	c.Backend = "aws"
	c.AWS = awsbackend.Config{
		Bucket: strings.ToLower(awstest.Name("media")), Table: awstest.Name("entries"), EventsTable: awstest.Name("events"),
		Region: awstest.Region, Endpoint: endpoint, PathStyle: true,
	}
	c.AWSLeaseDuration = 3 * time.Second
	// moto has no GetRecords limit: the previews need not wait 2 s on
	// an idle shard.
	c.AWSPreviewPoll = 200 * time.Millisecond
	c.AWS.LeaseDuration = c.AWSLeaseDuration
	secret := filepath.Join(t.TempDir(), "secret.key")
	if err := os.WriteFile(secret, []byte("a shared test key of 32 bytes!!!"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.SecretFile = secret
	if err := awsbackend.Setup(context.Background(), c.AWS); err != nil {
		t.Fatalf("setup: %v", err)
	}
}

// backends runs fn once per storage backend: embedded, and AWS on moto.
func backends(t *testing.T, fn func(t *testing.T, start func(mutate func(*config)) *site)) {
	t.Run("embedded", func(t *testing.T) { fn(t, func(m func(*config)) *site { return startSite(t, m) }) })
	t.Run("aws", func(t *testing.T) {
		fn(t, func(m func(*config)) *site {
			return startSite(t, func(c *config) {
				awsConfig(t, c)
				if m != nil {
					m(c)
				}
			})
		})
	})
}

func startSite(t testing.TB, mutate func(*config)) *site {
	t.Helper()
	c := defaultConfig(t)
	if mutate != nil {
		mutate(&c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	listening := make(chan string, 1)
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	a, err := newApp(ctx, c, log)
	if err != nil {
		t.Fatalf("newApp: %v", err)
	}
	go func() { done <- a.run(ctx, listening) }()
	var addr string
	select {
	case addr = <-listening:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start listening")
	}
	s := &site{t: t, url: "http://" + addr, data: c.Data, app: a, cfg: c}
	stopped := false
	s.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v after shutdown", err)
		}
	}
	t.Cleanup(s.stop)
	return s
}

// browser is an HTTP client with its own cookies (its own owner id),
// which does not follow redirects so that tests see them.
func browser(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 60 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

type part struct {
	name, filename, contentType string
	data                        []byte
}

func multipartBody(t testing.TB, parts []part) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p.filename != "" || p.contentType != "" {
			h.Set("Content-Disposition", `form-data; name="`+p.name+`"; filename="`+p.filename+`"`)
			h.Set("Content-Type", p.contentType)
		} else {
			h.Set("Content-Disposition", `form-data; name="`+p.name+`"`)
		}
		pw, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		pw.Write(p.data)
	}
	w.Close()
	return &buf, w.FormDataContentType()
}

func uploadParts(title, comment, filename, contentType string, data []byte) []part {
	ps := []part{{name: "title", data: []byte(title)}, {name: "comment", data: []byte(comment)}}
	if data != nil || filename != "" {
		ps = append(ps, part{name: "file", filename: filename, contentType: contentType, data: data})
	}
	return ps
}

func (s *site) post(c *http.Client, path string, parts []part, htmx bool) *http.Response {
	s.t.Helper()
	body, ct := multipartBody(s.t, parts)
	req, _ := http.NewRequest("POST", s.url+path, body)
	req.Header.Set("Content-Type", ct)
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatalf("POST %s: %v", path, err)
	}
	return resp
}

func (s *site) do(c *http.Client, method, path string, header map[string]string) *http.Response {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.url+path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

func (s *site) get(c *http.Client, path string) *http.Response { return s.do(c, "GET", path, nil) }

func mustDoc(t testing.TB, resp *http.Response) *goquery.Document {
	t.Helper()
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func readBody(t testing.TB, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cards returns the gallery's cards by eib with their status.
func (s *site) cards(c *http.Client) map[string]*goquery.Selection {
	s.t.Helper()
	resp := s.get(c, "/")
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("GET / = %d", resp.StatusCode)
	}
	out := map[string]*goquery.Selection{}
	mustDoc(s.t, resp).Find(`[data-testid=card]`).Each(func(_ int, sel *goquery.Selection) {
		out[sel.AttrOr("data-eib", "")] = sel
	})
	return out
}

// waitStatus polls the gallery until the entry's card has the status.
func (s *site) waitStatus(c *http.Client, eib, status string) *goquery.Selection {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		card := s.cards(c)[eib]
		if card != nil && card.AttrOr("data-status", "") == status {
			if status != "ready" {
				return card
			}
			// The preview follows the grid thumbnail at a lower
			// priority: tests go on once both are made and in the view
			// (the card's srcset names it), so that the streams and pages
			// they check are the same every run.
			if !s.waitPreview(eib) {
				return card
			}
			for ; time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				if card := s.cards(c)[eib]; card != nil && card.Find(`img[data-testid=thumbnail]`).AttrOr("srcset", "") != "" {
					return card
				}
			}
			s.t.Fatalf("entry %s: its preview is recorded but not in the view after 60 s", eib)
		}
		if time.Now().After(deadline) {
			got := "no card"
			if card != nil {
				got = card.AttrOr("data-status", "")
			}
			s.t.Fatalf("entry %s: status %q after 60 s, want %q", eib, got, status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitPreview waits until the entry's preview is made (or not wanted:
// a small original, an entry gone or failed), as its events say, and
// reports whether there is one.
func (s *site) waitPreview(eib string) bool {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var stream []events.Event
		for _, e := range s.events() {
			if e.Stream == eib {
				stream = append(stream, e)
			}
		}
		slices.SortFunc(stream, func(a, b events.Event) int { return a.Version - b.Version })
		e, err := entry.Fold(stream)
		if err != nil {
			s.t.Fatal(err)
		}
		if !e.NeedsPreview() {
			_, has := e.Preview()
			return has
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("entry %s: no preview after 60 s (%s)", eib, streamTypes(stream, eib))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// events reads the site's event log straight from its storage.
func (s *site) events() []events.Event {
	s.t.Helper()
	if s.cfg.Backend == "aws" {
		if s.awsEvents == nil {
			be, err := awsbackend.Open(context.Background(), s.cfg.AWS, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				s.t.Fatal(err)
			}
			s.awsEvents = be.Events
		}
		evs, _, err := s.awsEvents.ReadAll(context.Background(), "", 100000)
		if err != nil {
			s.t.Fatal(err)
		}
		return evs
	}
	db, err := sqlitedb.Open(filepath.Join(s.data, "mediashare.db"))
	if err != nil {
		s.t.Fatal(err)
	}
	defer db.Close()
	return readEvents(s.t, db)
}

func readEvents(t testing.TB, db *sql.DB) []events.Event {
	t.Helper()
	store, err := eventsqlite.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	evs, _, err := store.ReadAll(context.Background(), "", 100000)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// mediaFiles lists the objects in the blob store (for the embedded
// backend, every file under its root, temporary and metadata files too).
func (s *site) mediaFiles() []string {
	s.t.Helper()
	var out []string
	if s.cfg.Backend == "aws" {
		client := s3.NewFromConfig(awstest.Config(s.t, s.cfg.AWS.Endpoint), func(o *s3.Options) { o.UsePathStyle = true })
		res, err := client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &s.cfg.AWS.Bucket})
		if err != nil {
			s.t.Fatal(err)
		}
		for _, o := range res.Contents {
			out = append(out, *o.Key)
		}
		return out
	}
	root := filepath.Join(s.data, "media")
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

func historyTypes(doc *goquery.Document) string {
	var out []string
	doc.Find(`[data-testid=event]`).Each(func(_ int, s *goquery.Selection) { out = append(out, s.AttrOr("data-type", "")) })
	return strings.Join(out, ",")
}

func streamTypes(evs []events.Event, stream string) string {
	var out []string
	for _, e := range evs {
		if e.Stream == stream {
			out = append(out, string(e.Type))
		}
	}
	return strings.Join(out, ",")
}

func waitFor(t testing.TB, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	awstest.Stop()
	os.Exit(code)
}
