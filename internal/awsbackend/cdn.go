package awsbackend

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// distributionID is what a CloudFront distribution id looks like.
var distributionID = regexp.MustCompile(`^[A-Z0-9]{1,64}$`)

// CDN tells a CloudFront distribution in front of the bucket to forget
// objects: an erased entry's original and renditions, which its edges may
// still hold.
type CDN struct {
	client       *cloudfront.Client
	distribution string
	prefix       string
	timeout      time.Duration
}

// Invalidate asks the distribution to drop keys (blob keys, under the
// bucket's prefix). The caller reference is a hash of the paths, so a
// retry of the same erasure makes no second invalidation.
func (c *CDN) Invalidate(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	paths := make([]string, len(keys))
	for i, k := range keys {
		paths[i] = "/" + c.prefix + k
	}
	sum := sha256.Sum256([]byte(strings.Join(paths, "\n")))
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	_, err := c.client.CreateInvalidation(ctx, &cloudfront.CreateInvalidationInput{
		DistributionId: aws.String(c.distribution),
		InvalidationBatch: &types.InvalidationBatch{
			CallerReference: aws.String("mediashare-" + hex.EncodeToString(sum[:16])),
			Paths:           &types.Paths{Quantity: aws.Int32(int32(len(paths))), Items: paths},
		},
	})
	if err != nil {
		return fmt.Errorf("awsbackend: invalidate %d paths in CloudFront distribution %s: %w", len(paths), c.distribution, err)
	}
	return nil
}
