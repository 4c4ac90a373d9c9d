package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"mediashare/internal/media/mediatest"
	"mediashare/internal/thumbnail"
)

// TestThumbnailCommand: `mediashare thumbnail FILE OUT` writes the grid
// thumbnail the site would make, and every bad argument or file is an
// error that says what is wrong and leaves nothing in OUT's directory.
func TestThumbnailCommand(t *testing.T) {
	photo := mediatest.Photo(t, "Storm.jpg")
	thumb := func(t *testing.T, args ...string) (string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"thumbnail"}, args...), &out, &errOut)
		return out.String() + errOut.String(), err
	}

	t.Run("a photo", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "storm.png")
		msg, err := thumb(t, photo, out)
		if err != nil {
			t.Fatalf("thumbnail %s: %v\n%s", photo, err, msg)
		}
		mustThumbnail(t, out, 320, 213)
		if !strings.Contains(msg, "320x213") {
			t.Errorf("printed %q; want the thumbnail's size", msg)
		}
		// An existing OUT is replaced.
		if _, err := thumb(t, photo, out); err != nil {
			t.Fatalf("again over the same OUT: %v", err)
		}
		mustThumbnail(t, out, 320, 213)
	})

	t.Run("a HEIC", func(t *testing.T) {
		dir := t.TempDir()
		in, out := filepath.Join(dir, "in.heic"), filepath.Join(dir, "out.png")
		if err := os.WriteFile(in, mediatest.HEIC(t, storm(t, 480)), 0o644); err != nil {
			t.Fatal(err)
		}
		msg, err := thumb(t, in, out)
		if !thumbnail.HEIFNative {
			// The pure-Go build refuses it, naming what it lacks.
			if err == nil || !strings.Contains(err.Error(), "libheif") {
				t.Fatalf("without libheif: %v; want a refusal that names libheif", err)
			}
			assertOnly(t, dir, "in.heic")
			return
		}
		if err != nil {
			t.Fatalf("thumbnail of a HEIC: %v\n%s", err, msg)
		}
		mustThumbnail(t, out, 320, 213)
	})

	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	whole, err := os.ReadFile(photo)
	if err != nil {
		t.Fatal(err)
	}
	text := write("notes.txt", []byte("not an image\n"))
	truncated := write("cut.jpg", whole[:len(whole)/3])
	empty := write("empty.jpg", nil)
	out := filepath.Join(dir, "out.png")
	for _, tc := range []struct {
		name string
		args []string
		env  []string // KEY=VALUE
		want string   // in the error
	}{
		{name: "no arguments", want: "want FILE and OUT"},
		{name: "one argument", args: []string{photo}, want: "want FILE and OUT"},
		{name: "three arguments", args: []string{photo, out, out}, want: "want FILE and OUT"},
		{name: "a missing file", args: []string{filepath.Join(dir, "nope.jpg"), out}, want: "no such file"},
		{name: "a directory", args: []string{dir, out}, want: "not a regular file"},
		{name: "not an image", args: []string{text, out}, want: "Only JPEG"},
		{name: "an empty file", args: []string{empty, out}, want: "empty"},
		{name: "a truncated JPEG", args: []string{truncated, out}, want: "truncated or damaged"},
		{name: "too many pixels", args: []string{"--max-pixels", "1000", photo, out}, want: "the limit is"},
		{name: "too many pixels from the environment", args: []string{photo, out}, env: []string{"MEDIASHARE_MAX_PIXELS=1000"}, want: "the limit is"},
		{name: "a bad --max-pixels", args: []string{"--max-pixels", "0", photo, out}, want: "--max-pixels (MEDIASHARE_MAX_PIXELS) must be positive"},
		{name: "a --max-pixels that is no number", args: []string{"--max-pixels", "lots", photo, out}, want: "invalid value"},
		{name: "a bad MEDIASHARE_MAX_PIXELS", args: []string{photo, out}, env: []string{"MEDIASHARE_MAX_PIXELS=lots"}, want: "MEDIASHARE_MAX_PIXELS"},
		{name: "a bad --thumbnail-timeout", args: []string{"--thumbnail-timeout", "-1s", photo, out}, want: "must be positive"},
		{name: "an unknown flag", args: []string{"--size", "9", photo, out}, want: "flag provided but not defined"},
		{name: "OUT in a missing directory", args: []string{photo, filepath.Join(dir, "no", "out.png")}, want: "no such file"},
		{name: "OUT is a directory", args: []string{photo, dir}, want: "file exists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, kv := range tc.env {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			msg, err := thumb(t, tc.args...)
			if err == nil {
				t.Fatalf("thumbnail %q: no error; printed %q", tc.args, msg)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("thumbnail %q: %v; want it to say %q", tc.args, err, tc.want)
			}
			assertOnly(t, dir, "notes.txt", "cut.jpg", "empty.jpg")
		})
	}
}

// mustThumbnail checks that path holds a PNG of the given size.
func mustThumbnail(t *testing.T, path string, w, h int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s is no PNG: %v", path, err)
	}
	if cfg.Width != w || cfg.Height != h {
		t.Errorf("%s is %dx%d; want %dx%d", path, cfg.Width, cfg.Height, w, h)
	}
}

// assertOnly fails unless dir holds exactly the named files (no OUT, no
// temporary file left behind).
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(slices.Sorted(slices.Values(names)), ",") {
		t.Errorf("%s holds %q; want only %q", dir, got, names)
	}
}
