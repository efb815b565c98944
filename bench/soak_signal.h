/* soak_signal.h - the test programme of the soak benchmarks (bench_soak.c, bench_soak_lv2.c):
 * an hour (or any number of minutes) of audio generated on the fly, block by block, at any
 * host rate, the same content in time whatever the rate and the block sizes.
 *
 * Every simulated minute m has the same layout (seconds within the minute):
 *   [ 0, 40)  speech-like: a harmonic tone (12 partials) with a gliding f0 (100..260 Hz) under
 *             a syllable envelope (3-5 Hz), plus low-passed noise under the same envelope,
 *             plus a white-noise floor; occasional loud noise bursts (30 ms at 0.8, about one
 *             second in eight); the level cycles over the minutes from 0 to -30 dB
 *   [10, 40)  in some minutes replaced by an event stretch (below)
 *   [40, 50)  steady tones: 440, 1000 and 3150 Hz at 0.1 each, over a -50 dBFS noise floor
 *   [50, 51)  probe: moving-average white noise at about 0.2 RMS, broadband and loud, so
 *             that an identity model's output correlates with the input at one lag only
 *   [51, 60)  speech-like again
 * Minute 0 shows every event kind briefly, so that the first minute (the baseline of the
 * memory check) has taken every code path: [10, 11) NaN, [11, 12) Inf, [12, 14) denormal,
 * [14, 16) clip, [16, 20) silence.
 * Event stretches (each minute listed gets one, from second 10):
 *   silence 30 s      minutes 5, 17, 31, 44, 55   (exact zeros)
 *   NaN 2 s           minutes 7, 29, 51            (every sample NaN)
 *   Inf 1 s           minutes 13, 37               (+Inf, -Inf, +FLT_MAX, -FLT_MAX, ...)
 *   denormal 5 s      minutes 19, 43               (random subnormals, |x| < 1.2e-38)
 *   full-scale clip 3 s  minutes 3, 23, 47, 58     (speech x 10, hard-clipped at +-1.0)
 * Programmes longer than an hour repeat the layout (minute numbers taken modulo 60).
 * The generator costs a few ns per sample (table oscillators, an LCG): it does not disturb
 * the timing of the code under test. */
#ifndef LIMPID_SOAK_SIGNAL_H
#define LIMPID_SOAK_SIGNAL_H

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SOAK_TAB 4096 /* oscillator table length (one period) */

enum soak_kind {
    SOAK_SPEECH = 0,
    SOAK_TONES,
    SOAK_PROBE,
    SOAK_SILENCE,
    SOAK_NAN,
    SOAK_INF,
    SOAK_DENORMAL,
    SOAK_CLIP,
    SOAK_NKIND
};

static const char *const soak_kind_name[SOAK_NKIND] = {"speech", "tones",    "probe",   "silence",
                                                       "nan",    "inf",      "denormal", "clip"};

typedef struct soak_gen {
    double rate;
    uint64_t n;   /* samples generated so far */
    uint64_t rng; /* LCG state */
    double ph_f0, ph_env, ph_t[3], ph_glide; /* phases in cycles, [0, 1) */
    float lp1, lp2, prev;                    /* noise filters */
    int burst_left;                          /* samples of the current burst still to come */
    int lev_m;                               /* minute whose level is in lev */
    float lev;
    int64_t burst_sec;                       /* second whose burst decision was taken */
    int64_t burst_at;                        /* sample index where that burst starts */
    float sine[SOAK_TAB + 1];
    float harm[SOAK_TAB + 1]; /* 12 partials, 1/k amplitudes, peak normalised to 1 */
} soak_gen;

static inline float soak_urand(soak_gen *g) /* [-1, 1) */
{
    g->rng = g->rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(g->rng >> 40) / (double)(1ull << 23)) - 1.0f;
}

static inline uint64_t soak_hash(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

static void soak_gen_init(soak_gen *g, double rate, uint64_t seed)
{
    memset(g, 0, sizeof *g);
    g->rate = rate;
    g->rng = seed * 2654435761u + 12345u;
    g->burst_sec = -1;
    g->lev_m = -1;
    double peak = 0.0;
    for (int i = 0; i <= SOAK_TAB; i++) {
        double p = 2.0 * M_PI * (double)i / SOAK_TAB, v = 0.0;
        g->sine[i] = (float)sin(p);
        for (int k = 1; k <= 12; k++)
            v += sin((double)k * p) / (double)k;
        g->harm[i] = (float)v;
        peak = fabs(v) > peak ? fabs(v) : peak;
    }
    for (int i = 0; i <= SOAK_TAB; i++)
        g->harm[i] = (float)(g->harm[i] / peak);
}

static inline float soak_tab(const float *t, double ph) { return t[(int)(ph * SOAK_TAB)]; }

static inline double soak_adv(double ph, double inc)
{
    ph += inc;
    return ph >= 1.0 ? ph - floor(ph) : ph;
}

/* What plays at second s of minute m (m taken modulo 60). */
static int soak_kind_at(int m, double s)
{
    m %= 60;
    if (s >= 50.0 && s < 51.0)
        return SOAK_PROBE;
    if (s >= 40.0 && s < 50.0)
        return SOAK_TONES;
    if (m == 0 && s >= 10.0 && s < 20.0)
        return s < 11.0 ? SOAK_NAN : s < 12.0 ? SOAK_INF : s < 14.0 ? SOAK_DENORMAL
             : s < 16.0 ? SOAK_CLIP : SOAK_SILENCE;
    if (s >= 10.0) {
        switch (m) {
        case 5: case 17: case 31: case 44: case 55:
            if (s < 40.0)
                return SOAK_SILENCE;
            break;
        case 7: case 29: case 51:
            if (s < 12.0)
                return SOAK_NAN;
            break;
        case 13: case 37:
            if (s < 11.0)
                return SOAK_INF;
            break;
        case 19: case 43:
            if (s < 15.0)
                return SOAK_DENORMAL;
            break;
        case 3: case 23: case 47: case 58:
            if (s < 13.0)
                return SOAK_CLIP;
            break;
        default: break;
        }
    }
    return SOAK_SPEECH;
}

/* The kind of sample index i (host rate). */
static inline int soak_kind_of(const soak_gen *g, uint64_t i)
{
    const uint64_t per_min = (uint64_t)llround(60.0 * g->rate);
    const int m = (int)(i / per_min);
    return soak_kind_at(m, (double)(i % per_min) / g->rate);
}

/* One speech-like sample at level `lev` (advances the oscillators and filters). */
static inline float soak_speech(soak_gen *g, float lev)
{
    const double r = g->rate;
    /* f0 glides 100..260 Hz with a 0.37 Hz sine; the syllable envelope runs at 4 Hz +- 1 */
    g->ph_glide = soak_adv(g->ph_glide, 0.37 / r);
    const double f0 = 180.0 + 80.0 * soak_tab(g->sine, g->ph_glide);
    g->ph_f0 = soak_adv(g->ph_f0, f0 / r);
    g->ph_env = soak_adv(g->ph_env, (4.0 + soak_tab(g->sine, g->ph_glide)) / r);
    float e = 0.5f + 0.5f * soak_tab(g->sine, g->ph_env);
    e = e * e;
    float w = soak_urand(g);
    g->lp1 += 0.25f * (w - g->lp1); /* one-pole low-pass, a few kHz */
    g->lp2 += 0.05f * (g->lp1 - g->lp2);
    float v = 0.35f * e * soak_tab(g->harm, g->ph_f0) + 0.6f * e * g->lp2 + 0.01f * w;
    return lev * v;
}

/* Fill x[0..n) with the next n samples; kind[i] (optional) gets each sample's kind. */
static void soak_gen_block(soak_gen *g, float *x, size_t n, unsigned char *kind)
{
    const double r = g->rate;
    const uint64_t per_min = (uint64_t)llround(60.0 * r);
    const uint64_t per_sec = (uint64_t)llround(r);
    for (size_t i = 0; i < n; i++, g->n++) {
        const int m = (int)(g->n / per_min);
        const double s = (double)(g->n % per_min) / r;
        const int k = soak_kind_at(m, s);
        if (kind)
            kind[i] = (unsigned char)k;
        if (m != g->lev_m) { /* level of the minute: 0, -3, ..., -30 dB, cycling */
            g->lev_m = m;
            g->lev = powf(10.0f, -0.15f * (float)((m * 7) % 11));
        }
        const float lev = g->lev;
        float v = 0.0f;
        switch (k) {
        case SOAK_SPEECH: {
            v = soak_speech(g, lev);
            /* bursts: about one second in eight has a 30 ms burst at a random offset */
            const int64_t sec = (int64_t)(g->n / per_sec);
            if (sec != g->burst_sec) {
                g->burst_sec = sec;
                uint64_t h = soak_hash((uint64_t)sec * 0x9e3779b97f4a7c15ull + 7);
                g->burst_at = (h & 7) == 0 ? sec * (int64_t)per_sec +
                                                 (int64_t)((h >> 8) % (per_sec * 9 / 10))
                                           : -1;
            }
            if ((int64_t)g->n == g->burst_at)
                g->burst_left = (int)(0.030 * r);
            if (g->burst_left > 0) {
                g->burst_left--;
                v += 0.8f * soak_urand(g);
            }
            break;
        }
        case SOAK_TONES: {
            static const double f[3] = {440.0, 1000.0, 3150.0};
            for (int t = 0; t < 3; t++) {
                g->ph_t[t] = soak_adv(g->ph_t[t], f[t] / r);
                v += 0.1f * soak_tab(g->sine, g->ph_t[t]);
            }
            v += 0.003f * soak_urand(g);
            break;
        }
        case SOAK_PROBE: {
            float u = 0.6f * soak_urand(g);
            v = 0.5f * (u + g->prev);
            g->prev = u;
            break;
        }
        case SOAK_SILENCE: v = 0.0f; break;
        case SOAK_NAN: v = NAN; break;
        case SOAK_INF: {
            static const float pat[4] = {INFINITY, -INFINITY, FLT_MAX, -FLT_MAX};
            v = pat[g->n & 3];
            break;
        }
        case SOAK_DENORMAL: v = 1.1e-38f * soak_urand(g); break; /* below FLT_MIN 1.18e-38 */
        case SOAK_CLIP: {
            v = 10.0f * soak_speech(g, 1.0f) + 0.5f * soak_urand(g);
            v = v > 1.0f ? 1.0f : v < -1.0f ? -1.0f : v;
            break;
        }
        default: break;
        }
        x[i] = v;
    }
}

/* ---- shared helpers: memory, clocks, statistics ------------------------------------------ */

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Memory of this process in kB, from /proc/self/status (-1 where unavailable): VmRSS, VmHWM
 * and the two parts of VmRSS that tell a leak from paging: RssAnon (heap, stacks, anonymous
 * maps: where a leak grows) and RssFile (code and other file pages, e.g. a code path run for
 * the first time). */
typedef struct soak_mem {
    long rss, hwm, anon, file;
} soak_mem;

static soak_mem soak_mem_now(void)
{
    soak_mem r = {-1, -1, -1, -1};
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return r;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "VmRSS:", 6))
            r.rss = strtol(line + 6, NULL, 10);
        else if (!strncmp(line, "VmHWM:", 6))
            r.hwm = strtol(line + 6, NULL, 10);
        else if (!strncmp(line, "RssAnon:", 8))
            r.anon = strtol(line + 8, NULL, 10);
        else if (!strncmp(line, "RssFile:", 8))
            r.file = strtol(line + 8, NULL, 10);
    }
    fclose(f);
    return r;
}

/* Largest growth of each field over series[base+1..n] relative to its largest value over
 * series[1..base] (base 1: the end of the first minute); 0 when it never grows. */
static soak_mem soak_mem_growth(const soak_mem *series, int base, int n)
{
    soak_mem g = {0, 0, 0, 0}, m = series[1];
    for (int k = 2; k <= base; k++) {
        m.rss = series[k].rss > m.rss ? series[k].rss : m.rss;
        m.hwm = series[k].hwm > m.hwm ? series[k].hwm : m.hwm;
        m.anon = series[k].anon > m.anon ? series[k].anon : m.anon;
        m.file = series[k].file > m.file ? series[k].file : m.file;
    }
    const soak_mem *b = &m;
    for (int k = base + 1; k <= n; k++) {
        const soak_mem *x = &series[k];
        g.rss = x->rss - b->rss > g.rss ? x->rss - b->rss : g.rss;
        g.hwm = x->hwm - b->hwm > g.hwm ? x->hwm - b->hwm : g.hwm;
        g.anon = x->anon - b->anon > g.anon ? x->anon - b->anon : g.anon;
        g.file = x->file - b->file > g.file ? x->file - b->file : g.file;
    }
    return g;
}

static void soak_print_mem(const soak_mem *series, int base, int n, const char *zero)
{
    printf("VmRSS kB by minute (0 = %s):", zero);
    for (int k = 0; k <= n; k++)
        printf("%s%ld", k % 12 ? " " : "\n ", series[k].rss);
    printf("\nVmHWM kB by minute:");
    for (int k = 0; k <= n; k++)
        printf("%s%ld", k % 12 ? " " : "\n ", series[k].hwm);
    const soak_mem g = soak_mem_growth(series, base, n);
    printf("\ngrowth after minute %d over the largest value up to it (kB): VmRSS %+ld, VmHWM "
           "%+ld (RssAnon %+ld, RssFile %+ld); minute %d: VmRSS %ld = RssAnon %ld + RssFile %ld "
           "+ shmem\n",
           base, g.rss, g.hwm, g.anon, g.file, base, series[base].rss, series[base].anon,
           series[base].file);
}

static inline double soak_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU time of this thread: on a shared machine it leaves out the time other processes held
 * the core, which wall time per call cannot. */
static inline double soak_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Make a fresh allocation resident before the RSS series starts, so that the benchmark's own
 * buffers do not show as growth when first written. Not memset(0): the compiler may turn
 * malloc + memset(0) into calloc, whose fresh pages stay unmapped until written (seen: the
 * per-call load array grew RSS by 30 kB per simulated minute). The contents are garbage. */
static void soak_touch(void *p, size_t n) { memset(p, 0x01, n); }

static int soak_cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* Host block sizes, cycled call after call: powers of two, odd and "host-typical" sizes. */
static const int soak_blocks[] = {32,  64,  128, 256,  512, 1024, 33,  97,  100, 127,
                                  255, 333, 441, 480, 511, 733,  1000, 1023, 47, 160};
#define SOAK_NBLOCKS ((int)(sizeof soak_blocks / sizeof soak_blocks[0]))
#define SOAK_MAXBLOCK 1024

#endif
