package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"mediashare/internal/events"
	"mediashare/internal/events/dynamo"
	"mediashare/internal/events/eventstest"
	"mediashare/internal/ids"
)

// fakeStreams is a DynamoDB Streams service with shards the test scripts:
// closed shards, parent/child lineage, and errors moto never produces.
type fakeStreams struct {
	mu     sync.Mutex
	shards []*fakeShard // in DescribeStream order, one per page
	iters  map[string]fakeIter
	next   int
	calls  []string // "GetShardIterator <shard> <type> <seq>"
}

type fakeShard struct {
	id, parent string
	records    []streamtypes.Record
	closed     bool
	errs       []error // returned by the next GetRecords calls, in order
}

type fakeIter struct {
	shard *fakeShard
	idx   int
}

var _ dynamo.StreamsAPI = (*fakeStreams)(nil)

func (f *fakeStreams) shard(id string) *fakeShard {
	for _, s := range f.shards {
		if s.id == id {
			return s
		}
	}
	return nil
}

func (f *fakeStreams) DescribeStream(_ context.Context, in *dynamodbstreams.DescribeStreamInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := 0
	if in.ExclusiveStartShardId != nil {
		for i < len(f.shards) && f.shards[i].id != *in.ExclusiveStartShardId {
			i++
		}
		i++
	}
	d := &streamtypes.StreamDescription{StreamArn: in.StreamArn}
	if i < len(f.shards) {
		s := f.shards[i]
		sh := streamtypes.Shard{ShardId: aws.String(s.id), SequenceNumberRange: &streamtypes.SequenceNumberRange{StartingSequenceNumber: aws.String("0")}}
		if s.parent != "" {
			sh.ParentShardId = aws.String(s.parent)
		}
		d.Shards = []streamtypes.Shard{sh}
		if i+1 < len(f.shards) {
			d.LastEvaluatedShardId = aws.String(s.id) // one shard a page: paginate
		}
	}
	return &dynamodbstreams.DescribeStreamOutput{StreamDescription: d}, nil
}

func (f *fakeStreams) newIter(s *fakeShard, idx int) *string {
	f.next++
	tok := "iter-" + strconv.Itoa(f.next)
	f.iters[tok] = fakeIter{shard: s, idx: idx}
	return aws.String(tok)
}

func (f *fakeStreams) GetShardIterator(_ context.Context, in *dynamodbstreams.GetShardIteratorInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("GetShardIterator %s %s %s", aws.ToString(in.ShardId), in.ShardIteratorType, aws.ToString(in.SequenceNumber)))
	s := f.shard(aws.ToString(in.ShardId))
	if s == nil {
		return nil, &streamtypes.ResourceNotFoundException{Message: aws.String("no shard")}
	}
	idx := 0
	switch in.ShardIteratorType {
	case streamtypes.ShardIteratorTypeTrimHorizon:
	case streamtypes.ShardIteratorTypeAfterSequenceNumber:
		idx = -1
		for i, r := range s.records {
			if aws.ToString(r.Dynamodb.SequenceNumber) == aws.ToString(in.SequenceNumber) {
				idx = i + 1
			}
		}
		if idx < 0 {
			return nil, fmt.Errorf("fake: no record %s", aws.ToString(in.SequenceNumber))
		}
	default:
		return nil, fmt.Errorf("fake: iterator type %s is not expected", in.ShardIteratorType)
	}
	return &dynamodbstreams.GetShardIteratorOutput{ShardIterator: f.newIter(s, idx)}, nil
}

func (f *fakeStreams) GetRecords(_ context.Context, in *dynamodbstreams.GetRecordsInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	it, ok := f.iters[aws.ToString(in.ShardIterator)]
	if !ok {
		return nil, fmt.Errorf("fake: unknown iterator")
	}
	s := it.shard
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		return nil, err
	}
	// One record a call, so that errors can fall between records.
	out := &dynamodbstreams.GetRecordsOutput{}
	idx := it.idx
	if idx < len(s.records) {
		out.Records = s.records[idx : idx+1]
		idx++
	}
	if !(s.closed && idx == len(s.records)) {
		out.NextShardIterator = f.newIter(s, idx)
	}
	return out, nil
}

func (f *fakeStreams) iteratorCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// record makes the stream record of an event at sequence number seq.
func record(t *testing.T, seq string, e events.Event) streamtypes.Record {
	t.Helper()
	s := func(v string) streamtypes.AttributeValue { return &streamtypes.AttributeValueMemberS{Value: v} }
	n := func(v int64) streamtypes.AttributeValue {
		return &streamtypes.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
	}
	img := map[string]streamtypes.AttributeValue{
		"stream": s(e.Stream), "version": n(int64(e.Version)), "id": s(e.ID), "type": s(string(e.Type)),
		"time_ms": n(e.Time.UnixMilli()), "actor": s(string(e.Actor)), "schema": n(1), "data": s(string(e.Data)),
		"audit": s("all"), "pos": s(fmt.Sprintf("%013d#%s", e.Time.UnixMilli(), e.ID)),
	}
	return streamtypes.Record{
		EventName: streamtypes.OperationTypeInsert,
		Dynamodb:  &streamtypes.StreamRecord{SequenceNumber: aws.String(seq), NewImage: img, StreamViewType: streamtypes.StreamViewTypeNewImage},
	}
}

func testEvent(t *testing.T, version int) events.Event {
	t.Helper()
	stream := ids.New(time.Now())
	e := eventstest.MustEvent(t, events.MediaDeleted, stream, events.Deleted{Reason: "owner"})
	e.Version = version
	return e
}

// recorder is a handler that records deliveries and cancels when it has
// seen want events.
type recorder struct {
	mu     sync.Mutex
	got    []string // event ids in delivery order
	want   int
	cancel context.CancelFunc
	fail   func(e events.Event) error
}

func (r *recorder) handle(_ context.Context, e events.Event) error {
	if r.fail != nil {
		if err := r.fail(e); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, e.ID)
	if len(r.got) == r.want && r.cancel != nil {
		r.cancel()
	}
	return nil
}

func (r *recorder) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// followFake runs a feed over the fake until the recorder has want events.
func followFake(t *testing.T, fs *fakeStreams, want int, setup func(*dynamo.Feed), fail func(events.Event) error) (*dynamo.Feed, *recorder) {
	t.Helper()
	h := newHarness(t)
	fs.iters = map[string]fakeIter{}
	f := dynamo.NewFeed(h.db, fs, h.table, h.leases)
	f.PollInterval, f.MaxPollInterval, f.RetryDelay, f.LeaseDuration = 10*time.Millisecond, 50*time.Millisecond, 10*time.Millisecond, 2*time.Second
	if setup != nil {
		setup(f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rec := &recorder{want: want, cancel: cancel, fail: fail}
	err := f.Follow(ctx, "proj", nil, rec.handle)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Follow: got %v after %d of %d events, want context.Canceled", err, len(rec.ids()), want)
	}
	return f, rec
}

func equal(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

func TestFeedReadsParentBeforeChild(t *testing.T) {
	p1, p2, c1 := testEvent(t, 1), testEvent(t, 1), testEvent(t, 1)
	fs := &fakeStreams{shards: []*fakeShard{
		// The child is listed first, and its parent is slow (throttled):
		// only lineage order makes p1, p2 come before c1.
		{id: "shard-child", parent: "shard-parent", records: []streamtypes.Record{record(t, "300", c1)}},
		{id: "shard-parent", closed: true, records: []streamtypes.Record{record(t, "100", p1), record(t, "200", p2)},
			errs: []error{&streamtypes.LimitExceededException{Message: aws.String("slow down")}}},
	}}
	_, rec := followFake(t, fs, 3, nil, nil)
	if want := []string{p1.ID, p2.ID, c1.ID}; !equal(rec.ids(), want) {
		t.Errorf("deliveries: got %v, want %v (parent first)", rec.ids(), want)
	}
	calls := fs.iteratorCalls()
	want := []string{"GetShardIterator shard-parent TRIM_HORIZON ", "GetShardIterator shard-child TRIM_HORIZON "}
	if !equal(calls, want) {
		t.Errorf("iterator calls: got %q, want %q", calls, want)
	}
}

func TestFeedReacquiresAnExpiredIterator(t *testing.T) {
	e1, e2 := testEvent(t, 1), testEvent(t, 1)
	sh := &fakeShard{id: "shard-1", records: []streamtypes.Record{record(t, "100", e1), record(t, "200", e2)}}
	fs := &fakeStreams{shards: []*fakeShard{sh}}
	f, rec := followFake(t, fs, 2, nil, func(e events.Event) error {
		if e.ID == e1.ID {
			fs.mu.Lock()
			sh.errs = []error{&streamtypes.ExpiredIteratorException{Message: aws.String("expired")}}
			fs.mu.Unlock()
		}
		return nil
	})
	if want := []string{e1.ID, e2.ID}; !equal(rec.ids(), want) {
		t.Errorf("deliveries: got %v, want %v, each once", rec.ids(), want)
	}
	want := []string{"GetShardIterator shard-1 TRIM_HORIZON ", "GetShardIterator shard-1 AFTER_SEQUENCE_NUMBER 100"}
	if calls := fs.iteratorCalls(); !equal(calls, want) {
		t.Errorf("iterator calls: got %q, want %q", calls, want)
	}
	if got := f.Stats().ExpiredIterators; got != 1 {
		t.Errorf("expired iterators counted: %d, want 1", got)
	}
}

func TestFeedRebuildsAfterTrimmedRecords(t *testing.T) {
	e1 := testEvent(t, 1)
	fs := &fakeStreams{shards: []*fakeShard{{id: "shard-1", records: []streamtypes.Record{record(t, "100", e1)},
		errs: []error{&streamtypes.TrimmedDataAccessException{Message: aws.String("trimmed")}}}}}
	var (
		mu       sync.Mutex
		rebuilds []string
		trimmed  []string
	)
	f, rec := followFake(t, fs, 1, func(f *dynamo.Feed) {
		f.Rebuild = func(_ context.Context, consumer string) error {
			mu.Lock()
			defer mu.Unlock()
			rebuilds = append(rebuilds, consumer)
			return nil
		}
		f.OnTrimmed = func(consumer, shard string) {
			mu.Lock()
			defer mu.Unlock()
			trimmed = append(trimmed, consumer+"/"+shard)
		}
	}, nil)
	mu.Lock()
	defer mu.Unlock()
	if !equal(rebuilds, []string{"proj"}) || !equal(trimmed, []string{"proj/shard-1"}) {
		t.Errorf("rebuilds %v, trimmed hook %v; want one each for proj/shard-1", rebuilds, trimmed)
	}
	if got := f.Stats().Trimmed; got != 1 {
		t.Errorf("trimmed counted: %d, want 1", got)
	}
	if !equal(rec.ids(), []string{e1.ID}) {
		t.Errorf("after the rebuild the shard was not read from its trim horizon: got %v", rec.ids())
	}
}

func TestFeedBacksOffWhenThrottled(t *testing.T) {
	e1 := testEvent(t, 1)
	limit := func() error { return &streamtypes.LimitExceededException{Message: aws.String("limit")} }
	fs := &fakeStreams{shards: []*fakeShard{{id: "shard-1", records: []streamtypes.Record{record(t, "100", e1)}, errs: []error{limit(), limit(), limit()}}}}
	start := time.Now()
	f, rec := followFake(t, fs, 1, func(f *dynamo.Feed) { f.RetryDelay = 40 * time.Millisecond }, nil)
	if !equal(rec.ids(), []string{e1.ID}) {
		t.Errorf("deliveries: got %v, want the event after the throttling", rec.ids())
	}
	if got := f.Stats().Throttled; got != 3 {
		t.Errorf("throttled counted: %d, want 3", got)
	}
	// Backoff doubles: 40 + 80 + 160 ms at least.
	if d := time.Since(start); d < 280*time.Millisecond {
		t.Errorf("three throttled reads took %v; want the feed to back off (>= 280 ms)", d)
	}
	if calls := fs.iteratorCalls(); len(calls) != 1 {
		t.Errorf("iterator calls: got %q, want one (the iterator stays valid when throttled)", calls)
	}
}

func TestFeedParksARecordThatKeepsFailing(t *testing.T) {
	bad, good := testEvent(t, 1), testEvent(t, 1)
	fs := &fakeStreams{shards: []*fakeShard{{id: "shard-1", records: []streamtypes.Record{record(t, "100", bad), record(t, "200", good)}}}}
	attempts := 0
	f, rec := followFake(t, fs, 1, func(f *dynamo.Feed) { f.MaxAttempts = 3 }, func(e events.Event) error {
		if e.ID == bad.ID {
			attempts++
			return errors.New("poison")
		}
		return nil
	})
	if !equal(rec.ids(), []string{good.ID}) || attempts != 3 {
		t.Errorf("got %v after %d attempts at the bad record, want the good one after 3", rec.ids(), attempts)
	}
	parked, err := f.Parked(context.Background(), "proj")
	if err != nil {
		t.Fatal(err)
	}
	if len(parked) != 1 || parked[0].EventID != bad.ID || parked[0].Shard != "shard-1#100" || parked[0].Error != "poison" {
		t.Errorf("dead letters: got %+v, want the bad record at shard-1#100", parked)
	}
	if got := f.Stats().Parked; got != 1 {
		t.Errorf("parked counted: %d, want 1", got)
	}
}

// appendN appends n one-event streams.
func appendN(t *testing.T, s *dynamo.Store, n int) []string {
	t.Helper()
	var out []string
	for i := 0; i < n; i++ {
		stream := ids.New(time.Now())
		e := eventstest.MustEvent(t, events.MediaDeleted, stream, events.Deleted{Reason: "owner"})
		if _, err := s.Append(context.Background(), stream, 0, e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e.ID)
	}
	return out
}

// Two instances follow one moto stream: each event is handled once; when
// the lease holder dies (without releasing), the other takes over after
// the lease expires and goes on from the checkpoint.
func TestTwoConsumersShareTheStreamAndTakeOver(t *testing.T) {
	h := newHarness(t)
	store := dynamo.New(h.db, h.table)
	var (
		mu      sync.Mutex
		handled = map[string][]string{} // event id -> instances that handled it
	)
	type instance struct {
		name   string
		feed   *dynamo.Feed
		cancel context.CancelFunc
		done   chan struct{} // closed when Follow has returned
	}
	start := func(name string) *instance {
		f := h.feed()
		f.Owner, f.KeepLeasesOnStop = name, true
		ctx, cancel := context.WithCancel(context.Background())
		in := &instance{name: name, feed: f, cancel: cancel, done: make(chan struct{})}
		go func() {
			defer close(in.done)
			f.Follow(ctx, "proj", nil, func(_ context.Context, e events.Event) error {
				mu.Lock()
				defer mu.Unlock()
				handled[e.ID] = append(handled[e.ID], name)
				return nil
			})
		}()
		return in
	}
	waitFor := func(want []string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			mu.Lock()
			n := 0
			for _, id := range want {
				if len(handled[id]) > 0 {
					n++
				}
			}
			mu.Unlock()
			if n == len(want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("only %d of %d events were handled within 20 s", n, len(want))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	a, b := start("instance-a"), start("instance-b")
	defer func() {
		for _, in := range []*instance{a, b} {
			in.cancel()
			<-in.done
		}
	}()
	first := appendN(t, store, 5)
	waitFor(first)

	mu.Lock()
	holder := handled[first[0]][0]
	mu.Unlock()
	dead, survivor := a, b
	if holder == b.name {
		dead, survivor = b, a
	}
	dead.cancel() // a crash: the lease stays held until it expires
	<-dead.done
	crashed := time.Now()

	second := appendN(t, store, 5)
	waitFor(second)
	if d := time.Since(crashed); d < time.Second {
		t.Errorf("the survivor took over after %v, before the 2 s lease could expire", d)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, id := range first {
		if got := handled[id]; len(got) != 1 || got[0] != dead.name {
			t.Errorf("event %s before the crash handled by %v, want once by %s", id, got, dead.name)
		}
	}
	for _, id := range second {
		if got := handled[id]; len(got) != 1 || got[0] != survivor.name {
			t.Errorf("event %s after the crash handled by %v, want once by %s", id, got, survivor.name)
		}
	}
	if got := survivor.feed.Stats().LeasesTaken; got != 1 {
		t.Errorf("the survivor took %d leases, want 1", got)
	}
}

// A stale owner's checkpoint write is rejected: once another owner holds
// the lease, the old one stops and the checkpoint stays.
func TestStaleOwnerCannotCheckpoint(t *testing.T) {
	h := newHarness(t)
	store := dynamo.New(h.db, h.table)
	f := h.feed()
	f.LeaseDuration = time.Hour // never renews during the test: the checkpoint write meets the thief
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan string, 10)
	done := make(chan error, 1)
	go func() {
		done <- f.Follow(ctx, "proj", nil, func(_ context.Context, e events.Event) error { got <- e.ID; return nil })
	}()
	appendN(t, store, 1)
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the first event never arrived")
	}
	time.Sleep(200 * time.Millisecond) // its checkpoint is written
	leases, err := h.db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(h.leases)})
	if err != nil || len(leases.Items) != 1 {
		t.Fatalf("lease table: %v items (%v), want 1", len(leases.Items), err)
	}
	key := map[string]types.AttributeValue{"consumer": leases.Items[0]["consumer"], "shard": leases.Items[0]["shard"]}
	before := leases.Items[0]["checkpoint"].(*types.AttributeValueMemberS).Value
	// Another instance takes the lease (as after an expiry).
	if _, err := h.db.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: aws.String(h.leases), Key: key, UpdateExpression: aws.String("SET #o = :o"),
		ExpressionAttributeNames:  map[string]string{"#o": "owner"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":o": &types.AttributeValueMemberS{Value: "thief"}},
	}); err != nil {
		t.Fatal(err)
	}
	appendN(t, store, 1)
	deadline := time.Now().Add(10 * time.Second)
	for f.Stats().LeasesLost == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the stale owner never noticed it lost the lease")
		}
		time.Sleep(20 * time.Millisecond)
	}
	out, err := h.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(h.leases), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if o := out.Item["owner"].(*types.AttributeValueMemberS).Value; o != "thief" {
		t.Errorf("lease owner: got %q, want thief", o)
	}
	if c := out.Item["checkpoint"].(*types.AttributeValueMemberS).Value; c != before {
		t.Errorf("checkpoint moved from %s to %s under another owner's lease", before, c)
	}
	cancel()
	<-done
}
