// Package midi reads MIDI 1.0 from class-compliant controllers: a byte
// stream parser, a reader for ALSA raw MIDI devices (/dev/snd/midiC*D*),
// and the mapping from controls to live parameters and notes to presets.
// It is written from the MIDI 1.0 specification, because no Go MIDI module
// is available here.
package midi

import "fmt"

// Kind is what a Message is.
type Kind uint8

// The kinds of message the parser returns. System exclusive messages are
// skipped, never returned: a controller's dumps are of no use here.
const (
	NoteOff Kind = iota + 1
	NoteOn
	PolyPressure
	ControlChange
	ProgramChange
	ChannelPressure
	PitchBend
	QuarterFrame // MIDI time code: Data1 is the piece
	SongPosition // Value is the position in sixteenths
	SongSelect   // Data1 is the song
	TuneRequest
	Clock // 24 per quarter note
	Start
	Continue
	Stop
	ActiveSensing
	Reset
)

var kindNames = [...]string{"", "note off", "note on", "poly pressure", "control change",
	"program change", "channel pressure", "pitch bend", "quarter frame", "song position",
	"song select", "tune request", "clock", "start", "continue", "stop", "active sensing", "reset"}

func (k Kind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return fmt.Sprintf("kind %d", uint8(k))
}

// Message is one MIDI message. For channel messages Channel is 0..15 (the
// channel a controller shows as 1..16). Data1 is the note, controller or
// program; Data2 the velocity, value or pressure. Value is the pitch bend
// (-8192..8191, 0 at rest) or song position (0..16383).
type Message struct {
	Kind    Kind
	Channel uint8
	Data1   uint8
	Data2   uint8
	Value   int16
}

func (m Message) String() string {
	switch m.Kind {
	case NoteOn, NoteOff, PolyPressure:
		return fmt.Sprintf("%v ch%d note %d value %d", m.Kind, m.Channel+1, m.Data1, m.Data2)
	case ControlChange:
		return fmt.Sprintf("cc %d = %d ch%d", m.Data1, m.Data2, m.Channel+1)
	case ProgramChange, ChannelPressure:
		return fmt.Sprintf("%v %d ch%d", m.Kind, m.Data1, m.Channel+1)
	case PitchBend:
		return fmt.Sprintf("pitch bend %d ch%d", m.Value, m.Channel+1)
	}
	return m.Kind.String()
}

// Parser turns a MIDI 1.0 byte stream into messages, one byte at a time, as
// a wire or a raw device delivers them. It follows running status, lets
// real-time bytes (clock, start, stop) through in the middle of another
// message, skips system exclusive data without storing it (so a stream of
// any length costs nothing), and drops data bytes that no status owns. The
// zero value is ready to use; it never allocates.
type Parser struct {
	status  byte // running status, or the system common message being read; 0 for none
	data    [2]byte
	n       int // data bytes of the current message so far
	sysex   bool
	Skipped uint64 // bytes skipped: system exclusive data and strays
}

// Feed takes the next byte and returns a message when that byte completes one.
func (p *Parser) Feed(b byte) (Message, bool) {
	switch {
	case b >= 0xF8: // real time: in between anything, changes nothing
		k := [8]Kind{Clock, 0, Start, Continue, Stop, 0, ActiveSensing, Reset}[b-0xF8]
		if k == 0 { // 0xF9, 0xFD are undefined
			p.Skipped++
			return Message{}, false
		}
		if k == Reset {
			p.status, p.n, p.sysex = 0, 0, false
		}
		return Message{Kind: k}, true
	case b == 0xF0:
		p.status, p.n, p.sysex = 0, 0, true
		return Message{}, false
	case b == 0xF7: // end of exclusive
		p.sysex = false
		return Message{}, false
	case b >= 0x80: // any other status ends a system exclusive message
		p.sysex = false
		p.status, p.n = b, 0
		switch b {
		case 0xF6:
			p.status = 0
			return Message{Kind: TuneRequest}, true
		case 0xF4, 0xF5: // undefined
			p.status = 0
			p.Skipped++
		}
		return Message{}, false
	}
	if p.sysex || p.status == 0 {
		p.Skipped++
		return Message{}, false
	}
	p.data[p.n] = b
	p.n++
	if p.n < dataLen(p.status) {
		return Message{}, false
	}
	p.n = 0
	s := p.status
	if s >= 0xF0 { // system common has no running status
		p.status = 0
	}
	return message(s, p.data[0], p.data[1]), true
}

func dataLen(status byte) int {
	switch status & 0xF0 {
	case 0xC0, 0xD0:
		return 1
	case 0xF0:
		if status == 0xF2 {
			return 2
		}
		return 1 // F1, F3
	}
	return 2
}

func message(s, d1, d2 byte) Message {
	m := Message{Channel: s & 0x0F, Data1: d1, Data2: d2}
	switch s & 0xF0 {
	case 0x80:
		m.Kind = NoteOff
	case 0x90:
		m.Kind = NoteOn
		if d2 == 0 { // note on with velocity 0 is how most controllers say note off
			m.Kind = NoteOff
		}
	case 0xA0:
		m.Kind = PolyPressure
	case 0xB0:
		m.Kind = ControlChange
	case 0xC0:
		m.Kind, m.Data2 = ProgramChange, 0
	case 0xD0:
		m.Kind, m.Data2 = ChannelPressure, 0
	case 0xE0:
		m.Kind, m.Data1, m.Data2 = PitchBend, 0, 0
		m.Value = int16(int(d1)|int(d2)<<7) - 8192
	default:
		m.Channel = 0
		switch s {
		case 0xF1:
			m.Kind, m.Data2 = QuarterFrame, 0
		case 0xF2:
			m.Kind, m.Data1, m.Data2 = SongPosition, 0, 0
			m.Value = int16(int(d1) | int(d2)<<7)
		case 0xF3:
			m.Kind, m.Data2 = SongSelect, 0
		}
	}
	return m
}

// Append writes m as MIDI bytes (full status, no running status) to dst.
func Append(dst []byte, m Message) []byte {
	ch := m.Channel & 0x0F
	d1, d2 := m.Data1&0x7F, m.Data2&0x7F
	switch m.Kind {
	case NoteOff:
		return append(dst, 0x80|ch, d1, d2)
	case NoteOn:
		return append(dst, 0x90|ch, d1, d2)
	case PolyPressure:
		return append(dst, 0xA0|ch, d1, d2)
	case ControlChange:
		return append(dst, 0xB0|ch, d1, d2)
	case ProgramChange:
		return append(dst, 0xC0|ch, d1)
	case ChannelPressure:
		return append(dst, 0xD0|ch, d1)
	case PitchBend:
		v := uint16(max(-8192, min(8191, int(m.Value))) + 8192)
		return append(dst, 0xE0|ch, byte(v&0x7F), byte(v>>7))
	case QuarterFrame:
		return append(dst, 0xF1, d1)
	case SongPosition:
		v := uint16(max(0, min(16383, int(m.Value))))
		return append(dst, 0xF2, byte(v&0x7F), byte(v>>7))
	case SongSelect:
		return append(dst, 0xF3, d1)
	case TuneRequest:
		return append(dst, 0xF6)
	case Clock, Start, Continue, Stop, ActiveSensing, Reset:
		return append(dst, [...]byte{0xF8, 0xFA, 0xFB, 0xFC, 0xFE, 0xFF}[m.Kind-Clock])
	}
	return dst
}
