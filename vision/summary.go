package vision

import (
	"fmt"
	"io"
	"time"
)

// Summary collects, over an analysed clip or session, what a technician
// needs to judge the tuning, and prints it with a hint when a setting looks
// wrong (`reverie analyze` ends with it).
type Summary struct {
	Start  time.Time // when the analysis started
	Frames int       // frames added
	Note   string    // one more line to print, such as why the source stopped

	cfg                         Config
	warm, present, lights       int
	moving, maxPeople, maxFaces int
	motion, maxMotion, flicker  float64
	wasPresent                  bool
	grid                        []float64
}

// NewSummary starts a summary of an analysis with c.
func NewSummary(c Config) *Summary {
	return &Summary{Start: time.Now(), cfg: c, grid: make([]float64, c.GridW*c.GridH)}
}

// Add counts one frame's features.
func (s *Summary) Add(f *Features) {
	s.Frames++
	s.motion += float64(f.Motion)
	s.maxMotion = max(s.maxMotion, float64(f.Motion))
	if f.Motion > 0.01 {
		s.moving++
	}
	if f.LightChange {
		s.lights++
	}
	s.maxPeople, s.maxFaces = max(s.maxPeople, f.People), max(s.maxFaces, f.Faces)
	for i, g := range f.Grid {
		s.grid[i] += float64(g)
	}
	if !f.Warm {
		return
	}
	s.warm++
	if f.Presence {
		s.present++
	}
	if f.Presence != s.wasPresent && s.warm > 1 {
		s.flicker++
	}
	s.wasPresent = f.Presence
}

// Print writes the summary to w, with a tuning hint when one applies.
func (s *Summary) Print(w io.Writer) {
	c := s.cfg
	el := time.Since(s.Start).Seconds()
	if s.Frames == 0 {
		fmt.Fprintln(w, "analyze: no frames were analysed")
		if s.Note != "" {
			fmt.Fprintln(w, "  "+s.Note)
		}
		return
	}
	pct := func(n, of int) float64 { return 100 * float64(n) / float64(max(of, 1)) }
	fmt.Fprintf(w, "analyze: %d frames in %.1f s (%.1f frames/s analysed at %dx%d, sensitivity %g)\n",
		s.Frames, el, float64(s.Frames)/el, c.AnalyzeW, c.AnalyzeH, c.Sensitivity)
	fmt.Fprintf(w, "  motion:   mean %.3f, max %.3f; above 0.01 in %.0f%% of frames\n", s.motion/float64(s.Frames), s.maxMotion, pct(s.moving, s.Frames))
	fmt.Fprintf(w, "  presence: in %.0f%% of %d frames after the %gs warm-up; it switched %.0f times\n", pct(s.present, s.warm), s.warm, c.Warmup, s.flicker)
	fmt.Fprintf(w, "  light changes normalised away: %d frames\n", s.lights)
	if c.People || c.Faces {
		fmt.Fprintf(w, "  most people seen at once: %d; most faces: %d\n", s.maxPeople, s.maxFaces)
	}
	busiest, best := 0, -1.0
	for i, g := range s.grid {
		if g > best {
			busiest, best = i, g
		}
	}
	bx, by := busiest%c.GridW, busiest/c.GridW
	fmt.Fprintf(w, "  busiest grid cell: column %d, row %d of %dx%d (x %.2f..%.2f, y %.2f..%.2f), mean energy %.3f\n",
		bx+1, by+1, c.GridW, c.GridH, float64(bx)/float64(c.GridW), float64(bx+1)/float64(c.GridW),
		float64(by)/float64(c.GridH), float64(by+1)/float64(c.GridH), best/float64(s.Frames))
	switch {
	case s.warm > 0 && s.present == 0 && s.moving > s.Frames/4:
		fmt.Fprintln(w, "  hint: things move but nobody reads as present: raise vision.sensitivity")
	case s.warm > 0 && pct(s.present, s.warm) > 95 && s.moving < s.Frames/10:
		fmt.Fprintln(w, "  hint: presence nearly always on with little motion: lower vision.sensitivity, or add the busiest cell to vision.ignore if a screen or doorway is there")
	case s.flicker > float64(s.warm)/20:
		fmt.Fprintln(w, "  hint: presence flickers: raise vision.hold")
	}
	if s.Note != "" {
		fmt.Fprintln(w, "  "+s.Note)
	}
}
