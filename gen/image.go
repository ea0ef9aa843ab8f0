package gen

import (
	"errors"
	"fmt"
)

// ImageSpec is an image-conditioned model's picture input (a style
// transfer's content image, pix2pix's source): what feeds it and how the
// model wants it.
type ImageSpec struct {
	Input  string     `yaml:"input"`  // the input's name
	Source string     `yaml:"source"` // camera | feedback | mask
	Layout string     `yaml:"layout"` // NCHW ([1, 3, H, W]) | NHWC ([1, H, W, 3])
	Range  [2]float32 `yaml:"range"`  // the values for black and white
	Width  int        `yaml:"width"`  // the size fed to the model
	Height int        `yaml:"height"`
}

// The image sources.
const (
	SourceCamera   = "camera"   // the camera's picture
	SourceFeedback = "feedback" // the picture on screen: the network repaints the dream
	SourceMask     = "mask"     // the audience's silhouette, white on black
)

// validate checks the image input's keys; the caller names the section.
func (s *ImageSpec) validate() error {
	if s.Input == "" {
		return errors.New("image.input: missing, expected the name of the model's image input")
	}
	switch s.Source {
	case SourceCamera, SourceFeedback, SourceMask:
	default:
		return fmt.Errorf("image.source: %q, expected camera, feedback or mask", s.Source)
	}
	switch s.Layout {
	case "NCHW", "NHWC":
	default:
		return fmt.Errorf("image.layout: %q, expected NCHW or NHWC", s.Layout)
	}
	return checkPicture("image", s.Range, s.Width, s.Height)
}

// shape is the image tensor's shape.
func (s *ImageSpec) shape() []int64 {
	if s.Layout == "NHWC" {
		return []int64{1, int64(s.Height), int64(s.Width), 3}
	}
	return []int64{1, 3, int64(s.Height), int64(s.Width)}
}

// Picture is 8-bit pixels handed to an image model: Channels 1 (grey, a
// silhouette), 3 (RGB) or 4 (RGBA, alpha ignored), row-major.
type Picture struct {
	Pix           []byte
	Width, Height int
	Channels      int
}

// check refuses a picture whose pixels do not match its size.
func (p *Picture) check() error {
	if p.Channels != 1 && p.Channels != 3 && p.Channels != 4 {
		return fmt.Errorf("picture has %d channels, expected 1, 3 or 4", p.Channels)
	}
	if p.Width < 1 || p.Height < 1 || p.Width > 16384 || p.Height > 16384 || len(p.Pix) != p.Width*p.Height*p.Channels {
		return fmt.Errorf("picture of %dx%d×%d has %d bytes, expected %d", p.Width, p.Height, p.Channels, len(p.Pix), p.Width*p.Height*p.Channels)
	}
	return nil
}

// imageInput converts pictures into a model's image tensor: cropped to the
// input's aspect (FitCover) and sampled to its size, laid out and scaled to
// its range. It allocates only when the picture's size changes.
type imageInput struct {
	spec   ImageSpec
	data   []float32    // the tensor's data
	lut    [256]float32 // byte value → the model's range
	xs, ys []int32      // for each input column and row, the picture's
	srcW   int
	srcH   int
}

func newImageInput(spec ImageSpec, data []float32) *imageInput {
	in := &imageInput{spec: spec, data: data}
	lo, hi := spec.Range[0], spec.Range[1]
	for v := range in.lut {
		in.lut[v] = lo + (hi-lo)*float32(v)/255
	}
	for i := range data {
		data[i] = lo // black until the first picture
	}
	in.xs, in.ys = make([]int32, spec.Width), make([]int32, spec.Height)
	return in
}

// sample maps each of n output positions to one of the picture's m, by the
// cover placement's scale s and offset t (picture → input).
func sample(dst []int32, m int, s, t float64) {
	for i := range dst {
		k := int((float64(i) + 0.5 - t) / s)
		dst[i] = int32(min(max(k, 0), m-1))
	}
}

// fill converts p into the tensor.
func (in *imageInput) fill(p *Picture) error {
	if err := p.check(); err != nil {
		return err
	}
	W, H := in.spec.Width, in.spec.Height
	if p.Width != in.srcW || p.Height != in.srcH {
		sx, sy, tx, ty := FitCover.Place(p.Width, p.Height, W, H)
		sample(in.xs, p.Width, sx, tx)
		sample(in.ys, p.Height, sy, ty)
		in.srcW, in.srcH = p.Width, p.Height
	}
	ch := p.Channels
	g, b := 1, 2 // the green and blue offsets in a pixel
	if ch == 1 {
		g, b = 0, 0
	}
	lut, pix, d := &in.lut, p.Pix, in.data
	n := W * H
	nhwc := in.spec.Layout == "NHWC"
	for y := 0; y < H; y++ {
		row := int(in.ys[y]) * p.Width
		for x := 0; x < W; x++ {
			s := (row + int(in.xs[x])) * ch
			k := y*W + x
			if nhwc {
				o := d[3*k : 3*k+3 : 3*k+3]
				o[0], o[1], o[2] = lut[pix[s]], lut[pix[s+g]], lut[pix[s+b]]
			} else {
				d[k], d[n+k], d[2*n+k] = lut[pix[s]], lut[pix[s+g]], lut[pix[s+b]]
			}
		}
	}
	return nil
}
