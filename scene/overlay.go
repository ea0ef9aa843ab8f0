package scene

import (
	"strconv"

	"github.com/hajimehoshi/ebiten/v2"
)

// overlayText builds the technician's status lines into g.status, so the
// buffer is reused from frame to frame rather than grown anew.
func (g *Game) overlayText() []byte {
	s := g.status[:0]
	s = append(s, "fps "...)
	s = strconv.AppendFloat(s, ebiten.ActualFPS(), 'f', 1, 64)
	s = append(s, "  frames "...)
	s = strconv.AppendUint(s, g.frames, 10)
	s = append(s, "  render "...)
	s = strconv.AppendInt(s, int64(g.rw), 10)
	s = append(s, 'x')
	s = strconv.AppendInt(s, int64(g.rh), 10)
	s = append(s, "\nbudget "...)
	s = append(s, g.budget.State().Reason...)
	s = append(s, "\npreset "...)
	if g.presetAt >= 0 {
		s = append(s, g.cfg.Presets[g.presetAt].Name...)
	} else {
		s = append(s, "(none)"...)
	}
	s = append(s, "\npresence "...)
	if g.haveFeats {
		s = strconv.AppendFloat(s, float64(g.feats.Level), 'f', 2, 32)
		if g.feats.Presence {
			s = append(s, " (someone is there)"...)
		}
		s = append(s, "  motion "...)
		s = strconv.AppendFloat(s, float64(g.feats.Motion), 'f', 2, 32)
	} else {
		s = append(s, "no camera features"...)
	}
	s = append(s, '\n')
	s = g.driver.AppendStatus(s)
	s = g.appendDream(s)
	if g.sleeping {
		s = append(s, "\nasleep (schedule)"...)
	}
	g.status = s
	return s
}
