package gen

import (
	"errors"
	"fmt"

	"reverie/internal/picture"
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

// Picture is 8-bit pixels handed to an image model: grey, RGB or RGBA,
// either colour order (see picture.Picture).
type Picture = picture.Picture

// imageInput converts pictures into a model's image tensor: cropped to the
// input's aspect (FitCover) and sampled to its size, laid out and scaled to
// its range. It allocates only when the picture's size changes.
type imageInput struct {
	spec   ImageSpec
	data   []float32    // the tensor's data
	lut    [256]float32 // byte value → the model's range
	step   float32      // the range's step per byte value
	xs, ys []int32      // for each input column and row, the picture's (byte offsets)
	srcW   int
	srcH   int
	srcC   int
	sameX  bool // each input column is the picture's own (xs[x] = x)
}

func newImageInput(spec ImageSpec, data []float32) *imageInput {
	in := &imageInput{spec: spec, data: data}
	lo, hi := spec.Range[0], spec.Range[1]
	in.step = (hi - lo) / 255
	for v := range in.lut {
		// As planesRGBAVX2 computes it: a multiply rounded (the conversion
		// keeps a compiler from fusing it into the add), then the add.
		in.lut[v] = lo + float32(float32(v)*in.step)
	}
	for i := range data {
		data[i] = lo // black until the first picture
	}
	in.xs, in.ys = make([]int32, spec.Width), make([]int32, spec.Height)
	return in
}

// planesRGBTable spreads a row of RGB bytes over three planes through lut.
func planesRGBTable(rs, gs, bs []float32, row []byte, lut *[256]float32) {
	gs, bs, row = gs[:len(rs)], bs[:len(rs)], row[:3*len(rs)]
	for x := range rs {
		px := row[3*x : 3*x+3 : 3*x+3]
		rs[x], gs[x], bs[x] = lut[px[0]], lut[px[1]], lut[px[2]]
	}
}

// channelOffsets are where a pixel's red, green and blue bytes lie in p.
func channelOffsets(p *Picture) (r, g, b int) {
	switch {
	case p.Channels == 1:
		return 0, 0, 0
	case p.BGR:
		return 2, 1, 0
	}
	return 0, 1, 2
}

// sample maps each of n output positions to one of the picture's m, by the
// cover placement's scale s and offset t (picture → input), times step.
func sample(dst []int32, m int, s, t float64, step int) {
	for i := range dst {
		k := int((float64(i) + 0.5 - t) / s)
		dst[i] = int32(min(max(k, 0), m-1) * step)
	}
}

// fill converts p into the tensor.
func (in *imageInput) fill(p *Picture) error {
	if err := p.Check(); err != nil {
		return err
	}
	W, H, ch := in.spec.Width, in.spec.Height, p.Channels
	if p.Width != in.srcW || p.Height != in.srcH || ch != in.srcC {
		sx, sy, tx, ty := FitCover.Place(p.Width, p.Height, W, H)
		sample(in.xs, p.Width, sx, tx, ch)          // byte offsets in a row
		sample(in.ys, p.Height, sy, ty, ch*p.Width) // byte offsets of rows
		in.srcW, in.srcH, in.srcC = p.Width, p.Height, ch
		in.sameX = true
		for x, s := range in.xs {
			in.sameX = in.sameX && int(s) == ch*x
		}
	}
	in.fillRows(p)
	return nil
}

// fillRows converts the picture's rows. A row that samples the same
// picture row as the one above (an enlarged picture) is copied from it.
func (in *imageInput) fillRows(p *Picture) {
	y0, y1 := 0, in.spec.Height
	W, n := in.spec.Width, in.spec.Width*in.spec.Height
	r, g, b := channelOffsets(p)
	lut, d, xs := &in.lut, in.data, in.xs
	rowLen := p.Channels * p.Width
	nhwc := in.spec.Layout == "NHWC"
	for y := y0; y < y1; y++ {
		off := in.ys[y]
		if y > y0 && off == in.ys[y-1] {
			if nhwc {
				copy(d[3*W*y:3*W*(y+1)], d[3*W*(y-1):3*W*y])
				continue
			}
			for c := 0; c < 3; c++ {
				o := c*n + y*W
				copy(d[o:o+W], d[o-W:o])
			}
			continue
		}
		row := p.Pix[off : int(off)+rowLen]
		if in.sameX && !nhwc && p.Channels == 3 {
			// A picture at the input's size (as the camera's are handed
			// over): one pass over the row. The row's first byte goes to
			// the red plane, or to the blue one for BGR.
			first, last := d[y*W:(y+1)*W], d[2*n+y*W:2*n+(y+1)*W]
			if p.BGR {
				first, last = last, first
			}
			planesRGB(first, d[n+y*W:n+(y+1)*W], last, row, lut, in.step, in.spec.Range[0])
			continue
		}
		if nhwc {
			o := d[3*W*y : 3*W*(y+1)]
			o = o[:3*len(xs)]
			for x, s := range xs {
				q := o[3*x : 3*x+3 : 3*x+3]
				q[0], q[1], q[2] = lut[row[int(s)+r]], lut[row[int(s)+g]], lut[row[int(s)+b]]
			}
			continue
		}
		for c, off := range [3]int{r, g, b} {
			o := d[c*n+y*W : c*n+(y+1)*W]
			o = o[:len(xs)]
			plane := row[off:]
			for x, s := range xs {
				o[x] = lut[plane[s]]
			}
		}
	}
}
