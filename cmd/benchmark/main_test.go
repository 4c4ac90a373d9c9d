package main

import "testing"

// The figures' lines are what docs/benchmarks.md and the issue read:
// "bench NAME value=… baseline=… ratio=…" then the extra fields.
func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		name            string
		value, baseline float64
		extra           []string
		want            string
	}{
		{"ready", 0.1104, 0.0691, []string{"file=Storm.jpg", "unit=s"}, "bench ready value=0.110 baseline=0.069 ratio=1.60 file=Storm.jpg unit=s"},
		{"gallery", 14482.4, 18167, nil, "bench gallery value=14482 baseline=18167 ratio=0.80"},
		{"ingest", 105.2, 478, []string{"rss_mib=152"}, "bench ingest value=105 baseline=478 ratio=0.22 rss_mib=152"},
		{"replay", 52927, 0, nil, "bench replay value=52927 baseline=0.000 ratio=0.00"},
		{"burst", 3.5, 2.5, nil, "bench burst value=3.50 baseline=2.50 ratio=1.40"},
	} {
		if got := format(tc.name, tc.value, tc.baseline, tc.extra...); got != tc.want {
			t.Errorf("format(%s):\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}
