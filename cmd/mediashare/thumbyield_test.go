package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"mediashare/internal/foreground"
	"mediashare/internal/reactor"
)

// --thumbnail-yield: the default, a value, and the bad ones refused at
// start-up naming the flag.
func TestThumbnailYieldFlag(t *testing.T) {
	if c, err := parseServe(t, nil, nil); err != nil || c.ThumbYield != 5*time.Second {
		t.Fatalf("default: %v (%v), want 5s", c.ThumbYield, err)
	}
	if c, err := parseServe(t, nil, map[string]string{"MEDIASHARE_THUMBNAIL_YIELD": "0"}); err != nil || c.ThumbYield != 0 {
		t.Fatalf("0 from the environment: %v (%v)", c.ThumbYield, err)
	}
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"negative", []string{"--thumbnail-yield", "-1s"}},
		{"not a duration", []string{"--thumbnail-yield", "soon"}},
		{"as long as the thumbnail's deadline", []string{"--thumbnail-yield", "60s"}},
		{"longer than a shorter deadline", []string{"--thumbnail-timeout", "2s", "--thumbnail-yield", "3s"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseServe(t, tt.args, nil); err == nil || !strings.Contains(err.Error(), "thumbnail-yield") {
				t.Fatalf("got %v, want an error naming --thumbnail-yield", err)
			}
		})
	}
}

// A thumbnail waits while big uploads are in progress, no longer than
// its bound, and not at all otherwise.
func TestThumbnailsYieldToUploads(t *testing.T) {
	fg := &foreground.Tracker{}
	made := 0
	mk := yieldToUploads(fg, 200*time.Millisecond, func(context.Context, io.ReadSeeker) (reactor.Thumbnail, error) {
		made++
		return reactor.Thumbnail{}, nil
	})
	start := time.Now()
	mk(context.Background(), strings.NewReader(""))
	if d := time.Since(start); d >= 200*time.Millisecond || made != 1 {
		t.Errorf("idle: made %d after %v, want one at once", made, d)
	}
	done := fg.Upload(foreground.DefaultBusyBytes)
	defer done()
	start = time.Now()
	mk(context.Background(), strings.NewReader(""))
	if d := time.Since(start); d < 200*time.Millisecond || made != 2 {
		t.Errorf("busy: made %d after %v, want one after the 200ms bound", made, d)
	}
}
