/* metrics.c - SNR, SI-SDR, STOI and ESTOI (definitions and references in metrics.h). */
#include "metrics.h"

#include "audio.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 10 log10(num / den) within +-METRIC_DB_CAP; NaN when num is not positive and den is 0 */
static double db_ratio(double num, double den)
{
    if (!(num > 0.0))
        return den > 0.0 ? -METRIC_DB_CAP : NAN;
    if (den <= num * pow(10.0, -METRIC_DB_CAP / 10.0))
        return METRIC_DB_CAP;
    double v = 10.0 * log10(num / den);
    return v < -METRIC_DB_CAP ? -METRIC_DB_CAP : v;
}

double metric_snr(const float *x, const float *y, size_t n)
{
    double s = 0.0, e = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)x[i] - (double)y[i];
        s += (double)x[i] * x[i];
        e += d * d;
    }
    if (!(s > 0.0))
        return NAN; /* silent reference: undefined */
    return db_ratio(s, e);
}

double metric_si_sdr(const float *x, const float *y, size_t n)
{
    if (n == 0)
        return NAN;
    double mx = 0.0, my = 0.0;
    for (size_t i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;
    double xx = 0.0, xy = 0.0;
    for (size_t i = 0; i < n; i++) {
        double a = x[i] - mx, b = y[i] - my;
        xx += a * a;
        xy += a * b;
    }
    if (!(xx > 0.0))
        return NAN;
    const double alpha = xy / xx;
    double t = 0.0, e = 0.0;
    for (size_t i = 0; i < n; i++) {
        double s = alpha * (x[i] - mx), d = (y[i] - my) - s;
        t += s * s;
        e += d * d;
    }
    return db_ratio(t, e);
}

/* ---- STOI / ESTOI --------------------------------------------------------------------- */

enum {
    FS = 10000,   /* Hz */
    NF = 256,     /* frame length */
    HOP = 128,    /* NF / 2 */
    NFFT = 512,
    NB = 15,      /* one-third-octave bands */
    SEG = 30      /* frames per segment (384 ms) */
};
#define MINFREQ 150.0
#define BETA (-15.0)
#define DYN_RANGE 40.0

/* MATLAB hanning(NF): 0.5 (1 - cos(2 pi k / (NF + 1))), k = 1..NF (no zero end points) */
static void hanning(double *w)
{
    for (int i = 0; i < NF; i++)
        w[i] = 0.5 * (1.0 - cos(2.0 * M_PI * (double)(i + 1) / (double)(NF + 1)));
}

/* Bins [lo[j], hi[j]) of band j, as thirdoct.m: band edges mn*2^((2k-1)/6) and
 * mn*2^((2k+1)/6) snapped to the nearest bin (the first on ties). */
static void band_bins(int *lo, int *hi)
{
    const int nb = NFFT / 2 + 1;
    for (int k = 0; k < NB; k++) {
        double fl = MINFREQ * pow(2.0, (2.0 * k - 1.0) / 6.0);
        double fr = MINFREQ * pow(2.0, (2.0 * k + 1.0) / 6.0);
        int bl = 0, br = 0;
        double dl = INFINITY, dr = INFINITY;
        for (int b = 0; b < nb; b++) {
            double f = (double)b * FS / NFFT;
            if ((f - fl) * (f - fl) < dl) {
                dl = (f - fl) * (f - fl);
                bl = b;
            }
            if ((f - fr) * (f - fr) < dr) {
                dr = (f - fr) * (f - fr);
                br = b;
            }
        }
        lo[k] = bl;
        hi[k] = br;
    }
}

/* In-place radix-2 complex FFT of size NFFT. */
static void fft512(double *re, double *im)
{
    for (int i = 1, j = 0; i < NFFT; i++) { /* bit reversal */
        int bit = NFFT >> 1;
        for (; j & bit; bit >>= 1)
            j ^= bit;
        j ^= bit;
        if (i < j) {
            double t = re[i];
            re[i] = re[j];
            re[j] = t;
            t = im[i];
            im[i] = im[j];
            im[j] = t;
        }
    }
    for (int len = 2; len <= NFFT; len <<= 1) {
        double ang = -2.0 * M_PI / len;
        for (int i = 0; i < NFFT; i += len)
            for (int k = 0; k < len / 2; k++) {
                double wr = cos(ang * k), wi = sin(ang * k);
                double *ar = re + i + k, *ai = im + i + k;
                double *br = re + i + k + len / 2, *bi = im + i + k + len / 2;
                double tr = *br * wr - *bi * wi, ti = *br * wi + *bi * wr;
                *br = *ar - tr;
                *bi = *ai - ti;
                *ar += tr;
                *ai += ti;
            }
    }
}

/* Frames starting at 0, HOP, ... below n - NF (stdft.m: 1:K:(length(x)-N)). */
static size_t n_frames(size_t n) { return n > NF ? (n - NF - 1) / HOP + 1 : 0; }

/* removeSilentFrames.m: x, y -> xs, ys (allocated, length *ns). 0 or -1 (memory). */
static int remove_silent(const double *x, const double *y, size_t n, const double *w,
                         double **xs, double **ys, size_t *ns)
{
    size_t F = n_frames(n);
    *xs = *ys = NULL;
    *ns = 0;
    double *e = malloc(sizeof(double) * (F ? F : 1));
    if (!e)
        return -1;
    double emax = -INFINITY;
    for (size_t f = 0; f < F; f++) {
        const double *p = x + f * HOP;
        double s = 0.0;
        for (int i = 0; i < NF; i++)
            s += (p[i] * w[i]) * (p[i] * w[i]);
        e[f] = 20.0 * log10(sqrt(s) / sqrt((double)NF)); /* -inf for a zero frame */
        if (e[f] > emax)
            emax = e[f];
    }
    size_t kept = 0;
    for (size_t f = 0; f < F; f++)
        if (e[f] - emax + DYN_RANGE > 0.0)
            kept++;
    if (kept == 0) {
        free(e);
        return 0;
    }
    size_t len = (kept - 1) * HOP + NF;
    *xs = calloc(len, sizeof(double));
    *ys = calloc(len, sizeof(double));
    if (!*xs || !*ys) {
        free(*xs);
        free(*ys);
        *xs = *ys = NULL;
        free(e);
        return -1;
    }
    size_t c = 0;
    for (size_t f = 0; f < F; f++) {
        if (!(e[f] - emax + DYN_RANGE > 0.0))
            continue;
        const double *px = x + f * HOP, *py = y + f * HOP;
        double *ox = *xs + c * HOP, *oy = *ys + c * HOP;
        for (int i = 0; i < NF; i++) {
            ox[i] += px[i] * w[i];
            oy[i] += py[i] * w[i];
        }
        c++;
    }
    *ns = len;
    free(e);
    return 0;
}

/* One-third-octave envelopes: out[j * M + m] = sqrt(sum over band j of |X_m(k)|^2). */
static void tob(const double *x, size_t M, const double *w, const int *lo, const int *hi,
                double *out)
{
    double re[NFFT], im[NFFT];
    for (size_t m = 0; m < M; m++) {
        const double *p = x + m * HOP;
        for (int i = 0; i < NFFT; i++) {
            re[i] = i < NF ? p[i] * w[i] : 0.0;
            im[i] = 0.0;
        }
        fft512(re, im);
        for (int j = 0; j < NB; j++) {
            double s = 0.0;
            for (int b = lo[j]; b < hi[j]; b++)
                s += re[b] * re[b] + im[b] * im[b];
            out[(size_t)j * M + m] = sqrt(s);
        }
    }
}

/* Pearson correlation of two length-SEG vectors (taa_corr.m); 0 when one is constant. */
static double corr(const double *a, const double *b)
{
    double ma = 0.0, mb = 0.0;
    for (int i = 0; i < SEG; i++) {
        ma += a[i];
        mb += b[i];
    }
    ma /= SEG;
    mb /= SEG;
    double ab = 0.0, aa = 0.0, bb = 0.0;
    for (int i = 0; i < SEG; i++) {
        double u = a[i] - ma, v = b[i] - mb;
        ab += u * v;
        aa += u * u;
        bb += v * v;
    }
    if (!(aa > 0.0) || !(bb > 0.0))
        return 0.0;
    return ab / sqrt(aa * bb);
}

/* ESTOI's normalisation of one NB x SEG segment (row-major, in place): rows to zero mean and
 * unit norm, then columns to zero mean and unit norm. Zero-norm rows/columns stay zero. */
static void row_col_normalise(double *s)
{
    for (int j = 0; j < NB; j++) {
        double *r = s + j * SEG, m = 0.0, q = 0.0;
        for (int i = 0; i < SEG; i++)
            m += r[i];
        m /= SEG;
        for (int i = 0; i < SEG; i++) {
            r[i] -= m;
            q += r[i] * r[i];
        }
        double g = q > 0.0 ? 1.0 / sqrt(q) : 0.0;
        for (int i = 0; i < SEG; i++)
            r[i] *= g;
    }
    for (int i = 0; i < SEG; i++) {
        double m = 0.0, q = 0.0;
        for (int j = 0; j < NB; j++)
            m += s[j * SEG + i];
        m /= NB;
        for (int j = 0; j < NB; j++) {
            s[j * SEG + i] -= m;
            q += s[j * SEG + i] * s[j * SEG + i];
        }
        double g = q > 0.0 ? 1.0 / sqrt(q) : 0.0;
        for (int j = 0; j < NB; j++)
            s[j * SEG + i] *= g;
    }
}

int metric_stoi_10k(const double *x, const double *y, size_t n, double *stoi, double *estoi)
{
    if (stoi)
        *stoi = NAN;
    if (estoi)
        *estoi = NAN;
    double w[NF];
    hanning(w);
    int lo[NB], hi[NB];
    band_bins(lo, hi);
    double *xs, *ys;
    size_t ns;
    if (remove_silent(x, y, n, w, &xs, &ys, &ns))
        return -1;
    const size_t M = n_frames(ns);
    if (M < SEG) { /* too short for one segment: undefined */
        free(xs);
        free(ys);
        return 0;
    }
    double *X = malloc(sizeof(double) * NB * M), *Y = malloc(sizeof(double) * NB * M);
    if (!X || !Y) {
        free(X);
        free(Y);
        free(xs);
        free(ys);
        return -1;
    }
    tob(xs, M, w, lo, hi, X);
    tob(ys, M, w, lo, hi, Y);
    free(xs);
    free(ys);

    const double clip = pow(10.0, -BETA / 20.0);
    double sum_s = 0.0, sum_e = 0.0;
    const size_t nseg = M - SEG + 1;
    double xseg[NB * SEG], yseg[NB * SEG], yp[SEG];
    for (size_t t = 0; t < nseg; t++) {
        for (int j = 0; j < NB; j++)
            for (int i = 0; i < SEG; i++) {
                xseg[j * SEG + i] = X[(size_t)j * M + t + (size_t)i];
                yseg[j * SEG + i] = Y[(size_t)j * M + t + (size_t)i];
            }
        /* STOI: scale each band of y to x's energy, clip, correlate */
        for (int j = 0; j < NB; j++) {
            const double *xr = xseg + j * SEG, *yr = yseg + j * SEG;
            double ex = 0.0, ey = 0.0;
            for (int i = 0; i < SEG; i++) {
                ex += xr[i] * xr[i];
                ey += yr[i] * yr[i];
            }
            double alpha = ey > 0.0 ? sqrt(ex / ey) : 0.0;
            for (int i = 0; i < SEG; i++) {
                double v = alpha * yr[i], lim = xr[i] * (1.0 + clip);
                yp[i] = v < lim ? v : lim;
            }
            sum_s += corr(xr, yp);
        }
        /* ESTOI: normalised segments, mean of column correlations */
        row_col_normalise(xseg);
        row_col_normalise(yseg);
        double d = 0.0;
        for (int k = 0; k < NB * SEG; k++)
            d += xseg[k] * yseg[k];
        sum_e += d / SEG;
    }
    free(X);
    free(Y);
    if (stoi)
        *stoi = sum_s / (double)(nseg * NB);
    if (estoi)
        *estoi = sum_e / (double)nseg;
    return 0;
}

int metric_stoi(const float *x, const float *y, size_t n, int fs, double *stoi, double *estoi)
{
    float *rx = NULL, *ry = NULL;
    size_t m = n;
    const float *px = x, *py = y;
    if (fs != FS) {
        size_t m2;
        char err[256];
        if (audio_resample(x, n, fs, FS, &rx, &m, err, sizeof err) ||
            audio_resample(y, n, fs, FS, &ry, &m2, err, sizeof err)) {
            free(rx);
            free(ry);
            return -1;
        }
        px = rx;
        py = ry;
    }
    double *dx = malloc(sizeof(double) * (m ? m : 1)), *dy = malloc(sizeof(double) * (m ? m : 1));
    int rc = -1;
    if (dx && dy) {
        for (size_t i = 0; i < m; i++) {
            dx[i] = px[i];
            dy[i] = py[i];
        }
        rc = metric_stoi_10k(dx, dy, m, stoi, estoi);
    }
    free(dx);
    free(dy);
    free(rx);
    free(ry);
    return rc;
}
