package control

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"reverie/control/osc"
)

func packet(t *testing.T, addr string, args ...any) []byte {
	t.Helper()
	b, err := osc.AppendMessage(nil, &osc.Message{Address: addr, Args: args})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// eventually polls cond, as UDP delivery is asynchronous.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Errorf("timed out waiting for %s", what)
}

func TestOSCOverUDP(t *testing.T) {
	status, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer status.Close()
	cfg := DefaultConfig()
	cfg.OSC.StatusTo = status.LocalAddr().String()
	cfg.OSC.StatusEvery = 0.05
	s, eng, ts, j := newTestServer(t, cfg)
	logs := captureLog(t, j)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.ServeOSC(ctx, pc) }()
	conn, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	conn.Write(packet(t, "/reverie/param/warp.zoom", float32(1.1)))
	eventually(t, "warp.zoom = 1.1", func() bool { return float32(eng.value("warp.zoom")) == 1.1 })

	// A bundle: a preset, a latent offset and an integer parameter value.
	b := osc.Bundle{Time: osc.Immediately, Messages: []osc.Message{
		{Address: "/reverie/preset", Args: []any{"storm"}},
		{Address: "/reverie/latent/3", Args: []any{float32(-0.5)}},
	}, Bundles: []osc.Bundle{{Time: osc.Immediately, Messages: []osc.Message{{Address: "/reverie/param/director.gain", Args: []any{int32(4)}}}}}}
	pkt, _ := osc.AppendBundle(nil, &b)
	conn.Write(pkt)
	eventually(t, "the bundle", func() bool {
		eng.mu.Lock()
		defer eng.mu.Unlock()
		return eng.preset == "storm" && eng.latent[3] == -0.5 && eng.params["director.gain"].Value == 4
	})

	// A bundle for 200 ms from now is applied then, not before.
	later := osc.Bundle{Time: osc.TagOf(time.Now().Add(300 * time.Millisecond)), Messages: []osc.Message{{Address: "/reverie/param/inject.mix", Args: []any{float32(0.75)}}}}
	pkt, _ = osc.AppendBundle(nil, &later)
	conn.Write(pkt)
	time.Sleep(100 * time.Millisecond)
	if eng.value("inject.mix") != 0.1 {
		t.Error("a bundle for later was applied at once")
	}
	eventually(t, "the timed bundle", func() bool { return eng.value("inject.mix") == 0.75 })

	// Garbage, a bad value and an unknown address change nothing.
	conn.Write([]byte("GET / HTTP/1.1\r\n"))
	conn.Write(packet(t, "/reverie/param/warp.zoom", float32(7)))
	conn.Write(packet(t, "/reverie/param/warp.zoom", "fast"))
	conn.Write(packet(t, "/reverie/latent/99", float32(1)))
	conn.Write(packet(t, "/other/thing", int32(1)))
	// The counters say when all five were handled: only then can the
	// value show that none of them changed it.
	want := []string{`reverie_osc_messages_total{result="malformed"} 1`, `reverie_osc_messages_total{result="rejected"} 4`, `reverie_osc_messages_total{result="ok"} 5`}
	eventually(t, "the OSC counters", func() bool {
		_, text, _ := do(t, "GET", ts.URL+"/metrics", "")
		for _, w := range want {
			if !strings.Contains(text, w) {
				return false
			}
		}
		return true
	})
	if !strings.Contains(logs.String(), "OSC: packet rejected") {
		t.Errorf("rejections not logged:\n%s", logs.String())
	}
	if float32(eng.value("warp.zoom")) != 1.1 {
		t.Errorf("a bad packet changed warp.zoom to %g", eng.value("warp.zoom"))
	}

	// Status comes back as a bundle.
	buf := make([]byte, 2048)
	status.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, _, err := status.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	_, sb, err := osc.Parse(buf[:n])
	if err != nil || sb == nil {
		t.Fatalf("status: %v", err)
	}
	got := map[string]any{}
	sb.Walk(func(m *osc.Message) { got[m.Address] = m.Args[0] })
	if got["/reverie/status/fps"] != float32(59.8) || got["/reverie/status/model"] != "builtin:cppn" || got["/reverie/status/presence"] != int32(1) {
		t.Errorf("status: %v", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
}

func TestOSCAllowList(t *testing.T) {
	cfg := DefaultConfig()
	cfg.OSC.Allow = []string{"10.0.0.0/8"}
	s, eng, _, j := newTestServer(t, cfg)
	logs := captureLog(t, j)
	pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.ServeOSC(ctx, pc)
	conn, _ := net.Dial("udp", pc.LocalAddr().String())
	defer conn.Close()
	conn.Write(packet(t, "/reverie/param/warp.zoom", float32(1.1)))
	eventually(t, "the refusal", func() bool { return strings.Contains(logs.String(), "not in control.osc.allow") })
	if eng.value("warp.zoom") != 1.01 {
		t.Error("a packet from outside the allow-list was applied")
	}
	c := DefaultConfig()
	c.OSC.Allow = []string{"127.0.0.1"}
	if err := s.Reconfigure(c); err != nil {
		t.Fatal(err)
	}
	conn.Write(packet(t, "/reverie/param/warp.zoom", float32(1.1)))
	eventually(t, "the allowed packet", func() bool { return float32(eng.value("warp.zoom")) == 1.1 })
}
