#!/bin/sh
# fuzz/build.sh - builds the libFuzzer targets of the model loader into fuzz/out/ and writes
# the seed corpus. Needs clang with libFuzzer (Debian: apt-get install clang libclang-rt-14-dev).
#
#   fuzz/out/fuzz_model        the loader as shipped (checksum verified: mutations mostly stop
#                              at the checksum)
#   fuzz/out/fuzz_model_nock   built with -DLPI_FUZZ_NO_CHECKSUM: the checksum is not compared,
#                              so mutated inputs reach the parser behind it
#
# Run, e.g.:
#   fuzz/out/fuzz_model_nock -dict=fuzz/model.dict -max_total_time=180 \
#       fuzz/out/corpus fuzz/corpus/model
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out="$here/out"
CC=${CC:-clang}
mkdir -p "$out" "$out/corpus" "$here/corpus/model"

# Only the sources the loader needs, so others' work in progress cannot break this build.
src="$root/core/src/common.c $root/core/src/config.c $root/core/src/net_layout.c $root/core/src/band.c
     $root/core/src/container.c $root/core/src/model_io.c"
cflags="-std=gnu11 -g -O1 -fno-omit-frame-pointer -Wall -Wextra -I$root/core/include -I$root/core/src"
libs="$(pkg-config --libs openblas) -lm -lpthread"

# shellcheck disable=SC2086
$CC $cflags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    $src "$here/fuzz_model.c" $libs -o "$out/fuzz_model"
# shellcheck disable=SC2086
$CC $cflags -DLPI_FUZZ_NO_CHECKSUM -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined $src "$here/fuzz_model.c" $libs -o "$out/fuzz_model_nock"

# The config-file parser of `limpid train --config` (with the core's config code it calls).
# shellcheck disable=SC2086
$CC $cflags -I"$root/cli" -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    "$root/cli/config_file.c" $root/core/src/common.c $root/core/src/config.c \
    "$here/fuzz_config.c" $libs -o "$out/fuzz_config"

# The CLI's audio reading path (libsndfile + libsamplerate behind cli/audio.c).
# shellcheck disable=SC2086
$CC $cflags -I"$root/cli" -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    "$root/cli/audio.c" "$here/fuzz_audio.c" $(pkg-config --libs sndfile samplerate) -lm \
    -o "$out/fuzz_audio"

# Seeds: small valid models (each a few KB), written by the library itself.
# shellcheck disable=SC2086
$CC $cflags $src "$here/gen_seeds.c" $libs -o "$out/gen_seeds"
"$out/gen_seeds" "$here/corpus/model"
ls -l "$here/corpus/model"
