package thumbnail

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"io"

	"golang.org/x/image/webp"
)

// decodeWebP decodes a WebP file; an animated one gives its first frame,
// placed on the canvas, as an animated GIF does. golang.org/x/image/webp
// reads still images only, so the first ANMF frame's bitstream (VP8L, or
// VP8 with its ALPH chunk) is wrapped as a still WebP of its own and
// decoded by it. The first frame is drawn on a transparent canvas (what
// browsers show; disposal and blending concern the frames after it).
func decodeWebP(r io.Reader) (image.Image, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	frame, ok, err := firstWebPFrame(data)
	if err != nil {
		return nil, err
	}
	if !ok {
		return webp.Decode(bytes.NewReader(data))
	}
	return frame, nil
}

// webpFrame is the header of an ANMF chunk.
type webpFrame struct {
	x, y, w, h int
	chunks     []byte // the frame's ALPH/VP8/VP8L chunks
}

// firstWebPFrame returns the first frame of an animated WebP on its
// canvas, or ok false when data is no animation.
func firstWebPFrame(data []byte) (image.Image, bool, error) {
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		return nil, false, nil
	}
	var cw, ch int
	animated := false
	for off := 12; off+8 <= len(data); {
		typ := string(data[off : off+4])
		n := int(binary.LittleEndian.Uint32(data[off+4:]))
		body := off + 8
		if n < 0 || n > len(data)-body {
			return nil, true, errors.New("webp: chunk runs past the end of the file")
		}
		p := data[body : body+n]
		switch typ {
		case "VP8X":
			if n < 10 {
				return nil, true, errors.New("webp: short VP8X chunk")
			}
			animated = p[0]&0x02 != 0
			cw, ch = int(u24(p[4:]))+1, int(u24(p[7:]))+1
			if !animated {
				return nil, false, nil
			}
		case "ANMF":
			if !animated {
				return nil, false, nil
			}
			if n < 16 {
				return nil, true, errors.New("webp: short ANMF chunk")
			}
			f := webpFrame{x: 2 * int(u24(p)), y: 2 * int(u24(p[3:])), w: int(u24(p[6:])) + 1, h: int(u24(p[9:])) + 1, chunks: p[16:]}
			if f.x+f.w > cw || f.y+f.h > ch {
				return nil, true, fmt.Errorf("webp: first frame %d×%d at (%d, %d) outside the %d×%d canvas", f.w, f.h, f.x, f.y, cw, ch)
			}
			img, err := decodeFrame(f)
			if err != nil {
				return nil, true, err
			}
			canvas := image.NewNRGBA(image.Rect(0, 0, cw, ch))
			draw.Draw(canvas, image.Rect(f.x, f.y, f.x+f.w, f.y+f.h), img, img.Bounds().Min, draw.Src)
			return canvas, true, nil
		}
		off = body + n + n&1
	}
	if animated {
		return nil, true, errors.New("webp: an animation without frames")
	}
	return nil, false, nil
}

// decodeFrame decodes one frame's bitstream as a still WebP.
func decodeFrame(f webpFrame) (image.Image, error) {
	var alph, vp8 []byte
	for off := 0; off+8 <= len(f.chunks); {
		typ := string(f.chunks[off : off+4])
		n := int(binary.LittleEndian.Uint32(f.chunks[off+4:]))
		if n < 0 || n > len(f.chunks)-off-8 {
			return nil, errors.New("webp: frame chunk runs past its frame")
		}
		whole := f.chunks[off : off+8+n]
		switch typ {
		case "ALPH":
			alph = whole
		case "VP8 ", "VP8L":
			vp8 = whole
		}
		off += 8 + n + n&1
		if vp8 != nil {
			break
		}
	}
	if vp8 == nil {
		return nil, errors.New("webp: a frame without a bitstream")
	}
	var chunks [][]byte
	if alph != nil && string(vp8[:4]) == "VP8 " {
		x := []byte{0x10, 0, 0, 0} // VP8X: has alpha
		x = appendU24(x, uint32(f.w-1))
		x = appendU24(x, uint32(f.h-1))
		chunks = append(chunks, riffChunk("VP8X", x), pad(alph))
	}
	chunks = append(chunks, pad(vp8))
	var body []byte
	for _, c := range chunks {
		body = append(body, c...)
	}
	file := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(4+len(body)))...)
	file = append(append(file, "WEBP"...), body...)
	img, err := webp.Decode(bytes.NewReader(file))
	if err != nil {
		return nil, err
	}
	if b := img.Bounds(); b.Dx() != f.w || b.Dy() != f.h {
		return nil, fmt.Errorf("webp: frame is %v, its header says %d×%d", b.Size(), f.w, f.h)
	}
	return img, nil
}

func u24(b []byte) uint32 { return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 }

func appendU24(b []byte, v uint32) []byte { return append(b, byte(v), byte(v>>8), byte(v>>16)) }

func riffChunk(typ string, p []byte) []byte {
	c := append([]byte(typ), binary.LittleEndian.AppendUint32(nil, uint32(len(p)))...)
	return pad(append(c, p...))
}

// pad adds the byte that brings a whole chunk to an even length.
func pad(c []byte) []byte {
	if len(c)%2 == 1 {
		return append(bytes.Clone(c), 0)
	}
	return c
}
