// Package vision is the installation's eyes: camera, file and stream sources,
// the capture loop, and the motion analysis that turns frames into Features.
package vision

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"reverie/internal/field"
)

// SampleClip is the people-walking clip Debian's opencv-doc ships. The "auto"
// source falls back to it when no camera is present.
const SampleClip = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

// FaceCascade is the frontal-face Haar cascade Debian's opencv-data ships.
const FaceCascade = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"

// Polygon is a closed outline in normalised picture coordinates: x from 0
// (left) to 1 (right), y from 0 (top) to 1 (bottom).
type Polygon [][2]float64

// Config is the vision section of config.yaml.
type Config struct {
	Source      string    `yaml:"source"` // auto | device index | file | URL
	Width       int       `yaml:"width"`  // requested capture size, 0 = the device's
	Height      int       `yaml:"height"`
	FPS         float64   `yaml:"fps"`           // requested capture rate, 0 = the device's
	Mirror      bool      `yaml:"mirror"`        // flip horizontally, so the piece mirrors visitors
	AtEnd       string    `yaml:"at_end"`        // loop | stop, for files
	AnalyzeW    int       `yaml:"analyze_width"` // analysis resolution
	AnalyzeH    int       `yaml:"analyze_height"`
	Sensitivity float64   `yaml:"sensitivity"` // 0..1, higher reads smaller motion
	Regions     []Polygon `yaml:"regions"`     // where to look; empty = everywhere
	Ignore      []Polygon `yaml:"ignore"`      // where never to look (doorway, screen)
	GridW       int       `yaml:"grid_width"`
	GridH       int       `yaml:"grid_height"`
	FlowW       int       `yaml:"flow_width"` // low-resolution flow field for the shaders
	FlowH       int       `yaml:"flow_height"`
	Warmup      float64   `yaml:"warmup"` // seconds before presence may be reported
	Hold        float64   `yaml:"hold"`   // seconds presence fades over once evidence stops
	Learn       float64   `yaml:"learn"`  // seconds of history the background model keeps
	People      bool      `yaml:"people"` // HOG people detector
	Faces       bool      `yaml:"faces"`  // Haar face detector
	DetectEvery float64   `yaml:"detect_every"`
	DetectW     int       `yaml:"detect_width"`
	FaceModel   string    `yaml:"face_cascade"`
	Person      string    `yaml:"person"`       // off | posenet | selfie: the trained network that sees people
	PersonW     int       `yaml:"person_width"` // widest posenet input, pixels
	PersonScore float64   `yaml:"person_score"` // least pose score that counts as a person
	// Nets opens the person networks. The pipeline's owner sets it (vision
	// does not know gen); nil runs motion analysis alone.
	Nets PersonNets `yaml:"-"`
}

// DefaultConfig is the vision section's defaults, the same as config.yaml's.
func DefaultConfig() Config {
	return Config{
		Source: "auto", AtEnd: "loop", AnalyzeW: 160, AnalyzeH: 120, Sensitivity: 0.5,
		Regions: []Polygon{}, Ignore: []Polygon{},
		GridW: 8, GridH: 6, FlowW: 16, FlowH: 12,
		Warmup: 2, Hold: 1.5, Learn: 20,
		People: false, Faces: false, DetectEvery: 1, DetectW: 640, FaceModel: FaceCascade,
		Person: PersonPoseNet, PersonW: 768, PersonScore: 0.25,
	}
}

// FieldError names the config key a validation failure is about.
type FieldError = field.Error

// Validate checks every value.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.Source) == "" {
		return &FieldError{Key: "source", Msg: "empty; expected auto, a device index (0), a video file or a stream URL"}
	}
	if c.Width < 0 || c.Width > 7680 {
		return &FieldError{Key: "width", Msg: fmt.Sprintf("%d: expected 0 (the device's) or up to 7680", c.Width)}
	}
	if c.Height < 0 || c.Height > 4320 {
		return &FieldError{Key: "height", Msg: fmt.Sprintf("%d: expected 0 (the device's) or up to 4320", c.Height)}
	}
	if c.FPS < 0 || c.FPS > 240 {
		return &FieldError{Key: "fps", Msg: fmt.Sprintf("%g: expected 0 (the device's) .. 240", c.FPS)}
	}
	if c.AtEnd != "loop" && c.AtEnd != "stop" {
		return &FieldError{Key: "at_end", Msg: fmt.Sprintf("%q: expected loop or stop", c.AtEnd)}
	}
	if c.AnalyzeW < 32 || c.AnalyzeW > 1280 {
		return &FieldError{Key: "analyze_width", Msg: fmt.Sprintf("%d: expected 32..1280", c.AnalyzeW)}
	}
	if c.AnalyzeH < 24 || c.AnalyzeH > 720 {
		return &FieldError{Key: "analyze_height", Msg: fmt.Sprintf("%d: expected 24..720", c.AnalyzeH)}
	}
	if c.Sensitivity < 0 || c.Sensitivity > 1 {
		return &FieldError{Key: "sensitivity", Msg: fmt.Sprintf("%g: expected 0..1", c.Sensitivity)}
	}
	for _, p := range []struct {
		key   string
		polys []Polygon
	}{{"regions", c.Regions}, {"ignore", c.Ignore}} {
		for i, poly := range p.polys {
			key := fmt.Sprintf("%s[%d]", p.key, i)
			if len(poly) < 3 {
				return &FieldError{Key: key, Msg: fmt.Sprintf("%d points: a polygon needs at least 3 [x, y] points", len(poly))}
			}
			for j, pt := range poly {
				if pt[0] < 0 || pt[0] > 1 || pt[1] < 0 || pt[1] > 1 {
					return &FieldError{Key: key, Msg: fmt.Sprintf("point %d [%g, %g]: expected coordinates 0..1 (fractions of the picture's width and height)", j, pt[0], pt[1])}
				}
			}
		}
	}
	if c.GridW < 1 || c.GridW > 64 {
		return &FieldError{Key: "grid_width", Msg: fmt.Sprintf("%d: expected 1..64", c.GridW)}
	}
	if c.GridH < 1 || c.GridH > 64 {
		return &FieldError{Key: "grid_height", Msg: fmt.Sprintf("%d: expected 1..64", c.GridH)}
	}
	if c.FlowW < 1 || c.FlowW > 128 || c.FlowW > c.AnalyzeW {
		return &FieldError{Key: "flow_width", Msg: fmt.Sprintf("%d: expected 1..128 and at most analyze_width", c.FlowW)}
	}
	if c.FlowH < 1 || c.FlowH > 128 || c.FlowH > c.AnalyzeH {
		return &FieldError{Key: "flow_height", Msg: fmt.Sprintf("%d: expected 1..128 and at most analyze_height", c.FlowH)}
	}
	if c.Warmup < 0 || c.Warmup > 600 {
		return &FieldError{Key: "warmup", Msg: fmt.Sprintf("%g: expected 0..600 seconds", c.Warmup)}
	}
	if c.Hold < 0.1 || c.Hold > 60 {
		return &FieldError{Key: "hold", Msg: fmt.Sprintf("%g: expected 0.1..60 seconds", c.Hold)}
	}
	if c.Learn < 1 || c.Learn > 3600 {
		return &FieldError{Key: "learn", Msg: fmt.Sprintf("%g: expected 1..3600 seconds", c.Learn)}
	}
	if c.DetectEvery < 0.1 || c.DetectEvery > 60 {
		return &FieldError{Key: "detect_every", Msg: fmt.Sprintf("%g: expected 0.1..60 seconds", c.DetectEvery)}
	}
	if c.DetectW < 64 || c.DetectW > 1920 {
		return &FieldError{Key: "detect_width", Msg: fmt.Sprintf("%d: expected 64..1920 pixels", c.DetectW)}
	}
	switch c.Person {
	case PersonOff, PersonPoseNet, PersonSelfie:
	default:
		return &FieldError{Key: "person", Msg: fmt.Sprintf("%q: expected off, posenet (wide views) or selfie (close-up kiosk views)", c.Person)}
	}
	if c.PersonW < 64 || c.PersonW > 1920 {
		return &FieldError{Key: "person_width", Msg: fmt.Sprintf("%d: expected 64..1920 pixels", c.PersonW)}
	}
	if !(c.PersonScore >= 0 && c.PersonScore <= 1) {
		return &FieldError{Key: "person_score", Msg: fmt.Sprintf("%g: expected 0..1", c.PersonScore)}
	}
	if c.Faces {
		if st, err := os.Stat(c.FaceModel); err != nil || st.IsDir() {
			return &FieldError{Key: "face_cascade", Msg: fmt.Sprintf("%q: no such file; expected a Haar cascade XML such as %s (Debian package opencv-data)", c.FaceModel, FaceCascade)}
		}
	}
	return nil
}

// DeviceIndex reports whether the source is a device index, and which.
func DeviceIndex(source string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(source))
	return n, err == nil && n >= 0
}
