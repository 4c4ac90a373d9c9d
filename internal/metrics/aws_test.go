package metrics

import (
	"errors"
	"testing"

	"github.com/aws/smithy-go"
)

func TestOutcome(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"success", nil, "ok"},
		{"throttled", &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException"}, "throttled"},
		{"streams limit", &smithy.GenericAPIError{Code: "LimitExceededException"}, "throttled"},
		{"conditional check", &smithy.GenericAPIError{Code: "ConditionalCheckFailedException"}, "error"},
		{"network", errors.New("connection refused"), "error"},
	}
	for _, tt := range tests {
		if got := outcome(tt.err); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}
