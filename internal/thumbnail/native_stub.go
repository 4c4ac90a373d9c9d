//go:build !(cgo && nativecodecs)

package thumbnail

import "image"

// Native reports whether this build decodes with libjpeg-turbo and libwebp
// (build tag nativecodecs, with cgo). This one is pure Go.
const Native = false

// nativeDecode never handles a file in a pure-Go build.
func (*scratch) nativeDecode([]byte, string, int, int) (image.Image, bool, error) {
	return nil, false, nil
}

// nativeEncodeJPEG is not available in this build: image/jpeg encodes.
func nativeEncodeJPEG(*image.RGBA, int) ([]byte, bool, error) { return nil, false, nil }
