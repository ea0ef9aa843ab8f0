package audio

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
)

// ClickTrack is secs of sound at rate: quiet hiss (-60 dB) with a click on
// every beat at bpm from start on, 5 ms of noise under a fast decay, as a
// metronome sounds. It returns the samples and the click times in seconds.
// The tests and `reverie bench` listen to it: sound whose onsets and tempo
// are known exactly.
func ClickTrack(rate int, bpm, start, secs float64, seed uint64) ([]float32, []float64) {
	r := rand.New(rand.NewPCG(seed, 1))
	s := make([]float32, int(secs*float64(rate)))
	for i := range s {
		s[i] = float32(r.NormFloat64() * 0.001)
	}
	var clicks []float64
	for c := start; c < secs-0.1; c += 60 / bpm {
		clicks = append(clicks, c)
		i0 := int(math.Round(c * float64(rate)))
		for i := 0; i < rate/200; i++ {
			env := math.Exp(-float64(i) / (float64(rate) * 0.001))
			s[i0+i] += float32(0.7 * env * (r.Float64()*2 - 1))
		}
	}
	return s, clicks
}

// EncodeWAV writes interleaved samples as a RIFF WAVE file: 16-bit PCM, or
// 32-bit float when float is set.
func EncodeWAV(rate, channels int, float bool, samples []float32) []byte {
	bits, tag := 16, uint16(1)
	if float {
		bits, tag = 32, 3
	}
	data := len(samples) * bits / 8
	b := make([]byte, 0, 44+data)
	b = append(b, "RIFF"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(36+data))
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, 16)
	b = binary.LittleEndian.AppendUint16(b, tag)
	b = binary.LittleEndian.AppendUint16(b, uint16(channels))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate*channels*bits/8))
	b = binary.LittleEndian.AppendUint16(b, uint16(channels*bits/8))
	b = binary.LittleEndian.AppendUint16(b, uint16(bits))
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(data))
	for _, s := range samples {
		if float {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(s))
		} else {
			v := max(-32768, min(32767, math.Round(float64(s)*32768)))
			b = binary.LittleEndian.AppendUint16(b, uint16(int16(v)))
		}
	}
	return b
}
