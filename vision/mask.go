package vision

import (
	"image"
	"image/color"

	"gocv.io/x/gocv"
)

// regionMask draws the regions of interest less the ignore polygons into a
// w×h 8-bit mask: 255 where the analysis looks, 0 where it does not. No
// regions means the whole picture.
func regionMask(cfg Config, w, h int) gocv.Mat {
	m := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8U)
	if len(cfg.Regions) == 0 {
		m.SetTo(gocv.NewScalar(255, 0, 0, 0))
	} else {
		m.SetTo(gocv.NewScalar(0, 0, 0, 0))
		fillPolygons(&m, cfg.Regions, w, h, color.RGBA{255, 255, 255, 255})
	}
	fillPolygons(&m, cfg.Ignore, w, h, color.RGBA{0, 0, 0, 255})
	return m
}

func fillPolygons(m *gocv.Mat, polys []Polygon, w, h int, c color.RGBA) {
	if len(polys) == 0 {
		return
	}
	pv := gocv.NewPointsVectorFromPoints(PolygonPoints(polys, w, h))
	defer pv.Close()
	gocv.FillPoly(m, pv, c)
}

// PolygonPoints scales normalised polygons to pixel outlines in a w×h picture.
func PolygonPoints(polys []Polygon, w, h int) [][]image.Point {
	out := make([][]image.Point, len(polys))
	for i, poly := range polys {
		for _, p := range poly {
			out[i] = append(out[i], image.Pt(int(p[0]*float64(w-1)+0.5), int(p[1]*float64(h-1)+0.5)))
		}
	}
	return out
}
