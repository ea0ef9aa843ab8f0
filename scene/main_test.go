package scene

import (
	"os"
	"testing"

	"github.com/hajimehoshi/ebiten/v2"
)

// Ebiten draws and reads pixels only inside its game loop, and the loop runs
// on the main goroutine. TestMain therefore runs the loop, and tests hand it
// work through onLoop.
type loopGame struct {
	work chan func()
	done chan int
	code int
}

var loop = &loopGame{work: make(chan func()), done: make(chan int, 1)}

func (g *loopGame) Update() error {
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

// onLoop runs f inside Update and waits for it.
func onLoop(f func()) {
	finished := make(chan struct{})
	loop.work <- func() { f(); close(finished) }
	<-finished
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
