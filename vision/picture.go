package vision

import (
	"image"
	"math"

	"gocv.io/x/gocv"

	"reverie/internal/picture"
)

// Picture is a camera frame as 8-bit pixels for a model that takes the
// camera's picture as its input: BGR (Channels 3, BGR set), as OpenCV keeps
// them, or grey (1). It is the type gen's Runner takes, so the display can
// copy the newest straight into the runner (see Watcher.LatestPicture).
type Picture = picture.Picture

// Picturer scales camera frames down (or up) to the size a model needs,
// keeping their aspect and OpenCV's channel order (the model's input reads
// BGR as cheaply as RGB). It reuses one Mat and the picture's pixels, so it
// allocates nothing once sizes settle.
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
	// One copy out of the Mat: a Mat over Go memory would let OpenCV keep
	// a Go pointer past the call.
	dst.Pix = dst.Pix[:n]
	copy(dst.Pix, src)
	dst.Width, dst.Height, dst.Channels, dst.BGR = sw, sh, ch, ch == 3
	return true
}
