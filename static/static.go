// Package static serves mediashare's CSS, scripts and the vendored htmx
// from an embed.FS under content-hashed URLs (/static/<hash>/<name>), so
// browsers may cache them forever and a new build changes every URL whose
// file changed.
package static

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

//go:embed css js vendor
var files embed.FS

// Assets maps asset names to their hashed URLs.
type Assets struct {
	byName map[string]asset
	byHash map[string]asset
}

type asset struct {
	name, hash string
	data       []byte
}

// New hashes every embedded file.
func New() *Assets {
	a := &Assets{byName: map[string]asset{}, byHash: map[string]asset{}}
	err := fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		as := asset{name: path, hash: hex.EncodeToString(sum[:8]), data: data}
		a.byName[path] = as
		a.byHash[as.hash+"/"+path] = as
		return nil
	})
	if err != nil {
		panic("static: walk embedded files: " + err.Error()) // cannot happen with a valid embed
	}
	return a
}

// URL returns the hashed URL of an asset, e.g. URL("css/app.css").
// It panics on an unknown name: a typo in a template is a bug.
func (a *Assets) URL(name string) string {
	as, ok := a.byName[name]
	if !ok {
		panic("static: no asset named " + name)
	}
	return "/static/" + as.hash + "/" + as.name
}

// ServeHTTP serves /static/<hash>/<name>. Only the current hash of a file
// is served; anything else is a 404.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	as, ok := a.byHash[strings.TrimPrefix(r.URL.Path, "/static/")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", `"`+as.hash+`"`)
	switch {
	case strings.HasSuffix(as.name, ".css"):
		h.Set("Content-Type", "text/css; charset=utf-8")
	case strings.HasSuffix(as.name, ".js"):
		h.Set("Content-Type", "text/javascript; charset=utf-8")
	default:
		h.Set("Content-Type", "text/plain; charset=utf-8")
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(as.data))
}

// Files returns the embedded tree, for tests.
func Files() fs.FS { return files }
