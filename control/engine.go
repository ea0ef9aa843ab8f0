package control

import (
	"context"
	"image"
	"time"
)

// ParamInfo describes one live parameter (mirrors scene.ParamInfo).
type ParamInfo struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	Doc   string  `json:"doc,omitempty"`
	// Group is what the panel groups it under: its pass's id (warp,
	// deepdream, warp#2), director, map, push or generator; Order is the
	// group's place, the passes in chain order.
	Group string `json:"group,omitempty"`
	Order int    `json:"order"`
}

// DisplayStats is what the render loop reports (mirrors scene.DisplayStats).
type DisplayStats struct {
	FPS         float64
	Frames      uint64
	Preset      string
	Sleeping    bool
	Width       int
	Height      int
	Heartbeat   time.Time // the last Update: the loop is alive while this is recent
	Dream       string    // "" (no deepdream pass), starting, on, or "off: why"
	DreamSteps  uint64
	DreamStepMs float64
	// The frame budget: the render scale (Width×Height is the size at
	// it), the share of the machine the generator and the dream may use,
	// the rate held and why the scale is what it is.
	Scale        float64
	Share        float64
	TargetFPS    float64
	BudgetCause  string // off, measuring, full, holding, lowered, raised, floor
	BudgetReason string
}

// Controls is the live control surface of the scene (scene.Controls has this
// method set, with its own types). Every method is safe from any goroutine
// and never blocks the render loop.
type Controls interface {
	List() []ParamInfo
	Set(name string, v float64) error
	Presets() []string
	ApplyPreset(name string) error
	SetLatent(i int, v float64) error
	Snapshot(ctx context.Context) (*image.RGBA, error)
	ReleaseSnapshot(img *image.RGBA) // hands a snapshot back for reuse once encoded
	SetSleep(on bool)
	Stats() DisplayStats
}

// GenStats is the generator's state.
type GenStats struct {
	Model   string
	Ms      float64 // model time per frame, averaged
	FPS     float64 // frames generated per second
	Frames  uint64
	LastErr string
}

// CameraStats is the camera's state.
type CameraStats struct {
	Source   string
	State    string // ok, lost, reconnecting, ended, none
	Err      string
	Presence bool
	Level    float64 // presence level 0..1
}

// Pipeline is the rest of the installation: the generator and the camera.
type Pipeline interface {
	Generator() GenStats
	Models() []string             // models the panel offers
	SwapModel(model string) error // hot swap; on error the old model keeps running
	Camera() CameraStats
}

// Engine is everything the control server drives.
type Engine interface {
	Controls
	Pipeline
	Recorder
	CameraViewer
}
