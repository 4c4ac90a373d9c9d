package thumbnail

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"mediashare/internal/apperr"
	"mediashare/internal/media"
	"mediashare/internal/media/mediatest"
)

func TestAdmission(t *testing.T) {
	ctx := context.Background()
	short := func() context.Context {
		c, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		t.Cleanup(cancel)
		return c
	}
	l := NewBudget(3, 1000)
	a, err := l.admit(ctx, 600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.admit(short(), 600); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("600 more of 1000: got %v, want to wait", err)
	}
	if len(l.slots) != 1 {
		t.Fatalf("a refused admission kept its slot: %d slots taken", len(l.slots))
	}
	b, err := l.admit(ctx, 400)
	if err != nil {
		t.Fatalf("400 beside 600: %v", err)
	}
	// Growing gives back what it held first: a grows to 1000 once b is gone.
	go func() { time.Sleep(20 * time.Millisecond); b.release() }()
	if err := a.reserve(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	if err := a.reserve(ctx, 1001); apperr.CodeOf(err) != apperr.TooLarge {
		t.Fatalf("over the whole budget: got %v, want TooLarge", err)
	}
	a.release()
	if _, err := l.admit(ctx, 1001); apperr.CodeOf(err) != apperr.TooLarge {
		t.Fatalf("admit over the whole budget: got %v, want TooLarge", err)
	}
	if len(l.slots) != 0 || !l.mem.TryAcquire(1000) {
		t.Fatal("released admissions still hold the budget")
	}
	l.mem.Release(1000)

	// The count holds too.
	one := NewBudget(1, 1<<30)
	c, _ := one.admit(ctx, 1)
	if _, err := one.admit(short(), 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second of one slot: got %v", err)
	}
	c.release()

	// No Limiter: everything is admitted.
	var none *Limiter
	if a, err := none.admit(ctx, 1<<50); err != nil {
		t.Fatal(err)
	} else {
		a.release()
	}
}

// The plan for big PNGs is the row-by-row decoder, reduced so that the
// result is at least twice the largest rendition.
func TestPlanReducesBigPNGs(t *testing.T) {
	g := geometry{renditions: [][2]int{{320, 320}, {1280, 1280}}, largestW: 1280, largestH: 1280}
	if k := g.reduction(10000, 10000); k != 3 {
		t.Errorf("reduction of 10000² for 1280: got %d, want 3", k)
	}
	if k := g.reduction(3000, 3000); k != 1 {
		t.Errorf("reduction of 3000² for 1280: got %d, want 1", k)
	}
	if w, h := turboScaled(10000, 10000, 1280, 1280); w != 2500 || h != 2500 {
		t.Errorf("turboScaled: got %d×%d, want 2500×2500 (2/8: 1/8 is below 1280)", w, h)
	}
}

// With libjpeg-turbo a JPEG is admitted at the scaled decode's estimate,
// not at the Go decoder's larger one (which load admits, giving back the
// first, only if the native codec balks).
func TestNativeJPEGIsAdmittedAtItsScaledSize(t *testing.T) {
	if !Native {
		t.Skip("the pure-Go build has no native codec (go tool task test:native runs this)")
	}
	photo, err := os.ReadFile(mediatest.Photo(t, "Elephants_5640x3172_baseline_q90.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	info, err := media.Inspect(bytes.NewReader(photo), int64(len(photo)), media.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{MaxSide: DefaultMaxSide, PreviewSide: DefaultPreviewSide}
	p := planFor(info, int64(len(photo)), geometryOf(info, opts))
	if p.decoder != decodeNative || p.fallback <= p.bytes {
		t.Fatalf("plan %+v, want native with a larger fallback", p)
	}
	opts.Limiter = NewBudget(1, p.bytes)
	if _, err := Make(context.Background(), bytes.NewReader(photo), opts); err != nil {
		t.Fatalf("within the native estimate (%d MiB; the Go decoder's is %d MiB): %v", p.bytes>>20, p.fallback>>20, err)
	}
	if len(opts.Limiter.slots) != 0 || !opts.Limiter.mem.TryAcquire(p.bytes) {
		t.Fatal("Make kept part of the budget")
	}
}
