/* front.c - the per-bin front end of a denoiser (limpid_config.front_hidden > 0).
 *
 * One small network, shared by every bin, reads a patch of the noisy input's conditioning
 * features around each bin f and frame n: for the 2 fnb + 1 bins g = f - fnb .. f + fnb and
 * the fnt frames n - fnt + 1 .. n (causal), two values each: the bin's level above its
 * tracked noise floor (o - m) and its level (o), with o and m the LOGPOW_FLOOR features of
 * lpi_cond_features (rows [0, F) and [F, 2F)). Bins outside the spectrum and frames before
 * the item's first are zero. Input u[k], k = ((ch (2 fnb + 1)) + (g - f + fnb)) fnt + dt
 * (frame n - dt); then h1 = relu(w1 u + b1), h2 = relu(w2 h1 + b2), y = w3 h2 + b3, y[0] the
 * bin's threshold offset (added to the head's o1, see lpi_front_add) and y[1 + r] extra
 * conditioning rows 2F + r F + f that the network's cond path sees with the others; with
 * floor_gate a last output y[1 + fr], the bin's gate offset (added to the head's o3): the gate
 * then sees each bin's own patch, not only the stack's 48-channel read-out.
 *
 * The conditioning buffer of a model with a front end has Cc + F (+ F with floor_gate) rows:
 * [0, Cc) what the network reads (Cc = (2 + fr) F), [Cc, Cc + F) the threshold offsets and
 * [Cc + F, Cc + 2F) the gate offsets. Its values depend on the noisy input only, so
 * inference computes them once per block (not per sampling step), and the streaming engine
 * once per frame from a window of the last fnt frames.
 * The position order within a chunk is bin-major (p = f * nfr + j), so each bin's frames
 * are contiguous both in the patch and in the rows they come from and go to.
 */
#include "internal.h"

#include <stdlib.h>

#include "vec.h"

#define FRONT_CHUNK 64 /* frames per chunk (offline and training) */

struct lpi_front_ws {
    int P;       /* positions per chunk: F * FRONT_CHUNK (stream: F) */
    float *col;  /* [fk][P] the patches */
    float *h1;   /* [fh][P] */
    float *h2;   /* [fh][P] */
    float *y;    /* [1 + fr + fg][P] outputs, then (backward) their gradients */
    float *d1;   /* [fh][P] backward only */
    float *d2;   /* [fh][P] backward only */
    int blas;    /* products through lpi_gemm (offline, training) or plain loops (stream) */
};

size_t lpi_front_ncond_rows(const lpi_net_layout *L)
{
    return (size_t)L->Cc + (L->fh > 0 ? (size_t)(1 + L->fg) * (size_t)L->Fb : 0);
}

lpi_front_ws *lpi_front_ws_create(const lpi_net_layout *L, int train, int stream)
{
    if (!L || L->fh <= 0)
        return NULL;
    lpi_front_ws *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->P = L->Fb * (stream ? 1 : FRONT_CHUNK);
    w->blas = !stream;
    const size_t P = (size_t)w->P;
    w->col = malloc((size_t)L->fk * P * sizeof(float));
    w->h1 = malloc((size_t)L->fh * P * sizeof(float));
    w->h2 = malloc((size_t)L->fh * P * sizeof(float));
    w->y = malloc((size_t)(1 + L->fr + L->fg) * P * sizeof(float));
    if (train) {
        w->d1 = malloc((size_t)L->fh * P * sizeof(float));
        w->d2 = malloc((size_t)L->fh * P * sizeof(float));
    }
    if (!w->col || !w->h1 || !w->h2 || !w->y || (train && (!w->d1 || !w->d2))) {
        lpi_front_ws_destroy(w);
        return NULL;
    }
    return w;
}

void lpi_front_ws_destroy(lpi_front_ws *w)
{
    if (!w)
        return;
    free(w->col);
    free(w->h1);
    free(w->h2);
    free(w->y);
    free(w->d1);
    free(w->d2);
    free(w);
}

/* C[M][n] = beta C + A[M][K] B[K][n] (A row-major, B and C with leading dimension n) */
static void mm(const lpi_front_ws *w, int M, int n, int K, const float *A, const float *B,
               float beta, float *C)
{
    if (w->blas) {
        lpi_gemm(0, 0, M, n, K, 1.0f, A, K, B, n, beta, C, n);
        return;
    }
    for (int o = 0; o < M; o++) {
        float *restrict c = C + (size_t)o * n;
        if (beta == 0.0f)
            memset(c, 0, (size_t)n * sizeof *c);
        for (int k = 0; k < K; k++) {
            const float a = A[(size_t)o * K + k];
            const float *restrict b = B + (size_t)k * n;
            for (int p = 0; p < n; p++)
                c[p] += a * b[p];
        }
    }
}

/* Patches of frames [n0, n0 + nfr) of src (rows o [0, F), m [F, 2F), leading dimension lds),
 * frames before `start` zero; then h1, h2, y of the chunk. */
static void chunk_forward(const lpi_net_layout *L, const float *P, lpi_front_ws *w,
                          const float *src, size_t lds, size_t n0, int nfr, size_t start)
{
    const int F = L->Fb, nb = 2 * L->fnb + 1, nt = L->fnt, n = F * nfr;
    for (int ch = 0; ch < 2; ch++)
        for (int db = 0; db < nb; db++)
            for (int dt = 0; dt < nt; dt++) {
                float *row = w->col + (size_t)((ch * nb + db) * nt + dt) * n;
                for (int f = 0; f < F; f++) {
                    float *dst = row + (size_t)f * nfr;
                    const int g = f + db - L->fnb;
                    if (g < 0 || g >= F) {
                        memset(dst, 0, (size_t)nfr * sizeof *dst);
                        continue;
                    }
                    const float *o = src + (size_t)g * lds, *m = src + (size_t)(F + g) * lds;
                    for (int j = 0; j < nfr; j++) {
                        const size_t c = n0 + (size_t)j;
                        if (c < start + (size_t)dt) {
                            dst[j] = 0.0f;
                            continue;
                        }
                        const size_t s = c - (size_t)dt;
                        dst[j] = ch == 0 ? o[s] - m[s] : o[s];
                    }
                }
            }
    mm(w, L->fh, n, L->fk, P + L->fw1, w->col, 0.0f, w->h1);
    lpi_bias_act(w->h1, P + L->fb1, L->fh, (size_t)n, (size_t)n, 1);
    mm(w, L->fh, n, L->fh, P + L->fw2, w->h1, 0.0f, w->h2);
    lpi_bias_act(w->h2, P + L->fb2, L->fh, (size_t)n, (size_t)n, 1);
    mm(w, 1 + L->fr + L->fg, n, L->fh, P + L->fw3, w->h2, 0.0f, w->y);
    lpi_bias_act(w->y, P + L->fb3, 1 + L->fr + L->fg, (size_t)n, (size_t)n, 0);
}

/* The rows output r of the chunk goes to: the threshold offsets (r = 0), extra cond row
 * r - 1 (r = 1..fr) or the gate offsets (r = 1 + fr, with fg) */
static size_t out_row(const lpi_net_layout *L, int r)
{
    return r == 0 ? (size_t)L->Cc
           : r <= L->fr ? (size_t)(2 + r - 1) * (size_t)L->Fb
                        : (size_t)L->Cc + (size_t)L->Fb;
}

void lpi_front_forward(const lpi_net_layout *L, const float *P, lpi_front_ws *w, float *ncond,
                       size_t ld, int nb, int Lf)
{
    const int F = L->Fb;
    for (int b = 0; b < nb; b++) {
        const size_t start = (size_t)b * (size_t)Lf;
        for (int j0 = 0; j0 < Lf; j0 += FRONT_CHUNK) {
            const int nfr = Lf - j0 < FRONT_CHUNK ? Lf - j0 : FRONT_CHUNK;
            chunk_forward(L, P, w, ncond, ld, start + (size_t)j0, nfr, start);
            for (int r = 0; r <= L->fr + L->fg; r++) {
                const float *y = w->y + (size_t)r * F * nfr;
                float *dst = ncond + out_row(L, r) * ld + start + (size_t)j0;
                for (int f = 0; f < F; f++)
                    memcpy(dst + (size_t)f * ld, y + (size_t)f * nfr, (size_t)nfr * sizeof *y);
            }
        }
    }
}

void lpi_front_add(const lpi_net_layout *L, float *out, size_t ldo, const float *ncond,
                   size_t ld, size_t cols)
{
    if (L->fh <= 0)
        return;
    /* o1 rows [0, F) (and with fg, o3 rows [2F, 3F)) get rows Cc.. of ncond */
    for (int g = 0; g <= L->fg; g++)
        for (int f = 0; f < L->Fb; f++) {
            float *o = out + ((size_t)(2 * g) * L->Fb + (size_t)f) * ldo;
            const float *t = ncond + ((size_t)L->Cc + (size_t)(g * L->Fb + f)) * ld;
            for (size_t n = 0; n < cols; n++)
                o[n] += t[n];
        }
}

void lpi_front_backward(const lpi_net_layout *L, const float *P, lpi_front_ws *w,
                        const float *ncond, size_t ld, int nb, int Lf, const float *dthr,
                        size_t ldt, const float *dcond, float *G)
{
    const int F = L->Fb, fh = L->fh, ny = 1 + L->fr + L->fg;
    for (int b = 0; b < nb; b++) {
        const size_t start = (size_t)b * (size_t)Lf;
        for (int j0 = 0; j0 < Lf; j0 += FRONT_CHUNK) {
            const int nfr = Lf - j0 < FRONT_CHUNK ? Lf - j0 : FRONT_CHUNK, n = F * nfr;
            chunk_forward(L, P, w, ncond, ld, start + (size_t)j0, nfr, start);
            /* dy: row 0 from the threshold offsets' gradient (dthr rows [0, F)), rows
             * 1..fr from dcond, the gate's row from dthr's o3 rows [2F, 3F) */
            for (int r = 0; r < ny; r++) {
                float *dy = w->y + (size_t)r * n;
                const float *src = r == 0      ? dthr
                                   : r <= L->fr ? dcond + (size_t)(2 + r - 1) * F * ld
                                                : dthr + (size_t)2 * F * ldt;
                const size_t lds = r == 0 || r > L->fr ? ldt : ld;
                for (int f = 0; f < F; f++)
                    memcpy(dy + (size_t)f * nfr, src + (size_t)f * lds + start + (size_t)j0,
                           (size_t)nfr * sizeof *dy);
            }
            /* y = w3 h2 + b3 */
            lpi_gemm(0, 1, ny, fh, n, 1.0f, w->y, n, w->h2, n, 1.0f, G + L->fw3, fh);
            lpi_rowsum(w->y, G + L->fb3, ny, (size_t)n);
            lpi_gemm(1, 0, fh, n, ny, 1.0f, P + L->fw3, fh, w->y, n, 0.0f, w->d2, n);
            lpi_relu_bwd(w->d2, w->h2, G + L->fb2, fh, (size_t)n);
            /* h2 = relu(w2 h1 + b2) */
            lpi_gemm(0, 1, fh, fh, n, 1.0f, w->d2, n, w->h1, n, 1.0f, G + L->fw2, fh);
            lpi_gemm(1, 0, fh, n, fh, 1.0f, P + L->fw2, fh, w->d2, n, 0.0f, w->d1, n);
            lpi_relu_bwd(w->d1, w->h1, G + L->fb1, fh, (size_t)n);
            /* h1 = relu(w1 u + b1) */
            lpi_gemm(0, 1, fh, L->fk, n, 1.0f, w->d1, n, w->col, n, 1.0f, G + L->fw1, L->fk);
        }
    }
}

void lpi_front_frame(const lpi_net_layout *L, const float *P, lpi_front_ws *w, float *win,
                     float *ncond)
{
    const int F = L->Fb, nt = L->fnt;
    /* win [2F][nt]: the last nt frames of rows o and m, the newest in column nt - 1; the
     * caller has just written the newest into ncond rows [0, 2F) and zeroed win before its
     * first frame */
    for (int r = 0; r < 2 * F; r++) {
        float *row = win + (size_t)r * nt;
        memmove(row, row + 1, (size_t)(nt - 1) * sizeof *row);
        row[nt - 1] = ncond[r];
    }
    /* before the first frame the window holds zeros: the batch path's zero padding */
    chunk_forward(L, P, w, win, (size_t)nt, (size_t)nt - 1, 1, 0);
    for (int r = 0; r <= L->fr + L->fg; r++)
        memcpy(ncond + out_row(L, r), w->y + (size_t)r * F, (size_t)F * sizeof *ncond);
}
