package osc

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// The OSC 1.0 "non-standard" and OSC 1.1 types, as liblo's oscsend and
// node-osc send them, byte for byte.
func TestParseExtendedTypes(t *testing.T) {
	for _, c := range []struct {
		name, hex string
		want      any
	}{
		// oscsend localhost 9000 /a d 1.03
		{"d", "2f610000 2c640000 3ff07ae1 47ae147b", 1.03},
		{"h", "2f610000 2c680000 ffffffff fffffffe", int64(-2)},
		{"t", "2f610000 2c740000 00000000 00000001", Immediately},
		{"S", "2f610000 2c530000 73746f72 6d000000", "storm"},
		{"c", "2f610000 2c630000 00000041", int32('A')},
		{"r", "2f610000 2c720000 ff8000ff", RGBA(0xff8000ff)},
		{"m", "2f610000 2c6d0000 00903c7f", MIDI{0, 0x90, 0x3c, 0x7f}},
		// node-osc sends a JavaScript true as T
		{"T", "2f610000 2c540000", true},
		{"F", "2f610000 2c460000", false},
		{"N", "2f610000 2c4e0000", nil},
		{"I", "2f610000 2c490000", Impulse{}},
	} {
		m, _, err := Parse(unhex(t, c.hex))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if len(m.Args) != 1 || !reflect.DeepEqual(m.Args[0], c.want) {
			t.Errorf("%s: got %#v, want %#v", c.name, m.Args, c.want)
		}
		if c.name == "S" || c.name == "c" {
			continue // written back as s and i
		}
		if out, err := AppendMessage(nil, m); err != nil || !bytes.Equal(out, unhex(t, c.hex)) {
			t.Errorf("%s: written back as %x (%v)", c.name, out, err)
		}
	}
	// Mixed: i T d s F N, with fixed-size arguments after the empty ones.
	m, _, err := Parse(unhex(t, "2f610000 2c695464 73464e00 00000007 40000000 00000000 78000000"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []any{int32(7), true, 2.0, "x", false, nil}; !reflect.DeepEqual(m.Args, want) {
		t.Errorf("mixed: %#v", m.Args)
	}
}

// A bad message inside a bundle is skipped and reported; its siblings,
// before and after it, stand.
func TestBundleKeepsGoodSiblings(t *testing.T) {
	pkt := unhex(t, `
		2362756e 646c6500 00000000 00000001
		0000000c 2f610000 2c690000 00000007
		00000010 2f620000 2c780000 00000000 00000000
		0000000c 2f630000 2c660000 3f000000`)
	_, b, err := Parse(pkt)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	b.Walk(func(m *Message) { got = append(got, m.Address) })
	if !reflect.DeepEqual(got, []string{"/a", "/c"}) {
		t.Errorf("messages %v, want /a and /c", got)
	}
	if len(b.Bad) != 1 || !strings.Contains(b.Bad[0].Error(), "unsupported type tag 'x'") {
		t.Errorf("bad %v", b.Bad)
	}
}

func TestPatternMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, addr string
		want          bool
	}{
		{"/reverie/param/warp.zoom", "/reverie/param/warp.zoom", true},
		{"/reverie/param/warp.*", "/reverie/param/warp.zoom", true},
		{"/reverie/param/*", "/reverie/param/warp.zoom", true},
		{"/reverie/*", "/reverie/param/warp.zoom", false}, // * stops at /
		{"/reverie/*/warp.zoom", "/reverie/param/warp.zoom", true},
		{"/reverie/param/*.zoom", "/reverie/param/warp.zoom", true},
		{"/reverie/param/*zoom*", "/reverie/param/warp.zoom", true},
		{"/reverie/param/warp.zoo?", "/reverie/param/warp.zoom", true},
		{"/reverie/param/warp.zoo?", "/reverie/param/warp.zoo", false},
		{"/a?c", "/a/c", false},
		{"/[a-c]x", "/bx", true},
		{"/[a-c]x", "/dx", false},
		{"/[c-a]x", "/bx", true}, // a backward range still means the range
		{"/[!a-c]x", "/dx", true},
		{"/[!a-c]x", "/ax", false},
		{"/[!a]", "//", false}, // never '/'
		{"/[-a]", "/-", true},  // a '-' at either end is itself
		{"/[a-]", "/-", true},
		{"/{calm,storm}", "/storm", true},
		{"/{calm,storm}", "/calm", true},
		{"/{calm,storm}", "/cal", false},
		{"/{st,sto}rm", "/storm", true}, // the longer alternative is tried too
		{"/preset/{a,b}*{x,y}", "/preset/bzzy", true},
		{"/x*", "/x", true},
		{"/*", "/", true},
		{"/***", "/abc", true},
		{"", "", true},
		{"/a", "/ab", false},
	} {
		p, err := Compile(c.pattern)
		if err != nil {
			t.Errorf("%s: %v", c.pattern, err)
			continue
		}
		if got := p.Match(c.addr); got != c.want {
			t.Errorf("%q matches %q: %v, want %v", c.pattern, c.addr, got, c.want)
		}
	}
	for _, bad := range []string{"/[ab", "/{a,b", "/a]", "/a}", "/" + strings.Repeat("*a", MaxPattern)} {
		if _, err := Compile(bad); err == nil {
			t.Errorf("%.20q: compiled", bad)
		}
	}
	if IsPattern("/reverie/param/warp.zoom") || !IsPattern("/reverie/param/warp.*") {
		t.Error("IsPattern")
	}
}

// FuzzMatch: no pattern may panic, and matching agrees with a plain
// recursive reading of the rules on short inputs.
func FuzzMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"/reverie/param/warp.*", "/reverie/param/warp.zoom"},
		{"/[!a-c]x/{calm,storm}", "/dx/storm"},
		{"/*/*?", "/a/b"},
		{"/[a-]{,x}*", "/-"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, addr string) {
		p, err := Compile(pattern)
		if err != nil {
			return
		}
		got := p.Match(addr)
		if len(p.items) <= 12 && len(addr) <= 24 {
			if want := slowMatch(p.items, addr); got != want {
				t.Fatalf("%q on %q: %v, the slow reading says %v", pattern, addr, got, want)
			}
		}
	})
}

// slowMatch is the rules read literally, by backtracking.
func slowMatch(items []item, addr string) bool {
	if len(items) == 0 {
		return addr == ""
	}
	it, rest := items[0], items[1:]
	switch it.kind {
	case '*':
		for i := 0; ; i++ {
			if slowMatch(rest, addr[i:]) {
				return true
			}
			if i == len(addr) || addr[i] == '/' {
				return false
			}
		}
	case '{':
		for _, a := range it.alts {
			if strings.HasPrefix(addr, a) && slowMatch(rest, addr[len(a):]) {
				return true
			}
		}
		return false
	}
	if addr == "" {
		return false
	}
	switch it.kind {
	case 'c':
		return addr[0] == it.c && slowMatch(rest, addr[1:])
	case '?':
		return addr[0] != '/' && slowMatch(rest, addr[1:])
	}
	return it.set.has(addr[0]) && slowMatch(rest, addr[1:])
}
