#!/usr/bin/env bash
# run_core.sh - build bench_core (Release) and run it next to the PyTorch reference for each
# thread count, then print the ratios that issue 2 sets as bars:
#   C training speed / PyTorch's        >= 1.0
#   C inference speed / PyTorch's       >= 2.0
#   convolution layers / sgemm rate     >= 0.5
#
# usage: bash bench/run_core.sh [BUILD_DIR] [--rounds R] [--full] [--threads "1 2"]
#                               [--torch-malloc tuned|default] [--bf16]
#   BUILD_DIR       build folder (default build-bench), configured Release, benchmarks on
#   --rounds R      rounds (default 3). Each round runs, per thread count, bench_core and then
#                   torch_ref.py, so the two alternate every ~10 s and load changes on a shared
#                   machine hit both; the summary takes the median of each figure over rounds.
#   --full          full repetitions inside each run (default: --quick runs, R of them)
#   --threads LIST  thread counts (default "1 2")
#   --torch-malloc  tuned (default): glibc keeps freed memory instead of returning it to the
#                   kernel (GLIBC_TUNABLES mmap/trim thresholds), which spares PyTorch's eager
#                   mode most of its per-op page faults (about 2.5x fewer, 4x less system time
#                   on the reference machine) and makes it faster: the stricter comparison.
#                   The same setting applies to bench_core (which does not allocate while
#                   timed). default: glibc as it comes.
#   --bf16          also run bench_core --bf16 in every round (inference products in bf16 on
#                   Intel AMX, fp32 sums; training stays fp32) and print its inference ratio
#                   beside the fp32 one
# Environment: PYTHON (default /usr/bin/python3: Debian's python3-torch).
# Every command run is printed before it runs.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
build=build-bench
quick=--quick
rounds=3
threads="1 2"
tmalloc=tuned
bf16=0
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) quick=--quick ;;
    --full) quick= ;;
    --rounds) rounds=$2; shift ;;
    --threads) threads=$2; shift ;;
    --torch-malloc) tmalloc=$2; shift ;;
    --bf16) bf16=1 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    -*) echo "run_core.sh: unknown option $1" >&2; exit 2 ;;
    *) build=$1 ;;
    esac
    shift
done
case "$build" in /*) ;; *) build=$root/$build ;; esac
py=${PYTHON:-/usr/bin/python3}
envset=()
if [ "$tmalloc" = tuned ]; then
    # 32 MiB is glibc's largest mmap threshold on 64-bit; every tensor here is smaller
    envset=(env GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296)
fi

run() { # print the exact command, then run it
    echo "+ $*"
    "$@"
}

cd "$root"
echo "== build"
run cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DLIMPID_BUILD_BENCH=ON \
    -DLIMPID_BUILD_TESTS=OFF -DLIMPID_BUILD_CLI=OFF >/dev/null
run cmake --build "$build" --target bench_core -j2 >/dev/null
bench=$build/bench_core

# OpenBLAS falls back to its SSE3 kernels on CPU models it does not know; bench_core then
# re-executes itself with OPENBLAS_CORETYPE (as the limpid tool does). PyTorch gets the same
# variable, so both sides run the same kernels where they use OpenBLAS.
blas_core=$("$bench" --blas-coretype)
if [ -n "$blas_core" ]; then
    export OPENBLAS_CORETYPE=$blas_core
    echo "NOTE: OpenBLAS picked kernels older than this CPU: OPENBLAS_CORETYPE=$blas_core for both"
fi

have_torch=1
if ! "$py" -c "import torch" 2>/dev/null; then
    have_torch=0
    echo "NOTE: PyTorch is not importable by $py: printing the C figures only (no ratios)."
    echo "      Debian: apt-get install python3-torch; or set PYTHON to a python with torch."
fi

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
maxload=$(cut -d' ' -f1 /proc/loadavg)
note_load() { # keep the highest 1-minute load average seen
    maxload=$(awk -v a="$maxload" -v b="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {print (b > a ? b : a)}')
}

for r in $(seq 1 "$rounds"); do
    for n in $threads; do
        echo
        echo "================ round $r/$rounds, threads $n (load $(cut -d' ' -f1 /proc/loadavg)) ================"
        note_load
        run "${envset[@]}" "$bench" --threads "$n" $quick | tee "$tmp/c$n.$r.txt"
        note_load
        if [ $bf16 = 1 ]; then
            run "${envset[@]}" "$bench" --threads "$n" $quick --bf16 | tee "$tmp/b$n.$r.txt"
            note_load
        fi
        if [ $have_torch = 1 ]; then
            tf=$(awk '$1 == "RESULT" && $2 == "c_train_frames" {print $3}' "$tmp/c$n.$r.txt")
            inf=$(awk '$1 == "RESULT" && $2 == "c_infer_frames" {print $3}' "$tmp/c$n.$r.txt")
            echo
            run "${envset[@]}" "$py" "$here/torch_ref.py" --threads "$n" $quick \
                --train-frames "${tf:-188}" --infer-frames "${inf:-1875}" | tee "$tmp/t$n.$r.txt"
        fi
    done
done

get() { # get PREFIX NAME -> median over rounds of "RESULT NAME value unit" in PREFIX.*.txt
    cat "$1".*.txt 2>/dev/null | awk -v k="$2" '$1 == "RESULT" && $2 == k {print $3}' | sort -g |
        awk '{v[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2];
                              else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

getmin() { # getmin PREFIX NAME -> smallest value over rounds (the fastest round for times)
    cat "$1".*.txt 2>/dev/null | awk -v k="$2" '$1 == "RESULT" && $2 == k {print $3}' | sort -g |
        awk 'NR == 1 {print $1; f = 1} END {if (!f) print "nan"}'
}

echo
echo "================ summary: median over $rounds round(s) (load after: $(cut -d' ' -f1-3 /proc/loadavg)) ================"
printf '%-8s %-46s %10s %10s %8s %s\n' threads figure C PyTorch ratio bar
for n in $threads; do
    c=$tmp/c$n
    t=$tmp/t$n
    awk -v n="$n" -v a="$(get "$c" c_sgemm_inf_gflops)" -v b="$(get "$c" c_sgemm_net_gflops)" \
        -v q="$(get "$c" c_sgemm_square_gflops)" 'BEGIN {
        printf "%-8s %-46s %10.1f\n", n, "sgemm 128x192x1875 GFLOP/s", a;
        printf "%-8s %-46s %10.1f\n", n, "sgemm 128x192x3008 GFLOP/s", b;
        printf "%-8s %-46s %10.1f\n", n, "sgemm 1024^3 GFLOP/s", q;
    }'
    if [ $have_torch = 1 ]; then
        # training speed = audio seconds trained on per wall second (normalises a 187 vs 188
        # frame difference, if any); inference speed = 1 / time of one evaluation
        awk -v n="$n" -v ca="$(get "$c" c_train_audio_per_s)" -v ta="$(get "$t" torch_train_audio_per_s)" \
            -v cs="$(get "$c" c_train_step_ms)" -v ts="$(get "$t" torch_train_step_ms)" \
            -v tf="$(get "$t" torch_train_full_step_ms)" -v cfb="$(get "$c" c_train_fwdbwd_ms)" \
            -v ci="$(get "$c" c_infer_ms)" -v ti="$(get "$t" torch_infer_ms)" \
            -v cl="$(get "$c" c_layer_ms)" -v tl="$(get "$t" torch_layer_ms)" \
            -v tsb="$(getmin "$t" torch_train_step_ms)" -v tib="$(getmin "$t" torch_infer_ms)" \
            -v bi="$(get "$tmp/b$n" c_infer_ms)" -v bl="$(get "$tmp/b$n" c_layer_ms)" -v bf="$bf16" 'BEGIN {
            r = ca / ta;
            printf "%-8s %-46s %10.2f %10.2f %8.2f %s\n", n, "training audio-s per s (speed ratio)", ca, ta, r, (r >= 1.0 ? ">= 1.0 PASS" : ">= 1.0 MISS");
            printf "%-8s %-46s %10.1f %10.1f\n", n, "  training step ms", cs, ts;
            printf "%-8s %-46s %10s %10.1f %8.2f\n", n, "  PyTorch step + clip + EMA ms (ratio)", "", tf, tf / cs;
            printf "%-8s %-46s %10.1f\n", n, "  C network fwd+bwd alone ms", cfb;
            r = ti / ci;
            printf "%-8s %-46s %10.2f %10.2f %8.2f %s\n", n, "inference ms per evaluation (speed ratio)", ci, ti, r, (r >= 2.0 ? ">= 2.0 PASS" : ">= 2.0 MISS");
            printf "%-8s %-46s %10.3f %10.3f %8.2f\n", n, "  one residual layer ms (speed ratio)", cl, tl, (cl > 0 ? tl / cl : 0);
            printf "%-8s %-46s %10.1f %10.1f %8.2f\n", n, "  vs PyTorch fastest round: train step ms", cs, tsb, tsb / cs;
            printf "%-8s %-46s %10.2f %10.2f %8.2f\n", n, "  vs PyTorch fastest round: inference ms", ci, tib, tib / ci;
            if (bf == 1) {
                r = ti / bi;
                printf "%-8s %-46s %10.2f %10.2f %8.2f %s\n", n, "inference ms, C bf16 products (speed ratio)", bi, ti, r, (r >= 2.0 ? ">= 2.0 PASS" : ">= 2.0 MISS");
                printf "%-8s %-46s %10.3f %10.3f %8.2f\n", n, "  one residual layer ms, C bf16 (speed ratio)", bl, tl, (bl > 0 ? tl / bl : 0);
                printf "%-8s %-46s %10.2f %10.2f %8.2f\n", n, "  vs PyTorch fastest round: bf16 inference ms", bi, tib, tib / bi;
            }
        }'
    else
        printf '%-8s %-46s %10.2f\n' "$n" "training audio-s per s" "$(get "$c" c_train_audio_per_s)"
        printf '%-8s %-46s %10.2f\n' "$n" "inference ms per evaluation" "$(get "$c" c_infer_ms)"
    fi
    awk -v n="$n" -v a="$(get "$c" c_layers_frac_sgemm_inf)" -v b="$(get "$c" c_layers_frac_sgemm_net)" \
        -v q="$(get "$c" c_layers_frac_sgemm_square)" -v w="$(get "$c" c_infer_frac_sgemm_inf)" \
        -v g="$(get "$c" c_layers_gflops)" -v tr="$(get "$c" c_train_layers_frac_sgemm_net)" 'BEGIN {
        printf "%-8s %-46s %10.1f\n", n, "conv layers (inference) GFLOP/s", g;
        printf "%-8s %-46s %10.2f %10s %8s %s\n", n, "conv layers / sgemm 128x192x1875 (same N)", a, "", "", (a >= 0.5 ? ">= 0.5 PASS" : ">= 0.5 MISS");
        printf "%-8s %-46s %10.2f %10s %8s %s\n", n, "conv layers / sgemm 128x192x3008", b, "", "", (b >= 0.5 ? ">= 0.5 PASS" : ">= 0.5 MISS");
        printf "%-8s %-46s %10.2f %10s %8s %s\n", n, "conv layers / sgemm 1024^3", q, "", "", (q >= 0.5 ? ">= 0.5 PASS" : ">= 0.5 MISS");
        printf "%-8s %-46s %10.2f\n", n, "  whole network fwd / sgemm 128x192x1875", w;
        printf "%-8s %-46s %10.2f\n", n, "  conv layers fwd+bwd (train) / sgemm 3008", tr;
    }'
done
echo
echo "conv layers = the 12-layer network minus the 6-layer one (6 residual layers: dilated conv,"
echo "conditioning conv, gate, output conv, residual/skip), timed alternately by bench_core"
echo "through the internal API. Ratios are speed ratios (> 1: C faster). PyTorch's inference"
echo "slows more than C's under load (memory-bound layers on 1026 channels), so a busy machine"
echo "flatters the inference ratio: hence the comparison with PyTorch's fastest round as well."
note_load
if awk -v l="$maxload" -v c="$(nproc)" 'BEGIN {exit !(l >= c)}'; then
    echo
    echo "WARNING: the load average reached $maxload on $(nproc) cores during this run: other"
    echo "processes competed for the cores, so the figures (above all the multi-thread ones;"
    echo "PyTorch's OpenMP threads slow down many-fold when a core is taken) are unreliable."
    echo "Rerun when the machine is quiet."
fi
