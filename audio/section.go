package audio

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"reverie/internal/field"
)

// Section is the audio section of config.yaml: where the running piece
// hears sound from, and how it is analysed.
type Section struct {
	// Source is off, device (a capture device, picked by Device), or the
	// path of a WAV file played in a loop in real time, as if a device
	// heard it (for rehearsal, and for a machine without a sound card).
	Source string `yaml:"source"`
	Config `yaml:",inline"`
	Device DeviceConfig `yaml:",inline"`
	// RetryS is DeviceConfig.Retry in seconds, as config.yaml gives it.
	RetryS float64 `yaml:"retry"`
}

// DefaultSection is config.yaml's audio section: off.
func DefaultSection() Section {
	d := DefaultDeviceConfig()
	return Section{Source: "off", Config: DefaultConfig(), Device: d, RetryS: d.Retry.Seconds()}
}

// On says whether the section asks for sound.
func (s Section) On() bool { return s.Source != "off" }

// DeviceConfig is the device settings with the retry in place.
func (s Section) DeviceConfig() DeviceConfig {
	d := s.Device
	d.Retry = time.Duration(s.RetryS * float64(time.Second))
	return d
}

// Validate reports the first bad value, naming its key below audio.
func (s Section) Validate() error {
	if strings.TrimSpace(s.Source) == "" {
		return &field.Error{Key: "source", Msg: `empty; expected off, device, or the path of a WAV file`}
	}
	if err := s.Config.Validate(); err != nil {
		return err
	}
	return s.DeviceConfig().Validate()
}

// Listen starts hearing what the section says: a Live on the capture
// device, or on the WAV file played in real time. Run does the listening.
func (s Section) Listen(log *slog.Logger) (*Live, error) {
	switch s.Source {
	case "off":
		return nil, errors.New("audio: source is off")
	case "device":
		return NewLive(s.Config, s.DeviceConfig(), log)
	}
	return newLive(s.Config, s.DeviceConfig(), log, filePlayer(s.Source))
}

// filePlayer opens a WAV file as a capture device that plays it in a loop
// in real time, one period at a time, from its own goroutine as a sound
// card's thread would. A file that cannot be read is a missing device:
// reported, and tried again every retry.
func filePlayer(path string) opener {
	return func(d DeviceConfig, onData func([]float32), onStop func()) (capture, string, int, error) {
		w, err := OpenWAV(path)
		if err != nil {
			return nil, "", 0, err
		}
		name := "file " + path
		rate := w.Rate()
		period := max(1, rate*d.PeriodMs/1000)
		done := make(chan struct{})
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			defer func() {
				if w != nil {
					w.Close()
				}
			}()
			buf := make([]float32, period)
			tick := time.NewTicker(time.Duration(period) * time.Second / time.Duration(rate))
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
				}
				n, err := w.Read(buf)
				if errors.Is(err, io.EOF) { // loop: play it again from the start
					w.Close()
					if w, err = OpenWAV(path); err == nil {
						n, err = w.Read(buf)
					}
				}
				if err != nil || n == 0 {
					onStop()
					<-done
					return
				}
				onData(buf[:n])
			}
		}()
		return fileCapture{done, stopped}, name, rate, nil
	}
}

type fileCapture struct{ done, stopped chan struct{} }

func (f fileCapture) Close() {
	close(f.done)
	<-f.stopped
}

// String describes the source for /api/status.
func (s Section) String() string {
	switch s.Source {
	case "off", "device":
		if s.Source == "device" && s.Device.Device != "" {
			return fmt.Sprintf("device %q", s.Device.Device)
		}
		return s.Source
	}
	return "file " + s.Source
}
