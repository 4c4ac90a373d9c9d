package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"mediashare/internal/gallery"
)

// The API client: `mediashare upload` and `mediashare entries list`,
// talking to a server's /api/v1 with a personal access token.

type clientFlags struct {
	server    string
	tokenFile string
}

func (cf *clientFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&cf.server, "server", "", "the site's address, e.g. https://media.example.org")
	fs.StringVar(&cf.tokenFile, "token-file", "", "file holding a personal access token (mediashare tokens create)")
}

// base checks --server and returns it without a trailing slash.
func (cf *clientFlags) base() (string, error) {
	u, err := url.Parse(cf.server)
	if cf.server == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("--server (%s): %q is not an http(s) URL such as https://media.example.org", envName("server"), cf.server)
	}
	return strings.TrimSuffix(cf.server, "/"), nil
}

// token reads --token-file ("" when none was given and optional).
func (cf *clientFlags) token(optional bool) (string, error) {
	if cf.tokenFile == "" {
		if optional {
			return "", nil
		}
		return "", fmt.Errorf("--token-file (%s) is required: a file holding a token with the upload scope", envName("token-file"))
	}
	b, err := os.ReadFile(cf.tokenFile)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" || strings.ContainsAny(t, " \t\r\n") {
		return "", fmt.Errorf("--token-file %s does not hold one token", cf.tokenFile)
	}
	return t, nil
}

// apiFailure reads an error answer's message, or says what came back.
func apiFailure(resp *http.Response, body []byte) error {
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		return fmt.Errorf("%s (%d)", e.Error.Message, resp.StatusCode)
	}
	return fmt.Errorf("the server answered %s", resp.Status)
}

var apiClient = &http.Client{Timeout: 10 * time.Minute}

// uploadCommand runs `mediashare upload FILE... --server URL --token-file F
// [--title T --comment C]`: one request a file; each stored entry's URL
// is printed, each failure's message goes to stderr and makes the exit
// status non-zero.
func uploadCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("upload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf clientFlags
	cf.define(fs)
	var title, comment string
	fs.StringVar(&title, "title", "", "the entries' title (default: from each file's name)")
	fs.StringVar(&comment, "comment", "", "the entries' comment")
	files, err := parseInterspersed(fs, args)
	if err == nil {
		err = parse(fs, nil) // the MEDIASHARE_* twins
	}
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return errors.New("upload: name at least one file")
	}
	base, err := cf.base()
	if err != nil {
		return err
	}
	token, err := cf.token(false)
	if err != nil {
		return err
	}
	failed := 0
	for _, f := range files {
		u, dup, err := clientUploadFile(ctx, base, token, f, title, comment)
		if err != nil {
			failed++
			fmt.Fprintf(stderr, "mediashare: %s: %v\n", f, err)
			continue
		}
		if dup {
			fmt.Fprintf(stderr, "mediashare: %s: already uploaded, nothing stored: %s\n", f, u)
		}
		fmt.Fprintln(stdout, u)
	}
	if failed > 0 {
		return fmt.Errorf("upload: %d of %d files failed", failed, len(files))
	}
	return nil
}

// clientUploadFile uploads one file and returns its entry's URL, and
// whether it was a duplicate of one the account had.
func clientUploadFile(ctx context.Context, base, token, path, title, comment string) (string, bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", false, err
	}
	if title == "" {
		title = gallery.TitleFromFilename(filepath.Base(path))
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("title", title)
	mw.WriteField("comment", comment)
	fw, err := mw.CreateFormFile("file", filepath.Base(path))
	if err != nil {
		return "", false, err
	}
	fw.Write(data)
	mw.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/entries", &body)
	if err != nil {
		return "", false, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := apiClient.Do(req)
	if err != nil {
		return "", false, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", false, err
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return "", false, apiFailure(resp, b)
	}
	var out struct {
		URL       string `json:"url"`
		Duplicate bool   `json:"duplicate"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.URL == "" {
		return "", false, fmt.Errorf("the server's answer has no entry URL")
	}
	return out.URL, out.Duplicate, nil
}

// entriesCommand runs `mediashare entries list --server URL [--token-file F]
// [--max N]`: the gallery, newest first, as one JSON array, following the
// pages.
func entriesCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "list" {
		fmt.Fprint(stderr, "usage: mediashare entries list --server URL [--token-file F] [--max N]\n")
		return errors.New("entries: say list")
	}
	fs := flag.NewFlagSet("entries list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf clientFlags
	cf.define(fs)
	max := fs.Int("max", 1000, "most entries to print")
	rest, err := parseInterspersed(fs, args[1:])
	if err == nil {
		err = parse(fs, nil)
	}
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("entries list: unexpected argument %q", rest[0])
	}
	if *max < 1 {
		return errors.New("--max must be positive")
	}
	base, err := cf.base()
	if err != nil {
		return err
	}
	token, err := cf.token(true)
	if err != nil {
		return err
	}
	all := []json.RawMessage{}
	cursor := ""
	for len(all) < *max {
		q := url.Values{"limit": {fmt.Sprint(min(100, *max-len(all)))}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/entries?"+q.Encode(), nil)
		if err != nil {
			return err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := apiClient.Do(req)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return apiFailure(resp, b)
		}
		var page struct {
			Entries    []json.RawMessage `json:"entries"`
			NextCursor string            `json:"next_cursor"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			return fmt.Errorf("the server's answer is not a page of entries: %w", err)
		}
		all = append(all, page.Entries...)
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(all)
}
