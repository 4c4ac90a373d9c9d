#!/usr/bin/env bash
# Builds a release archive for the stack's web servers and, with a bucket,
# uploads it:
#   ops/scripts/package.sh VERSION [s3://RELEASE-BUCKET/releases/]
# The archive (in bin/, or $OUT_DIR) holds the arm64 binary and the files the
# boot script installs: mediashare, ops/systemd/mediashare.service, ops/cloudwatch/*
#
# The binary is built for linux/arm64 (the stack's Graviton instances) with the
# native decoders (libjpeg-turbo, libwebp through cgo), cross-compiled and linked
# statically, so the instances need no image libraries and no particular glibc.
# On Debian the cross toolchain and the arm64 libraries come from:
#   dpkg --add-architecture arm64 && apt-get update
#   apt-get install -y gcc-aarch64-linux-gnu libc6-dev-arm64-cross libturbojpeg0-dev:arm64 libwebp-dev:arm64
# PURE_GO=1 builds without them (pure-Go decoders: thumbnails 2-6x slower).
set -euo pipefail
cd "$(dirname "$0")/../.."
version=${1:?usage: ops/scripts/package.sh VERSION [s3://bucket/prefix/]}
dest=${2:-}
out=${OUT_DIR:-bin}
name="mediashare-${version}-linux-arm64.tar.gz"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ "${PURE_GO:-}" = 1 ]; then
  CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -ldflags "-s -w" -o "$work/mediashare" ./cmd/mediashare
else
  cc=${CROSS_CC:-aarch64-linux-gnu-gcc}
  pcdir=${ARM64_PKG_CONFIG_LIBDIR:-/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig}
  tags=$(CC=$cc PKG_CONFIG_LIBDIR=$pcdir bash scripts/buildtags.sh)
  case ",$tags," in
  *,nativecodecs,*) ;;
  *)
    echo "package.sh: the arm64 native build needs $cc and the arm64 image libraries:" >&2
    echo "  dpkg --add-architecture arm64 && apt-get update" >&2
    echo "  apt-get install -y gcc-aarch64-linux-gnu libc6-dev-arm64-cross libturbojpeg0-dev:arm64 libwebp-dev:arm64" >&2
    echo "(or PURE_GO=1 for a pure-Go build, with slower thumbnails)" >&2
    exit 1
    ;;
  esac
  # netgo/osusergo: no glibc NSS in a static binary (Go's own resolver and user lookup).
  CGO_ENABLED=1 GOOS=linux GOARCH=arm64 CC=$cc PKG_CONFIG_LIBDIR=$pcdir \
    go build -trimpath -tags "$tags,netgo,osusergo" \
    -ldflags "-s -w -linkmode external -extldflags -static" -o "$work/mediashare" ./cmd/mediashare
fi
mkdir -p "$work/ops"
cp -r ops/systemd ops/cloudwatch "$work/ops/"
mkdir -p "$out" # bin/ is ignored by git
tar -czf "$out/$name" -C "$work" mediashare ops
echo "built $out/$name"
if [ -n "$dest" ]; then
  aws s3 cp "$out/$name" "${dest%/}/$name"
  prefix=${dest#s3://}; prefix=${prefix#*/}; prefix=${prefix%/}
  echo "ReleaseKey=${prefix:+$prefix/}$name"
fi
