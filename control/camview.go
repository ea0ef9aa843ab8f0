package control

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// CameraViewer draws what the camera sees for the panel: the newest frame
// with the silhouette and the skeletons the analysis found.
type CameraViewer interface {
	// CameraJPEG is that picture as a JPEG; an error when no camera runs.
	CameraJPEG(ctx context.Context) ([]byte, error)
}

// Bounds of the camera view: requests drawing at once, and how long one
// picture serves every viewer (a phone polls a few times a second).
const (
	maxCameraViews = 4
	cameraViewAge  = 200 * time.Millisecond
)

// cameraView shares one drawn picture among the viewers polling it. A
// picture is a new slice each time, never written after it is stored.
type cameraView struct {
	busy chan struct{}
	mu   sync.Mutex
	jpg  []byte
	at   time.Time
}

func newCameraView() *cameraView { return &cameraView{busy: make(chan struct{}, maxCameraViews)} }

func (s *Server) handleCameraView(w http.ResponseWriter, r *http.Request) {
	v := s.camView
	select {
	case v.busy <- struct{}{}:
		defer func() { <-v.busy }()
	default:
		httpError(w, http.StatusServiceUnavailable, fmt.Sprintf("%d camera views are being drawn; try again", maxCameraViews))
		return
	}
	jpg, err := v.picture(r.Context(), s.eng)
	if err != nil {
		httpError(w, http.StatusServiceUnavailable, "no camera view: "+err.Error())
		return
	}
	// The lock is not held while writing: a slow phone must not hold up
	// the other viewers. The picture is never changed once drawn.
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Content-Length", fmt.Sprint(len(jpg)))
	_, _ = w.Write(jpg)
}

// picture is the shared picture, drawn afresh when older than
// cameraViewAge. Viewers arriving while it is drawn wait for that one.
func (v *cameraView) picture(ctx context.Context, eng CameraViewer) ([]byte, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.jpg == nil || time.Since(v.at) > cameraViewAge {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		jpg, err := eng.CameraJPEG(ctx)
		cancel()
		if err != nil {
			return nil, err
		}
		v.jpg, v.at = jpg, time.Now()
	}
	return v.jpg, nil
}
