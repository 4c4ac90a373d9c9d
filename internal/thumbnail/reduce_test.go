package thumbnail

import (
	"bytes"
	"image"
	"math/rand/v2"
	"testing"
)

// The row-by-row reduction of RGBA gives exactly the block means of the
// general one (rgbaBox), partial blocks on the right and bottom included.
func TestRGBAReduceMatchesBlockMeans(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct{ w, h, k int }{
		{1280, 853, 2}, {641, 427, 2}, {100, 7, 3}, {5, 5, 4}, {2, 9, 2}, {1, 1, 2}, {37, 23, 5},
	} {
		src := image.NewRGBA(image.Rect(0, 0, tc.w, tc.h))
		for i := 0; i < len(src.Pix); i += 4 {
			a := uint8(rng.IntN(256))
			for c := range 3 {
				src.Pix[i+c] = uint8(rng.IntN(int(a) + 1))
			}
			src.Pix[i+3] = a
		}
		got := boxReduce(src, tc.k)
		ow, oh := (tc.w+tc.k-1)/tc.k, (tc.h+tc.k-1)/tc.k
		want := image.NewRGBA(image.Rect(0, 0, ow, oh))
		px := rgbaBox(src.Pix, src.Stride, src.Rect, false)
		for oy := range oh {
			for ox := range ow {
				c := px(ox*tc.k, oy*tc.k, min(ox*tc.k+tc.k, tc.w), min(oy*tc.k+tc.k, tc.h))
				copy(want.Pix[want.PixOffset(ox, oy):], c[:])
			}
		}
		if got.Rect != want.Rect || !bytes.Equal(got.Pix, want.Pix) {
			t.Errorf("%d×%d by %d: differs from the block means", tc.w, tc.h, tc.k)
		}
	}
}

// The row-by-row reduction of YCbCr gives exactly yCbCrBox's pixels at
// every subsampling, partial blocks included.
func TestYCbCrReduceMatchesBlockMeans(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, ratio := range []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	} {
		for _, tc := range []struct{ w, h, k int }{{640, 427, 3}, {101, 77, 2}, {33, 9, 5}, {3, 3, 2}, {1, 1, 2}} {
			src := image.NewYCbCr(image.Rect(0, 0, tc.w, tc.h), ratio)
			for _, p := range [][]uint8{src.Y, src.Cb, src.Cr} {
				for i := range p {
					p[i] = uint8(rng.IntN(256))
				}
			}
			got := boxReduce(src, tc.k)
			ow, oh := (tc.w+tc.k-1)/tc.k, (tc.h+tc.k-1)/tc.k
			want := image.NewRGBA(image.Rect(0, 0, ow, oh))
			px := yCbCrBox(src)
			for oy := range oh {
				for ox := range ow {
					c := px(ox*tc.k, oy*tc.k, min(ox*tc.k+tc.k, tc.w), min(oy*tc.k+tc.k, tc.h))
					copy(want.Pix[want.PixOffset(ox, oy):], c[:])
				}
			}
			if got.Rect != want.Rect || !bytes.Equal(got.Pix, want.Pix) {
				t.Errorf("%v %d×%d by %d: differs from the block means", ratio, tc.w, tc.h, tc.k)
			}
		}
	}
}
