package main

import (
	"io"
	"strings"
	"testing"
)

// --feed-max-attempts and its MEDIASHARE_FEED_MAX_ATTEMPTS twin: the
// default, good values, and every bad one refused at start-up naming the flag.
func TestFeedMaxAttemptsFlag(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     string
		want    int
		wantErr bool
	}{
		{"default", nil, "", 3, false},
		{"flag", []string{"--feed-max-attempts", "5"}, "", 5, false},
		{"environment", nil, "7", 7, false},
		{"flag wins over the environment", []string{"--feed-max-attempts", "2"}, "9", 2, false},
		{"zero", []string{"--feed-max-attempts", "0"}, "", 0, true},
		{"negative", []string{"--feed-max-attempts", "-1"}, "", 0, true},
		{"too many", []string{"--feed-max-attempts", "101"}, "", 0, true},
		{"not a number", []string{"--feed-max-attempts", "three"}, "", 0, true},
		{"not a number in the environment", nil, "3\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv("MEDIASHARE_FEED_MAX_ATTEMPTS", tt.env)
			}
			var c config
			fs := newFlagSet("serve", &c)
			fs.SetOutput(io.Discard)
			err := parse(fs, tt.args)
			if err == nil {
				err = c.validate()
			}
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "feed-max-attempts") {
					t.Fatalf("got %v, want an error naming --feed-max-attempts", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if c.MaxAttempts != tt.want {
				t.Errorf("MaxAttempts: got %d, want %d", c.MaxAttempts, tt.want)
			}
		})
	}
}
