package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"mediashare/internal/awsbackend"
	"mediashare/internal/limits"
	"mediashare/internal/oidclogin"
	"mediashare/internal/policy"
	"mediashare/internal/reactor"
)

// maxAccountCache bounds --account-cache.
const maxAccountCache = 30 * time.Second

// config is everything the commands read from flags and MEDIASHARE_* twins.
type config struct {
	Addr            string
	Data            string
	Backend         string
	MaxUploadBytes  int64
	MaxPixels       int64
	DecodeMemory    int64 // bytes; 0 until sized from the process' memory (serve)
	SecretFile      string
	CookieSecure    bool
	LogLevel        string
	LogFormat       string
	ShutdownTimeout time.Duration
	DebugAddr       string // pprof listener; empty = none
	KeepMetadata    bool
	MediaURL        string
	ThumbTimeout    time.Duration
	ThumbYield      time.Duration // how long a thumbnail waits for big uploads arriving
	PreviewDelay    time.Duration
	TrashRetention  time.Duration // how long the trash keeps a deleted entry; 0: deleted at once
	Heartbeat       time.Duration
	LivePoll        time.Duration
	MaxAttempts     int  // attempts at one event before the feed parks it
	Follow          bool // events: keep printing

	// Limits for hostile traffic (internal/limits).
	TrustedProxies   string // comma-separated CIDRs whose X-Forwarded-For is believed
	UploadsPerMinute int
	UploadsPerClient int
	UploadsInFlight  int
	LivePerClient    int
	LiveMax          int
	SpoolDir         string // default <data>/spool
	SpoolMaxBytes    int64
	MinFreeBytes     int64
	BodyTimeout      time.Duration
	MinBodyRate      int64 // bytes a second
	WriteTimeout     time.Duration
	EventsJSON       bool   // events: NDJSON
	Reason           string // entries erase, users disable: why
	ReportsPerHour   int    // reports one client may send an hour

	// Accounts.
	Uploads        string // members or anyone
	SignUp         string // invite, open or closed
	SessionTTL     time.Duration
	AccountCache   time.Duration // how long an instance keeps what a session cookie resolved to
	InviteTTL      time.Duration
	QuotaBytes     int64 // 0: unlimited
	PublicURL      string
	PasswordLogin  bool
	SignInFailures int // failed sign-ins one name may take in 15 minutes; 0: no limit
	OIDCIssuer     string
	OIDCClientID   string
	OIDCSecretFile string
	OIDCRedirect   string
	OIDCScopes     string
	OIDCAdminClaim string
	Admin          bool // users add: make an admin

	// The JSON API.
	APICORSOrigins string // comma-separated origins allowed to call the API from a browser

	// The AWS backend.
	AWS              awsbackend.Config
	ConfigFromIMDS   bool // --config-from-user-data
	AWSLeaseDuration time.Duration
	AWSPreviewPoll   time.Duration
}

// envName is the environment twin of a flag: --max-pixels → MEDIASHARE_MAX_PIXELS.
func envName(flagName string) string {
	return "MEDIASHARE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// bytesValue parses sizes like 25MiB, 500KiB, 1GiB or plain bytes.
type bytesValue struct{ n *int64 }

func (b bytesValue) String() string {
	if b.n == nil {
		return ""
	}
	return strconv.FormatInt(*b.n, 10)
}

func (b bytesValue) Set(s string) error {
	n, err := parseBytes(s)
	if err != nil {
		return err
	}
	*b.n = n
	return nil
}

// sizeValue is a bytesValue that also takes 0 (off).
type sizeValue struct{ n *int64 }

func (b sizeValue) String() string { return bytesValue(b).String() }

func (b sizeValue) Set(s string) error {
	if strings.TrimSpace(s) == "0" {
		*b.n = 0
		return nil
	}
	if err := (bytesValue(b)).Set(s); err != nil {
		return errors.New("want 0 or a positive size such as 512MiB")
	}
	return nil
}

func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, errors.New("want a positive size such as 25MiB")
	}
	if n > math.MaxInt64/mult {
		return 0, errors.New("too large")
	}
	return n * mult, nil
}

// newFlagSet defines the flags of a command.
func newFlagSet(name string, c *config) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	*c = config{MaxUploadBytes: 25 << 20, MaxPixels: 100_000_000, SpoolMaxBytes: 2 << 30, MinFreeBytes: 512 << 20, MinBodyRate: 4 << 10}
	fs.StringVar(&c.Addr, "addr", ":8080", "address to listen on")
	fs.StringVar(&c.Data, "data", "./data", "data directory of the embedded backend (SQLite file and media)")
	fs.StringVar(&c.Backend, "backend", "embedded", "storage backend: embedded (SQLite and files under --data) or aws (S3, DynamoDB, DynamoDB Streams)")
	fs.StringVar(&c.AWS.Bucket, "bucket", "", "aws: S3 bucket for originals and thumbnails")
	fs.StringVar(&c.AWS.Table, "table", "", "aws: DynamoDB table of the entries view (hash key eib)")
	fs.StringVar(&c.AWS.EventsTable, "events-table", "", "aws: DynamoDB table of the events (Streams on)")
	fs.StringVar(&c.AWS.LeaseTable, "lease-table", "", "aws: DynamoDB table of stream leases and checkpoints (default <events-table>-leases)")
	fs.StringVar(&c.AWS.Region, "region", "", "aws: region, e.g. eu-west-1")
	fs.StringVar(&c.AWS.Endpoint, "endpoint", "", "aws: endpoint URL of a compatible server (moto, MinIO, ScyllaDB Alternator)")
	fs.StringVar(&c.AWS.Prefix, "prefix", "", "aws: key prefix in the bucket")
	fs.StringVar(&c.AWS.CDNDistributionID, "cdn-distribution-id", "", "aws: the CloudFront distribution in front of the bucket (e.g. E2QWRUHEXAMPLE): erasing an entry invalidates its objects there")
	fs.BoolVar(&c.AWS.PathStyle, "s3-path-style", false, "aws: path-style S3 addressing (most non-AWS endpoints want it)")
	fs.BoolVar(&c.ConfigFromIMDS, "config-from-user-data", false, `aws: read {"bucket": …, "table": …, "events_table": …} from EC2 user data (IMDSv2)`)
	fs.DurationVar(&c.AWSLeaseDuration, "lease-duration", 30*time.Second, "aws: how long a stream shard lease lasts unless renewed")
	fs.DurationVar(&c.AWSPreviewPoll, "preview-poll", 2*time.Second, "aws: how long the previews consumer waits after an empty read of a stream shard (it is the stream's third reader; the default keeps the three within GetRecords' limit of five calls a second per shard)")
	fs.Var(bytesValue{&c.MaxUploadBytes}, "max-upload-bytes", "largest accepted file, e.g. 25MiB")
	fs.Int64Var(&c.MaxPixels, "max-pixels", c.MaxPixels, "largest accepted image in pixels (width × height)")
	fs.Var(bytesValue{&c.DecodeMemory}, "decode-memory", "memory budget for decoding images, e.g. 512MiB; decodes wait for room and an image that can never fit is refused at upload (default: half the memory the process may use: its cgroup limit, GOMEMLIMIT, or the machine's RAM)")
	fs.StringVar(&c.SecretFile, "secret-file", "", "file holding the key that signs owner cookies (default: <data>/secret.key, created on first start)")
	fs.StringVar(&c.MediaURL, "media-url", "", "where browsers fetch media, e.g. a CDN in front of the bucket: https://d1234.cloudfront.net/ (keys are appended, so include the --prefix); default: served by mediashare under /media/")
	fs.BoolVar(&c.KeepMetadata, "keep-original-metadata", false, "store originals byte for byte (by default location metadata, EXIF GPS and XMP, is removed; pixels are never re-encoded)")
	fs.BoolVar(&c.CookieSecure, "cookie-secure", false, "mark cookies Secure (serve behind HTTPS)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "text or json")
	fs.StringVar(&c.DebugAddr, "debug-addr", "", "serve: address of a second listener with Go's profiling endpoints (/debug/pprof/), e.g. 127.0.0.1:6060; off when empty. Keep it private: it has no authentication")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long in-flight requests may take to finish on shutdown")
	fs.DurationVar(&c.ThumbTimeout, "thumbnail-timeout", 60*time.Second, "deadline for making one thumbnail")
	fs.DurationVar(&c.ThumbYield, "thumbnail-yield", 5*time.Second, "how long a thumbnail waits, at most, before it starts while uploads of 32 MiB or more in all are in progress (they get the cores first); 0: never waits")
	fs.DurationVar(&c.PreviewDelay, "preview-delay", reactor.DefaultPreviewDelay, "how long an entry page's preview may wait, after its grid thumbnail, for the uploads and thumbnails in progress to finish (previews give way to them) before it is made anyway")
	fs.DurationVar(&c.TrashRetention, "trash-retention", 720*time.Hour, "how long a deleted entry stays in its owner's trash, restorable, before it is deleted for good; 0 deletes at once")
	if name == "events" {
		fs.BoolVar(&c.Follow, "follow", false, "keep printing new events")
		fs.BoolVar(&c.EventsJSON, "json", false, "print NDJSON")
	}
	if name == "entries" {
		fs.StringVar(&c.Reason, "reason", "", "entries erase: why the entry is erased (required; the audit log keeps it)")
	}
	fs.IntVar(&c.MaxAttempts, "feed-max-attempts", 3, "attempts at one event (failed, or cut short by a crash) before a consumer parks it as a dead letter and moves on")
	fs.DurationVar(&c.LivePoll, "live-poll", 250*time.Millisecond, "how often each instance looks for gallery changes made through other instances")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", "", "comma-separated CIDR ranges of proxies (the load balancer) whose X-Forwarded-For names the client; from anyone else the header is ignored")
	fs.IntVar(&c.UploadsPerMinute, "uploads-per-minute", 30, "upload requests one client may send a minute (and at once in a burst); 0: no limit")
	fs.IntVar(&c.UploadsPerClient, "uploads-per-client", 4, "upload requests one client may have in progress at once; 0: no limit")
	fs.IntVar(&c.UploadsInFlight, "uploads-in-flight", 32, "upload requests in progress on this instance at once, every client together (503 above it); 0: no limit")
	fs.IntVar(&c.LivePerClient, "live-per-client", 8, "live gallery streams one client may hold open; 0: no limit")
	fs.IntVar(&c.ReportsPerHour, "reports-per-hour", 10, "reports of entries one client may send an hour (and at once in a burst); 0: no limit")
	fs.IntVar(&c.LiveMax, "live-max", 2000, "live gallery streams open on this instance (503 above it); 0: no limit")
	fs.StringVar(&c.SpoolDir, "spool-dir", "", "directory where upload files wait while they are checked (default <data>/spool; never the system's tmpfs)")
	fs.Var(sizeValue{&c.SpoolMaxBytes}, "spool-max-bytes", "bytes the spool may hold at once (507 above it), e.g. 2GiB; 0: no cap")
	fs.Var(sizeValue{&c.MinFreeBytes}, "min-free-bytes", "below this much free space on the data volume uploads get 507 (reads go on), e.g. 512MiB; 0: no check")
	fs.DurationVar(&c.BodyTimeout, "body-timeout", 10*time.Minute, "a request body must have arrived within this (408 otherwise)")
	fs.Var(sizeValue{&c.MinBodyRate}, "min-body-rate", "slowest a request body may arrive, bytes a second averaged from its start (checked after 10 s, or the body timeout if shorter), e.g. 4KiB; 0: no minimum")
	fs.DurationVar(&c.WriteTimeout, "write-timeout", 2*time.Minute, "deadline for writing a response (the live stream is exempt), counted from the end of the request body")
	fs.StringVar(&c.Uploads, "uploads", "members", "who may upload: members (signed-in accounts) or anyone (anonymous visitors too, owned by a signed cookie)")
	fs.StringVar(&c.SignUp, "signup", "invite", "who may make an account once the site has its admin: invite (with a link an admin makes), open or closed")
	fs.DurationVar(&c.SessionTTL, "session-ttl", 720*time.Hour, "how long a sign-in lasts")
	fs.DurationVar(&c.AccountCache, "account-cache", time.Second, "how long an instance keeps whom a session cookie signs in (and that a fresh site has no account yet) before asking the stores again; its own changes apply at once, another instance's sign-out or disabled account within this; 0: ask on every request")
	fs.DurationVar(&c.InviteTTL, "invite-ttl", 7*24*time.Hour, "how long an invite link works")
	fs.Var(sizeValue{&c.QuotaBytes}, "quota-bytes", "bytes of uploads one account may keep, e.g. 1GiB (413 over it); 0: unlimited")
	fs.StringVar(&c.PublicURL, "public-url", "", "the site's address as people reach it, e.g. https://photos.example.org (invite links, the OIDC callback, the API's absolute URLs and deletion links; without it the API derives them from a request's Host when that is a plain host name)")
	fs.BoolVar(&c.PasswordLogin, "password-login", true, "sign in with username and password; false leaves only the identity provider (--oidc-issuer)")
	fs.IntVar(&c.SignInFailures, "signin-failures", 10, "failed sign-ins one username may take in 15 minutes (a client: 5 times as many) before sign-in waits (429); 0: no limit")
	fs.StringVar(&c.OIDCIssuer, "oidc-issuer", "", "OpenID Connect provider's issuer URL; setting it turns sign-in with the provider on")
	fs.StringVar(&c.OIDCClientID, "oidc-client-id", "", "the client id registered with the provider")
	fs.StringVar(&c.OIDCSecretFile, "oidc-client-secret-file", "", "file holding the client secret")
	fs.StringVar(&c.OIDCRedirect, "oidc-redirect-url", "", "this site's OIDC callback as registered with the provider (default --public-url + /oidc/callback)")
	fs.StringVar(&c.OIDCScopes, "oidc-scopes", "openid profile email", "scopes to ask the provider for")
	fs.StringVar(&c.OIDCAdminClaim, "oidc-admin-claim", "", "who the provider makes admin: NAME=VALUE (e.g. groups=admins) or NAME (a true claim); empty: nobody")
	if name == "users" {
		fs.BoolVar(&c.Admin, "admin", false, "users add: make the account an admin")
		fs.StringVar(&c.Reason, "reason", "", "users disable: why (shown in the audit log)")
	}
	fs.StringVar(&c.APICORSOrigins, "api-cors-origins", "", "comma-separated origins (https://tool.example.org) whose pages may call the JSON API from a browser; default none")
	fs.DurationVar(&c.Heartbeat, "live-heartbeat", 15*time.Second, "interval of keep-alive comments on idle live streams (below the load balancer's idle timeout)")
	return fs
}

// parse reads args, then fills every flag not given on the command line
// from its MEDIASHARE_* twin, then validates.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q (--%s): %v", envName(f.Name), v, f.Name, err))
			}
		}
	})
	return errors.Join(errs...)
}

func (c *config) validate() error {
	var errs []error
	switch c.Backend {
	case "embedded":
		if c.AWS.CDNDistributionID != "" {
			errs = append(errs, errors.New("--cdn-distribution-id (MEDIASHARE_CDN_DISTRIBUTION_ID) is for --backend aws: the embedded backend serves its own media"))
		}
	case "aws":
		if !c.ConfigFromIMDS {
			if err := c.AWS.Validate(); err != nil {
				errs = append(errs, err)
			}
		}
	default:
		errs = append(errs, fmt.Errorf("--backend (%s): %q is not a backend; use embedded or aws", envName("backend"), c.Backend))
	}
	if c.Data == "" {
		errs = append(errs, fmt.Errorf("--data (%s) must name a directory", envName("data")))
	}
	if c.MaxPixels <= 0 {
		errs = append(errs, fmt.Errorf("--max-pixels (%s) must be positive", envName("max-pixels")))
	}
	if c.MaxAttempts < 1 || c.MaxAttempts > 100 {
		errs = append(errs, fmt.Errorf("--feed-max-attempts (%s): %d is not between 1 and 100", envName("feed-max-attempts"), c.MaxAttempts))
	}
	if c.DecodeMemory != 0 && c.DecodeMemory < minDecodeMemory {
		errs = append(errs, fmt.Errorf("--decode-memory (%s): %d bytes is too little to decode ordinary photographs; give at least %s", envName("decode-memory"), c.DecodeMemory, formatMiB(minDecodeMemory)))
	}
	if c.MediaURL != "" {
		u, err := url.Parse(c.MediaURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("--media-url (%s): %q is not an http(s) URL without query", envName("media-url"), c.MediaURL))
		}
	}
	if _, err := parseOrigins(c.APICORSOrigins); err != nil {
		errs = append(errs, fmt.Errorf("--api-cors-origins (%s): %v", envName("api-cors-origins"), err))
	}
	if _, err := limits.ParseCIDRs(c.TrustedProxies); err != nil {
		errs = append(errs, fmt.Errorf("--trusted-proxies (%s): %v", envName("trusted-proxies"), err))
	}
	for _, n := range []struct {
		flag string
		v    int
	}{{"uploads-per-minute", c.UploadsPerMinute}, {"uploads-per-client", c.UploadsPerClient}, {"uploads-in-flight", c.UploadsInFlight},
		{"live-per-client", c.LivePerClient}, {"live-max", c.LiveMax}} {
		if n.v < 0 {
			errs = append(errs, fmt.Errorf("--%s (%s) must be 0 (no limit) or positive", n.flag, envName(n.flag)))
		}
	}
	if c.ThumbYield < 0 || c.ThumbYield >= c.ThumbTimeout && c.ThumbTimeout > 0 {
		errs = append(errs, fmt.Errorf("--thumbnail-yield (%s) must be 0 (never wait) or positive, and shorter than --thumbnail-timeout", envName("thumbnail-yield")))
	}
	if c.TrashRetention < 0 {
		errs = append(errs, fmt.Errorf("--trash-retention (%s) must be 0 (delete at once) or positive", envName("trash-retention")))
	} else if c.TrashRetention > 0 && c.TrashRetention < time.Second {
		errs = append(errs, fmt.Errorf("--trash-retention (%s) must be 0 or at least 1s", envName("trash-retention")))
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"body-timeout", c.BodyTimeout}, {"write-timeout", c.WriteTimeout}, {"preview-delay", c.PreviewDelay}, {"preview-poll", c.AWSPreviewPoll}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("--%s (%s) must be positive", d.flag, envName(d.flag)))
		}
	}
	if _, err := policy.ParseUploads(c.Uploads); err != nil {
		errs = append(errs, fmt.Errorf("--uploads (%s): %v", envName("uploads"), err))
	}
	if _, err := policy.ParseSignUp(c.SignUp); err != nil {
		errs = append(errs, fmt.Errorf("--signup (%s): %v", envName("signup"), err))
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"session-ttl", c.SessionTTL}, {"invite-ttl", c.InviteTTL}} {
		if d.v < time.Minute {
			errs = append(errs, fmt.Errorf("--%s (%s) must be at least a minute", d.flag, envName(d.flag)))
		}
	}
	if c.AccountCache < 0 || c.AccountCache > maxAccountCache {
		errs = append(errs, fmt.Errorf("--account-cache (%s) must be between 0 and %s: a sign-out or a disabled account made through another instance takes that long to reach this one", envName("account-cache"), maxAccountCache))
	}
	if c.SignInFailures < 0 {
		errs = append(errs, fmt.Errorf("--signin-failures (%s) must be 0 (no limit) or positive", envName("signin-failures")))
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("--public-url (%s): %q is not an http(s) origin such as https://photos.example.org", envName("public-url"), c.PublicURL))
		}
	}
	if c.OIDCIssuer == "" && !c.PasswordLogin {
		errs = append(errs, fmt.Errorf("--password-login=false (%s) needs --oidc-issuer: nobody could sign in", envName("password-login")))
	}
	if c.OIDCIssuer != "" {
		if c.OIDCClientID == "" {
			errs = append(errs, fmt.Errorf("--oidc-client-id (%s) is required with --oidc-issuer", envName("oidc-client-id")))
		}
		if c.OIDCSecretFile == "" {
			errs = append(errs, fmt.Errorf("--oidc-client-secret-file (%s) is required with --oidc-issuer", envName("oidc-client-secret-file")))
		}
		if c.OIDCRedirect == "" && c.PublicURL == "" {
			errs = append(errs, fmt.Errorf("--oidc-redirect-url (%s) or --public-url is required with --oidc-issuer (the callback is never taken from a request's Host)", envName("oidc-redirect-url")))
		}
		if c.OIDCRedirect != "" {
			if u, err := url.Parse(c.OIDCRedirect); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != oidclogin.DefaultCallbackPath {
				errs = append(errs, fmt.Errorf("--oidc-redirect-url (%s): %q must be an http(s) URL ending in %s, where this site answers the callback", envName("oidc-redirect-url"), c.OIDCRedirect, oidclogin.DefaultCallbackPath))
			}
		}
		if _, err := oidclogin.ParseAdminClaim(c.OIDCAdminClaim); err != nil {
			errs = append(errs, fmt.Errorf("--oidc-admin-claim (%s): %v", envName("oidc-admin-claim"), err))
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level (%s): %q is not one of debug, info, warn, error", envName("log-level"), c.LogLevel))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format (%s): %q is not text or json", envName("log-format"), c.LogFormat))
	}
	return errors.Join(errs...)
}

// resolveAWS completes the AWS configuration: from EC2 user data when
// asked, then validated (naming the flag of each problem).
func (c *config) resolveAWS(ctx context.Context) error {
	if c.Backend != "aws" {
		return nil
	}
	if c.ConfigFromIMDS {
		fromUD, err := awsbackend.ConfigFromUserData(ctx, imds.New(imds.Options{}))
		if err != nil {
			return fmt.Errorf("--config-from-user-data: %w", err)
		}
		// Flags given explicitly win over user data.
		fromUD.PathStyle = c.AWS.PathStyle
		if c.MediaURL == "" {
			c.MediaURL = fromUD.MediaURL
		}
		if c.TrustedProxies == "" {
			c.TrustedProxies = fromUD.TrustedProxies // the stack's load balancer
		}
		for _, kv := range []struct {
			flag, from string
			to         *string
		}{
			{"bucket", c.AWS.Bucket, &fromUD.Bucket}, {"table", c.AWS.Table, &fromUD.Table},
			{"events-table", c.AWS.EventsTable, &fromUD.EventsTable}, {"lease-table", c.AWS.LeaseTable, &fromUD.LeaseTable},
			{"region", c.AWS.Region, &fromUD.Region}, {"endpoint", c.AWS.Endpoint, &fromUD.Endpoint}, {"prefix", c.AWS.Prefix, &fromUD.Prefix},
			{"cdn-distribution-id", c.AWS.CDNDistributionID, &fromUD.CDNDistributionID},
		} {
			if kv.from != "" {
				*kv.to = kv.from
			}
		}
		c.AWS = fromUD
	}
	c.AWS.LeaseDuration = c.AWSLeaseDuration
	c.AWS.PreviewPoll = c.AWSPreviewPoll
	c.AWS.MaxAttempts = c.MaxAttempts
	return c.AWS.Validate()
}

// parseOrigins reads a comma-separated list of origins: scheme and host,
// no path.
func parseOrigins(s string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(s, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || o == "*" {
			return nil, fmt.Errorf("%q is not an origin such as https://tool.example.org", o)
		}
		out = append(out, u.Scheme+"://"+u.Host)
	}
	return out, nil
}
