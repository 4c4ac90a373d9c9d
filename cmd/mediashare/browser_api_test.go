package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// In a real browser: a token made on /account is shown once and listed
// with its scopes; an upload through the API with it gives a deletion
// link, which shows its confirmation page and deletes the entry when its
// button is pressed (a same-origin form post, through the cross-origin
// check), while another browser's gallery loses the card.
func TestBrowserAPITokenAndDeletionLink(t *testing.T) {
	s := startSite(t, members())
	c := newChrome(t)
	c.open(s.url + "/signup")
	c.fillAuth("signup-form", "ivan", goodPassword)
	c.waitNavigated("signed in", `location.pathname === "/" && !!document.querySelector("[data-testid=account-link]")`, 15*time.Second)

	c.open(s.url + "/account")
	c.eval(`document.querySelector("#token-name").value = "browser tool"; document.querySelector("input[name=scope][value=delete]").checked = true; true`)
	c.run(chromedp.Click(chromedp.CSS(`[data-testid=token-create]`)))
	c.waitNavigated("the new token", `!!document.querySelector("[data-testid=token-secret]")`, 15*time.Second)
	secret := strings.TrimSpace(evalAs[string](c, `document.querySelector("[data-testid=token-secret]").textContent`))
	if !strings.HasPrefix(secret, "mst_") {
		t.Fatalf("token shown: %q", secret)
	}
	if scopes := evalAs[string](c, `document.querySelector("[data-testid=token]").textContent`); !strings.Contains(scopes, "read, upload, delete") {
		t.Errorf("the token's row: %q", scopes)
	}
	if !evalAs[bool](c, `!!document.querySelector("[data-testid=sharex-form] input[type=hidden][name=token]")`) {
		t.Error("no ShareX download offered for an upload token")
	}
	c.screenshot("account-token")

	b, ct := apiUpload(t, uploadParts("via the API", "from a tool", "p.png", "image/png", smallPNG(t, 11)))
	r := s.api(apiCall{method: "POST", path: "/api/v1/entries", token: secret, body: b, contentType: ct})
	if r.code != 201 {
		t.Fatalf("upload: %d %s", r.code, r.body)
	}
	up := mustJSON[uploadedJSON](t, r)

	watcher := newChrome(t)
	watcher.open(s.url + "/")
	watcher.waitLive()
	watcher.waitJS("the card", `!!document.querySelector('[data-eib="`+up.EIB+`"]')`, 30*time.Second)

	c.open(up.DeletionURL)
	c.waitJS("the confirmation page", `!!document.querySelector("[data-testid=deletion-confirm]")`, 10*time.Second)
	c.screenshot("deletion-link")
	c.run(chromedp.Click(chromedp.CSS(`[data-testid=deletion-confirm]`)))
	c.waitNavigated("deleted", `!!document.querySelector("[data-testid=deletion-done]")`, 15*time.Second)
	watcher.waitJS("the card gone from the other browser", `!document.querySelector('[data-eib="`+up.EIB+`"]')`, 30*time.Second)
	if r := s.api(apiCall{method: "GET", path: "/api/v1/entries/" + up.EIB}); r.code != 404 {
		t.Errorf("after the deletion link: %d", r.code)
	}
}
