#!/usr/bin/env bash
# test_cli.sh - end-to-end tests of the limpid command-line tool.
#
# usage: bash tests/test_cli.sh PATH_TO_LIMPID WORKDIR
#
# Makes a tiny synthetic corpus with sox in WORKDIR (tones at 16 kHz and 44.1 kHz, mono and
# stereo; white and pink noise; a non-audio file that must be skipped), then checks the
# command dispatch, every command's --help, usage errors (exit 2), training a tiny denoising
# model, `limpid info` (text and JSON), overwrite protection, exact resume, corrupt models,
# config-file errors, a texture model and Ctrl-C. Prints "N passed, N failed"; exits non-zero
# when any check failed. Every training run uses --threads 1: results are deterministic for a
# given thread count.
set -u

LIMPID=${1:?usage: test_cli.sh PATH_TO_LIMPID WORKDIR}
WORK=${2:?usage: test_cli.sh PATH_TO_LIMPID WORKDIR}
case $LIMPID in /*) ;; *) LIMPID=$PWD/$LIMPID ;; esac

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/       /' | head -20; }
# check NAME COMMAND...: passes when the command succeeds
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

if [ ! -x "$LIMPID" ]; then
    echo "limpid executable '$LIMPID' not found"
    exit 1
fi
if ! command -v sox >/dev/null 2>&1; then
    echo "sox is needed to make the test corpus"
    exit 1
fi

rm -rf "$WORK"
mkdir -p "$WORK" || exit 1
cd "$WORK" || exit 1

# ---- corpus ---------------------------------------------------------------------------------
# -R: repeatable (fixed seed for the noise generators)
mkdir -p clean/sub noise tex/rain tex/wind
sox -R -n -r 16000 -c 1 clean/tone440.wav synth 2 sine 440 vol 0.5 &&
sox -R -n -r 44100 -c 2 clean/tone660_stereo.wav synth 1.5 sine 660 sine 330 vol 0.5 &&
sox -R -n -r 16000 -c 1 clean/sub/tone1000.flac synth 1 sine 1000 vol 0.4 &&
sox -R -n -r 44100 -c 1 clean/sub/chirp.wav synth 1 sine 200-2000 vol 0.5 &&
sox -R -n -r 16000 -c 1 noise/white.wav synth 2 whitenoise vol 0.3 &&
sox -R -n -r 44100 -c 2 noise/pink_stereo.wav synth 2 pinknoise vol 0.3 &&
sox -R -n -r 16000 -c 1 tex/rain/r1.wav synth 1 pinknoise vol 0.3 &&
sox -R -n -r 16000 -c 1 tex/rain/r2.wav synth 1 pinknoise vol 0.2 &&
sox -R -n -r 16000 -c 1 tex/wind/w1.wav synth 1 brownnoise vol 0.3 &&
sox -R -n -r 16000 -c 1 tex/wind/w2.wav synth 1 brownnoise vol 0.2 ||
    { echo "sox failed to make the corpus"; exit 1; }
echo "not audio" >clean/README.txt

# ---- dispatch, help, usage errors --------------------------------------------------------------
out=$("$LIMPID" --version 2>&1)
[ "$out" = "limpid 0.1.0" ] && ok "--version prints 'limpid 0.1.0'" || bad "--version" "$out"

out=$("$LIMPID" --help 2>&1)
rc=$?
if [ $rc -eq 0 ] && grep -q train <<<"$out" && grep -q info <<<"$out"; then
    ok "--help lists the commands"
else
    bad "--help lists the commands (rc $rc)" "$out"
fi
# every listed command: the lines after "Commands:" that start with two spaces
commands=$(sed -n '/^Commands:/,/^$/p' <<<"$out" | awk '/^  [a-z]/ {print $1}')
[ -n "$commands" ] || bad "no commands found in --help"
for c in $commands; do
    out=$("$LIMPID" "$c" --help 2>&1)
    rc=$?
    if [ $rc -eq 0 ] && grep -q "usage: limpid $c" <<<"$out"; then ok "$c --help"; else bad "$c --help (rc $rc)" "$out"; fi
    err=$("$LIMPID" "$c" --no-such-option 2>&1 >/dev/null)
    rc=$?
    if [ $rc -eq 2 ] && grep -q -- "--no-such-option" <<<"$err" && grep -q "limpid $c --help" <<<"$err"; then
        ok "$c: unknown option -> exit 2 naming it"
    else
        bad "$c: unknown option (rc $rc)" "$err"
    fi
done
out=$("$LIMPID" help train 2>&1)
[ $? -eq 0 ] && grep -q "usage: limpid train" <<<"$out" && ok "help train" || bad "help train" "$out"

err=$("$LIMPID" frobnicate 2>&1)
rc=$?
[ $rc -eq 2 ] && grep -q frobnicate <<<"$err" && ok "unknown command -> exit 2" || bad "unknown command (rc $rc)" "$err"
err=$("$LIMPID" --frob 2>&1)
[ $? -eq 2 ] && grep -q -- --frob <<<"$err" && ok "unknown global option -> exit 2" || bad "unknown global option" "$err"
"$LIMPID" >/dev/null 2>&1
[ $? -eq 2 ] && ok "no command -> exit 2" || bad "no command -> exit 2"

err=$("$LIMPID" train --task denoise --clean clean --noise noise -o x.lpd --steps 2>&1)
[ $? -eq 2 ] && grep -q -- "--steps" <<<"$err" && ok "missing option value -> exit 2" || bad "missing option value" "$err"
err=$("$LIMPID" train --task denoise --clean clean --noise noise -o x.lpd --steps abc 2>&1)
[ $? -eq 2 ] && grep -q "abc" <<<"$err" && ok "bad option value -> exit 2" || bad "bad option value" "$err"
err=$("$LIMPID" train --task denoise --clean clean -o x.lpd --steps 5 2>&1)
[ $? -eq 2 ] && grep -q -- "--noise" <<<"$err" && ok "denoise without --noise -> exit 2" || bad "denoise without --noise" "$err"
err=$("$LIMPID" train --task denoise --clean clean --noise noise -o x.lpd --snr 10:5 2>&1)
[ $? -eq 2 ] && ok "bad --snr -> exit 2" || bad "bad --snr" "$err"
err=$("$LIMPID" train --task denoise --preset tiny --rate 16000 --clean clean --noise noise -o x.lpd \
      --steps 2 --mask-loss 0.5 --threads 1 2>&1)
[ $? -eq 2 ] && grep -q "needs a denoiser with 'head = wiener_floor' (this model's head is wiener)" <<<"$err" &&
    ok "--mask-loss on a wiener head -> exit 2, named" || bad "--mask-loss on a wiener head" "$err"
err=$("$LIMPID" train --task denoise --preset tiny --rate 16000 --clean clean --noise noise -o x.lpd \
      --steps 2 --gate-loss 0.5 --threads 1 2>&1)
[ $? -eq 2 ] && grep -q "needs a denoiser with 'head = wiener_floor' and 'floor_gate = 1'" <<<"$err" &&
    ok "--gate-loss without the gate -> exit 2, named" || bad "--gate-loss without the gate" "$err"
err=$("$LIMPID" train --task denoise --clean clean --noise noise -o x.lpd --mask-form sideways 2>&1)
[ $? -eq 2 ] && grep -q "'sideways' for --mask-form (expected ratio or phase)" <<<"$err" &&
    ok "bad --mask-form -> exit 2, named" || bad "bad --mask-form" "$err"
err=$("$LIMPID" info 2>&1)
[ $? -eq 2 ] && ok "info without a model -> exit 2" || bad "info without a model" "$err"
[ ! -e x.lpd ] && ok "usage errors write nothing" || bad "usage errors wrote x.lpd"

# ---- training -----------------------------------------------------------------------------------
TRAIN=(train --task denoise --preset tiny --batch 4 --crop 0.25 --rate 16000 --threads 1
       --clean clean --noise noise --val-every 10 --ckpt-every 10)

out=$("$LIMPID" "${TRAIN[@]}" --steps 30 -o m.lpd 2>train.log)
rc=$?
if [ $rc -eq 0 ] && [ -s m.lpd ] && [ -s m.lpd.ckpt ] && grep -q "final train loss" <<<"$out"; then
    ok "train a tiny denoiser for 30 steps"
else
    bad "train a tiny denoiser (rc $rc)" "$out
$(cat train.log)"
fi
straight_loss=$(grep "final train loss" <<<"$out")
grep -q "README.txt" train.log && bad "non-audio file mentioned without -v" "$(cat train.log)" ||
    ok "non-audio file skipped quietly"
grep -q "1 other file skipped" train.log && ok "skipped file counted" || bad "skipped file counted" "$(cat train.log)"

out=$("$LIMPID" info m.lpd 2>&1)
rc=$?
params=$(awk '/^parameters/ {print $2}' <<<"$out")
if [ $rc -eq 0 ] && [ -n "$params" ] && [ "$params" -gt 0 ] 2>/dev/null; then
    ok "info shows the parameter count ($params)"
else
    bad "info shows the parameter count (rc $rc)" "$out"
fi
for field in "task             denoise" "16000 Hz" "receptive field" "latency" "GMAC/s" "steps          30"; do
    grep -q "$field" <<<"$out" && ok "info shows '$field'" || bad "info shows '$field'" "$out"
done

json=$("$LIMPID" info --json m.lpd 2>&1)
rc=$?
if [ $rc -ne 0 ]; then
    bad "info --json (rc $rc)" "$json"
elif command -v python3 >/dev/null 2>&1; then
    jparams=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["params"])' <<<"$json" 2>&1)
    [ "$jparams" = "$params" ] && ok "info --json is valid JSON with params $jparams" || bad "info --json" "$jparams
$json"
else
    grep -q "\"params\": $params" <<<"$json" && ok "info --json has params" || bad "info --json" "$json"
fi

# ---- overwrite protection -------------------------------------------------------------------------
cp m.lpd m.saved
err=$("$LIMPID" "${TRAIN[@]}" --steps 5 -o m.lpd 2>&1)
rc=$?
if [ $rc -ne 0 ] && cmp -s m.lpd m.saved && grep -q -- "--force" <<<"$err"; then
    ok "existing model not overwritten without --force"
else
    bad "existing model not overwritten (rc $rc)" "$err"
fi
cp m.lpd f.lpd
out=$("$LIMPID" "${TRAIN[@]}" --steps 3 --force -o f.lpd 2>&1)
rc=$?
steps=$("$LIMPID" info --json f.lpd 2>/dev/null | grep '"train_steps"')
[ $rc -eq 0 ] && grep -q '"train_steps": 3' <<<"$steps" && ok "--force overwrites" || bad "--force overwrites (rc $rc)" "$out"

# ---- exact resume -----------------------------------------------------------------------------------
# the same 30-step run split at step 15: the learning-rate schedule spans 30 steps in both, and
# the data of step s depends only on (seed, s), so the final losses must match bit for bit
out=$("$LIMPID" "${TRAIN[@]}" --steps 30 --stop-at 15 -o r.lpd 2>r1.log)
rc=$?
[ $rc -eq 0 ] && "$LIMPID" info r.lpd | grep -q "steps          15" && ok "--stop-at 15 writes a 15-step model" ||
    bad "--stop-at (rc $rc)" "$out
$(cat r1.log)"
# ---- checkpoints: info and export ------------------------------------------------------------------
# the checkpoint of the stopped run (step 15 of 30) says where it is, and exporting it gives the
# model train wrote when it stopped there: the same weights, so the same denoised audio
out=$("$LIMPID" info r.lpd.ckpt 2>&1)
rc=$?
[ $rc -eq 0 ] && grep -q "^checkpoint" <<<"$out" && grep -q "step 15 of 30" <<<"$out" &&
    ok "info describes a checkpoint (step 15 of 30)" || bad "info on a checkpoint (rc $rc)" "$out"
json=$("$LIMPID" info --json r.lpd.ckpt 2>&1)
jstep=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["checkpoint"]["step"], d["checkpoint"]["total_steps"])' <<<"$json" 2>&1)
[ "$jstep" = "15 30" ] && ok "info --json on a checkpoint: step 15 of 30" || bad "info --json on a checkpoint" "$jstep"
out=$("$LIMPID" export r.lpd.ckpt -o r15.lpd 2>&1)
rc=$?
if [ $rc -eq 0 ] && grep -q "step 15 of 30, averaged" <<<"$out" &&
    "$LIMPID" denoise --model r.lpd --threads 1 -q -o d_train.wav clean/tone440.wav &&
    "$LIMPID" denoise --model r15.lpd --threads 1 -q -o d_export.wav clean/tone440.wav &&
    cmp -s d_train.wav d_export.wav; then
    ok "export of the step-15 checkpoint denoises like train's step-15 model"
else
    bad "export equals train's model (rc $rc)" "$out"
fi
"$LIMPID" info r15.lpd | grep -q "steps          15" && ok "exported model has 15 steps" || bad "exported model has 15 steps"
cp r15.lpd r15.saved
err=$("$LIMPID" export r.lpd.ckpt -o r15.lpd 2>&1)
rc=$?
[ $rc -eq 1 ] && grep -q -- "--force" <<<"$err" && cmp -s r15.lpd r15.saved &&
    ok "export does not overwrite without --force" || bad "export overwrite protection (rc $rc)" "$err"
out=$("$LIMPID" export r.lpd.ckpt -o r15.lpd --raw --force 2>&1)
rc=$?
if [ $rc -eq 0 ] && grep -q "raw weights" <<<"$out" &&
    "$LIMPID" denoise --model r15.lpd --threads 1 -q -o d_raw.wav clean/tone440.wav &&
    ! cmp -s d_raw.wav d_export.wav; then
    ok "export --raw --force writes other (the raw) weights"
else
    bad "export --raw --force (rc $rc)" "$out"
fi
err=$("$LIMPID" export m.lpd -o x.lpd 2>&1)
rc=$?
[ $rc -eq 1 ] && grep -q "m.lpd" <<<"$err" && grep -q "not a training checkpoint" <<<"$err" && [ ! -e x.lpd ] &&
    ok "export of a model file -> exit 1 naming it" || bad "export of a model file (rc $rc)" "$err"
err=$("$LIMPID" export r.lpd.ckpt -o r.lpd.ckpt 2>&1)
[ $? -eq 2 ] && ok "export refuses to write over its checkpoint" || bad "export onto its checkpoint" "$err"

out=$("$LIMPID" train --resume r.lpd.ckpt --clean clean --noise noise --threads 1 --val-every 10 \
      --ckpt-every 10 -o r.lpd 2>r2.log)
rc=$?
resumed_loss=$(grep "final train loss" <<<"$out")
if [ $rc -eq 0 ] && [ -n "$straight_loss" ] && [ "$resumed_loss" = "$straight_loss" ]; then
    ok "resume reaches the straight run's losses ($resumed_loss)"
else
    bad "resume equals the straight run (rc $rc)" "straight: $straight_loss
resumed:  $resumed_loss
$(cat r2.log)"
fi
"$LIMPID" info r.lpd | grep -q "steps          30" && ok "resumed model has 30 steps" || bad "resumed model has 30 steps"
err=$("$LIMPID" train --resume r.lpd.ckpt --clean clean --noise noise --lr 0.1 -o r.lpd 2>&1)
[ $? -eq 2 ] && ok "--resume refuses --lr" || bad "--resume refuses --lr" "$err"

# ---- corrupt and missing models ------------------------------------------------------------------------
python3 - <<'EOF' 2>/dev/null || { cp m.lpd flip.lpd; printf '\xff\xff\xff\xff' | dd of=flip.lpd bs=1 seek=2000 conv=notrunc 2>/dev/null; }
d = bytearray(open("m.lpd", "rb").read())
for i in range(2000, 2004):
    d[i] ^= 0xFF
open("flip.lpd", "wb").write(d)
EOF
head -c 300 m.lpd >trunc.lpd
echo "this is not a model" >text.lpd
: >empty.lpd
for f in flip.lpd trunc.lpd text.lpd empty.lpd missing.lpd; do
    err=$("$LIMPID" info "$f" 2>&1 >/dev/null)
    rc=$?
    if [ $rc -ne 0 ] && [ $rc -ne 2 ] && grep -q "$f" <<<"$err"; then
        ok "info $f -> exit $rc naming the file"
    else
        bad "info $f (rc $rc)" "$err"
    fi
done
err=$("$LIMPID" train --resume trunc.lpd --clean clean --noise noise -o z.lpd 2>&1)
rc=$?
[ $rc -ne 0 ] && grep -q trunc.lpd <<<"$err" && ok "resume from a bad checkpoint fails naming it" || bad "resume from a bad checkpoint (rc $rc)" "$err"

# ---- config files -------------------------------------------------------------------------------------------
printf '# tiny override\nchannels = 8\n\nbogus_key = 3\n' >unknown.cfg
err=$("$LIMPID" "${TRAIN[@]}" --steps 2 --config unknown.cfg -o c.lpd 2>&1)
rc=$?
[ $rc -eq 2 ] && grep -q "unknown.cfg:4" <<<"$err" && grep -q bogus_key <<<"$err" &&
    ok "config: unknown key -> exit 2 with file:line" || bad "config unknown key (rc $rc)" "$err"
printf 'lr = fast\n' >badval.cfg
err=$("$LIMPID" "${TRAIN[@]}" --steps 2 --config badval.cfg -o c.lpd 2>&1)
rc=$?
[ $rc -eq 2 ] && grep -q "badval.cfg:1" <<<"$err" && grep -q "lr" <<<"$err" &&
    ok "config: bad value -> exit 2 with file:line" || bad "config bad value (rc $rc)" "$err"
printf 'channels = 8   # narrower\r\nlayers=2\nschedule = linear\nbeta_end = 0.02\nwarmup = 0\n' >good.cfg
out=$("$LIMPID" "${TRAIN[@]}" --steps 3 --config good.cfg -o c.lpd 2>&1)
rc=$?
info=$("$LIMPID" info c.lpd 2>&1)
[ $rc -eq 0 ] && grep -q "8 channels, 2 layers" <<<"$info" && grep -q "linear schedule" <<<"$info" &&
    ok "config: values override the preset" || bad "config overrides (rc $rc)" "$out
$info"

printf 'mask_form = sideways\n' >badform.cfg
err=$("$LIMPID" "${TRAIN[@]}" --steps 2 --config badform.cfg -o cbad.lpd 2>&1)
rc=$?
[ $rc -eq 2 ] && grep -q "badform.cfg:1" <<<"$err" && grep -q "ratio or phase" <<<"$err" &&
    ok "config: bad mask_form -> exit 2 with file:line" || bad "config bad mask_form (rc $rc)" "$err"
# the mask loss's two forms reach the trainer: the same seed and data, other losses
printf 'head = wiener_floor\ncond = logpow_floor\nloss_weight = 1\nloss_norm = item\nmask_loss = 0.5\n' >mratio.cfg
{ cat mratio.cfg; printf 'mask_form = phase\n'; } >mphase.cfg
mr=$("$LIMPID" "${TRAIN[@]}" --steps 3 --config mratio.cfg -o mr.lpd 2>&1 | grep "final train loss")
mp=$("$LIMPID" "${TRAIN[@]}" --steps 3 --config mphase.cfg -o mp.lpd 2>&1 | grep "final train loss")
mp2=$("$LIMPID" "${TRAIN[@]}" --steps 3 --config mratio.cfg --mask-form phase -o mp2.lpd 2>&1 |
      grep "final train loss")
[ -n "$mr" ] && [ -n "$mp" ] && [ "$mr" != "$mp" ] && [ "$mp" = "$mp2" ] &&
    ok "mask_form = phase and --mask-form phase train alike, not as ratio" ||
    bad "mask forms (ratio '$mr', phase '$mp', --mask-form phase '$mp2')"
# a band-resolved network (bands): trains, says so in info, denoises a file to its exact length
printf 'head = wiener_floor\ncond = logpow_floor\nfloor_gate = 1\nbands = 8\nband_context = 2\n' >band.cfg
out=$("$LIMPID" "${TRAIN[@]}" --steps 3 --config band.cfg --gate-loss 0.5 -o band.lpd 2>&1)
rc=$?
info=$("$LIMPID" info band.lpd 2>&1)
if [ $rc -eq 0 ] && grep -q "band-resolved stack (8 bands, 2 neighbours each side)" <<<"$info" &&
    "$LIMPID" denoise --model band.lpd --threads 1 -q -o band.wav clean/tone440.wav &&
    [ "$(soxi -s band.wav)" = "$(soxi -s clean/tone440.wav)" ]; then
    ok "config: a band-resolved model trains, shows in info and denoises to the input's length"
else
    bad "band-resolved model (rc $rc)" "$out
$info"
fi
printf 'head = wiener_floor\ncond = logpow_floor\nbands = 8\ncond_snr = 1\n' >bandsnr.cfg
err=$("$LIMPID" "${TRAIN[@]}" --steps 2 --config bandsnr.cfg -o bsnr.lpd 2>&1)
rc=$?
[ $rc -eq 2 ] && grep -q "band-resolved stack (bands) does not go with" <<<"$err" && [ ! -e bsnr.lpd ] &&
    ok "config: bands with cond_snr -> exit 2, named" || bad "bands with cond_snr (rc $rc)" "$err"
# augmentation: other training items (another loss), recorded in the model's data line
a1=$("$LIMPID" "${TRAIN[@]}" --steps 3 --augment 1 -o aug.lpd 2>&1 | grep "final train loss")
a0=$("$LIMPID" "${TRAIN[@]}" --steps 3 -o noaug.lpd 2>&1 | grep "final train loss")
[ -n "$a1" ] && [ -n "$a0" ] && [ "$a1" != "$a0" ] && "$LIMPID" info aug.lpd | grep -q "augment=1" &&
    ! "$LIMPID" info noaug.lpd | grep -q "augment=" &&
    ok "--augment 1 trains on other items and is recorded" || bad "--augment ('$a1' vs '$a0')"
err=$("$LIMPID" "${TRAIN[@]}" --steps 3 --augment 1.5 -o aug2.lpd 2>&1)
[ $? -eq 2 ] && grep -q -- "--augment" <<<"$err" && ok "--augment 1.5 -> exit 2" || bad "--augment 1.5" "$err"

# ---- texture --------------------------------------------------------------------------------------------------
out=$("$LIMPID" train --task texture --preset tiny --domain wave --steps 4 --batch 2 --crop 0.05 \
      --threads 1 --clean tex -o t.lpd 2>t.log)
rc=$?
if [ $rc -eq 0 ] && [ "$(cat t.lpd.classes 2>/dev/null)" = "$(printf 'rain\nwind')" ]; then
    ok "texture model with classes file"
else
    bad "texture model (rc $rc)" "$out
$(cat t.log)"
fi
"$LIMPID" info t.lpd | grep -q "0=rain, 1=wind" && ok "info lists the classes" || bad "info lists the classes"

# ---- Ctrl-C -----------------------------------------------------------------------------------------------------
"$LIMPID" "${TRAIN[@]}" --steps 1000000 --val-every 0 --ckpt-every 0 -o int.lpd >int.out 2>int.log &
pid=$!
# wait until steps are running (the first progress line, at step 50), then interrupt
for _ in $(seq 1 1200); do
    grep -q "^step " int.log 2>/dev/null && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
done
kill -INT $pid 2>/dev/null
wait $pid
rc=$?
if [ $rc -eq 130 ] && [ -s int.lpd ] && [ -s int.lpd.ckpt ] && "$LIMPID" info int.lpd >/dev/null 2>&1; then
    ok "SIGINT stops cleanly: exit 130, model and checkpoint written"
else
    bad "SIGINT (rc $rc)" "$(cat int.out int.log)"
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
