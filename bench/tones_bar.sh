#!/usr/bin/env bash
# Issue 2's training bar: `limpid train` with the small preset on tones-in-noise data must
# raise the SNR of unseen tone mixtures by >= 10 dB after 2 minutes of training on 2 cores.
#
# Usage: bash bench/tones_bar.sh [LIMPID_BINARY] [WORKDIR] [MINUTES]
# Prints the measured SNR / SI-SDR improvement (limpid eval) and the training figures.
set -euo pipefail
LIMPID=${1:-build/limpid}
W=${2:-/tmp/limpid-tones-bar}
MIN=${3:-2}
RATE=16000
rm -rf "$W" && mkdir -p "$W"/{clean,noise,test/clean,test/noisy,test/out}
# Deterministic tone files: 1-3 steady sines, 150..3000 Hz, random amplitudes and lengths.
tones() { # seed count dir
  awk -v s="$1" -v n="$2" 'BEGIN{srand(s); for(i=0;i<n;i++){k=1+int(rand()*3); line="";
    for(j=0;j<k;j++) line=line sprintf(" sine %.1f", 150+rand()*2850);
    printf "%d %.2f %.3f%s\n", i, 2+rand()*4, 0.1+rand()*0.4, line}}' |
  while read -r i dur amp synth; do
    sox -q -n -r $RATE -b 16 -c 1 "$3/tone$i.wav" synth "$dur" $synth remix - norm -6 vol "$amp"
  done
}
tones 1 60 "$W/clean"
for i in 0 1 2 3; do sox -q -n -r $RATE -b 16 -c 1 "$W/noise/white$i.wav" synth 30 whitenoise vol 0.5; done
# Unseen test mixtures at 0, 5 and 10 dB SNR.
tones 99 12 "$W/test/clean"
i=0
for f in "$W"/test/clean/*.wav; do
  snr=$(( (i % 3) * 5 )); i=$((i+1))
  rms=$(sox "$f" -n stat 2>&1 | awk '/RMS +amplitude/{print $3}')
  d=$(soxi -D "$f")
  nrms=$(awk -v r="$rms" -v s="$snr" 'BEGIN{printf "%.6f", r/exp(log(10)*s/20)}')
  sox -q -n -r $RATE -b 32 -e float -c 1 "$W/n.wav" synth "$d" whitenoise
  nr=$(sox "$W/n.wav" -n stat 2>&1 | awk '/RMS +amplitude/{print $3}')
  sox -q -m "$f" -v "$(awk -v a="$nrms" -v b="$nr" 'BEGIN{printf "%.6f", a/b}')" "$W/n.wav" \
      -b 16 "$W/test/noisy/$(basename "$f")"
done
echo "== training: $LIMPID train --task denoise --preset small --rate $RATE --minutes $MIN"
START=$(date +%s)
"$LIMPID" train --task denoise --clean "$W/clean" --noise "$W/noise" --preset small \
  --rate $RATE --minutes "$MIN" --snr -5:15 --seed 1 -o "$W/tones.lpm" 2>&1 | tail -n 3
echo "training wall time: $(( $(date +%s) - START )) s"
"$LIMPID" info "$W/tones.lpm" | head -n 12
"$LIMPID" denoise --model "$W/tones.lpm" --outdir "$W/test/out" -q "$W"/test/noisy/*.wav
"$LIMPID" eval --clean "$W/test/clean" --enhanced "$W/test/out" --noisy "$W/test/noisy" \
  --json "$W/eval.json"
