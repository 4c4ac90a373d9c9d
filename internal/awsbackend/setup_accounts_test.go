package awsbackend_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mediashare/internal/authstore/dynamo"
	"mediashare/internal/awsbackend"
	"mediashare/internal/awstest"
)

// TestSetupMakesTheAuthAndKeysTables: setup makes the tables of sessions
// and tokens (TTL on, the listing index) and of erasure keys (no Streams,
// no point-in-time recovery), and checks them on a second run.
func TestSetupMakesTheAuthAndKeysTables(t *testing.T) {
	cfg := testConfig(t)
	ctx := context.Background()
	for range 2 {
		if err := awsbackend.Setup(ctx, cfg); err != nil {
			t.Fatalf("Setup: %v", err)
		}
	}
	db := dynamodb.NewFromConfig(awstest.Config(t, cfg.Endpoint))
	auth, keys := awsbackend.DefaultAuthTable(cfg.EventsTable), awsbackend.DefaultKeysTable(cfg.EventsTable)

	d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(auth)})
	if err != nil {
		t.Fatalf("describe the auth table: %v", err)
	}
	if len(d.Table.GlobalSecondaryIndexes) != 1 || aws.ToString(d.Table.GlobalSecondaryIndexes[0].IndexName) != dynamo.ListIndex {
		t.Errorf("auth table indexes: %+v, want %s", d.Table.GlobalSecondaryIndexes, dynamo.ListIndex)
	}
	ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(auth)})
	if err != nil {
		t.Fatal(err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != dynamo.AttrTTL {
		t.Errorf("auth table TTL: %+v, want enabled on %s", ttl.TimeToLiveDescription, dynamo.AttrTTL)
	}

	k, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(keys)})
	if err != nil {
		t.Fatalf("describe the keys table: %v", err)
	}
	if s := k.Table.StreamSpecification; s != nil && aws.ToBool(s.StreamEnabled) {
		t.Error("the keys table has Streams: every key would be copied into the stream")
	}
	b, err := db.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(keys)})
	if err != nil {
		t.Fatal(err)
	}
	if d := b.ContinuousBackupsDescription; d != nil && d.PointInTimeRecoveryDescription != nil &&
		d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus == types.PointInTimeRecoveryStatusEnabled {
		t.Error("the keys table has point-in-time recovery: a restore would bring destroyed keys back")
	}
}

func TestValidateAuthAndKeysTables(t *testing.T) {
	base := awsbackend.Config{Bucket: "media-bucket", Table: "entries", EventsTable: "entries-events", Region: "eu-west-1"}
	if err := base.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, tt := range []struct {
		name string
		edit func(*awsbackend.Config)
		msg  string
	}{
		{"auth table is the view table", func(c *awsbackend.Config) { c.AuthTable = "entries" }, "auth table \"entries\" must differ"},
		{"keys table is the events table", func(c *awsbackend.Config) { c.KeysTable = "entries-events" }, "keys table \"entries-events\" must differ"},
		{"auth and keys tables are one", func(c *awsbackend.Config) { c.AuthTable, c.KeysTable = "x-auth", "x-auth" }, "must differ (both"},
		{"bad name", func(c *awsbackend.Config) { c.KeysTable = "no spaces" }, "not a valid DynamoDB table name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			tt.edit(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("got %v, want an error with %q", err, tt.msg)
			}
		})
	}
}
