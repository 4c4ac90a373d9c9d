package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"mediashare/internal/awstest"
	"mediashare/internal/events"
	"mediashare/internal/media/mediatest"
	"mediashare/internal/projections"
)

// personal is what one upload says about its uploader: a title, a
// comment and a file name, each unique to the test, so that a raw scan
// for their bytes finds only copies of them.
type personal struct{ title, comment, filename string }

func newPersonal(t *testing.T) personal {
	var b [6]byte
	rand.Read(b[:])
	tag := hex.EncodeToString(b[:])
	return personal{title: "Lighthouse title " + tag, comment: "A comment to erase " + tag, filename: "file-to-erase-" + tag + ".jpg"}
}

func (p personal) strings() []string { return []string{p.title, p.comment, p.filename} }

// uploadPersonal uploads Storm.jpg scaled to 640 px with p's fields and waits for its thumbnail.
func uploadPersonal(t *testing.T, s *site, c *http.Client, p personal) string {
	t.Helper()
	photo, err := os.ReadFile(mediatest.Scaled(t, "Storm.jpg", 640))
	if err != nil {
		t.Fatal(err)
	}
	before := s.cards(c)
	resp := s.post(c, "/entries", uploadParts(p.title, p.comment, p.filename, "image/jpeg", photo), false)
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	var eib string
	for k := range s.cards(c) {
		if before[k] == nil {
			eib = k
		}
	}
	if eib == "" {
		t.Fatal("the upload made no card")
	}
	s.waitStatus(c, eib, "ready")
	return eib
}

// errorMessage is the message an error page shows.
func errorMessage(t *testing.T, resp *http.Response) string {
	t.Helper()
	return strings.TrimSpace(mustDoc(t, resp).Find(`[data-testid=error-message]`).Text())
}

// Erasing over HTTP on each backend: a stranger cannot, bad forms are
// refused with nothing erased, the owner can; then the entry is out of
// the gallery and its page, the history shows the erasure and none of
// its personal fields, and raw scans of the storage find none of them
// and none of its files.
func TestEraseByOwnerLeavesNoCopy(t *testing.T) {
	backends(t, func(t *testing.T, start func(func(*config)) *site) {
		s := start(nil)
		alice, bob := browser(t), browser(t)
		p := newPersonal(t)
		eib := uploadPersonal(t, s, alice, p)
		keep := newPersonal(t)
		kept := uploadPersonal(t, s, bob, keep) // another owner: the same bytes make an entry of their own

		// Sealed at rest: the events hold none of the fields in the clear,
		// and every page still shows them.
		for _, e := range s.events() {
			for _, v := range p.strings() {
				if bytes.Contains(e.Data, []byte(v)) {
					t.Errorf("event %s v%d holds %q in the clear: %s", e.Type, e.Version, v, e.Data)
				}
			}
		}
		page := string(readBody(t, s.get(bob, "/entries/"+eib)))
		if !strings.Contains(page, p.title) || !strings.Contains(page, p.comment) {
			t.Error("the entry page does not show the title and comment")
		}
		if got := string(readBody(t, s.get(bob, "/history.ndjson?entry="+eib))); !strings.Contains(got, p.filename) {
			t.Errorf("the export does not show the file name: %s", got)
		}
		if doc := mustDoc(t, s.get(bob, "/entries/"+eib)); doc.Find(`[data-testid=erase-form]`).Length() != 0 {
			t.Error("a stranger is offered the erase form")
		}
		if doc := mustDoc(t, s.get(alice, "/entries/"+eib)); doc.Find(`[data-testid=erase-form]`).Length() != 1 {
			t.Error("the owner is not offered the erase form")
		}

		// Refused, each with its message, and nothing erased.
		for _, tt := range []struct {
			name   string
			c      *http.Client
			path   string
			form   url.Values
			status int
			msg    string
		}{
			{"a stranger", bob, "/entries/" + eib + "/erase", url.Values{"reason": {"mine now"}}, 403, "You can only erase your own uploads."},
			{"a reason too long", alice, "/entries/" + eib + "/erase", url.Values{"reason": {strings.Repeat("x", 501)}}, 400, "at most 500 characters"},
			{"a reason with control characters", alice, "/entries/" + eib + "/erase", url.Values{"reason": {"bad\x00reason"}}, 400, "control characters"},
			{"a reason that is not UTF-8", alice, "/entries/" + eib + "/erase", url.Values{"reason": {"\xff\xfe"}}, 400, "UTF-8"},
			{"a form too large", alice, "/entries/" + eib + "/erase", url.Values{"reason": {strings.Repeat("y", 20<<10)}}, 413, "larger than 16 KiB"},
			{"no such entry", alice, "/entries/01JDNOSUCHENTRY00000000000/erase", nil, 404, "There is no such entry."},
			{"not an entry id", alice, "/entries/..%2f..%2fetc/erase", nil, 404, ""},
		} {
			resp := s.postForm(tt.c, tt.path, tt.form)
			if resp.StatusCode != tt.status {
				t.Errorf("%s: status %d, want %d", tt.name, resp.StatusCode, tt.status)
			}
			if msg := errorMessage(t, resp); !strings.Contains(msg, tt.msg) {
				t.Errorf("%s: message %q, want %q", tt.name, msg, tt.msg)
			}
		}
		if got := streamTypes(s.events(), eib); got != "MediaUploaded,ThumbnailGenerated,PreviewGenerated" {
			t.Fatalf("after the refusals the entry's events are %s", got)
		}
		// A cross-site form post is refused by the site's origin check.
		req, _ := http.NewRequest("POST", s.url+"/entries/"+eib+"/erase", strings.NewReader("reason=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if resp, err := alice.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("a cross-site erase: %v %v, want 403", resp.StatusCode, err)
		}

		resp := s.postForm(alice, "/entries/"+eib+"/erase", url.Values{"reason": {"I changed my mind"}})
		readBody(t, resp)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("the owner's erase: %d", resp.StatusCode)
		}
		if s.cards(alice)[eib] != nil || s.cards(alice)[kept] == nil {
			t.Error("after the erase the gallery still shows the entry, or lost the other one")
		}
		if resp := s.get(alice, "/entries/"+eib); resp.StatusCode != http.StatusNotFound {
			t.Errorf("the erased entry's page: %d, want 404", resp.StatusCode)
		}
		if resp := s.postForm(alice, "/entries/"+eib+"/erase", nil); resp.StatusCode != http.StatusNotFound ||
			!strings.Contains(errorMessage(t, resp), "already been erased") {
			t.Errorf("erasing twice: %d", resp.StatusCode)
		}

		// The audit log keeps that it was erased, when, by whom and why.
		hist := mustDoc(t, s.get(bob, "/history?entry="+eib))
		if got := historyTypes(hist); got != "MediaErased,PreviewGenerated,ThumbnailGenerated,MediaUploaded" {
			t.Errorf("/history of the entry: %s", got)
		}
		html, _ := hist.Html()
		for _, v := range p.strings() {
			if strings.Contains(html, v) {
				t.Errorf("/history shows %q after the erase", v)
			}
		}
		if !strings.Contains(html, "[erased]") {
			t.Error("/history does not say the title was erased")
		}
		export := readBody(t, s.get(bob, "/history.ndjson?entry="+eib))
		var erased *events.Record
		sc := bufio.NewScanner(bytes.NewReader(export))
		for sc.Scan() {
			var r events.Record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("export line %q: %v", sc.Text(), err)
			}
			if r.Type == events.MediaErased {
				erased = &r
			}
		}
		if erased == nil || !strings.Contains(string(erased.Data), `"reason":"I changed my mind"`) || !strings.HasPrefix(string(erased.Actor), "owner:") {
			t.Errorf("the export's erasure: %+v", erased)
		}
		for _, v := range p.strings() {
			if bytes.Contains(export, []byte(v)) {
				t.Errorf("/history.ndjson holds %q after the erase", v)
			}
		}
		if !bytes.Contains(readBody(t, s.get(bob, "/history.ndjson?entry="+kept)), []byte(keep.title)) {
			t.Error("the other entry's title is gone from the export too")
		}

		// Its files are gone; the other entry's are not.
		waitFor(t, "the erased entry's files to go", func() bool {
			for _, f := range s.mediaFiles() {
				if strings.Contains(f, eib) {
					return false
				}
			}
			return true
		})
		if !containsPrefix(s.mediaFiles(), kept) {
			t.Error("the other entry's files went too")
		}
		if s.cfg.Backend != "aws" {
			// While it runs: the erase checkpointed the write-ahead log
			// (its old pages held the title), not only a clean stop.
			waitFor(t, "the view's row to be scrubbed", func() bool {
				row, err := s.app.backend.View.Get(context.Background(), eib)
				return err == nil && row.Title == ""
			})
			// The row reads scrubbed as soon as its write commits; the
			// erase is done once the projector has also checkpointed the
			// write-ahead log (until then a reader's older snapshot may keep
			// the log's old pages, or a partial checkpoint may have copied
			// them into the file), which its checkpoint past MediaErased says.
			waitProjected(t, s, eib)
			rawScan(t, s, p.strings(), keep.title)
		}
		s.stop()
		rawScan(t, s, p.strings(), keep.title)
	})
}

func containsPrefix(keys []string, eib string) bool {
	for _, k := range keys {
		if strings.Contains(k, eib) {
			return true
		}
	}
	return false
}

// rawScan looks for gone in the raw bytes of every place the site keeps
// data (after it stopped): each file under the data directory (the SQLite
// file, its WAL, the media, the spool) and, on AWS, every item of the
// site's tables and every object of its bucket. present must be found
// (the scan can see what it looks for).
// waitProjected waits until the embedded projector's checkpoint (a
// sequence number) has passed the last event of eib: everything its
// handling does, is done.
func waitProjected(t *testing.T, s *site, eib string) {
	t.Helper()
	ctx := context.Background()
	evs, err := s.app.backend.Events.Load(ctx, eib)
	if err != nil || len(evs) == 0 {
		t.Fatalf("events of %s: %d, %v", eib, len(evs), err)
	}
	last, err := strconv.ParseInt(evs[len(evs)-1].Position, 10, 64)
	if err != nil {
		t.Fatalf("position of %s's last event: %v", eib, err)
	}
	cp, ok := s.app.backend.View.(events.Checkpoints)
	if !ok {
		t.Fatalf("%T keeps no checkpoints", s.app.backend.View)
	}
	waitFor(t, "the projector to pass the erase", func() bool {
		at, err := cp.Checkpoint(ctx, projections.ViewConsumer)
		n, perr := strconv.ParseInt(at, 10, 64)
		return err == nil && perr == nil && n >= last
	})
}

func rawScan(t *testing.T, s *site, gone []string, present string) {
	t.Helper()
	var blobs [][]byte
	var where []string
	filepath.WalkDir(s.data, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			blobs, where = append(blobs, b), append(where, p)
		}
		return nil
	})
	if s.cfg.Backend == "aws" {
		ctx := context.Background()
		cfg := awstest.Config(t, s.cfg.AWS.Endpoint)
		db := dynamodb.NewFromConfig(cfg)
		// ListTables answers 100 names a page, and the package's moto
		// server holds every test's tables: read every page.
		var names []string
		for in := (&dynamodb.ListTablesInput{}); ; {
			out, err := db.ListTables(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, out.TableNames...)
			if out.LastEvaluatedTableName == nil {
				break
			}
			in = &dynamodb.ListTablesInput{ExclusiveStartTableName: out.LastEvaluatedTableName}
		}
		scanned := 0
		for _, name := range names {
			if name != s.cfg.AWS.Table && !strings.HasPrefix(name, s.cfg.AWS.EventsTable) {
				continue
			}
			scanned++
			var start map[string]types.AttributeValue
			for {
				out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(name), ExclusiveStartKey: start})
				if err != nil {
					t.Fatalf("scan %s: %v", name, err)
				}
				for _, it := range out.Items {
					var b []byte
					for k, v := range it {
						b = append(append(b, k...), attrBytes(v)...)
					}
					blobs, where = append(blobs, b), append(where, "table "+name)
				}
				if start = out.LastEvaluatedKey; len(start) == 0 {
					break
				}
			}
		}
		if scanned < 5 {
			t.Errorf("scanned %d tables, want the view, events, leases, auth and keys tables", scanned)
		}
		client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
		list, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &s.cfg.AWS.Bucket})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range list.Contents {
			obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.cfg.AWS.Bucket, Key: o.Key})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(obj.Body)
			obj.Body.Close()
			blobs, where = append(blobs, append([]byte(*o.Key), b...)), append(where, "object "+*o.Key)
		}
	}
	found := false
	for i, b := range blobs {
		for _, v := range gone {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("%q is still readable in %s", v, where[i])
			}
		}
		found = found || bytes.Contains(b, []byte(present))
	}
	if !found {
		t.Errorf("the scan of %d places did not find %q, which is meant to be there", len(blobs), present)
	}
}

// attrBytes is an attribute value's raw bytes, nested values included.
func attrBytes(v types.AttributeValue) []byte {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return []byte(v.Value)
	case *types.AttributeValueMemberN:
		return []byte(v.Value)
	case *types.AttributeValueMemberB:
		return v.Value
	case *types.AttributeValueMemberSS:
		return []byte(strings.Join(v.Value, "\x00"))
	case *types.AttributeValueMemberBS:
		return bytes.Join(v.Value, nil)
	case *types.AttributeValueMemberL:
		var b []byte
		for _, x := range v.Value {
			b = append(b, attrBytes(x)...)
		}
		return b
	case *types.AttributeValueMemberM:
		var b []byte
		for k, x := range v.Value {
			b = append(append(b, k...), attrBytes(x)...)
		}
		return b
	}
	return nil
}

// An entry in its owner's trash can be erased from there, and the
// operator erases any entry from the command line (while the site runs):
// both leave the audit trail and no copy.
func TestEraseFromTrashAndByTheOperator(t *testing.T) {
	backends(t, func(t *testing.T, start func(func(*config)) *site) {
		s := start(nil)
		alice, bob := browser(t), browser(t)
		trashed, byCLI := newPersonal(t), newPersonal(t)
		a := uploadPersonal(t, s, alice, trashed)
		b := uploadPersonal(t, s, bob, byCLI)

		readBody(t, s.postForm(alice, "/entries/"+a+"/delete", nil))
		waitFor(t, "the entry to leave the gallery for the trash", func() bool { return s.cards(bob)[a] == nil })
		if !strings.Contains(string(readBody(t, s.get(alice, "/trash"))), trashed.title) {
			t.Fatal("the deleted entry is not in its owner's trash")
		}
		resp := s.postForm(alice, "/entries/"+a+"/erase", url.Values{"reason": {"from the trash"}})
		readBody(t, resp)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("erase from the trash: %d", resp.StatusCode)
		}
		if strings.Contains(string(readBody(t, s.get(alice, "/trash"))), trashed.title) {
			t.Error("the erased entry is still in the trash")
		}

		// The operator: a bad command line first, each refused by name.
		args := []string{"--data", s.data}
		if s.cfg.Backend == "aws" {
			c := s.cfg.AWS
			args = []string{"--backend", "aws", "--bucket", c.Bucket, "--table", c.Table, "--events-table", c.EventsTable,
				"--region", c.Region, "--endpoint", c.Endpoint, "--s3-path-style"}
		}
		t.Setenv("AWS_ACCESS_KEY_ID", "test")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
		for _, tt := range []struct {
			args []string
			msg  string
		}{
			{[]string{"entries"}, "usage: mediashare entries erase"},
			{[]string{"entries", "purge", b}, "usage: mediashare entries erase"},
			{append([]string{"entries", "erase", "--reason", "x"}, args...), "which entry?"},
			{append([]string{"entries", "erase", b}, args...), "Please say why"},
			{append([]string{"entries", "erase", "01JDNOSUCHENTRY00000000000", "--reason", "x"}, args...), "There is no such entry."},
			{append([]string{"entries", "erase", "not-an-id", "--reason", "x"}, args...), "There is no such entry."},
			{append([]string{"entries", "erase", b, "--reason", strings.Repeat("r", 501)}, args...), "at most 500 characters"},
		} {
			if err := run(context.Background(), tt.args, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("%v: %v, want %q", tt.args, err, tt.msg)
			}
		}
		if got := streamTypes(s.events(), b); got != "MediaUploaded,ThumbnailGenerated,PreviewGenerated" {
			t.Fatalf("after the refusals: %s", got)
		}
		var out bytes.Buffer
		if err := run(context.Background(), append([]string{"entries", "erase", b, "--reason", "a court order"}, args...), &out, io.Discard); err != nil {
			t.Fatalf("entries erase: %v", err)
		}
		if !strings.Contains(out.String(), "erased "+b) {
			t.Errorf("entries erase printed %q", out.String())
		}
		if err := run(context.Background(), append([]string{"entries", "erase", b, "--reason", "again"}, args...), io.Discard, io.Discard); err == nil ||
			!strings.Contains(err.Error(), "already been erased") {
			t.Errorf("erasing twice: %v", err)
		}
		waitFor(t, "the operator's erase to reach the gallery", func() bool { return s.cards(bob)[b] == nil })
		var erasure *events.Event
		for _, e := range s.events() {
			if e.Stream == b && e.Type == events.MediaErased {
				erasure = &e
			}
		}
		if erasure == nil || erasure.Actor != events.SystemActor || !strings.Contains(string(erasure.Data), `"reason":"a court order"`) {
			t.Fatalf("the operator's erasure: %+v", erasure)
		}
		hist := string(readBody(t, s.get(bob, "/history?type=MediaErased")))
		if !strings.Contains(hist, "a court order") || !strings.Contains(hist, "from the trash") {
			t.Error("/history?type=MediaErased does not show both erasures and their reasons")
		}
		waitFor(t, "the erased entries' files to go", func() bool {
			return !containsPrefix(s.mediaFiles(), a) && !containsPrefix(s.mediaFiles(), b)
		})
		if s.cfg.Backend != "aws" {
			waitProjected(t, s, a)
			waitProjected(t, s, b)
		}
		s.stop()
		// The events of both remain (the audit trail) and nothing personal.
		rawScan(t, s, append(trashed.strings(), byCLI.strings()...), string(events.MediaErased))
	})
}
