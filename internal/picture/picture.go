// Package picture holds the 8-bit picture an image model is handed: the
// camera's (vision makes it), the audience's silhouette or the screen's,
// and gen converts it into the model's input. One type on both sides lets
// the camera's picture be copied straight into the generator's mailbox.
package picture

import "fmt"

// Picture is 8-bit pixels, row-major: Channels 1 (grey, a silhouette), 3
// (RGB) or 4 (RGBA, alpha ignored). BGR says the colour channels come blue
// first, as OpenCV keeps them (BGR, or BGRA with 4); it means nothing for
// grey. Readers take either order at the same cost, so nobody swaps bytes.
type Picture struct {
	Pix           []byte
	Width, Height int
	Channels      int
	BGR           bool
}

// CopyFrom copies src into p, reusing p's pixels.
func (p *Picture) CopyFrom(src *Picture) {
	pix := append(p.Pix[:0], src.Pix...)
	*p = *src
	p.Pix = pix
}

// Check refuses a picture whose pixels do not match its size.
func (p *Picture) Check() error {
	if p.Channels != 1 && p.Channels != 3 && p.Channels != 4 {
		return fmt.Errorf("picture has %d channels, expected 1, 3 or 4", p.Channels)
	}
	if p.Width < 1 || p.Height < 1 || p.Width > 16384 || p.Height > 16384 || len(p.Pix) != p.Width*p.Height*p.Channels {
		return fmt.Errorf("picture of %dx%d×%d has %d bytes, expected %d", p.Width, p.Height, p.Channels, len(p.Pix), p.Width*p.Height*p.Channels)
	}
	return nil
}
