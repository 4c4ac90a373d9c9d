// Package dynamo is the AWS event store: one DynamoDB item per event in
// the events table (partition key "stream" = the entry's eib, sort key
// "version"), appended with conditional puts, and a change feed that reads
// the table's DynamoDB Stream shard by shard with leases and checkpoints
// in a lease table (see feed.go and docs/aws-backend.md).
//
// The audit log (ReadAll) reads the global secondary index "audit": every
// event item carries audit = "all" (one constant partition) and
// pos = "<time_ms, 13 digits>#<event id>", so the index holds every event
// in time order and a position is the pos of the last event read.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"golang.org/x/sync/errgroup"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mediashare/internal/events"
)

var (
	_ events.Store        = (*Store)(nil)
	_ events.StreamLister = (*Store)(nil)
)

// Names of the events table's attributes and index.
const (
	AttrStream  = "stream"  // partition key (S): the entry's eib
	AttrVersion = "version" // sort key (N)
	AttrAudit   = "audit"   // the audit index's partition key (S), always AuditPartition
	AttrPos     = "pos"     // the audit index's sort key (S): "<time_ms>#<id>"
	AuditIndex  = "audit"   // the global secondary index ReadAll queries
	// AuditPartition is the one partition of the audit index. A single
	// partition keeps ReadAll a plain ordered Query; its write ceiling
	// (about 1,000 events a second) is far above what the site appends.
	AuditPartition = "all"
)

// DefaultTimeout bounds every DynamoDB call the adapter makes.
const DefaultTimeout = 10 * time.Second

// Store is an events.Store on a DynamoDB table.
type Store struct {
	db    *dynamodb.Client
	table string
	// Timeout bounds each DynamoDB call (DefaultTimeout when zero).
	Timeout time.Duration
	// HistoryReads bounds the Query calls one History call makes
	// (DefaultHistoryReads when zero); a filter that matches little stops
	// there and returns a cursor.
	HistoryReads int
}

// New returns a store on the events table named table, which must exist
// with the layout of TableInput (awsbackend.Setup creates it).
func New(db *dynamodb.Client, table string) *Store {
	return &Store{db: db, table: table, Timeout: DefaultTimeout}
}

// TableInput describes the events table: keys, the audit index, Streams
// with new images, on-demand capacity.
func TableInput(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(AttrStream), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(AttrVersion), AttributeType: types.ScalarAttributeTypeN},
			{AttributeName: aws.String(AttrAudit), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(AttrPos), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(AttrStream), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(AttrVersion), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(AuditIndex),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(AttrAudit), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(AttrPos), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
		BillingMode: types.BillingModePayPerRequest,
		StreamSpecification: &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewTypeNewImage,
		},
	}
}

// item is an event as stored.
type item struct {
	Stream  string `dynamodbav:"stream"`
	Version int    `dynamodbav:"version"`
	ID      string `dynamodbav:"id"`
	Type    string `dynamodbav:"type"`
	TimeMS  int64  `dynamodbav:"time_ms"`
	Actor   string `dynamodbav:"actor,omitempty"`
	Schema  int    `dynamodbav:"schema"`
	Data    string `dynamodbav:"data,omitempty"` // the JSON payload as text
	Audit   string `dynamodbav:"audit"`
	Pos     string `dynamodbav:"pos"`
}

func position(ms int64, id string) string {
	if ms < 0 {
		ms = 0
	}
	return fmt.Sprintf("%013d#%s", ms, id)
}

func toItem(e events.Event) item {
	id := e.ID
	if id == "" {
		id = e.Stream + "/" + strconv.Itoa(e.Version)
	}
	ms := e.Time.UnixMilli()
	return item{
		Stream: e.Stream, Version: e.Version, ID: e.ID, Type: string(e.Type), TimeMS: ms, Actor: string(e.Actor),
		Schema: e.Schema, Data: string(e.Data), Audit: AuditPartition, Pos: position(ms, id),
	}
}

func (it item) event() events.Event {
	return events.Event{
		ID: it.ID, Type: events.Type(it.Type), Stream: it.Stream, Version: it.Version,
		Time: time.UnixMilli(it.TimeMS).UTC(), Actor: events.Actor(it.Actor), Schema: it.Schema,
		Data: []byte(it.Data), Position: it.Pos,
	}
}

func decodeItems(raw []map[string]types.AttributeValue) ([]events.Event, error) {
	out := make([]events.Event, 0, len(raw))
	for _, r := range raw {
		var it item
		if err := attributevalue.UnmarshalMap(r, &it); err != nil {
			return nil, err
		}
		out = append(out, it.event())
	}
	return out, nil
}

func (s *Store) call(ctx context.Context) (context.Context, context.CancelFunc) {
	d := s.Timeout
	if d <= 0 {
		d = DefaultTimeout
	}
	return context.WithTimeout(ctx, d)
}

// Append implements events.Store. Each event is one conditional put
// (attribute_not_exists on its version), so exactly one writer wins each
// version; there is no transaction, so a multi-event append that fails
// half-way leaves its first events stored, and retrying it with the same
// event ids completes it.
func (s *Store) Append(ctx context.Context, stream string, expected int, evs ...events.Event) ([]events.Event, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	current, err := s.current(ctx, stream)
	if err != nil {
		return nil, err
	}
	start := 0
	var stored []events.Event
	if current != expected {
		stored, start, err = s.storedPrefix(ctx, stream, expected, evs)
		if err != nil {
			return nil, err
		}
		if start == len(evs) {
			return stored, nil // a retry of an append that landed
		}
		if start == 0 || current != expected+start {
			return nil, &events.ConflictError{Stream: stream, Expected: expected, Actual: current}
		}
	}
	out := append([]events.Event(nil), stored...)
	for i := start; i < len(evs); i++ {
		e := evs[i]
		e.Stream = stream
		e.Version = expected + 1 + i
		if e.Schema == 0 {
			e.Schema = events.SchemaVersion
		}
		e.Time = e.Time.UTC().Truncate(time.Millisecond)
		it := toItem(e)
		av, err := attributevalue.MarshalMap(it)
		if err != nil {
			return nil, fmt.Errorf("events/dynamo: append %s v%d: encode: %w", stream, e.Version, err)
		}
		c, cancel := s.call(ctx)
		_, err = s.db.PutItem(c, &dynamodb.PutItemInput{
			TableName:                aws.String(s.table),
			Item:                     av,
			ConditionExpression:      aws.String("attribute_not_exists(#v)"),
			ExpressionAttributeNames: map[string]string{"#v": AttrVersion},
		})
		cancel()
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return s.lostRace(ctx, stream, expected, evs)
		}
		if err != nil {
			return nil, fmt.Errorf("events/dynamo: append %s v%d: put item in table %s: %w", stream, e.Version, s.table, err)
		}
		e.Position = it.Pos
		out = append(out, e)
	}
	return out, nil
}

// lostRace answers an append whose conditional put failed: another writer
// took the version, unless it was this very append landing earlier.
func (s *Store) lostRace(ctx context.Context, stream string, expected int, evs []events.Event) ([]events.Event, error) {
	stored, n, err := s.storedPrefix(ctx, stream, expected, evs)
	if err != nil {
		return nil, err
	}
	if n == len(evs) {
		return stored, nil
	}
	current, err := s.current(ctx, stream)
	if err != nil {
		return nil, err
	}
	return nil, &events.ConflictError{Stream: stream, Expected: expected, Actual: current}
}

// current returns the stream's highest version (0 for a new stream), read
// with strong consistency.
func (s *Store) current(ctx context.Context, stream string) (int, error) {
	c, cancel := s.call(ctx)
	defer cancel()
	out, err := s.db.Query(c, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("#s = :s"),
		ExpressionAttributeNames:  map[string]string{"#s": AttrStream, "#v": AttrVersion},
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": &types.AttributeValueMemberS{Value: stream}},
		ProjectionExpression:      aws.String("#v"),
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(1),
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return 0, fmt.Errorf("events/dynamo: read version of %s in table %s: %w", stream, s.table, err)
	}
	if len(out.Items) == 0 {
		return 0, nil
	}
	var v struct {
		Version int `dynamodbav:"version"`
	}
	if err := attributevalue.UnmarshalMap(out.Items[0], &v); err != nil {
		return 0, fmt.Errorf("events/dynamo: read version of %s: %w", stream, err)
	}
	return v.Version, nil
}

// storedPrefix reads the events stored after expected and returns those
// that carry the ids of evs, in order, and how many there are.
func (s *Store) storedPrefix(ctx context.Context, stream string, expected int, evs []events.Event) ([]events.Event, int, error) {
	c, cancel := s.call(ctx)
	defer cancel()
	out, err := s.db.Query(c, &dynamodb.QueryInput{
		TableName:                aws.String(s.table),
		KeyConditionExpression:   aws.String("#s = :s AND #v > :v"),
		ExpressionAttributeNames: map[string]string{"#s": AttrStream, "#v": AttrVersion},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":s": &types.AttributeValueMemberS{Value: stream},
			":v": &types.AttributeValueMemberN{Value: strconv.Itoa(expected)},
		},
		Limit:          aws.Int32(int32(len(evs))),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, 0, fmt.Errorf("events/dynamo: append %s: check retry in table %s: %w", stream, s.table, err)
	}
	stored, err := decodeItems(out.Items)
	if err != nil {
		return nil, 0, fmt.Errorf("events/dynamo: append %s: check retry: %w", stream, err)
	}
	n := 0
	for n < len(stored) && n < len(evs) && evs[n].ID != "" && stored[n].ID == evs[n].ID && stored[n].Version == expected+1+n {
		n++
	}
	return stored[:n], n, nil
}

// Load implements events.Store with a strongly consistent Query.
func (s *Store) Load(ctx context.Context, stream string) ([]events.Event, error) {
	var (
		out   []events.Event
		start map[string]types.AttributeValue
	)
	for {
		c, cancel := s.call(ctx)
		res, err := s.db.Query(c, &dynamodb.QueryInput{
			TableName:                 aws.String(s.table),
			KeyConditionExpression:    aws.String("#s = :s"),
			ExpressionAttributeNames:  map[string]string{"#s": AttrStream},
			ExpressionAttributeValues: map[string]types.AttributeValue{":s": &types.AttributeValueMemberS{Value: stream}},
			ConsistentRead:            aws.Bool(true),
			ExclusiveStartKey:         start,
		})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("events/dynamo: load %s from table %s: %w", stream, s.table, err)
		}
		evs, err := decodeItems(res.Items)
		if err != nil {
			return nil, fmt.Errorf("events/dynamo: load %s: %w", stream, err)
		}
		out = append(out, evs...)
		if len(res.LastEvaluatedKey) == 0 {
			break
		}
		start = res.LastEvaluatedKey
	}
	if len(out) == 0 {
		return nil, events.ErrNotFound
	}
	return out, nil
}

// validPosition reports whether p has the shape of a position.
func validPosition(p string) bool {
	ms, id, ok := strings.Cut(p, "#")
	if !ok || len(ms) != 13 || id == "" {
		return false
	}
	_, err := strconv.ParseUint(ms, 10, 64)
	return err == nil
}

// ReadAll implements events.Store: a Query on the audit index, in
// (time, id) order. The index is eventually consistent: an event appended
// a moment ago may show up on the next read.
func (s *Store) ReadAll(ctx context.Context, after string, limit int) ([]events.Event, string, error) {
	if after != "" && !validPosition(after) {
		return nil, after, fmt.Errorf("events/dynamo: %w %q", events.ErrBadPosition, after)
	}
	if limit <= 0 {
		limit = 100
	}
	cond := "#a = :a"
	vals := map[string]types.AttributeValue{":a": &types.AttributeValueMemberS{Value: AuditPartition}}
	names := map[string]string{"#a": AttrAudit}
	if after != "" {
		cond += " AND #p > :p"
		vals[":p"] = &types.AttributeValueMemberS{Value: after}
		names["#p"] = AttrPos
	}
	var (
		out   []events.Event
		start map[string]types.AttributeValue
	)
	for len(out) < limit {
		c, cancel := s.call(ctx)
		res, err := s.db.Query(c, &dynamodb.QueryInput{
			TableName:                 aws.String(s.table),
			IndexName:                 aws.String(AuditIndex),
			KeyConditionExpression:    aws.String(cond),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: vals,
			Limit:                     aws.Int32(int32(limit - len(out))),
			ExclusiveStartKey:         start,
		})
		cancel()
		if err != nil {
			return nil, after, fmt.Errorf("events/dynamo: read audit index of table %s after %q: %w", s.table, after, err)
		}
		evs, err := decodeItems(res.Items)
		if err != nil {
			return nil, after, fmt.Errorf("events/dynamo: read after %q: %w", after, err)
		}
		out = append(out, evs...)
		if len(res.LastEvaluatedKey) == 0 {
			break
		}
		start = res.LastEvaluatedKey
	}
	next := after
	if len(out) > 0 {
		next = out[len(out)-1].Position
	}
	return out, next, nil
}

// Ping implements events.Store.
func (s *Store) Ping(ctx context.Context) error {
	c, cancel := s.call(ctx)
	defer cancel()
	if _, err := s.db.DescribeTable(c, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)}); err != nil {
		return fmt.Errorf("events/dynamo: ping: describe table %s: %w", s.table, err)
	}
	return nil
}

// Streams implements events.StreamLister with a parallel Scan: each of
// segments workers scans its part of the table for first events (version
// 1), reading only their stream ids, and calls fn for each stream.
func (s *Store) Streams(ctx context.Context, segments int, fn func(ctx context.Context, stream string) error) error {
	if segments <= 0 {
		segments = 4
	}
	g, gctx := errgroup.WithContext(ctx)
	for seg := 0; seg < segments; seg++ {
		g.Go(func() error {
			var start map[string]types.AttributeValue
			for {
				c, cancel := s.call(gctx)
				res, err := s.db.Scan(c, &dynamodb.ScanInput{
					TableName:                 aws.String(s.table),
					Segment:                   aws.Int32(int32(seg)),
					TotalSegments:             aws.Int32(int32(segments)),
					FilterExpression:          aws.String("#v = :one"),
					ProjectionExpression:      aws.String("#s"),
					ExpressionAttributeNames:  map[string]string{"#s": AttrStream, "#v": AttrVersion},
					ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}},
					ExclusiveStartKey:         start,
				})
				cancel()
				if err != nil {
					return fmt.Errorf("events/dynamo: scan table %s (segment %d of %d): %w", s.table, seg, segments, err)
				}
				for _, it := range res.Items {
					sv, ok := it[AttrStream].(*types.AttributeValueMemberS)
					if !ok {
						continue
					}
					if err := fn(gctx, sv.Value); err != nil {
						return err
					}
				}
				if len(res.LastEvaluatedKey) == 0 {
					return nil
				}
				start = res.LastEvaluatedKey
			}
		})
	}
	return g.Wait()
}
