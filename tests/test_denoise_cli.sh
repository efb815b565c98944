#!/usr/bin/env bash
# test_denoise_cli.sh - end-to-end tests of `limpid denoise` and `limpid eval`.
#
# usage: bash tests/test_denoise_cli.sh PATH_TO_LIMPID WORKDIR
#
# Makes test files with sox in WORKDIR (mono 16 kHz 16-bit WAV, stereo 44.1 kHz FLAC, 48 kHz
# float WAV, 8-bit WAV, a 1-sample file, a 0.3 s file, a nested folder, a text file), trains
# a tiny model for a few seconds, then checks: outputs keep format, rate, channels and exact
# length; no overwrite without --force (a rerun prints "skip"); never writing to an input;
# -r keeps the folder structure; --jobs 2 gives the bytes of --jobs 1; seeds; a bad input
# fails by name while the batch goes on; NaN input; linked stereo channels; the resampling
# round trip is aligned (with the identity test hook LIMPID_DENOISE_IDENTITY=1, blocks and
# crossfades included); Ctrl-C; no temporary files left; inputs unchanged; eval on identical
# and on noisy folders (SI-SDR, STOI, ESTOI, monotonic in the noise level, JSON), and STOI /
# ESTOI against reference values from the authors' MATLAB code. Real-model outputs of
# resampled files are checked for alignment by cross-correlation; the shipped hq is found by name
# and denoises.
# Prints "N passed, N failed"; exits non-zero when any check failed. Runs use --threads 1.
set -u

LIMPID=${1:?usage: test_denoise_cli.sh PATH_TO_LIMPID WORKDIR}
WORK=${2:?usage: test_denoise_cli.sh PATH_TO_LIMPID WORKDIR}
case $LIMPID in /*) ;; *) LIMPID=$PWD/$LIMPID ;; esac

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/       /' | head -20; }

if [ ! -x "$LIMPID" ]; then
    echo "limpid executable '$LIMPID' not found"
    exit 1
fi
for tool in sox soxi python3; do
    if ! command -v $tool >/dev/null 2>&1; then
        echo "$tool is needed by this test"
        exit 1
    fi
done

rm -rf "$WORK"
mkdir -p "$WORK" || exit 1
cd "$WORK" || exit 1

# everything about a file's format that must survive: type, rate, channels, length in
# frames, encoding, bits
fmt() { local o; for o in t r c s e b; do printf '%s|' "$(soxi -$o "$1" 2>/dev/null)"; done; }
# python helper: read a file with sox as float32 frames
cat >pyaudio.py <<'EOF'
import array, subprocess, sys
def read(path):
    """(channels, interleaved float samples) of an audio file, through sox"""
    ch = int(subprocess.run(["soxi", "-c", path], capture_output=True, text=True).stdout)
    raw = subprocess.run(["sox", path, "-t", "f32", "-"], capture_output=True).stdout
    a = array.array("f")
    a.frombytes(raw)
    return ch, a
EOF

# ---- corpus -------------------------------------------------------------------------------------
# -R: repeatable noise
mkdir -p train/clean train/noise in/sub/deeper
sox -R -n -r 16000 -c 1 train/clean/tone.wav synth 2 sine 440 vol 0.5 &&
sox -R -n -r 16000 -c 1 train/clean/chirp.wav synth 2 sine 200-2000 vol 0.5 &&
sox -R -n -r 16000 -c 1 train/noise/white.wav synth 2 whitenoise vol 0.3 &&
sox -R -n -r 16000 -b 16 -c 1 in/mono16.wav synth 2 sine 440 vol 0.4 &&
sox -R -n -r 44100 -c 2 in/stereo44.flac synth 1.5 sine 600 sine 300-900 vol 0.4 &&
sox -R -n -r 48000 -e floating-point -b 32 -c 1 in/float48.wav synth 1 sine 250 vol 0.4 &&
sox -R -n -r 16000 -b 8 -c 1 in/u8.wav synth 1 sine 500 vol 0.4 &&
sox -R -n -r 16000 -b 16 -c 1 one_src.wav synth 0.01 sine 440 vol 0.4 &&
sox one_src.wav in/one.wav trim 10s 1s &&
sox -R -n -r 22050 -b 16 -c 1 in/short.wav synth 0.3 sine 700 vol 0.4 &&
sox -R -n -r 16000 -b 16 -c 1 in/sub/deeper/nested.wav synth 0.5 sine 800 vol 0.4 &&
sox -R -n -r 16000 -b 16 -c 1 mono_src.wav synth 1 sine 350-1200 vol 0.4 &&
sox mono_src.wav -c 2 linked.wav ||
    { echo "sox failed to make the test files"; exit 1; }
echo "not audio" >in/sub/README.txt
echo "not audio either" >notaudio.wav
[ "$(soxi -s in/one.wav)" = 1 ] || { echo "could not make a 1-sample file"; exit 1; }
cp -a in in.orig

# ---- a tiny model ------------------------------------------------------------------------------------
out=$("$LIMPID" train --task denoise --preset tiny --batch 4 --crop 0.25 --rate 16000 --threads 1 \
      --clean train/clean --noise train/noise --steps 30 --val-every 10 --ckpt-every 10 -o m.lpd 2>&1)
if [ $? -eq 0 ] && [ -s m.lpd ]; then ok "train a tiny model"; else bad "train a tiny model" "$out"; echo "$pass passed, $fail failed"; exit 1; fi
DN=(denoise --model m.lpd --threads 1)

# ---- usage errors --------------------------------------------------------------------------------------
# without --model the shipped "rt" is used: LIMPID_MODEL_DIR is searched first
mkdir -p mdir && cp m.lpd mdir/rt.lpm
err=$(LIMPID_MODEL_DIR=$PWD/mdir "$LIMPID" denoise --threads 1 -q in/mono16.wav -o def_rt.wav 2>&1)
rc=$?
"$LIMPID" "${DN[@]}" -q in/mono16.wav -o def_file.wav >/dev/null 2>&1
[ $rc -eq 0 ] && cmp -s def_rt.wav def_file.wav && ok "denoise without --model uses rt from LIMPID_MODEL_DIR" || bad "denoise without --model" "$err"
rm -f def_rt.wav def_file.wav
err=$("$LIMPID" "${DN[@]}" in/mono16.wav in/u8.wav -o x.wav 2>&1)
[ $? -eq 2 ] && grep -q -- "-o" <<<"$err" && ok "-o with two inputs -> exit 2" || bad "-o with two inputs" "$err"
err=$("$LIMPID" "${DN[@]}" in/mono16.wav 2>&1)
[ $? -eq 2 ] && ok "no output given -> exit 2" || bad "no output given" "$err"
err=$("$LIMPID" "${DN[@]}" in/mono16.wav -o x.wav --strength 1.5 2>&1)
[ $? -eq 2 ] && grep -q strength <<<"$err" && ok "--strength 1.5 -> exit 2" || bad "--strength 1.5" "$err"
err=$("$LIMPID" "${DN[@]}" in/mono16.wav -o x.wav --sampler euler 2>&1)
[ $? -eq 2 ] && grep -q euler <<<"$err" && ok "--sampler euler -> exit 2" || bad "--sampler euler" "$err"
err=$("$LIMPID" denoise --model nosuch.lpd in/mono16.wav -o x.wav 2>&1)
rc=$?
[ $rc -eq 1 ] && grep -q nosuch.lpd <<<"$err" && ok "missing model -> exit 1 naming it" || bad "missing model (rc $rc)" "$err"
err=$("$LIMPID" "${DN[@]}" in --outdir x 2>&1)
rc=$?
[ $rc -eq 1 ] && grep -q -- "-r" <<<"$err" && ok "a folder without -r -> error suggesting -r" || bad "folder without -r (rc $rc)" "$err"
err=$("$LIMPID" eval --clean in 2>&1)
[ $? -eq 2 ] && grep -q -- "--enhanced" <<<"$err" && ok "eval without --enhanced -> exit 2" || bad "eval without --enhanced" "$err"
[ ! -e x.wav ] && [ ! -e x ] && ok "usage errors write nothing" || bad "usage errors wrote something"

# ---- formats, rates, channels, lengths ---------------------------------------------------------------------
files=(mono16.wav stereo44.flac float48.wav u8.wav one.wav short.wav)
out=$("$LIMPID" "${DN[@]}" "${files[@]/#/in/}" --outdir out1 2>&1)
rc=$?
[ $rc -eq 0 ] && ok "denoise 6 files of different formats" || bad "denoise 6 files (rc $rc)" "$out"
for f in "${files[@]}"; do
    a=$(fmt in/$f)
    b=$(fmt out1/$f)
    [ -n "$b" ] && [ "$a" = "$b" ] && ok "$f: format, rate, channels and length kept ($a)" ||
        bad "$f: format kept" "in:  $a
out: $b"
done
grep -q "audio-s/s" <<<"$out" && ok "a line per file when stderr is not a terminal" || bad "per-file lines" "$out"
out=$("$LIMPID" "${DN[@]}" -q in/mono16.wav --outdir outq 2>&1)
[ $? -eq 0 ] && [ -z "$out" ] && [ -s outq/mono16.wav ] && ok "-q prints nothing" || bad "-q prints nothing" "$out"
python3 - <<'EOF' && ok "outputs are finite and not silent" || bad "outputs are finite and not silent"
import math, sys
sys.path.insert(0, ".")
from pyaudio import read
for f in ["mono16.wav", "stereo44.flac", "float48.wav", "u8.wav"]:
    ch, x = read("out1/" + f)
    if not all(math.isfinite(v) for v in x) or max(abs(v) for v in x) < 1e-3:
        print(f, "bad output"); sys.exit(1)
EOF

# the real model on resampled files: the output's cross-correlation with the input peaks at
# lag 0 and is symmetric around it (a delay of a hundredth of a sample would already tilt
# it past the 5% allowed; measured: under 0.5%)
check=$(python3 - <<'EOF' 2>&1
import sys; sys.path.insert(0, ".")
from pyaudio import read
for f in ["stereo44.flac", "float48.wav"]:
    ch, x = read("in/" + f); _, y = read("out1/" + f)
    x = x[0::ch]; y = y[0::ch]; n = len(x)
    c = {L: sum(x[i] * y[i + L] for i in range(100, n - 100)) for L in range(-5, 6)}
    best = max(c, key=c.get)
    assert best == 0 and abs(c[1] - c[-1]) < 0.05 * (c[0] - c[1]), (f, c)
print("ok")
EOF
)
[ "$check" = ok ] && ok "denoised 44.1 and 48 kHz files are aligned with their inputs (lag 0)" || bad "alignment of real outputs" "$check"

# ---- the shipped models: rt and hq are found by name (beside the build tree or in the source tree) and
# denoise; hq is the wider one and gives other output
err=$("$LIMPID" denoise --model hq --threads 1 -q in/float48.wav -o hq48.wav 2>&1)
rc=$?
"$LIMPID" denoise --model rt --threads 1 -q in/float48.wav -o rt48.wav >/dev/null 2>&1
if [ $rc -eq 0 ] && [ "$(fmt hq48.wav)" = "$(fmt in/float48.wav)" ] && [ -s rt48.wav ] && ! cmp -s hq48.wav rt48.wav; then
    ok "--model hq: the shipped hq denoises (format and length kept, output other than rt's)"
else bad "--model hq (rc $rc)" "$err"; fi
rm -f hq48.wav rt48.wav

# ---- overwrite protection --------------------------------------------------------------------------------------
cp -a out1 out1.saved
cp in/u8.wav out1/mono16.wav   # a different file standing where an output goes
out=$("$LIMPID" "${DN[@]}" "${files[@]/#/in/}" --outdir out1 2>&1)
rc=$?
nskip=$(grep -c "^skip " <<<"$out")
if [ $rc -eq 0 ] && [ "$nskip" -eq 6 ] && cmp -s out1/mono16.wav in/u8.wav && cmp -s out1/u8.wav out1.saved/u8.wav; then
    ok "rerun skips the 6 existing outputs (\"skip\"), overwrites nothing"
else
    bad "rerun skips existing outputs (rc $rc, $nskip skips)" "$out"
fi
out=$("$LIMPID" "${DN[@]}" in/mono16.wav --outdir out1 --force 2>&1)
[ $? -eq 0 ] && cmp -s out1/mono16.wav out1.saved/mono16.wav && ok "--force overwrites (and reproduces the first output)" ||
    bad "--force overwrites" "$out"
out=$("$LIMPID" "${DN[@]}" in/mono16.wav -o single.wav 2>&1)
[ $? -eq 0 ] && cmp -s single.wav out1.saved/mono16.wav && ok "-o FILE" || bad "-o FILE" "$out"
out=$("$LIMPID" "${DN[@]}" in/mono16.wav -o single.wav 2>&1)
[ $? -eq 0 ] && grep -q "^skip " <<<"$out" && ok "-o onto an existing file skips" || bad "-o onto an existing file" "$out"

# never write to an input, even with --force
err=$("$LIMPID" "${DN[@]}" in/mono16.wav -o in/mono16.wav --force 2>&1)
rc=$?
[ $rc -eq 1 ] && grep -q "in/mono16.wav" <<<"$err" && cmp -s in/mono16.wav in.orig/mono16.wav &&
    ok "-o INPUT --force is refused" || bad "-o INPUT --force (rc $rc)" "$err"
ln -s in/u8.wav link.wav
err=$("$LIMPID" "${DN[@]}" in/u8.wav -o link.wav --force 2>&1)
rc=$?
[ $rc -eq 1 ] && cmp -s in/u8.wav in.orig/u8.wav && ok "-o LINK-TO-INPUT --force is refused" || bad "-o link to input (rc $rc)" "$err"
err=$("$LIMPID" "${DN[@]}" in/mono16.wav in/u8.wav --outdir in --force 2>&1)
rc=$?
[ $rc -eq 1 ] && [ "$(grep -c "is an input" <<<"$err")" -eq 2 ] && ok "--outdir onto the inputs' folder --force is refused" ||
    bad "--outdir onto the inputs (rc $rc)" "$err"

# ---- -r keeps the folder structure ------------------------------------------------------------------------------
out=$("$LIMPID" "${DN[@]}" -r in --outdir outr 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ -s outr/sub/deeper/nested.wav ] && [ -s outr/mono16.wav ] && [ ! -e outr/sub/README.txt ] &&
   [ "$(fmt in/sub/deeper/nested.wav)" = "$(fmt outr/sub/deeper/nested.wav)" ]; then
    ok "-r keeps the folder structure under --outdir"
else
    bad "-r keeps the folder structure (rc $rc)" "$out
$(find outr | sort)"
fi
grep -q "1 file .* not audio" <<<"$out" && ok "-r counts the non-audio file it skipped" || bad "-r counts skipped files" "$out"
cmp -s outr/mono16.wav out1.saved/mono16.wav && ok "-r gives the same bytes as a single-file run" || bad "-r same bytes"

# ---- --jobs, seeds ------------------------------------------------------------------------------------------
out=$("$LIMPID" "${DN[@]}" -r in --outdir j1 --jobs 1 -q 2>&1) && out2=$("$LIMPID" "${DN[@]}" -r in --outdir j2 --jobs 2 -q 2>&1)
rc=$?
diffs=$(diff -r j1 j2 2>&1)
[ $rc -eq 0 ] && [ -z "$diffs" ] && [ "$(find j2 -type f | wc -l)" -eq 7 ] && ok "--jobs 2 gives the bytes of --jobs 1 (7 files)" ||
    bad "--jobs 2 = --jobs 1 (rc $rc)" "$out $out2 $diffs"
"$LIMPID" "${DN[@]}" -q in/mono16.wav -o s1a.wav --seed 1 && "$LIMPID" "${DN[@]}" -q in/mono16.wav -o s1b.wav --seed 1 &&
    "$LIMPID" "${DN[@]}" -q in/mono16.wav -o s2.wav --seed 2
cmp -s s1a.wav s1b.wav && ok "the same --seed gives identical output" || bad "same seed, same output"
[ -s s2.wav ] && ! cmp -s s1a.wav s2.wav && ok "another --seed gives another output" || bad "another seed differs"
"$LIMPID" "${DN[@]}" -q in/mono16.wav -o ddpm.wav --sampler ddpm --strength 0.3 --steps 2
[ $? -eq 0 ] && [ "$(fmt ddpm.wav)" = "$(fmt in/mono16.wav)" ] && ok "--sampler ddpm --strength 0.3" || bad "--sampler ddpm"

# ---- --precision: fp32 and bf16 products give nearly the same output; bad values refused -----------------------
err=$("$LIMPID" "${DN[@]}" in/mono16.wav -o p.wav --precision fp16 2>&1)
[ $? -eq 2 ] && grep -q fp16 <<<"$err" && ok "--precision fp16 -> exit 2" || bad "--precision fp16" "$err"
"$LIMPID" "${DN[@]}" -q in/mono16.wav -o p32.wav --precision fp32
rc32=$?
err=$("$LIMPID" "${DN[@]}" -q in/mono16.wav -o p16.wav --precision bf16 2>&1)
rc16=$?
if [ $rc32 -eq 0 ] && [ $rc16 -eq 0 ]; then
    # the difference is a small fraction of the output (bf16 keeps 8 mantissa bits)
    rel=$(sox -m -v 1 p32.wav -v -1 p16.wav -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}')
    ref=$(sox p32.wav -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}')
    awk -v d="$rel" -v r="$ref" 'BEGIN {exit !(r > 0 && d <= 0.01 * r)}' &&
        ok "--precision bf16 output within 1% RMS of fp32 (diff $rel, output $ref)" ||
        bad "--precision bf16 close to fp32" "diff RMS $rel, output RMS $ref"
elif [ $rc32 -eq 0 ] && [ $rc16 -eq 1 ] && grep -q 'AMX' <<<"$err"; then
    ok "--precision bf16 refused with a reason on this CPU (no AMX): $err"
else
    bad "--precision fp32 / bf16" "rc $rc32 / $rc16: $err"
fi

# ---- a bad input in a batch ---------------------------------------------------------------------------------------
err=$("$LIMPID" "${DN[@]}" notaudio.wav in/mono16.wav missing.wav --outdir outbad 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -q "^limpid: notaudio.wav: " <<<"$err" && grep -q "^limpid: missing.wav: " <<<"$err" &&
   [ -s outbad/mono16.wav ] && [ ! -e outbad/notaudio.wav ]; then
    ok "bad inputs fail by name (exit 1), the other file is still done"
else
    bad "bad input in a batch (rc $rc)" "$err"
fi

# ---- NaN input --------------------------------------------------------------------------------------------------------
python3 - <<'EOF'
import struct
n = 8000
x = [0.3 * ((i % 40) / 20.0 - 1.0) for i in range(n)]
x[100] = float("nan"); x[2000] = float("inf"); x[3000] = float("-inf")
data = struct.pack("<%df" % n, *x)
fmt = struct.pack("<HHIIHH", 3, 1, 16000, 16000 * 4, 4, 32)
with open("nan.wav", "wb") as f:
    f.write(b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data)) + b"WAVE")
    f.write(b"fmt " + struct.pack("<I", len(fmt)) + fmt)
    f.write(b"data" + struct.pack("<I", len(data)) + data)
EOF
err=$("$LIMPID" "${DN[@]}" nan.wav -o nan_out.wav 2>&1)
rc=$?
nwarn=$(grep -c "NaN" <<<"$err")
finite=$(python3 -c '
import math, sys; sys.path.insert(0, ".")
from pyaudio import read
ch, x = read("nan_out.wav"); print(int(len(x) == 8000 and all(math.isfinite(v) for v in x)))' 2>&1)
[ $rc -eq 0 ] && [ "$nwarn" -eq 1 ] && [ "$finite" = 1 ] && ok "NaN/Inf input: one warning, finite output" ||
    bad "NaN input (rc $rc, $nwarn warnings, finite $finite)" "$err"

# ---- linked channels; alignment through the resamplers --------------------------------------------------------------
"$LIMPID" "${DN[@]}" -q linked.wav -o linked_out.wav --block 0.5 2>&1 | head -5
python3 - <<'EOF' && ok "identical channels stay identical (linked processing)" || bad "linked channels"
import sys; sys.path.insert(0, ".")
from pyaudio import read
ch, x = read("linked_out.wav")
sys.exit(0 if ch == 2 and len(x) == 32000 and x[0::2] == x[1::2] and max(map(abs, x)) > 1e-3 else 1)
EOF
# identity hook: resample 44.1 kHz -> 16 kHz -> 44.1 kHz in 1 s blocks (crossfades included);
# a shift of a single sample would cost far more than the 40 dB asked for (the content is
# below 1 kHz: the converters pass it untouched)
sox -R -n -r 44100 -c 2 long44.wav synth 5 sine 200-900 sine 500 vol 0.4 && sox long44.wav -c 1 -b 16 long44m.wav
for f in long44.wav long44m.wav; do
    LIMPID_DENOISE_IDENTITY=1 "$LIMPID" "${DN[@]}" -q $f -o ident_$f --block 1 || bad "identity run $f"
done
mkdir -p al/ref al/out && cp long44.wav al/ref/s.wav && cp ident_long44.wav al/out/s.wav
cp long44m.wav al/ref/m.wav && cp ident_long44m.wav al/out/m.wav
# the last 10 ms see the converters' edge (the signal stops abruptly): compare the rest
for d in ref out; do for f in s m; do sox al/$d/$f.wav al/$d/${f}_cut.wav trim 0 4.99 && rm al/$d/$f.wav; done; done
"$LIMPID" eval --clean al/ref --enhanced al/out --json al.json >al.txt 2>&1
python3 -c '
import json; d = json.load(open("al.json"))
print(min(f["snr"] for f in d["files"]))' >al.min 2>&1
[ "$(fmt long44.wav)" = "$(fmt ident_long44.wav)" ] && awk '{exit !($1 > 40)}' al.min &&
    ok "resampling round trip in blocks is aligned (SNR $(cat al.min) dB)" || bad "alignment" "$(cat al.txt al.min)"

# ---- Ctrl-C ----------------------------------------------------------------------------------------------------------------
sox -R -n -r 16000 -b 16 -c 1 long.wav synth 120 sine 440 vol 0.3
"$LIMPID" "${DN[@]}" long.wav -o long_out.wav --sampler ddpm --block 5 >int.log 2>&1 &
pid=$!
for _ in $(seq 1 300); do
    ls long_out.wav.tmp-* >/dev/null 2>&1 && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.05
done
sleep 0.3
kill -INT $pid 2>/dev/null
wait $pid
rc=$?
[ $rc -eq 130 ] && [ ! -e long_out.wav ] && ! ls long_out.wav.tmp-* >/dev/null 2>&1 &&
    ok "SIGINT: exit 130, no output, temporary file removed" || bad "SIGINT (rc $rc)" "$(cat int.log)"

# ---- leftovers, inputs untouched ----------------------------------------------------------------------------------------
left=$(find . -name '*.tmp-*')
[ -z "$left" ] && ok "no .tmp- files left behind" || bad "temporary files left" "$left"
d=$(diff -r in in.orig 2>&1)
[ -z "$d" ] && ok "input files unchanged" || bad "input files changed" "$d"

# ---- eval -------------------------------------------------------------------------------------------------------------------
# speech-like references: noise with a syllable-rate envelope, and a swept tone; the noise
# added is independent of them (a different seed than -R's)
mkdir -p ev/clean/speechy ev/clean/tonal
sox -R -n -r 16000 -b 16 -c 1 ev/clean/speechy/a.wav synth 3 pinknoise vol 0.3 tremolo 4 90
sox -R -n -r 16000 -b 16 -c 1 ev/clean/tonal/b.wav synth 3 sine 300-2500 vol 0.3 tremolo 3 80
sox -n -r 16000 -b 16 -c 1 ev/clean/c.wav synth 3 brownnoise vol 0.3 tremolo 5 70
sox -R -n -r 16000 -c 1 ev/white.wav synth 3.5 whitenoise vol 0.3 trim 0.5
cp -a ev/clean ev/same
rms() { sox "$1" -n stat 2>&1 | awk '/RMS +amp/ {print $3}'; }
for snr in 10 0 -10; do
    for f in speechy/a tonal/b c; do
        mkdir -p ev/n$snr/$(dirname $f)
        g=$(python3 -c "print($(rms ev/clean/$f.wav) / $(rms ev/white.wav) * 10 ** (-($snr) / 20))")
        sox -m -v 1 ev/clean/$f.wav -v $g ev/white.wav -b 32 -e floating-point ev/n$snr/$f.wav 2>/dev/null
    done
done
out=$("$LIMPID" eval --clean ev/clean --enhanced ev/same --json same.json 2>&1)
rc=$?
check=$(python3 - <<'EOF' 2>&1
import json
d = json.load(open("same.json"))
f = d["files"]
assert len(f) == 3, "3 files"
for e in f:
    assert e["si_sdr"] >= 100 and e["snr"] >= 100, e
    assert abs(e["stoi"] - 1) < 1e-6 and abs(e["estoi"] - 1) < 1e-6, e
g = d["groups"]
assert set(g) == {".", "speechy", "tonal", "all"}, g
assert g["all"]["files"] == 3 and abs(g["all"]["stoi"] - 1) < 1e-6
print("ok")
EOF
)
[ $rc -eq 0 ] && [ "$check" = ok ] && ok "eval on identical folders: SI-SDR >= 100 dB, STOI = ESTOI = 1" ||
    bad "eval identical (rc $rc)" "$out
$check"
grep -q "^all (3 files)" <<<"$out" && grep -q "^speechy (1 file)" <<<"$out" && ok "eval prints per-group and overall means" ||
    bad "eval table" "$out"
for snr in 10 0 -10; do
    "$LIMPID" eval --clean ev/clean --enhanced ev/n$snr --noisy ev/n$snr --json n$snr.json >n$snr.txt 2>&1 ||
        bad "eval n$snr" "$(cat n$snr.txt)"
done
check=$(python3 - <<'EOF' 2>&1
import json
r = {s: json.load(open("n%s.json" % s)) for s in (10, 0, -10)}
for s in (10, 0, -10):
    for e in r[s]["files"]:
        assert abs(e["snr"] - s) < 0.2, (s, e)          # the mix was made at this SNR
        assert abs(e["snr_i"]) < 1e-9 and abs(e["si_sdr_i"]) < 1e-9, e  # noisy = enhanced
for i in range(3):
    a, b, c = (r[s]["files"][i] for s in (10, 0, -10))
    for k in ("stoi", "estoi", "si_sdr"):
        assert 1 > a[k] > b[k] > c[k] if k != "si_sdr" else a[k] > b[k] > c[k], (a["file"], k, a[k], b[k], c[k])
print("ok")
EOF
)
[ "$check" = ok ] && ok "eval on noisy folders: lower values, falling with more noise" || bad "eval noisy" "$check"
# reference values: Taal's stoi.m and Jensen & Taal's estoi.m (the authors' MATLAB code, run
# in GNU Octave 7.3 with MATLAB's hanning(), no resampling) on these exact 10 kHz float signals
python3 - <<'EOF'
import math, random, struct, os
FS = 10000
def wav(path, x):
    data = struct.pack("<%df" % len(x), *x)
    fmt = struct.pack("<HHIIHH", 3, 1, FS, FS * 4, 4, 32)
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data)) + b"WAVE")
        f.write(b"fmt " + struct.pack("<I", len(fmt)) + fmt)
        f.write(b"data" + struct.pack("<I", len(data)) + data)
def noise(seed, n):  # random.random() is reproducible across Python versions for a seed
    r = random.Random(seed)
    return [r.random() * 2.0 - 1.0 for _ in range(n)]
n = 3 * FS
# "speech-like": low-passed uniform noise with a 4 Hz syllable-rate envelope
w = noise(1, n); s = []; acc = 0.0
for i in range(n):
    acc = 0.9 * acc + 0.1 * w[i]
    s.append(acc * (0.55 + 0.45 * math.sin(2 * math.pi * 4 * i / FS)))
peak = max(map(abs, s)); s = [0.5 * v / peak for v in s]
g = [0.0 if (i % 14000) >= 10000 else s[i % n] for i in range(int(3.5 * FS))]  # silent gaps
wn = noise(2, int(3.5 * FS))
def pw(x): return sum(v * v for v in x) / len(x)
def mix(x, snr):
    k = math.sqrt(pw(x) / pw(wn[:len(x)]) * 10 ** (-snr / 10))
    return [a + k * b for a, b in zip(x, wn)]
os.makedirs("ref/c", exist_ok=True); os.makedirs("ref/e", exist_ok=True)
cases = {"r1": (s, mix(s, 5)), "r2": (s, mix(s, 0)), "r3": (s, mix(s, -5)),
         "r4": (s, [sum(s[max(0, i - 4):i + 1]) / 5 for i in range(n)]),  # 5-tap average
         "r5": (g, mix(g, 0))}
for k, (x, y) in cases.items():
    wav("ref/c/%s.wav" % k, x); wav("ref/e/%s.wav" % k, y)
EOF
"$LIMPID" eval --clean ref/c --enhanced ref/e --json ref.json >ref.txt 2>&1 || bad "eval ref" "$(cat ref.txt)"
check=$(python3 - <<'EOF' 2>&1
import json
ref = {"r1": (0.817047, 0.447408), "r2": (0.633478, 0.301154), "r3": (0.438229, 0.198917),
       "r4": (0.990102, 0.959947), "r5": (0.685518, 0.314735)}
d = {f["file"][:-4]: f for f in json.load(open("ref.json"))["files"]}
for k, (s, e) in ref.items():
    # 1e-4: the reference prints 6 decimals and works on the same float32 samples in double
    assert abs(d[k]["stoi"] - s) < 1e-4 and abs(d[k]["estoi"] - e) < 1e-4, (k, d[k], s, e)
print("ok")
EOF
)
[ "$check" = ok ] && ok "STOI and ESTOI match the reference MATLAB code (5 cases, 1e-4)" || bad "STOI reference values" "$check"
out=$("$LIMPID" eval --clean ev/clean --enhanced outbad 2>&1)
[ $? -eq 1 ] && grep -q "no enhanced file" <<<"$out" && ok "eval: a missing enhanced file -> exit 1 naming it" || bad "eval missing" "$out"
out=$("$LIMPID" eval --clean in/short.wav --enhanced out1/short.wav 2>&1)
[ $? -eq 0 ] && grep -q "n/a" <<<"$out" && ok "eval of single files; STOI n/a on a 0.3 s file" || bad "eval single short" "$out"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
