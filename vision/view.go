package vision

import (
	"image"
	"image/color"
	"sync/atomic"
	"time"

	"gocv.io/x/gocv"

	"reverie/internal/mailbox"
)

// The camera view the web panel shows: the newest frame, scaled down, with
// the features analysed from it. The watcher fills it only while someone
// has asked for it lately, so an unwatched panel costs nothing.
const (
	viewWidth  = 480
	viewLinger = 3 * time.Second
)

type viewShot struct {
	frame gocv.Mat
	feats Features
}

// cameraView is the watcher's: Run makes the box and closes it at its end.
type cameraView struct {
	box   atomic.Pointer[mailbox.Box[viewShot]]
	asked atomic.Int64 // unix nanoseconds of the latest CameraView
}

func newViewBox() *mailbox.Box[viewShot] {
	return mailbox.New(mailbox.Funcs[viewShot]{
		New: func() viewShot { return viewShot{frame: gocv.NewMat()} },
		Copy: func(dst, src *viewShot) {
			src.frame.CopyTo(&dst.frame)
			dst.feats.CopyFrom(&src.feats)
		},
		Free: func(s *viewShot) { s.frame.Close() },
	})
}

// offer keeps frame and f for the view when someone asked lately. Run's
// goroutine only.
func (v *cameraView) offer(frame gocv.Mat, f *Features) {
	b := v.box.Load()
	if b == nil || frame.Empty() || time.Since(time.Unix(0, v.asked.Load())) > viewLinger {
		return
	}
	s := b.Back()
	h := max(1, frame.Rows()*viewWidth/max(frame.Cols(), 1))
	gocv.Resize(frame, &s.frame, image.Pt(viewWidth, h), 0, 0, gocv.InterpolationArea)
	s.feats.CopyFrom(f)
	b.Publish()
}

// CameraView copies the newest camera frame (BGR, 480 pixels wide) and its
// features into dst and f, and asks the watcher to keep them coming for a
// few seconds. ok is false until a frame has arrived since someone first
// asked, or after the watcher has stopped. Any goroutine may call it.
func (w *Watcher) CameraView(dst *gocv.Mat, f *Features) bool {
	w.view.asked.Store(time.Now().UnixNano())
	b := w.view.box.Load()
	if b == nil {
		return false
	}
	var s viewShot
	s.frame = *dst
	s.feats = *f
	_, ok := b.Latest(&s, 0)
	*dst, *f = s.frame, s.feats
	return ok
}

var (
	silhouetteColor = gocv.NewScalar(255, 60, 255, 0) // magenta, BGR
	centroidColor   = color.RGBA{255, 160, 40, 0}
)

// DrawView draws f's evidence over img, a BGR picture of the analysed frame
// at any size: the silhouette (Features.Mask) tinted magenta, the centre
// of activity, filled while it counts as presence, and the people the
// person network follows, skeletons and all (DrawBodies).
func DrawView(img *gocv.Mat, f *Features) {
	w, h := img.Cols(), img.Rows()
	if f.MaskW > 0 && f.MaskH > 0 && len(f.Mask) == f.MaskW*f.MaskH {
		small, err := gocv.NewMatFromBytes(f.MaskH, f.MaskW, gocv.MatTypeCV8U, f.Mask)
		if err == nil {
			mask, tint := gocv.NewMat(), gocv.NewMatWithSize(h, w, img.Type())
			gocv.Resize(small, &mask, image.Pt(w, h), 0, 0, gocv.InterpolationNearestNeighbor)
			img.CopyTo(&tint)
			tint.SetTo(silhouetteColor)
			over := gocv.NewMat()
			gocv.AddWeighted(*img, 0.45, tint, 0.55, 0, &over)
			over.CopyToWithMask(img, mask)
			over.Close()
			mask.Close()
			tint.Close()
			small.Close()
		}
	}
	if f.Motion > 0 || f.Presence {
		c := image.Pt(int(f.Centroid[0]*float32(w)), int(f.Centroid[1]*float32(h)))
		thick := 2
		if f.Presence {
			thick = -1
		}
		gocv.Circle(img, c, max(4, w/60), centroidColor, thick)
	}
	DrawBodies(img, f)
}
