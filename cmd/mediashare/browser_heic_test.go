package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"mediashare/internal/media"
	"mediashare/internal/media/mediatest"
)

// A HEIC uploaded through the page, as an iPhone saves it (turned by its
// EXIF orientation): its card turns ready with an upright thumbnail, and
// its entry page shows the preview, which the browser can draw, and offers
// the original as a download. A build without libheif answers on the page
// that it needs it.
func TestBrowserHEICUpload(t *testing.T) {
	s := startSite(t, nil)
	b := newChrome(t)
	heic := mediatest.Exiftool(t, mediatest.HEIC(t, storm(t, 960)), ".heic", append([]string{"-Orientation=6", "-n"}, mediatest.GPSArgs...)...)
	path := filepath.Join(t.TempDir(), "IMG_0001.HEIC")
	if err := os.WriteFile(path, heic, 0o644); err != nil {
		t.Fatal(err)
	}
	b.open(s.url + "/")
	b.waitLive()
	// The file picker offers phone photos too (by type and, for systems
	// that know no HEIC type, by extension).
	if accept := evalAs[string](b, `document.querySelector("#file").accept`); !strings.Contains(accept, "image/heic") || !strings.Contains(accept, ".heic") || !strings.Contains(accept, "image/avif") {
		t.Errorf("the file input accepts %q, want HEIC and AVIF in it", accept)
	}
	b.uploadUI("From my phone", "a HEIC as an iPhone saves it", path)

	if !media.HEIFDecodable {
		b.run(chromedp.WaitVisible(chromedp.CSS(`[data-testid=form-error]`)))
		msg := evalAs[string](b, `document.querySelector("[data-testid=form-error]").textContent`)
		if !strings.Contains(msg, "libheif") {
			t.Errorf("the page says %q, want it to name libheif", msg)
		}
		if n := evalAs[float64](b, `document.querySelectorAll("[data-testid=card]").length`); n != 0 {
			t.Errorf("%v cards after a refused upload", n)
		}
		return
	}

	b.waitJS("a card", `document.querySelectorAll("[data-testid=card]").length === 1`, 20*time.Second)
	eib := newestEIB(b)
	b.waitJS("the card turns ready with its thumbnail drawn", cardJS(eib,
		`c.length === 1 && c[0].dataset.status === "ready" && (() => { const i = c[0].querySelector("[data-testid=thumbnail]"); return !!i && i.complete && i.naturalWidth > 0; })()`), 60*time.Second)
	// The card picks its rendition from a srcset: whichever, it stands upright (2:3).
	wh := evalAs[[]float64](b, cardJS(eib, `(() => { const i = c[0].querySelector("[data-testid=thumbnail]"); return [i.naturalWidth, i.naturalHeight]; })()`))
	if r := wh[1] / wh[0]; r < 1.45 || r > 1.55 {
		t.Errorf("the card's image is %v×%v, want it upright (height 1.5 times its width)", wh[0], wh[1])
	}

	b.open(s.url + "/entries/" + eib)
	b.waitJS("the preview is drawn", `(() => { const i = document.querySelector("[data-testid=preview]"); return !!i && i.complete && i.naturalWidth > 0; })()`, 20*time.Second)
	link := evalAs[map[string]any](b, `(() => { const a = document.querySelector("[data-testid=original-url]"); return {text: a.textContent, download: a.hasAttribute("download"), href: a.getAttribute("href")}; })()`)
	if !strings.Contains(fmt.Sprint(link["text"]), "download the original (HEIC)") || link["download"] != true || !strings.HasSuffix(fmt.Sprint(link["href"]), eib+".heic") {
		t.Errorf("the original is offered as %v, want a HEIC download", link)
	}
	if n := evalAs[float64](b, `document.querySelectorAll("[data-testid=original]").length`); n != 0 {
		t.Error("the entry page puts the HEIC original in an img")
	}
	b.screenshot("entry-heic")
}
