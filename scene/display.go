package scene

import (
	"strconv"

	"github.com/hajimehoshi/ebiten/v2"
)

// SetupDisplay opens the window as config says: full-screen on the chosen
// monitor with the cursor hidden, or a window; vsync on. It returns a note
// when the chosen monitor is missing and the primary one is used instead.
func SetupDisplay(cfg Config, windowed bool) string {
	note := ""
	mons := ebiten.AppendMonitors(nil)
	if cfg.Monitor < len(mons) {
		ebiten.SetMonitor(mons[cfg.Monitor])
	} else if cfg.Monitor > 0 {
		note = "scene.monitor " + strconv.Itoa(cfg.Monitor) + " is not connected (" + strconv.Itoa(len(mons)) + " found); using the primary monitor"
	}
	ebiten.SetWindowTitle("reverie")
	ebiten.SetWindowSize(cfg.RenderW, cfg.RenderH)
	ebiten.SetWindowResizingMode(ebiten.WindowResizingModeEnabled)
	full := cfg.Fullscreen && !windowed
	ebiten.SetFullscreen(full)
	if full {
		ebiten.SetCursorMode(ebiten.CursorModeHidden)
	}
	ebiten.SetVsyncEnabled(true)
	return note
}
