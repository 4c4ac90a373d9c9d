package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mediashare/internal/events"
)

var _ events.Auditor = (*Store)(nil)

// DefaultHistoryReads is how many Query calls one History call makes at
// most.
const DefaultHistoryReads = 8

// History implements events.Auditor, newest first. With a stream in the
// filter it reads that stream from the table (a stream holds a handful of
// events); otherwise it reads the audit index backwards. A type filter is
// a FilterExpression: the events it skips are read (and paid for) too, so
// a filter that matches little stops after HistoryReads calls and returns
// the position it reached as the cursor, with fewer events than limit.
func (s *Store) History(ctx context.Context, f events.Filter, before string, limit int) ([]events.Event, string, error) {
	if before != "" && !validPosition(before) {
		return nil, "", fmt.Errorf("events/dynamo: %w %q", events.ErrBadPosition, before)
	}
	if limit <= 0 {
		limit = 50
	}
	var (
		evs     []events.Event
		reached string // where a bounded read stopped
		err     error
	)
	if f.Stream != "" {
		evs, err = s.streamHistory(ctx, f, before, limit)
	} else {
		evs, reached, err = s.indexHistory(ctx, f, before, limit)
	}
	if err != nil {
		return nil, "", err
	}
	next := reached
	if len(evs) > limit {
		evs = evs[:limit]
		next = evs[limit-1].Position
	}
	return evs, next, nil
}

// streamHistory returns up to limit+1 of the stream's events before the
// position, newest first.
func (s *Store) streamHistory(ctx context.Context, f events.Filter, before string, limit int) ([]events.Event, error) {
	all, err := s.Load(ctx, f.Stream)
	if errors.Is(err, events.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b events.Event) int { return strings.Compare(b.Position, a.Position) })
	var out []events.Event
	for _, e := range all {
		if (before == "" || e.Position < before) && f.Match(e) {
			out = append(out, e)
			if len(out) > limit {
				break
			}
		}
	}
	return out, nil
}

// indexHistory returns up to limit+1 events before the position from the
// audit index, newest first. When it stops at its bound of reads with
// more to read, reached is the position of the last item it read.
func (s *Store) indexHistory(ctx context.Context, f events.Filter, before string, limit int) (evs []events.Event, reached string, err error) {
	cond := "#a = :a"
	names := map[string]string{"#a": AttrAudit}
	vals := map[string]types.AttributeValue{":a": &types.AttributeValueMemberS{Value: AuditPartition}}
	if before != "" {
		cond += " AND #p < :p"
		names["#p"] = AttrPos
		vals[":p"] = &types.AttributeValueMemberS{Value: before}
	}
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		IndexName:              aws.String(AuditIndex),
		KeyConditionExpression: aws.String(cond),
		ScanIndexForward:       aws.Bool(false),
		Limit:                  aws.Int32(int32(limit + 1)),
	}
	if len(f.Types) > 0 {
		names["#t"] = "type"
		ph := make([]string, len(f.Types))
		for i, t := range f.Types {
			ph[i] = ":t" + strconv.Itoa(i)
			vals[ph[i]] = &types.AttributeValueMemberS{Value: string(t)}
		}
		in.FilterExpression = aws.String("#t IN (" + strings.Join(ph, ", ") + ")")
	}
	in.ExpressionAttributeNames, in.ExpressionAttributeValues = names, vals
	reads := s.HistoryReads
	if reads <= 0 {
		reads = DefaultHistoryReads
	}
	var out []events.Event
	for read := 1; len(out) <= limit; read++ {
		c, cancel := s.call(ctx)
		res, err := s.db.Query(c, in)
		cancel()
		if err != nil {
			return nil, "", fmt.Errorf("events/dynamo: read audit index of table %s before %q: %w", s.table, before, err)
		}
		evs, err := decodeItems(res.Items)
		if err != nil {
			return nil, "", fmt.Errorf("events/dynamo: history: %w", err)
		}
		out = append(out, evs...)
		if len(res.LastEvaluatedKey) == 0 {
			break
		}
		if read >= reads && len(out) <= limit {
			pos, ok := res.LastEvaluatedKey[AttrPos].(*types.AttributeValueMemberS)
			if !ok {
				return nil, "", fmt.Errorf("events/dynamo: history: the audit index's last key has no %s", AttrPos)
			}
			return out, pos.Value, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
	if len(out) > limit+1 {
		out = out[:limit+1]
	}
	return out, "", nil
}
