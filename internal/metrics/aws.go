package metrics

import (
	"context"
	"errors"
	"strings"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// AWSAPIOptions returns SDK client options that count every AWS call and
// time it (retries included) by service, operation and outcome. Add them
// to aws.Config.APIOptions.
func (m *Metrics) AWSAPIOptions() []func(*middleware.Stack) error {
	return []func(*middleware.Stack) error{func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("mediashareMetrics",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				start := time.Now()
				out, md, err := next.HandleInitialize(ctx, in)
				service := strings.ToLower(strings.ReplaceAll(awsmiddleware.GetServiceID(ctx), " ", ""))
				op := awsmiddleware.GetOperationName(ctx)
				m.AWSCallDuration.WithLabelValues(service, op).Observe(time.Since(start).Seconds())
				m.AWSCalls.WithLabelValues(service, op, outcome(err)).Inc()
				return out, md, err
			}), middleware.Before)
	}}
}

// outcome classifies a call's result: ok, throttled, or error.
func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
			"LimitExceededException", "SlowDown", "TooManyRequestsException":
			return "throttled"
		}
	}
	return "error"
}
