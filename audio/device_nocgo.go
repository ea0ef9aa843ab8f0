//go:build !cgo

package audio

import "errors"

func openDevice(DeviceConfig, func([]float32), func()) (capture, string, int, error) {
	return nil, "", 0, errors.New("audio: this build has no sound device support (built without cgo); use an audio file")
}
