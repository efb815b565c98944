#!/usr/bin/env bash
# The shared recipe of the shipped denoisers: build the corpus from Debian packages (when it is
# not there yet), then train models/NAME/NAME.cfg from scratch for STEPS steps, or resume from
# WORK/NAME.lpm.ckpt when it exists (the committed checkpoint can be copied there to continue
# the shipped run). Called by models/rt/train.sh and models/hq/train.sh:
#   bash models/train_denoiser.sh NAME STEPS CORPUS_DIR WORK_DIR [extra limpid train options]
# Environment (set by a model's train.sh): SEED (default 1) and FRESH (more options, e.g.
# --augment 1) for a run from scratch (a resumed run keeps both from its checkpoint); STOP: stop
# at this step (--stop-at) of the STEPS-step schedule.
set -euo pipefail
N=${1:?model name}; S=${2:?steps}; C=${3:?corpus folder}; W=${4:?work folder}; shift 4
[ -f "$C/manifest.tsv" ] || bash models/data/build_corpus.sh --jobs 2 "$C"
mkdir -p "$W"
DATA=(--clean "$C/clean/speech_real" --clean "$C/clean/speech_tts" --clean "$C/clean/music"
      --noise "$C/noise/real" --noise "$C/noise/synth" --synth-noise 0.5)
if [ -f "$W/$N.lpm.ckpt" ]; then
  exec build/limpid train --resume "$W/$N.lpm.ckpt" "${DATA[@]}" --ckpt-every 250 \
    --val-every 500 --threads 2 ${STOP:+--stop-at "$STOP"} -o "$W/$N.lpm" "$@"
fi
exec build/limpid train --task denoise --config "models/$N/$N.cfg" --preset small "${DATA[@]}" \
  --snr -5:20 --steps "$S" --ckpt-every 250 --val-every 500 --seed "${SEED:-1}" --threads 2 \
  ${STOP:+--stop-at "$STOP"} ${FRESH:-} -o "$W/$N.lpm" "$@"
