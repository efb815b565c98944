#!/usr/bin/env bash
# Recipe of the shipped "textures" model: build the texture data from Debian packages, then
# train (or resume) with models/textures/textures.cfg. Usage (on Debian 12, from the
# repository root; root for apt-get, or pass data built beforehand with --no-install):
#   bash models/textures/train.sh DATA_DIR WORK_DIR [extra limpid train options, e.g. --stop-at N]
# DATA_DIR is built with models/textures/build_data.sh when DATA_DIR/manifest.tsv is missing;
# training reads DATA_DIR/train only (DATA_DIR/heldout is for `limpid eval --texture`).
# Resumes from WORK_DIR/textures.lpm.ckpt when it exists (the class folders must be the same).
# Writes WORK_DIR/textures.lpm, its checkpoint and WORK_DIR/textures.lpm.classes.
# LIMPID=path/to/limpid picks another build (default build/limpid). Later options win, so
# e.g. `--minutes 6 --threads 1` makes a short run on one thread.
set -euo pipefail
D=${1:?data folder}; W=${2:?work folder}; shift 2
LIMPID=${LIMPID:-build/limpid}
[ -f "$D/manifest.tsv" ] || bash models/textures/build_data.sh --jobs 2 "$D"
mkdir -p "$W"
DATA=(--task texture --clean "$D/train")
if [ -f "$W/textures.lpm.ckpt" ]; then
  exec "$LIMPID" train --resume "$W/textures.lpm.ckpt" "${DATA[@]}" --ckpt-every 250 \
    --val-every 500 --threads 2 -o "$W/textures.lpm" "$@"
fi
# the length: 20000 steps unless the extra options give --steps or --minutes
LEN=(--steps 20000)
for a in "$@"; do case "$a" in --steps|--steps=*|--minutes|--minutes=*) LEN=() ;; esac; done
exec "$LIMPID" train "${DATA[@]}" --config models/textures/textures.cfg \
  "${LEN[@]}" --ckpt-every 250 --val-every 500 --seed 1 --threads 2 \
  -o "$W/textures.lpm" "$@"
