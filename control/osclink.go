package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"reverie/control/osc"
)

// OSC addresses reverie answers to.
const (
	oscParam  = "/reverie/param/"  // /reverie/param/<name> f|i
	oscPreset = "/reverie/preset"  // /reverie/preset s
	oscLatent = "/reverie/latent/" // /reverie/latent/<i> f|i
	oscStatus = "/reverie/status/" // what reverie sends back
)

// maxDelay bounds how far ahead a bundle's time tag may schedule its
// messages; later ones run at once, so a wrong clock cannot queue work.
const maxDelay = 10 * time.Second

// allowList holds the OSC source addresses; empty allows every source.
type allowList struct {
	mu       sync.RWMutex
	prefixes []netip.Prefix
}

func (a *allowList) set(p []netip.Prefix) {
	a.mu.Lock()
	a.prefixes = p
	a.mu.Unlock()
}

func (a *allowList) allows(ip netip.Addr) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if len(a.prefixes) == 0 {
		return true
	}
	ip = ip.Unmap()
	for _, p := range a.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// ServeOSC reads OSC packets from pc until ctx ends, and sends status to
// control.osc.status_to while it runs.
func (s *Server) ServeOSC(ctx context.Context, pc net.PacketConn) error {
	go func() {
		<-ctx.Done()
		pc.Close()
	}()
	go s.sendStatus(ctx, pc)
	logs := newLimiter(10 * time.Second)
	buf := make([]byte, 65536)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("OSC: %w", err)
		}
		ap, _ := netip.ParseAddrPort(from.String())
		if !s.allow.allows(ap.Addr()) {
			s.metrics.osc.WithLabelValues("refused").Inc()
			if ok, k := logs.allow("refused " + ap.Addr().String()); ok {
				slog.Warn("OSC: packet from a source not in control.osc.allow dropped", "from", ap.Addr().String(), "dropped_since_last_log", k)
			}
			continue
		}
		if err := s.handleOSC(buf[:n]); err != nil {
			if ok, k := logs.allow("bad " + ap.Addr().String()); ok {
				slog.Warn("OSC: packet rejected", "from", ap.Addr().String(), "err", err, "rejected_since_last_log", k)
			}
		}
	}
}

// handleOSC parses one packet and applies its messages; the error joins
// every message's problem.
func (s *Server) handleOSC(pkt []byte) error {
	m, b, err := osc.Parse(pkt)
	if err != nil {
		s.metrics.osc.WithLabelValues("malformed").Inc()
		return err
	}
	if m != nil {
		return s.dispatch(m)
	}
	var errs []error
	apply := func(b *osc.Bundle) {
		b.Walk(func(m *osc.Message) {
			if err := s.dispatch(m); err != nil {
				errs = append(errs, err)
			}
		})
	}
	if at := b.Time.Time(); !at.IsZero() && time.Until(at) > 0 && time.Until(at) <= maxDelay {
		// A bundle for later: apply it then, as the spec asks. Arguments
		// are copied out of the read buffer first.
		cp := copyBundle(b)
		time.AfterFunc(time.Until(at), func() {
			cp.Walk(func(m *osc.Message) {
				if err := s.dispatch(m); err != nil {
					slog.Warn("OSC: message rejected", "err", err)
				}
			})
		})
		return nil
	}
	apply(b)
	return errors.Join(errs...)
}

func copyBundle(b *osc.Bundle) *osc.Bundle {
	c := &osc.Bundle{Time: b.Time}
	for _, m := range b.Messages {
		args := make([]any, len(m.Args))
		for i, a := range m.Args {
			if blob, ok := a.([]byte); ok {
				a = append([]byte(nil), blob...)
			}
			args[i] = a
		}
		c.Messages = append(c.Messages, osc.Message{Address: m.Address, Args: args})
	}
	for i := range b.Bundles {
		c.Bundles = append(c.Bundles, *copyBundle(&b.Bundles[i]))
	}
	return c
}

// dispatch applies one message to the engine.
func (s *Server) dispatch(m *osc.Message) error {
	err := s.apply(m)
	if err != nil {
		s.metrics.osc.WithLabelValues("rejected").Inc()
		return fmt.Errorf("%s: %w", m.Address, err)
	}
	s.metrics.osc.WithLabelValues("ok").Inc()
	return nil
}

func (s *Server) apply(m *osc.Message) error {
	switch {
	case strings.HasPrefix(m.Address, oscParam):
		v, err := number(m)
		if err != nil {
			return err
		}
		return s.eng.Set(strings.TrimPrefix(m.Address, oscParam), v)
	case m.Address == oscPreset:
		if len(m.Args) != 1 {
			return fmt.Errorf("expected one string argument (the preset name), got %d arguments", len(m.Args))
		}
		name, ok := m.Args[0].(string)
		if !ok {
			return fmt.Errorf("expected a string argument (the preset name), got %T", m.Args[0])
		}
		return s.eng.ApplyPreset(name)
	case strings.HasPrefix(m.Address, oscLatent):
		i, err := strconv.Atoi(strings.TrimPrefix(m.Address, oscLatent))
		if err != nil {
			return fmt.Errorf("expected /reverie/latent/<index> with a whole number index")
		}
		v, err := number(m)
		if err != nil {
			return err
		}
		return s.eng.SetLatent(i, v)
	}
	return fmt.Errorf("unknown address; expected %s<name> f, %s s or %s<i> f", oscParam, oscPreset, oscLatent)
}

// number reads a message's single numeric argument; int32 is accepted too,
// as controllers often send integers for whole values.
func number(m *osc.Message) (float64, error) {
	if len(m.Args) != 1 {
		return 0, fmt.Errorf("expected one float argument, got %d arguments", len(m.Args))
	}
	switch v := m.Args[0].(type) {
	case float32:
		return float64(v), nil
	case int32:
		return float64(v), nil
	}
	return 0, fmt.Errorf("expected a float argument, got %T", m.Args[0])
}

// sendStatus sends a status bundle to control.osc.status_to at
// status_every, from the listening socket so replies share its port.
func (s *Server) sendStatus(ctx context.Context, pc net.PacketConn) {
	var (
		buf    []byte
		target string
		addr   net.Addr
	)
	logs := newLimiter(time.Minute)
	for {
		cfg := s.config()
		t := time.NewTimer(time.Duration(cfg.OSC.StatusEvery * float64(time.Second)))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if cfg.OSC.StatusTo == "" {
			continue
		}
		if cfg.OSC.StatusTo != target {
			a, err := net.ResolveUDPAddr("udp", cfg.OSC.StatusTo)
			if err != nil {
				if ok, _ := logs.allow("resolve"); ok {
					slog.Warn("OSC: control.osc.status_to cannot be resolved; no status sent", "status_to", cfg.OSC.StatusTo, "err", err)
				}
				continue
			}
			target, addr = cfg.OSC.StatusTo, a
		}
		buf = s.statusBundle(buf[:0])
		if _, err := pc.WriteTo(buf, addr); err != nil {
			if ok, _ := logs.allow("send"); ok {
				slog.Warn("OSC: status not sent", "status_to", target, "err", err)
			}
		}
	}
}

// statusBundle encodes the status as one bundle of /reverie/status/… messages.
func (s *Server) statusBundle(dst []byte) []byte {
	st := s.status()
	b2i := func(b bool) int32 {
		if b {
			return 1
		}
		return 0
	}
	b := osc.Bundle{Time: osc.Immediately, Messages: []osc.Message{
		{Address: oscStatus + "alive", Args: []any{b2i(st.Alive)}},
		{Address: oscStatus + "fps", Args: []any{float32(st.FPS)}},
		{Address: oscStatus + "generator_ms", Args: []any{float32(st.GenMs)}},
		{Address: oscStatus + "presence", Args: []any{b2i(st.Presence)}},
		{Address: oscStatus + "level", Args: []any{float32(st.Level)}},
		{Address: oscStatus + "camera", Args: []any{st.Camera}},
		{Address: oscStatus + "model", Args: []any{st.Model}},
		{Address: oscStatus + "preset", Args: []any{st.Preset}},
		{Address: oscStatus + "sleeping", Args: []any{b2i(st.Sleeping)}},
	}}
	out, _ := osc.AppendBundle(dst, &b) // every argument is of an OSC type
	return out
}
