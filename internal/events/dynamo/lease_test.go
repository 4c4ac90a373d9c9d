package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// scriptedDB is a LeaseAPI that records each UpdateItem and answers from
// a script: fast unit tests of the lease protocol, no moto.
type scriptedDB struct {
	mu      sync.Mutex
	updates []*dynamodb.UpdateItemInput
	answers []func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error)
}

func (s *scriptedDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.updates = append(s.updates, in)
	if len(s.answers) == 0 {
		return &dynamodb.UpdateItemOutput{}, nil
	}
	a := s.answers[0]
	s.answers = s.answers[1:]
	return a(in)
}

func (s *scriptedDB) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return nil, errors.New("not scripted")
}

func (s *scriptedDB) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, errors.New("not scripted")
}

func (s *scriptedDB) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return nil, errors.New("not scripted")
}

func conditionFailed(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
	return nil, &types.ConditionalCheckFailedException{Message: aws.String("no")}
}

func transient(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
	return nil, errors.New("connection reset")
}

func newLeases(db *scriptedDB) *leases {
	return &leases{db: db, leaseTable: "leases", consumer: "proj", owner: "me", duration: time.Minute,
		retry: func(int) time.Duration { return time.Millisecond }, now: func() time.Time { return time.UnixMilli(1_000_000) }}
}

func TestAcquire(t *testing.T) {
	tests := []struct {
		name     string
		gen      string
		answer   func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error)
		wantOK   bool
		wantErr  bool
		wantCond string
	}{
		{"free lease", "", func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
			return &dynamodb.UpdateItemOutput{Attributes: map[string]types.AttributeValue{
				"shard": &types.AttributeValueMemberS{Value: "s1"}, "owner": &types.AttributeValueMemberS{Value: "me"},
				"checkpoint": &types.AttributeValueMemberS{Value: "42"}, "gen": &types.AttributeValueMemberS{Value: "g1"},
			}}, nil
		}, true, false, "attribute_not_exists(#d) AND (attribute_not_exists(#o) OR #o = :me OR #e < :now)"},
		{"held by another", "", conditionFailed, false, false, "attribute_not_exists(#d)"},
		{"call fails", "", transient, false, true, "attribute_not_exists(#d)"},
		{"with a generation, a done lease of another one is taken", "g2", conditionFailed, false, false, "(attribute_not_exists(#d) OR attribute_not_exists(#g) OR #g <> :gen)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := &scriptedDB{answers: []func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error){tt.answer}}
			l, ok, err := newLeases(db).acquire(context.Background(), "s1", "", tt.gen)
			if ok != tt.wantOK || (err != nil) != tt.wantErr {
				t.Fatalf("acquire: got ok %v, err %v; want ok %v, error %v", ok, err, tt.wantOK, tt.wantErr)
			}
			if ok && (l.Checkpoint != "42" || l.Owner != "me" || l.Gen != "g1") {
				t.Errorf("lease: got %+v, want checkpoint 42 owned by me in g1", l)
			}
			in := db.updates[0]
			if cond := aws.ToString(in.ConditionExpression); !strings.Contains(cond, tt.wantCond) {
				t.Errorf("condition: got %q, want it to contain %q", cond, tt.wantCond)
			}
			for ph := range in.ExpressionAttributeNames {
				if !strings.Contains(aws.ToString(in.UpdateExpression)+aws.ToString(in.ConditionExpression), ph) {
					t.Errorf("placeholder %s is not used (DynamoDB rejects unused names)", ph)
				}
			}
			if tt.gen == "" && in.ExpressionAttributeValues[":gen"] != nil {
				t.Error("without a generation the request names one")
			}
			if p := in.ExpressionAttributeValues[":parent"].(*types.AttributeValueMemberS).Value; p != "-" {
				t.Errorf("parent of a root shard: got %q, want -", p)
			}
		})
	}
}

func TestRenewReleaseMarkDoneNeedTheOwner(t *testing.T) {
	for name, op := range map[string]func(l *leases) error{
		"renew":    func(l *leases) error { return l.renew(context.Background(), "s1") },
		"markDone": func(l *leases) error { return l.markDone(context.Background(), "s1") },
		"restart":  func(l *leases) error { return l.restart(context.Background(), "s1", "g") },
	} {
		t.Run(name, func(t *testing.T) {
			db := &scriptedDB{answers: []func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error){conditionFailed}}
			if err := op(newLeases(db)); !errors.Is(err, errLeaseLost) {
				t.Errorf("%s under another owner's lease: got %v, want errLeaseLost", name, err)
			}
			if c := aws.ToString(db.updates[0].ConditionExpression); c != meOnly {
				t.Errorf("%s condition: got %q, want %q", name, c, meOnly)
			}
		})
	}
	db := &scriptedDB{answers: []func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error){conditionFailed}}
	if err := newLeases(db).release(context.Background(), "s1"); err != nil {
		t.Errorf("release of a lease already taken: got %v, want nil (nothing to release)", err)
	}
}

func TestCheckpointRetriesAndSurvivesAStop(t *testing.T) {
	tests := []struct {
		name      string
		answers   []func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error)
		canceled  bool
		wantErr   error // nil, errLeaseLost, or errAny
		wantCalls int
	}{
		{"written", nil, false, nil, 1},
		{"written after two failures", []func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error){transient, transient}, false, nil, 3},
		{"lease lost", []func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error){conditionFailed}, false, errLeaseLost, 1},
		{"gives up after four tries", []func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error){transient, transient, transient, transient, transient}, false, errAny, 4},
		{"written though the feed is stopping", nil, true, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := &scriptedDB{answers: tt.answers}
			ctx, cancel := context.WithCancel(context.Background())
			if tt.canceled {
				cancel()
			}
			defer cancel()
			err := newLeases(db).checkpoint(ctx, "s1", "77")
			switch {
			case tt.wantErr == nil && err != nil, tt.wantErr == errLeaseLost && !errors.Is(err, errLeaseLost), tt.wantErr == errAny && err == nil:
				t.Errorf("checkpoint: got %v, want %v", err, tt.wantErr)
			}
			if len(db.updates) != tt.wantCalls {
				t.Errorf("UpdateItem calls: got %d, want %d", len(db.updates), tt.wantCalls)
			}
			if v := db.updates[0].ExpressionAttributeValues[":seq"].(*types.AttributeValueMemberS).Value; v != "77" {
				t.Errorf("checkpoint written: got %s, want 77", v)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestReadyShardsFollowLineage(t *testing.T) {
	shard := func(id, parent string) streamtypes.Shard {
		s := streamtypes.Shard{ShardId: aws.String(id)}
		if parent != "" {
			s.ParentShardId = aws.String(parent)
		}
		return s
	}
	now := int64(1_000_000)
	current := func(l lease) bool { return l.Gen == "g" }
	tests := []struct {
		name   string
		shards []streamtypes.Shard
		leases map[string]lease
		held   string
		want   string
	}{
		{"child waits for its parent", []streamtypes.Shard{shard("child", "parent"), shard("parent", "")}, nil, "", "[parent]"},
		{"parent done: child ready", []streamtypes.Shard{shard("child", "parent"), shard("parent", "")},
			map[string]lease{"parent": {Shard: "parent", Done: true, Gen: "g"}}, "", "[child]"},
		{"parent done in an older generation: read again first", []streamtypes.Shard{shard("child", "parent"), shard("parent", "")},
			map[string]lease{"parent": {Shard: "parent", Done: true, Gen: "old"}}, "", "[parent]"},
		{"parent gone from the stream: child ready", []streamtypes.Shard{shard("child", "gone")}, nil, "", "[child]"},
		{"live lease of another owner skipped, expired one taken", []streamtypes.Shard{shard("a", ""), shard("b", "")},
			map[string]lease{"a": {Shard: "a", Owner: "other", Expires: now + 1}, "b": {Shard: "b", Owner: "other", Expires: now - 1}}, "", "[b]"},
		{"our own lease is taken again", []streamtypes.Shard{shard("a", "")}, map[string]lease{"a": {Shard: "a", Owner: "me", Expires: now + 1}}, "", "[a]"},
		{"held shards are not started twice", []streamtypes.Shard{shard("a", ""), shard("b", "")}, nil, "a", "[b]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readyShards(tt.shards, tt.leases, func(id string) bool { return id == tt.held }, "me", now, current)
			var ids []string
			for _, r := range got {
				ids = append(ids, r.id)
			}
			if fmt.Sprint(ids) != tt.want {
				t.Errorf("ready: got %v, want %s", ids, tt.want)
			}
		})
	}
}

func TestBackgroundConsumersPollSlowly(t *testing.T) {
	f := &Feed{Background: map[string]bool{"previews": true}}
	if first, most := f.polls("reactor"); first != 250*time.Millisecond || most != 500*time.Millisecond {
		t.Errorf("reactor: got %s, %s, want 250ms, 500ms", first, most)
	}
	if first, most := f.polls("previews"); first != 2*time.Second || most != 2*time.Second {
		t.Errorf("previews: got %s, %s, want 2s, 2s", first, most)
	}
	f.BackgroundPollInterval = 3 * time.Second
	if first, _ := f.polls("previews"); first != 3*time.Second {
		t.Errorf("previews with 3s: got %s", first)
	}
}
