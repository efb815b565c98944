// lag.mjs - alignment check: the lag of TEST against REF by cross-correlation.
// Usage: node bench/quality/lag.mjs REF TEST [MAXLAG=2048] [SECONDS=3]
// Prints "lag L corr C": L > 0 means TEST is late by L samples (TEST[n] ~ REF[n - L]);
// C is the normalized correlation at that lag. Uses the SECONDS-long stretch of REF with
// the most energy (away from the ends), so it works on speech with pauses. Then the
// SI-SDR (dB) of TEST against REF over the whole file with TEST shifted by -3..3 samples
// (TEST[n + s] against REF[n]): aligned output peaks at s = 0.
import { readAudio } from "./wav.mjs";

const [refPath, testPath, maxArg, secArg] = process.argv.slice(2);
if (!testPath) {
  console.error("usage: node lag.mjs REF TEST [MAXLAG] [SECONDS]");
  process.exit(2);
}
const a = readAudio(refPath), b = readAudio(testPath);
const rate = a.rate ?? 48000;
const maxLag = Number(maxArg ?? 2048);
const len = Math.min(Math.round(Number(secArg ?? 3) * rate), a.x.length - 2 * maxLag, b.x.length - 2 * maxLag);
if (len <= 0) throw new Error("files too short for this MAXLAG");
// The most energetic window of REF (hop 0.1 s).
let best = maxLag, bestE = -1;
const hop = Math.round(0.1 * rate);
for (let s = maxLag; s + len + maxLag <= Math.min(a.x.length, b.x.length); s += hop) {
  let e = 0;
  for (let i = 0; i < len; i++) e += a.x[s + i] * a.x[s + i];
  if (e > bestE) { bestE = e; best = s; }
}
const r = a.x.subarray(best, best + len);
let er = 0;
for (let i = 0; i < len; i++) er += r[i] * r[i];
let lagBest = 0, cBest = -Infinity;
for (let L = -maxLag; L <= maxLag; L++) {
  const t = b.x.subarray(best + L, best + L + len);
  let c = 0, et = 0;
  for (let i = 0; i < len; i++) { c += r[i] * t[i]; et += t[i] * t[i]; }
  c /= Math.sqrt(er * et) + 1e-30;
  if (c > cBest) { cBest = c; lagBest = L; }
}
console.log(`lag ${lagBest} corr ${cBest.toFixed(4)}`);

// SI-SDR with shifts (zero-mean, the same inner stretch for every shift).
const m = 8, n = Math.min(a.x.length, b.x.length) - m;
const sdr = [];
for (let sh = -3; sh <= 3; sh++) {
  let ma = 0, mb = 0;
  for (let i = m; i < n; i++) { ma += a.x[i]; mb += b.x[i + sh]; }
  ma /= n - m; mb /= n - m;
  let d = 0, aa = 0, bb = 0;
  for (let i = m; i < n; i++) {
    const u = a.x[i] - ma, v = b.x[i + sh] - mb;
    d += u * v; aa += u * u; bb += v * v;
  }
  const t = (d * d) / aa; // energy of the scaled target
  sdr.push(`${sh}:${(10 * Math.log10(t / Math.max(bb - t, 1e-30))).toFixed(2)}`);
}
console.log(`si-sdr by shift ${sdr.join(" ")}`);
