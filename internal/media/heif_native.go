//go:build cgo && nativeheif

package media

// HEIFDecodable reports whether this build decodes HEIC and AVIF (through
// libheif, in a build with the tag nativeheif).
const HEIFDecodable = true

const acceptedFormats = "JPEG, PNG, GIF, WebP, HEIC and AVIF"

func heifBuildSupport(string) error { return nil }
