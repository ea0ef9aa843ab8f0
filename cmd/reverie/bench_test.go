package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The bench itself is tested in package bench; here, that a mistyped flag or
// a broken config stops it with one line naming the problem before anything
// is measured.
func TestBenchRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("scene:\n  render_width: 3\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "-jsn"}, "-jsn"},
		{[]string{"bench", "-quick", "extra"}, `"extra"`},
		{[]string{"bench", "-config", filepath.Join(dir, "none.yaml")}, "none.yaml"},
		{[]string{"bench", "-config", bad}, "scene.render_width"},
	} {
		out, err := reverie(t, dir, nil, c.args...)
		if err == nil {
			t.Errorf("%v: exit 0", c.args)
			continue
		}
		var lines []string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "reverie: ") {
				lines = append(lines, l)
			}
		}
		if len(lines) != 1 || !strings.Contains(lines[0], c.want) {
			t.Errorf("%v: want one error line mentioning %s, got:\n%s", c.args, c.want, out)
		}
	}
}
