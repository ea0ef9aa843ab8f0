// Package sample is the real imagery tests run networks on: Debian
// opencv-doc's photos, sampled into the NHWC tensors the trained networks
// take.
package sample

import (
	"fmt"
	"image"
	_ "image/jpeg" // opencv-doc's photos
	_ "image/png"
	"os"
	"slices"

	"gocv.io/x/gocv"
)

// Photos is where opencv-doc installs its sample images (and vtest.avi).
const Photos = "/usr/share/doc/opencv-doc/examples/data/"

// Photo decodes one of opencv-doc's photos, such as "messi5.jpg".
func Photo(name string) (image.Image, error) {
	f, err := os.Open(Photos + name)
	if err != nil {
		return nil, fmt.Errorf("%v (set-up installs opencv-doc)", err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", Photos+name, err)
	}
	return img, nil
}

// NHWC samples img bilinearly (pixel centres aligned) to h×w RGB and maps
// 0..255 to lo..hi.
func NHWC(img image.Image, h, w int, lo, hi float32) []float32 {
	b := img.Bounds()
	px := func(x, y int) [3]float32 {
		r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
		return [3]float32{float32(r >> 8), float32(g >> 8), float32(bl >> 8)}
	}
	out := make([]float32, 0, h*w*3)
	for y := range h {
		sy := (float32(y)+0.5)*float32(b.Dy())/float32(h) - 0.5
		y0 := max(0, min(int(sy), b.Dy()-1))
		y1 := min(y0+1, b.Dy()-1)
		fy := max(0, sy-float32(y0))
		for x := range w {
			sx := (float32(x)+0.5)*float32(b.Dx())/float32(w) - 0.5
			x0 := max(0, min(int(sx), b.Dx()-1))
			x1 := min(x0+1, b.Dx()-1)
			fx := max(0, sx-float32(x0))
			p00, p10, p01, p11 := px(x0, y0), px(x1, y0), px(x0, y1), px(x1, y1)
			for k := range 3 {
				v := (p00[k]*(1-fx)+p10[k]*fx)*(1-fy) + (p01[k]*(1-fx)+p11[k]*fx)*fy
				out = append(out, lo+v/255*(hi-lo))
			}
		}
	}
	return out
}

// Median writes the per-position median of the byte pictures into dst (all
// the same length): the empty room of a clip in which nobody stands still
// for long.
func Median(dst []byte, pics [][]byte) {
	col := make([]byte, len(pics))
	for p := range dst {
		for i := range pics {
			col[i] = pics[i][p]
		}
		slices.Sort(col)
		dst[p] = col[len(col)/2]
	}
}

// Grey is each frame scaled to w×h (area-averaged) and made grey, as bytes:
// what Median takes for a clip's empty room.
func Grey(frames []gocv.Mat, w, h int) [][]byte {
	small, grey := gocv.NewMat(), gocv.NewMat()
	defer small.Close()
	defer grey.Close()
	pix := make([][]byte, len(frames))
	for i, f := range frames {
		gocv.Resize(f, &small, image.Pt(w, h), 0, 0, gocv.InterpolationArea)
		gocv.CvtColor(small, &grey, gocv.ColorBGRToGray)
		pix[i] = grey.ToBytes()
	}
	return pix
}
