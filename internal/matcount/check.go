package matcount

import "testing"

// Check fails t when it ends if a gocv Mat made during the test is still
// open. It checks nothing in builds without -tags matprofile.
func Check(t testing.TB) {
	base, counted := Count()
	if !counted {
		return
	}
	t.Cleanup(func() {
		if c, _ := Count(); c != base {
			t.Errorf("%d Mats open after the test, %d before: a Mat leaked", c, base)
		}
	})
}
