/* internal.h - shared internals of the limpid core. Not installed.
 * Internal non-static symbols start with lpi_ and are hidden from the shared library. */
#ifndef LIMPID_INTERNAL_H
#define LIMPID_INTERNAL_H

#include "limpid.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define LPI_HIDDEN __attribute__((visibility("hidden")))

/* Format a message into err (may be NULL). */
LPI_HIDDEN void lpi_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------------------ */
/* Random numbers: counter based, so any draw is a pure function of (key, counter); training
 * resumes exactly and is independent of thread scheduling. */

static inline uint64_t lpi_mix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef struct lpi_rng {
    uint64_t key;
    uint64_t ctr;
} lpi_rng;

/* A stream keyed by (seed, a, b): e.g. (train seed, step, purpose). */
static inline lpi_rng lpi_rng_make(uint64_t seed, uint64_t a, uint64_t b)
{
    lpi_rng r;
    r.key = lpi_mix64(lpi_mix64(seed ^ 0x6C696D706964ull) ^ lpi_mix64(a + 0x1234567ull) ^
                      lpi_mix64(b * 0x9E3779B97F4A7C15ull + 77));
    r.ctr = 0;
    return r;
}
static inline uint64_t lpi_rng_u64(lpi_rng *r) { return lpi_mix64(r->key ^ lpi_mix64(r->ctr++)); }
/* uniform in [0, 1) with 24 bits */
static inline float lpi_rng_uniform(lpi_rng *r)
{
    return (float)(lpi_rng_u64(r) >> 40) * (1.0f / 16777216.0f);
}
/* standard normal (Box-Muller, one value per call, deterministic) */
static inline float lpi_rng_normal(lpi_rng *r)
{
    uint64_t v = lpi_rng_u64(r);
    double u1 = ((double)(v >> 11) + 0.5) * (1.0 / 9007199254740992.0);
    double u2 = (double)(lpi_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

/* n standard normals in bulk: Box-Muller in float, both outputs of each pair used, one u64
 * per pair (24-bit uniforms: tails reach 5.9 sigma). About 3x faster than lpi_rng_normal;
 * used where millions are drawn per step (diffusion noise). */
static inline void lpi_rng_normal_fill(lpi_rng *r, float *out, size_t n)
{
    size_t i = 0;
    for (; i + 1 < n; i += 2) {
        uint64_t v = lpi_rng_u64(r);
        float u1 = ((float)(v >> 40) + 0.5f) * (1.0f / 16777216.0f);
        float u2 = (float)(v & 0xFFFFFFu) * (1.0f / 16777216.0f);
        float rad = sqrtf(-2.0f * logf(u1)), ang = 6.2831853f * u2;
        out[i] = rad * cosf(ang);
        out[i + 1] = rad * sinf(ang);
    }
    if (i < n)
        out[i] = lpi_rng_normal(r);
}

/* Threads that prepare training items in parallel (OpenMP), and this thread's index. */
#define LPI_PREP_THREADS 8
#ifdef _OPENMP
#include <omp.h>
static inline int lpi_thread_index(void) { return omp_get_thread_num(); }
#else
static inline int lpi_thread_index(void) { return 0; }
#endif

/* ------------------------------------------------------------------------ */
/* Matrix products: row-major C[M][N] = alpha * op(A) op(B) + beta * C (OpenBLAS sgemm). */
LPI_HIDDEN void lpi_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha,
                         const float *A, int lda, const float *B, int ldb, float beta, float *C,
                         int ldc);

/* The same without transposes, beta 0 or 1, with bf16 products on Intel AMX (gemm_amx.c; other beta: lpi_gemm):
 * inference only. lpi_amx_available() says whether this build and CPU (and the kernel's
 * permission for the tile state) allow it; scratch holds lpi_amx_scratch(M, N, K) bytes;
 * threads: OpenMP threads that split the columns. Without AMX it calls lpi_gemm. */
LPI_HIDDEN int lpi_amx_available(void);
LPI_HIDDEN size_t lpi_amx_scratch(int M, int N, int K);
LPI_HIDDEN void lpi_gemm_amx(int M, int N, int K, float alpha, const float *A, int lda,
                             const float *B, int ldb, float beta, float *C, int ldc,
                             void *scratch, int threads);
/* The padded sizes of AMX's packed operands: rows and columns to whole tiles of 16, the
 * reduction dimension to whole tile rows of 32 bf16 (16 pairs). Callers that pack or size
 * packed buffers themselves use these, so the layout is defined once. */
static inline int lpi_amx_pad16(int n) { return (n + 15) / 16 * 16; }
static inline int lpi_amx_pad32(int k) { return (k + 31) / 32 * 32; }
/* AMX's packed B (lpi_gemm_amx's layout: pair row p holds rows 2p and 2p+1 of B interleaved,
 * [Kp/2][Np][2] bf16, Np = 16 ceil(N/16), Kp = 32 ceil(K/32)), for callers that pack B
 * themselves: lpi_amx_pack_pair writes one pair row from rows r0, r1 (NULL: zeros), N values,
 * zero to Np; lpi_amx_pack_b pair rows [p0, p1) of B [K][ldb] (rows past K: zeros);
 * lpi_gemm_amx_bp is lpi_gemm_amx with B given packed (beta 0 or 1). AMX only: without it
 * they abort (lpi_net_ws_use_bf16 refuses the workspaces that would call them). */
LPI_HIDDEN void lpi_amx_pack_pair(const float *r0, const float *r1, int N, uint16_t *o, int Np);
LPI_HIDDEN void lpi_amx_pack_b(int N, int K, const float *B, int ldb, uint16_t *Bb, int p0,
                               int p1);
LPI_HIDDEN void lpi_gemm_amx_bp(int M, int N, int K, float alpha, const float *A, int lda,
                                const uint16_t *Bb, float beta, float *C, int ldc,
                                void *scratch, int threads);
/* R = A B + bias for A [2F][K] whose rows pair up, f with F + f (an output head's two rows
 * per bin), in bf16 on AMX (else plain fp32), never stored whole: for every block of up to 16
 * bins and a range of columns, epi(ctx, f0, nf, n0, nn, o1, g2, ld) gets o1[r * ld + c] =
 * R[f0 + r][n0 + c] and g2[r * ld + c] = R[F + f0 + r][n0 + c] for r < nf, c < nn. Blocks of
 * distinct columns may run on different threads at once. scratch: lpi_amx_pairs_scratch(F,
 * N, K) bytes. */
typedef void (*lpi_amx_epi)(void *ctx, int f0, int nf, int n0, int nn, const float *o1,
                            const float *g2, int ld);
LPI_HIDDEN size_t lpi_amx_pairs_scratch(int F, int N, int K);
LPI_HIDDEN void lpi_gemm_amx_pairs(int F, int N, int K, const float *A, int lda,
                                   const float *bias, const float *B, int ldb, void *scratch,
                                   int threads, lpi_amx_epi epi, void *ctx);

/* ------------------------------------------------------------------------ */
/* Network parameter layout.
 *
 * All parameters of a model live in one float array; each tensor is a slice of it at a fixed
 * offset, in the order of the table below. Gradients, AdamW moments and the EMA use the same
 * layout. Weight matrices are row-major [out][in]. Sizes: C = channels, E = embed_dim,
 * H = embed_hidden, Cx = feature channels, Cc = cond channels (Cx for denoise, else 0),
 * Co = out channels (Cx, or 2*bins for the GAIN head), K = n_classes (texture).
 *
 *   name                 shape          notes
 *   in.w, in.b           [C][Cx], [C]    h0 = relu(in.w x + in.b)
 *   cond.w, cond.b       [C][Cc], [C]    c = relu(cond.w cond + cond.b)      (denoise only)
 *   emb.fc1.w, .b        [H][E], [H]     e = silu(fc2 silu(fc1 sinus(t)))
 *   emb.fc2.w, .b        [H][H], [H]
 *   class.table          [K][H]          e += class.table[cls]               (texture only)
 *   layer.i.emb.w, .b    [C][H], [C]     y = h + (emb.w e + emb.b)  (broadcast over time)
 *   layer.i.dil.w, .b    [2C][3C], [2C]  a = dil.w col(y) + dil.b  (taps stacked, tap-major)
 *   layer.i.cnd.w        [2C][C]         a += cnd.w c                       (denoise only)
 *                                        z = tanh(a[0:C]) * sigmoid(a[C:2C])
 *   layer.i.out.w, .b    [2C][C], [2C]   r = out.w z + out.b
 *                                        h' = (h + r[0:C]) / sqrt(2); skip += r[C:2C]
 *   skip.w, skip.b       [C][C], [C]     s = relu(skip.w (skip / sqrt(N)) + skip.b)
 *   final.w, final.b     [Co][C], [Co]   out = final.w s + final.b        (initialised to 0)
 *   front.w1, .b1        [fh][fk], [fh]  per-bin front end (front_hidden > 0), lpi_front_*:
 *   front.w2, .b2        [fh][fh], [fh]  h1 = relu(w1 u + b1), h2 = relu(w2 h1 + b2),
 *   front.w3, .b3        [1+fr+fg][fh], [1+fr+fg]  y = w3 h2 + b3 (w3 initialised to 0)
 *
 * Dilated convolution of layer i, dilation d = 2^(i % dilation_cycle), lookahead shift
 * la_i in {0, d} (see limpid_config.lookahead): output frame n reads input frames
 * n + la_i - 2d, n + la_i - d, n + la_i (taps 0, 1, 2); frames outside the item are zero.
 * col(y)[k*C + c][n] = y[c][n + la_i - (2-k)*d].
 *
 * Sinusoidal code of a (fractional) step t: sinus(t)[j] = sin(t * 10^(4j/(E/2-1))),
 * sinus(t)[E/2 + j] = cos(same), j < E/2.
 */
typedef struct lpi_layer_off {
    size_t emb_w, emb_b, dil_w, dil_b, cnd_w, out_w, out_b;
    int dilation;
    int shift; /* la_i: 0 causal, d centred */
} lpi_layer_off;

typedef struct lpi_net_layout {
    int C, N, E, H, Cx, Cc, Co, K;
    size_t in_w, in_b, cond_w, cond_b;
    size_t fc1_w, fc1_b, fc2_w, fc2_b, class_table;
    size_t skip_w, skip_b, final_w, final_b;
    size_t feat_scale;    /* feature_norm CLASS: [K][bins] per-bin scales (not trained), else 0 */
    int has_feat_scale;
    size_t feat_mean;     /* ... and with magnitude features [K][bins] per-bin means, else 0 */
    int has_feat_mean;
    lpi_layer_off *layer; /* [N] */
    /* per-bin front end (limpid_config.front_hidden > 0; lpi_front_*), else all 0: Fb bins,
     * fh hidden width, fnb neighbours each side, fnt frames, fr extra cond rows, fk inputs,
     * fg 1 with floor_gate (a gate offset per bin, added to the head's o3) */
    int Fb, fh, fnb, fnt, fr, fk, fg;
    size_t fw1, fb1, fw2, fb2, fw3, fb3;
    double front_macs_per_frame; /* once per frame, whatever the number of sampling steps */
    /* cond_snr: the network's cond rows [Fs, 2 Fs) are read as rows [0, Fs) minus themselves
     * (level above the floor; lpi_net_*), else 0 */
    int Fs;
    /* band-resolved stack (limpid_config.bands > 0; band.c), else NULL: the parameter table
     * above is band->in's (the stack over (item, band) pairs), while Cx, Cc and Co stay the
     * per-bin sizes every caller uses; lpi_net_* route through it */
    struct lpi_band_net *band;
    size_t n_params;
    int n_tensors;
    struct lpi_tensor_desc *tensors; /* [n_tensors], in offset order */
    int receptive_field; /* frames: 1 + sum 2*d_i */
    int lookahead;       /* frames: sum la_i */
    double macs_per_frame;
} lpi_net_layout;

typedef struct lpi_tensor_desc {
    char name[48];
    int ndim;      /* 1 or 2 */
    int dims[2];
    size_t off;    /* into the parameter array */
    size_t count;
    int decay;     /* AdamW weight decay applies (matrices yes, biases/tables no) */
} lpi_tensor_desc;

/* Band-resolved stack (band.c; see its header for the bands and the inputs). */
typedef struct lpi_band lpi_band;
typedef struct lpi_band_net {
    lpi_band *bands;
    int NB;
    lpi_net_layout in; /* the stack over B NB items: Cx 1, Cc lpi_band_cond_rows, Co Co / F;
                          its layer and tensor tables are the outer layout's */
} lpi_band_net;
LPI_HIDDEN int lpi_band_cond_rows(int NB, int R);
/* NULL on bad sizes (needs 2 <= NB <= F) or no memory */
LPI_HIDDEN lpi_band *lpi_band_create(int F, int NB, int R, double nyquist_hz);
LPI_HIDDEN void lpi_band_destroy(lpi_band *b);
/* bin f's lower band and its weight there (band k0 + 1 gets 1 - w0) */
LPI_HIDDEN void lpi_band_weights(const lpi_band *b, int f, int *k0, float *w0);
LPI_HIDDEN int lpi_band_centre(const lpi_band *b, int k);
/* floats of scratch lpi_band_inputs needs for nc = B Lf columns */
LPI_HIDDEN size_t lpi_band_scratch(const lpi_band *b, size_t nc);
/* The stack's inputs from x [2F][B Lf] (x_t's compressed complex rows; NULL: bx not made) and
 * cond [>= 2F][B Lf] (log power, log floor rows; bc NULL: not made): bx [1][B NB Lf], bc
 * [Cc'][B NB Lf] */
LPI_HIDDEN void lpi_band_inputs(const lpi_band *b, const float *x, const float *cond, int B,
                                int Lf, float *bx, float *bc, float *scratch);
/* out [rows F][B Lf] from the stack's bo [rows][B NB Lf]; and its transpose (dbo written) */
LPI_HIDDEN void lpi_band_spread(const lpi_band *b, int rows, const float *bo, int B, int Lf,
                                float *out);
LPI_HIDDEN void lpi_band_spread_bwd(const lpi_band *b, int rows, const float *dout, int B,
                                    int Lf, float *dbo);

/* Build the layout of cfg (checked beforehand). Frees with lpi_net_layout_free. */
LPI_HIDDEN limpid_status lpi_net_layout_init(lpi_net_layout *L, const limpid_config *cfg);
LPI_HIDDEN void lpi_net_layout_free(lpi_net_layout *L);
/* Deterministic initialisation of params[n_params] (final.* zero). */
LPI_HIDDEN void lpi_net_init_params(const lpi_net_layout *L, float *params, uint64_t seed);

/* Scratch for forward/backward of up to B items of up to Lmax frames each.
 * train != 0 keeps what backward needs. All memory allocated at create. */
typedef struct lpi_net_ws lpi_net_ws;
LPI_HIDDEN lpi_net_ws *lpi_net_ws_create(const lpi_net_layout *L, int B, int Lmax, int train);
LPI_HIDDEN void lpi_net_ws_destroy(lpi_net_ws *ws);

/* Inference workspaces: with on != 0, lpi_net_forward computes the conditioning projection
 * only on the first call after lpi_net_cond_changed (or when the column count changes) and
 * reuses it otherwise: the caller promises the cond contents are unchanged in between. The
 * sampling steps of one block share one cond. */
LPI_HIDDEN void lpi_net_ws_cache_cond(lpi_net_ws *ws, int on);
LPI_HIDDEN void lpi_net_cond_changed(lpi_net_ws *ws);
/* Inference workspaces: on != 0 makes lpi_net_forward's matrix products bf16 on AMX
 * (lpi_gemm_amx; allocates its scratch now). UNSUPPORTED without AMX, INVALID for a training
 * workspace; on = 0 goes back to fp32. */
LPI_HIDDEN limpid_status lpi_net_ws_use_bf16(lpi_net_ws *ws, int on);

/* cond_snr: W[C][Cc] = cond.w with the transform of the level-above-floor rows folded in, the
 * weights the cond projection applies to the raw rows [log power; log floor; ...] */
LPI_HIDDEN void lpi_net_snr_fold(const lpi_net_layout *L, const float *params, float *W);

/* Tensors are channel-major with items side by side: x[Cx][B*Lf], item b in columns
 * [b*Lf, (b+1)*Lf). cond[Cc][B*Lf] (NULL if Cc == 0). t[B] diffusion steps (fractional
 * allowed). cls[B] (NULL if K == 0). out[Co][B*Lf]. */
LPI_HIDDEN void lpi_net_forward(const lpi_net_layout *L, const float *params, lpi_net_ws *ws,
                                const float *x, const float *cond, const float *t,
                                const int *cls, int B, int Lf, float *out);
/* Inference: lpi_net_forward, then lpi_head_forward(cfg, out, hcond, hncond, xt, B*Lf, pred).
 * With bf16 products and a per-bin head (lpi_head_fusable) the output projection and the head
 * run fused (lpi_gemm_amx_pairs: the projection's rows come out 16 at a time into a buffer that
 * stays in cache, which the head turns into pred at once; out is not written); otherwise out
 * holds the network's output (with a front end: plus its threshold offsets from hncond, whose
 * leading dimension is B*Lf). */
LPI_HIDDEN void lpi_net_forward_head(const lpi_net_layout *L, const float *P, lpi_net_ws *ws,
                                     const float *x, const float *cond, const float *t,
                                     const int *cls, int B, int Lf, const limpid_config *cfg,
                                     const float *hcond, const float *hncond, const float *xt,
                                     float *out, float *pred);
/* Per-bin front end (front.c; L->fh > 0). Conditioning buffers of such a model have
 * lpi_front_ncond_rows(L) = Cc + Fb rows: [0, 2F) from lpi_cond_features, [2F, Cc) the front
 * end's extra conditioning rows, [Cc, Cc + F) its threshold offsets. Workspaces: offline and
 * training (stream = 0: chunks of frames, products through lpi_gemm; train != 0 adds what
 * backward needs) or one frame for the streaming engine (stream != 0: plain loops, no
 * allocation or library call after create). */
typedef struct lpi_front_ws lpi_front_ws;
LPI_HIDDEN size_t lpi_front_ncond_rows(const lpi_net_layout *L);
LPI_HIDDEN lpi_front_ws *lpi_front_ws_create(const lpi_net_layout *L, int train, int stream);
LPI_HIDDEN void lpi_front_ws_destroy(lpi_front_ws *w);
/* nb items of Lf frames side by side in ncond [rows][ld]: writes rows [2F, Cc + F) (with fg
 * [2F, Cc + 2F)) from rows [0, 2F) (each item's first frame has no past) */
LPI_HIDDEN void lpi_front_forward(const lpi_net_layout *L, const float *P, lpi_front_ws *w,
                                  float *ncond, size_t ld, int nb, int Lf);
/* out rows [0, F) (the head's o1, leading dimension ldo) += the threshold offsets; with fg
 * also out rows [2F, 3F) (the gate's o3) += the gate offsets */
LPI_HIDDEN void lpi_front_add(const lpi_net_layout *L, float *out, size_t ldo,
                              const float *ncond, size_t ld, size_t cols);
/* Accumulates into G the gradient of the front end given d o1 (dthr, rows [0, F), leading
 * dimension ldt; with fg also d o3, dthr rows [2F, 3F)) and, when fr > 0, dcond [Cc][ld]
 * from lpi_net_backward (rows [2F, Cc)). */
LPI_HIDDEN void lpi_front_backward(const lpi_net_layout *L, const float *P, lpi_front_ws *w,
                                   const float *ncond, size_t ld, int nb, int Lf,
                                   const float *dthr, size_t ldt, const float *dcond, float *G);
/* Streaming: ncond[0, 2F) holds the next frame's features (frames in order); win [2F][fnt]
 * (zeroed by the caller before the first frame) keeps the window; writes ncond's rows
 * [2F, Cc + F) (with fg [2F, Cc + 2F)) for this frame. */
LPI_HIDDEN void lpi_front_frame(const lpi_net_layout *L, const float *P, lpi_front_ws *w,
                                float *win, float *ncond);

/* After lpi_net_forward on the same ws (train != 0): accumulate parameter gradients into
 * grads (same layout as params; caller zeroes), and if non-NULL write (not accumulate) dx
 * [Cx][B*Lf] and dcond [Cc][B*Lf]. dout [Co][B*Lf]. */
LPI_HIDDEN void lpi_net_backward(const lpi_net_layout *L, const float *params, lpi_net_ws *ws,
                                 const float *dout, float *grads, float *dx, float *dcond);

/* ------------------------------------------------------------------------ */
/* Model object */

struct limpid_model {
    limpid_config cfg;
    limpid_provenance prov;
    lpi_net_layout layout;
    float *params; /* [layout.n_params] */
};

/* Allocate a model for cfg with zeroed params (cfg is checked). */
LPI_HIDDEN limpid_status lpi_model_alloc(limpid_model **out, const limpid_config *cfg);

/* ------------------------------------------------------------------------ */
/* Diffusion schedule: abar[0] = 1, beta/alpha/abar[1..T]; fractional steps interpolate
 * log(abar) linearly between integer steps. */
typedef struct lpi_schedule {
    int T;
    double *beta;  /* [T+1], beta[0] = 0 */
    double *abar;  /* [T+1] */
} lpi_schedule;

LPI_HIDDEN limpid_status lpi_schedule_init(lpi_schedule *s, const limpid_config *cfg);
LPI_HIDDEN void lpi_schedule_free(lpi_schedule *s);
LPI_HIDDEN double lpi_schedule_abar(const lpi_schedule *s, double t); /* t in [0, T] */

/* Conversions between targets at one step, elementwise over n values. */
LPI_HIDDEN void lpi_x0_eps_from_pred(limpid_target target, double abar, const float *xt,
                                     const float *pred, float *x0, float *eps, size_t n);
LPI_HIDDEN void lpi_target_from_x0_eps(limpid_target target, double abar, const float *x0,
                                       const float *eps, float *tgt, size_t n);

/* The denoiser the samplers call: from x_t at step t (fractional allowed) write estimates of
 * x0 and eps (n floats each). Returns LIMPID_OK or an error that aborts sampling. */
typedef limpid_status (*lpi_denoise_fn)(void *user, const float *xt, double t, float *x0,
                                        float *eps, size_t n);

/* Reverse process on a vector of n values.
 * x: on entry x_{t_start} (the caller builds it, e.g. with lpi_q_sample); on exit x_0 estimate.
 * DDIM: evaluations at `steps` steps evenly spaced from t_start down to > 0 (fractional
 * allowed, t_start included), then x0 returned; eta as in Song et al.
 * DDPM: ancestral over every integer step t_start..1 (t_start rounded).
 * rng draws the noise of stochastic steps. scratch: 3*n floats. */
LPI_HIDDEN limpid_status lpi_sample_ddim(const lpi_schedule *s, lpi_denoise_fn fn, void *user,
                                         float *x, size_t n, double t_start, int steps,
                                         float eta, lpi_rng *rng, float *scratch);
LPI_HIDDEN limpid_status lpi_sample_ddpm(const lpi_schedule *s, lpi_denoise_fn fn, void *user,
                                         float *x, size_t n, int t_start, lpi_rng *rng,
                                         float *scratch);
/* Forward process q(x_t | x_0): xt = sqrt(abar) x0 + sqrt(1-abar) eps (eps given). */
LPI_HIDDEN void lpi_q_sample(double abar, const float *x0, const float *eps, float *xt,
                             size_t n);

/* ------------------------------------------------------------------------ */
/* Container file (models and checkpoints): see core/src/container.c for the byte layout. */

typedef enum lpi_kv_type { LPI_KV_I64 = 1, LPI_KV_F64 = 2, LPI_KV_STR = 3 } lpi_kv_type;

typedef struct lpi_kv {
    char key[48];
    lpi_kv_type type;
    int64_t i;
    double f;
    char s[512];
} lpi_kv;

typedef struct lpi_rec {
    char name[48];
    int ndim;
    int64_t dims[2];
    const float *data; /* writer: source; reader: points into an owned copy */
    size_t count;
} lpi_rec;

typedef struct lpi_container {
    uint32_t kind; /* LPI_KIND_* */
    int n_kv;
    lpi_kv *kv;
    int n_rec;
    lpi_rec *rec;
    float *blob; /* reader: owns all record data */
} lpi_container;

#define LPI_KIND_MODEL 1u
#define LPI_KIND_CHECKPOINT 2u

/* Serialise to a malloc'd buffer. */
LPI_HIDDEN limpid_status lpi_container_write(const lpi_container *c, void **buf, size_t *len);
/* Parse and verify (magic, version, bounds, checksum). On success c owns its arrays. */
LPI_HIDDEN limpid_status lpi_container_read(lpi_container *c, const void *buf, size_t len,
                                            char *err, size_t errlen);
LPI_HIDDEN void lpi_container_free(lpi_container *c);
LPI_HIDDEN const lpi_kv *lpi_container_kv(const lpi_container *c, const char *key);
/* Fill one metadata entry (key truncated to fit). */
LPI_HIDDEN void lpi_kv_set_i64(lpi_kv *kv, const char *key, int64_t v);
LPI_HIDDEN void lpi_kv_set_f64(lpi_kv *kv, const char *key, double v);
LPI_HIDDEN const lpi_rec *lpi_container_rec(const lpi_container *c, const char *name);

/* Whole-file helpers: read into memory (refuses > 2 GiB), write to path.tmp + rename. */
LPI_HIDDEN limpid_status lpi_read_file(const char *path, void **buf, size_t *len, char *err,
                                       size_t errlen);
LPI_HIDDEN limpid_status lpi_write_file_atomic(const char *path, const void *buf, size_t len);

/* Model <-> container: metadata keys for config + provenance, and one record per tensor. */
LPI_HIDDEN limpid_status lpi_model_to_container(const limpid_model *m, lpi_container *c,
                                                lpi_kv *kv_space, int kv_cap,
                                                lpi_rec *rec_space, int rec_cap);
/* Build a model from a parsed container, checking every field, name and shape. */
LPI_HIDDEN limpid_status lpi_model_from_container(const lpi_container *c, limpid_model **out,
                                                  char *err, size_t errlen);
/* Parse config / provenance keys (also used for checkpoints). */
LPI_HIDDEN limpid_status lpi_config_from_container(const lpi_container *c, limpid_config *cfg,
                                                   char *err, size_t errlen);
LPI_HIDDEN int lpi_config_to_kv(const limpid_config *cfg, lpi_kv *kv, int cap);
LPI_HIDDEN int lpi_provenance_to_kv(const limpid_provenance *p, lpi_kv *kv, int cap);
LPI_HIDDEN void lpi_provenance_from_container(const lpi_container *c, limpid_provenance *p);

/* ------------------------------------------------------------------------ */
/* Features: audio <-> network features of a model's domain.
 * n samples -> frames = ceil(n / frame_hop) (STFT) or n (wave); feat[Cx][ld] channel-major,
 * written into columns [0, frames) of rows with leading dimension ld. */
LPI_HIDDEN size_t lpi_feature_frames(const limpid_config *cfg, size_t n);
/* STFT bins (n_fft / 2 + 1) of an STFT-domain model; 1 for the wave domain. */
static inline int lpi_feature_bins(const limpid_config *cfg)
{
    return cfg->domain == LIMPID_DOMAIN_STFT ? cfg->n_fft / 2 + 1 : 1;
}
LPI_HIDDEN limpid_status lpi_features_from_audio(const limpid_config *cfg, limpid_stft *stft,
                                                 const float *x, size_t n, float *feat,
                                                 size_t ld, float *scratch);
/* One compressed bin u = (re, im) back to the linear spectrum without the scale beta (which
 * ratios of such values cancel): D(u) = |u|^k u with k = 1/a - 1, in double. */
static inline void lpi_decompress_bin(float re, float im, double k, double *dr, double *di)
{
    const double m = sqrt((double)re * re + (double)im * im);
    const double mk = k == 1.0 ? m : m > 0.0 ? pow(m, k) : 0.0;
    *dr = mk * re;
    *di = mk * im;
}
/* Amplitude gain for STFT frames with random phases (magnitude features): such frames add in
 * power through overlap-add, so synthesis made for consistent frames loses level (x1/2 in
 * amplitude for sqrt-Hann at hop n_fft/4); the gain is computed from the stft's own windows. */
LPI_HIDDEN float lpi_stft_random_phase_gain(const limpid_stft *s);
/* Magnitude features take their phases from `phase` (uniform, frame by frame, bin by bin;
 * required for them, ignored otherwise). */
LPI_HIDDEN limpid_status lpi_audio_from_features(const limpid_config *cfg, limpid_stft *stft,
                                                 const float *feat, size_t ld, size_t n,
                                                 float *x, float *scratch, lpi_rng *phase);
/* scratch floats needed by the two calls above for n samples */
LPI_HIDDEN size_t lpi_feature_scratch(const limpid_config *cfg, size_t n);

/* Streaming engine (stream.c): the initial noise of frame k is drawn from
 * lpi_rng_make(seed, k, LPI_STREAM_NOISE_TAG), Cx normals in feature-channel order. */
#define LPI_STREAM_NOISE_TAG 0x57AE4D1Eull

/* The network's conditioning input from the noisy features spec[Cx][ld] (columns [0, cols)):
 * with cfg->cond == LIMPID_COND_LOGPOW, out[f][n] = (ln(re^2 + im^2 + 1e-6) + 6) / 3 for each
 * bin f (the compressed power; typical levels map to about -2.6..2); LOGPOW_FLOOR adds rows
 * out[F + f][n], the same map of the bin's noise-floor track (limpid.h), and with floor_slow
 * rows out[2F + f][n] of a second, slow track. The tracks start again every `item` columns (0:
 * one item of cols columns) when state is NULL; with state ([3F]: the smoothed power, the
 * floor, the slow floor; a negative first value means "not started") they continue across
 * calls (streaming) and item is ignored. With SPECTRUM it is NULL: the network takes
 * spec itself. Returns the buffer the network should use. */
LPI_HIDDEN const float *lpi_cond_features(const limpid_config *cfg, const float *spec,
                                          size_t ld, size_t cols, size_t item, float *state,
                                          float *out);

/* limpid_config.floor_gate: the gate of a bin is s = sigmoid(o3 + LPI_GATE_BIAS) */
#define LPI_GATE_BIAS (-3.0f)

/* Output head. out, cond, xt, pred: [Cx][cols] contiguous. DIRECT: pred = out.
 * GAIN (STFT, x0 target; channel f = re of bin f, channel F+f = im, F = bins; out channel f = g1,
 * F+f = g2): pred[f] = (1+g1[f]) cond[f] + g2[f] xt[f], pred[F+f] likewise with the im rows.
 * WIENER, WIENER_REL, WIENER_FLOOR: as GAIN with 1+g1 replaced by the Wiener gain of
 * limpid.h's LIMPID_HEAD_WIENER (_REL, _FLOOR). ncond: the network's conditioning
 * (lpi_cond_features, [Cc][cols]); only WIENER_FLOOR reads it (its floor rows), others take
 * NULL. */
LPI_HIDDEN void lpi_head_forward(const limpid_config *cfg, const float *out, const float *cond,
                                 const float *ncond, const float *xt, size_t cols, float *pred);
/* The head on a block of its input (lpi_amx_epi for lpi_gemm_amx_pairs over the output
 * projection): bins f0..f0+nf-1, columns n0..n0+nn-1, o1 and g2 the two output rows of each bin;
 * the same values as lpi_head_forward. Only for heads where each bin's result depends on that
 * bin alone (lpi_head_fusable: GAIN, WIENER, WIENER_FLOOR). */
typedef struct lpi_head_ctx {
    const limpid_config *cfg;
    const float *cond, *ncond, *xt; /* as lpi_head_forward's, [rows][cols] */
    size_t cols;
    float *pred;
} lpi_head_ctx;
LPI_HIDDEN int lpi_head_fusable(const limpid_config *cfg);
LPI_HIDDEN void lpi_head_block(void *ctx, int f0, int nf, int n0, int nn, const float *o1,
                               const float *g2, int ld);
/* dout = d loss / d out given dpred (written, not accumulated); out is the forward's input. */
LPI_HIDDEN void lpi_head_backward(const limpid_config *cfg, const float *dpred,
                                  const float *cond, const float *ncond, const float *xt,
                                  const float *out, size_t cols, float *dout);
/* The WIENER_FLOOR head's gain term (limpid_train_config.mask_loss) over nb items of Lf
 * columns each (cols = nb * Lf): item b adds mu[b] sum_{f,n} w[f][n] KL(Gt || G) to isse[b].
 * form RATIO: Gt = min(1, |x0| / |cond|) per bin and column, w = lw ([bins][cols]) or 1 where
 * lw is NULL. form PHASE: Gt = clip(Re(S Y*) / |Y|^2, 0, 1)^a with S, Y the linear
 * (decompressed) x0 and cond and a the compression exponent, w = |Y|^2 over its mean over
 * item b (lw unused).
 * isse may be NULL. With dout (else NULL), adds k[b] times the gradient on the o1 rows of out. */
/* The gated WIENER_FLOOR head's gate term (limpid_train_config.gate_loss), items as
 * lpi_head_mask_loss: item b adds mu[b] sum_{f,n} w[f][n] KL(st || s) to isse[b], s =
 * sigmoid(o3 + LPI_GATE_BIAS) the gate, st = |N|^2 / (|S|^2 + |N|^2) with S the linear x0 and
 * N the linear cond minus S, w = lw or 1 where lw is NULL. isse may be NULL; with dout (else
 * NULL), adds k[b] times the gradient on the o3 rows of out. */
LPI_HIDDEN void lpi_head_gate_loss(const limpid_config *cfg, const float *out, const float *cond,
                                   const float *x0, const float *lw, size_t cols, int nb, int Lf,
                                   const float *mu, double *isse, float *dout, const float *k);
LPI_HIDDEN void lpi_head_mask_loss(const limpid_config *cfg, int form, const float *out,
                                   const float *cond,
                                   const float *ncond, const float *x0, const float *lw,
                                   size_t cols, int nb, int Lf, const float *mu, double *isse,
                                   float *dout, const float *k);

/* feature_norm CLASS: columns n0..n0+n-1 of features x [Cx][ld], each row (re and im of a
 * bin, or its magnitude) times its bin's scale in class cls's row of L's feat.scale, plus its
 * mean from feat.mean where L has one; invert != 0: the mean taken off, then divided by the
 * scale (training's way in, generation's way back). */
LPI_HIDDEN void lpi_feature_scale(const limpid_config *cfg, const lpi_net_layout *L,
                                  const float *params, int cls, int invert, float *x, size_t ld,
                                  size_t n0, size_t n);

/* The network's input for x_t[n] at a step with abar (limpid_config.input_scale): x_t itself
 * (NONE), or sqrt(abar) x_t written to buf[n] (SQRT_ABAR). */
LPI_HIDDEN const float *lpi_net_input(const limpid_config *cfg, double abar, const float *xt,
                                      size_t n, float *buf);

/* ------------------------------------------------------------------------ */
/* Trainer test hook (tests/test_train.c): the draws of the trainer's next step, the loss on
 * params (NULL: the trainer's weights) with each item's weighted squared error in isse[batch],
 * the number of values the loss is averaged over in *count, and *grad pointed at the gradient
 * of the training objective (valid until the next call): sum_b isse[b] / count (loss_norm
 * BATCH, ITEM) or mean_b(isse) / count * sum_b ln isse[b], the mean held fixed (LOG). */
LPI_HIDDEN limpid_status lpi_trainer_loss_grad(limpid_trainer *t, const float *params,
                                               const float *clean, const float *noisy,
                                               const int *cls, double *isse, double *count,
                                               const float **grad);

#endif
