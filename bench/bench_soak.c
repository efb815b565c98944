/* bench_soak.c - soak benchmark of the real-time engine (limpid_stream): an hour of audio per
 * pass, generated on the fly (bench/soak_signal.h: speech-like audio, tones, bursts, silence,
 * NaN / Inf / denormal / full-scale-clip stretches), in host blocks cycling through 32..1024
 * frames (odd sizes too).
 * Usage: bench_soak [MODEL.lpm] [--minutes M] [--steps S] [--rates R1,R2,...] [--spread 0|1]
 *                   [--no-identity]
 * Without a model file, a "small" causal STFT denoiser with random weights (the rt
 * architecture, as bench_stream) is used: the cost does not depend on the weights.
 *
 * Passes, each with a fresh stream, the same programme, at each host rate (default 48000 and
 * 44100 Hz), with limpid_stream_opts.spread = 1 (default: a frame's work spread over the next
 * hop, as the plugin and `limpid live` run it) or 0 (--spread 0: each frame's work in the
 * call that completes its hop, one hop less latency):
 *   main      the model, S steps (default 4, the plugin's most), strength moved every 5 minutes
 *   identity  the same network with its final layer zeroed (1 step, strength 1): the Wiener
 *             head is then G = r^4 / (r^4 + r0^4) with r0 = exp(-3) (compressed magnitude), so
 *             x0 ~= the noisy spectrum on every bin above ~-50 dB, and the output is the input
 *             delayed; a GAIN head gives the exact identity. Probes at minutes 0, 5, ..., 55
 *             and the last: the lag (0..4096) that maximises sum y[j + lag] x[j] over 0.25 s
 *             of the programme's broadband probe segment must equal limpid_stream_latency.
 * Checked and printed per pass:
 *   - output finite everywhere (count of non-finite samples; subnormal outputs and the peak
 *     are printed for information);
 *   - limpid_stream_latency the same after every call;
 *   - memory: VmRSS and VmHWM (/proc/self/status) at the end of every simulated minute;
 *     neither may grow after the first minute by more than RSS_TOL_KB (the first minute
 *     touches every buffer and, with its short stretch of every event kind, every code path;
 *     a leak of one small allocation per call, ~4e5 calls an hour, would be megabytes). The
 *     growth of RssAnon (heap, stacks: where a leak shows) and RssFile (code pages) is
 *     printed to tell the two apart;
 *   - timing model: each process call's CPU time (CLOCK_THREAD_CPUTIME_ID: a shared machine's
 *     other processes do not count) over the duration of its block at the host rate; a call
 *     over 100% is an xrun of a host that gives the engine the whole period, over 50% misses
 *     issue 4's headroom bar. Printed: RTF, p50 / p99 / p99.9 / max of the per-call load, the
 *     worst calls (when, block size, CPU and wall time, page faults and involuntary context
 *     switches during the call), the worst call that was not preempted, the worst load per
 *     block size and per kind of programme. Judged: the main passes' calls that were not
 *     preempted (getrusage(RUSAGE_THREAD) nivcsw unchanged over the call). A preempted call
 *     lost its caches to another process, and on this shared machine a few calls an hour
 *     are charged 10-100x their usual CPU time around such events (kernel work accounted to
 *     the thread); an audio thread with real-time priority is not preempted by them. The
 *     counts over all calls are printed next to the verdict.
 * Then a summary table and one PASS/FAIL line per criterion; exit status 1 if any failed.
 * CPU: about 1.5 min per main pass hour at 4 steps and 0.5 min per identity pass (2-core
 * Xeon VM, AVX-512); --minutes shortens every pass. */
#define _GNU_SOURCE /* RUSAGE_THREAD */
#include "internal.h"
#include "soak_signal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define RSS_TOL_KB 64     /* see above */
#define MAX_MINUTES 240   /* RSS series length */
#define MAX_PROBES 64
#define PROBE_S 0.25      /* seconds of probe signal correlated */
#define PROBE_OFF_S 50.1  /* start within the minute (the probe segment is [50, 51) s) */
#define MAX_LAG 4096
#define MAX_PASSES 8
#define N_WORST 5

typedef struct probe {
    int minute;
    uint64_t s0; /* first input sample of the window */
    int lag;     /* measured */
    double frac; /* the peak by a parabola through lag - 1, lag, lag + 1 (sub-sample part of
                    the delay: through the resamplers the delay is not a whole number of host
                    samples, and the reported latency is rounded) */
    double snr;  /* of y[j + latency] against x[j], dB */
    float *x, *y; /* [pw], [pw + MAX_LAG + 1] */
} probe;

typedef struct call_rec {
    double load, cpu, wall, at; /* at: seconds into the programme */
    int block, kind;
    long minflt, nivcsw; /* page faults and involuntary context switches during the call */
} call_rec;

typedef struct pass {
    const char *what; /* "main" or "identity" */
    int rate, steps, identity, spread;
    /* results */
    double audio_s, cpu_s, wall_s;
    long calls, over50, over100;
    long over50_pre, over100_pre; /* of those, calls preempted (involuntary context switch) */
    float p50, p99, p999, pmax;
    call_rec worst[N_WORST]; /* by load, highest first */
    call_rec worst_clean;    /* the worst call that was not preempted */
    long minflt, minflt_late, nivcsw; /* during process calls; _late: after minute 1 */
    float max_block[SOAK_NBLOCKS];
    float max_kind[SOAK_NKIND];
    long nonfinite, subnormal;
    float peak;
    int lat0, lat_bad;
    int n_probe, probe_bad;
    probe pr[MAX_PROBES];
    int minutes;
    soak_mem mem[MAX_MINUTES + 1]; /* [0]: after create; [k]: end of minute k */
    soak_mem growth;               /* largest growth after minute 1 */
} pass;

static limpid_model *random_model(void)
{
    limpid_config cfg;
    limpid_config_preset(&cfg, "small", LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT, 48000);
    cfg.lookahead = 0;
    limpid_model *m = NULL;
    if (limpid_model_create(&m, &cfg, 1) != LIMPID_OK)
        return NULL;
    lpi_rng r = lpi_rng_make(1, 2, 3);
    for (size_t i = 0; i < m->layout.n_params; i++) /* no all-zero layer (skipped work) */
        if (m->params[i] == 0.0f)
            m->params[i] = 0.01f * lpi_rng_normal(&r);
    return m;
}

/* The same network with the final layer zeroed (see the header comment). */
static limpid_model *identity_model(const limpid_model *m)
{
    limpid_model *mi = NULL;
    if (lpi_model_alloc(&mi, &m->cfg) != LIMPID_OK)
        return NULL;
    memcpy(mi->params, m->params, m->layout.n_params * sizeof(float));
    const lpi_net_layout *L = &mi->layout;
    memset(mi->params + L->final_w, 0, (size_t)L->Co * L->C * sizeof(float));
    memset(mi->params + L->final_b, 0, (size_t)L->Co * sizeof(float));
    return mi;
}

static double xcorr(const probe *p, int pw, int lag)
{
    double s = 0.0;
    for (int j = 0; j < pw; j++)
        s += (double)p->y[j + lag] * p->x[j];
    return s;
}

static void measure_probe(probe *p, int pw, int lat)
{
    double best = -1e300;
    p->lag = -1;
    for (int lag = 0; lag <= MAX_LAG; lag++) {
        double s = xcorr(p, pw, lag);
        if (s > best) {
            best = s;
            p->lag = lag;
        }
    }
    p->frac = p->lag;
    if (p->lag > 0 && p->lag < MAX_LAG) {
        const double a = xcorr(p, pw, p->lag - 1), c = xcorr(p, pw, p->lag + 1);
        const double den = a - 2.0 * best + c;
        if (den < 0.0)
            p->frac = p->lag + 0.5 * (a - c) / den;
    }
    double e = 0.0, d = 0.0;
    for (int j = 0; j < pw; j++) {
        double r = (double)p->y[j + lat] - p->x[j];
        e += (double)p->x[j] * p->x[j];
        d += r * r;
    }
    p->snr = 10.0 * log10(e / (d > 1e-30 ? d : 1e-30));
}

/* One pass over `minutes` of the programme. loads: scratch of at least max_calls floats. */
static int run_pass(const limpid_model *m, pass *P, int minutes, float *loads, size_t max_calls)
{
    const int rate = P->rate;
    limpid_stream_opts o;
    limpid_stream_opts_default(&o);
    o.sample_rate = rate;
    o.max_steps = P->steps > 4 ? P->steps : 4; /* the plugin's streams: the same latency */
    o.steps = P->steps;
    o.strength = 1.0f;
    o.spread = P->spread;
    limpid_stream *st = NULL;
    limpid_status s = limpid_stream_create(&st, m, &o);
    if (s != LIMPID_OK) {
        fprintf(stderr, "bench_soak: cannot stream this model: %s\n", limpid_strerror(s));
        return -1;
    }
    soak_gen *g = malloc(sizeof *g);
    soak_gen_init(g, rate, 1);
    const uint64_t per_min = (uint64_t)llround(60.0 * rate);
    const uint64_t total = per_min * (uint64_t)minutes;
    const int pw = (int)(PROBE_S * rate);
    P->minutes = minutes;
    P->lat0 = limpid_stream_latency(st);
    P->n_probe = 0;
    if (P->identity) {
        for (int mi = 0; mi < minutes && P->n_probe < MAX_PROBES; mi++) {
            if (mi % 5 != 0 && mi != minutes - 1)
                continue;
            probe *p = &P->pr[P->n_probe++];
            p->minute = mi;
            p->s0 = (uint64_t)mi * per_min + (uint64_t)llround(PROBE_OFF_S * rate);
            const size_t ny = (size_t)pw + MAX_LAG + 1;
            p->x = malloc((size_t)pw * sizeof(float));
            p->y = malloc(ny * sizeof(float));
            if (!p->x || !p->y)
                return -1;
            soak_touch(p->x, (size_t)pw * sizeof(float)); /* every element is written later */
            soak_touch(p->y, ny * sizeof(float));
        }
    }
    float in[SOAK_MAXBLOCK], out[SOAK_MAXBLOCK];
    for (int b = 0; b < SOAK_NBLOCKS; b++)
        P->max_block[b] = 0.0f;
    for (int k = 0; k < SOAK_NKIND; k++)
        P->max_kind[k] = 0.0f;
    P->mem[0] = soak_mem_now();
    int minute = 0, pi = 0;
    const float strengths[3] = {1.0f, 0.6f, 0.85f};
    double cpu_sum = 0.0, wall_sum = 0.0;
    for (int k = 0; k < N_WORST; k++)
        P->worst[k].load = -1.0;
    P->worst_clean.load = -1.0;
    long calls = 0;
    uint64_t pos = 0;
    const double t_start = soak_wall();
    while (pos < total) {
        /* whole blocks of the cycle: the last one may run past the end (by < 1024 frames) */
        const int bi = (int)(calls % SOAK_NBLOCKS);
        const int B = soak_blocks[bi];
        const int kind = soak_kind_of(g, pos);
        soak_gen_block(g, in, (size_t)B, NULL);
        struct rusage ru0, ru1;
        getrusage(RUSAGE_THREAD, &ru0);
        const double t0 = soak_wall(), c0 = soak_cpu();
        limpid_stream_process(st, in, out, (size_t)B);
        const double c = soak_cpu() - c0, t = soak_wall() - t0;
        getrusage(RUSAGE_THREAD, &ru1);
        const long flt = ru1.ru_minflt - ru0.ru_minflt + ru1.ru_majflt - ru0.ru_majflt;
        const long ivc = ru1.ru_nivcsw - ru0.ru_nivcsw;
        P->minflt += flt;
        if (minute >= 1)
            P->minflt_late += flt;
        P->nivcsw += ivc;
        /* checks */
        for (int i = 0; i < B; i++) {
            const float y = out[i];
            if (!isfinite(y)) {
                P->nonfinite++;
                continue;
            }
            const float a = fabsf(y);
            if (a > P->peak)
                P->peak = a;
            if (a != 0.0f && a < FLT_MIN)
                P->subnormal++;
        }
        if (limpid_stream_latency(st) != P->lat0)
            P->lat_bad++;
        const double load = c / ((double)B / rate);
        if ((size_t)calls < max_calls)
            loads[calls] = (float)load;
        if (load > 1.0) {
            P->over100++;
            P->over100_pre += ivc > 0;
        }
        if (load > 0.5) {
            P->over50++;
            P->over50_pre += ivc > 0;
        }
        if (load > P->max_block[bi])
            P->max_block[bi] = (float)load;
        if (load > P->max_kind[kind])
            P->max_kind[kind] = (float)load;
        if (load > P->worst[N_WORST - 1].load) {
            int k = N_WORST - 1;
            for (; k > 0 && load > P->worst[k - 1].load; k--)
                P->worst[k] = P->worst[k - 1];
            P->worst[k] = (call_rec){load, c, t, (double)pos / rate, B, kind, flt, ivc};
        }
        if (ivc == 0 && load > P->worst_clean.load)
            P->worst_clean = (call_rec){load, c, t, (double)pos / rate, B, kind, flt, ivc};
        cpu_sum += c;
        wall_sum += t;
        /* probe windows: x over [s0, s0 + pw), y over [s0, s0 + pw + MAX_LAG] */
        for (int q = pi; q < P->n_probe; q++) {
            probe *p = &P->pr[q];
            const uint64_t ye = p->s0 + (uint64_t)pw + MAX_LAG + 1;
            if (pos >= ye) {
                pi = q + 1;
                continue;
            }
            if (pos + (uint64_t)B <= p->s0)
                break;
            for (int i = 0; i < B; i++) {
                const uint64_t j = pos + (uint64_t)i;
                if (j < p->s0 || j >= ye)
                    continue;
                if (j < p->s0 + (uint64_t)pw)
                    p->x[j - p->s0] = in[i];
                p->y[j - p->s0] = out[i];
            }
        }
        pos += (uint64_t)B;
        calls++;
        if (pos >= (uint64_t)(minute + 1) * per_min) { /* end of a simulated minute */
            minute++;
            if (minute <= MAX_MINUTES)
                P->mem[minute] = soak_mem_now();
            if (!P->identity && minute % 5 == 0) /* a control change, every 5 minutes */
                limpid_stream_set_strength(st, strengths[(minute / 5) % 3]);
            if (minute % 10 == 0 || minute == minutes) {
                const soak_mem *mm = &P->mem[minute < MAX_MINUTES ? minute : MAX_MINUTES];
                printf("  [%s %d Hz] minute %3d: RSS %ld kB, HWM %ld kB, wall %.0f s, "
                       "CPU %.1f s\n",
                       P->what, rate, minute, mm->rss, mm->hwm, soak_wall() - t_start, cpu_sum);
            }
        }
    }
    limpid_stream_destroy(st);
    free(g);
    P->calls = calls;
    P->audio_s = (double)pos / rate;
    P->cpu_s = cpu_sum;
    P->wall_s = wall_sum;
    size_t nl = (size_t)calls < max_calls ? (size_t)calls : max_calls;
    qsort(loads, nl, sizeof *loads, soak_cmp_float);
    P->p50 = loads[nl / 2];
    P->p99 = loads[(size_t)(0.99 * (double)(nl - 1))];
    P->p999 = loads[(size_t)(0.999 * (double)(nl - 1))];
    P->pmax = loads[nl - 1];
    /* memory: growth after the first minute */
    P->growth = soak_mem_growth(P->mem, 1, minutes < MAX_MINUTES ? minutes : MAX_MINUTES);
    /* measured latency */
    for (int q = 0; q < P->n_probe; q++) {
        measure_probe(&P->pr[q], pw, P->lat0);
        if (P->pr[q].lag != P->lat0)
            P->probe_bad++;
    }
    return 0;
}

static void print_pass(const pass *P)
{
    printf("\n== %s pass, %d Hz, %d step%s, spread %d: %.0f min of audio, %ld calls\n", P->what,
           P->rate, P->steps, P->steps > 1 ? "s" : "", P->spread, P->audio_s / 60.0, P->calls);
    printf("RTF %.4f (CPU time; wall %.4f)\n", P->cpu_s / P->audio_s, P->wall_s / P->audio_s);
    printf("per-call load (CPU time / block duration): p50 %.1f%%  p99 %.1f%%  p99.9 %.1f%%  "
           "max %.1f%%;  calls > 50%%: %ld (%ld preempted during the call), > 100%%: %ld (%ld "
           "preempted)\n",
           100.0 * P->p50, 100.0 * P->p99, 100.0 * P->p999, 100.0 * P->pmax, P->over50,
           P->over50_pre, P->over100, P->over100_pre);
    printf("worst calls (load = CPU time / block duration; page faults and involuntary context "
           "switches during the call):\n");
    for (int k = 0; k < N_WORST && P->worst[k].load >= 0.0; k++) {
        const call_rec *w = &P->worst[k];
        printf("  %5.1f%%: %4d frames at %9.3f s (minute %2d, %-8s) CPU %7.1f us of %.3f ms, "
               "wall %8.1f us, %ld faults, %ld preemptions\n",
               100.0 * w->load, w->block, w->at, (int)(w->at / 60.0), soak_kind_name[w->kind],
               1e6 * w->cpu, 1e3 * w->block / P->rate, 1e6 * w->wall, w->minflt, w->nivcsw);
    }
    {
        const call_rec *w = &P->worst_clean;
        printf("worst call not preempted: %.1f%%: %d frames at %.3f s (minute %d, %s), CPU %.1f "
               "us, wall %.1f us, %ld faults\n",
               100.0 * w->load, w->block, w->at, (int)(w->at / 60.0), soak_kind_name[w->kind],
               1e6 * w->cpu, 1e6 * w->wall, w->minflt);
    }
    printf("page faults during process calls: %ld (%ld after minute 1); involuntary context "
           "switches during them: %ld\n",
           P->minflt, P->minflt_late, P->nivcsw);
    printf("worst load per block size:");
    for (int b = 0; b < SOAK_NBLOCKS; b++)
        printf(" %d:%.0f%%", soak_blocks[b], 100.0 * P->max_block[b]);
    printf("\nworst load per programme kind (at the block's first sample):");
    for (int k = 0; k < SOAK_NKIND; k++)
        printf(" %s:%.0f%%", soak_kind_name[k], 100.0 * P->max_kind[k]);
    printf("\noutput: %ld non-finite, %ld subnormal, peak |y| %.3g\n", P->nonfinite,
           P->subnormal, (double)P->peak);
    printf("latency: %d samples (%.2f ms), changed after %d calls\n", P->lat0,
           1e3 * P->lat0 / P->rate, P->lat_bad);
    if (P->n_probe) {
        printf("measured latency (identity model): lag of the correlation peak [parabolic "
               "peak] (SNR of the input delayed by the reported latency):");
        for (int q = 0; q < P->n_probe; q++)
            printf("%s min %d: %d [%.2f] (%.1f dB)", q % 4 ? "," : "\n ", P->pr[q].minute,
                   P->pr[q].lag, P->pr[q].frac, P->pr[q].snr);
        printf("\n");
    }
    soak_print_mem(P->mem, 1, P->minutes < MAX_MINUTES ? P->minutes : MAX_MINUTES,
                   "after create");
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *path = NULL;
    int steps = 4, minutes = 60, identity = 1, spread = 1;
    int rates[MAX_PASSES] = {48000, 44100}, n_rates = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--minutes") && i + 1 < argc) {
            minutes = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--steps") && i + 1 < argc) {
            steps = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--rates") && i + 1 < argc) {
            n_rates = 0;
            for (char *t = strtok(argv[++i], ","); t && n_rates < MAX_PASSES / 2;
                 t = strtok(NULL, ","))
                rates[n_rates++] = atoi(t);
        } else if (!strcmp(argv[i], "--spread") && i + 1 < argc) {
            spread = atoi(argv[++i]) != 0;
        } else if (!strcmp(argv[i], "--no-identity")) {
            identity = 0;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: bench_soak [MODEL.lpm] [--minutes M] [--steps S] "
                            "[--rates R1,R2] [--spread 0|1] [--no-identity]\n");
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (minutes < 2 || steps < 1 || steps > 8 || n_rates < 1) {
        fprintf(stderr, "bench_soak: need --minutes >= 2, --steps 1..8, at least one rate\n");
        return 2;
    }
    limpid_model *m = NULL;
    char err[256];
    if (path) {
        if (limpid_model_load_file(&m, path, err, sizeof err) != LIMPID_OK) {
            fprintf(stderr, "bench_soak: %s: %s\n", path, err);
            return 1;
        }
    } else if (!(m = random_model())) {
        return 1;
    }
    limpid_model *mi = identity ? identity_model(m) : NULL;
    if (identity && !mi)
        return 1;
    /* per-call loads: the most calls a pass can make at the highest rate */
    int max_rate = 0;
    for (int r = 0; r < n_rates; r++)
        max_rate = rates[r] > max_rate ? rates[r] : max_rate;
    long cyc = 0;
    for (int b = 0; b < SOAK_NBLOCKS; b++)
        cyc += soak_blocks[b];
    const size_t max_calls =
        (size_t)((double)minutes * 60.0 * max_rate / cyc + 1.0) * SOAK_NBLOCKS + SOAK_NBLOCKS;
    float *loads = malloc(max_calls * sizeof *loads);
    if (!loads)
        return 1;
    soak_touch(loads, max_calls * sizeof *loads);
    static pass passes[MAX_PASSES];
    int np = 0;
    for (int r = 0; r < n_rates; r++) {
        passes[np++] = (pass){.what = "main", .rate = rates[r], .steps = steps, .spread = spread};
        if (identity)
            passes[np++] = (pass){.what = "identity", .rate = rates[r], .steps = 1,
                                  .identity = 1, .spread = spread};
    }
    printf("bench_soak: model %s, %d min per pass, main passes %d steps, spread %d, host blocks "
           "cycling over %d sizes 32..1024 (mean %.1f frames)\n",
           path ? path : "(small, random weights)", minutes, steps, spread, SOAK_NBLOCKS,
           (double)cyc / SOAK_NBLOCKS);
    const double t0 = soak_wall();
    for (int p = 0; p < np; p++) {
        if (run_pass(passes[p].identity ? mi : m, &passes[p], minutes, loads, max_calls))
            return 1;
        print_pass(&passes[p]);
    }
    /* summary */
    printf("\n== summary (%.0f s wall in all)\n", soak_wall() - t0);
    printf("%-8s %6s %5s %7s %6s %6s %6s %7s %11s %11s %6s %13s %7s %7s %5s %5s\n", "pass",
           "rate", "steps", "RTF", "p50", "p99", "p99.9", "max", ">50% all/np", ">100% all/np",
           "nonfin", "worst us/blk", "RSS+kB", "HWM+kB", "lat", "meas");
    int ok_finite = 1, ok_lat = 1, ok_meas = 1, ok_mem = 1;
    long n100 = 0, n100p = 0, n50 = 0, n50p = 0;
    for (int p = 0; p < np; p++) {
        const pass *P = &passes[p];
        char wb[32], o50[24], o100[24];
        snprintf(wb, sizeof wb, "%.0f/%d", 1e6 * P->worst[0].cpu, P->worst[0].block);
        snprintf(o50, sizeof o50, "%ld/%ld", P->over50, P->over50 - P->over50_pre);
        snprintf(o100, sizeof o100, "%ld/%ld", P->over100, P->over100 - P->over100_pre);
        printf("%-8s %6d %5d %7.4f %5.1f%% %5.1f%% %5.1f%% %6.1f%% %11s %11s %6ld %13s %+7ld "
               "%+7ld %5d %5s\n",
               P->what, P->rate, P->steps, P->cpu_s / P->audio_s, 100.0 * P->p50,
               100.0 * P->p99, 100.0 * P->p999, 100.0 * P->pmax, o50, o100, P->nonfinite, wb,
               P->growth.rss, P->growth.hwm, P->lat0,
               P->n_probe ? (P->probe_bad ? "BAD" : "=lat") : "-");
        ok_finite &= P->nonfinite == 0;
        ok_lat &= P->lat_bad == 0;
        ok_meas &= P->probe_bad == 0;
        ok_mem &= P->growth.rss <= RSS_TOL_KB && P->growth.hwm <= RSS_TOL_KB;
        if (!P->identity) {
            n100 += P->over100;
            n100p += P->over100_pre;
            n50 += P->over50;
            n50p += P->over50_pre;
        }
    }
    printf("%s  output finite everywhere\n", ok_finite ? "PASS" : "FAIL");
    printf("%s  latency (limpid_stream_latency) constant in every pass\n",
           ok_lat ? "PASS" : "FAIL");
    if (identity)
        printf("%s  measured latency (identity model) = reported latency at every probe\n",
               ok_meas ? "PASS" : "FAIL");
    printf("%s  memory flat: VmRSS and VmHWM grow <= %d kB after the first minute\n",
           ok_mem ? "PASS" : "FAIL", RSS_TOL_KB);
    /* judged on the calls that kept the core: see the README ("Soak") for why */
    const int ok_xrun = n100 - n100p == 0, ok_head = n50 - n50p == 0;
    printf("(np: calls not preempted during the call)\n");
    printf("%s  no xruns in the timing model: no main-pass call over 100%% of its block, of "
           "those not preempted (%ld; all calls: %ld)\n",
           ok_xrun ? "PASS" : "FAIL", n100 - n100p, n100);
    printf("%s  headroom: no main-pass call over 50%% of its block, of those not preempted "
           "(%ld; all calls: %ld)\n",
           ok_head ? "PASS" : "FAIL", n50 - n50p, n50);
    for (int p = 0; p < np; p++)
        for (int q = 0; q < passes[p].n_probe; q++) {
            free(passes[p].pr[q].x);
            free(passes[p].pr[q].y);
        }
    free(loads);
    limpid_model_destroy(mi);
    limpid_model_destroy(m);
    return ok_finite && ok_lat && ok_meas && ok_mem && ok_xrun && ok_head ? 0 : 1;
}
