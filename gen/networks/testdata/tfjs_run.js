// Runs a TF.js graph model on the pure-JavaScript CPU backend, as its authors
// published it: the reference the converted ONNX model is proven against.
// usage: node tfjs_run.js MODEL.json INPUT.f32 SHAPE(json) OUTDIR
// Writes OUTDIR/<n>.f32 for each signature output (sorted by tensor name) and
// OUTDIR/outputs.json with their names and shapes.
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

async function main() {
  const [modelPath, inputPath, shapeJSON, outDir] = process.argv.slice(2);
  await tf.setBackend('cpu');
  const model = JSON.parse(fs.readFileSync(modelPath, 'utf8'));
  // A fully convolutional network runs at any size, as tfjs-models runs
  // PoseNet at the resolution it is asked for: free the placeholder's height
  // and width when the input differs from the declared shape.
  const shape = JSON.parse(shapeJSON);
  for (const n of model.modelTopology.node) {
    if (n.op !== 'Placeholder' || !n.attr.shape) continue;
    const dims = n.attr.shape.shape.dim;
    if (dims.length === 4) { dims[1].size = '-1'; dims[2].size = '-1'; }
  }
  const weightSpecs = [];
  const shards = [];
  for (const group of model.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) shards.push(fs.readFileSync(path.join(path.dirname(modelPath), p)));
  }
  const all = Buffer.concat(shards);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const g = await tf.loadGraphModel(tf.io.fromMemory({ modelTopology: model.modelTopology, weightSpecs, weightData }));
  const raw = fs.readFileSync(inputPath);
  const data = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const input = tf.tensor(data, shape, 'float32');
  const names = Object.values(model.signature.outputs).map((o) => o.name).sort();
  let outs = g.execute(input, names);
  if (!Array.isArray(outs)) outs = [outs];
  const meta = [];
  outs.forEach((t, i) => {
    const v = t.dataSync();
    fs.writeFileSync(path.join(outDir, i + '.f32'), Buffer.from(v.buffer, v.byteOffset, v.byteLength));
    meta.push({ name: names[i], shape: t.shape });
  });
  fs.writeFileSync(path.join(outDir, 'outputs.json'), JSON.stringify(meta));
}

main().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
