//go:build cgo && nativecodecs

package media

// HEIFDecodable reports whether this build decodes HEIC and AVIF (through
// libheif, in the nativecodecs build).
const HEIFDecodable = true

const acceptedFormats = "JPEG, PNG, GIF, WebP, HEIC and AVIF"

func heifBuildSupport(string) error { return nil }
