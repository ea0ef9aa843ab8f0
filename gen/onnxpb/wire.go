// Package onnxpb writes ONNX models: a small protobuf encoder for the subset of
// onnx.proto (ModelProto, GraphProto, NodeProto, TensorProto, …) that reverie's
// built-in generators need, and a Graph builder on top of it.
package onnxpb

import (
	"encoding/binary"
	"math"
)

// buf is a protobuf message being written. Field numbers and wire types follow
// Debian's /usr/include/onnx/onnx.proto.
type buf []byte

const (
	wireVarint  = 0
	wireBytes   = 2
	wireFixed32 = 5
)

func (b *buf) tag(field, wire int) { b.uvarint(uint64(field)<<3 | uint64(wire)) }

func (b *buf) uvarint(v uint64) { *b = binary.AppendUvarint(*b, v) }

func (b *buf) int(field int, v int64) {
	b.tag(field, wireVarint)
	b.uvarint(uint64(v))
}

func (b *buf) float(field int, v float32) {
	b.tag(field, wireFixed32)
	*b = binary.LittleEndian.AppendUint32(*b, math.Float32bits(v))
}

func (b *buf) bytes(field int, v []byte) {
	b.tag(field, wireBytes)
	b.uvarint(uint64(len(v)))
	*b = append(*b, v...)
}

func (b *buf) string(field int, v string) { b.bytes(field, []byte(v)) }

func (b *buf) message(field int, m buf) { b.bytes(field, m) }

// packedInts writes a repeated int64 field in packed form.
func (b *buf) packedInts(field int, v []int64) {
	var p buf
	for _, x := range v {
		p.uvarint(uint64(x))
	}
	b.bytes(field, p)
}

// packedFloats writes a repeated float field in packed form.
func (b *buf) packedFloats(field int, v []float32) {
	p := make(buf, 0, 4*len(v))
	for _, x := range v {
		p = binary.LittleEndian.AppendUint32(p, math.Float32bits(x))
	}
	b.bytes(field, p)
}
