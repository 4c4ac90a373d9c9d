package limits

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestKeyedBucketPerClient(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	k := &Keyed{PerHour: 6, Burst: 3, MaxClients: 2, Message: "Too many reports.", now: func() time.Time { return now }}
	for i := range 3 {
		if err := k.Allow("a"); err != nil {
			t.Fatalf("report %d: %v", i, err)
		}
	}
	var r *Refusal
	if err := k.Allow("a"); !errors.As(err, &r) || r.Status != 429 || r.RetryAfter <= 0 || r.Message != "Too many reports." || r.Reason != ReasonReportRate {
		t.Fatalf("the fourth in a burst: %v", err)
	}
	if err := k.Allow("b"); err != nil {
		t.Errorf("another client was refused: %v", err)
	}
	now = now.Add(10 * time.Minute) // one token an ten minutes
	if err := k.Allow("a"); err != nil {
		t.Errorf("after ten minutes: %v", err)
	}
	for i := range 5 {
		k.Allow(fmt.Sprintf("c%d", i))
	}
	if n := len(k.buckets); n > 2 {
		t.Errorf("%d buckets kept, want at most 2", n)
	}
	var off *Keyed
	if err := off.Allow("x"); err != nil {
		t.Error(err)
	}
}
