//go:build !(cgo && nativeheif)

package thumbnail

// HEIFVersion is the version of the libheif this process loaded, or ""
// when the build has none (this one).
func HEIFVersion() string { return "" }
