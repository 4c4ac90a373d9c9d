package main

import (
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"mediashare/internal/events"
	"mediashare/internal/media/mediatest"
)

// members is a site where only accounts upload (the default).
func members(more ...func(*config)) func(*config) {
	return func(c *config) {
		c.Uploads = "members"
		for _, m := range more {
			m(c)
		}
	}
}

// postForm sends a URL-encoded form.
func (s *site) postForm(c *http.Client, path string, form url.Values) *http.Response {
	s.t.Helper()
	req, _ := http.NewRequest("POST", s.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatalf("POST %s: %v", path, err)
	}
	return resp
}

// formError is the message a page shows in its form, and the field.
func formError(t testing.TB, resp *http.Response) (msg, field string) {
	t.Helper()
	d := mustDoc(t, resp)
	sel := d.Find(`[data-testid=form-error]`)
	if sel.Length() == 0 {
		sel = d.Find(`[data-testid=error-message]`)
	}
	return strings.TrimSpace(sel.First().Text()), sel.First().AttrOr("data-field", "")
}

// signUp makes an account and checks the answer is 303 with a session.
func (s *site) signUp(c *http.Client, name, password, invite string) {
	s.t.Helper()
	form := url.Values{"username": {name}, "password": {password}}
	if invite != "" {
		form.Set("invite", invite)
	}
	resp := s.postForm(c, "/signup", form)
	if resp.StatusCode != http.StatusSeeOther {
		msg, _ := formError(s.t, resp)
		s.t.Fatalf("sign up %s: %d (%s), want 303", name, resp.StatusCode, msg)
	}
	readBody(s.t, resp)
	if !hasSessionCookie(s, c) {
		s.t.Fatalf("sign up %s: no session cookie", name)
	}
}

func (s *site) signIn(c *http.Client, name, password string) *http.Response {
	s.t.Helper()
	return s.postForm(c, "/login", url.Values{"username": {name}, "password": {password}})
}

func hasSessionCookie(s *site, c *http.Client) bool {
	u, _ := url.Parse(s.url)
	for _, k := range c.Jar.Cookies(u) {
		if k.Name == "mediashare_session" && k.Value != "" {
			return true
		}
	}
	return false
}

func sessionCookieValue(s *site, c *http.Client) string {
	u, _ := url.Parse(s.url)
	for _, k := range c.Jar.Cookies(u) {
		if k.Name == "mediashare_session" {
			return k.Value
		}
	}
	return ""
}

func countType(evs []events.Event, t events.Type) int {
	n := 0
	for _, e := range evs {
		if e.Type == t {
			n++
		}
	}
	return n
}

const goodPassword = "plum-kettle-87-orbit"

// The whole flow over HTTP: a fresh site asks for its admin, the admin
// invites a second person, members upload, a stranger cannot delete,
// an anonymous visitor cannot upload, a revoked session stops working.
func TestAccountsFlow(t *testing.T) { backends(t, testAccountsFlow) }

func testAccountsFlow(t *testing.T, start func(func(*config)) *site) {
	s := start(members())
	admin, bob, stranger := browser(t), browser(t), browser(t)

	// A fresh site asks for its first account, which becomes admin.
	doc := mustDoc(t, s.get(admin, "/"))
	if doc.Find(`[data-testid=first-admin]`).Length() != 1 {
		t.Fatal("a fresh site's gallery does not ask for its admin account")
	}
	if doc.Find(`[data-testid=sign-in-to-upload]`).Length() != 1 || doc.Find(`[data-testid=upload-form]`).Length() != 0 {
		t.Error("a members-only site shows the upload form to a visitor")
	}
	if d := mustDoc(t, s.get(admin, "/signup")); d.Find(`[data-testid=first-admin-note]`).Length() != 1 {
		t.Error("/signup on a fresh site does not say it makes the admin")
	}
	s.signUp(admin, "Alice", goodPassword, "")
	doc = mustDoc(t, s.get(admin, "/account"))
	if doc.Find(`[data-testid=role]`).Text() != "Admin" {
		t.Fatal("the first account is not an admin")
	}
	if doc.Find(`[data-testid=session-current]`).Length() != 1 {
		t.Error("the account page does not list this browser's session")
	}
	if d := mustDoc(t, s.get(stranger, "/")); d.Find(`[data-testid=first-admin]`).Length() != 0 {
		t.Error("the site still asks for an admin after the first account")
	}

	// Later sign-ups need an invite (the default).
	resp := s.postForm(stranger, "/signup", url.Values{"username": {"mallory"}, "password": {goodPassword}})
	if msg, _ := formError(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(msg, "invite") {
		t.Fatalf("sign-up without an invite: %d %q, want 403 naming the invite", resp.StatusCode, msg)
	}

	// The admin makes an invite link; it works once.
	resp = s.postForm(admin, "/admin/invites", url.Values{})
	doc = mustDoc(t, resp)
	link := doc.Find(`[data-testid=invite-link]`).Text()
	if resp.StatusCode != http.StatusCreated || !strings.Contains(link, "/signup?invite=msi_") {
		t.Fatalf("invite: %d, link %q", resp.StatusCode, link)
	}
	lu, _ := url.Parse(link)
	invite := lu.Query().Get("invite")
	if r := s.get(bob, "/signup?invite="+url.QueryEscape(invite)); r.StatusCode != http.StatusOK {
		t.Fatalf("the invite's sign-up page: %d", r.StatusCode)
	}
	s.signUp(bob, "Bob", goodPassword+" bob", invite)
	resp = s.postForm(stranger, "/signup", url.Values{"username": {"mallory"}, "password": {goodPassword}, "invite": {invite}})
	if msg, _ := formError(t, resp); resp.StatusCode != http.StatusConflict || !strings.Contains(msg, "already been used") {
		t.Fatalf("a reused invite: %d %q, want 409 'already been used'", resp.StatusCode, msg)
	}
	if r := s.get(stranger, "/signup?invite="+url.QueryEscape(invite)); r.StatusCode != http.StatusConflict {
		t.Errorf("a used invite's sign-up page: %d, want 409", r.StatusCode)
	}
	if doc := mustDoc(t, s.get(bob, "/account")); doc.Find(`[data-testid=role]`).Length() != 0 {
		t.Error("an invited member is an admin")
	}

	// Anonymous visitors cannot upload on a members' site; members can.
	photo, err := os.ReadFile(mediatest.Photo(t, "Storm.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	before := len(s.mediaFiles())
	resp = s.post(stranger, "/entries", uploadParts("Anon", "no", "Storm.jpg", "image/jpeg", photo), false)
	if msg, _ := formError(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(msg, "sign in") {
		t.Fatalf("anonymous upload on a members' site: %d %q, want 403 asking to sign in", resp.StatusCode, msg)
	}
	if n := len(s.mediaFiles()); n != before {
		t.Fatalf("a refused upload stored %d files", n-before)
	}
	resp = s.post(bob, "/entries", uploadParts("Bob's storm", "mine", "Storm.jpg", "image/jpeg", photo), false)
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("member upload: %d", resp.StatusCode)
	}
	var eib string
	for k := range s.cards(bob) {
		eib = k
	}
	if eib == "" {
		t.Fatal("no card after a member's upload")
	}
	s.waitStatus(bob, eib, "ready")
	for _, e := range s.events() {
		if e.Stream == eib && e.Type == events.MediaUploaded && !strings.HasPrefix(string(e.Actor), "account:user-") {
			t.Errorf("the upload's actor is %q, want the account", e.Actor)
		}
	}
	if d := mustDoc(t, s.get(bob, "/entries/"+eib)); d.Find(`[data-testid=delete]`).Length() == 0 {
		t.Error("the owner's entry page offers no delete")
	}

	// A stranger (anonymous, or another member) cannot delete it.
	carol := browser(t)
	resp = s.postForm(admin, "/admin/invites", url.Values{})
	lu, _ = url.Parse(mustDoc(t, resp).Find(`[data-testid=invite-link]`).Text())
	s.signUp(carol, "Carol", goodPassword+" carol", lu.Query().Get("invite"))
	for name, c := range map[string]*http.Client{"anonymous": stranger, "another member": carol} {
		resp = s.postForm(c, "/entries/"+eib+"/delete", url.Values{})
		if msg, _ := formError(t, resp); resp.StatusCode != http.StatusForbidden || msg == "" {
			t.Errorf("%s's delete: %d %q, want 403 with a message", name, resp.StatusCode, msg)
		}
	}
	if _, ok := s.cards(bob)[eib]; !ok {
		t.Fatal("a refused delete removed the entry")
	}

	// Sessions: a second browser of Bob's, revoked from the first, stops working.
	bob2 := browser(t)
	resp = s.signIn(bob2, "BOB", goodPassword+" bob") // names are the same whatever the case
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther || !hasSessionCookie(s, bob2) {
		t.Fatalf("sign-in as BOB: %d", resp.StatusCode)
	}
	doc = mustDoc(t, s.get(bob, "/account"))
	var other string
	doc.Find(`[data-testid=session]`).Each(func(_ int, sel *goquery.Selection) {
		if sel.Find(`[data-testid=session-current]`).Length() == 0 {
			other = sel.AttrOr("data-session", "")
		}
	})
	if other == "" {
		t.Fatal("the account page does not list the second browser")
	}
	stale := sessionCookieValue(s, bob2)
	resp = s.postForm(bob, "/account/sessions/"+other+"/revoke", url.Values{})
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	resp = s.post(bob2, "/entries", uploadParts("After revoke", "x", "Storm.jpg", "image/jpeg", photo), false)
	if msg, _ := formError(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(msg, "no longer valid") {
		t.Fatalf("upload with a revoked session: %d %q, want 403 'no longer valid'", resp.StatusCode, msg)
	}
	if hasSessionCookie(s, bob2) {
		t.Error("a revoked session's cookie was not cleared")
	}
	// The same cookie sent again still signs nobody in.
	replay := browser(t)
	u, _ := url.Parse(s.url)
	replay.Jar.SetCookies(u, []*http.Cookie{{Name: "mediashare_session", Value: stale, Path: "/"}})
	if r := s.get(replay, "/account"); r.StatusCode != http.StatusForbidden {
		t.Errorf("/account with a revoked session's cookie: %d, want 403", r.StatusCode)
	}

	// Sign out ends the session.
	cookie := sessionCookieValue(s, carol)
	resp = s.postForm(carol, "/logout", url.Values{})
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther || hasSessionCookie(s, carol) {
		t.Fatalf("logout: %d, cookie kept %v", resp.StatusCode, hasSessionCookie(s, carol))
	}
	replay = browser(t)
	replay.Jar.SetCookies(u, []*http.Cookie{{Name: "mediashare_session", Value: cookie, Path: "/"}})
	if r := s.get(replay, "/account"); r.StatusCode != http.StatusForbidden {
		t.Errorf("/account with a signed-out session's cookie: %d, want 403", r.StatusCode)
	}

	// Password change: every other session ends, this browser stays in.
	resp = s.postForm(bob, "/account/password", url.Values{"current": {goodPassword + " bob"}, "password": {"a new and longer secret"}})
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("password change: %d", resp.StatusCode)
	}
	if r := s.get(bob, "/account"); r.StatusCode != http.StatusOK {
		t.Errorf("the browser that changed the password was signed out: %d", r.StatusCode)
	}
	if r := s.signIn(browser(t), "bob", goodPassword+" bob"); r.StatusCode != http.StatusForbidden {
		t.Errorf("the old password still signs in: %d", r.StatusCode)
	}
	if r := s.signIn(browser(t), "bob", "a new and longer secret"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("the new password does not sign in: %d", r.StatusCode)
	}

	evs := s.events()
	if n := countType(evs, events.AccountRegistered); n != 3 {
		t.Errorf("%d AccountRegistered events, want 3", n)
	}
	if n := countType(evs, events.PasswordChanged); n != 1 {
		t.Errorf("%d PasswordChanged events, want 1", n)
	}
	// The history page lists account events without breaking.
	if r := s.get(admin, "/history"); r.StatusCode != http.StatusOK {
		t.Errorf("/history: %d", r.StatusCode)
	}
}

// An anonymous upload, then sign-up in the same browser: the account
// keeps the entry (an EntryClaimed on its stream), may delete it, and the
// entry is listed on the account page.
func TestAnonymousUploadsAreClaimed(t *testing.T) { backends(t, testAnonymousUploadsAreClaimed) }

func testAnonymousUploadsAreClaimed(t *testing.T, start func(func(*config)) *site) {
	s := start(func(c *config) { c.Uploads, c.SignUp = "anyone", "open" })
	admin, visitor := browser(t), browser(t)
	s.signUp(admin, "root", goodPassword, "")
	photo, err := os.ReadFile(mediatest.Photo(t, "Storm.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	resp := s.post(visitor, "/entries", uploadParts("Before I had an account", "anonymous", "Storm.jpg", "image/jpeg", photo), false)
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("anonymous upload: %d", resp.StatusCode)
	}
	var eib string
	for k := range s.cards(visitor) {
		eib = k
	}
	s.waitStatus(visitor, eib, "ready")

	s.signUp(visitor, "Dana", goodPassword+" dana", "")
	evs := s.events()
	if got := streamTypes(evs, eib); got != "MediaUploaded,ThumbnailGenerated,PreviewGenerated,EntryClaimed" {
		t.Fatalf("the entry's stream: %s, want the claim last", got)
	}
	var account string
	for _, e := range evs {
		if e.Stream == eib && e.Type == events.EntryClaimed {
			account = strings.TrimPrefix(string(e.Actor), "account:")
		}
	}
	if !events.IsAccountStream(account) {
		t.Fatalf("the claim's actor names no account: %q", account)
	}
	doc := mustDoc(t, s.get(visitor, "/account"))
	if doc.Find(`[data-testid=my-uploads] [data-testid=card]`).Length() != 1 {
		t.Error("the account page does not list the claimed entry")
	}
	// Another browser of the same account (no owner cookie in common) owns it.
	other := browser(t)
	readBody(t, s.signIn(other, "dana", goodPassword+" dana"))
	if d := mustDoc(t, s.get(other, "/entries/"+eib)); d.Find(`[data-testid=delete]`).Length() == 0 {
		t.Error("the account's other browser may not delete the claimed entry")
	}
	// A second sign-in claims nothing more.
	readBody(t, s.signIn(visitor, "dana", goodPassword+" dana"))
	if n := countType(s.events(), events.EntryClaimed); n != 1 {
		t.Errorf("%d EntryClaimed events after a second sign-in, want 1", n)
	}
	// A stranger's anonymous browser may not delete it any more.
	resp = s.postForm(browser(t), "/entries/"+eib+"/delete", url.Values{})
	if readBody(t, resp); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a stranger's delete of a claimed entry: %d, want 403", resp.StatusCode)
	}
}

// --quota-bytes: an upload over the account's quota is 413 with a
// message, and nothing is stored.
func TestQuota(t *testing.T) { backends(t, testQuota) }

func testQuota(t *testing.T, start func(func(*config)) *site) {
	photo, err := os.ReadFile(mediatest.Photo(t, "Storm.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	s := start(members(func(c *config) { c.QuotaBytes = int64(len(photo)) * 3 / 2 }))
	alice := browser(t)
	s.signUp(alice, "alice", goodPassword, "")
	resp := s.post(alice, "/entries", uploadParts("First", "fits", "Storm.jpg", "image/jpeg", photo), false)
	if readBody(t, resp); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the first upload: %d", resp.StatusCode)
	}
	for eib := range s.cards(alice) {
		s.waitStatus(alice, eib, "ready")
	}
	files, evs := len(s.mediaFiles()), len(s.events())
	resp = s.post(alice, "/entries", uploadParts("Second", "too much", "Storm.jpg", "image/jpeg", photo), false)
	msg, field := formError(t, resp)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(msg, "quota") || field != "file" {
		t.Fatalf("over the quota: %d %q (field %q), want 413 naming the quota", resp.StatusCode, msg, field)
	}
	time.Sleep(200 * time.Millisecond)
	if f, e := len(s.mediaFiles()), len(s.events()); f > files || e != evs {
		t.Errorf("a refused upload left %d files and %d events", f-files, e-evs)
	}
}

// Failed sign-ins are limited per name: past the limit the answer is 429
// with Retry-After and a message, even with the right password; an
// unknown name and a wrong password answer alike.
func TestSignInIsRateLimited(t *testing.T) { backends(t, testSignInIsRateLimited) }

func testSignInIsRateLimited(t *testing.T, start func(func(*config)) *site) {
	s := start(members(func(c *config) { c.SignInFailures = 3 }))
	s.signUp(browser(t), "erin", goodPassword, "")
	unknown := s.signIn(browser(t), "nobody-here", "whatever-it-is-123")
	unknownMsg, _ := formError(t, unknown)
	wrong := s.signIn(browser(t), "erin", "not the password 1")
	wrongMsg, _ := formError(t, wrong)
	if unknown.StatusCode != wrong.StatusCode || unknownMsg != wrongMsg || wrong.StatusCode != http.StatusForbidden {
		t.Errorf("unknown name: %d %q; wrong password: %d %q; want the same 403", unknown.StatusCode, unknownMsg, wrong.StatusCode, wrongMsg)
	}
	var last *http.Response
	for i := 0; i < 3; i++ {
		last = s.signIn(browser(t), "Erin", "not the password 2")
		readBody(t, last)
	}
	if last.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the third failure: %d, want 429", last.StatusCode)
	}
	resp := s.signIn(browser(t), "erin", goodPassword)
	msg, _ := formError(t, resp)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(msg, "Too many failed sign-ins") {
		t.Fatalf("the right password past the limit: %d, Retry-After %q, %q; want 429 with Retry-After and a message",
			resp.StatusCode, resp.Header.Get("Retry-After"), msg)
	}
}

// The quota holds for uploads through the API too: a token's account over
// its quota gets 413 in JSON, nothing stored.
func TestQuotaThroughTheAPI(t *testing.T) {
	photo, err := os.ReadFile(mediatest.Photo(t, "Storm.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	s := startSite(t, members(func(c *config) { c.QuotaBytes = int64(len(photo)) * 3 / 2 }))
	acct := s.mustAccount("quinn", "member")
	token, _ := s.mustToken(acct, "upload,read", time.Time{})
	body, ct := apiUpload(t, []part{{name: "title", data: []byte("First")}, {name: "comment", data: []byte("fits")},
		{name: "file", filename: "Storm.jpg", contentType: "image/jpeg", data: photo}})
	if res := s.api(apiCall{method: "POST", path: "/api/v1/entries", token: token, body: body, contentType: ct}); res.code != http.StatusCreated {
		t.Fatalf("the first upload: %d %s", res.code, res.body)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ready := false
		for _, e := range s.events() {
			ready = ready || e.Type == events.ThumbnailGenerated
		}
		if ready {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first upload's thumbnail was not made")
		}
	}
	files, evs := len(s.mediaFiles()), len(s.events())
	other := append(append([]byte(nil), photo...), 0) // other bytes: not a duplicate
	body, ct = apiUpload(t, []part{{name: "title", data: []byte("Second")}, {name: "comment", data: []byte("too much")},
		{name: "file", filename: "Storm2.jpg", contentType: "image/jpeg", data: other}})
	res := s.api(apiCall{method: "POST", path: "/api/v1/entries", token: token, body: body, contentType: ct})
	if _, msg := res.errorBody(t); res.code != http.StatusRequestEntityTooLarge || !strings.Contains(msg, "quota") {
		t.Fatalf("over the quota through the API: %d %q; want 413 naming the quota", res.code, msg)
	}
	time.Sleep(200 * time.Millisecond)
	if f, e := len(s.mediaFiles()), len(s.events()); f > files || e != evs {
		t.Errorf("a refused API upload left %d files and %d events", f-files, e-evs)
	}
}
