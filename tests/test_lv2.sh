#!/usr/bin/env bash
# test_lv2.sh - end-to-end tests of the LV2 bundle limpid.lv2 with Debian's tools.
#
# usage: bash tests/test_lv2.sh PATH_TO_LIMPID WORKDIR
#
# The bundle is BUILD/limpid.lv2 next to the limpid binary (or $LIMPID_LV2_BUNDLE). Checks:
#   - lv2_validate (lv2-dev + sordi) on the bundle's TTL: 0 errors;
#   - limpid.so exports lv2_descriptor and nothing else;
#   - lv2file (an offline lilv host with urid:map and the worker): examples/noisy_speech.flac
#     through the mono plugin (length kept, not silent), block sizes 32 / 333 / 4096 give the
#     same bytes, the presets load, a stereo file through the stereo plugin (L = R in gives
#     L = R out), a 44.1 kHz file;
#   - the plugin's output equals `limpid denoise --steps S` (S = 1, 2, 4) on the same 48 kHz
#     file once the plugin's latency is removed (lv2file does not compensate latency: the
#     input is padded with LATENCY zeros and the first LATENCY output samples dropped).
#     Tolerance 1e-5 absolute: the CLI runs the same engine (limpid_stream) with the same
#     seed on the same samples, so the outputs should be identical; the margin is only there
#     so that a different float summation order cannot fail the test, and the measured
#     difference is printed. The CLI gets the bundle's copy of the model (= models/rt/rt.lpm).
# The lilv test host (test_lv2host) covers block size 1, in-place buffers, latency, state,
# the worker and the real-time checks.
# Prints "N passed, N failed"; exits non-zero when any check failed.
set -u

LIMPID=${1:?usage: test_lv2.sh PATH_TO_LIMPID WORKDIR}
WORK=${2:?usage: test_lv2.sh PATH_TO_LIMPID WORKDIR}
case $LIMPID in /*) ;; *) LIMPID=$PWD/$LIMPID ;; esac
case $WORK in /*) ;; *) WORK=$PWD/$WORK ;; esac
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUNDLE=${LIMPID_LV2_BUNDLE:-$(dirname "$LIMPID")/limpid.lv2}
MONO=https://limpid.example/plugins/denoise-mono
STEREO=https://limpid.example/plugins/denoise-stereo

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/       /' | head -20; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

if [ ! -f "$BUNDLE/limpid.so" ] || [ ! -f "$BUNDLE/manifest.ttl" ]; then
    bad "bundle $BUNDLE not built (configure with -DLIMPID_BUILD_LV2=ON, needs lv2-dev)"
    finish
fi
for tool in sox python3 lv2_validate sord_validate lv2file nm; do
    if ! command -v $tool >/dev/null 2>&1; then
        bad "$tool is needed by this test (bash scripts/deps.sh installs it)"
    fi
done
[ "$fail" -eq 0 ] || finish

rm -rf "$WORK"
mkdir -p "$WORK/lv2" || exit 1
cd "$WORK" || exit 1
# an LV2_PATH holding only this bundle (and the spec bundles for lilv)
ln -s "$BUNDLE" lv2/limpid.lv2
export LV2_PATH="$WORK/lv2:/usr/lib/lv2"
# a sanitizer build of the plugin needs its runtime loaded first in a foreign host
HOSTENV=()
if ldd "$BUNDLE/limpid.so" 2>/dev/null | grep -q libasan; then
    HOSTENV=(env "LD_PRELOAD=$(gcc -print-file-name=libasan.so)" ASAN_OPTIONS=detect_leaks=0)
    if ldd "$BUNDLE/limpid.so" | grep -q libubsan; then
        HOSTENV[1]="${HOSTENV[1]}:$(gcc -print-file-name=libubsan.so)"
    fi
fi
lv2f() { "${HOSTENV[@]}" lv2file "$@"; }

# ---- TTL and binary --------------------------------------------------------------------------
out=$(lv2_validate "$BUNDLE"/*.ttl 2>&1)
if [ $? -eq 0 ] && printf '%s\n' "$out" | grep -q '^Found 0 errors'; then
    ok "lv2_validate: $(printf '%s\n' "$out" | grep '^Found')"
else
    bad "lv2_validate" "$out"
fi
syms=$(nm -D --defined-only "$BUNDLE/limpid.so" | awk '{print $3}' | sort | tr '\n' ' ')
if [ "$syms" = "lv2_descriptor " ]; then
    ok "limpid.so exports only lv2_descriptor"
else
    bad "limpid.so exports: $syms"
fi
for f in manifest.ttl limpid.ttl presets.ttl rt.lpm; do
    [ -s "$BUNDLE/$f" ] || bad "bundle lacks $f"
done
list=$(lv2f -l 2>&1)
if printf '%s\n' "$list" | grep -q "$MONO\$" && printf '%s\n' "$list" | grep -q "$STEREO\$"; then
    ok "lv2file lists both plugins"
else
    bad "lv2file -l" "$list"
fi
presets=$(lv2f -L "$MONO" 2>&1)
if [ "$(printf '%s\n' "$presets" | grep -c '^Preset: ')" -eq 3 ]; then
    ok "3 presets: $(printf '%s\n' "$presets" | sed -n 's/^Preset: //p' | tr '\n' ' ')"
else
    bad "presets" "$presets"
fi

# ---- python helpers -----------------------------------------------------------------------------
cat >cmp.py <<'EOF'
# cmp.py A.f32 B.f32 [skip_a] [channels]: max |a[skip_a + i] - b[i]| over b's length (a must
# be long enough), and the peak of b; reads raw float32 interleaved frames
import array, math, sys
a = array.array('f', open(sys.argv[1], 'rb').read())
b = array.array('f', open(sys.argv[2], 'rb').read())
skip = int(sys.argv[3]) if len(sys.argv) > 3 else 0
ch = int(sys.argv[4]) if len(sys.argv) > 4 else 1
a = a[skip * ch:]
if len(a) < len(b):
    print("short %d %d" % (len(a), len(b))); sys.exit(1)
d = max(abs(x - y) for x, y in zip(a, b))
finite = all(math.isfinite(x) for x in a)
print("%.3g %.3g %s" % (d, max(abs(y) for y in b), "finite" if finite else "nonfinite"))
EOF
cat >chan.py <<'EOF'
# chan.py X.f32: max |L - R| of a stereo raw float32 file
import array, sys
x = array.array('f', open(sys.argv[1], 'rb').read())
print("%.3g" % max(abs(x[i] - x[i + 1]) for i in range(0, len(x), 2)))
EOF
raw() { sox "$1" -t f32 "$2" "${@:3}" 2>/dev/null; }

# ---- lv2file end to end ----------------------------------------------------------------------
EX=$SRC/examples/noisy_speech.flac
if [ ! -f "$EX" ]; then
    bad "missing $EX"
    finish
fi
if out=$(lv2f -i "$EX" -o speech.flac "$MONO" 2>&1) &&
    [ "$(soxi -s speech.flac 2>/dev/null)" = "$(soxi -s "$EX" 2>/dev/null)" ] &&
    [ "$(soxi -r speech.flac 2>/dev/null)" = 48000 ]; then
    rms=$(sox speech.flac -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}')
    if python3 -c "import sys; sys.exit(0 if float('$rms') > 1e-3 else 1)"; then
        ok "lv2file: noisy_speech.flac through the mono plugin ($(soxi -s speech.flac 2>/dev/null) samples, RMS $rms)"
    else
        bad "lv2file output is silent (RMS $rms)"
    fi
else
    bad "lv2file on noisy_speech.flac" "$out"
fi

sox "$EX" -e floating-point -b 32 in48.wav 2>/dev/null
for b in 32 333 4096; do
    lv2f -i in48.wav -o "b$b.wav" -b $b "$MONO" >/dev/null 2>&1 || bad "lv2file -b $b"
    raw "b$b.wav" "b$b.f32"
done
if [ -s b32.f32 ] && cmp -s b32.f32 b333.f32 && cmp -s b32.f32 b4096.f32; then
    ok "lv2file block sizes 32, 333, 4096: identical output"
else
    bad "block sizes give different output" "$(python3 cmp.py b32.f32 b4096.f32)"
fi

for p in Gentle Voice Strong; do
    if lv2f -i in48.wav -o "p$p.wav" -P "$p" "$MONO" >/dev/null 2>&1; then
        raw "p$p.wav" "p$p.f32"
    else
        bad "preset $p"
    fi
done
if [ -s pGentle.f32 ] && ! cmp -s pGentle.f32 pStrong.f32 && ! cmp -s pVoice.f32 pStrong.f32; then
    ok "presets Gentle, Voice, Strong run and differ"
else
    bad "presets give the same output"
fi

# stereo: L = R in -> L = R out, and a real stereo file
sox in48.wav -c 2 st_same.wav remix 1 1 2>/dev/null
if lv2f -i st_same.wav -o st_same_out.wav "$STEREO" >/dev/null 2>&1; then
    raw st_same_out.wav st_same_out.f32
    d=$(python3 chan.py st_same_out.f32)
    if [ "$d" = 0 ]; then ok "stereo plugin: identical channels in, identical channels out"
    else bad "stereo plugin: L = R in gives |L - R| up to $d"; fi
else
    bad "lv2file with the stereo plugin"
fi
# a real stereo file: the speech left, the speech reversed right
sox -M in48.wav "|sox in48.wav -p reverse" st.wav 2>/dev/null

# 44.1 kHz input: resampled inside the engine, length kept
sox in48.wav -r 44100 in44.wav 2>/dev/null
if lv2f -i in44.wav -o out44.wav "$MONO" >/dev/null 2>&1 &&
    [ "$(soxi -s out44.wav 2>/dev/null)" = "$(soxi -s in44.wav 2>/dev/null)" ] &&
    [ "$(soxi -r out44.wav 2>/dev/null)" = 44100 ]; then
    ok "lv2file at 44.1 kHz"
else
    bad "lv2file at 44.1 kHz"
fi

# ---- plugin = limpid denoise (same engine) -------------------------------------------------------
# the plugin's latency: the model's streaming latency (limpid info) plus one hop, because the
# plugin spreads each frame's work over the next hop (limpid_stream_opts.spread)
L0=$("$LIMPID" info "$BUNDLE/rt.lpm" 2>/dev/null | awk '/^latency/ {print $2}')
HOP=$("$LIMPID" info "$BUNDLE/rt.lpm" 2>/dev/null | sed -n 's/^STFT.* hop \([0-9]*\).*/\1/p')
if ! [ "${L0:-x}" -ge 0 ] 2>/dev/null || ! [ "${HOP:-x}" -gt 0 ] 2>/dev/null; then
    bad "cannot read the model's latency and hop from limpid info"
    finish
fi
L=$((L0 + HOP))
sox in48.wav pad48.wav pad 0 "${L}s" 2>/dev/null
sox st.wav stpad.wav pad 0 "${L}s" 2>/dev/null
for S in 1 2 4; do
    lv2f -i pad48.wav -o "plug$S.wav" -b 333 -p "steps:$S" "$MONO" >/dev/null 2>&1 ||
        bad "lv2file steps $S"
    "$LIMPID" denoise in48.wav -o "cli$S.wav" --model "$BUNDLE/rt.lpm" --steps $S --threads 1 \
        -q --force || bad "limpid denoise --steps $S"
    raw "plug$S.wav" "plug$S.f32"
    raw "cli$S.wav" "cli$S.f32"
    r=$(python3 cmp.py "plug$S.f32" "cli$S.f32" "$L" 2>&1)
    set -- $r - - -
    if [ "$3" = finite ] && python3 -c "import sys; sys.exit(0 if float('$1') <= 1e-5 else 1)" 2>/dev/null; then
        ok "mono plugin = limpid denoise --steps $S after removing $L samples of latency (max diff $1, peak $2)"
    else
        bad "mono plugin vs limpid denoise --steps $S: max diff $1 (peak $2, $3)"
    fi
done
S=2
lv2f -i stpad.wav -o plugst.wav -b 256 -p "steps:$S" "$STEREO" >/dev/null 2>&1 || bad "lv2file stereo"
"$LIMPID" denoise st.wav -o clist.wav --model "$BUNDLE/rt.lpm" --steps $S --threads 1 -q --force ||
    bad "limpid denoise stereo"
raw plugst.wav plugst.f32
raw clist.wav clist.f32
r=$(python3 cmp.py plugst.f32 clist.f32 "$L" 2 2>&1)
set -- $r - - -
if [ "$3" = finite ] && python3 -c "import sys; sys.exit(0 if float('$1') <= 1e-5 else 1)" 2>/dev/null; then
    ok "stereo plugin = limpid denoise on a stereo file (max diff $1)"
else
    bad "stereo plugin vs limpid denoise: max diff $1 ($3)"
fi

finish
