package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/smithy-go"

	"mediashare/internal/events"
)

// The shard reading loop: iterators, GetRecords, its errors, trim
// recovery, and delivery under the poison-event rule.

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
	first, most := w.f.polls(w.name)
	wait, fails := first, 0
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
					return w.leases.markDone(ctx, shard)
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
				return w.leases.markDone(ctx, shard)
			default:
				if isCode(err, "LimitExceededException", "ThrottlingException") {
					w.f.stats.throttled.Add(1)
				}
				log.Warn("events/dynamo: get shard iterator", "error", err)
				if !sleep(ctx, w.f.backoff(fails)) {
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
			if !sleep(ctx, w.f.backoff(fails)) {
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
			if err := w.leases.checkpoint(ctx, shard, seq); err != nil {
				return err
			}
		}
		iter = out.NextShardIterator
		if iter == nil {
			return w.leases.markDone(ctx, shard) // the shard is closed and fully handled
		}
		if len(out.Records) > 0 {
			wait = first
			continue
		}
		w.f.stats.empty.Add(1)
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
		wait = min(wait*2, most)
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
		if !sleep(ctx, w.f.backoff(attempt)) {
			return "", ctx.Err()
		}
	}
	if err := w.leases.checkpoint(ctx, shard, ""); err != nil {
		return "", err
	}
	return "", nil
}

// deliver hands a record's event to the handler under the poison-event
// rule (events.Poison); an unreadable record is parked at once.
func (w *follower) deliver(ctx context.Context, shard string, r streamtypes.Record) error {
	if r.EventName != streamtypes.OperationTypeInsert || r.Dynamodb == nil {
		return nil // events are immutable: only inserts carry new events
	}
	seq := aws.ToString(r.Dynamodb.SequenceNumber)
	where := shard + "#" + seq
	e, err := recordEvent(r.Dynamodb.NewImage)
	if err != nil {
		w.log.Error("events/dynamo: unreadable stream record; parked", "shard", shard, "sequence", seq, "error", err)
		d := events.DeadLetter{Consumer: w.name, Key: where, Where: where, Reason: events.ParkFailed, Error: err.Error(), At: time.Now().UTC()}
		if err := w.f.Park(ctx, d); err != nil {
			return err
		}
		w.f.stats.unreadable.Add(1)
		if p := w.f.poison(); p.OnPark != nil {
			p.OnPark(w.name, events.ParkFailed)
		}
		return nil
	}
	return w.f.poison().Deliver(ctx, w.f, w.name, where, e, func(ctx context.Context, e events.Event) error {
		w.hmu.Lock() // one handler call at a time across the shards
		defer w.hmu.Unlock()
		return w.h(ctx, e)
	})
}
