package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path"
	"runtime/debug"
	"strconv"
	"strings"
)

// processMemory is the memory this process may use, and where that
// figure came from: the tightest of its cgroup's limit (v2 memory.max,
// v1 memory.limit_in_bytes, on its own cgroup and every parent), the
// GOMEMLIMIT the operator set, and the machine's RAM. root is the file
// system root ("/" but in tests); goMemLimit is the runtime's soft limit
// when the operator set GOMEMLIMIT, else 0.
func processMemory(root fs.FS, goMemLimit int64) (int64, string) {
	limit, source := int64(math.MaxInt64), ""
	consider := func(n int64, what string) {
		if n > 0 && n < limit {
			limit, source = n, what
		}
	}
	consider(memTotal(root), "the machine's RAM")
	n, what := cgroupLimit(root)
	consider(n, what)
	consider(goMemLimit, "GOMEMLIMIT")
	if source == "" {
		return 0, ""
	}
	return limit, source
}

// memTotal reads MemTotal from /proc/meminfo, in bytes (0 when unknown).
func memTotal(root fs.FS) int64 {
	b, err := fs.ReadFile(root, "proc/meminfo")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// cgroupLimit finds the tightest memory limit of the process' cgroup and
// its parents (0 when there is none).
func cgroupLimit(root fs.FS) (int64, string) {
	b, err := fs.ReadFile(root, "proc/self/cgroup")
	if err != nil {
		return 0, ""
	}
	var best int64
	var where string
	take := func(file string) {
		n := readLimit(root, file)
		if n > 0 && (best == 0 || n < best) {
			best, where = n, "the cgroup limit ("+"/"+file+")"
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		// hierarchy-ID:controllers:path
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		var base, file string
		switch {
		case parts[0] == "0" && parts[1] == "": // v2
			base, file = "sys/fs/cgroup", "memory.max"
		case hasController(parts[1], "memory"): // v1
			base, file = "sys/fs/cgroup/memory", "memory.limit_in_bytes"
		default:
			continue
		}
		// The cgroup's own directory and each parent up to the mount
		// (in a container the mount may already be the cgroup itself).
		for dir := path.Clean("/" + parts[2]); ; dir = path.Dir(dir) {
			take(strings.TrimPrefix(path.Join(base, dir, file), "/"))
			if dir == "/" {
				break
			}
		}
	}
	return best, where
}

func hasController(list, name string) bool {
	for _, c := range strings.Split(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}

// readLimit reads a cgroup limit file: a number of bytes, "max" or a
// huge number (v1's way of saying none) mean no limit (0).
func readLimit(root fs.FS, file string) int64 {
	b, err := fs.ReadFile(root, file)
	if err != nil {
		return 0
	}
	s := strings.TrimSpace(string(b))
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n >= 1<<62 {
		return 0
	}
	return n
}

// operatorGoMemLimit is the runtime's soft memory limit when the operator
// set GOMEMLIMIT, else 0.
func operatorGoMemLimit() int64 {
	if v, ok := os.LookupEnv("GOMEMLIMIT"); !ok || v == "" || v == "off" {
		return 0
	}
	if n := debug.SetMemoryLimit(-1); n != math.MaxInt64 {
		return n
	}
	return 0
}

// goMemLimitShare is the part of the process' memory given to the Go
// runtime as its soft limit when the operator did not set GOMEMLIMIT:
// the rest is for the stack, cgo codecs and the kernel's page cache.
const goMemLimitShare = 0.9

// sizeMemory fills the decode budget from the memory the process may use
// when --decode-memory was not given (half of it), and sets the Go
// runtime's soft limit from the same figure when the operator did not set
// GOMEMLIMIT. It logs what it chose. Only `serve` calls it: the runtime
// limit is the process'.
func (c *config) sizeMemory(log *slog.Logger) {
	set := operatorGoMemLimit()
	limit, source := processMemory(os.DirFS("/"), set)
	if c.DecodeMemory == 0 {
		c.DecodeMemory = defaultDecodeMemory(limit)
	}
	if set == 0 && limit > 0 {
		debug.SetMemoryLimit(int64(float64(limit) * goMemLimitShare))
	}
	log.Info("memory", "limit", formatMiB(limit), "from", source,
		"decode_memory", formatMiB(c.DecodeMemory), "gomemlimit", formatMiB(debug.SetMemoryLimit(-1)))
}

// defaultDecodeMemory is half the memory the process may use, at least
// minDecodeMemory (and that also when nothing is known).
func defaultDecodeMemory(limit int64) int64 {
	return max(limit/2, minDecodeMemory)
}

// minDecodeMemory is the smallest --decode-memory accepted: enough for
// the thumbnails of ordinary photographs.
const minDecodeMemory = 64 << 20

func formatMiB(n int64) string {
	if n <= 0 || n == math.MaxInt64 {
		return "none"
	}
	return fmt.Sprintf("%dMiB", n>>20)
}
