package foreground_test

import (
	"context"
	"testing"
	"time"

	"mediashare/internal/foreground"
)

func TestNilTrackerCountsNothing(t *testing.T) {
	var fg *foreground.Tracker
	fg.Upload(1 << 40)()
	fg.Begin()()
	if fg.Heavy() || fg.InFlight() != 0 || fg.WaitLight(context.Background(), time.Hour) != 0 {
		t.Fatal("a nil Tracker is heavy, counts or waits")
	}
	if idle, err := fg.WaitIdle(context.Background(), time.Hour, time.Now().Add(time.Hour)); !idle || err != nil {
		t.Fatalf("a nil Tracker is not idle: %v %v", idle, err)
	}
}

// Thumbnails' question: heavy only with BusyBytes of uploads in progress,
// and a wait for it bounded by its limit, ctx, or the uploads' end.
func TestWaitLight(t *testing.T) {
	fg := &foreground.Tracker{}
	start := time.Now()
	if fg.WaitLight(context.Background(), time.Hour); time.Since(start) > 5*time.Second {
		t.Fatal("a light Wait waited")
	}
	done := fg.Upload(foreground.DefaultBusyBytes)
	if !fg.Heavy() {
		t.Fatal("not heavy with DefaultBusyBytes arriving")
	}
	if d := fg.WaitLight(context.Background(), 20*time.Millisecond); d < 20*time.Millisecond {
		t.Errorf("a heavy Wait returned after %v, before its 20ms", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fg.WaitLight(ctx, time.Hour) // returns: ctx is done
	waited := make(chan time.Duration)
	go func() { waited <- fg.WaitLight(context.Background(), time.Hour) }()
	time.Sleep(10 * time.Millisecond)
	done()
	done() // twice is once
	select {
	case <-waited:
	case <-time.After(20 * time.Second):
		t.Fatal("WaitLight did not return when the upload ended")
	}
	if fg.Heavy() || fg.InFlight() != 0 {
		t.Errorf("after the upload ended: heavy %v, in flight %d", fg.Heavy(), fg.InFlight())
	}
	// Small uploads never make it heavy, however many; each is in flight.
	var ends []func()
	for range 20 {
		ends = append(ends, fg.Upload(1<<20))
	}
	if fg.Heavy() || fg.InFlight() != 20 {
		t.Errorf("20 uploads of 1 MiB: heavy %v, in flight %d", fg.Heavy(), fg.InFlight())
	}
	for _, e := range ends {
		e()
	}
	// BusyBytes sets the bar.
	small := &foreground.Tracker{BusyBytes: 1 << 10}
	defer small.Upload(1 << 10)()
	if !small.Heavy() {
		t.Error("not heavy at its own BusyBytes")
	}
}

// Previews' question: idle once nothing (upload or other work) has been
// in flight for quiet, and never held past until.
func TestWaitIdle(t *testing.T) {
	ctx := context.Background()
	fg := &foreground.Tracker{}
	if idle, _ := fg.WaitIdle(ctx, 10*time.Millisecond, time.Now().Add(time.Hour)); !idle {
		t.Fatal("not idle with nothing ever in flight")
	}
	for name, begin := range map[string]func() func(){
		"an upload":         func() func() { return fg.Upload(1) },
		"a thumbnail batch": fg.Begin,
	} {
		end := begin()
		if idle, err := fg.WaitIdle(ctx, 10*time.Millisecond, time.Now().Add(50*time.Millisecond)); idle || err != nil {
			t.Errorf("idle (%v, %v) with %s in flight", idle, err, name)
		}
		go func() { time.Sleep(30 * time.Millisecond); end() }()
		start := time.Now()
		idle, err := fg.WaitIdle(ctx, 100*time.Millisecond, time.Now().Add(time.Minute))
		if !idle || err != nil {
			t.Fatalf("not idle (%v) after %s ended", err, name)
		}
		// It waited for the end and then the quiet moment after it.
		if d := time.Since(start); d < 130*time.Millisecond {
			t.Errorf("idle %v after %s began to end, want at least its 30ms and the 100ms quiet", d, name)
		}
	}
	defer fg.Begin()()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := fg.WaitIdle(cctx, time.Hour, time.Now().Add(time.Hour)); err == nil {
		t.Error("WaitIdle with a cancelled context returned no error")
	}
}
