//go:build cgo && nativeheif

package thumbnail

// HEIC and AVIF are decoded by libheif (LGPL-3.0, linked dynamically; it
// decodes HEVC through libde265 and AV1 through dav1d or libaom), the
// library GIMP, libvips and ImageMagick use. It assembles grid-tiled
// primary images; we ask it to leave irot/imir alone (our orient applies
// them with the EXIF orientation) and to hand 10- and 12-bit images over
// as 8-bit RGBA. Debian packages: libheif-dev to build, libheif1 to run.

/*
#cgo pkg-config: libheif
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <libheif/heif.h>

// heif_decode_primary decodes the primary image of a HEIF/AVIF file held
// in buf as 8-bit RGBA, not premultiplied, into a buffer it allocates
// (free it with free()). It returns 0, or -1 with libheif's message in msg.
static int heif_decode_primary(const void *buf, size_t n, int maxside, unsigned char **out, int *w, int *h, int *alpha, char *msg, int msglen) {
	*out = NULL;
	struct heif_context *ctx = heif_context_alloc();
	if (ctx == NULL) { snprintf(msg, msglen, "out of memory"); return -1; }
	heif_context_set_maximum_image_size_limit(ctx, maxside);
	struct heif_error err = heif_context_read_from_memory_without_copy(ctx, buf, n, NULL);
	struct heif_image_handle *hd = NULL;
	struct heif_image *img = NULL;
	struct heif_decoding_options *opts = NULL;
	int rc = -1;
	if (err.code != heif_error_Ok) goto done;
	err = heif_context_get_primary_image_handle(ctx, &hd);
	if (err.code != heif_error_Ok) goto done;
	*alpha = heif_image_handle_has_alpha_channel(hd);
	opts = heif_decoding_options_alloc();
	opts->ignore_transformations = 1;
	opts->convert_hdr_to_8bit = 1;
	err = heif_decode_image(hd, &img, heif_colorspace_RGB, heif_chroma_interleaved_RGBA, opts);
	if (err.code != heif_error_Ok) goto done;
	*w = heif_image_get_width(img, heif_channel_interleaved);
	*h = heif_image_get_height(img, heif_channel_interleaved);
	int stride = 0;
	const uint8_t *p = heif_image_get_plane_readonly(img, heif_channel_interleaved, &stride);
	if (p == NULL || *w <= 0 || *h <= 0 || heif_image_get_bits_per_pixel_range(img, heif_channel_interleaved) != 8) {
		snprintf(msg, msglen, "no 8-bit RGBA plane");
		goto out;
	}
	*out = malloc((size_t)*w * *h * 4);
	if (*out == NULL) { snprintf(msg, msglen, "out of memory"); goto out; }
	for (int y = 0; y < *h; y++) memcpy(*out + (size_t)y * *w * 4, p + (size_t)y * stride, (size_t)*w * 4);
	rc = 0;
	goto out;
done:
	snprintf(msg, msglen, "%s", err.message);
out:
	if (img) heif_image_release(img);
	if (opts) heif_decoding_options_free(opts);
	if (hd) heif_image_handle_release(hd);
	heif_context_free(ctx);
	return rc;
}
*/
import "C"

import (
	"fmt"
	"image"
	"unsafe"
)

// HEIFNative reports whether this build decodes HEIC and AVIF (libheif).
const HEIFNative = true

// heifDecode decodes the primary image of a HEIC or AVIF file as stored
// (before irot/imir), grid tiles assembled.
func heifDecode(data []byte, maxSide int) (image.Image, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("libheif: empty file")
	}
	var (
		msg         [256]C.char
		out         *C.uchar
		w, h, alpha C.int
	)
	rc := C.heif_decode_primary(unsafe.Pointer(&data[0]), C.size_t(len(data)), C.int(maxSide), &out, &w, &h, &alpha, &msg[0], C.int(len(msg)))
	if rc != 0 {
		return nil, fmt.Errorf("libheif: %s", C.GoString(&msg[0]))
	}
	defer C.free(unsafe.Pointer(out))
	img := image.NewNRGBA(image.Rect(0, 0, int(w), int(h)))
	copy(img.Pix, unsafe.Slice((*byte)(unsafe.Pointer(out)), len(img.Pix)))
	return img, nil
}
