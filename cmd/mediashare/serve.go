package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"mediashare/internal/backend"
	"mediashare/internal/events"
	"mediashare/internal/foreground"
	"mediashare/internal/gallery"
	"mediashare/internal/limits"
	"mediashare/internal/live"
	"mediashare/internal/media"
	"mediashare/internal/metrics"
	"mediashare/internal/projections"
	"mediashare/internal/reactor"
	"mediashare/internal/thumbnail"
	"mediashare/internal/web"
	"mediashare/static"
)

// app is a wired mediashare: storage, the use cases, the consumers and
// the web server.
type app struct {
	cfg       config
	log       *slog.Logger
	backend   *backend.Backend // decorated for metrics
	metrics   *metrics.Metrics
	site      *web.Server
	hub       *live.Hub
	projector *projections.Projector
	reactor   *reactor.Reactor
	poller    *live.Poller
	gallery   *gallery.Service
	// foreground is what background work gives way to: uploads in
	// flight (the web counts them) and grid thumbnails (the reactor).
	foreground *foreground.Tracker
	done       chan struct{} // closed when shutdown begins
	debugAddr  string        // the --debug-addr listener's address, once listening
}

// newApp opens the backend and wires everything; it serves nothing yet.
func newApp(ctx context.Context, c config, log *slog.Logger) (*app, error) {
	m := metrics.New()
	raw, err := openBackend(ctx, c, log, m.AWSAPIOptions()...)
	if err != nil {
		return nil, err
	}
	be := m.Instrument(raw)
	secretFile := c.SecretFile
	if secretFile == "" && c.Backend == "aws" {
		be.Close()
		return nil, errors.New("--secret-file (MEDIASHARE_SECRET_FILE) is required with --backend aws: every instance must sign owner cookies with the same key")
	}
	if secretFile == "" {
		secretFile = filepath.Join(c.Data, "secret.key")
	}
	secret, err := loadSecret(secretFile)
	if err != nil {
		be.Close()
		return nil, err
	}
	if be.StreamStats {
		m.RegisterStream(be.FeedStats)
	}
	m.FeedHooks(be.Poison, projections.ViewConsumer, reactor.Consumer)
	changes := be.Changes

	trusted, err := limits.ParseCIDRs(c.TrustedProxies)
	if err != nil {
		be.Close()
		return nil, fmt.Errorf("--trusted-proxies: %w", err)
	}
	spoolDir := c.SpoolDir
	if spoolDir == "" {
		spoolDir = filepath.Join(c.Data, "spool")
	}
	spool, err := limits.NewSpool(spoolDir, c.SpoolMaxBytes)
	if err != nil {
		be.Close()
		return nil, fmt.Errorf("--spool-dir: %w", err)
	}
	diskDir := spoolDir
	if c.Backend == "embedded" {
		diskDir = c.Data // the database and the media live there
	}

	origins, err := parseOrigins(c.APICORSOrigins)
	if err != nil {
		be.Close()
		return nil, fmt.Errorf("--api-cors-origins: %w", err)
	}

	a := &app{cfg: c, log: log, backend: be, metrics: m, hub: live.NewHub(64), done: make(chan struct{}), foreground: &foreground.Tracker{}}
	store := be.Events
	uploadLimits := gallery.DefaultLimits
	uploadLimits.MaxBytes, uploadLimits.MaxPixels = c.MaxUploadBytes, c.MaxPixels
	uploadLimits.MaxRequestBytes = 4 * c.MaxUploadBytes // several files in one request
	uploadLimits.KeepOriginalMetadata = c.KeepMetadata
	uploadLimits.TrashRetention = c.TrashRetention
	thumbs := thumbnailOptions(c)
	svc := &gallery.Service{Events: store, Audit: be.Audit, View: be.View, Blobs: be.Blobs, Keys: be.Keys, Limits: uploadLimits, Log: log,
		CheckDecode: func(info media.Info, size int64) error { return thumbnail.Check(info, size, thumbs) }}
	a.gallery = svc
	a.site = &web.Server{
		Gallery: svc, Blobs: be.Blobs, Metrics: m, Assets: static.New(),
		Owners: &web.Owners{Keys: secret, Secure: c.CookieSecure}, Log: log,
		Live: a.hub, Changes: changes, Heartbeat: c.Heartbeat, Done: a.done, MediaBase: mediaBase(c.MediaURL),
		Limits: limits.New(limits.Config{
			UploadsPerMinute: c.UploadsPerMinute, UploadsPerClient: c.UploadsPerClient, UploadsTotal: c.UploadsInFlight,
			StreamsPerClient: c.LivePerClient, StreamsTotal: c.LiveMax,
		}),
		ClientKey: (&limits.Clients{Trusted: trusted}).ClientKey,
		Reports: &limits.Keyed{PerHour: c.ReportsPerHour, MaxClients: 10000,
			Message: "You have sent many reports in the last hour, the most we take. Please try again later."},
		Spool:        spool,
		Foreground:   a.foreground,
		Disk:         &limits.Disk{Dir: diskDir, MinFree: uint64(c.MinFreeBytes)},
		Body:         limits.Body{MinRate: c.MinBodyRate, Grace: min(10*time.Second, c.BodyTimeout), Deadline: c.BodyTimeout},
		WriteTimeout: c.WriteTimeout,
		AccountCache: c.AccountCache,
		API: web.APIConfig{Tokens: be.Auth, Account: accountLookup(store),
			CORSOrigins: origins},
	}
	pol, ppl, err := accountsOf(c, be, log)
	if err != nil {
		be.Close()
		return nil, err
	}
	a.site.People, a.site.Policy, a.site.PublicURL = ppl, pol, strings.TrimSuffix(c.PublicURL, "/")
	if c.OIDCIssuer != "" {
		rp, err := oidcOf(c, secret[0])
		if err != nil {
			be.Close()
			return nil, err
		}
		a.site.OIDC = rp
	}
	a.poller = &live.Poller{Changes: changes, Render: a.site.RenderChange, Hub: a.hub, Interval: c.LivePoll, Log: log}
	a.site.Head = a.poller.Head
	a.projector = &projections.Projector{
		Feed: be.Feed, View: be.View, Keys: be.Keys, Log: log.With("consumer", projections.ViewConsumer),
		OnChange: func(projections.Entry) { a.poller.Poke() },
	}
	a.reactor = &reactor.Reactor{
		Feed: be.Feed, Events: store, Blobs: be.Blobs, Checkpoints: be.View, Keys: be.Keys, Invalidate: be.Invalidate,
		Thumbnail: yieldToUploads(a.foreground, c.ThumbYield, makeThumbnail(thumbs)), ThumbnailTimeout: c.ThumbTimeout,
		Preview: makePreview(thumbs), Foreground: a.foreground, PreviewDelay: c.PreviewDelay,
		Log: log.With("consumer", reactor.Consumer),
		Observe: func(d time.Duration, failed bool) {
			m.ThumbnailSeconds.Observe(d.Seconds())
			if failed {
				m.ThumbnailsFailed.Inc()
			}
		},
		ObservePreview: func(d time.Duration, failed bool) {
			m.PreviewSeconds.Observe(d.Seconds())
			if failed {
				m.PreviewsFailed.Inc()
			}
		},
	}
	// An upload whose thumbnail keeps failing or killing the process is
	// parked with ThumbnailFailed; the projector's parked events are dead
	// letters only.
	be.Poison.SetPark(reactor.Consumer, a.reactor.Park)
	// Only that is skipped: the view must see every event (a parked delete
	// or erase would leave the entry showing) and a purge must happen (a
	// parked one would leave the blobs public), so those are retried until
	// they succeed, and the projection lag alert tells the operator.
	be.Poison.SetMayPark(projections.ViewConsumer, func(events.Event) bool { return false })
	be.Poison.SetMayPark(reactor.Consumer, func(e events.Event) bool { return e.Type == events.MediaUploaded })
	return a, nil
}

// serve runs the site until ctx is done. When listening is non-nil it
// receives the bound address.
func serve(ctx context.Context, c config, log *slog.Logger, listening chan<- string) error {
	a, err := newApp(ctx, c, log)
	if err != nil {
		return err
	}
	return a.run(ctx, listening)
}

// run serves until ctx is done, then stops in order: HTTP (in-flight
// requests finish, live streams end), then the consumers (at a
// checkpoint), then the stores.
func (a *app) run(ctx context.Context, listening chan<- string) error {
	defer a.backend.Close()
	c, log := a.cfg, a.log
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen on --addr %s: %w", c.Addr, err)
	}
	srv := &http.Server{
		Handler:           a.site.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		// Bodies and responses get their deadlines per request (web's
		// deadlines middleware), so that /live can stay open.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(func() { close(a.done) })

	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var wg sync.WaitGroup
	for name, run := range map[string]func(context.Context) error{
		projections.ViewConsumer: a.projector.Run, reactor.Consumer: a.reactor.Run, reactor.PreviewConsumer: a.reactor.RunPreviews, "live": a.poller.Run,
		"lag": a.measureLag, "trash": a.sweepTrash,
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(workCtx); err != nil {
				log.Error("consumer stopped", "consumer", name, "error", err)
			}
		}()
	}

	if c.DebugAddr != "" {
		dln, err := net.Listen("tcp", c.DebugAddr)
		if err != nil {
			return fmt.Errorf("listen on --debug-addr %s: %w", c.DebugAddr, err)
		}
		dsrv := &http.Server{Handler: debugHandler(), ReadHeaderTimeout: 10 * time.Second}
		go dsrv.Serve(dln)
		defer dsrv.Close()
		a.debugAddr = dln.Addr().String()
		log.Info("profiling endpoints", "addr", "http://"+displayAddr(dln.Addr())+"/debug/pprof/")
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("mediashare is serving", "addr", "http://"+displayAddr(ln.Addr()), "data", c.Data, "backend", c.Backend, "decoders", decoders())
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

// measureLag keeps mediashare_projection_lag_seconds up to date: how far
// the entries view is behind the newest event, whichever instance projects.
func (a *app) measureLag(ctx context.Context) error {
	audit := a.backend.Audit
	if audit == nil {
		return nil
	}
	gauge := a.metrics.ProjectionLag.WithLabelValues(projections.ViewConsumer)
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		c, cancel := context.WithTimeout(ctx, 3*time.Second)
		lag, err := projections.Lag(c, audit, a.backend.View, time.Now())
		cancel()
		if err == nil {
			gauge.Set(lag.Seconds())
		} else if ctx.Err() == nil {
			a.log.Warn("cannot measure the projection lag", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil || host == "::" || host == "0.0.0.0" || host == "" {
		return "localhost:" + port
	}
	return a.String()
}

// thumbnailOptions are the renditions the site makes: the 320 px grid
// PNG, then (at a lower priority, by a decode of its own) a 1280 px
// preview; uploads are checked against the larger. One Limiter bounds the
// decodes at once across every reactor in the process: GOMAXPROCS of
// them, and the decode memory budget (--decode-memory).
func thumbnailOptions(c config) thumbnail.Options {
	memory := c.DecodeMemory
	if memory == 0 { // not sized by serve (tests wiring an app themselves)
		limit, _ := processMemory(os.DirFS("/"), operatorGoMemLimit())
		memory = defaultDecodeMemory(limit)
	}
	return thumbnail.Options{
		MaxSide: thumbnail.DefaultMaxSide, PreviewSide: thumbnail.DefaultPreviewSide,
		MaxPixels: c.MaxPixels, Limiter: thumbnail.NewBudget(0, memory),
	}
}

// makeThumbnail adapts the thumbnail package to the reactor's first job:
// the grid thumbnail alone.
func makeThumbnail(opts thumbnail.Options) reactor.MakeThumbnail {
	opts.PreviewSide = 0
	return func(ctx context.Context, r io.ReadSeeker) (reactor.Thumbnail, error) {
		res, err := thumbnail.Make(ctx, r, opts)
		if err != nil {
			return reactor.Thumbnail{}, err
		}
		return reactor.Thumbnail{PNG: res.PNG, Width: res.Width, Height: res.Height, Placeholder: res.Placeholder}, nil
	}
}

// yieldToUploads makes each thumbnail wait, up to limit, while uploads of
// many bytes are in progress (--thumbnail-yield; foreground.Tracker.Heavy): a decode of a large
// photo takes a core for most of a second, which the uploads still
// arriving need more, and memory the server's peak would carry. A burst of small
// uploads never waits (foreground.DefaultBusyBytes), nor does a lone upload.
func yieldToUploads(fg *foreground.Tracker, limit time.Duration, next reactor.MakeThumbnail) reactor.MakeThumbnail {
	return func(ctx context.Context, r io.ReadSeeker) (reactor.Thumbnail, error) {
		fg.WaitLight(ctx, limit)
		return next(ctx, r)
	}
}

// makePreview adapts the thumbnail package to the previews consumer.
func makePreview(opts thumbnail.Options) reactor.MakePreview {
	return func(ctx context.Context, r io.ReadSeeker) (*reactor.Rendition, error) {
		p, err := thumbnail.MakePreview(ctx, r, opts)
		if err != nil || p == nil {
			return nil, err
		}
		return &reactor.Rendition{Data: p.Data, ContentType: p.ContentType, Ext: p.Ext, Width: p.Width, Height: p.Height}, nil
	}
}

// mediaBase is the --media-url as a base that keys are appended to.
func mediaBase(u string) string {
	if u != "" && !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u
}

// sweepTrash deletes for good, on every instance, the entries whose time
// in the trash ended (optimistic concurrency makes one instance's delete
// win); with no trash there is nothing to sweep.
func (a *app) sweepTrash(ctx context.Context) error {
	if a.cfg.TrashRetention <= 0 {
		return nil
	}
	return a.gallery.SweepTrash(ctx, gallery.SweepInterval(a.cfg.TrashRetention))
}
