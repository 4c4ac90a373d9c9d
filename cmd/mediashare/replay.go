package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"time"

	"mediashare/internal/projections"
	viewdynamo "mediashare/internal/projections/dynamo"
)

// replay rebuilds the entries view from the events. Serving instances may
// run meanwhile: the gallery is empty or partial until it ends, and what
// they append during it is applied after the load (projections.Rebuild's
// tail read). On AWS the events' read is an eventually consistent index
// read, so when events came in during the rebuild it reads the tail once
// more after the change log's settle time.
func replay(ctx context.Context, c config, log *slog.Logger, out io.Writer) error {
	be, err := openBackend(ctx, c, log)
	if err != nil {
		return err
	}
	defer be.Close()
	// The rebuild allocates much and keeps little (rows, the page being
	// folded): a larger heap goal spends less CPU on collection (about
	// 15% of a replay's) for some 20 MB more at its peak.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	start := time.Now()
	var opt projections.RebuildOptions
	if c.Backend == "aws" {
		opt.Settle = viewdynamo.DefaultSettle
	}
	n, err := projections.Rebuild(ctx, be.Events, be.View, be.Keys, opt)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	fmt.Fprintf(out, "replayed %d events into the entries view in %s\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}
