//go:build cgo && nativecodecs

package thumbnail

// The first frame of an animated WebP, through libwebp's demuxer
// (WebPAnimDecoder), which composes it on the canvas as browsers do.
// Debian: libwebp-dev to build (libwebpdemux), libwebpdemux2 to run.

/*
#cgo pkg-config: libwebpdemux
#include <string.h>
#include <webp/demux.h>

// webp_anim_first decodes the first frame of an animation on its w×h
// canvas into dst as premultiplied RGBA. It returns 0, or a negative step
// number where it failed.
static int webp_anim_first(const uint8_t *buf, size_t n, uint8_t *dst, int w, int h) {
	WebPData data = {buf, n};
	WebPAnimDecoderOptions o;
	if (!WebPAnimDecoderOptionsInit(&o)) return -1;
	o.color_mode = MODE_rgbA;
	o.use_threads = 0;
	WebPAnimDecoder *dec = WebPAnimDecoderNew(&data, &o);
	if (dec == NULL) return -2;
	WebPAnimInfo info;
	int rc = 0;
	uint8_t *frame = NULL;
	int ts = 0;
	if (!WebPAnimDecoderGetInfo(dec, &info) || (int)info.canvas_width != w || (int)info.canvas_height != h) rc = -3;
	else if (info.frame_count < 1 || !WebPAnimDecoderGetNext(dec, &frame, &ts)) rc = -4;
	else memcpy(dst, frame, (size_t)4 * w * h);
	WebPAnimDecoderDelete(dec);
	return rc;
}
*/
import "C"

import (
	"fmt"
	"image"
	"unsafe"
)

// webpAnimFirst decodes the first frame of an animated WebP of a w×h canvas.
func webpAnimFirst(data []byte, w, h int) (image.Image, error) {
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("libwebp: a %d×%d canvas", w, h)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	if rc := C.webp_anim_first((*C.uint8_t)(unsafe.Pointer(&data[0])), C.size_t(len(data)), (*C.uint8_t)(unsafe.Pointer(&img.Pix[0])), C.int(w), C.int(h)); rc != 0 {
		return nil, fmt.Errorf("libwebp: animation's first frame (step %d)", -int(rc))
	}
	return img, nil
}
