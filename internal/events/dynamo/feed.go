package dynamo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/smithy-go"

	"mediashare/internal/events"
)

var _ events.Feed = (*Feed)(nil)

// StreamsAPI is the part of the DynamoDB Streams client the feed calls;
// *dynamodbstreams.Client implements it.
type StreamsAPI interface {
	DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// Names of the lease table's attributes. Its key is (consumer, shard):
// one lease item per consumer and shard; parked records sit under the
// consumer name plus ParkedSuffix with shard "<shardId>#<sequence>".
const (
	LeaseAttrConsumer   = "consumer"   // partition key (S)
	LeaseAttrShard      = "shard"      // sort key (S)
	leaseAttrOwner      = "owner"      // who holds the lease; absent when free
	leaseAttrExpires    = "expires"    // Unix ms after which others may take it
	leaseAttrCheckpoint = "checkpoint" // sequence number of the last record handled
	leaseAttrDone       = "done"       // true once the shard is closed and fully handled
	leaseAttrParent     = "parent"     // the parent shard id, for operators
	// ParkedSuffix marks dead-letter items: consumer "<name>#parked".
	ParkedSuffix = "#parked"
)

// LeaseTableInput describes the lease table.
func LeaseTableInput(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(LeaseAttrConsumer), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(LeaseAttrShard), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(LeaseAttrConsumer), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(LeaseAttrShard), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
	}
}

// Stats counts what the feed has met since it was made.
type Stats struct {
	Delivered        int64 // handler calls that succeeded
	HandlerErrors    int64 // handler calls that failed
	Parked           int64 // records given up on and written as dead letters
	Trimmed          int64 // TrimmedDataAccessException met
	ExpiredIterators int64 // ExpiredIteratorException met
	Throttled        int64 // LimitExceededException (or other throttling) met
	EmptyReads       int64 // GetRecords calls that returned nothing
	LeasesTaken      int64 // leases acquired (new, free, released or expired)
	LeasesLost       int64 // leases found taken by another owner
}

type counters struct {
	delivered, handlerErrors, parked, trimmed, expired, throttled, empty, taken, lost atomic.Int64
}

// Feed is the change feed on the events table's DynamoDB Stream. Follow
// reads every shard in lineage order (a child only after its parent is
// done), one consumer instance per shard at a time, guarded by leases in
// the lease table. Its checkpoints live in the lease items, written only
// while the writer holds the lease, so a stale owner cannot move them:
// the events.Checkpoints argument of Follow is not used.
type Feed struct {
	db         *dynamodb.Client
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
	// RetryDelay is the first wait after a failed handler or call; it
	// doubles up to 32 times itself (default 1 s).
	RetryDelay time.Duration
	// MaxAttempts is how many times a record is handed to the handler
	// before it is parked and the shard moves on (default 5).
	MaxAttempts int
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

	stats counters
}

// NewFeed returns the feed of eventsTable's stream, keeping leases and
// checkpoints in leaseTable.
func NewFeed(db *dynamodb.Client, streams StreamsAPI, eventsTable, leaseTable string) *Feed {
	return &Feed{db: db, streams: streams, table: eventsTable, leaseTable: leaseTable}
}

// Stats returns the feed's counters.
func (f *Feed) Stats() Stats {
	s := &f.stats
	return Stats{
		Delivered: s.delivered.Load(), HandlerErrors: s.handlerErrors.Load(), Parked: s.parked.Load(),
		Trimmed: s.trimmed.Load(), ExpiredIterators: s.expired.Load(), Throttled: s.throttled.Load(),
		EmptyReads: s.empty.Load(), LeasesTaken: s.taken.Load(), LeasesLost: s.lost.Load(),
	}
}

func (f *Feed) leaseDuration() time.Duration { return orDefault(f.LeaseDuration, 30*time.Second) }
func (f *Feed) retryDelay() time.Duration    { return orDefault(f.RetryDelay, time.Second) }
func (f *Feed) pollInterval() time.Duration  { return orDefault(f.PollInterval, 250*time.Millisecond) }
func (f *Feed) maxPoll() time.Duration       { return orDefault(f.MaxPollInterval, 500*time.Millisecond) }

func (f *Feed) maxAttempts() int {
	if f.MaxAttempts <= 0 {
		return 5
	}
	return f.MaxAttempts
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

// lease is a lease item as read.
type lease struct {
	Consumer   string `dynamodbav:"consumer"`
	Shard      string `dynamodbav:"shard"`
	Owner      string `dynamodbav:"owner"`
	Expires    int64  `dynamodbav:"expires"`
	Checkpoint string `dynamodbav:"checkpoint"`
	Done       bool   `dynamodbav:"done"`
}

// errLeaseLost stops a shard worker whose lease another owner took.
var errLeaseLost = errors.New("lease lost")

// Follow implements events.Feed. The handler is never called
// concurrently, and within a shard (so within a stream) events arrive in
// order. A record whose handler fails MaxAttempts times is parked and the
// shard moves on. cp is not used (see Feed).
func (f *Feed) Follow(ctx context.Context, name string, _ events.Checkpoints, h events.Handler) error {
	owner := f.Owner
	if owner == "" {
		host, _ := os.Hostname()
		var b [6]byte
		rand.Read(b[:])
		owner = host + "-" + hex.EncodeToString(b[:])
	}
	w := &follower{f: f, name: name, owner: owner, h: h, held: map[string]*shardRun{}, ended: make(chan shardEnd, 16), stopping: make(chan struct{}),
		log: f.log().With("consumer", name, "owner", owner)}
	return w.run(ctx)
}

type shardRun struct {
	cancel context.CancelFunc
	lost   bool // the lease went to another owner; the worker is stopping
}

type shardEnd struct {
	shard string
	err   error
}

// follower is one Follow call.
type follower struct {
	f     *Feed
	name  string
	owner string
	h     events.Handler
	log   *slog.Logger
	arn   string

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
		if err := w.release(ctx, shard); err != nil {
			w.log.Warn("events/dynamo: release lease", "shard", shard, "error", err)
		}
	}
}

// refresh renews the held leases, then lists the shards and takes every
// free lease whose shard is ready (its parent is done or gone).
func (w *follower) refresh(ctx context.Context) error {
	for shard, run := range w.held {
		if run.lost {
			continue
		}
		err := w.renew(ctx, shard)
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
	if w.arn == "" {
		arn, err := w.streamARN(ctx)
		if err != nil {
			return err
		}
		w.arn = arn
	}
	shards, err := w.shards(ctx)
	if err != nil {
		return err
	}
	leases, err := w.leases(ctx)
	if err != nil {
		return err
	}
	listed := make(map[string]bool, len(shards))
	for _, s := range shards {
		listed[aws.ToString(s.ShardId)] = true
	}
	now := time.Now().UnixMilli()
	for _, s := range shards {
		id := aws.ToString(s.ShardId)
		if _, ok := w.held[id]; ok {
			continue
		}
		l, has := leases[id]
		if has && (l.Done || (l.Owner != "" && l.Owner != w.owner && l.Expires >= now)) {
			continue
		}
		if p := aws.ToString(s.ParentShardId); p != "" && listed[p] && !leases[p].Done {
			continue // the parent's records come first
		}
		cur, ok, err := w.acquire(ctx, id, aws.ToString(s.ParentShardId))
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		w.f.stats.taken.Add(1)
		if has && l.Owner != "" && l.Owner != w.owner {
			w.log.Info("events/dynamo: took over an expired lease", "shard", id, "from", l.Owner)
		}
		sctx, cancel := context.WithCancel(ctx)
		w.held[id] = &shardRun{cancel: cancel}
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			err := w.process(sctx, id, cur.Checkpoint)
			select {
			case w.ended <- shardEnd{shard: id, err: err}:
			case <-w.stopping:
			}
		}()
	}
	return nil
}

func (w *follower) streamARN(ctx context.Context) (string, error) {
	c, cancel := w.f.call(ctx)
	defer cancel()
	out, err := w.f.db.DescribeTable(c, &dynamodb.DescribeTableInput{TableName: aws.String(w.f.table)})
	if err != nil {
		return "", fmt.Errorf("events/dynamo: describe table %s: %w", w.f.table, err)
	}
	arn := aws.ToString(out.Table.LatestStreamArn)
	if arn == "" {
		return "", fmt.Errorf("events/dynamo: table %s has no stream; enable Streams with NEW_IMAGE", w.f.table)
	}
	return arn, nil
}

func (w *follower) shards(ctx context.Context) ([]streamtypes.Shard, error) {
	var (
		out   []streamtypes.Shard
		start *string
	)
	for {
		c, cancel := w.f.call(ctx)
		res, err := w.f.streams.DescribeStream(c, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(w.arn), ExclusiveStartShardId: start})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("events/dynamo: describe stream %s: %w", w.arn, err)
		}
		out = append(out, res.StreamDescription.Shards...)
		start = res.StreamDescription.LastEvaluatedShardId
		if start == nil {
			return out, nil
		}
	}
}

func (w *follower) leases(ctx context.Context) (map[string]lease, error) {
	out := map[string]lease{}
	var start map[string]types.AttributeValue
	for {
		c, cancel := w.f.call(ctx)
		res, err := w.f.db.Query(c, &dynamodb.QueryInput{
			TableName:                 aws.String(w.f.leaseTable),
			KeyConditionExpression:    aws.String("#c = :c"),
			ExpressionAttributeNames:  map[string]string{"#c": LeaseAttrConsumer},
			ExpressionAttributeValues: map[string]types.AttributeValue{":c": &types.AttributeValueMemberS{Value: w.name}},
			ConsistentRead:            aws.Bool(true),
			ExclusiveStartKey:         start,
		})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("events/dynamo: read leases of %s in table %s: %w", w.name, w.f.leaseTable, err)
		}
		for _, it := range res.Items {
			var l lease
			if err := attributevalue.UnmarshalMap(it, &l); err != nil {
				return nil, fmt.Errorf("events/dynamo: read leases of %s: %w", w.name, err)
			}
			out[l.Shard] = l
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		start = res.LastEvaluatedKey
	}
}

func (w *follower) key(shard string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		LeaseAttrConsumer: &types.AttributeValueMemberS{Value: w.name},
		LeaseAttrShard:    &types.AttributeValueMemberS{Value: shard},
	}
}

func (w *follower) expiry() types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Add(w.f.leaseDuration()).UnixMilli(), 10)}
}

// update runs a conditional UpdateItem on the lease of shard; a failed
// condition is reported as ok == false.
func (w *follower) update(ctx context.Context, shard, expr, cond string, vals map[string]types.AttributeValue, ret types.ReturnValue) (map[string]types.AttributeValue, bool, error) {
	c, cancel := w.f.call(ctx)
	defer cancel()
	out, err := w.f.db.UpdateItem(c, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(w.f.leaseTable),
		Key:                       w.key(shard),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  usedNames(expr+" "+cond, leaseNames),
		ExpressionAttributeValues: vals,
		ReturnValues:              ret,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("events/dynamo: update lease %s/%s in table %s: %w", w.name, shard, w.f.leaseTable, err)
	}
	return out.Attributes, true, nil
}

// acquire takes the lease of shard if it is new, free, expired or already
// ours, and returns it.
func (w *follower) acquire(ctx context.Context, shard, parent string) (lease, bool, error) {
	if parent == "" {
		parent = "-"
	}
	attrs, ok, err := w.update(ctx, shard,
		"SET #o = :me, #e = :exp, #p = if_not_exists(#p, :parent)",
		"attribute_not_exists(#d) AND (attribute_not_exists(#o) OR #o = :me OR #e < :now)",
		map[string]types.AttributeValue{
			":me": &types.AttributeValueMemberS{Value: w.owner}, ":exp": w.expiry(),
			":now":    &types.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().UnixMilli(), 10)},
			":parent": &types.AttributeValueMemberS{Value: parent},
		}, types.ReturnValueAllNew)
	if err != nil || !ok {
		return lease{}, false, err
	}
	var l lease
	if err := attributevalue.UnmarshalMap(attrs, &l); err != nil {
		return lease{}, false, fmt.Errorf("events/dynamo: read lease %s/%s: %w", w.name, shard, err)
	}
	return l, true, nil
}

var meOnly = "#o = :me"

var leaseNames = map[string]string{
	"#o": leaseAttrOwner, "#e": leaseAttrExpires, "#c": leaseAttrCheckpoint, "#d": leaseAttrDone, "#p": leaseAttrParent,
}

// usedNames picks the placeholders expr uses: DynamoDB rejects unused ones.
func usedNames(expr string, all map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range all {
		if strings.Contains(expr, k) {
			out[k] = v
		}
	}
	return out
}

func (w *follower) renew(ctx context.Context, shard string) error {
	_, ok, err := w.update(ctx, shard, "SET #e = :exp", meOnly,
		map[string]types.AttributeValue{":me": &types.AttributeValueMemberS{Value: w.owner}, ":exp": w.expiry()}, types.ReturnValueNone)
	if err == nil && !ok {
		return errLeaseLost
	}
	return err
}

func (w *follower) release(ctx context.Context, shard string) error {
	_, _, err := w.update(ctx, shard, "REMOVE #o SET #e = :zero", meOnly,
		map[string]types.AttributeValue{":me": &types.AttributeValueMemberS{Value: w.owner}, ":zero": &types.AttributeValueMemberN{Value: "0"}}, types.ReturnValueNone)
	return err
}

// checkpoint records seq as handled, renewing the lease; it fails with
// errLeaseLost when another owner holds the lease. It completes even when
// ctx is done, so a stop right after a handled record keeps its checkpoint.
func (w *follower) checkpoint(ctx context.Context, shard, seq string) error {
	vals := map[string]types.AttributeValue{":me": &types.AttributeValueMemberS{Value: w.owner}, ":exp": w.expiry()}
	expr := "SET #e = :exp REMOVE #c"
	if seq != "" {
		expr = "SET #e = :exp, #c = :seq"
		vals[":seq"] = &types.AttributeValueMemberS{Value: seq}
	}
	for attempt := 0; ; attempt++ {
		_, ok, err := w.update(context.WithoutCancel(ctx), shard, expr, meOnly, vals, types.ReturnValueNone)
		if err == nil && !ok {
			return errLeaseLost
		}
		if err == nil {
			return nil
		}
		w.log.Warn("events/dynamo: save checkpoint", "shard", shard, "error", err)
		if attempt >= 3 || !sleep(ctx, w.backoff(attempt)) {
			return err
		}
	}
}

// markDone records that the closed shard has been handled to its end.
func (w *follower) markDone(ctx context.Context, shard string) error {
	_, ok, err := w.update(context.WithoutCancel(ctx), shard, "SET #d = :t REMOVE #o", meOnly,
		map[string]types.AttributeValue{":me": &types.AttributeValueMemberS{Value: w.owner}, ":t": &types.AttributeValueMemberBOOL{Value: true}}, types.ReturnValueNone)
	if err == nil && !ok {
		return errLeaseLost
	}
	return err
}

func (w *follower) backoff(attempt int) time.Duration {
	d := w.f.retryDelay()
	for i := 0; i < attempt && i < 5; i++ {
		d *= 2
	}
	return d
}

// iterator returns a shard iterator just after seq, or at the trim
// horizon when there is no checkpoint. It never starts at LATEST.
func (w *follower) iterator(ctx context.Context, shard, seq string) (*string, error) {
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(w.arn), ShardId: aws.String(shard), ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon}
	if seq != "" {
		in.ShardIteratorType, in.SequenceNumber = streamtypes.ShardIteratorTypeAfterSequenceNumber, aws.String(seq)
	}
	c, cancel := w.f.call(ctx)
	defer cancel()
	out, err := w.f.streams.GetShardIterator(c, in)
	if err != nil {
		return nil, fmt.Errorf("events/dynamo: get %s iterator of shard %s: %w", in.ShardIteratorType, shard, err)
	}
	return out.ShardIterator, nil
}

func isCode(err error, codes ...string) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.ErrorCode() == c {
			return true
		}
	}
	return false
}

// process reads one shard from seq until it ends (closed and handled),
// the lease is lost, or ctx is done.
func (w *follower) process(ctx context.Context, shard, seq string) error {
	log := w.log.With("shard", shard)
	var iter *string
	wait, fails := w.f.pollInterval(), 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if iter == nil {
			it, err := w.iterator(ctx, shard, seq)
			switch {
			case err == nil:
				iter, fails = it, 0
				if iter == nil { // a closed shard already read to its end
					return w.markDone(ctx, shard)
				}
			case isCode(err, "TrimmedDataAccessException"):
				if seq, err = w.trimmed(ctx, shard, err); err != nil {
					return err
				}
				continue
			case isCode(err, "ResourceNotFoundException"):
				// The shard has aged out of the stream: its records are gone.
				if _, err := w.trimmed(ctx, shard, err); err != nil {
					return err
				}
				return w.markDone(ctx, shard)
			default:
				if isCode(err, "LimitExceededException", "ThrottlingException") {
					w.f.stats.throttled.Add(1)
				}
				log.Warn("events/dynamo: get shard iterator", "error", err)
				if !sleep(ctx, w.backoff(fails)) {
					return ctx.Err()
				}
				fails++
				continue
			}
		}
		c, cancel := w.f.call(ctx)
		out, err := w.f.streams.GetRecords(c, &dynamodbstreams.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(1000)})
		cancel()
		if err != nil {
			switch {
			case isCode(err, "ExpiredIteratorException"):
				w.f.stats.expired.Add(1)
				log.Info("events/dynamo: shard iterator expired; re-acquiring from the checkpoint", "checkpoint", seq)
				iter = nil
				continue
			case isCode(err, "TrimmedDataAccessException"):
				if seq, err = w.trimmed(ctx, shard, err); err != nil {
					return err
				}
				iter = nil
				continue
			case isCode(err, "LimitExceededException", "ThrottlingException", "ProvisionedThroughputExceededException"):
				w.f.stats.throttled.Add(1)
				log.Info("events/dynamo: stream reads throttled; backing off", "error", err)
			default:
				log.Warn("events/dynamo: get records", "error", err)
				iter = nil // start again from the checkpoint, never LATEST
			}
			if !sleep(ctx, w.backoff(fails)) {
				return ctx.Err()
			}
			fails++
			continue
		}
		fails = 0
		for _, r := range out.Records {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := w.deliver(ctx, shard, r); err != nil {
				return err
			}
			seq = aws.ToString(r.Dynamodb.SequenceNumber)
			if err := w.checkpoint(ctx, shard, seq); err != nil {
				return err
			}
		}
		iter = out.NextShardIterator
		if iter == nil {
			return w.markDone(ctx, shard) // the shard is closed and fully handled
		}
		if len(out.Records) > 0 {
			wait = w.f.pollInterval()
			continue
		}
		w.f.stats.empty.Add(1)
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
		wait = min(wait*2, w.f.maxPoll())
	}
}

// trimmed handles records lost to the stream's 24-hour retention: it
// counts and logs, rebuilds the consumer's view, and restarts the shard at
// its trim horizon (the returned, empty checkpoint).
func (w *follower) trimmed(ctx context.Context, shard string, cause error) (string, error) {
	w.f.stats.trimmed.Add(1)
	w.log.Error("events/dynamo: stream records were trimmed before they were handled; rebuilding", "shard", shard, "error", cause)
	if w.f.OnTrimmed != nil {
		w.f.OnTrimmed(w.name, shard)
	}
	for attempt := 0; w.f.Rebuild != nil; attempt++ {
		w.hmu.Lock() // no handler of this Follow runs during the rebuild
		err := w.f.Rebuild(ctx, w.name)
		w.hmu.Unlock()
		if err == nil {
			break
		}
		w.log.Error("events/dynamo: rebuild after trimmed records failed", "error", err)
		if !sleep(ctx, w.backoff(attempt)) {
			return "", ctx.Err()
		}
	}
	if err := w.checkpoint(ctx, shard, ""); err != nil {
		return "", err
	}
	return "", nil
}

// deliver hands a record's event to the handler, up to MaxAttempts times,
// then parks it.
func (w *follower) deliver(ctx context.Context, shard string, r streamtypes.Record) error {
	if r.EventName != streamtypes.OperationTypeInsert || r.Dynamodb == nil {
		return nil // events are immutable: only inserts carry new events
	}
	e, err := recordEvent(r.Dynamodb.NewImage)
	if err != nil {
		w.log.Error("events/dynamo: unreadable stream record", "shard", shard, "sequence", aws.ToString(r.Dynamodb.SequenceNumber), "error", err)
		return w.park(ctx, shard, r, events.Event{}, err)
	}
	for attempt := 1; ; attempt++ {
		w.hmu.Lock()
		err := w.h(ctx, e)
		w.hmu.Unlock()
		if err == nil {
			w.f.stats.delivered.Add(1)
			return nil
		}
		w.f.stats.handlerErrors.Add(1)
		if ctx.Err() != nil {
			return ctx.Err() // stopping: neither parked nor checkpointed
		}
		if attempt >= w.f.maxAttempts() {
			return w.park(ctx, shard, r, e, err)
		}
		w.log.Warn("events/dynamo: handler failed; retrying", "shard", shard, "stream", e.Stream, "version", e.Version, "attempt", attempt, "error", err)
		if !sleep(ctx, w.backoff(attempt-1)) {
			return ctx.Err()
		}
	}
}

// parked is a dead-letter item.
type parked struct {
	Consumer string `dynamodbav:"consumer"`
	Shard    string `dynamodbav:"shard"` // "<shardId>#<sequence number>"
	Stream   string `dynamodbav:"stream,omitempty"`
	Version  int    `dynamodbav:"version,omitempty"`
	EventID  string `dynamodbav:"event_id,omitempty"`
	Type     string `dynamodbav:"type,omitempty"`
	Error    string `dynamodbav:"error"`
	At       string `dynamodbav:"at"`
	Owner    string `dynamodbav:"owner"`
}

// park writes a dead-letter item for a record the handler kept failing
// on, so the shard can move on. It retries until the item is written.
func (w *follower) park(ctx context.Context, shard string, r streamtypes.Record, e events.Event, cause error) error {
	seq := aws.ToString(r.Dynamodb.SequenceNumber)
	p := parked{
		Consumer: w.name + ParkedSuffix, Shard: shard + "#" + seq, Stream: e.Stream, Version: e.Version, EventID: e.ID,
		Type: string(e.Type), Error: cause.Error(), At: time.Now().UTC().Format(time.RFC3339Nano), Owner: w.owner,
	}
	av, err := attributevalue.MarshalMap(p)
	if err != nil {
		return fmt.Errorf("events/dynamo: park %s: %w", seq, err)
	}
	for attempt := 0; ; attempt++ {
		c, cancel := w.f.call(ctx)
		_, err = w.f.db.PutItem(c, &dynamodb.PutItemInput{TableName: aws.String(w.f.leaseTable), Item: av})
		cancel()
		if err == nil {
			w.f.stats.parked.Add(1)
			w.log.Error("events/dynamo: parked a record the handler keeps failing on", "shard", shard, "sequence", seq,
				"stream", e.Stream, "version", e.Version, "error", cause)
			return nil
		}
		w.log.Warn("events/dynamo: write dead letter", "table", w.f.leaseTable, "error", err)
		if !sleep(ctx, w.backoff(attempt)) {
			return ctx.Err()
		}
	}
}

// Parked lists the dead letters of consumer, oldest first (for operators
// and tests).
func (f *Feed) Parked(ctx context.Context, consumer string) ([]ParkedRecord, error) {
	c, cancel := f.call(ctx)
	defer cancel()
	out, err := f.db.Query(c, &dynamodb.QueryInput{
		TableName:                 aws.String(f.leaseTable),
		KeyConditionExpression:    aws.String("#c = :c"),
		ExpressionAttributeNames:  map[string]string{"#c": LeaseAttrConsumer},
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": &types.AttributeValueMemberS{Value: consumer + ParkedSuffix}},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("events/dynamo: read dead letters of %s in table %s: %w", consumer, f.leaseTable, err)
	}
	var ps []parked
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &ps); err != nil {
		return nil, fmt.Errorf("events/dynamo: read dead letters of %s: %w", consumer, err)
	}
	res := make([]ParkedRecord, len(ps))
	for i, p := range ps {
		res[i] = ParkedRecord{Shard: p.Shard, Stream: p.Stream, Version: p.Version, EventID: p.EventID, Error: p.Error}
	}
	return res, nil
}

// ParkedRecord is a dead letter: a record a consumer gave up on.
type ParkedRecord struct {
	Shard   string // "<shardId>#<sequence number>"
	Stream  string
	Version int
	EventID string
	Error   string
}

// recordEvent decodes the new image of a stream record.
func recordEvent(img map[string]streamtypes.AttributeValue) (events.Event, error) {
	if len(img) == 0 {
		return events.Event{}, errors.New("stream record without a new image (the stream must use NEW_IMAGE)")
	}
	var it item
	if err := attributevalue.UnmarshalMap(FromStreamImage(img), &it); err != nil {
		return events.Event{}, err
	}
	return it.event(), nil
}

// FromStreamImage converts a stream record's image to DynamoDB attribute
// values (the two services have twin types).
func FromStreamImage(img map[string]streamtypes.AttributeValue) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(img))
	for k, v := range img {
		out[k] = fromStream(v)
	}
	return out
}

func fromStream(v streamtypes.AttributeValue) types.AttributeValue {
	switch v := v.(type) {
	case *streamtypes.AttributeValueMemberS:
		return &types.AttributeValueMemberS{Value: v.Value}
	case *streamtypes.AttributeValueMemberN:
		return &types.AttributeValueMemberN{Value: v.Value}
	case *streamtypes.AttributeValueMemberB:
		return &types.AttributeValueMemberB{Value: v.Value}
	case *streamtypes.AttributeValueMemberBOOL:
		return &types.AttributeValueMemberBOOL{Value: v.Value}
	case *streamtypes.AttributeValueMemberNULL:
		return &types.AttributeValueMemberNULL{Value: v.Value}
	case *streamtypes.AttributeValueMemberSS:
		return &types.AttributeValueMemberSS{Value: v.Value}
	case *streamtypes.AttributeValueMemberNS:
		return &types.AttributeValueMemberNS{Value: v.Value}
	case *streamtypes.AttributeValueMemberBS:
		return &types.AttributeValueMemberBS{Value: v.Value}
	case *streamtypes.AttributeValueMemberL:
		l := make([]types.AttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = fromStream(e)
		}
		return &types.AttributeValueMemberL{Value: l}
	case *streamtypes.AttributeValueMemberM:
		m := make(map[string]types.AttributeValue, len(v.Value))
		for k, e := range v.Value {
			m[k] = fromStream(e)
		}
		return &types.AttributeValueMemberM{Value: m}
	}
	return &types.AttributeValueMemberNULL{Value: true}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
