#!/usr/bin/env bash
# Copies htmx and its SSE extension from their npm packages at the pinned
# versions into static/vendor, with their licences, and checks the files
# against static/vendor/SHA256SUMS.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent htmx.org@2.0.11 htmx-ext-sse@2.2.4 >/dev/null)
mkdir -p "$tmp/htmx" "$tmp/sse"
tar xzf "$tmp/htmx.org-2.0.11.tgz" -C "$tmp/htmx"
tar xzf "$tmp/htmx-ext-sse-2.2.4.tgz" -C "$tmp/sse"
cp "$tmp/htmx/package/dist/htmx.min.js" "$tmp/htmx/package/LICENSE" static/vendor/htmx/
cp "$tmp/sse/package/dist/sse.min.js" "$tmp/sse/package/LICENSE" static/vendor/htmx-ext-sse/
(cd static/vendor && sha256sum -c SHA256SUMS)
