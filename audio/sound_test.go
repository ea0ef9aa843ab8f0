package audio

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// The sounds the tests listen to are made here and written as real WAV
// files, so every test also goes through the file reader.

// writeWAV writes interleaved samples as a WAV file.
func writeWAV(t testing.TB, path string, rate, channels int, float bool, samples []float32) {
	t.Helper()
	if err := os.WriteFile(path, EncodeWAV(rate, channels, float, samples), 0o644); err != nil {
		t.Fatal(err)
	}
}

func clickTrack(rate int, bpm, start, secs float64, seed uint64) ([]float32, []float64) {
	return ClickTrack(rate, bpm, start, secs, seed)
}

func tone(rate int, hz, amp, secs float64) []float32 {
	s := make([]float32, int(secs*float64(rate)))
	for i := range s {
		s[i] = float32(amp * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
	}
	return s
}

// listen writes samples to a WAV, reads it back in uneven pieces through
// an Analyzer, and returns the features after every block.
func listen(t testing.TB, rate int, samples []float32, cfg Config) []Features {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sound.wav")
	writeWAV(t, path, rate, 1, false, samples)
	w, err := OpenWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	a, err := NewAnalyzer(cfg, w.Rate())
	if err != nil {
		t.Fatal(err)
	}
	var out []Features
	buf := make([]float32, 300) // not a block: blocks span reads
	for {
		n, err := w.Read(buf)
		if n == 0 || err != nil {
			break
		}
		for _, s := range buf[:n] {
			if a.Write([]float32{s}) == 1 {
				out = append(out, a.Features())
			}
		}
	}
	return out
}

func TestClickTrackOnsetsAndTempo(t *testing.T) {
	fast := DefaultConfig()
	fast.MinBPM = 100 // drum and bass: otherwise 174 reads as its half, 87
	for _, tc := range []struct {
		rate int
		bpm  float64
		cfg  Config
	}{{48000, 90, DefaultConfig()}, {44100, 120, DefaultConfig()}, {48000, 140, DefaultConfig()},
		{22050, 100, DefaultConfig()}, {48000, 160, DefaultConfig()}, {48000, 174, fast}} {
		samples, clicks := clickTrack(tc.rate, tc.bpm, 0.3, 20, uint64(tc.bpm))
		fs := listen(t, tc.rate, samples, tc.cfg)
		var onsets []float64
		for _, f := range fs {
			if f.Onset {
				onsets = append(onsets, f.T)
			}
		}
		if len(onsets) != len(clicks) {
			t.Errorf("%v BPM at %d Hz: %d onsets for %d clicks", tc.bpm, tc.rate, len(onsets), len(clicks))
		}
		var worst, sum float64
		for i := range min(len(onsets), len(clicks)) {
			e := onsets[i] - clicks[i]
			if math.Abs(e) > 0.030 {
				t.Errorf("%v BPM: click %d at %.3f s found at %.3f s (%+.1f ms); want within ±30 ms", tc.bpm, i, clicks[i], onsets[i], e*1000)
			}
			worst = max(worst, math.Abs(e))
			sum += e
		}
		bpm := float64(fs[len(fs)-1].BPM)
		if math.Abs(bpm-tc.bpm) > 2 {
			t.Errorf("%v BPM at %d Hz: tempo estimate %.2f; want within ±2", tc.bpm, tc.rate, bpm)
		}
		// After the tempo settles, beats fall on the clicks.
		var beatWorst float64
		beats := 0
		for _, f := range fs {
			// The flywheel runs on past the last click: those beats are right.
			if !f.Beat || f.T < 8 || f.T > clicks[len(clicks)-1]+30/tc.bpm {
				continue
			}
			beats++
			d := math.Inf(1)
			for _, c := range clicks {
				d = min(d, math.Abs(f.T-c))
			}
			beatWorst = max(beatWorst, d)
		}
		if beats == 0 || beatWorst > 0.060 {
			t.Errorf("%v BPM: %d beats after 8 s, worst %.1f ms from a click; want beats within 60 ms", tc.bpm, beats, beatWorst*1000)
		}
		t.Logf("%v BPM at %d Hz: %d/%d onsets, mean error %+.1f ms, worst %.1f ms; tempo %.2f BPM (error %+.2f); beats worst %.1f ms",
			tc.bpm, tc.rate, len(onsets), len(clicks), sum/float64(max(1, len(onsets)))*1000, worst*1000, bpm, bpm-tc.bpm, beatWorst*1000)
	}
}

func TestSilenceGivesNoOnsets(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	hiss := make([]float32, 10*48000)
	for i := range hiss {
		hiss[i] = float32(r.NormFloat64() * 0.0003) // -70 dB: a quiet room
	}
	for name, s := range map[string][]float32{"digital silence": make([]float32, 10*48000), "hiss": hiss} {
		fs := listen(t, 48000, s, DefaultConfig())
		last := fs[len(fs)-1]
		if last.Onsets != 0 || last.Beats != 0 || last.BPM != 0 {
			t.Errorf("%s: %d onsets, %d beats, %v BPM; want none", name, last.Onsets, last.Beats, last.BPM)
		}
		if last.Level > 0.001 {
			t.Errorf("%s: level %v; want below 0.001", name, last.Level)
		}
	}
}

func TestToneRaisesItsBand(t *testing.T) {
	const amp = 0.5
	rms := float32(amp / math.Sqrt2)
	for _, tc := range []struct {
		hz   float64
		band string
	}{{80, "low"}, {1000, "mid"}, {9000, "high"}} {
		fs := listen(t, 48000, tone(48000, tc.hz, amp, 1), DefaultConfig())
		f := fs[len(fs)-1]
		bands := map[string]float32{"low": f.Low, "mid": f.Mid, "high": f.High}
		if got := bands[tc.band]; math.Abs(float64(got-rms)) > 0.05*float64(rms) {
			t.Errorf("%v Hz: %s band %.4f; want the tone's RMS %.4f ±5%%", tc.hz, tc.band, got, rms)
		}
		for b, v := range bands {
			if b != tc.band && v > 0.05*rms {
				t.Errorf("%v Hz: %s band %.4f; want near 0 (only %s rises)", tc.hz, b, v, tc.band)
			}
		}
	}
}

func TestLevelFollowsAmplitude(t *testing.T) {
	var s []float32
	amps := []float64{0.05, 0.2, 0.4, 0.8}
	for _, a := range amps {
		s = append(s, tone(48000, 440, a, 0.5)...)
	}
	fs := listen(t, 48000, s, DefaultConfig())
	for i, a := range amps {
		// A block well inside each half second.
		f := fs[int((float64(i)+0.5)*0.5*48000/512)]
		want := a / math.Sqrt2
		if math.Abs(float64(f.Level)-want) > 0.03*want {
			t.Errorf("amplitude %v: level %.4f; want %.4f ±3%%", a, f.Level, want)
		}
	}
	cfg := DefaultConfig()
	cfg.Gain = 4
	fs = listen(t, 48000, tone(48000, 440, 0.8, 0.2), cfg)
	if l := fs[len(fs)-1].Level; l != 1 {
		t.Errorf("gain 4 on a loud tone: level %v; want clamped to 1", l)
	}
}

// A render at 25 frames per second sees each click on the frame that
// contains it, and only there.
func TestLockstepMarksTheFrameOfEachClick(t *testing.T) {
	const rate, fps = 48000, 25.0
	samples, clicks := clickTrack(rate, 120, 0.5, 8, 3)
	path := filepath.Join(t.TempDir(), "clicks.wav")
	writeWAV(t, path, rate, 2, true, stereo(samples))
	l, err := OpenLockstep(path, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var frames []int
	for i := 1; float64(i)/fps < 9; i++ {
		f, err := l.At(float64(i) / fps)
		if err != nil {
			t.Fatal(err)
		}
		if f.Onset {
			frames = append(frames, i)
		}
	}
	if !l.Ended() {
		t.Error("9 s into an 8 s file: not ended")
	}
	if len(frames) != len(clicks) {
		t.Fatalf("onset frames %v for %d clicks", frames, len(clicks))
	}
	for k, c := range clicks {
		// Frame i covers (i-1)/fps .. i/fps; an onset is known within
		// 30 ms of the click, so it is on the frame of the click or the next.
		want := int(math.Ceil(c * fps))
		if d := frames[k] - want; d < 0 || d > 1 {
			t.Errorf("click at %.3f s (frame %d) marked on frame %d", c, want, frames[k])
		}
	}
}

func stereo(mono []float32) []float32 {
	s := make([]float32, 2*len(mono))
	for i, v := range mono {
		s[2*i], s[2*i+1] = v, v
	}
	return s
}

func TestWriteAllocatesNothing(t *testing.T) {
	a, err := NewAnalyzer(DefaultConfig(), 48000)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := clickTrack(48000, 120, 0.1, 4, 1)
	a.Write(s) // warm: tempo known
	if a.Features().BPM == 0 {
		t.Fatal("no tempo after 4 s of clicks")
	}
	i := 0
	if n := testing.AllocsPerRun(200, func() {
		a.Write(s[i : i+512])
		i = (i + 512) % (len(s) - 512)
	}); n != 0 {
		t.Errorf("Write allocates %v times per block; want 0", n)
	}
}

// BenchmarkLatency measures how long after a click its onset is known:
// the wait for the block that holds it (the block's length at most) plus
// the time to analyse that block. It feeds one block per op and reports
// latency-ms, the worst click-to-feature delay in sound time plus the
// measured processing time per block.
func BenchmarkLatency(b *testing.B) {
	const rate = 48000
	a, err := NewAnalyzer(DefaultConfig(), rate)
	if err != nil {
		b.Fatal(err)
	}
	s, clicks := clickTrack(rate, 123, 0.2, 30, 9)
	hop := a.Block()
	var worst float64
	var pos int
	next := 0
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if pos+hop > len(s) {
			b.StopTimer()
			pos, next = 0, 0
			a, _ = NewAnalyzer(DefaultConfig(), rate)
			b.StartTimer()
		}
		a.Write(s[pos : pos+hop])
		pos += hop
		if a.f.Onset && next < len(clicks) {
			worst = max(worst, float64(pos)/rate-clicks[next])
			next++
		}
	}
	perBlock := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric((worst+perBlock)*1000, "latency-ms")
	b.ReportMetric(perBlock*1e6, "µs/block")
}
