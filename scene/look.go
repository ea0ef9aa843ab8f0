package scene

import "math"

// Look is how a picture reads, in the figures the dream's targets use:
// detail (mean |Laplacian| of luma at 640×360: soft feedback scores 1–2,
// photos 6–40), mean luma, contrast (luma's standard deviation) and
// colourfulness (Hasler and Süsstrunk's M), all on 0..255.
type Look struct {
	Detail        float64 `json:"detail"`
	Luma          float64 `json:"luma"`
	Contrast      float64 `json:"contrast"`
	Colourfulness float64 `json:"colourfulness"`
}

// lookW and lookH are the size detail is measured at, so it does not depend
// on the render size.
const lookW, lookH = 640, 360

// MeasureLook measures an RGBA picture of w×h, resampled (bilinear, pixel
// centres aligned: a 2×2 average from 1280×720) to 640×360. luma is a scratch buffer of at least 640·360 values, reused to
// keep the measure allocation-free; nil allocates one.
func MeasureLook(pix []byte, w, h int, luma []float32) Look {
	if len(luma) < lookW*lookH {
		luma = make([]float32, lookW*lookH)
	}
	var sum, sum2, rg, rg2, yb, yb2 float64
	fx, fy := float64(w)/lookW, float64(h)/lookH
	at := func(x, y, c int) float64 { return float64(pix[4*(y*w+x)+c]) }
	for y := 0; y < lookH; y++ {
		syf := max(0, (float64(y)+0.5)*fy-0.5)
		y0 := min(int(syf), h-1)
		y1, ty := min(y0+1, h-1), syf-float64(y0)
		for x := 0; x < lookW; x++ {
			sxf := max(0, (float64(x)+0.5)*fx-0.5)
			x0 := min(int(sxf), w-1)
			x1, tx := min(x0+1, w-1), sxf-float64(x0)
			var rgb [3]float64
			for c := range rgb {
				top := at(x0, y0, c) + (at(x1, y0, c)-at(x0, y0, c))*tx
				bot := at(x0, y1, c) + (at(x1, y1, c)-at(x0, y1, c))*tx
				rgb[c] = top + (bot-top)*ty
			}
			r, g, b := rgb[0], rgb[1], rgb[2]
			l := 0.299*r + 0.587*g + 0.114*b
			luma[y*lookW+x] = float32(l)
			sum += l
			sum2 += l * l
			a, c := r-g, 0.5*(r+g)-b
			rg += a
			rg2 += a * a
			yb += c
			yb2 += c * c
		}
	}
	n := float64(lookW * lookH)
	var lap float64
	for y := 1; y < lookH-1; y++ {
		for x := 1; x < lookW-1; x++ {
			i := y*lookW + x
			lap += math.Abs(float64(luma[i-1] + luma[i+1] + luma[i-lookW] + luma[i+lookW] - 4*luma[i]))
		}
	}
	sd := func(s, s2 float64) float64 { return math.Sqrt(max(0, s2/n-(s/n)*(s/n))) }
	mrg, myb := rg/n, yb/n
	return Look{
		Detail:        lap / float64((lookW-2)*(lookH-2)),
		Luma:          sum / n,
		Contrast:      sd(sum, sum2),
		Colourfulness: math.Sqrt(sd(rg, rg2)*sd(rg, rg2)+sd(yb, yb2)*sd(yb, yb2)) + 0.3*math.Sqrt(mrg*mrg+myb*myb),
	}
}
