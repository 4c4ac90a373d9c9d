package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mediashare/internal/events"
)

var _ events.Attempts = (*Feed)(nil)

// Attempt counts and dead letters live in the lease table: counts under
// consumer "<name>#attempts" (shard = the attempt key), dead letters
// under "<name>#parked" (shard = "<shardId>#<sequence>").

const attemptsAttr = "attempts"

func (f *Feed) attemptKey(consumer, key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		LeaseAttrConsumer: &types.AttributeValueMemberS{Value: consumer + AttemptsSuffix},
		LeaseAttrShard:    &types.AttributeValueMemberS{Value: key},
	}
}

// Begin implements events.Attempts with an atomic ADD.
func (f *Feed) Begin(ctx context.Context, consumer, key string) (int, error) {
	c, cancel := f.call(ctx)
	defer cancel()
	out, err := f.db.UpdateItem(c, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(f.leaseTable),
		Key:                       f.attemptKey(consumer, key),
		UpdateExpression:          aws.String("ADD #n :one"),
		ExpressionAttributeNames:  map[string]string{"#n": attemptsAttr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}},
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return 0, fmt.Errorf("events/dynamo: count attempt %s/%s in table %s: %w", consumer, key, f.leaseTable, err)
	}
	n, ok := out.Attributes[attemptsAttr].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("events/dynamo: count attempt %s/%s: no count returned", consumer, key)
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		return 0, fmt.Errorf("events/dynamo: count attempt %s/%s: %w", consumer, key, err)
	}
	return v, nil
}

// Uncount implements events.Attempts.
func (f *Feed) Uncount(ctx context.Context, consumer, key string) error {
	c, cancel := f.call(ctx)
	defer cancel()
	_, err := f.db.UpdateItem(c, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(f.leaseTable),
		Key:                       f.attemptKey(consumer, key),
		UpdateExpression:          aws.String("ADD #n :minus"),
		ConditionExpression:       aws.String("#n > :zero"),
		ExpressionAttributeNames:  map[string]string{"#n": attemptsAttr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":minus": &types.AttributeValueMemberN{Value: "-1"}, ":zero": &types.AttributeValueMemberN{Value: "0"}},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("events/dynamo: uncount attempt %s/%s in table %s: %w", consumer, key, f.leaseTable, err)
	}
	return nil
}

// Forget implements events.Attempts.
func (f *Feed) Forget(ctx context.Context, consumer, key string) error {
	c, cancel := f.call(ctx)
	defer cancel()
	if _, err := f.db.DeleteItem(c, &dynamodb.DeleteItemInput{TableName: aws.String(f.leaseTable), Key: f.attemptKey(consumer, key)}); err != nil {
		return fmt.Errorf("events/dynamo: forget attempts %s/%s in table %s: %w", consumer, key, f.leaseTable, err)
	}
	return nil
}

// parked is a dead-letter item.
type parked struct {
	Consumer string `dynamodbav:"consumer"`
	Shard    string `dynamodbav:"shard"` // "<shardId>#<sequence number>"
	Key      string `dynamodbav:"key,omitempty"`
	Stream   string `dynamodbav:"stream,omitempty"`
	Version  int    `dynamodbav:"version,omitempty"`
	EventID  string `dynamodbav:"event_id,omitempty"`
	Type     string `dynamodbav:"type,omitempty"`
	Reason   string `dynamodbav:"reason,omitempty"`
	Attempts int    `dynamodbav:"attempts,omitempty"`
	Error    string `dynamodbav:"error"`
	At       string `dynamodbav:"at"`
	Owner    string `dynamodbav:"owner,omitempty"`
}

// Park implements events.Attempts: one dead-letter item, retried until
// it is written or ctx is done.
func (f *Feed) Park(ctx context.Context, d events.DeadLetter) error {
	p := parked{
		Consumer: d.Consumer + ParkedSuffix, Shard: d.Where, Key: d.Key, Stream: d.Stream, Version: d.Version, EventID: d.EventID,
		Type: string(d.Type), Reason: string(d.Reason), Attempts: d.Attempts, Error: d.Error, At: d.At.UTC().Format(time.RFC3339Nano), Owner: f.Owner,
	}
	if p.Shard == "" {
		p.Shard = d.Key
	}
	av, err := attributevalue.MarshalMap(p)
	if err != nil {
		return fmt.Errorf("events/dynamo: park %s: %w", p.Shard, err)
	}
	for attempt := 0; ; attempt++ {
		c, cancel := f.call(ctx)
		_, err = f.db.PutItem(c, &dynamodb.PutItemInput{TableName: aws.String(f.leaseTable), Item: av})
		cancel()
		if err == nil {
			return nil
		}
		f.log().Warn("events/dynamo: write dead letter", "table", f.leaseTable, "error", err)
		if !sleep(ctx, f.poison().Backoff(attempt)) {
			return err
		}
	}
}

// DeadLetters implements events.Attempts.
func (f *Feed) DeadLetters(ctx context.Context, consumer string) ([]events.DeadLetter, error) {
	var (
		ps    []parked
		start map[string]types.AttributeValue
	)
	for {
		c, cancel := f.call(ctx)
		out, err := f.db.Query(c, &dynamodb.QueryInput{
			TableName:                 aws.String(f.leaseTable),
			KeyConditionExpression:    aws.String("#c = :c"),
			ExpressionAttributeNames:  map[string]string{"#c": LeaseAttrConsumer},
			ExpressionAttributeValues: map[string]types.AttributeValue{":c": &types.AttributeValueMemberS{Value: consumer + ParkedSuffix}},
			ConsistentRead:            aws.Bool(true),
			ExclusiveStartKey:         start,
		})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("events/dynamo: read dead letters of %s in table %s: %w", consumer, f.leaseTable, err)
		}
		var page []parked
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &page); err != nil {
			return nil, fmt.Errorf("events/dynamo: read dead letters of %s: %w", consumer, err)
		}
		ps = append(ps, page...)
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		start = out.LastEvaluatedKey
	}
	slices.SortStableFunc(ps, func(a, b parked) int { return strings.Compare(a.At, b.At) })
	res := make([]events.DeadLetter, len(ps))
	for i, p := range ps {
		at, _ := time.Parse(time.RFC3339Nano, p.At)
		res[i] = events.DeadLetter{Consumer: consumer, Key: p.Key, Where: p.Shard, Stream: p.Stream, Version: p.Version, EventID: p.EventID,
			Type: events.Type(p.Type), Reason: events.ParkReason(p.Reason), Attempts: p.Attempts, Error: p.Error, At: at}
	}
	return res, nil
}

// Parked lists the dead letters of consumer (for operators and tests).
func (f *Feed) Parked(ctx context.Context, consumer string) ([]ParkedRecord, error) {
	ds, err := f.DeadLetters(ctx, consumer)
	if err != nil {
		return nil, err
	}
	res := make([]ParkedRecord, len(ds))
	for i, d := range ds {
		res[i] = ParkedRecord{Shard: d.Where, Stream: d.Stream, Version: d.Version, EventID: d.EventID, Error: d.Error}
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
