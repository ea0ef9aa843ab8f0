package gen

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"reverie/internal/heap"
	"reverie/internal/mailbox"
	"reverie/internal/pace"
)

// Frame is one generated image, RGBA, row-major.
type Frame struct {
	Pix    []byte
	Width  int
	Height int
	Seq    uint64        // 1 for the first frame, then counting up
	GenDur time.Duration // time the model took for this frame
	At     time.Time     // when it was published
}

// newFrames is the mailbox from the runner to the display: the runner
// renders into its back frame and publishes it; the display copies out the
// newest once, and only when there is a new one. Neither side waits for
// the other, and stale frames are dropped, never queued.
func newFrames(w, h int) *mailbox.Box[Frame] {
	return mailbox.New(mailbox.Funcs[Frame]{
		New: func() Frame { return Frame{Pix: make([]byte, 4*w*h), Width: w, Height: h} },
		Copy: func(dst, src *Frame) {
			pix := append(dst.Pix[:0], src.Pix...)
			*dst = *src
			dst.Pix = pix
		},
	})
}

// Stats are the runner's measurements and state.
type Stats struct {
	Frames   uint64
	GenMs    float64 // exponential moving average of model time per frame
	FPS      float64 // frames published per second, averaged the same way
	LastErr  string  // the last failed frame's error, "" after a good frame
	Errors   uint64  // failed frames since the start
	Model    string  // the model's source: builtin:NAME or its .onnx file
	Provider string  // the execution provider it runs on
	Width    int     // frame size; it changes when a swap brings another size
	Height   int
	Warning  string // the last load's fallback warning, "" when none
	Swaps    uint64 // hot swaps completed
	Fading   bool   // a crossfade to a newly swapped model is under way
	// ParamNote says what the last swap did with controllable inputs whose
	// values were changed: which carried over, were clamped or dropped.
	ParamNote string
}

// Param is one controllable model input (a manifest input with param:), as
// the runner holds it.
type Param struct {
	Name  string // the manifest's param name; live, it is generator.NAME
	Input string // the model input it sets
	Value float32
	Min   float32
	Max   float32
	Def   float32 // the manifest's value, which the runner starts from
	extra int     // index into the manifest's inputs
}

// Runner owns one model and produces frames from the newest latent in its own
// goroutine. The scene sets latents and takes frames; neither call blocks.
// Swap replaces the model while frames keep coming.
type Runner struct {
	mu     sync.Mutex // guards latent, dirty, stats and the model pointer
	step   sync.Mutex // held for each frame; Swap and Close take it to change the model
	swapMu sync.Mutex // one swap at a time
	model  *Model
	frames *mailbox.Box[Frame]
	shown  Frame                 // the display's copy of the newest frame (Latest)
	shownN uint64                // the mailbox's number for shown
	pics   *mailbox.Box[Picture] // pictures for an image model (SetImage, PublishPicture)
	picN   uint64                // the mailbox's number for the picture taken, 0 to take it again
	picFor *Model                // the model takePicture converts for
	picErr error                 // its conversion's error
	readFn func(*Picture)        // r.readPicture, made once
	latent []float32             // newest latent from the scene
	work   []float32             // the runner goroutine's copy
	fit    []float32             // a latent of another length, fitted to the model
	dirty  bool
	wake   chan struct{}
	period atomic.Int64  // nanoseconds between frame starts under generator.max_fps, 0 = no cap
	rate   chan struct{} // SetMaxFPS wakes a Run waiting for its slot
	share  pace.Share    // the frame budget's share of the machine (SetShare)
	hurry  atomic.Bool   // Hurry asked for the next frame at once
	seq    uint64
	stats  Stats
	last   time.Time
	onErr  func(error)
	fade   crossfade
	clock  Clock

	abandoned atomic.Int32                           // swaps' loads past their timeout, still running
	open      func(*Config) (*Model, Warning, error) // Config.Open; tests stand in a slow load

	params    []Param   // guarded by mu; replaced by setModel
	paramsSet bool      // a value changed since the last frame applied them
	paramVals []float32 // the step's copy of the values, one per param
}

// crossfade blends from the old model's last frame into the new model's frames.
type crossfade struct {
	from  []byte // the old frame, resampled to the new size
	start time.Time
	dur   time.Duration
}

// NewRunner takes ownership of model.
func NewRunner(model *Model) *Runner {
	d := model.Manifest.Latent.Dim
	r := &Runner{
		frames: newFrames(model.Width(), model.Height()),
		pics:   mailbox.New(mailbox.Funcs[Picture]{Copy: (*Picture).CopyFrom}),
		latent: make([]float32, d),
		work:   make([]float32, d),
		wake:   make(chan struct{}, 1),
		rate:   make(chan struct{}, 1),
		clock:  WallClock{},
	}
	r.readFn = r.readPicture
	r.setModel(model)
	return r
}

// setModel installs m; the caller holds step (or owns r exclusively). The
// values of the old model's params carry over to the new one's of the same
// name, including values set while the new model loaded.
func (r *Runner) setModel(m *Model) {
	ps := paramsOf(m.Manifest)
	r.mu.Lock()
	r.model = m
	r.stats.ParamNote = carryParams(r.params, ps)
	r.params, r.paramsSet = ps, true
	r.stats.Model, r.stats.Provider = m.Manifest.Source(), m.Provider
	r.stats.Width, r.stats.Height = m.Width(), m.Height()
	r.mu.Unlock()
	r.fit = make([]float32, m.Manifest.Latent.Dim)
	r.paramVals = make([]float32, len(ps))
	r.picN = 0 // the new model takes the newest picture at its first step
}

// SetImage hands an image model a picture of RGB, grey or RGBA bytes
// (see Picture): pix is copied, a picture the runner has not taken yet is
// replaced, and a frame is asked for, as SetLatent does. A model without
// an image input ignores it. It allocates nothing once the picture's size
// settles. One goroutine at a time may hand pictures over (SetImage or
// PictureBack and PublishPicture): the display's driver.
func (r *Runner) SetImage(pix []byte, w, h, channels int) error {
	p := Picture{Pix: pix, Width: w, Height: h, Channels: channels}
	if err := p.Check(); err != nil {
		return err
	}
	r.PictureBack().CopyFrom(&p)
	return r.PublishPicture()
}

// PictureBack is the runner's next picture, for the goroutine that hands
// pictures over to fill in place (every field; its Pix reused, grown only
// when too small) and then publish with PublishPicture: a picture already
// held elsewhere (the watcher's newest) is copied once, straight into the
// runner's mailbox. It is the caller's alone until PublishPicture.
func (r *Runner) PictureBack() *Picture { return r.pics.Back() }

// PublishPicture hands over the picture filled in PictureBack as SetImage
// hands over its copy: it replaces a picture not taken yet and asks for a
// frame. A picture whose pixels do not match its size is refused and not
// handed over. It allocates nothing.
func (r *Runner) PublishPicture() error {
	if err := r.pics.Back().Check(); err != nil {
		return err
	}
	r.pics.Publish()
	r.mu.Lock()
	r.dirty = true
	r.mu.Unlock()
	r.wakeUp()
	return nil
}

// wakeUp tells Run that a frame is wanted; a wake-up already waiting
// stands for this one too.
func (r *Runner) wakeUp() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Image is the running model's image input, and false for a model that
// takes none. Drivers ask it to know which picture to hand over; it
// changes with a swap.
func (r *Runner) Image() (ImageSpec, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.model == nil || r.model.Manifest.Image == nil {
		return ImageSpec{}, false
	}
	return *r.model.Manifest.Image, true
}

// paramsOf lists a manifest's controllable inputs at their start values.
func paramsOf(man *Manifest) []Param {
	var ps []Param
	for i, in := range man.Inputs {
		if in.Param != "" {
			ps = append(ps, Param{Name: in.Param, Input: in.Name, Value: in.Value, Min: in.Min, Max: in.Max, Def: in.Value, extra: i})
		}
	}
	return ps
}

// Params lists the model's controllable inputs with their current values.
func (r *Runner) Params() []Param {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Param(nil), r.params...)
}

// SetInput sets a controllable input by its param name, from any goroutine.
// The value applies from the next frame on, which it also asks for, so a
// still latent shows the change. A name the model does not have, or a value
// outside the manifest's min..max, is an error naming both.
func (r *Runner) SetInput(name string, v float64) error {
	r.mu.Lock()
	i := -1
	for k, p := range r.params {
		if p.Name == name {
			i = k
		}
	}
	if i < 0 {
		var names []string
		for _, p := range r.params {
			names = append(names, "generator."+p.Name)
		}
		r.mu.Unlock()
		has := "no controllable inputs"
		if len(names) > 0 {
			has = "only " + strings.Join(names, ", ")
		}
		return fmt.Errorf("generator.%s: the model %s has no such parameter; it has %s", name, r.stats.Model, has)
	}
	p := &r.params[i]
	if math.IsNaN(v) || v < float64(p.Min) || v > float64(p.Max) {
		r.mu.Unlock()
		return fmt.Errorf("generator.%s: %g is out of range: expected %g..%g (input %q of %s)", name, v, p.Min, p.Max, p.Input, r.stats.Model)
	}
	p.Value = float32(v)
	r.paramsSet = true
	r.dirty = true
	r.mu.Unlock()
	r.wakeUp()
	return nil
}

// applyParams writes changed param values into the model's input tensors.
// The caller holds step; the values are copied under mu and written outside
// it, so a large noise input never holds up SetLatent. It allocates nothing.
func (r *Runner) applyParams(m *Model) {
	r.mu.Lock()
	if !r.paramsSet {
		r.mu.Unlock()
		return
	}
	r.paramsSet = false
	for i, p := range r.params {
		r.paramVals[i] = p.Value
	}
	r.mu.Unlock()
	// The list only changes under step, which we hold; SetInput changes a
	// Value under mu meanwhile, so read nothing else here.
	for i := range r.params {
		m.fillInput(r.params[i].extra, r.paramVals[i])
	}
}

// carryParams gives the new model's params the values set on the old model's
// params of the same name, clamped to the new range, and describes what it
// did with values that had been changed from their defaults.
func carryParams(old, next []Param) (note string) {
	var notes []string
	for i := range next {
		n := &next[i]
		for _, o := range old {
			if o.Name != n.Name {
				continue
			}
			v := min(max(o.Value, n.Min), n.Max)
			if v != o.Value {
				notes = append(notes, fmt.Sprintf("generator.%s %g clamped to %g, the new model's range %g..%g", n.Name, o.Value, v, n.Min, n.Max))
			} else if o.Value != o.Def {
				notes = append(notes, fmt.Sprintf("generator.%s kept at %g", n.Name, v))
			}
			n.Value = v
		}
	}
	for _, o := range old {
		found := false
		for _, n := range next {
			found = found || n.Name == o.Name
		}
		if !found {
			notes = append(notes, fmt.Sprintf("generator.%s dropped: the new model has no such input", o.Name))
		}
	}
	return strings.Join(notes, "; ")
}

// SetClock sets the time the runner paces and stamps frames by (the wall
// clock by default). Set it before Run or Step.
func (r *Runner) SetClock(c Clock) { r.clock = c }

// Model is the model the runner is using, nil after Close.
func (r *Runner) Model() *Model {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.model
}

// OnError sets a function called with each failed frame's error, from the
// runner's goroutine. Use it for logging at a rate the caller chooses.
func (r *Runner) OnError(f func(error)) { r.onErr = f }

// SetLatent hands the runner a new latent. Values are copied; a latent the
// runner has not started on yet is replaced. Its length need not match the
// model's: after a swap to a model with another latent size, the runner pads
// with zeros or truncates.
func (r *Runner) SetLatent(z []float32) {
	r.mu.Lock()
	if len(r.latent) != len(z) {
		r.latent = make([]float32, len(z))
	}
	copy(r.latent, z)
	r.dirty = true
	r.mu.Unlock()
	r.wakeUp()
}

// Latent copies the newest latent the scene handed over (as given, before
// it is fitted to the model's size) into dst, grown as needed, and returns it.
func (r *Runner) Latent(dst []float32) []float32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append(dst[:0], r.latent...)
}

// Latest returns the newest frame and whether it is new since the last call;
// when it is not, nothing is copied. Only one goroutine (the display) may
// call it; the frame stays valid until its next call. Its Width and Height
// can change after a Swap.
func (r *Runner) Latest() (*Frame, bool) {
	n, ok := r.frames.Latest(&r.shown, r.shownN)
	r.shownN = n
	return &r.shown, ok
}

// Stats returns a copy of the runner's measurements.
func (r *Runner) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// SetMaxFPS caps how many frames Run makes per second, from any goroutine;
// 0 (or less) removes the cap, so a frame starts as soon as a new latent
// arrives and the previous frame is done. A cap leaves the CPU or GPU to the
// display and the camera: the display crossfades between the two newest
// frames, so it still moves smoothly. A Run waiting for its slot takes a new
// cap at once. Swap leaves the cap as it is.
func (r *Runner) SetMaxFPS(fps float64) {
	var p int64
	if fps > 0 && !math.IsInf(fps, 1) {
		p = int64(float64(time.Second) / fps)
	}
	r.period.Store(p)
	select {
	case r.rate <- struct{}{}:
	default:
	}
}

// SetShare sets the share of the machine Run may use, (0, 1], from any
// goroutine: a frame that took d starts no sooner than d/share after the one
// before, on top of any SetMaxFPS cap. The frame budget lowers it when the
// display cannot hold its rate; 1 (the default) adds no wait.
func (r *Runner) SetShare(share float64) {
	r.share.Set(share)
	select {
	case r.rate <- struct{}{}:
	default:
	}
}

// Hurry asks Run to start its next frame as soon as the one in progress is
// done, from any goroutine, without waiting for the rest of its slot under
// the share (SetShare): the audience just did something new, and the
// answer should not wait up to 1/share frames. The frames after it keep the
// share's spacing from the hurried one, so the schedule shifts rather than
// adds a frame, and Run honours at most one hurry per two slots: the share
// holds on average however often Hurry is called. A max_fps cap is never
// hurried.
func (r *Runner) Hurry() {
	r.hurry.Store(true)
	select {
	case r.rate <- struct{}{}:
	default:
	}
}

// MaxFPS is the cap SetMaxFPS set, 0 for none.
func (r *Runner) MaxFPS() float64 {
	if p := r.period.Load(); p > 0 {
		return float64(time.Second) / float64(p)
	}
	return 0
}

// Run produces frames until ctx ends, each time a new latent has arrived,
// and under a cap (SetMaxFPS) no sooner than its next slot: it then makes
// one frame from the newest latent at that moment, and the latents that
// came between are dropped, never queued. It allocates nothing per frame.
func (r *Runner) Run(ctx context.Context) {
	// One timer for the whole run, re-armed for each slot.
	timer := r.clock.NewTimer()
	defer timer.Stop()
	var last time.Time     // the slot the previous frame started in
	var busy time.Duration // how long the previous frame took
	var hurried time.Time  // when the last hurried frame started
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		}
		ok, hurry := r.awaitSlot(ctx, timer, last, busy, hurried)
		if !ok {
			return
		}
		r.mu.Lock()
		if !r.dirty {
			r.mu.Unlock()
			continue
		}
		if len(r.work) != len(r.latent) {
			r.work = make([]float32, len(r.latent))
		}
		copy(r.work, r.latent)
		r.dirty = false
		r.mu.Unlock()
		start := r.clock.Now()
		r.hurry.Store(false) // this frame answers any hurry so far
		// A frame that started late for its slot (a timer's latency, a
		// latent just after the slot) counts from the slot, so the cap is
		// kept on average; one that came after a pause counts from now, so
		// a pause is never made up for with a burst. A hurried frame starts
		// the schedule afresh.
		if p := time.Duration(r.period.Load()); p > 0 && !last.IsZero() && start.Sub(last) < 2*p && !hurry {
			last = last.Add(p)
		} else {
			last = start
		}
		if hurry {
			hurried = start
		}
		if _, err := r.Step(r.work); err != nil && r.onErr != nil {
			r.onErr(err)
		}
		busy = r.clock.Now().Sub(start)
	}
}

// awaitSlot sleeps until one frame period after last, taking a cap, a
// share or a hurry that came meanwhile; a share below 1 stretches the
// period to busy (the last frame's time) over the share. A hurry (Hurry)
// waits for the cap alone, unless the last hurried frame started less than
// two periods ago; hurried says it did. ok is false when ctx ended first.
func (r *Runner) awaitSlot(ctx context.Context, timer Timer, last time.Time, busy time.Duration, hurriedAt time.Time) (ok, hurried bool) {
	for {
		capP := time.Duration(r.period.Load())
		p := max(capP, r.share.Gap(busy))
		if p <= 0 || last.IsZero() {
			return true, false
		}
		now := r.clock.Now()
		if r.hurry.Load() && p > capP && (hurriedAt.IsZero() || now.Sub(hurriedAt) >= 2*p) {
			p, hurried = capP, true
		}
		wait := last.Add(p).Sub(now)
		if wait <= 0 {
			return true, hurried
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return false, false
		case <-timer.C():
			return true, hurried
		case <-r.rate:
			timer.Stop() // look again with the new cap, share or hurry
		}
	}
}

// Step generates one frame from z synchronously and publishes it. Offline
// rendering calls it directly; Run calls it from the runner's goroutine. A
// failed frame is not published, so the display keeps the last good one.
func (r *Runner) Step(z []float32) (*Frame, error) {
	r.step.Lock()
	defer r.step.Unlock()
	m := r.model
	if m == nil {
		return nil, errClosed
	}
	r.applyParams(m)
	w, h := m.Width(), m.Height()
	back := r.frames.Back()
	if back.Width != w || back.Height != h {
		// The first frames after a swap to another size.
		back.Pix, back.Width, back.Height = make([]byte, 4*w*h), w, h
	}
	start := r.clock.Now()
	err := r.takePicture(m)
	if err == nil {
		err = m.Run(r.fitLatent(z), back.Pix)
	}
	dur := r.clock.Now().Sub(start)
	fading := false
	if err == nil && r.fade.from != nil {
		fading = r.blend(back.Pix, start.Add(dur))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.stats.LastErr = err.Error()
		r.stats.Errors++
		return nil, err
	}
	r.stats.LastErr = ""
	r.stats.Fading = fading
	r.seq++
	back.Seq, back.GenDur, back.At = r.seq, dur, start.Add(dur)
	r.stats.Frames = r.seq
	ms := float64(dur.Microseconds()) / 1000
	if r.stats.GenMs == 0 {
		r.stats.GenMs = ms
	} else {
		r.stats.GenMs += 0.1 * (ms - r.stats.GenMs)
	}
	if !r.last.IsZero() {
		if dt := back.At.Sub(r.last).Seconds(); dt > 0 {
			if r.stats.FPS == 0 {
				r.stats.FPS = 1 / dt
			} else {
				r.stats.FPS += 0.1 * (1/dt - r.stats.FPS)
			}
		}
	}
	r.last = back.At
	r.frames.Publish()
	return back, nil
}

// takePicture converts the newest picture into m's image input when one
// came since the last step, in place in the mailbox (no copy). It
// allocates nothing once sizes settle.
func (r *Runner) takePicture(m *Model) error {
	if m.img == nil {
		return nil
	}
	r.picFor, r.picErr = m, nil
	n, ok := r.pics.Read(r.picN, r.readFn)
	r.picFor = nil
	if !ok {
		return nil
	}
	r.picN = n
	return r.picErr
}

// readPicture converts a picture the mailbox lends for takePicture.
func (r *Runner) readPicture(p *Picture) { r.picErr = r.picFor.SetImage(p) }

// fitLatent returns z, or z padded with zeros or truncated to the model's
// latent size. It allocates nothing.
func (r *Runner) fitLatent(z []float32) []float32 {
	if len(z) == len(r.fit) {
		return z
	}
	n := copy(r.fit, z)
	clear(r.fit[n:])
	return r.fit
}

// blend mixes the crossfade's old frame into pix by the fade's progress at
// time t, and reports whether the fade is still under way.
func (r *Runner) blend(pix []byte, t time.Time) bool {
	f := &r.fade
	a := 1.0
	if f.dur > 0 {
		a = float64(t.Sub(f.start)) / float64(f.dur)
	}
	if a >= 1 || len(f.from) != len(pix) {
		f.from = nil
		return false
	}
	// 8-bit fixed point: new·k + old·(256-k), alpha untouched.
	k := uint32(max(a, 0) * 256)
	from := f.from[:len(pix)]
	for i := 0; i+3 < len(pix); i += 4 {
		p, o := pix[i:i+3:i+3], from[i:i+3:i+3]
		p[0] = byte((uint32(p[0])*k + uint32(o[0])*(256-k)) >> 8)
		p[1] = byte((uint32(p[1])*k + uint32(o[1])*(256-k)) >> 8)
		p[2] = byte((uint32(p[2])*k + uint32(o[2])*(256-k)) >> 8)
	}
	return true
}

// Swap loads the model c names and switches to it. It does the slow part
// (building or reading the model, creating the session, a first run) in the
// background while the old model keeps producing frames, and waits for it
// at most c.LoadTimeout: a load that takes longer is abandoned with an
// error naming the model and the limit, and the next swap can start at
// once (an abandoned load's model is closed when it finishes; at most
// maxAbandoned may still be running). On any error the old model stays and
// the error names the model and the problem. On success the frames
// crossfade from the old model's last frame over c.Crossfade seconds, and
// the old session is destroyed. The new model may have another frame size
// or latent size.
func (r *Runner) Swap(c Config) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("model swap refused: generator.%w", err)
	}
	r.swapMu.Lock()
	defer r.swapMu.Unlock()
	if r.Model() == nil {
		return errClosed
	}
	if n := r.abandoned.Load(); n >= maxAbandoned {
		return fmt.Errorf("model swap to %s refused, keeping the current model: %d earlier loads that took longer than generator.load_timeout are still running; try again when they finish", c.Model, n)
	}
	done := make(chan swapLoad, 1)
	go func() { done <- r.load(c) }()
	timer := time.NewTimer(c.loadTimeout())
	defer timer.Stop()
	var l swapLoad
	select {
	case l = <-done:
	case <-timer.C:
		r.abandoned.Add(1)
		go func() {
			if l := <-done; l.m != nil {
				l.m.Close()
			}
			r.abandoned.Add(-1)
		}()
		return fmt.Errorf("model swap to %s abandoned, keeping the current model: loading took longer than generator.load_timeout (%gs)", c.Model, c.loadTimeout().Seconds())
	}
	if l.err != nil {
		return fmt.Errorf("model swap to %s refused, keeping the current model: %w", c.Model, l.err)
	}
	m, pix, warning := l.m, l.pix, l.warning

	r.step.Lock()
	old := r.model
	if old == nil {
		r.step.Unlock()
		m.Close()
		return errClosed
	}
	r.fade = crossfade{dur: time.Duration(c.Crossfade * float64(time.Second))}
	if newest := r.frames.Newest(); newest != nil && r.fade.dur > 0 {
		r.fade.from = resample(pix, newest, m.Width(), m.Height())
		r.fade.start = r.clock.Now()
	}
	r.setModel(m)
	r.mu.Lock()
	r.stats.Swaps++
	r.stats.Warning = string(warning)
	r.mu.Unlock()
	r.step.Unlock()
	old.Close()
	heap.Trim()
	return nil
}

// maxAbandoned is how many loads past their timeout may still be running
// before a swap is refused: each holds a model's memory until it ends.
const maxAbandoned = 2

// swapLoad is a loaded, warmed-up model on its way into a swap.
type swapLoad struct {
	m       *Model
	warning Warning
	pix     []byte // its first frame
	err     error
}

// load opens the model c names and runs it once, which warms the session
// up off the display path and refuses a model that cannot make a picture
// (NaN, Inf, a failing kernel).
func (r *Runner) load(c Config) swapLoad {
	open := r.open
	if open == nil {
		open = (*Config).Open
	}
	m, warning, err := open(&c)
	if err != nil {
		return swapLoad{err: err}
	}
	pix := make([]byte, 4*m.Width()*m.Height())
	z := make([]float32, m.Manifest.Latent.Dim)
	next := paramsOf(m.Manifest)
	r.mu.Lock()
	copy(z, r.latent)
	carryParams(r.params, next)
	r.mu.Unlock()
	for _, p := range next {
		m.fillInput(p.extra, p.Value)
	}
	if err := m.Run(z, pix); err != nil {
		m.Close()
		return swapLoad{err: fmt.Errorf("first run: %w", err)}
	}
	return swapLoad{m: m, warning: warning, pix: pix}
}

// resample scales f to w×h by nearest neighbour into dst (reused when it has
// the right length). It runs once per swap, so simple beats fast.
func resample(dst []byte, f *Frame, w, h int) []byte {
	if len(dst) != 4*w*h {
		dst = make([]byte, 4*w*h)
	}
	for y := 0; y < h; y++ {
		sy := y * f.Height / h
		for x := 0; x < w; x++ {
			sx := x * f.Width / w
			copy(dst[4*(y*w+x):4*(y*w+x)+4], f.Pix[4*(sy*f.Width+sx):])
		}
	}
	return dst
}

// Close destroys the model's session. It waits for a frame in progress.
func (r *Runner) Close() {
	r.step.Lock()
	defer r.step.Unlock()
	r.mu.Lock()
	m := r.model
	r.model = nil
	r.mu.Unlock()
	if m != nil {
		m.Close()
	}
}
