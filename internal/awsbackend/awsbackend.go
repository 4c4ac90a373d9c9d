package awsbackend

import (
	"context"
	"errors"
	"fmt"
	"github.com/aws/smithy-go/middleware"
	"log/slog"
	"os"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	authdynamo "mediashare/internal/authstore/dynamo"
	"mediashare/internal/backend"
	"mediashare/internal/blob/s3blob"
	"mediashare/internal/events"
	eventsdynamo "mediashare/internal/events/dynamo"
	keydynamo "mediashare/internal/keyring/dynamo"
	"mediashare/internal/projections"
	viewdynamo "mediashare/internal/projections/dynamo"
	"mediashare/internal/reactor"
)

// Backend is the storage on AWS: the same type as the embedded one.
type Backend = backend.Backend

// LoadAWSConfig makes the SDK configuration for cfg: its region, the
// standard retryer, the optional endpoint, and credentials (cfg's, or
// "test"/"test" for an endpoint when the environment has none, or the
// SDK's default chain).
// apiOptions are added to every client (e.g. the metrics middleware).
func LoadAWSConfig(ctx context.Context, cfg Config, apiOptions ...func(*middleware.Stack) error) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(cfg.Region),
		config.WithRetryer(func() aws.Retryer { return retry.NewStandard() }),
	}
	if cfg.Endpoint != "" {
		opts = append(opts, config.WithBaseEndpoint(cfg.Endpoint))
	}
	switch {
	case cfg.Credentials != nil:
		opts = append(opts, config.WithCredentialsProvider(cfg.Credentials))
	case cfg.Endpoint != "" && os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "":
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
	}
	ac, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("awsbackend: load AWS configuration: %w", err)
	}
	ac.APIOptions = append(ac.APIOptions, apiOptions...)
	return ac, nil
}

type clients struct {
	db      *dynamodb.Client
	streams *dynamodbstreams.Client
	s3      *s3.Client
}

func newClients(ac aws.Config, cfg Config) clients {
	return clients{
		db:      dynamodb.NewFromConfig(ac),
		streams: dynamodbstreams.NewFromConfig(ac),
		s3:      s3.NewFromConfig(ac, func(o *s3.Options) { o.UsePathStyle = cfg.PathStyle }),
	}
}

// Open connects to the resources of cfg (Setup creates them) and returns
// the adapters. It checks that each is reachable. When the feed meets
// records trimmed from the stream before they were handled, the entries
// view is rebuilt from the event store.
func Open(ctx context.Context, cfg Config, log *slog.Logger, apiOptions ...func(*middleware.Stack) error) (*Backend, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.Default()
	}
	ac, err := LoadAWSConfig(ctx, cfg, apiOptions...)
	if err != nil {
		return nil, err
	}
	cl := newClients(ac, cfg)

	store := eventsdynamo.New(cl.db, cfg.EventsTable)
	store.Timeout = cfg.CallTimeout
	view := viewdynamo.New(cl.db, cfg.Table)
	view.Timeout = cfg.CallTimeout
	blobs := s3blob.New(cl.s3, cfg.Bucket, cfg.Prefix)
	blobs.Timeout = cfg.CallTimeout
	auth := authdynamo.New(cl.db, cfg.AuthTable, nil)
	keys := keydynamo.New(cl.db, cfg.KeysTable)
	feed := eventsdynamo.NewFeed(cl.db, cl.streams, cfg.EventsTable, cfg.LeaseTable)
	feed.LeaseDuration, feed.Timeout, feed.Log = cfg.LeaseDuration, cfg.CallTimeout, log.With("component", "feed")
	feed.Poison = &events.Poison{MaxAttempts: cfg.MaxAttempts, Log: log.With("component", "feed")}
	// The previews are the third reader of each shard: it polls slowly.
	feed.Background = map[string]bool{reactor.PreviewConsumer: true}
	feed.BackgroundPollInterval = cfg.PreviewPoll
	feed.Rebuild = func(ctx context.Context, consumer string) error {
		if consumer != projections.ViewConsumer {
			log.Warn("awsbackend: records trimmed from the stream were never handled by this consumer", "consumer", consumer)
			return nil
		}
		// Catch up without emptying the view, so the gallery stays up
		// while the parallel scan runs beside the live projector.
		n, err := projections.CatchUp(ctx, store, store, view, keys, 4)
		if err != nil {
			return fmt.Errorf("awsbackend: rebuild the entries view: %w", err)
		}
		log.Info("awsbackend: caught the entries view up with the event store", "events", n)
		return nil
	}

	be := &Backend{
		Events: store, Audit: store, Streams: store, Feed: feed, Poison: feed.Poison, Attempts: feed, FeedStats: feed.Stats, StreamStats: true,
		View: view, Changes: view, Blobs: blobs, Auth: auth, Keys: keys, Close: func() error { return nil },
	}
	if cfg.CDNDistributionID != "" {
		cdn := &CDN{client: cloudfront.NewFromConfig(ac), distribution: cfg.CDNDistributionID, prefix: cfg.Prefix, timeout: cfg.CallTimeout}
		be.Invalidate = cdn.Invalidate
	}
	// Every resource answers before the backend is used; the checks go
	// at once (six round trips cost one), the first failing one in this
	// order is reported.
	pings := []func(context.Context) error{store.Ping, view.Ping, blobs.Ping, pingTable(cl.db, cfg.LeaseTable, cfg), auth.Ping, keys.Ping}
	errs := make([]error, len(pings))
	var wg sync.WaitGroup
	for i, p := range pings {
		wg.Go(func() { errs[i] = p(ctx) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return be, nil
}

func pingTable(db *dynamodb.Client, table string, cfg Config) func(context.Context) error {
	return func(ctx context.Context) error {
		c, cancel := context.WithTimeout(ctx, cfg.CallTimeout)
		defer cancel()
		if _, err := db.DescribeTable(c, &dynamodb.DescribeTableInput{TableName: aws.String(table)}); err != nil {
			return fmt.Errorf("awsbackend: describe lease table %s: %w", table, err)
		}
		return nil
	}
}

// errMismatch marks a resource that exists with the wrong shape.
var errMismatch = errors.New("exists with a different layout")
