#!/usr/bin/env bash
# Recipe of the shipped "rt" model: build the corpus from Debian packages, then train (or
# resume) with models/rt/rt.cfg on a 20,000-step cosine schedule, seed 2, with augmentation,
# stopping at step 2,000 (the shipped file; session 17). Usage (as root on Debian 12, from the
# repository root):
#   bash models/rt/train.sh CORPUS_DIR WORK_DIR [extra limpid train options]
# Resumes from WORK_DIR/rt.lpm.ckpt when it exists (up to step 2,000; STOP=N for a later stop:
# a run stopped with --stop-at continues exactly). See models/train_denoiser.sh.
SEED=2 FRESH="--augment 1" STOP=${STOP:-2000} exec bash "$(dirname "$0")/../train_denoiser.sh" rt 20000 "$@"
