#!/usr/bin/env bash
# Prints the Go build tags for the native image libraries found on this
# machine (or, with PKG_CONFIG_LIBDIR set, for a cross target), so that
# `task run`, `task build` and the release build use the fast decoders
# whenever they can:
#   nativecodecs  libjpeg-turbo and libwebp through cgo (pkg-config libturbojpeg libwebp libwebpdemux)
#   nativeheif    libheif through cgo, for HEIC and AVIF (pkg-config libheif)
# MEDIASHARE_TAGS overrides the detection (MEDIASHARE_TAGS=none: pure Go).
# With --explain, says on stderr what the build gets.
set -u
explain=false
[ "${1:-}" = --explain ] && explain=true
say() { $explain && echo "$*" >&2; return 0; }

if [ -n "${MEDIASHARE_TAGS:-}" ]; then
  [ "$MEDIASHARE_TAGS" = none ] && { say "build: pure-Go decoders (MEDIASHARE_TAGS=none)"; exit 0; }
  echo "$MEDIASHARE_TAGS"
  exit 0
fi

tags=()
cc=${CC:-gcc}
if command -v "$cc" >/dev/null 2>&1 && command -v pkg-config >/dev/null 2>&1 &&
  pkg-config --exists libturbojpeg libwebp libwebpdemux 2>/dev/null; then
  tags+=(nativecodecs)
  say "build: native decoders (libjpeg-turbo, libwebp)"
else
  say "build: pure-Go decoders; thumbnails of large JPEG and WebP files take 2-6x longer."
  say "       For the fast path: apt-get install -y gcc pkg-config libturbojpeg0-dev libwebp-dev"
fi
if command -v "$cc" >/dev/null 2>&1 && command -v pkg-config >/dev/null 2>&1 &&
  pkg-config --exists libheif 2>/dev/null; then
  tags+=(nativeheif)
  say "build: HEIC and AVIF through libheif"
else
  say "build: no libheif, so HEIC and AVIF uploads are refused (apt-get install -y libheif-dev to take them)"
fi
(IFS=,; echo "${tags[*]}")
