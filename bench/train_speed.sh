#!/usr/bin/env bash
# Training throughput of `limpid train` on the `rt` recipe (models/rt/rt.cfg with the gated
# floor head, the phase mask loss and the gate loss, procedural noise and augmentation: the
# per-bin losses and the data synthesis cost more than the network's products).
#
# Usage: bash bench/train_speed.sh [LIMPID_BINARY ...]   (default build/limpid)
# Several binaries are run alternately (ROUNDS rounds, default 2), so they compare on the same
# machine load. Prints each run's training time (the model file's) and audio seconds per second.
set -euo pipefail
ROUNDS=${ROUNDS:-2}
STEPS=${STEPS:-20}
W=${WORKDIR:-/tmp/limpid-train-speed}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || set -- build/limpid
mkdir -p "$W/clean" "$W/noise"
# 12 clean files of 6 s (voiced-like tone stacks with a tremolo) and 4 noise files of 10 s
for i in $(seq 0 11); do
  f=$W/clean/c$i.wav
  [ -s "$f" ] || sox -q -n -r 48000 -c 1 -b 16 "$f" synth 6 sine $((110 + 17 * i)) sine \
    $((220 + 34 * i)) sine $((330 + 51 * i)) tremolo 3 60 norm -20
done
for i in 0 1 2 3; do
  f=$W/noise/n$i.wav
  [ -s "$f" ] || sox -q -n -r 48000 -c 1 -b 16 "$f" synth 10 pinknoise synth 10 sine mix \
    $((50 + 10 * i)) norm -25
done
{ cat "$ROOT/models/rt/rt.cfg"; echo "floor_gate = 1"; } > "$W/g.cfg"
for r in $(seq "$ROUNDS"); do
  for L in "$@"; do
    rm -f "$W/o.lpm" "$W/o.lpm.ckpt"
    "$L" train --task denoise --config "$W/g.cfg" --preset small --clean "$W/clean" \
      --noise "$W/noise" --synth-noise 0.5 --snr -5:20 --steps "$STEPS" --val-every 0 \
      --ckpt-every 0 --seed 2 --threads 1 --mask-loss 0.1 --mask-form phase --augment 1 \
      --gate-loss 1 -o "$W/o.lpm" >/dev/null 2>&1
    t=$("$L" info "$W/o.lpm" | awk '/training time/{print $3}')
    # batch 8 x 3 s per step
    printf '%s  round %d: %d steps in %s s: %.1f audio-s/s\n' "$L" "$r" "$STEPS" "$t" \
      "$(awk -v t="$t" -v s="$STEPS" 'BEGIN{print s * 24 / t}')"
  done
done
