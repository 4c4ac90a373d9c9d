package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"mediashare/internal/media/mediatest"
)

// requireIntegration is set in CI: a missing tool fails instead of skipping.
func requireIntegration() bool { return os.Getenv("MEDIASHARE_REQUIRE_INTEGRATION") == "1" }

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if requireIntegration() {
		t.Fatal("chromium not found: install Debian's chromium package (apt-get install -y chromium)")
	}
	t.Skip("chromium not found; install it (apt-get install -y chromium) to run the browser tests")
	return ""
}

// chrome is one headless browser with its own profile (its own cookies).
type chrome struct {
	t   *testing.T
	ctx context.Context
}

func newChrome(t *testing.T) *chrome {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser; no timeout on this first call
		t.Fatalf("start chromium: %v", err)
	}
	// Accept confirmation dialogs (hx-confirm on delete).
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return &chrome{t: t, ctx: ctx}
}

func (c *chrome) run(steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		c.t.Fatalf("browser: %v", err)
	}
}

// evalAs runs JavaScript in the page and decodes its result.
func evalAs[T any](c *chrome, js string) T {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		c.t.Fatalf("browser: evaluate %.80q: %v", js, err)
	}
	return v
}

func (c *chrome) eval(js string) { evalAs[any](c, js) }

// waitJS polls a JavaScript condition until it is true or the time is up.
func (c *chrome) waitJS(what, js string, within time.Duration) time.Duration {
	c.t.Helper()
	start := time.Now()
	for {
		if evalAs[bool](c, js) {
			return time.Since(start)
		}
		if time.Since(start) > within {
			c.t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// open loads a page and waits until htmx and the live stream are up.
func (c *chrome) open(url string) {
	c.t.Helper()
	c.run(chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body")))
	c.eval(`window.__sseOpens = 0; document.addEventListener("htmx:sseOpen", () => window.__sseOpens++); true`)
}

func (c *chrome) waitLive() {
	c.t.Helper()
	// The stream may have opened before the counter was installed.
	c.waitJS("live stream open", `(() => { const el = document.querySelector("[sse-connect]"); const s = el && htmx && el["htmx-internal-data"] && el["htmx-internal-data"].sseEventSource; return !!s && s.readyState === 1; })()`, 10*time.Second)
}

func cardJS(eib, cond string) string {
	return fmt.Sprintf(`(() => { const c = document.querySelectorAll('[data-eib="%s"]'); return %s; })()`, eib, cond)
}

// uploadUI fills the upload form and sends it, as a person would.
func (c *chrome) uploadUI(title, comment string, files ...string) {
	c.t.Helper()
	c.waitJS("the upload form is ready", `!document.querySelector("[data-testid=upload-form] fieldset").disabled`, 10*time.Second)
	t, _ := json.Marshal(title)
	m, _ := json.Marshal(comment)
	c.eval(fmt.Sprintf(`document.querySelector("#title").value = %s; document.querySelector("#comment").value = %s; true`, t, m))
	c.run(
		chromedp.SetUploadFiles(chromedp.CSS(`#file`), files),
		chromedp.Click(chromedp.CSS(`[data-testid=upload-form] button[type=submit]`)),
	)
}

func (c *chrome) screenshot(name string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 60*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		c.t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("MEDIASHARE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		c.t.Fatal(err)
	}
}

func newestEIB(c *chrome) string {
	return evalAs[string](c, `(document.querySelector("[data-testid=card]") || {dataset: {}}).dataset.eib || ""`)
}

// Two browsers on one instance: an upload in one shows up in the other
// with its thumbnail, and a delete disappears, each within 2 s.
func TestBrowserLiveGalleryTwoBrowsers(t *testing.T) {
	s := startSite(t, func(c *config) { c.TrashRetention = 0 }) // the delete purges at once (TestBrowserTrashAndRestore has the trash)
	alice, bob := newChrome(t), newChrome(t)
	alice.open(s.url + "/")
	bob.open(s.url + "/")
	alice.waitLive()
	bob.waitLive()

	alice.uploadUI("Storm over the sea", "seen from the dunes", mediatest.Photo(t, "Storm.jpg"))
	alice.waitJS("the uploader sees the new card", `document.querySelectorAll("[data-testid=card]").length === 1`, 10*time.Second)
	eib := newestEIB(alice)
	took := bob.waitJS("the other browser shows the card with its thumbnail",
		cardJS(eib, `c.length === 1 && !!c[0].querySelector("img[data-testid=thumbnail]") && c[0].querySelector("img").complete && c[0].querySelector("img").naturalWidth > 0`), 2*time.Second*slowdown)
	t.Logf("upload visible with thumbnail in the second browser after %s", took)
	if !evalAs[bool](bob, `!document.getElementById("empty")`) {
		t.Error("the empty-gallery invitation stayed after a card arrived")
	}
	alice.waitJS("the uploader's card turns ready, once", cardJS(eib, `c.length === 1 && c[0].dataset.status === "ready"`), 5*time.Second)
	alice.screenshot("gallery")
	s.waitPreview(eib) // made after the grid thumbnail, at a lower priority
	alice.waitJS("the card names the preview in its srcset (the live swap done)", cardJS(eib, `c.length === 1 && /1280w/.test(c[0].querySelector("img").getAttribute("srcset") || "")`), 10*time.Second*slowdown)

	// Alice opens the entry and deletes it.
	alice.run(chromedp.Click(chromedp.CSS(`[data-eib="`+eib+`"] a`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=entry]`)))
	alice.screenshot("entry")
	alice.run(chromedp.Click(chromedp.CSS(`[data-testid=delete]`)))
	took = bob.waitJS("the deleted card leaves the other browser", cardJS(eib, `c.length === 0`), 2*time.Second*slowdown)
	t.Logf("delete visible in the second browser after %s", took)
	alice.waitJS("the owner is back on the gallery without the entry", `location.pathname === "/" && `+cardJS(eib, `c.length === 0`), 5*time.Second)
	waitFor(t, "purge", func() bool { return len(s.events()) == 5 })
	alice.open(s.url + "/history")
	alice.waitJS("the history lists the five events", `document.querySelectorAll("[data-testid=event]").length === 5`, 5*time.Second)
	alice.screenshot("history")
}

// A dropped live stream reconnects with the last event id: no duplicate
// and no missing card.
func TestBrowserReconnectMissesNothing(t *testing.T) {
	s := startSite(t, nil)
	b := newChrome(t)
	b.open(s.url + "/")
	b.waitLive()
	c := browser(t)
	post := func(title string, i int) {
		resp := s.post(c, "/entries", uploadParts(title, "c", "p.png", "image/png", smallPNG(t, i)), false)
		readBody(t, resp)
	}
	post("before the drop", 1)
	b.waitJS("first card", `document.querySelectorAll("[data-testid=card]").length === 1`, 5*time.Second)

	opensBefore := evalAs[int](b, `window.__sseOpens`)
	s.app.hub.DropAll() // every stream is cut, as by a load balancer or a slow client
	post("during the drop 1", 2)
	post("during the drop 2", 3)
	b.waitJS("the cards made while disconnected arrive, each once and ready",
		`(() => { const cs = [...document.querySelectorAll("[data-testid=card]")]; const ids = new Set(cs.map(c => c.id));
		  return cs.length === 3 && ids.size === 3 && cs.every(c => c.dataset.status === "ready"); })()`, 10*time.Second)
	titles := evalAs[string](b, `[...document.querySelectorAll("[data-testid=card] [data-testid=title]")].map(e => e.textContent).join("|")`)
	if titles != "during the drop 2|during the drop 1|before the drop" {
		t.Errorf("cards after the reconnect: %s", titles)
	}
	if opens := evalAs[int](b, `window.__sseOpens`); opens <= opensBefore {
		t.Errorf("the stream did not reopen after the drop (opens %d before, %d after)", opensBefore, opens)
	}
}

// The progress bar shows for a large photo; several files make one entry
// each; a rejected file shows its message beside its name.
func TestBrowserUploadProgressAndSeveralFiles(t *testing.T) {
	s := startSite(t, nil)
	b := newChrome(t)
	b.open(s.url + "/")
	b.waitLive()
	b.eval(`window.__progress = []; document.addEventListener("htmx:xhr:progress", () => {
		const bar = document.querySelector("[data-testid=upload-form] progress");
		window.__progress.push([bar.classList.contains("active"), bar.value, bar.max]); }); true`)
	b.uploadUI("Elephants", "a large progressive JPEG", mediatest.Photo(t, "Elephants_5640x3172.jpg"))
	b.waitJS("the big upload lands", `document.querySelectorAll("[data-testid=card]").length === 1`, 30*time.Second)
	progress := evalAs[[][]any](b, `window.__progress`)
	if len(progress) == 0 {
		t.Fatal("no upload progress was reported for a 16 MB file")
	}
	shown := false
	for _, p := range progress {
		if p[0] == true && p[1].(float64) > 0 {
			shown = true
		}
	}
	if !shown {
		t.Errorf("the progress bar never showed progress: %v", progress)
	}
	// The card can arrive over /live before the upload's own response has
	// finished: wait for that response to re-enable the form.
	b.waitJS("the form is enabled again after the upload", `!document.querySelector("[data-testid=upload-form] fieldset").disabled`, 15*time.Second)

	bad := filepath.Join(t.TempDir(), "holiday.jpg")
	os.WriteFile(bad, []byte("<html>not a picture</html>"), 0o644)
	b.uploadUI("", "three at once", mediatest.Photo(t, "RainDrops.jpg"), bad, mediatest.Photo(t, "Gulp.png"))
	b.waitJS("two more cards", `document.querySelectorAll("[data-testid=card]").length === 3`, 20*time.Second)
	b.run(chromedp.WaitVisible(chromedp.CSS(`[data-testid=file-error]`)))
	msg := evalAs[string](b, `document.querySelector("[data-testid=file-error]").textContent`)
	if !strings.Contains(msg, "holiday.jpg") || !strings.Contains(msg, "Only JPEG, PNG, GIF") {
		t.Errorf("the rejected file's message: %q", msg)
	}
	titles := evalAs[string](b, `[...document.querySelectorAll("[data-testid=card] [data-testid=title]")].map(e => e.textContent).sort().join("|")`)
	if titles != "Elephants|Gulp|RainDrops" {
		t.Errorf("titles %q, want the two file names and Elephants", titles)
	}
}

// Two browsers on two instances sharing one moto backend: an upload in one
// shows up in the other with its thumbnail, and a delete disappears, each
// within 2 s.
func TestBrowserLiveGalleryTwoInstances(t *testing.T) {
	c := defaultConfig(t)
	awsConfig(t, &c)
	a, b := startProcess(t, c), startProcess(t, c)
	alice, bob := newChrome(t), newChrome(t)
	alice.open(a.url + "/")
	bob.open(b.url + "/")
	alice.waitLive()
	bob.waitLive()

	alice.uploadUI("Rain drops", "uploaded through instance A", mediatest.Photo(t, "RainDrops.jpg"))
	alice.waitJS("the uploader sees the new card", `document.querySelectorAll("[data-testid=card]").length === 1`, 10*time.Second)
	eib := newestEIB(alice)
	took := bob.waitJS("the browser on instance B shows the card with its thumbnail",
		cardJS(eib, `c.length === 1 && !!c[0].querySelector("img[data-testid=thumbnail]") && c[0].querySelector("img").complete && c[0].querySelector("img").naturalWidth > 0`), 10*time.Second*slowdown)
	// The bound covers making the thumbnail (pure Go, on a loaded 2-core
	// machine); the latency itself is measured by bench:live.
	t.Logf("upload through A visible with thumbnail on B after %s", took)

	alice.run(chromedp.Navigate(a.url+"/entries/"+eib), chromedp.WaitVisible(chromedp.CSS(`[data-testid=entry]`)))
	alice.run(chromedp.Click(chromedp.CSS(`[data-testid=delete]`)))
	took = bob.waitJS("the deleted card leaves instance B's page", cardJS(eib, `c.length === 0`), 5*time.Second*slowdown)
	t.Logf("delete through A visible on B after %s", took)

	// It went to alice's trash; restored there through A, it comes back
	// to B's page with its thumbnail (no new decode).
	alice.waitNavigated("alice is back on the gallery", `location.pathname === "/" && document.readyState === "complete"`, 10*time.Second)
	alice.run(chromedp.Navigate(a.url+"/trash"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=trash-item][data-eib="`+eib+`"]`)))
	alice.run(chromedp.Click(chromedp.CSS(`[data-testid=trash-item][data-eib="`+eib+`"] [data-testid=restore]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=entry]`)))
	took = bob.waitJS("the restored card comes back to instance B's page with its thumbnail",
		cardJS(eib, `c.length === 1 && !!c[0].querySelector("img[data-testid=thumbnail]") && c[0].querySelector("img").complete && c[0].querySelector("img").naturalWidth > 0`), 5*time.Second*slowdown)
	t.Logf("restore through A visible on B after %s", took)
}

// Files dropped on the page are uploaded through the form.
func TestBrowserDragAndDrop(t *testing.T) {
	s := startSite(t, nil)
	b := newChrome(t)
	b.open(s.url + "/")
	b.waitLive()
	photo, err := os.ReadFile(mediatest.Photo(t, "Storm.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	// Two different photos: the same bytes twice would be one entry and a duplicate.
	other, err := os.ReadFile(mediatest.Photo(t, "RainDrops.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	data, data2 := base64.StdEncoding.EncodeToString(photo), base64.StdEncoding.EncodeToString(other)
	b.eval(`document.querySelector("#comment").value = "dropped in"; true`)
	// A drop as the browser makes it: a DataTransfer holding files.
	b.eval(fmt.Sprintf(`(() => {
		const bytes = Uint8Array.from(atob(%q), c => c.charCodeAt(0));
		const bytes2 = Uint8Array.from(atob(%q), c => c.charCodeAt(0));
		const dt = new DataTransfer();
		dt.items.add(new File([bytes], "dropped_storm.jpg", {type: "image/jpeg"}));
		dt.items.add(new File([bytes2], "second-storm.jpg", {type: "image/jpeg"}));
		const fire = (type) => document.body.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: dt}));
		fire("dragenter");
		if (!document.body.classList.contains("dragging")) throw new Error("no drop hint while dragging");
		fire("dragover");
		fire("drop");
		return true;
	})()`, data, data2))
	b.waitJS("two dropped files become two entries", `document.querySelectorAll("[data-testid=card]").length === 2`, 20*time.Second)
	titles := evalAs[string](b, `[...document.querySelectorAll("[data-testid=card] [data-testid=title]")].map(e => e.textContent).sort().join("|")`)
	if titles != "dropped storm|second storm" {
		t.Errorf("titles %q, want the files' names", titles)
	}
	if evalAs[bool](b, `document.body.classList.contains("dragging")`) {
		t.Error("the drop hint stayed after the drop")
	}
}

// Delete, trash and restore in the browser: the owner's delete takes the
// card off another browser's gallery at once; the trash page lists it
// with its date; its restore button brings the card back, with its
// thumbnail, to the other browser; sending the same photo again says it
// is there already.
func TestBrowserTrashAndRestore(t *testing.T) {
	s := startSite(t, nil) // the default trash, 720h
	alice, bob := newChrome(t), newChrome(t)
	alice.open(s.url + "/")
	bob.open(s.url + "/")
	alice.waitLive()
	bob.waitLive()

	alice.uploadUI("Rain on the window", "kept in the trash", mediatest.Photo(t, "RainDrops.jpg"))
	alice.waitJS("the uploader sees the new card", `document.querySelectorAll("[data-testid=card]").length === 1`, 10*time.Second)
	eib := newestEIB(alice)
	withThumb := `c.length === 1 && !!c[0].querySelector("img[data-testid=thumbnail]") && c[0].querySelector("img").complete && c[0].querySelector("img").naturalWidth > 0`
	bob.waitJS("the other browser shows the card with its thumbnail", cardJS(eib, withThumb), 10*time.Second*slowdown)
	s.waitPreview(eib)

	alice.run(chromedp.Navigate(s.url+"/entries/"+eib), chromedp.WaitVisible(chromedp.CSS(`[data-testid=entry]`)))
	alice.run(chromedp.Click(chromedp.CSS(`[data-testid=delete]`)))
	took := bob.waitJS("the deleted card leaves the other browser", cardJS(eib, `c.length === 0`), 2*time.Second*slowdown)
	t.Logf("delete to the trash visible in the other browser after %s", took)
	alice.waitNavigated("the owner is back on the gallery", `location.pathname === "/" && document.readyState === "complete"`, 10*time.Second)

	alice.run(chromedp.Click(chromedp.CSS(`[data-testid=nav-trash]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=trash]`)))
	alice.waitJS("the trash lists the entry with its date", fmt.Sprintf(`(() => {
		const i = document.querySelector('[data-testid=trash-item][data-eib="%s"]');
		return !!i && /In trash until/.test(i.textContent) && !!i.querySelector("[data-testid=trash-until]").getAttribute("datetime");
	})()`, eib), 5*time.Second)
	alice.screenshot("trash")
	bob.run(chromedp.Navigate(s.url+"/trash"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=trash]`)))
	if n := evalAs[int](bob, `document.querySelectorAll("[data-testid=trash-item]").length`); n != 0 {
		t.Errorf("another browser's trash lists %d entries", n)
	}
	bob.open(s.url + "/")
	bob.waitLive()

	alice.run(chromedp.Click(chromedp.CSS(`[data-testid=trash-item][data-eib="`+eib+`"] [data-testid=restore]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=entry]`)))
	if evalAs[bool](alice, `!!document.querySelector("[data-testid=in-trash]")`) {
		t.Error("the restored entry's page still says it is in the trash")
	}
	took = bob.waitJS("the restored card comes back to the other browser with its thumbnail", cardJS(eib, withThumb), 2*time.Second*slowdown)
	t.Logf("restore visible in the other browser after %s", took)

	// The same photo again: nothing new, a link to the entry.
	alice.open(s.url + "/")
	alice.waitLive()
	alice.uploadUI("Rain again", "the same bytes", mediatest.Photo(t, "RainDrops.jpg"))
	alice.waitJS("the form says the photo is there already", fmt.Sprintf(`(() => {
		const d = document.querySelector("[data-testid=duplicate]");
		return !!d && d.querySelector("[data-testid=duplicate-link]").getAttribute("href") === "/entries/%s";
	})()`, eib), 10*time.Second)
	if n := evalAs[int](alice, `document.querySelectorAll("[data-testid=card]").length`); n != 1 {
		t.Errorf("the gallery has %d cards after a duplicate, want 1", n)
	}
	if got := streamTypes(s.events(), eib); got != "MediaUploaded,ThumbnailGenerated,PreviewGenerated,MediaTrashed,MediaRestored" {
		t.Errorf("events: %s", got)
	}
}

// waitNavigated polls a JavaScript condition while the page may be
// navigating (an evaluation during a navigation fails; it is tried again).
func (c *chrome) waitNavigated(what, js string, within time.Duration) {
	c.t.Helper()
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Since(start) > within {
			c.t.Fatalf("%s: not within %s (last error %v)", what, within, err)
		}
	}
}
