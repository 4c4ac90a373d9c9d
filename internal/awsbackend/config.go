// Package awsbackend runs mediashare on AWS: the event store and its
// change feed on DynamoDB and DynamoDB Streams, the entries view on
// DynamoDB, media on S3, all through the same ports as the embedded
// backend. It reads its configuration from flags or from EC2 user data,
// creates or checks the resources (Setup) and opens the adapters (Open).
package awsbackend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// Config is what the AWS backend needs. The comments name the flags.
type Config struct {
	Bucket      string // --bucket: S3 bucket for originals and thumbnails
	Table       string // --table: DynamoDB table of the entries view
	EventsTable string // --events-table: DynamoDB table of the events (Streams on)
	LeaseTable  string // --lease-table: leases, checkpoints and dead letters of the feed (default EventsTable+"-leases")
	AuthTable   string // sessions, API tokens, invites, credentials (internal/authstore; default EventsTable+"-auth")
	KeysTable   string // per-entry data keys for erasure (internal/keyring; default EventsTable+"-keys")
	Region      string // --region
	Endpoint    string // --endpoint: optional, for moto, MinIO, ScyllaDB Alternator and the like
	Prefix      string // --prefix: optional key prefix in the bucket
	// CDNDistributionID (--cdn-distribution-id), when set, is the
	// CloudFront distribution in front of the bucket: an erasure
	// invalidates the entry's objects there.
	CDNDistributionID string
	PathStyle         bool   // --s3-path-style: path-style S3 addressing (most non-AWS endpoints want it)
	MediaURL          string // --media-url: where browsers fetch media (the bucket's or CDN's URL); "" serves them through mediashare
	// TrustedProxies is --trusted-proxies as user data gives it
	// (trusted_proxies): comma-separated CIDRs of the load balancer, the
	// only peers whose X-Forwarded-For is believed. "" trusts none.
	TrustedProxies string

	// LeaseDuration is how long a feed lease lasts unless renewed; a dead
	// instance's shards are taken over after it (default 30 s).
	LeaseDuration time.Duration
	// PreviewPoll is how long the previews consumer, the stream's third
	// reader, waits after an empty read of a shard (default 2 s, which
	// keeps the three readers within GetRecords' five calls a second per
	// shard).
	PreviewPoll time.Duration
	// CallTimeout bounds each AWS call (default 10 s).
	CallTimeout time.Duration
	// MaxAttempts bounds the attempts at one event before the feed parks
	// it (default events.DefaultMaxAttempts).
	MaxAttempts int
	// Credentials, when set, replace the SDK's default chain (tests use
	// static keys). With an Endpoint and no AWS_ACCESS_KEY_ID in the
	// environment, the static keys "test"/"test" are used.
	Credentials aws.CredentialsProvider
}

// DefaultLeaseTable is the lease table's name for an events table.
func DefaultLeaseTable(eventsTable string) string { return eventsTable + "-leases" }

// DefaultAuthTable is the auth table's name for an events table.
func DefaultAuthTable(eventsTable string) string { return eventsTable + "-auth" }

// DefaultKeysTable is the keys table's name for an events table.
func DefaultKeysTable(eventsTable string) string { return eventsTable + "-keys" }

// withDefaults fills the optional fields.
func (c Config) withDefaults() Config {
	if c.LeaseTable == "" && c.EventsTable != "" {
		c.LeaseTable = DefaultLeaseTable(c.EventsTable)
	}
	if c.AuthTable == "" && c.EventsTable != "" {
		c.AuthTable = DefaultAuthTable(c.EventsTable)
	}
	if c.KeysTable == "" && c.EventsTable != "" {
		c.KeysTable = DefaultKeysTable(c.EventsTable)
	}
	if c.LeaseDuration <= 0 {
		c.LeaseDuration = 30 * time.Second
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = 10 * time.Second
	}
	return c
}

var (
	bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	tableName  = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)
	regionName = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// Validate reports every problem, each naming its flag.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	need := func(flag, v string, re *regexp.Regexp, what string) {
		switch {
		case v == "":
			errs = append(errs, fmt.Errorf("%s is required", flag))
		case !re.MatchString(v):
			errs = append(errs, fmt.Errorf("%s %q is not a valid %s", flag, v, what))
		}
	}
	need("--bucket", c.Bucket, bucketName, "S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)")
	need("--table", c.Table, tableName, "DynamoDB table name (3-255 letters, digits, '_', '-', '.')")
	need("--events-table", c.EventsTable, tableName, "DynamoDB table name (3-255 letters, digits, '_', '-', '.')")
	need("--region", c.Region, regionName, "AWS region (like eu-west-1)")
	if c.LeaseTable != "" && !tableName.MatchString(c.LeaseTable) {
		errs = append(errs, fmt.Errorf("--lease-table %q is not a valid DynamoDB table name", c.LeaseTable))
	}
	if c.Table != "" && c.Table == c.EventsTable {
		errs = append(errs, fmt.Errorf("--table and --events-table must differ (both %q)", c.Table))
	}
	if c.LeaseTable != "" && (c.LeaseTable == c.Table || c.LeaseTable == c.EventsTable) {
		errs = append(errs, fmt.Errorf("--lease-table %q must differ from --table and --events-table", c.LeaseTable))
	}
	for _, t := range []struct{ name, v string }{{"auth table", c.AuthTable}, {"keys table", c.KeysTable}} {
		if t.v == "" {
			continue
		}
		if !tableName.MatchString(t.v) {
			errs = append(errs, fmt.Errorf("%s %q is not a valid DynamoDB table name", t.name, t.v))
		}
		if t.v == c.Table || t.v == c.EventsTable || t.v == c.LeaseTable {
			errs = append(errs, fmt.Errorf("%s %q must differ from --table, --events-table and --lease-table", t.name, t.v))
		}
	}
	if c.AuthTable != "" && c.AuthTable == c.KeysTable {
		errs = append(errs, fmt.Errorf("auth table and keys table must differ (both %q)", c.AuthTable))
	}
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--endpoint %q is not an http(s) URL", c.Endpoint))
		}
	}
	if c.CDNDistributionID != "" && !distributionID.MatchString(c.CDNDistributionID) {
		errs = append(errs, fmt.Errorf("--cdn-distribution-id %q is not a CloudFront distribution id (capital letters and digits, e.g. E2QWRUHEXAMPLE)", c.CDNDistributionID))
	}
	if c.Prefix != "" && (strings.HasPrefix(c.Prefix, "/") || strings.Contains(c.Prefix, "..")) {
		errs = append(errs, fmt.Errorf("--prefix %q must be relative, without '..'", c.Prefix))
	}
	if _, err := ParseTrustedProxies(c.TrustedProxies); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ParseTrustedProxies reads a comma-separated list of CIDRs (spaces
// around the commas allowed, empty items not); "" is none.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []netip.Prefix
	for _, item := range strings.Split(s, ",") {
		p, err := netip.ParsePrefix(strings.TrimSpace(item))
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies (user data trusted_proxies) %q: %q is not a CIDR like 10.0.0.0/16", s, strings.TrimSpace(item))
		}
		if p != p.Masked() {
			return nil, fmt.Errorf("--trusted-proxies (user data trusted_proxies) %q: %s has host bits set; write %s", s, p, p.Masked())
		}
		out = append(out, p)
	}
	return out, nil
}

// UserDataClient is the part of the EC2 instance metadata client that
// ConfigFromUserData uses; *imds.Client implements it (over IMDSv2).
type UserDataClient interface {
	GetUserData(ctx context.Context, in *imds.GetUserDataInput, optFns ...func(*imds.Options)) (*imds.GetUserDataOutput, error)
}

// regionClient is implemented by *imds.Client too.
type regionClient interface {
	GetRegion(ctx context.Context, in *imds.GetRegionInput, optFns ...func(*imds.Options)) (*imds.GetRegionOutput, error)
}

// userData is the JSON the instance's user data holds, as in the
// original lab plus the tables mediashare adds.
type userData struct {
	Bucket      string `json:"bucket"`
	Table       string `json:"table"`
	EventsTable string `json:"events_table"`
	LeaseTable  string `json:"lease_table"`
	Region      string `json:"region"`
	Endpoint    string `json:"endpoint"`
	Prefix      string `json:"prefix"`
	MediaURL    string `json:"media_url"`
	// CDNDistributionID is the distribution erasures invalidate.
	CDNDistributionID string `json:"cdn_distribution_id"`
	// TrustedProxies: the stack puts its load balancer's subnets here.
	TrustedProxies string `json:"trusted_proxies"`
}

// ConfigFromUserData reads the configuration from the EC2 instance's user
// data, JSON like {"bucket": …, "table": …, "events_table": …, "region": …},
// over IMDSv2 (imds.New(imds.Options{}) or imds.NewFromConfig). Without a
// region in the user data it asks the metadata service for the
// instance's. The result is not validated; call Validate.
func ConfigFromUserData(ctx context.Context, client UserDataClient) (Config, error) {
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := client.GetUserData(c, &imds.GetUserDataInput{})
	if err != nil {
		return Config{}, fmt.Errorf("awsbackend: read EC2 user data (IMDSv2): %w", err)
	}
	defer out.Content.Close()
	b, err := io.ReadAll(io.LimitReader(out.Content, 16<<10))
	if err != nil {
		return Config{}, fmt.Errorf("awsbackend: read EC2 user data (IMDSv2): %w", err)
	}
	b, err = jsonPart(b)
	if err != nil {
		return Config{}, fmt.Errorf("awsbackend: EC2 user data: %w", err)
	}
	var ud userData
	if err := json.Unmarshal(b, &ud); err != nil {
		return Config{}, fmt.Errorf("awsbackend: EC2 user data is not the expected JSON ({\"bucket\": …, \"table\": …, \"events_table\": …}): %w", err)
	}
	cfg := Config{
		Bucket: ud.Bucket, Table: ud.Table, EventsTable: ud.EventsTable, LeaseTable: ud.LeaseTable,
		Region: ud.Region, Endpoint: ud.Endpoint, Prefix: ud.Prefix, MediaURL: ud.MediaURL,
		TrustedProxies: ud.TrustedProxies, CDNDistributionID: ud.CDNDistributionID,
	}
	if rc, ok := client.(regionClient); ok && cfg.Region == "" {
		r, err := rc.GetRegion(c, &imds.GetRegionInput{})
		if err != nil {
			return Config{}, fmt.Errorf("awsbackend: read the instance's region (IMDSv2): %w", err)
		}
		cfg.Region = r.Region
	}
	return cfg, nil
}

// jsonPart returns the JSON configuration in user data: the whole of it,
// or, when the user data is a MIME multipart message (cloud-init's format,
// carrying a boot script beside the configuration), its application/json part.
func jsonPart(b []byte) ([]byte, error) {
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		return trimmed, nil
	}
	msg, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf(`not the expected JSON ({"bucket": …, "table": …, "events_table": …}) nor a MIME message carrying it: %w`, err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		return nil, fmt.Errorf("not the expected JSON nor a MIME multipart message (Content-Type %q)", msg.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil, errors.New("the MIME message has no application/json part")
		}
		if err != nil {
			return nil, fmt.Errorf("read MIME part: %w", err)
		}
		if pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); pt == "application/json" {
			return io.ReadAll(io.LimitReader(p, 16<<10))
		}
	}
}
