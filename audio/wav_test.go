package audio

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func wavBytes(t testing.TB, rate, channels int, float bool, samples []float32) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.wav")
	writeWAV(t, path, rate, channels, float, samples)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readAll(t testing.TB, w *WAV) []float32 {
	t.Helper()
	var out []float32
	buf := make([]float32, 7)
	for {
		n, err := w.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestWAVFormatsMixToMono(t *testing.T) {
	in := []float32{0.5, -0.5, 0.25, 0.75, -1, -1}
	want := []float32{0, 0.5, -1}
	for _, float := range []bool{false, true} {
		b := wavBytes(t, 44100, 2, float, in)
		w, err := NewWAV(bytes.NewReader(b), int64(len(b)), "x.wav")
		if err != nil {
			t.Fatal(err)
		}
		got := readAll(t, w)
		if w.Rate() != 44100 || w.Channels() != 2 || w.Frames() != 3 || len(got) != 3 {
			t.Fatalf("float %v: rate %d channels %d frames %d read %d", float, w.Rate(), w.Channels(), w.Frames(), len(got))
		}
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 1e-4 {
				t.Errorf("float %v: sample %d = %v; want %v", float, i, got[i], want[i])
			}
		}
	}
	// 24-bit PCM in a WAVE_FORMAT_EXTENSIBLE header, after a LIST chunk.
	var b []byte
	b = append(b, "RIFF\x00\x00\x00\x00WAVELIST\x03\x00\x00\x00abc\x00fmt \x28\x00\x00\x00"...)
	b = binary.LittleEndian.AppendUint16(b, 0xFFFE)
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint32(b, 8000)
	b = binary.LittleEndian.AppendUint32(b, 24000)
	b = binary.LittleEndian.AppendUint16(b, 3)
	b = binary.LittleEndian.AppendUint16(b, 24)
	b = append(b, 22, 0, 24, 0, 0, 0, 0, 0, 1, 0) // cbSize, valid bits, mask, sub-format PCM
	b = append(b, make([]byte, 14)...)
	b = append(b, "data\xff\xff\xff\xff"...) // a streaming writer's size
	b = append(b, 0, 0, 0x40, 0, 0, 0xc0)    // +0.5, -0.5
	w, err := NewWAV(bytes.NewReader(b), int64(len(b)), "x24.wav")
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, w); len(got) != 2 || got[0] != 0.5 || got[1] != -0.5 {
		t.Errorf("24-bit: %v; want [0.5 -0.5]", got)
	}
}

func TestWAVFloatsAreSanitised(t *testing.T) {
	nan := float32(math.NaN())
	b := wavBytes(t, 8000, 1, true, []float32{nan, float32(math.Inf(1)), -7, 0.25})
	w, err := NewWAV(bytes.NewReader(b), int64(len(b)), "x.wav")
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, w)
	want := []float32{0, 1, -1, 0.25}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("sample %d = %v; want %v", i, got[i], want[i])
		}
	}
}

func TestWAVErrorsNameFileAndExpectation(t *testing.T) {
	good := wavBytes(t, 8000, 1, false, []float32{0.1, 0.2})
	fmtAt := bytes.Index(good, []byte("fmt "))
	patch := func(off int, v ...byte) []byte {
		b := bytes.Clone(good)
		copy(b[off:], v)
		return b
	}
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"empty":       {nil, "too short for a WAV header"},
		"not riff":    {[]byte("OggS\x00\x00\x00\x00WAVEdata"), `starts with "OggS"; expected a RIFF WAVE file`},
		"mp3 bits":    {patch(fmtAt+8, 0x55, 0), "format 85 with 16 bits per sample; expected PCM"},
		"8 bit":       {patch(fmtAt+22, 8), "expected PCM (1) of 16, 24 or 32 bits"},
		"no channels": {patch(fmtAt+10, 0), "0 channels; expected 1..8"},
		"rate":        {patch(fmtAt+12, 1, 0, 0, 0), "sample rate 1 Hz; expected 4000..768000"},
		"huge fmt":    {patch(fmtAt+4, 0xff, 0xff, 0xff, 0x7f), "fmt chunk of 2147483647 bytes; expected 16..64"},
		"no data":     {good[:fmtAt+24], "no data chunk"},
		"empty data":  {good[:len(good)-4], "no samples in the data chunk"},
		"data first":  {[]byte("RIFF\x00\x00\x00\x00WAVEdata\x02\x00\x00\x00\x00\x00"), "data chunk before the fmt chunk"},
		"huge chunk":  {[]byte("RIFF\x00\x00\x00\x00WAVEjunk\xff\xff\xff\xff"), `"junk" chunk of 4294967295 bytes runs past the end`},
	} {
		_, err := NewWAV(bytes.NewReader(tc.data), int64(len(tc.data)), "set.wav")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "audio file set.wav: ") {
			t.Errorf("%s: error %v; want one naming set.wav and saying %q", name, err, tc.want)
		}
	}
}

func TestOpenWAVRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		fifo:                           "not a regular file",
		dir:                            "not a regular file",
		"/dev/zero":                    "not a regular file",
		filepath.Join(dir, "none.wav"): "no such file",
	} {
		if _, err := OpenWAV(path); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v; want an error naming it and saying %q", path, err, want)
		}
	}
}

// A file shorter than its header says plays what it has.
func TestWAVTruncatedEndsEarly(t *testing.T) {
	b := wavBytes(t, 8000, 1, false, []float32{0.1, 0.2, 0.3, 0.4})
	b = b[:len(b)-3] // the header says 4 samples; 2.5 are there
	w, err := NewWAV(bytes.NewReader(b), int64(len(b)+100), "cut.wav")
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, w); len(got) != 2 {
		t.Errorf("read %d samples; want the 2 whole ones", len(got))
	}
}

// FuzzWAV: no bytes may panic the reader, hang it, or make it allocate
// beyond its bounds.
func FuzzWAV(f *testing.F) {
	f.Add(wavBytes(f, 8000, 2, false, []float32{0.1, -0.2, 0.3, 0.4}))
	f.Add(wavBytes(f, 48000, 1, true, []float32{0.5, float32(math.NaN())}))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\xff\xff\xff\xff\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := NewWAV(bytes.NewReader(data), int64(len(data)), "fuzz.wav")
		if err != nil {
			return
		}
		buf := make([]float32, 64)
		for range len(data) + 1 {
			n, err := w.Read(buf)
			for _, s := range buf[:n] {
				if !(s >= -1 && s <= 1) {
					t.Fatalf("sample %v outside -1..1", s)
				}
			}
			if err != nil {
				return
			}
		}
		t.Fatal("Read never ended")
	})
}
