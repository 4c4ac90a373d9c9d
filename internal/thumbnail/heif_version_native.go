//go:build cgo && nativeheif

package thumbnail

/*
#cgo pkg-config: libheif
#include <libheif/heif.h>
*/
import "C"

// HEIFVersion is the version of the libheif this process loaded ("1.15.1"),
// or "" when the build has none.
func HEIFVersion() string { return C.GoString(C.heif_get_version()) }
