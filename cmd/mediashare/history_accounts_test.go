package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"mediashare/internal/events"
)

// The audit log shows accounts' events (names, roles, provider
// identities, why someone was disabled) only to admins, on the page, the
// NDJSON export and the API; entries' events stay public. Asking for an
// account event type without the right is 403 with a message.
func TestHistoryHidesAccountEvents(t *testing.T) {
	s := startSite(t, members(func(c *config) { c.SignUp = "open" }))
	admin, member, visitor := browser(t), browser(t), browser(t)
	s.signUp(admin, "root", goodPassword, "")
	s.signUp(member, "mia", goodPassword, "")
	eib := uploadOne(t, s, member, "a public title", photoBytes(t, "Storm.jpg"))
	adminAcct, _ := accountByName(t.Context(), s.app.backend.Events, "root")
	memberAcct, _ := accountByName(t.Context(), s.app.backend.Events, "mia")
	adminToken, _ := s.mustToken(adminAcct, "read", time.Time{})
	memberToken, _ := s.mustToken(memberAcct, "read", time.Time{})

	type seen struct{ accounts, entries int }
	count := func(streams []string) seen {
		var n seen
		for _, st := range streams {
			switch {
			case events.IsAccountStream(st):
				n.accounts++
			case st == eib:
				n.entries++
			}
		}
		return n
	}
	page := func(c *http.Client, query string) (seen, *goquery.Document) {
		t.Helper()
		resp := s.get(c, "/history"+query)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /history%s: %d", query, resp.StatusCode)
		}
		doc := mustDoc(t, resp)
		var streams []string
		doc.Find(`[data-testid=event]`).Each(func(_ int, r *goquery.Selection) {
			streams = append(streams, r.AttrOr("data-eib", ""))
		})
		return count(streams), doc
	}
	export := func(c *http.Client) (seen, string) {
		t.Helper()
		resp := s.get(c, "/history.ndjson")
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /history.ndjson: %d", resp.StatusCode)
		}
		var streams []string
		sc := bufio.NewScanner(bytes.NewReader(body))
		for sc.Scan() {
			var r events.Record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			streams = append(streams, r.Stream)
		}
		return count(streams), string(body)
	}
	api := func(token string) (seen, string) {
		t.Helper()
		res := s.api(apiCall{method: "GET", path: "/api/v1/history", token: token})
		if res.code != http.StatusOK {
			t.Fatalf("GET /api/v1/history: %d %s", res.code, res.body)
		}
		var out struct{ Events []events.Record }
		if err := json.Unmarshal(res.body, &out); err != nil {
			t.Fatal(err)
		}
		var streams []string
		for _, r := range out.Events {
			streams = append(streams, r.Stream)
		}
		return count(streams), string(res.body)
	}

	for _, tt := range []struct {
		name     string
		c        *http.Client
		token    string
		accounts bool
	}{
		{"a visitor", visitor, "", false},
		{"a member", member, memberToken, false},
		{"an admin", admin, adminToken, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			check := func(route string, n seen, body string) {
				t.Helper()
				if n.entries == 0 {
					t.Errorf("%s: the entry's events are missing", route)
				}
				if tt.accounts && n.accounts < 2 {
					t.Errorf("%s: %d account events for an admin, want both registrations", route, n.accounts)
				}
				if !tt.accounts && (n.accounts != 0 || strings.Contains(body, "AccountRegistered")) {
					t.Errorf("%s: %d account events shown", route, n.accounts)
				}
			}
			n, doc := page(tt.c, "")
			check("/history", n, doc.Text())
			if got := doc.Find(`option[value=AccountRegistered]`).Length() == 1; got != tt.accounts {
				t.Errorf("/history offers the account types: %v, want %v", got, tt.accounts)
			}
			n, body := export(tt.c)
			check("/history.ndjson", n, body)
			n, body = api(tt.token)
			check("/api/v1/history", n, body)

			// Asking for account events by type.
			resp := s.get(tt.c, "/history?type=AccountRegistered")
			resp2 := s.get(tt.c, "/history.ndjson?type=AccountRegistered")
			res := s.api(apiCall{method: "GET", path: "/api/v1/history?type=AccountRegistered", token: tt.token})
			if tt.accounts {
				if resp.StatusCode != 200 || resp2.StatusCode != 200 || res.code != 200 {
					t.Errorf("an admin asking for AccountRegistered: %d, %d, %d; want 200", resp.StatusCode, resp2.StatusCode, res.code)
				}
				readBody(t, resp)
				readBody(t, resp2)
				return
			}
			if msg, _ := formError(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(msg, "admins") {
				t.Errorf("/history?type=AccountRegistered: %d %q, want 403 with a message", resp.StatusCode, msg)
			}
			if b := readBody(t, resp2); resp2.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "admins") {
				t.Errorf("/history.ndjson?type=AccountRegistered: %d %q, want 403 with a message", resp2.StatusCode, b)
			}
			if code, msg := res.errorBody(t); res.code != http.StatusForbidden || code != "forbidden" || !strings.Contains(msg, "admins") {
				t.Errorf("/api/v1/history?type=AccountRegistered: %d %s %q, want 403 with a message", res.code, code, msg)
			}
		})
	}
}
