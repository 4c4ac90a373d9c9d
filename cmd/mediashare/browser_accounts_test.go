package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"mediashare/internal/media/mediatest"
)

// fillAuth types a username and a password into the page's form and
// sends it, as a person would.
func (c *chrome) fillAuth(form, username, password string) {
	c.t.Helper()
	u, _ := json.Marshal(username)
	p, _ := json.Marshal(password)
	c.eval(fmt.Sprintf(`document.querySelector("#username").value = %s; document.querySelector("#password").value = %s; true`, u, p))
	c.run(chromedp.Click(chromedp.CSS(`[data-testid=` + form + `] button[type=submit]`)))
}

// A fresh site in a real browser: the gallery asks for the admin
// account, sign-up makes it and signs in, a member-only upload works,
// sign-out and a wrong password show their messages, sign-in works.
func TestBrowserSignUpAndSignIn(t *testing.T) {
	s := startSite(t, members())
	c := newChrome(t)
	c.open(s.url + "/")
	c.waitJS("the first-admin prompt", `!!document.querySelector("[data-testid=first-admin]") && !!document.querySelector("[data-testid=sign-in-to-upload]")`, 10*time.Second)
	c.run(chromedp.Click(chromedp.CSS(`[data-testid=first-admin] a`)))
	c.waitJS("the sign-up page", `!!document.querySelector("[data-testid=first-admin-note]")`, 10*time.Second)

	// Bad input first: the message beside the form, nothing made.
	c.fillAuth("signup-form", "ada", "short")
	c.waitJS("the password message", `(document.querySelector("[data-testid=form-error]")||{}).dataset?.field === "password"`, 10*time.Second)
	if v := evalAs[string](c, `document.querySelector("#username").value`); v != "ada" {
		t.Errorf("the name typed was not kept: %q", v)
	}
	c.fillAuth("signup-form", "ada", goodPassword)
	c.waitJS("signed in on the gallery", `location.pathname === "/" && (document.querySelector("[data-testid=account-link]")||{}).textContent === "ada"`, 15*time.Second)
	if evalAs[bool](c, `!!document.querySelector("[data-testid=first-admin]")`) {
		t.Error("the gallery still asks for an admin")
	}
	c.screenshot("signed-in")

	// Signed in, the upload form is there and works.
	c.uploadUI("From the browser", "as a member", mediatest.Photo(t, "Storm.jpg"))
	c.waitJS("the new card", `document.querySelectorAll("[data-testid=card]").length === 1`, 30*time.Second)

	// Sign out, a wrong password, then the right one.
	c.run(chromedp.Click(chromedp.CSS(`[data-testid=nav-logout]`)))
	c.waitJS("signed out", `!!document.querySelector("[data-testid=login-link]")`, 10*time.Second)
	c.run(chromedp.Click(chromedp.CSS(`[data-testid=login-link]`)))
	c.waitJS("the sign-in page", `!!document.querySelector("[data-testid=login-form]")`, 10*time.Second)
	c.fillAuth("login-form", "ADA", "not the password at all")
	c.waitJS("the sign-in message", `/wrong/.test((document.querySelector("[data-testid=form-error]")||{}).textContent||"")`, 10*time.Second)
	c.fillAuth("login-form", "ADA", goodPassword)
	c.waitJS("signed in again", `location.pathname === "/" && !!document.querySelector("[data-testid=account-link]")`, 15*time.Second)
	c.run(chromedp.Click(chromedp.CSS(`[data-testid=account-link]`)))
	c.waitJS("the account page", `document.querySelectorAll("[data-testid=session]").length >= 1 && document.querySelectorAll("[data-testid=my-uploads] [data-testid=card]").length === 1`, 10*time.Second)
	c.screenshot("account")
}
