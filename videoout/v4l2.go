package videoout

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"unsafe"

	"gocv.io/x/gocv"
)

// V4L2 ioctls and constants (linux/videodev2.h) for a loopback output.
const (
	vidiocQueryCap      = 0x80685600 // _IOR('V', 0, struct v4l2_capability), 104 bytes
	vidiocSFmt          = 0xc0d05605 // _IOWR('V', 5, struct v4l2_format), 208 bytes
	bufTypeVideoOutput  = 2
	fieldNone           = 1
	colorspaceSRGB      = 8
	pixFmtYU12          = 'Y' | 'U'<<8 | '1'<<16 | '2'<<24 // planar I420
	loopbackDriver      = "v4l2 loopback"
	loopbackModule      = "/sys/module/v4l2loopback"
	virtualVideoDevices = "/sys/devices/virtual/video4linux"
)

// loadHint says how to get a virtual camera.
const loadHint = "load it with: sudo modprobe v4l2loopback exclusive_caps=1 card_label=reverie (Debian package v4l2loopback-dkms)"

// findLoopback picks the device: the named one, or with auto the first
// v4l2loopback device.
func findLoopback(device string) (string, error) {
	if device != "auto" {
		return device, nil
	}
	if _, err := os.Stat(loopbackModule); err != nil {
		return "", fmt.Errorf("virtual_camera.device auto: the v4l2loopback module is not loaded; %s", loadHint)
	}
	names, _ := filepath.Glob(filepath.Join(virtualVideoDevices, "video*"))
	sort.Strings(names)
	if len(names) == 0 {
		return "", fmt.Errorf("virtual_camera.device auto: v4l2loopback is loaded but made no device; %s", loadHint)
	}
	return "/dev/" + filepath.Base(names[0]), nil
}

// loopbackEncoder writes I420 frames to a v4l2loopback device; OBS,
// browsers and TouchDesigner's Video Device In see it as a webcam.
type loopbackEncoder struct {
	f         *os.File
	rgba, yuv gocv.Mat
}

// openLoopback opens device (checked to be a v4l2loopback device) and sets
// its format to w×h I420.
func openLoopback(device string, w, h int) (Encoder, error) {
	dev, err := findLoopback(device)
	if err != nil {
		return nil, err
	}
	if w%2 != 0 || h%2 != 0 {
		return nil, fmt.Errorf("virtual camera %s: the render size %dx%d must be even for I420", dev, w, h)
	}
	f, err := os.OpenFile(dev, os.O_WRONLY, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("virtual camera %s: no such device; %s", dev, loadHint)
		}
		return nil, fmt.Errorf("virtual camera %s: %w", dev, errors.Unwrap(err))
	}
	var capab [104]byte
	if err := ioctl(f, vidiocQueryCap, unsafe.Pointer(&capab[0])); err != nil {
		f.Close()
		return nil, fmt.Errorf("virtual camera %s is not a video device (%v); %s", dev, err, loadHint)
	}
	if drv := string(bytes.TrimRight(capab[:16], "\x00")); drv != loopbackDriver {
		f.Close()
		return nil, fmt.Errorf("virtual camera %s is a %q device, not v4l2loopback: writing to a real camera is refused", dev, drv)
	}
	var fm [208]byte
	le := binary.LittleEndian
	le.PutUint32(fm[0:], bufTypeVideoOutput)
	pix := fm[8:] // struct v4l2_pix_format, after the union's 8-byte alignment
	le.PutUint32(pix[0:], uint32(w))
	le.PutUint32(pix[4:], uint32(h))
	le.PutUint32(pix[8:], pixFmtYU12)
	le.PutUint32(pix[12:], fieldNone)
	le.PutUint32(pix[16:], uint32(w))
	le.PutUint32(pix[20:], uint32(w*h*3/2))
	le.PutUint32(pix[24:], colorspaceSRGB)
	if err := ioctl(f, vidiocSFmt, unsafe.Pointer(&fm[0])); err != nil {
		f.Close()
		return nil, fmt.Errorf("virtual camera %s refused %dx%d I420: %v", dev, w, h, err)
	}
	return &loopbackEncoder{f: f, rgba: gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC4), yuv: gocv.NewMat()}, nil
}

func ioctl(f *os.File, req uintptr, arg unsafe.Pointer) error {
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), req, uintptr(arg)); e != 0 {
		return e
	}
	return nil
}

// Encode implements Encoder.
func (e *loopbackEncoder) Encode(fr *Frame) error {
	dst, err := e.rgba.DataPtrUint8()
	if err != nil {
		return err
	}
	copy(dst, fr.Pix)
	gocv.CvtColor(e.rgba, &e.yuv, gocv.ColorRGBAToYUVI420)
	b, err := e.yuv.DataPtrUint8()
	if err != nil {
		return err
	}
	if _, err := e.f.Write(b); err != nil {
		return fmt.Errorf("virtual camera %s: %w", e.f.Name(), errors.Unwrap(err))
	}
	return nil
}

// Close implements Encoder.
func (e *loopbackEncoder) Close() error {
	e.rgba.Close()
	e.yuv.Close()
	return e.f.Close()
}
