#!/bin/bash
# build_data.sh: training and held-out data of limpid's texture model, from Debian 12 packages.
#
#   bash models/textures/build_data.sh [--no-install] [--jobs N] OUT_DIR
#
# Classes: birds, fire, night, rain, stream, wind (see models/textures/README.md for why these
# and not crowd, surf or machinery, and models/textures/SOURCES.md for the survey).
#
# Output (48 kHz mono 24-bit FLAC, leading/trailing silence trimmed, clips under 3 s dropped,
# every recording set to -24 dBFS RMS, lowered where its peak would pass -1 dBFS):
#   OUT_DIR/train/CLASS/     training material: real recordings in pieces of <= 12 s, and
#                            synthetic clips (synth_*.flac, models/textures/synth.py) where a
#                            class has under 5 min of real training audio
#   OUT_DIR/heldout/CLASS/   whole recordings held out for `limpid eval --texture` (about 20-25 %
#                            of each class's real material, in pieces of 10-20 s; never synthetic;
#                            no recording is on both sides)
#   OUT_DIR/manifest.tsv     path class split package orig_path duration_s kind orig_rate group
#                            (kind: real or synth; orig_rate: the source's rate, so its band
#                            stops at orig_rate/2; group: one recording, or several files cut
#                            from one recording, which always stay on one side)
#   OUT_DIR/packages.tsv     the packages read, their versions, installed or unpacked
#   OUT_DIR/summary.txt      minutes per class: real train, real held-out, synthetic train
#
# Packages: the data packages are read in place when installed; otherwise they are fetched
# with `apt-get download` and unpacked with `dpkg -x` under OUT_DIR/.work/pkg (no game gets
# installed; about 1.9 GB of downloads when none is there). Tools (sox, python3-numpy) are
# installed with apt-get unless --no-install. Audio is read only from the packages listed in
# DATA_PKGS (an allow-list, checked for every source); the packages DEVELOPERS.md reserves for
# independent evaluation are not among them.
#
# Deterministic: fixed table of sources, md5 and near-duplicate removal in table order, sox -R,
# seeded synthesis. A rerun into the same OUT_DIR skips the work already done (per-item
# manifest fragments under OUT_DIR/.work); after changing this recipe use a fresh OUT_DIR.
set -euo pipefail

INSTALL=1; JOBS=2; OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-install) INSTALL=0 ;;
    --jobs) JOBS="$2"; shift ;;
    --jobs=*) JOBS="${1#--jobs=}" ;;
    -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) OUT="$1" ;;
  esac
  shift
done
[ -n "$OUT" ] || { echo "usage: $0 [--no-install] [--jobs N] OUT_DIR" >&2; exit 2; }

export LC_ALL=C.UTF-8
T0=$(date +%s)
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3          # Debian's python, where python3-numpy lives (not a pyenv shim)
SEED=5005                    # synthesis seeds: SEED + clip index (per class, see synth.py)
LEVEL_DB=-24                 # RMS level of every recording and synthetic clip
PEAK_DB=-1                   # ... unless the peak would pass this
MIN_S=3                      # shorter clips (after trimming) are dropped
TRAIN_PIECE_S=12             # training recordings are cut into equal pieces of at most this
EVAL_PIECE_S=10              # held-out recordings: equal pieces of at least this (whole if shorter)
SYNTH_TARGET_S=300           # synthetic clips top a class's real training audio up to this ...
SYNTH_MAX_RATIO=3            # ... but to at most this many times the real training audio
SYNTH_CLIP_S=12
DUP_THRESHOLD=0.9            # normalised cross-correlation above which two files are one recording

# ---------------------------------------------------------------- packages
TOOLS="sox libsox-fmt-all python3 python3-numpy coreutils gawk"
DATA_PKGS="flare-game megaglest-data redeclipse-data supertuxkart-data wesnoth-1.16-data
  supertux-data minetest-data lugaru-data"
if [ $INSTALL = 1 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086
  if ! apt-get install -y --no-install-recommends $TOOLS >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y --no-install-recommends $TOOLS >/dev/null
  fi
fi
for t in sox soxi md5sum gawk apt-get dpkg-deb; do
  command -v $t >/dev/null || { echo "missing tool: $t" >&2; exit 1; }
done
$PY -c 'import numpy' 2>/dev/null || { echo "missing: $PY with numpy (python3-numpy)" >&2; exit 1; }

mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
WORK="$OUT/.work"
mkdir -p "$WORK/deb" "$WORK/pkg" "$WORK/conv" "$WORK/man" "$WORK/tmp"
declare -A ROOT
: > "$OUT/packages.tsv.part"
for p in $DATA_PKGS; do
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ]; then
    ROOT[$p]=/
    printf '%s\t%s\tinstalled\n' "$p" "$(dpkg-query -W -f='${Version}' "$p")" >> "$OUT/packages.tsv.part"
    continue
  fi
  d="$WORK/pkg/$p"
  if [ ! -f "$d/.unpacked" ]; then
    echo "  fetching $p (apt-get download, unpacked with dpkg -x, not installed)"
    rm -rf "$d"; rm -f "$WORK/deb/${p}_"*.deb
    if ! (cd "$WORK/deb" && apt-get download "$p" >/dev/null 2>&1); then
      [ $INSTALL = 1 ] && apt-get update -qq
      (cd "$WORK/deb" && apt-get download "$p" >/dev/null)
    fi
    deb=$(ls "$WORK/deb/${p}_"*.deb | head -1)
    mkdir -p "$d"; dpkg-deb -x "$deb" "$d"; touch "$d/.unpacked"
  fi
  ROOT[$p]=$d/
  deb=$(ls "$WORK/deb/${p}_"*.deb 2>/dev/null | head -1 || true)
  v=$([ -n "$deb" ] && dpkg-deb -f "$deb" Version || echo "?")
  printf '%s\t%s\tunpacked\n' "$p" "$v" >> "$OUT/packages.tsv.part"
done
mv "$OUT/packages.tsv.part" "$OUT/packages.tsv"

# ---------------------------------------------------------------- the sources
# class  split  package  group  path (under usr/share/games of the package)
# A group is one recording (or files cut from one recording): it is never split between
# train and heldout. Held-out choices: long, texture-like recordings, 20-27 % of each class's
# real seconds, preferring recordings the denoiser's noise corpus does not use.
# Left out on purpose (each checked): redeclipse hollowwind = blowwind (identical audio),
# megaglest winter_forest wind = winter wind at another gain, megaglest desert2 day = a
# stretch of desert2 night (wind, no birds), redeclipse alienwind/dizzywind (tonal, processed),
# lavarumble1/2, lava1/2, minetest and supertux lava (lava rumble, not fire), cavedrip and
# flare cave_droplets (drips, not running water), lugaru DesertAmbient (wind with calls),
# lincity-ng (11 kHz clips of at most 5 s), widelands (events, not textures).
SOURCES="$WORK/sources.tsv"
cat > "$SOURCES" <<'EOF'
rain	heldout	supertux-data	supertux_rain	supertux2/sounds/rain.wav
rain	heldout	megaglest-data	megaglest_autumn_rain	megaglest/tilesets/autumn/sounds/rain.ogg
rain	train	flare-game	flare_empyrean_rain	flare/mods/empyrean_campaign/soundfx/environment/rain.ogg
rain	train	megaglest-data	megaglest_birch_forest_rain	megaglest/tilesets/birch_forest/sounds/rain.ogg
rain	train	megaglest-data	megaglest_desert2_rain	megaglest/tilesets/desert2/sounds/rain.wav
rain	train	megaglest-data	megaglest_dark_forest_rain	megaglest/tilesets/dark_forest/sounds/rain.ogg
rain	train	supertuxkart-data	stk_rain	supertuxkart/data/sfx/rain.ogg
wind	heldout	redeclipse-data	redeclipse_wastewind	redeclipse/data/sounds/ambience/wastewind.ogg
wind	heldout	megaglest-data	megaglest_winter_wind	megaglest/tilesets/winter/sounds/wind.ogg
wind	train	redeclipse-data	redeclipse_wind	redeclipse/data/sounds/ambience/wind.ogg
wind	train	redeclipse-data	redeclipse_blowwind	redeclipse/data/sounds/ambience/blowwind.ogg
wind	train	flare-game	flare_wind_loop	flare/mods/fantasycore/soundfx/environment/wind_loop.ogg
wind	train	flare-game	flare_cave_wind_loop	flare/mods/fantasycore/soundfx/environment/cave_wind_loop.ogg
wind	train	lugaru-data	lugaru_wind	lugaru/Sounds/Wind.ogg
wind	train	supertux-data	supertux_tree_howling	supertux2/sounds/tree_howling.ogg
stream	heldout	redeclipse-data	redeclipse_river	redeclipse/data/sounds/ambience/river.ogg
stream	heldout	supertux-data	supertux_waterfall	supertux2/sounds/waterfall.wav
stream	train	redeclipse-data	redeclipse_waterfall2	redeclipse/data/sounds/ambience/waterfall2.ogg
stream	train	redeclipse-data	redeclipse_waterfall3	redeclipse/data/sounds/ambience/waterfall3.ogg
stream	train	redeclipse-data	redeclipse_creek	redeclipse/data/sounds/ambience/creek.ogg
stream	train	redeclipse-data	redeclipse_waterfall_set	redeclipse/data/sounds/ambience/waterfall.ogg
stream	train	redeclipse-data	redeclipse_waterfall_set	redeclipse/data/sounds/ambience/waterfall_deep.ogg
stream	train	redeclipse-data	redeclipse_waterfall_set	redeclipse/data/sounds/ambience/waterfall_huge.ogg
stream	train	redeclipse-data	redeclipse_waterfall_set	redeclipse/data/sounds/ambience/waterfall_indoor.ogg
stream	train	redeclipse-data	redeclipse_waterfall_set	redeclipse/data/sounds/ambience/waterfall_medium.ogg
stream	train	redeclipse-data	redeclipse_water	redeclipse/data/sounds/ambience/water.ogg
stream	train	supertuxkart-data	stk_river_loop	supertuxkart/data/sfx/river_loop.ogg
stream	train	supertuxkart-data	stk_waterfall_loop	supertuxkart/data/sfx/waterfall_loop_2.ogg
stream	train	flare-game	flare_river_loop	flare/mods/fantasycore/soundfx/environment/river_loop.ogg
stream	train	minetest-data	minetest_water	minetest/games/minetest_game/mods/env_sounds/sounds/env_sounds_water.1.ogg
stream	train	minetest-data	minetest_water	minetest/games/minetest_game/mods/env_sounds/sounds/env_sounds_water.2.ogg
stream	train	minetest-data	minetest_water	minetest/games/minetest_game/mods/env_sounds/sounds/env_sounds_water.3.ogg
stream	train	minetest-data	minetest_water	minetest/games/minetest_game/mods/env_sounds/sounds/env_sounds_water.4.ogg
fire	heldout	wesnoth-1.16-data	wesnoth_campfire	wesnoth/1.16/data/core/sounds/ambient/campfire.ogg
fire	heldout	minetest-data	minetest_fire_dobroide	minetest/games/minetest_game/mods/fire/sounds/fire_small.ogg
fire	train	megaglest-data	megaglest_hell	megaglest/tilesets/hell/sounds/hell.ogg
fire	train	minetest-data	minetest_fire_dynamicell	minetest/games/minetest_game/mods/fire/sounds/fire_large.ogg
fire	train	minetest-data	minetest_fire_dynamicell	minetest/games/minetest_game/mods/fire/sounds/fire_fire.1.ogg
fire	train	minetest-data	minetest_fire_dynamicell	minetest/games/minetest_game/mods/fire/sounds/fire_fire.2.ogg
fire	train	minetest-data	minetest_fire_dynamicell	minetest/games/minetest_game/mods/fire/sounds/fire_fire.3.ogg
fire	train	redeclipse-data	redeclipse_fire	redeclipse/data/sounds/ambience/fire.ogg
fire	train	lugaru-data	lugaru_fire	lugaru/Sounds/Fire.ogg
fire	train	flare-game	flare_open_fire	flare/mods/fantasycore/soundfx/environment/open_fire.ogg
birds	heldout	megaglest-data	megaglest_fernland_day	megaglest/tilesets/fernland/sounds/day.ogg
birds	heldout	redeclipse-data	redeclipse_forest3	redeclipse/data/sounds/ambience/forest3.ogg
birds	train	megaglest-data	megaglest_autumn_sunny_day	megaglest/tilesets/autumn/sounds/sunny_day.ogg
birds	train	megaglest-data	megaglest_birch_forest_day	megaglest/tilesets/birch_forest/sounds/day.ogg
birds	train	megaglest-data	megaglest_dark_forest_day	megaglest/tilesets/dark_forest/sounds/day.ogg
birds	train	megaglest-data	megaglest_mediterran_desertday	megaglest/tilesets/mediterran/sounds/desertday.ogg
birds	train	megaglest-data	megaglest_spring_day	megaglest/tilesets/spring/sounds/day.ogg
birds	train	redeclipse-data	redeclipse_forest1	redeclipse/data/sounds/ambience/forest1.ogg
birds	train	redeclipse-data	redeclipse_forest2	redeclipse/data/sounds/ambience/forest2.ogg
birds	train	redeclipse-data	redeclipse_cycadas	redeclipse/data/sounds/ambience/cycadas.ogg
birds	train	supertuxkart-data	stk_exotic_birds	supertuxkart/data/sfx/exotic-birds.ogg
birds	train	supertuxkart-data	stk_exotic_birds_2	supertuxkart/data/sfx/exotic-birds_2.ogg
birds	train	flare-game	flare_bird_twitter_loop	flare/mods/fantasycore/soundfx/environment/bird_twitter_loop.ogg
birds	train	wesnoth-1.16-data	wesnoth_birds	wesnoth/1.16/data/core/sounds/ambient/birds1.ogg
birds	train	wesnoth-1.16-data	wesnoth_birds	wesnoth/1.16/data/core/sounds/ambient/birds2.ogg
birds	train	wesnoth-1.16-data	wesnoth_birds	wesnoth/1.16/data/core/sounds/ambient/birds3.ogg
birds	train	wesnoth-1.16-data	wesnoth_morning	wesnoth/1.16/data/core/sounds/ambient/morning.ogg
night	heldout	megaglest-data	megaglest_dark_forest_night	megaglest/tilesets/dark_forest/sounds/night.ogg
night	heldout	megaglest-data	megaglest_mediterran_night	megaglest/tilesets/mediterran/sounds/night.ogg
night	train	megaglest-data	megaglest_autumn_nightime	megaglest/tilesets/autumn/sounds/nightime.ogg
night	train	megaglest-data	megaglest_birch_forest_night	megaglest/tilesets/birch_forest/sounds/night.ogg
night	train	megaglest-data	megaglest_desert2_night	megaglest/tilesets/desert2/sounds/night.ogg
night	train	megaglest-data	megaglest_fernland_night	megaglest/tilesets/fernland/sounds/night.ogg
night	train	redeclipse-data	redeclipse_nightcrickets	redeclipse/data/sounds/ambience/nightcrickets.ogg
night	train	wesnoth-1.16-data	wesnoth_night	wesnoth/1.16/data/core/sounds/ambient/night.ogg
night	train	flare-game	flare_forest_owl_loop	flare/mods/fantasycore/soundfx/environment/forest_owl_loop.ogg
EOF
# a group's files must all be on one side
gawk -F'\t' '{ k = $4; if ((k in s) && s[k] != $2) { print "group " k " is on both sides" > "/dev/stderr"; bad = 1 } s[k] = $2 }
             END { exit bad }' "$SOURCES"

# ---------------------------------------------------------------- 1. decode, exact duplicates
echo "[1/5] decoding $(wc -l < "$SOURCES") source files"
declare -A SEEN
JOBLIST="$WORK/jobs.tsv"; : > "$JOBLIST"
ALLOWED=" $(echo $DATA_PKGS) "
i=0
while IFS=$'\t' read -r cls split pkg group rel; do
  i=$((i + 1))
  [[ "$ALLOWED" == *" $pkg "* ]] ||
    { echo "source from a package outside DATA_PKGS refused: $pkg" >&2; exit 1; }
  src="${ROOT[$pkg]}usr/share/games/$rel"
  [ -f "$src" ] || { echo "  missing (skipped): $pkg $rel" >&2; continue; }
  m=$(md5sum < "$src"); m=${m:0:32}
  if [ -n "${SEEN[$m]:-}" ]; then echo "  same file as ${SEEN[$m]} (skipped): $rel"; continue; fi
  SEEN[$m]=$rel
  printf '%03d\t%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$cls" "$split" "$pkg" "$group" "$rel" "$src" >> "$JOBLIST"
done < "$SOURCES"

# level LEVEL_DB RMS, peak at most PEAK_DB: the gain in dB for file $1
gain_for() {
  sox "$1" -n stats 2>&1 | gawk -v L="$LEVEL_DB" -v P="$PEAK_DB" '
    /^RMS lev dB/ { r = $4 } /^Pk lev dB/ { p = $4 }
    END { g = L - r; if (p + g > P) g = P - p; printf "%.3f", g }'
}
# decode JOBLINE: 48 kHz mono float, trimmed, levelled -> conv/ID.wav (+ conv/ID.tsv, fp/ID.f32)
decode() {
  local id cls split pkg group rel src
  IFS=$'\t' read -r id cls split pkg group rel src <<< "$1"
  [ -f "$WORK/conv/$id.tsv" ] && return 0
  local t="$WORK/tmp/d$id"; rm -rf "$t"; mkdir -p "$t"
  local rate; rate=$(soxi -r "$src")
  sox -R -V1 "$src" -e floating-point -b 32 "$t/a.wav" channels 1 rate -v 48k \
    silence 1 0.02 -55d reverse silence 1 0.02 -55d reverse
  local d; d=$(soxi -D "$t/a.wav" 2>/dev/null || echo 0)
  if gawk -v d="$d" -v m="$MIN_S" 'BEGIN { exit !(d >= m) }'; then
    sox -R -V1 "$t/a.wav" "$WORK/conv/$id.wav" gain "$(gain_for "$t/a.wav")"
    # fingerprint for the near-duplicate check: 1 kHz
    sox -R -V1 "$WORK/conv/$id.wav" -t f32 "$WORK/conv/$id.f32" rate 1k
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%.3f\t%s\n' "$id" "$cls" "$split" "$pkg" "$group" \
      "/usr/share/games/$rel" "$d" "$rate" > "$WORK/conv/$id.tsv.part"
  else
    echo "  under $MIN_S s after trimming (skipped): $rel" >&2
    : > "$WORK/conv/$id.tsv.part"
  fi
  mv "$WORK/conv/$id.tsv.part" "$WORK/conv/$id.tsv"
  rm -rf "$t"
}
export -f decode gain_for
export WORK LEVEL_DB PEAK_DB MIN_S
tr '\n' '\0' < "$JOBLIST" | xargs -0 -P "$JOBS" -n 1 bash -c 'decode "$1"' _

# ---------------------------------------------------------------- 2. near duplicates
# Game data re-encodes or re-levels the same take under other names (megaglest's winter and
# winter_forest winds). Every file is compared with every earlier one (table order) by the
# peak normalised cross-correlation of the first differences of their 1 kHz versions (the
# shorter file's first 20 s slid along the longer one); a file above DUP_THRESHOLD is dropped.
echo "[2/5] near-duplicate check"
cat "$WORK"/conv/*.tsv | sort > "$WORK/decoded.tsv"
if [ ! -f "$WORK/dupes.done" ]; then
  $PY - "$WORK" "$DUP_THRESHOLD" > "$WORK/dupes.tsv" <<'EOF'
import sys, numpy as np
work, thr = sys.argv[1], float(sys.argv[2])
rows = [l.rstrip("\n").split("\t") for l in open(work + "/decoded.tsv") if l.strip()]
sig = [np.diff(np.fromfile("%s/conv/%s.f32" % (work, r[0]), "<f4").astype(float)) for r in rows]
kept = []
for i, r in enumerate(rows):
    dup = None
    for j in kept:
        a, b = sig[i], sig[j]
        if len(a) > len(b):
            a, b = b, a
        a = a[:20000]
        n, m = len(a), len(b)
        L = 1 << int(np.ceil(np.log2(n + m)))
        xc = np.fft.irfft(np.fft.rfft(b, L) * np.conj(np.fft.rfft(a, L)), L)[:m - n + 1]
        cs = np.concatenate([[0.0], np.cumsum(b * b)])
        e = cs[n:] - cs[:m - n + 1]
        c = float((np.abs(xc) / np.sqrt(e * (a @ a) + 1e-20)).max())
        if c > thr:
            dup = (rows[j][5], c)
            break
    if dup:
        print("%s\t%s\t%s\t%.3f" % (r[0], r[5], dup[0], dup[1]))
    else:
        kept.append(i)
EOF
  touch "$WORK/dupes.done"
fi
while IFS=$'\t' read -r id a b c; do echo "  $a: same recording as $b (correlation $c), skipped"; done < "$WORK/dupes.tsv"

# ---------------------------------------------------------------- 3. pieces
echo "[3/5] cutting recordings into pieces"
cut_pieces() {  # one decoded line -> OUT/SPLIT/CLASS/NAME_cK.flac + man/ID.tsv
  local id cls split pkg group path d rate
  IFS=$'\t' read -r id cls split pkg group path d rate <<< "$1"
  [ -f "$WORK/man/$id.tsv" ] && return 0
  local name b n L k rel
  b=$(basename "$path"); b=${b%.*}
  name="${group}"; [ "$b" = "${group##*_}" ] || name="${group}-${b}"
  name=${name//[^A-Za-z0-9._-]/_}
  if [ "$split" = train ]; then
    n=$(gawk -v d="$d" -v p="$TRAIN_PIECE_S" 'BEGIN { n = int(d / p); if (n * p < d) n++; print n }')
  else
    n=$(gawk -v d="$d" -v p="$EVAL_PIECE_S" 'BEGIN { n = int(d / p); print n < 1 ? 1 : n }')
  fi
  L=$(gawk -v d="$d" -v n="$n" 'BEGIN { printf "%.6f", d / n }')
  mkdir -p "$OUT/$split/$cls"
  : > "$WORK/man/$id.tsv.part"
  for ((k = 0; k < n; k++)); do
    rel="$split/$cls/${name}_c$k.flac"
    sox -R -D -V1 "$WORK/conv/$id.wav" -b 24 "$OUT/$rel" \
      trim "$(gawk -v k=$k -v L="$L" 'BEGIN { printf "%.6f", k * L }')" "$L"
    printf '%s\t%s\t%s\t%s\t%s\t%.3f\treal\t%s\t%s\n' "$rel" "$cls" "$split" "$pkg" "$path" \
      "$(soxi -D "$OUT/$rel")" "$rate" "$group" >> "$WORK/man/$id.tsv.part"
  done
  mv "$WORK/man/$id.tsv.part" "$WORK/man/$id.tsv"
}
export -f cut_pieces
export OUT TRAIN_PIECE_S EVAL_PIECE_S
gawk -F'\t' 'NR == FNR { drop[$1] = 1; next } !($1 in drop)' "$WORK/dupes.tsv" "$WORK/decoded.tsv" \
  | tr '\n' '\0' | xargs -0 -P "$JOBS" -n 1 bash -c 'cut_pieces "$1"' _

# ---------------------------------------------------------------- 4. synthesis
echo "[4/5] synthetic clips for thin classes"
cat "$WORK"/man/[0-9]*.tsv | gawk -F'\t' -v T="$SYNTH_TARGET_S" -v R="$SYNTH_MAX_RATIO" -v C="$SYNTH_CLIP_S" '
  $3 == "train" && $7 == "real" { s[$2] += $6 }
  END {
    n = split("rain wind fire stream", K, " ")   # the classes synth.py models
    for (i = 1; i <= n; i++) {
      r = s[K[i]] + 0; need = T - r; if (need > R * r) need = R * r
      c = need > 0 ? int(need / C) + (need % C > 0) : 0
      printf "%s\t%d\t%.1f\n", K[i], c, r
    }
  }' > "$WORK/synth_plan.tsv"
synth_clip() {  # CLASS K
  local cls=$1 k=$2 id; id=$(printf 's_%s_%03d' "$cls" "$k")
  [ -f "$WORK/man/$id.tsv" ] && return 0
  local t="$WORK/tmp/$id"; rm -rf "$t"; mkdir -p "$t"
  local rel; rel=$(printf 'train/%s/synth_%s_%03d.flac' "$cls" "$cls" "$k")
  $PY "$HERE/synth.py" "$cls" $((SEED + k)) "$SYNTH_CLIP_S" "$t/s.f32"
  sox -R -V1 -t f32 -r 48000 -c 1 "$t/s.f32" -e floating-point -b 32 "$t/s.wav"
  mkdir -p "$OUT/train/$cls"
  sox -R -D -V1 "$t/s.wav" -b 24 "$OUT/$rel" gain "$(gain_for "$t/s.wav")"
  printf '%s\t%s\ttrain\tnone\tmodels/textures/synth.py %s %d %s\t%.3f\tsynth\t48000\tsynth_%s\n' \
    "$rel" "$cls" "$cls" $((SEED + k)) "$SYNTH_CLIP_S" "$(soxi -D "$OUT/$rel")" "$cls" > "$WORK/man/$id.tsv.part"
  mv "$WORK/man/$id.tsv.part" "$WORK/man/$id.tsv"
  rm -rf "$t"
}
export -f synth_clip
export PY HERE SEED SYNTH_CLIP_S
while IFS=$'\t' read -r cls c r; do
  echo "  $cls: $r s of real training audio -> $c synthetic clips of $SYNTH_CLIP_S s" >&2
  for ((k = 0; k < c; k++)); do printf '%s %d\0' "$cls" "$k"; done
done < "$WORK/synth_plan.tsv" | xargs -0 -P "$JOBS" -n 1 bash -c 'synth_clip $1' _

# ---------------------------------------------------------------- 5. manifest, summary
echo "[5/5] manifest"
{ printf 'path\tclass\tsplit\tpackage\torig_path\tduration_s\tkind\torig_rate\tgroup\n'
  cat "$WORK"/man/*.tsv | sort; } > "$OUT/manifest.tsv"
gawk -F'\t' 'NR > 1 {
    c[$2] = 1
    if ($3 == "train" && $7 == "real") { rt[$2] += $6; nrt[$2]++; g = $2 SUBSEP $9; if (!(g in gt)) { gt[g] = 1; grt[$2]++ } }
    if ($3 == "train" && $7 == "synth") { st[$2] += $6; nst[$2]++ }
    if ($3 == "heldout") { rh[$2] += $6; nrh[$2]++; g = $2 SUBSEP $9; if (!(g in gh)) { gh[g] = 1; grh[$2]++ } }
  }
  END {
    printf "%-7s %22s %22s %20s %10s %8s\n", "class", "real train min (rec.)", "real heldout min (rec.)", "synth train min", "train min", "heldout%"
    PROCINFO["sorted_in"] = "@ind_str_asc"
    for (k in c) {
      printf "%-7s %14.2f (%3d) %16.2f (%3d) %14.2f (%3d) %10.2f %7.0f%%\n", k, rt[k] / 60, grt[k], rh[k] / 60, grh[k],
             st[k] / 60, nst[k], (rt[k] + st[k]) / 60, 100 * rh[k] / (rt[k] + rh[k])
      T1 += rt[k]; T2 += rh[k]; T3 += st[k]
    }
    printf "%-7s %14.2f       %16.2f       %14.2f       %10.2f\n", "total", T1 / 60, T2 / 60, T3 / 60, (T1 + T3) / 60
  }' "$OUT/manifest.tsv" > "$OUT/summary.txt"
cat "$OUT/summary.txt"
rm -rf "$WORK/tmp"; mkdir -p "$WORK/tmp"
echo "built $OUT in $(( $(date +%s) - T0 )) s"
