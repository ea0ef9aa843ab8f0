package vision

import (
	"image"
	"math"

	"gocv.io/x/gocv"
)

// Picture is a camera frame as 8-bit RGB (Channels 3) or grey (1) pixels,
// row-major, for a model that takes the camera's picture as its input.
type Picture struct {
	Pix           []byte
	Width, Height int
	Channels      int
}

// CopyFrom copies src into p, reusing p's pixels.
func (p *Picture) CopyFrom(src *Picture) {
	pix := append(p.Pix[:0], src.Pix...)
	*p = *src
	p.Pix = pix
}

// Picturer scales camera frames down (or up) to the size a model needs,
// keeping their aspect, and turns OpenCV's BGR into RGB. It reuses one Mat
// and the picture's pixels, so it allocates nothing once sizes settle.
type Picturer struct {
	small gocv.Mat
}

// NewPicturer prepares a Picturer; Close frees it.
func NewPicturer() *Picturer { return &Picturer{small: gocv.NewMat()} }

// Close frees the Picturer's Mat.
func (p *Picturer) Close() { p.small.Close() }

// Make writes frame into dst at the smallest size that covers w×h with the
// frame's aspect: the model crops the rest about the middle. A frame that
// is empty, or neither BGR nor grey, leaves dst as it was and returns false.
func (p *Picturer) Make(frame gocv.Mat, w, h int, dst *Picture) bool {
	fw, fh, ch := frame.Cols(), frame.Rows(), frame.Channels()
	if frame.Empty() || fw < 1 || fh < 1 || w < 1 || h < 1 || (ch != 1 && ch != 3) || frame.Type()&7 != 0 {
		return false
	}
	s := math.Max(float64(w)/float64(fw), float64(h)/float64(fh))
	sw, sh := max(w, int(math.Ceil(float64(fw)*s-1e-9))), max(h, int(math.Ceil(float64(fh)*s-1e-9)))
	interp := gocv.InterpolationArea // averages when shrinking: no aliasing
	if s > 1 {
		interp = gocv.InterpolationLinear
	}
	gocv.Resize(frame, &p.small, image.Pt(sw, sh), 0, 0, interp)
	src, err := p.small.DataPtrUint8()
	if err != nil || len(src) != sw*sh*ch {
		return false
	}
	n := sw * sh * ch
	if cap(dst.Pix) < n {
		dst.Pix = make([]byte, n)
	}
	dst.Pix = dst.Pix[:n]
	dst.Width, dst.Height, dst.Channels = sw, sh, ch
	if ch == 1 {
		copy(dst.Pix, src)
		return true
	}
	d := dst.Pix
	for i := 0; i+2 < n; i += 3 {
		d[i], d[i+1], d[i+2] = src[i+2], src[i+1], src[i]
	}
	return true
}
