package control

import (
	"context"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"reverie/control/osc"
)

func bundlePacket(t *testing.T, at osc.TimeTag, ms ...osc.Message) []byte {
	t.Helper()
	b, err := osc.AppendBundle(nil, &osc.Bundle{Time: at, Messages: ms})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// handle runs one packet through the server as if it came from 127.0.0.1.
func handle(t *testing.T, s *Server, pkt []byte) error {
	t.Helper()
	return s.handleOSC(t.Context(), pkt, "127.0.0.1")
}

// A flood of bad and time-tagged packets from one sender costs at most one
// log line per 10 s, whichever way each is bad: malformed, rejected, a bad
// message in a bundle applied later, or a bundle over the held limit.
func TestOSCLogFloodIsBounded(t *testing.T) {
	s, _, _, j := newTestServer(t, DefaultConfig())
	logs := captureLog(t, j)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.ServeOSC(ctx, pc)
	conn, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	soon := osc.TagOf(time.Now().Add(300 * time.Millisecond))
	timed := bundlePacket(t, soon, osc.Message{Address: "/reverie/param/warp.zoom", Args: []any{float32(7)}})
	bad := packet(t, "/reverie/param/nothing", float32(1))
	const n = 3000
	for i := range n {
		switch i % 3 {
		case 0:
			conn.Write(timed)
		case 1:
			conn.Write(bad)
		default:
			conn.Write([]byte("GET / HTTP/1.1\r\n"))
		}
		if i%200 == 0 {
			time.Sleep(time.Millisecond) // let the reader keep up: UDP drops what overflows
		}
	}
	eventually(t, "the held bundles to run", func() bool { return s.held.count() == 0 && time.Now().After(soon.Time().Add(200*time.Millisecond)) })
	lines := strings.Count(logs.String(), "OSC:")
	t.Logf("%d bad or held packets, %d OSC log lines", n, lines)
	if lines != 1 {
		t.Errorf("%d OSC log lines for one sender within 10 s, want 1:\n%.2000s", lines, logs)
	}
	if !strings.Contains(logs.String(), "suppressed_since_last_log") {
		t.Error("the log line does not say how many were held back")
	}
}

func (h *heldBundles) count() int {
	n, _ := h.size()
	return n
}

func (h *heldBundles) size() (int, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n, h.bytes
}

// Bundles for later are held within a count and a byte budget; the rest
// are dropped and counted, so a flood cannot grow memory.
func TestOSCHeldBundlesAreBounded(t *testing.T) {
	s, eng, ts, j := newTestServer(t, DefaultConfig())
	captureLog(t, j)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // the held bundles then do nothing when their time comes
	later := osc.TagOf(time.Now().Add(5 * time.Second))
	blob := make([]byte, 4096)
	pkt := bundlePacket(t, later, osc.Message{Address: "/reverie/param/warp.zoom", Args: []any{float32(1.1), blob}})
	small := bundlePacket(t, later, osc.Message{Address: "/reverie/param/warp.zoom", Args: []any{float32(1.1)}})

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const n = 20000
	dropped := 0
	for i := range n {
		p := pkt
		if i%2 == 1 {
			p = small
		}
		if err := s.handleOSC(ctx, p, "127.0.0.1"); err != nil {
			dropped++
			if !strings.Contains(err.Error(), "dropped") {
				t.Fatalf("bundle %d: %v", i, err)
			}
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	held, bytes := s.held.size()
	t.Logf("%d bundles of about 2 KiB sent, %d held (%d KiB), %d dropped; heap grew %d KiB", n, held, bytes>>10, dropped, grew>>10)
	if held > maxHeld || bytes > maxHeldBytes {
		t.Errorf("held %d bundles, %d bytes: over the limits %d, %d", held, bytes, maxHeld, maxHeldBytes)
	}
	if grew > 3*maxHeldBytes {
		t.Errorf("heap grew by %d MiB holding bundles; the budget is %d MiB", grew>>20, maxHeldBytes>>20)
	}
	if dropped == 0 {
		t.Error("nothing was dropped")
	}
	if eng.value("warp.zoom") != 1.01 {
		t.Error("a bundle for later was applied at once")
	}
	_, text, _ := do(t, "GET", ts.URL+"/metrics", "")
	if !strings.Contains(text, `reverie_osc_messages_total{result="dropped"}`) {
		t.Errorf("drops not counted:\n%s", grepLines(text, "reverie_osc"))
	}
}

// Real clients' types: liblo's oscsend sends d for a float, node-osc sends
// T and F for booleans, and h, S and the rest are OSC 1.1.
func TestOSCTypes(t *testing.T) {
	s, eng, _, j := newTestServer(t, DefaultConfig())
	captureLog(t, j)
	for _, c := range []struct {
		name, param string
		arg         any
		want        float64
	}{
		{"d", "warp.zoom", 1.03, 1.03},
		{"h", "director.gain", int64(4), 4},
		{"T", "inject.mix", true, 1},
		{"F", "inject.mix", false, 0},
		{"i", "director.gain", int32(3), 3},
		{"f", "inject.mix", float32(0.5), 0.5},
	} {
		if err := handle(t, s, packet(t, "/reverie/param/"+c.param, c.arg)); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if got := eng.value(c.param); float32(got) != float32(c.want) {
			t.Errorf("%s: %s = %g, want %g", c.name, c.param, got, c.want)
		}
	}
	// A symbol names a preset as a string does.
	sym := []byte("/reverie/preset\x00,S\x00\x00storm\x00\x00\x00")
	if err := handle(t, s, sym); err != nil || eng.Stats().Preset != "storm" {
		t.Errorf("S: %v, preset %q", err, eng.Stats().Preset)
	}
	for _, c := range []struct {
		arg  any
		want string
	}{
		{nil, "nil (N)"},
		{osc.Impulse{}, "impulse"},
		{"fast", "a string"},
		{[]byte{1}, "a blob"},
	} {
		err := handle(t, s, packet(t, "/reverie/param/warp.zoom", c.arg))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "/reverie/param/warp.zoom") {
			t.Errorf("%#v: %v, want it to name the address and %q", c.arg, err, c.want)
		}
	}
	if float32(eng.value("warp.zoom")) != 1.03 {
		t.Errorf("a refused argument changed warp.zoom to %g", eng.value("warp.zoom"))
	}
}

// One bad message in a bundle rejects only itself.
func TestOSCBadMessageRejectsOnlyItself(t *testing.T) {
	s, eng, _, j := newTestServer(t, DefaultConfig())
	captureLog(t, j)
	good1, _ := osc.AppendMessage(nil, &osc.Message{Address: "/reverie/param/warp.zoom", Args: []any{float32(1.1)}})
	good2, _ := osc.AppendMessage(nil, &osc.Message{Address: "/reverie/preset", Args: []any{"storm"}})
	unknown, _ := osc.AppendMessage(nil, &osc.Message{Address: "/reverie/nothing", Args: []any{int32(1)}})
	malformed := []byte("/reverie/param/inject.mix\x00\x00\x00,x\x00\x00\x00\x00\x00\x00")
	pkt := []byte("#bundle\x00\x00\x00\x00\x00\x00\x00\x00\x01")
	for _, e := range [][]byte{good1, malformed, unknown, good2} {
		pkt = append(pkt, 0, 0, 0, byte(len(e)))
		pkt = append(pkt, e...)
	}
	err := handle(t, s, pkt)
	if float32(eng.value("warp.zoom")) != 1.1 || eng.Stats().Preset != "storm" {
		t.Errorf("good siblings not applied: zoom %g preset %q", eng.value("warp.zoom"), eng.Stats().Preset)
	}
	if err == nil || !strings.Contains(err.Error(), "unsupported type tag 'x'") || !strings.Contains(err.Error(), "/reverie/nothing") {
		t.Errorf("the bad ones are not reported: %v", err)
	}
	if eng.value("inject.mix") != 0.1 {
		t.Error("the malformed message was applied")
	}
}

// OSC 1.0 address patterns reach parameters and presets.
func TestOSCAddressPatterns(t *testing.T) {
	s, eng, _, j := newTestServer(t, DefaultConfig())
	captureLog(t, j)
	ok := func(addr string, args ...any) {
		t.Helper()
		if err := handle(t, s, packet(t, addr, args...)); err != nil {
			t.Errorf("%s: %v", addr, err)
		}
	}
	ok("/reverie/param/{warp.zoom,inject.mix}", float32(0.95))
	if eng.value("warp.zoom") != float64(float32(0.95)) || eng.value("inject.mix") != float64(float32(0.95)) {
		t.Errorf("{…}: zoom %g mix %g", eng.value("warp.zoom"), eng.value("inject.mix"))
	}
	ok("/reverie/param/*.gain", int32(4))
	ok("/reverie/param/w[a-z]rp.zoo?", 1.1)
	ok("/reverie/*/inject.[!a-l]ix", 0.25)
	if eng.value("director.gain") != 4 || eng.value("warp.zoom") != 1.1 || eng.value("inject.mix") != 0.25 {
		t.Errorf("patterns: gain %g zoom %g mix %g", eng.value("director.gain"), eng.value("warp.zoom"), eng.value("inject.mix"))
	}
	ok("/reverie/preset/st*")
	if eng.Stats().Preset != "storm" {
		t.Errorf("preset pattern: %q", eng.Stats().Preset)
	}
	ok("/reverie/preset/[!s]*", int32(1))
	if eng.Stats().Preset != "calm" {
		t.Errorf("preset pattern with a press: %q", eng.Stats().Preset)
	}
	ok("/reverie/preset/storm", int32(0)) // a release does nothing
	if eng.Stats().Preset != "calm" {
		t.Errorf("a button release recalled a preset: %q", eng.Stats().Preset)
	}
	for _, c := range []struct{ addr, want string }{
		{"/reverie/preset/*", "matches 2 presets (calm, storm)"},
		{"/reverie/param/nothing*", "matches no parameter"},
		{"/reverie/param/[abc", "no closing"},
	} {
		err := handle(t, s, packet(t, c.addr, float32(1)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.addr, err, c.want)
		}
	}
	if eng.Stats().Preset != "calm" {
		t.Error("a refused preset pattern recalled a preset")
	}
}

// /reverie/model s swaps models through the HTTP swap's path: one load at
// a time, the same refusals, the same record.
func TestOSCModelSwap(t *testing.T) {
	s, eng, ts, j := newTestServer(t, DefaultConfig())
	captureLog(t, j)
	if err := handle(t, s, packet(t, "/reverie/model", "builtin:convdecoder")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the swap", func() bool { return eng.Generator().Model == "builtin:convdecoder" })
	if err := handle(t, s, packet(t, "/reverie/model", "")); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty model: %v", err)
	}
	if err := handle(t, s, packet(t, "/reverie/model", float32(1))); err == nil || !strings.Contains(err.Error(), "string") {
		t.Errorf("a number for a model: %v", err)
	}
	s.swapMu.Lock()
	err := handle(t, s, packet(t, "/reverie/model", "builtin:cppn"))
	code, _, _ := do(t, "POST", ts.URL+"/api/model", `{"model":"builtin:cppn"}`)
	s.swapMu.Unlock()
	if err == nil || !strings.Contains(err.Error(), "another model is loading") || code != 409 {
		t.Errorf("while a load runs: OSC %v, HTTP %d", err, code)
	}
	if err := handle(t, s, packet(t, "/reverie/model", "models/missing.yaml")); err != nil {
		t.Fatal(err) // the load runs in the background; its failure shows in the status
	}
	eventually(t, "the failed swap in the status", func() bool {
		_, body, _ := do(t, "GET", ts.URL+"/api/status", "")
		return strings.Contains(body, "model switch to models/missing.yaml failed")
	})
	if eng.Generator().Model != "builtin:convdecoder" {
		t.Errorf("a failed swap changed the model to %s", eng.Generator().Model)
	}
}
