package limits

import (
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Disk watches the free space of the volume that holds a directory.
// Check is cheap: the volume is asked at most once a second.
type Disk struct {
	Dir     string
	MinFree uint64 // below this, uploads are refused
	// Free reports the bytes free for dir (statfs by default; tests may
	// replace it).
	Free func(dir string) (uint64, error)

	mu      sync.Mutex
	checked time.Time
	free    uint64
	err     error
}

// Check returns a 507 refusal when the volume has less than MinFree bytes
// free. A volume that cannot be asked does not block uploads.
func (d *Disk) Check() error {
	if d == nil || d.MinFree == 0 {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if time.Since(d.checked) >= time.Second {
		free := d.Free
		if free == nil {
			free = freeBytes
		}
		d.free, d.err = free(d.Dir)
		d.checked = time.Now()
	}
	if d.err == nil && d.free < d.MinFree {
		return &Refusal{Status: http.StatusInsufficientStorage, RetryAfter: time.Minute, Reason: ReasonDiskLow,
			Message: "The server is running out of storage space, so it is not taking uploads for now. Browsing still works."}
	}
	return nil
}

// FreeBytes reports the bytes free to unprivileged users on dir's volume.
func FreeBytes(dir string) (uint64, error) {
	n, err := freeBytes(dir)
	if err != nil {
		return 0, fmt.Errorf("limits: free space of %s: %w", dir, err)
	}
	return n, nil
}
