package videoout

import (
	"sync"
	"sync/atomic"
	"time"
)

// Frame is one displayed picture handed to an encoder.
type Frame struct {
	Pix  []byte // RGBA, 4·W·H bytes, at the render size
	W, H int
	// Repeat is how many of the output's frame slots this picture fills:
	// 1, or more after a slow display tick or a dropped frame, so a file
	// keeps real time. A live stream sends it once.
	Repeat int
}

// Encoder writes frames to one destination: a file, a stream, a device.
// Encode and Close run on the output's own goroutine.
type Encoder interface {
	Encode(f *Frame) error
	Close() error
}

// sink is one output's hand-over from the game loop to its encoder: a pool
// of frames made once and reused, and a queue the encoder goroutine drains.
// The game loop never waits: with no free frame the picture is dropped and
// counted.
type sink struct {
	fps  float64
	free chan *Frame
	full chan *Frame
	done chan struct{}
	enc  Encoder

	// The game loop's own.
	started  bool
	lastSlot int64
	dropSlot int64

	frames  atomic.Uint64 // pictures encoded
	dropped atomic.Uint64 // frame slots lost because the encoder was behind
	failed  atomic.Bool

	errMu sync.Mutex
	err   error
	onErr func(error) // called once, from the encoder goroutine, when Encode fails
}

// maxRepeat bounds the slots one picture fills, in seconds of video: a
// display stalled for minutes must not write minutes of one picture.
const maxRepeat = 1.0

func newSink(enc Encoder, w, h int, fps float64, queue int, onErr func(error)) *sink {
	s := &sink{fps: fps, enc: enc, onErr: onErr, dropSlot: -1,
		free: make(chan *Frame, queue), full: make(chan *Frame, queue), done: make(chan struct{})}
	for range queue {
		s.free <- &Frame{Pix: make([]byte, 4*w*h), W: w, H: h}
	}
	go s.run()
	return s
}

// take returns a frame to fill for clock time t when the output's next
// slot is due and a frame is free; nil otherwise. Game loop only.
func (s *sink) take(t time.Duration) *Frame {
	slot := int64(t.Seconds() * s.fps)
	if s.started && slot <= s.lastSlot {
		return nil
	}
	select {
	case f := <-s.free:
		f.Repeat = 1
		if s.started {
			f.Repeat = int(min(slot-s.lastSlot, int64(max(1, s.fps*maxRepeat))))
		}
		s.started, s.lastSlot = true, slot
		return f
	default:
		if slot != s.dropSlot {
			s.dropped.Add(1)
			s.dropSlot = slot
		}
		return nil
	}
}

// put queues a filled frame for the encoder; it never blocks, as the queue
// holds every frame of the pool.
func (s *sink) put(f *Frame) { s.full <- f }

func (s *sink) run() {
	defer close(s.done)
	for f := range s.full {
		if !s.failed.Load() {
			if err := s.enc.Encode(f); err != nil {
				s.fail(err)
			} else {
				s.frames.Add(1)
			}
		}
		s.free <- f
	}
}

func (s *sink) fail(err error) {
	s.errMu.Lock()
	s.err = err
	s.errMu.Unlock()
	s.failed.Store(true)
	if s.onErr != nil {
		s.onErr(err)
	}
}

// lastErr is the encoder's failure, nil while it works.
func (s *sink) lastErr() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

// close drains the queue, stops the goroutine and closes the encoder. The
// game loop must no longer reach the sink.
func (s *sink) close() error {
	close(s.full)
	<-s.done
	return s.enc.Close()
}
