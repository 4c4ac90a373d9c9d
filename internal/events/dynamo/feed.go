package dynamo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"mediashare/internal/events"
)

// The change feed: configuration, Follow, and the follower's control loop
// (renew the held leases, discover shards, start a reader per ready
// shard). Leases are in lease.go, discovery and lineage order in
// shards.go, the reading loop in reader.go, record conversion in
// record.go, attempt counts and dead letters in attempts.go, counters in
// stats.go.

var _ events.Feed = (*Feed)(nil)

// StreamsAPI is the part of the DynamoDB Streams client the feed calls;
// *dynamodbstreams.Client implements it.
type StreamsAPI interface {
	DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// FeedAPI is the part of the DynamoDB client the feed calls: the lease
// table's calls and DescribeTable (to find the stream).
type FeedAPI interface {
	LeaseAPI
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// Feed is the change feed on the events table's DynamoDB Stream. Follow
// reads every shard in lineage order (a child only after its parent is
// done), one consumer instance per shard at a time, guarded by leases in
// the lease table. Per-shard checkpoints live in the lease items, written
// only while the writer holds the lease, so a stale owner cannot move
// them. The consumer's events.Checkpoints holds a generation: when it is
// cleared (a rebuild's Reset), every shard is read again from its trim
// horizon, as the events.Feed contract says.
type Feed struct {
	db         FeedAPI
	streams    StreamsAPI
	table      string
	leaseTable string

	// Owner names this instance in leases; Follow picks a random one when
	// empty. Two Follow calls must not share an owner name.
	Owner string
	// LeaseDuration is how long a lease lasts unless renewed; a dead
	// instance's shards are taken over after it (default 30 s). Leases are
	// renewed every third of it.
	LeaseDuration time.Duration
	// PollInterval is the first wait after an empty read; it doubles up to
	// MaxPollInterval while reads stay empty (defaults 250 ms and 500 ms: the gallery must feel live).
	PollInterval    time.Duration
	MaxPollInterval time.Duration
	// Background names consumers that may lag behind (the previews):
	// their readers wait BackgroundPollInterval (default 2 s) after an
	// empty read, so that a third reader of each shard keeps the
	// GetRecords calls within the stream's limit (five a second per
	// shard: the projector and the reactor make up to four when idle).
	Background             map[string]bool
	BackgroundPollInterval time.Duration
	// RetryDelay is the first wait after a failed call; it doubles up to
	// 32 times itself (default 1 s). It is the first wait after a failed
	// handler too when Poison is nil.
	RetryDelay time.Duration
	// MaxAttempts is how many times a record is handed to the handler
	// before it is parked and the shard moves on, when Poison is nil
	// (default events.DefaultMaxAttempts).
	MaxAttempts int
	// Poison is the poison-event rule the feed applies, with its attempt
	// counts and dead letters in the lease table (a default one from
	// RetryDelay and MaxAttempts when nil).
	Poison *events.Poison
	// Timeout bounds each AWS call (DefaultTimeout when zero).
	Timeout time.Duration
	// Log receives what goes wrong (slog.Default when nil).
	Log *slog.Logger
	// Rebuild, when set, is called after a TrimmedDataAccessException:
	// records were lost between the checkpoint and the stream's trim
	// horizon, so the consumer's view must be rebuilt from the event store
	// (projections.Rebuild). The shard then restarts at TRIM_HORIZON. A
	// failing Rebuild is retried.
	Rebuild func(ctx context.Context, consumer string) error
	// OnTrimmed, when set, is told of every TrimmedDataAccessException
	// (a metrics hook; it must not block).
	OnTrimmed func(consumer, shardID string)
	// KeepLeasesOnStop leaves the leases held when Follow stops, as a
	// crashed instance would; others take them over after LeaseDuration.
	// Tests use it; by default Follow releases its leases on a clean stop.
	KeepLeasesOnStop bool

	stats      counters
	poisonOnce sync.Once
	ownPoison  *events.Poison
}

// NewFeed returns the feed of eventsTable's stream, keeping leases and
// checkpoints in leaseTable. db is a *dynamodb.Client in production.
func NewFeed(db FeedAPI, streams StreamsAPI, eventsTable, leaseTable string) *Feed {
	return &Feed{db: db, streams: streams, table: eventsTable, leaseTable: leaseTable}
}

func (f *Feed) poison() *events.Poison {
	if f.Poison != nil {
		return f.Poison
	}
	f.poisonOnce.Do(func() {
		f.ownPoison = &events.Poison{MaxAttempts: f.MaxAttempts, RetryDelay: f.retryDelay(), Log: f.Log}
	})
	return f.ownPoison
}

func (f *Feed) leaseDuration() time.Duration { return orDefault(f.LeaseDuration, 30*time.Second) }
func (f *Feed) retryDelay() time.Duration    { return orDefault(f.RetryDelay, time.Second) }
func (f *Feed) pollInterval() time.Duration  { return orDefault(f.PollInterval, 250*time.Millisecond) }
func (f *Feed) maxPoll() time.Duration       { return orDefault(f.MaxPollInterval, 500*time.Millisecond) }

// polls are the first and the longest wait after an empty read of
// consumer's shard readers.
func (f *Feed) polls(consumer string) (time.Duration, time.Duration) {
	if f.Background[consumer] {
		d := orDefault(f.BackgroundPollInterval, 2*time.Second)
		return d, d
	}
	return f.pollInterval(), f.maxPoll()
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (f *Feed) log() *slog.Logger {
	if f.Log == nil {
		return slog.Default()
	}
	return f.Log
}

func (f *Feed) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, orDefault(f.Timeout, DefaultTimeout))
}

// backoff is the wait after failed call number attempt (from 0).
func (f *Feed) backoff(attempt int) time.Duration {
	d := f.retryDelay()
	for i := 0; i < attempt && i < 5; i++ {
		d *= 2
	}
	return d
}

// Follow implements events.Feed. The handler is never called
// concurrently, and within a shard (so within a stream) events arrive in
// order. cp holds the consumer's generation (see Feed); it may be nil.
func (f *Feed) Follow(ctx context.Context, name string, cp events.Checkpoints, h events.Handler) error {
	owner := f.Owner
	if owner == "" {
		host, _ := os.Hostname()
		owner = host + "-" + randomHex(6)
	}
	log := f.log().With("consumer", name, "owner", owner)
	w := &follower{f: f, name: name, h: h, cp: cp, held: map[string]*shardRun{}, ended: make(chan shardEnd, 16), stopping: make(chan struct{}), log: log,
		leases: &leases{db: f.db, leaseTable: f.leaseTable, consumer: name, owner: owner, duration: f.leaseDuration(), timeout: f.Timeout, retry: f.backoff, log: log}}
	return w.run(ctx)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

type shardRun struct {
	cancel context.CancelFunc
	lost   bool // the lease went to another owner; the worker is stopping
	gen    string
}

type shardEnd struct {
	shard string
	err   error
}

// follower is one Follow call.
type follower struct {
	f      *Feed
	name   string
	h      events.Handler
	cp     events.Checkpoints
	gen    string // the consumer's generation ("" without cp)
	leases *leases
	log    *slog.Logger
	arn    string

	hmu      sync.Mutex // serializes handler calls
	held     map[string]*shardRun
	ended    chan shardEnd
	stopping chan struct{} // closed when Follow stops
	wg       sync.WaitGroup
}

func (w *follower) run(ctx context.Context) error {
	defer w.stop()
	renew := time.NewTicker(w.f.leaseDuration() / 3)
	defer renew.Stop()
	for {
		if err := w.refresh(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn("events/dynamo: feed refresh failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-renew.C:
		case end := <-w.ended:
			w.finish(end)
			// Drain others that ended at the same time, then look again at
			// once: a finished parent frees its children.
			for more := true; more; {
				select {
				case e := <-w.ended:
					w.finish(e)
				default:
					more = false
				}
			}
		}
	}
}

func (w *follower) finish(end shardEnd) {
	if run, ok := w.held[end.shard]; ok {
		run.cancel()
		delete(w.held, end.shard)
	}
	if errors.Is(end.err, errLeaseLost) {
		w.f.stats.lost.Add(1)
	}
	if end.err != nil && !errors.Is(end.err, context.Canceled) {
		w.log.Info("events/dynamo: stopped reading shard", "shard", end.shard, "reason", end.err)
	}
}

// stop cancels the shard workers, waits for them, and releases the leases.
func (w *follower) stop() {
	close(w.stopping)
	for _, run := range w.held {
		run.cancel()
	}
	w.wg.Wait()
	if w.f.KeepLeasesOnStop {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), orDefault(w.f.Timeout, DefaultTimeout))
	defer cancel()
	for shard, run := range w.held {
		if run.lost {
			continue
		}
		if err := w.leases.release(ctx, shard); err != nil {
			w.log.Warn("events/dynamo: release lease", "shard", shard, "error", err)
		}
	}
}

// generation reads the consumer's generation from cp, starting a new one
// when cp holds none (the first Follow, or after a Reset).
func (w *follower) generation(ctx context.Context) (string, error) {
	if w.cp == nil {
		return "", nil
	}
	g, err := w.cp.Checkpoint(ctx, w.name)
	if err != nil || g != "" {
		return g, err
	}
	g = "gen-" + randomHex(8)
	if err := w.cp.SaveCheckpoint(ctx, w.name, g); err != nil {
		return "", err
	}
	w.log.Info("events/dynamo: the consumer has no checkpoint; reading every shard from its trim horizon", "generation", g)
	return g, nil
}

// current reports whether l belongs to the consumer's generation.
func (w *follower) current(l lease) bool { return w.gen == "" || l.Gen == w.gen }

// refresh renews the held leases, follows a change of generation, then
// lists the shards and takes every free lease whose shard is ready.
func (w *follower) refresh(ctx context.Context) error {
	for shard, run := range w.held {
		if run.lost {
			continue
		}
		err := w.leases.renew(ctx, shard)
		if errors.Is(err, errLeaseLost) {
			// Kept in held until its worker ends, so that it is not taken
			// again while the old worker still runs.
			w.f.stats.lost.Add(1)
			w.log.Warn("events/dynamo: lease taken over by another instance", "shard", shard)
			run.cancel()
			run.lost = true
		} else if err != nil {
			w.log.Warn("events/dynamo: renew lease", "shard", shard, "error", err)
		}
	}
	gen, err := w.generation(ctx)
	if err != nil {
		return err
	}
	if gen != w.gen {
		// The consumer started over (or this is the first look): readers of
		// an older generation stop; their shards are taken again below once
		// they have ended.
		for _, run := range w.held {
			if run.gen != gen {
				run.cancel()
			}
		}
		w.gen = gen
	}
	if w.arn == "" {
		arn, err := w.f.streamARN(ctx)
		if err != nil {
			return err
		}
		w.arn = arn
	}
	shards, err := w.f.listShards(ctx, w.arn)
	if err != nil {
		return err
	}
	ls, err := w.leases.list(ctx)
	if err != nil {
		return err
	}
	held := func(id string) bool { _, ok := w.held[id]; return ok }
	for _, s := range readyShards(shards, ls, held, w.leases.owner, time.Now().UnixMilli(), w.current) {
		cur, ok, err := w.leases.acquire(ctx, s.id, s.parent, w.gen)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		checkpoint := cur.Checkpoint
		if !w.current(cur) {
			if err := w.leases.restart(ctx, s.id, w.gen); err != nil {
				return err
			}
			checkpoint = ""
		}
		w.f.stats.taken.Add(1)
		if s.hasLease && s.lease.Owner != "" && s.lease.Owner != w.leases.owner {
			w.log.Info("events/dynamo: took over an expired lease", "shard", s.id, "from", s.lease.Owner)
		}
		sctx, cancel := context.WithCancel(ctx)
		w.held[s.id] = &shardRun{cancel: cancel, gen: w.gen}
		w.wg.Add(1)
		go func(id, seq string) {
			defer w.wg.Done()
			err := w.process(sctx, id, seq)
			select {
			case w.ended <- shardEnd{shard: id, err: err}:
			case <-w.stopping:
			}
		}(s.id, checkpoint)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) bool { return events.Sleep(ctx, d) }
