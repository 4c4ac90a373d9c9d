package ops_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"mediashare/internal/awstest"
)

const installCross = "dpkg --add-architecture arm64 && apt-get update && apt-get install -y gcc-aarch64-linux-gnu libc6-dev-arm64-cross libturbojpeg0-dev:arm64 libwebp-dev:arm64 file"

// TestReleaseArchive builds the stack's release archive with
// ops/scripts/package.sh and inspects the binary inside: linux/arm64,
// built with cgo and the nativecodecs tag, statically linked (the
// instances need no image libraries and no particular glibc). Where
// qemu-aarch64-static is installed, the binary runs and reports its
// native decoders.
func TestReleaseArchive(t *testing.T) {
	tool(t, "aarch64-linux-gnu-gcc", installCross)
	fileTool := tool(t, "file", "apt-get install -y file")
	if _, err := os.Stat("/usr/lib/aarch64-linux-gnu/pkgconfig/libturbojpeg.pc"); err != nil {
		if os.Getenv(awstest.RequireEnv) == "1" {
			t.Fatalf("the arm64 image libraries are missing: %s", installCross)
		}
		t.Skipf("the arm64 image libraries are missing (%s)", installCross)
	}
	out := t.TempDir()
	cmd := exec.Command("bash", filepath.Join("scripts", "package.sh"), "test")
	cmd.Env = append(os.Environ(), "OUT_DIR="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("package.sh: %v\n%s", err, b)
	}
	archive := filepath.Join(out, "mediashare-test-linux-arm64.tar.gz")
	x := t.TempDir()
	if b, err := exec.Command("tar", "-xzf", archive, "-C", x).CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, b)
	}
	for _, f := range []string{"mediashare", "ops/systemd/mediashare.service", "ops/cloudwatch/amazon-cloudwatch-agent.json"} {
		if _, err := os.Stat(filepath.Join(x, f)); err != nil {
			t.Errorf("archive lacks %s", f)
		}
	}
	bin := filepath.Join(x, "mediashare")

	desc, err := exec.Command(fileTool, "-b", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ARM aarch64", "statically linked"} {
		if !strings.Contains(string(desc), want) {
			t.Errorf("file says %q; want it to contain %q", strings.TrimSpace(string(desc)), want)
		}
	}

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
	if !strings.Contains(","+settings["-tags"]+",", ",nativecodecs,") {
		t.Errorf("build tags %q; want nativecodecs", settings["-tags"])
	}
	if settings["CGO_ENABLED"] != "1" || settings["GOARCH"] != "arm64" || settings["GOOS"] != "linux" {
		t.Errorf("built with CGO_ENABLED=%s GOOS=%s GOARCH=%s; want 1 linux arm64", settings["CGO_ENABLED"], settings["GOOS"], settings["GOARCH"])
	}

	if qemu, err := exec.LookPath("qemu-aarch64-static"); err == nil {
		b, err := exec.Command(qemu, bin, "version").CombinedOutput()
		if err != nil {
			t.Fatalf("running the arm64 binary under qemu: %v\n%s", err, b)
		}
		if !strings.Contains(string(b), "linux/arm64") || !strings.Contains(string(b), "decoders: native") {
			t.Errorf("mediashare version under qemu printed %q; want linux/arm64 with native decoders", b)
		}
	} else if os.Getenv(awstest.RequireEnv) == "1" {
		t.Fatalf("qemu-aarch64-static is missing: apt-get install -y qemu-user-static")
	}
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
