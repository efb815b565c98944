/* test_net.c - the WaveNet stack (core/src/net.c): forward against a plain double-precision
 * reference written from the table in internal.h, finite-difference gradients of every
 * parameter tensor and of the inputs, accumulation, causality / receptive field, item
 * independence, workspace reuse, and the zero output of a freshly initialised model. */
#include "internal.h"

#include <check.h>
#include <stdlib.h>

#include "net_params.h"

/* Small layout: 4 channels, 3 layers, dilation cycle 2 (dilations 1, 2, 1), embed 8/8. */
enum { V_STFT_DENOISE_NONCAUSAL = 0, V_WAVE_TEXTURE_CAUSAL = 1, V_WAVE_DENOISE_LOOKAHEAD1 = 2,
       V_STFT_DENOISE_SNR = 3, N_VARIANTS = 4 };

static void make_cfg(limpid_config *cfg, int variant)
{
    switch (variant) {
    case V_STFT_DENOISE_NONCAUSAL:
        ck_assert_int_eq(limpid_config_preset(cfg, "tiny", LIMPID_TASK_DENOISE,
                                              LIMPID_DOMAIN_STFT, 16000), LIMPID_OK);
        cfg->n_fft = 8; /* Cx = 10 */
        cfg->hop = 2;
        cfg->lookahead = LIMPID_LOOKAHEAD_NONCAUSAL;
        break;
    case V_STFT_DENOISE_SNR: /* causal, log power + floor rows read as level above the floor */
        ck_assert_int_eq(limpid_config_preset(cfg, "tiny", LIMPID_TASK_DENOISE,
                                              LIMPID_DOMAIN_STFT, 16000), LIMPID_OK);
        cfg->n_fft = 8; /* Cx = 10, Cc = 10, Fs = 5 */
        cfg->hop = 2;
        cfg->lookahead = 0;
        cfg->head = LIMPID_HEAD_WIENER_FLOOR;
        cfg->cond = LIMPID_COND_LOGPOW_FLOOR;
        cfg->cond_snr = 1;
        break;
    case V_WAVE_TEXTURE_CAUSAL:
        ck_assert_int_eq(limpid_config_preset(cfg, "tiny", LIMPID_TASK_TEXTURE,
                                              LIMPID_DOMAIN_WAVE, 16000), LIMPID_OK);
        cfg->n_classes = 3;
        cfg->lookahead = 0;
        break;
    default:
        /* first layer (d = 1) centred, the others causal */
        ck_assert_int_eq(limpid_config_preset(cfg, "tiny", LIMPID_TASK_DENOISE,
                                              LIMPID_DOMAIN_WAVE, 16000), LIMPID_OK);
        cfg->lookahead = 1;
        break;
    }
    cfg->channels = 4;
    cfg->layers = 3;
    cfg->dilation_cycle = 2;
    cfg->embed_dim = 8;
    cfg->embed_hidden = 8;
    char err[256];
    ck_assert_msg(limpid_config_check(cfg, err, sizeof err) == LIMPID_OK, "%s", err);
}

typedef struct fixture {
    limpid_config cfg;
    lpi_net_layout L;
    int B, Lf, nc;
    float *P, *x, *cond, *R, *out;
    float t[2];
    int cls[2];
} fixture;

static void fixture_init(fixture *f, int variant, int B, int Lf, uint64_t seed)
{
    memset(f, 0, sizeof *f);
    make_cfg(&f->cfg, variant);
    ck_assert_int_eq(lpi_net_layout_init(&f->L, &f->cfg), LIMPID_OK);
    f->B = B;
    f->Lf = Lf;
    f->nc = B * Lf;
    const lpi_net_layout *L = &f->L;
    f->P = malloc(L->n_params * sizeof *f->P);
    f->x = malloc((size_t)L->Cx * f->nc * sizeof *f->x);
    f->cond = L->Cc ? malloc((size_t)L->Cc * f->nc * sizeof *f->cond) : NULL;
    f->R = malloc((size_t)L->Co * f->nc * sizeof *f->R);
    f->out = malloc((size_t)L->Co * f->nc * sizeof *f->out);
    ck_assert(f->P && f->x && f->R && f->out && (!L->Cc || f->cond));
    random_params(L, f->P, seed);
    lpi_rng r = lpi_rng_make(seed, 1, 2);
    for (int i = 0; i < L->Cx * f->nc; i++)
        f->x[i] = lpi_rng_normal(&r);
    for (int i = 0; i < L->Cc * f->nc; i++)
        f->cond[i] = lpi_rng_normal(&r);
    for (int i = 0; i < L->Co * f->nc; i++)
        f->R[i] = lpi_rng_normal(&r);
    f->t[0] = 3.7f;
    f->t[1] = 11.2f;
    f->cls[0] = L->K > 0 ? 2 : 0;
    f->cls[1] = 0;
}

static void fixture_free(fixture *f)
{
    free(f->P);
    free(f->x);
    free(f->cond);
    free(f->R);
    free(f->out);
    lpi_net_layout_free(&f->L);
}

static const int *fx_cls(const fixture *f) { return f->L.K > 0 ? f->cls : NULL; }

/* loss = sum(out .* R), accumulated in double */
static double loss_of(fixture *f, lpi_net_ws *ws)
{
    lpi_net_forward(&f->L, f->P, ws, f->x, f->cond, f->t, fx_cls(f), f->B, f->Lf, f->out);
    double s = 0.0;
    for (int i = 0; i < f->L.Co * f->nc; i++)
        s += (double)f->out[i] * f->R[i];
    return s;
}

/* ------------------------------------------------------------------------ */
/* Reference forward, double precision, straight from the table in internal.h. */

/* Hash of the on/off pattern of every ReLU in the last reference forward: a finite
 * difference whose +-h points have another pattern than the centre straddles a kink. */
static uint64_t g_relu_sig;
static double relu_d(double v)
{
    g_relu_sig = lpi_mix64(g_relu_sig + (v > 0 ? 1u : 2u));
    return v > 0 ? v : 0;
}
static double silu_d(double v) { return v / (1.0 + exp(-v)); }

static void ref_forward(const lpi_net_layout *L, const float *P, const float *x,
                        const float *cond, const float *t, const int *cls, int B, int Lf,
                        double *out)
{
    const int C = L->C, nc = B * Lf, H = L->H, E = L->E;
    double *h = calloc((size_t)C * nc, sizeof *h), *c = calloc((size_t)C * nc, sizeof *c);
    double *skip = calloc((size_t)C * nc, sizeof *skip), *y = calloc((size_t)C * nc, sizeof *y);
    double *z = calloc((size_t)C * nc, sizeof *z), *s = calloc((size_t)C * nc, sizeof *s);
    double *e = calloc((size_t)B * H, sizeof *e);
    g_relu_sig = 0;
    for (int o = 0; o < C; o++)
        for (int n = 0; n < nc; n++) {
            double v = P[L->in_b + o];
            for (int i = 0; i < L->Cx; i++)
                v += (double)P[L->in_w + (size_t)o * L->Cx + i] * x[(size_t)i * nc + n];
            h[(size_t)o * nc + n] = relu_d(v);
            if (L->Cc) {
                v = P[L->cond_b + o];
                for (int i = 0; i < L->Cc; i++) { /* cond_snr: rows Fs..2Fs minus rows 0..Fs */
                    double u = cond[(size_t)i * nc + n];
                    if (i >= L->Fs && i < 2 * L->Fs)
                        u = (double)cond[(size_t)(i - L->Fs) * nc + n] - u;
                    v += (double)P[L->cond_w + (size_t)o * L->Cc + i] * u;
                }
                c[(size_t)o * nc + n] = relu_d(v);
            }
        }
    for (int b = 0; b < B; b++) {
        double code[1024], e1[4096];
        for (int j = 0; j < E / 2; j++) {
            double a = t[b] * pow(10.0, 4.0 * j / (E / 2 - 1));
            code[j] = sin(a);
            code[E / 2 + j] = cos(a);
        }
        for (int o = 0; o < H; o++) {
            double v = P[L->fc1_b + o];
            for (int i = 0; i < E; i++)
                v += (double)P[L->fc1_w + (size_t)o * E + i] * (float)code[i];
            e1[o] = silu_d(v);
        }
        for (int o = 0; o < H; o++) {
            double v = P[L->fc2_b + o];
            for (int i = 0; i < H; i++)
                v += (double)P[L->fc2_w + (size_t)o * H + i] * e1[i];
            e[(size_t)b * H + o] = silu_d(v) + (L->K ? P[L->class_table + (size_t)cls[b] * H + o] : 0);
        }
    }
    for (int l = 0; l < L->N; l++) {
        const lpi_layer_off *ly = &L->layer[l];
        for (int b = 0; b < B; b++)
            for (int ch = 0; ch < C; ch++) {
                double p = P[ly->emb_b + ch];
                for (int i = 0; i < H; i++)
                    p += (double)P[ly->emb_w + (size_t)ch * H + i] * e[(size_t)b * H + i];
                for (int n = 0; n < Lf; n++)
                    y[(size_t)ch * nc + b * Lf + n] = h[(size_t)ch * nc + b * Lf + n] + p;
            }
        double *r = malloc((size_t)2 * C * sizeof *r);
        for (int b = 0; b < B; b++)
            for (int n = 0; n < Lf; n++) {
                const int col = b * Lf + n;
                double a[2 * 1024];
                for (int o = 0; o < 2 * C; o++) {
                    double v = P[ly->dil_b + o];
                    for (int k = 0; k < 3; k++) {
                        int m = n + ly->shift - (2 - k) * ly->dilation;
                        if (m < 0 || m >= Lf)
                            continue;
                        for (int i = 0; i < C; i++)
                            v += (double)P[ly->dil_w + (size_t)o * 3 * C + k * C + i] *
                                 y[(size_t)i * nc + b * Lf + m];
                    }
                    if (L->Cc)
                        for (int i = 0; i < C; i++)
                            v += (double)P[ly->cnd_w + (size_t)o * C + i] * c[(size_t)i * nc + col];
                    a[o] = v;
                }
                for (int o = 0; o < C; o++)
                    z[(size_t)o * nc + col] = tanh(a[o]) / (1.0 + exp(-a[C + o]));
            }
        for (int n = 0; n < nc; n++) {
            for (int o = 0; o < 2 * C; o++) {
                double v = P[ly->out_b + o];
                for (int i = 0; i < C; i++)
                    v += (double)P[ly->out_w + (size_t)o * C + i] * z[(size_t)i * nc + n];
                r[o] = v;
            }
            for (int o = 0; o < C; o++) {
                h[(size_t)o * nc + n] = (h[(size_t)o * nc + n] + r[o]) / sqrt(2.0);
                skip[(size_t)o * nc + n] += r[C + o];
            }
        }
        free(r);
    }
    for (int n = 0; n < nc; n++) {
        for (int o = 0; o < C; o++) {
            double v = P[L->skip_b + o];
            for (int i = 0; i < C; i++)
                v += (double)P[L->skip_w + (size_t)o * C + i] * skip[(size_t)i * nc + n] /
                     sqrt((double)L->N);
            s[(size_t)o * nc + n] = relu_d(v);
        }
        for (int o = 0; o < L->Co; o++) {
            double v = P[L->final_b + o];
            for (int i = 0; i < C; i++)
                v += (double)P[L->final_w + (size_t)o * C + i] * s[(size_t)i * nc + n];
            out[(size_t)o * nc + n] = v;
        }
    }
    free(h); free(c); free(skip); free(y); free(z); free(s); free(e);
}

START_TEST(test_forward_matches_reference)
{
    for (int v = 0; v < 2 * N_VARIANTS; v++) {
        const int Lf = v < N_VARIANTS ? 7 : 37; /* scalar tails only; vector bodies too */
        fixture f;
        fixture_init(&f, v % N_VARIANTS, 2, Lf, 11 + v);
        lpi_net_ws *ws = lpi_net_ws_create(&f.L, 2, Lf, 0);
        ck_assert_ptr_nonnull(ws);
        lpi_net_forward(&f.L, f.P, ws, f.x, f.cond, f.t, fx_cls(&f), 2, Lf, f.out);
        double *ref = malloc((size_t)f.L.Co * f.nc * sizeof *ref);
        ref_forward(&f.L, f.P, f.x, f.cond, f.t, fx_cls(&f), 2, Lf, ref);
        double maxref = 0, maxerr = 0;
        for (int i = 0; i < f.L.Co * f.nc; i++) {
            maxref = fmax(maxref, fabs(ref[i]));
            maxerr = fmax(maxerr, fabs(ref[i] - f.out[i]));
        }
        /* float32 products over <= 3C terms and the polynomial tanh/sigmoid (~2e-7 abs) */
        ck_assert_msg(maxerr <= 1e-5 * (1.0 + maxref), "variant %d: max error %g (max |out| %g)",
                      v, maxerr, maxref);
        ck_assert(maxref > 0.1); /* not vacuous */
        free(ref);
        lpi_net_ws_destroy(ws);
        fixture_free(&f);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Finite differences of loss = sum(out .* R), central, two ways per element:
 *  fd32: the float32 C forward, h = 1e-3, loss accumulated in double. Each evaluation carries
 *        float32 rounding; divided by 2h that is an error of ~1e-5..1e-4 per element, so the
 *        relative error of a tensor must be < 1e-2 (a wrong term or factor gives O(1)). For
 *        a tensor whose gradient is so small that this rounding noise (measured as
 *        |fd32 - fd64|) is above a third of that bound, fd32 cannot decide; fd64 judges.
 *  fd64: the double-precision reference forward above, h = 1e-6 (no float rounding; double
 *        rounding ~1e-10 and truncation ~h^2 are negligible; the float32 gradients carry
 *        ~1e-6 relative error): the gradient must match within 1e-4 relative.
 * ReLU is not differentiable at 0: an element whose +-h points switch any ReLU of the
 * reference straddles a kink, where a central difference is meaningless; it is left out of
 * that comparison. With h = 1e-6 that almost never happens; with h = 1e-3 it does now and
 * then (the test bounds how often). */
#define FD_H32 1e-3f
#define FD_H64 1e-6f
#define FD_TOL32 1e-2
#define FD_TOL64 1e-4

static double *g_ref_scratch;
static int g_fd_checked, g_fd_kinks32; /* elements compared, left out of fd32 */

static double ref_loss(fixture *f, uint64_t *sig)
{
    ref_forward(&f->L, f->P, f->x, f->cond, f->t, fx_cls(f), f->B, f->Lf, g_ref_scratch);
    *sig = g_relu_sig;
    double s = 0.0;
    for (int i = 0; i < f->L.Co * f->nc; i++)
        s += g_ref_scratch[i] * f->R[i];
    return s;
}

typedef struct fd_result {
    double rel32, rel64, noise32; /* noise32: |fd32 - fd64| relative to |g| + |fd64| */
} fd_result;

/* central difference of the loss over v[i] with step h: float C forward (fd32) or double
 * reference (fd64); *kink when a ReLU of the reference switches between the points */
static double central_diff(fixture *f, lpi_net_ws *ws, float *v, size_t i, float h, int ref,
                           uint64_t sig0, int *kink)
{
    uint64_t sp, sm;
    const float keep = v[i];
    v[i] = keep + h;
    double lp = ref ? ref_loss(f, &sp) : loss_of(f, ws);
    if (!ref)
        ref_loss(f, &sp);
    v[i] = keep - h;
    double lm = ref ? ref_loss(f, &sm) : loss_of(f, ws);
    if (!ref)
        ref_loss(f, &sm);
    v[i] = keep;
    *kink = sp != sig0 || sm != sig0;
    /* the step actually taken in float */
    return (lp - lm) / ((double)(keep + h) - (double)(keep - h));
}

/* g (analytic) against central differences over v[]: every element of small tensors, 64
 * random ones of big tensors */
static fd_result fd_check(fixture *f, lpi_net_ws *ws, float *v, const float *g, size_t count,
                          uint64_t seed)
{
    int all = count <= 200;
    size_t n_idx = all ? count : 64;
    lpi_rng r = lpi_rng_make(seed, 7, 7);
    double e32 = 0, e64 = 0, en = 0, ng32 = 0, ng64 = 0, n32 = 0, n64 = 0;
    int used64 = 0;
    uint64_t sig0;
    fd_result res = {0, 0, 0};
    ref_loss(f, &sig0);
    for (size_t q = 0; q < n_idx; q++) {
        size_t i = all ? q : (size_t)(lpi_rng_u64(&r) % count);
        int k32, k64;
        double fd32 = central_diff(f, ws, v, i, FD_H32, 0, sig0, &k32);
        double fd64 = central_diff(f, ws, v, i, FD_H64, 1, sig0, &k64);
        const double gi = g[i];
        if (!k64) {
            used64++;
            e64 += (fd64 - gi) * (fd64 - gi);
            ng64 += gi * gi;
            n64 += fd64 * fd64;
        }
        if (!k32 && !k64) {
            e32 += (fd32 - gi) * (fd32 - gi);
            en += (fd32 - fd64) * (fd32 - fd64);
            ng32 += gi * gi;
            n32 += fd32 * fd32;
        }
        g_fd_kinks32 += k32;
    }
    ck_assert_msg(used64 * 2 >= (int)n_idx, "%zu of %zu elements at kinks with h = 1e-6",
                  n_idx - used64, n_idx);
    g_fd_checked += (int)n_idx;
    res.rel32 = sqrt(e32) / fmax(sqrt(ng32) + sqrt(n32), 1e-6);
    res.rel64 = sqrt(e64) / fmax(sqrt(ng64) + sqrt(n64), 1e-6);
    res.noise32 = sqrt(en) / fmax(sqrt(ng32) + sqrt(n32), 1e-6);
    return res;
}

static void fd_assert(const fd_result *r, int variant, const char *name, double gnorm)
{
    ck_assert_msg(r->rel64 < FD_TOL64,
                  "variant %d %s: relative error %g against the double reference (|g| %g)",
                  variant, name, r->rel64, gnorm);
    if (r->noise32 < FD_TOL32 / 3)
        ck_assert_msg(r->rel32 < FD_TOL32,
                      "variant %d %s: relative error %g against float differences (|g| %g)",
                      variant, name, r->rel32, gnorm);
}

static void gradcheck_variant(int variant, int Lf)
{
    fixture f;
    fixture_init(&f, variant, 2, Lf, 100 + variant);
    const lpi_net_layout *L = &f.L;
    lpi_net_ws *ws = lpi_net_ws_create(L, 2, Lf, 1);
    ck_assert_ptr_nonnull(ws);
    float *G = calloc(L->n_params, sizeof *G);
    float *dx = malloc((size_t)L->Cx * f.nc * sizeof *dx);
    float *dcond = L->Cc ? malloc((size_t)L->Cc * f.nc * sizeof *dcond) : NULL;
    g_ref_scratch = malloc((size_t)L->Co * f.nc * sizeof *g_ref_scratch);
    loss_of(&f, ws);
    lpi_net_backward(L, f.P, ws, f.R, G, dx, dcond);

    int n_float_decided = 0, n_checks = 0;
    g_fd_checked = 0;
    g_fd_kinks32 = 0;
    for (int k = 0; k < L->n_tensors; k++) {
        const lpi_tensor_desc *td = &L->tensors[k];
        double gn = 0;
        for (size_t i = 0; i < td->count; i++)
            gn += (double)G[td->off + i] * G[td->off + i];
        /* every tensor gets a gradient here (the last layer's residual half is the one
         * exception, and it is only part of out.w/out.b) */
        ck_assert_msg(gn > 0, "variant %d tensor %s: zero gradient", variant, td->name);
        fd_result r = fd_check(&f, ws, f.P + td->off, G + td->off, td->count, k);
        fd_assert(&r, variant, td->name, sqrt(gn));
        n_float_decided += r.noise32 < FD_TOL32 / 3;
        n_checks++;
    }
    fd_result r = fd_check(&f, ws, f.x, dx, (size_t)L->Cx * f.nc, 1000);
    fd_assert(&r, variant, "dx", 0);
    n_float_decided += r.noise32 < FD_TOL32 / 3;
    n_checks++;
    if (L->Cc) {
        r = fd_check(&f, ws, f.cond, dcond, (size_t)L->Cc * f.nc, 1001);
        fd_assert(&r, variant, "dcond", 0);
        n_float_decided += r.noise32 < FD_TOL32 / 3;
        n_checks++;
    }
    /* kinks are rare, and the float differences decide most tensors: neither check is
     * hollowed out */
    ck_assert_msg(g_fd_kinks32 * 5 <= g_fd_checked, "variant %d: %d of %d elements at kinks",
                  variant, g_fd_kinks32, g_fd_checked);
    ck_assert_msg(n_float_decided * 4 >= n_checks * 3, "variant %d: float FD decided %d of %d",
                  variant, n_float_decided, n_checks);
    /* the last layer's residual half feeds nothing: exactly zero gradient */
    const lpi_layer_off *last = &L->layer[L->N - 1];
    for (int i = 0; i < L->C * L->C; i++)
        ck_assert(G[last->out_w + i] == 0.0f);
    for (int i = 0; i < L->C; i++)
        ck_assert(G[last->out_b + i] == 0.0f);

    free(g_ref_scratch);
    free(G);
    free(dx);
    free(dcond);
    lpi_net_ws_destroy(ws);
    fixture_free(&f);
}

/* Lf = 7 (B*Lf = 14 columns) runs only the scalar tails of the 16-wide elementwise loops;
 * Lf = 21 (42 columns, items of 21 frames) runs their vector bodies too. */
START_TEST(test_gradcheck_stft_denoise_noncausal)
{
    gradcheck_variant(V_STFT_DENOISE_NONCAUSAL, 7);
    gradcheck_variant(V_STFT_DENOISE_NONCAUSAL, 21);
}
END_TEST
START_TEST(test_gradcheck_wave_texture_causal)
{
    gradcheck_variant(V_WAVE_TEXTURE_CAUSAL, 7);
    gradcheck_variant(V_WAVE_TEXTURE_CAUSAL, 21);
}
END_TEST
START_TEST(test_gradcheck_wave_denoise_lookahead)
{
    gradcheck_variant(V_WAVE_DENOISE_LOOKAHEAD1, 7);
    gradcheck_variant(V_WAVE_DENOISE_LOOKAHEAD1, 21);
}
END_TEST
START_TEST(test_gradcheck_stft_denoise_snr)
{
    gradcheck_variant(V_STFT_DENOISE_SNR, 7);
    gradcheck_variant(V_STFT_DENOISE_SNR, 21);
}
END_TEST

/* ------------------------------------------------------------------------ */

START_TEST(test_grads_accumulate_and_dx_optional)
{
    for (int v = 0; v < N_VARIANTS; v++) {
        fixture f;
        fixture_init(&f, v, 2, 7, 200 + v);
        const lpi_net_layout *L = &f.L;
        lpi_net_ws *ws = lpi_net_ws_create(L, 2, 7, 1);
        float *G1 = calloc(L->n_params, sizeof *G1), *G2 = calloc(L->n_params, sizeof *G2);
        float *G3 = calloc(L->n_params, sizeof *G3);
        size_t nx = (size_t)L->Cx * f.nc, ncd = (size_t)L->Cc * f.nc;
        float *dx1 = malloc(nx * sizeof *dx1), *dx2 = malloc(nx * sizeof *dx2);
        float *dc1 = ncd ? malloc(ncd * sizeof *dc1) : NULL;
        float *dc2 = ncd ? malloc(ncd * sizeof *dc2) : NULL;
        loss_of(&f, ws);
        lpi_net_backward(L, f.P, ws, f.R, G1, dx1, dc1);
        /* twice on one forward: doubled; dx/dcond written, not accumulated */
        for (size_t i = 0; i < nx; i++)
            dx2[i] = 1e6f;
        for (size_t i = 0; i < ncd; i++)
            dc2[i] = -1e6f;
        lpi_net_backward(L, f.P, ws, f.R, G2, NULL, NULL);
        lpi_net_backward(L, f.P, ws, f.R, G2, dx2, dc2);
        for (size_t i = 0; i < L->n_params; i++)
            /* sgemm may add a product into a non-zero C in another order: float rounding */
            ck_assert_msg(fabsf(G2[i] - 2.0f * G1[i]) <= 1e-5f * (1.0f + fabsf(G1[i])),
                          "variant %d param %zu: %g vs 2*%g", v, i, G2[i], G1[i]);
        for (size_t i = 0; i < nx; i++)
            ck_assert(dx2[i] == dx1[i]);
        for (size_t i = 0; i < ncd; i++)
            ck_assert(dc2[i] == dc1[i]);
        /* dx = dcond = NULL gives the same parameter gradients */
        lpi_net_backward(L, f.P, ws, f.R, G3, NULL, NULL);
        for (size_t i = 0; i < L->n_params; i++)
            ck_assert(G3[i] == G1[i]);
        free(G1); free(G2); free(G3); free(dx1); free(dx2); free(dc1); free(dc2);
        lpi_net_ws_destroy(ws);
        fixture_free(&f);
    }
}
END_TEST

/* Impulse response in time: raising every input channel of item 0 at frame n0 changes output
 * frames [n0 - la, n0 + rf - 1 - la] of item 0 (la = total lookahead, rf = receptive field)
 * and nothing else; the two ends do change. Non-causal: la = (rf-1)/2, a symmetric window. */
START_TEST(test_receptive_field_and_causality)
{
    const int Lf = 24, B = 2, n0 = 12;
    for (int v = 0; v < N_VARIANTS; v++) {
        fixture f;
        fixture_init(&f, v, B, Lf, 300 + v);
        const lpi_net_layout *L = &f.L;
        const int rf = L->receptive_field, la = L->lookahead;
        if (v == V_STFT_DENOISE_NONCAUSAL)
            ck_assert_int_eq(la, (rf - 1) / 2);
        if (v == V_WAVE_TEXTURE_CAUSAL)
            ck_assert_int_eq(la, 0);
        if (v == V_WAVE_DENOISE_LOOKAHEAD1) {
            ck_assert_int_eq(la, 1);
            ck_assert_int_eq(L->layer[0].shift, 1);
            ck_assert_int_eq(L->layer[1].shift, 0);
        }
        lpi_net_ws *ws = lpi_net_ws_create(L, B, Lf, 0);
        const size_t no = (size_t)L->Co * f.nc;
        float *base = malloc(no * sizeof *base);
        lpi_net_forward(L, f.P, ws, f.x, f.cond, f.t, fx_cls(&f), B, Lf, base);
        for (int ch = 0; ch < L->Cx; ch++)
            f.x[(size_t)ch * f.nc + n0] += 1.0f;
        lpi_net_forward(L, f.P, ws, f.x, f.cond, f.t, fx_cls(&f), B, Lf, f.out);
        const int lo = n0 - la, hi = n0 + rf - 1 - la;
        ck_assert(lo >= 0 && hi < Lf);
        for (int n = 0; n < f.nc; n++) {
            int changed = 0;
            for (int o = 0; o < L->Co; o++)
                changed |= f.out[(size_t)o * f.nc + n] != base[(size_t)o * f.nc + n];
            int inside = n >= lo && n <= hi; /* item 0 only */
            if (!inside)
                ck_assert_msg(!changed, "variant %d: output frame %d changed (window %d..%d)",
                              v, n, lo, hi);
            if (n == lo || n == hi || n == n0)
                ck_assert_msg(changed, "variant %d: output frame %d did not change", v, n);
        }
        free(base);
        lpi_net_ws_destroy(ws);
        fixture_free(&f);
    }
}
END_TEST

/* Items are independent: changing item 0 (input, cond, step, class) leaves item 1 as is. */
START_TEST(test_items_independent)
{
    for (int v = 0; v < N_VARIANTS; v++) {
        fixture f;
        fixture_init(&f, v, 2, 7, 400 + v);
        const lpi_net_layout *L = &f.L;
        for (int train = 0; train < 2; train++) {
            lpi_net_ws *ws = lpi_net_ws_create(L, 2, 7, train);
            const size_t no = (size_t)L->Co * f.nc;
            float *base = malloc(no * sizeof *base);
            lpi_net_forward(L, f.P, ws, f.x, f.cond, f.t, fx_cls(&f), 2, 7, base);
            float *x2 = malloc((size_t)L->Cx * f.nc * sizeof *x2);
            memcpy(x2, f.x, (size_t)L->Cx * f.nc * sizeof *x2);
            for (int ch = 0; ch < L->Cx; ch++)
                for (int n = 0; n < 7; n++)
                    x2[(size_t)ch * f.nc + n] = 0.5f * n - 1.0f; /* item 0 only */
            if (L->Cc)
                for (int ch = 0; ch < L->Cc; ch++)
                    f.cond[(size_t)ch * f.nc + 3] += 2.0f;
            float t2[2] = {f.t[0] + 5.5f, f.t[1]};
            int c2[2] = {1, f.cls[1]};
            lpi_net_forward(L, f.P, ws, x2, f.cond, t2, L->K ? c2 : NULL, 2, 7, f.out);
            int changed0 = 0;
            for (int o = 0; o < L->Co; o++)
                for (int n = 0; n < 7; n++) {
                    ck_assert(f.out[(size_t)o * f.nc + 7 + n] == base[(size_t)o * f.nc + 7 + n]);
                    changed0 |= f.out[(size_t)o * f.nc + n] != base[(size_t)o * f.nc + n];
                }
            ck_assert(changed0);
            if (L->Cc)
                for (int ch = 0; ch < L->Cc; ch++)
                    f.cond[(size_t)ch * f.nc + 3] -= 2.0f;
            free(x2);
            free(base);
            lpi_net_ws_destroy(ws);
        }
        fixture_free(&f);
    }
}
END_TEST

/* Inference and training workspaces, and a workspace larger than the call (B < Bmax,
 * Lf < Lmax: tensors packed with ld = B*Lf), give the same output. */
START_TEST(test_workspaces_agree)
{
    for (int v = 0; v < N_VARIANTS; v++) {
        fixture f;
        fixture_init(&f, v, 2, 7, 500 + v);
        const lpi_net_layout *L = &f.L;
        const size_t no = (size_t)L->Co * f.nc;
        float *o1 = malloc(no * sizeof *o1), *o2 = malloc(no * sizeof *o2);
        lpi_net_ws *w_inf = lpi_net_ws_create(L, 2, 7, 0);
        lpi_net_ws *w_tr = lpi_net_ws_create(L, 2, 7, 1);
        lpi_net_ws *w_big = lpi_net_ws_create(L, 3, 20, 1);
        ck_assert(w_inf && w_tr && w_big);
        lpi_net_forward(L, f.P, w_inf, f.x, f.cond, f.t, fx_cls(&f), 2, 7, o1);
        lpi_net_forward(L, f.P, w_tr, f.x, f.cond, f.t, fx_cls(&f), 2, 7, o2);
        for (size_t i = 0; i < no; i++)
            ck_assert_msg(fabsf(o1[i] - o2[i]) <= 1e-6f * (1.0f + fabsf(o1[i])),
                          "variant %d: inference and training forward differ", v);
        /* a big run first so stale data sits in the buffers */
        float *xb = calloc((size_t)L->Cx * 60, sizeof *xb), *cb = calloc((size_t)L->Cc * 60 + 1, sizeof *cb);
        float *ob = malloc((size_t)L->Co * 60 * sizeof *ob);
        float tb[3] = {1, 2, 3};
        int clb[3] = {0, 1, 0};
        for (int i = 0; i < L->Cx * 60; i++)
            xb[i] = (float)(i % 7) - 3.0f;
        lpi_net_forward(L, f.P, w_big, xb, L->Cc ? cb : NULL, tb, L->K ? clb : NULL, 3, 20, ob);
        lpi_net_forward(L, f.P, w_big, f.x, f.cond, f.t, fx_cls(&f), 2, 7, o1);
        for (size_t i = 0; i < no; i++)
            ck_assert_msg(fabsf(o1[i] - o2[i]) <= 1e-6f * (1.0f + fabsf(o1[i])),
                          "variant %d: larger workspace differs", v);
        /* and its gradients equal those of the exact-size workspace */
        float *G1 = calloc(L->n_params, sizeof *G1), *G2 = calloc(L->n_params, sizeof *G2);
        lpi_net_backward(L, f.P, w_big, f.R, G1, NULL, NULL);
        lpi_net_backward(L, f.P, w_tr, f.R, G2, NULL, NULL);
        for (size_t i = 0; i < L->n_params; i++)
            ck_assert(fabsf(G1[i] - G2[i]) <= 1e-5f * (1.0f + fabsf(G2[i])));
        free(G1); free(G2); free(xb); free(cb); free(ob); free(o1); free(o2);
        lpi_net_ws_destroy(w_inf);
        lpi_net_ws_destroy(w_tr);
        lpi_net_ws_destroy(w_big);
        fixture_free(&f);
    }
}
END_TEST

/* A freshly initialised model (final.* = 0) outputs exactly 0 = final.b, whatever the input. */
START_TEST(test_init_outputs_zero)
{
    for (int v = 0; v < N_VARIANTS; v++) {
        fixture f;
        fixture_init(&f, v, 2, 7, 600 + v);
        lpi_net_init_params(&f.L, f.P, 1234);
        lpi_net_ws *ws = lpi_net_ws_create(&f.L, 2, 7, 0);
        for (size_t i = 0; i < (size_t)f.L.Co * f.nc; i++)
            f.out[i] = 1.0f;
        lpi_net_forward(&f.L, f.P, ws, f.x, f.cond, f.t, fx_cls(&f), 2, 7, f.out);
        for (size_t i = 0; i < (size_t)f.L.Co * f.nc; i++)
            ck_assert(f.out[i] == 0.0f);
        lpi_net_ws_destroy(ws);
        fixture_free(&f);
    }
}
END_TEST

/* Non-finite inputs come out non-finite (callers detect NaN/Inf after the network). */
/* Cached conditioning (inference): reused until lpi_net_cond_changed, then recomputed; the
 * cached result equals an uncached forward exactly. */
START_TEST(test_cond_cache)
{
    fixture f;
    fixture_init(&f, 0, 1, 9, 21); /* variant 0: STFT denoise, conditioned */
    const size_t no = (size_t)f.L.Co * f.nc;
    float *ref = malloc(no * sizeof *ref), *o2 = malloc(no * sizeof *o2);
    lpi_net_ws *plain = lpi_net_ws_create(&f.L, 1, 9, 0), *cached = lpi_net_ws_create(&f.L, 1, 9, 0);
    lpi_net_ws_cache_cond(cached, 1);
    lpi_net_forward(&f.L, f.P, plain, f.x, f.cond, f.t, NULL, 1, 9, ref);
    lpi_net_forward(&f.L, f.P, cached, f.x, f.cond, f.t, NULL, 1, 9, o2);
    ck_assert(memcmp(ref, o2, no * sizeof *ref) == 0);
    for (int i = 0; i < f.L.Cc * f.nc; i++)
        f.cond[i] *= -0.5f;
    lpi_net_forward(&f.L, f.P, cached, f.x, f.cond, f.t, NULL, 1, 9, o2); /* stale c kept */
    ck_assert(memcmp(ref, o2, no * sizeof *ref) == 0);
    lpi_net_cond_changed(cached);
    lpi_net_forward(&f.L, f.P, cached, f.x, f.cond, f.t, NULL, 1, 9, o2);
    lpi_net_forward(&f.L, f.P, plain, f.x, f.cond, f.t, NULL, 1, 9, ref);
    ck_assert(memcmp(ref, o2, no * sizeof *ref) == 0);
    ck_assert(memcmp(ref, o2, no * sizeof *ref) == 0);
    lpi_net_ws_destroy(plain);
    lpi_net_ws_destroy(cached);
    free(ref);
    free(o2);
    fixture_free(&f);
}
END_TEST

START_TEST(test_nan_propagates)
{
    fixture f;
    fixture_init(&f, V_WAVE_TEXTURE_CAUSAL, 2, 7, 700);
    lpi_net_ws *ws = lpi_net_ws_create(&f.L, 2, 7, 0);
    f.P[f.L.layer[0].dil_b] = NAN;
    lpi_net_forward(&f.L, f.P, ws, f.x, f.cond, f.t, fx_cls(&f), 2, 7, f.out);
    int bad = 0;
    for (size_t i = 0; i < (size_t)f.L.Co * f.nc; i++)
        bad |= !isfinite(f.out[i]);
    ck_assert(bad);
    lpi_net_ws_destroy(ws);
    fixture_free(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_forward_matches_reference);
    tcase_add_test(tc, test_gradcheck_stft_denoise_noncausal);
    tcase_add_test(tc, test_gradcheck_wave_texture_causal);
    tcase_add_test(tc, test_gradcheck_wave_denoise_lookahead);
    tcase_add_test(tc, test_gradcheck_stft_denoise_snr);
    tcase_add_test(tc, test_grads_accumulate_and_dx_optional);
    tcase_add_test(tc, test_receptive_field_and_causality);
    tcase_add_test(tc, test_items_independent);
    tcase_add_test(tc, test_workspaces_agree);
    tcase_add_test(tc, test_init_outputs_zero);
    tcase_add_test(tc, test_nan_propagates);
    tcase_add_test(tc, test_cond_cache);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
