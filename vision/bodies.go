package vision

import (
	"image"
	"image/color"

	"gocv.io/x/gocv"

	"reverie/vision/pose"
)

var (
	visitorColor = color.RGBA{80, 255, 120, 0}  // a visitor: counts as presence
	roomColor    = color.RGBA{150, 150, 150, 0} // seen, but part of the room (a poster)
)

// DrawBodies draws the people f's person evidence follows onto img, a BGR
// picture of the analysed frame at any size, for a technician to see what
// the network sees: each visitor's skeleton and box in green, people who
// belong to the room (there at calibration and never moved) in grey, and
// "visitor" or "room" over each box.
func DrawBodies(img *gocv.Mat, f *Features) {
	w, h := float32(img.Cols()), float32(img.Rows())
	thick := max(1, img.Cols()/320)
	for i := 0; i < min(f.NBodies, MaxBodies); i++ {
		b := &f.Bodies[i]
		c, name := roomColor, "room"
		if b.Visitor {
			c, name = visitorColor, "visitor"
		}
		box := image.Rect(int(b.Box[0]*w), int(b.Box[1]*h), int(b.Box[2]*w), int(b.Box[3]*h))
		gocv.Rectangle(img, box, c, thick)
		gocv.PutTextWithParams(img, name, image.Pt(box.Min.X+2, max(box.Min.Y-4, 12)),
			gocv.FontHersheySimplex, 0.45, c, 1, gocv.LineAA, false)
		if !b.HasPose {
			continue
		}
		at := func(k pose.Part) image.Point {
			return image.Pt(int(b.Keypoints[k].X*w), int(b.Keypoints[k].Y*h))
		}
		for _, l := range limbs {
			if b.Keypoints[l[0]].Score >= keypointMin && b.Keypoints[l[1]].Score >= keypointMin {
				gocv.Line(img, at(l[0]), at(l[1]), c, thick+1)
			}
		}
		for k := range pose.NumParts {
			if b.Keypoints[k].Score >= keypointMin {
				gocv.Circle(img, at(pose.Part(k)), thick, white, -1)
			}
		}
	}
}
