#!/usr/bin/env bash
# test_install.sh - installation and packaging (cmake/install.cmake).
#
# usage: bash tests/test_install.sh PATH_TO_LIMPID WORKDIR
#
# Installs the build folder PATH_TO_LIMPID lives in (cmake --install) and checks:
#  - DESTDIR installs stay under DESTDIR; the uninstall target removes every file again;
#  - the layout: CLI, liblimpid.so with soname liblimpid.so.0, liblimpid.a, limpid.h,
#    limpid.pc, share/limpid/rt.lpm and hq.lpm (the repository's models), man pages, bash completion;
#  - after the prefix is MOVED, the installed `limpid denoise` uses the installed model: with
#    the installed rt.lpm corrupted it fails naming PREFIX/bin/../share/limpid/rt.lpm (the
#    build tree and the compiled-in source tree both hold a good model, so a fallback there
#    would succeed); restored, it gives the bytes the build-tree CLI gives;
#  - every man page renders (man -l and MANPATH=... man), groff reports no warnings, and each
#    command's page documents exactly the options of its --help;
#  - the bash completion offers exactly the commands and each command's --help options;
#  - examples/denoise_file.c builds against the moved prefix with only
#    `pkg-config --cflags --libs limpid sndfile` and runs from it (shared library), and with
#    `pkg-config --static` against a copy holding only liblimpid.a; its output is the same
#    denoising as the CLI's;
#  - liblimpid.so exports exactly the LIMPID_API functions of limpid.h (both directions);
#  - the LV2 bundle, when one was built, is found by lv2ls (skipped otherwise);
#  - cpack -G DEB makes a package with dpkg-shlibdeps Depends, the files above, and a
#    working limpid (unpacked with dpkg-deb -x; nothing is installed on the system).
# The build folder's install_manifest.txt is restored at the end. Prints "N passed, N failed";
# exits non-zero when any check failed.
set -u

LIMPID=${1:?usage: test_install.sh PATH_TO_LIMPID WORKDIR}
WORK=${2:?usage: test_install.sh PATH_TO_LIMPID WORKDIR}
case $LIMPID in /*) ;; *) LIMPID=$PWD/$LIMPID ;; esac
SRC=$(cd "$(dirname "$0")/.." && pwd -P)

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/       /' | head -30; }
skip() { echo "skip - $1"; }
# check NAME COMMAND...: passes when the command succeeds
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

if [ ! -x "$LIMPID" ]; then
    echo "limpid executable '$LIMPID' not found"
    exit 1
fi
BUILD=$(cd "$(dirname "$LIMPID")" && pwd -P)
if [ ! -f "$BUILD/cmake_install.cmake" ]; then
    echo "'$BUILD' (the folder of $LIMPID) is not a CMake build folder: nothing to install"
    exit 1
fi
for tool in cmake pkg-config cc nm readelf sox soxi python3; do
    if ! command -v $tool >/dev/null 2>&1; then
        echo "$tool is needed by this test"
        exit 1
    fi
done
NOISY=$SRC/examples/noisy_speech.flac
MODEL=$SRC/models/rt/rt.lpm
for f in "$NOISY" "$MODEL" "$SRC/examples/denoise_file.c"; do
    [ -f "$f" ] || { echo "$f is missing"; exit 1; }
done
unset LIMPID_MODEL_DIR DESTDIR

rm -rf "$WORK"
mkdir -p "$WORK" || exit 1
WORK=$(cd "$WORK" && pwd -P) # /proc/self/exe paths are physical
cd "$WORK" || exit 1

# Installing rewrites BUILD/install_manifest.txt: keep the user's, if any, and put it back.
MANIFEST=$BUILD/install_manifest.txt
if [ -f "$MANIFEST" ]; then
    cp -p "$MANIFEST" "$WORK/install_manifest.saved"
    trap 'cp -p "$WORK/install_manifest.saved" "$MANIFEST"' EXIT
else
    trap 'rm -f "$MANIFEST"' EXIT
fi

version=$("$LIMPID" --version | sed -n 's/^limpid //p')
commands=$("$LIMPID" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) .*/\1/p' | tr '\n' ' ')
[ -n "$version" ] && [ -n "$commands" ] || { echo "cannot read the version and commands from $LIMPID --help"; exit 1; }

# The options a command's --help lists (its option lines: two spaces, then -x, --name),
# sorted, one per line
help_opts() {
    "$LIMPID" "$1" --help | grep -oE '^  (-[a-zA-Z], )?--[a-z][a-z-]*' | grep -oE -- '--?[a-zA-Z][a-z-]*' | sort -u
}

# ---- DESTDIR install and the uninstall target --------------------------------------------
out=$(DESTDIR=$WORK/dest cmake --install "$BUILD" --prefix /opt/limpid-test 2>&1)
if [ $? -eq 0 ] && [ -x "$WORK/dest/opt/limpid-test/bin/limpid" ]; then
    ok "DESTDIR=... cmake --install --prefix /opt/limpid-test"
else
    bad "DESTDIR install" "$out"
fi
outside=$(grep -v '^/opt/limpid-test/' "$MANIFEST")
n_manifest=$(wc -l <"$MANIFEST")
[ -z "$outside" ] && [ "$n_manifest" -ge 10 ] && [ ! -e /opt/limpid-test ] &&
    ok "all $n_manifest installed files lie under the prefix, inside DESTDIR" ||
    bad "files installed outside the prefix (or too few: $n_manifest)" "$outside"
missing=""
while IFS= read -r f; do
    [ -e "$WORK/dest$f" ] || [ -L "$WORK/dest$f" ] || missing="$missing $f"
done <"$MANIFEST"
[ -z "$missing" ] && ok "every file of install_manifest.txt is in DESTDIR" || bad "missing in DESTDIR:$missing"
out=$(DESTDIR=$WORK/dest cmake --build "$BUILD" --target uninstall 2>&1)
rc=$?
left=$(find "$WORK/dest" -type f -o -type l)
[ $rc -eq 0 ] && [ -z "$left" ] && ok "the uninstall target (with DESTDIR) removes every installed file" ||
    bad "uninstall (rc $rc) left files" "$left
$out"
[ ! -e "$WORK/dest/opt/limpid-test/share/limpid" ] && ok "uninstall removes limpid's own folder share/limpid" ||
    bad "share/limpid is left after uninstall"

# ---- install into a prefix, check the layout ---------------------------------------------
out=$(cmake --install "$BUILD" --prefix "$WORK/prefix" 2>&1) &&
    ok "cmake --install --prefix" || bad "cmake --install --prefix" "$out"
P=$WORK/prefix
so=$(find "$P" -name liblimpid.so -print -quit)
if [ -z "$so" ]; then
    bad "no liblimpid.so installed"
    echo "$pass passed, $fail failed"
    exit 1
fi
LIBDIR=${so%/liblimpid.so}
LIBDIR=${LIBDIR#"$P"/} # lib, lib64 or lib/MULTIARCH
for f in bin/limpid "$LIBDIR/liblimpid.so.$version" "$LIBDIR/liblimpid.a" include/limpid.h \
    "$LIBDIR/pkgconfig/limpid.pc" share/limpid/rt.lpm share/bash-completion/completions/limpid \
    share/man/man1/limpid.1.gz; do
    [ -f "$P/$f" ] && ok "installed $f" || bad "not installed: $f"
done
for c in $commands; do
    [ -f "$P/share/man/man1/limpid-$c.1.gz" ] && ok "installed share/man/man1/limpid-$c.1.gz" ||
        bad "no man page for 'limpid $c'"
done
soname=$(readelf -d "$P/$LIBDIR/liblimpid.so.$version" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = "liblimpid.so.${version%%.*}" ] && ok "soname $soname" || bad "soname is '$soname'"
[ "$(readlink "$P/$LIBDIR/liblimpid.so.${version%%.*}")" = "liblimpid.so.$version" ] &&
    [ "$(readlink "$P/$LIBDIR/liblimpid.so")" = "liblimpid.so.${version%%.*}" ] &&
    ok "liblimpid.so -> .so.${version%%.*} -> .so.$version" || bad "library symlinks" "$(ls -l "$P/$LIBDIR")"
cmp -s "$P/share/limpid/rt.lpm" "$MODEL" && ok "share/limpid/rt.lpm is models/rt/rt.lpm" ||
    bad "the installed rt.lpm differs from models/rt/rt.lpm"
cmp -s "$P/share/limpid/hq.lpm" "$SRC/models/hq/hq.lpm" && ok "share/limpid/hq.lpm is models/hq/hq.lpm" ||
    bad "the installed hq.lpm differs from models/hq/hq.lpm (or is missing)"
cmp -s "$P/include/limpid.h" "$SRC/core/include/limpid.h" && ok "include/limpid.h is the source header" ||
    bad "the installed limpid.h differs from core/include/limpid.h"
out=$("$P/bin/limpid" --version 2>&1)
[ "$out" = "limpid $version" ] && ok "installed limpid --version: $out" || bad "installed limpid --version" "$out"

# ---- move the prefix: the installed CLI must find the installed model -----------------------
mv "$P" "$WORK/moved" || exit 1
M=$WORK/moved
MPC=$M/$LIBDIR/pkgconfig
"$LIMPID" denoise -q --threads 1 "$NOISY" -o ref.flac >/dev/null 2>&1 ||
    bad "the build-tree limpid denoise failed on examples/noisy_speech.flac"
cp -p "$M/share/limpid/rt.lpm" rt.lpm.good
head -c 4096 rt.lpm.good >"$M/share/limpid/rt.lpm" # a truncated model file
out=$(cd / && "$M/bin/limpid" denoise -q --threads 1 "$NOISY" -o "$WORK/corrupt.flac" 2>&1)
rc=$?
case $out in
*"$M/bin/../share/limpid/rt.lpm"*) [ $rc -eq 1 ] &&
    ok "moved prefix: --model rt is looked up in PREFIX/share/limpid first (a corrupt one fails by name)" ||
    bad "corrupt installed model: exit status $rc (expected 1)" "$out" ;;
*) bad "the installed limpid did not load PREFIX/share/limpid/rt.lpm (rc $rc)" "$out" ;;
esac
cp -p rt.lpm.good "$M/share/limpid/rt.lpm"
out=$(cd / && "$M/bin/limpid" denoise -q --threads 1 "$NOISY" -o "$WORK/installed.flac" 2>&1)
[ $? -eq 0 ] && cmp -s installed.flac ref.flac &&
    ok "moved prefix: the installed limpid denoise gives the build tree's bytes" ||
    bad "the installed limpid denoise failed or differs from the build tree's" "$out"

# ---- man pages --------------------------------------------------------------------------------
if command -v man >/dev/null 2>&1; then
    for page in "$M"/share/man/man1/*.1.gz; do
        name=$(basename "$page" .1.gz)
        out=$(MANWIDTH=80 MANPAGER=cat PAGER=cat man -l "$page" 2>&1)
        echo "$out" | grep -q "^NAME" && echo "$out" | grep -qE "^ *$name +- " &&
            ok "man -l $name.1.gz renders (NAME: $name - ...)" || bad "man -l $name.1.gz" "$out"
    done
    out=$(MANPATH=$M/share/man MANWIDTH=80 MANPAGER=cat PAGER=cat man limpid-denoise 2>&1)
    echo "$out" | grep -q "LIMPID-DENOISE(1)" && echo "$out" | grep -q -- "--strength" &&
        ok "MANPATH=PREFIX/share/man man limpid-denoise" || bad "MANPATH=... man limpid-denoise" "$out"
    where=$(MANPATH=$M/share/man man -w limpid 2>&1)
    [ "$where" = "$M/share/man/man1/limpid.1.gz" ] && ok "man -w limpid finds the installed page" ||
        bad "man -w limpid: $where"
else
    skip "man is not installed: rendering not checked"
fi
if command -v groff >/dev/null 2>&1; then
    for page in "$M"/share/man/man1/*.1.gz; do
        out=$(zcat "$page" | groff -man -ww -z -Tutf8 2>&1)
        [ -z "$out" ] && ok "groff -ww: no warnings in $(basename "$page")" ||
            bad "groff warnings in $(basename "$page")" "$out"
    done
fi
# The options documented by a page: the tags of its .TP items (the line after .TP).
for c in $commands; do
    page=$M/share/man/man1/limpid-$c.1.gz
    [ -f "$page" ] || continue
    doc=$(zcat "$page" | sed 's/\\-/-/g' | awk 'tp { print } { tp = ($0 == ".TP") }' |
        grep -oE '(^|[ "])--?[a-zA-Z][a-z-]*' | grep -oE -- '--?[a-zA-Z][a-z-]*' | sort -u)
    d=$(diff <(help_opts "$c") <(echo "$doc"))
    [ -z "$d" ] && ok "limpid-$c.1 documents exactly the options of 'limpid $c --help'" ||
        bad "limpid-$c.1 and 'limpid $c --help' differ (<: --help only, >: man page only)" "$d"
done

# ---- bash completion ----------------------------------------------------------------------------
# complete WORDS...: what the completion offers for the last word (sorted, one per line)
complete_words() {
    bash --norc --noprofile -c '
        source "$1" || exit 1; shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
        _limpid; printf "%s\n" "${COMPREPLY[@]}"' _ "$M/share/bash-completion/completions/limpid" "$@" |
        sort -u
}
got=$(complete_words limpid "" | tr '\n' ' ')
want=$(printf '%s\n' $commands help --help --version | sort -u | tr '\n' ' ')
[ "$got" = "$want" ] && ok "completion: limpid <TAB> offers the commands: $got" ||
    bad "completion of commands" "got:  $got
want: $want"
for c in $commands; do
    d=$(diff <(help_opts "$c") <(complete_words limpid "$c" -))
    [ -z "$d" ] && ok "completion: limpid $c -<TAB> offers exactly the options of its --help" ||
        bad "completion options of 'limpid $c' (<: --help only, >: completion only)" "$d"
done
got=$(complete_words limpid denoise --sampler d | tr '\n' ' ')
[ "$got" = "ddim ddpm " ] && ok "completion: --sampler values" || bad "completion of --sampler d" "$got"
mkdir -p "comp dir" && touch "comp dir/a file.flac"
got=$(cd "$WORK" && complete_words limpid denoise "comp dir/a")
[ "$got" = "comp dir/a file.flac" ] && ok "completion: file names with spaces stay whole" ||
    bad "completion of a file name with a space" "$got"

# ---- the library from the installed prefix: pkg-config, the example ---------------------------
export PKG_CONFIG_PATH=$MPC
pcv=$(pkg-config --modversion limpid 2>&1)
[ "$pcv" = "$version" ] && ok "pkg-config --modversion limpid: $pcv" || bad "pkg-config --modversion limpid" "$pcv"
flags=$(pkg-config --cflags --libs limpid 2>&1)
case $flags in
*"-I$MPC/"*"-L$MPC/"*"-llimpid"*) ok "pkg-config --cflags --libs limpid points into the moved prefix: $flags" ;;
*) bad "pkg-config --cflags --libs limpid" "$flags" ;;
esac
# A sanitizer build's library needs the sanitizer runtime in the program as well.
san=""
readelf -d "$M/$LIBDIR/liblimpid.so" | grep -q 'libasan' && san="-fsanitize=address,undefined"
cmp -s "$M/share/doc/limpid/examples/denoise_file.c" "$SRC/examples/denoise_file.c" &&
    ok "the example source is installed in share/doc/limpid/examples" || bad "share/doc/limpid/examples/denoise_file.c"
# shellcheck disable=SC2046,SC2086
out=$(cc -Wall -Wextra -Werror $san "$SRC/examples/denoise_file.c" -o denoise_file \
    $(pkg-config --cflags --libs limpid sndfile) 2>&1) &&
    ok "examples/denoise_file.c builds with pkg-config --cflags --libs limpid sndfile" ||
    bad "building the example against the prefix" "$out"
if [ -x denoise_file ]; then
    resolved=$(LD_LIBRARY_PATH=$M/$LIBDIR ldd ./denoise_file | grep liblimpid)
    case $resolved in
    *"=> $M/$LIBDIR/liblimpid.so.${version%%.*} "*) ok "the example loads liblimpid from the prefix" ;;
    *) bad "the example's liblimpid" "$resolved" ;;
    esac
    out=$(LD_LIBRARY_PATH=$M/$LIBDIR ./denoise_file "$M/share/limpid/rt.lpm" "$NOISY" example.flac 2>&1)
    [ $? -eq 0 ] && [ -f example.flac ] && ok "the example denoises: $out" || bad "running the example" "$out"
    n_in=$(soxi -s "$NOISY" 2>/dev/null)
    n_out=$(soxi -s example.flac 2>/dev/null)
    [ -n "$n_in" ] && [ "$n_in" = "$n_out" ] && ok "the example keeps the length ($n_out samples)" ||
        bad "the example's output has $n_out samples, the input $n_in"
    # Same model, same sampler, other noise draws (the CLI seeds each block): the example's
    # output should be the CLI's denoising, not the input. Measured 26.9 dB SI-SDR against the
    # CLI output, where the noisy input scores 11.1 dB: 20 dB separates the two.
    si() {
        "$LIMPID" eval -q --clean ref.flac --enhanced "$1" --json si.json >/dev/null 2>&1 &&
            python3 -c 'import json,sys; print("%.2f" % json.load(open("si.json"))["groups"]["all"]["si_sdr"])'
    }
    s_ex=$(si example.flac)
    s_noisy=$(si "$NOISY")
    python3 -c "import sys; sys.exit(0 if float('${s_ex:-nan}') >= 20 else 1)" 2>/dev/null &&
        ok "the example's output matches the CLI's within $s_ex dB SI-SDR (noisy input: $s_noisy dB)" ||
        bad "the example's output is $s_ex dB SI-SDR from the CLI's (noisy input: $s_noisy dB; want >= 20)"
    out=$(LD_LIBRARY_PATH=$M/$LIBDIR ./denoise_file "$M/share/limpid/rt.lpm" nonexistent.wav x.wav 2>&1)
    rc=$?
    [ $rc -eq 1 ] && case $out in *nonexistent.wav*) true ;; *) false ;; esac &&
        ok "the example names a missing input and exits 1" || bad "example with a missing input (rc $rc)" "$out"
fi
# Static: a copy of the prefix holding only liblimpid.a; pkg-config --static adds fftw3f,
# openblas, OpenMP and libm (Requires.private / Libs.private).
cp -a "$M" "$WORK/static" && rm -f "$WORK/static/$LIBDIR"/liblimpid.so*
# shellcheck disable=SC2046,SC2086
out=$(PKG_CONFIG_PATH=$WORK/static/$LIBDIR/pkgconfig; export PKG_CONFIG_PATH
    cc -Wall -Wextra -Werror $san "$SRC/examples/denoise_file.c" -o denoise_file_static \
        $(pkg-config --static --cflags --libs limpid) $(pkg-config --libs sndfile) 2>&1) &&
    ok "the example links statically with pkg-config --static --cflags --libs limpid" ||
    bad "static link of the example" "$out"
if [ -x denoise_file_static ]; then
    ldd ./denoise_file_static | grep -q liblimpid && bad "the static example still loads liblimpid.so" ||
        ok "the static example does not load liblimpid.so"
    out=$(./denoise_file_static "$M/share/limpid/rt.lpm" "$NOISY" example_static.flac 2>&1)
    [ $? -eq 0 ] && [ -f example_static.flac ] && cmp -s example.flac example_static.flac &&
        ok "the static example gives the shared one's bytes" || bad "the static example" "$out"
fi

# ---- exported symbols = LIMPID_API functions of the header --------------------------------------
# The header through the preprocessor as the library sees it (LIMPID_API = visibility
# "default"), joined into one line: each exported declaration is
# __attribute__((visibility("default"))) TYPE NAME(
declared=$(cc -E -P -DLIMPID_BUILDING -x c "$M/include/limpid.h" | tr '\n' ' ' |
    grep -oE 'visibility\("default"\)\)\) [^;(]*\(' | sed -E 's/ *\($//; s/.*[ *]//' | sort -u)
exported=$(nm -D --defined-only "$M/$LIBDIR/liblimpid.so" | awk '{ print $NF }' | sort -u)
n_decl=$(echo "$declared" | grep -c .)
d=$(diff <(echo "$declared") <(echo "$exported"))
[ -z "$d" ] && [ "$n_decl" -gt 30 ] &&
    ok "liblimpid.so exports exactly the $n_decl LIMPID_API functions of limpid.h" ||
    bad "exports of liblimpid.so vs LIMPID_API in limpid.h (<: declared, not exported; >: exported, not declared)" "$d"

# ---- LV2 bundle ----------------------------------------------------------------------------------
if [ -d "$M/$LIBDIR/lv2/limpid.lv2" ]; then
    [ -f "$M/$LIBDIR/lv2/limpid.lv2/manifest.ttl" ] && ok "the LV2 bundle has a manifest.ttl" ||
        bad "no manifest.ttl in $LIBDIR/lv2/limpid.lv2"
    if command -v lv2ls >/dev/null 2>&1; then
        out=$(LV2_PATH=$M/$LIBDIR/lv2 lv2ls 2>&1)
        echo "$out" | grep -q limpid && ok "lv2ls lists the plugins: $(echo "$out" | tr '\n' ' ')" ||
            bad "LV2_PATH=PREFIX/$LIBDIR/lv2 lv2ls lists no limpid plugin" "$out"
    else
        skip "lv2ls is not installed (Debian: lilv-utils): the bundle was not loaded"
    fi
else
    skip "no LV2 bundle in the prefix (the limpid_lv2 target was not built)"
fi

# ---- Debian package ------------------------------------------------------------------------------
if command -v cpack >/dev/null && command -v dpkg-deb >/dev/null && command -v dpkg-shlibdeps >/dev/null &&
    [ -f "$BUILD/CPackConfig.cmake" ]; then
    out=$(cpack --config "$BUILD/CPackConfig.cmake" -G DEB -B "$WORK/deb" 2>&1)
    deb=$(ls "$WORK"/deb/limpid_*.deb 2>/dev/null | head -n 1)
    if [ -n "$deb" ]; then
        ok "cpack -G DEB made $(basename "$deb")"
        [ "$(dpkg-deb -f "$deb" Package)" = limpid ] && [ "$(dpkg-deb -f "$deb" Version)" = "$version" ] &&
            ok "package limpid, version $version" || bad "package name or version" "$(dpkg-deb -f "$deb")"
        dep=$(dpkg-deb -f "$deb" Depends)
        case $dep in
        *libfftw3-single3*libopenblas*|*libopenblas*libfftw3-single3*) ok "Depends (dpkg-shlibdeps): $dep" ;;
        *) bad "Depends lacks fftw3f or openblas" "$dep" ;;
        esac
        [ -n "$(dpkg-deb -f "$deb" Maintainer)" ] && [ -n "$(dpkg-deb -f "$deb" Description)" ] &&
            ok "Maintainer and Description set" || bad "Maintainer or Description missing"
        list=$(dpkg-deb -c "$deb")
        for f in ./usr/bin/limpid ./usr/share/limpid/rt.lpm ./usr/include/limpid.h \
            "./usr/$LIBDIR/liblimpid.so.$version" "./usr/$LIBDIR/pkgconfig/limpid.pc" \
            ./usr/share/man/man1/limpid.1.gz ./usr/share/bash-completion/completions/limpid; do
            echo "$list" | grep -q " $f\$" && ok "the package holds $f" || bad "the package lacks $f"
        done
        if [ -d "$M/$LIBDIR/lv2/limpid.lv2" ]; then
            f=./usr/$LIBDIR/lv2/limpid.lv2/manifest.ttl
            echo "$list" | grep -q " $f\$" && ok "the package holds the LV2 bundle ($f)" ||
                bad "the package lacks the LV2 bundle ($f)"
        fi
        dpkg-deb -x "$deb" "$WORK/unpacked"
        out=$(cd / && "$WORK/unpacked/usr/bin/limpid" denoise -q --threads 1 "$NOISY" -o "$WORK/deb.flac" 2>&1)
        [ $? -eq 0 ] && cmp -s deb.flac ref.flac && ok "the packaged limpid denoises with its own rt model" ||
            bad "the unpacked package's limpid denoise" "$out"
    else
        bad "cpack -G DEB made no package" "$out"
    fi
else
    skip "cpack, dpkg-deb or dpkg-shlibdeps missing: the Debian package was not built"
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
