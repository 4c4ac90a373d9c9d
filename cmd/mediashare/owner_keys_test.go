package main

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Rotating the signing key keeps every owner's rights; a key dropped too
// early costs no one their cookie: it is kept, the page says the
// ownership could not be verified, and uploads are refused with nothing
// stored until the key is back.
func TestOwnerKeyRotation(t *testing.T) {
	data, secret := t.TempDir(), filepath.Join(t.TempDir(), "keys")
	start := func(keys string) *site {
		if err := os.WriteFile(secret, []byte(keys), 0o600); err != nil {
			t.Fatal(err)
		}
		return startSite(t, func(c *config) { c.Data, c.SecretFile = data, secret })
	}
	const oldKey, newKey = "old-key-0123456789abcdef", "new-key-0123456789abcdef"
	alice := browser(t)

	s := start(oldKey + "\n")
	readBody(t, s.post(alice, "/entries", uploadParts("mine", "c", "p.png", "image/png", smallPNG(t, 1)), false))
	var eib string
	for k := range s.cards(alice) {
		eib = k
	}
	s.stop()

	s = start("# newest first\n" + newKey + "\n" + oldKey + "\n")
	if mustDoc(t, s.get(alice, "/entries/"+eib)).Find(`[data-testid=delete-form]`).Length() != 1 {
		t.Fatal("after rotation the owner lost the right to delete")
	}
	s.stop()

	s = start(newKey + "\n") // the old key dropped while cookies still carry it
	u, _ := url.Parse(s.url)
	before := alice.Jar.Cookies(u)
	resp := s.get(alice, "/")
	if len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Errorf("an unverified cookie was replaced: %v", resp.Header.Values("Set-Cookie"))
	}
	doc := mustDoc(t, resp)
	if !strings.Contains(doc.Find(`[data-testid=owner-unverified]`).Text(), "could not be verified") {
		t.Error("the page does not say the ownership could not be verified")
	}
	if doc.Find(`[data-testid=delete-form]`).Length() != 0 {
		t.Error("an unverified browser is offered a delete")
	}
	for _, htmx := range []bool{true, false} {
		resp = s.post(alice, "/entries", uploadParts("refused", "c", "p.png", "image/png", smallPNG(t, 2)), htmx)
		msg := mustDoc(t, resp).Find(`[data-testid=form-error]`).Text()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(msg, "could not be verified") {
			t.Errorf("htmx %v: upload with an unverified cookie: %d %q, want 403 with the message", htmx, resp.StatusCode, msg)
		}
	}
	if after := alice.Jar.Cookies(u); len(after) != len(before) || after[0].Value != before[0].Value {
		t.Errorf("cookie changed: %v → %v", before, after)
	}
	for _, e := range s.events() {
		if e.Stream != eib {
			t.Errorf("an event of another entry was appended: %s %s", e.Type, e.Stream)
		}
	}
	resp, _ = http.Get(s.url + "/metrics")
	if !bytes.Contains(readBody(t, resp), []byte("mediashare_owner_cookie_unverified_total")) {
		t.Error("unverified cookies are not counted")
	}
}

func TestLoadSecret(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o600)
		return p
	}
	fresh := filepath.Join(dir, "new", "secret.key")
	keys, err := loadSecret(fresh)
	if err != nil || len(keys) != 1 {
		t.Fatalf("created: %v, %v", keys, err)
	}
	again, err := loadSecret(fresh)
	if err != nil || len(again) != 1 || !bytes.Equal(again[0], keys[0]) {
		t.Fatalf("read back: %q, want %q (%v)", again, keys, err)
	}
	binary := []byte{0, 1, 2, 10, 255, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}
	if k, err := loadSecret(write("binary", binary)); err != nil || len(k) != 1 || !bytes.Equal(k[0], binary) {
		t.Errorf("an old binary key (with a newline byte) is one key: %q, %v", k, err)
	}
	if k, err := loadSecret(write("two", []byte("first-key-1234567890\r\n\n# note\nsecond-key-123456789\n"))); err != nil || len(k) != 2 || string(k[0]) != "first-key-1234567890" {
		t.Errorf("two keys: %q, %v", k, err)
	}
	for name, b := range map[string]string{"short": "short\n", "empty": "\n# only a comment\n", "tiny binary": "\x00\x01"} {
		if _, err := loadSecret(write(name, []byte(b))); err == nil || !strings.Contains(err.Error(), "--secret-file") {
			t.Errorf("%s: got %v, want an error naming --secret-file", name, err)
		}
	}
}
