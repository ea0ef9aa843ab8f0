package vision

import (
	"errors"
	"fmt"
	"image"
	"sync"

	"gocv.io/x/gocv"
	"reverie/internal/pace"
)

// detector counts people (HOG) and faces (Haar cascade). Both cost tens to
// hundreds of milliseconds a frame, so the analyzer runs them only every
// detect_every seconds and carries the counts in between: inline in an
// offline analyzer, in a detectLoop in a live one.
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

// detectLoop runs a detector in its own goroutine, so a live analysis never
// waits for it. Frames reach it through a mailbox: a newer frame replaces
// one the detector has not taken yet, and the counts it finds are carried
// until the next detection.
type detectLoop struct {
	d   *detector
	roi gocv.Mat // the detector's own copy of the watched area
	w   *worker

	mu       sync.Mutex
	people   int
	faces    int
	detected float64 // frame time of the frame the counts come from
	runs     int     // detections finished

	hold func() // tests only: runs before each detection, to hold the detector up
}

func newDetectLoop(d *detector, roi gocv.Mat, share *pace.Share) *detectLoop {
	l := &detectLoop{d: d, roi: roi.Clone(), detected: -1}
	l.w = startWorker(l.detect, share)
	return l
}

// offer hands frame, captured at t, to the detector and never waits.
func (l *detectLoop) offer(frame gocv.Mat, t float64) { l.w.offer(frame, t) }

// counts are the latest detection's counts, and the frame time they are from
// (-1 before the first).
func (l *detectLoop) counts() (people, faces int, at float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.people, l.faces, l.detected
}

func (l *detectLoop) detect(s *shot, _ uint64) {
	if l.hold != nil {
		l.hold()
	}
	people, faces := l.d.detect(s.mat, l.roi)
	l.mu.Lock()
	l.people, l.faces, l.detected = people, faces, s.t
	l.runs++
	l.mu.Unlock()
}

// Close stops the goroutine, waiting for a detection under way to finish,
// and releases the detector and the frames.
func (l *detectLoop) Close() {
	l.w.close()
	l.d.Close()
	l.roi.Close()
}
