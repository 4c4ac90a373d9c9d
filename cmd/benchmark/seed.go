package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"mediashare/internal/entry"
	"mediashare/internal/events"
	eventsqlite "mediashare/internal/events/sqlite"
	"mediashare/internal/ids"
	"mediashare/internal/sqlitedb"
)

// entryEvents are the events of one ready entry: an upload and its
// thumbnails, as the site records them.
func entryEvents(i int, at time.Time) (string, []events.Event, error) {
	eib := ids.New(at)
	original := "originals/" + eib + ".jpg"
	actor := events.OwnerActor("bench-owner")
	up, err := events.New(ids.New(at), events.MediaUploaded, eib, at, actor, events.Uploaded{
		Title: fmt.Sprintf("Photo number %d", i), Comment: "Seeded by the benchmark: a comment of a typical length, a sentence or two.",
		MediaType: "image", ContentType: "image/jpeg", Size: 695070, SHA256: fmt.Sprintf("%064x", i),
		Width: 2048, Height: 1365, Original: original, Owner: "bench-owner", Filename: "photo.jpg",
	})
	if err != nil {
		return "", nil, err
	}
	tn, err := events.New(ids.New(at), events.ThumbnailGenerated, eib, at.Add(200*time.Millisecond), events.SystemActor, events.ThumbnailsGenerated{
		Thumbnails: []events.Thumb{
			{Key: entry.ThumbnailKey(original), Width: 320, Height: 213, ContentType: "image/png", Size: 90000},
			{Key: entry.PreviewKey(original, ".jpg"), Width: 1280, Height: 853, ContentType: "image/jpeg", Size: 200000},
		},
		Placeholder: "#6a7b8c", Millis: 120,
	})
	if err != nil {
		return "", nil, err
	}
	return eib, []events.Event{up, tn}, nil
}

// seed appends n ready entries' events to the embedded store in data.
func seed(ctx context.Context, data string, n int) ([]string, error) {
	db, err := sqlitedb.Open(filepath.Join(data, "mediashare.db"))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	store, err := eventsqlite.New(ctx, db)
	if err != nil {
		return nil, err
	}
	eibs := make([]string, n)
	base := time.Now().Add(-time.Duration(n) * time.Second)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				eib, evs, err := entryEvents(i, base.Add(time.Duration(i)*time.Second))
				if err == nil {
					_, err = store.Append(ctx, eib, 0, evs...)
				}
				if err != nil {
					errs <- err
					return
				}
				eibs[i] = eib
			}
		})
	}
	wg.Wait()
	close(errs)
	return eibs, <-errs
}

// seeded returns a data directory holding o.entries ready entries (their
// events; the view is made by replay).
func (b *bench) seededDir() (string, error) {
	if b.seeded != "" {
		return b.seeded, nil
	}
	data, err := b.dir("seeded")
	if err != nil {
		return "", err
	}
	start := time.Now()
	eibs, err := seed(context.Background(), data, b.entries)
	if err != nil {
		return "", fmt.Errorf("seed %d entries: %w", b.entries, err)
	}
	fmt.Fprintf(os.Stderr, "benchmark: seeded %d entries in %s\n", b.entries, time.Since(start).Round(time.Millisecond))
	b.seeded, b.eibs = data, eibs
	return data, nil
}

var replayedRe = regexp.MustCompile(`replayed (\d+) events`)

// replay: `mediashare replay` over the seeded store (two events per
// entry), in events per second of its wall time; the baseline is the
// target, 50,000 events/s.
func (b *bench) replay() error {
	data, err := b.seededDir()
	if err != nil {
		return err
	}
	var best float64
	for range 2 { // the first also warms the page cache
		start := time.Now()
		out, err := exec.Command(b.bin, "replay", "--data", data).CombinedOutput()
		took := time.Since(start)
		if err != nil {
			return fmt.Errorf("mediashare replay: %w: %s", err, out)
		}
		m := replayedRe.FindSubmatch(out)
		if m == nil {
			return fmt.Errorf("mediashare replay said: %s", out)
		}
		n, _ := strconv.Atoi(string(m[1]))
		best = max(best, float64(n)/took.Seconds())
	}
	line("replay", best, 50000, fmt.Sprintf("events=%d", 2*b.entries), "unit=events/s", "baseline_is=target")
	return nil
}
