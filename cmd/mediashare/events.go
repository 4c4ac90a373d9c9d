package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"mediashare/internal/entry"
)

// printEvents prints the event log oldest first, one line an event (or
// NDJSON with --json); with --follow it keeps printing new events.
func printEvents(ctx context.Context, c config, log *slog.Logger, out io.Writer) error {
	be, err := openBackend(ctx, c, log)
	if err != nil {
		return err
	}
	defer be.Close()
	enc := json.NewEncoder(out)
	pos := ""
	for {
		evs, next, err := be.Events.ReadAll(ctx, pos, 500)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		keys := entry.NewMemo(be.Keys) // one lookup per entry of the batch
		for _, e := range evs {
			// Sealed fields opened (or [erased]): the log as people read it.
			if e, err = entry.Reveal(ctx, e, keys); err != nil {
				return err
			}
			if c.EventsJSON {
				if err := enc.Encode(e.Record()); err != nil {
					return err
				}
				continue
			}
			if _, err := fmt.Fprintf(out, "%s  %-18s  %s  v%-2d  %-30s  %s\n",
				e.Time.Format("2006-01-02T15:04:05.000Z"), e.Type, e.Stream, e.Version, e.Actor, e.Data); err != nil {
				return err
			}
		}
		pos = next
		if len(evs) == 500 {
			continue
		}
		if !c.Follow {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(500 * time.Millisecond):
		}
	}
}
