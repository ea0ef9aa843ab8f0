package control

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
)

// VideoOutStats is the state of the video outputs: the recording, the live
// stream and the virtual camera.
type VideoOutStats struct {
	Record        RecordStats `json:"record"`
	Stream        OutputStats `json:"stream"`
	VirtualCamera OutputStats `json:"virtual_camera"`
}

// RecordStats is the recording in progress, or the last one.
type RecordStats struct {
	Recording bool    `json:"recording"`
	File      string  `json:"file,omitempty"`
	Seconds   float64 `json:"seconds"`
	Frames    uint64  `json:"frames"`
	Dropped   uint64  `json:"dropped"` // frames lost because the encoder fell behind
	Err       string  `json:"error,omitempty"`
	// Totals over every recording, for /metrics.
	TotalFrames  uint64 `json:"-"`
	TotalDropped uint64 `json:"-"`
}

// OutputStats is the stream's or the virtual camera's state.
type OutputStats struct {
	Target  string `json:"target,omitempty"` // the URL or device; empty when off
	On      bool   `json:"on"`
	Frames  uint64 `json:"frames"`
	Dropped uint64 `json:"dropped"`
	Err     string `json:"error,omitempty"`
}

// Recorder records the displayed output: the file's name and folder come
// from config.yaml, never from a request.
type Recorder interface {
	StartRecording() (string, error) // the new file's path
	StopRecording() (string, error)  // the finished file's path
	VideoOut() VideoOutStats
}

// ErrNotRecording is what StopRecording returns when nothing records.
var ErrNotRecording = errors.New("not recording")

type recordAnswer struct {
	Recording bool   `json:"recording"`
	File      string `json:"file"`
}

func (s *Server) handleRecordStart(w http.ResponseWriter, r *http.Request) {
	path, err := s.startRecording("http")
	if err != nil {
		code := http.StatusInternalServerError
		if s.eng.VideoOut().Record.Recording {
			code = http.StatusConflict
		}
		httpError(w, code, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, recordAnswer{Recording: true, File: path})
}

func (s *Server) handleRecordStop(w http.ResponseWriter, r *http.Request) {
	path, err := s.stopRecording("http")
	switch {
	case errors.Is(err, ErrNotRecording):
		msg := "not recording"
		if st := s.eng.VideoOut().Record; st.Err != "" {
			msg += "; " + st.Err
		}
		httpError(w, http.StatusConflict, msg)
	case err != nil:
		httpError(w, http.StatusInternalServerError, err.Error())
	default:
		writeJSON(w, http.StatusOK, recordAnswer{Recording: false, File: path})
	}
}

func (s *Server) startRecording(by string) (string, error) {
	path, err := s.eng.StartRecording()
	if err != nil {
		s.health.record("recording not started: " + err.Error())
		return "", err
	}
	slog.Info("recording started", "file", path, "by", by)
	return path, nil
}

func (s *Server) stopRecording(by string) (string, error) {
	path, err := s.eng.StopRecording()
	if err == nil {
		slog.Info("recording stopped", "file", path, "by", by)
	}
	return path, err
}

// oscRecord is /reverie/record i: 1 starts, 0 stops. The file opens on its
// own goroutine, so the OSC reader keeps reading; the outcome is logged
// and shown in /api/status.
func (s *Server) oscRecord(on bool, sender string) {
	go func() {
		var err error
		if on {
			_, err = s.startRecording("osc")
		} else {
			_, err = s.stopRecording("osc")
		}
		if err != nil && !errors.Is(err, ErrNotRecording) {
			s.oscLogs.log(slog.LevelError, sender, "OSC /reverie/record", "err", err)
		}
	}()
}

// videoOutMetrics counts each output's frames and drops.
func videoOutMetrics(eng Engine) []prometheus.Collector {
	var cs []prometheus.Collector
	for _, out := range []string{"record", "stream", "virtual_camera"} {
		pick := func() (uint64, uint64) {
			v := eng.VideoOut()
			switch out {
			case "record":
				return v.Record.TotalFrames, v.Record.TotalDropped
			case "stream":
				return v.Stream.Frames, v.Stream.Dropped
			}
			return v.VirtualCamera.Frames, v.VirtualCamera.Dropped
		}
		lab := prometheus.Labels{"output": out}
		cs = append(cs,
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "reverie_video_out_frames_total", Help: "Frames encoded, by output (record: over every recording).", ConstLabels: lab},
				func() float64 { f, _ := pick(); return float64(f) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "reverie_video_out_dropped_total", Help: "Frames dropped because the output's encoder fell behind, by output.", ConstLabels: lab},
				func() float64 { _, d := pick(); return float64(d) }),
		)
	}
	return cs
}
