#!/usr/bin/env bash
# test_malformed.sh - malformed and unusual inputs, end to end, for `limpid denoise`, `info`,
# `eval` and `train`.
#
# usage: bash tests/test_malformed.sh PATH_TO_LIMPID WORKDIR
#
# Malformed inputs (written byte by byte with python3, or cut from sox's with head -c): an
# empty file, a WAV cut short of its data chunk, a header-only WAV, a data size of
# 0xFFFFFFF0, 1000 channels, 0 Hz, 5 MHz, 0 channels, 0 bits, text named .wav, a FLAC cut at
# a frame boundary (its header still announces the full length), an AIFF, an RF64, a W64 and
# two CAF (one cut deep, which libsndfile calls "malformed", one cut near its end, which
# libsndfile reads short) whose audio chunks announce more than the files hold, a folder
# named .wav, a file that does not exist; models that are empty, truncated, text, a WAV, a
# folder, missing, or a training checkpoint. Every case must exit 1, name the file and the
# problem on stderr, leave no output and no temporary file, and leave every input
# byte-identical (sha256 of the whole input tree before and after). Also: NaN/Inf samples
# (float and double WAV) are replaced (one warning) and never reach an output or a training
# step; an output that is an input (audio, model, config, checkpoint, --json report) is
# refused even with --force; an existing output without --force is left as it is.
# Unusual but valid inputs, denoised with the shipped rt model (48 kHz, so every other rate
# goes through both resamplers) and --jobs 2: rates 8 to 192 kHz, 1/2/6/8 channels, one
# sample, silence, a full-scale square, a large DC offset, WAV in u8/16/24/32-bit PCM, float
# and double, FLAC, Ogg Vorbis, RF64, W64 and CAF (the last three also read whole by
# `limpid eval`). Each output must keep the input's container, sample format (WAV format tag
# and sub-format), rate, channels and exact frame count, and hold only finite samples. A CAF
# whose data size is -1 ("to the end of the file") must not be called truncated.
# Prints "N passed, N failed"; exits non-zero when any check failed.
set -u

LIMPID=${1:?usage: test_malformed.sh PATH_TO_LIMPID WORKDIR}
WORK=${2:?usage: test_malformed.sh PATH_TO_LIMPID WORKDIR}
case $LIMPID in /*) ;; *) LIMPID=$PWD/$LIMPID ;; esac
SRC=$(cd "$(dirname "$0")/.." && pwd)

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/       /' | head -20; }

if [ ! -x "$LIMPID" ]; then
    echo "limpid executable '$LIMPID' not found"
    exit 1
fi
for tool in sox soxi python3 sha256sum; do
    if ! command -v $tool >/dev/null 2>&1; then
        echo "$tool is needed by this test"
        exit 1
    fi
done
if [ ! -s "$SRC/models/rt/rt.lpm" ]; then
    echo "the shipped model $SRC/models/rt/rt.lpm is missing"
    exit 1
fi

rm -rf "$WORK"
mkdir -p "$WORK" || exit 1
cd "$WORK" || exit 1
unset LIMPID_DENOISE_IDENTITY

# ---- a reader for the checks ------------------------------------------------------------------
# props FILE...: one line per file with everything that must survive denoising. WAV is parsed
# here (format tag, the sub-format of WAVE_FORMAT_EXTENSIBLE, channels, rate, bits, frames);
# other containers through soxi. "nonfinite N" counts NaN/Inf samples (float and double WAV
# are decoded here: sox would clip them away; other formats cannot hold them).
cat >wavtool.py <<'EOF'
import math, struct, subprocess, sys

def riff(path):
    d = open(path, "rb").read()
    if d[:4] not in (b"RIFF", b"RF64") or d[8:12] != b"WAVE":
        return None
    pos, fmt, data, ds64 = 12, None, None, None
    while pos + 8 <= len(d):
        cid, n = d[pos:pos + 4], struct.unpack("<I", d[pos + 4:pos + 8])[0]
        if cid == b"ds64":  # RF64: riffSize, dataSize, sampleCount
            ds64 = struct.unpack("<QQ", d[pos + 8:pos + 24])[1]
        elif cid == b"fmt ":
            fmt = d[pos + 8:pos + 8 + n]
        elif cid == b"data":
            if n == 0xFFFFFFFF and ds64 is not None:
                n = ds64
            data = d[pos + 8:pos + 8 + n]
        pos += 8 + n + (n & 1)
    tag, ch, rate, _, align, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == 0xFFFE:  # WAVE_FORMAT_EXTENSIBLE: the sub-format GUID starts with the tag
        tag = struct.unpack("<H", fmt[24:26])[0]
    return d[:4], tag, ch, rate, bits, align, data

def nonfinite(path):
    w = riff(path)
    if w and w[1] == 3:
        kind, tag, ch, rate, bits, align, data = w
        code = "f" if bits == 32 else "d"
        k = len(data) // (bits // 8)
        return sum(not math.isfinite(v) for v in struct.unpack("<%d%s" % (k, code), data[:k * bits // 8]))
    return 0

def props(path):
    w = riff(path)
    if w:
        kind, tag, ch, rate, bits, align, data = w
        return "%s tag %d, %d ch, %d Hz, %d bits, %d frames" % (
            "rf64" if kind == b"RF64" else "wav", tag, ch, rate, bits, len(data) // align)
    q = lambda o: subprocess.run(["soxi", o, path], capture_output=True, text=True).stdout.strip()
    return "%s %s, %s ch, %s Hz, %s bits, %s frames" % (q("-t"), q("-e"), q("-c"), q("-r"), q("-b"), q("-s"))

for p in sys.argv[2:]:
    if sys.argv[1] == "props":
        print(props(p))
    else:
        print(nonfinite(p))
EOF
props() { python3 wavtool.py props "$@" 2>&1; }
nonfinite() { python3 wavtool.py nonfinite "$1" 2>&1; }

# ---- inputs -------------------------------------------------------------------------------------
# in/ holds every input of every case; its sha256 manifest is checked after each case
mkdir -p in/bad in/good in/valid in/nan in/clean in/noise in/models in/bad/folder.wav in/odd out
cp "$SRC/models/rt/rt.lpm" in/models/rt.lpm
S="sox -R -n"
$S -r 16000 -b 16 -c 1 in/good/ref.wav synth 0.5 sine 440 vol 0.4 &&
$S -r 16000 -c 1 in/clean/tone.wav synth 1 sine 440 vol 0.5 &&
$S -r 16000 -c 1 in/clean/chirp.wav synth 1 sine 200-2000 vol 0.5 &&
$S -r 16000 -c 1 in/noise/white.wav synth 1 whitenoise vol 0.3 &&
$S -r 16000 -c 1 cut_src.flac synth 2 sine 440 vol 0.5 &&
$S -r 16000 -b 16 -c 1 cut_src.w64 synth 0.5 sine 440 vol 0.4 &&
$S -r 16000 -b 16 -c 1 cut_src.caf synth 0.5 sine 440 vol 0.4 ||
    { echo "sox failed to make the inputs"; exit 1; }
# unusual but valid
V=in/valid
for r in 8000 11025 22050 44100 48000 96000 192000; do
    $S -r $r -b 16 -c 1 $V/rate$r.wav synth 0.5 sine 440 vol 0.4 || exit 1
done
for c in 1 2 6 8; do
    $S -r 44100 -b 16 -c $c $V/ch$c.wav synth 0.5 sine 440 vol 0.4 || exit 1
done
for b in 8 16 24 32; do
    $S -r 16000 -b $b -c 1 $V/pcm$b.wav synth 0.5 sine 440 vol 0.4 || exit 1
done
$S -r 16000 -e floating-point -b 32 -c 1 $V/float.wav synth 0.5 sine 440 vol 0.4 &&
$S -r 16000 -e floating-point -b 64 -c 1 $V/double.wav synth 0.5 sine 440 vol 0.4 &&
$S -r 16000 -b 16 -c 1 one_src.wav synth 0.01 sine 440 vol 0.4 && sox one_src.wav $V/one.wav trim 10s 1s &&
$S -r 16000 -b 16 -c 1 $V/silence.wav trim 0 0.5 &&
$S -r 16000 -b 16 -c 1 $V/square.wav synth 0.5 square 200 &&
$S -r 16000 -b 16 -c 1 $V/dc.wav synth 0.5 sine 300 vol 0.2 dcshift 0.7 &&
$S -r 44100 -c 2 $V/stereo.flac synth 0.5 sine 440 sine 660 vol 0.4 &&
$S -r 44100 -c 2 $V/stereo.ogg synth 0.5 sine 440 sine 660 vol 0.4 &&
$S -r 22050 -b 24 -c 2 $V/stereo.w64 synth 0.5 sine 440 sine 660 vol 0.4 &&
$S -r 16000 -b 16 -c 1 $V/mono.caf synth 0.5 sine 440 vol 0.4 ||
    { echo "sox failed to make the valid inputs"; exit 1; }
[ "$(soxi -s $V/one.wav)" = 1 ] || { echo "could not make a 1-sample file"; exit 1; }
# W64 and CAF as sox writes them, cut with head -c so that 12000 bytes of their audio chunk
# are missing (the data chunk ends the file): the W64 data chunk announces 16000 bytes; the
# CAF one 16004 (a 4-byte edit count, then the audio). A CAF cut near its end (100 bytes
# short) is one that libsndfile still opens and reads short; cut deep, it calls it malformed.
cut_by() { head -c $(($(stat -c %s "$1") - $2)) "$1" >"$3"; }
cut_by cut_src.w64 12000 in/bad/cut.w64 && cut_by cut_src.caf 12000 in/bad/cut.caf &&
    cut_by cut_src.caf 100 in/bad/cut_tail.caf || { echo "could not cut the W64/CAF inputs"; exit 1; }
# a CAF whose data chunk size is -1: "to the end of the file", so it is not truncated
python3 -c '
import sys; d = bytearray(open(sys.argv[1], "rb").read()); i = d.index(b"data")
d[i + 4:i + 12] = b"\xff" * 8; open(sys.argv[2], "wb").write(d)' cut_src.caf in/odd/to_end.caf ||
    { echo "could not write the CAF of size -1"; exit 1; }

python3 - <<'EOF' || { echo "could not write the malformed inputs"; exit 1; }
import re, struct
def wav(path, data, tag=1, ch=1, rate=16000, bits=16, data_size=None):
    align = ch * bits // 8
    fmt = struct.pack("<HHIIHH", tag, ch, rate, rate * align, align, bits)
    n = len(data) if data_size is None else data_size
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", (4 + 8 + len(fmt) + 8 + n) & 0xFFFFFFFF) + b"WAVE")
        f.write(b"fmt " + struct.pack("<I", len(fmt)) + fmt)
        f.write(b"data" + struct.pack("<I", n & 0xFFFFFFFF) + data)
pcm = struct.pack("<8000h", *[int(8000 * ((i % 40) / 20 - 1)) for i in range(8000)])
open("in/bad/empty.wav", "wb").close()
wav("in/bad/cut.wav", pcm[:4000], data_size=len(pcm))        # data says 16000 bytes, 4000 there
wav("in/bad/header_only.wav", b"", data_size=len(pcm))
wav("in/bad/huge_size.wav", pcm, data_size=0xFFFFFFF0)
wav("in/bad/chans1000.wav", pcm, ch=1000)
wav("in/bad/chans0.wav", pcm, ch=0)
wav("in/bad/rate0.wav", pcm, rate=0)
wav("in/bad/rate5M.wav", pcm, rate=5000000)
wav("in/bad/bits0.wav", pcm, bits=0)
open("in/bad/text.wav", "w").write("this is not audio\n" * 20)
# an AIFF whose SSND chunk says 16008 bytes while 4008 are there (libsndfile reads it short)
comm = struct.pack(">hIh", 1, 8000, 16) + bytes.fromhex("400CFA00000000000000")  # 16000 Hz
ssnd_n = 8 + len(pcm)
with open("in/bad/cut.aiff", "wb") as f:
    body = b"AIFF" + b"COMM" + struct.pack(">I", len(comm)) + comm + b"SSND" + struct.pack(">I", ssnd_n) + struct.pack(">II", 0, 0)
    be = struct.pack(">8000h", *struct.unpack("<8000h", pcm))
    f.write(b"FORM" + struct.pack(">I", len(body) + len(be)) + body + be[:4000])
# RF64 (sox does not write it; the layout of libsndfile's): a ds64 chunk holds the 64-bit
# sizes, the data chunk's own size is 0xFFFFFFFF
def rf64(path, data, data_size=None):
    fmt = struct.pack("<HHIIHH", 1, 1, 16000, 32000, 2, 16)
    n = len(data) if data_size is None else data_size
    ds64 = struct.pack("<QQQI", 4 + 8 + 28 + 8 + len(fmt) + 8 + n, n, n // 2, 0)
    with open(path, "wb") as f:
        f.write(b"RF64" + b"\xff\xff\xff\xff" + b"WAVE" + b"ds64" + struct.pack("<I", len(ds64)) + ds64)
        f.write(b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + b"\xff\xff\xff\xff" + data)
rf64("in/valid/mono.rf64", pcm)
rf64("in/bad/cut.rf64", pcm[:4000], data_size=len(pcm))   # ds64 says 16000 bytes, 4000 there
# a FLAC stream cut at a frame boundary: every frame left decodes, STREAMINFO still says 2 s
d = open("cut_src.flac", "rb").read()
frames = [m.start() for m in re.finditer(b"\xff\xf8", d)]
open("in/bad/cut.flac", "wb").write(d[:frames[3]])
# NaN and infinities in float and double WAV
x = [0.3 * ((i % 40) / 20.0 - 1.0) for i in range(8000)]
x[100] = float("nan"); x[2000] = float("inf"); x[3000] = float("-inf")
wav("in/nan/nan_float.wav", struct.pack("<8000f", *x), tag=3, bits=32)
wav("in/nan/nan_double.wav", struct.pack("<8000d", *x), tag=3, bits=64)
EOF
[ "$(nonfinite in/nan/nan_double.wav)" = 3 ] || { echo "the NaN inputs hold no NaN"; exit 1; }

# a tiny model (seconds) and its checkpoint, for the model and resume cases
TRAIN=(train --task denoise --preset tiny --batch 2 --crop 0.25 --rate 16000 --threads 1 --val-every 0)
out=$("$LIMPID" "${TRAIN[@]}" --steps 3 --clean in/clean --noise in/noise -o in/models/tiny.lpd 2>&1) ||
    { echo "training the tiny model failed"; echo "$out"; exit 1; }
head -c 300 in/models/tiny.lpd >in/models/trunc.lpd
: >in/models/empty.lpd
echo "this is not a model" >in/models/text.lpd
cp in/good/ref.wav in/models/audio.lpd
mkdir -p in/models/folder.lpd
echo "lr = 0.001" >in/tiny.cfg

snapshot() { find in -type f -print0 | sort -z | xargs -0 sha256sum; }
snapshot >manifest.txt
unchanged() { snapshot >manifest.now && cmp -s manifest.now manifest.txt; }

# ---- the check of a failing case ------------------------------------------------------------------
# expect_fail NAME PATTERN FILE -- COMMAND...: COMMAND exits 1; its stderr names FILE and matches
# the extended regular expression PATTERN (the problem); out/ stays empty; no temporary file
# anywhere; every input is byte-identical.
expect_fail() {
    local name=$1 pat=$2 file=$3
    shift 4
    rm -rf out && mkdir out
    local err rc why=""
    err=$("$@" 2>&1 >/dev/null)
    rc=$?
    [ $rc -eq 1 ] || why="exit $rc, not 1; "
    grep -qF -- "$file" <<<"$err" || why="${why}the message does not name $file; "
    grep -qE -- "$pat" <<<"$err" || why="${why}the message does not match /$pat/; "
    local left
    left=$(find out -mindepth 1)
    [ -z "$left" ] || why="${why}left in out/: $left; "
    left=$(find . -name '*.tmp-*')
    [ -z "$left" ] || why="${why}temporary files left: $left; "
    unchanged || why="${why}an input changed; "
    if [ -z "$why" ]; then ok "$name"; else bad "$name" "$why
$err"; fi
}

# ---- malformed audio, for denoise, eval and train ---------------------------------------------------
# file : the problem the message must state
cases=(
    "empty.wav:empty"
    "cut.wav:header announces 16000 bytes of audio but the file holds 4000 .truncated"
    "header_only.wav:header announces 16000 bytes of audio but the file holds 0 .truncated"
    "huge_size.wav:header announces 4294967280 bytes.*truncated"
    "chans1000.wav:1000 channels"
    "chans0.wav:0 channels"
    "rate0.wav:0 Hz"
    "rate5M.wav:5000000 Hz"
    "bits0.wav:0 bits"
    "text.wav:[Ff]ormat not recognised"
    "cut.flac:ends (before|after).*32000 frames.*truncated"
    "cut.aiff:header announces 16008 bytes of audio but the file holds 4008 .truncated"
    "cut.rf64:header announces 16000 bytes of audio but the file holds 4000 .truncated"
    "cut.w64:header announces 16000 bytes of audio but the file holds 4000 .truncated"
    "cut.caf:header announces 16004 bytes of audio but the file holds 4004 .truncated"
    "cut_tail.caf:header announces 16004 bytes of audio but the file holds 15904 .truncated"
    "missing.wav:No such file"
)
DN=(denoise -q --threads 1 --steps 1)
for c in "${cases[@]}"; do
    f=in/bad/${c%%:*}
    pat=${c#*:}
    expect_fail "denoise $f" "$pat" "$f" -- "$LIMPID" "${DN[@]}" --model in/models/tiny.lpd "$f" --outdir out
    expect_fail "eval --clean $f" "$pat" "$f" -- "$LIMPID" eval --clean "$f" --enhanced in/good/ref.wav --json out/r.json
    # (a missing enhanced file has its own message)
    p2=$pat
    [ "$f" = in/bad/missing.wav ] && p2="no enhanced file"
    expect_fail "eval --enhanced $f" "$p2" "$f" -- "$LIMPID" eval --clean in/good/ref.wav --enhanced "$f" --json out/r.json
    expect_fail "train --clean $f" "$pat" "$f" -- "$LIMPID" "${TRAIN[@]}" --steps 2 --clean "$f" --noise in/noise -o out/m.lpd
    expect_fail "train --noise $f" "$pat" "$f" -- "$LIMPID" "${TRAIN[@]}" --steps 2 --clean in/clean --noise "$f" -o out/m.lpd
done
# a folder where a file is expected
expect_fail "denoise FOLDER (no -r)" "is a folder" in/bad/folder.wav -- "$LIMPID" "${DN[@]}" in/bad/folder.wav --outdir out
expect_fail "eval --enhanced FOLDER" "is a folder" in/bad/folder.wav -- "$LIMPID" eval --clean in/good/ref.wav --enhanced in/bad/folder.wav --json out/r.json
expect_fail "train --clean EMPTY-FOLDER" "no audio files" in/bad/folder.wav -- "$LIMPID" "${TRAIN[@]}" --steps 2 --clean in/bad/folder.wav --noise in/noise -o out/m.lpd
expect_fail "train -o FOLDER" "is a folder" out -- "$LIMPID" "${TRAIN[@]}" --steps 2 --clean in/clean --noise in/noise -o out --force

# all the bad files in one batch, two at a time: each fails by name, with its own reason
rm -rf out && mkdir out
err=$("$LIMPID" "${DN[@]}" --model in/models/tiny.lpd --jobs 2 in/bad/*.* in/good/ref.wav --outdir out 2>&1)
rc=$?
why=""
for c in "${cases[@]}"; do
    f=in/bad/${c%%:*}
    [ "$f" = in/bad/missing.wav ] && continue
    grep -E -- "^limpid: $f: " <<<"$err" | grep -qE -- "${c#*:}" || why="$why$f; "
done
[ $rc -eq 1 ] && [ -z "$why" ] && [ "$(find out -type f)" = out/ref.wav ] && unchanged &&
    ok "a batch of bad files with --jobs 2: each named with its problem, only the good file written" ||
    bad "batch of bad files (rc $rc; not named: $why)" "$err"

# a damaged file inside a training folder is skipped with a warning (even without -v)
mkdir -p in2/clean && cp in/clean/*.wav in/bad/cut.wav in2/clean/
err=$("$LIMPID" "${TRAIN[@]}" --steps 2 --clean in2/clean --noise in/noise -o train_skip.lpd 2>&1 >/dev/null)
rc=$?
[ $rc -eq 0 ] && grep -q "skipping damaged audio file 'in2/clean/cut.wav'.*truncated" <<<"$err" &&
    grep -q "1 other file skipped" <<<"$err" && ok "train: a cut file in a folder is skipped with a warning" ||
    bad "train: damaged file in a folder (rc $rc)" "$err"

# ---- malformed models, for denoise --model, info and train --resume ----------------------------------
mcases=(
    "empty.lpd:0 bytes"
    "trunc.lpd:truncated"
    "text.lpd:not a limpid model file"
    "audio.lpd:not a limpid model file"
    "folder.lpd:directory"
    "missing.lpd:No such file"
)
for c in "${mcases[@]}"; do
    m=in/models/${c%%:*}
    pat=${c#*:}
    expect_fail "denoise --model $m" "$pat" "$m" -- "$LIMPID" "${DN[@]}" --model "$m" in/good/ref.wav --outdir out
    expect_fail "info $m" "$pat" "$m" -- "$LIMPID" info "$m"
    expect_fail "train --resume $m" "$pat" "$m" -- "$LIMPID" train --resume "$m" --clean in/clean --noise in/noise -o out/m.lpd
done
expect_fail "denoise --model CHECKPOINT" "checkpoint, not a model" in/models/tiny.lpd.ckpt -- \
    "$LIMPID" "${DN[@]}" --model in/models/tiny.lpd.ckpt in/good/ref.wav --outdir out
expect_fail "denoise --model AUDIO-INPUT" "not a limpid model file" in/good/ref.wav -- \
    "$LIMPID" "${DN[@]}" --model in/good/ref.wav in/good/ref.wav --outdir out

# ---- outputs that are inputs, outputs that exist ------------------------------------------------------
expect_fail "denoise -o INPUT --force" "is an input" in/good/ref.wav -- \
    "$LIMPID" "${DN[@]}" --model in/models/tiny.lpd in/good/ref.wav -o in/good/ref.wav --force
expect_fail "denoise -o MODEL --force" "is an input" in/models/tiny.lpd -- \
    "$LIMPID" "${DN[@]}" --model in/models/tiny.lpd in/good/ref.wav -o in/models/tiny.lpd --force
expect_fail "eval --json ENHANCED" "would overwrite an audio file" in/good/ref.wav -- \
    "$LIMPID" eval --clean in/valid/pcm16.wav --enhanced in/good/ref.wav --json in/good/ref.wav
expect_fail "train -o CLEAN-FILE --force" "would overwrite a training file" in/clean/tone.wav -- \
    "$LIMPID" "${TRAIN[@]}" --steps 2 --clean in/clean --noise in/noise -o in/clean/tone.wav --force
expect_fail "train -o CONFIG --force" "would overwrite the config file" in/tiny.cfg -- \
    "$LIMPID" "${TRAIN[@]}" --steps 2 --config in/tiny.cfg --clean in/clean --noise in/noise -o in/tiny.cfg --force
expect_fail "train --resume CKPT -o CKPT --force" "would overwrite the checkpoint" in/models/tiny.lpd.ckpt -- \
    "$LIMPID" train --resume in/models/tiny.lpd.ckpt --steps 5 --clean in/clean --noise in/noise \
    -o in/models/tiny.lpd.ckpt --force

rm -rf out && mkdir out
echo "an earlier output" >out/ref.wav
cp out/ref.wav keep.txt
out=$("$LIMPID" denoise --threads 1 --steps 1 --model in/models/tiny.lpd in/good/ref.wav --outdir out 2>&1)
rc=$?
[ $rc -eq 0 ] && grep -q "^skip in/good/ref.wav" <<<"$out" && cmp -s out/ref.wav keep.txt &&
    [ "$(find out -type f)" = out/ref.wav ] && ok "denoise: an existing output without --force is skipped, untouched" ||
    bad "denoise: existing output (rc $rc)" "$out"
cp keep.txt out/m.lpd
err=$("$LIMPID" "${TRAIN[@]}" --steps 2 --clean in/clean --noise in/noise -o out/m.lpd 2>&1)
rc=$?
[ $rc -eq 1 ] && grep -q -- "--force" <<<"$err" && cmp -s out/m.lpd keep.txt && [ ! -e out/m.lpd.ckpt ] &&
    ok "train: an existing model without --force is refused, untouched" || bad "train: existing model (rc $rc)" "$err"

# ---- NaN and Inf samples -------------------------------------------------------------------------------------
rm -rf out && mkdir out
for f in nan_float.wav nan_double.wav; do
    err=$(LIMPID_MODEL_DIR=$PWD/in/models "$LIMPID" denoise --threads 1 --steps 1 in/nan/$f -o out/$f 2>&1)
    rc=$?
    n=$(nonfinite out/$f)
    [ $rc -eq 0 ] && [ "$(grep -c "in/nan/$f: NaN or infinite samples" <<<"$err")" = 1 ] && [ "$n" = 0 ] &&
        [ "$(props out/$f)" = "$(props in/nan/$f)" ] &&
        ok "denoise $f: one warning naming it, output finite ($(props out/$f))" ||
        bad "denoise $f (rc $rc, $n non-finite samples out)" "$err"
done
out=$("$LIMPID" eval --clean in/good/ref.wav --enhanced in/nan/nan_float.wav --json nan_eval.json 2>&1)
rc=$?
python3 -c '
import json, math; e = json.load(open("nan_eval.json"))["files"][0]
assert all(math.isfinite(e[k]) for k in ("snr", "si_sdr"))' 2>/dev/null
[ $? -eq 0 ] && [ $rc -eq 0 ] && ok "eval of a NaN file: finite scores" || bad "eval of a NaN file (rc $rc)" "$out"
mkdir -p nanclean && cp in/nan/nan_float.wav in/clean/tone.wav nanclean/
out=$("$LIMPID" "${TRAIN[@]}" --steps 4 --clean nanclean --noise in/nan/nan_double.wav -o nan_train.lpd 2>&1)
rc=$?
[ $rc -eq 0 ] && grep -Eq "final train loss [0-9]" <<<"$out" && ok "train on NaN/Inf files: they read as 0, the loss stays finite" ||
    bad "train on NaN files (rc $rc)" "$out"
unchanged && ok "NaN inputs unchanged" || bad "NaN inputs changed"

# ---- unusual but valid inputs, with the shipped model ---------------------------------------------------------
rm -rf out && mkdir out
out=$(LIMPID_MODEL_DIR=$PWD/in/models "$LIMPID" denoise -q --threads 1 --jobs 2 --steps 1 in/valid/* --outdir out 2>&1)
rc=$?
[ $rc -eq 0 ] && ok "denoise $(ls in/valid | wc -l) unusual files with the shipped model, --jobs 2" || bad "denoise unusual files (rc $rc)" "$out"
for p in in/valid/*; do
    f=$(basename "$p")
    a=$(props "$p")
    b=$(props "out/$f")
    n=$(nonfinite "out/$f")
    [ -s "out/$f" ] && [ "$a" = "$b" ] && [ "$n" = 0 ] && ok "$f: kept ($a), finite" ||
        bad "$f kept" "in:  $a
out: $b
non-finite: $n"
done
# the containers whose lengths limpid checks itself, read whole by eval too
for f in mono.rf64 stereo.w64 mono.caf; do
    out=$("$LIMPID" eval --clean in/valid/$f --enhanced in/valid/$f 2>&1)
    rc=$?
    [ $rc -eq 0 ] && ok "eval $f against itself" || bad "eval $f (rc $rc)" "$out"
done
# a CAF whose data size is -1 runs to the end of the file: processed whole, or (libsndfile
# 1.2 refuses it) refused by libsndfile's words, never as truncated
rm -rf out && mkdir out
err=$(LIMPID_MODEL_DIR=$PWD/in/models "$LIMPID" denoise -q --threads 1 --steps 1 in/odd/to_end.caf --outdir out 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ "$(props out/to_end.caf)" = "$(props in/odd/to_end.caf)" ]; then
    ok "CAF of data size -1: processed whole ($(props out/to_end.caf))"
elif [ $rc -eq 1 ] && grep -qF "in/odd/to_end.caf" <<<"$err" && ! grep -q "truncated" <<<"$err" &&
    [ -z "$(find out -mindepth 1)" ]; then
    ok "CAF of data size -1: not called truncated (libsndfile: ${err#*to_end.caf: })"
else
    bad "CAF of data size -1 (rc $rc)" "$err"
fi
left=$(find . -name '*.tmp-*')
[ -z "$left" ] && ok "no temporary files left anywhere" || bad "temporary files left" "$left"
unchanged && ok "every input byte-identical at the end" || bad "inputs changed"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
