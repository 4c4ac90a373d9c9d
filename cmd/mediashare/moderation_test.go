package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"mediashare/internal/events"
)

// Reports and the admins' queue over HTTP on each backend: visitors
// report (bad forms refused with nothing recorded, one open report per
// reporter, a rate per client), the public pages show the reason only,
// the queue is the admins' alone, and an admin dismisses a report,
// removes an entry and erases one from it, all in the audit log.
func TestReportsAndTheAdminQueue(t *testing.T) {
	backends(t, func(t *testing.T, start func(func(*config)) *site) {
		s := start(func(c *config) { c.ReportsPerHour = 6 })
		root, alice, bob, carol := browser(t), browser(t), browser(t), browser(t)
		s.signUp(root, "root", "a long admin password 1", "")
		x, y := newPersonal(t), newPersonal(t)
		ex := uploadPersonal(t, s, alice, x)
		ey := uploadPersonal(t, s, carol, y)

		if doc := mustDoc(t, s.get(bob, "/entries/"+ex)); doc.Find(`[data-testid=report-form] option`).Length() != len(events.ReportReasons) {
			t.Error("the entry page offers no report form with the reasons")
		}

		// Refused, each with its message, and nothing recorded.
		for _, tt := range []struct {
			name   string
			path   string
			form   url.Values
			status int
			msg    string
		}{
			{"a reason off the list", "/entries/" + ex + "/report", url.Values{"reason": {"boring"}}, 400, "from the list"},
			{"no reason", "/entries/" + ex + "/report", nil, 400, "from the list"},
			{"other without a text", "/entries/" + ex + "/report", url.Values{"reason": {"other"}}, 400, "say what is wrong"},
			{"a text too long", "/entries/" + ex + "/report", url.Values{"reason": {"spam"}, "text": {strings.Repeat("t", 1001)}}, 400, "at most 1000"},
			{"a text with control characters", "/entries/" + ex + "/report", url.Values{"reason": {"spam"}, "text": {"a\x07b"}}, 400, "control characters"},
			{"a form too large", "/entries/" + ex + "/report", url.Values{"reason": {"spam"}, "text": {strings.Repeat("t", 20<<10)}}, 413, "larger than 16 KiB"},
			{"no such entry", "/entries/01JDNOSUCHENTRY00000000000/report", url.Values{"reason": {"spam"}}, 404, "There is no such entry."},
			{"not an entry id", "/entries/%00/report", url.Values{"reason": {"spam"}}, 404, ""},
		} {
			resp := s.postForm(bob, tt.path, tt.form)
			if resp.StatusCode != tt.status {
				t.Errorf("%s: status %d, want %d", tt.name, resp.StatusCode, tt.status)
			}
			if msg := errorMessage(t, resp); !strings.Contains(msg, tt.msg) {
				t.Errorf("%s: message %q, want %q", tt.name, msg, tt.msg)
			}
		}
		if got := lessPreview(streamTypes(s.events(), ex)); got != "MediaUploaded,ThumbnailGenerated" {
			t.Fatalf("after the refusals the entry's events are %s", got)
		}

		report := func(c *http.Client, eib, reason, text string) *http.Response {
			t.Helper()
			return s.postForm(c, "/entries/"+eib+"/report", url.Values{"reason": {reason}, "text": {text}})
		}
		resp := report(bob, ex, "spam", "selling things "+x.title)
		readBody(t, resp)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/entries/"+ex+"?reported=1" {
			t.Fatalf("bob's report: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if mustDoc(t, s.get(bob, "/entries/"+ex+"?reported=1")).Find(`[data-testid=report-sent]`).Length() != 1 {
			t.Error("the page does not thank the reporter")
		}
		if resp := report(bob, ex, "illegal", ""); resp.StatusCode != http.StatusConflict || !strings.Contains(errorMessage(t, resp), "already reported") {
			t.Errorf("bob's second report: %d", resp.StatusCode)
		}
		readBody(t, report(carol, ex, "illegal", ""))
		readBody(t, report(alice, ey, "privacy", "my neighbour's house"))

		// The public pages show that it was reported and why, not by whom or what was said.
		export := string(readBody(t, s.get(bob, "/history.ndjson?type=EntryReported")))
		if strings.Count(export, `"type":"EntryReported"`) != 3 || strings.Contains(export, "reporter") || strings.Contains(export, "selling things") {
			t.Errorf("the export of reports: %s", export)
		}
		hist := string(readBody(t, s.get(bob, "/history?entry="+ex)))
		if !strings.Contains(hist, "reported: spam") || strings.Contains(hist, "selling things") {
			t.Error("/history does not show the report's reason, or shows its text")
		}

		// The queue is the admins' alone.
		for _, c := range []*http.Client{bob, alice} {
			resp := s.get(c, "/admin")
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(errorMessage(t, resp), "sign in as an admin") {
				t.Errorf("a visitor's /admin: %d", resp.StatusCode)
			}
		}
		queue := func() map[string]*goquery.Selection {
			t.Helper()
			resp := s.get(root, "/admin")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("the admin's /admin: %d", resp.StatusCode)
			}
			out := map[string]*goquery.Selection{}
			mustDoc(t, resp).Find(`[data-testid=reported]`).Each(func(_ int, sel *goquery.Selection) { out[sel.AttrOr("data-eib", "")] = sel })
			return out
		}
		q := queue()
		if len(q) != 2 || q[ex] == nil || q[ey] == nil {
			t.Fatalf("the queue holds %d entries, want %s and %s", len(q), ex, ey)
		}
		if got := q[ex].Find(`[data-testid=open-report]`).Length(); got != 2 {
			t.Errorf("%d open reports of the first entry, want 2", got)
		}
		if !strings.Contains(q[ex].Text(), "selling things") || q[ex].Find(`[data-testid=reported-title]`).Text() != x.title {
			t.Error("the queue does not show the report's text or the entry's title")
		}

		// Dismiss bob's report; bad dismissals change nothing.
		bobs := q[ex].Find(`[data-testid=open-report]`).FilterFunction(func(_ int, sel *goquery.Selection) bool {
			return strings.Contains(sel.Text(), "selling things")
		}).AttrOr("data-report", "")
		for _, tt := range []struct {
			name   string
			c      *http.Client
			path   string
			status int
		}{
			{"a stranger", bob, "/entries/" + ex + "/reports/" + bobs + "/dismiss", 403},
			{"not a report id", root, "/entries/" + ex + "/reports/x/dismiss", 404},
			{"another entry's report", root, "/entries/" + ey + "/reports/" + bobs + "/dismiss", 404},
		} {
			if resp := s.postForm(tt.c, tt.path, nil); resp.StatusCode != tt.status {
				t.Errorf("%s: %d, want %d", tt.name, resp.StatusCode, tt.status)
			}
		}
		resp = s.postForm(root, "/entries/"+ex+"/reports/"+bobs+"/dismiss", nil)
		readBody(t, resp)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("dismiss: %d", resp.StatusCode)
		}
		if got := queue()[ex].Find(`[data-testid=open-report]`).Length(); got != 1 {
			t.Errorf("after the dismissal %d open reports, want 1", got)
		}

		// Erase from the queue: a reason is required of an admin.
		if resp := s.postForm(root, "/entries/"+ex+"/erase", url.Values{"from": {"admin"}}); resp.StatusCode != 400 ||
			!strings.Contains(errorMessage(t, resp), "Please say why") {
			t.Errorf("an admin's erase without a reason: %d", resp.StatusCode)
		}
		resp = s.postForm(root, "/entries/"+ex+"/erase", url.Values{"from": {"admin"}, "reason": {"illegal content"}})
		readBody(t, resp)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin?done=erased" {
			t.Fatalf("the admin's erase: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		// Remove the other from the gallery (an admin's delete).
		resp = s.postForm(root, "/entries/"+ey+"/delete", nil)
		readBody(t, resp)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("the admin's removal: %d", resp.StatusCode)
		}
		if q := queue(); len(q) != 0 {
			t.Errorf("the queue still holds %d entries", len(q))
		}
		cards := s.cards(bob)
		if cards[ex] != nil || cards[ey] != nil {
			t.Error("the removed entries are still in the gallery")
		}
		var erasedBy, dismissedBy, deletedBy events.Actor
		for _, e := range s.events() {
			switch {
			case e.Stream == ex && e.Type == events.MediaErased:
				erasedBy = e.Actor
			case e.Stream == ex && e.Type == events.ReportDismissed:
				dismissedBy = e.Actor
			case e.Stream == ey && (e.Type == events.MediaDeleted || e.Type == events.MediaTrashed):
				deletedBy = e.Actor
			}
		}
		if !strings.HasPrefix(string(erasedBy), "account:user-") || erasedBy != dismissedBy || deletedBy == "" {
			t.Errorf("the audit log's actors: erased by %q, dismissed by %q, removed by %q", erasedBy, dismissedBy, deletedBy)
		}

		// A client past its reports per hour gets 429 with Retry-After, nothing recorded.
		z := uploadPersonal(t, s, alice, newPersonal(t))
		n := len(s.events())
		var limited *http.Response
		for range 10 {
			// Each a new visitor, all from one client (loopback).
			if resp := report(browser(t), z, "spam", ""); resp.StatusCode == http.StatusTooManyRequests {
				limited = resp
				break
			}
		}
		if limited == nil || limited.Header.Get("Retry-After") == "" || !strings.Contains(errorMessage(t, limited), "many reports") {
			t.Fatalf("no 429 with Retry-After after the reports per hour: %+v", limited)
		}
		if got, reported := len(s.events()), countType(s.events(), events.EntryReported); got-n != reported-3 {
			t.Errorf("%d events since, %d reports admitted: a refused one was recorded", got-n, reported-3)
		}
		s.stop()
		rawScan(t, s, x.strings(), y.title)
	})
}

// Accounts on the moderation page, on each backend: an admin promotes a
// member, who can then see the queue; demotes them again; disables an
// account (a reason required), which ends its sessions; enables it. No
// one acts on themself, visitors and members cannot act at all, and the
// audit log shows who did what to whom.
func TestAdminManagesAccounts(t *testing.T) {
	backends(t, func(t *testing.T, start func(func(*config)) *site) {
		s := start(func(c *config) { c.SignUp = "open" })
		root, dana, eve := browser(t), browser(t), browser(t)
		s.signUp(root, "root", "a long admin password 1", "")
		s.signUp(dana, "dana", "dana's long password 2", "")
		s.signUp(eve, "eve", "eve's long password 33", "")
		ids := map[string]string{"nobody": "user-nosuchaccount"}
		mustDoc(t, s.get(root, "/admin")).Find(`[data-testid=account]`).Each(func(_ int, sel *goquery.Selection) {
			ids[sel.AttrOr("data-name", "")] = sel.AttrOr("data-account", "")
		})
		if len(ids) != 4 || ids["dana"] == "" {
			t.Fatalf("the accounts listed: %v", ids)
		}
		act := func(c *http.Client, name, action, reason string) *http.Response {
			t.Helper()
			return s.postForm(c, "/admin/accounts/"+ids[name]+"/"+action, url.Values{"reason": {reason}})
		}
		for _, tt := range []struct {
			name                string
			c                   *http.Client
			who, action, reason string
			status              int
			msg                 string
		}{
			{"a member promotes", eve, "eve", "promote", "", 403, "Only an admin"},
			{"a visitor disables", browser(t), "dana", "disable", "x", 403, "sign in as an admin"},
			{"the admin disables themself", root, "root", "disable", "x", 403, "your own account"},
			{"the admin demotes themself", root, "root", "demote", "", 403, "your own admin role"},
			{"disable without a reason", root, "dana", "disable", "", 400, ""},
			{"an unknown action", root, "dana", "delete", "", 404, "no such action"},
			{"an unknown account", root, "nobody", "promote", "", 404, "no such account"},
			{"demote a member", root, "dana", "demote", "", 409, "not an admin"},
		} {
			resp := act(tt.c, tt.who, tt.action, tt.reason)
			if resp.StatusCode != tt.status {
				t.Errorf("%s: %d, want %d", tt.name, resp.StatusCode, tt.status)
			}
			if msg := errorMessage(t, resp); !strings.Contains(msg, tt.msg) {
				t.Errorf("%s: %q, want %q", tt.name, msg, tt.msg)
			}
		}
		if resp := s.get(dana, "/admin"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a member's /admin: %d", resp.StatusCode)
		}
		if resp := act(root, "dana", "promote", ""); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("promote: %d", resp.StatusCode)
		}
		if resp := s.get(dana, "/admin"); resp.StatusCode != http.StatusOK {
			t.Errorf("a promoted admin's /admin: %d", resp.StatusCode)
		}
		if resp := act(root, "dana", "demote", ""); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("demote: %d", resp.StatusCode)
		}
		if resp := s.get(dana, "/admin"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a demoted admin's /admin: %d", resp.StatusCode)
		}
		if resp := act(root, "eve", "disable", "spam uploads"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("disable: %d", resp.StatusCode)
		}
		if mustDoc(t, s.get(eve, "/")).Find(`[data-testid=account-link]`).Length() != 0 {
			t.Error("a disabled account is still signed in")
		}
		if resp := s.signIn(eve, "eve", "eve's long password 33"); resp.StatusCode == http.StatusSeeOther {
			t.Error("a disabled account signed in")
		}
		if resp := act(root, "eve", "enable", "appealed"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("enable: %d", resp.StatusCode)
		}
		if resp := s.signIn(eve, "eve", "eve's long password 33"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("an enabled account cannot sign in: %d", resp.StatusCode)
		}
		var got []string
		for _, e := range s.events() {
			switch e.Type {
			case events.AccountPromoted, events.AccountDemoted, events.AccountDisabled, events.AccountEnabled:
				if e.Actor != events.AccountActor(ids["root"]) {
					t.Errorf("%s by %q, want root's account", e.Type, e.Actor)
				}
				got = append(got, string(e.Type)+" "+e.Stream[:8])
			}
		}
		if strings.Join(got, ",") != "AccountPromoted user-"+ids["dana"][5:8]+",AccountDemoted user-"+ids["dana"][5:8]+
			",AccountDisabled user-"+ids["eve"][5:8]+",AccountEnabled user-"+ids["eve"][5:8] {
			t.Errorf("the account events: %v", got)
		}
		hist := string(readBody(t, s.get(root, "/history?type=AccountDisabled")))
		if !strings.Contains(hist, "AccountDisabled") {
			t.Error("/history does not show the disabling to an admin")
		}
		if resp := s.get(eve, "/history?type=AccountDisabled"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a member asking /history for the disabling: %d, want 403 (accounts' events are for admins)", resp.StatusCode)
		}
	})
}
