package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
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
	oscParam  = "/reverie/param/"  // /reverie/param/<name> f|i|d|h|T|F
	oscPreset = "/reverie/preset"  // /reverie/preset s, or /reverie/preset/<name>
	oscLatent = "/reverie/latent/" // /reverie/latent/<i> f|i|d|h
	oscModel  = "/reverie/model"   // /reverie/model s
	oscRecord = "/reverie/record"  // /reverie/record i: 1 starts, 0 stops
	oscStatus = "/reverie/status/" // what reverie sends back
)

// maxDelay bounds how far ahead a bundle's time tag may schedule its
// messages; later ones run at once, so a wrong clock cannot queue work.
const maxDelay = 10 * time.Second

// Bundles held for a later time are bounded by count and by size, so a
// flood of time-tagged bundles cannot grow memory: beyond either limit a
// bundle is dropped and counted (result "dropped").
const (
	maxHeld      = 1024
	maxHeldBytes = 4 << 20
)

// OSC log lines: at most one per oscLogEvery per sender, and at most
// oscLogBurst per oscLogEvery in all, as UDP source addresses are cheap to
// forge.
const (
	oscLogEvery = 10 * time.Second
	oscLogBurst = 20
)

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

// oscLog is the one way OSC handling logs: rate-limited per sender and in
// all, with the count of lines held back since the sender's last one.
type oscLog struct {
	per *limiter

	mu    sync.Mutex
	since time.Time
	n     int
}

func newOSCLog() *oscLog { return &oscLog{per: newLimiter(oscLogEvery)} }

func (l *oscLog) log(lvl slog.Level, sender, msg string, args ...any) {
	ok, k := l.per.allow(sender)
	if !ok {
		return
	}
	l.mu.Lock()
	if now := time.Now(); now.Sub(l.since) >= oscLogEvery {
		l.since, l.n = now, 0
	}
	l.n++
	over := l.n > oscLogBurst
	l.mu.Unlock()
	if over {
		return
	}
	slog.Log(context.Background(), lvl, msg, append([]any{"from", sender, "suppressed_since_last_log", k}, args...)...)
}

// heldBundles counts the bundles waiting for their time.
type heldBundles struct {
	mu       sync.Mutex
	n, bytes int
}

func (h *heldBundles) reserve(size int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n+1 > maxHeld || h.bytes+size > maxHeldBytes {
		return false
	}
	h.n++
	h.bytes += size
	return true
}

func (h *heldBundles) release(size int) {
	h.mu.Lock()
	h.n--
	h.bytes -= size
	h.mu.Unlock()
}

// ServeOSC reads OSC packets from pc until ctx ends, and sends status to
// control.osc.status_to while it runs.
func (s *Server) ServeOSC(ctx context.Context, pc net.PacketConn) error {
	go func() {
		<-ctx.Done()
		pc.Close()
	}()
	go s.sendStatus(ctx, pc)
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
		sender := ap.Addr().Unmap().String()
		if !s.allow.allows(ap.Addr()) {
			s.metrics.osc.WithLabelValues("refused").Inc()
			s.oscLogs.log(slog.LevelWarn, sender, "OSC: packet from a source not in control.osc.allow dropped")
			continue
		}
		if err := s.handleOSC(ctx, buf[:n], sender); err != nil {
			s.oscLogs.log(slog.LevelWarn, sender, "OSC: packet rejected", "err", err)
		}
	}
}

// handleOSC parses one packet and applies its messages; the error joins
// every message's problem. A bad message in a bundle rejects only itself.
func (s *Server) handleOSC(ctx context.Context, pkt []byte, sender string) error {
	m, b, err := osc.Parse(pkt)
	if err != nil {
		s.metrics.osc.WithLabelValues("malformed").Inc()
		return err
	}
	if m != nil {
		return s.dispatch(m, sender)
	}
	if at := b.Time.Time(); !at.IsZero() && time.Until(at) > 0 && time.Until(at) <= maxDelay {
		return s.hold(ctx, b, at, len(pkt), sender)
	}
	return s.applyBundle(b, sender)
}

// applyBundle applies every good message of b and returns the problems.
func (s *Server) applyBundle(b *osc.Bundle, sender string) error {
	var errs []error
	var bad func(b *osc.Bundle)
	bad = func(b *osc.Bundle) {
		for _, e := range b.Bad {
			s.metrics.osc.WithLabelValues("malformed").Inc()
			errs = append(errs, e)
		}
		for i := range b.Bundles {
			bad(&b.Bundles[i])
		}
	}
	bad(b)
	b.Walk(func(m *osc.Message) {
		if err := s.dispatch(m, sender); err != nil {
			errs = append(errs, err)
		}
	})
	return errors.Join(errs...)
}

// hold applies a bundle for later at its time, as the spec asks, within
// the held-bundle limits. Arguments are copied out of the read buffer.
func (s *Server) hold(ctx context.Context, b *osc.Bundle, at time.Time, size int, sender string) error {
	size += heldCost(b)
	if !s.held.reserve(size) {
		s.metrics.osc.WithLabelValues("dropped").Inc()
		return fmt.Errorf("bundle for %s dropped: %d bundles or %d bytes are already waiting for their time", at.Format("15:04:05.000"), maxHeld, maxHeldBytes)
	}
	cp := copyBundle(b)
	time.AfterFunc(time.Until(at), func() {
		defer s.held.release(size)
		if ctx.Err() != nil {
			return // OSC stopped or moved: the bundle goes with it
		}
		if err := s.applyBundle(cp, sender); err != nil {
			s.oscLogs.log(slog.LevelWarn, sender, "OSC: message of a timed bundle rejected", "err", err)
		}
	})
	return nil
}

// heldCost is a held bundle's memory besides its packet bytes: the
// messages' and arguments' headers.
func heldCost(b *osc.Bundle) int {
	n := 64
	b.Walk(func(m *osc.Message) { n += 64 + 16*len(m.Args) })
	return n + 64*len(b.Bundles)
}

func copyBundle(b *osc.Bundle) *osc.Bundle {
	c := &osc.Bundle{Time: b.Time, Bad: b.Bad}
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

// dispatch applies one message to the engine: to every address its
// pattern matches, when it is one.
func (s *Server) dispatch(m *osc.Message, sender string) error {
	var err error
	if osc.IsPattern(m.Address) {
		err = s.applyPattern(m, sender)
	} else {
		err = s.apply(m, sender)
	}
	if err != nil {
		s.metrics.osc.WithLabelValues("rejected").Inc()
		return fmt.Errorf("%s: %w", m.Address, err)
	}
	s.metrics.osc.WithLabelValues("ok").Inc()
	return nil
}

// applyPattern matches an OSC 1.0 address pattern against the parameters,
// the presets and the fixed addresses, and applies the message to each
// match. A pattern that picks more than one preset is refused: only one
// can show.
func (s *Server) applyPattern(m *osc.Message, sender string) error {
	p, err := osc.Compile(m.Address)
	if err != nil {
		return err
	}
	var targets, presets []string
	for _, a := range []string{oscPreset, oscModel} {
		if p.Match(a) {
			targets = append(targets, a)
		}
	}
	for _, info := range s.eng.List() {
		if a := oscParam + info.Name; p.Match(a) {
			targets = append(targets, a)
		}
	}
	for _, name := range s.eng.Presets() {
		if a := oscPreset + "/" + name; p.Match(a) {
			presets = append(presets, name)
			targets = append(targets, a)
		}
	}
	switch {
	case len(targets) == 0:
		return fmt.Errorf("the pattern matches no parameter, preset or address; GET /api/params and /api/presets list them")
	case len(presets) > 1:
		return fmt.Errorf("the pattern matches %d presets (%s); one preset can show at a time, so match one", len(presets), strings.Join(presets, ", "))
	}
	var errs []error
	for _, a := range targets {
		if err := s.apply(&osc.Message{Address: a, Args: m.Args}, sender); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a, err))
		}
	}
	return errors.Join(errs...)
}

func (s *Server) apply(m *osc.Message, sender string) error {
	switch {
	case strings.HasPrefix(m.Address, oscParam):
		v, err := number(m)
		if err != nil {
			return err
		}
		return s.eng.Set(strings.TrimPrefix(m.Address, oscParam), v)
	case m.Address == oscPreset:
		name, err := text(m, "the preset name")
		if err != nil {
			return err
		}
		return s.eng.ApplyPreset(name)
	case strings.HasPrefix(m.Address, oscPreset+"/"):
		// A button: /reverie/preset/<name> with no argument, or a
		// non-zero one (press); zero (release) does nothing.
		if len(m.Args) > 0 {
			v, err := number(m)
			if err != nil {
				return err
			}
			if v == 0 {
				return nil
			}
		}
		return s.eng.ApplyPreset(strings.TrimPrefix(m.Address, oscPreset+"/"))
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
	case m.Address == oscRecord:
		v, err := number(m)
		if err != nil {
			return err
		}
		s.oscRecord(v != 0, sender)
		return nil
	case m.Address == oscModel:
		name, err := text(m, "a model from GET /api/models, or a manifest path")
		if err != nil {
			return err
		}
		// The swap loads in the background, so the OSC reader keeps
		// reading; its outcome is logged and shown in /api/status.
		return s.requestSwap(name, "osc", func(lvl slog.Level, msg string, args ...any) {
			s.oscLogs.log(lvl, sender, msg, args...)
		}, false)
	}
	return fmt.Errorf("unknown address; expected %s<name> f, %s s, %s/<name>, %s<i> f, %s s or %s i", oscParam, oscPreset, oscPreset, oscLatent, oscModel, oscRecord)
}

// number reads a message's single numeric argument, of any OSC number
// type: controllers send integers for whole values, liblo sends doubles,
// and node-osc sends true and false (1 and 0).
func number(m *osc.Message) (float64, error) {
	if len(m.Args) != 1 {
		return 0, fmt.Errorf("expected one number argument, got %d arguments", len(m.Args))
	}
	var v float64
	switch a := m.Args[0].(type) {
	case float32:
		v = float64(a)
	case float64:
		v = a
	case int32:
		v = float64(a)
	case int64:
		v = float64(a)
	case bool:
		if a {
			v = 1
		}
	default:
		return 0, fmt.Errorf("expected a number argument (i, f, h, d, T or F), got %s", oscType(m.Args[0]))
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%g is not a finite number", v)
	}
	return v, nil
}

// text reads a message's single string argument (s or S).
func text(m *osc.Message, what string) (string, error) {
	if len(m.Args) != 1 {
		return "", fmt.Errorf("expected one string argument (%s), got %d arguments", what, len(m.Args))
	}
	str, ok := m.Args[0].(string)
	if !ok {
		return "", fmt.Errorf("expected a string argument (%s), got %s", what, oscType(m.Args[0]))
	}
	return str, nil
}

// oscType names an argument's OSC type for an error.
func oscType(a any) string {
	switch a.(type) {
	case string:
		return "a string"
	case []byte:
		return "a blob"
	case nil:
		return "nil (N)"
	case osc.Impulse:
		return "an impulse (I)"
	case osc.TimeTag:
		return "a time tag"
	case osc.RGBA:
		return "a colour"
	case osc.MIDI:
		return "a MIDI message"
	}
	return fmt.Sprintf("%T", a)
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
