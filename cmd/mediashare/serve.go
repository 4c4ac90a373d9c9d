package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"mediashare/internal/gallery"
	"mediashare/internal/metrics"
	"mediashare/internal/projections"
	"mediashare/internal/thumbnail"
	"mediashare/internal/web"
	"mediashare/static"
)

// serve runs the site until ctx is done, then stops in order: HTTP (in-
// flight requests finish), then the projectors (at a checkpoint), then the
// stores. When listening is non-nil it receives the bound address.
func serve(ctx context.Context, c config, log *slog.Logger, listening chan<- string) error {
	be, err := openEmbedded(ctx, c.Data)
	if err != nil {
		return err
	}
	defer be.Close()
	secretFile := c.SecretFile
	if secretFile == "" {
		secretFile = filepath.Join(c.Data, "secret.key")
	}
	secret, err := loadSecret(secretFile)
	if err != nil {
		return err
	}

	m := metrics.New()
	store := m.Events(be.Events)
	limits := gallery.DefaultLimits
	limits.MaxBytes, limits.MaxPixels = c.MaxUploadBytes, c.MaxPixels
	svc := &gallery.Service{Events: store, View: be.View, Blobs: be.Blobs, Limits: limits, Log: log}
	projector := &projections.Projector{
		Feed: be.Feed, View: be.View, Log: log.With("consumer", projections.ViewConsumer),
		Lag: m.ProjectionLag.WithLabelValues(projections.ViewConsumer).Set,
	}
	reactor := &projections.Reactor{
		Feed: be.Feed, Events: store, Blobs: be.Blobs, Checkpoints: be.View,
		Thumbnail: makeThumbnail(c.MaxPixels), ThumbnailTimeout: c.ThumbTimeout,
		Log: log.With("consumer", projections.ReactorConsumer),
		Observe: func(d time.Duration, failed bool) {
			m.ThumbnailSeconds.Observe(d.Seconds())
			if failed {
				m.ThumbnailsFailed.Inc()
			}
		},
	}
	site := &web.Server{
		Gallery: svc, Blobs: be.Blobs, Metrics: m, Assets: static.New(),
		Owners: &web.Owners{Key: secret, Secure: c.CookieSecure}, Log: log,
	}

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen on --addr %s: %w", c.Addr, err)
	}
	srv := &http.Server{
		Handler:           site.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var wg sync.WaitGroup
	for name, run := range map[string]func(context.Context) error{
		projections.ViewConsumer: projector.Run, projections.ReactorConsumer: reactor.Run,
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(workCtx); err != nil {
				log.Error("consumer stopped", "consumer", name, "error", err)
			}
		}()
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("mediashare is serving", "addr", "http://"+displayAddr(ln.Addr()), "data", c.Data, "backend", c.Backend)
	if listening != nil {
		listening <- ln.Addr().String()
	}

	select {
	case err := <-served:
		stopWork()
		wg.Wait()
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", "timeout", c.ShutdownTimeout)
	shutCtx, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Warn("in-flight requests cut off", "error", err)
	}
	log.Info("stopping consumers at a checkpoint")
	stopWork()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(c.ShutdownTimeout):
		log.Warn("consumers did not stop in time")
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil || host == "::" || host == "0.0.0.0" || host == "" {
		return "localhost:" + port
	}
	return a.String()
}

// makeThumbnail adapts the thumbnail package to the reactor.
func makeThumbnail(maxPixels int64) projections.MakeThumbnail {
	return func(ctx context.Context, r io.ReadSeeker) (projections.Thumbnail, error) {
		res, err := thumbnail.Make(ctx, r, thumbnail.Options{MaxSide: 320, MaxPixels: maxPixels})
		if err != nil {
			return projections.Thumbnail{}, err
		}
		return projections.Thumbnail{PNG: res.PNG, Width: res.Width, Height: res.Height, Placeholder: res.Placeholder}, nil
	}
}
