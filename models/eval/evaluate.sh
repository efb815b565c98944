#!/usr/bin/env bash
# Dev-set figures of a denoising model for its card: the full reverse diffusion process
# (DDIM, 2 and 4 steps) and the ablation without the diffusion stage (1 step from pure noise: the
# network's first x0 estimate, i.e. its predictive part alone).
# Usage: bash models/eval/evaluate.sh MODEL DEVSET OUTDIR [BUILD_DIR]
#   DEVSET from models/eval/make_dev_set.sh
set -euo pipefail
M=${1:?model}; D=${2:?dev set}; O=${3:?output folder}; B=${4:-build}
for steps in 1 2 4; do
  rm -rf "$O/steps$steps"
  /usr/bin/time -f "denoise wall %e s, max RSS %M KB" \
    "$B/limpid" denoise --model "$M" --steps "$steps" --threads 1 -q -r \
      --outdir "$O/steps$steps" "$D/noisy"
  echo "== $M, DDIM $steps step(s)"
  "$B/limpid" eval --clean "$D/clean" --enhanced "$O/steps$steps" --noisy "$D/noisy" \
    --json "$O/steps$steps.json" | tail -n 4
done
