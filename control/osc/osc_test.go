package osc

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
	"time"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The two example messages of the OSC 1.0 specification, byte for byte.
var (
	specFrequency = "2f6f7363 696c6c61 746f722f 342f6672 65717565 6e637900 2c660000 43dc0000"
	specFoo       = "2f666f6f 00000000 2c696973 66660000 000003e8 ffffffff 68656c6c 6f000000 3f9df3b6 40b5b22d"
)

func TestParseSpecExamples(t *testing.T) {
	m, b, err := Parse(unhex(t, specFrequency))
	if err != nil || b != nil {
		t.Fatalf("frequency: %v %v", err, b)
	}
	if m.Address != "/oscillator/4/frequency" || !reflect.DeepEqual(m.Args, []any{float32(440)}) {
		t.Errorf("frequency: got %+v", m)
	}
	m, _, err = Parse(unhex(t, specFoo))
	if err != nil {
		t.Fatal(err)
	}
	want := []any{int32(1000), int32(-1), "hello", float32(1.234), float32(5.678)}
	if m.Address != "/foo" || !reflect.DeepEqual(m.Args, want) {
		t.Errorf("foo: got %+v, want %v", m, want)
	}
}

func TestWriteMatchesSpec(t *testing.T) {
	for _, c := range []struct {
		m   Message
		hex string
	}{
		{Message{"/oscillator/4/frequency", []any{float32(440)}}, specFrequency},
		{Message{"/foo", []any{int32(1000), int32(-1), "hello", float32(1.234), float32(5.678)}}, specFoo},
	} {
		got, err := AppendMessage(nil, &c.m)
		if err != nil {
			t.Fatal(err)
		}
		if want := unhex(t, c.hex); !bytes.Equal(got, want) {
			t.Errorf("%s:\n got  %x\n want %x", c.m.Address, got, want)
		}
	}
}

func TestBlobPadding(t *testing.T) {
	// A 5-byte blob: size 5, the bytes, 3 bytes of padding.
	pkt := unhex(t, "2f620000 2c620000 00000005 01020304 05000000")
	m, _, err := Parse(pkt)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Args, []any{[]byte{1, 2, 3, 4, 5}}) {
		t.Errorf("blob: %v", m.Args)
	}
	out, _ := AppendMessage(nil, m)
	if !bytes.Equal(out, pkt) {
		t.Errorf("blob round trip: %x", out)
	}
}

func TestBundleHandBuilt(t *testing.T) {
	// #bundle, time tag 1 (immediately), one message /a ,i 7, then a nested
	// bundle holding /b ,f 0.5.
	pkt := unhex(t, `
		2362756e 646c6500 00000000 00000001
		0000000c 2f610000 2c690000 00000007
		00000020
		  2362756e 646c6500 00000000 00000001
		  0000000c 2f620000 2c660000 3f000000`)
	_, b, err := Parse(pkt)
	if err != nil {
		t.Fatal(err)
	}
	if b.Time != Immediately || len(b.Messages) != 1 || len(b.Bundles) != 1 {
		t.Fatalf("bundle: %+v", b)
	}
	var got []string
	var args []any
	b.Walk(func(m *Message) { got = append(got, m.Address); args = append(args, m.Args...) })
	if !reflect.DeepEqual(got, []string{"/a", "/b"}) || !reflect.DeepEqual(args, []any{int32(7), float32(0.5)}) {
		t.Errorf("walk: %v %v", got, args)
	}
	out, err := AppendBundle(nil, b)
	if err != nil || !bytes.Equal(out, pkt) {
		t.Errorf("bundle round trip: %v\n got  %x\n want %x", err, out, pkt)
	}
}

func TestTimeTag(t *testing.T) {
	at := time.Date(2024, 5, 1, 10, 0, 0, 250_000_000, time.UTC)
	tag := TagOf(at)
	if uint64(tag>>32) != uint64(at.Unix()+ntpEpoch) || tag&0xffffffff != 1<<30 {
		t.Errorf("tag %x", uint64(tag))
	}
	if d := tag.Time().Sub(at); d < -time.Microsecond || d > time.Microsecond {
		t.Errorf("round trip off by %v", d)
	}
	if !Immediately.Time().IsZero() {
		t.Error("immediately should be the zero time")
	}
}

func TestParseRejects(t *testing.T) {
	for _, c := range []struct{ name, hex, want string }{
		{"empty", "", "empty"},
		{"unaligned", "2f6100", "multiple of 4"},
		{"not osc", "47455420", "expected '/'"},
		{"no NUL", "2f616263", "no terminating NUL"},
		{"bad padding", "2f610001", "padding is not zero"},
		{"no comma", "2f610000 69000000", "do not start with ','"},
		{"short int", "2f610000 2c690000", "runs past the end"},
		{"unknown tag", "2f610000 2c780000 00000000 00000000", "unsupported type tag 'x'"},
		{"short double", "2f610000 2c640000 00000000", "argument d runs past the end"},
		{"huge blob", "2f610000 2c620000 7fffffff", "runs past the end"},
		{"trailing", "2f610000 2c000000 00000000", "after the last argument"},
		{"bundle no time", "2362756e 646c6500", "no time tag"},
		{"bad element size", "2362756e 646c6500 00000000 00000001 00000003 2f610000", "element size 3"},
		{"too many args", "2f610000 2c" + strings.Repeat("54", MaxArgs+1) + strings.Repeat("00", 4-(MaxArgs+2)%4), "at most 256"},
		{"element past end", "2362756e 646c6500 00000000 00000001 00000010 2f610000", "element size 16"},
		{"not #bundle", "2362756e 00000000 00000000 00000001", "is not #bundle"},
	} {
		_, _, err := Parse(unhex(t, c.hex))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", c.name, err, c.want)
		}
	}
}

func TestNestingIsBounded(t *testing.T) {
	inner := Bundle{Time: Immediately, Messages: []Message{{Address: "/x"}}}
	for i := 0; i < MaxDepth; i++ {
		inner = Bundle{Time: Immediately, Bundles: []Bundle{inner}}
	}
	pkt, err := AppendBundle(nil, &inner)
	if err != nil {
		t.Fatal(err)
	}
	// The too-deep bundle is skipped, at the depth where it starts.
	_, b, err := Parse(pkt)
	if err != nil {
		t.Fatal(err)
	}
	var bad []error
	for d := b; d != nil; {
		bad = append(bad, d.Bad...)
		if len(d.Bundles) == 0 {
			break
		}
		d = &d.Bundles[0]
	}
	if len(bad) != 1 || !strings.Contains(bad[0].Error(), "nested deeper") {
		t.Errorf("deep nesting: %v", bad)
	}
	n := 0
	b.Walk(func(*Message) { n++ })
	if n != 0 {
		t.Errorf("the message below the limit was kept")
	}
}

func TestAppendRejects(t *testing.T) {
	for _, m := range []Message{
		{Address: "/a", Args: []any{1}}, // int is no OSC type: its size is not fixed
		{Address: "a"},
		{Address: "/a", Args: []any{"x\x00y"}},
	} {
		if _, err := AppendMessage(nil, &m); err == nil {
			t.Errorf("%+v: accepted", m)
		}
	}
}

// FuzzParse: no input may panic, and whatever parses must write back to
// bytes that parse to the same thing.
func FuzzParse(f *testing.F) {
	for _, h := range []string{specFrequency, specFoo,
		"2362756e 646c6500 00000000 00000001 0000000c 2f610000 2c690000 00000007",
		"2f620000 2c620000 00000005 01020304 05000000", "2f610000",
		"2f610000 2c640000 3ff07ae1 47ae147b",
		"2f610000 2c695464 73464e00 00000007 40000000 00000000 78000000",
		"2f610000 2c746872 6d000000 00000000 00000001 ffffffff fffffffe ff8000ff 00903c7f",
		"2362756e 646c6500 00000000 00000001 0000000c 2f610000 2c690000 00000007 00000010 2f620000 2c780000 00000000 00000000"} {
		f.Add(unhex(f, h))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, b, err := Parse(data)
		if err != nil {
			return
		}
		var out []byte
		if m != nil {
			out, err = AppendMessage(nil, m)
		} else {
			out, err = AppendBundle(nil, b)
		}
		if err != nil {
			t.Fatalf("parsed but cannot write back: %v", err)
		}
		m2, b2, err := Parse(out)
		if err != nil {
			t.Fatalf("written packet does not parse: %v", err)
		}
		if (m == nil) != (m2 == nil) {
			t.Fatalf("a message came back as a bundle or the reverse")
		}
		if m != nil && (m.Address != m2.Address || len(m.Args) != len(m2.Args)) {
			t.Fatalf("round trip changed the message: %+v became %+v", m, m2)
		}
		// Writing is canonical: the re-parsed packet writes the same bytes
		// (compared as bytes, since NaN arguments are never DeepEqual).
		var again []byte
		if m2 != nil {
			again, err = AppendMessage(nil, m2)
		} else {
			again, err = AppendBundle(nil, b2)
		}
		if err != nil || !bytes.Equal(out, again) {
			t.Fatalf("round trip changed the packet: %v\n %x\n %x", err, out, again)
		}
	})
}
