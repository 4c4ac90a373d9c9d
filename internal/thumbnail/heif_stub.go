//go:build !(cgo && nativeheif)

package thumbnail

import (
	"errors"
	"image"
)

// HEIFNative reports whether this build decodes HEIC and AVIF. The pure-Go
// build does not (media.Inspect refuses them before we get here).
const HEIFNative = false

func heifDecode([]byte, int) (image.Image, error) {
	return nil, errors.New("HEIC and AVIF need the nativeheif build (libheif)")
}
