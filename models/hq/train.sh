#!/usr/bin/env bash
# Recipe of the shipped "hq" model: build the corpus from Debian packages, then train with
# models/hq/hq.cfg and --augment 1 --seed 2, stopping at step 1,000 of a 3,000-step cosine
# schedule (--stop-at 1000). Usage (as root on Debian 12, from the repository root):
#   bash models/hq/train.sh CORPUS_DIR WORK_DIR [extra limpid train options]
# Resumes from WORK_DIR/hq.lpm.ckpt when it exists (up to step 1,000; give a later --stop-at
# to go on). See models/train_denoiser.sh.
SEED=2 FRESH="--augment 1" STOP=1000 exec bash "$(dirname "$0")/../train_denoiser.sh" hq 3000 "$@"
