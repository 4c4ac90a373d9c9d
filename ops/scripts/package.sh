#!/usr/bin/env bash
# Builds a release archive for the stack's web servers and, with a bucket,
# uploads it:
#   ops/scripts/package.sh VERSION [s3://RELEASE-BUCKET/releases/]
# The archive (in bin/, or $OUT_DIR) is what the boot script unpacks into
# /opt/mediashare:
#   mediashare                  the arm64 binary
#   lib/                        every shared library it loads, glibc and its loader included
#   licenses/                   the Debian copyright files of those libraries, the licences
#                               they refer to, and SOURCES (package versions, where the source is)
#   ops/systemd/mediashare.service, ops/cloudwatch/*
#
# The binary is built for linux/arm64 (the stack's Graviton instances) with
# every native decoder: libjpeg-turbo and libwebp (nativecodecs), libheif for
# HEIC and AVIF (nativeheif; HEVC by libde265, AV1 by dav1d and libaom). It is
# linked dynamically against Debian bookworm's arm64 libraries, which ship
# beside it: its ELF interpreter is lib/ld-linux-aarch64.so.1 and its RPATH
# lib/ (both under /opt/mediashare), so it runs on its own glibc whatever the
# host has (Amazon Linux 2023: glibc 2.34) and needs no packages. RPATH, not
# RUNPATH, so that the libraries' own dependencies are found there too. As
# separate shared objects, each LGPL library can be replaced by the user.
# libheif1 links x265 (GPL) for HEVC encoding, which mediashare never does: a
# stub of ours (x265-stub.c) stands in for libx265.so.199.
#
# On Debian the cross toolchain and the arm64 libraries come from:
#   dpkg --add-architecture arm64 && apt-get update
#   apt-get install -y gcc-aarch64-linux-gnu libc6-dev-arm64-cross libturbojpeg0-dev:arm64 libwebp-dev:arm64 libheif-dev:arm64
# PURE_GO=1 builds without them: a static pure-Go binary and no lib/
# (thumbnails 2-6x slower, HEIC and AVIF refused with a 415).
set -euo pipefail
cd "$(dirname "$0")/../.."
version=${1:?usage: ops/scripts/package.sh VERSION [s3://bucket/prefix/]}
dest=${2:-}
out=${OUT_DIR:-bin}
name="mediashare-${version}-linux-arm64.tar.gz"
install_dir=/opt/mediashare # where the boot script installs the archive; the binary's interpreter and RPATH point here
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
install_line="apt-get install -y gcc-aarch64-linux-gnu libc6-dev-arm64-cross libturbojpeg0-dev:arm64 libwebp-dev:arm64 libheif-dev:arm64"

if [ "${PURE_GO:-}" = 1 ]; then
  CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -ldflags "-s -w" -o "$work/mediashare" ./cmd/mediashare
else
  cc=${CROSS_CC:-aarch64-linux-gnu-gcc}
  readelf=${CROSS_READELF:-aarch64-linux-gnu-readelf}
  pcdir=${ARM64_PKG_CONFIG_LIBDIR:-/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig}
  libdirs=(/usr/lib/aarch64-linux-gnu /lib/aarch64-linux-gnu)
  tags=$(CC=$cc PKG_CONFIG_LIBDIR=$pcdir bash scripts/buildtags.sh)
  case ",$tags," in *,nativecodecs,*) has_codecs=1 ;; *) has_codecs= ;; esac
  case ",$tags," in *,nativeheif,*) has_heif=1 ;; *) has_heif= ;; esac
  if [ -z "$has_codecs" ] || [ -z "$has_heif" ]; then
    echo "package.sh: the arm64 native build needs $cc and the arm64 image libraries (found tags: ${tags:-none}):" >&2
    echo "  dpkg --add-architecture arm64 && apt-get update" >&2
    echo "  $install_line" >&2
    echo "(or PURE_GO=1 for a pure-Go build, with slower thumbnails and no HEIC or AVIF)" >&2
    exit 1
  fi
  command -v "$readelf" >/dev/null || { echo "package.sh: $readelf is missing (binutils-aarch64-linux-gnu, with gcc-aarch64-linux-gnu)" >&2; exit 1; }
  # netgo/osusergo: Go's own resolver and user lookup, so glibc never
  # dlopen()s NSS modules (which would come from the host's /lib64).
  CGO_ENABLED=1 GOOS=linux GOARCH=arm64 CC=$cc PKG_CONFIG_LIBDIR=$pcdir \
    go build -trimpath -tags "$tags,netgo,osusergo" \
    -ldflags "-s -w -linkmode external -extldflags -Wl,--dynamic-linker=$install_dir/lib/ld-linux-aarch64.so.1,-rpath,$install_dir/lib,--disable-new-dtags" \
    -o "$work/mediashare" ./cmd/mediashare

  mkdir -p "$work/lib"
  needed() { "$readelf" -dW "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'; }
  # Every DT_NEEDED, recursively, from Debian's arm64 library directories;
  # sources records which file each came from, for the licences.
  : >"$work/sources"
  queue=("$work/mediashare")
  while [ ${#queue[@]} -gt 0 ]; do
    obj=${queue[0]}
    queue=("${queue[@]:1}")
    for lib in $(needed "$obj"); do
      [ -e "$work/lib/$lib" ] && continue
      if [ "$lib" = libx265.so.199 ]; then
        "$cc" -shared -fPIC -O2 -nostdlib -Wl,-soname,libx265.so.199 -Wl,-z,noexecstack \
          -o "$work/lib/$lib" ops/scripts/x265-stub.c
        continue
      fi
      found=
      for d in "${libdirs[@]}"; do
        if [ -e "$d/$lib" ]; then found=$d/$lib; break; fi
      done
      [ -n "$found" ] || { echo "package.sh: $obj needs $lib, which is in none of ${libdirs[*]} ($install_line)" >&2; exit 1; }
      cp -L "$found" "$work/lib/$lib"
      chmod 0755 "$work/lib/$lib"
      echo "$lib $found" >>"$work/sources"
      queue+=("$work/lib/$lib")
    done
  done

  # Licences: each library's Debian copyright file, and the common licences
  # those files point to (/usr/share/common-licenses is Debian's, not the host's).
  lic=$work/licenses
  mkdir -p "$lic/common-licenses"
  {
    echo "The shared libraries in lib/, the Debian bookworm (arm64) packages they come from,"
    echo "and where to get their source (apt-get source PACKAGE=VERSION, or snapshot.debian.org)."
    echo "Each package's copyright file is licenses/PACKAGE/copyright; the licences it names are in"
    echo "licenses/common-licenses/. Any of these libraries may be replaced by another build of it."
    echo
    printf '%-24s %-18s %-30s %s\n' FILE PACKAGE VERSION SOURCE
    printf '%-24s %-18s %-30s %s\n' libx265.so.199 mediashare - "ops/scripts/x265-stub.c (no x265 code: mediashare does not encode HEVC)"
  } >"$lic/SOURCES"
  while read -r lib path; do
    real=$(readlink -f "$path")
    pkg=
    for p in "$path" "$real" "${path/#\/usr\/lib\//\/lib\/}" "${real/#\/usr\/lib\//\/lib\/}"; do
      pkg=$(dpkg-query -S "$p" 2>/dev/null | head -1 | cut -d: -f1-2) && [ -n "$pkg" ] && break
    done
    [ -n "$pkg" ] || { echo "package.sh: no Debian package owns $path" >&2; exit 1; }
    bare=${pkg%%:*}
    ver=$(dpkg-query -W -f '${Version}' "$pkg")
    src=$(dpkg-query -W -f '${source:Package}' "$pkg")
    printf '%-24s %-18s %-30s %s\n' "$lib" "$bare" "$ver" "$src" >>"$lic/SOURCES"
    if [ ! -e "$lic/$bare/copyright" ]; then
      mkdir -p "$lic/$bare"
      cp "/usr/share/doc/$bare/copyright" "$lic/$bare/copyright"
      for c in $(grep -o '/usr/share/common-licenses/[A-Za-z0-9.+_-]*' "/usr/share/doc/$bare/copyright" | sort -u); do
        c=${c%.}
        [ -f "$c" ] && cp -L "$c" "$lic/common-licenses/"
      done
    fi
  done <"$work/sources"
  rm "$work/sources"
fi
mkdir -p "$work/ops"
cp -r ops/systemd ops/cloudwatch "$work/ops/"
chmod -R u=rwX,go=rX "$work"
chmod 0755 "$work/mediashare"
mkdir -p "$out" # bin/ is ignored by git
contents=(mediashare ops)
[ -d "$work/lib" ] && contents+=(lib licenses)
tar -czf "$out/$name" --owner=0 --group=0 --numeric-owner -C "$work" "${contents[@]}"
echo "built $out/$name"
if [ -n "$dest" ]; then
  aws s3 cp "$out/$name" "${dest%/}/$name"
  prefix=${dest#s3://}; prefix=${prefix#*/}; prefix=${prefix%/}
  echo "ReleaseKey=${prefix:+$prefix/}$name"
fi
