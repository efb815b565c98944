#!/usr/bin/env bash
# test_make_dev_set.sh - end-to-end tests of models/eval/make_dev_set.sh, the script that mixes
# every dev set of the model cards.
#
# usage: bash tests/test_make_dev_set.sh PATH_TO_LIMPID WORKDIR
#
# Makes a tiny corpus with sox in WORKDIR (the dev/ folders build_corpus.sh writes: two speech
# sources, a third dev set's speech folder, music, two noise folders; tones and seeded noise)
# and checks: the default set takes the clips of clean_speech and clean_music, mixes them at
# 0, 5, 10 and 15 dB in turn (each mixture's SNR measured with `limpid eval` within 0.05 dB,
# each as long as its clean clip), names noise type and file in mixtures.tsv; DEV_SPEECH,
# DEV_MUSIC=none and DEV_NOISE choose the folders (no music clips, the other speech and noise;
# DEV_NOISE also as an absolute path through symbolic links);
# a missing folder fails with its name; two builds are byte-identical. Prints "N passed, N
# failed"; exits non-zero when any check failed.
set -u

LIMPID=${1:?usage: test_make_dev_set.sh PATH_TO_LIMPID WORKDIR}
WORK=${2:?usage: test_make_dev_set.sh PATH_TO_LIMPID WORKDIR}
case $LIMPID in /*) ;; *) LIMPID=$PWD/$LIMPID ;; esac
SCRIPT=$(cd "$(dirname "$0")/.." && pwd)/models/eval/make_dev_set.sh

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/       /' | head -20; }

[ -x "$LIMPID" ] || { echo "limpid executable '$LIMPID' not found"; exit 1; }
command -v sox >/dev/null 2>&1 || { echo "sox is needed to make the test corpus"; exit 1; }

rm -rf "$WORK"
mkdir -p "$WORK" || exit 1
cd "$WORK" || exit 1

# ---- a tiny corpus: CORPUS/dev/{clean_speech,clean_speech_tp,clean_music,noise,noise_sfx}
C=$WORK/corpus
mk() { # mk FILE SECONDS SYNTH-ARGS...
    local f=$1 d=$2; shift 2
    mkdir -p "$(dirname "$f")" && sox -R -n -r 48000 -c 1 -b 16 "$f" synth "$d" "$@" vol 0.5
}
for i in 0 1 2 3 4 5 6 7; do # 8 clips per speech source: the script takes every 7th
    mk "$C/dev/clean_speech/voice_a/a_$i.wav" 2 sine $((300 + 20 * i)) tremolo 4 90
    mk "$C/dev/clean_speech/voice_b/b_$i.wav" 2.5 sine $((500 + 10 * i)) tremolo 3 80
    mk "$C/dev/clean_speech_tp/voice_c/c_$i.wav" 1.5 sine $((700 + 10 * i)) tremolo 5 90
done
for i in 0 1 2 3 4 5; do # every 5th
    mk "$C/dev/clean_music/piece/m_$i.wav" 3 sine $((220 + 55 * i)) sine $((330 + 55 * i))
done
mk "$C/dev/noise/hiss/h0.wav" 4 whitenoise
mk "$C/dev/noise/rumble/r0.wav" 1 brownnoise
mk "$C/dev/noise_sfx/bursts/s0.wav" 5 pinknoise tremolo 2 100
[ -f "$C/dev/noise_sfx/bursts/s0.wav" ] || { echo "sox failed to write the test corpus"; exit 1; }

# SNR of NOISY against CLEAN by `limpid eval` (its "snr" of the noisy file)
snr_of() { # snr_of CLEAN_DIR NOISY_DIR -> "file snr" lines
    "$LIMPID" eval --clean "$1" --enhanced "$2" --json "$WORK/eval.json" >/dev/null 2>&1 &&
        python3 -c "import json; [print(f['file'], f['snr']) for f in json.load(open('$WORK/eval.json'))['files']]"
}

# ---- the default set
out=$(bash "$SCRIPT" "$C" d1 2 2>&1)
n_sp=$(find d1/noisy/speech -name '*.wav' | wc -l)
n_mu=$(find d1/noisy/music -name '*.wav' | wc -l)
# voice_a: 8 clips -> 0 and 7; voice_b the same; music: 6 clips -> 0 and 5
if [ "$n_sp" = 4 ] && [ "$n_mu" = 2 ]; then ok "default: 4 speech and 2 music mixtures"
else bad "default: 4 speech and 2 music mixtures (got $n_sp and $n_mu)" "$out"; fi
if [ "$(find d1/clean -name '*.wav' | wc -l)" = 6 ]; then ok "default: a clean file per mixture"
else bad "default: a clean file per mixture"; fi
if ! ls d1/noisy/speech | grep -q voice_c; then ok "default: not the third set's speech"
else bad "default: not the third set's speech"; fi
if tail -n +2 d1/mixtures.tsv | cut -f2 | tr '\n' ' ' | grep -qx '0 5 10 15 0 5 '; then
    ok "SNRs 0, 5, 10, 15 dB in turn"
else bad "SNRs 0, 5, 10, 15 dB in turn" "$(cat d1/mixtures.tsv)"; fi
if tail -n +2 d1/mixtures.tsv | cut -f3 | grep -qvE '^(hiss|rumble)$'; then
    bad "noise types are the noise folders" "$(cat d1/mixtures.tsv)"
else ok "noise types are the noise folders"; fi
meas=$(snr_of d1/clean d1/noisy)
worst=$(printf '%s\n' "$meas" | while read -r f s; do
    want=$(grep -F "$f" d1/mixtures.tsv | cut -f2)
    python3 -c "print(abs($s - $want))"
done | sort -g | tail -1)
if [ -n "$meas" ] && python3 -c "import sys; sys.exit(0 if $worst < 0.05 else 1)"; then
    ok "measured SNRs within 0.05 dB of the names (worst $worst)"
else bad "measured SNRs within 0.05 dB of the names (worst ${worst:-none})" "$meas"; fi
len_bad=0
for f in $(cd d1/noisy && find . -name '*.wav'); do
    [ "$(soxi -s "d1/noisy/$f")" = "$(soxi -s "d1/clean/$f")" ] || len_bad=1
done
if [ $len_bad = 0 ]; then ok "every mixture as long as its clean clip"
else bad "every mixture as long as its clean clip"; fi

# ---- deterministic
bash "$SCRIPT" "$C" d1b 2 >/dev/null 2>&1
if (cd d1 && find . -type f ! -name '.noise-*' | sort | xargs md5sum) >a.md5 &&
   (cd d1b && find . -type f ! -name '.noise-*' | sort | xargs md5sum) >b.md5 && cmp -s a.md5 b.md5; then
    ok "two builds are byte-identical"
else bad "two builds are byte-identical" "$(diff a.md5 b.md5)"; fi

# ---- the third dev set's folders
out=$(DEV_SPEECH=clean_speech_tp DEV_NOISE=noise_sfx DEV_MUSIC=none bash "$SCRIPT" "$C" d3 2 2>&1)
rc=$?
n_sp=$(find d3/noisy/speech -name '*.wav' 2>/dev/null | wc -l)
n_mu=$(find d3/noisy/music -name '*.wav' 2>/dev/null | wc -l)
if [ $rc = 0 ] && [ "$n_sp" = 2 ] && [ "$n_mu" = 0 ] && ls d3/noisy/speech | grep -q '^voice_c-'; then
    ok "DEV_SPEECH / DEV_MUSIC=none: the chosen speech only, no music"
else bad "DEV_SPEECH / DEV_MUSIC=none: the chosen speech only, no music (rc $rc, $n_sp / $n_mu)" "$out"; fi
if tail -n +2 d3/mixtures.tsv | cut -f3 | grep -qvx bursts; then
    bad "DEV_NOISE: the chosen noise folder" "$(cat d3/mixtures.tsv)"
else ok "DEV_NOISE: the chosen noise folder"; fi

# ---- DEV_NOISE as an absolute path: a folder of links to noise sources (followed), the
# file column relative to it
mkdir -p linked && ln -s "$C/dev/noise_sfx/bursts" linked/bursts
out=$(DEV_NOISE=$WORK/linked DEV_MUSIC=none bash "$SCRIPT" "$C" d6 2 2>&1)
rc=$?
if [ $rc = 0 ] && [ "$(tail -n +2 d6/mixtures.tsv | cut -f3,4 | sort -u)" = "$(printf 'bursts\tbursts/s0.wav')" ]; then
    ok "DEV_NOISE as an absolute path through links"
else bad "DEV_NOISE as an absolute path through links (rc $rc)" "$out
$(cat d6/mixtures.tsv 2>/dev/null)"; fi

# ---- DEV_SPEECH as an absolute path: a folder of links to voices (followed)
mkdir -p lvoices && ln -s "$C/dev/clean_speech_tp/voice_c" lvoices/voice_c
out=$(DEV_SPEECH=$WORK/lvoices DEV_MUSIC=none bash "$SCRIPT" "$C" d7 2 2>&1)
rc=$?
if [ $rc = 0 ] && [ "$(ls d7/noisy/speech | sed 's/-.*//' | sort -u)" = voice_c ] &&
   [ "$(find d7/noisy/speech -name '*.wav' | wc -l)" = 2 ]; then
    ok "DEV_SPEECH as an absolute path through links"
else bad "DEV_SPEECH as an absolute path through links (rc $rc)" "$out"; fi

# ---- errors
out=$(DEV_SPEECH=clean_speech_xx bash "$SCRIPT" "$C" d4 2 2>&1)
rc=$?
if [ $rc != 0 ] && printf '%s' "$out" | grep -q 'clean_speech_xx'; then ok "a missing speech folder fails by name"
else bad "a missing speech folder fails by name (rc $rc)" "$out"; fi
out=$(DEV_NOISE=nothing bash "$SCRIPT" "$C" d5 2 2>&1)
rc=$?
if [ $rc != 0 ] && printf '%s' "$out" | grep -q 'nothing'; then ok "a missing noise folder fails by name"
else bad "a missing noise folder fails by name (rc $rc)" "$out"; fi

echo "$pass passed, $fail failed"
[ $fail = 0 ]
