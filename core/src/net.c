/* net.c - forward and backward passes of the 1-D WaveNet stack (parameter table and
 * equations: internal.h).
 *
 * Data layout. Every activation is channel-major with the B items side by side:
 * T[rows][nc], nc = B*Lf, item b in columns [b*Lf, (b+1)*Lf). Buffers are allocated for
 * Bmax*Lmax columns and used with leading dimension nc = B*Lf of the call, so every matrix
 * product is one sgemm with N = nc.
 *
 * Per layer i (dilation d, shift la), with c = relu(cond.w cond + cond.b) when conditioned:
 *   col = [taps; c]: col[k*C + ch][n] = y[ch][n + la - (2-k)d] (0 outside the item),
 *         y = h + p_b, and rows 3C..4C hold c                          [3C (+C)][nc]
 *   a = [dil.w | cnd.w] col    one sgemm, K = 3C (4C)                   [2C][nc]
 *   z = tanh(a[0:C] + dil.b) * sigmoid(a[C:2C] + dil.b)                 [C][nc]
 *   [h; skip] += out.w z       one sgemm with beta = 1 into the residual stream, which is
 *                              kept as one [2C][nc] block: h on top, the skip sum below
 *   h = (h + out.b[0:C]) / sqrt2
 * The skip halves of out.b are summed into bsum[C] and enter once, through the skip layer's
 * bias: s = relu(skip.w skip / sqrt(N) + skip.b + skip.w bsum / sqrt(N)).
 * The last layer's residual half feeds nothing (its gradient is zero), so the last layer
 * only computes its skip half: same outputs, one C*C*nc product less.
 * Compared with r = out.w z into a buffer and a pass that adds it, this saves a zero fill,
 * a read of r and a read-modify-write of skip per layer (sgemm with beta = 0 clears C first);
 * the cond product rides in the dilated one (c is the same for every layer), saving a pass
 * over a. The output gets its bias before the product (beta = 1) for the same reason.
 *
 * Workspace. Inference (train == 0) keeps the residual stream, one col and one a, and reuses
 * them for every layer: 7C (8C with cond) rows of nc floats, plus [2C][4C] packed weights.
 * Training keeps in addition what backward needs:
 *   hs[N][C]      input h of every layer (copied while building col); col is rebuilt from it
 *   gs[N][2C]     tanh and sigmoid gate outputs (z = tanh*sigmoid is recomputed)
 *   s[C]          relu(skip ...); the skip sum stays in the residual stream; c in col
 *   x[Cx], cond[Cc] copies of the inputs (the caller may reuse its buffers before backward)
 *   the step-embedding activations and the per-layer embedding projections p[N][B][C]
 * and scratch: dr[2C], da[2C], db[3C (+C)] (d col; its last C rows accumulate d c).
 *
 * Elementwise loops use GCC vector extensions (16 floats) compiled for AVX-512, AVX2 and
 * baseline x86-64 (target_clones, picked at load time); the gate gets tanh and sigmoid from
 * a polynomial exp (Cephes expf, ~2 ulp) and one division, absolute error < 3e-7. */
#include "internal.h"

#include <assert.h>
#include <limits.h>
#include <stdlib.h>

#include "vec.h"

static const float k_inv_sqrt2 = 0.70710678118654752f;

/* ------------------------------------------------------------------------ */
/* Elementwise kernels. Rows of length n at stride ld unless said otherwise. */


/* Gated activation: a[2C][n] (ld n) holds [dil.w | cnd.w] col without bias.
 * z = tanh(a_t + b_t) * sigmoid(a_s + b_s) overwrites a[0:C]; T, S (train) get the gates.
 * With E1 = exp(-2 a_t), E2 = exp(-a_s): tanh = (1 - E1) / (1 + E1), sigmoid = 1 / (1 + E2),
 * so one division r = 1 / ((1 + E1)(1 + E2)) gives z = (1 - E1) r, T = (1 - E1)(1 + E2) r,
 * S = (1 + E1) r. Arguments are clamped to +-40 (tanh(20) and sigmoid(40) round to 1 in
 * float; the product stays below 6e34); absolute error < 3e-7. Rows c0..c1-1 of the C. */
LPI_CLONES static void k_gate_fwd(float *restrict a, const float *restrict bias, int C, size_t n,
                                  float *restrict T, float *restrict S, int c0, int c1)
{
    for (int c = c0; c < c1; c++) {
        float *pt = a + (size_t)c * n;
        const float *ps = a + (size_t)(C + c) * n;
        const float bt = bias[c], bs = bias[C + c];
        size_t j = 0;
        if (T) {
            /* z = T*S exactly as backward recomputes it */
            float *Tr = T + (size_t)c * n, *Sr = S + (size_t)c * n;
            for (; j + VW <= n; j += VW) {
                GATE_BODY(pt + j, ps + j, bt, bs);
                lpi_vf th = m_ * u_ * r_, sg = q_ * r_;
                VST(Tr + j, th);
                VST(Sr + j, sg);
                VST(pt + j, th * sg);
            }
            if (j < n) {
                /* tail through a padded block so every element gets the same arithmetic */
                float ta[VW] = {0}, tb[VW] = {0};
                size_t m = n - j;
                memcpy(ta, pt + j, m * sizeof *ta);
                memcpy(tb, ps + j, m * sizeof *tb);
                GATE_BODY(ta, tb, bt, bs);
                lpi_vf th = m_ * u_ * r_, sg = q_ * r_, zz = th * sg;
                VST(ta, th);
                VST(tb, sg);
                memcpy(Tr + j, ta, m * sizeof *ta);
                memcpy(Sr + j, tb, m * sizeof *tb);
                VST(ta, zz);
                memcpy(pt + j, ta, m * sizeof *ta);
            }
        } else {
            for (; j + VW <= n; j += VW) {
                GATE_BODY(pt + j, ps + j, bt, bs);
                VST(pt + j, m_ * r_);
            }
            if (j < n) {
                float ta[VW] = {0}, tb[VW] = {0};
                size_t m = n - j;
                memcpy(ta, pt + j, m * sizeof *ta);
                memcpy(tb, ps + j, m * sizeof *tb);
                GATE_BODY(ta, tb, bt, bs);
                VST(ta, m_ * r_);
                memcpy(pt + j, ta, m * sizeof *ta);
            }
        }
    }
}

/* h[C][n] = (h + b) / sqrt2 */
LPI_CLONES static void k_residual(float *restrict h, const float *restrict b, int C, size_t n)
{
    for (int c = 0; c < C; c++) {
        float *p = h + (size_t)c * n;
        const float bb = b[c];
        size_t j = 0;
        for (; j + VW <= n; j += VW)
            VST(p + j, (VLD(p + j) + bb) * k_inv_sqrt2);
        for (; j < n; j++)
            p[j] = (p[j] + bb) * k_inv_sqrt2;
    }
}

/* y[r][:] = b[r] */
LPI_CLONES static void k_fill_rows(float *restrict y, const float *restrict b, int rows, size_t n)
{
    for (int r = 0; r < rows; r++) {
        float *p = y + (size_t)r * n;
        const lpi_vf v = VSET(b[r]);
        size_t j = 0;
        for (; j + VW <= n; j += VW)
            VST(p + j, v);
        for (; j < n; j++)
            p[j] = b[r];
    }
}

/* The frames j of an item whose tap reads frame j + o inside it: [lo, hi) */
static void tap_span(int o, int Lf, int *lo, int *hi)
{
    *lo = o < 0 ? -o : 0;
    *hi = o > 0 ? Lf - o : Lf;
    if (*lo > Lf)
        *lo = Lf;
    if (*hi < *lo)
        *hi = *lo;
}

/* One tap row of im2col: row[b*Lf + j] = src[b*Lf + j + o] + pv[b * C] where frame j + o is
 * inside item b, else 0. */
LPI_CLONES static void k_tap_row(float *restrict row, const float *restrict src,
                                 const float *restrict pv, int C, int B, int Lf, int o)
{
    int lo, hi;
    tap_span(o, Lf, &lo, &hi);
    for (int b = 0; b < B; b++) {
        float *dst = row + (size_t)b * Lf;
        const float *s = src + (size_t)b * Lf; /* dst[j] reads s[j + o], j in [lo, hi) */
        const float p = pv[(size_t)b * C];
        int j = 0;
        for (; j < lo; j++)
            dst[j] = 0.0f;
        for (; j + VW <= hi; j += VW)
            VST(dst + j, VLD(s + (j + o)) + p);
        for (; j < hi; j++)
            dst[j] = s[j + o] + p;
        for (; j < Lf; j++)
            dst[j] = 0.0f;
    }
}

/* col[3C][nc] from y = h + p (p[b][c] per item), dilation d, shift la; zero outside items.
 * save (may be NULL) gets a copy of h. Channel-outer, so each row of h is read from cache. */
static void k_im2col(float *restrict col, const float *restrict h, const float *restrict p,
                     float *restrict save, int C, int B, int Lf, int d, int la)
{
    const size_t nc = (size_t)B * Lf;
    for (int c = 0; c < C; c++) {
        const float *src = h + (size_t)c * nc;
        if (save)
            memcpy(save + (size_t)c * nc, src, nc * sizeof *src);
        for (int k = 0; k < 3; k++) /* output frame n reads frame n + la - (2 - k) d */
            k_tap_row(col + (size_t)(k * C + c) * nc, src, p + c, C, B, Lf, la - (2 - k) * d);
    }
}

/* im2col's 3C rows straight into AMX's packed layout (lpi_amx_pack_pair): pair row k C/2 + q
 * = channels 2q and 2q+1 of tap k (C even). Each pair of channels of y = h + p is converted
 * once, into the tap that reads frame n itself (offset 0: there is one, la is 0 or d), through
 * tmp[2][nc] (cached); the other two taps are shifted copies of its bf16 pairs. */
static void k_im2col_bf16(uint16_t *colb, const float *restrict h, const float *restrict p,
                          int C, int B, int Lf, int d, int la, float *tmp)
{
    const size_t nc = (size_t)B * Lf;
    const int Np = lpi_amx_pad16((int)nc);
    const int kz = 2 - la / d; /* the tap with offset 0 */
    for (int q = 0; q < C / 2; q++) {
        k_tap_row(tmp, h + (size_t)(2 * q) * nc, p + 2 * q, C, B, Lf, 0);
        k_tap_row(tmp + nc, h + (size_t)(2 * q + 1) * nc, p + 2 * q + 1, C, B, Lf, 0);
        const uint32_t *src = (const uint32_t *)(colb + ((size_t)kz * C / 2 + q) * Np * 2);
        lpi_amx_pack_pair(tmp, tmp + nc, (int)nc, (uint16_t *)src, Np);
        for (int k = 0; k < 3; k++) {
            if (k == kz)
                continue;
            const int o = la - (2 - k) * d; /* frame n reads frame n + o of its item */
            uint32_t *dst = (uint32_t *)(colb + ((size_t)k * C / 2 + q) * Np * 2);
            int lo, hi;
            tap_span(o, Lf, &lo, &hi);
            for (int b = 0; b < B; b++) {
                uint32_t *dr = dst + (size_t)b * Lf;
                const uint32_t *sr = src + (size_t)b * Lf;
                memset(dr, 0, (size_t)lo * sizeof *dr);
                memcpy(dr + lo, sr + lo + o, (size_t)(hi - lo) * sizeof *dr);
                memset(dr + hi, 0, (size_t)(Lf - hi) * sizeof *dr);
            }
            memset(dst + nc, 0, (size_t)(Np - (int)nc) * sizeof *dst);
        }
    }
}

/* Backward of im2col: dy = sum of the taps of dcol (dcol is used as scratch),
 * dp[b][c] = sum of dy over item b, top = ((first ? 0 : top) + dy) * scale. */
LPI_CLONES static void k_col2im(float *restrict top, float *restrict dcol, float *restrict dp,
                                int C, int B, int Lf, int d, int la, float scale, int first)
{
    const size_t nc = (size_t)B * Lf;
    const int kz = 2 - la / d; /* the tap with offset 0 (la is 0 or d) */
    for (int c = 0; c < C; c++) {
        float *acc_row = dcol + (size_t)(kz * C + c) * nc;
        float *trow = top + (size_t)c * nc;
        for (int b = 0; b < B; b++) {
            float *acc = acc_row + (size_t)b * Lf;
            for (int k = 0; k < 3; k++) {
                if (k == kz)
                    continue;
                const int o = la - (2 - k) * d;
                /* dy[m] += dcol_k[m - o] for 0 <= m - o < Lf */
                int lo = o > 0 ? o : 0, hi = o < 0 ? Lf + o : Lf;
                if (lo >= hi)
                    continue;
                const float *s = dcol + (size_t)(k * C + c) * nc + (size_t)b * Lf;
                int j = lo;
                for (; j + VW <= hi; j += VW)
                    VST(acc + j, VLD(acc + j) + VLD(s + (j - o)));
                for (; j < hi; j++)
                    acc[j] += s[j - o];
            }
            float *tr = trow + (size_t)b * Lf;
            lpi_vf vs = VSET(0.0f);
            float ss = 0.0f;
            int j = 0;
            if (first) {
                for (; j + VW <= Lf; j += VW) {
                    lpi_vf v = VLD(acc + j);
                    vs += v;
                    VST(tr + j, v * scale);
                }
                for (; j < Lf; j++) {
                    ss += acc[j];
                    tr[j] = acc[j] * scale;
                }
            } else {
                for (; j + VW <= Lf; j += VW) {
                    lpi_vf v = VLD(acc + j);
                    vs += v;
                    VST(tr + j, (VLD(tr + j) + v) * scale);
                }
                for (; j < Lf; j++) {
                    ss += acc[j];
                    tr[j] = (tr[j] + acc[j]) * scale;
                }
            }
            dp[(size_t)b * C + c] = VHSUM(vs) + ss;
        }
    }
}

/* Backward of the gate: z = T*S (written), da_t = dz*S*(1-T^2), da_s = dz*T*S*(1-S);
 * dbias[0:2C] += row sums of da. */
LPI_CLONES static void k_gate_bwd(const float *restrict dz, const float *restrict T,
                                  const float *restrict S, float *restrict z,
                                  float *restrict da, float *restrict dbias, int C, size_t n)
{
    for (int c = 0; c < C; c++) {
        size_t o = (size_t)c * n;
        const float *pdz = dz + o, *pt = T + o, *ps = S + o;
        float *pz = z + o, *pat = da + o, *pas = da + (size_t)C * n + o;
        lpi_vf st = VSET(0.0f), sv = VSET(0.0f);
        float st1 = 0.0f, ss1 = 0.0f;
        size_t j = 0;
        for (; j + VW <= n; j += VW) {
            lpi_vf g = VLD(pdz + j), t = VLD(pt + j), s = VLD(ps + j);
            lpi_vf gs = g * s;
            lpi_vf at = gs * (1.0f - t * t);
            lpi_vf as = gs * t * (1.0f - s);
            VST(pz + j, t * s);
            VST(pat + j, at);
            VST(pas + j, as);
            st += at;
            sv += as;
        }
        for (; j < n; j++) {
            float g = pdz[j], t = pt[j], s = ps[j];
            float gs = g * s;
            float at = gs * (1.0f - t * t);
            float as = gs * t * (1.0f - s);
            pz[j] = t * s;
            pat[j] = at;
            pas[j] = as;
            st1 += at;
            ss1 += as;
        }
        dbias[c] += VHSUM(st) + st1;
        dbias[C + c] += VHSUM(sv) + ss1;
    }
}



/* ------------------------------------------------------------------------ */
/* Workspace */

struct lpi_net_ws {
    int C, N, E, H, Cx, Cc, Co, K; /* the layout it was made for */
    int Bmax, Lmax, train;
    int B, Lf;   /* of the last forward */
    int ready;   /* a training forward has run */
    void *mem;   /* one allocation holds every buffer below */
    /* [rows][nc] activations */
    float *hsk;  /* [2C] residual stream: h, then the skip sum */
    float *col;  /* [3C (+C)] im2col taps, then c when Cc > 0; inference: also s */
    float *a;    /* [2C] pre-activations, z in the top half; backward: dz | z, ds */
    float *hs;   /* train: [N][C] input h of every layer */
    float *g;    /* train: [N][2C] tanh | sigmoid */
    float *s;    /* train: [C] relu(skip layer) */
    float *x;    /* train: [Cx] copy of x */
    float *cond; /* train: [Cc] copy of cond */
    float *dr;   /* train: [2C] d r: top = dh_{i+1}/sqrt2, bottom = d skip */
    float *da;   /* train: [2C] d a */
    float *db;   /* train: [3C (+C)] d col, then d c accumulated over the layers */
    /* small */
    float *wp;   /* [2C][4C] [dil.w | cnd.w] of one layer (Cc > 0) */
    float *wsnr; /* inference with cond_snr (L->Fs > 0): [C][Cc] cond.w folded (snr_fold) */
    float *gwp;  /* train: [2C][4C] its gradient for one layer */
    float *code; /* [B][E] */
    float *u1, *e1, *u2, *em; /* [B][H]: fc1 pre-act, silu, fc2 pre-act, final embedding */
    float *p;    /* [N][B][C] per-layer projections emb.w e + emb.b */
    float *dem, *du; /* [B][H] */
    float *dp;   /* [B][C] */
    float *bsum; /* [C] sum of the skip halves of out.b */
    float *beff; /* [C] skip.b + skip.w bsum / sqrt(N) */
    float *dskip_sum; /* [C] */
    float *dsrow; /* [C] */
    double *freq; /* [E/2] sinusoid frequencies 10^(4j/(E/2-1)) */
    int *cls;    /* [B] */
    void *amx;   /* inference with bf16 products (lpi_net_ws_use_bf16): packing scratch */
    uint16_t *colb; /* with amx and C even: the dilated layers' input in AMX's packed layout
                       (k_im2col_bf16; the conditioning's pair rows packed once per cond) */
    int cache_cond; /* inference: keep c between forwards until lpi_net_cond_changed */
    int cond_stale;
    int cond_nc;
    /* band-resolved stack (L->band): the stack's own workspace for B NB items and its
     * inputs and outputs (band.c); every buffer above is unused */
    lpi_net_ws *inner;
    float *bx, *bc, *bo; /* [1], [Cc'], [Co'] rows of B NB Lmax columns */
    float *bt;           /* [B NB] each item's step, repeated per band */
    float *bscr;         /* lpi_band_scratch */
};

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

static lpi_net_ws *band_ws_create(const lpi_net_layout *L, int B, int Lmax, int train)
{
    const lpi_band_net *bn = L->band;
    const size_t cap = (size_t)B * (size_t)Lmax, capb = cap * (size_t)bn->NB;
    if (capb > (size_t)INT_MAX)
        return NULL;
    lpi_net_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        return NULL;
    ws->C = L->C; ws->N = L->N; ws->E = L->E; ws->H = L->H;
    ws->Cx = L->Cx; ws->Cc = L->Cc; ws->Co = L->Co; ws->K = L->K;
    ws->Bmax = B; ws->Lmax = Lmax; ws->train = train != 0;
    ws->inner = lpi_net_ws_create(&bn->in, B * bn->NB, Lmax, train);
    ws->bx = malloc(capb * sizeof *ws->bx);
    ws->bc = malloc((size_t)bn->in.Cc * capb * sizeof *ws->bc);
    ws->bo = malloc((size_t)bn->in.Co * capb * sizeof *ws->bo);
    ws->bt = malloc((size_t)B * bn->NB * sizeof *ws->bt);
    ws->bscr = malloc(lpi_band_scratch(bn->bands, cap) * sizeof *ws->bscr);
    if (!ws->inner || !ws->bx || !ws->bc || !ws->bo || !ws->bt || !ws->bscr) {
        lpi_net_ws_destroy(ws);
        return NULL;
    }
    return ws;
}

lpi_net_ws *lpi_net_ws_create(const lpi_net_layout *L, int B, int Lmax, int train)
{
    if (!L || B < 1 || Lmax < 1)
        return NULL;
    if (L->band)
        return band_ws_create(L, B, Lmax, train);
    lpi_net_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        return NULL;
    const int C = L->C, N = L->N, E = L->E, H = L->H;
    ws->C = C; ws->N = N; ws->E = E; ws->H = H;
    ws->Cx = L->Cx; ws->Cc = L->Cc; ws->Co = L->Co; ws->K = L->K;
    ws->Bmax = B; ws->Lmax = Lmax; ws->train = train != 0;
    const size_t cap = (size_t)B * (size_t)Lmax; /* columns */
    if (cap > (size_t)INT_MAX) { /* sgemm dimensions are int */
        free(ws);
        return NULL;
    }
    const int cc = L->Cc > 0;
    const size_t kc = (size_t)(cc ? 4 : 3) * C; /* rows of col */

    /* Two passes: the first sizes the block, the second hands out pointers. */
    size_t total = 0;
    char *base = NULL;
    for (int pass = 0; pass < 2; pass++) {
        size_t off = 0;
#define TAKE(ptr, nfloats)                                                               \
    do {                                                                                 \
        size_t nf_ = (nfloats);                                                          \
        (ptr) = (pass && nf_) ? (void *)(base + off * sizeof(float)) : NULL;             \
        off += round16(nf_);                                                             \
    } while (0)
        TAKE(ws->hsk, (size_t)2 * C * cap);
        TAKE(ws->col, kc * cap);
        TAKE(ws->a, (size_t)2 * C * cap);
        if (ws->train) {
            TAKE(ws->hs, (size_t)N * C * cap);
            TAKE(ws->g, (size_t)N * 2 * C * cap);
            TAKE(ws->s, (size_t)C * cap);
            TAKE(ws->x, (size_t)L->Cx * cap);
            TAKE(ws->cond, (size_t)L->Cc * cap);
            TAKE(ws->dr, (size_t)2 * C * cap);
            TAKE(ws->da, (size_t)2 * C * cap);
            TAKE(ws->db, kc * cap);
            TAKE(ws->gwp, cc ? (size_t)2 * C * 4 * C : 0);
        }
        TAKE(ws->wp, cc ? (size_t)2 * C * 4 * C : 0);
        TAKE(ws->wsnr, !ws->train && L->Fs > 0 ? (size_t)C * L->Cc : 0);
        TAKE(ws->code, (size_t)B * E);
        TAKE(ws->u1, (size_t)B * H);
        TAKE(ws->e1, (size_t)B * H);
        TAKE(ws->u2, (size_t)B * H);
        TAKE(ws->em, (size_t)B * H);
        TAKE(ws->p, (size_t)N * B * C);
        TAKE(ws->dem, (size_t)B * H);
        TAKE(ws->du, (size_t)B * H);
        TAKE(ws->dp, (size_t)B * C);
        TAKE(ws->bsum, (size_t)C);
        TAKE(ws->beff, (size_t)C);
        TAKE(ws->dskip_sum, (size_t)C);
        TAKE(ws->dsrow, (size_t)C);
        TAKE(ws->cls, (size_t)B); /* int and float are both 4 bytes */
        TAKE(ws->freq, (size_t)E); /* E/2 doubles; every offset is 64-byte aligned */
#undef TAKE
        if (pass == 0) {
            total = off * sizeof(float);
            if (posix_memalign(&ws->mem, 64, total) != 0) {
                free(ws);
                return NULL;
            }
            /* zeroed once so that no buffer ever holds uninitialised bits */
            memset(ws->mem, 0, total);
            base = ws->mem;
        }
    }
    for (int j = 0; j < E / 2; j++)
        ws->freq[j] = pow(10.0, 4.0 * j / (double)(E / 2 - 1));
    return ws;
}

void lpi_net_ws_destroy(lpi_net_ws *ws)
{
    if (!ws)
        return;
    free(ws->amx);
    free(ws->colb);
    free(ws->mem);
    lpi_net_ws_destroy(ws->inner);
    free(ws->bx);
    free(ws->bc);
    free(ws->bo);
    free(ws->bt);
    free(ws->bscr);
    free(ws);
}

limpid_status lpi_net_ws_use_bf16(lpi_net_ws *ws, int on)
{
    if (!ws || ws->train)
        return LIMPID_ERR_INVALID;
    if (ws->inner)
        return lpi_net_ws_use_bf16(ws->inner, on);
    if (!on) {
        free(ws->amx);
        free(ws->colb);
        ws->amx = NULL;
        ws->colb = NULL;
        return LIMPID_OK;
    }
    if (!lpi_amx_available())
        return LIMPID_ERR_UNSUPPORTED;
    if (ws->amx)
        return LIMPID_OK;
    /* the largest of the forward's products: in, cond, dilated (+ cnd), out, skip, final */
    const int C = ws->C, nc = ws->Bmax * ws->Lmax, kc = (ws->Cc > 0 ? 4 : 3) * C;
    const int shapes[][2] = {{C, ws->Cx}, {C, ws->Cc}, {2 * C, kc}, {2 * C, C}, {ws->Co, C}};
    size_t need = lpi_amx_pairs_scratch(ws->Co / 2, nc, C); /* lpi_net_forward_head */
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        size_t b = lpi_amx_scratch(shapes[i][0], nc, shapes[i][1] > 0 ? shapes[i][1] : 1);
        if (b > need)
            need = b;
    }
    ws->amx = malloc(need);
    if (!ws->amx)
        return LIMPID_ERR_NOMEM;
    if (C % 2 == 0) {
        const size_t Np = (size_t)lpi_amx_pad16(nc), Kp = (size_t)lpi_amx_pad32(kc);
        ws->colb = malloc(Kp * Np * sizeof *ws->colb);
        if (!ws->colb) {
            free(ws->amx);
            ws->amx = NULL;
            return LIMPID_ERR_NOMEM;
        }
    }
    ws->cond_stale = 1; /* the packed conditioning is made with the next projection */
    return LIMPID_OK;
}

/* Whether a forward over nc columns must compute its conditioning again: always in training,
 * else unless lpi_net_ws_cache_cond kept the last one and nothing changed since */
static int cond_stale_for(const lpi_net_ws *ws, int nc)
{
    return ws->train || !ws->cache_cond || ws->cond_stale || ws->cond_nc != nc;
}

/* The forward's products: bf16 on AMX for an inference workspace that asked for it. */
static void fwd_gemm(lpi_net_ws *ws, int M, int N, int K, float alpha, const float *A, int lda,
                     const float *B, int ldb, float beta, float *C, int ldc)
{
    if (ws->amx && !ws->train)
        lpi_gemm_amx(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, ws->amx,
                     limpid_get_threads());
    else
        lpi_gemm(0, 0, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* ------------------------------------------------------------------------ */
/* Forward */

static float silu_f(float u) { return u / (1.0f + expf(-u)); }
/* d silu / du = sig(u) (1 + u (1 - sig(u))) */
static float silu_grad(float u)
{
    float sg = 1.0f / (1.0f + expf(-u));
    return sg * (1.0f + u * (1.0f - sg));
}

static void embedding_forward(const lpi_net_layout *L, const float *P, lpi_net_ws *ws,
                              const float *t, const int *cls, int B)
{
    const int E = L->E, H = L->H, half = E / 2;
    for (int b = 0; b < B; b++) {
        float *code = ws->code + (size_t)b * E;
        for (int j = 0; j < half; j++) {
            /* in double so that large t*f keep their phase */
            double arg = (double)t[b] * ws->freq[j];
            code[j] = (float)sin(arg);
            code[half + j] = (float)cos(arg);
        }
    }
    lpi_gemm(0, 1, B, H, E, 1.0f, ws->code, E, P + L->fc1_w, E, 0.0f, ws->u1, H);
    for (int b = 0; b < B; b++)
        for (int j = 0; j < H; j++) {
            float u = ws->u1[(size_t)b * H + j] + P[L->fc1_b + j];
            ws->u1[(size_t)b * H + j] = u;
            ws->e1[(size_t)b * H + j] = silu_f(u);
        }
    lpi_gemm(0, 1, B, H, H, 1.0f, ws->e1, H, P + L->fc2_w, H, 0.0f, ws->u2, H);
    for (int b = 0; b < B; b++) {
        const float *ct = L->K > 0 ? P + L->class_table + (size_t)cls[b] * H : NULL;
        for (int j = 0; j < H; j++) {
            float u = ws->u2[(size_t)b * H + j] + P[L->fc2_b + j];
            ws->u2[(size_t)b * H + j] = u;
            ws->em[(size_t)b * H + j] = silu_f(u) + (ct ? ct[j] : 0.0f);
        }
    }
    /* per-layer projections p_i[b][c] = emb.w e_b + emb.b */
    const int C = L->C;
    for (int i = 0; i < L->N; i++) {
        float *pi = ws->p + (size_t)i * B * C;
        lpi_gemm(0, 1, B, C, H, 1.0f, ws->em, H, P + L->layer[i].emb_w, H, 0.0f, pi, C);
        for (int b = 0; b < B; b++)
            for (int c = 0; c < C; c++)
                pi[(size_t)b * C + c] += P[L->layer[i].emb_b + c];
    }
}

/* Weights of the dilated product of layer i: [dil.w | cnd.w] packed into ws->wp ([2C][4C])
 * when conditioned, else dil.w in place. Returns the matrix, *ld its leading dimension. */
static const float *layer_weights(const lpi_net_layout *L, const float *P, lpi_net_ws *ws,
                                  int i, int *ld)
{
    const int C = L->C;
    const lpi_layer_off *ly = &L->layer[i];
    if (L->Cc == 0) {
        *ld = 3 * C;
        return P + ly->dil_w;
    }
    for (int o = 0; o < 2 * C; o++) {
        memcpy(ws->wp + (size_t)o * 4 * C, P + ly->dil_w + (size_t)o * 3 * C,
               (size_t)3 * C * sizeof(float));
        memcpy(ws->wp + (size_t)o * 4 * C + 3 * C, P + ly->cnd_w + (size_t)o * C,
               (size_t)C * sizeof(float));
    }
    *ld = 4 * C;
    return ws->wp;
}

/* cond_snr (L->Fs = F > 0): the cond projection reads u = [p; p - m] for the input rows
 * [p; m] (F rows each; any further rows as they are). Training transforms its copy of the
 * input (and the weights' gradient follows from it); inference folds the transform into the
 * weights, W u = [Wp + Wm, -Wm] [p; m], which costs C x Cc instead of Cc x frames floats. */
static void snr_rows(float *u, int F, size_t n, size_t ld)
{
    for (int f = 0; f < F; f++) {
        const float *p = u + (size_t)f * ld;
        float *m = u + (size_t)(F + f) * ld;
        for (size_t j = 0; j < n; j++)
            m[j] = p[j] - m[j];
    }
}

void lpi_net_snr_fold(const lpi_net_layout *L, const float *P, float *W)
{
    const int F = L->Fs, Cc = L->Cc;
    for (int o = 0; o < L->C; o++) {
        const float *w = P + L->cond_w + (size_t)o * Cc;
        float *d = W + (size_t)o * Cc;
        memcpy(d, w, (size_t)Cc * sizeof *d);
        for (int f = 0; f < F; f++) {
            d[f] = w[f] + w[F + f];
            d[F + f] = -w[F + f];
        }
    }
}

/* lpi_net_forward up to s = relu(skip.w (skip + bsum) / sqrt(N) + skip.b), [C][B*Lf]: the
 * output projection's input */
static const float *forward_trunk(const lpi_net_layout *L, const float *P, lpi_net_ws *ws,
                                  const float *x, const float *cond, const float *t,
                                  const int *cls, int B, int Lf)
{
    assert(ws && L->C == ws->C && L->N == ws->N && L->Cx == ws->Cx && L->Cc == ws->Cc);
    assert(B >= 1 && B <= ws->Bmax && Lf >= 1 && (size_t)B * Lf <= (size_t)ws->Bmax * ws->Lmax);
    const int C = L->C, N = L->N, Cx = L->Cx, Cc = L->Cc;
    const int nc = B * Lf;
    const size_t plane = (size_t)C * nc;
    const int train = ws->train;
    const int kc = (Cc > 0 ? 4 : 3) * C;
    float *h = ws->hsk, *skip = ws->hsk + plane;
    float *c = Cc > 0 ? ws->col + 3 * plane : NULL;
    /* bf16 inference: the dilated layers' input packed for AMX (pair rows past kc: zero) */
    uint16_t *colb = !train && ws->amx ? ws->colb : NULL;
    const int Np = lpi_amx_pad16(nc);
    if (colb) {
        const int kp = lpi_amx_pad32(kc);
        memset(colb + (size_t)kc / 2 * Np * 2, 0, (size_t)(kp - kc) * Np * sizeof *colb);
    }
    ws->B = B;
    ws->Lf = Lf;
    ws->ready = 0;

    if (train) {
        memcpy(ws->x, x, (size_t)Cx * nc * sizeof *x);
        if (Cc > 0) {
            memcpy(ws->cond, cond, (size_t)Cc * nc * sizeof *cond);
            if (L->Fs > 0)
                snr_rows(ws->cond, L->Fs, (size_t)nc, (size_t)nc);
        }
        if (L->K > 0)
            memcpy(ws->cls, cls, (size_t)B * sizeof *cls);
    }

    /* h0 = relu(in.w x + in.b), c = relu(cond.w cond + cond.b) */
    fwd_gemm(ws, C, nc, Cx, 1.0f, P + L->in_w, Cx, x, nc, 0.0f, h, nc);
    lpi_bias_act(h, P + L->in_b, C, nc, nc, 1);
    /* c depends only on cond, not on x_t or t: across the steps of one sampling run the
     * caller may keep it (inference only; c lives in rows of col that nothing else writes). */
    if (Cc > 0 && cond_stale_for(ws, nc)) {
        const float *cw = P + L->cond_w;
        if (train) {
            cond = ws->cond; /* the copy (cond_snr: its rows transformed) */
        } else if (L->Fs > 0) {
            lpi_net_snr_fold(L, P, ws->wsnr);
            cw = ws->wsnr;
        }
        fwd_gemm(ws, C, nc, Cc, 1.0f, cw, Cc, cond, nc, 0.0f, c, nc);
        lpi_bias_act(c, P + L->cond_b, C, nc, nc, 1);
        if (colb) /* its pair rows 3C/2 .. 2C: the last quarter of the dilated layers' input */
            lpi_amx_pack_b(nc, C, c, nc, colb + (size_t)3 * C / 2 * Np * 2, 0, C / 2);
        ws->cond_stale = 0;
        ws->cond_nc = nc;
    }
    embedding_forward(L, P, ws, t, cls, B);
    memset(skip, 0, plane * sizeof *skip);
    memset(ws->bsum, 0, (size_t)C * sizeof *ws->bsum);

    for (int i = 0; i < N; i++) {
        const lpi_layer_off *ly = &L->layer[i];
        int ldw;
        const float *w = layer_weights(L, P, ws, i, &ldw);
        if (colb) {
            k_im2col_bf16(colb, h, ws->p + (size_t)i * B * C, C, B, Lf, ly->dilation, ly->shift,
                          ws->col);
            lpi_gemm_amx_bp(2 * C, nc, kc, 1.0f, w, ldw, colb, 0.0f, ws->a, nc, ws->amx,
                            limpid_get_threads());
        } else {
            k_im2col(ws->col, h, ws->p + (size_t)i * B * C,
                     train ? ws->hs + (size_t)i * plane : NULL, C, B, Lf, ly->dilation,
                     ly->shift);
            fwd_gemm(ws, 2 * C, nc, kc, 1.0f, w, ldw, ws->col, nc, 0.0f, ws->a, nc);
        }
        float *T = train ? ws->g + (size_t)i * 2 * plane : NULL;
        /* the output product (residual and skip rows; the last layer only skip) */
        const int mo = i == N - 1 ? C : 2 * C;
        const float *wo = P + ly->out_w + (i == N - 1 ? (size_t)C * C : 0);
        float *dst = i == N - 1 ? skip : ws->hsk;
        if (colb && C >= 16) {
            /* gate each pair of channels and pack it at once (still in cache) into pair rows
             * 0..C/2 of colb (the first tap's, free until the next layer), zeros up to the
             * product's K padding (inside the taps' rows for C >= 16: the conditioning's
             * pair rows stay) */
            for (int q = 0; q < C / 2; q++) {
                k_gate_fwd(ws->a, P + ly->dil_b, C, nc, NULL, NULL, 2 * q, 2 * q + 2);
                lpi_amx_pack_pair(ws->a + (size_t)(2 * q) * nc, ws->a + (size_t)(2 * q + 1) * nc,
                                  nc, colb + (size_t)q * Np * 2, Np);
            }
            const int kpc = lpi_amx_pad32(C);
            memset(colb + (size_t)C / 2 * Np * 2, 0, (size_t)(kpc - C) * Np * sizeof *colb);
            lpi_gemm_amx_bp(mo, nc, C, 1.0f, wo, C, colb, 1.0f, dst, nc, ws->amx,
                            limpid_get_threads());
        } else {
            k_gate_fwd(ws->a, P + ly->dil_b, C, nc, T, T ? T + plane : NULL, 0, C);
            fwd_gemm(ws, mo, nc, C, 1.0f, wo, C, ws->a, nc, 1.0f, dst, nc);
        }
        if (i < N - 1)
            k_residual(h, P + ly->out_b, C, nc);
        for (int ch = 0; ch < C; ch++)
            ws->bsum[ch] += P[ly->out_b + C + ch];
    }

    /* s = relu(skip.w (skip + bsum) / sqrt(N) + skip.b); out = final.w s + final.b */
    const float inv_sqrt_n = (float)(1.0 / sqrt((double)N));
    for (int o = 0; o < C; o++) {
        float v = 0.0f;
        for (int k = 0; k < C; k++)
            v += P[L->skip_w + (size_t)o * C + k] * ws->bsum[k];
        ws->beff[o] = P[L->skip_b + o] + v * inv_sqrt_n;
    }
    float *s = train ? ws->s : ws->col;
    fwd_gemm(ws, C, nc, C, inv_sqrt_n, P + L->skip_w, C, skip, nc, 0.0f, s, nc);
    lpi_bias_act(s, ws->beff, C, nc, nc, 1);
    return s;
}

/* The band-resolved stack (band.c): inputs per (item, band), the stack over B NB items, its
 * rows spread back to the bins */
static void band_forward(const lpi_net_layout *L, const float *P, lpi_net_ws *ws, const float *x,
                         const float *cond, const float *t, int B, int Lf, float *out)
{
    const lpi_band_net *bn = L->band;
    const int NB = bn->NB, nc = B * Lf;
    assert(ws->inner && B <= ws->Bmax && (size_t)nc <= (size_t)ws->Bmax * ws->Lmax);
    /* the band conditioning only when the per-bin one may have changed (cache_cond) */
    const int remake = cond_stale_for(ws, nc);
    lpi_band_inputs(bn->bands, x, remake ? cond : NULL, B, Lf, ws->bx, remake ? ws->bc : NULL,
                    ws->bscr);
    if (remake) {
        lpi_net_cond_changed(ws->inner);
        ws->cond_stale = 0;
        ws->cond_nc = nc;
    }
    for (int b = 0; b < B; b++)
        for (int k = 0; k < NB; k++)
            ws->bt[b * NB + k] = t[b];
    lpi_net_forward(&bn->in, P, ws->inner, ws->bx, ws->bc, ws->bt, NULL, B * NB, Lf, ws->bo);
    lpi_band_spread(bn->bands, bn->in.Co, ws->bo, B, Lf, out);
    ws->B = B;
    ws->Lf = Lf;
    ws->ready = ws->train;
}

void lpi_net_forward(const lpi_net_layout *L, const float *P, lpi_net_ws *ws, const float *x,
                     const float *cond, const float *t, const int *cls, int B, int Lf,
                     float *out)
{
    if (L->band) {
        band_forward(L, P, ws, x, cond, t, B, Lf, out);
        return;
    }
    const float *s = forward_trunk(L, P, ws, x, cond, t, cls, B, Lf);
    const int C = L->C, Co = L->Co, nc = B * Lf;
    k_fill_rows(out, P + L->final_b, Co, nc);
    fwd_gemm(ws, Co, nc, C, 1.0f, P + L->final_w, C, s, nc, 1.0f, out, nc);
    ws->ready = ws->train;
}

void lpi_net_forward_head(const lpi_net_layout *L, const float *P, lpi_net_ws *ws,
                          const float *x, const float *cond, const float *t, const int *cls,
                          int B, int Lf, const limpid_config *cfg, const float *hcond,
                          const float *hncond, const float *xt, float *out, float *pred)
{
    const int nc = B * Lf;
    if (!ws->amx || ws->train || !lpi_head_fusable(cfg) || !hcond || L->fh > 0 ||
        L->Co != limpid_config_feature_channels(cfg)) {
        lpi_net_forward(L, P, ws, x, cond, t, cls, B, Lf, out);
        if (hncond) /* a front end's threshold offsets (none: nothing to add) */
            lpi_front_add(L, out, (size_t)nc, hncond, (size_t)nc, (size_t)nc);
        lpi_head_forward(cfg, out, hcond, hncond, xt, (size_t)nc, pred);
        return;
    }
    const float *s = forward_trunk(L, P, ws, x, cond, t, cls, B, Lf);
    lpi_head_ctx hc = {cfg, hcond, hncond, xt, (size_t)nc, pred};
    lpi_gemm_amx_pairs(L->Co / 2, nc, L->C, P + L->final_w, L->C, P + L->final_b, s, nc, ws->amx,
                       limpid_get_threads(), lpi_head_block, &hc);
}

/* ------------------------------------------------------------------------ */
/* Backward */

void lpi_net_backward(const lpi_net_layout *L, const float *P, lpi_net_ws *ws,
                      const float *dout, float *G, float *dx, float *dcond)
{
    assert(ws && ws->train && ws->ready);
    if (L->band) {
        /* no gradient to the inputs: they are band levels of data (callers pass NULL) */
        assert(!dx && !dcond);
        (void)dx;
        (void)dcond;
        lpi_band_spread_bwd(L->band->bands, L->band->in.Co, dout, ws->B, ws->Lf, ws->bo);
        lpi_net_backward(&L->band->in, P, ws->inner, ws->bo, G, NULL, NULL);
        return;
    }
    const int C = L->C, N = L->N, Cx = L->Cx, Cc = L->Cc, Co = L->Co, H = L->H, E = L->E;
    const int B = ws->B, Lf = ws->Lf, nc = B * Lf;
    const size_t plane = (size_t)C * nc;
    const float inv_sqrt_n = (float)(1.0 / sqrt((double)N));
    const int kc = (Cc > 0 ? 4 : 3) * C;
    float *drtop = ws->dr, *drbot = ws->dr + plane;
    const float *skip = ws->hsk + plane;
    float *dc = Cc > 0 ? ws->db + 3 * plane : NULL;

    /* head: out = final.w s + final.b */
    lpi_gemm(0, 1, Co, C, nc, 1.0f, dout, nc, ws->s, nc, 1.0f, G + L->final_w, C);
    lpi_rowsum(dout, G + L->final_b, Co, nc);
    /* s = relu(skip.w (skip + bsum) / sqrt(N) + skip.b) */
    float *ds = ws->a;
    lpi_gemm(1, 0, C, nc, Co, 1.0f, P + L->final_w, C, dout, nc, 0.0f, ds, nc);
    memset(ws->dsrow, 0, (size_t)C * sizeof *ws->dsrow);
    lpi_relu_bwd(ds, ws->s, ws->dsrow, C, nc);
    lpi_gemm(0, 1, C, C, nc, inv_sqrt_n, ds, nc, skip, nc, 1.0f, G + L->skip_w, C);
    for (int o = 0; o < C; o++) {
        G[L->skip_b + o] += ws->dsrow[o];
        for (int k = 0; k < C; k++)
            G[L->skip_w + (size_t)o * C + k] += ws->dsrow[o] * ws->bsum[k] * inv_sqrt_n;
    }
    /* d skip, the same for every layer's skip half */
    lpi_gemm(1, 0, C, nc, C, inv_sqrt_n, P + L->skip_w, C, ds, nc, 0.0f, drbot, nc);
    memset(ws->dskip_sum, 0, (size_t)C * sizeof *ws->dskip_sum);
    lpi_rowsum(drbot, ws->dskip_sum, C, nc);

    float *dz = ws->a, *z = ws->a + plane;
    for (int i = N - 1; i >= 0; i--) {
        const lpi_layer_off *ly = &L->layer[i];
        const int last = i == N - 1;
        const float *T = ws->g + (size_t)i * 2 * plane, *S = T + plane;
        const float *pi = ws->p + (size_t)i * B * C;
        /* [h; skip] += out.w z: dz = out.w^T dr (the last layer has only the skip half) */
        if (last)
            lpi_gemm(1, 0, C, nc, C, 1.0f, P + ly->out_w + (size_t)C * C, C, drbot, nc, 0.0f,
                     dz, nc);
        else
            lpi_gemm(1, 0, C, nc, 2 * C, 1.0f, P + ly->out_w, C, ws->dr, nc, 0.0f, dz, nc);
        k_gate_bwd(dz, T, S, z, ws->da, G + ly->dil_b, C, nc);
        if (last) {
            lpi_gemm(0, 1, C, C, nc, 1.0f, drbot, nc, z, nc, 1.0f, G + ly->out_w + (size_t)C * C,
                     C);
        } else {
            lpi_gemm(0, 1, 2 * C, C, nc, 1.0f, ws->dr, nc, z, nc, 1.0f, G + ly->out_w, C);
            lpi_rowsum(drtop, G + ly->out_b, C, nc);
        }
        for (int ch = 0; ch < C; ch++)
            G[ly->out_b + C + ch] += ws->dskip_sum[ch];
        /* a = [dil.w | cnd.w] [taps; c]: dW += da col^T, d col = W^T da */
        int ldw;
        const float *w = layer_weights(L, P, ws, i, &ldw);
        k_im2col(ws->col, ws->hs + (size_t)i * plane, pi, NULL, C, B, Lf, ly->dilation,
                 ly->shift);
        if (Cc > 0) {
            lpi_gemm(0, 1, 2 * C, kc, nc, 1.0f, ws->da, nc, ws->col, nc, 0.0f, ws->gwp, kc);
            for (int o = 0; o < 2 * C; o++) {
                const float *gw = ws->gwp + (size_t)o * kc;
                float *gd = G + ly->dil_w + (size_t)o * 3 * C, *gc = G + ly->cnd_w + (size_t)o * C;
                for (int k = 0; k < 3 * C; k++)
                    gd[k] += gw[k];
                for (int k = 0; k < C; k++)
                    gc[k] += gw[3 * C + k];
            }
            /* rows 3C..4C of db accumulate d c over the layers; the taps are overwritten */
            if (!last)
                memset(ws->db, 0, 3 * plane * sizeof *ws->db);
            lpi_gemm(1, 0, kc, nc, 2 * C, 1.0f, w, ldw, ws->da, nc, last ? 0.0f : 1.0f, ws->db,
                     nc);
        } else {
            lpi_gemm(0, 1, 2 * C, kc, nc, 1.0f, ws->da, nc, ws->col, nc, 1.0f, G + ly->dil_w, kc);
            lpi_gemm(1, 0, kc, nc, 2 * C, 1.0f, w, ldw, ws->da, nc, 0.0f, ws->db, nc);
        }
        /* dh_i = dh_{i+1}/sqrt2 + dy; drtop becomes dh_i/sqrt2 for layer i-1 (dh_0 at i=0) */
        k_col2im(drtop, ws->db, ws->dp, C, B, Lf, ly->dilation, ly->shift,
                 i > 0 ? k_inv_sqrt2 : 1.0f, last);
        /* p = emb.w e + emb.b */
        for (int b = 0; b < B; b++)
            for (int ch = 0; ch < C; ch++)
                G[ly->emb_b + ch] += ws->dp[(size_t)b * C + ch];
        lpi_gemm(1, 0, C, H, B, 1.0f, ws->dp, C, ws->em, H, 1.0f, G + ly->emb_w, H);
        lpi_gemm(0, 0, B, H, C, 1.0f, ws->dp, C, P + ly->emb_w, H, last ? 0.0f : 1.0f, ws->dem,
                 H);
    }

    /* h0 = relu(in.w x + in.b) */
    float *dh0 = drtop;
    lpi_relu_bwd(dh0, ws->hs, G + L->in_b, C, nc);
    lpi_gemm(0, 1, C, Cx, nc, 1.0f, dh0, nc, ws->x, nc, 1.0f, G + L->in_w, Cx);
    if (dx)
        lpi_gemm(1, 0, Cx, nc, C, 1.0f, P + L->in_w, Cx, dh0, nc, 0.0f, dx, nc);
    if (Cc > 0) {
        const float *c = ws->col + 3 * plane;
        lpi_relu_bwd(dc, c, G + L->cond_b, C, nc);
        lpi_gemm(0, 1, C, Cc, nc, 1.0f, dc, nc, ws->cond, nc, 1.0f, G + L->cond_w, Cc);
        if (dcond) {
            lpi_gemm(1, 0, Cc, nc, C, 1.0f, P + L->cond_w, Cc, dc, nc, 0.0f, dcond, nc);
            for (int f = 0; f < L->Fs; f++) { /* d/dp += d/du_m, d/dm = -d/du_m */
                float *dp = dcond + (size_t)f * nc, *dm = dcond + (size_t)(L->Fs + f) * nc;
                for (int j = 0; j < nc; j++) {
                    dp[j] += dm[j];
                    dm[j] = -dm[j];
                }
            }
        }
    }

    /* step embedding: em = silu(u2) + class.table[cls], u2 = fc2.w e1 + b, e1 = silu(u1) */
    float *du = ws->du;
    for (int b = 0; b < B; b++) {
        const float *de = ws->dem + (size_t)b * H;
        if (L->K > 0) {
            float *gt = G + L->class_table + (size_t)ws->cls[b] * H;
            for (int j = 0; j < H; j++)
                gt[j] += de[j];
        }
        for (int j = 0; j < H; j++) {
            float v = de[j] * silu_grad(ws->u2[(size_t)b * H + j]);
            du[(size_t)b * H + j] = v;
            G[L->fc2_b + j] += v;
        }
    }
    lpi_gemm(1, 0, H, H, B, 1.0f, du, H, ws->e1, H, 1.0f, G + L->fc2_w, H);
    /* d e1 = du2 fc2.w, reusing dem */
    lpi_gemm(0, 0, B, H, H, 1.0f, du, H, P + L->fc2_w, H, 0.0f, ws->dem, H);
    for (int b = 0; b < B; b++)
        for (int j = 0; j < H; j++) {
            float v = ws->dem[(size_t)b * H + j] * silu_grad(ws->u1[(size_t)b * H + j]);
            du[(size_t)b * H + j] = v;
            G[L->fc1_b + j] += v;
        }
    lpi_gemm(1, 0, H, E, B, 1.0f, du, H, ws->code, E, 1.0f, G + L->fc1_w, E);
}

void lpi_net_ws_cache_cond(lpi_net_ws *ws, int on)
{
    ws->cache_cond = on && !ws->train;
    ws->cond_stale = 1;
    if (ws->inner)
        lpi_net_ws_cache_cond(ws->inner, on);
}

void lpi_net_cond_changed(lpi_net_ws *ws)
{
    ws->cond_stale = 1;
    if (ws->inner)
        lpi_net_cond_changed(ws->inner);
}
