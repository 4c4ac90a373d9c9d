package ids

import (
	"testing"
	"time"
)

func TestNewSortsByTimeAndIsValid(t *testing.T) {
	t0 := time.UnixMilli(1_700_000_000_000)
	a, b := New(t0), New(t0.Add(time.Millisecond))
	if !(a < b) {
		t.Fatalf("ids do not sort by time: %q !< %q", a, b)
	}
	for _, s := range []string{a, b} {
		if !Valid(s) {
			t.Errorf("Valid(%q) = false, want true", s)
		}
	}
	if x, y := New(t0), New(t0); x == y {
		t.Error("two ids in the same millisecond are equal")
	}
}

func TestValidRejects(t *testing.T) {
	for _, s := range []string{"", "../etc/passwd", "01ARZ3NDEKTSV4RRFFQ69G5FAVX", "01ARZ3NDEKTSV4RRFFQ69G5FAI", "81ARZ3NDEKTSV4RRFFQ69G5FAV", "01arz3ndektsv4rrffq69g5fav"} {
		if Valid(s) {
			t.Errorf("Valid(%q) = true, want false", s)
		}
	}
}

func TestDerive(t *testing.T) {
	base := New(time.UnixMilli(1_764_000_000_000))
	a, b := Derive(base, "0", "owner-1"), Derive(base, "0", "owner-1")
	if a != b || !Valid(a) {
		t.Fatalf("Derive is not stable or not valid: %q, %q", a, b)
	}
	if a[:10] != base[:10] {
		t.Errorf("derived %q keeps not the time of %q", a, base)
	}
	for _, other := range []string{Derive(base, "1", "owner-1"), Derive(base, "0", "owner-2"), Derive(New(time.Now()), "0", "owner-1")} {
		if other == a {
			t.Errorf("different inputs derived the same id %q", a)
		}
	}
}
