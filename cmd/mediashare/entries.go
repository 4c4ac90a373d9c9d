package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"mediashare/internal/apperr"
	"mediashare/internal/entry"
	"mediashare/internal/events"
	"mediashare/internal/gallery"
	"mediashare/internal/projections"
)

const entriesUsage = "usage: mediashare entries erase EIB --reason TEXT [backend flags]"

// entriesArgs takes `entries erase EIB [flags]` (or the entry after the
// flags) apart: the arguments for the flag set, and the entry.
func entriesArgs(args []string) ([]string, string, error) {
	if len(args) < 2 || args[1] != "erase" {
		return nil, "", errors.New(entriesUsage)
	}
	rest := args[2:]
	switch {
	case len(rest) > 0 && !strings.HasPrefix(rest[0], "-"):
		return append([]string{args[0]}, rest[1:]...), rest[0], nil
	case len(rest) > 1 && !strings.HasPrefix(rest[len(rest)-1], "-") && !strings.HasPrefix(rest[len(rest)-2], "-"):
		// … --flag value EIB: the last argument is the entry only when
		// the one before it is not a flag taking it as its value.
		return append([]string{args[0]}, rest[:len(rest)-1]...), rest[len(rest)-1], nil
	case len(rest) > 1 && !strings.HasPrefix(rest[len(rest)-1], "-") && strings.Contains(rest[len(rest)-2], "="):
		return append([]string{args[0]}, rest[:len(rest)-1]...), rest[len(rest)-1], nil
	}
	return nil, "", errors.New("entries erase: which entry? " + entriesUsage)
}

// eraseEntry erases one entry as the operator (the actor "system"): the
// same erasure as an admin's on the site. It applies the erasure to the
// entries view itself, so the row is scrubbed even when no server runs.
func eraseEntry(ctx context.Context, c config, log *slog.Logger, eib string, out io.Writer) error {
	be, err := openBackend(ctx, c, log)
	if err != nil {
		return err
	}
	defer be.Close()
	limits := gallery.DefaultLimits
	limits.ProjectionWait = 0
	svc := &gallery.Service{Events: be.Events, View: be.View, Blobs: be.Blobs, Keys: be.Keys, Limits: limits, Log: log}
	ev, err := svc.Erase(ctx, eib, entry.Actor{Admin: true, As: events.SystemActor}, c.Reason)
	if err != nil {
		if apperr.CodeOf(err) != apperr.Internal {
			return fmt.Errorf("entries erase %s: %s", eib, apperr.MessageOf(err))
		}
		return fmt.Errorf("entries erase %s: %w", eib, err)
	}
	p := &projections.Projector{View: be.View, Keys: be.Keys, Log: log}
	if err := p.Handle(ctx, ev); err != nil {
		return fmt.Errorf("entries erase %s: erased, but the entries view is not scrubbed yet (the next serve does it): %w", eib, err)
	}
	fmt.Fprintf(out, "erased %s at %s (v%d): key destroyed, files removed, view scrubbed\n", eib, ev.Time.Format("2006-01-02T15:04:05.000Z"), ev.Version)
	return nil
}
