package thumbnail

import (
	"image"
	"math/bits"
	"sync"
)

// Working buffers. A burst of uploads makes the same sizes of image over
// and over; allocating them fresh costs a page fault and a clear per byte
// (about a sixth of a thumbnail's time), so the decode buffers, the
// resizers' temporaries and the intermediate images come from pools and
// go back when Make returns: nothing Make returns points into them.
//
// The pools are by size class, four classes an octave (a buffer is at
// most a fifth larger than asked for), from 64 KiB to 64 MiB; outside
// that range a buffer is allocated as usual. A pooled buffer is not
// cleared: every user writes each byte it reads.

const (
	minPooled   = 64 << 10
	maxPooled   = 64 << 20
	classesPer2 = 4
)

var bufPools [classesPer2 * 28]sync.Pool // of *[]byte; class c holds cap classSize(c)

// sizeClass is the smallest class whose size is at least n.
func sizeClass(n int) int {
	e := bits.Len(uint(n)) - 1 // 2^e <= n < 2^(e+1)
	base := 1 << e
	j := ((n-base)*classesPer2 + base - 1) / base // 0..classesPer2
	return e*classesPer2 + j
}

func classSize(c int) int {
	e, j := c/classesPer2, c%classesPer2
	return (1 << e) * (classesPer2 + j) / classesPer2
}

// scratch is one Make call's working buffers, given back together by
// release. A nil *scratch allocates as usual and gives nothing back.
type scratch struct {
	mu   sync.Mutex // the resizers' workers take buffers concurrently
	held []*[]byte
	// opaque, when set, says that every image made in this call is
	// opaque, sparing the resizers and encoders a look at each alpha.
	opaque bool
}

// bytes returns a buffer of n bytes whose contents are undefined.
func (s *scratch) bytes(n int) []byte {
	if s == nil || n < minPooled || n > maxPooled {
		return make([]byte, n)
	}
	c := sizeClass(n)
	var p *[]byte
	if v := bufPools[c].Get(); v != nil {
		p = v.(*[]byte)
	} else {
		b := make([]byte, classSize(c))
		p = &b
	}
	s.mu.Lock()
	s.held = append(s.held, p)
	s.mu.Unlock()
	return (*p)[:n]
}

// rgba returns a w×h RGBA image whose pixels are undefined.
func (s *scratch) rgba(w, h int) *image.RGBA {
	return &image.RGBA{Pix: s.bytes(4 * w * h), Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}
}

// release gives every buffer back; none may be used after.
func (s *scratch) release() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.held {
		bufPools[sizeClass(cap(*p))].Put(p)
	}
	s.held = nil
}
