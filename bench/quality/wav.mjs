// wav.mjs - minimal audio I/O for bench/quality's node scripts: RIFF/WAVE (PCM 8/16/24/32-bit,
// IEEE float 32/64, WAVE_FORMAT_EXTENSIBLE) and headerless float32 little-endian (".f32" or
// ".raw": the rate is then the caller's). Multichannel input is mixed to mono (mean).
import { readFileSync, writeFileSync } from "node:fs";

const isRaw = (path) => /\.(f32|raw)$/i.test(path);

// -> { rate, x: Float32Array (mono, nominally -1..1) }; rate is null for raw input.
export function readAudio(path) {
  const b = readFileSync(path);
  if (isRaw(path)) {
    const x = new Float32Array(b.length >> 2);
    for (let i = 0; i < x.length; i++) x[i] = b.readFloatLE(4 * i);
    return { rate: null, x };
  }
  if (b.toString("ascii", 0, 4) !== "RIFF" || b.toString("ascii", 8, 12) !== "WAVE")
    throw new Error(`${path}: not a RIFF/WAVE file (convert it with sox first)`);
  let fmt = null, data = null;
  for (let p = 12; p + 8 <= b.length; ) {
    const id = b.toString("ascii", p, p + 4);
    let size = b.readUInt32LE(p + 4);
    if (id === "data" && (size === 0xffffffff || p + 8 + size > b.length)) size = b.length - p - 8;
    if (id === "fmt ") fmt = b.subarray(p + 8, p + 8 + size);
    else if (id === "data") data = b.subarray(p + 8, p + 8 + size);
    p += 8 + size + (size & 1);
  }
  if (!fmt || !data) throw new Error(`${path}: no fmt or data chunk`);
  let tag = fmt.readUInt16LE(0);
  const ch = fmt.readUInt16LE(2), rate = fmt.readUInt32LE(4), bits = fmt.readUInt16LE(14);
  if (tag === 0xfffe) tag = fmt.readUInt16LE(24); // extensible: the subformat GUID's first word
  const bps = bits >> 3, n = Math.floor(data.length / (bps * ch));
  let get;
  if (tag === 3 && bits === 32) get = (o) => data.readFloatLE(o);
  else if (tag === 3 && bits === 64) get = (o) => data.readDoubleLE(o);
  else if (tag === 1 && bits === 8) get = (o) => (data[o] - 128) / 128;
  else if (tag === 1 && bits === 16) get = (o) => data.readInt16LE(o) / 32768;
  else if (tag === 1 && bits === 24) get = (o) => data.readIntLE(o, 3) / 8388608;
  else if (tag === 1 && bits === 32) get = (o) => data.readInt32LE(o) / 2147483648;
  else throw new Error(`${path}: unsupported WAV format tag ${tag}, ${bits} bits`);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < ch; c++) s += get((i * ch + c) * bps);
    x[i] = s / ch;
  }
  return { rate, x };
}

// Writes mono float32: raw for ".f32"/".raw", else a WAVE_FORMAT_IEEE_FLOAT WAV at `rate`.
export function writeAudio(path, x, rate) {
  if (isRaw(path)) {
    const b = Buffer.alloc(4 * x.length);
    for (let i = 0; i < x.length; i++) b.writeFloatLE(x[i], 4 * i);
    writeFileSync(path, b);
    return;
  }
  const b = Buffer.alloc(44 + 4 * x.length);
  b.write("RIFF", 0, "ascii");
  b.writeUInt32LE(36 + 4 * x.length, 4);
  b.write("WAVEfmt ", 8, "ascii");
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(3, 20); // IEEE float
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 4, 28);
  b.writeUInt16LE(4, 32);
  b.writeUInt16LE(32, 34);
  b.write("data", 36, "ascii");
  b.writeUInt32LE(4 * x.length, 40);
  for (let i = 0; i < x.length; i++) b.writeFloatLE(x[i], 44 + 4 * i);
  writeFileSync(path, b);
}
