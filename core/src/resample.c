/* resample.c - fixed-ratio streaming sample-rate converter. Conventions in resample.h.
 *
 * Time base. With g = gcd(rate_in, rate_out), L = rate_out / g, M = rate_in / g, output j sits
 * at input position p_j = j*M/L - W. Stepping j -> j+1 moves p by M/L = qM + rM/L input
 * samples. The fractional part of p_j is r/L (0 <= r < L); we keep it already scaled to the
 * table, r*P = ph*L + rem (0 <= ph < P, 0 <= rem < L), so one step is a few integer adds and
 * compares, no division, and the position is exact forever.
 *
 * Scheduling. `ahead` = floor(j*M/L) - (number of inputs pushed) for the next output j.
 * Output j needs inputs up to floor(j*M/L) (its last non-zero tap, see below), so after a push
 * it is due while ahead < 0; since pushes decrement ahead by one and emission stops at
 * ahead >= 0, every output is emitted with ahead == -1, i.e. floor(j*M/L) is the sample just
 * pushed. Counting: outputs emitted after n pushes = #{j >= 0 : floor(jM/L) < n} = ceil(nL/M).
 *
 * Taps. With i = latest - k (k = 0..T-1, T = taps rounded up to a multiple of 8) and
 * f = frac(p_j), the kernel argument is t = p_j - i = k - W + f. The kernel is zero for
 * |t| >= W, so k = 0..2W-1 covers it (k = 0 at f = 0 gives t = -W: zero) and k >= 2W are zero
 * padding that keeps the dot product a whole number of 8-float blocks. */
#include "resample.h"

#include <stdlib.h>

#define KAISER_BETA 8.0
#define CUTOFF 0.45 /* x the lower rate: flat (1e-4) to ~0.39, -80 dB from ~0.51 */
#define PHASES_LOW 512 /* table phases per lower-rate sample */
#define PHASES_MIN 64  /* ... but at least this many per input sample */

struct lpi_resampler {
    int rate_in, rate_out;
    int identity;
    int64_t L, M;    /* reduced ratio: rate_out / g, rate_in / g */
    int64_t qM;      /* M = qM * L + rM */
    int64_t dph, drem; /* rM * P = dph * L + drem */
    int W;           /* kernel half-width = delay, input samples */
    int T;           /* taps per output (multiple of 8, >= 2W) */
    int P;           /* table phases per input sample */
    int max_out;
    double inv_L;
    float *table;    /* (P + 1) rows x T: row ph, entry m holds K(k - W + ph/P), k = T-1-m */
    float *hist;     /* 2T: mirrored ring, sample n at n % T and n % T + T */
    int pos;         /* ring index of the latest sample */
    int64_t ph, rem; /* fractional position of the next output, scaled: r*P = ph*L + rem */
    int64_t ahead;   /* floor(j*M/L) - inputs pushed, for the next output j */
};

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* modified Bessel function of the first kind, order 0 (power series; x <= ~10 here) */
static double bessel_i0(double x)
{
    double sum = 1.0, term = 1.0, q = 0.25 * x * x;
    for (int k = 1; k < 200; k++) {
        term *= q / ((double)k * (double)k);
        sum += term;
        if (term < 1e-17 * sum)
            break;
    }
    return sum;
}

/* Kernel in input-sample units: low-pass at fc cycles per input sample, Kaiser window over
 * |t| < W. */
static double kernel(double t, double fc, int W, double i0_beta)
{
    if (fabs(t) >= (double)W)
        return 0.0;
    double x = 2.0 * fc * t;
    double s = fabs(x) < 1e-12 ? 1.0 : sin(M_PI * x) / (M_PI * x);
    double u = t / (double)W;
    return 2.0 * fc * s * bessel_i0(KAISER_BETA * sqrt(1.0 - u * u)) / i0_beta;
}

void lpi_resampler_reset(lpi_resampler *r)
{
    if (!r)
        return;
    if (r->hist)
        memset(r->hist, 0, (size_t)(2 * r->T) * sizeof(float));
    r->pos = r->T > 0 ? r->T - 1 : 0; /* the first push lands at index 0 */
    r->ph = 0;
    r->rem = 0;
    r->ahead = 0;
}

limpid_status lpi_resampler_create(lpi_resampler **out, int rate_in, int rate_out)
{
    if (!out)
        return LIMPID_ERR_INVALID;
    *out = NULL;
    if (rate_in < LPI_RESAMPLER_RATE_MIN || rate_in > LPI_RESAMPLER_RATE_MAX ||
        rate_out < LPI_RESAMPLER_RATE_MIN || rate_out > LPI_RESAMPLER_RATE_MAX)
        return LIMPID_ERR_INVALID;
    lpi_resampler *r = calloc(1, sizeof *r);
    if (!r)
        return LIMPID_ERR_NOMEM;
    r->rate_in = rate_in;
    r->rate_out = rate_out;
    int64_t g = gcd64(rate_in, rate_out);
    r->L = rate_out / g;
    r->M = rate_in / g;
    r->inv_L = 1.0 / (double)r->L;
    if (rate_in == rate_out) {
        r->identity = 1;
        r->max_out = 1;
        *out = r;
        return LIMPID_OK;
    }

    const int lo = rate_in < rate_out ? rate_in : rate_out;
    /* half-width: LPI_RESAMPLER_HALF_WIDTH lower-rate samples, rounded up to input samples */
    r->W = (int)(((int64_t)LPI_RESAMPLER_HALF_WIDTH * rate_in + lo - 1) / lo);
    r->T = (2 * r->W + 7) / 8 * 8;
    int P = (int)(((int64_t)PHASES_LOW * lo + rate_in - 1) / rate_in);
    r->P = P < PHASES_MIN ? PHASES_MIN : P;
    r->qM = r->M / r->L;
    int64_t rM = r->M % r->L;
    r->dph = rM * r->P / r->L;
    r->drem = rM * r->P % r->L;
    r->max_out = (int)((rate_out + rate_in - 1) / rate_in);

    const int T = r->T, W = r->W;
    r->table = malloc((size_t)(r->P + 1) * (size_t)T * sizeof(float));
    r->hist = malloc((size_t)(2 * T) * sizeof(float));
    double *row = malloc((size_t)T * sizeof(double));
    if (!r->table || !r->hist || !row) {
        free(row);
        lpi_resampler_destroy(r);
        return LIMPID_ERR_NOMEM;
    }
    const double fc = CUTOFF * (double)lo / (double)rate_in; /* cycles per input sample */
    const double i0b = bessel_i0(KAISER_BETA);
    for (int ph = 0; ph <= r->P; ph++) {
        double f = (double)ph / (double)r->P, sum = 0.0;
        for (int m = 0; m < T; m++) {
            int k = T - 1 - m;
            row[m] = kernel((double)k - (double)W + f, fc, W, i0b);
            sum += row[m];
        }
        /* unit gain at DC for every phase: otherwise the phase-dependent DC gain (~1e-4, the
         * kernel's stopband at multiples of the input rate) would modulate a DC offset into a
         * tone at the beat frequency */
        for (int m = 0; m < T; m++)
            r->table[(size_t)ph * (size_t)T + (size_t)m] = (float)(row[m] / sum);
    }
    free(row);
    lpi_resampler_reset(r);
    *out = r;
    return LIMPID_OK;
}

void lpi_resampler_destroy(lpi_resampler *r)
{
    if (!r)
        return;
    free(r->table);
    free(r->hist);
    free(r);
}

int lpi_resampler_max_out(const lpi_resampler *r) { return r->max_out; }

double lpi_resampler_delay(const lpi_resampler *r)
{
    return (double)r->W * (double)r->L / (double)r->M;
}

void lpi_resampler_delay_exact(const lpi_resampler *r, int64_t *num, int64_t *den)
{
    int64_t n = (int64_t)r->W * r->L, d = r->M, g = n ? gcd64(n, d) : d;
    *num = n / g;
    *den = d / g;
}

int lpi_resampler_delay_in(const lpi_resampler *r) { return r->W; }

/* Two dot products of x against adjacent table rows a and b (n a multiple of 8), with GCC
 * vector extensions (SSE / NEON lanes; elementwise IEEE, so the result is the same wherever
 * it runs). Fixed summation order: deterministic. */
typedef float lpi_v4f __attribute__((vector_size(16)));

static inline lpi_v4f ld4(const float *p)
{
    lpi_v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void dot2(const float *x, const float *a, const float *b, int n, float *ya,
                        float *yb)
{
    lpi_v4f a0 = {0, 0, 0, 0}, a1 = a0, b0 = a0, b1 = a0;
    for (int i = 0; i < n; i += 8) {
        lpi_v4f x0 = ld4(x + i), x1 = ld4(x + i + 4);
        a0 += x0 * ld4(a + i);
        a1 += x1 * ld4(a + i + 4);
        b0 += x0 * ld4(b + i);
        b1 += x1 * ld4(b + i + 4);
    }
    lpi_v4f sa = a0 + a1, sb = b0 + b1;
    *ya = (sa[0] + sa[2]) + (sa[1] + sa[3]);
    *yb = (sb[0] + sb[2]) + (sb[1] + sb[3]);
}

int lpi_resampler_push(lpi_resampler *r, float x, float *out)
{
    if (r->identity) {
        out[0] = x;
        return 1;
    }
    /* below -500 dBFS is silence: keeps denormals (slow on x86 without FTZ) out of the
     * history and the products; NaN/Inf still propagate */
    if (fabsf(x) < 1e-25f)
        x = 0.0f;
    const int T = r->T;
    int pos = r->pos + 1;
    if (pos == T)
        pos = 0;
    r->pos = pos;
    r->hist[pos] = x;
    r->hist[pos + T] = x;
    const float *win = r->hist + pos + 1; /* the latest T samples, oldest first */

    int n = 0;
    int64_t ahead = r->ahead - 1, ph = r->ph, rem = r->rem;
    while (ahead < 0) {
        const float *a = r->table + (size_t)ph * (size_t)T;
        float ya, yb;
        dot2(win, a, a + T, T, &ya, &yb);
        float alpha = (float)((double)rem * r->inv_L); /* position between rows ph, ph+1 */
        out[n++] = ya + alpha * (yb - ya);
        /* advance to output j+1: position += qM + rM/L */
        rem += r->drem;
        if (rem >= r->L) {
            rem -= r->L;
            ph++;
        }
        ph += r->dph;
        ahead += r->qM;
        if (ph >= r->P) {
            ph -= r->P;
            ahead++;
        }
    }
    r->ahead = ahead;
    r->ph = ph;
    r->rem = rem;
    return n;
}
