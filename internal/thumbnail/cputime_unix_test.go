//go:build unix

package thumbnail

import (
	"syscall"
	"time"
)

// processCPU is the CPU time this process has used, user and system: the
// benchmarks report it beside the wall time, which a loaded machine
// inflates.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
