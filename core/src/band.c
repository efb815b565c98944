/* band.c - the band-resolved stack (limpid_config.bands > 0): the WaveNet of net.c run over
 * (item, band) pairs, so that each band gets its own decision from its own inputs while the
 * weights are shared by the bands.
 *
 * Bands. NB triangles over the F bins with centres c_0 = 0 < c_1 < ... < c_{NB-1} = F - 1
 * spaced evenly on the ERB-rate scale (21.4 log10(1 + 0.00437 Hz)), rounded to bins and at
 * least one bin apart. Bin f in [c_k, c_{k+1}) belongs to band k with weight w0 = (c_{k+1} -
 * f) / (c_{k+1} - c_k) and to band k + 1 with 1 - w0, so the weights of every bin sum to 1.
 *
 * Inputs of the stack, per item b, band k and frame n (inner column (b NB + k) Lf + n):
 *   x' (1 row)    lev(x_t)_k: the band level of the diffusion state x_t
 *   cond' (Cc' = 2 (2R + 1) + 2 NB rows):
 *     [0, 2R+1)           lev(noisy)_{k+j}, j = -R..R (band index clamped to 0..NB-1)
 *     [2R+1, 2(2R+1))     lev(floor)_{k+j}, the same for the tracked noise floor
 *     [2(2R+1), +NB)      one-hot of k (the band's own bias)
 *     [2(2R+1)+NB, +NB)   lev(noisy)_0 .. lev(noisy)_{NB-1}: the whole frame's shape
 *   with lev(.)_k = (ln(E_k + 1e-6) + 6) / 3 (the scaling of the per-bin log-power rows) and
 *   E_k the weighted mean over the band's bins of the compressed power (re^2 + im^2 of x_t;
 *   for the noisy input and the floor, exp(3 v - 6) of their per-bin rows v).
 * Output: Co' = Co / F rows per band (the head's o1, g2 and, gated, o3), spread to the bins
 * by the same triangles: out[r F + f] = w0 o'_{k0} + (1 - w0) o'_{k0+1}. The head and every
 * loss then see per-bin rows as from the plain stack. Backward takes d out to d o' through
 * the transposed spread; no gradient flows to the inputs (they are data, not parameters). */
#include "internal.h"

#include <stdlib.h>

struct lpi_band {
    int NB, R, F;
    int *k0;      /* [F] lower band of each bin */
    float *w0;    /* [F] its weight; band k0 + 1 gets 1 - w0 */
    float *inorm; /* [NB] 1 / the band's weight sum */
    int *centre;  /* [NB] centre bins */
};

static double erb_rate(double hz) { return 21.4 * log10(1.0 + 0.00437 * hz); }

int lpi_band_cond_rows(int NB, int R) { return 2 * (2 * R + 1) + 2 * NB; }

lpi_band *lpi_band_create(int F, int NB, int R, double nyquist_hz)
{
    if (F < 2 || NB < 2 || NB > F || R < 0)
        return NULL;
    lpi_band *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->NB = NB; b->R = R; b->F = F;
    b->k0 = malloc((size_t)F * sizeof *b->k0);
    b->w0 = malloc((size_t)F * sizeof *b->w0);
    b->inorm = calloc((size_t)NB, sizeof *b->inorm);
    b->centre = malloc((size_t)NB * sizeof *b->centre);
    if (!b->k0 || !b->w0 || !b->inorm || !b->centre) {
        lpi_band_destroy(b);
        return NULL;
    }
    const double top = erb_rate(nyquist_hz);
    for (int k = 0; k < NB; k++) {
        const double e = top * k / (NB - 1);
        const double hz = (pow(10.0, e / 21.4) - 1.0) / 0.00437;
        b->centre[k] = (int)lround(hz / nyquist_hz * (F - 1));
    }
    b->centre[0] = 0;
    b->centre[NB - 1] = F - 1;
    for (int k = 1; k < NB; k++) /* at least one bin apart, from the bottom ... */
        if (b->centre[k] < b->centre[k - 1] + 1)
            b->centre[k] = b->centre[k - 1] + 1;
    b->centre[NB - 1] = F - 1;
    for (int k = NB - 2; k >= 0; k--) /* ... and from the top (NB <= F: both hold) */
        if (b->centre[k] > b->centre[k + 1] - 1)
            b->centre[k] = b->centre[k + 1] - 1;
    for (int k = 0; k + 1 < NB; k++) {
        const int c0 = b->centre[k], c1 = b->centre[k + 1];
        for (int f = c0; f < c1; f++) {
            b->k0[f] = k;
            b->w0[f] = (float)(c1 - f) / (float)(c1 - c0);
        }
    }
    b->k0[F - 1] = NB - 2;
    b->w0[F - 1] = 0.0f;
    double *sum = calloc((size_t)NB, sizeof *sum);
    if (!sum) {
        lpi_band_destroy(b);
        return NULL;
    }
    for (int f = 0; f < F; f++) {
        sum[b->k0[f]] += b->w0[f];
        sum[b->k0[f] + 1] += 1.0 - b->w0[f];
    }
    for (int k = 0; k < NB; k++)
        b->inorm[k] = (float)(1.0 / sum[k]); /* every centre has weight 1 in its own band */
    free(sum);
    return b;
}

void lpi_band_destroy(lpi_band *b)
{
    if (!b)
        return;
    free(b->k0);
    free(b->w0);
    free(b->inorm);
    free(b->centre);
    free(b);
}

void lpi_band_weights(const lpi_band *b, int f, int *k0, float *w0)
{
    *k0 = b->k0[f];
    *w0 = b->w0[f];
}

int lpi_band_centre(const lpi_band *b, int k) { return b->centre[k]; }

static inline float lev(float e) { return (logf(e + 1e-6f) + 6.0f) * (1.0f / 3.0f); }
static inline float unlev(float v) { return expf(3.0f * v - 6.0f); }

/* acc[k][nc] = the weighted mean over band k's bins of rows' power at each column: from the
 * complex rows (re rows [0, F), im rows [F, 2F)) when cplx, else from the log rows v as
 * exp(3 v - 6); then turned into levels in place */
static void band_levels(const lpi_band *b, const float *rows, size_t ld, int cplx, size_t nc,
                        float *acc)
{
    const int F = b->F, NB = b->NB;
    memset(acc, 0, (size_t)NB * nc * sizeof *acc);
    for (int f = 0; f < F; f++) {
        float *a0 = acc + (size_t)b->k0[f] * nc, *a1 = a0 + nc;
        const float w0 = b->w0[f], w1 = 1.0f - w0;
        const float *re = rows + (size_t)f * ld;
        if (cplx) {
            const float *im = rows + (size_t)(F + f) * ld;
            for (size_t j = 0; j < nc; j++) {
                const float p = re[j] * re[j] + im[j] * im[j];
                a0[j] += w0 * p;
                a1[j] += w1 * p;
            }
        } else {
            for (size_t j = 0; j < nc; j++) {
                const float p = unlev(re[j]);
                a0[j] += w0 * p;
                a1[j] += w1 * p;
            }
        }
    }
    for (int k = 0; k < NB; k++) {
        float *a = acc + (size_t)k * nc;
        const float s = b->inorm[k];
        for (size_t j = 0; j < nc; j++)
            a[j] = lev(a[j] * s);
    }
}

size_t lpi_band_scratch(const lpi_band *b, size_t nc) { return (size_t)3 * b->NB * nc; }

void lpi_band_inputs(const lpi_band *b, const float *x, const float *cond, int B, int Lf,
                     float *bx, float *bc, float *scratch)
{
    const int F = b->F, NB = b->NB, R = b->R, W = 2 * R + 1;
    const size_t nc = (size_t)B * Lf, ncb = nc * NB;
    float *lx = scratch, *lp = scratch + (size_t)NB * nc, *lm = lp + (size_t)NB * nc;
    if (x)
        band_levels(b, x, nc, 1, nc, lx);
    if (bc) {
        band_levels(b, cond, nc, 0, nc, lp);
        band_levels(b, cond + (size_t)F * nc, nc, 0, nc, lm);
    }
    for (int bi = 0; bi < B; bi++)
        for (int k = 0; k < NB; k++) {
            const size_t o = ((size_t)bi * NB + k) * Lf, i = (size_t)bi * Lf;
            if (x)
                memcpy(bx + o, lx + (size_t)k * nc + i, (size_t)Lf * sizeof *bx);
            if (!bc)
                continue;
            for (int j = -R; j <= R; j++) {
                const int kk = k + j < 0 ? 0 : k + j >= NB ? NB - 1 : k + j;
                memcpy(bc + (size_t)(j + R) * ncb + o, lp + (size_t)kk * nc + i,
                       (size_t)Lf * sizeof *bc);
                memcpy(bc + (size_t)(W + j + R) * ncb + o, lm + (size_t)kk * nc + i,
                       (size_t)Lf * sizeof *bc);
            }
            for (int kk = 0; kk < NB; kk++) {
                float *oh = bc + (size_t)(2 * W + kk) * ncb + o;
                const float v = kk == k ? 1.0f : 0.0f;
                for (int n = 0; n < Lf; n++)
                    oh[n] = v;
                memcpy(bc + (size_t)(2 * W + NB + kk) * ncb + o, lp + (size_t)kk * nc + i,
                       (size_t)Lf * sizeof *bc);
            }
        }
}

void lpi_band_spread(const lpi_band *b, int rows, const float *bo, int B, int Lf, float *out)
{
    const int F = b->F, NB = b->NB;
    const size_t nc = (size_t)B * Lf, ncb = nc * NB;
    for (int r = 0; r < rows; r++)
        for (int f = 0; f < F; f++) {
            float *o = out + ((size_t)r * F + f) * nc;
            const float w0 = b->w0[f], w1 = 1.0f - w0;
            for (int bi = 0; bi < B; bi++) {
                const float *s0 = bo + (size_t)r * ncb + ((size_t)bi * NB + b->k0[f]) * Lf;
                const float *s1 = s0 + Lf;
                float *ob = o + (size_t)bi * Lf;
                for (int n = 0; n < Lf; n++)
                    ob[n] = w0 * s0[n] + w1 * s1[n];
            }
        }
}

void lpi_band_spread_bwd(const lpi_band *b, int rows, const float *dout, int B, int Lf,
                         float *dbo)
{
    const int F = b->F, NB = b->NB;
    const size_t nc = (size_t)B * Lf, ncb = nc * NB;
    memset(dbo, 0, (size_t)rows * ncb * sizeof *dbo);
    for (int r = 0; r < rows; r++)
        for (int f = 0; f < F; f++) {
            const float *d = dout + ((size_t)r * F + f) * nc;
            const float w0 = b->w0[f], w1 = 1.0f - w0;
            for (int bi = 0; bi < B; bi++) {
                float *s0 = dbo + (size_t)r * ncb + ((size_t)bi * NB + b->k0[f]) * Lf;
                float *s1 = s0 + Lf;
                const float *db = d + (size_t)bi * Lf;
                for (int n = 0; n < Lf; n++) {
                    s0[n] += w0 * db[n];
                    s1[n] += w1 * db[n];
                }
            }
        }
}
