package thumbdump

import (
	"context"
	"os"
	"testing"

	"mediashare/internal/media/mediatest"
	"mediashare/internal/thumbnail"
)

func TestDump(t *testing.T) {
	for _, p := range mediatest.Photos() {
		f, _ := os.Open(mediatest.Photo(t, p.Name))
		res, err := thumbnail.Make(context.Background(), f, thumbnail.Options{})
		if err != nil { t.Fatal(err) }
		os.WriteFile("/tmp/thumbdump/"+p.Name+".png", res.PNG, 0o644)
		t.Log(p.Name, res.Width, res.Height, res.Placeholder, len(res.PNG))
	}
}
