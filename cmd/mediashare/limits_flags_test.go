package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

// The limit flags and their MEDIASHARE_* twins: defaults, good values,
// and every bad one refused at start-up naming the flag.
func TestLimitFlags(t *testing.T) {
	c, err := parseServe(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.UploadsPerMinute != 30 || c.UploadsPerClient != 4 || c.UploadsInFlight != 32 || c.LivePerClient != 8 || c.LiveMax != 2000 ||
		c.SpoolMaxBytes != 2<<30 || c.MinFreeBytes != 512<<20 || c.MinBodyRate != 4<<10 || c.BodyTimeout != 10*time.Minute ||
		c.WriteTimeout != 2*time.Minute || c.TrustedProxies != "" || c.SpoolDir != "" || c.PreviewDelay != 30*time.Second {
		t.Errorf("defaults: %+v", c)
	}
	c, err = parseServe(t, []string{"--uploads-per-minute", "0", "--spool-max-bytes", "0", "--min-body-rate", "1KiB"},
		map[string]string{"MEDIASHARE_TRUSTED_PROXIES": "10.0.0.0/16, 192.0.2.1", "MEDIASHARE_LIVE_MAX": "5", "MEDIASHARE_SPOOL_DIR": "/srv/spool"})
	if err != nil {
		t.Fatal(err)
	}
	if c.UploadsPerMinute != 0 || c.SpoolMaxBytes != 0 || c.MinBodyRate != 1024 || c.LiveMax != 5 || c.TrustedProxies != "10.0.0.0/16, 192.0.2.1" || c.SpoolDir != "/srv/spool" {
		t.Errorf("set: %+v", c)
	}
	for _, tt := range []struct {
		name, flag string
		args       []string
		env        map[string]string
	}{
		{"trusted proxies garbage", "trusted-proxies", []string{"--trusted-proxies", "10.0.0.0/8,the lb"}, nil},
		{"trusted proxies bad prefix", "trusted-proxies", nil, map[string]string{"MEDIASHARE_TRUSTED_PROXIES": "10.0.0.0/40"}},
		{"negative rate", "uploads-per-minute", []string{"--uploads-per-minute", "-1"}, nil},
		{"negative per client", "uploads-per-client", []string{"--uploads-per-client", "-3"}, nil},
		{"negative in flight", "uploads-in-flight", nil, map[string]string{"MEDIASHARE_UPLOADS_IN_FLIGHT": "-1"}},
		{"negative live per client", "live-per-client", []string{"--live-per-client", "-1"}, nil},
		{"live max not a number", "live-max", []string{"--live-max", "many"}, nil},
		{"spool cap garbage", "spool-max-bytes", []string{"--spool-max-bytes", "lots"}, nil},
		{"free space negative", "min-free-bytes", []string{"--min-free-bytes", "-5MiB"}, nil},
		{"body rate garbage", "min-body-rate", nil, map[string]string{"MEDIASHARE_MIN_BODY_RATE": "fast"}},
		{"body timeout zero", "body-timeout", []string{"--body-timeout", "0s"}, nil},
		{"write timeout negative", "write-timeout", []string{"--write-timeout", "-1s"}, nil},
		{"preview delay zero", "preview-delay", []string{"--preview-delay", "0s"}, nil},
		{"preview delay negative", "preview-delay", nil, map[string]string{"MEDIASHARE_PREVIEW_DELAY": "-5s"}},
		{"preview delay garbage", "preview-delay", []string{"--preview-delay", "soon"}, nil},
		{"preview poll zero", "preview-poll", []string{"--preview-poll", "0s"}, nil},
		{"preview poll negative", "preview-poll", nil, map[string]string{"MEDIASHARE_PREVIEW_POLL": "-1s"}},
		{"preview poll garbage", "preview-poll", []string{"--preview-poll", "often"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseServe(t, tt.args, tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.flag) {
				t.Fatalf("got %v, want an error naming --%s", err, tt.flag)
			}
		})
	}
}

// parseServe parses serve's flags (with env's MEDIASHARE_* variables set
// for the test) and validates them, as start-up does.
func parseServe(t *testing.T, args []string, env map[string]string) (config, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	var c config
	fs := newFlagSet("serve", &c)
	fs.SetOutput(io.Discard)
	err := parse(fs, args)
	if err == nil {
		err = c.validate()
	}
	return c, err
}
