package conf

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"reverie/shaders"
)

// config.yaml documents every pass parameter with the name, range and
// default the pass declares beside its Kage file (shaders/*.go): a changed
// range or default must be changed in the manual too.
func TestConfigDocumentsEveryPassParameter(t *testing.T) {
	b, err := os.ReadFile("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for _, name := range shaders.Passes() {
		pass, _ := shaders.Lookup(name)
		// The pass's comment block: from "# NAME:" (or "- pass: NAME  #")
		// to the next pass entry.
		start := -1
		for i, l := range lines {
			tl := strings.TrimSpace(l)
			if strings.HasPrefix(tl, "# "+name+":") || strings.HasPrefix(tl, "# - pass: "+name+" ") {
				start = i
				break
			}
		}
		if start < 0 {
			t.Errorf("config.yaml does not document the %s pass (a comment starting \"# %s:\")", name, name)
			continue
		}
		var block []string
		for _, l := range lines[start:] {
			tl := strings.TrimSpace(l)
			if len(block) > 0 && (strings.HasPrefix(tl, "- pass:") || !strings.HasPrefix(tl, "#")) {
				break
			}
			block = append(block, tl)
		}
		entries := paramComments(block)
		whole := strings.Join(block, " ")
		for _, p := range pass.Params {
			text, ok := entries[p.Name]
			if !ok {
				if short, cut := strings.CutSuffix(p.Name, "_x"); cut {
					text, ok = entries[short+"_x/y"]
				} else if short, cut := strings.CutSuffix(p.Name, "_y"); cut {
					text, ok = entries[short+"_x/y"]
				}
			}
			if !ok {
				// A one-line form: "name RANGE … (DEFAULT)" anywhere in the block.
				at := strings.Index(whole, " "+p.Name+" ")
				if at < 0 {
					t.Errorf("config.yaml's %s comment does not document the parameter %s", name, p.Name)
					continue
				}
				text = whole[at:min(len(whole), at+60)]
			}
			for _, want := range []string{fmt.Sprintf("%g..%g", p.Min, p.Max), fmt.Sprintf("(%g", p.Default)} {
				if !strings.Contains(text, want) {
					t.Errorf("config.yaml's %s.%s comment lacks %q (the range and default shaders/%s.go declares): %q", name, p.Name, want, name, text)
				}
			}
		}
	}
}

// paramComments splits a pass's comment block into its parameter entries:
// "#   name   what it does, range (default)" and the lines continuing it.
func paramComments(block []string) map[string]string {
	out := map[string]string{}
	cur := ""
	for _, l := range block {
		body := strings.TrimPrefix(l, "#")
		indent := len(body) - len(strings.TrimLeft(body, " "))
		fields := strings.Fields(body)
		switch {
		case len(fields) == 0:
			cur = ""
		case indent == 3 && len(fields) > 1:
			cur = fields[0]
			out[cur] = body
		case cur != "" && indent > 3:
			out[cur] += " " + strings.TrimSpace(body)
		default:
			cur = ""
		}
	}
	return out
}
