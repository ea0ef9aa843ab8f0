package core

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"gocv.io/x/gocv"

	"reverie/audio"
	"reverie/gen"
	"reverie/scene"
	"reverie/videoout"
	"reverie/vision"
)

// TraceLine is one line of trace.jsonl: what produced one output frame.
type TraceLine struct {
	Frame      int     `json:"frame"`       // the output frame
	InputFrame int     `json:"input_frame"` // the input frame it was made from
	T          float64 `json:"t"`           // seconds into the input
	// The analysis of that input frame, as `reverie analyze` prints it;
	// its own frame and t are the trace's above.
	vision.Record
	// The sound up to the end of this frame (`render -audio`): onset and
	// beat are true on the frame whose time holds one.
	Audio  *audio.Features `json:"audio,omitempty"`
	Latent []float32       `json:"latent"`
	GenMs  float64         `json:"gen_ms"`
}

// offline renders a video file through the whole pipeline in lockstep: one
// output frame per input frame, a fixed time step, and latents that depend
// only on the input, the config and the seeds.
type offline struct {
	Source   vision.Source
	Analyzer *vision.Analyzer
	Runner   *gen.Runner
	Sound    *audio.Lockstep // the sound track, nil for none
	Frames   int             // output frames to write
	OutDir   string          // frame_00000.png … and trace.jsonl
	// Video, when set, is a video file written instead of the PNGs (its
	// container from the extension, Codec its codec), with NAME.trace.jsonl
	// beside it.
	Video string
	Codec string

	frame  gocv.Mat
	feed   *imageFeed
	pr     *vision.Picturer // camera frames as an image model's picture
	n      int
	input  int
	dt     float64
	trace  *bufio.Writer
	file   *os.File
	pixels []byte
	img    *image.RGBA
	enc    png.Encoder
	video  videoout.Encoder
	vframe videoout.Frame
	line   TraceLine
	heard  audio.Features
	z      []float32 // the director's latent for this frame
	done   bool
	Err    error
}

// Start opens the trace file and prepares buffers. The game must use a
// virtual clock of one input frame per tick.
func (o *offline) Start(w, h int) error {
	trace := filepath.Join(o.OutDir, "trace.jsonl")
	if o.Video != "" {
		trace = TracePath(o.Video)
		o.OutDir = filepath.Dir(o.Video)
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return fmt.Errorf("output folder %s: %w", o.OutDir, err)
	}
	f, err := os.Create(trace)
	if err != nil {
		return fmt.Errorf("output folder %s is not writable: %w", o.OutDir, err)
	}
	o.file = f
	o.trace = bufio.NewWriter(f)
	o.img = image.NewRGBA(image.Rect(0, 0, w, h))
	if o.Video != "" {
		if o.video, err = videoout.OpenFile(o.Video, o.Codec, w, h, o.Source.FPS()); err != nil {
			f.Close()
			o.file = nil
			return err
		}
		o.vframe = videoout.Frame{Pix: o.img.Pix, W: w, H: h, Repeat: 1}
	}
	o.frame = gocv.NewMat()
	o.dt = 1 / o.Source.FPS()
	o.enc.CompressionLevel = png.BestSpeed
	return nil
}

// AppendStatus implements scene.Driver: offline rendering adds no lines.
func (o *offline) AppendStatus(b []byte) []byte { return b }

// FrameStep is the virtual clock's step: one input frame.
func (o *offline) FrameStep() time.Duration {
	return time.Duration(float64(time.Second) / o.Source.FPS())
}

// Tick implements scene.Driver: read, analyse, direct and generate one frame.
func (o *offline) Tick(g *scene.Game) error {
	if o.done {
		return ebiten.Termination
	}
	err := o.Source.Read(&o.frame)
	if err != nil {
		o.Err = fmt.Errorf("input %s: %w after %d frames", o.Source.Name(), err, o.input)
		return ebiten.Termination
	}
	t := float64(o.input) * o.dt
	f := o.Analyzer.Analyze(o.frame, t)
	g.SetFeatures(f)
	var a *audio.Features
	if o.Sound != nil {
		// The frame is shown from t until the next: it hears that span.
		if o.heard, err = o.Sound.At(t + o.dt); err != nil {
			o.Err = err
			return ebiten.Termination
		}
		a = &o.heard
	}
	g.SetSound(a)
	o.line.Audio = a
	z, _, _ := g.Steer(f, a, o.dt, o.z) // offline the game loop steers itself
	o.z = z
	if err := o.handImage(g, f); err != nil {
		o.Err = err
		return ebiten.Termination
	}
	fr, err := o.Runner.Step(z)
	if err != nil {
		o.Err = err
		return ebiten.Termination
	}
	g.Upload(fr)
	o.line.Record.Fill(f)
	o.line.Frame, o.line.InputFrame, o.line.T = o.n, o.input, t
	o.line.Latent, o.line.GenMs = z, float64(fr.GenDur.Microseconds())/1000
	o.input++
	return nil
}

// handImage gives an image model the picture of this input frame: every
// frame has a generator frame offline, so the screen is read each time.
func (o *offline) handImage(g *scene.Game, f *vision.Features) error {
	spec, ok := o.Runner.Image()
	if !ok {
		return nil
	}
	if o.feed == nil {
		o.feed, o.pr = newImageFeed(), vision.NewPicturer()
	}
	return o.feed.hand(g, o.Runner, spec, o, f, true)
}

// picture implements cameraPictures: this input frame, resized straight
// into dst (the runner's next picture).
func (o *offline) picture(dst *gen.Picture, spec gen.ImageSpec) bool {
	return o.pr.Make(o.frame, spec.Width, spec.Height, dst)
}

// AfterChain implements scene.Driver: read the output back
// and write the frame and its trace line.
func (o *offline) AfterChain(g *scene.Game) error {
	g.ReadFrame(o.img.Pix)
	if err := o.writeFrame(); err != nil {
		o.Err = err
		return ebiten.Termination
	}
	b, _ := json.Marshal(&o.line)
	o.trace.Write(b)
	o.trace.WriteByte('\n')
	o.n++
	if o.n >= o.Frames {
		o.done = true
		return ebiten.Termination
	}
	return nil
}

// writeFrame writes the frame read back: into the video, or as a PNG.
func (o *offline) writeFrame() error {
	if o.video != nil {
		if err := o.video.Encode(&o.vframe); err != nil {
			return fmt.Errorf("writing %s: %w", o.Video, err)
		}
		return nil
	}
	path := filepath.Join(o.OutDir, fmt.Sprintf("frame_%05d.png", o.n))
	f, err := os.Create(path)
	if err == nil {
		err = o.enc.Encode(f, o.img)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// TracePath is where a render into the video file video writes its trace:
// beside it, as NAME.trace.jsonl.
func TracePath(video string) string {
	return strings.TrimSuffix(video, filepath.Ext(video)) + ".trace.jsonl"
}

// Written is the number of frames written so far.
func (o *offline) Written() int { return o.n }

// Close flushes the trace, finishes the video and frees the frame.
func (o *offline) Close() error {
	o.frame.Close()
	if o.pr != nil {
		o.pr.Close()
	}
	var verr error
	if o.video != nil {
		verr = o.video.Close()
		o.video = nil
	}
	if o.file == nil {
		return verr
	}
	err := o.trace.Flush()
	return errors.Join(verr, err, o.file.Close())
}
