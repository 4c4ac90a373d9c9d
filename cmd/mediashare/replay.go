package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"mediashare/internal/projections"
)

// replay rebuilds the entries view from the events. Run it with the site
// stopped, or accept that the live projector re-applies what it finds.
func replay(ctx context.Context, c config, log *slog.Logger, out io.Writer) error {
	be, err := openBackend(ctx, c, log)
	if err != nil {
		return err
	}
	defer be.Close()
	start := time.Now()
	n, err := projections.Rebuild(ctx, be.Events, be.View, be.Keys)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	fmt.Fprintf(out, "replayed %d events into the entries view in %s\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}
