package media_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	"mediashare/internal/media"
	"mediashare/internal/media/mediatest"
)

// The header facts a decoder's memory is estimated from.
func TestInspectLayout(t *testing.T) {
	r := image.Rect(0, 0, 16, 8)
	gray := image.NewGray(r)
	gray16 := image.NewGray16(r)
	opaque := image.NewRGBA(r)
	for i := 3; i < len(opaque.Pix); i += 4 {
		opaque.Pix[i] = 255
	}
	opaque16 := image.NewRGBA64(r)
	for i := 6; i < len(opaque16.Pix); i += 8 {
		opaque16.Pix[i], opaque16.Pix[i+1] = 255, 255
	}
	nrgba64 := image.NewNRGBA64(r)
	pal := image.NewPaletted(r, color.Palette{color.Black, color.White})
	palAlpha := image.NewPaletted(r, color.Palette{color.Transparent, color.White})
	jpegOf := func(img image.Image) []byte {
		var b bytes.Buffer
		if err := jpeg.Encode(&b, img, nil); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	tests := []struct {
		name string
		data []byte
		want media.PixelLayout
	}{
		{"png grey 8", mustPNG(t, gray), media.PixelLayout{BitDepth: 8, Channels: 1}},
		{"png grey 16", mustPNG(t, gray16), media.PixelLayout{BitDepth: 16, Channels: 1}},
		{"png rgb 8", mustPNG(t, opaque), media.PixelLayout{BitDepth: 8, Channels: 3}},
		{"png rgb 16", mustPNG(t, opaque16), media.PixelLayout{BitDepth: 16, Channels: 3}},
		{"png rgba 8", mustPNG(t, image.NewNRGBA(r)), media.PixelLayout{BitDepth: 8, Channels: 4, Alpha: true}},
		{"png rgba 16", mustPNG(t, nrgba64), media.PixelLayout{BitDepth: 16, Channels: 4, Alpha: true}},
		{"png palette 1 bit", mustPNG(t, pal), media.PixelLayout{BitDepth: 1, Channels: 1, Paletted: true}},
		{"png palette with tRNS", mustPNG(t, palAlpha), media.PixelLayout{BitDepth: 1, Channels: 1, Paletted: true, Alpha: true}},
		{"jpeg 4:2:0", jpegOf(opaque), media.PixelLayout{BitDepth: 8, Channels: 3, Subsampling: "4:2:0"}},
		{"jpeg grey", jpegOf(gray), media.PixelLayout{BitDepth: 8, Channels: 1}},
		{"gif", mustGIF(t, testImage(16, 8)), media.PixelLayout{BitDepth: 8, Channels: 1, Paletted: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := inspectBytes(tt.data)
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if info.Layout != tt.want {
				t.Errorf("got %+v, want %+v", info.Layout, tt.want)
			}
		})
	}

	// The photographs: a progressive and a baseline JPEG of one scene, a
	// lossy WebP, an RGB(A) PNG.
	photos := []struct {
		name string
		want media.PixelLayout
	}{
		{"Elephants_5640x3172.jpg", media.PixelLayout{BitDepth: 8, Channels: 3, Subsampling: "4:2:2", Progressive: true}},
		{"Elephants_5640x3172_baseline_q90.jpg", media.PixelLayout{BitDepth: 8, Channels: 3, Subsampling: "4:2:2"}},
		{"RainDrops.jpg", media.PixelLayout{BitDepth: 8, Channels: 3, Subsampling: "4:2:0"}},
	}
	for _, p := range photos {
		t.Run(p.name, func(t *testing.T) {
			f, size := mustOpen(t, mediatest.Photo(t, p.name))
			info, err := media.Inspect(f, size, media.Limits{MaxPixels: 1 << 30})
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if info.Layout != p.want {
				t.Errorf("got %+v, want %+v", info.Layout, p.want)
			}
		})
	}
}
