package dynamo_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"mediashare/internal/awstest"
	"mediashare/internal/events"
	"mediashare/internal/events/dynamo"
	"mediashare/internal/events/eventstest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	awstest.Stop()
	os.Exit(code)
}

// harness is an events table and its lease table on moto.
type harness struct {
	db      *dynamodb.Client
	streams *dynamodbstreams.Client
	table   string
	leases  string
}

func newHarness(t *testing.T) harness {
	t.Helper()
	cfg := awstest.Config(t, awstest.Moto(t))
	h := harness{
		db: dynamodb.NewFromConfig(cfg), streams: dynamodbstreams.NewFromConfig(cfg),
		table: awstest.Name("events"),
	}
	h.leases = h.table + "-leases"
	ctx := context.Background()
	for _, in := range []*dynamodb.CreateTableInput{dynamo.TableInput(h.table), dynamo.LeaseTableInput(h.leases)} {
		if _, err := h.db.CreateTable(ctx, in); err != nil {
			t.Fatalf("create table %s: %v", *in.TableName, err)
		}
	}
	return h
}

// feed returns a fast feed for tests.
func (h harness) feed() *dynamo.Feed {
	f := dynamo.NewFeed(h.db, h.streams, h.table, h.leases)
	f.PollInterval, f.MaxPollInterval, f.RetryDelay = 20*time.Millisecond, 200*time.Millisecond, 20*time.Millisecond
	f.LeaseDuration = 2 * time.Second
	return f
}

func TestConformance(t *testing.T) {
	eventstest.Run(t, func(t *testing.T) eventstest.Subject {
		h := newHarness(t)
		f := h.feed()
		f.Poison = &events.Poison{MaxAttempts: 3, RetryDelay: 10 * time.Millisecond}
		return eventstest.Subject{Store: dynamo.New(h.db, h.table), Feed: f, Attempts: f, Poison: f.Poison}
	})
}
