package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"mediashare/internal/accounts"
	"mediashare/internal/events"
	eventsqlite "mediashare/internal/events/sqlite"
	"mediashare/internal/media/mediatest"
	"mediashare/internal/sqlitedb"
	"mediashare/internal/web"
)

// registerInFile registers an account in an embedded site's SQLite file
// (the serving process has it open too: SQLite takes both).
func registerInFile(t *testing.T, data, name string) {
	t.Helper()
	db, err := sqlitedb.Open(filepath.Join(data, "mediashare.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store, err := eventsqlite.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	n, err := accounts.ParseName(name)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := accounts.Register(accounts.Registration{Name: n, Role: events.RoleMember, Via: events.ViaPassword}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(context.Background(), n.ID(), 0, ev); err != nil {
		t.Fatal(err)
	}
}

// cli runs the mediashare binary; it returns stdout, stderr and the error.
func cli(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(mediashareBinary(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), errb.String(), err
	case <-ctx.Done():
		cmd.Process.Kill()
		t.Fatalf("mediashare %v did not finish", args)
		return "", "", nil
	}
}

// The command-line client and the ShareX uploader against a real
// `mediashare serve` process: tokens made with `mediashare tokens`, files
// uploaded with `mediashare upload`, listed with `mediashare entries list`,
// and the .sxcu's request replayed as ShareX sends it.
func TestAPIClientAndShareXAgainstServe(t *testing.T) {
	s := startAbuseSite(t, "--uploads-per-minute", "0")
	data := s.data
	// Every API answer the CLI and ShareX get is checked against the
	// OpenAPI document on its way.
	server := validatingProxy(t, s.url)
	registerInFile(t, data, "grace")
	dir := t.TempDir()
	sxcu := filepath.Join(dir, "mediashare.sxcu")

	// Bad flags are refused before anything is made.
	for _, args := range [][]string{
		{"tokens", "create", "--data", data, "--user", "grace", "--scopes", "read,admin"},
		{"tokens", "create", "--data", data, "--user", "grace", "--scopes", ""},
		{"tokens", "create", "--data", data, "--user", "nobody", "--scopes", "read"},
		{"tokens", "create", "--data", data, "--scopes", "read"},
		{"tokens", "create", "--data", data, "--user", "grace", "--scopes", "read", "--sharex", sxcu},
		{"tokens", "create", "--data", data, "--user", "grace", "--scopes", "read", "--expires", "-1h"},
		{"tokens", "revoke", "--data", data, "--user", "grace", "--id", "nope"},
		{"tokens", "frobnicate"},
	} {
		if out, errs, err := cli(t, args...); err == nil || out != "" {
			t.Errorf("mediashare %v: succeeded (%q), want a refusal", args, out)
		} else if strings.TrimSpace(errs) == "" {
			t.Errorf("mediashare %v: failed without saying why", args)
		}
	}

	out, errs, err := cli(t, "tokens", "create", "--data", data, "--user", "Grace", "--scopes", "read,upload,delete", "--expires", "720h",
		"--name", "laptop", "--sharex", sxcu, "--public-url", server)
	if err != nil {
		t.Fatalf("tokens create: %v\n%s", err, errs)
	}
	token := strings.TrimSpace(out)
	if !regexp.MustCompile(`^mst_[A-Za-z0-9_-]{43}$`).MatchString(token) {
		t.Fatalf("tokens create printed %q, want the token alone", out)
	}
	if strings.Contains(errs, token) {
		t.Error("the token was printed twice")
	}
	tokenFile := filepath.Join(dir, "token")
	os.WriteFile(tokenFile, []byte(token+"\n"), 0o600)

	photo, err := os.ReadFile(mediatest.Photo(t, "Storm.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	photoFile, pngFile, png2File, textFile := filepath.Join(dir, "storm_at-sea.jpg"), filepath.Join(dir, "small.png"), filepath.Join(dir, "other.png"), filepath.Join(dir, "notes.jpg")
	os.WriteFile(photoFile, photo, 0o600)
	os.WriteFile(pngFile, smallPNG(t, 3), 0o600)
	os.WriteFile(png2File, smallPNG(t, 4), 0o600)
	os.WriteFile(textFile, []byte("plain text, not an image"), 0o600)

	t.Run("upload", func(t *testing.T) {
		out, errs, err := cli(t, "upload", photoFile, pngFile, "--server", server, "--token-file", tokenFile, "--comment", "from the shell")
		if err != nil {
			t.Fatalf("upload: %v\n%s", err, errs)
		}
		urls := strings.Fields(out)
		if len(urls) != 2 {
			t.Fatalf("upload printed %q, want two URLs", out)
		}
		for _, u := range urls {
			if !strings.HasPrefix(u, server+"/entries/") {
				t.Errorf("URL %q", u)
			}
			if code, _, _ := fetch(t, u); code != 200 {
				t.Errorf("GET %s: %d", u, code)
			}
		}
		// A bad file and a missing comment: the server's messages, a
		// non-zero exit, the good file still uploaded.
		out, errs, err = cli(t, "upload", textFile, png2File, "--server", server, "--token-file", tokenFile, "--comment", "again")
		if err == nil || !strings.Contains(errs, "Only JPEG, PNG, GIF") || len(strings.Fields(out)) != 1 {
			t.Errorf("a bad file: err %v, stdout %q, stderr %q", err, out, errs)
		}
		// The same file again: the existing entry's URL, and a note.
		out, errs, err = cli(t, "upload", pngFile, "--server", server, "--token-file", tokenFile, "--comment", "once more")
		if err != nil || strings.TrimSpace(out) != urls[1] || !strings.Contains(errs, "already uploaded") {
			t.Errorf("a duplicate: err %v, stdout %q (want %s), stderr %q", err, out, urls[1], errs)
		}
		if _, errs, err := cli(t, "upload", pngFile, "--server", server, "--token-file", tokenFile); err == nil || !strings.Contains(errs, "Please write a comment") {
			t.Errorf("no comment: err %v, stderr %q", err, errs)
		}
		for _, args := range [][]string{
			{"upload", pngFile, "--server", server},
			{"upload", pngFile, "--server", "ftp://x", "--token-file", tokenFile},
			{"upload", "--server", server, "--token-file", tokenFile},
			{"upload", filepath.Join(dir, "missing.png"), "--server", server, "--token-file", tokenFile, "--comment", "c"},
		} {
			if _, errs, err := cli(t, args...); err == nil || strings.TrimSpace(errs) == "" {
				t.Errorf("mediashare %v: err %v, stderr %q", args, err, errs)
			}
		}
	})

	t.Run("entries list", func(t *testing.T) {
		out, errs, err := cli(t, "entries", "list", "--server", server)
		if err != nil {
			t.Fatalf("entries list: %v\n%s", err, errs)
		}
		var list []entryJSON
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatalf("entries list printed %q: %v", out, err)
		}
		if len(list) != 3 || list[2].Title != "storm at sea" || list[2].Owner != "grace" || list[0].Comment != "again" {
			t.Errorf("entries %+v", list)
		}
		if out, _, err := cli(t, "entries", "list", "--server", server, "--max", "1", "--token-file", tokenFile); err != nil || strings.Count(out, `"eib"`) != 1 {
			t.Errorf("--max 1: %v %q", err, out)
		}
	})

	t.Run("ShareX", func(t *testing.T) {
		raw, err := os.ReadFile(sxcu)
		if err != nil {
			t.Fatal(err)
		}
		var cfg web.ShareX
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			t.Fatalf("the .sxcu: %v\n%s", err, raw)
		}
		if cfg.DestinationType != "ImageUploader" || cfg.RequestMethod != "POST" || cfg.Body != "MultipartFormData" || cfg.FileFormName != "file" ||
			cfg.RequestURL != server+"/api/v1/entries" || cfg.Headers["Authorization"] != "Bearer "+token || cfg.Arguments["title"] != "{filename}" ||
			cfg.URL != "{json:url}" || cfg.ErrorMessage != "{json:error.message}" || cfg.Version == "" || cfg.Name == "" {
			t.Fatalf("the .sxcu: %+v", cfg)
		}
		ok := shareXSend(t, cfg, "Screenshot 2026-12-01.png", "image/png", smallPNG(t, 7))
		if ok.code != 201 {
			t.Fatalf("ShareX's request: %d %s", ok.code, ok.body)
		}
		pageURL, thumbURL, delURL := shareXValue(t, cfg.URL, ok.body), shareXValue(t, cfg.ThumbnailURL, ok.body), shareXValue(t, cfg.DeletionURL, ok.body)
		if code, _, page := fetch(t, pageURL); code != 200 || !strings.Contains(string(page), "Screenshot 2026-12-01.png") {
			t.Errorf("URL %s: %d (the title is ShareX's {filename})", pageURL, code)
		}
		if !strings.HasPrefix(thumbURL, server+"/media/") {
			t.Errorf("ThumbnailURL %q", thumbURL)
		}
		if code, _, page := fetch(t, delURL); code != 200 || !strings.Contains(string(page), "deletion-form") {
			t.Errorf("DeletionURL %s: %d", delURL, code)
		}
		bad := shareXSend(t, cfg, "notes.txt", "text/plain", []byte("hello"))
		if msg := shareXValue(t, cfg.ErrorMessage, bad.body); bad.code != 415 || !strings.Contains(msg, "Only JPEG, PNG, GIF") {
			t.Errorf("ShareX's error message: %d %q", bad.code, msg)
		}
	})

	t.Run("tokens list and revoke", func(t *testing.T) {
		out, errs, err := cli(t, "tokens", "list", "--data", data, "--user", "grace")
		if err != nil {
			t.Fatalf("tokens list: %v\n%s", err, errs)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 || !strings.Contains(lines[1], "laptop") || strings.Contains(out, token) || strings.HasSuffix(strings.TrimSpace(lines[1]), "never") {
			t.Fatalf("tokens list:\n%s", out)
		}
		id := strings.Fields(lines[1])[0]
		if out, errs, err := cli(t, "tokens", "revoke", "--data", data, "--user", "grace", "--id", id); err != nil || !strings.Contains(out, "revoked") {
			t.Fatalf("tokens revoke: %v %q %q", err, out, errs)
		}
		if _, errs, err := cli(t, "tokens", "revoke", "--data", data, "--user", "grace", "--id", id); err == nil || !strings.Contains(errs, "no live token") {
			t.Errorf("revoking twice: %v %q", err, errs)
		}
		if _, errs, err := cli(t, "upload", pngFile, "--server", server, "--token-file", tokenFile, "--comment", "c"); err == nil || !strings.Contains(errs, "valid API token") {
			t.Errorf("upload with the revoked token: %v %q", err, errs)
		}
	})
}

// shareXSend sends a file as ShareX does with cfg: a multipart body of
// the Arguments (ShareX's {filename} filled in) then the file under
// FileFormName, with cfg's headers, to RequestURL.
func shareXSend(t *testing.T, cfg web.ShareX, filename, contentType string, data []byte) apiResult {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range cfg.Arguments {
		mw.WriteField(k, strings.ReplaceAll(v, "{filename}", filename))
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, cfg.FileFormName, filename))
	h.Set("Content-Type", contentType)
	pw, _ := mw.CreatePart(h)
	pw.Write(data)
	mw.Close()
	req, err := http.NewRequest(cfg.RequestMethod, cfg.RequestURL, &body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range cfg.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("User-Agent", "ShareX/15.0.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return apiResult{code: resp.StatusCode, header: resp.Header, body: readBody(t, resp)}
}

// shareXValue evaluates a ShareX {json:a.b} expression on a response.
func shareXValue(t *testing.T, expr string, body []byte) string {
	t.Helper()
	path, open := strings.CutPrefix(expr, "{json:")
	path, closed := strings.CutSuffix(path, "}")
	if !open || !closed {
		t.Fatalf("%q is not a {json:…} expression", expr)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("response %s: %v", body, err)
	}
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: no %q in %s", expr, k, body)
		}
		v = m[k]
	}
	s, _ := v.(string)
	if s == "" {
		t.Fatalf("%s is empty in %s", expr, body)
	}
	return s
}
