package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"mediashare/internal/events"
	"mediashare/internal/media/mediatest"
)

// An upload spooled under the data directory is stored without a copy
// (fileblob renames it into the media store; s3blob uploads the file) and
// one spooled on another file system is copied: either way the stored
// object is the upload without its location, the event's checksum and
// size are the stored object's, and the spool is empty afterwards.
func TestSpooledUploadReachesTheStore(t *testing.T) { backends(t, testSpooledUploadReachesTheStore) }

func testSpooledUploadReachesTheStore(t *testing.T, start func(func(*config)) *site) {
	jpg, err := mediatest.JPEGWithMetadata(image.NewRGBA(image.Rect(0, 0, 40, 20)), mediatest.ExifWithGPS(6), mediatest.XMPWithLocation)
	if err != nil {
		t.Fatal(err)
	}
	spools := map[string]string{"under the data directory": ""}
	var shm, tmp syscall.Stat_t
	if syscall.Stat("/dev/shm", &shm) == nil && syscall.Stat(os.TempDir(), &tmp) == nil && shm.Dev != tmp.Dev {
		d, err := os.MkdirTemp("/dev/shm", "mediashare-spool-")
		if err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			spools["on another file system"] = d
		}
	}
	for name, dir := range spools {
		t.Run(name, func(t *testing.T) {
			s := start(func(c *config) { c.SpoolDir = dir })
			spool := dir
			if spool == "" {
				spool = filepath.Join(s.data, "spool")
			}
			c := browser(t)
			resp := s.post(c, "/entries", uploadParts("spooled", "c", "gps.jpg", "image/jpeg", jpg), false)
			readBody(t, resp)
			if resp.StatusCode != 303 {
				t.Fatalf("upload: %d, want 303", resp.StatusCode)
			}
			var up events.Uploaded
			for _, e := range s.events() {
				if e.Type == events.MediaUploaded {
					if err := e.Decode(&up); err != nil {
						t.Fatal(err)
					}
				}
			}
			stored := readBody(t, s.get(c, "/media/"+up.Original))
			sum := sha256.Sum256(stored)
			if hex.EncodeToString(sum[:]) != up.SHA256 || int64(len(stored)) != up.Size {
				t.Errorf("the event says %s, %d bytes; the stored object is %x, %d bytes", up.SHA256, up.Size, sum, len(stored))
			}
			if len(stored) != len(jpg) || bytes.Contains(stored, []byte("GPSLatitude")) || bytes.Contains(stored, []byte("Paris")) {
				t.Errorf("stored %d bytes (XMP left: %v), want the %d uploaded without location", len(stored), bytes.Contains(stored, []byte("GPSLatitude")), len(jpg))
			}
			waitFor(t, "an empty spool", func() bool {
				left, _ := os.ReadDir(spool)
				return len(left) == 0
			})
		})
	}
}
