package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
)

// WriteJSON writes the report as one indented JSON object, with a stable
// key per figure, as `reverie bench -json` prints it.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText prints the report as tables a person reads.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	e := r.Env
	fmt.Fprintf(w, "reverie bench: %d CPUs (%s), ONNX Runtime %s on %s, threads %d, quick %v, %d iterations, %.1f s\n\n",
		e.CPUs, e.GOARCH, e.ORT, e.Provider, e.Threads, e.Quick, e.Iterations, r.Seconds)

	fmt.Fprintln(tw, "generator\tsize\trunner ms\tbare ms\toverhead\thand-over ms\t")
	for _, m := range []struct {
		name string
		s    GenSizes
	}{{"cppn", r.Generator.CPPN}, {"convdecoder", r.Generator.ConvDecoder}, {"restyle", r.Generator.Restyle}} {
		for _, f := range []struct {
			size string
			f    GenFigure
		}{{"256²", m.s.S256}, {"512²", m.s.S512}} {
			hand := "-" // a latent model is handed no picture
			if f.f.HandoverMs > 0 {
				hand = fmt.Sprintf("%.2f", f.f.HandoverMs)
			}
			fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.2f\t%.2f×\t%s\t\n", m.name, f.size, f.f.RunnerMs, f.f.BareMs, f.f.Overhead, hand)
		}
	}
	tw.Flush()

	ef := r.Efficiency
	fmt.Fprintf(w, "\npeak (MatMul 1024³, best of runs): %.1f GFLOP/s (%.2f ms)\n", ef.PeakGFLOPS, ef.MatMulMs)
	fmt.Fprintf(w, "cppn 256²: %.1f GFLOP/s, %.0f%% of peak; cppn 512²: %.1f GFLOP/s, %.0f%% of peak (%.0f MFLOP a frame)\n",
		ef.CPPN256GFLOPS, 100*ef.CPPN256OfPeak, ef.CPPN512GFLOPS, 100*ef.CPPN512OfPeak, ef.CPPN512MFLOPFr)
	fmt.Fprintf(w, "cppn 512², untiled form (before): %.1f ms bare, %.1f GFLOP/s, %.0f%% of peak\n",
		r.Generator.CPPNPlain.BareMs, ef.CPPNPlain512GFLOPS, 100*ef.CPPNPlain512OfPeak)
	fmt.Fprintf(w, "cppn 512², on ONNX's own operators: %.1f GFLOP/s, %.0f%% of peak; reverie's kernels are %.2f× as fast, timed alternately (kernels: %s)\n",
		ef.CPPNONNX512GFLOPS, 100*ef.CPPNONNX512OfPeak, ef.KernelsSpeedup, r.Env.Kernels)

	fmt.Fprintf(w, "\n")
	fmt.Fprintln(tw, "trained network\tinput\tnet ms\tbare ms\tratio\t")
	keys := make([]string, 0, len(r.Networks))
	for k := range r.Networks {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := r.Networks[k]
		if f.Missing != "" {
			fmt.Fprintf(w, "%s: not measured: %s\n", f.Network, f.Missing)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.2f\t%.2f×\t\n", f.Network, f.Input, f.NetMs, f.BareMs, f.Ratio)
	}
	tw.Flush()

	if d := r.Dream; d.Missing != "" {
		fmt.Fprintf(w, "\ndream: not measured: %s\n", d.Missing)
	} else {
		fmt.Fprintf(w, "\ndream %s %s at %s: step %.2f ms (%.1f steps/s), forward to the layer %.2f ms, ratio %.2f×\n",
			d.Network, d.Layer, d.Size, d.StepMs, d.StepsPerS, d.ForwardMs, d.Ratio)
	}

	r.writeVision(w)

	fmt.Fprintf(w, "\n")
	fmt.Fprintf(tw, "display (%d passes, %d draws)\tchain ms\tblit ms\tratio\t\n", r.Display.Passes, r.Display.HD.Draws)
	fmt.Fprintf(tw, "1280×720\t%.2f\t%.2f\t%.2f×\t\n", r.Display.HD.ChainMs, r.Display.HD.BlitMs, r.Display.HD.Ratio)
	fmt.Fprintf(tw, "1920×1080\t%.2f\t%.2f\t%.2f×\t\n", r.Display.FullHD.ChainMs, r.Display.FullHD.BlitMs, r.Display.FullHD.Ratio)
	tw.Flush()

	sd := r.Sound
	fmt.Fprintf(w, "\nsound to feature (click track, %d Hz, block %d, period %.0f ms): %.1f ms mean, %.1f ms worst (analysis %.3f ms a block), against a buffering floor of %.1f ms: %.2f×; %d onsets for %d clicks\n",
		sd.Rate, sd.Block, sd.PeriodMs, sd.LatencyMs, sd.LatencyMax, sd.BlockMs, sd.FloorMs, sd.Ratio, sd.Onsets, sd.Clicks)

	l := r.Latency
	fmt.Fprintf(w, "\ninput-to-response latency (%s, render %s) over %d events: %.1f ms mean, %.1f ms max, %.1f display frames of %.1f ms (event motion %.2f)\n",
		e.Model, e.Render, l.Events, l.Ms, l.MaxMs, l.DisplayFrames, l.DisplayFrameMs, l.EventMotion)
	within := "within"
	if l.Ms > l.BoundMs {
		within = "over"
	}
	fmt.Fprintf(w, "bound (2 display frames + 1 generator frame of %.1f ms): %.1f ms; the mean is %s it\n",
		l.GeneratorFrameMs, l.BoundMs, within)
	fmt.Fprintf(w, "frame budget meanwhile: render scale %.2f, generator share %.2f, a generator frame every %.1f ms\n",
		l.RenderScale, l.GeneratorShare, l.GeneratorIntervalMs)
	fmt.Fprintln(tw, "stage\tms\tshare\t")
	for _, s := range []struct {
		name   string
		ms, sh float64
	}{
		{"capture", l.StagesMs.Capture, l.Share.Capture},
		{"analysis", l.StagesMs.Analysis, l.Share.Analysis},
		{"director", l.StagesMs.Director, l.Share.Director},
		{"generator", l.StagesMs.Generator, l.Share.Generator},
		{"upload", l.StagesMs.Upload, l.Share.Upload},
		{"passes", l.StagesMs.Passes, l.Share.Passes},
	} {
		fmt.Fprintf(tw, "%s\t%.1f\t%.0f%%\t\n", s.name, s.ms, 100*s.sh)
	}
	return tw.Flush()
}

// writeVision prints the analysis figures, with the person evidence's cost
// when a person network ran.
func (r *Report) writeVision(w io.Writer) {
	v := r.Vision
	fmt.Fprintf(w, "\nvision 640×480 (motion): analyzer %.2f ms, bare OpenCV calls %.2f ms, ratio %.2f×\n", v.AnalyzerMs, v.BareMs, v.Ratio)
	switch {
	case v.Person != "":
		fmt.Fprintf(w, "person evidence (%s, looking asynchronously): %.2f ms per analysed frame with it, %.2f ms without: %+.2f ms (budget 10 ms)\n", v.Person, v.PersonMs, v.MotionOnlyMs, v.PersonCostMs)
	case v.PersonMissing != "":
		fmt.Fprintf(w, "person evidence: not measured: %s\n", v.PersonMissing)
	}
}
