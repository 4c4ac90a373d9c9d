package main

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestProcessMemory(t *testing.T) {
	const GiB = 1 << 30
	meminfo := &fstest.MapFile{Data: []byte("MemTotal:        8388608 kB\nMemFree: 1 kB\n")}
	tests := []struct {
		name      string
		files     fstest.MapFS
		goLimit   int64
		want      int64
		wantSince string
	}{
		{"RAM only", fstest.MapFS{"proc/meminfo": meminfo}, 0, 8 * GiB, "RAM"},
		{"cgroup v2 limit", fstest.MapFS{
			"proc/meminfo":     meminfo,
			"proc/self/cgroup": {Data: []byte("0::/system.slice/mediashare.service\n")},
			"sys/fs/cgroup/system.slice/mediashare.service/memory.max": {Data: []byte("2147483648\n")},
			"sys/fs/cgroup/system.slice/memory.max":                    {Data: []byte("max\n")},
		}, 0, 2 * GiB, "memory.max"},
		{"cgroup v2, the parent is tighter", fstest.MapFS{
			"proc/meminfo":                 meminfo,
			"proc/self/cgroup":             {Data: []byte("0::/a/b\n")},
			"sys/fs/cgroup/a/b/memory.max": {Data: []byte("max\n")},
			"sys/fs/cgroup/a/memory.max":   {Data: []byte("1073741824\n")},
		}, 0, 1 * GiB, "/sys/fs/cgroup/a/memory.max"},
		{"cgroup v2 in a container (the mount is the cgroup)", fstest.MapFS{
			"proc/meminfo":             meminfo,
			"proc/self/cgroup":         {Data: []byte("0::/\n")},
			"sys/fs/cgroup/memory.max": {Data: []byte("536870912\n")},
		}, 0, GiB / 2, "memory.max"},
		{"cgroup v1", fstest.MapFS{
			"proc/meminfo":     meminfo,
			"proc/self/cgroup": {Data: []byte("5:cpu,cpuacct:/x\n4:memory:/docker/abc\n0::/\n")},
			"sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes": {Data: []byte("3221225472\n")},
			"sys/fs/cgroup/memory/memory.limit_in_bytes":            {Data: []byte("9223372036854771712\n")},
		}, 0, 3 * GiB, "memory.limit_in_bytes"},
		{"cgroup v1 unlimited", fstest.MapFS{
			"proc/meminfo":     meminfo,
			"proc/self/cgroup": {Data: []byte("4:memory:/\n")},
			"sys/fs/cgroup/memory/memory.limit_in_bytes": {Data: []byte("9223372036854771712\n")},
		}, 0, 8 * GiB, "RAM"},
		{"GOMEMLIMIT below the cgroup", fstest.MapFS{
			"proc/meminfo":             meminfo,
			"proc/self/cgroup":         {Data: []byte("0::/\n")},
			"sys/fs/cgroup/memory.max": {Data: []byte("4294967296\n")},
		}, GiB, GiB, "GOMEMLIMIT"},
		{"nothing known", fstest.MapFS{}, 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, from := processMemory(tt.files, tt.goLimit)
			if got != tt.want || !strings.Contains(from, tt.wantSince) {
				t.Errorf("got %d from %q, want %d from …%s…", got, from, tt.want, tt.wantSince)
			}
		})
	}
	if got := defaultDecodeMemory(2 * GiB); got != GiB {
		t.Errorf("default for 2 GiB: got %d, want half", got)
	}
	if got := defaultDecodeMemory(0); got != minDecodeMemory {
		t.Errorf("default when nothing is known: got %d, want %d", got, minDecodeMemory)
	}
}

func TestDecodeMemoryFlag(t *testing.T) {
	parseArgs := func(args ...string) (config, error) {
		var c config
		fs := newFlagSet("serve", &c)
		fs.SetOutput(new(strings.Builder))
		if err := parse(fs, args); err != nil {
			return c, err
		}
		return c, c.validate()
	}
	c, err := parseArgs("--decode-memory", "512MiB")
	if err != nil || c.DecodeMemory != 512<<20 {
		t.Fatalf("--decode-memory 512MiB: got %d, %v", c.DecodeMemory, err)
	}
	t.Setenv("MEDIASHARE_DECODE_MEMORY", "1GiB")
	if c, err := parseArgs(); err != nil || c.DecodeMemory != 1<<30 {
		t.Fatalf("MEDIASHARE_DECODE_MEMORY=1GiB: got %d, %v", c.DecodeMemory, err)
	}
	if c, err := parseArgs("--decode-memory", "256MiB"); err != nil || c.DecodeMemory != 256<<20 {
		t.Fatalf("the flag wins over the environment: got %d, %v", c.DecodeMemory, err)
	}
	t.Setenv("MEDIASHARE_DECODE_MEMORY", "")
	for _, bad := range []string{"-1", "0", "lots", "1MiB", "12.5GiB", "9999999999999GiB"} {
		t.Run(bad, func(t *testing.T) {
			_, err := parseArgs("--decode-memory", bad)
			if err == nil || !strings.Contains(err.Error(), "decode-memory") {
				t.Errorf("got %v, want an error naming --decode-memory", err)
			}
		})
	}
	t.Setenv("MEDIASHARE_DECODE_MEMORY", "plenty")
	if _, err := parseArgs(); err == nil || !strings.Contains(err.Error(), "MEDIASHARE_DECODE_MEMORY") {
		t.Errorf("bad environment value: got %v, want an error naming MEDIASHARE_DECODE_MEMORY", err)
	}
}
