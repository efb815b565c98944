#!/usr/bin/env python3
"""Break dev-set scores down by noise type and by input SNR.

Usage: python3 models/eval/breakdown.py DEVSET/mixtures.tsv EVAL.json [EVAL2.json ...]

mixtures.tsv is written by make_dev_set.sh; each EVAL.json by
`limpid eval --clean DEVSET/clean --enhanced OUT --noisy DEVSET/noisy --json EVAL.json`.
Prints, for each JSON, the mean SI-SDR improvement and ESTOI change per (group, noise type),
per (group, input SNR) and, for speech, per kind of voice (real recordings or synthesised:
espeak-ng, festival, flite), with the number of files in brackets. The independent
evaluation uses real recorded speech, so the "real" line is the nearer predictor of it.
"""
import json
import sys
from collections import defaultdict

SYNTHESISERS = ("espeak", "festival", "flite")


def voice_kind(name):
    base = name.split("/", 1)[-1]
    return "synthesised" if base.startswith(SYNTHESISERS) else "real"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.strip())
    mix = {}
    with open(sys.argv[1], encoding="utf-8") as f:
        next(f)
        for line in f:
            name, snr, ntype, _ = line.rstrip("\n").split("\t")
            mix[name] = (snr, ntype)
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8") as f:
            rep = json.load(f)
        by = defaultdict(list)
        for e in rep["files"]:
            if e.get("error") or e["file"] not in mix:
                continue
            snr, ntype = mix[e["file"]]
            keys = [(e["group"], "noise", ntype), (e["group"], "snr", snr + " dB")]
            if e["group"] == "speech":
                keys.append((e["group"], "voice", voice_kind(e["file"])))
            for key in keys:
                by[key].append((e.get("si_sdr_i"), e.get("estoi_i")))
        print(f"== {path}")
        print(f"{'group':8} {'by':6} {'value':22} {'n':>3} {'SI-SDRi':>8} {'ESTOIi':>8}")
        for key in sorted(by, key=lambda k: (k[0], k[1], k[2].rjust(8))):
            rows = by[key]
            si = [r[0] for r in rows if r[0] is not None]
            es = [r[1] for r in rows if r[1] is not None]
            msi = sum(si) / len(si) if si else float("nan")
            mes = sum(es) / len(es) if es else float("nan")
            print(f"{key[0]:8} {key[1]:6} {key[2]:22} {len(rows):3} {msi:8.2f} {mes:8.3f}")


if __name__ == "__main__":
    main()
