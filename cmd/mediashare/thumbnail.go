package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"mediashare/internal/thumbnail"
)

// thumbnailCommand is `mediashare thumbnail FILE OUT`: it makes FILE's grid
// thumbnail as the site would (the same checks, decoders and limits) and
// writes the PNG to OUT, so an operator can see on an instance whether
// this build reads a file (a HEIC from a phone, say) without uploading it.
// OUT is written only when the thumbnail was made.
func thumbnailCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("thumbnail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	maxPixels := fs.Int64("max-pixels", 100_000_000, "largest image in pixels (width × height), as serve's --max-pixels")
	timeout := fs.Duration("thumbnail-timeout", 60*time.Second, "deadline for the thumbnail, as serve's --thumbnail-timeout")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mediashare thumbnail [flags] FILE OUT\n\nMakes FILE's grid thumbnail as the site would and writes it to OUT (PNG).")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return errors.New("thumbnail: want FILE and OUT")
	}
	if *maxPixels <= 0 {
		return fmt.Errorf("thumbnail: --max-pixels (%s) must be positive", envName("max-pixels"))
	}
	if *timeout <= 0 {
		return fmt.Errorf("thumbnail: --thumbnail-timeout (%s) must be positive", envName("thumbnail-timeout"))
	}
	in, out := fs.Arg(0), fs.Arg(1)
	f, err := os.Open(in)
	if err != nil {
		return fmt.Errorf("thumbnail: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return fmt.Errorf("thumbnail: %w", err)
	} else if !st.Mode().IsRegular() {
		return fmt.Errorf("thumbnail: %s is not a regular file", in)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	res, err := thumbnail.Make(ctx, f, thumbnail.Options{MaxPixels: *maxPixels})
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if err := writeFileAtomic(out, res.PNG); err != nil {
		return fmt.Errorf("thumbnail: %w", err)
	}
	fmt.Fprintf(stdout, "%s: %dx%d PNG, placeholder %s (decoders: %s)\n", out, res.Width, res.Height, res.Placeholder, decoders())
	return nil
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it over path, so path is either whole or untouched.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
