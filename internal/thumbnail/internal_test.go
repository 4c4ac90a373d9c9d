package thumbnail

import (
	"image"
	"slices"
	"testing"

	"mediashare/internal/apperr"
)

// A 3×2 image whose pixels are numbered 1..6 maps exactly, pixel by pixel.
func TestOrientExact(t *testing.T) {
	// stored:
	//	1 2 3
	//	4 5 6
	src := image.NewRGBA(image.Rect(0, 0, 3, 2))
	for i := range 6 {
		src.Pix[4*i] = uint8(i + 1)
	}
	tests := []struct {
		name string
		o    int
		w, h int
		want []uint8 // displayed, row by row
	}{
		{"1", 1, 3, 2, []uint8{1, 2, 3, 4, 5, 6}},
		{"2 mirror", 2, 3, 2, []uint8{3, 2, 1, 6, 5, 4}},
		{"3 turn 180", 3, 3, 2, []uint8{6, 5, 4, 3, 2, 1}},
		{"4 flip", 4, 3, 2, []uint8{4, 5, 6, 1, 2, 3}},
		{"5 transpose", 5, 2, 3, []uint8{1, 4, 2, 5, 3, 6}},
		{"6 clockwise", 6, 2, 3, []uint8{4, 1, 5, 2, 6, 3}},
		{"7 transverse", 7, 2, 3, []uint8{6, 3, 5, 2, 4, 1}},
		{"8 counter-clockwise", 8, 2, 3, []uint8{3, 6, 2, 5, 1, 4}},
		{"0 out of range", 0, 3, 2, []uint8{1, 2, 3, 4, 5, 6}},
		{"9 out of range", 9, 3, 2, []uint8{1, 2, 3, 4, 5, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := orient(src, tt.o)
			if got := out.Rect.Size(); got != image.Pt(tt.w, tt.h) {
				t.Fatalf("got size %v, want %dx%d", got, tt.w, tt.h)
			}
			var got []uint8
			for y := range tt.h {
				for x := range tt.w {
					got = append(got, out.Pix[out.PixOffset(x, y)])
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSafelyRecoversDecoderPanic(t *testing.T) {
	img, err := safely(func() (image.Image, error) { panic("index out of range") })
	if img != nil || err == nil {
		t.Fatalf("got (%v, %v), want an error", img, err)
	}
	if got := apperr.CodeOf(err); got != apperr.Invalid {
		t.Errorf("got code %q, want %q", got, apperr.Invalid)
	}
}

func TestFit(t *testing.T) {
	tests := []struct {
		name         string
		w, h, max    int
		wantW, wantH int
	}{
		{"landscape", 5640, 3172, 320, 320, 180},
		{"portrait", 3172, 5640, 320, 180, 320},
		{"square", 4096, 4096, 320, 320, 320},
		{"small", 100, 50, 320, 100, 50},
		{"panorama", 12000, 300, 320, 320, 8},
		{"needle", 100000, 1, 320, 320, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, h := fit(tt.w, tt.h, tt.max)
			if w != tt.wantW || h != tt.wantH {
				t.Errorf("got %d×%d, want %d×%d", w, h, tt.wantW, tt.wantH)
			}
		})
	}
}
