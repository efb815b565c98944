#!/usr/bin/env bash
# Denoising quality of limpid against the peers installable on Debian 12 (+ npm), on the dev
# set of models/eval/make_dev_set.sh: speexdsp's preprocessor, sox noisered (two noise
# profiles), RNNoise, and limpid MODEL at its default steps and at 1 step. Scores with
# `limpid eval` and prints a Markdown table (also OUTDIR/table.md). See bench/quality/README.md.
#
# Usage: bash bench/quality/run.sh DEVSET OUTDIR [MODEL...]
#   DEVSET  folder with clean/ and noisy/ (same relative paths; groups = first-level folders)
#   OUTDIR  results: enh/SYSTEM/... (denoised audio), json/SYSTEM.json, systems.tsv, table.md
#   MODEL   limpid model files (default: models/rt/rt.lpm)
# Environment: BUILD (build folder with limpid, default build), LIMPID (the limpid binary,
#   default $BUILD/limpid), THREADS (limpid --threads, default 1), NICE (default 10),
#   NO_INSTALL=1 (never run apt-get/npm; missing peers are skipped with a note).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
D=${1:?usage: run.sh DEVSET OUTDIR [MODEL...]}
O=${2:?usage: run.sh DEVSET OUTDIR [MODEL...]}
shift 2
MODELS=("$@")
[ ${#MODELS[@]} -gt 0 ] || MODELS=("$ROOT/models/rt/rt.lpm")
BUILD=${BUILD:-$ROOT/build}
LIMPID=${LIMPID:-$BUILD/limpid}
THREADS=${THREADS:-1}
N="nice -n ${NICE:-10}"
D=$(cd "$D" && pwd)
if [ ! -d "$D/clean" ] || [ ! -d "$D/noisy" ]; then echo "run.sh: $D needs clean/ and noisy/" >&2; exit 2; fi
[ -x "$LIMPID" ] || { echo "run.sh: no limpid binary at $LIMPID (build it, or set LIMPID/BUILD)" >&2; exit 2; }
mkdir -p "$O"/{enh,json,tmp}
O=$(cd "$O" && pwd)
say() { echo "== $*" >&2; }

# ---- dependencies ------------------------------------------------------------------------
apt_install() { # packages...
  [ "${NO_INSTALL:-0}" = 1 ] && return 1
  local sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
  say "apt-get install $*"
  $sudo apt-get install -y --no-install-recommends "$@" >&2
}
command -v sox >/dev/null || apt_install sox || { echo "run.sh: sox is required" >&2; exit 1; }
have_node=1
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt_install nodejs npm || have_node=0
fi
if [ $have_node = 1 ] && [ ! -d "$HERE/node_modules/@shiguredo/rnnoise-wasm" ]; then
  if [ "${NO_INSTALL:-0}" = 1 ]; then have_node=0
  else say "npm ci (bench/quality/node_modules)"; (cd "$HERE" && npm ci --no-audit --no-fund >&2) || have_node=0
  fi
fi
[ $have_node = 1 ] || echo "run.sh: node/npm or @shiguredo/rnnoise-wasm missing: RNNoise skipped, table printed without node" >&2
pkg-config --exists speexdsp sndfile 2>/dev/null || apt_install libspeexdsp-dev libsndfile1-dev pkg-config || true
SPEEX=$BUILD/speexdsp_denoise
if [ ! -x "$SPEEX" ] && pkg-config --exists speexdsp sndfile 2>/dev/null; then
  # The CMake target (bench/quality/CMakeLists.txt); else compile it directly.
  if [ -f "$BUILD/CMakeCache.txt" ] && $N cmake --build "$BUILD" --target speexdsp_denoise >&2 2>/dev/null; then :
  else
    SPEEX=$O/tmp/speexdsp_denoise
    # shellcheck disable=SC2046 # pkg-config's flags are meant to split
    $N cc -O2 -Wall -Wextra -std=gnu11 "$HERE/speexdsp_denoise.c" -o "$SPEEX" \
      $(pkg-config --cflags --libs speexdsp sndfile) -lm
  fi
fi
[ -x "$SPEEX" ] || { echo "run.sh: speexdsp_denoise not available: speexdsp skipped" >&2; SPEEX=; }

mapfile -t FILES < <(cd "$D/noisy" && find . -type f \( -name '*.wav' -o -name '*.flac' \) | sed 's|^\./||' | sort)
[ ${#FILES[@]} -gt 0 ] || { echo "run.sh: no audio under $D/noisy" >&2; exit 2; }
say "$(printf '%s\n' "${FILES[@]}" | wc -l) files from $D"

: > "$O/systems.tsv"
score() { # name label seconds enhanced_dir
  $N "$LIMPID" eval --clean "$D/clean" --enhanced "$4" --noisy "$D/noisy" --json "$O/json/$1.json" -q \
    2> "$O/json/$1.log" || echo "run.sh: $1: limpid eval reported problems (see $O/json/$1.log)" >&2
  printf '%s\t%s\t%s\n' "$2" "$O/json/$1.json" "$3" >> "$O/systems.tsv"
}
per_file() { # name label command-function: runs FUNC IN OUT for every file, then scores
  local name=$1 label=$2 fn=$3 t0 t1
  say "$label"
  rm -rf "$O/enh/$name"
  t0=$(date +%s.%N)
  for f in "${FILES[@]}"; do
    mkdir -p "$O/enh/$name/$(dirname "$f")"
    "$fn" "$D/noisy/$f" "$O/enh/$name/$f" "$f"
  done
  t1=$(date +%s.%N)
  score "$name" "$label" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" "$O/enh/$name"
}

# ---- systems -----------------------------------------------------------------------------
score noisy "noisy input" 0 "$D/noisy"

speex_fn() { $N "$SPEEX" "$1" "$2"; }
[ -n "$SPEEX" ] && per_file speexdsp "speexdsp preprocess (-15 dB, 10 ms)" speex_fn

# sox noisered drops the last partial window (1024 samples at 48 kHz): pad, then cut to the
# input's length so the output stays aligned and complete.
noisered() { # in out profile
  local n; n=$(soxi -s "$1")
  $N sox -q -R "$1" "$2" noisered "$3" 0.21 pad 0 8192s trim 0 "${n}s"
}
sox_first_fn() { # profile from the first 0.25 s of the noisy file itself
  $N sox -q -R "$1" -n trim 0 0.25 noiseprof "$O/tmp/prof"
  noisered "$1" "$2" "$O/tmp/prof"
}
sox_oracle_fn() { # profile from the true noise of the clip (noisy - clean), whole clip
  $N sox -q -R -m -v 1 "$1" -v -1 "$D/clean/$3" -e float -b 32 "$O/tmp/noise.wav"
  $N sox -q -R "$O/tmp/noise.wav" -n noiseprof "$O/tmp/prof"
  noisered "$1" "$2" "$O/tmp/prof"
}
per_file sox_first "sox noisered 0.21, profile: first 0.25 s" sox_first_fn
per_file sox_oracle "sox noisered 0.21, profile: true noise (oracle)" sox_oracle_fn

# RNNoise: one node process for all 48 kHz WAV files (the wasm module loads once); other
# rates and formats go through sox to 48 kHz and back, one file at a time.
rnnoise_run() {
  local name=rnnoise t0 t1 f r n pairs=() version label
  version=$(node -p 'require(process.argv[1]).version' "$HERE/node_modules/@shiguredo/rnnoise-wasm/package.json")
  label="RNNoise (@shiguredo/rnnoise-wasm $version)"
  say "$label"
  rm -rf "$O/enh/$name"
  t0=$(date +%s.%N)
  for f in "${FILES[@]}"; do
    mkdir -p "$O/enh/$name/$(dirname "$f")"
    r=$(soxi -r "$D/noisy/$f")
    if [ "$r" = 48000 ] && [[ $f == *.wav ]]; then
      pairs+=("$D/noisy/$f" "$O/enh/$name/$f")
    else
      n=$(soxi -s "$D/noisy/$f")
      $N sox -q -R "$D/noisy/$f" -r 48000 -c 1 -e float -b 32 "$O/tmp/in48.wav"
      $N node "$HERE/rnnoise.mjs" "$O/tmp/in48.wav" "$O/tmp/out48.wav"
      $N sox -q -R "$O/tmp/out48.wav" "$O/enh/$name/$f" rate -v "$r" pad 0 64s trim 0 "${n}s"
    fi
  done
  [ ${#pairs[@]} -eq 0 ] || $N node "$HERE/rnnoise.mjs" "${pairs[@]}"
  t1=$(date +%s.%N)
  score "$name" "$label" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" "$O/enh/$name"
}
[ $have_node = 1 ] && rnnoise_run

DEF_STEPS=$("$LIMPID" denoise --help 2>&1 | sed -n 's/.*--steps N.*(default \([0-9][0-9]*\)).*/\1/p' | head -n 1)
for m in "${MODELS[@]}"; do
  b=$(basename "$m" .lpm)
  for steps in default 1; do
    name="limpid-$b-$steps"
    opt=(); label="limpid $b (default steps${DEF_STEPS:+: $DEF_STEPS})"
    [ $steps = default ] || { opt=(--steps "$steps"); label="limpid $b --steps $steps"; }
    say "$label"
    rm -rf "$O/enh/$name"
    t0=$(date +%s.%N)
    $N "$LIMPID" denoise --model "$m" "${opt[@]}" --threads "$THREADS" -q -r --outdir "$O/enh/$name" "$D/noisy"
    t1=$(date +%s.%N)
    score "$name" "$label" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" "$O/enh/$name"
  done
done
rm -rf "$O/tmp"

# ---- table -------------------------------------------------------------------------------
if command -v node >/dev/null; then
  node "$HERE/table.mjs" "$O/systems.tsv" > "$O/table.md"
  cat "$O/table.md"
else
  echo "run.sh: node missing: no table (the JSON files are in $O/json)" >&2
fi
