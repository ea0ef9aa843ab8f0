package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"reverie/vision"
)

// `reverie analyze` on the sample clip prints one complete JSON object per
// frame that says people are moving, and a summary a person can read.
func TestAnalyzeVtest(t *testing.T) {
	cmd := exec.Command(binary, "analyze", "-input", vision.SampleClip, "-frames", "60")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("analyze failed: %v\n%s", err, stderr.String())
	}
	keys := []string{"frame", "t", "motion", "presence", "level", "centroid", "flow", "grid", "people", "faces", "light_change"}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(nil, 1<<20)
	n, moving, present := 0, 0, 0
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", n+1, err, sc.Text())
		}
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Fatalf("line %d lacks %q: %s", n+1, k, sc.Text())
			}
		}
		if int(m["frame"].(float64)) != n {
			t.Errorf("line %d: frame %v", n+1, m["frame"])
		}
		if got, want := m["t"].(float64), float64(n)/10; got < want-0.001 || got > want+0.001 {
			t.Errorf("line %d: t %v, want %v at vtest's 10 fps", n+1, got, want)
		}
		if g := m["grid"].([]any); len(g) != 8*6 {
			t.Errorf("line %d: grid has %d cells, want 8x6", n+1, len(g))
		}
		if m["motion"].(float64) > 0.01 {
			moving++
		}
		if m["presence"].(bool) {
			present++
		}
		n++
	}
	if n != 60 {
		t.Fatalf("%d lines, want 60", n)
	}
	if moving < 50 || present < 30 {
		t.Errorf("people walking: motion in %d, presence in %d of 60 frames", moving, present)
	}
	for _, w := range []string{"60 frames", "motion:", "presence:", "after the 2s warm-up", "busiest grid cell"} {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("summary lacks %q:\n%s", w, stderr.String())
		}
	}
}

func TestAnalyzeBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"analyze"}, "-input SRC is required"},
		{[]string{"analyze", "-input", "/nonexistent/clip.avi"}, "/nonexistent/clip.avi: no such file"},
		{[]string{"analyze", "-input", "9"}, "/dev/video9 does not exist"},
		{[]string{"analyze", "-input", vision.SampleClip, "-frames", "-2"}, "-frames -2"},
	} {
		out, err := exec.Command(binary, c.args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("%v: err %v, output %q; want an error mentioning %q", c.args, err, out, c.want)
		}
	}
}
