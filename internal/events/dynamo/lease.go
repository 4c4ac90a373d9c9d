package dynamo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// LeaseAPI is the part of the DynamoDB client the lease table code calls
// (leases, checkpoints, attempt counts, dead letters); *dynamodb.Client
// implements it.
type LeaseAPI interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// Names of the lease table's attributes. Its key is (consumer, shard):
// one lease item per consumer and shard; parked records sit under the
// consumer name plus ParkedSuffix with shard "<shardId>#<sequence>";
// attempt counts under the consumer name plus AttemptsSuffix with shard
// "<stream>/<version>".
const (
	LeaseAttrConsumer   = "consumer"   // partition key (S)
	LeaseAttrShard      = "shard"      // sort key (S)
	leaseAttrOwner      = "owner"      // who holds the lease; absent when free
	leaseAttrExpires    = "expires"    // Unix ms after which others may take it
	leaseAttrCheckpoint = "checkpoint" // sequence number of the last record handled
	leaseAttrDone       = "done"       // true once the shard is closed and fully handled
	leaseAttrParent     = "parent"     // the parent shard id, for operators
	leaseAttrGen        = "gen"        // the consumer's generation the checkpoint belongs to
	// ParkedSuffix marks dead-letter items: consumer "<name>#parked".
	ParkedSuffix = "#parked"
	// AttemptsSuffix marks attempt counts: consumer "<name>#attempts".
	AttemptsSuffix = "#attempts"
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

// lease is a lease item as read.
type lease struct {
	Consumer   string `dynamodbav:"consumer"`
	Shard      string `dynamodbav:"shard"`
	Owner      string `dynamodbav:"owner"`
	Expires    int64  `dynamodbav:"expires"`
	Checkpoint string `dynamodbav:"checkpoint"`
	Done       bool   `dynamodbav:"done"`
	Gen        string `dynamodbav:"gen"`
}

// errLeaseLost stops a shard worker whose lease another owner took.
var errLeaseLost = errors.New("lease lost")

// leases is the lease protocol of one consumer and owner: every write is
// conditional on the owner, so a stale owner cannot move a checkpoint.
type leases struct {
	db         LeaseAPI
	leaseTable string
	consumer   string
	owner      string
	duration   time.Duration
	timeout    time.Duration
	retry      func(attempt int) time.Duration // backoff of checkpoint retries
	log        *slog.Logger
	now        func() time.Time
}

func (l *leases) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, orDefault(l.timeout, DefaultTimeout))
}

func (l *leases) clock() time.Time {
	if l.now != nil {
		return l.now()
	}
	return time.Now()
}

// list reads every lease of the consumer, by shard.
func (l *leases) list(ctx context.Context) (map[string]lease, error) {
	out := map[string]lease{}
	var start map[string]types.AttributeValue
	for {
		c, cancel := l.call(ctx)
		res, err := l.db.Query(c, &dynamodb.QueryInput{
			TableName:                 aws.String(l.leaseTable),
			KeyConditionExpression:    aws.String("#c = :c"),
			ExpressionAttributeNames:  map[string]string{"#c": LeaseAttrConsumer},
			ExpressionAttributeValues: map[string]types.AttributeValue{":c": &types.AttributeValueMemberS{Value: l.consumer}},
			ConsistentRead:            aws.Bool(true),
			ExclusiveStartKey:         start,
		})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("events/dynamo: read leases of %s in table %s: %w", l.consumer, l.leaseTable, err)
		}
		for _, it := range res.Items {
			var ls lease
			if err := attributevalue.UnmarshalMap(it, &ls); err != nil {
				return nil, fmt.Errorf("events/dynamo: read leases of %s: %w", l.consumer, err)
			}
			out[ls.Shard] = ls
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		start = res.LastEvaluatedKey
	}
}

func (l *leases) key(shard string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		LeaseAttrConsumer: &types.AttributeValueMemberS{Value: l.consumer},
		LeaseAttrShard:    &types.AttributeValueMemberS{Value: shard},
	}
}

func (l *leases) expiry() types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(l.clock().Add(l.duration).UnixMilli(), 10)}
}

func (l *leases) me() types.AttributeValue { return &types.AttributeValueMemberS{Value: l.owner} }

// update runs a conditional UpdateItem on the lease of shard; a failed
// condition is reported as ok == false.
func (l *leases) update(ctx context.Context, shard, expr, cond string, vals map[string]types.AttributeValue, ret types.ReturnValue) (map[string]types.AttributeValue, bool, error) {
	c, cancel := l.call(ctx)
	defer cancel()
	out, err := l.db.UpdateItem(c, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(l.leaseTable),
		Key:                       l.key(shard),
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
		return nil, false, fmt.Errorf("events/dynamo: update lease %s/%s in table %s: %w", l.consumer, shard, l.leaseTable, err)
	}
	return out.Attributes, true, nil
}

// acquire takes the lease of shard if it is new, free, expired or already
// ours, and returns it. A lease of generation gen that is done stays
// done; a lease of another generation is taken even when done (the
// consumer started over; restart moves it to gen).
func (l *leases) acquire(ctx context.Context, shard, parent, gen string) (lease, bool, error) {
	if parent == "" {
		parent = "-"
	}
	cond := "attribute_not_exists(#d) AND (attribute_not_exists(#o) OR #o = :me OR #e < :now)"
	vals := map[string]types.AttributeValue{
		":me": l.me(), ":exp": l.expiry(),
		":now":    &types.AttributeValueMemberN{Value: strconv.FormatInt(l.clock().UnixMilli(), 10)},
		":parent": &types.AttributeValueMemberS{Value: parent},
	}
	if gen != "" {
		cond = "(attribute_not_exists(#d) OR attribute_not_exists(#g) OR #g <> :gen) AND (attribute_not_exists(#o) OR #o = :me OR #e < :now)"
		vals[":gen"] = &types.AttributeValueMemberS{Value: gen}
	}
	attrs, ok, err := l.update(ctx, shard, "SET #o = :me, #e = :exp, #p = if_not_exists(#p, :parent)", cond, vals, types.ReturnValueAllNew)
	if err != nil || !ok {
		return lease{}, false, err
	}
	var ls lease
	if err := attributevalue.UnmarshalMap(attrs, &ls); err != nil {
		return lease{}, false, fmt.Errorf("events/dynamo: read lease %s/%s: %w", l.consumer, shard, err)
	}
	return ls, true, nil
}

// restart moves a lease we hold to generation gen with no checkpoint and
// not done, so the shard is read again from its trim horizon.
func (l *leases) restart(ctx context.Context, shard, gen string) error {
	_, ok, err := l.update(ctx, shard, "SET #g = :gen, #e = :exp REMOVE #c, #d", meOnly,
		map[string]types.AttributeValue{":me": l.me(), ":exp": l.expiry(), ":gen": &types.AttributeValueMemberS{Value: gen}}, types.ReturnValueNone)
	if err == nil && !ok {
		return errLeaseLost
	}
	return err
}

var meOnly = "#o = :me"

var leaseNames = map[string]string{
	"#o": leaseAttrOwner, "#e": leaseAttrExpires, "#c": leaseAttrCheckpoint, "#d": leaseAttrDone, "#p": leaseAttrParent, "#g": leaseAttrGen,
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

// renew extends our lease of shard; errLeaseLost when another owner has it.
func (l *leases) renew(ctx context.Context, shard string) error {
	_, ok, err := l.update(ctx, shard, "SET #e = :exp", meOnly,
		map[string]types.AttributeValue{":me": l.me(), ":exp": l.expiry()}, types.ReturnValueNone)
	if err == nil && !ok {
		return errLeaseLost
	}
	return err
}

// release frees our lease of shard, so another owner may take it at once.
func (l *leases) release(ctx context.Context, shard string) error {
	_, _, err := l.update(ctx, shard, "REMOVE #o SET #e = :zero", meOnly,
		map[string]types.AttributeValue{":me": l.me(), ":zero": &types.AttributeValueMemberN{Value: "0"}}, types.ReturnValueNone)
	return err
}

// checkpoint records seq as handled ("" removes the checkpoint), renewing
// the lease; it fails with errLeaseLost when another owner holds the
// lease. A failed write is retried up to 3 times. It completes even when
// ctx is done, so a stop right after a handled record keeps its
// checkpoint.
func (l *leases) checkpoint(ctx context.Context, shard, seq string) error {
	vals := map[string]types.AttributeValue{":me": l.me(), ":exp": l.expiry()}
	expr := "SET #e = :exp REMOVE #c"
	if seq != "" {
		expr = "SET #e = :exp, #c = :seq"
		vals[":seq"] = &types.AttributeValueMemberS{Value: seq}
	}
	for attempt := 0; ; attempt++ {
		_, ok, err := l.update(context.WithoutCancel(ctx), shard, expr, meOnly, vals, types.ReturnValueNone)
		if err == nil && !ok {
			return errLeaseLost
		}
		if err == nil {
			return nil
		}
		if l.log != nil {
			l.log.Warn("events/dynamo: save checkpoint", "shard", shard, "error", err)
		}
		if attempt >= 3 || !sleep(ctx, l.retry(attempt)) {
			return err
		}
	}
}

// markDone records that the closed shard has been handled to its end.
func (l *leases) markDone(ctx context.Context, shard string) error {
	_, ok, err := l.update(context.WithoutCancel(ctx), shard, "SET #d = :t REMOVE #o", meOnly,
		map[string]types.AttributeValue{":me": l.me(), ":t": &types.AttributeValueMemberBOOL{Value: true}}, types.ReturnValueNone)
	if err == nil && !ok {
		return errLeaseLost
	}
	return err
}
