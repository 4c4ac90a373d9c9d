package people

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"mediashare/internal/apperr"
	"mediashare/internal/limits"
)

func TestFailures(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	f := &Failures{PerAccount: 3, PerClient: 5, Window: 10 * time.Minute, Now: func() time.Time { return now }}
	for i := 1; i <= 2; i++ {
		if err := f.Fail("alice", "ip:a"); err != nil {
			t.Fatalf("failure %d refused: %v", i, err)
		}
	}
	err := f.Fail("alice", "ip:b") // the third for the name, from elsewhere
	var r *limits.Refusal
	if apperr.CodeOf(err) != apperr.TooMany || !errors.As(err, &r) || r.RetryAfter != 10*time.Minute {
		t.Fatalf("the third failure: %v (refusal %+v), want 429 with Retry-After 10m", err, r)
	}
	if err := f.Check("alice", "ip:c"); err == nil {
		t.Error("the name is not held after its limit")
	}
	if err := f.Check("bob", "ip:a"); err != nil {
		t.Errorf("another name from the same client is held: %v", err)
	}
	// Per client: five failures over many names.
	for i := 0; i < 5; i++ {
		f.Fail(fmt.Sprintf("n%d", i), "ip:z")
	}
	if err := f.Check("fresh", "ip:z"); apperr.CodeOf(err) != apperr.TooMany {
		t.Errorf("a client past its limit: %v", err)
	}
	// The window ends: both go free.
	now = now.Add(10*time.Minute + time.Second)
	if err := f.Check("alice", "ip:z"); err != nil {
		t.Errorf("after the window: %v", err)
	}
	// A success forgets the name's failures.
	f.Fail("carol", "ip:q")
	f.Fail("carol", "ip:q")
	f.Succeed("carol")
	if err := f.Fail("carol", "ip:q"); err != nil {
		t.Errorf("failures counted across a success: %v", err)
	}
	// A nil Failures limits nothing.
	var none *Failures
	if none.Check("x", "y") != nil || none.Fail("x", "y") != nil {
		t.Error("a nil Failures refused")
	}
}

func TestFailuresStayBounded(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	f := &Failures{PerAccount: 3, PerClient: 3, MaxKeys: 100, Now: func() time.Time { return now }}
	for i := 0; i < 1000; i++ {
		now = now.Add(time.Millisecond)
		f.Fail(fmt.Sprintf("name-%d", i), fmt.Sprintf("ip:%d", i))
	}
	if n := len(f.counts); n > 101 {
		t.Errorf("%d keys remembered, want at most about 100", n)
	}
}

// A flood of new names from new clients (one failure each) does not
// evict the count of a name someone keeps guessing at: the victim's name
// still locks at its limit.
func TestFailuresSurviveAFlood(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	f := &Failures{PerAccount: 5, PerClient: 50, Window: 10 * time.Minute, MaxKeys: 20, Now: func() time.Time { return now }}
	for i := 0; i < 3; i++ {
		if err := f.Fail("victim", fmt.Sprintf("ip:guesser-%d", i)); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second)
	}
	for i := 0; i < 500; i++ {
		f.Fail(fmt.Sprintf("flood-%d", i), fmt.Sprintf("ip:flood-%d", i))
		now = now.Add(time.Millisecond)
	}
	f.Fail("victim", "ip:guesser-3")
	if err := f.Fail("victim", "ip:guesser-4"); apperr.CodeOf(err) != apperr.TooMany {
		t.Errorf("the fifth failure for the name after a flood of 500 names: %v, want 429 (its count survived)", err)
	}
	if len(f.counts) > 20 {
		t.Errorf("%d counts kept, want at most MaxKeys (20)", len(f.counts))
	}
}
