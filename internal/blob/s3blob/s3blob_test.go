package s3blob_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"mediashare/internal/awstest"
	"mediashare/internal/blob"
	"mediashare/internal/blob/blobtest"
	"mediashare/internal/blob/s3blob"
)

func TestMain(m *testing.M) {
	code := m.Run()
	awstest.Stop()
	os.Exit(code)
}

// newStore makes a bucket on moto and a store on it under a prefix.
func newStore(t *testing.T) (*s3blob.Store, *s3.Client, string) {
	t.Helper()
	client := s3.NewFromConfig(awstest.Config(t, awstest.Moto(t)), func(o *s3.Options) { o.UsePathStyle = true })
	bucket := awstest.Name("media")
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket %s: %v", bucket, err)
	}
	s := s3blob.New(client, bucket, "media")
	s.PartSize = 5 << 20
	return s, client, bucket
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, _, _ := newStore(t)
		return s
	})
}

// Every object carries its content type and cache policy, under the prefix.
func TestObjectMetadata(t *testing.T) {
	s, client, bucket := newStore(t)
	ctx := context.Background()
	if _, err := s.Put(ctx, "a/b.png", strings.NewReader("png"), "image/png"); err != nil {
		t.Fatal(err)
	}
	out, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("media/a/b.png")})
	if err != nil {
		t.Fatalf("the object is not under the prefix: %v", err)
	}
	if got := aws.ToString(out.ContentType); got != "image/png" {
		t.Errorf("Content-Type: got %q, want image/png", got)
	}
	if got := aws.ToString(out.CacheControl); got != s3blob.DefaultCacheControl {
		t.Errorf("Cache-Control: got %q, want %q", got, s3blob.DefaultCacheControl)
	}
}

// http.ServeContent answers a range request from the lazily read object.
func TestServeContentRange(t *testing.T) {
	s, _, _ := newStore(t)
	data := strings.Repeat("0123456789", 1000)
	if _, err := s.Put(context.Background(), "r.bin", strings.NewReader(data), "application/octet-stream"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o, err := s.Open(r.Context(), "r.bin")
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer o.Close()
		w.Header().Set("ETag", o.Info().ETag)
		http.ServeContent(w, r, "", o.Info().ModTime, o)
	}))
	defer srv.Close()
	tests := []struct {
		name, rng, want string
		status          int
	}{
		{"middle", "bytes=5000-5009", data[5000:5010], http.StatusPartialContent},
		{"suffix", "bytes=-4", data[len(data)-4:], http.StatusPartialContent},
		{"whole", "", data, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL, nil)
			if tt.rng != "" {
				req.Header.Set("Range", tt.rng)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || string(b) != tt.want {
				t.Errorf("got %d %q…, want %d %q…", resp.StatusCode, first(b), tt.status, first([]byte(tt.want)))
			}
		})
	}
}

func first(b []byte) string {
	if len(b) > 20 {
		return string(b[:20])
	}
	return string(b)
}
