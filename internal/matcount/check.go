package matcount

import "testing"

// Check fails t if a gocv Mat made during the test is still open at its
// end. It checks nothing in builds that keep no count.
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
