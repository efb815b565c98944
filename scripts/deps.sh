#!/usr/bin/env bash
# Install the Debian 12 packages limpid builds, tests and benchmarks with.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
  build-essential cmake pkg-config \
  libfftw3-dev libopenblas-dev libsndfile1-dev libsamplerate0-dev \
  check lv2-dev portaudio19-dev jackd2 \
  liblilv-dev lilv-utils lv2file sordi \
  sox valgrind python3 ${LIMPID_EXTRA_PACKAGES:-}
