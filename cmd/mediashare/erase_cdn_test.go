package main

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"mediashare/internal/awstest"
)

// With a CloudFront distribution in front of the bucket (moto's), an
// erasure invalidates the entry's original and renditions there, once;
// a bad distribution id is refused at start naming its flag.
func TestEraseInvalidatesTheCDN(t *testing.T) {
	var cf *cloudfront.Client
	var dist string
	s := startSite(t, func(c *config) {
		awsConfig(t, c)
		cf = cloudfront.NewFromConfig(awstest.Config(t, c.AWS.Endpoint))
		out, err := cf.CreateDistribution(context.Background(), &cloudfront.CreateDistributionInput{DistributionConfig: &cftypes.DistributionConfig{
			CallerReference: aws.String(awstest.Name("dist")), Comment: aws.String("mediashare test"), Enabled: aws.Bool(true),
			Origins: &cftypes.Origins{Quantity: aws.Int32(1), Items: []cftypes.Origin{{
				Id: aws.String("media"), DomainName: aws.String(c.AWS.Bucket + ".s3.amazonaws.com"),
				S3OriginConfig: &cftypes.S3OriginConfig{OriginAccessIdentity: aws.String("")},
			}}},
			DefaultCacheBehavior: &cftypes.DefaultCacheBehavior{TargetOriginId: aws.String("media"),
				ViewerProtocolPolicy: cftypes.ViewerProtocolPolicyRedirectToHttps,
				CachePolicyId:        aws.String("658327ea-f89d-4fab-a63d-7e88639e58f6")}, // the managed CachingOptimized
		}})
		if err != nil {
			t.Fatalf("create a distribution in moto: %v", err)
		}
		dist = aws.ToString(out.Distribution.Id)
		c.AWS.CDNDistributionID = dist
	})
	alice := browser(t)
	p := newPersonal(t)
	eib := uploadPersonal(t, s, alice, p)
	var keys []string
	for _, k := range s.mediaFiles() {
		if strings.Contains(k, eib) {
			keys = append(keys, "/"+k)
		}
	}
	resp := s.postForm(alice, "/entries/"+eib+"/erase", url.Values{"reason": {"gone"}})
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("erase: %d", resp.StatusCode)
	}
	var paths []string
	waitFor(t, "the invalidation", func() bool {
		list, err := cf.ListInvalidations(context.Background(), &cloudfront.ListInvalidationsInput{DistributionId: aws.String(dist)})
		if err != nil || list.InvalidationList == nil || len(list.InvalidationList.Items) == 0 {
			return false
		}
		if n := len(list.InvalidationList.Items); n != 1 {
			t.Errorf("%d invalidations, want 1", n)
		}
		inv, err := cf.GetInvalidation(context.Background(), &cloudfront.GetInvalidationInput{DistributionId: aws.String(dist), Id: list.InvalidationList.Items[0].Id})
		if err != nil {
			t.Fatal(err)
		}
		paths = inv.Invalidation.InvalidationBatch.Paths.Items
		return true
	})
	slices.Sort(paths)
	slices.Sort(keys)
	if len(keys) < 2 || !slices.Equal(paths, keys) {
		t.Errorf("invalidated %v, want the entry's objects %v", paths, keys)
	}

	c := defaultConfig(t)
	awsConfig(t, &c)
	c.AWS.CDNDistributionID = "not an id"
	if err := c.validate(); err == nil || !strings.Contains(err.Error(), "--cdn-distribution-id") {
		t.Errorf("a bad distribution id: %v", err)
	}
	c = defaultConfig(t)
	c.AWS.CDNDistributionID = "E2QWRUHEXAMPLE"
	if err := c.validate(); err == nil || !strings.Contains(err.Error(), "--cdn-distribution-id") {
		t.Errorf("a distribution id on the embedded backend: %v", err)
	}
}
