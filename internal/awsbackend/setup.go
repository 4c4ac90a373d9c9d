package awsbackend

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	authdynamo "mediashare/internal/authstore/dynamo"
	eventsdynamo "mediashare/internal/events/dynamo"
	keysdynamo "mediashare/internal/keyring/dynamo"
	viewdynamo "mediashare/internal/projections/dynamo"
)

// tableSpec is a table Setup makes sure of.
type tableSpec struct {
	role string // "events", "view", "lease": used in messages with the flag
	flag string
	in   *dynamodb.CreateTableInput
	pitr bool   // point-in-time recovery wanted
	ttl  string // TTL attribute wanted, if any
}

// Setup creates the bucket and the tables of cfg when absent, and checks
// them when present: keys, indexes, Streams with NEW_IMAGE on the events
// table, on-demand capacity for new tables, point-in-time recovery on the
// events and view tables, TTL on the view's change items. Running it again
// changes nothing.
func Setup(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	ac, err := LoadAWSConfig(ctx, cfg)
	if err != nil {
		return err
	}
	cl := newClients(ac, cfg)
	if err := ensureBucket(ctx, cl.s3, cfg); err != nil {
		return err
	}
	specs := []tableSpec{
		{role: "events", flag: "--events-table", in: eventsdynamo.TableInput(cfg.EventsTable), pitr: true},
		{role: "entries view", flag: "--table", in: viewdynamo.TableInput(cfg.Table), pitr: true, ttl: viewdynamo.AttrTTL},
		{role: "lease", flag: "--lease-table", in: eventsdynamo.LeaseTableInput(cfg.LeaseTable)},
		{role: "auth", flag: "<events-table>-auth", in: authdynamo.TableInput(cfg.AuthTable), pitr: true, ttl: authdynamo.AttrTTL},
		{role: "keys", flag: "<events-table>-keys", in: keysdynamo.TableInput(cfg.KeysTable)}, // no PITR: a restore would bring destroyed keys back
	}
	for _, s := range specs {
		if err := ensureTable(ctx, cl.db, cfg, s); err != nil {
			return err
		}
	}
	return nil
}

func ensureBucket(ctx context.Context, client *s3.Client, cfg Config) error {
	c, cancel := context.WithTimeout(ctx, cfg.CallTimeout)
	defer cancel()
	_, err := client.HeadBucket(c, &s3.HeadBucketInput{Bucket: aws.String(cfg.Bucket)})
	if err == nil {
		return nil
	}
	var (
		nf *s3types.NotFound
		re *awshttp.ResponseError
	)
	if !errors.As(err, &nf) && !(errors.As(err, &re) && re.HTTPStatusCode() == 404) {
		return fmt.Errorf("awsbackend: head bucket %s (--bucket): %w", cfg.Bucket, err)
	}
	in := &s3.CreateBucketInput{Bucket: aws.String(cfg.Bucket)}
	if cfg.Region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(cfg.Region)}
	}
	c2, cancel2 := context.WithTimeout(ctx, cfg.CallTimeout)
	defer cancel2()
	if _, err := client.CreateBucket(c2, in); err != nil {
		var owned *s3types.BucketAlreadyOwnedByYou
		if errors.As(err, &owned) {
			return nil
		}
		return fmt.Errorf("awsbackend: create bucket %s (--bucket): %w", cfg.Bucket, err)
	}
	return nil
}

func ensureTable(ctx context.Context, db *dynamodb.Client, cfg Config, s tableSpec) error {
	name := aws.ToString(s.in.TableName)
	where := fmt.Sprintf("%s table %s (%s)", s.role, name, s.flag)
	c, cancel := context.WithTimeout(ctx, cfg.CallTimeout)
	out, err := db.DescribeTable(c, &dynamodb.DescribeTableInput{TableName: s.in.TableName})
	cancel()
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		c, cancel := context.WithTimeout(ctx, cfg.CallTimeout)
		_, err := db.CreateTable(c, s.in)
		cancel()
		var inUse *types.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) { // in use: another instance is creating it
			return fmt.Errorf("awsbackend: create %s: %w", where, err)
		}
		if err := dynamodb.NewTableExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: s.in.TableName}, 5*time.Minute); err != nil {
			return fmt.Errorf("awsbackend: wait for %s to become active: %w", where, err)
		}
	case err != nil:
		return fmt.Errorf("awsbackend: describe %s: %w", where, err)
	default:
		if err := checkTable(out.Table, s.in); err != nil {
			return fmt.Errorf("awsbackend: %s %w: %v", where, errMismatch, err)
		}
	}
	if s.pitr {
		if err := ensurePITR(ctx, db, cfg, s.in.TableName, where); err != nil {
			return err
		}
	}
	if s.ttl != "" {
		if err := ensureTTL(ctx, db, cfg, s.in.TableName, s.ttl, where); err != nil {
			return err
		}
	}
	return nil
}

// checkTable compares an existing table with the layout the adapters need.
func checkTable(got *types.TableDescription, want *dynamodb.CreateTableInput) error {
	if !sameKeys(got.KeySchema, want.KeySchema) {
		return fmt.Errorf("key schema is %s, want %s", keys(got.KeySchema), keys(want.KeySchema))
	}
	for _, wg := range want.GlobalSecondaryIndexes {
		i := slices.IndexFunc(got.GlobalSecondaryIndexes, func(g types.GlobalSecondaryIndexDescription) bool {
			return aws.ToString(g.IndexName) == aws.ToString(wg.IndexName)
		})
		if i < 0 {
			return fmt.Errorf("global secondary index %s is missing", aws.ToString(wg.IndexName))
		}
		g := got.GlobalSecondaryIndexes[i]
		if !sameKeys(g.KeySchema, wg.KeySchema) {
			return fmt.Errorf("index %s has keys %s, want %s", aws.ToString(wg.IndexName), keys(g.KeySchema), keys(wg.KeySchema))
		}
		if g.Projection == nil || g.Projection.ProjectionType != wg.Projection.ProjectionType {
			return fmt.Errorf("index %s does not project %s", aws.ToString(wg.IndexName), wg.Projection.ProjectionType)
		}
	}
	if ws := want.StreamSpecification; ws != nil && aws.ToBool(ws.StreamEnabled) {
		gs := got.StreamSpecification
		if gs == nil || !aws.ToBool(gs.StreamEnabled) || gs.StreamViewType != ws.StreamViewType {
			return fmt.Errorf("DynamoDB Streams must be enabled with %s", ws.StreamViewType)
		}
	}
	return nil
}

func sameKeys(a, b []types.KeySchemaElement) bool {
	return keys(a) == keys(b)
}

func keys(ks []types.KeySchemaElement) string {
	s := ""
	for _, k := range ks {
		s += fmt.Sprintf("[%s %s]", aws.ToString(k.AttributeName), k.KeyType)
	}
	return s
}

func ensurePITR(ctx context.Context, db *dynamodb.Client, cfg Config, table *string, where string) error {
	c, cancel := context.WithTimeout(ctx, cfg.CallTimeout)
	defer cancel()
	out, err := db.DescribeContinuousBackups(c, &dynamodb.DescribeContinuousBackupsInput{TableName: table})
	if err != nil {
		return fmt.Errorf("awsbackend: describe continuous backups of %s: %w", where, err)
	}
	if d := out.ContinuousBackupsDescription; d != nil && d.PointInTimeRecoveryDescription != nil &&
		d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus == types.PointInTimeRecoveryStatusEnabled {
		return nil
	}
	c2, cancel2 := context.WithTimeout(ctx, cfg.CallTimeout)
	defer cancel2()
	_, err = db.UpdateContinuousBackups(c2, &dynamodb.UpdateContinuousBackupsInput{
		TableName:                        table,
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)},
	})
	if err != nil {
		return fmt.Errorf("awsbackend: enable point-in-time recovery on %s: %w", where, err)
	}
	return nil
}

func ensureTTL(ctx context.Context, db *dynamodb.Client, cfg Config, table *string, attr, where string) error {
	c, cancel := context.WithTimeout(ctx, cfg.CallTimeout)
	defer cancel()
	out, err := db.DescribeTimeToLive(c, &dynamodb.DescribeTimeToLiveInput{TableName: table})
	if err != nil {
		return fmt.Errorf("awsbackend: describe time to live of %s: %w", where, err)
	}
	if d := out.TimeToLiveDescription; d != nil && (d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		if aws.ToString(d.AttributeName) != attr {
			return fmt.Errorf("awsbackend: %s has time to live on %q, want %q", where, aws.ToString(d.AttributeName), attr)
		}
		return nil
	}
	c2, cancel2 := context.WithTimeout(ctx, cfg.CallTimeout)
	defer cancel2()
	_, err = db.UpdateTimeToLive(c2, &dynamodb.UpdateTimeToLiveInput{
		TableName:               table,
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(true)},
	})
	if err != nil {
		return fmt.Errorf("awsbackend: enable time to live on %s: %w", where, err)
	}
	return nil
}
