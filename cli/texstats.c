/* texstats.c - auditory texture statistics (McDermott & Simoncelli 2011) and their distance.
 * See texstats.h for the definitions. Depends only on FFTW3 (single precision) and libm, so
 * the unit test can compile it on its own.
 */
#include "texstats.h"

#include <fftw3.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DECIM (TEX_RATE / TEX_ENV_RATE) /* 50 */
#define F_LO 20.0                       /* lowest filter edge, Hz */
#define F_HI 10000.0                    /* highest filter edge, Hz (Nyquist of TEX_RATE) */
#define PAD_S 0.25                      /* zeros after the signal: room for filter tails */
#define ENV_PASS 150.0                  /* envelope low-pass: flat up to here, Hz */
#define ENV_STOP 200.0                  /* ... and 0 from here (the 400 Hz Nyquist) */
#define MOD_LO 0.5
#define MOD_HI 200.0
#define DITHER_SEED 0x7e57a75d17e4ULL

static void seterr(char *err, size_t len, const char *fmt, ...)
{
    if (!err || !len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

/* ---- small helpers ----------------------------------------------------------------------- */

/* Smallest m >= n whose only prime factors are 2, 3, 5, 7 (fast FFT sizes). */
static size_t smooth_size(size_t n)
{
    if (n < 2)
        return 2;
    for (size_t m = n;; m++) {
        size_t r = m;
        static const size_t p[] = {2, 3, 5, 7};
        for (int i = 0; i < 4; i++)
            while (r % p[i] == 0)
                r /= p[i];
        if (r == 1)
            return m;
    }
}

static double erb_number(double f) { return 21.4 * log10(1.0 + 0.00437 * f); }
static double erb_freq(double e) { return (pow(10.0, e / 21.4) - 1.0) / 0.00437; }

/* ERB-number of filter edge i, i = 0 .. TEX_NBANDS + 1. */
static double band_edge(int i)
{
    double lo = erb_number(F_LO), hi = erb_number(F_HI);
    return lo + (hi - lo) * i / (TEX_NBANDS + 1);
}

double tex_band_centre(int k) { return erb_freq(band_edge(k + 1)); }

/* Gain of cochlear filter k at f Hz. */
static double band_gain(int k, double f)
{
    if (f <= 0.0)
        return 0.0;
    double e = erb_number(f), lo = band_edge(k), hi = band_edge(k + 2);
    if (e <= lo || e >= hi)
        return 0.0;
    return cos(M_PI * (e - band_edge(k + 1)) / (hi - lo));
}

static double mod_step(void) { return log2(MOD_HI / MOD_LO) / (TEX_NMOD - 1); }

double tex_mod_centre(int m) { return MOD_LO * exp2(m * mod_step()); }

/* Gain of modulation filter m at f Hz: half-cosine on log2 f between the neighbours'
 * centres. */
static double mod_gain(int m, double f)
{
    if (f <= 0.0)
        return 0.0;
    double x = (log2(f) - log2(tex_mod_centre(m))) / mod_step(); /* in band steps */
    if (x <= -1.0 || x >= 1.0)
        return 0.0;
    return cos(M_PI * x / 2.0);
}

static double env_lowpass(double f)
{
    if (f <= ENV_PASS)
        return 1.0;
    if (f >= ENV_STOP)
        return 0.0;
    return 0.5 * (1.0 + cos(M_PI * (f - ENV_PASS) / (ENV_STOP - ENV_PASS)));
}

int tex_pair(int i, int j)
{
    if (i > j) {
        int t = i;
        i = j;
        j = t;
    }
    /* rows i = 0.. hold pairs (i, i+1 .. NB-1) */
    return i * TEX_NBANDS - i * (i + 1) / 2 + (j - i - 1);
}

/* Deterministic Gaussian numbers: splitmix64 + Box-Muller. */
typedef struct rng {
    uint64_t s;
    int has;
    double spare;
} rng;

static uint64_t rng_u64(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double rng_gauss(rng *r)
{
    if (r->has) {
        r->has = 0;
        return r->spare;
    }
    double u1 = ((rng_u64(r) >> 11) + 1.0) * 0x1.0p-53; /* (0, 1] */
    double u2 = (rng_u64(r) >> 11) * 0x1.0p-53;
    double rad = sqrt(-2.0 * log(u1));
    r->spare = rad * sin(2.0 * M_PI * u2);
    r->has = 1;
    return rad * cos(2.0 * M_PI * u2);
}

/* ---- statistics ---------------------------------------------------------------------------- */

int tex_compute(const float *x, size_t n, tex_stats *out, char *err, size_t errlen)
{
    const size_t nmax = (size_t)(TEX_MAX_SECONDS * TEX_RATE);
    if (n > nmax)
        n = nmax;
    if (n < (size_t)(TEX_MIN_SECONDS * TEX_RATE)) {
        seterr(err, errlen, "%.2f s of audio: texture statistics need at least %.1f s",
               (double)n / TEX_RATE, TEX_MIN_SECONDS);
        return -1;
    }
    double ss = 0.0;
    for (size_t i = 0; i < n; i++)
        ss += (double)x[i] * x[i];
    const double rms = sqrt(ss / (double)n);
    if (!(rms > 1e-7)) { /* below a 24-bit LSB, or NaN */
        seterr(err, errlen, "silent (RMS %.3g): no texture statistics", rms);
        return -1;
    }

    /* FFT length: the signal plus padding, a multiple of DECIM so the envelope decimates
     * exactly, with smooth factors. */
    const size_t N = DECIM * smooth_size((n + (size_t)(PAD_S * TEX_RATE) + DECIM - 1) / DECIM);
    const size_t M = N / DECIM; /* envelope length at TEX_ENV_RATE */
    const size_t edge = (size_t)(TEX_EDGE_S * TEX_ENV_RATE);
    const size_t t0 = edge, t1 = n / DECIM - edge, L = t1 - t0; /* analysed envelope span */
    const size_t Q = smooth_size(L);                             /* modulation FFT */

    float *xb = fftwf_malloc(sizeof(float) * N);
    fftwf_complex *X = fftwf_malloc(sizeof(fftwf_complex) * (N / 2 + 1));
    fftwf_complex *C = fftwf_malloc(sizeof(fftwf_complex) * N);
    float *env = fftwf_malloc(sizeof(float) * N);
    fftwf_complex *E = fftwf_malloc(sizeof(fftwf_complex) * (N / 2 + 1));
    fftwf_complex *S = fftwf_malloc(sizeof(fftwf_complex) * (M / 2 + 1));
    float *eds = fftwf_malloc(sizeof(float) * M);
    float *mq = fftwf_malloc(sizeof(float) * Q);
    fftwf_complex *MQ = fftwf_malloc(sizeof(fftwf_complex) * (Q / 2 + 1));
    double *envs = malloc(sizeof(double) * TEX_NBANDS * L);
    double *win = malloc(sizeof(double) * L);
    fftwf_plan p_x = NULL, p_c = NULL, p_e = NULL, p_s = NULL, p_m = NULL;
    int rc = -1;
    if (!xb || !X || !C || !env || !E || !S || !eds || !mq || !MQ || !envs || !win)
        goto oom;
    p_x = fftwf_plan_dft_r2c_1d((int)N, xb, X, FFTW_ESTIMATE);
    p_c = fftwf_plan_dft_1d((int)N, C, C, FFTW_BACKWARD, FFTW_ESTIMATE);
    p_e = fftwf_plan_dft_r2c_1d((int)N, env, E, FFTW_ESTIMATE);
    p_s = fftwf_plan_dft_c2r_1d((int)M, S, eds, FFTW_ESTIMATE);
    p_m = fftwf_plan_dft_r2c_1d((int)Q, mq, MQ, FFTW_ESTIMATE);
    if (!p_x || !p_c || !p_e || !p_s || !p_m)
        goto oom;

    /* signal: faded edges, dither, zero padding */
    {
        rng r = {DITHER_SEED, 0, 0.0};
        const double dsd = rms * pow(10.0, TEX_DITHER_DB / 20.0);
        const size_t fade = (size_t)(TEX_FADE_S * TEX_RATE);
        for (size_t i = 0; i < n; i++) {
            double g = 1.0;
            size_t d = i < n - 1 - i ? i : n - 1 - i; /* distance to the nearer end */
            if (d < fade)
                g = 0.5 * (1.0 - cos(M_PI * (d + 0.5) / fade));
            xb[i] = (float)(g * (x[i] + dsd * rng_gauss(&r)));
        }
        for (size_t i = n; i < N; i++)
            xb[i] = 0.0f;
    }
    fftwf_execute(p_x);

    memset(out, 0, sizeof *out);
    out->seconds = (double)n / TEX_RATE;
    for (size_t t = 0; t < L; t++) /* periodic Hann over the span */
        win[t] = 0.5 - 0.5 * cos(2.0 * M_PI * (double)t / (double)L);

    double bandpow[TEX_NBANDS], totpow = 0.0;
    const double df = (double)TEX_RATE / (double)N;
    for (int k = 0; k < TEX_NBANDS; k++) {
        /* analytic subband: 2 X H on positive frequencies, 0 elsewhere */
        memset(C, 0, sizeof(fftwf_complex) * N);
        size_t b0 = (size_t)floor(erb_freq(band_edge(k)) / df),
               b1 = (size_t)ceil(erb_freq(band_edge(k + 2)) / df);
        if (b0 < 1)
            b0 = 1;
        if (b1 > N / 2 - 1)
            b1 = N / 2 - 1;
        double pw = 0.0;
        for (size_t f = b0; f <= b1; f++) {
            double h = band_gain(k, f * df);
            C[f][0] = (float)(2.0 * h * X[f][0]);
            C[f][1] = (float)(2.0 * h * X[f][1]);
            pw += h * h * ((double)X[f][0] * X[f][0] + (double)X[f][1] * X[f][1]);
        }
        bandpow[k] = pw;
        totpow += pw;
        fftwf_execute(p_c);
        /* compressed envelope (the inverse FFT is unnormalised: scale by 1/N before the
         * nonlinearity) */
        const double inv = 1.0 / (double)N;
        for (size_t t = 0; t < N; t++)
            env[t] = (float)pow(inv * hypot(C[t][0], C[t][1]), TEX_COMPRESS);
        fftwf_execute(p_e);
        /* low-pass and decimate to TEX_ENV_RATE in the frequency domain */
        for (size_t f = 0; f <= M / 2; f++) {
            double g = env_lowpass(f * df) / (double)N;
            S[f][0] = (float)(g * E[f][0]);
            S[f][1] = (float)(g * E[f][1]);
        }
        fftwf_execute(p_s);

        double *e = envs + (size_t)k * L;
        double m = 0.0;
        for (size_t t = 0; t < L; t++)
            m += (e[t] = eds[t0 + t]);
        m /= (double)L;
        double m2 = 0.0, m3 = 0.0, m4 = 0.0;
        for (size_t t = 0; t < L; t++) {
            double d = e[t] - m, d2 = d * d;
            m2 += d2;
            m3 += d2 * d;
            m4 += d2 * d2;
        }
        m2 /= (double)L;
        m3 /= (double)L;
        m4 /= (double)L;
        double sd = sqrt(m2);
        out->mean[k] = m;
        /* the dither makes sd > 0; guard anyway so nothing is NaN */
        out->cv[k] = m > 0.0 ? sd / m : 0.0;
        out->skew[k] = sd > 0.0 ? m3 / (m2 * sd) : 0.0;
        out->kurt[k] = sd > 0.0 ? m4 / (m2 * m2) : 3.0;

        /* modulation power: windowed, mean-removed envelope */
        for (size_t t = 0; t < Q; t++)
            mq[t] = t < L ? (float)(win[t] * (e[t] - m)) : 0.0f;
        fftwf_execute(p_m);
        double tot = 0.0, acc[TEX_NMOD] = {0};
        const double dq = (double)TEX_ENV_RATE / (double)Q;
        for (size_t f = 1; f <= Q / 2; f++) {
            double p = (double)MQ[f][0] * MQ[f][0] + (double)MQ[f][1] * MQ[f][1];
            tot += p;
            for (int j = 0; j < TEX_NMOD; j++) {
                double g = mod_gain(j, f * dq);
                acc[j] += g * g * p;
            }
        }
        for (int j = 0; j < TEX_NMOD; j++)
            out->mod[k][j] = tot > 0.0 ? acc[j] / tot : 0.0;
    }
    for (int k = 0; k < TEX_NBANDS; k++) {
        double l = bandpow[k] > 0.0 ? 10.0 * log10(bandpow[k] / totpow) : TEX_LEVEL_FLOOR;
        out->level[k] = l > TEX_LEVEL_FLOOR ? l : TEX_LEVEL_FLOOR;
    }
    /* cross-band envelope correlations */
    for (int i = 0; i < TEX_NBANDS; i++) {
        const double *a = envs + (size_t)i * L;
        for (int j = i + 1; j < TEX_NBANDS; j++) {
            const double *b = envs + (size_t)j * L;
            double ma = out->mean[i], mb = out->mean[j], sab = 0.0, saa = 0.0, sbb = 0.0;
            for (size_t t = 0; t < L; t++) {
                double da = a[t] - ma, db = b[t] - mb;
                sab += da * db;
                saa += da * da;
                sbb += db * db;
            }
            out->corr[tex_pair(i, j)] = saa > 0.0 && sbb > 0.0 ? sab / sqrt(saa * sbb) : 0.0;
        }
    }
    rc = 0;
    goto done;
oom:
    seterr(err, errlen, "out of memory (texture statistics of %.1f s)", (double)n / TEX_RATE);
done:
    if (p_x)
        fftwf_destroy_plan(p_x);
    if (p_c)
        fftwf_destroy_plan(p_c);
    if (p_e)
        fftwf_destroy_plan(p_e);
    if (p_s)
        fftwf_destroy_plan(p_s);
    if (p_m)
        fftwf_destroy_plan(p_m);
    fftwf_free(xb);
    fftwf_free(X);
    fftwf_free(C);
    fftwf_free(env);
    fftwf_free(E);
    fftwf_free(S);
    fftwf_free(eds);
    fftwf_free(mq);
    fftwf_free(MQ);
    free(envs);
    free(win);
    return rc;
}

/* ---- distance ------------------------------------------------------------------------------ */

static const char *const group_names[TEX_NGROUPS] = {"level", "cv", "skew", "kurt", "corr", "mod"};
/* Scales: within-recording differences of real ambience recordings (see texstats.h). */
static const double group_scales[TEX_NGROUPS] = {3.5, 0.045, 0.3, 0.3, 0.1, 0.07};

const char *tex_group_name(int g) { return g >= 0 && g < TEX_NGROUPS ? group_names[g] : "?"; }
double tex_group_scale(int g) { return g >= 0 && g < TEX_NGROUPS ? group_scales[g] : 1.0; }

static double sq(double v) { return v * v; }

double tex_distance(const tex_stats *a, const tex_stats *b, double *group)
{
    double s[TEX_NGROUPS] = {0};
    int cnt[TEX_NGROUPS] = {0};
    for (int k = 0; k < TEX_NBANDS; k++) {
        s[TEX_G_LEVEL] += sq(a->level[k] - b->level[k]);
        s[TEX_G_CV] += sq(a->cv[k] - b->cv[k]);
        s[TEX_G_SKEW] += sq(asinh(a->skew[k]) - asinh(b->skew[k]));
        s[TEX_G_KURT] += sq(log(a->kurt[k]) - log(b->kurt[k]));
        for (int m = 0; m < TEX_NMOD; m++)
            s[TEX_G_MOD] += sq(sqrt(a->mod[k][m]) - sqrt(b->mod[k][m]));
    }
    cnt[TEX_G_LEVEL] = cnt[TEX_G_CV] = cnt[TEX_G_SKEW] = cnt[TEX_G_KURT] = TEX_NBANDS;
    cnt[TEX_G_MOD] = TEX_NBANDS * TEX_NMOD;
    for (int p = 0; p < TEX_NCORR; p++)
        s[TEX_G_CORR] += sq(a->corr[p] - b->corr[p]);
    cnt[TEX_G_CORR] = TEX_NCORR;
    double d2 = 0.0;
    for (int g = 0; g < TEX_NGROUPS; g++) {
        double dg = sqrt(s[g] / cnt[g]) / group_scales[g];
        if (group)
            group[g] = dg;
        d2 += dg * dg;
    }
    return sqrt(d2 / TEX_NGROUPS);
}

/* ---- spectrum-matched noise ---------------------------------------------------------------- */

void tex_psd_init(tex_psd *psd) { memset(psd, 0, sizeof *psd); }

int tex_psd_add(tex_psd *psd, const float *x, size_t n)
{
    const int F = TEX_PSD_FFT, H = TEX_PSD_FFT / 2;
    float *in = fftwf_malloc(sizeof(float) * F);
    fftwf_complex *out = fftwf_malloc(sizeof(fftwf_complex) * (F / 2 + 1));
    fftwf_plan p = in && out ? fftwf_plan_dft_r2c_1d(F, in, out, FFTW_ESTIMATE) : NULL;
    if (!p) {
        fftwf_free(in);
        fftwf_free(out);
        return -1;
    }
    double w[TEX_PSD_FFT], w2 = 0.0;
    for (int i = 0; i < F; i++) {
        w[i] = 0.5 - 0.5 * cos(2.0 * M_PI * i / F);
        w2 += w[i] * w[i];
    }
    for (size_t start = 0;; start += H) {
        for (int i = 0; i < F; i++)
            in[i] = start + i < n ? (float)(w[i] * x[start + i]) : 0.0f;
        fftwf_execute(p);
        for (int f = 0; f <= F / 2; f++)
            psd->p[f] += ((double)out[f][0] * out[f][0] + (double)out[f][1] * out[f][1]) / w2;
        psd->frames += 1.0;
        if (start + F >= n)
            break;
    }
    fftwf_destroy_plan(p);
    fftwf_free(in);
    fftwf_free(out);
    return 0;
}

int tex_psd_noise(const tex_psd *psd, uint64_t seed, float *out, size_t n)
{
    if (psd->frames <= 0.0 || n == 0)
        return -1;
    const size_t N = smooth_size(n);
    float *z = fftwf_malloc(sizeof(float) * N);
    fftwf_complex *Z = fftwf_malloc(sizeof(fftwf_complex) * (N / 2 + 1));
    fftwf_plan pf = NULL, pb = NULL;
    int rc = -1;
    if (!z || !Z)
        goto done;
    pf = fftwf_plan_dft_r2c_1d((int)N, z, Z, FFTW_ESTIMATE);
    pb = fftwf_plan_dft_c2r_1d((int)N, Z, z, FFTW_ESTIMATE);
    if (!pf || !pb)
        goto done;
    rng r = {seed, 0, 0.0};
    for (size_t i = 0; i < N; i++)
        z[i] = (float)rng_gauss(&r);
    fftwf_execute(pf);
    for (size_t f = 0; f <= N / 2; f++) {
        double q = (double)f * TEX_PSD_FFT / (double)N; /* position among the PSD bins */
        size_t i0 = (size_t)q;
        if (i0 >= TEX_PSD_FFT / 2)
            i0 = TEX_PSD_FFT / 2 - 1;
        double a = q - (double)i0;
        if (a > 1.0)
            a = 1.0;
        double p = ((1.0 - a) * psd->p[i0] + a * psd->p[i0 + 1]) / psd->frames;
        double g = sqrt(p > 0.0 ? p : 0.0) / (double)N;
        Z[f][0] = (float)(g * Z[f][0]);
        Z[f][1] = (float)(g * Z[f][1]);
    }
    fftwf_execute(pb);
    memcpy(out, z, sizeof(float) * n);
    rc = 0;
done:
    if (pf)
        fftwf_destroy_plan(pf);
    if (pb)
        fftwf_destroy_plan(pb);
    fftwf_free(z);
    fftwf_free(Z);
    return rc;
}
