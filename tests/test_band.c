/* test_band.c - the band-resolved stack (core/src/band.c, limpid_config.bands): the band
 * table, the inputs against a direct double computation, the spread and its transpose,
 * finite-difference gradients of the whole band network (every tensor), item and band
 * independence where they must hold, a model file round trip, the offline denoiser running
 * it, the streaming engine refusing it, and the configuration checks. */
#include "internal.h"

#include <check.h>
#include <stdlib.h>

#include "net_params.h"

static void band_cfg(limpid_config *cfg, int gate, int NB, int R)
{
    ck_assert_int_eq(limpid_config_preset(cfg, "tiny", LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT,
                                          16000), LIMPID_OK);
    cfg->n_fft = 64; /* F = 33 */
    cfg->hop = 16;
    cfg->lookahead = 0;
    cfg->head = LIMPID_HEAD_WIENER_FLOOR;
    cfg->cond = LIMPID_COND_LOGPOW_FLOOR;
    cfg->floor_gate = gate;
    cfg->bands = NB;
    cfg->band_context = R;
    cfg->channels = 4;
    cfg->layers = 3;
    cfg->dilation_cycle = 2;
    cfg->embed_dim = 8;
    cfg->embed_hidden = 8;
    char err[256];
    ck_assert_msg(limpid_config_check(cfg, err, sizeof err) == LIMPID_OK, "%s", err);
}

/* The table: centres strictly rising from bin 0 to F - 1, weights in [0, 1] with each bin's
 * two summing to 1, bands in range; a constant spreads to the same constant; spread_bwd is
 * spread's transpose */
START_TEST(test_table_and_spread)
{
    const int sizes[][2] = {{33, 4}, {33, 8}, {513, 32}, {513, 64}, {257, 22}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        const int F = sizes[s][0], NB = sizes[s][1];
        lpi_band *b = lpi_band_create(F, NB, 2, 24000.0);
        ck_assert_ptr_nonnull(b);
        ck_assert_int_eq(lpi_band_centre(b, 0), 0);
        ck_assert_int_eq(lpi_band_centre(b, NB - 1), F - 1);
        for (int k = 1; k < NB; k++)
            ck_assert_int_gt(lpi_band_centre(b, k), lpi_band_centre(b, k - 1));
        for (int f = 0; f < F; f++) {
            int k0;
            float w0;
            lpi_band_weights(b, f, &k0, &w0);
            ck_assert(k0 >= 0 && k0 + 1 < NB && w0 >= 0.0f && w0 <= 1.0f);
            ck_assert(f >= lpi_band_centre(b, k0) && f <= lpi_band_centre(b, k0 + 1));
        }
        /* ERB spacing: the lowest bands are narrower than the highest */
        ck_assert_int_lt(lpi_band_centre(b, 1) - lpi_band_centre(b, 0),
                         lpi_band_centre(b, NB - 1) - lpi_band_centre(b, NB - 2));
        const int B = 2, Lf = 5, rows = 3;
        const size_t nc = (size_t)B * Lf, ncb = nc * NB;
        float *bo = malloc(rows * ncb * sizeof *bo), *out = malloc((size_t)rows * F * nc * sizeof *out);
        float *d = malloc((size_t)rows * F * nc * sizeof *d), *dbo = malloc(rows * ncb * sizeof *dbo);
        ck_assert(bo && out && d && dbo);
        for (size_t i = 0; i < rows * ncb; i++)
            bo[i] = 0.75f;
        lpi_band_spread(b, rows, bo, B, Lf, out);
        for (size_t i = 0; i < (size_t)rows * F * nc; i++)
            ck_assert_float_eq_tol(out[i], 0.75f, 1e-6f);
        lpi_rng r = lpi_rng_make(7, (uint64_t)s, 1);
        for (size_t i = 0; i < rows * ncb; i++)
            bo[i] = lpi_rng_normal(&r);
        for (size_t i = 0; i < (size_t)rows * F * nc; i++)
            d[i] = lpi_rng_normal(&r);
        lpi_band_spread(b, rows, bo, B, Lf, out);
        lpi_band_spread_bwd(b, rows, d, B, Lf, dbo);
        double lhs = 0, rhs = 0, mag = 0;
        for (size_t i = 0; i < (size_t)rows * F * nc; i++) {
            lhs += (double)out[i] * d[i];
            mag += fabs((double)out[i] * d[i]);
        }
        for (size_t i = 0; i < rows * ncb; i++)
            rhs += (double)bo[i] * dbo[i];
        ck_assert_msg(fabs(lhs - rhs) < 1e-5 * mag, "<spread a, d> %g, <a, spread' d> %g", lhs, rhs);
        free(bo); free(out); free(d); free(dbo);
        lpi_band_destroy(b);
    }
    ck_assert_ptr_null(lpi_band_create(33, 34, 0, 8000.0)); /* more bands than bins */
    ck_assert_ptr_null(lpi_band_create(33, 1, 0, 8000.0));
}
END_TEST

static double lev_d(double e) { return (log(e + 1e-6) + 6.0) / 3.0; }

/* Every input row of a few (item, band, frame) against the formula of band.c's header,
 * computed here in double from the bins with the weights of the table */
START_TEST(test_inputs_reference)
{
    const int F = 33, NB = 6, R = 2, B = 2, Lf = 4;
    lpi_band *b = lpi_band_create(F, NB, R, 8000.0);
    ck_assert_ptr_nonnull(b);
    const size_t nc = (size_t)B * Lf, ncb = nc * NB;
    const int Cc = lpi_band_cond_rows(NB, R), W = 2 * R + 1;
    ck_assert_int_eq(Cc, 2 * W + 2 * NB);
    float *x = malloc((size_t)2 * F * nc * sizeof *x), *cond = malloc((size_t)2 * F * nc * sizeof *cond);
    float *bx = malloc(ncb * sizeof *bx), *bc = malloc((size_t)Cc * ncb * sizeof *bc);
    float *scr = malloc(lpi_band_scratch(b, nc) * sizeof *scr);
    ck_assert(x && cond && bx && bc && scr);
    lpi_rng r = lpi_rng_make(3, 1, 1);
    for (size_t i = 0; i < (size_t)2 * F * nc; i++) {
        x[i] = lpi_rng_normal(&r);
        cond[i] = 0.3f * lpi_rng_normal(&r) + 1.0f; /* log rows around a level of e^-3 */
    }
    lpi_band_inputs(b, x, cond, B, Lf, bx, bc, scr);
    /* the band levels in double: lp (noisy), lm (floor), lx (x_t), [NB] per column */
    for (int bi = 0; bi < B; bi++)
        for (int n = 0; n < Lf; n++) {
            const size_t j = (size_t)bi * Lf + n;
            double sp[64] = {0}, sm[64] = {0}, sx[64] = {0}, sw[64] = {0};
            for (int f = 0; f < F; f++) {
                int k0;
                float w0;
                lpi_band_weights(b, f, &k0, &w0);
                const double pw = exp(3.0 * cond[(size_t)f * nc + j] - 6.0);
                const double mw = exp(3.0 * cond[(size_t)(F + f) * nc + j] - 6.0);
                const double re = x[(size_t)f * nc + j], im = x[(size_t)(F + f) * nc + j];
                const double xw = re * re + im * im;
                const double w[2] = {w0, 1.0 - w0};
                for (int q = 0; q < 2; q++) {
                    sp[k0 + q] += w[q] * pw;
                    sm[k0 + q] += w[q] * mw;
                    sx[k0 + q] += w[q] * xw;
                    sw[k0 + q] += w[q];
                }
            }
            for (int k = 0; k < NB; k++) {
                const size_t col = ((size_t)bi * NB + k) * Lf + n;
                ck_assert_float_eq_tol(bx[col], lev_d(sx[k] / sw[k]), 2e-5);
                for (int jj = -R; jj <= R; jj++) {
                    const int kk = k + jj < 0 ? 0 : k + jj >= NB ? NB - 1 : k + jj;
                    ck_assert_float_eq_tol(bc[(size_t)(jj + R) * ncb + col], lev_d(sp[kk] / sw[kk]), 2e-5);
                    ck_assert_float_eq_tol(bc[(size_t)(W + jj + R) * ncb + col], lev_d(sm[kk] / sw[kk]), 2e-5);
                }
                for (int kk = 0; kk < NB; kk++) {
                    ck_assert(bc[(size_t)(2 * W + kk) * ncb + col] == (kk == k ? 1.0f : 0.0f));
                    ck_assert_float_eq_tol(bc[(size_t)(2 * W + NB + kk) * ncb + col],
                                           lev_d(sp[kk] / sw[kk]), 2e-5);
                }
            }
        }
    free(x); free(cond); free(bx); free(bc); free(scr);
    lpi_band_destroy(b);
}
END_TEST

typedef struct bfix {
    limpid_config cfg;
    lpi_net_layout L;
    int B, Lf;
    size_t nc;
    float *P, *x, *cond, *R, *out;
    float t[2];
} bfix;

static void bfix_init(bfix *f, int gate, int B, int Lf)
{
    memset(f, 0, sizeof *f);
    band_cfg(&f->cfg, gate, 5, 1);
    ck_assert_int_eq(lpi_net_layout_init(&f->L, &f->cfg), LIMPID_OK);
    const lpi_net_layout *L = &f->L;
    ck_assert_ptr_nonnull(L->band);
    ck_assert_int_eq(L->Cx, 66);
    ck_assert_int_eq(L->Cc, 66);
    ck_assert_int_eq(L->Co, gate ? 99 : 66);
    ck_assert_int_eq(L->band->in.Cx, 1);
    ck_assert_int_eq(L->band->in.Cc, lpi_band_cond_rows(5, 1));
    ck_assert_int_eq(L->band->in.Co, gate ? 3 : 2);
    ck_assert_uint_eq(L->n_params, L->band->in.n_params);
    f->B = B;
    f->Lf = Lf;
    f->nc = (size_t)B * Lf;
    f->P = malloc(L->n_params * sizeof *f->P);
    f->x = malloc((size_t)L->Cx * f->nc * sizeof *f->x);
    f->cond = malloc((size_t)L->Cc * f->nc * sizeof *f->cond);
    f->R = malloc((size_t)L->Co * f->nc * sizeof *f->R);
    f->out = malloc((size_t)L->Co * f->nc * sizeof *f->out);
    ck_assert(f->P && f->x && f->cond && f->R && f->out);
    random_params(L, f->P, 11);
    lpi_rng r = lpi_rng_make(5, 1, 2);
    for (size_t i = 0; i < (size_t)L->Cx * f->nc; i++)
        f->x[i] = lpi_rng_normal(&r);
    for (size_t i = 0; i < (size_t)L->Cc * f->nc; i++)
        f->cond[i] = 0.3f * lpi_rng_normal(&r) + 1.0f;
    for (size_t i = 0; i < (size_t)L->Co * f->nc; i++)
        f->R[i] = lpi_rng_normal(&r);
    f->t[0] = 3.7f;
    f->t[1] = 11.2f;
}

static void bfix_free(bfix *f)
{
    free(f->P); free(f->x); free(f->cond); free(f->R); free(f->out);
    lpi_net_layout_free(&f->L);
}

static double bloss(bfix *f, lpi_net_ws *ws)
{
    lpi_net_forward(&f->L, f->P, ws, f->x, f->cond, f->t, NULL, f->B, f->Lf, f->out);
    double s = 0.0;
    for (size_t i = 0; i < (size_t)f->L.Co * f->nc; i++)
        s += (double)f->out[i] * f->R[i];
    return s;
}

/* Central differences in float (h = 1e-3: small enough that few relu kinks are straddled,
 * large enough that float rounding of the loss stays below 1e-3 of most gradients) against
 * the analytic gradient of loss = sum(out .* R), every tensor of the band network; the
 * relative error of the checked elements' vector stays below 1e-2 (seen: 4e-6 .. 5e-3; a
 * spread whose transpose swaps the two weights gives errors of order 1) */
static void gradcheck(int gate, int Lf)
{
    bfix f;
    bfix_init(&f, gate, 2, Lf);
    const lpi_net_layout *L = &f.L;
    lpi_net_ws *ws = lpi_net_ws_create(L, 2, Lf, 1);
    ck_assert_ptr_nonnull(ws);
    float *G = calloc(L->n_params, sizeof *G);
    ck_assert_ptr_nonnull(G);
    bloss(&f, ws);
    lpi_net_backward(L, f.P, ws, f.R, G, NULL, NULL);
    const float h = 1e-3f;
    for (int k = 0; k < L->n_tensors; k++) {
        const lpi_tensor_desc *td = &L->tensors[k];
        const int all = td->count <= 48;
        const size_t n = all ? td->count : 48;
        lpi_rng r = lpi_rng_make(17, (uint64_t)k, 3);
        double e = 0, ng = 0, nf = 0;
        for (size_t q = 0; q < n; q++) {
            const size_t i = td->off + (all ? q : (size_t)(lpi_rng_u64(&r) % td->count));
            const float keep = f.P[i];
            f.P[i] = keep + h;
            const double lp = bloss(&f, ws);
            f.P[i] = keep - h;
            const double lm = bloss(&f, ws);
            f.P[i] = keep;
            const double fd = (lp - lm) / (2.0 * h);
            e += (fd - G[i]) * (fd - G[i]);
            ng += (double)G[i] * G[i];
            nf += fd * fd;
        }
        ck_assert_msg(ng > 0, "gate %d tensor %s: zero gradient", gate, td->name);
        const double rel = sqrt(e) / (sqrt(ng) + sqrt(nf));
        ck_assert_msg(rel < 1e-2, "gate %d Lf %d tensor %s: relative error %g (|g| %g)", gate, Lf,
                      td->name, rel, sqrt(ng));
    }
    free(G);
    lpi_net_ws_destroy(ws);
    bfix_free(&f);
}

START_TEST(test_gradcheck)
{
    /* 2 items x 5 bands x 7 frames: 70 columns, so the stack's 16-wide elementwise loops run
     * their vector bodies and their tails */
    gradcheck(1, 7);
    gradcheck(0, 7);
}
END_TEST

/* A second call with an accumulating gradient doubles it; item 1's output does not depend on
 * item 0's input; an inference workspace (with the cached conditioning) gives the training
 * one's output; changing one bin's input changes the outputs of the bins of its two bands
 * and their context neighbours only through the stack (every output bin can move), while a
 * change to x_t alone leaves the conditioning cache's result equal to a fresh forward */
START_TEST(test_items_and_workspaces)
{
    bfix f;
    bfix_init(&f, 1, 2, 9);
    const lpi_net_layout *L = &f.L;
    const size_t no = (size_t)L->Co * f.nc;
    lpi_net_ws *wt = lpi_net_ws_create(L, 2, 9, 1), *wi = lpi_net_ws_create(L, 2, 9, 0);
    ck_assert(wt && wi);
    float *o1 = malloc(no * sizeof *o1), *o2 = malloc(no * sizeof *o2);
    float *G1 = calloc(L->n_params, sizeof *G1), *G2 = calloc(L->n_params, sizeof *G2);
    ck_assert(o1 && o2 && G1 && G2);
    lpi_net_forward(L, f.P, wt, f.x, f.cond, f.t, NULL, 2, 9, o1);
    lpi_net_backward(L, f.P, wt, f.R, G1, NULL, NULL);
    lpi_net_backward(L, f.P, wt, f.R, G2, NULL, NULL);
    lpi_net_backward(L, f.P, wt, f.R, G2, NULL, NULL);
    for (size_t i = 0; i < L->n_params; i++)
        ck_assert_float_eq_tol(G2[i], 2.0f * G1[i], 1e-5f * (1.0f + fabsf(G1[i])));
    lpi_net_ws_cache_cond(wi, 1);
    lpi_net_forward(L, f.P, wi, f.x, f.cond, f.t, NULL, 2, 9, o2);
    for (size_t i = 0; i < no; i++)
        ck_assert_float_eq_tol(o2[i], o1[i], 1e-5f);
    /* x_t changes, the cache stays: the result is a fresh forward's */
    for (size_t i = 0; i < (size_t)L->Cx * f.nc; i++)
        f.x[i] *= 0.5f;
    lpi_net_forward(L, f.P, wi, f.x, f.cond, f.t, NULL, 2, 9, o2);
    lpi_net_forward(L, f.P, wt, f.x, f.cond, f.t, NULL, 2, 9, o1);
    for (size_t i = 0; i < no; i++)
        ck_assert_float_eq_tol(o2[i], o1[i], 1e-5f);
    /* item 0's conditioning changes: item 1's outputs do not */
    for (int r = 0; r < L->Cc; r++)
        for (int n = 0; n < 9; n++)
            f.cond[(size_t)r * f.nc + n] += 0.5f;
    lpi_net_cond_changed(wi);
    lpi_net_forward(L, f.P, wi, f.x, f.cond, f.t, NULL, 2, 9, o2);
    int moved0 = 0;
    for (int r = 0; r < L->Co; r++)
        for (int n = 0; n < 18; n++) {
            const size_t i = (size_t)r * f.nc + n;
            if (n >= 9)
                ck_assert_float_eq_tol(o2[i], o1[i], 1e-6f);
            else
                moved0 += fabsf(o2[i] - o1[i]) > 1e-5f;
        }
    ck_assert_int_gt(moved0, L->Co * 9 / 2);
    free(o1); free(o2); free(G1); free(G2);
    lpi_net_ws_destroy(wt);
    lpi_net_ws_destroy(wi);
    bfix_free(&f);
}
END_TEST

/* A band model saved and loaded keeps its configuration and weights and denoises the same
 * samples; the offline denoiser runs it; the streaming engine refuses it */
START_TEST(test_model_round_trip_and_denoise)
{
    limpid_config cfg;
    band_cfg(&cfg, 1, 6, 2);
    limpid_model *m = NULL, *m2 = NULL;
    ck_assert_int_eq(limpid_model_create(&m, &cfg, 5), LIMPID_OK);
    random_params(&m->layout, m->params, 23);
    void *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(limpid_model_save_memory(m, &buf, &len), LIMPID_OK);
    char err[256] = "";
    ck_assert_msg(limpid_model_load_memory(&m2, buf, len, err, sizeof err) == LIMPID_OK, "%s", err);
    limpid_free(buf);
    ck_assert_int_eq(limpid_model_config(m2)->bands, 6);
    ck_assert_int_eq(limpid_model_config(m2)->band_context, 2);
    ck_assert_uint_eq(m2->layout.n_params, m->layout.n_params);
    ck_assert(memcmp(m2->params, m->params, m->layout.n_params * sizeof *m->params) == 0);
    limpid_model_info mi;
    limpid_model_get_info(m2, &mi);
    ck_assert(mi.macs_per_frame > 6.0 * m->layout.band->in.macs_per_frame);

    const size_t n = 4000;
    float *in = malloc(n * sizeof *in), *o1 = malloc(n * sizeof *o1), *o2 = malloc(n * sizeof *o2);
    ck_assert(in && o1 && o2);
    lpi_rng r = lpi_rng_make(9, 9, 9);
    for (size_t i = 0; i < n; i++)
        in[i] = 0.3f * sinf(0.05f * (float)i) + 0.05f * lpi_rng_normal(&r);
    limpid_ctx *c1 = NULL, *c2 = NULL;
    ck_assert_int_eq(limpid_ctx_create(&c1, m, 0), LIMPID_OK);
    ck_assert_int_eq(limpid_ctx_create(&c2, m2, 0), LIMPID_OK);
    limpid_sample_opts so;
    limpid_sample_opts_default(&so);
    so.steps = 2;
    ck_assert_int_eq(limpid_denoise(c1, in, n, o1, &so), LIMPID_OK);
    ck_assert_int_eq(limpid_denoise(c2, in, n, o2, &so), LIMPID_OK);
    double diff = 0, e = 0;
    for (size_t i = 0; i < n; i++) {
        ck_assert(isfinite(o1[i]));
        ck_assert(o1[i] == o2[i]);
        diff += fabs((double)o1[i] - in[i]);
        e += fabs((double)in[i]);
    }
    ck_assert_msg(diff > 1e-3 * e, "random weights left the input unchanged");

    limpid_stream *st = NULL;
    limpid_stream_opts sopt;
    limpid_stream_opts_default(&sopt);
    sopt.sample_rate = 16000;
    ck_assert_int_eq(limpid_stream_create(&st, m, &sopt), LIMPID_ERR_UNSUPPORTED);
    ck_assert_ptr_null(st);
    free(in); free(o1); free(o2);
    limpid_ctx_destroy(c1);
    limpid_ctx_destroy(c2);
    limpid_model_destroy(m);
    limpid_model_destroy(m2);
}
END_TEST

START_TEST(test_config_checks)
{
    limpid_config cfg;
    char err[256];
    band_cfg(&cfg, 0, 8, 0);
    cfg.bands = 3;
    ck_assert_int_eq(limpid_config_check(&cfg, err, sizeof err), LIMPID_ERR_INVALID);
    cfg.bands = 9; /* n_fft / 8 = 8 */
    ck_assert_int_eq(limpid_config_check(&cfg, err, sizeof err), LIMPID_ERR_INVALID);
    ck_assert_msg(strstr(err, "n_fft") != NULL, "%s", err);
    cfg.bands = 8;
    cfg.band_context = 17;
    ck_assert_int_eq(limpid_config_check(&cfg, err, sizeof err), LIMPID_ERR_INVALID);
    cfg.band_context = 16;
    ck_assert_int_eq(limpid_config_check(&cfg, err, sizeof err), LIMPID_OK);
    cfg.bands = 0;
    ck_assert_int_eq(limpid_config_check(&cfg, err, sizeof err), LIMPID_ERR_INVALID);
    ck_assert_msg(strstr(err, "band_context") != NULL, "%s", err);
    band_cfg(&cfg, 0, 8, 0);
    cfg.cond_snr = 1;
    ck_assert_int_eq(limpid_config_check(&cfg, err, sizeof err), LIMPID_ERR_INVALID);
    band_cfg(&cfg, 0, 8, 0);
    cfg.head = LIMPID_HEAD_GAIN;
    ck_assert_int_eq(limpid_config_check(&cfg, err, sizeof err), LIMPID_ERR_INVALID);
    band_cfg(&cfg, 0, 8, 0);
    cfg.front_hidden = 4;
    cfg.front_frames = 1;
    ck_assert_int_eq(limpid_config_check(&cfg, err, sizeof err), LIMPID_ERR_INVALID);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("band");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_table_and_spread);
    tcase_add_test(tc, test_inputs_reference);
    tcase_add_test(tc, test_gradcheck);
    tcase_add_test(tc, test_items_and_workspaces);
    tcase_add_test(tc, test_model_round_trip_and_denoise);
    tcase_add_test(tc, test_config_checks);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
