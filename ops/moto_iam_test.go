package ops_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"mediashare/internal/awsbackend"
	"mediashare/internal/awstest"
	"mediashare/internal/events"
	"mediashare/internal/projections"
)

// motoAccount is the account moto puts every resource in.
const motoAccount = "123456789012"

// What moto 5.2.1's IAM enforcement can and cannot check (found by trying
// it, and in moto/core/responses.py and moto/s3/responses.py):
//   - DynamoDB and DynamoDB Streams: the action is checked, the resource is
//     not: every call is authorised against Resource "*", so a statement
//     naming a table, index or stream ARN never matches and denies all.
//   - TransactWriteItems is checked as dynamodb:TransactWriteItems (not an
//     IAM action; AWS checks each item's PutItem, UpdateItem, … on its table).
//   - S3: action and resource (arn:aws:s3:::bucket, bucket/key) are both
//     checked, but HeadBucket is checked as s3:HeadBucket (not an IAM
//     action; AWS checks s3:ListBucket for it).
//
// motoPolicy turns the instance role's policy into what moto can enforce
// with the same meaning: DynamoDB statements keep their actions with
// Resource "*" (a statement allowing PutItem also names moto's
// dynamodb:TransactWriteItems), and the bucket statement that allows
// s3:ListBucket also names s3:HeadBucket. The per-resource truth for DynamoDB is left to
// TestRolePolicyMatchesCode.
func motoPolicy(t *testing.T, vars map[string]string, drop string) string {
	t.Helper()
	p := mustPolicyFile(t, "iam/role-policy.json")
	var out []map[string]any
	for _, s := range p.Statement {
		n := normalize(s)
		var acts []any
		allDynamo := true
		for _, a := range n.Actions {
			if a == drop {
				continue
			}
			acts = append(acts, a)
			allDynamo = allDynamo && strings.HasPrefix(a, "dynamodb:")
			switch a {
			case "s3:ListBucket":
				acts = append(acts, "s3:HeadBucket")
			case "dynamodb:PutItem":
				acts = append(acts, "dynamodb:TransactWriteItems")
			}
		}
		if len(acts) == 0 {
			continue
		}
		var res []any
		if allDynamo {
			res = []any{"*"}
		} else {
			for _, r := range n.Resources {
				for k, v := range vars {
					r = strings.ReplaceAll(r, "${"+k+"}", v)
				}
				if strings.Contains(r, "${") {
					t.Fatalf("statement %s: resource %s has a placeholder the test does not fill", n.Sid, r)
				}
				res = append(res, r)
			}
		}
		out = append(out, map[string]any{"Sid": n.Sid, "Effect": "Allow", "Action": acts, "Resource": res})
	}
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": out})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// motoUser makes an IAM user with one inline policy and returns its keys.
func motoUser(ctx context.Context, t *testing.T, client *iam.Client, name, policy string) aws.CredentialsProvider {
	t.Helper()
	if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatalf("create IAM user %s: %v", name, err)
	}
	if _, err := client.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String(name), PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatalf("put policy of %s: %v", name, err)
	}
	k, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatalf("create access key of %s: %v", name, err)
	}
	return credentials.NewStaticCredentialsProvider(aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey), "")
}

func accessDenied(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return strings.Contains(ae.ErrorCode(), "AccessDenied") || ae.ErrorCode() == "Forbidden"
	}
	var re interface{ HTTPStatusCode() int }
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusForbidden
}

// denied reports whether a log shows a call refused by IAM.
func denied(log string) bool {
	return strings.Contains(log, "AccessDenied") || strings.Contains(log, "StatusCode: 403")
}

// trimProxy stands between mediashare and moto. Armed, it answers every
// DynamoDB Streams GetShardIterator with TrimmedDataAccessException, as
// AWS does for records past the stream's 24-hour retention, until the
// catch-up rebuild's Scan of the events table goes through.
type trimProxy struct {
	armed   atomic.Bool
	trimmed atomic.Int32
	scans   atomic.Int32
	next    http.Handler
}

func (p *trimProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	if strings.HasSuffix(target, ".Scan") {
		p.scans.Add(1)
		p.armed.Store(false)
	}
	if p.armed.Load() && strings.HasSuffix(target, ".GetShardIterator") {
		p.trimmed.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"com.amazonaws.dynamodb.v20120810#TrimmedDataAccessException","message":"records trimmed (ops test)"}`)
		return
	}
	p.next.ServeHTTP(w, r)
}

func newTrimProxy(t *testing.T, endpoint string) (*trimProxy, string) {
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	p := &trimProxy{next: &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		r.Out.Host = r.In.Host // the host the request was signed for
	}}}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.URL
}

// lockedBuffer collects a process' output while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeUnderRolePolicyInMoto runs the real `mediashare serve
// --backend aws` on the stack moto made, under the credentials of an IAM
// user holding the instance role's policy, with moto's IAM enforcement
// on: upload, thumbnail, live, delete and purge, then the catch-up
// rebuild after trimmed stream records (it scans the events table). The
// same policy without dynamodb:Scan makes the rebuild fail with
// AccessDenied, and calls the policy does not allow are refused.
func TestServeUnderRolePolicyInMoto(t *testing.T) {
	endpoint := awstest.NewMoto(t) // its own server: enforcement is process-wide
	admin := awstest.Config(t, endpoint)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	name := awstest.Name("iam")
	outputs, _ := createStack(ctx, t, admin, name)
	db := dynamodb.NewFromConfig(admin)
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(outputs["EventsTableName"])})
	if err != nil {
		t.Fatal(err)
	}
	other := name + "-other"
	s3admin := s3.NewFromConfig(admin, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3admin.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(other)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3admin.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(other), Key: aws.String("x"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"AWS::Partition": "aws", "AWS::Region": awstest.Region, "AWS::AccountId": motoAccount,
		"EventsTable": outputs["EventsTableName"], "EntriesTable": outputs["EntriesTableName"], "LeaseTable": outputs["LeaseTableName"],
		"AuthTable": outputs["AuthTableName"], "KeysTable": outputs["KeysTableName"],
		"EventsTable.StreamArn": aws.ToString(desc.Table.LatestStreamArn), "MediaBucket": outputs["MediaBucketName"],
		"CookieSecret": outputs["CookieSecretArn"], "ReleaseBucket": name + "-releases", "ReleaseKey": "releases/mediashare-test-linux-arm64.tar.gz",
		"MetricsLogGroup": "/mediashare/" + name + "/prometheus", "MediaDistribution": "E2QWRUHEXAMPLE",
	}
	ic := iam.NewFromConfig(admin)
	web := motoUser(ctx, t, ic, "mediashare-web", motoPolicy(t, vars, ""))
	noScan := motoUser(ctx, t, ic, "mediashare-web-no-scan", motoPolicy(t, vars, "dynamodb:Scan"))
	root := motoUser(ctx, t, ic, "ops-admin", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)

	// From here on moto authorises every request against the caller's policies.
	resp, err := http.Post(endpoint+"/moto-api/reset-auth", "text/plain", strings.NewReader("0"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("moto reset-auth: %s", resp.Status)
	}
	withCreds := func(c aws.CredentialsProvider) aws.Config {
		cfg := admin.Copy()
		cfg.Credentials = aws.NewCredentialsCache(c)
		return cfg
	}
	rootDB := dynamodb.NewFromConfig(withCreds(root))

	// Enforcement is on: what the policy does not allow is refused.
	webDB := dynamodb.NewFromConfig(withCreds(web))
	if _, err := webDB.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(outputs["EntriesTableName"])}); !accessDenied(err) {
		t.Errorf("DeleteTable under the role's policy: %v; want AccessDenied", err)
	}
	webS3 := s3.NewFromConfig(withCreds(web), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := webS3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(other), Key: aws.String("x")}); !accessDenied(err) {
		t.Errorf("GetObject on another bucket under the role's policy: %v; want AccessDenied", err)
	}
	if _, err := dynamodb.NewFromConfig(admin).ListTables(ctx, &dynamodb.ListTablesInput{}); err == nil {
		t.Error("moto accepted moto's default test keys with enforcement on; the test proves nothing")
	}

	bc := awsbackend.Config{
		Bucket: outputs["MediaBucketName"], Table: outputs["EntriesTableName"], EventsTable: outputs["EventsTableName"],
		LeaseTable: outputs["LeaseTableName"], Region: awstest.Region, Endpoint: endpoint, PathStyle: true,
	}
	// The rebuild's calls without events-table Scan: refused, which is
	// what real AWS did to the role before it allowed Scan.
	{
		c := bc
		c.Credentials = noScan
		be, err := awsbackend.Open(ctx, c, nil)
		if err != nil {
			t.Fatalf("open the backend under the policy without Scan: %v", err)
		}
		lister, ok := be.Events.(events.StreamLister)
		if !ok {
			t.Fatal("the AWS event store lists no streams")
		}
		_, err = projections.CatchUp(ctx, lister, be.Events, be.View, be.Keys, 2)
		if !accessDenied(err) {
			t.Errorf("catch-up rebuild without dynamodb:Scan: %v; want AccessDenied", err)
		}
	}

	proxy, proxyURL := newTrimProxy(t, endpoint)
	bc.Endpoint = proxyURL
	key, _ := web.Retrieve(ctx)
	env := []string{"AWS_ACCESS_KEY_ID=" + key.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + key.SecretAccessKey}
	bin := buildMediashare(t)
	dir := t.TempDir()

	// First instance: upload, thumbnail, live, delete, purge.
	base, stop, log := startServe(t, bin, dir, bc, env)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	live := followLive(ctx, t, base)
	a := uploadPhoto(t, client, base, "iam flow one")
	thumb := waitCard(t, client, base, a, "ready")
	waitUntil(t, "the live stream carries the ready card", func() bool {
		return strings.Contains(live.String(), `data-eib="`+a+`"`) && strings.Contains(live.String(), `data-status="ready"`)
	})
	if code := get(t, client, base+thumb); code != http.StatusOK {
		t.Errorf("thumbnail %s: %d, want 200", thumb, code)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/entries/"+a+"/delete", nil)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d, want 303", resp.StatusCode)
	}
	waitUntil(t, "the deleted entry leaves the gallery and its thumbnail is purged", func() bool {
		_, inGallery := cards(t, client, base)[a]
		return !inGallery && get(t, client, base+thumb) == http.StatusNotFound
	})
	b := uploadPhoto(t, client, base, "iam flow two")
	waitCard(t, client, base, b, "ready")
	stop()
	if denied(log.String()) {
		t.Errorf("the first instance was refused a call:\n%s", log.String())
	}

	// The view loses b; the next instance is told the stream's records were
	// trimmed, and the catch-up rebuild scans the events table to bring b back.
	if _, err := rootDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(bc.Table), Key: map[string]types.AttributeValue{"eib": &types.AttributeValueMemberS{Value: b}},
	}); err != nil {
		t.Fatal(err)
	}
	proxy.armed.Store(true)
	base, stop, log = startServe(t, bin, dir, bc, env)
	defer stop()
	waitCard(t, client, base, b, "ready")
	waitUntil(t, "the instance logs the catch-up rebuild", func() bool {
		return strings.Contains(log.String(), "caught the entries view up with the event store")
	})
	if _, inGallery := cards(t, client, base)[a]; inGallery {
		t.Errorf("the rebuild brought back the deleted entry %s", a)
	}
	if proxy.trimmed.Load() == 0 || proxy.scans.Load() == 0 {
		t.Errorf("trimmed replies %d, scans %d; want both", proxy.trimmed.Load(), proxy.scans.Load())
	}
	if denied(log.String()) {
		t.Errorf("the second instance was refused a call:\n%s", log.String())
	}
	t.Logf("under the role's policy with moto's IAM enforcement: upload, thumbnail, live, delete, purge and a catch-up rebuild (%d trimmed replies, %d scans) passed", proxy.trimmed.Load(), proxy.scans.Load())
}

func buildMediashare(t *testing.T) string {
	t.Helper()
	bin := t.TempDir() + "/mediashare"
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/mediashare").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startServe starts `mediashare serve --backend aws` on bc with env added
// and waits for /readyz; stop interrupts it and waits (safe to call twice).
func startServe(t *testing.T, bin, dir string, bc awsbackend.Config, env []string) (base string, stop func(), log *lockedBuffer) {
	t.Helper()
	secret := dir + "/secret.key"
	if err := os.WriteFile(secret, []byte("ops test secret, 32 bytes long!!"), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve", "--uploads", "anyone", "--addr", addr, "--data", dir, "--secret-file", secret, "--backend", "aws",
		"--bucket", bc.Bucket, "--table", bc.Table, "--events-table", bc.EventsTable, "--lease-table", bc.LeaseTable,
		"--region", bc.Region, "--endpoint", bc.Endpoint, "--s3-path-style", "--lease-duration", "3s",
		// A delete goes to the trash and its period ends at once: the
		// sweeper's index read and the purge both run under the policy.
		"--trash-retention", "2s")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	log = &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cmd.Process.Signal(os.Interrupt)
			cmd.Wait()
			if t.Failed() {
				t.Logf("mediashare log:\n%s", log.String())
			}
		})
	}
	t.Cleanup(stop)
	base = "http://" + addr
	waitUntil(t, "mediashare answers /readyz under the role's policy", func() bool {
		return get(t, http.DefaultClient, base+"/readyz") == http.StatusOK
	})
	return base, stop, log
}

func get(t *testing.T, c *http.Client, u string) int {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// uploadPhoto uploads a real photograph and returns the new entry's eib.
func uploadPhoto(t *testing.T, c *http.Client, base, title string) string {
	t.Helper()
	before := cards(t, c, base)
	photo, err := os.ReadFile(repoPath("..", "shared", "photos", "Storm.jpg"))
	if err != nil {
		t.Fatalf("the test photos (../shared/photos): %v", err)
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	w.WriteField("title", title)
	w.WriteField("comment", "under the instance role's policy")
	fw, _ := w.CreateFormFile("file", "Storm.jpg")
	fw.Write(photo)
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/entries", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload %q: %d, want 303", title, resp.StatusCode)
	}
	var eib string
	waitUntil(t, "the upload appears in the gallery", func() bool {
		for e := range cards(t, c, base) {
			if _, old := before[e]; !old {
				eib = e
				return true
			}
		}
		return false
	})
	return eib
}

// cards returns the gallery's first page: eib → card.
func cards(t *testing.T, c *http.Client, base string) map[string]*goquery.Selection {
	t.Helper()
	resp, err := c.Get(base + "/")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		return nil
	}
	out := map[string]*goquery.Selection{}
	doc.Find(`[data-testid=card]`).Each(func(_ int, s *goquery.Selection) {
		out[s.AttrOr("data-eib", "")] = s
	})
	return out
}

// waitCard waits for eib's card to have status and returns its thumbnail's URL.
func waitCard(t *testing.T, c *http.Client, base, eib, status string) string {
	t.Helper()
	var thumb string
	waitUntil(t, "entry "+eib+" is "+status+" in the gallery", func() bool {
		card, ok := cards(t, c, base)[eib]
		if !ok || card.AttrOr("data-status", "") != status {
			return false
		}
		thumb = card.Find(`[data-testid=thumbnail]`).AttrOr("src", "")
		return true
	})
	return thumb
}

// followLive reads GET /live into a buffer until ctx ends.
func followLive(ctx context.Context, t *testing.T, base string) *lockedBuffer {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/live", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /live: %d", resp.StatusCode)
	}
	buf := &lockedBuffer{}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			buf.Write(append(sc.Bytes(), '\n'))
		}
	}()
	return buf
}
