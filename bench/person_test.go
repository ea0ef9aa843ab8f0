package bench

import (
	"bytes"
	"strings"
	"testing"

	"reverie/gen/networks"
	"reverie/internal/personnet"
	"reverie/vision"
)

// TestPersonCost: with a person network configured, the vision figures
// include what its evidence costs each analysed frame, measured with the
// network really looking (live, asynchronously), and the text says so;
// without one, they say nothing of it.
func TestPersonCost(t *testing.T) {
	if _, err := networks.Find("posenet"); err != nil {
		t.Skip(err) // make test runs set-up first; a bare `go test` may not have
	}
	vc := vision.DefaultConfig()
	vc.Person, vc.Nets = vision.PersonPoseNet, personnet.Nets{}
	vc.DetectEvery = 0.2 // several looks within the few frames measured
	r, err := measureVision(vc, vision.SampleClip, 30)
	if err != nil {
		t.Fatal(err)
	}
	if r.Person != vision.PersonPoseNet || r.PersonMs <= 0 || r.MotionOnlyMs <= 0 {
		t.Fatalf("person figures not measured: %+v", r)
	}
	t.Logf("person evidence: %.2f ms with, %.2f ms without (%+.2f ms); analyzer %.2f ms, bare %.2f ms", r.PersonMs, r.MotionOnlyMs, r.PersonCostMs, r.AnalyzerMs, r.BareMs)
	var b bytes.Buffer
	(&Report{Vision: r}).writeVision(&b)
	if !strings.Contains(b.String(), "person evidence (posenet") {
		t.Errorf("the text does not report the person evidence:\n%s", b.String())
	}
	vc.Person = vision.PersonOff
	if r, err = measureVision(vc, vision.SampleClip, 3); err != nil || r.Person != "" || r.PersonMs != 0 {
		t.Errorf("with vision.person off: %+v, %v; want no person figures", r, err)
	}
}
