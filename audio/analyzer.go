package audio

import (
	"fmt"
	"math"
)

// Features is what the analysis says about the sound up to one moment. The
// JSON keys are those of the audio object in trace.jsonl.
type Features struct {
	T     float64 `json:"-"`     // seconds of sound analysed since the start
	Level float32 `json:"level"` // loudness, RMS of the newest block × gain, 0..1
	Low   float32 `json:"low"`   // RMS of the part below LowHz × gain, 0..1
	Mid   float32 `json:"mid"`   // RMS between LowHz and HighHz × gain, 0..1
	High  float32 `json:"high"`  // RMS above HighHz × gain, 0..1
	// Onset is true when an onset (a hit, a note's attack) happened in the
	// span this value covers: the newest block for Analyzer, the time since
	// the previous call for Lockstep.At.
	Onset bool    `json:"onset"`
	BPM   float32 `json:"bpm"`   // tempo estimate, 0 until there is one
	Beat  bool    `json:"beat"`  // a beat fell in the same span as Onset's
	Phase float32 `json:"phase"` // where in the beat we are, 0..1 (0 on the beat)
	// Onsets and Beats count since the start. A reader that polls less
	// often than blocks arrive compares them with the last value it took,
	// so it never misses a hit that fell between two reads.
	Onsets uint64 `json:"-"`
	Beats  uint64 `json:"-"`
}

// Analyzer turns a stream of mono samples into Features, one update per
// block. It keeps every buffer it needs from construction on, so Write
// allocates nothing. One goroutine uses it at a time.
type Analyzer struct {
	cfg  Config
	rate int
	hop  int // samples per block
	n    int // FFT size, two blocks

	buf  []float32 // the newest n samples
	fill int       // samples of the current block received so far
	win  []float32 // Hann window
	fft  *fft

	lowBin, highBin int     // first bin of mid, first bin of high
	scale           float64 // |X|² to mean square
	magNorm         float32 // |X| to about 1 for a full-scale sine
	logMag          []float32

	// Onsets: spectral flux against the mean of the recent flux.
	fluxHist  []float32 // ring of recent flux values
	fluxSum   float64
	fluxPos   int
	prevFlux  float32
	refract   int // blocks before another onset may count
	minGap    int
	sinceLast int

	// Tempo: the autocorrelation of the onset envelope, decaying, so it
	// follows a change of tempo in a few seconds.
	env       []float32 // ring of the onset envelope
	envPos    int
	acf       []float64
	decay     float64
	minLag    int
	maxLag    int
	blocks    int
	period    float64 // blocks per beat, 0 until known
	phase     float64
	frameRate float64
	warm      int // blocks of envelope needed before a tempo is given
	acfScore  []float64
	f         Features
}

// NewAnalyzer returns an analyzer for mono sound at rate samples per second.
func NewAnalyzer(cfg Config, rate int) (*Analyzer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if rate < 4000 || rate > 768000 {
		return nil, fmt.Errorf("audio: sample rate %d Hz; expected 4000..768000", rate)
	}
	hop := cfg.blockFor(rate)
	n := 2 * hop
	a := &Analyzer{cfg: cfg, rate: rate, hop: hop, n: n,
		buf: make([]float32, n), win: make([]float32, n), fft: newFFT(n),
		logMag: make([]float32, n/2+1)}
	var sumW, sumW2 float64
	for i := range a.win {
		w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n))
		a.win[i] = float32(w)
		sumW += w
		sumW2 += w * w
	}
	// Parseval with the window's power: a band's share of the mean square.
	a.scale = 2 / (float64(n) * sumW2)
	a.magNorm = float32(2 / sumW)
	binHz := float64(rate) / float64(n)
	a.lowBin = max(1, int(math.Round(cfg.LowHz/binHz)))
	a.highBin = min(n/2, max(a.lowBin+1, int(math.Round(cfg.HighHz/binHz))))

	a.frameRate = float64(rate) / float64(hop)
	a.fluxHist = make([]float32, max(4, int(math.Round(0.25*a.frameRate))))
	a.minGap = max(1, int(math.Round(0.05*a.frameRate)))
	a.minLag = max(3, int(math.Floor(a.frameRate*60/cfg.MaxBPM)))
	a.maxLag = int(math.Ceil(a.frameRate * 60 / cfg.MinBPM))
	a.acf = make([]float64, 4*a.maxLag+4)
	a.acfScore = make([]float64, a.maxLag+2)
	a.env = make([]float32, len(a.acf))
	a.decay = math.Exp(-1 / (a.frameRate * 6)) // about six seconds of memory
	a.warm = int(2.5 * a.frameRate)
	return a, nil
}

// Rate is the sample rate the analyzer was made for.
func (a *Analyzer) Rate() int { return a.rate }

// Block is the hop in samples: Features change once per block.
func (a *Analyzer) Block() int { return a.hop }

// Features is the analysis of the newest complete block.
func (a *Analyzer) Features() Features { return a.f }

// Write analyses samples (mono, nominally -1..1). It returns how many
// blocks completed; Features then describes the newest. Values that are not
// finite count as silence and the rest are clamped to ±1, so no input can
// poison the running state.
func (a *Analyzer) Write(samples []float32) int {
	done := 0
	for len(samples) > 0 {
		k := min(len(samples), a.hop-a.fill)
		dst := a.buf[a.n-a.hop+a.fill : a.n-a.hop+a.fill+k]
		for i, s := range samples[:k] {
			switch {
			case s != s: // NaN
				s = 0
			case s > 1:
				s = 1
			case s < -1:
				s = -1
			}
			dst[i] = s
		}
		a.fill += k
		samples = samples[k:]
		if a.fill == a.hop {
			a.block()
			copy(a.buf, a.buf[a.hop:])
			a.fill = 0
			done++
		}
	}
	return done
}

// block analyses the newest full window, whose last hop samples are new.
func (a *Analyzer) block() {
	a.blocks++
	f := &a.f
	f.T = float64(a.blocks*a.hop) / float64(a.rate)
	g := a.cfg.Gain

	var ms float64
	for _, s := range a.buf[a.n-a.hop:] {
		ms += float64(s) * float64(s)
	}
	f.Level = unit(g * math.Sqrt(ms/float64(a.hop)))

	re, im := a.fft.re, a.fft.im
	for i, s := range a.buf {
		re[i] = s * a.win[i]
		im[i] = 0
	}
	a.fft.transform()
	var low, mid, high, flux float64
	for k := 1; k <= a.n/2; k++ {
		p := float64(re[k]*re[k] + im[k]*im[k])
		switch {
		case k < a.lowBin:
			low += p
		case k < a.highBin:
			mid += p
		default:
			high += p
		}
		// Log magnitude, so a quiet hit in a quiet room counts like a loud
		// one in a loud room, and hiss stays near zero.
		m := float32(math.Log1p(100 * math.Sqrt(p) * float64(a.magNorm)))
		if d := m - a.logMag[k]; d > 0 {
			flux += float64(d)
		}
		a.logMag[k] = m
	}
	f.Low = unit(g * math.Sqrt(low*a.scale))
	f.Mid = unit(g * math.Sqrt(mid*a.scale))
	f.High = unit(g * math.Sqrt(high*a.scale))
	a.onset(float32(flux / float64(a.n/2)))
	a.tempo()
}

func unit(x float64) float32 { return float32(math.Min(1, x)) }

// onset decides whether this block's flux is an onset: above the floor,
// Sensitivity times the recent mean, rising, and not right after another.
// It needs no look-ahead, so an onset is known the block it arrives in.
func (a *Analyzer) onset(flux float32) {
	mean := float32(a.fluxSum / float64(len(a.fluxHist)))
	thr := max(float32(a.cfg.Floor), float32(a.cfg.Sensitivity)*mean)
	a.sinceLast++
	f := &a.f
	f.Onset = flux > thr && flux > a.prevFlux && a.sinceLast >= a.minGap
	if f.Onset {
		f.Onsets++
		a.sinceLast = 0
	}
	// The envelope the tempo follows: flux above its recent mean and the
	// floor, so hiss has no tempo.
	e := max(0, flux-max(mean, float32(a.cfg.Floor)))
	a.env[a.envPos] = e

	a.fluxSum += float64(flux) - float64(a.fluxHist[a.fluxPos])
	a.fluxHist[a.fluxPos] = flux
	a.fluxPos = (a.fluxPos + 1) % len(a.fluxHist)
	a.prevFlux = flux
}

// tempo updates the envelope's autocorrelation, picks the beat period that
// explains the most of it over four beats, refines it below one block, and
// runs the beat phase as a flywheel that each onset nudges.
func (a *Analyzer) tempo() {
	L := len(a.env)
	e := float64(a.env[a.envPos])
	j := a.envPos
	for l := range a.acf {
		a.acf[l] = a.decay*a.acf[l] + e*float64(a.env[j])
		if j--; j < 0 {
			j = L - 1
		}
	}
	a.envPos = (a.envPos + 1) % L

	f := &a.f
	if a.blocks >= a.warm && a.acf[0] > 1e-9 {
		if p := a.bestPeriod(); p > 0 {
			a.period = p
			f.BPM = float32(60 * a.frameRate / p)
		}
	}
	f.Beat = false
	// The flywheel stops when the music has: eight beats without an onset.
	if a.period == 0 || float64(a.sinceLast) > 8*a.period {
		return
	}
	a.phase += 1 / a.period
	if f.Onset {
		// Pull the flywheel toward each onset, so it locks onto the beat
		// from any start; off-beat onsets pull both ways and cancel.
		a.phase -= 0.25 * (a.phase - math.Round(a.phase))
	}
	if a.phase >= 1 {
		a.phase -= math.Floor(a.phase)
		f.Beat = true
		f.Beats++
	}
	f.Phase = float32(a.phase)
}

// bestPeriod returns the beat period in blocks, or 0 when the envelope
// holds no clear one.
func (a *Analyzer) bestPeriod() float64 {
	peak := func(c int) float64 { // a peak between two lags counts whole
		return a.acf[c-1] + a.acf[c] + a.acf[c+1]
	}
	best, bestLag := 0.0, 0
	for lag := a.minLag; lag <= a.maxLag; lag++ {
		var s float64
		for m := 1; m <= 4; m++ {
			s += peak(m * lag)
		}
		// A tempo and its half explain the envelope alike: prefer the one
		// nearer 120 BPM, as a listener would tap.
		oct := math.Log2(60 * a.frameRate / float64(lag) / 120)
		s *= math.Exp(-oct * oct) // σ = 0.7 octave
		if s > best {
			best, bestLag = s, lag
		}
	}
	if bestLag == 0 || best < 0.05*a.acf[0] {
		return 0
	}
	// Refine: the centroid of each multiple's peak above its local floor,
	// divided by the multiple, weighted by it (a far peak is more precise).
	var num, den float64
	for m := 1; m <= 4; m++ {
		c := m * bestLag
		for _, d := range [...]int{-1, 1} { // walk to the local maximum
			for c+d > 1 && c+d < len(a.acf)-2 && a.acf[c+d] > a.acf[c] && abs(c+d-m*bestLag) <= m {
				c += d
			}
		}
		floor := min(a.acf[c-2], a.acf[c+2], a.acf[c-1], a.acf[c+1])
		var w, wl float64
		for i := c - 1; i <= c+1; i++ {
			v := a.acf[i] - floor
			w += v
			wl += v * float64(i)
		}
		if w <= 0 {
			continue
		}
		num += float64(m) * (wl / w / float64(m))
		den += float64(m)
	}
	if den == 0 {
		return float64(bestLag)
	}
	return num / den
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
