package videoout

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"

	"gocv.io/x/gocv"
)

// ffmpegEncoder writes frames through OpenCV's VideoWriter, which Debian
// builds over FFmpeg: to a file, or to a udp:// MPEG-TS stream.
type ffmpegEncoder struct {
	vw      *gocv.VideoWriter
	rgba    gocv.Mat
	bgr     gocv.Mat
	repeats bool // a file keeps real time by writing a picture once per slot
}

// writerOptions are FFmpeg codec options per use: a recording trades a
// little speed for size; a stream wants no frame held back (x264's
// look-ahead and B-frames delay the picture by over a second).
const (
	fileOptions   = "preset;veryfast"
	streamOptions = "preset;ultrafast|tune;zerolatency"
)

// openMu serialises writer opens: the options reach OpenCV through an
// environment variable it reads while opening.
var openMu sync.Mutex

// openFFmpeg opens a VideoWriter on target (a file path or a URL FFmpeg can
// write) with codec (h264, mpeg4, mjpeg) at w×h and fps.
//
// OpenCV holds one lock over every FFmpeg open, captures included: a writer
// whose open blocked would hold up a camera reconnecting, so only targets
// that open at once (files, udp) are accepted.
func openFFmpeg(target, codec string, w, h int, fps float64, opts string, repeats bool) (*ffmpegEncoder, error) {
	fourcc := codecs[codec]
	if fourcc == "" {
		return nil, fmt.Errorf("codec %q: expected h264, mpeg4 or mjpeg", codec)
	}
	openMu.Lock()
	if codec == "h264" {
		os.Setenv("OPENCV_FFMPEG_WRITER_OPTIONS", opts)
	}
	vw, err := gocv.VideoWriterFile(target, fourcc, fps, w, h, true)
	os.Unsetenv("OPENCV_FFMPEG_WRITER_OPTIONS")
	openMu.Unlock()
	if err != nil {
		return nil, err
	}
	if !vw.IsOpened() {
		vw.Close()
		return nil, errors.New("FFmpeg could not open it for writing (the log above may say why)")
	}
	return &ffmpegEncoder{vw: vw, repeats: repeats,
		rgba: gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC4), bgr: gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)}, nil
}

// Encode implements Encoder: RGBA to BGR, then one write per slot.
func (e *ffmpegEncoder) Encode(f *Frame) error {
	dst, err := e.rgba.DataPtrUint8()
	if err != nil {
		return err
	}
	if len(f.Pix) != len(dst) {
		return fmt.Errorf("frame of %d bytes for a %dx%d writer", len(f.Pix), e.rgba.Cols(), e.rgba.Rows())
	}
	copy(dst, f.Pix)
	gocv.CvtColor(e.rgba, &e.bgr, gocv.ColorRGBAToBGR)
	n := 1
	if e.repeats {
		n = max(1, f.Repeat)
	}
	for range n {
		if err := e.vw.Write(e.bgr); err != nil {
			return err
		}
	}
	return nil
}

// Close implements Encoder: it finishes the file (an mp4's index is
// written here) and frees the Mats.
func (e *ffmpegEncoder) Close() error {
	err := e.vw.Close()
	e.rgba.Close()
	e.bgr.Close()
	return err
}

// OpenFile opens a video file at path for frames of w×h at fps; the
// container follows path's extension (.mp4, .mkv, .avi). Each frame is
// written Repeat times, so the file keeps the time it was shown for.
func OpenFile(path, codec string, w, h int, fps float64) (Encoder, error) {
	if codec == "mjpeg" && strings.HasSuffix(strings.ToLower(path), ".mp4") {
		return nil, fmt.Errorf("%s: mjpeg does not go in an mp4 file: use .avi or .mkv, or codec h264", path)
	}
	e, err := openFFmpeg(path, codec, w, h, fps, fileOptions, true)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return e, nil
}

// openStream opens the udp MPEG-TS stream at u (checked by checkStreamURL).
func openStream(u, codec string, w, h int, fps float64) (Encoder, error) {
	e, err := openFFmpeg(streamTarget(u), codec, w, h, fps, streamOptions, false)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", u, err)
	}
	return e, nil
}

// streamTarget is the URL as OpenCV's FFmpeg writer needs it. The writer
// picks the container from the name's extension and has no other way to
// be told, so the URL ends in an option FFmpeg's udp protocol ignores,
// whose value ends in .ts. pkt_size=1316 puts seven 188-byte TS packets in
// each datagram, as receivers expect.
func streamTarget(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := p.RawQuery
	if !p.Query().Has("pkt_size") {
		q = strings.TrimPrefix(q+"&pkt_size=1316", "&")
	}
	return "udp://" + p.Host + "?" + q + "&container=.ts"
}
