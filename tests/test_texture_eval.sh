#!/usr/bin/env bash
# test_texture_eval.sh - end-to-end tests of `limpid eval --texture`.
#
# usage: bash tests/test_texture_eval.sh PATH_TO_LIMPID WORKDIR
#
# Writes small WAV files with python3 (stdlib wave + struct, fixed seeds): a synthetic rain
# (a low-passed noise bed plus random droplets: short decaying sinusoids) at 22.05 kHz as the
# references, other realisations of the same rain (one of them stereo at 44.1 kHz) as the
# "generated" set, and noise amplitude-modulated at 4 Hz as a wrong texture. Checks: both
# numbers are printed, the same-process set beats the spectrum-matched noise baseline and the
# wrong texture, the reference spread, identical files at distance 0, JSON output, single
# files, a too-short and a silent file fail by name while the others are still scored, usage
# errors (exit 2), and the help. Prints "N passed, N failed"; exits non-zero when any check
# failed.
set -u

LIMPID=${1:?usage: test_texture_eval.sh PATH_TO_LIMPID WORKDIR}
WORK=${2:?usage: test_texture_eval.sh PATH_TO_LIMPID WORKDIR}
case $LIMPID in /*) ;; *) LIMPID=$PWD/$LIMPID ;; esac

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/       /' | head -20; }

if [ ! -x "$LIMPID" ]; then
    echo "limpid executable '$LIMPID' not found"
    exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "python3 is needed by this test"
    exit 1
fi

rm -rf "$WORK"
mkdir -p "$WORK" || exit 1
cd "$WORK" || exit 1

# ---- test files -----------------------------------------------------------------------------
python3 - <<'EOF' || { echo "python3 failed to write the test files"; exit 1; }
import math, os, random, struct, wave

def write(path, x, rate, channels=1):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with wave.open(path, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = bytearray()
        for v in x:
            s = max(-32767, min(32767, int(round(v * 32767))))
            frames += struct.pack("<h", s) * channels
        w.writeframes(bytes(frames))

def rain(seed, seconds, rate):
    r = random.Random(seed)
    n = int(seconds * rate)
    y, x = 0.0, []
    a1 = math.exp(-2 * math.pi * 1000.0 / rate)  # one-pole low-pass at about 1 kHz
    for _ in range(n):
        y = a1 * y + (1 - a1) * r.gauss(0, 1)
        x.append(0.15 * y + 0.01 * r.gauss(0, 1))
    for i in range(n):
        if r.random() >= 60.0 / rate:
            continue
        f = 1000 + 3000 * r.random()
        amp = 0.2 * math.exp(0.7 * r.gauss(0, 1))
        tau = 0.002 + 0.006 * r.random()
        for j in range(min(int(5 * tau * rate), n - i)):
            x[i + j] += amp * math.exp(-j / (tau * rate)) * math.sin(2 * math.pi * f * j / rate)
    peak = max(abs(v) for v in x)
    return [0.8 * v / peak for v in x] if peak > 0.8 else x

def am(seed, seconds, rate):
    r = random.Random(seed)
    ph = 2 * math.pi * r.random()
    return [0.15 * r.gauss(0, 1) * (1 + 0.8 * math.sin(2 * math.pi * 4 * i / rate + ph))
            for i in range(int(seconds * rate))]

for k in range(3):
    write("ref/rain%d.wav" % k, rain(10 + k, 4, 22050), 22050)
write("same/a.wav", rain(20, 4, 22050), 22050)
write("same/sub/b.wav", rain(21, 4, 44100), 44100, channels=2)
write("other/am1.wav", am(30, 4, 22050), 22050)
write("other/am2.wav", am(31, 4, 22050), 22050)
write("mixed/good.wav", rain(40, 4, 22050), 22050)
write("mixed/short.wav", rain(41, 0.2, 22050), 22050)
write("mixed/silent.wav", [0.0] * 22050, 22050)
EOF
echo "not audio" >same/README.txt

# summary NAME: the three numbers of the "generated: D, spectrum-matched noise baseline: B,
# reference spread: S" line of file NAME, space-separated
summary() {
    sed -n 's/^generated: \([^,]*\), spectrum-matched noise baseline: \([^,]*\), reference spread: \([^ ]*\).*/\1 \2 \3/p' "$1"
}

# ---- same process vs noise baseline -------------------------------------------------------------
"$LIMPID" eval --texture --reference ref --generated same --json same.json >same.txt 2>same.err
rc=$?
read -r D B S <<<"$(summary same.txt)"
if [ $rc -eq 0 ] && [ -n "${D:-}" ] && [ -n "${B:-}" ] && grep -q "spectrum-matched noise" same.txt &&
    grep -q "^a.wav " same.txt && grep -q "^sub/b.wav " same.txt; then
    ok "eval --texture prints per-file distances and 'generated: D, spectrum-matched noise baseline: B' ($D, $B, spread $S)"
else
    bad "eval --texture output (rc $rc)" "$(cat same.txt same.err)"
fi
python3 -c "import sys; d, b, s = map(float, sys.argv[1:]); sys.exit(0 if d < 0.5 * b and s < 0.5 * b else 1)" \
    "${D:-nan}" "${B:-nan}" "${S:-nan}" &&
    ok "another realisation of the rain (D $D) beats the spectrum-matched noise baseline (B $B) by 2x, and so does the references' spread ($S)" ||
    bad "same process vs baseline: D $D, B $B, S $S" "$(cat same.txt)"

"$LIMPID" eval --texture --reference ref --generated other >other.txt 2>&1
read -r D2 B2 S2 <<<"$(summary other.txt)"
python3 -c "import sys; d, d2 = map(float, sys.argv[1:]); sys.exit(0 if d2 > 2 * d else 1)" "${D:-nan}" "${D2:-nan}" &&
    ok "a wrong texture (4 Hz AM noise: $D2) is far from the rain references (same process: $D)" ||
    bad "wrong texture: $D2 vs $D" "$(cat other.txt)"
[ "$B2" = "$B" ] && [ "$S2" = "$S" ] && ok "baseline and spread depend on the references only (deterministic)" ||
    bad "baseline/spread changed: $B/$S vs $B2/$S2"

# ---- JSON -----------------------------------------------------------------------------------------
check=$(python3 - "$D" "$B" "$S" <<'EOF'
import json, sys
d, b, s = map(float, sys.argv[1:])
j = json.load(open("same.json"))
assert j["mode"] == "texture" and j["rate"] == 20000 and j["bands"] == 30, j
assert [f["file"] for f in j["files"]] == ["a.wav", "sub/b.wav"], j["files"]
assert len(j["references"]) == 3 and all("distance" in r for r in j["references"])
groups = {"level", "cv", "skew", "kurt", "corr", "mod"}
for f in j["files"]:
    assert set(f["groups"]) == groups and f["distance"] > 0 and abs(f["seconds"] - 4) < 0.01, f
assert j["generated_mean"]["files"] == 2 and abs(j["generated_mean"]["distance"] - d) < 1e-3
assert j["noise_baseline"]["clips"] == 3 and abs(j["noise_baseline"]["distance"] - b) < 1e-3
assert j["reference_spread"]["clips"] == 3 and abs(j["reference_spread"]["distance"] - s) < 1e-3
mean = sum(r["distance"] for r in j["references"]) / 3
assert abs(mean - s) < 1e-3, (mean, s)
print("ok")
EOF
)
[ "$check" = ok ] && ok "JSON holds every file, the group terms and the three summaries" || bad "JSON" "$check"

# ---- identical files, single files ------------------------------------------------------------------
out=$("$LIMPID" eval --texture --reference ref/rain0.wav --generated ref/rain0.wav 2>&1)
rc=$?
read -r D0 B0 S0 <<<"$(summary <(printf '%s\n' "$out"))"
[ $rc -eq 0 ] && [ "$D0" = "0.000" ] && [ "$S0" = "n/a" ] && grep -q "needs 2 reference clips" <<<"$out" &&
    ok "a file against itself: distance 0.000; one reference: spread n/a" || bad "identical single files (rc $rc)" "$out"

# ---- failures by name ----------------------------------------------------------------------------------
out=$("$LIMPID" eval --texture --reference ref --generated mixed 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -q "mixed/short.wav.*at least" <<<"$out" && grep -q "mixed/silent.wav.*silent" <<<"$out" &&
    grep -q "^good.wav " <<<"$out" && grep -q "^generated (1 file)" <<<"$out"; then
    ok "a too-short and a silent file fail by name (exit 1), the others are still scored"
else
    bad "short/silent files (rc $rc)" "$out"
fi
out=$("$LIMPID" eval --texture --reference ref --generated no_such_dir 2>&1)
[ $? -eq 1 ] && grep -q "no_such_dir" <<<"$out" && ok "a missing folder -> exit 1 naming it" || bad "missing folder" "$out"
mkdir -p empty
out=$("$LIMPID" eval --texture --reference empty --generated same 2>&1)
[ $? -eq 1 ] && grep -q "empty: no audio files" <<<"$out" && ok "no reference audio -> exit 1" || bad "empty references" "$out"

# ---- usage ---------------------------------------------------------------------------------------------
err=$("$LIMPID" eval --texture --reference ref 2>&1)
[ $? -eq 2 ] && grep -q -- "--generated" <<<"$err" && ok "--texture without --generated -> exit 2" || bad "missing --generated" "$err"
err=$("$LIMPID" eval --texture --reference ref --generated same --clean ref 2>&1)
[ $? -eq 2 ] && grep -q -- "--clean" <<<"$err" && ok "--texture with --clean -> exit 2" || bad "--texture with --clean" "$err"
err=$("$LIMPID" eval --reference ref --generated same 2>&1)
[ $? -eq 2 ] && grep -q -- "--texture" <<<"$err" && ok "--reference without --texture -> exit 2" || bad "--reference without --texture" "$err"
out=$("$LIMPID" eval --help 2>&1)
[ $? -eq 0 ] && grep -q "limpid eval --texture --reference DIR --generated DIR" <<<"$out" &&
    grep -q "spectrum-matched noise baseline" <<<"$out" && ok "eval --help describes --texture" || bad "help" "$out"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
