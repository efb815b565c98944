#!/usr/bin/env bash
# Recipe of the shipped "rt" model: build the corpus from Debian packages, then train (or
# resume) with models/rt/rt.cfg for 3,000 steps (a whole cosine schedule). Usage (as root on Debian 12, from the
# repository root):
#   bash models/rt/train.sh CORPUS_DIR WORK_DIR [extra limpid train options, e.g. --stop-at N]
# Resumes from WORK_DIR/rt.lpm.ckpt when it exists (a run stopped with --stop-at continues
# exactly). See models/train_denoiser.sh.
exec bash "$(dirname "$0")/../train_denoiser.sh" rt 3000 "$@"
