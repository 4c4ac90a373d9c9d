package ops_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"mediashare/internal/awsbackend"
	"mediashare/internal/awstest"
	"mediashare/internal/events"
)

// motoParameters are the stack's parameters for the moto run. MediaAccess
// is public-read because moto's CloudFormation cannot make CloudFront
// distributions or origin access controls; the cloudfront branch is
// checked by cfn-lint and TestPolicyFilesMatchTemplate only.
func motoParameters(name string) []cftypes.Parameter {
	p := func(k, v string) cftypes.Parameter {
		return cftypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)}
	}
	return []cftypes.Parameter{
		p("S3BucketName", name+"-media"),
		p("DynamoDBTableName", name),
		p("MediaAccess", "public-read"),
		p("ReleaseBucket", name+"-releases"),
		p("ReleaseKey", "releases/mediashare-test-linux-arm64.tar.gz"),
		p("KeyName", "ops-test"),
		p("SshIngressCidr", "192.0.2.0/24"),
	}
}

// motoCreated are the resources moto's CloudFormation really creates for
// the template. Moto cannot make (and silently skips) AWS::S3::BucketPolicy,
// AWS::SecretsManager::Secret and AWS::AutoScaling::ScalingPolicy, and
// reports no physical id for AWS::EC2::SecurityGroupIngress; the
// CloudFront resources and the HTTPS listener are left out by conditions.
var motoCreated = []string{
	"Vpc", "InternetGateway", "GatewayAttachment", "SubnetA", "SubnetB", "RouteTable", "DefaultRoute",
	"SubnetARoutes", "SubnetBRoutes", "S3Endpoint", "DynamoDBEndpoint", "LoadBalancerSecurityGroup",
	"WebSecurityGroup", "MediaBucket", "EventsTable", "EntriesTable", "LeaseTable", "AuthTable", "KeysTable",
	"MetricsLogGroup", "WebRole", "MaintenancePolicy", "WebInstanceProfile", "WebLaunchTemplate", "LoadBalancer",
	"WebTargetGroup", "HttpListener", "WebGroup",
}

// TestStackInMoto creates the stack in a moto server, checks what it
// made, then opens the AWS backend on the stack's bucket and tables:
// Setup's layout checks must pass on them, and an event and a blob make
// the round trip.
func TestStackInMoto(t *testing.T) {
	endpoint := awstest.Moto(t)
	cfg := awstest.Config(t, endpoint)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	name := awstest.Name("ops")
	outputs, physical := createStack(ctx, t, cfg, name)
	if !strings.HasPrefix(outputs["URL"], "http://") || !strings.Contains(outputs["MediaURL"], name+"-media") {
		t.Errorf("outputs URL %q, MediaURL %q", outputs["URL"], outputs["MediaURL"])
	}
	for _, id := range motoCreated {
		if physical[id] == "" {
			t.Errorf("moto made no %s", id)
		}
	}

	// The Auto Scaling group: two subnets, ELB health checks, a grace
	// period, the target group, the launch template.
	as := autoscaling.NewFromConfig(cfg)
	groups, err := as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{outputs["AutoScalingGroupName"]}})
	if err != nil || len(groups.AutoScalingGroups) != 1 {
		t.Fatalf("describe auto scaling group %q: %v", outputs["AutoScalingGroupName"], err)
	}
	g := groups.AutoScalingGroups[0]
	if aws.ToString(g.HealthCheckType) != "ELB" || aws.ToInt32(g.HealthCheckGracePeriod) <= 0 {
		t.Errorf("group health check %s, grace %d; want ELB with a grace period", aws.ToString(g.HealthCheckType), aws.ToInt32(g.HealthCheckGracePeriod))
	}
	if n := len(strings.Split(aws.ToString(g.VPCZoneIdentifier), ",")); n != 2 {
		t.Errorf("group spans %d subnets (%s); want 2", n, aws.ToString(g.VPCZoneIdentifier))
	}
	if len(g.TargetGroupARNs) != 1 || g.LaunchTemplate == nil {
		t.Errorf("group target groups %v, launch template %v", g.TargetGroupARNs, g.LaunchTemplate)
	}
	if aws.ToInt32(g.MinSize) < 2 {
		t.Errorf("group min size %d; want at least 2", aws.ToInt32(g.MinSize))
	}

	// The backend on the stack's resources, configured as the user data
	// would configure it.
	bc := awsbackend.Config{
		Bucket: outputs["MediaBucketName"], Table: outputs["EntriesTableName"], EventsTable: outputs["EventsTableName"],
		LeaseTable: outputs["LeaseTableName"], Region: awstest.Region, Endpoint: endpoint, PathStyle: true,
		Credentials: awstest.Credentials,
	}
	// Setup only checks what exists: keys, indexes, Streams NEW_IMAGE,
	// point-in-time recovery and TTL must be what the code expects.
	if err := awsbackend.Setup(ctx, bc); err != nil {
		t.Fatalf("awsbackend.Setup on the stack's tables (the template's layout differs from the code's): %v", err)
	}
	be, err := awsbackend.Open(ctx, bc, nil)
	if err != nil {
		t.Fatalf("awsbackend.Open on the stack's resources: %v", err)
	}
	payload := []byte("\x89PNG not really")
	if _, err := be.Blobs.Put(ctx, "ops-test/original.png", bytes.NewReader(payload), "image/png"); err != nil {
		t.Fatalf("put blob: %v", err)
	}
	obj, err := be.Blobs.Open(ctx, "ops-test/original.png")
	if err != nil {
		t.Fatalf("open blob: %v", err)
	}
	got, _ := io.ReadAll(obj)
	obj.Close()
	if !bytes.Equal(got, payload) {
		t.Errorf("blob round trip: got %q, want %q", got, payload)
	}
	e, err := events.New("ops-test-1", events.MediaDeleted, "ops-test-stream", time.Now(), events.SystemActor, map[string]string{"reason": "ops test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := be.Events.Append(ctx, "ops-test-stream", 0, e); err != nil {
		t.Fatalf("append event: %v", err)
	}
	loaded, err := be.Events.Load(ctx, "ops-test-stream")
	if err != nil || len(loaded) != 1 || loaded[0].ID != "ops-test-1" {
		t.Errorf("load events: %v, %+v", err, loaded)
	}

	serveOnStack(t, bc)
}

// createStack creates the stack in moto with motoParameters and waits for
// it; it returns the stack's outputs and its resources' physical ids.
func createStack(ctx context.Context, t *testing.T, cfg aws.Config, name string) (outputs, physical map[string]string) {
	t.Helper()
	body, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	cf := cloudformation.NewFromConfig(cfg)
	if _, err := cf.CreateStack(ctx, &cloudformation.CreateStackInput{
		StackName:    aws.String(name),
		TemplateBody: aws.String(string(body)),
		Parameters:   motoParameters(name),
		Capabilities: []cftypes.Capability{cftypes.CapabilityCapabilityIam},
	}); err != nil {
		t.Fatalf("create stack: %v", err)
	}
	var stack cftypes.Stack
	for {
		out, err := cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
		if err != nil {
			t.Fatalf("describe stack: %v", err)
		}
		stack = out.Stacks[0]
		if !strings.HasSuffix(string(stack.StackStatus), "_IN_PROGRESS") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if stack.StackStatus != cftypes.StackStatusCreateComplete {
		t.Fatalf("stack %s: %s (%s)", name, stack.StackStatus, aws.ToString(stack.StackStatusReason))
	}
	outputs = map[string]string{}
	for _, o := range stack.Outputs {
		outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	res, err := cf.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	physical = map[string]string{}
	for _, r := range res.StackResources {
		physical[aws.ToString(r.LogicalResourceId)] = aws.ToString(r.PhysicalResourceId)
	}
	return outputs, physical
}

// serveOnStack runs the real `mediashare serve --backend aws` on the
// stack's bucket and tables, as an instance of the group would, and
// uploads a picture through it until its thumbnail is ready.
func serveOnStack(t *testing.T, bc awsbackend.Config) {
	dir := t.TempDir()
	bin := dir + "/mediashare"
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/mediashare").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
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
	cmd := exec.Command(bin, "serve", "--uploads", "anyone", "--addr", addr, "--data", dir+"/data", "--secret-file", secret, "--backend", "aws",
		"--bucket", bc.Bucket, "--table", bc.Table, "--events-table", bc.EventsTable, "--lease-table", bc.LeaseTable,
		"--region", bc.Region, "--endpoint", bc.Endpoint, "--s3-path-style")
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if t.Failed() {
			t.Logf("mediashare log:\n%s", log.String())
		}
	}()
	base := "http://" + addr
	waitUntil(t, "mediashare on the stack answers /readyz", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	w.WriteField("title", "on the stack")
	w.WriteField("comment", "made by CloudFormation in moto")
	fw, _ := w.CreateFormFile("file", "dot.png")
	img := image.NewNRGBA(image.Rect(0, 0, 8, 8))
	png.Encode(fw, img)
	w.Close()
	req, _ := http.NewRequest("POST", base+"/entries", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d, want 303", resp.StatusCode)
	}
	waitUntil(t, "the entry is ready in the gallery", func() bool {
		resp, err := http.Get(base + "/")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		page, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(page), `data-status="ready"`) && strings.Contains(string(page), "on the stack")
	})
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
