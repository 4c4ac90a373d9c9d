//go:build !(cgo && nativecodecs)

package media

import "mediashare/internal/apperr"

// HEIFDecodable reports whether this build decodes HEIC and AVIF. The
// pure-Go build does not: they need libheif, in the nativecodecs build.
const HEIFDecodable = false

const acceptedFormats = "JPEG, PNG, GIF and WebP"

// heifBuildSupport refuses HEIC and AVIF with a message naming what this
// server lacks, before anything is stored.
func heifBuildSupport(format string) error {
	return fileError(apperr.Unsupported, nil,
		"This server cannot read %s images yet: it needs to be built with libheif (apt-get install libheif-dev, then go build -tags nativecodecs). Please upload a JPEG, PNG, GIF or WebP.",
		map[string]string{HEIC: "HEIC", AVIF: "AVIF"}[format])
}
