package ops_test

import (
	"bufio"
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"mediashare/internal/awstest"
	"mediashare/internal/media/mediatest"
)

const installCross = "dpkg --add-architecture arm64 && apt-get update && apt-get install -y gcc-aarch64-linux-gnu libc6-dev-arm64-cross libturbojpeg0-dev:arm64 libwebp-dev:arm64 libheif-dev:arm64 file"

// installDir is where the boot script unpacks the release; the binary's
// ELF interpreter and RPATH point into it.
const installDir = "/opt/mediashare"

// TestReleaseArchive builds the stack's release archive with
// ops/scripts/package.sh and inspects it: a linux/arm64 binary built with
// cgo and the nativecodecs and nativeheif tags, dynamically linked with
// /opt/mediashare/lib's loader and RPATH, and a lib/ holding every shared
// library it and they need (glibc included), each with its licence. Under
// qemu-aarch64-static, with the archive unpacked as /opt/mediashare, the
// binary reports libheif and makes thumbnails of a HEIC and an AVIF, and
// loads no library from anywhere else.
func TestReleaseArchive(t *testing.T) {
	tool(t, "aarch64-linux-gnu-gcc", installCross)
	readelf := tool(t, "aarch64-linux-gnu-readelf", installCross)
	fileTool := tool(t, "file", "apt-get install -y file")
	for _, pc := range []string{"libturbojpeg.pc", "libwebp.pc", "libheif.pc"} {
		if _, err := os.Stat("/usr/lib/aarch64-linux-gnu/pkgconfig/" + pc); err != nil {
			if os.Getenv(awstest.RequireEnv) == "1" {
				t.Fatalf("the arm64 image libraries are missing (no %s): %s", pc, installCross)
			}
			t.Skipf("the arm64 image libraries are missing (no %s): %s", pc, installCross)
		}
	}
	out := t.TempDir()
	// The cross build takes about a minute cold on two loaded cores, seconds when cached.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join("scripts", "package.sh"), "test")
	cmd.Env = append(os.Environ(), "OUT_DIR="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("package.sh: %v\n%s", err, b)
	}
	// Unpacked as the boot script does: the archive is /opt/mediashare.
	root := t.TempDir()
	app := filepath.Join(root, installDir)
	if err := os.MkdirAll(app, 0o755); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("tar", "-xzf", filepath.Join(out, "mediashare-test-linux-arm64.tar.gz"), "-C", app).CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, b)
	}
	for _, f := range []string{"mediashare", "lib/libheif.so.1", "lib/ld-linux-aarch64.so.1", "lib/libc.so.6", "licenses/SOURCES",
		"licenses/libheif1/copyright", "licenses/common-licenses/LGPL-3", "ops/systemd/mediashare.service", "ops/cloudwatch/amazon-cloudwatch-agent.json"} {
		if _, err := os.Stat(filepath.Join(app, f)); err != nil {
			t.Errorf("archive lacks %s", f)
		}
	}
	bin := filepath.Join(app, "mediashare")

	desc, err := exec.Command(fileTool, "-b", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ARM aarch64", "dynamically linked", "interpreter " + installDir + "/lib/ld-linux-aarch64.so.1"} {
		if !strings.Contains(string(desc), want) {
			t.Errorf("file says %q; want it to contain %q", strings.TrimSpace(string(desc)), want)
		}
	}

	t.Run("libraries", func(t *testing.T) {
		lib := filepath.Join(app, "lib")
		bundled := map[string]bool{}
		entries, err := os.ReadDir(lib)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			bundled[e.Name()] = true
		}
		exe := readELF(t, readelf, bin)
		if exe.interp != installDir+"/lib/ld-linux-aarch64.so.1" {
			t.Errorf("interpreter %q; want %s/lib/ld-linux-aarch64.so.1", exe.interp, installDir)
		}
		// RPATH, not RUNPATH: RUNPATH would not cover the libraries' own
		// dependencies, which would then come from the host's directories.
		if exe.rpath != installDir+"/lib" || exe.runpath != "" {
			t.Errorf("RPATH %q, RUNPATH %q; want RPATH %s/lib and no RUNPATH", exe.rpath, exe.runpath, installDir)
		}
		for _, want := range []string{"libheif.so.1", "libturbojpeg.so.0", "libwebp.so.7", "libc.so.6"} {
			if !slices.Contains(exe.needed, want) {
				t.Errorf("the binary does not need %s (it needs %q)", want, exe.needed)
			}
		}
		// Every DT_NEEDED of the binary and of each bundled library is in lib/,
		// and lib/ holds nothing that nothing needs.
		reached := map[string]bool{"ld-linux-aarch64.so.1": true}
		queue := []string{bin}
		for len(queue) > 0 {
			obj := queue[0]
			queue = queue[1:]
			e := readELF(t, readelf, obj)
			if obj != bin && (e.rpath != "" || e.runpath != "") {
				t.Errorf("%s has RPATH %q, RUNPATH %q; want neither (the binary's RPATH finds everything)", filepath.Base(obj), e.rpath, e.runpath)
			}
			// MemoryDenyWriteExecute in the unit: no text relocations, no executable stack.
			if e.textrel || e.execStack {
				t.Errorf("%s: text relocations %v, executable stack %v; systemd's MemoryDenyWriteExecute would refuse it", filepath.Base(obj), e.textrel, e.execStack)
			}
			for _, n := range e.needed {
				if !bundled[n] {
					t.Errorf("%s needs %s, which lib/ lacks", filepath.Base(obj), n)
					continue
				}
				if !reached[n] {
					reached[n] = true
					queue = append(queue, filepath.Join(lib, n))
				}
			}
		}
		for n := range bundled {
			if !reached[n] {
				t.Errorf("lib/%s is needed by nothing", n)
			}
		}
		// x265 (GPL, an encoder) is our stub, not Debian's.
		if e := readELF(t, readelf, filepath.Join(lib, "libx265.so.199")); len(e.needed) != 0 {
			t.Errorf("lib/libx265.so.199 needs %q; want our stub, which needs nothing", e.needed)
		}
		if _, err := os.Stat(filepath.Join(lib, "libnuma.so.1")); err == nil {
			t.Error("lib/ has libnuma.so.1 (x265's): want the x265 stub, which needs nothing")
		}

		// Each bundled library has a row in SOURCES, and its package's copyright file is there.
		sources, err := os.ReadFile(filepath.Join(app, "licenses", "SOURCES"))
		if err != nil {
			t.Fatal(err)
		}
		rows := map[string][]string{}
		sc := bufio.NewScanner(bytes.NewReader(sources))
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) >= 4 {
				rows[f[0]] = f[1:]
			}
		}
		for n := range bundled {
			row, ok := rows[n]
			switch {
			case !ok:
				t.Errorf("licenses/SOURCES has no row for lib/%s:\n%s", n, sources)
			case row[0] == "mediashare":
			default:
				if _, err := os.Stat(filepath.Join(app, "licenses", row[0], "copyright")); err != nil {
					t.Errorf("lib/%s comes from %s, whose copyright file licenses/%s/copyright is missing", n, row[0], row[0])
				}
			}
		}
		// The common licences the copyright files point to are there too.
		copyrights, _ := filepath.Glob(filepath.Join(app, "licenses", "*", "copyright"))
		ref := regexp.MustCompile(`/usr/share/common-licenses/([A-Za-z0-9.+_-]*[A-Za-z0-9+_-])`)
		for _, c := range copyrights {
			b, _ := os.ReadFile(c)
			for _, m := range ref.FindAllStringSubmatch(string(b), -1) {
				if _, err := os.Stat(filepath.Join(app, "licenses", "common-licenses", m[1])); err != nil {
					t.Errorf("%s refers to %s, which licenses/common-licenses lacks", c, m[0])
				}
			}
		}
	})

	info, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	settings := map[string]string{}
	for _, line := range strings.Split(string(info), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "build" {
			k, v, _ := strings.Cut(f[1], "=")
			settings[k] = v
		}
	}
	for _, tag := range []string{"nativecodecs", "nativeheif", "netgo", "osusergo"} {
		if !strings.Contains(","+settings["-tags"]+",", ","+tag+",") {
			t.Errorf("build tags %q; want %s", settings["-tags"], tag)
		}
	}
	if settings["CGO_ENABLED"] != "1" || settings["GOARCH"] != "arm64" || settings["GOOS"] != "linux" {
		t.Errorf("built with CGO_ENABLED=%s GOOS=%s GOARCH=%s; want 1 linux arm64", settings["CGO_ENABLED"], settings["GOOS"], settings["GOARCH"])
	}

	qemu, err := exec.LookPath("qemu-aarch64-static")
	if err != nil {
		if os.Getenv(awstest.RequireEnv) == "1" {
			t.Fatalf("qemu-aarch64-static is missing: apt-get install -y qemu-user-static")
		}
		t.Skip("qemu-aarch64-static is missing (apt-get install -y qemu-user-static): the binary is not run")
	}
	// arm64 runs the binary with the archive as /opt/mediashare (-L: the
	// guest's / is root first, then the host's), and -strace shows every
	// file it opens.
	arm64 := func(t *testing.T, args ...string) (stdout, trace string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, qemu, append([]string{"-L", root, "-strace", bin}, args...)...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		if err := cmd.Run(); err != nil {
			t.Fatalf("mediashare %q under qemu: %v\n%s\n%s", args, err, o.String(), lastLines(e.String(), 20))
		}
		opened := ownLibrariesOnly(t, e.String())
		for _, want := range []string{"libheif.so.1", "libde265.so.0", "libc.so.6"} {
			if !slices.Contains(opened, installDir+"/lib/"+want) {
				t.Errorf("mediashare %q opened %q; want %s/lib/%s among them", args, opened, installDir, want)
			}
		}
		return o.String(), e.String()
	}

	t.Run("version", func(t *testing.T) {
		v, _ := arm64(t, "version")
		if !strings.Contains(v, "linux/arm64") || !strings.Contains(v, "decoders: native") || !regexp.MustCompile(`libheif 1\.\d+`).MatchString(v) {
			t.Errorf("mediashare version under qemu printed %q; want linux/arm64, native decoders and libheif's version", v)
		}
	})

	// A HEIC (HEVC: libde265) and a 10-bit AVIF (AV1: dav1d) decoded by
	// the bundled libraries into thumbnails of the right size and colour.
	src := image.NewNRGBA(image.Rect(0, 0, 96, 64))
	fill := color.NRGBA{R: 200, G: 60, B: 40, A: 255}
	for p := 0; p < len(src.Pix); p += 4 {
		src.Pix[p], src.Pix[p+1], src.Pix[p+2], src.Pix[p+3] = fill.R, fill.G, fill.B, fill.A
	}
	for _, tc := range []struct {
		name string
		data func(testing.TB) []byte
	}{
		{"heic", func(t testing.TB) []byte { return mediatest.HEIC(t, src) }},
		{"avif", func(t testing.TB) []byte { return mediatest.AVIF(t, src, 10) }},
	} {
		t.Run("thumbnail of a "+tc.name, func(t *testing.T) {
			dir := t.TempDir()
			in, thumb := filepath.Join(dir, "in."+tc.name), filepath.Join(dir, "out.png")
			if err := os.WriteFile(in, tc.data(t), 0o644); err != nil {
				t.Fatal(err)
			}
			arm64(t, "thumbnail", in, thumb)
			b, err := os.ReadFile(thumb)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("the thumbnail is no PNG: %v", err)
			}
			if got := img.Bounds().Size(); got != (image.Point{96, 64}) {
				t.Errorf("thumbnail is %v; want 96x64 (never upscaled)", got)
			}
			r, g, bl, _ := img.At(48, 32).RGBA()
			if d := max(absDiff(r>>8, uint32(fill.R)), absDiff(g>>8, uint32(fill.G)), absDiff(bl>>8, uint32(fill.B))); d > 12 {
				t.Errorf("thumbnail's centre is %d,%d,%d; want about %d,%d,%d", r>>8, g>>8, bl>>8, fill.R, fill.G, fill.B)
			}
		})
	}
}

// elfInfo is what the release test reads from an ELF file's headers.
type elfInfo struct {
	interp, rpath, runpath string
	needed                 []string
	textrel, execStack     bool
}

var (
	neededRe  = regexp.MustCompile(`\(NEEDED\)\s+Shared library: \[(.+)\]`)
	rpathRe   = regexp.MustCompile(`\(RPATH\)\s+Library rpath: \[(.+)\]`)
	runpathRe = regexp.MustCompile(`\(RUNPATH\)\s+Library runpath: \[(.+)\]`)
	interpRe  = regexp.MustCompile(`\[Requesting program interpreter: (.+)\]`)
)

func readELF(t *testing.T, readelf, path string) elfInfo {
	t.Helper()
	b, err := exec.Command(readelf, "-dlW", path).CombinedOutput()
	if err != nil {
		t.Fatalf("readelf %s: %v\n%s", path, err, b)
	}
	s := string(b)
	var e elfInfo
	for _, m := range neededRe.FindAllStringSubmatch(s, -1) {
		e.needed = append(e.needed, m[1])
	}
	if m := rpathRe.FindStringSubmatch(s); m != nil {
		e.rpath = m[1]
	}
	if m := runpathRe.FindStringSubmatch(s); m != nil {
		e.runpath = m[1]
	}
	if m := interpRe.FindStringSubmatch(s); m != nil {
		e.interp = m[1]
	}
	e.textrel = strings.Contains(s, "TEXTREL")
	// GNU_STACK Offset VirtAddr PhysAddr FileSiz MemSiz Flg… Align: an E
	// among the flags asks for an executable stack, and so does no header.
	e.execStack = true
	for _, line := range strings.Split(s, "\n") {
		if f := strings.Fields(line); len(f) >= 8 && f[0] == "GNU_STACK" {
			e.execStack = strings.Contains(strings.Join(f[6:len(f)-1], ""), "E")
		}
	}
	return e
}

// openRe matches a successful open in qemu's -strace output.
var openRe = regexp.MustCompile(`\bopenat\(AT_FDCWD,"([^"]+)",[^)]*\) = (\d+)`)

// ownLibrariesOnly fails the test when the traced process opened a shared
// library (or the loader's cache or preload list) from anywhere but the
// bundled lib/; it returns the libraries it opened.
func ownLibrariesOnly(t *testing.T, trace string) []string {
	t.Helper()
	var libs []string
	for _, m := range openRe.FindAllStringSubmatch(trace, -1) {
		p := m[1]
		base := filepath.Base(p)
		isLib := strings.Contains(base, ".so") || strings.HasPrefix(p, "/etc/ld.so")
		if !isLib {
			continue
		}
		if filepath.Dir(p) != installDir+"/lib" {
			t.Errorf("opened %s: a library from outside %s/lib", p, installDir)
			continue
		}
		libs = append(libs, p)
	}
	if len(libs) == 0 {
		t.Fatalf("the trace shows no library opened; is -strace working?\n%s", lastLines(trace, 20))
	}
	return libs
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// TestBuildTags: the run and build tasks use the native decoders when
// pkg-config finds their libraries, and MEDIASHARE_TAGS=none forces pure Go.
func TestBuildTags(t *testing.T) {
	script := filepath.Join("..", "scripts", "buildtags.sh")
	tags := func(env ...string) string {
		cmd := exec.Command("bash", script)
		cmd.Env = append(os.Environ(), env...)
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("buildtags.sh %v: %v", env, err)
		}
		return strings.TrimSpace(string(b))
	}
	if got := tags("MEDIASHARE_TAGS=none"); got != "" {
		t.Errorf("MEDIASHARE_TAGS=none gave %q; want no tags", got)
	}
	if got := tags("PKG_CONFIG_LIBDIR=" + t.TempDir()); got != "" {
		t.Errorf("with no libraries found: %q; want no tags", got)
	}
	if exec.Command("pkg-config", "--exists", "libturbojpeg", "libwebp").Run() == nil {
		if got := tags(); !strings.Contains(got, "nativecodecs") {
			t.Errorf("with libturbojpeg and libwebp installed: %q; want nativecodecs", got)
		}
	} else if os.Getenv(awstest.RequireEnv) == "1" {
		t.Fatal("libturbojpeg and libwebp are missing: apt-get install -y pkg-config libturbojpeg0-dev libwebp-dev")
	}
}
