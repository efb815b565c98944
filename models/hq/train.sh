#!/usr/bin/env bash
# Recipe of the "hq" model (offline, non-causal): build the corpus from Debian packages, then
# train (or resume) with models/hq/hq.cfg for 3,000 steps (a whole cosine schedule). Usage (as
# root on Debian 12, from the repository root):
#   bash models/hq/train.sh CORPUS_DIR WORK_DIR [extra limpid train options, e.g. --stop-at N]
# Resumes from WORK_DIR/hq.lpm.ckpt when it exists. See models/train_denoiser.sh.
exec bash "$(dirname "$0")/../train_denoiser.sh" hq 3000 "$@"
