package scene

import (
	"os"
	"testing"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"reverie/director"
	"reverie/gen"
)

// Ebiten draws and reads pixels only inside its game loop, and the loop runs
// on the main goroutine. TestMain therefore runs the loop, and tests hand it
// work through onLoop.
type loopGame struct {
	work chan func()
	done chan int
	code int

	// A benchmark's per-frame work: run once per Update, with no channel
	// traffic, so allocs/op counts only the work.
	frameFn   func()
	frameLeft int
	frameDone chan struct{}
}

var loop = &loopGame{work: make(chan func()), done: make(chan int, 1)}

func (g *loopGame) Update() error {
	if g.frameLeft > 0 {
		g.frameFn()
		if g.frameLeft--; g.frameLeft == 0 {
			close(g.frameDone)
		}
		return nil
	}
	for {
		select {
		case f := <-g.work:
			f()
		case g.code = <-g.done:
			return ebiten.Termination
		default:
			return nil
		}
	}
}

func (g *loopGame) Draw(*ebiten.Image)         {}
func (g *loopGame) Layout(int, int) (int, int) { return 64, 64 }

// onLoop runs f inside Update and waits for it. f runs on the Ebiten
// goroutine, so it reports with t.Error and returns: a t.Fatal there ends
// that goroutine (runtime.Goexit), and with it the game loop every later
// test needs. onLoop turns that into a panic on the test goroutine, which
// names the mistake, instead of a hang until the package's timeout.
func onLoop(f func()) {
	finished := make(chan bool, 1)
	loop.work <- func() {
		returned := false
		defer func() { finished <- returned }()
		f()
		returned = true
	}
	if !<-finished {
		panic("scene test: a function on the game loop called t.Fatal or runtime.Goexit; the loop is gone. Use t.Error and return there.")
	}
}

// onFrames runs f once per frame for n frames, each frame flushed to the
// GPU as in the installation, and waits for the last.
func onFrames(n int, f func()) {
	done := make(chan struct{})
	onLoop(func() { loop.frameFn, loop.frameLeft, loop.frameDone = f, n, done })
	<-done
}

// whileStepping runs f on its own goroutine, stepping g's loop until f
// returns, for calls that wait for the game loop (snapshots, reloads).
func whileStepping[T any](g *Game, f func() T) T {
	done := make(chan T, 1)
	go func() { done <- f() }()
	for {
		select {
		case v := <-done:
			return v
		default:
			onLoop(func() { g.Update() })
		}
	}
}

func TestMain(m *testing.M) {
	go func() { loop.done <- m.Run() }()
	ebiten.SetWindowSize(64, 64)
	ebiten.SetVsyncEnabled(false)
	ebiten.SetTPS(ebiten.SyncWithFPS)
	if err := ebiten.RunGame(loop); err != nil && !IsTermination(err) {
		println("ebiten:", err.Error())
		os.Exit(1)
	}
	os.Exit(loop.code)
}

// newFlatGame builds a game of cfg's render size on the loop, with a
// virtual clock, the director d (nil for none) stepped each tick and one
// 8×8 generator frame of grey level v uploaded. It returns nil (the test
// already failed) when the game cannot be built.
func newFlatGame(t *testing.T, cfg Config, d *director.Director, v byte) *Game {
	t.Helper()
	g := newLoopGame(t, cfg, 8, 8, d, stepDriver{})
	if g != nil {
		onLoop(func() {
			pix := make([]byte, 4*8*8)
			for i := range pix {
				pix[i] = v
			}
			g.Upload(&gen.Frame{Pix: pix, Width: 8, Height: 8, Seq: 1})
		})
	}
	return g
}

// newLoopGame builds a game on the loop with a virtual clock at 60 ticks a
// second. It returns nil (the test already failed) when the game cannot be
// built.
func newLoopGame(tb testing.TB, cfg Config, genW, genH int, d *director.Director, drv Driver) *Game {
	tb.Helper()
	var g *Game
	onLoop(func() {
		var err error
		if g, err = NewGame(cfg, genW, genH, d, drv); err != nil {
			tb.Error(err)
			g = nil
			return
		}
		g.UseVirtualClock(time.Second / 60)
	})
	return g
}
