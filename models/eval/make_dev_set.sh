#!/usr/bin/env bash
# Build limpid's dev test set from the dev split of models/data/build_corpus.sh: held-out
# voices (real and synthetic) and music, mixed with held-out noise types at 0, 5, 10 and
# 15 dB SNR. Deterministic (sox -R: fixed dither seed), every mixture exactly as long as its
# clean file. Writes DEST/{clean,noisy}/{speech,music}/NAME.wav (48 kHz mono) and
# DEST/mixtures.tsv (each mixture's SNR, noise type and noise file; see breakdown.py).
#
# Usage: [DEV_NOISE=noise_sfx] [DEV_SPEECH=clean_speech_tp] [DEV_MUSIC=none]
#        bash models/eval/make_dev_set.sh CORPUS DEST [ITEMS_PER_SOURCE]
# DEV_NOISE: the folder under CORPUS/dev that holds the noise (default noise: the dev set of
# every model card; noise_sfx: held-out game sound effects, session 8's second dev set), or an
# absolute path (symbolic links followed: a folder of links to some of CORPUS/noise/real's
# sources builds a set under training noise, to tell what a model fails to learn from what
# fails to generalise; session 13).
# DEV_SPEECH, DEV_MUSIC: the folders under CORPUS/dev that hold the clean speech and music
# (defaults clean_speech and clean_music; none: no clips of that group), or absolute paths
# (a folder of links to some of CORPUS/clean's voices builds a set of *training* voices;
# session 14). Session 12's third
# dev set: DEV_SPEECH=clean_speech_tp DEV_NOISE=noise_sfx DEV_MUSIC=none, 12 items per source
# (held-out real full-band voices under held-out recorded sound effects).
set -euo pipefail
CORPUS=${1:?corpus folder (built by models/data/build_corpus.sh)}
DEST=${2:?output folder}
PER=${3:-2}
MAXDUR=8
DEV_NOISE=${DEV_NOISE:-noise}
case $DEV_NOISE in /*) NOISE_DIR=$DEV_NOISE ;; *) NOISE_DIR=$CORPUS/dev/$DEV_NOISE ;; esac
DEV_SPEECH=${DEV_SPEECH:-clean_speech}
DEV_MUSIC=${DEV_MUSIC:-clean_music}
mkdir -p "$DEST"/{clean,noisy}/{speech,music}
mapfile -t NOISES < <(find -L "$NOISE_DIR" -name '*.wav' | sort)
[ ${#NOISES[@]} -gt 0 ] || { echo "no dev noise in $NOISE_DIR" >&2; exit 1; }
rms() { sox "$1" -n stat 2>&1 | awk '/RMS +amplitude/{print $3}'; }
NT=$(mktemp --suffix=.wav "$DEST/.noise-XXXXXX") # per run: two runs into one DEST must not share it
trap 'rm -f "$NT"' EXIT
MAN="$DEST/mixtures.tsv" # one line per mixture: file, SNR, noise type (source folder), noise file
printf 'file\tsnr_db\tnoise_type\tnoise_file\n' > "$MAN"
k=0
mix() { # kind clean_file name
  local kind=$1 f=$2 name=$3
  local snr=$(( (k % 4) * 5 ))
  local nf=${NOISES[$(( (k * 7) % ${#NOISES[@]} ))]}
  k=$((k+1))
  local c="$DEST/clean/$kind/$name-${snr}dB.wav"
  sox -q -R "$f" -r 48000 -c 1 -b 16 "$c" trim 0 "$MAXDUR" vol 0.4 # headroom for the mix
  local d; d=$(soxi -D "$c")
  local ns; ns=$(soxi -s "$c") # the noise and the mixture are cut to exactly this many samples
  local nd; nd=$(soxi -D "$nf")
  local off; off=$(awk -v a="$nd" -v b="$d" -v k="$k" 'BEGIN{r=a-b; if(r<0) r=0; printf "%.3f", (k*0.6180339887 - int(k*0.6180339887))*r}')
  # enough repeats of the stretch from off to cover the clip even when the noise file is short
  local reps; reps=$(awk -v a="$nd" -v o="$off" -v b="$d" 'BEGIN{s=a-o; if(s>b) s=b; print (s>0) ? int(b/s)+1 : 1}')
  sox -q -R "$nf" -r 48000 -c 1 -b 32 -e float "$NT" trim "$off" "$d" repeat "$reps" trim 0 "${ns}s"
  local rc rn; rc=$(rms "$c"); rn=$(rms "$NT")
  local v; v=$(awk -v a="$rc" -v b="$rn" -v s="$snr" 'BEGIN{printf "%.6f", (a/exp(log(10)*s/20))/(b+1e-12)}')
  sox -q -R -m "$c" -v "$v" "$NT" -b 16 "$DEST/noisy/$kind/$name-${snr}dB.wav" trim 0 "${ns}s"
  printf '%s\t%s\t%s\t%s\n' "$kind/$name-${snr}dB.wav" "$snr" \
    "$(basename "$(dirname "$nf")")" "${nf#"$NOISE_DIR"/}" >> "$MAN"
}
cdir() { case $1 in /*) printf '%s' "$1" ;; *) printf '%s' "$CORPUS/dev/$1" ;; esac; }
for d in "$DEV_SPEECH" "$DEV_MUSIC"; do
  [ "$d" = none ] || [ -d "$(cdir "$d")" ] || { echo "no folder $(cdir "$d")" >&2; exit 1; }
done
group() { # group KIND FOLDER STRIDE: of each source folder under CORPUS/dev/FOLDER, every
          # STRIDE-th clip in sorted order, at most PER (FOLDER none: nothing there, no clips)
  local kind=$1 dir=$2 stride=$3 src s f
  [ "$dir" = none ] && return 0
  for src in "$(cdir "$dir")"/*/; do
    [ -d "$src" ] || continue
    s=$(basename "$src")
    while read -r f; do mix "$kind" "$f" "$s-$(basename "$f" .wav)"; done < <(
      find "$src" -name '*.wav' | sort | awk -v p="$PER" -v k="$stride" 'NR%k==1 && n<p {print; n++}')
  done
}
group speech "$DEV_SPEECH" 7
group music "$DEV_MUSIC" 5
echo "dev set: $(find "$DEST/noisy" -name '*.wav' | wc -l) mixtures in $DEST"
