//go:build !(cgo && nativeheif)

package media

import "mediashare/internal/apperr"

// HEIFDecodable reports whether this build decodes HEIC and AVIF. The
// build without the tag nativeheif does not: they need libheif.
const HEIFDecodable = false

const acceptedFormats = "JPEG, PNG, GIF and WebP"

// heifBuildSupport refuses HEIC and AVIF with a message naming what this
// server lacks, before anything is stored.
func heifBuildSupport(format string) error {
	return fileError(apperr.Unsupported, nil,
		"This server cannot read %s images: it was built without libheif (apt-get install -y libheif-dev, then build with -tags nativeheif; task build adds it when it finds libheif). Please upload a JPEG, PNG, GIF or WebP.",
		map[string]string{HEIC: "HEIC", AVIF: "AVIF"}[format])
}
