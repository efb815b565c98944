// table.mjs - the Markdown comparison table of bench/quality/run.sh.
// Usage: node bench/quality/table.mjs SYSTEMS.tsv
//   SYSTEMS.tsv: one line per system: LABEL <tab> JSON <tab> WALL_SECONDS, where JSON is the
//   output of `limpid eval --clean DIR --enhanced DIR --noisy DIR --json FILE`.
// Per group (first-level folder of the dev set: speech, music) and input SNR (the "-NdB"
// suffix of the file names) it averages over the files: SI-SDR improvement (enhanced minus
// noisy, dB) and ESTOI gain (enhanced minus noisy). The first line of SYSTEMS.tsv must be
// the unprocessed noisy input: its row shows the absolute SI-SDR and ESTOI instead.
import { readFileSync } from "node:fs";

const lines = readFileSync(process.argv[2], "utf8").split("\n").filter((l) => l.trim());
const systems = lines.map((l) => {
  const [label, json, wall] = l.split("\t");
  return { label, wall: Number(wall), data: JSON.parse(readFileSync(json, "utf8")) };
});

const snrOf = (f) => {
  const m = /-(\d+)dB\.[^.\/]+$/.exec(f);
  return m ? Number(m[1]) : null;
};
const mean = (v) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN);
const fmt = (x, d, sign) => (Number.isFinite(x) ? (sign && x >= 0 ? "+" : "") + x.toFixed(d) : "n/a");

// Groups and SNRs present in the baseline, in a fixed order.
const base = systems[0].data.files.filter((f) => !f.error);
const groups = [...new Set(base.map((f) => f.group))].sort((a, b) =>
  a === "speech" ? -1 : b === "speech" ? 1 : a.localeCompare(b));
const snrs = [...new Set(base.map((f) => snrOf(f.file)).filter((s) => s !== null))].sort((a, b) => a - b);

const audioSeconds = base.reduce((a, f) => a + (f.samples ?? 0) / (f.rate ?? 48000), 0);
let out = "";
for (const g of groups) {
  const files = base.filter((f) => f.group === g);
  const counts = snrs.map((s) => files.filter((f) => snrOf(f.file) === s).length);
  out += `\n**${g}** (${files.length} clips; per input SNR ${snrs.map((s, i) => `${s} dB: ${counts[i]}`).join(", ")})\n\n`;
  out += "| system | " + snrs.map((s) => `SI-SDRi ${s} dB`).join(" | ") + " | SI-SDRi mean | " +
    snrs.map((s) => `ΔESTOI ${s} dB`).join(" | ") + " | ΔESTOI mean | wall s |\n";
  out += "|---" + "|---:".repeat(2 * snrs.length + 3) + "|\n";
  systems.forEach((sys, k) => {
    const fs = sys.data.files.filter((f) => f.group === g && !f.error);
    const pick = (f, what) => {
      if (k === 0) return what === "sdr" ? f.si_sdr : f.estoi;
      if (what === "sdr") return f.si_sdr_i ?? f.si_sdr - f.noisy.si_sdr;
      if (f.estoi === null || f.noisy?.estoi == null) return NaN;
      return f.estoi_i ?? f.estoi - f.noisy.estoi;
    };
    const cell = (sub, what) => {
      const v = sub.map((f) => pick(f, what)).filter((x) => x !== null && Number.isFinite(x));
      return fmt(mean(v), what === "sdr" ? 2 : 3, k > 0);
    };
    const bySnr = (what) => snrs.map((s) => cell(fs.filter((f) => snrOf(f.file) === s), what));
    const label = k === 0 ? `${sys.label} (absolute SI-SDR dB, ESTOI)` : sys.label;
    const missing = files.length - fs.length;
    out += `| ${label}${missing ? ` (${missing} missing)` : ""} | ${bySnr("sdr").join(" | ")} | ${cell(fs, "sdr")} | ` +
      `${bySnr("estoi").join(" | ")} | ${cell(fs, "estoi")} | ${k === 0 ? "" : fmt(sys.wall, 1)} |\n`;
  });
}
out += `\nSI-SDRi: SI-SDR improvement over the noisy input (dB); ΔESTOI: ESTOI minus the noisy input's; ` +
  `means over the clips of each cell. wall s: processing time of the whole set ` +
  `(${audioSeconds.toFixed(0)} s of audio, both groups), one process at a time.\n`;
process.stdout.write(out.replace(/^\n/, ""));
