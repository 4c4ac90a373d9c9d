package limits

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to begin writing n bytes of f from off
// to the disk, without waiting for it (sync_file_range with
// SYNC_FILE_RANGE_WRITE): the data of a large upload goes to the disk
// while the rest arrives, so the fsync that makes it durable at the end
// finds little left to write. It is advice: errors are ignored.
func startWriteback(f *os.File, off, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
	})
}
