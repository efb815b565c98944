#!/usr/bin/env bash
# tsan.sh - the multithreaded paths under ThreadSanitizer: zero reports required.
#
# usage: bash tests/tsan.sh BUILD_DIR WORKDIR
#   BUILD_DIR: configured with CC=clang cmake -DLIMPID_TSAN=ON (see CMakeLists.txt for why
#   clang) and built.
#
# Runs: test_stream (streams in 4 threads sharing one model), test_train (the trainer's
# OpenMP item preparation at 2 threads; libomp's Archer
# tells TSan about OpenMP's barriers), `limpid train --threads 2` with its prefetch thread,
# validation, checkpoints, a resume and a Ctrl-C, and `limpid denoise --jobs 2/3` on files at
# several rates (both resamplers), a bad file (the failure path) and a Ctrl-C. Every run
# must end as it should and print no ThreadSanitizer report (TSan exits 66 on one).
# No suppressions: a report is a bug to fix. Prints "N passed, N failed".
set -u

B=${1:?usage: tsan.sh BUILD_DIR WORKDIR}
WORK=${2:?usage: tsan.sh BUILD_DIR WORKDIR}
B=$(cd "$B" && pwd) || exit 1
LIMPID=$B/limpid

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/       /' | head -40; }

[ -x "$LIMPID" ] && [ -x "$B/test_train" ] || { echo "no limpid / test_train in $B"; exit 1; }
nm "$LIMPID" 2>/dev/null | grep -q __tsan_init || { echo "$LIMPID is not built with -DLIMPID_TSAN=ON"; exit 1; }

# ignore_noninstrumented_modules: accesses made inside uninstrumented libraries (libomp,
# OpenBLAS, libsndfile) through intercepted calls are not ours to judge (Archer asks for it)
export TSAN_OPTIONS="ignore_noninstrumented_modules=1 halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}"
# TSan's memory layout needs the usual 28 bits of mmap randomisation; without ASLR it fits
# whatever the kernel's setting
RUN=()
setarch "$(uname -m)" -R true 2>/dev/null && RUN=(setarch "$(uname -m)" -R)

rm -rf "$WORK"
mkdir -p "$WORK" || exit 1
cd "$WORK" || exit 1

# check NAME EXPECTED_RC LOG: the run ended with EXPECTED_RC and LOG holds no report
check() {
    local name=$1 want=$2 rc=$3 log=$4
    if [ "$rc" -eq "$want" ] && ! grep -q "ThreadSanitizer" "$log"; then
        ok "$name"
    else
        bad "$name (exit $rc, expected $want)" "$(grep -A30 -m1 "WARNING: ThreadSanitizer" "$log" || tail -20 "$log")"
    fi
}

# ---- the trainer's unit tests -------------------------------------------------------------------
mkdir -p tt
LIMPID_TEST_DIR=$PWD/tt CK_DEFAULT_TIMEOUT=600 "${RUN[@]}" "$B/test_train" >test_train.log 2>&1
check "test_train" 0 $? test_train.log

# ---- streams in threads sharing one model (plugin instances, live channels) ---------------------
if [ -x "$B/test_stream" ]; then
    CK_RUN_CASE=core CK_DEFAULT_TIMEOUT=600 "${RUN[@]}" "$B/test_stream" >test_stream.log 2>&1
    check "test_stream (streams in 4 threads sharing one model)" 0 $? test_stream.log
else
    bad "test_stream not built in $B"
fi

# ---- limpid train: prefetch thread, OpenMP item preparation, validation, checkpoints -----------------
mkdir -p clean noise in
sox -R -n -r 16000 -c 1 clean/a.wav synth 1 sine 440 vol 0.5 &&
sox -R -n -r 16000 -c 1 clean/b.wav synth 1 sine 200-2000 vol 0.5 &&
sox -R -n -r 22050 -c 2 clean/c.wav synth 1 sine 700 sine 900 vol 0.5 &&
sox -R -n -r 16000 -c 1 noise/w.wav synth 1 whitenoise vol 0.3 &&
sox -R -n -r 44100 -c 1 noise/p.wav synth 1 pinknoise vol 0.3 ||
    { echo "sox failed"; exit 1; }
TRAIN=(train --task denoise --preset tiny --batch 4 --crop 0.25 --rate 16000 --threads 2
       --clean clean --noise noise --val-every 10 --ckpt-every 10)
"${RUN[@]}" "$LIMPID" "${TRAIN[@]}" --steps 30 --stop-at 20 -o m.lpd >train.log 2>&1
check "limpid train --threads 2 (prefetch, validation, checkpoints)" 0 $? train.log
"${RUN[@]}" "$LIMPID" train --resume m.lpd.ckpt --clean clean --noise noise --threads 2 \
    --val-every 10 -o m.lpd >resume.log 2>&1
check "limpid train --resume" 0 $? resume.log
"${RUN[@]}" "$LIMPID" "${TRAIN[@]}" --steps 1000000 --val-every 0 --ckpt-every 0 -o int.lpd >int.log 2>&1 &
pid=$!
for _ in $(seq 1 600); do # until steps run (the first progress line, at step 50)
    grep -q "^step " int.log 2>/dev/null && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
done
kill -INT $pid 2>/dev/null
wait $pid
check "limpid train: Ctrl-C while the prefetch thread works" 130 $? int.log

# ---- limpid denoise --jobs: worker threads, shared model, progress, failures -------------------------
for r in 8000 16000 44100 48000; do
    sox -R -n -r $r -c 2 in/s$r.wav synth 0.7 sine 300 sine 500 vol 0.4 || exit 1
done
sox -R -n -r 16000 -c 1 in/one_src.wav synth 0.01 sine 440 && sox in/one_src.wav in/one.wav trim 10s 1s
echo "not audio" >in/bad.wav
"${RUN[@]}" "$LIMPID" denoise --model m.lpd --threads 1 --jobs 2 --steps 2 in/*.wav --outdir out2 >dn2.log 2>&1
check "limpid denoise --jobs 2 (6 files, one bad)" 1 $? dn2.log
"${RUN[@]}" "$LIMPID" denoise --model m.lpd --jobs 3 --sampler ddpm --steps 2 in/s*.wav --outdir out3 >dn3.log 2>&1
check "limpid denoise --jobs 3 --sampler ddpm" 0 $? dn3.log
sox -R -n -r 16000 -c 1 long.wav synth 30 sine 440 vol 0.3 && cp long.wav long2.wav
"${RUN[@]}" "$LIMPID" denoise --model m.lpd --jobs 2 --steps 4 --block 1 long.wav long2.wav --outdir outi >dni.log 2>&1 &
pid=$!
for _ in $(seq 1 600); do
    ls outi/*.tmp-* >/dev/null 2>&1 && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.05
done
sleep 0.5
kill -INT $pid 2>/dev/null
wait $pid
check "limpid denoise --jobs 2: Ctrl-C" 130 $? dni.log

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
