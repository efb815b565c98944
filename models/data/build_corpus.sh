#!/bin/bash
# build_corpus.sh: build limpid's training/dev audio corpus from Debian 12 packages.
#
#   bash models/data/build_corpus.sh [--small] [--jobs N] [--no-install] OUTDIR
#
# Everything comes from Debian main packages (see models/data/SOURCES.md for the survey,
# the licenses and why each source is where it is). The reserved packages listed in
# DEVELOPERS.md (kept for independent evaluation) are never installed or read here.
#
# Output (48 kHz mono 16-bit WAV, silence-trimmed, chunks of 1..30 s):
#   OUTDIR/clean/speech_real/<source>/   real recorded voices
#   OUTDIR/clean/speech_tts/<voice>/     espeak-ng / flite / festival voices
#   OUTDIR/clean/music/<source>/         recorded game music, MIDI rendered with fluidsynth, instruments
#   OUTDIR/noise/real/<source>/          recorded ambience (wind, rain, water, fire, machines, crowd...)
#   OUTDIR/noise/synth/<type>/           sox-made noise: white/pink/brown, hum, hiss, crackle, gusts, babble
#   OUTDIR/dev/{clean_speech,clean_music,noise}/<source>/   held-out speakers, voices, pieces, noise types
#   OUTDIR/dev/noise_sfx/<source>/   held-out game sound effects (a second dev set's noise)
#   OUTDIR/dev/clean_speech_tp/<source>/   held-out Tux Paint voices (a third dev set's speech)
#   OUTDIR/manifest.tsv   path split kind source duration_s orig_rate (orig_rate: the source's own
#                         sample rate, i.e. its real bandwidth is orig_rate/2: filter on it when training)
#   OUTDIR/summary.txt    hours per split/kind and per source
#
# --small: a few minutes of audio from a light package set (tests/CI). --jobs N: parallel jobs
# (default: nproc). --no-install: do not call apt-get (packages already there, or not root).
# Deterministic: fixed seeds, sorted inputs, sox -R; a rerun into the same OUTDIR resumes (jobs
# whose manifest fragment exists are skipped).
set -euo pipefail

SMALL=0; JOBS=$(nproc); INSTALL=1; OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --small) SMALL=1 ;;
    --jobs) JOBS="$2"; shift ;;
    --jobs=*) JOBS="${1#--jobs=}" ;;
    --no-install) INSTALL=0 ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) OUT="$1" ;;
  esac
  shift
done
[ -n "$OUT" ] || { echo "usage: $0 [--small] [--jobs N] [--no-install] OUTDIR" >&2; exit 2; }

export LC_ALL=C.UTF-8
T0=$(date +%s)
SEED=20240611
# (small) how many items per source, and how many seconds of each input are kept
if [ $SMALL = 1 ]; then MAXN=2; MAXSEC=10; else MAXN=1000000; MAXSEC=0; fi

# ---------------------------------------------------------------- packages
TOOLS="sox libsox-fmt-all opus-tools gettext espeak-ng flite festival festvox-kallpc16k fortunes-min
  fluidsynth timgm6mb-soundfont unzip coreutils gawk"
SMALL_DATA="ktuberling-data lincity-ng-data lmms-common bucklespring-data openttd-openmsx
  planetblupi-music-midi"
FULL_DATA="festvox-kdlpc16k festvox-us-slt-hts festvox-czech-dita festvox-czech-krb
  festvox-czech-machac festvox-czech-ph festvox-ru festvox-suopuhe-lj festvox-suopuhe-mv
  festvox-italp16k festvox-itapc16k festvox-ca-ona-hts fluid-soundfont-gm
  fillets-ng-data fillets-ng-data-cs fillets-ng-data-nl hedgewars-data warzone2100-data
  warzone2100-music wesnoth-1.16-data wesnoth-1.16-music megaglest-data warmux-data
  supertuxkart-data redeclipse-data freedink-data frozen-bubble-data extremetuxracer-data flare-game
  minetest-data widelands-data scorched3d-data boswars-data btanks-data
  tuxpaint-stamps-default ufoai-sound freedroidrpg-data 7kaa-data"
if [ $INSTALL = 1 ]; then
  PK="$TOOLS $SMALL_DATA"; [ $SMALL = 1 ] || PK="$PK $FULL_DATA"
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086
  if ! apt-get install -y --no-install-recommends $PK >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y --no-install-recommends $PK >/dev/null
  fi
fi
for t in sox soxi espeak-ng flite text2wave fluidsynth md5sum shuf gawk; do
  command -v $t >/dev/null || { echo "missing tool: $t" >&2; exit 1; }
done

mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
WORK="$OUT/.work"; mkdir -p "$WORK/man" "$WORK/tmp" "$WORK/text"
JOBLIST="$WORK/jobs.tsv"; : > "$JOBLIST"
export OUT WORK MAXSEC

# ---------------------------------------------------------------- job list helpers
# Job line (tab separated): split kind source outbase mode orig_rate arg1 [arg2 ...]
declare -A SEEN   # md5 of every input already used: game data often ships the same file twice
G=/usr/share/games

lsaudio() {  # lsaudio DIR [find args...]: sorted audio files under DIR (none if DIR is missing)
  local d="$1"; shift
  [ -d "$d" ] || return 0
  find "$d" -type f \( -iname '*.ogg' -o -iname '*.wav' -o -iname '*.flac' -o -iname '*.opus' \) "$@" \
    | sort
}
safe() {  # file path -> output base name (no forks: listing thousands of files)
  local x=${1#/usr/share/}; x=${x#games/}; x=${x%.*}; printf '%s' "${x//[^A-Za-z0-9._-]/_}"
}
# info FILE: sets RATE (Hz) and DMS (duration in ms) with one soxi call; false if unreadable
info() {
  local t; t=$(soxi "$1" 2>/dev/null) || return 1
  [[ $t =~ Sample\ Rate\ *:\ *([0-9]+) ]] || return 1; RATE=${BASH_REMATCH[1]}
  [[ $t =~ =\ *([0-9]+)\ samples ]] || return 1
  DMS=$(( BASH_REMATCH[1] * 1000 / RATE ))
}
rate_of() {  # the file's own sample rate (opus: the encoder's original rate)
  case "${1,,}" in
    *.opus) { opusinfo "$1" 2>/dev/null || true; } | awk '/Original sample rate/{r = $4} END{print r + 0}' ;;
    *) soxi -r "$1" 2>/dev/null || echo 0 ;;
  esac
}
fresh() {  # fresh FILE: true (and remembered) if this content was not used yet
  local m; m=$(md5sum < "$1"); m=${m:0:32}
  [ -z "${SEEN[$m]:-}" ] || return 1
  SEEN[$m]=1
}
# --small uses a fixed handful of sources from light packages, whatever else is installed
SMALL_SRC='^(ktuberling_(en|de|lt)|lincity|lmms_(instruments|stringsnpads|crowd)|bucklespring_keyboard|midi_.*)$'
ok_src() { [ $SMALL = 0 ] || [[ "$1" =~ $SMALL_SRC ]]; }
# add_files SPLIT KIND SOURCE [STRIDE]  < file list: one job per file (every STRIDE-th file)
add_files() {
  local split=$1 kind=$2 src=$3 stride=${4:-1} i=0 n=0 f r
  ok_src "$src" || { cat > /dev/null; return 0; }
  while IFS= read -r f; do
    i=$((i + 1)); [ $(((i - 1) % stride)) = 0 ] || continue
    [ $n -lt $MAXN ] || break
    fresh "$f" || continue
    case "${f,,}" in *.opus) r=$(rate_of "$f") ;; *) info "$f" || continue; r=$RATE ;; esac
    [ "${r:-0}" -gt 0 ] || continue
    printf '%s\t%s\t%s\t%s\tfile\t%s\t%s\n' "$split" "$kind" "$src" "$(safe "$f")" "$r" "$f" >> "$JOBLIST"
    n=$((n + 1))
  done
}
# add_groups SPLIT KIND SOURCE MINSEC < file list: short clips of one speaker/kind are joined
# (in order, 0.3 s apart) into items of at least MINSEC seconds
add_groups() {
  local split=$1 kind=$2 src=$3 min=$4 f d r acc=0 parts="" rmin=999999 k=0 n=0
  ok_src "$src" || { cat > /dev/null; return 0; }
  flush() {
    [ -n "$parts" ] || return 0
    if [ $n -lt $MAXN ]; then
      printf '%s\t%s\t%s\t%s_g%03d\tconcat\t%s\t%s\n' "$split" "$kind" "$src" "$src" $k "$rmin" "${parts#|}" >> "$JOBLIST"
      n=$((n + 1))
    fi
    k=$((k + 1)); parts=""; acc=0; rmin=999999
  }
  while IFS= read -r f; do
    fresh "$f" || continue
    info "$f" || continue
    parts="$parts|$f"; [ "$RATE" -lt $rmin ] && rmin=$RATE
    acc=$((acc + DMS + 300))
    [ $acc -lt $((min * 1000)) ] || flush
  done
  flush
}
# add_midi SPLIT SOURCE SF2 < list of .mid files: rendered with fluidsynth at 48 kHz
add_midi() {
  local split=$1 src=$2 sf=$3 f n=0
  ok_src "$src" || { cat > /dev/null; return 0; }
  [ -f "$sf" ] || { echo "note: soundfont $sf missing, $src skipped" >&2; return 0; }
  while IFS= read -r f; do
    [ $n -lt $MAXN ] || break
    fresh "$f" || continue
    printf '%s\tmusic\t%s\t%s\tmidi\t48000\t%s\t%s\n' "$split" "$src" "$(safe "$f")" "$sf" "$f" >> "$JOBLIST"
    n=$((n + 1))
  done
}

# ---------------------------------------------------------------- real recordings
echo "[1/5] listing sources"
# speech, train
add_files train speech_real festvox_ru_nsh < <(lsaudio /usr/share/festival/voices/russian/msu_ru_nsh_clunits/wav)
add_files train speech_real fillets_cs < <(lsaudio $G/fillets-ng/sound -path '*/cs/*')
for v in British Classic Default Default_pl Default_ru Default_uk HillBilly Mobster Robot Russian Russian_pl Surfer; do
  add_groups train speech_real hedgewars_$v 6 < <(lsaudio $G/hedgewars/Data/Sounds/voices/$v)
done
for l in ca da de el en es fi fr ga gl it nds nl pt ro ru sl sr sv wa; do
  add_groups train speech_real ktuberling_$l 6 < <(lsaudio /usr/share/ktuberling/sounds/$l)
done
if [ $SMALL = 0 ] && [ -f $G/warzone2100/base.wz ]; then
  mkdir -p "$WORK/wz"
  [ -d "$WORK/wz/audio" ] || unzip -q -o $G/warzone2100/base.wz 'audio/*' -d "$WORK/wz"
  add_groups train speech_real warzone2100_voice 6 < <(for d in countdown memressp nexus coltive; do lsaudio "$WORK/wz/audio/$d"; done)
fi
add_groups train speech_real redeclipse_voice 6 < <(lsaudio $G/redeclipse/data/sounds/voice; lsaudio $G/redeclipse/data/sounds/announcer)
# speech, train (session 12): Tux Paint's spoken stamp descriptions, one volunteer per language,
# recorded at 44.1 kHz (full band, unlike most of the speech above); the languages whose
# recordings have the quietest floors (models/data/SOURCES.md). Short phrases joined.
TP=/usr/share/tuxpaint/stamps
for l in be bg ca es ru; do
  add_groups train speech_real tuxpaint_$l 6 < <(lsaudio $TP -name "*_desc_$l.ogg")
done
# speech, dev: other actors (the Dutch dub of Fish Fillets), other voice packs and languages
add_files dev speech_real fillets_nl 4 < <(lsaudio $G/fillets-ng/sound -path '*/nl/*')
for v in Pirate Singer Default_es; do
  add_groups dev speech_real hedgewars_$v 6 < <(lsaudio $G/hedgewars/Data/Sounds/voices/$v)
done
for l in lt uk; do
  add_groups dev speech_real ktuberling_$l 6 < <(lsaudio /usr/share/ktuberling/sounds/$l)
done
# speech, third dev set (session 12; models/eval/make_dev_set.sh with DEV_SPEECH=clean_speech_tp):
# three more Tux Paint voices (Greek, Lithuanian, Romanian), full band, in their own folder so
# that the first two dev sets stay as they were
for l in el lt ro; do
  add_groups dev speech_tp tuxpaint_$l 6 < <(lsaudio $TP -name "*_desc_$l.ogg")
done

# music, train
add_files train music wesnoth < <(lsaudio $G/wesnoth/1.16/data/core/music)
add_files train music hedgewars < <(lsaudio $G/hedgewars/Data/Music)
add_files train music warzone2100 < <(lsaudio $G/warzone2100/music)
add_files train music warmux < <(lsaudio $G/warmux/music)
add_files train music supertuxkart < <(lsaudio $G/supertuxkart/data/music ! -name '*_fast*' ! -name '*_f.ogg')
add_files train music megaglest < <(lsaudio $G/megaglest/data/core/menu/music; lsaudio $G/megaglest/techs -path '*/music/*')
add_files train music fillets < <(lsaudio $G/fillets-ng/music)
add_files train music lincity < <(lsaudio $G/lincity-ng/music)
add_files train music freedink < <(lsaudio $G/dink/dink/Sound -name '*.ogg')
add_files train music frozenbubble < <(lsaudio $G/frozen-bubble/snd -name '*zik*')
add_files train music freedroidrpg < <(lsaudio /usr/share/freedroidrpg/data/sound/music)
# (--small renders with the 6 MB TimGM6mb font so that it needs no 140 MB soundfont)
if [ $SMALL = 1 ]; then TRAIN_SF=/usr/share/sounds/sf2/TimGM6mb.sf2; else TRAIN_SF=/usr/share/sounds/sf2/FluidR3_GM.sf2; fi
add_midi train midi_fluidr3 "$TRAIN_SF" < <({ ls $G/openttd/baseset/openmsx/*.mid; [ $SMALL = 1 ] || ls $G/dink/dink/Sound/*.mid; } 2>/dev/null | sort)
for c in instruments stringsnpads latin basses bassloops beats; do
  add_groups train music lmms_$c 8 < <(lsaudio /usr/share/lmms/samples/$c)
done
# music, dev: other games' soundtracks, other MIDI pieces through another soundfont
add_files dev music redeclipse < <(lsaudio $G/redeclipse/data/sounds/music; ls $G/redeclipse/data/sounds/*.ogg 2>/dev/null | sort)
add_files dev music flare < <(lsaudio $G/flare/mods/fantasycore/music)
add_files dev music extremetuxracer < <(lsaudio $G/etr/music)
add_midi dev midi_timgm6mb /usr/share/sounds/sf2/TimGM6mb.sf2 < <(ls /usr/share/planetblupi/music/*.mid 2>/dev/null | sort)

# noise, train
add_files train noise_real redeclipse_ambience < <(lsaudio $G/redeclipse/data/sounds/ambience)
add_files train noise_real megaglest_ambience < <(lsaudio $G/megaglest/tilesets -path '*/sounds/*')
add_files train noise_real lincity < <(lsaudio $G/lincity-ng/sounds)
add_files train noise_real supertuxkart_ambience < <(lsaudio $G/supertuxkart/data/sfx | grep -E '/(rain|river_loop|waterfall_loop_2|machine_sound|engine_large|engine_small|airplane_jetEngine|exotic-birds|exotic-birds_2|static-radio|thunder|lenautile_restaurant|fireworks_show|sara_airport_pa|car_accel|car_revup|skid)\.ogg$')
add_files train noise_real wesnoth_ambient < <(lsaudio $G/wesnoth/1.16/data/core/sounds/ambient)
add_files train noise_real lmms_crowd < <(lsaudio /usr/share/lmms/samples/misc | grep -E 'applause|crowd')
add_groups train noise_real extremetuxracer_slides 8 < <(lsaudio $G/etr/sounds -name '*slide*')
# noise, train (session 8): game sound effects: machinery, tools, vehicles, weapons, impacts,
# footsteps, animals, crowds, city and weather loops. Short clips are joined into items of at
# least 8 s. File names that say voice, cry, music or a UI jingle are left out (the denoiser
# must keep voices and music, so none of them may be taught as noise).
nonoise() {  # stdin: file list -> without vocal, musical or UI-message files (by file name)
  grep -viE '/[^/]*(voice|speech|speak|scream|laugh|yell|shout|groan|pain|death|die|dead|hurt|grunt|taunt|human|female|orc|goblin|ogre|dwarf|elf|lich|naga|mermaid|mermen|troll|kiss|chant|yoohoo|hell_|ugh|ready|underattack|under_attack|completed|select|action|attacked|occupied|tutorial|intro|announc|lobby|message|music|tune|fanfare|valkyries|flute|whistle|horn-signal|countdown|victory|finish|goal_scored)[^/]*$' \
    | grep -vE '/[0-9][A-G]\.ogg$' || true
}
add_groups train noise_real redeclipse_sfx 8 < <({ lsaudio $G/redeclipse/data/sounds/sfx; lsaudio $G/redeclipse/data/sounds/weapons
  lsaudio $G/redeclipse/data/sounds/player -regex '.*/\(concstep\|footstep\|swimstep\|impulse\|jump\|land\)[0-9]*\.ogg'; } | nonoise)
add_groups train noise_real wesnoth_sfx 8 < <(lsaudio $G/wesnoth/1.16/data/core/sounds -maxdepth 1 | nonoise)
if [ $SMALL = 0 ] && [ -d "$WORK/wz/audio/sfx" ]; then
  add_groups train noise_real warzone2100_sfx 8 < <({ lsaudio "$WORK/wz/audio/sfx"; lsaudio "$WORK/wz/audio/radclick"; } | nonoise)
fi
add_groups train noise_real hedgewars_sfx 8 < <(lsaudio $G/hedgewars/Data/Sounds -maxdepth 1 | nonoise)
add_groups train noise_real supertuxkart_sfx 8 < <(lsaudio $G/supertuxkart/data/sfx | nonoise)
add_groups train noise_real minetest_sfx 8 < <(lsaudio $G/minetest/games/minetest_game/mods | nonoise)
add_groups train noise_real widelands_sfx 8 < <({ lsaudio $G/widelands/data/sound; lsaudio $G/widelands/data/world/critters; } | nonoise)
add_groups train noise_real scorched3d_sfx 8 < <(lsaudio $G/scorched3d/data/globalmods -path '*/wav/*' | nonoise)
# noise, train (session 12): UFO:AI's ambiences (fires, arctic wind, water, thunder, machinery,
# engines, city and night atmospheres; not its TV news, disco or jingle, dropped by name here,
# nor its radio messages, which nonoise drops) and effects
# (weapons, impacts, doors, footsteps, vehicles), Seven Kingdoms' weather, FreedroidRPG's effects
# (not its robots' voices or Tux's comments)
if [ $SMALL = 0 ] && [ -f $G/ufoai/base/0snd.pk3 ]; then
  mkdir -p "$WORK/ufoai"
  [ -d "$WORK/ufoai/sound" ] || unzip -q -o $G/ufoai/base/0snd.pk3 'sound/*' -d "$WORK/ufoai"
  add_files train noise_real ufoai_ambience < <(lsaudio "$WORK/ufoai/sound/ambience" \
    | grep -vE '/(tv_newswav|disco|jingle)\.ogg$' | nonoise)
  add_groups train noise_real ufoai_sfx 8 < <(for d in impact misc doors footsteps weapons ugv seq; do
    lsaudio "$WORK/ufoai/sound/$d"; done | nonoise)
fi
add_groups train noise_real 7kaa_weather 8 < <(lsaudio $G/7kaa/SOUND | nonoise)
add_groups train noise_real freedroidrpg_sfx 8 < <(lsaudio /usr/share/freedroidrpg/data/sound/effects \
  -not -path '*/bot_sounds/*' -not -path '*/tux_ingame_comments/*' | nonoise)
# noise, dev: another game's environment loops, and a noise type absent from train (keyboards)
add_files dev noise_real flare_environment < <(lsaudio $G/flare/mods/fantasycore/soundfx/environment)
add_groups dev noise_real bucklespring_keyboard 10 < <(lsaudio /usr/share/buckle/wav)
# noise, second dev set (session 8; models/eval/make_dev_set.sh with DEV_NOISE=noise_sfx): two
# more games' sound effects, held out of training like the above, in their own folder so that
# the first dev set stays as it was
add_groups dev noise_sfx boswars_sfx 8 < <(lsaudio $G/boswars/units | nonoise)
add_groups dev noise_sfx btanks_sfx 8 < <(lsaudio $G/btanks/data/sounds | nonoise)

# ---------------------------------------------------------------- TTS text
echo "[2/5] text for TTS"
sentences() {  # stdin: text (one paragraph per line) -> candidate sentences, one a line
  sed -E 's/<[^>]*>//g; s/\\n/ /g; s/\\"/"/g; s/&[a-z]+;//g; s/[~*_]+//g; s/  +/ /g' \
  | sed -E 's/([.!?]["»)]?) +/\1\n/g' \
  | gawk 'length($0) >= 20 && length($0) <= 220 && NF >= 4 && NF <= 28 && !/[{}<>=\\|@#$%^\/\[\]]|http|www\./ {
          sub(/^ +/, ""); sub(/ +$/, ""); print }'
}
paras() { gawk 'BEGIN{RS=""} {gsub(/[ \t\r\n]+/, " "); print}' "$@"; }
mo_text() {  # mo_text LANG: msgstr strings of Battle for Wesnoth's translations (story, unit texts)
  local d=$G/wesnoth/1.16/locale/$1/LC_MESSAGES
  [ -d "$d" ] || return 0
  for f in "$d"/*.mo; do msgunfmt --no-wrap "$f" 2>/dev/null; done \
    | sed -n 's/^msgstr "\(.*\)"$/\1/p'
}
shuffle() { shuf --random-source=<(yes "$SEED$1"); }
{
  paras /usr/share/common-licenses/*
  [ -f $G/fortunes/fortunes ] && sed 's/^%$//' $G/fortunes/fortunes | paras
  mo_text en_GB
} | sentences | sort -u | shuffle en > "$WORK/text/en.txt"
TTS_LANGS="cs ru fi it ca de fr es pl hu nl tr uk da el bg hr id lt lv sr vi is et eu sk pt sv"
for l in $TTS_LANGS; do
  mo_text $l | sentences | sort -u | shuffle $l > "$WORK/text/$l.txt"
done
wc -l "$WORK"/text/*.txt | tail -1 | awk '{print "  sentences available:", $1}'

# ---------------------------------------------------------------- TTS jobs
# Voices: (split engine voice lang clips rate). engine voice is the festival voice name, the flite
# voice, or an espeak-ng language (its variant is drawn per clip from the split's variant set).
if [ $SMALL = 1 ]; then
  VOICES="train espeak en-us en 2 22050
train espeak de de 1 22050
train flite slt en 2 16000
train festival kal_diphone en 2 16000
dev espeak sk sk 1 22050
dev flite awb en 2 16000"
else
  VOICES="train espeak en-us en 120 22050
train espeak en en 100 22050
train espeak en-gb-scotland en 60 22050
train espeak en-029 en 60 22050
train espeak en-gb-x-gbclan en 60 22050
dev espeak en-gb-x-rp en 40 22050
dev espeak en-gb-x-gbcwmd en 40 22050
train flite kal en 120 8000
train flite kal16 en 120 16000
train flite rms en 150 16000
train flite slt en 150 16000
dev flite awb en 80 16000
train festival kal_diphone en 80 16000
train festival ked_diphone en 80 16000
train festival cmu_us_slt_arctic_hts en 80 32000
train festival czech_dita cs 80 32000
train festival czech_krb cs 80 32000
train festival czech_ph cs 80 32000
train festival msu_ru_nsh_clunits ru 80 16000
train festival suo_fi_lj_diphone fi 80 22050
train festival lp_diphone it 80 16000
train festival upc_ca_ona_hts ca 80 16000
dev festival czech_machac cs 60 32000
dev festival hy_fi_mv_diphone fi 60 22050
dev festival pc_diphone it 60 16000"
  for l in cs ru fi it ca de fr es pl hu nl tr uk da el bg hr id lt lv sr vi is et eu; do
    VOICES="$VOICES
train espeak $l $l 40 22050"
  done
  for l in sk pt sv; do VOICES="$VOICES
dev espeak $l $l 40 22050"; done
fi
# festival's Czech voices read ISO-8859-2 text, the Finnish/Italian/Catalan ones Latin-1
enc_of() { case "$1" in czech_*) echo ISO-8859-2 ;; suo_*|hy_fi_*|lp_*|pc_*|upc_ca_*) echo ISO-8859-1 ;; *) echo UTF-8 ;; esac; }
vi=0
while read -r split engine voice lang nclips vrate; do
  [ -n "$split" ] || continue
  vi=$((vi + 1))
  txt="$WORK/text/$lang.txt"
  [ -s "$txt" ] || { echo "note: no $lang text, voice $voice skipped" >&2; continue; }
  case $engine in
    espeak) src="espeak_$voice" ;;
    *) src="${engine}_$voice" ;;
  esac
  if [ $engine = festival ] && ! ls -d /usr/share/festival/voices/*/"$voice" >/dev/null 2>&1; then
    echo "note: festival voice $voice not installed, skipped" >&2; continue
  fi
  # per clip: 1..3 consecutive sentences, speed, pitch and (espeak) variant from a seeded draw
  gawk -v seed=$((SEED + vi)) -v n="$nclips" -v sp="$split" -v eng="$engine" -v voice="$voice" \
      -v src="$src" -v enc="$(enc_of "$voice")" -v rate="$vrate" -v dir="$WORK/text" -v lang="$lang" '
    BEGIN {
      srand(seed)
      if (sp == "train") nv = split("m1 m2 m3 m4 m5 m6 f1 f2 f3 f4 klatt klatt2 klatt3 croak whisper", V, " ")
      else nv = split("m7 m8 f5 klatt4 klatt5 whisperf", V, " ")
    }
    { S[NR] = $0 }
    END {
      pos = int(rand() * NR) + 1
      for (c = 0; c < n; c++) {
        k = 1 + int(rand() * 3); t = ""
        for (j = 0; j < k; j++) { t = t (j ? " " : "") S[pos]; pos = pos % NR + 1 }
        tf = dir "/" src "_" sprintf("%04d", c) ".txt"
        print t > tf; close(tf)
        if (eng == "espeak") { speed = 120 + int(rand() * 90); pitch = 15 + int(rand() * 70); v = voice "+" V[1 + int(rand() * nv)] }
        else { speed = sprintf("%.2f", 0.85 + rand() * 0.35); pitch = sprintf("%.2f", 0.85 + rand() * 0.3); v = voice }
        printf "%s\tspeech_tts\t%s\t%s_%04d\ttts\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", sp, src, src, c, rate, eng, v, speed, pitch, tf, enc
      }
    }' "$txt" >> "$JOBLIST"
done <<< "$VOICES"

# ---------------------------------------------------------------- processing
# proc_job LINE: decode/synthesize, mono, 48 kHz (sox rate -v), peak -1 dBFS, trim silence at
# both ends, split into equal chunks of <= 30 s, drop < 1 s, write manifest fragment.
proc_job() {
  local split kind src outbase mode orate a1 a2 a3 a4 a5 a6
  IFS=$'\t' read -r split kind src outbase mode orate a1 a2 a3 a4 a5 a6 <<< "$1"
  local frag="$WORK/man/$(printf '%s' "$split/$src/$outbase" | md5sum | cut -c1-16).tsv"
  [ -f "$frag" ] && return 0
  local tmp; tmp=$(mktemp -d "$WORK/tmp/j.XXXXXX")
  local raw="$tmp/raw.wav" trimlen=() trimsil=(silence 1 0.02 -55d reverse silence 1 0.02 -55d reverse)
  [ "$MAXSEC" != 0 ] && trimlen=(trim 0 "$MAXSEC")
  toflt() {  # toflt IN OUT: any input -> 48 kHz mono float
    local in="$1"
    case "${in,,}" in
      *.opus) opusdec --quiet --rate 48000 "$in" "$2.o.wav" >/dev/null 2>&1; in="$2.o.wav" ;;
    esac
    sox -R -V1 "$in" -e floating-point -b 32 "$2" channels 1 "${trimlen[@]}" rate -v 48k
  }
  case $mode in
    file) toflt "$a1" "$raw" ;;
    concat)
      local parts=() i=0 p
      sox -R -n -r 48000 -c 1 -e floating-point -b 32 "$tmp/gap.wav" trim 0 0.3
      IFS='|' read -ra P <<< "$a1"
      for p in "${P[@]}"; do
        toflt "$p" "$tmp/p$i.wav" && { [ $i = 0 ] || parts+=("$tmp/gap.wav"); parts+=("$tmp/p$i.wav"); }
        i=$((i + 1))
      done
      sox -R -V1 "${parts[@]}" "$raw" ;;
    midi)  # some game MIDIs loop for 10-30 min: keep the first 5 min of each piece
      [ ${#trimlen[@]} -gt 0 ] || trimlen=(trim 0 300)
      fluidsynth -ni -q -F "$tmp/m.wav" -r 48000 -g 0.5 "$a1" "$a2" >/dev/null 2>&1
      toflt "$tmp/m.wav" "$raw" ;;
    tts)  # a1 engine, a2 voice, a3 speed, a4 pitch, a5 text file, a6 encoding
      case $a1 in
        espeak) espeak-ng -v "$a2" -s "$a3" -p "$a4" -f "$a5" -w "$tmp/t.wav" ;;
        flite) flite -voice "$a2" --setf duration_stretch="$(awk -v s="$a3" 'BEGIN{print 1/s}')" \
                 --setf int_f0_target_mean="$(awk -v p="$a4" 'BEGIN{print int(100*p)}')" -f "$a5" -o "$tmp/t.wav" ;;
        festival)
          # festival's letter-to-sound rules stop on typographic punctuation (— « » …)
          sed 's/ *[—–] */, /g; s/[«»“”„"()]//g; s/…/./g; s/^[ ,]*//' "$a5" | iconv -f UTF-8 -t "$a6//TRANSLIT" > "$tmp/t.txt" 2>/dev/null || true
          text2wave -scale 0.5 -eval "(voice_$a2)" -eval "(Parameter.set 'Duration_Stretch $(awk -v s="$a3" 'BEGIN{print 1/s}'))" \
            -o "$tmp/t.wav" "$tmp/t.txt" >/dev/null 2>&1 ;;
      esac
      [ -s "$tmp/t.wav" ] && toflt "$tmp/t.wav" "$raw" ;;
    synth) synth_noise "$tmp" "$raw" "$a1" "$a2" "$a3" "$a4" "$a5"; trimsil=() ;;
  esac
  local dir
  case "$split/$kind" in
    train/speech_real) dir=clean/speech_real ;; train/speech_tts) dir=clean/speech_tts ;;
    train/music) dir=clean/music ;; train/noise_real) dir=noise/real ;; train/noise_synth) dir=noise/synth ;;
    dev/speech_tp) dir=dev/clean_speech_tp ;; dev/speech_*) dir=dev/clean_speech ;;
    dev/music) dir=dev/clean_music ;; dev/noise_sfx) dir=dev/noise_sfx ;; dev/noise_*) dir=dev/noise ;;
  esac
  mkdir -p "$OUT/$dir/$src"
  : > "$frag.part"
  if [ -s "$raw" ] && sox -R -V1 "$raw" -b 16 "$tmp/p.wav" gain -n -1 "${trimsil[@]}" 2>/dev/null; then
    local d n L c
    d=$(soxi -D "$tmp/p.wav" 2>/dev/null || echo 0)
    if awk -v d="$d" 'BEGIN{exit !(d >= 1)}'; then
      n=$(awk -v d="$d" 'BEGIN{n = int(d / 30); if (n * 30 < d) n++; print n}')
      L=$(awk -v d="$d" -v n="$n" 'BEGIN{printf "%.6f", d / n}')
      for ((c = 0; c < n; c++)); do
        local rel="$dir/$src/${outbase}_c$c.wav"
        if [ "$n" = 1 ]; then cp "$tmp/p.wav" "$OUT/$rel"
        else sox -R -V1 "$tmp/p.wav" "$OUT/$rel" trim "$(awk -v c=$c -v L="$L" 'BEGIN{printf "%.6f", c * L}')" "$L"
        fi
        printf '%s\t%s\t%s\t%s\t%.3f\t%s\n' "$rel" "$split" "$kind" "$src" "$(soxi -D "$OUT/$rel")" "$orate" >> "$frag.part"
      done
    fi
  fi
  mv "$frag.part" "$frag"
  rm -rf "$tmp"
}

# synth_noise TMP OUT TYPE PARAMS...: deterministic (sox -R, every random choice made in the
# job list); sample noise is cut from long seeded base files at a per-clip offset.
synth_noise() {
  local tmp=$1 out=$2 type=$3 dur=$4 off=$5 p1=$6 p2=$7
  local B="$WORK/base"
  case $type in
    white|hiss) sox -R -V1 "$B/white.wav" "$out" trim "$off" "$dur" \
                  $([ $type = hiss ] && echo "highpass $p1 highpass $p1 gain -6") lowpass "$p2" ;;
    pink) sox -R -V1 "$B/pink.wav" "$out" trim "$off" "$dur" lowpass "$p2" ;;
    brown) sox -R -V1 "$B/brown.wav" "$out" trim "$off" "$dur" ;;
    hum)  # mains hum p1 Hz (50/60) with harmonics and a slow level wobble, plus faint noise
      sox -R -V1 -r 48000 -c 6 -n "$tmp/h.wav" synth "$dur" sine "$p1" sine "$((p1 * 2))" sine "$((p1 * 3))" \
        sine "$((p1 * 4))" sine "$((p1 * 5))" sine "$((p1 * 7))" \
        remix 1v0.5,2v0.$((2 + p2 % 5)),3v0.2$((p2 % 10)),4v0.08,5v0.1$((p2 % 7)),6v0.05
      sox -R -V1 "$B/white.wav" "$tmp/n.wav" trim "$off" "$dur" lowpass 4000 gain -40
      sox -R -V1 -m "$tmp/h.wav" "$tmp/n.wav" "$out" tremolo 0.3 5 ;;
    buzz)  # rectified-mains buzz: square wave, low-passed
      sox -R -V1 -n -r 48000 -c 1 "$out" synth "$dur" square "$p1" lowpass "$p2" gain -12 ;;
    crackle)  # sparse clicks (p1 per second) of random size and sign on faint hiss
      gawk -v sr=48000 -v dur="$dur" -v rate="$p1" -v seed="$p2" 'BEGIN {
        srand(seed); n = int(sr * dur); print "; Sample Rate " sr; print "; Channels 1"
        p = rate / sr; amp = 0
        for (i = 0; i < n; i++) {
          if (rand() < p) amp = (rand() < 0.5 ? -1 : 1) * (0.05 + 0.9 * rand() ^ 3)
          printf "%.6f %.5f\n", i / sr, amp; amp *= 0.35
        } }' > "$tmp/c.dat"
      sox -R -V1 "$tmp/c.dat" -r 48000 -b 16 "$tmp/c.wav" highpass 300
      sox -R -V1 "$B/white.wav" "$tmp/n.wav" trim "$off" "$dur" highpass 2000 gain -42
      sox -R -V1 -m "$tmp/c.wav" "$tmp/n.wav" "$out" ;;
    gust)  # wind: brown/pink noise, low-passed, slowly and irregularly modulated
      sox -R -V1 "$B/brown.wav" "$out" trim "$off" "$dur" lowpass "$p2" tremolo "0.$p1" 85 tremolo 0.37 50 tremolo 0.061 60 ;;
    band)  # dev only: narrow-band noise at a random centre
      sox -R -V1 "$B/white.wav" "$out" trim "$off" "$dur" sinc -n 2048 "$p1"-"$p2" ;;
    babble)  # p1 talkers from list p2: each talker = 3 clips in a row, random offsets/gains
      local i k talk=() f
      mapfile -t L < "$p2"
      for ((i = 0; i < p1; i++)); do
        local seq=()
        for k in 0 1 2; do seq+=("$OUT/${L[$(( (off * 7 + i * 131 + k * 17) % ${#L[@]} ))]}"); done
        sox -R -V1 "${seq[@]}" "$tmp/t$i.wav" trim "0.$(( (off + i * 3) % 10 ))" gain -$(( (off + i) % 7 ))
        talk+=("$tmp/t$i.wav")
      done
      sox -R -V1 -m "${talk[@]}" "$out" trim 0 "$dur" ;;
  esac
}
export -f proc_job synth_noise

run_jobs() {  # run_jobs FILE: parallel, each job independent
  local n; n=$(wc -l < "$1")
  echo "  $n jobs, $JOBS in parallel"
  tr '\n' '\0' < "$1" | xargs -0 -P "$JOBS" -n 1 nice -n 19 bash -c 'proc_job "$1" 2>>"$WORK/errors.log" || echo "job failed: $1" >> "$WORK/errors.log"' _
}

echo "[3/5] recordings, MIDI and TTS"
run_jobs "$JOBLIST"

# ---------------------------------------------------------------- synthetic noise
echo "[4/5] synthetic noise"
mkdir -p "$WORK/base"
BASELEN=$([ $SMALL = 1 ] && echo 60 || echo 900)
for c in white pink brown; do
  [ -f "$WORK/base/$c.wav" ] || sox -R -V1 -n -r 48000 -b 16 "$WORK/base/$c.wav" synth "$BASELEN" ${c}noise gain -3
done
cat "$WORK"/man/*.tsv | gawk -F'\t' '$3 == "speech_tts" && $5 >= 2 && $2 == "train" {print $1}' | sort > "$WORK/babble_train.lst"
cat "$WORK"/man/*.tsv | gawk -F'\t' '$3 == "speech_tts" && $5 >= 2 && $2 == "dev" {print $1}' | sort > "$WORK/babble_dev.lst"
NS=$([ $SMALL = 1 ] && echo 2 || echo 40); NSD=$([ $SMALL = 1 ] && echo 1 || echo 15)
gawk -v seed=$SEED -v n=$NS -v nd=$NSD -v blen=$BASELEN -v small=$SMALL -v w="$WORK" 'BEGIN {
  srand(seed)
  nt = split("white pink brown hiss hum buzz crackle gust babble", T, " ")
  for (t = 1; t <= nt; t++) for (c = 0; c < n; c++) emit("train", T[t], c)
  nt = split("hum band babble", T, " ")
  for (t = 1; t <= nt; t++) for (c = 0; c < nd; c++) emit("dev", T[t], c)
}
function emit(sp, type, c,   dur, off, p1, p2, src) {
  dur = small ? 4 + int(rand() * 3) : 8 + int(rand() * 22)
  off = int(rand() * (blen - dur - 1))
  p1 = 0; p2 = 0
  if (type == "white") p2 = 4000 + int(rand() * 20000)
  if (type == "pink") p2 = 6000 + int(rand() * 18000)
  if (type == "hiss") { p1 = 2500 + int(rand() * 4000); p2 = 12000 + int(rand() * 11000) }
  if (type == "hum") { p1 = (sp == "train") ? 50 : 60; p2 = int(rand() * 1000) }
  if (type == "buzz") { p1 = (rand() < 0.5) ? 100 : 50; p2 = 1500 + int(rand() * 5000) }
  if (type == "crackle") { p1 = 2 + int(rand() * 40); p2 = int(rand() * 100000) }
  if (type == "gust") { p1 = 1 + int(rand() * 4); p2 = 300 + int(rand() * 1500) }
  if (type == "band") { p1 = 200 + int(rand() * 4000); p2 = p1 + 100 + int(rand() * 1500) }
  if (type == "babble") { p1 = 4 + int(rand() * 5); p2 = w "/babble_" sp ".lst"; off = int(rand() * 100000) }
  src = (sp == "dev" ? "synth_" : "") type
  printf "%s\tnoise_synth\t%s\t%s_%03d\tsynth\t48000\t%s\t%d\t%d\t%s\t%s\n", sp, src, type, c, type, dur, off, p1, p2
}' > "$WORK/synth_jobs.tsv"
# babble needs TTS clips of its split
for s in train dev; do
  [ -s "$WORK/babble_$s.lst" ] || sed -i "/^$s\tnoise_synth\t[a-z_]*babble/d" "$WORK/synth_jobs.tsv"
done
run_jobs "$WORK/synth_jobs.tsv"

# ---------------------------------------------------------------- manifest, summary
echo "[5/5] manifest"
{ printf 'path\tsplit\tkind\tsource\tduration_s\torig_rate\n'; cat "$WORK"/man/*.tsv | sort; } > "$OUT/manifest.tsv"
gawk -F'\t' 'NR > 1 { k = $2 "\t" $3; h[k] += $5; n[k]++; s = $2 "\t" $3 "\t" $4; hs[s] += $5; ns[s]++
                      if ($6 < 32000) lo[k] += $5 }
  END {
    printf "%-6s %-12s %9s %7s %s\n", "split", "kind", "hours", "files", "(of which from sources below 32 kHz)"
    PROCINFO["sorted_in"] = "@ind_str_asc"
    for (k in h) { split(k, a, "\t"); printf "%-6s %-12s %9.2f %7d %.2f h\n", a[1], a[2], h[k] / 3600, n[k], lo[k] / 3600; tot += h[k] }
    printf "total %22.2f h\n\nper source:\n", tot / 3600
    for (s in hs) { split(s, a, "\t"); printf "%-6s %-12s %-34s %8.3f h %6d\n", a[1], a[2], a[3], hs[s] / 3600, ns[s] }
  }' "$OUT/manifest.tsv" > "$OUT/summary.txt"
sed '/^per source/,$d' "$OUT/summary.txt"
nerr=$(grep -c . "$WORK/errors.log" 2>/dev/null || true)
[ "${nerr:-0}" = 0 ] || echo "note: $nerr lines in $WORK/errors.log"
rm -rf "$WORK/tmp"; mkdir -p "$WORK/tmp"
echo "built $OUT in $(( $(date +%s) - T0 )) s"
