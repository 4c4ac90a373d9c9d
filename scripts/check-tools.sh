#!/usr/bin/env bash
# Fails with a clear message when a test tool outside Go is missing.
set -u
fail=0
need() { # name, check command, how to install
  if ! bash -c "$2" >/dev/null 2>&1; then
    echo "missing test tool: $1" >&2
    echo "  install it with: $3" >&2
    fail=1
  fi
}
need "moto_server (moto 5.2.1, the AWS test server)" \
  "command -v moto_server && python3 -c 'import moto, sys; sys.exit(moto.__version__ != \"5.2.1\")'" \
  "pip install 'moto[server]==5.2.1'"
need "cfn-lint (CloudFormation linter)" "command -v cfn-lint" "pip install cfn-lint"
need "promtool (Prometheus config and rule checker)" "command -v promtool" "apt-get install -y prometheus"
need "heif-enc and heif-convert (HEIC test images)" "command -v heif-enc && command -v heif-convert" "apt-get install -y libheif-examples"
need "avifenc (AVIF test images)" "command -v avifenc" "apt-get install -y libavif-bin"
need "exiftool (GPS and orientation in test images)" "command -v exiftool" "apt-get install -y libimage-exiftool-perl"
need "img2webp (animated WebP test images)" "command -v img2webp" "apt-get install -y webp"
if [ "$fail" -ne 0 ]; then
  echo "The test suite needs these tools; see README.md, 'Running the tests'." >&2
  exit 1
fi
echo "test tools present: moto $(python3 -c 'import moto; print(moto.__version__)'), $(cfn-lint --version), $(promtool --version 2>&1 | head -1)"
