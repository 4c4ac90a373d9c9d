package fileblob_test

import (
	"os"
	"path/filepath"
	"testing"

	"mediashare/internal/blob"
	"mediashare/internal/blob/blobtest"
	"mediashare/internal/blob/fileblob"
)

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		dir := t.TempDir()
		s, err := fileblob.New(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			// Nothing may be left in the temp area once a test is over.
			left, _ := os.ReadDir(filepath.Join(dir, ".tmp"))
			if len(left) > 0 {
				t.Errorf("temporary files left behind: %v", left)
			}
		})
		return s
	})
}
