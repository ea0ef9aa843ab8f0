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
// BGR as cheaply as RGB). It reuses two Mats and the picture's pixels, so
// it allocates nothing once sizes settle.
type Picturer struct {
	small gocv.Mat
	half  gocv.Mat // the frame averaged down by a whole factor, on the way
}

// NewPicturer prepares a Picturer; Close frees it.
func NewPicturer() *Picturer { return &Picturer{small: gocv.NewMat(), half: gocv.NewMat()} }

// Close frees the Picturer's Mats.
func (p *Picturer) Close() {
	p.small.Close()
	p.half.Close()
}

// resize scales frame by about s to size into p.small. A frame shrunk more
// than twice is first averaged down by the whole factor k that leaves at
// most a halving (OpenCV's area averaging is fast at a whole ratio: 0.13
// ms a 768×576 frame, against 2.5–3.8 ms at a fractional one), then
// resampled bilinearly, which at under a halving still reads every source
// pixel: 0.6 ms in all to 320×240. Sides that k does not divide are
// averaged at the fractional ratio directly.
func (p *Picturer) resize(frame gocv.Mat, s float64, size image.Point) {
	src := frame
	if k := int(1 / s); k >= 2 {
		fw, fh := frame.Cols(), frame.Rows()
		if fw%k != 0 || fh%k != 0 {
			gocv.Resize(frame, &p.small, size, 0, 0, gocv.InterpolationArea)
			return
		}
		gocv.Resize(frame, &p.half, image.Pt(fw/k, fh/k), 0, 0, gocv.InterpolationArea)
		src = p.half
	}
	gocv.Resize(src, &p.small, size, 0, 0, gocv.InterpolationLinear)
}

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
	p.resize(frame, s, image.Pt(sw, sh))
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
