package onnxpb

import (
	"bytes"
	"testing"
)

// Hand-checked encodings from the protobuf wire format.
func TestWire(t *testing.T) {
	var b buf
	b.int(1, 300)
	if want := []byte{0x08, 0xac, 0x02}; !bytes.Equal(b, want) {
		t.Errorf("varint field: % x, want % x", []byte(b), want)
	}
	b = nil
	b.string(2, "hi")
	if want := []byte{0x12, 0x02, 'h', 'i'}; !bytes.Equal(b, want) {
		t.Errorf("string field: % x, want % x", []byte(b), want)
	}
	b = nil
	b.float(2, 1)
	if want := []byte{0x15, 0, 0, 0x80, 0x3f}; !bytes.Equal(b, want) {
		t.Errorf("float field: % x, want % x", []byte(b), want)
	}
	b = nil
	b.packedInts(1, []int64{1, 2, -1})
	want := append([]byte{0x0a, 12, 1, 2}, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)
	if !bytes.Equal(b, want) {
		t.Errorf("packed ints: % x, want % x", []byte(b), want)
	}
}
