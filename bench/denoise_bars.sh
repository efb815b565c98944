#!/usr/bin/env bash
# Issue 3's speed and memory bars for `limpid denoise`, measured through the CLI:
#   - real-time factor on one thread, 48 kHz mono, start-up included: rt <= 0.05, hq <= 1.0;
#   - peak memory <= 200 MB whatever the file's length (and whatever the options: the
#     streamed default, the block path of more steps or the ddpm sampler, stereo at another
#     rate, two files in parallel).
#
# Usage: bash bench/denoise_bars.sh [LIMPID_BINARY] [WORKDIR] [RUNS]
# Prints, for every case, the measured wall time (RTF = wall / audio seconds) and the peak
# resident set size (getrusage of the child: ru_maxrss), and PASS / FAIL against the bar.
# The signal (pink noise with a 440 Hz tone) does not change the work: the network runs the
# same products on any audio. Takes about 5 minutes on a 2-core machine.
set -euo pipefail
LIMPID=${1:-build/limpid}
W=${2:-/tmp/limpid-denoise-bars}
RUNS=${3:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RT=$ROOT/models/rt/rt.lpm
HQ=$ROOT/models/hq/hq.lpm
mkdir -p "$W"
mk() { # seconds rate channels file
  [ -s "$4" ] || sox -q -n -r "$2" -c "$3" -b 16 "$4" synth "$1" pinknoise synth "$1" sine mix 440 vol 0.1
}
mk 60 48000 1 "$W/m60.wav"
mk 40 48000 1 "$W/m40.wav"
mk 120 48000 1 "$W/m120.wav"
mk 600 48000 1 "$W/m600.wav"
mk 600 44100 2 "$W/s600.wav"

# run LABEL SECONDS -- command...: wall time and peak RSS of the command (a child of python)
measure() {
  python3 - "$@" <<'EOF'
import os, resource, subprocess, sys, time
args = sys.argv[1:]
t = time.monotonic()
r = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.monotonic() - t
if r.returncode != 0:
    sys.stderr.write(r.stderr.decode(errors="replace"))
    sys.exit(r.returncode)
print("%.3f %d" % (wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
EOF
}

fail=0
echo "== real-time factor, 48 kHz mono, 60 s, 1 thread, start-up included ($RUNS runs, best and median)"
for m in rt hq; do
  model=$RT bar=0.05
  [ "$m" = hq ] && model=$HQ bar=1.0
  ws=()
  for i in $(seq "$RUNS"); do
    read -r wall _ < <(measure "$LIMPID" denoise --model "$model" --threads 1 -q --force \
      -o "$W/out_$m.wav" "$W/m60.wav")
    ws+=("$wall")
  done
  read -r best med < <(printf '%s\n' "${ws[@]}" | sort -g |
    awk '{a[NR]=$1} END{printf "%.4f %.4f\n", a[1]/60, a[int((NR+1)/2)]/60}')
  verdict=PASS
  awk -v r="$med" -v b="$bar" 'BEGIN{exit !(r > b)}' && { verdict=FAIL; fail=1; }
  printf '%-4s RTF best %s, median %s (walls %s s); bar <= %s: %s\n' "$m" "$best" "$med" \
    "${ws[*]}" "$bar" "$verdict"
done

echo "== peak memory (bar 200 MB)"
mem() { # label -- denoise arguments...
  local label=$1; shift
  rm -rf "$W/out" && mkdir -p "$W/out"
  read -r wall kb < <(measure "$LIMPID" denoise -q --force "$@")
  local verdict=PASS
  [ "$kb" -le 204800 ] || { verdict=FAIL; fail=1; }
  printf '%-44s %7.1f MB  %7.1f s  %s\n' "$label" "$(awk -v k="$kb" 'BEGIN{print k/1024}')" \
    "$wall" "$verdict"
}
mem "rt, 2 min mono (streamed)" --model "$RT" --threads 1 -o "$W/out/a.wav" "$W/m120.wav"
mem "rt, 10 min mono (streamed)" --model "$RT" --threads 1 -o "$W/out/a.wav" "$W/m600.wav"
mem "rt, 10 min stereo 44.1 kHz (streamed)" --model "$RT" --threads 1 -o "$W/out/a.wav" "$W/s600.wav"
mem "hq, 10 min mono (streamed)" --model "$HQ" --threads 1 -o "$W/out/a.wav" "$W/m600.wav"
mem "rt --steps 16, 2 min mono (blocks)" --model "$RT" --steps 16 --threads 1 -o "$W/out/a.wav" "$W/m120.wav"
mem "rt --steps 16, 10 min mono (blocks)" --model "$RT" --steps 16 --threads 1 -o "$W/out/a.wav" "$W/m600.wav"
mem "rt --steps 16, 2 files, --jobs 2 (blocks)" --model "$RT" --steps 16 --jobs 2 --outdir "$W/out" "$W/m120.wav" "$W/m40.wav"
mem "rt --sampler ddpm (50 steps), 40 s mono (blocks)" --model "$RT" --sampler ddpm --threads 1 -o "$W/out/a.wav" "$W/m40.wav"
[ "$fail" -eq 0 ] && echo "all bars met" || echo "some bar FAILED"
exit "$fail"
