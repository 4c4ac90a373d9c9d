#!/usr/bin/env bash
# Builds a release archive for the stack's web servers and, with a bucket,
# uploads it:
#   ops/scripts/package.sh VERSION [s3://RELEASE-BUCKET/releases/]
# The archive (in bin/) holds the arm64 binary and the files the boot script installs:
#   mediashare, ops/systemd/mediashare.service, ops/cloudwatch/*
set -euo pipefail
cd "$(dirname "$0")/../.."
version=${1:?usage: ops/scripts/package.sh VERSION [s3://bucket/prefix/]}
dest=${2:-}
name="mediashare-${version}-linux-arm64.tar.gz"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -ldflags "-s -w" -o "$work/mediashare" ./cmd/mediashare
mkdir -p "$work/ops"
cp -r ops/systemd ops/cloudwatch "$work/ops/"
mkdir -p bin # ignored by git
tar -czf "bin/$name" -C "$work" mediashare ops
echo "built bin/$name"
if [ -n "$dest" ]; then
  aws s3 cp "bin/$name" "${dest%/}/$name"
  prefix=${dest#s3://}; prefix=${prefix#*/}; prefix=${prefix%/}
  echo "ReleaseKey=${prefix:+$prefix/}$name"
fi
