// Decodes PoseNet's raw outputs with @tensorflow-models/posenet's own
// decodeMultiplePoses, the way its estimateMultiplePoses does (sigmoid on
// the heatmap, CPU TensorBuffers): the reference vision/pose is proven
// against.
// usage: node posenet_decode.js DIR
// DIR/case.json: {"h", "w", "stride", "maxPoses", "scoreThreshold", "nmsRadius"}
// DIR/{heatmap,offset,displacement_fwd,displacement_bwd}.f32: little-endian
// float32, NHWC without the batch. Writes DIR/poses.json.
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const posenet = require('@tensorflow-models/posenet');

function load(dir, name, h, w, channels) {
  const raw = fs.readFileSync(path.join(dir, name + '.f32'));
  const data = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  if (data.length !== h * w * channels) {
    throw new Error(`${name}: ${data.length} values, expected ${h}x${w}x${channels}`);
  }
  return tf.tensor3d(data, [h, w, channels], 'float32');
}

async function main() {
  const dir = process.argv[2];
  await tf.setBackend('cpu');
  const c = JSON.parse(fs.readFileSync(path.join(dir, 'case.json'), 'utf8'));
  const heatmap = load(dir, 'heatmap', c.h, c.w, 17);
  const scores = tf.sigmoid(heatmap); // as posenet_model.js does before decoding
  const offsets = load(dir, 'offset', c.h, c.w, 34);
  const fwd = load(dir, 'displacement_fwd', c.h, c.w, 32);
  const bwd = load(dir, 'displacement_bwd', c.h, c.w, 32);
  const [sb, ob, fb, bb] = await Promise.all([scores, offsets, fwd, bwd].map((t) => t.buffer()));
  const poses = await posenet.decodeMultiplePoses(sb, ob, fb, bb, c.stride, c.maxPoses, c.scoreThreshold, c.nmsRadius);
  const out = poses.map((p) => ({
    score: p.score,
    keypoints: p.keypoints.map((k) => ({ part: k.part, x: k.position.x, y: k.position.y, score: k.score })),
  }));
  fs.writeFileSync(path.join(dir, 'poses.json'), JSON.stringify(out));
}

main().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
