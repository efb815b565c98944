#!/usr/bin/env bash
# test_generate.sh - end-to-end tests of `limpid generate` with a tiny texture model trained
# here in seconds on two synthetic classes ("hum": a 100 Hz tone; "rain": noise with random
# clicks, 16 kHz).
#
# usage: bash tests/test_generate.sh PATH_TO_LIMPID WORKDIR
#
# Checks: --list names both classes; exact lengths (short, and longer than one 20-s chunk),
# rate and channel count; the same seed gives the same file, another seed another file;
# --variations writes K distinct files; --stereo channels are decorrelated; --loop makes the
# jump from the last sample to the first as small as an ordinary sample step (a tone makes
# the seam measurable); --level sets the RMS; an existing output is refused without --force
# and left untouched; unknown textures, denoising models and bad options fail with clear
# messages. Prints "N passed, N failed"; exits non-zero when any check failed.
set -u

LIMPID=${1:?usage: test_generate.sh PATH_TO_LIMPID WORKDIR}
WORK=${2:?usage: test_generate.sh PATH_TO_LIMPID WORKDIR}
case $LIMPID in /*) ;; *) LIMPID=$PWD/$LIMPID ;; esac

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/       /' | head -20; }
check() { if eval "$2"; then ok "$1"; else bad "$1" "${3:-}"; fi; }

rm -rf "$WORK"
mkdir -p "$WORK/clean/hum" "$WORK/clean/rain" || exit 1
cd "$WORK" || exit 1

python3 - <<'EOF' || { echo "python3 failed to write the training files"; exit 1; }
import math, random, struct, wave
def write(path, x, sr=16000):
    with wave.open(path, "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(sr)
        w.writeframes(b"".join(struct.pack("<h", max(-32767, min(32767, int(v * 32767)))) for v in x))
r = random.Random(1)
for i in range(3):
    rain = []
    for n in range(16000 * 3):
        v = 0.05 * r.gauss(0, 1)
        if r.random() < 0.002:
            v += r.choice((-1, 1)) * 0.6
        rain.append(v)
    write(f"clean/rain/r{i}.wav", rain)
    write(f"clean/hum/h{i}.wav", [0.3 * math.sin(2 * math.pi * 100 * n / 16000) + 0.005 * r.gauss(0, 1) for n in range(16000 * 3)])
EOF

# sample statistics of a WAV with python (mono or stereo, 16/24-bit PCM via soundfile-free
# parsing: the outputs are 24-bit WAV)
stats() {
python3 - "$@" <<'EOF'
import struct, sys, wave, math
w = wave.open(sys.argv[1]); ch = w.getnchannels(); sw = w.getsampwidth(); n = w.getnframes()
raw = w.readframes(n)
def s24(b): 
    v = b[0] | (b[1] << 8) | (b[2] << 16)
    return (v - (1 << 24) if v & 0x800000 else v) / 8388608.0
x = [s24(raw[i:i+3]) for i in range(0, len(raw), 3)] if sw == 3 else [v / 32768.0 for v in struct.unpack("<%dh" % (len(raw)//2), raw)]
chans = [x[c::ch] for c in range(ch)]
what = sys.argv[2]
if what == "info":
    print(w.getframerate(), ch, n)
elif what == "rms":
    a = chans[0]; print(20 * math.log10(math.sqrt(sum(v*v for v in a) / len(a)) + 1e-20))
elif what == "corr":
    a, b = chans[0], chans[1]
    ma, mb = sum(a)/len(a), sum(b)/len(b)
    num = sum((p-ma)*(q-mb) for p, q in zip(a, b))
    den = math.sqrt(sum((p-ma)**2 for p in a) * sum((q-mb)**2 for q in b)) + 1e-20
    print(abs(num / den))
elif what == "seam":  # |last -> first| / median |step|
    a = chans[0]; steps = sorted(abs(a[i+1]-a[i]) for i in range(len(a)-1))
    med = steps[len(steps)//2] + 1e-12
    print(abs(a[0] - a[-1]) / med)
elif what == "maxstep":  # largest |step| / median |step|
    a = chans[0]; steps = sorted(abs(a[i+1]-a[i]) for i in range(len(a)-1))
    print(steps[-1] / (steps[len(steps)//2] + 1e-12))
EOF
}

if ! nice "$LIMPID" train --task texture --preset tiny --clean clean --steps 150 --seed 2 \
        -o tex.lpm >train.log 2>&1; then
    bad "train a tiny texture model" "$(tail -5 train.log)"
    echo "$pass passed, $fail failed"
    exit 1
fi
ok "train a tiny texture model"

out=$("$LIMPID" generate --list --model tex.lpm 2>&1)
check "--list names the classes" 'echo "$out" | grep -q "hum" && echo "$out" | grep -q "rain"' "$out"

G() { "$LIMPID" generate --model tex.lpm -q "$@"; }
G --texture rain --seconds 2.5 -o a.wav && G --texture rain --seconds 2.5 -o b.wav &&
    G --texture rain --seconds 2.5 --seed 7 -o c.wav
check "short file: rate, channels, exact length" '[ "$(stats a.wav info)" = "16000 1 40000" ]' "$(stats a.wav info)"
check "same seed, same file" 'cmp -s a.wav b.wav'
check "another seed, another file" '! cmp -s a.wav c.wav'

G --texture rain --seconds 43.21 -o long.wav
check "long file (3 chunks): exact length" '[ "$(stats long.wav info)" = "16000 1 691360" ]' "$(stats long.wav info)"

G --texture rain --seconds 1 --variations 3 -o var.wav
check "--variations writes K files" '[ -f var-1.wav ] && [ -f var-2.wav ] && [ -f var-3.wav ] && [ ! -f var.wav ]'
check "--variations: the files differ" '! cmp -s var-1.wav var-2.wav && ! cmp -s var-2.wav var-3.wav'

G --texture rain --seconds 3 --stereo -o st.wav
c=$(stats st.wav corr)
check "--stereo: 2 channels, decorrelated (|r| = $c < 0.3)" '[ "$(stats st.wav info)" = "16000 2 48000" ] && python3 -c "import sys; sys.exit(0 if $c < 0.3 else 1)"'

# A model of STFT magnitudes (features = magnitude: audio with random phase, all T steps by
# default): repeatable for a seed, another seed another file, stereo decorrelated, not silent
printf 'features = magnitude\nfeature_norm = class\n' > mag.cfg
if nice "$LIMPID" train --task texture --preset tiny --config mag.cfg --clean clean --steps 60 \
        --seed 3 -o mag.lpm >train_mag.log 2>&1; then
    ok "train a tiny magnitude texture model"
    out=$("$LIMPID" info mag.lpm 2>&1)
    check "info names the magnitude features" 'echo "$out" | grep -q "magnitude features"' "$out"
    M() { "$LIMPID" generate --model mag.lpm -q "$@"; }
    M --texture rain --seconds 2 -o ma.wav && M --texture rain --seconds 2 -o mb.wav &&
        M --texture rain --seconds 2 --seed 5 -o mc.wav && M --texture rain --seconds 2 --stereo -o ms.wav
    check "magnitude model: exact length" '[ "$(stats ma.wav info)" = "16000 1 32000" ]' "$(stats ma.wav info)"
    check "magnitude model: same seed, same file" 'cmp -s ma.wav mb.wav'
    check "magnitude model: another seed, another file" '! cmp -s ma.wav mc.wav'
    l=$(stats ma.wav rms); c=$(stats ms.wav corr)
    check "magnitude model: not silent ($l dBFS), stereo |r| = $c < 0.3" \
        'python3 -c "import sys; sys.exit(0 if $l > -60 and $c < 0.3 else 1)"'
else
    bad "train a tiny magnitude texture model" "$(tail -5 train_mag.log)"
fi

# Joins and the loop seam, seen with the tone test hook: every chunk is a 100 Hz tone of its
# own phase, so an unfaded join or seam is a phase jump, many times an ordinary sample step
# (tens of median steps); within a tone the largest step is about 1.4 median steps, and the
# equal-power crossfade of two phases raises it by up to sqrt(2): bound 3.
T() { LIMPID_GENERATE_TEST_TONE=1 "$LIMPID" generate --model tex.lpm -q "$@"; }
T --texture hum --seconds 2.013 --loop -o loop.wav
T --texture hum --seconds 2.013 -o noloop.wav
s1=$(stats loop.wav seam); s0=$(stats noloop.wav seam)
check "--loop: the seam (end -> start) is an ordinary step ($s1 x median step; without --loop $s0)" \
    'python3 -c "import sys; sys.exit(0 if $s1 < 3 and $s0 > 5 else 1)"'
T --texture hum --seconds 45 -o joins.wav
j=$(stats joins.wav maxstep)
check "chunk joins are crossfaded: largest step $j x the median step" \
    'python3 -c "import sys; sys.exit(0 if $j < 3 else 1)"'
T --texture hum --seconds 45 --loop -o joinsl.wav
s2=$(stats joinsl.wav seam)
check "--loop on a multi-chunk file: seam $s2 x median step" \
    'python3 -c "import sys; sys.exit(0 if $s2 < 3 else 1)"'

G --texture rain --seconds 2 --level -30 -o lev.wav
l=$(stats lev.wav rms)
check "--level -30 gives about -30 dBFS RMS ($l)" 'python3 -c "import sys; sys.exit(0 if abs($l + 30) < 1.5 else 1)"'

G --texture rain --seconds 1 -o FLAC.flac && G --texture rain --seconds 1 -o OGG.ogg
check "FLAC and Ogg outputs" '[ -s FLAC.flac ] && [ -s OGG.ogg ] && [ "$(head -c 4 FLAC.flac)" = fLaC ] && [ "$(head -c 4 OGG.ogg)" = OggS ]'

sum=$(sha256sum a.wav)
err=$("$LIMPID" generate --model tex.lpm --texture rain --seconds 1 -o a.wav 2>&1); rc=$?
check "existing output refused without --force, untouched" '[ $rc -ne 0 ] && echo "$err" | grep -q "exists" && [ "$(sha256sum a.wav)" = "$sum" ]' "$err"
G --texture rain --seconds 1 --force -o a.wav
check "--force overwrites" '[ "$(stats a.wav info)" = "16000 1 16000" ]'
check "no temporary files left" '[ -z "$(ls | grep tmp-)" ]'

err=$("$LIMPID" generate --model tex.lpm --texture lava --seconds 1 -o x.wav 2>&1); rc=$?
check "unknown texture: clear error" '[ $rc -eq 1 ] && echo "$err" | grep -q "no texture .lava." && [ ! -e x.wav ]' "$err"
printf 'lookahead = 0\n' >causal.cfg
"$LIMPID" train --task denoise --preset tiny --clean clean/hum --noise clean/rain --steps 5 -o dn.lpm >/dev/null 2>&1
err=$("$LIMPID" generate --model dn.lpm --seconds 1 -o x.wav 2>&1); rc=$?
check "a denoising model is refused" '[ $rc -eq 1 ] && echo "$err" | grep -q "not a texture model" && [ ! -e x.wav ]' "$err"
err=$("$LIMPID" generate --model tex.lpm --texture rain -o x.wav 2>&1); rc=$?
check "missing --seconds: usage error" '[ $rc -eq 2 ] && echo "$err" | grep -q "seconds"' "$err"
err=$("$LIMPID" generate --model tex.lpm --texture rain --seconds -3 -o x.wav 2>&1); rc=$?
check "negative --seconds: usage error" '[ $rc -eq 2 ]' "$err"
err=$("$LIMPID" generate --model nonexistent.lpm --texture rain --seconds 1 -o x.wav 2>&1); rc=$?
check "missing model file: names it" '[ $rc -eq 1 ] && echo "$err" | grep -q "nonexistent.lpm"' "$err"

head -c 3000 tex.lpm >cut.lpm
err=$("$LIMPID" generate --model cut.lpm --seconds 1 -o x.wav 2>&1); rc=$?
check "truncated model: clear error naming it, no output" '[ $rc -eq 1 ] && echo "$err" | grep -q "cut.lpm" && [ ! -e x.wav ] && [ -z "$(ls | grep tmp-)" ]' "$err"
printf 'not a model\n' >text.lpm
err=$("$LIMPID" generate --model text.lpm --seconds 1 -o x.wav 2>&1); rc=$?
check "a text file as model: clear error, no output" '[ $rc -eq 1 ] && echo "$err" | grep -q "text.lpm" && [ ! -e x.wav ]' "$err"
mkdir -p outdir
err=$("$LIMPID" generate --model tex.lpm --texture rain --seconds 1 -o outdir 2>&1); rc=$?
check "a folder as output: refused, folder untouched" '[ $rc -ne 0 ] && [ -d outdir ] && [ -z "$(ls outdir)" ]' "$err"
sum=$(sha256sum tex.lpm)
err=$("$LIMPID" generate --model tex.lpm --texture rain --seconds 1 --force -o tex.lpm 2>&1); rc=$?
check "the model as output: refused even with --force, model untouched" '[ $rc -ne 0 ] && [ "$(sha256sum tex.lpm)" = "$sum" ]' "$err"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
