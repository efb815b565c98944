#!/usr/bin/env bash
# The main job: denoise the bundled example with the shipped real-time model.
# Usage: bash scripts/demo.sh [BUILD_DIR]   (writes examples/noisy_speech.denoised.flac)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
"$B/limpid" info models/rt/rt.lpm | head -n 9
"$B/limpid" denoise --model rt --force examples/noisy_speech.flac \
  -o examples/noisy_speech.denoised.flac
echo "wrote examples/noisy_speech.denoised.flac"
