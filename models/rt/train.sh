#!/usr/bin/env bash
# Recipe of the shipped "rt" model: build the corpus from Debian packages, then train (or
# resume) with models/rt/rt.cfg. Usage (as root on Debian 12, from the repository root):
#   bash models/rt/train.sh CORPUS_DIR WORK_DIR [extra limpid train options, e.g. --stop-at N]
# Resumes from WORK_DIR/rt.lpm.ckpt when it exists (the committed checkpoint can be copied
# there to continue the shipped run).
set -euo pipefail
C=${1:?corpus folder}; W=${2:?work folder}; shift 2
[ -f "$C/manifest.tsv" ] || bash models/data/build_corpus.sh --jobs 2 "$C"
mkdir -p "$W"
DATA=(--clean "$C/clean/speech_real" --clean "$C/clean/speech_tts" --clean "$C/clean/music"
      --noise "$C/noise/real" --noise "$C/noise/synth" --synth-noise 0.5)
if [ -f "$W/rt.lpm.ckpt" ]; then
  exec build/limpid train --resume "$W/rt.lpm.ckpt" "${DATA[@]}" --ckpt-every 250 \
    --val-every 500 --threads 2 -o "$W/rt.lpm" "$@"
fi
exec build/limpid train --task denoise --config models/rt/rt.cfg --preset small "${DATA[@]}" \
  --snr -5:20 --steps 30000 --ckpt-every 250 --val-every 500 --seed 1 --threads 2 \
  -o "$W/rt.lpm" "$@"
