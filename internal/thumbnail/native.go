//go:build cgo && nativecodecs

package thumbnail

// With the build tag nativecodecs (and cgo), JPEGs are decoded by
// libjpeg-turbo (the TurboJPEG API) scaled down in the DCT domain, and WebP
// by libwebp with its shrink-on-load, so the full-resolution image is never
// made. Debian packages: libturbojpeg0-dev and libwebp-dev to build;
// libturbojpeg0 and libwebp7 to run.

/*
#cgo pkg-config: libturbojpeg libwebp
#include <stdio.h>
#include <stdlib.h>
#include <turbojpeg.h>
#include <webp/decode.h>

// tj_header reads the size and colour space of a JPEG. It returns 0, or
// -1 with the library's message in msg.
static int tj_header(const unsigned char *buf, unsigned long n, int *w, int *h, int *cs, char *msg, int msglen) {
	tjhandle t = tjInitDecompress();
	if (t == NULL) {
		snprintf(msg, msglen, "%s", tjGetErrorStr2(NULL));
		return -1;
	}
	int sub;
	int rc = tjDecompressHeader3(t, buf, n, w, h, &sub, cs);
	if (rc != 0) snprintf(msg, msglen, "%s", tjGetErrorStr2(t));
	tjDestroy(t);
	return rc;
}

// tj_decode decodes a JPEG scaled by num/denom into dst (w×h, pitch bytes
// a row) as RGBA or GRAY. Any warning is an error: a damaged file goes to
// the Go decoder, whose verdict is final.
static int tj_decode(const unsigned char *buf, unsigned long n, unsigned char *dst, int w, int pitch, int h, int gray, char *msg, int msglen) {
	tjhandle t = tjInitDecompress();
	if (t == NULL) {
		snprintf(msg, msglen, "%s", tjGetErrorStr2(NULL));
		return -1;
	}
	int rc = tjDecompress2(t, buf, n, dst, w, pitch, h, gray ? TJPF_GRAY : TJPF_RGBA,
		TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS | TJFLAG_NOREALLOC);
	if (rc != 0) snprintf(msg, msglen, "%s", tjGetErrorStr2(t));
	tjDestroy(t);
	return rc;
}

static int webp_features(const uint8_t *buf, size_t n, int *w, int *h, int *anim) {
	WebPBitstreamFeatures f;
	if (WebPGetFeatures(buf, n, &f) != VP8_STATUS_OK) return -1;
	*w = f.width; *h = f.height; *anim = f.has_animation;
	return 0;
}

// webp_decode decodes a WebP scaled to w×h into dst as premultiplied RGBA.
static int webp_decode(const uint8_t *buf, size_t n, uint8_t *dst, int w, int h, int scale) {
	WebPDecoderConfig c;
	if (!WebPInitDecoderConfig(&c)) return -1;
	if (scale) {
		c.options.use_scaling = 1;
		c.options.scaled_width = w;
		c.options.scaled_height = h;
	}
	c.output.colorspace = MODE_rgbA;
	c.output.is_external_memory = 1;
	c.output.u.RGBA.rgba = dst;
	c.output.u.RGBA.stride = 4 * w;
	c.output.u.RGBA.size = (size_t)4 * w * h;
	VP8StatusCode st = WebPDecode(buf, n, &c);
	WebPFreeDecBuffer(&c.output);
	return st == VP8_STATUS_OK ? 0 : (int)st;
}
// tj_encode compresses w×h RGBA pixels (opaque) as a 4:2:0 JPEG of the
// given quality into a buffer the library allocates (*out, *outlen; free
// with tjFree).
static int tj_encode(const unsigned char *pix, int w, int pitch, int h, int quality, unsigned char **out, unsigned long *outlen, char *msg, int msglen) {
	tjhandle t = tjInitCompress();
	if (t == NULL) {
		snprintf(msg, msglen, "%s", tjGetErrorStr2(NULL));
		return -1;
	}
	*out = NULL;
	*outlen = 0;
	int rc = tjCompress2(t, pix, w, pitch, h, TJPF_RGBX, out, outlen, TJSAMP_420, quality, 0);
	if (rc != 0) snprintf(msg, msglen, "%s", tjGetErrorStr2(t));
	tjDestroy(t);
	return rc;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"unsafe"

	"mediashare/internal/media"
)

// Native reports whether this build decodes with libjpeg-turbo and libwebp.
const Native = true

// TurboJPEG colour spaces (enum TJCS).
const (
	tjcsRGB   = 0
	tjcsYCbCr = 1
	tjcsGray  = 2
)

// nativeDecode decodes data, a whole file of the given format, at a
// reduced scale no smaller than minW×minH where the codec can. ok is false
// when it does not handle the file (CMYK JPEGs): the caller
// then uses the Go decoders, as it does after an error.
func nativeDecode(data []byte, format string, minW, minH int) (img image.Image, ok bool, err error) {
	return (*scratch)(nil).nativeDecode(data, format, minW, minH)
}

// nativeDecode is nativeDecode with the decoded image's buffer from s.
func (s *scratch) nativeDecode(data []byte, format string, minW, minH int) (img image.Image, ok bool, err error) {
	if len(data) == 0 {
		return nil, false, errors.New("empty")
	}
	switch format {
	case media.JPEG:
		return s.turboDecode(data, minW, minH)
	case media.WebP:
		return s.webpDecode(data, minW, minH)
	}
	return nil, false, nil
}

func turboDecode(data []byte, minW, minH int) (image.Image, bool, error) {
	return (*scratch)(nil).turboDecode(data, minW, minH)
}

// turboDecode decodes at the scale turboScaled chooses (which the decode
// budget's estimate uses too), into a buffer from s.
func (s *scratch) turboDecode(data []byte, minW, minH int) (image.Image, bool, error) {
	var msg [256]C.char
	buf := (*C.uchar)(unsafe.Pointer(&data[0]))
	n := C.ulong(len(data))
	var w, h, cs C.int
	if C.tj_header(buf, n, &w, &h, &cs, &msg[0], C.int(len(msg))) != 0 {
		return nil, true, fmt.Errorf("libjpeg-turbo: %s", C.GoString(&msg[0]))
	}
	if cs != tjcsYCbCr && cs != tjcsGray && cs != tjcsRGB {
		return nil, false, nil // CMYK and YCCK: the Go decoder inverts Adobe's CMYK correctly
	}
	gw, gh := turboScaled(int(w), int(h), minW, minH)
	sw, sh := C.int(gw), C.int(gh)
	var img image.Image
	var pix []byte
	var pitch int
	if cs == tjcsGray {
		g := &image.Gray{Pix: s.bytes(gw * gh), Stride: gw, Rect: image.Rect(0, 0, gw, gh)}
		img, pix, pitch = g, g.Pix, g.Stride
	} else {
		rgba := s.rgba(gw, gh)
		img, pix, pitch = rgba, rgba.Pix, rgba.Stride
	}
	gray := C.int(0)
	if cs == tjcsGray {
		gray = 1
	}
	if C.tj_decode(buf, n, (*C.uchar)(unsafe.Pointer(&pix[0])), sw, C.int(pitch), sh, gray, &msg[0], C.int(len(msg))) != 0 {
		return nil, true, fmt.Errorf("libjpeg-turbo: %s", C.GoString(&msg[0]))
	}
	return img, true, nil
}

// nativeEncodeJPEG encodes an opaque image as JPEG with libjpeg-turbo
// (several times faster than image/jpeg). ok is false when it cannot.
func nativeEncodeJPEG(img *image.RGBA, quality int) (data []byte, ok bool, err error) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if w == 0 || h == 0 {
		return nil, false, nil
	}
	var msg [256]C.char
	var out *C.uchar
	var n C.ulong
	pix := (*C.uchar)(unsafe.Pointer(&img.Pix[img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y)]))
	if C.tj_encode(pix, C.int(w), C.int(img.Stride), C.int(h), C.int(quality), &out, &n, &msg[0], C.int(len(msg))) != 0 {
		if out != nil {
			C.tjFree(out)
		}
		return nil, true, fmt.Errorf("libjpeg-turbo: encode: %s", C.GoString(&msg[0]))
	}
	defer C.tjFree(out)
	return C.GoBytes(unsafe.Pointer(out), C.int(n)), true, nil
}

func (s *scratch) webpDecode(data []byte, minW, minH int) (image.Image, bool, error) {
	buf := (*C.uint8_t)(unsafe.Pointer(&data[0]))
	n := C.size_t(len(data))
	var w, h, anim C.int
	if C.webp_features(buf, n, &w, &h, &anim) != 0 {
		return nil, true, errors.New("libwebp: not a WebP bitstream")
	}
	if anim != 0 { // the first frame, on its canvas (webp_anim_native.go)
		img, err := webpAnimFirst(data, int(w), int(h))
		return img, true, err
	}
	// Shrink on load by a whole factor that keeps the result at least
	// minW×minH (as libvips does); bild does the rest.
	k := max(1, min(int(w)/max(1, minW), int(h)/max(1, minH)))
	sw, sh := (int(w)+k-1)/k, (int(h)+k-1)/k
	img := s.rgba(sw, sh)
	scale := C.int(0)
	if k > 1 {
		scale = 1
	}
	if st := C.webp_decode(buf, n, (*C.uint8_t)(unsafe.Pointer(&img.Pix[0])), C.int(sw), C.int(sh), scale); st != 0 {
		return nil, true, fmt.Errorf("libwebp: decode failed (status %d)", int(st))
	}
	return img, true, nil
}
