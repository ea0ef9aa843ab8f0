package control

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"sync"
	"time"
)

// maxStreams bounds concurrent MJPEG viewers: each frame is read back from
// the GPU, and a gallery network should not be able to slow the piece.
const maxStreams = 4

// preview reads frames back from the scene for the snapshot and the MJPEG
// stream. Viewers share one JPEG per frame interval, so ten open panels cost
// the render loop no more than one.
type preview struct {
	eng     Engine
	mu      sync.Mutex
	fps     float64
	jpg     []byte
	at      time.Time
	streams chan struct{}
}

func newPreview(eng Engine, fps float64) *preview {
	return &preview{eng: eng, fps: fps, streams: make(chan struct{}, maxStreams)}
}

func (p *preview) setFPS(fps float64) {
	p.mu.Lock()
	p.fps = fps
	p.mu.Unlock()
}

func (p *preview) interval() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return time.Duration(float64(time.Second) / p.fps)
}

// frameJPEG returns a JPEG taken within the last half frame interval, so
// viewers polling at the stream's rate share one encode, while one viewer
// never gets the same frame twice however long the encode took.
func (p *preview) frameJPEG(ctx context.Context) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.jpg != nil && time.Since(p.at) < time.Duration(float64(time.Second)/p.fps/2) {
		return p.jpg, nil
	}
	start := time.Now()
	img, err := p.eng.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 75})
	p.eng.ReleaseSnapshot(img)
	if err != nil {
		return nil, err
	}
	p.jpg, p.at = buf.Bytes(), start
	return p.jpg, nil
}

func (s *Server) handleSnapshot(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	img, err := s.eng.Snapshot(ctx)
	if err != nil {
		httpError(w, http.StatusServiceUnavailable, "no frame: "+err.Error())
		return
	}
	var buf bytes.Buffer
	// The fastest compression: a snapshot is wanted now, and the encode,
	// not the read-back, is most of its time.
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	err = enc.Encode(&buf, img)
	s.eng.ReleaseSnapshot(img)
	if err != nil {
		httpError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Length", fmt.Sprint(buf.Len()))
	_, _ = w.Write(buf.Bytes())
}

// handleStream serves multipart/x-mixed-replace JPEG frames at preview_fps
// until the viewer leaves.
func (s *Server) handleStream(w http.ResponseWriter, r *http.Request) {
	select {
	case s.preview.streams <- struct{}{}:
		defer func() { <-s.preview.streams }()
	default:
		httpError(w, http.StatusServiceUnavailable, fmt.Sprintf("%d previews are already open; close one", maxStreams))
		return
	}
	rc := http.NewResponseController(w)
	mw := multipart.NewWriter(w)
	w.Header().Set("Content-Type", "multipart/x-mixed-replace; boundary="+mw.Boundary())
	w.WriteHeader(http.StatusOK)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
		}
		iv := s.preview.interval()
		t.Reset(iv)
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		jpg, err := s.preview.frameJPEG(ctx)
		cancel()
		if err != nil {
			continue // the piece is busy or asleep: try at the next tick
		}
		_ = rc.SetWriteDeadline(time.Now().Add(iv + 10*time.Second))
		part, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"image/jpeg"}, "Content-Length": {fmt.Sprint(len(jpg))}})
		if err == nil {
			_, err = part.Write(jpg)
		}
		if err == nil {
			err = rc.Flush()
		}
		if err != nil {
			return
		}
	}
}
