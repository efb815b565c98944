// rnnoise.mjs - denoise a 48 kHz mono file with RNNoise (xiph's current model, as built to
// WebAssembly by the npm package @shiguredo/rnnoise-wasm), sample-aligned with the input.
//
// Usage: node bench/quality/rnnoise.mjs [--no-align] IN OUT [IN OUT]...
//   IN: a 48 kHz WAV (PCM or float; channels are averaged) or raw float32 little-endian
//   (.f32/.raw, taken as 48 kHz mono). OUT: float32 WAV (or raw .f32), 48 kHz mono, the
//   length of IN. Other rates: resample with sox first (run.sh does). Several pairs run in
//   one process (the wasm module loads once), each file with a fresh RNNoise state.
//
// RNNoise processes 480-sample (10 ms) frames of float samples in int16 range (x 32768 here,
// / 32768 on the way out). Its output lags the input by two frames: RNNOISE_DELAY = 960
// samples, measured by cross-correlation of raw output against input and clean reference
// (README.md): the 960-sample-window, 480-hop overlap-add accounts for one frame, and the
// current rnnoise_process_frame() applies each frame's gains to the previous frame's
// spectrum (delayed_X: one frame of lookahead for the network) for the other; its 2nd-order
// DC-blocking high-pass adds a sample or two of phase lag at low frequencies, not compensated.
// We append 960 zeros (rounded up to whole frames) and drop the first 960 output samples.
// --no-align writes the raw output (input zero-padded to whole frames, output cut to IN's
// length) for that measurement.
import { readAudio, writeAudio } from "./wav.mjs";

const RNNOISE_DELAY = 960;

const USAGE = "usage: node rnnoise.mjs [--no-align] IN OUT [IN OUT]...";
let align = true;
const files = [];
for (const a of process.argv.slice(2)) {
  if (a === "--no-align") align = false;
  else if (a === "-h" || a === "--help") {
    console.log(USAGE);
    process.exit(0);
  } else files.push(a);
}
if (files.length < 2 || files.length % 2) {
  console.error(USAGE);
  process.exit(2);
}

// The package is built for browsers (Emscripten ENVIRONMENT=web, wasm inlined as base64):
// its only obstacle under node is the environment check, which looks for `window`.
globalThis.window ??= globalThis;
const { Rnnoise } = await import("@shiguredo/rnnoise-wasm");
const rnnoise = await Rnnoise.load();
const F = rnnoise.frameSize; // 480
const delay = align ? RNNOISE_DELAY : 0;
let status = 0;
for (let p = 0; p < files.length; p += 2) {
  const [inPath, outPath] = [files[p], files[p + 1]];
  const { rate, x } = readAudio(inPath);
  if (rate !== null && rate !== 48000) {
    console.error(`rnnoise.mjs: ${inPath} is at ${rate} Hz; RNNoise needs 48000 (resample with sox)`);
    status = 2;
    continue;
  }
  const st = rnnoise.createDenoiseState(); // fresh state per file
  const nfr = Math.ceil((x.length + delay) / F);
  const y = new Float32Array(nfr * F);
  const frame = new Float32Array(F);
  for (let f = 0; f < nfr; f++) {
    for (let i = 0; i < F; i++) {
      const k = f * F + i;
      frame[i] = k < x.length ? x[k] * 32768 : 0;
    }
    st.processFrame(frame); // in place
    for (let i = 0; i < F; i++) y[f * F + i] = frame[i] / 32768;
  }
  st.destroy();
  writeAudio(outPath, y.subarray(delay, delay + x.length), 48000);
}
process.exit(status);
