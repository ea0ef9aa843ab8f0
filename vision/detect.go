package vision

import (
	"errors"
	"fmt"
	"image"

	"gocv.io/x/gocv"
)

// detector counts people (HOG) and faces (Haar cascade). Both cost tens to
// hundreds of milliseconds a frame, so the analyzer runs them only every
// detect_every seconds and carries the counts in between.
type detector struct {
	width     int
	hog       gocv.HOGDescriptor
	hasHOG    bool
	cascade   gocv.CascadeClassifier
	hasFaces  bool
	img, gray gocv.Mat
}

func newDetector(cfg Config) (*detector, error) {
	d := &detector{width: cfg.DetectW, img: gocv.NewMat(), gray: gocv.NewMat()}
	var errs []error
	if cfg.People {
		d.hog = gocv.NewHOGDescriptor()
		svm := gocv.HOGDefaultPeopleDetector()
		err := d.hog.SetSVMDetector(svm)
		svm.Close()
		if err != nil {
			d.hog.Close()
			errs = append(errs, fmt.Errorf("people: HOG detector: %w", err))
		} else {
			d.hasHOG = true
		}
	}
	if cfg.Faces {
		d.cascade = gocv.NewCascadeClassifier()
		if d.cascade.Load(cfg.FaceModel) {
			d.hasFaces = true
		} else {
			d.cascade.Close()
			errs = append(errs, fmt.Errorf("faces: vision.face_cascade %s is not a Haar cascade OpenCV can load", cfg.FaceModel))
		}
	}
	return d, errors.Join(errs...)
}

// detect counts people and faces whose centre lies in the watched area.
func (d *detector) detect(frame gocv.Mat, roi gocv.Mat) (people, faces int) {
	h := d.width * frame.Rows() / max(frame.Cols(), 1)
	gocv.Resize(frame, &d.img, image.Pt(d.width, h), 0, 0, gocv.InterpolationArea)
	if d.img.Channels() == 1 {
		d.img.CopyTo(&d.gray)
	} else {
		gocv.CvtColor(d.img, &d.gray, gocv.ColorBGRToGray)
	}
	inside := func(r image.Rectangle) bool {
		c := r.Min.Add(r.Max).Div(2)
		x, y := c.X*roi.Cols()/d.width, c.Y*roi.Rows()/max(h, 1)
		return x >= 0 && y >= 0 && x < roi.Cols() && y < roi.Rows() && roi.GetUCharAt(y, x) != 0
	}
	if d.hasHOG {
		for _, r := range d.hog.DetectMultiScale(d.gray) {
			if inside(r) {
				people++
			}
		}
	}
	if d.hasFaces {
		gocv.EqualizeHist(d.gray, &d.gray)
		for _, r := range d.cascade.DetectMultiScale(d.gray) {
			if inside(r) {
				faces++
			}
		}
	}
	return people, faces
}

func (d *detector) Close() {
	if d.hasHOG {
		d.hog.Close()
	}
	if d.hasFaces {
		d.cascade.Close()
	}
	d.img.Close()
	d.gray.Close()
}
