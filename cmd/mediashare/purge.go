package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"mediashare/internal/apperr"
	"mediashare/internal/entry"
	"mediashare/internal/events"
	"mediashare/internal/gallery"
)

// purge deletes the entries named for good, as an admin: MediaDeleted
// (reason "admin") on each, whether it is in the gallery or the trash.
// The reactor of a running serve removes the blobs and records
// MediaPurged. Every entry is tried; the first refusal is reported.
func purge(ctx context.Context, c config, log *slog.Logger, eibs []string, out io.Writer) error {
	if len(eibs) == 0 {
		return errors.New("purge: name the entries to delete for good (mediashare purge EIB…)")
	}
	be, err := openBackend(ctx, c, log)
	if err != nil {
		return err
	}
	defer be.Close()
	limits := gallery.DefaultLimits
	limits.ProjectionWait = 0 // no projector here: the serve's catches up
	svc := &gallery.Service{Events: be.Events, View: be.View, Blobs: be.Blobs, Limits: limits, Log: log}
	var errs []error
	for _, eib := range eibs {
		if err := svc.Purge(ctx, eib, entry.Actor{Admin: true, As: events.SystemActor}); err != nil {
			errs = append(errs, fmt.Errorf("purge %s: %s", eib, apperr.MessageOf(err)))
			if apperr.CodeOf(err) == apperr.Internal {
				log.Error("purge failed", "eib", eib, "error", err)
			}
			continue
		}
		fmt.Fprintf(out, "deleted %s for good; its files go when a serve's reactor handles it\n", eib)
	}
	return errors.Join(errs...)
}
