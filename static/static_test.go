package static

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// The vendored files are exactly the ones whose checksums were recorded
// when they were copied from the npm packages.
func TestVendoredChecksums(t *testing.T) {
	f, err := os.Open("vendor/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		want, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("bad line %q", sc.Text())
		}
		data, err := Files().(interface{ ReadFile(string) ([]byte, error) }).ReadFile("vendor/" + name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("%s: sha256 %s, want %s", name, got, want)
		}
		if _, err := os.Stat("vendor/" + strings.Split(name, "/")[0] + "/LICENSE"); err != nil {
			t.Errorf("%s: no licence beside it: %v", name, err)
		}
		n++
	}
	if n < 2 {
		t.Errorf("SHA256SUMS lists %d files, want htmx and its SSE extension", n)
	}
}

func TestServeHashedURLs(t *testing.T) {
	a := New()
	url := a.URL("vendor/htmx/htmx.min.js")
	tests := []struct {
		name, path string
		code       int
	}{
		{"current hash", url, http.StatusOK},
		{"stale hash", "/static/0000000000000000/vendor/htmx/htmx.min.js", http.StatusNotFound},
		{"no hash", "/static/vendor/htmx/htmx.min.js", http.StatusNotFound},
		{"escape", "/static/../static.go", http.StatusNotFound},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
		if rec.Code != tt.code {
			t.Errorf("%s: GET %s = %d, want %d", tt.name, tt.path, rec.Code, tt.code)
		}
		if tt.code != http.StatusOK {
			continue
		}
		if got := rec.Header().Get("Cache-Control"); !strings.Contains(got, "immutable") {
			t.Errorf("%s: Cache-Control %q, want immutable", tt.name, got)
		}
		if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, "text/javascript") {
			t.Errorf("%s: Content-Type %q", tt.name, got)
		}
		body, _ := io.ReadAll(rec.Body)
		if !strings.Contains(string(body), "htmx") {
			t.Errorf("%s: body does not look like htmx", tt.name)
		}
	}
}
