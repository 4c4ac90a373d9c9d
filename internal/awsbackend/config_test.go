package awsbackend_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"mediashare/internal/awsbackend"
)

func TestValidate(t *testing.T) {
	good := awsbackend.Config{Bucket: "media-bucket", Table: "entries", EventsTable: "events", Region: "eu-west-1"}
	tests := []struct {
		name string
		edit func(*awsbackend.Config)
		want []string // substrings of the error; none for a valid config
	}{
		{"valid", func(*awsbackend.Config) {}, nil},
		{"valid with endpoint", func(c *awsbackend.Config) { c.Endpoint = "http://127.0.0.1:5000" }, nil},
		{"nothing set", func(c *awsbackend.Config) { *c = awsbackend.Config{} },
			[]string{"--bucket is required", "--table is required", "--events-table is required", "--region is required"}},
		{"bad bucket", func(c *awsbackend.Config) { c.Bucket = "Bad_Bucket" }, []string{`--bucket "Bad_Bucket"`}},
		{"same tables", func(c *awsbackend.Config) { c.Table = "events" }, []string{"--table and --events-table must differ"}},
		{"lease table clash", func(c *awsbackend.Config) { c.LeaseTable = "entries" }, []string{"--lease-table"}},
		{"bad endpoint", func(c *awsbackend.Config) { c.Endpoint = "localhost:5000" }, []string{"--endpoint"}},
		{"bad region", func(c *awsbackend.Config) { c.Region = "Ireland" }, []string{"--region"}},
		{"escaping prefix", func(c *awsbackend.Config) { c.Prefix = "../x" }, []string{"--prefix"}},
		{"trusted proxies", func(c *awsbackend.Config) { c.TrustedProxies = "10.40.0.0/20, 10.40.16.0/20,fd00::/8" }, nil},
		{"trusted proxy not a CIDR", func(c *awsbackend.Config) { c.TrustedProxies = "10.40.0.0/20,10.40.16.1" }, []string{"--trusted-proxies", `"10.40.16.1" is not a CIDR`}},
		{"trusted proxy empty item", func(c *awsbackend.Config) { c.TrustedProxies = "10.40.0.0/20,,10.40.16.0/20" }, []string{`"" is not a CIDR`}},
		{"trusted proxy hostile", func(c *awsbackend.Config) { c.TrustedProxies = "0.0.0.0/0\n127.0.0.1/32" }, []string{"--trusted-proxies", "is not a CIDR"}},
		{"trusted proxy host bits", func(c *awsbackend.Config) { c.TrustedProxies = "10.40.0.7/20" }, []string{"host bits set; write 10.40.0.0/20"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.edit(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Errorf("Validate: got %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: got nil, want an error naming %v", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate: got %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

// fakeIMDS answers like the EC2 instance metadata service with IMDSv2:
// a token from PUT /latest/api/token, required on every GET.
func fakeIMDS(t *testing.T, userData string) *imds.Client {
	t.Helper()
	const token = "tok-123"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
			if r.Header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds") == "" {
				http.Error(w, "no ttl", http.StatusBadRequest)
				return
			}
			w.Header().Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", "21600")
			w.Write([]byte(token))
		case r.Header.Get("X-Aws-Ec2-Metadata-Token") != token:
			http.Error(w, "IMDSv2 token required", http.StatusUnauthorized)
		case r.URL.Path == "/latest/user-data":
			w.Write([]byte(userData))
		case r.URL.Path == "/latest/dynamic/instance-identity/document":
			w.Write([]byte(`{"region": "eu-central-1", "instanceId": "i-0123"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return imds.New(imds.Options{Endpoint: srv.URL})
}

func TestConfigFromUserData(t *testing.T) {
	tests := []struct {
		name     string
		userData string
		want     awsbackend.Config
		wantErr  string
	}{
		{
			name:     "all fields",
			userData: `{"bucket": "media-b", "table": "entries", "events_table": "events", "region": "us-west-2"}`,
			want:     awsbackend.Config{Bucket: "media-b", Table: "entries", EventsTable: "events", Region: "us-west-2"},
		},
		{
			name:     "region from the instance",
			userData: `{"bucket": "media-b", "table": "entries", "events_table": "events", "lease_table": "l"}`,
			want:     awsbackend.Config{Bucket: "media-b", Table: "entries", EventsTable: "events", LeaseTable: "l", Region: "eu-central-1"},
		},
		{
			name:     "trusted proxies",
			userData: `{"bucket": "media-b", "table": "entries", "events_table": "events", "region": "us-west-2", "trusted_proxies": "10.40.0.0/20,10.40.16.0/20"}`,
			want:     awsbackend.Config{Bucket: "media-b", Table: "entries", EventsTable: "events", Region: "us-west-2", TrustedProxies: "10.40.0.0/20,10.40.16.0/20"},
		},
		{name: "trusted proxies not a string", userData: `{"bucket": "media-b", "trusted_proxies": ["10.40.0.0/20"]}`, wantErr: "not the expected JSON"},
		{name: "not JSON", userData: "#!/bin/bash\necho hi", wantErr: "not the expected JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := awsbackend.ConfigFromUserData(context.Background(), fakeIMDS(t, tt.userData))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
