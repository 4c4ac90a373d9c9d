/*
 * A stand-in for libx265.so.199 in the release archive (ops/scripts/package.sh).
 *
 * Debian's libheif1 links x265 (GPL-2+) for its HEVC *encoder*; the library
 * cannot load without it, but mediashare only decodes (HEVC through libde265).
 * This is the one symbol libheif 1.15 imports from x265. It says no encoder is
 * available, so libheif's x265 encoder reports an error instead of encoding,
 * and the archive ships no x265 code. To encode HEVC, replace lib/libx265.so.199
 * with Debian's (libx265-199:arm64).
 */
const void *x265_api_get_199(int bit_depth)
{
	(void)bit_depth;
	return 0;
}
