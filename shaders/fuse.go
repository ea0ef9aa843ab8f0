package shaders

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// Fuse writes one Kage program that runs the pass base and then the
// pointwise pass point on its result, in one draw: base's Fragment renamed,
// point's declarations beside it, and a Fragment that hands each pixel of
// base's result to point's PerPixel. It reads the images base reads, and its
// uniforms are both passes' (each keeps its name). It is an error, and the
// chain then draws the two apart, when point is not pointwise, when the two
// declare a name in common (two passes of one kind, a helper of the same
// name) or when their units differ.
func Fuse(base, point string) ([]byte, error) {
	pd, ok := Lookup(point)
	if !ok || !pd.Pointwise {
		return nil, fmt.Errorf("%s is not a pointwise pass", point)
	}
	bs, err := Source(base)
	if err != nil {
		return nil, err
	}
	ps, err := Source(point)
	if err != nil {
		return nil, err
	}
	for _, s := range [][]byte{bs, ps} {
		if groupDecl.Match(s) {
			return nil, fmt.Errorf("%s or %s declares a group or several names at once, which fusing does not rename safely", base, point)
		}
	}
	bu, pu := unitOf(bs), unitOf(ps)
	if bu != pu {
		return nil, fmt.Errorf("%s is in %s units and %s in %s", base, bu, point, pu)
	}
	bn, pn := topNames(bs), topNames(ps)
	for name := range pn {
		if name != "Fragment" && bn[name] {
			return nil, fmt.Errorf("%s and %s both declare %s", base, point, name)
		}
	}
	if bn[fusedBase] {
		return nil, fmt.Errorf("%s declares %s, the name its fused Fragment takes", base, fusedBase)
	}
	body, ok := dropFunc(ps, "Fragment")
	if !ok {
		return nil, fmt.Errorf("%s.kage has no Fragment to replace", point)
	}
	var out bytes.Buffer
	out.Write(fragmentDecl.ReplaceAll(bs, []byte("func "+fusedBase+"(")))
	out.WriteString("\n// " + point + ", fused: its declarations follow.\n")
	for _, line := range strings.SplitAfter(string(body), "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "//kage:") || t == "package main" {
			continue
		}
		out.WriteString(line)
	}
	fmt.Fprintf(&out, "\nfunc Fragment(dst vec4, src vec2, color vec4) vec4 {\n\treturn PerPixel(%s(dst, src, color))\n}\n", fusedBase)
	return out.Bytes(), nil
}

// fusedBase is what a fused program calls the first pass's Fragment.
const fusedBase = "fusedBaseFragment"

var (
	fragmentDecl = regexp.MustCompile(`(?m)^func Fragment\(`)
	topDecl      = regexp.MustCompile(`(?m)^(?:var|const|func)\s+([A-Za-z_][A-Za-z0-9_]*)`)
	unitDecl     = regexp.MustCompile(`(?m)^//kage:unit\s+(\w+)`)
	groupDecl    = regexp.MustCompile(`(?m)^(?:var|const)\s*(?:\(|[A-Za-z_][A-Za-z0-9_]*\s*,)`)
)

// topNames lists the top-level names a Kage file declares.
func topNames(src []byte) map[string]bool {
	names := map[string]bool{}
	for _, m := range topDecl.FindAllSubmatch(src, -1) {
		names[string(m[1])] = true
	}
	return names
}

// unitOf is a Kage file's unit: texels unless it says pixels.
func unitOf(src []byte) string {
	if m := unitDecl.FindSubmatch(src); m != nil {
		return string(m[1])
	}
	return "texels"
}

// dropFunc removes the top-level function name from src: from its
// declaration to the first closing brace at the start of a line, as gofmt
// lays Kage out.
func dropFunc(src []byte, name string) ([]byte, bool) {
	s := string(src)
	i := strings.Index(s, "\nfunc "+name+"(")
	if i < 0 {
		return nil, false
	}
	j := strings.Index(s[i+1:], "\n}")
	if j < 0 {
		return nil, false
	}
	end := i + 1 + j + len("\n}")
	return []byte(s[:i+1] + strings.TrimLeft(s[end:], "\n")), true
}
