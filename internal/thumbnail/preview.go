package thumbnail

import (
	"context"
	"io"
)

// MakePreview makes only the entry page's preview of the image in r: the
// rendition whose longest side is opts.PreviewSide (DefaultPreviewSide
// when zero), JPEG, or PNG when the image has transparency, stood upright
// and in sRGB as Make makes it, admitted by opts.Limiter against the same
// memory budget. It returns nil for an image no larger than the grid
// thumbnail (opts.MaxSide), which gets no preview. The grid thumbnail is
// Make's job (with PreviewSide 0); the site makes the preview after it,
// at a lower priority.
func MakePreview(ctx context.Context, r io.ReadSeeker, opts Options) (*Rendition, error) {
	if opts.PreviewSide <= 0 {
		opts.PreviewSide = DefaultPreviewSide
	}
	opts.previewOnly = true
	res, err := Make(ctx, r, opts)
	if err != nil {
		return nil, err
	}
	return res.Preview, nil
}
