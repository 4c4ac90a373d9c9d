package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"mediashare/internal/thumbnail"
)

// decoders names the image decoders this build has.
func decoders() string {
	d := "pure Go"
	if thumbnail.Native {
		d = "native (libjpeg-turbo, libwebp)"
	}
	if thumbnail.HEIFNative {
		d += ", HEIC/AVIF (libheif " + thumbnail.HEIFVersion() + ")"
	}
	return d
}

// versionLine is what `mediashare version` prints: the revision it was
// built from, the platform, and its decoders.
func versionLine() string {
	rev, tags := "unknown", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			rev = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "-tags":
				tags = s.Value
			}
		}
	}
	line := fmt.Sprintf("mediashare %s %s %s/%s decoders: %s", rev, runtime.Version(), runtime.GOOS, runtime.GOARCH, decoders())
	if tags != "" {
		line += " tags: " + tags
	}
	return line
}
