package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Reporting and the admins' queue in a real browser: a visitor opens the
// report form on an entry page, a report without what "other" needs shows
// its message, a good one thanks them; the admin finds it at /admin with
// its text, erases the entry from there with a reason, and the queue is
// empty while the gallery lost the card.
func TestBrowserReportAndAdminQueue(t *testing.T) {
	s := startSite(t, nil)
	admin, visitor := newChrome(t), newChrome(t)
	admin.open(s.url + "/signup")
	admin.fillAuth("signup-form", "root", goodPassword)
	admin.waitJS("the admin signed in", `!!document.querySelector("[data-testid=account-link]")`, 15*time.Second)

	p := newPersonal(t)
	eib := uploadPersonal(t, s, browser(t), p)

	visitor.open(s.url + "/entries/" + eib)
	visitor.waitJS("the report form", `!!document.querySelector("[data-testid=report-form]")`, 10*time.Second)
	visitor.run(chromedp.Click(chromedp.CSS(`[data-testid=report-form] summary`)))
	visitor.eval(`document.querySelector("[data-testid=report-reason]").value = "other"; true`)
	visitor.run(chromedp.Click(chromedp.CSS(`[data-testid=report]`)))
	visitor.waitJS("the message for other without a text", `/say what is wrong/.test((document.querySelector("[data-testid=error-message]")||{}).textContent||"")`, 10*time.Second)

	visitor.open(s.url + "/entries/" + eib)
	visitor.run(chromedp.Click(chromedp.CSS(`[data-testid=report-form] summary`)))
	text, _ := json.Marshal("it shows my house")
	visitor.eval(fmt.Sprintf(`document.querySelector("[data-testid=report-reason]").value = "privacy"; document.querySelector("[data-testid=report-text]").value = %s; true`, text))
	visitor.run(chromedp.Click(chromedp.CSS(`[data-testid=report]`)))
	visitor.waitJS("the thanks", `!!document.querySelector("[data-testid=report-sent]")`, 10*time.Second)
	visitor.screenshot("report-sent")

	admin.open(s.url + "/admin")
	admin.waitJS("the reported entry in the queue", fmt.Sprintf(`(() => { const e = document.querySelector('[data-testid=reported][data-eib=%q]'); return !!e && /it shows my house/.test(e.textContent) && /privacy/.test(e.textContent) })()`, eib), 10*time.Second)
	admin.screenshot("admin-queue")
	reason, _ := json.Marshal("a privacy complaint")
	admin.eval(fmt.Sprintf(`document.querySelector("[data-testid=admin-erase-reason]").value = %s; true`, reason))
	admin.run(chromedp.Click(chromedp.CSS(`[data-testid=admin-erase]`)))
	admin.waitJS("the queue empty after the erase", `!!document.querySelector("[data-testid=admin-notice]") && !!document.querySelector("[data-testid=queue-empty]")`, 15*time.Second)

	if s.cards(browser(t))[eib] != nil {
		t.Error("the erased entry is still in the gallery")
	}
	visitor.open(s.url + "/history?entry=" + eib)
	visitor.waitJS("the erasure in the history", `/erased by account:/.test(document.body.textContent) && /a privacy complaint/.test(document.body.textContent) && !document.body.textContent.includes(`+jsString(p.title)+`)`, 10*time.Second)
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
