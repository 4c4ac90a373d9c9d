// Package dynamo is the AWS backend's keyring: a DynamoDB table keyed by
// entry id. The table has no Streams (a stream record would be one more
// copy of a key, kept 24 hours) and no point-in-time recovery (a restore
// would bring destroyed keys back; see docs/accounts.md).
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mediashare/internal/keyring"
)

var _ keyring.Store = (*Store)(nil)

// Attribute names.
const (
	AttrEntry     = "entry"
	AttrKey       = "key"
	AttrCreated   = "created"   // Unix ms
	AttrDestroyed = "destroyed" // Unix ms, present once destroyed
)

// TableInput describes the table: what mediashare setup creates.
func TableInput(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(AttrEntry), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(AttrEntry), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}
}

// Store is a keyring.Store on DynamoDB.
type Store struct {
	db    *dynamodb.Client
	table string
}

// New returns a store on table (made with TableInput).
func New(db *dynamodb.Client, table string) *Store { return &Store{db: db, table: table} }

func entryKey(entry string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrEntry: &types.AttributeValueMemberS{Value: entry}}
}

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func isCCF(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// Ping implements keyring.Store.
func (s *Store) Ping(ctx context.Context) error {
	if _, err := s.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)}); err != nil {
		return fmt.Errorf("keyring/dynamo: ping %s: %w", s.table, err)
	}
	return nil
}

// Create implements keyring.Store: a put on condition that the entry has
// no item, then a consistent read of whatever the entry has.
func (s *Store) Create(ctx context.Context, entry string, key []byte) ([]byte, error) {
	if err := keyring.Check(entry, key); err != nil {
		return nil, err
	}
	if key == nil {
		return nil, fmt.Errorf("keyring/dynamo: create %s: no key", entry)
	}
	item := entryKey(entry)
	item[AttrKey] = &types.AttributeValueMemberB{Value: key}
	item[AttrCreated] = num(time.Now().UnixMilli())
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression:      aws.String("attribute_not_exists(#e)"),
		ExpressionAttributeNames: map[string]string{"#e": AttrEntry},
	})
	if err == nil {
		return key, nil
	}
	if !isCCF(err) {
		return nil, fmt.Errorf("keyring/dynamo: create %s: %w", entry, err)
	}
	return s.Get(ctx, entry)
}

// Get implements keyring.Store.
func (s *Store) Get(ctx context.Context, entry string) ([]byte, error) {
	if err := keyring.Check(entry, nil); err != nil {
		return nil, keyring.ErrNotFound
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: entryKey(entry), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("keyring/dynamo: get %s: %w", entry, err)
	}
	if out.Item == nil {
		return nil, keyring.ErrNotFound
	}
	if d, ok := out.Item[AttrDestroyed].(*types.AttributeValueMemberN); ok {
		ms, _ := strconv.ParseInt(d.Value, 10, 64)
		return nil, &keyring.DestroyedError{Entry: entry, At: time.UnixMilli(ms).UTC()}
	}
	k, ok := out.Item[AttrKey].(*types.AttributeValueMemberB)
	if !ok {
		return nil, fmt.Errorf("keyring/dynamo: get %s: the item has no key", entry)
	}
	return k.Value, nil
}

// Destroy implements keyring.Store: the key attribute is removed and the
// time recorded (the first time stays).
func (s *Store) Destroy(ctx context.Context, entry string, at time.Time) error {
	if err := keyring.Check(entry, nil); err != nil {
		return err
	}
	ms := at.UnixMilli()
	if ms <= 0 {
		ms = 1
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: entryKey(entry),
		UpdateExpression:          aws.String("REMOVE #k SET #d = if_not_exists(#d, :at), #c = if_not_exists(#c, :at)"),
		ExpressionAttributeNames:  map[string]string{"#k": AttrKey, "#d": AttrDestroyed, "#c": AttrCreated},
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": num(ms)},
	})
	if err != nil {
		return fmt.Errorf("keyring/dynamo: destroy %s: %w", entry, err)
	}
	return nil
}
