package entry_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"mediashare/internal/apperr"
	"mediashare/internal/entry"
	"mediashare/internal/events"
	"mediashare/internal/keyring"
)

func erased(t *testing.T, v int, by, reason string) events.Event {
	return ev(t, v, events.MediaErased, events.OwnerActor("alice"), events.Erased{By: by, Reason: reason})
}

func reported(t *testing.T, v int, id, reporter string) events.Event {
	return ev(t, v, events.EntryReported, events.Actor("visitor"), events.Reported{Report: id, Reason: events.ReportSpam, Reporter: reporter})
}

func dismissed(t *testing.T, v int, id string) events.Event {
	return ev(t, v, events.ReportDismissed, events.Actor("admin"), events.Dismissed{Report: id, By: "admin"})
}

func TestFoldErasureAndReports(t *testing.T) {
	orig, tn, pv := eib+".jpg", eib+".jpg-tn.png", eib+".jpg-preview.jpg"
	tests := []struct {
		name      string
		evs       []events.Event
		status    entry.Status
		visible   bool
		eraseKeys []string
		reports   []string
		check     func(t *testing.T, e entry.Entry)
	}{
		{name: "erased while processing", evs: []events.Event{upload(t, 1), erased(t, 2, "owner", "")},
			status: entry.Erased, eraseKeys: []string{orig, tn}},
		{name: "erased when ready", evs: []events.Event{upload(t, 1), thumb(t, 2, true), erased(t, 3, "owner", "gone")},
			status: entry.Erased, eraseKeys: []string{orig, tn, pv}, check: func(t *testing.T, e entry.Entry) {
				if e.Erasure.By != "owner" || e.Erasure.Reason != "gone" || !e.Erasure.At.Equal(t0.Add(3*time.Second)) || e.Erasure.Actor != events.OwnerActor("alice") {
					t.Errorf("erasure: %+v", e.Erasure)
				}
			}},
		{name: "erased after a failed thumbnail", evs: []events.Event{upload(t, 1), failed(t, 2), erased(t, 3, "admin", "illegal")},
			status: entry.Erased, eraseKeys: []string{orig, tn}},
		{name: "erased after a delete", evs: []events.Event{upload(t, 1), thumb(t, 2, false), deleted(t, 3, "owner"), erased(t, 4, "owner", "")},
			status: entry.Erased, eraseKeys: []string{orig, tn, pv, eib + ".jpg-preview.png"}}, // where a preview may be before its event,
		{name: "erased after the purge", evs: []events.Event{upload(t, 1), deleted(t, 2, "owner"), purged(t, 3, orig, tn), erased(t, 4, "admin", "x")},
			status: entry.Erased, eraseKeys: []string{orig, tn}},
		{name: "a second erasure changes nothing", evs: []events.Event{upload(t, 1), erased(t, 2, "owner", "first"), erased(t, 3, "admin", "second")},
			status: entry.Erased, eraseKeys: []string{orig, tn}, check: func(t *testing.T, e entry.Entry) {
				if e.Erasure.Reason != "first" {
					t.Errorf("the second erasure replaced the first: %+v", e.Erasure)
				}
			}},
		{name: "a delete after the erasure changes nothing", evs: []events.Event{upload(t, 1), erased(t, 2, "owner", ""), deleted(t, 3, "owner")},
			status: entry.Erased, eraseKeys: []string{orig, tn}},
		{name: "a purge after the erasure keeps it erased", evs: []events.Event{upload(t, 1), erased(t, 2, "owner", ""), purged(t, 3, orig)},
			status: entry.Erased, eraseKeys: []string{orig, tn}},
		{name: "a late thumbnail after the erasure is recorded, to be removed", evs: []events.Event{upload(t, 1), erased(t, 2, "owner", ""), thumb(t, 3, true)},
			status: entry.Erased, eraseKeys: []string{orig, tn, pv}, check: func(t *testing.T, e entry.Entry) {
				if got := e.Unwanted([]string{tn, pv}); !slices.Equal(got, []string{tn, pv}) {
					t.Errorf("unwanted renditions of an erased entry: %v", got)
				}
				if e.NeedsThumbnail() || e.NeedsPurge() || !e.NeedsErase() {
					t.Error("an erased entry's decisions")
				}
			}},
		{name: "an erasure of nothing changes nothing", evs: []events.Event{erased(t, 1, "owner", "")}, status: entry.None},
		{name: "reported twice", evs: []events.Event{upload(t, 1), reported(t, 2, "r1", "bob"), reported(t, 3, "r2", "carol")},
			status: entry.Processing, visible: true, eraseKeys: []string{orig, tn}, reports: []string{"r1", "r2"}},
		{name: "a report delivered twice is one report", evs: []events.Event{upload(t, 1), reported(t, 2, "r1", "bob"), reported(t, 3, "r1", "bob")},
			status: entry.Processing, visible: true, eraseKeys: []string{orig, tn}, reports: []string{"r1"}},
		{name: "a report dismissed", evs: []events.Event{upload(t, 1), reported(t, 2, "r1", "bob"), reported(t, 3, "r2", "carol"), dismissed(t, 4, "r1")},
			status: entry.Processing, visible: true, eraseKeys: []string{orig, tn}, reports: []string{"r2"}},
		{name: "reports closed by the erasure", evs: []events.Event{upload(t, 1), reported(t, 2, "r1", "bob"), erased(t, 3, "admin", "spam")},
			status: entry.Erased, eraseKeys: []string{orig, tn}},
		{name: "a report of a deleted entry is not opened", evs: []events.Event{upload(t, 1), deleted(t, 2, "owner"), reported(t, 3, "r1", "bob")},
			status: entry.Deleted, eraseKeys: []string{orig, tn}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := entry.Fold(tt.evs)
			if err != nil {
				t.Fatal(err)
			}
			if e.Status != tt.status || e.Visible() != tt.visible {
				t.Errorf("status %q visible %v, want %q %v", e.Status, e.Visible(), tt.status, tt.visible)
			}
			if got := e.EraseKeys(); !slices.Equal(got, tt.eraseKeys) {
				t.Errorf("erase keys %v, want %v", got, tt.eraseKeys)
			}
			var ids []string
			for _, r := range e.Reports {
				ids = append(ids, r.ID)
			}
			if !slices.Equal(ids, tt.reports) {
				t.Errorf("open reports %v, want %v", ids, tt.reports)
			}
			if tt.check != nil {
				tt.check(t, e)
			}
		})
	}
}

func TestEraseDecision(t *testing.T) {
	ready := mustFold(t, upload(t, 1), thumb(t, 2, false))
	trashed := mustFold(t, upload(t, 1), deleted(t, 2, "owner"))
	gone := mustFold(t, upload(t, 1), erased(t, 2, "owner", ""))
	owner, admin, stranger := entry.Actor{Owner: "alice"}, entry.Actor{Owner: "bob", Admin: true, As: events.AccountActor("root")}, entry.Actor{Owner: "mallory"}
	tests := []struct {
		name   string
		e      entry.Entry
		a      entry.Actor
		reason string
		code   apperr.Code
		msg    string
		by     string
		actor  events.Actor
	}{
		{name: "the owner, no reason", e: ready, a: owner, by: "owner", actor: events.OwnerActor("alice")},
		{name: "the owner, from the trash", e: trashed, a: owner, reason: "  tidy  ", by: "owner", actor: events.OwnerActor("alice")},
		{name: "an admin with a reason", e: ready, a: admin, reason: "illegal", by: "account:root", actor: events.AccountActor("root")},
		{name: "an admin without a name", e: ready, a: entry.Actor{Admin: true}, reason: "spam", by: "admin", actor: "admin"},
		{name: "the operator", e: ready, a: entry.Actor{Admin: true, As: events.SystemActor}, reason: "court order", by: "system", actor: events.SystemActor},
		{name: "an admin without a reason", e: ready, a: admin, reason: "  ", code: apperr.Invalid, msg: "Please say why"},
		{name: "a stranger", e: ready, a: stranger, reason: "x", code: apperr.Forbidden, msg: "your own uploads"},
		{name: "nobody", e: ready, a: entry.Actor{}, code: apperr.Forbidden},
		{name: "twice", e: gone, a: owner, code: apperr.NotFound, msg: "already been erased"},
		{name: "no such entry", e: entry.Entry{}, a: admin, reason: "x", code: apperr.NotFound},
		{name: "a reason too long", e: ready, a: owner, reason: strings.Repeat("é", entry.MaxEraseReason+1), code: apperr.Invalid, msg: "at most 500"},
		{name: "a reason of control characters", e: ready, a: owner, reason: "a\x1bb", code: apperr.Invalid, msg: "control"},
		{name: "a reason not UTF-8", e: ready, a: owner, reason: "\xff", code: apperr.Invalid, msg: "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.e.Erase(tt.a, tt.reason, "er1", t0)
			if tt.code != "" {
				if apperr.CodeOf(err) != tt.code || !strings.Contains(apperr.MessageOf(err), tt.msg) {
					t.Fatalf("got %v, want %s %q", err, tt.code, tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var p events.Erased
			if err := got.Decode(&p); err != nil {
				t.Fatal(err)
			}
			if got.Type != events.MediaErased || got.Actor != tt.actor || p.By != tt.by || p.Reason != strings.TrimSpace(tt.reason) {
				t.Errorf("got %+v %+v", got, p)
			}
		})
	}
}

func TestReportDecisions(t *testing.T) {
	ready := mustFold(t, upload(t, 1), thumb(t, 2, false), reported(t, 3, "r1", "bob"))
	trashed := mustFold(t, upload(t, 1), deleted(t, 2, "owner"))
	for _, tt := range []struct {
		name                   string
		e                      entry.Entry
		reporter, reason, text string
		code                   apperr.Code
		msg                    string
	}{
		{name: "a reason from the list", e: ready, reporter: "carol", reason: events.ReportCopyright},
		{name: "other, with text", e: ready, reporter: "carol", reason: events.ReportOther, text: "it is mine"},
		{name: "other, without text", e: ready, reporter: "carol", reason: events.ReportOther, code: apperr.Invalid, msg: "say what is wrong"},
		{name: "a reason off the list", e: ready, reporter: "carol", reason: "boring", code: apperr.Invalid, msg: "from the list"},
		{name: "no reason", e: ready, reporter: "carol", code: apperr.Invalid, msg: "from the list"},
		{name: "text too long", e: ready, reporter: "carol", reason: events.ReportSpam, text: strings.Repeat("x", entry.MaxReportText+1), code: apperr.Invalid, msg: "at most 1000"},
		{name: "text with control characters", e: ready, reporter: "carol", reason: events.ReportSpam, text: "\x00", code: apperr.Invalid, msg: "control"},
		{name: "the same reporter again", e: ready, reporter: "bob", reason: events.ReportSpam, code: apperr.Conflict, msg: "already reported"},
		{name: "a deleted entry", e: trashed, reporter: "carol", reason: events.ReportSpam, code: apperr.NotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.e.Report(tt.reporter, tt.reason, tt.text, "r9", t0)
			if tt.code != "" {
				if apperr.CodeOf(err) != tt.code || !strings.Contains(apperr.MessageOf(err), tt.msg) {
					t.Fatalf("got %v, want %s %q", err, tt.code, tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Type != events.EntryReported || strings.Contains(string(got.Actor), tt.reporter) {
				t.Errorf("the report %+v names its reporter as its actor", got)
			}
		})
	}
	admin := entry.Actor{Admin: true, As: events.AccountActor("root")}
	if _, err := ready.Dismiss(entry.Actor{Owner: "alice"}, "r1", "", "d1", t0); apperr.CodeOf(err) != apperr.Forbidden {
		t.Errorf("the owner dismissed a report: %v", err)
	}
	if _, err := ready.Dismiss(admin, "r2", "", "d1", t0); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("an unknown report dismissed: %v", err)
	}
	d, err := ready.Dismiss(admin, "r1", "fine", "d1", t0)
	if err != nil || d.Type != events.ReportDismissed || d.Actor != events.AccountActor("root") {
		t.Fatalf("dismiss: %+v %v", d, err)
	}
	d.Version = 4
	if after, err := ready.Apply(d); err != nil || len(after.Reports) != 0 {
		t.Errorf("after the dismissal: %+v %v", after.Reports, err)
	}
}

// keys is an entry.Keys over a map; destroyed entries answer
// *keyring.DestroyedError, a set err every lookup.
type keys struct {
	m         map[string][]byte
	destroyed map[string]bool
	err       error
	calls     int
}

func (k *keys) Get(ctx context.Context, eib string) ([]byte, error) {
	k.calls++
	switch {
	case k.err != nil:
		return nil, k.err
	case k.destroyed[eib]:
		return nil, &keyring.DestroyedError{Entry: eib}
	case k.m[eib] == nil:
		return nil, keyring.ErrNotFound
	}
	return k.m[eib], nil
}

func sealedUpload(t *testing.T, key []byte) events.Event {
	t.Helper()
	e := upload(t, 1)
	var p events.Uploaded
	if err := e.Decode(&p); err != nil {
		t.Fatal(err)
	}
	s, err := entry.Seal(key, eib, p)
	if err != nil {
		t.Fatal(err)
	}
	out := ev(t, 1, events.MediaUploaded, e.Actor, s)
	out.Schema = events.SealedSchema
	return out
}

func TestReadSealed(t *testing.T) {
	key := mustKey(t)
	ctx := context.Background()
	sealed := sealedUpload(t, key)
	for _, v := range []string{"Harbour", "at dawn", "harbour.jpg"} {
		if strings.Contains(string(sealed.Data), v) {
			t.Fatalf("the sealed payload holds %q: %s", v, sealed.Data)
		}
	}
	open := func(k entry.Keys, e events.Event) (events.Uploaded, entry.Fact, error) {
		f, err := entry.Read(ctx, e, k)
		return f.Upload, f, err
	}

	u, f, err := open(&keys{m: map[string][]byte{eib: key}}, sealed)
	if err != nil || u.Title != "Harbour" || u.Comment != "at dawn" || u.Filename != "harbour.jpg" || f.Erased || f.Withheld {
		t.Errorf("opened: %+v %v", u, err)
	}
	if u.Size != 1234 || u.Owner != "alice" || u.Original != eib+".jpg" {
		t.Errorf("the fields that are not sealed: %+v", u)
	}
	u, f, err = open(&keys{destroyed: map[string]bool{eib: true}}, sealed)
	if err != nil || u.Title != entry.ErasedText || u.Comment != entry.ErasedText || u.Filename != entry.ErasedText || !f.Erased {
		t.Errorf("after the key's destruction: %+v %v", u, err)
	}
	u, f, err = open(nil, sealed)
	if err != nil || u.Title != "" || u.Comment != "" || !f.Withheld {
		t.Errorf("without keys: %+v %v", u, err)
	}
	if _, _, err := open(&keys{}, sealed); err == nil || errors.Is(err, entry.ErrKeys) {
		t.Errorf("a sealed upload without a key: %v, want a payload error", err)
	}
	if _, _, err := open(&keys{err: errors.New("timeout")}, sealed); !errors.Is(err, entry.ErrKeys) {
		t.Errorf("the key store failing: %v, want ErrKeys", err)
	}
	if _, _, err := open(&keys{m: map[string][]byte{eib: mustKey(t)}}, sealed); err == nil {
		t.Error("another key opened the fields")
	}
	// A sealed title moved into the comment does not open (bound to its field).
	var p events.Uploaded
	sealed.Decode(&p)
	p.Comment = p.Title
	moved := ev(t, 1, events.MediaUploaded, sealed.Actor, p)
	moved.Schema = events.SealedSchema
	if _, _, err := open(&keys{m: map[string][]byte{eib: key}}, moved); err == nil {
		t.Error("a title sealed for the title opened as the comment")
	}
	// An old upload in the clear reads as it is, whatever keys say.
	if u, _, err := open(&keys{destroyed: map[string]bool{eib: true}}, upload(t, 1)); err != nil || u.Title != "Harbour" {
		t.Errorf("a legacy upload: %+v %v", u, err)
	}
	// Fold never opens: the decisions need no key.
	e := mustFold(t, sealed, thumb(t, 2, false))
	if !e.Sealed || e.Title != "" || e.Owner != "alice" || !e.Visible() {
		t.Errorf("folded: %+v", e)
	}

	// Reveal gives the event with its fields opened, for tools.
	r, err := entry.Reveal(ctx, sealed, &keys{m: map[string][]byte{eib: key}})
	if err != nil || !strings.Contains(string(r.Data), `"title":"Harbour"`) || r.Version != 1 || r.ID != sealed.ID {
		t.Errorf("revealed: %s %v", r.Data, err)
	}
	if r, _ := entry.Reveal(ctx, sealed, &keys{destroyed: map[string]bool{eib: true}}); !strings.Contains(string(r.Data), `"title":"[erased]"`) {
		t.Errorf("revealed after the erasure: %s", r.Data)
	}
}

func TestMemoAsksOncePerEntry(t *testing.T) {
	key := mustKey(t)
	k := &keys{m: map[string][]byte{eib: key}, destroyed: map[string]bool{"gone": true}}
	m := entry.NewMemo(k)
	ctx := context.Background()
	for range 3 {
		if got, err := m.Get(ctx, eib); err != nil || string(got) != string(key) {
			t.Fatal(got, err)
		}
		if _, err := m.Get(ctx, "gone"); !errors.Is(err, keyring.ErrDestroyed) {
			t.Fatal(err)
		}
	}
	if k.calls != 2 {
		t.Errorf("%d lookups for two entries, want 2", k.calls)
	}
	k.err = errors.New("down")
	if _, err := m.Get(ctx, "other"); err == nil {
		t.Error("a failure was not passed on")
	}
	k.err = nil
	k.m["other"] = key
	if _, err := m.Get(ctx, "other"); err != nil {
		t.Errorf("a failure was remembered: %v", err)
	}
	if entry.NewMemo(nil) != nil {
		t.Error("a memo of no keys is not nil")
	}
}

func mustKey(t *testing.T) []byte {
	t.Helper()
	k, err := keyring.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Free texts go through the one check (internal/text): a report's text
// keeps its line breaks as LF (no CR is stored, where a lone CR would end
// a server-sent event's line) and refuses C1 controls as the titles do.
func TestReportTextIsCleanedAsEveryFreeText(t *testing.T) {
	ready := mustFold(t, upload(t, 1), thumb(t, 2, false))
	ev, err := ready.Report("carol", events.ReportOther, " one\r\ntwo\rthree ", "r9", t0)
	if err != nil {
		t.Fatal(err)
	}
	f, err := entry.Read(context.Background(), ev, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.Report.Text, "one\ntwo\nthree"; got != want {
		t.Errorf("stored text %q, want %q", got, want)
	}
	if _, err := ready.Report("carol", events.ReportSpam, "a\u0085b", "r9", t0); apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(apperr.MessageOf(err), "control characters") {
		t.Errorf("a C1 control in a report: %v, want Invalid naming control characters", err)
	}
}
