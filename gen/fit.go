package gen

import "fmt"

// Fit says how a picture meets a frame of another aspect: a model's frames
// meeting the canvas (generator.fit), and a camera picture meeting an image
// model's input.
type Fit string

const (
	// FitCover fills the frame, keeping the aspect, and crops what spills
	// over (the default: no bars, nothing distorted).
	FitCover Fit = "cover"
	// FitContain shows the whole picture, keeping the aspect, with black
	// bars where the frame is wider or taller.
	FitContain Fit = "contain"
	// FitStretch scales each axis on its own to the frame, distorting a
	// picture of another aspect.
	FitStretch Fit = "stretch"
)

// Fits lists the values generator.fit takes.
var Fits = []Fit{FitCover, FitContain, FitStretch}

// Check refuses a value that is not one of Fits ("" is cover).
func (f Fit) Check() error {
	switch f {
	case "", FitCover, FitContain, FitStretch:
		return nil
	}
	return fmt.Errorf("%q: expected cover, contain or stretch", string(f))
}

// Place returns the scale and offset that put a w×h picture onto a W×H
// frame: frame x = x·sx + tx, frame y = y·sy + ty. "" is cover.
func (f Fit) Place(w, h, W, H int) (sx, sy, tx, ty float64) {
	sx, sy = float64(W)/float64(w), float64(H)/float64(h)
	switch f {
	case FitStretch:
		return sx, sy, 0, 0
	case FitContain:
		sx = min(sx, sy)
	default:
		sx = max(sx, sy)
	}
	return sx, sx, (float64(W) - float64(w)*sx) / 2, (float64(H) - float64(h)*sx) / 2
}
