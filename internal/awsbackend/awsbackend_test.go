package awsbackend_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"mediashare/internal/awsbackend"
	"mediashare/internal/awstest"
	"mediashare/internal/blob"
	"mediashare/internal/events"
	"mediashare/internal/ids"
	"mediashare/internal/projections"
)

func TestMain(m *testing.M) {
	code := m.Run()
	awstest.Stop()
	os.Exit(code)
}

func testConfig(t *testing.T) awsbackend.Config {
	t.Helper()
	return awsbackend.Config{
		Bucket: awstest.Name("media"), Table: awstest.Name("entries"), EventsTable: awstest.Name("events"),
		Region: awstest.Region, Endpoint: awstest.Moto(t), PathStyle: true, Prefix: "media",
		LeaseDuration: 2 * time.Second, Credentials: awstest.Credentials,
	}
}

func describe(t *testing.T, cfg awsbackend.Config) map[string]*types.TableDescription {
	t.Helper()
	db := dynamodb.NewFromConfig(awstest.Config(t, cfg.Endpoint))
	out := map[string]*types.TableDescription{}
	for _, name := range []string{cfg.Table, cfg.EventsTable, awsbackend.DefaultLeaseTable(cfg.EventsTable)} {
		d, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			t.Fatalf("describe %s: %v", name, err)
		}
		out[name] = d.Table
	}
	return out
}

func TestSetupTwiceChangesNothing(t *testing.T) {
	cfg := testConfig(t)
	ctx := context.Background()
	if err := awsbackend.Setup(ctx, cfg); err != nil {
		t.Fatalf("first Setup: %v", err)
	}
	first := describe(t, cfg)
	ev := first[cfg.EventsTable]
	if ev.StreamSpecification == nil || !aws.ToBool(ev.StreamSpecification.StreamEnabled) || ev.StreamSpecification.StreamViewType != types.StreamViewTypeNewImage {
		t.Errorf("events table stream: got %+v, want enabled with NEW_IMAGE", ev.StreamSpecification)
	}
	if v := first[cfg.Table]; len(v.GlobalSecondaryIndexes) != 1 || aws.ToString(v.GlobalSecondaryIndexes[0].IndexName) != "gallery" {
		t.Errorf("view table indexes: got %+v, want the gallery index", v.GlobalSecondaryIndexes)
	}
	db := dynamodb.NewFromConfig(awstest.Config(t, cfg.Endpoint))
	for _, table := range []string{cfg.Table, cfg.EventsTable} {
		b, err := db.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(table)})
		if err != nil || b.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusEnabled {
			t.Errorf("point-in-time recovery of %s: %+v (%v), want enabled", table, b, err)
		}
	}
	if ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(cfg.Table)}); err != nil ||
		ttl.TimeToLiveDescription.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Errorf("time to live of the view table: %+v (%v), want enabled", ttl, err)
	}
	if err := awsbackend.Setup(ctx, cfg); err != nil {
		t.Fatalf("second Setup: %v", err)
	}
	second := describe(t, cfg)
	for name, d := range first {
		s := second[name]
		if !aws.ToTime(s.CreationDateTime).Equal(aws.ToTime(d.CreationDateTime)) || aws.ToString(s.LatestStreamArn) != aws.ToString(d.LatestStreamArn) {
			t.Errorf("table %s changed on the second Setup", name)
		}
	}
}

func TestSetupRejectsAForeignTable(t *testing.T) {
	cfg := testConfig(t)
	db := dynamodb.NewFromConfig(awstest.Config(t, cfg.Endpoint))
	_, err := db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(cfg.EventsTable),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	err = awsbackend.Setup(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), cfg.EventsTable) || !strings.Contains(err.Error(), "--events-table") {
		t.Fatalf("Setup over a foreign table: got %v, want an error naming the table and its flag", err)
	}
}

func TestOpenMissingResources(t *testing.T) {
	cfg := testConfig(t)
	if _, err := awsbackend.Open(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), cfg.EventsTable) {
		t.Fatalf("Open without Setup: got %v, want an error naming the events table", err)
	}
}

// The backend end to end: an appended upload reaches the gallery through
// the stream, and its original is in the bucket.
func TestOpenAndProject(t *testing.T) {
	cfg := testConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := awsbackend.Setup(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	be, err := awsbackend.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	eib := ids.New(time.Now())
	if _, err := be.Blobs.Put(ctx, eib+".png", strings.NewReader("png"), "image/png"); err != nil {
		t.Fatal(err)
	}
	e, err := events.New(ids.New(time.Now()), events.MediaUploaded, eib, time.Now(), events.OwnerActor("o"),
		events.Uploaded{Title: "t", MediaType: "image", ContentType: "image/png", Size: 3, Width: 1, Height: 1, Original: eib + ".png", Owner: "o"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := be.Events.Append(ctx, eib, 0, e); err != nil {
		t.Fatal(err)
	}
	pctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- (&projections.Projector{Feed: be.Feed, View: be.View}).Run(pctx) }()
	defer func() { stop(); <-done }()
	for {
		page, err := be.View.List(ctx, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Entries) == 1 && page.Entries[0].EIB == eib {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the upload never reached the gallery")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := be.Blobs.Stat(ctx, eib+".png"); err != nil {
		t.Errorf("Stat of the original: %v", err)
	}
	if _, err := be.Blobs.Stat(ctx, "missing.png"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat of a missing key: got %v, want blob.ErrNotFound", err)
	}
}
