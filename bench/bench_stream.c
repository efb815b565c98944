/* bench_stream.c - cost of the real-time engine for one channel.
 * Usage: bench_stream [MODEL.lpm] [--rate HZ] [--steps S] [--seconds N] [--spread]
 * Without a model file, a "small" causal STFT denoiser with random weights (the rt
 * architecture) is used: the cost does not depend on the weights.
 * Prints, for block sizes 32 and 256 frames: real-time factor (processing time / audio
 * duration), mean and worst time per call, and the worst call as a share of the block's
 * duration (issue 4's bars: RTF <= 0.05 at 32-frame blocks, worst call at 256 <= 50%). */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU time of this thread: on a shared machine it leaves out the time other processes held
 * the core, which wall time per call cannot. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    int rate = 48000, steps = 4, spread = 0;
    double seconds = 60.0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rate") && i + 1 < argc)
            rate = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--spread"))
            spread = 1;
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else
            path = argv[i];
    }
    limpid_model *m = NULL;
    char err[256];
    if (path) {
        if (limpid_model_load_file(&m, path, err, sizeof err) != LIMPID_OK) {
            fprintf(stderr, "bench_stream: %s: %s\n", path, err);
            return 1;
        }
    } else {
        limpid_config cfg;
        limpid_config_preset(&cfg, "small", LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT, 48000);
        cfg.lookahead = 0;
        if (limpid_model_create(&m, &cfg, 1) != LIMPID_OK)
            return 1;
        lpi_rng r = lpi_rng_make(1, 2, 3);
        for (size_t i = 0; i < m->layout.n_params; i++) /* no all-zero layer (skipped work) */
            if (m->params[i] == 0.0f)
                m->params[i] = 0.01f * lpi_rng_normal(&r);
    }
    const size_t n = (size_t)(seconds * rate);
    float *x = malloc(n * sizeof *x);
    lpi_rng r = lpi_rng_make(9, 9, 9);
    for (size_t i = 0; i < n; i++)
        x[i] = 0.1f * lpi_rng_normal(&r);
    printf("model %s, host rate %d Hz, %d steps%s, %.0f s of audio per block size\n",
           path ? path : "(small, random weights)", rate, steps,
           spread ? ", work spread over the hop" : "", seconds);
    const int blocks[] = {32, 256};
    for (int bi = 0; bi < 2; bi++) {
        limpid_stream_opts o;
        limpid_stream_opts_default(&o);
        o.sample_rate = rate;
        o.max_steps = steps > 4 ? steps : 4;
        o.steps = steps;
        o.spread = spread;
        limpid_stream *st = NULL;
        if (limpid_stream_create(&st, m, &o) != LIMPID_OK) {
            fprintf(stderr, "bench_stream: this model cannot stream\n");
            return 1;
        }
        const int B = blocks[bi];
        double worst = 0.0, worst_cpu = 0.0, total = 0.0, total_cpu = 0.0;
        size_t calls = 0;
        for (size_t i = 0; i + (size_t)B <= n; i += (size_t)B) {
            double t0 = now(), c0 = cpu_now();
            limpid_stream_process(st, x + i, x + i, (size_t)B);
            double dc = cpu_now() - c0, dt = now() - t0;
            total += dt;
            total_cpu += dc;
            worst = dt > worst ? dt : worst;
            worst_cpu = dc > worst_cpu ? dc : worst_cpu;
            calls++;
        }
        double audio = (double)calls * B / rate, blk = (double)B / rate;
        printf("block %4d: RTF %.4f (CPU time; wall %.4f)  mean call %.1f us  worst call CPU "
               "%.1f us = %.1f%% of the block (%.2f ms; wall %.1f us)  latency %d samples "
               "(%.1f ms)\n",
               B, total_cpu / audio, total / audio, 1e6 * total_cpu / (double)calls,
               1e6 * worst_cpu, 100.0 * worst_cpu / blk, 1e3 * blk, 1e6 * worst,
               limpid_stream_latency(st), 1e3 * limpid_stream_latency(st) / rate);
        limpid_stream_destroy(st);
    }
    free(x);
    limpid_model_destroy(m);
    return 0;
}
