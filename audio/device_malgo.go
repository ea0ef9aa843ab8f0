//go:build cgo

package audio

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"unsafe"

	"github.com/gen2brain/malgo"
)

// malgoCapture is a miniaudio capture device and its context.
type malgoCapture struct {
	ctx *malgo.AllocatedContext
	dev *malgo.Device
}

func (m *malgoCapture) Close() {
	m.dev.Uninit()
	_ = m.ctx.Uninit()
	m.ctx.Free()
}

// openDevice opens a capture device through PulseAudio or ALSA. The
// backends are named so miniaudio never falls back to its null device,
// which would "listen" to endless silence and hide a missing microphone.
func openDevice(d DeviceConfig, onData func([]float32), onStop func()) (c capture, name string, rate int, err error) {
	ctx, err := malgo.InitContext([]malgo.Backend{malgo.BackendPulseaudio, malgo.BackendAlsa}, malgo.ContextConfig{}, nil)
	if err != nil {
		return nil, "", 0, fmt.Errorf("audio: neither PulseAudio nor ALSA could be opened (%v); is a sound card present?", err)
	}
	fail := func(err error) (capture, string, int, error) {
		_ = ctx.Uninit()
		ctx.Free()
		return nil, "", 0, err
	}
	devs, err := ctx.Devices(malgo.Capture)
	if err != nil {
		return fail(fmt.Errorf("audio: listing capture devices: %v", err))
	}
	var info *malgo.DeviceInfo
	var names []string
	for i := range devs {
		n := devs[i].Name()
		if isNull(&devs[i]) {
			continue
		}
		names = append(names, n)
		switch {
		case d.Device == "" && (devs[i].IsDefault != 0 || info == nil):
			info = &devs[i]
		case d.Device != "" && info == nil && strings.Contains(strings.ToLower(n), strings.ToLower(d.Device)):
			info = &devs[i]
		}
	}
	if len(names) == 0 {
		return fail(errors.New("audio: no capture device found through PulseAudio or ALSA; connect a microphone or line input, or turn audio off in config.yaml"))
	}
	if info == nil {
		return fail(fmt.Errorf("audio.device: no capture device named like %q; present: %q", d.Device, names))
	}
	name = info.Name()

	cfg := malgo.DefaultDeviceConfig(malgo.Capture)
	cfg.Capture.Format = malgo.FormatF32
	cfg.Capture.Channels = 1 // miniaudio mixes down
	cfg.SampleRate = uint32(d.Rate)
	cfg.PeriodSizeInMilliseconds = uint32(d.PeriodMs)
	// miniaudio reads the ID during init only; pin it for that call.
	var pin runtime.Pinner
	pin.Pin(&info.ID)
	cfg.Capture.DeviceID = unsafe.Pointer(&info.ID)
	dev, err := malgo.InitDevice(ctx.Context, cfg, malgo.DeviceCallbacks{
		Data: func(_, in []byte, frames uint32) {
			if len(in) < int(frames)*4 || frames == 0 {
				return
			}
			onData(unsafe.Slice((*float32)(unsafe.Pointer(&in[0])), frames))
		},
		Stop: onStop,
	})
	pin.Unpin()
	if err != nil {
		return fail(fmt.Errorf("audio device %s: %v", name, err))
	}
	if err := dev.Start(); err != nil {
		dev.Uninit()
		return fail(fmt.Errorf("audio device %s: starting: %v", name, err))
	}
	return &malgoCapture{ctx: ctx, dev: dev}, name, int(dev.SampleRate()), nil
}

// isNull reports ALSA's null device, which "captures" endless zeros: taking
// it would hide a missing microphone behind a silent success.
func isNull(d *malgo.DeviceInfo) bool {
	id := d.ID[:]
	return string(id[:5]) == "null\x00" || strings.HasPrefix(d.Name(), "Discard all samples")
}
