/* noisegen.c - procedural noise for training denoisers (see noisegen.h). */
#include "noisegen.h"

#include "vec.h" /* core/src: 16-wide float vectors, log (header only) */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

typedef struct { uint64_t s; } rng;

static uint64_t next(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double uni(rng *r) { return (double)(next(r) >> 11) * (1.0 / 9007199254740992.0); }
static double range(rng *r, double lo, double hi) { return lo + (hi - lo) * uni(r); }
static double logrange(rng *r, double lo, double hi) { return lo * pow(hi / lo, uni(r)); }
/* Box-Muller, one value per pair of draws, in float arithmetic (the draws as before) */
static float gauss(rng *r)
{
    double u = uni(r), v = uni(r);
    return sqrtf(-2.0f * logf((float)u + 1e-30f)) * cosf((float)(2.0 * M_PI) * (float)v);
}

/* cos(2 pi v) for v in [0, 1]: x = 4v = q + r with q an integer, |r| <= 1/2, t = r pi/2, so
 * cos(2 pi v) = cos(q pi/2 + t) = cos t, -sin t, -cos t, sin t for q mod 4 = 0..3 (Cephes
 * sinf / cosf polynomials on |t| <= pi/4) */
#define VCOS_2PI(vin)                                                                    \
    ({                                                                                   \
        lpi_vf x_ = (vin) * 4.0f;                                                        \
        lpi_vf k_ = x_ + 12582912.0f; /* round to nearest: q in the low mantissa bits */ \
        lpi_vi q_ = (lpi_vi)k_ - 0x4B400000;                                             \
        lpi_vf t_ = (x_ - (k_ - 12582912.0f)) * 1.57079632679489662f;                    \
        lpi_vf z_ = t_ * t_;                                                             \
        lpi_vf sn_ = ((-1.9515295891e-4f * z_ + 8.3321608736e-3f) * z_ - 1.6666654611e-1f) \
                     * z_ * t_ + t_;                                                     \
        lpi_vf cs_ = ((2.443315711809948e-5f * z_ - 1.388731625493765e-3f) * z_          \
                      + 4.166664568298827e-2f) * z_ * z_ - 0.5f * z_ + 1.0f;             \
        lpi_vf c_ = VSEL((q_ & 1) != 0, sn_, cs_);                                       \
        VSEL(((q_ + 1) & 2) != 0, -c_, c_);                                              \
    })

/* x[0..n) = gauss(r) each, the same draws in the same order, 16 values at a time: vec.h's
 * log, the cosine above and a square root per lane (one instruction with -fno-math-errno).
 * The values are Box-Muller's to float rounding (test_noisegen: within 2e-6 (1 + |x|) of it
 * in double). The training noise is mostly white noise through filters: drawn a value at a
 * time, gauss took 5.2 % of a training step and libm's cosf 2.3 %, besides its share of
 * logf's 8.6 % (perf on the rt recipe, session 17); noisegen_fill is 1.8x faster this way. */
LPI_CLONES static void gauss_fill(rng *r, float *x, int n)
{
    int i = 0;
    for (; i + VW <= n; i += VW) {
        float u[VW], v[VW], w[VW];
        for (int q = 0; q < VW; q++) {
            u[q] = (float)uni(r) + 1e-30f;
            v[q] = (float)uni(r);
        }
        /* u >= 1e-30 is a normal float: VLOG_POS applies */
        VST(w, -2.0f * VLOG_POS(VLD(u)));
        for (int q = 0; q < VW; q++)
            w[q] = sqrtf(w[q]);
        VST(x + i, VLD(w) * VCOS_2PI(VLD(v)));
    }
    for (; i < n; i++)
        x[i] = gauss(r);
}

/* RBJ biquad, direct form I, in place. */
typedef struct { double b0, b1, b2, a1, a2; } biquad;

static biquad peaking(double fc, double q, double gain_db, int rate)
{
    double A = pow(10.0, gain_db / 40.0), w = 2.0 * M_PI * fc / rate;
    double al = sin(w) / (2.0 * q), c = cos(w), a0 = 1.0 + al / A;
    return (biquad){(1.0 + al * A) / a0, -2.0 * c / a0, (1.0 - al * A) / a0, -2.0 * c / a0,
                    (1.0 - al / A) / a0};
}

static biquad bandpass(double fc, double q, int rate)
{
    double w = 2.0 * M_PI * fc / rate, al = sin(w) / (2.0 * q), c = cos(w), a0 = 1.0 + al;
    return (biquad){al / a0, 0.0, -al / a0, -2.0 * c / a0, (1.0 - al) / a0};
}

/* shelf with slope 1: low (low != 0) or high shelf at fc */
static biquad shelf(double fc, double gain_db, int low, int rate)
{
    double A = pow(10.0, gain_db / 40.0), w = 2.0 * M_PI * fc / rate, c = cos(w);
    double al = sin(w) / 2.0 * sqrt(2.0), sq = 2.0 * sqrt(A) * al;
    double b0, b1, b2, a0, a1, a2;
    if (low) {
        b0 = A * ((A + 1) - (A - 1) * c + sq);
        b1 = 2 * A * ((A - 1) - (A + 1) * c);
        b2 = A * ((A + 1) - (A - 1) * c - sq);
        a0 = (A + 1) + (A - 1) * c + sq;
        a1 = -2 * ((A - 1) + (A + 1) * c);
        a2 = (A + 1) + (A - 1) * c - sq;
    } else {
        b0 = A * ((A + 1) + (A - 1) * c + sq);
        b1 = -2 * A * ((A - 1) + (A + 1) * c);
        b2 = A * ((A + 1) + (A - 1) * c - sq);
        a0 = (A + 1) - (A - 1) * c + sq;
        a1 = 2 * ((A - 1) - (A + 1) * c);
        a2 = (A + 1) - (A - 1) * c - sq;
    }
    return (biquad){b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0};
}

static void run_biquad(const biquad *f, float *x, int n)
{
    double x1 = 0, x2 = 0, y1 = 0, y2 = 0;
    for (int i = 0; i < n; i++) {
        double v = x[i];
        double y = f->b0 * v + f->b1 * x1 + f->b2 * x2 - f->a1 * y1 - f->a2 * y2;
        x2 = x1;
        x1 = v;
        y2 = y1;
        y1 = y;
        x[i] = (float)y;
    }
}

static void normalise(float *x, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    double rms = sqrt(s / (n > 0 ? n : 1));
    float g = rms > 1e-20 ? (float)(1.0 / rms) : 0.0f;
    for (int i = 0; i < n; i++)
        x[i] *= g;
}

static double fmax_of(int rate) { return fmin(16000.0, 0.45 * rate); }

static void coloured(rng *r, float *x, int n, int rate)
{
    gauss_fill(r, x, n);
    int k = 1 + (int)(uni(r) * 4.0);
    for (int j = 0; j < k; j++) {
        biquad f = peaking(logrange(r, 50.0, fmax_of(rate)), logrange(r, 0.4, 6.0),
                           range(r, -18.0, 18.0), rate);
        run_biquad(&f, x, n);
    }
    biquad t = shelf(logrange(r, 150.0, fmax_of(rate) / 2), range(r, -24.0, 12.0), uni(r) < 0.5,
                     rate);
    run_biquad(&t, x, n);
}

static void band(rng *r, float *x, int n, int rate, float *tmp)
{
    memset(x, 0, sizeof(float) * (size_t)n);
    int k = 1 + (int)(uni(r) * 3.0);
    for (int j = 0; j < k; j++) {
        gauss_fill(r, tmp, n);
        biquad f = bandpass(logrange(r, 60.0, fmax_of(rate)), logrange(r, 1.0, 30.0), rate);
        run_biquad(&f, tmp, n);
        normalise(tmp, n);
        float g = (float)pow(10.0, range(r, -12.0, 0.0) / 20.0);
        for (int i = 0; i < n; i++)
            x[i] += g * tmp[i];
    }
}

static void tonal(rng *r, float *x, int n, int rate, float *tmp)
{
    double f0 = logrange(r, 30.0, 3000.0), roll = range(r, 0.3, 0.95);
    int H = 1 + (int)(uni(r) * 12.0);
    double vib_rate = logrange(r, 0.1, 3.0), vib_depth = range(r, 0.0, 0.005);
    double vib_ph = range(r, 0.0, 2.0 * M_PI);
    memset(x, 0, sizeof(float) * (size_t)n);
    /* harmonic h: a_h sin(phase_h), phase_h advancing by h d_i per sample, d_i = 2 pi f0 (1 +
     * depth sin(vibrato phase)) / rate; computed as phasors: P_h *= z_i^h with z_i = e^(j d_i)
     * = e^(j d0) e^(j e_i), e_i = d0 depth sin(.) at most 0.006 rad (f0 <= 3 kHz, depth <=
     * 0.005, rate >= 16 kHz: a 5th-order series is exact to 1e-16), the vibrato's sine a
     * phasor too: no sine per sample and harmonic */
    double amp[12], pr[12], pi_[12];
    int nh = 0;
    for (int h = 1; h <= H && h <= 12; h++) {
        if (f0 * h >= 0.45 * rate)
            break;
        double a = pow(roll, h - 1) * (uni(r) < 0.2 ? 0.1 : 1.0), ph = range(r, 0.0, 2.0 * M_PI);
        amp[nh] = a;
        pr[nh] = cos(ph);
        pi_[nh] = sin(ph);
        nh++;
    }
    const double d0 = 2.0 * M_PI * f0 / rate, c0 = cos(d0), s0 = sin(d0);
    const double wv = 2.0 * M_PI * vib_rate / rate, cw = cos(wv), sw = sin(wv);
    double vr = cos(vib_ph), vi = sin(vib_ph); /* e^(j vibrato phase) */
    for (int i = 0; i < n; i++) {
        const double e = d0 * vib_depth * vi, e2 = e * e;
        const double ce = 1.0 - e2 * (0.5 - e2 / 24.0);
        const double se = e * (1.0 - e2 * (1.0 / 6.0 - e2 / 120.0));
        const double zr = c0 * ce - s0 * se, zi = s0 * ce + c0 * se; /* z_i */
        double wr = zr, wi = zi, acc = 0.0; /* z_i^h */
        for (int h = 0; h < nh; h++) {
            const double tr = pr[h] * wr - pi_[h] * wi;
            pi_[h] = pr[h] * wi + pi_[h] * wr;
            pr[h] = tr;
            acc += amp[h] * pi_[h];
            const double ur = wr * zr - wi * zi;
            wi = wr * zi + wi * zr;
            wr = ur;
        }
        x[i] = (float)acc;
        const double ur = vr * cw - vi * sw; /* the vibrato advances */
        vi = vr * sw + vi * cw;
        vr = ur;
        if ((i & 1023) == 1023) { /* keep the phasors on the unit circle */
            for (int h = 0; h < nh; h++) {
                const double g = 1.0 / sqrt(pr[h] * pr[h] + pi_[h] * pi_[h]);
                pr[h] *= g;
                pi_[h] *= g;
            }
            const double g = 1.0 / sqrt(vr * vr + vi * vi);
            vr *= g;
            vi *= g;
        }
    }
    normalise(x, n);
    coloured(r, tmp, n, rate); /* a faint floor */
    normalise(tmp, n);
    float g = (float)pow(10.0, range(r, -40.0, -15.0) / 20.0);
    for (int i = 0; i < n; i++)
        x[i] += g * tmp[i];
}

static void impulsive(rng *r, float *x, int n, int rate)
{
    memset(x, 0, sizeof(float) * (size_t)n);
    double per_s = logrange(r, 1.0, 60.0);
    double tau = logrange(r, 0.0005, 0.01) * rate; /* decay in samples */
    double p = per_s / rate;
    biquad col = peaking(logrange(r, 200.0, fmax_of(rate)), 1.0, range(r, 0.0, 15.0), rate);
    for (int i = 0; i < n; i++) {
        if (uni(r) >= p)
            continue;
        float amp = (float)logrange(r, 0.1, 1.0) * (uni(r) < 0.5 ? -1.0f : 1.0f);
        int len = (int)(tau * 5.0) + 1;
        for (int j = 0; j < len && i + j < n; j++)
            x[i + j] += amp * (float)exp(-j / tau) * gauss(r);
    }
    run_biquad(&col, x, n);
}

/* amplitude modulation: a sine or smoothed random gusts; in place */
static void modulate(rng *r, float *x, int n, int rate, float *tmp)
{
    if (uni(r) < 0.5) {
        double fr = logrange(r, 0.2, 12.0), d = range(r, 0.2, 1.0), ph = range(r, 0, 2 * M_PI);
        /* sin(2 pi fr i / rate + ph) as a rotating phasor (renormalised every 1024 samples) */
        const double w = 2.0 * M_PI * fr / rate, cw = cos(w), sw = sin(w);
        double vr = cos(ph), vi = sin(ph);
        for (int i = 0; i < n; i++) {
            x[i] *= (float)(1.0 - d * 0.5 * (1.0 + vi));
            const double ur = vr * cw - vi * sw;
            vi = vr * sw + vi * cw;
            vr = ur;
            if ((i & 1023) == 1023) {
                const double g = 1.0 / sqrt(vr * vr + vi * vi);
                vr *= g;
                vi *= g;
            }
        }
    } else {
        /* gusts: white noise low-passed twice at 0.3..4 Hz, exponentiated */
        double fc = logrange(r, 0.3, 4.0), a = exp(-2.0 * M_PI * fc / rate), depth = range(r, 1, 3);
        double y1 = 0.0, y2 = 0.0;
        /* start the filters in their steady state: run a second of warm-up */
        for (int i = -rate; i < n;) {
            float g[VW];
            const int m = n - i < VW ? n - i : VW;
            gauss_fill(r, g, m);
            for (int j = 0; j < m; j++, i++) {
                double v = g[j];
                y1 = a * y1 + (1.0 - a) * v;
                y2 = a * y2 + (1.0 - a) * y1;
                if (i >= 0)
                    tmp[i] = (float)y2;
            }
        }
        normalise(tmp, n);
        for (int i = 0; i < n; i++)
            x[i] *= (float)exp(depth * 0.5 * tmp[i] - depth * depth * 0.125);
    }
}

void noisegen_gauss(float *x, int n, uint64_t key)
{
    rng r = {key};
    if (x && n > 0)
        gauss_fill(&r, x, n);
}

void noisegen_colour(float *x, int n, int rate, uint64_t key, double max_db)
{
    rng r = {key ^ 0x636F6C6F7572ull};
    const double hi = fmax_of(rate);
    biquad f[3];
    f[0] = shelf(logrange(&r, 80.0, 600.0), range(&r, -max_db, max_db), 1, rate);
    f[1] = shelf(logrange(&r, fmin(1500.0, hi / 2), fmin(10000.0, hi)), range(&r, -max_db, max_db),
                 0, rate);
    f[2] = peaking(logrange(&r, 100.0, hi), logrange(&r, 0.5, 3.0), range(&r, -max_db, max_db),
                   rate);
    for (int j = 0; j < 3; j++)
        run_biquad(&f[j], x, n);
}

void noisegen_fill(float *out, int n, int rate, uint64_t key)
{
    if (n <= 0)
        return;
    rng r = {key ^ 0x6E6F697365ull};
    float *comp = malloc(sizeof(float) * (size_t)n), *tmp = malloc(sizeof(float) * (size_t)n);
    memset(out, 0, sizeof(float) * (size_t)n);
    if (!comp || !tmp) { /* out of memory: white noise, still deterministic */
        for (int i = 0; i < n; i++)
            out[i] = gauss(&r);
        free(comp);
        free(tmp);
        return;
    }
    int k = 1 + (int)(uni(&r) * 3.0);
    for (int c = 0; c < k; c++) {
        double t = uni(&r);
        if (t < 0.40)
            coloured(&r, comp, n, rate);
        else if (t < 0.60)
            band(&r, comp, n, rate, tmp);
        else if (t < 0.85)
            tonal(&r, comp, n, rate, tmp);
        else
            impulsive(&r, comp, n, rate);
        if (uni(&r) < 0.35)
            modulate(&r, comp, n, rate, tmp);
        normalise(comp, n);
        float g = c == 0 ? 1.0f : (float)pow(10.0, range(&r, -20.0, 0.0) / 20.0);
        for (int i = 0; i < n; i++)
            out[i] += g * comp[i];
    }
    normalise(out, n);
    free(comp);
    free(tmp);
}
