package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// Shard discovery and lineage order.

// streamARN finds the events table's latest stream.
func (f *Feed) streamARN(ctx context.Context) (string, error) {
	c, cancel := f.call(ctx)
	defer cancel()
	out, err := f.db.DescribeTable(c, &dynamodb.DescribeTableInput{TableName: aws.String(f.table)})
	if err != nil {
		return "", fmt.Errorf("events/dynamo: describe table %s: %w", f.table, err)
	}
	arn := aws.ToString(out.Table.LatestStreamArn)
	if arn == "" {
		return "", fmt.Errorf("events/dynamo: table %s has no stream; enable Streams with NEW_IMAGE", f.table)
	}
	return arn, nil
}

// listShards lists every shard of the stream, following the pages.
func (f *Feed) listShards(ctx context.Context, arn string) ([]streamtypes.Shard, error) {
	var (
		out   []streamtypes.Shard
		start *string
	)
	for {
		c, cancel := f.call(ctx)
		res, err := f.streams.DescribeStream(c, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn), ExclusiveStartShardId: start})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("events/dynamo: describe stream %s: %w", arn, err)
		}
		out = append(out, res.StreamDescription.Shards...)
		start = res.StreamDescription.LastEvaluatedShardId
		if start == nil {
			return out, nil
		}
	}
}

// readyShard is a shard this owner may start reading now.
type readyShard struct {
	id, parent string
	lease      lease // the lease as listed (zero when none)
	hasLease   bool
}

// readyShards picks the shards owner may take now, in listing order: not
// held by this follower already, not done in the current generation, not
// held by a live lease of another owner, and whose parent (if still
// listed) is done in the current generation, so that a stream's records
// are read in lineage order. current tells whether a lease belongs to the
// consumer's current generation.
func readyShards(shards []streamtypes.Shard, ls map[string]lease, held func(string) bool, owner string, nowMS int64, current func(lease) bool) []readyShard {
	listed := make(map[string]bool, len(shards))
	for _, s := range shards {
		listed[aws.ToString(s.ShardId)] = true
	}
	done := func(id string) bool { l, ok := ls[id]; return ok && l.Done && current(l) }
	var out []readyShard
	for _, s := range shards {
		id := aws.ToString(s.ShardId)
		if held(id) {
			continue
		}
		l, has := ls[id]
		if has && (done(id) || (l.Owner != "" && l.Owner != owner && l.Expires >= nowMS)) {
			continue
		}
		if p := aws.ToString(s.ParentShardId); p != "" && listed[p] && !done(p) {
			continue // the parent's records come first
		}
		out = append(out, readyShard{id: id, parent: aws.ToString(s.ParentShardId), lease: l, hasLease: has})
	}
	return out
}
