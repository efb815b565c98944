/* test_head.c - finite-difference check of the output heads' backward (GAIN, WIENER,
 * WIENER_REL, WIENER_FLOOR), their identity at initialisation, the conditioning features and
 * the noise-floor track of LOGPOW_FLOOR. */
#include "internal.h"

#include <check.h>
#include <stdlib.h>

static double loss_of(const limpid_config *cfg, const float *out, const float *cond,
                      const float *nc, const float *xt, const float *R, size_t cols, float *pred)
{
    lpi_head_forward(cfg, out, cond, nc, xt, cols, pred);
    const size_t cnt = (size_t)limpid_config_feature_channels(cfg) * cols;
    double l = 0;
    for (size_t i = 0; i < cnt; i++)
        l += (double)pred[i] * R[i];
    return l;
}

static void check_head_gate(limpid_head head, int gate)
{
    limpid_config cfg;
    ck_assert_int_eq(limpid_config_preset(&cfg, "tiny", LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT,
                                          16000), LIMPID_OK);
    cfg.n_fft = 8;
    cfg.hop = 2;
    cfg.head = head;
    cfg.cond = head == LIMPID_HEAD_WIENER_FLOOR ? LIMPID_COND_LOGPOW_FLOOR : LIMPID_COND_LOGPOW;
    cfg.floor_gate = gate; /* a third output row per bin: the gate's o3 */
    ck_assert_int_eq(limpid_config_check(&cfg, NULL, 0), LIMPID_OK);
    const size_t cols = 5, cnt = (size_t)limpid_config_feature_channels(&cfg) * cols;
    const size_t cno = cnt + (gate ? cnt / 2 : 0);
    float *out = malloc(cno * 4), *cond = malloc(cnt * 4), *xt = malloc(cnt * 4),
          *R = malloc(cnt * 4), *pred = malloc(cnt * 4), *dout = malloc(cno * 4),
          *ncb = malloc(cnt * 4);
    lpi_rng r = lpi_rng_make(3, 1, 4);
    for (size_t i = 0; i < cnt; i++) {
        out[i] = 0.5f * lpi_rng_normal(&r) + (head == LIMPID_HEAD_WIENER ? 2.5f : 0.0f);
        cond[i] = 0.3f * lpi_rng_normal(&r);
        xt[i] = lpi_rng_normal(&r);
        R[i] = lpi_rng_normal(&r);
    }
    for (size_t i = cnt; i < cno; i++) /* o3 around 3: the gate s near 1/2, where it bends */
        out[i] = 3.0f + 1.5f * lpi_rng_normal(&r);
    const float *nc = lpi_cond_features(&cfg, cond, cols, cols, 0, NULL, ncb);
    lpi_head_backward(&cfg, R, cond, nc, xt, out, cols, dout); /* dL/dpred = R */
    /* central differences, h = 1e-3 in float: relative error bound 1e-2 per element plus a
     * small absolute slack for near-zero gradients (float32 forward) */
    for (size_t i = 0; i < cno; i++) {
        float keep = out[i];
        out[i] = keep + 1e-3f;
        double lp = loss_of(&cfg, out, cond, nc, xt, R, cols, pred);
        out[i] = keep - 1e-3f;
        double lm = loss_of(&cfg, out, cond, nc, xt, R, cols, pred);
        out[i] = keep;
        double fd = (lp - lm) / 2e-3;
        ck_assert_msg(fabs(fd - dout[i]) <= 1e-2 * fabs(fd) + 2e-3,
                      "head %d element %zu: analytic %g, finite difference %g", (int)head, i,
                      (double)dout[i], fd);
    }
    free(out); free(cond); free(xt); free(R); free(pred); free(dout); free(ncb);
}

static void check_head(limpid_head head) { check_head_gate(head, 0); }

START_TEST(test_gain_grad) { check_head(LIMPID_HEAD_GAIN); }
END_TEST
START_TEST(test_wiener_grad) { check_head(LIMPID_HEAD_WIENER); }
END_TEST
START_TEST(test_wiener_rel_grad) { check_head(LIMPID_HEAD_WIENER_REL); }
END_TEST
START_TEST(test_wiener_floor_grad) { check_head(LIMPID_HEAD_WIENER_FLOOR); }
END_TEST
START_TEST(test_floor_gate_grad) { check_head_gate(LIMPID_HEAD_WIENER_FLOOR, 1); }
END_TEST


/* An 8 kHz / n_fft 8 / hop 4 (2000 frames per second) STFT-denoiser config with LOGPOW_FLOOR
 * conditioning and its WIENER_FLOOR head; F bins. */
static void floor_config(limpid_config *cfg, int *F)
{
    limpid_config_preset(cfg, "tiny", LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT, 8000);
    cfg->sample_rate = 8000;
    cfg->n_fft = 8;
    cfg->hop = 4;
    cfg->cond = LIMPID_COND_LOGPOW_FLOOR;
    cfg->head = LIMPID_HEAD_WIENER_FLOOR;
    ck_assert_int_eq(limpid_config_check(cfg, NULL, 0), LIMPID_OK);
    *F = limpid_config_feature_channels(cfg) / 2;
}

static float feat_to_power(float v) { return expf(3.0f * v - 6.0f) - 1e-6f; }

/* The tracks streamed: spec [2F][ld] one column per call with state ([3F], from "not
 * started"); each column's first rows outputs equal o [rows][ld], the whole signal's. */
static void assert_stream_equals(const limpid_config *cfg, int F, const float *spec,
                                 const float *o, size_t ld, int n, int rows)
{
    float st[96], col[64], oc[96];
    ck_assert_int_le(2 * F, 64);
    ck_assert_int_le(rows, 96);
    for (int f = 0; f < F; f++)
        st[f] = -1.0f;
    for (int k = 0; k < n; k++) {
        for (int f = 0; f < 2 * F; f++)
            col[f] = spec[(size_t)f * ld + k];
        lpi_cond_features(cfg, col, 1, 1, 0, st, oc);
        for (int f = 0; f < rows; f++)
            ck_assert_msg(oc[f] == o[(size_t)f * ld + k], "stream row %d frame %d", f, k);
    }
}

/* The floor track: equals a constant power; stays at the background through a loud burst and
 * falls back at once; rises at most 2x per second (2000 frames here); items side by side
 * restart it; a stream (state, one column a call) equals the whole signal. */
START_TEST(test_floor_track)
{
    limpid_config cfg;
    int F;
    floor_config(&cfg, &F);
    enum { L = 2400 };
    const int Cx = 2 * F;
    float *spec = calloc((size_t)Cx * 2 * L, 4), *o = calloc((size_t)Cx * 2 * L, 4),
          *o2 = calloc((size_t)Cx * 2 * L, 4);
    /* bin 0: power 0.01, a burst of 100x in frames 50..59; bin 1: 0.01 then 16x from frame 100
     * on; other bins: a ramp. Column layout [Cx][2L], the second item a copy of the first. */
    for (int it = 0; it < 2; it++)
        for (int n = 0; n < L; n++) {
            size_t c = (size_t)it * L + (size_t)n, ld = 2 * L;
            spec[0 * ld + c] = 0.1f * ((n >= 50 && n < 60) ? 10.0f : 1.0f);
            spec[1 * ld + c] = 0.1f * (n >= 100 ? 4.0f : 1.0f);
            for (int f = 2; f < F; f++)
                spec[(size_t)f * ld + c] = 0.01f * (float)(1 + (n % 13));
        }
    const size_t ld = 2 * L;
    lpi_cond_features(&cfg, spec, ld, ld, L, NULL, o);
    for (int n = 0; n < L; n++) {
        float m0 = feat_to_power(o[(size_t)F * ld + n]), m1 = feat_to_power(o[(size_t)(F + 1) * ld + n]);
        /* at most the rise since frame 0 (the burst lifts S, not the floor) */
        const float bound = 0.01f * powf(2.0f, (float)n / 2000.0f) + 1e-6f;
        ck_assert_msg(m0 >= 0.01f - 1e-6f && m0 <= bound, "bin 0 frame %d: floor %g, bound %g",
                      n, (double)m0, (double)bound);
        if (n < 50)
            ck_assert(fabsf(m0 - 0.01f) < 1e-6f);
        if (n < 100)
            ck_assert(fabsf(m1 - 0.01f) < 1e-6f);
        else if (n == 100 + 2000)
            ck_assert_msg(m1 > 0.0195f && m1 < 0.0205f, "after 1 s the floor rose 2x: %g",
                          (double)m1);
        ck_assert(m1 <= 0.16f + 1e-6f);
        for (int f = 0; f < Cx; f++) /* the second item restarted: identical columns */
            ck_assert(o[(size_t)f * ld + n] == o[(size_t)f * ld + L + n]);
    }
    /* streaming: one column per call with state, from a "not started" state */
    assert_stream_equals(&cfg, F, spec, o, ld, L, Cx);
    /* one item over all 2L columns (item 0) differs in the second half: no restart there */
    lpi_cond_features(&cfg, spec, ld, ld, 0, NULL, o2);
    ck_assert(o2[(size_t)(F + 1) * ld + L] != o[(size_t)(F + 1) * ld + L]);
    free(spec); free(o); free(o2);
}
END_TEST

/* WIENER_FLOOR: untrained (o1 = 0) the gain is 1/2 where P = 3 M, and the estimate does not
 * depend on the input level (P and M scale together) while the floor is far above 1e-6. */
START_TEST(test_wiener_floor_level_invariant)
{
    limpid_config cfg;
    int F;
    floor_config(&cfg, &F);
    enum { L = 50 };
    const int Cx = 2 * F;
    float *spec = calloc((size_t)Cx * L, 4), *spec2 = calloc((size_t)Cx * L, 4),
          *nc = calloc((size_t)Cx * L, 4), *nc2 = calloc((size_t)Cx * L, 4),
          *zero = calloc((size_t)Cx * L, 4), *xt = calloc((size_t)Cx * L, 4),
          *p1 = calloc((size_t)Cx * L, 4), *p2 = calloc((size_t)Cx * L, 4);
    lpi_rng r = lpi_rng_make(5, 2, 1);
    for (int i = 0; i < Cx * L; i++) {
        float v = lpi_rng_normal(&r); /* |spec| >= 0.1: P far above the 1e-6 of the logs */
        spec[i] = (v < 0.0f ? -1.0f : 1.0f) * (0.1f + 0.2f * fabsf(v));
        spec2[i] = 0.5f * spec[i];
        xt[i] = lpi_rng_normal(&r);
    }
    lpi_cond_features(&cfg, spec, L, L, 0, NULL, nc);
    lpi_cond_features(&cfg, spec2, L, L, 0, NULL, nc2);
    lpi_head_forward(&cfg, zero, spec, nc, xt, L, p1);
    lpi_head_forward(&cfg, zero, spec2, nc2, xt, L, p2);
    double maxdiff = 0.0;
    for (int i = 0; i < Cx * L; i++)
        maxdiff = fmax(maxdiff, fabs(0.5 * p1[i] - p2[i]) / (0.5 * fabs(p1[i]) + 1e-9));
    ck_assert_msg(maxdiff < 1e-3, "wiener_floor: relative change %g with the level", maxdiff);
    /* a bin exactly at 3x its floor gets gain 1/2 (g2 = 0) */
    float *sp = calloc((size_t)Cx, 4), *nn = calloc((size_t)Cx, 4), *zz = calloc((size_t)Cx, 4),
          *xx = calloc((size_t)Cx, 4), *pp = calloc((size_t)Cx, 4);
    const float M = 0.04f;
    sp[0] = sqrtf(3.0f * M);                 /* P = re^2 = 3 M */
    nn[F] = (logf(M + 1e-6f) + 6.0f) / 3.0f; /* the floor feature of M */
    lpi_head_forward(&cfg, zz, sp, nn, xx, 1, pp);
    ck_assert_msg(fabsf(pp[0] / sp[0] - 0.5f) < 1e-3f, "gain at 3x the floor: %g",
                  (double)(pp[0] / sp[0]));
    free(sp); free(nn); free(zz); free(xx); free(pp);
    free(spec); free(spec2); free(nc); free(nc2); free(zero); free(xt); free(p1); free(p2);
}
END_TEST

/* floor_gate's forward at its ends: gate shut (o3 = -40) the floor head's output, gate open
 * (o3 = +40) G = 1 / (1 + 9 e^(2 o1)) whatever the bin's level over its floor */
START_TEST(test_floor_gate_ends)
{
    limpid_config cfg, gc;
    int F;
    floor_config(&cfg, &F);
    gc = cfg;
    gc.floor_gate = 1;
    ck_assert_int_eq(limpid_config_check(&gc, NULL, 0), LIMPID_OK);
    enum { cols = 7 };
    const size_t cnt = (size_t)2 * F * cols;
    float *out = malloc(3 * cnt / 2 * 4), *cond = malloc(cnt * 4), *xt = malloc(cnt * 4),
          *nc = malloc(cnt * 4), *p0 = malloc(cnt * 4), *p1 = malloc(cnt * 4);
    lpi_rng r = lpi_rng_make(8, 1, 2);
    for (size_t i = 0; i < cnt; i++) {
        out[i] = 0.7f * lpi_rng_normal(&r);
        cond[i] = (0.05f + 0.5f * lpi_rng_uniform(&r)) * (lpi_rng_uniform(&r) < 0.5f ? -1 : 1);
        xt[i] = lpi_rng_normal(&r);
    }
    lpi_cond_features(&cfg, cond, cols, cols, 0, NULL, nc);
    for (size_t i = cnt; i < 3 * cnt / 2; i++)
        out[i] = -40.0f;
    lpi_head_forward(&cfg, out, cond, nc, xt, cols, p0);
    lpi_head_forward(&gc, out, cond, nc, xt, cols, p1);
    for (size_t i = 0; i < cnt; i++)
        /* the floor head's vector log and exp against logf and expf here */
        ck_assert_msg(fabsf(p1[i] - p0[i]) <= 2e-4f * fabsf(p0[i]) + 1e-6f,
                      "gate shut: %g, floor head %g", (double)p1[i], (double)p0[i]);
    for (size_t i = cnt; i < 3 * cnt / 2; i++)
        out[i] = 40.0f;
    lpi_head_forward(&gc, out, cond, nc, xt, cols, p1);
    for (int f = 0; f < F; f++)
        for (int n = 0; n < cols; n++) {
            const size_t re = (size_t)f * cols + n, im = (size_t)(F + f) * cols + n;
            const double G = 1.0 / (1.0 + 9.0 * exp(2.0 * out[re]));
            const double er = G * cond[re] + out[im] * xt[re], ei = G * cond[im] + out[im] * xt[im];
            ck_assert_msg(fabs(p1[re] - er) < 1e-5 && fabs(p1[im] - ei) < 1e-5,
                          "gate open, bin %d frame %d: %g %g, expected %g %g", f, n,
                          (double)p1[re], (double)p1[im], er, ei);
        }
    free(out); free(cond); free(xt); free(nc); free(p0); free(p1);
}
END_TEST

/* The gate loss (lpi_head_gate_loss) against its formula in double: linear clean S and noise
 * N drawn per bin, the features their compressed forms (x |x|^(a - 1)), two items with their
 * own weights; KL(st || s) with st = |N|^2 / (|S|^2 + |N|^2), s = sigmoid(o3 - 3), at a = 0.5
 * and a = 0.3, with and without loss weights; and the gradient on o3: k mu w (s - st). */
START_TEST(test_gate_loss_target)
{
    limpid_config cfg;
    int F;
    floor_config(&cfg, &F);
    cfg.floor_gate = 1;
    enum { nb = 2, Lf = 5, cols = nb * Lf };
    const size_t cnt = (size_t)2 * F * cols;
    float *out = calloc(3 * cnt / 2, 4), *cond = malloc(cnt * 4), *x0 = malloc(cnt * 4),
          *lw = malloc(cnt / 2 * 4), *dout = calloc(3 * cnt / 2, 4);
    double *st = malloc(cnt / 2 * sizeof *st);
    for (int ai = 0; ai < 2; ai++) {
        const float a = ai ? 0.3f : 0.5f;
        cfg.compress_exp = a;
        ck_assert_int_eq(limpid_config_check(&cfg, NULL, 0), LIMPID_OK);
        lpi_rng r = lpi_rng_make(9, 3, (uint64_t)ai);
        for (int f = 0; f < F; f++)
            for (int n = 0; n < cols; n++) {
                const size_t re = (size_t)f * cols + n, im = (size_t)(F + f) * cols + n;
                /* linear S and N, the noise louder or quieter by up to 20 dB */
                const double sr = lpi_rng_normal(&r), si = lpi_rng_normal(&r);
                const double g = pow(10.0, (lpi_rng_uniform(&r) - 0.5)), th = 6.283 *
                                                                          lpi_rng_uniform(&r);
                const double nr = g * cos(th), ni = g * sin(th);
                const double es = sr * sr + si * si, en = nr * nr + ni * ni;
                st[re] = en / (es + en);
                const double yr = sr + nr, yi = si + ni, ey = yr * yr + yi * yi;
                const double ks = pow(es, 0.5 * (a - 1.0)), ky = pow(ey, 0.5 * (a - 1.0));
                x0[re] = (float)(sr * ks);
                x0[im] = (float)(si * ks);
                cond[re] = (float)(yr * ky);
                cond[im] = (float)(yi * ky);
                out[(size_t)2 * F * cols + re] = 4.0f * lpi_rng_uniform(&r) - 1.0f;
                lw[re] = 0.1f + lpi_rng_uniform(&r);
            }
        const float mu[nb] = {0.7f, 1.9f}, k[nb] = {0.5f, 3.0f};
        for (int weighted = 0; weighted < 2; weighted++) {
            double isse[nb] = {0.0, 0.0}, want[nb] = {0.0, 0.0};
            memset(dout, 0, 3 * cnt / 2 * 4);
            lpi_head_gate_loss(&cfg, out, cond, x0, weighted ? lw : NULL, cols, nb, Lf, mu, isse,
                               dout, k);
            for (int f = 0; f < F; f++)
                for (int n = 0; n < cols; n++) {
                    const size_t re = (size_t)f * cols + n;
                    const int b = n / Lf;
                    const double w = weighted ? lw[re] : 1.0;
                    const double z = out[(size_t)2 * F * cols + re] - 3.0,
                                 s = 1.0 / (1.0 + exp(-z)), t = st[re];
                    want[b] += mu[b] * w * (t * log(t / s) + (1.0 - t) * log((1.0 - t) / (1.0 - s)));
                    const double dg = k[b] * mu[b] * w * (s - t);
                    ck_assert_msg(fabs(dout[(size_t)2 * F * cols + re] - dg) <= 1e-4 * fabs(dg) + 1e-6,
                                  "a %.1f bin %d frame %d: gradient %g, expected %g", (double)a,
                                  f, n, (double)dout[(size_t)2 * F * cols + re], dg);
                    ck_assert(dout[re] == 0.0f); /* only the gate's rows */
                }
            for (int b = 0; b < nb; b++)
                ck_assert_msg(fabs(isse[b] - want[b]) <= 1e-4 * want[b],
                              "a %.1f weighted %d item %d: %g, expected %g", (double)a, weighted,
                              b, isse[b], want[b]);
        }
    }
    free(out); free(cond); free(x0); free(lw); free(dout); free(st);
}
END_TEST

/* floor_slow: a second track in rows [2F, 3F) rises at its own rate (here 0.25 doublings per
 * second: 2000 frames a second, so 2^0.25 after a second) while the first keeps its 2x; it
 * restarts with the first, and a stream with state ([3F]) equals the whole signal. */
START_TEST(test_floor_slow_track)
{
    limpid_config cfg;
    int F;
    floor_config(&cfg, &F);
    cfg.floor_slow = 0.25f;
    ck_assert_int_eq(limpid_config_check(&cfg, NULL, 0), LIMPID_OK);
    enum { L = 2400 };
    const int Cx = 2 * F;
    float *spec = calloc((size_t)Cx * L, 4), *o = calloc((size_t)3 * F * L, 4);
    for (int n = 0; n < L; n++) /* every bin: power 0.01, then 16x from frame 100 on */
        for (int f = 0; f < F; f++)
            spec[(size_t)f * L + n] = 0.1f * (n >= 100 ? 4.0f : 1.0f);
    lpi_cond_features(&cfg, spec, L, L, 0, NULL, o);
    const float m1 = feat_to_power(o[(size_t)F * L + 2100]);
    const float s1 = feat_to_power(o[(size_t)2 * F * L + 2100]);
    ck_assert_msg(m1 > 0.0195f && m1 < 0.0205f, "fast track after 1 s: %g (2x)", (double)m1);
    ck_assert_msg(s1 > 0.01184f && s1 < 0.01194f, "slow track after 1 s: %g (2^0.25 x)",
                  (double)s1);
    ck_assert(fabsf(feat_to_power(o[(size_t)2 * F * L + 99]) - 0.01f) < 1e-6f);
    assert_stream_equals(&cfg, F, spec, o, L, L, 3 * F);
    free(spec); free(o);
}
END_TEST

/* harmonicity: rows [2F, 2F + LIMPID_HARM_ROWS) at 48 kHz, n_fft 1024, against the formula
 * in double (limpid.h, features.c) on the same spectrum: a 200-Hz tone with 20 harmonics
 * (its peak at lag 240, row 1 = log2(200 / 200) = 0, its low bands correlated), white noise
 * (a lower peak), the tone 40 dB down (the same rows) and silence (0); one column at a time
 * with state (the engine's call) gives the batch's rows. */
static double harm_ref(const float *Y, int F, int Lf, int k, double *rows)
{
    static const double edges[] = {0, 500, 1000, 2000, 3000, 4000, 6000, 8000, 12000, 1e9};
    double a[513], r0 = 0.0, best = -1e300;
    int L = 100;
    for (int f = 0; f < F; f++) {
        double re = Y[(size_t)f * Lf + k], im = Y[(size_t)(F + f) * Lf + k];
        a[f] = re * re + im * im;
    }
    for (int f = 0; f < 86; f++) /* bins below 4 kHz: ceil(4000 * 1024 / 48000) */
        r0 += a[f];
    for (int lag = 100; lag <= 600; lag += 2) {
        double c = 0.0;
        for (int f = 0; f < 86; f++)
            c += a[f] * cos(6.283185307179586 * f * lag / 1024.0);
        if (c > best) {
            best = c;
            L = lag;
        }
    }
    rows[0] = r0 > 1e-20 ? best / r0 : 0.0;
    if (!(r0 > 1e-20))
        L = 100;
    rows[1] = log2(48000.0 / L / 200.0);
    for (int b = 0; b < 9; b++) {
        double s = 0.0, c = 0.0;
        for (int f = (int)ceil(edges[b] * 1024 / 48000); f < F && f < ceil(edges[b + 1] * 1024 / 48000); f++) {
            s += a[f];
            c += a[f] * cos(6.283185307179586 * f * L / 1024.0);
        }
        rows[2 + b] = s > 1e-20 ? c / s : 0.0;
    }
    return best / (r0 + 1e-300);
}

static float *harm_rows_of(const limpid_config *cfg, const float *x, int n, int *Lf, int cmp_all)
{
    limpid_stft *stft = NULL;
    ck_assert_int_eq(limpid_stft_create(&stft, cfg->n_fft, cfg->hop, cfg->window), LIMPID_OK);
    const int F = limpid_config_feature_channels(cfg) / 2;
    ck_assert_int_eq(F, 513);
    *Lf = (int)lpi_feature_frames(cfg, (size_t)n);
    const size_t R = (size_t)2 * F + LIMPID_HARM_ROWS;
    float *Y = malloc((size_t)2 * F * *Lf * 4), *scr = malloc((lpi_feature_scratch(cfg, (size_t)n) + 1) * 4);
    float *nc = malloc(R * *Lf * 4);
    ck_assert_int_eq(lpi_features_from_audio(cfg, stft, x, (size_t)n, Y, (size_t)*Lf, scr), LIMPID_OK);
    ck_assert_ptr_eq(lpi_cond_features(cfg, Y, (size_t)*Lf, (size_t)*Lf, 0, NULL, nc), nc);
    float *col = malloc((size_t)2 * F * 4), *oc = malloc(R * 4), *st = malloc((size_t)3 * F * 4);
    for (int f = 0; f < F; f++)
        st[f] = -1.0f;
    for (int k = 0; k < *Lf; k++) {
        for (int f = 0; f < 2 * F; f++)
            col[f] = Y[(size_t)f * *Lf + k];
        lpi_cond_features(cfg, col, 1, 1, 0, st, oc);
        double ref[LIMPID_HARM_ROWS];
        harm_ref(Y, F, *Lf, k, ref);
        for (int r = 0; r < LIMPID_HARM_ROWS; r++) {
            const float v = nc[(size_t)(2 * F + r) * *Lf + k];
            ck_assert_msg(oc[2 * F + r] == v, "harmonicity row %d frame %d: stream %g, batch %g",
                          r, k, (double)oc[2 * F + r], (double)v);
            if (r == 0 || cmp_all) /* noise: near-equal peaks may pick another lag */
                ck_assert_msg(fabs(v - ref[r]) < 1e-4, "row %d frame %d: %g, formula %g", r, k,
                              (double)v, ref[r]);
        }
    }
    float *rows = malloc((size_t)LIMPID_HARM_ROWS * *Lf * 4);
    memcpy(rows, nc + (size_t)2 * F * *Lf, (size_t)LIMPID_HARM_ROWS * *Lf * 4);
    free(Y); free(scr); free(nc); free(col); free(oc); free(st);
    limpid_stft_destroy(stft);
    return rows;
}

START_TEST(test_harmonicity_rows)
{
    limpid_config cfg;
    limpid_config_preset(&cfg, "small", LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT, 48000);
    cfg.n_fft = 1024;
    cfg.hop = 256;
    cfg.cond = LIMPID_COND_LOGPOW_FLOOR;
    cfg.head = LIMPID_HEAD_WIENER_FLOOR;
    cfg.harmonicity = 1;
    ck_assert_int_eq(limpid_config_check(&cfg, NULL, 0), LIMPID_OK);
    enum { n = 48000 / 4 };
    float *tone = malloc(n * 4), *quiet = malloc(n * 4), *noise = malloc(n * 4),
          *zero = calloc(n, 4);
    lpi_rng r = lpi_rng_make(13, 1, 1);
    for (int i = 0; i < n; i++) {
        double v = 0.0;
        for (int h = 1; h <= 20; h++)
            v += sin(6.283185307179586 * 200.0 * h * i / 48000.0 + 0.3 * h) / h;
        tone[i] = (float)(0.2 * v);
        quiet[i] = 0.01f * tone[i];
        noise[i] = 0.1f * lpi_rng_normal(&r);
    }
    int Lf;
    float *ht = harm_rows_of(&cfg, tone, n, &Lf, 1), *hq = harm_rows_of(&cfg, quiet, n, &Lf, 1);
    float *hn = harm_rows_of(&cfg, noise, n, &Lf, 0), *hz = harm_rows_of(&cfg, zero, n, &Lf, 1);
    double tone_min = 1.0, noise_max = 0.0;
    for (int k = 8; k < Lf - 8; k++) { /* frames wholly inside the signal */
        tone_min = fmin(tone_min, ht[k]);
        noise_max = fmax(noise_max, hn[k]);
        ck_assert_msg(ht[Lf + k] == 0.0f, "tone pitch row %g (0 = 200 Hz)", (double)ht[Lf + k]);
        for (int b = 0; b < 3; b++) /* bands below 2 kHz: the harmonics line up at the pitch */
            ck_assert_msg(ht[(size_t)(2 + b) * Lf + k] > 0.4f, "tone band %d: %g", b,
                          (double)ht[(size_t)(2 + b) * Lf + k]);
        for (int rr = 0; rr < 2 + 5; rr++) /* the bands up to 4 kHz (above: leakage only) */
            ck_assert_msg(fabsf(hq[(size_t)rr * Lf + k] - ht[(size_t)rr * Lf + k]) < 1e-4f,
                          "row %d changes with the level: %g vs %g", rr,
                          (double)hq[(size_t)rr * Lf + k], (double)ht[(size_t)rr * Lf + k]);
    }
    /* numpy on the same tone: 0.588 (|X| of one sqrt-Hann frame; 20-ms frames blur the comb) */
    ck_assert_msg(tone_min > 0.5 && noise_max < tone_min - 0.2,
                  "peak correlation: tone at least %g, white noise up to %g", tone_min, noise_max);
    for (int i = 0; i < LIMPID_HARM_ROWS * Lf; i++)
        if (i < Lf || i >= 2 * Lf) /* all but the pitch row (the first lag) are 0 */
            ck_assert_msg(hz[i] == 0.0f, "silence: row %d is %g", i / Lf, (double)hz[i]);
    free(tone); free(quiet); free(noise); free(zero); free(ht); free(hq); free(hn); free(hz);
}
END_TEST

/* The WIENER_FLOOR forward (vector log and exp, VW values at a time, a padded tail) against the
 * formula in double, over powers from 1e-12 to 1e4 and thresholds o1 in -12..12, on rows of
 * 37 frames (whole vectors and a tail) and on one frame (cols = 1: the engine's path, bins
 * side by side, 5 bins: a tail alone). Error of each bin over the size of its terms: 5e-7 (it is 8e-8). */
static void floor_forward_vs_double(int n_fft, size_t cols)
{
    limpid_config cfg;
    int F;
    floor_config(&cfg, &F);
    cfg.n_fft = n_fft;
    cfg.hop = n_fft / 2;
    ck_assert_int_eq(limpid_config_check(&cfg, NULL, 0), LIMPID_OK);
    F = limpid_config_feature_channels(&cfg) / 2;
    const size_t cnt = (size_t)2 * F * cols;
    float *out = malloc(cnt * 4), *cond = malloc(cnt * 4), *nc = malloc(cnt * 4),
          *xt = malloc(cnt * 4), *pred = malloc(cnt * 4);
    lpi_rng r = lpi_rng_make(5, 2, 9);
    for (size_t i = 0; i < cnt; i++) {
        double p = pow(10.0, -12.0 + 16.0 * lpi_rng_uniform(&r)); /* power 1e-12..1e4 */
        double ph = 6.283185307 * lpi_rng_uniform(&r);
        cond[i] = (float)(sqrt(p) * cos(ph));
        out[i] = (float)(-12.0 + 24.0 * lpi_rng_uniform(&r));
        nc[i] = (float)(-6.0 + 8.0 * lpi_rng_uniform(&r)); /* floor feature */
        xt[i] = lpi_rng_normal(&r);
    }
    /* bins whose real and imaginary parts are re-drawn: cond holds both rows */
    lpi_head_forward(&cfg, out, cond, nc, xt, cols, pred);
    double worst = 0.0;
    for (int f = 0; f < F; f++)
        for (size_t n = 0; n < cols; n++) {
            const size_t re = (size_t)f * cols + n, im = (size_t)(F + f) * cols + n;
            double P = (double)cond[re] * cond[re] + (double)cond[im] * cond[im];
            double lq = 2.0 * ((double)out[re] + log(3.0) + 3.0 * (double)nc[im] - 6.0);
            double z = fmin(lq - 2.0 * log(P + 1e-30), 80.0);
            double G = 1.0 / (1.0 + exp(z));
            double g2 = out[im];
            double er = fabs(pred[re] - (G * cond[re] + g2 * xt[re]));
            double ei = fabs(pred[im] - (G * cond[im] + g2 * xt[im]));
            double scale = fabs(cond[re]) + fabs(cond[im]) + fabs(g2 * xt[re]) + fabs(g2 * xt[im]);
            double e = (er + ei) / (scale + 1e-30);
            worst = e > worst ? e : worst;
        }
    ck_assert_msg(worst < 5e-7, "n_fft %d, cols %zu: worst relative error %g", n_fft, cols,
                  worst);
    free(out); free(cond); free(nc); free(xt); free(pred);
}

START_TEST(test_wiener_floor_forward)
{
    floor_forward_vs_double(8, 37);
    floor_forward_vs_double(64, 1);
    floor_forward_vs_double(8, 1);
}
END_TEST

/* An untrained network outputs 0: GAIN is then exactly the identity on the noisy input, and
 * WIENER nearly so for bins well above its initial floor exp(-3) ~ 0.05. */
START_TEST(test_identity_at_init)
{
    limpid_config cfg;
    limpid_config_preset(&cfg, "tiny", LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT, 16000);
    cfg.n_fft = 8;
    cfg.hop = 2;
    const size_t cols = 3, cnt = (size_t)limpid_config_feature_channels(&cfg) * cols;
    float *zero = calloc(cnt, 4), *cond = malloc(cnt * 4), *xt = malloc(cnt * 4),
          *pred = malloc(cnt * 4);
    for (size_t i = 0; i < cnt; i++) {
        cond[i] = (i & 1) ? 0.7f : -0.4f;
        xt[i] = 3.0f;
    }
    cfg.head = LIMPID_HEAD_GAIN;
    lpi_head_forward(&cfg, zero, cond, NULL, xt, cols, pred);
    ck_assert(memcmp(pred, cond, cnt * 4) == 0);
    cfg.head = LIMPID_HEAD_WIENER;
    lpi_head_forward(&cfg, zero, cond, NULL, xt, cols, pred);
    for (size_t i = 0; i < cnt; i++)
        ck_assert_msg(fabsf(pred[i] - cond[i]) < 1e-4f * 1.0f, "%g vs %g", pred[i], cond[i]);
    free(zero); free(cond); free(xt); free(pred);
}
END_TEST

/* Log-power conditioning: one row per bin, the documented formula, and a gain change of the
 * input is (well above the 1e-6 floor) a constant offset of every feature. */
START_TEST(test_logpow_cond)
{
    limpid_config cfg;
    limpid_config_preset(&cfg, "tiny", LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT, 16000);
    cfg.n_fft = 8;
    cfg.hop = 2;
    cfg.cond = LIMPID_COND_LOGPOW;
    cfg.head = LIMPID_HEAD_WIENER;
    ck_assert_int_eq(limpid_config_check(&cfg, NULL, 0), LIMPID_OK);
    const int Cx = limpid_config_feature_channels(&cfg), F = Cx / 2;
    const size_t cols = 3, ld = 4; /* ld > cols: the unused column must stay untouched */
    float spec[10 * 4], spec2[10 * 4], out[5 * 4], out2[5 * 4];
    ck_assert_int_eq(Cx, 10);
    for (int i = 0; i < Cx * (int)ld; i++) {
        spec[i] = 0.3f + 0.05f * (float)(i % 7) - 0.02f * (float)i;
        spec2[i] = 2.0f * spec[i]; /* compressed domain: x4 in |.|^2 */
    }
    for (int i = 0; i < F * (int)ld; i++)
        out[i] = out2[i] = -99.0f;
    ck_assert_ptr_eq(lpi_cond_features(&cfg, spec, ld, cols, 0, NULL, out), out);
    lpi_cond_features(&cfg, spec2, ld, cols, 0, NULL, out2);
    for (int f = 0; f < F; f++) {
        for (size_t n = 0; n < ld; n++) {
            float re = spec[f * ld + n], im = spec[(F + f) * ld + n];
            if (n == cols) {
                ck_assert(out[f * ld + n] == -99.0f);
                continue;
            }
            float want = (logf(re * re + im * im + 1e-6f) + 6.0f) / 3.0f;
            ck_assert_msg(fabsf(out[f * ld + n] - want) < 1e-5f, "bin %d col %zu", f, n);
            if (re * re + im * im > 1e-3f) /* floor negligible: offset ln(4)/3 */
                ck_assert(fabsf(out2[f * ld + n] - out[f * ld + n] - logf(4.0f) / 3.0f) < 1e-3f);
        }
    }
    cfg.cond = LIMPID_COND_SPECTRUM; /* the network takes the spectrum itself */
    ck_assert_ptr_eq(lpi_cond_features(&cfg, spec, ld, cols, 0, NULL, out), spec);
}
END_TEST

/* WIENER_REL: the gain does not depend on the input level: scaling the noisy spectrum by k
 * scales the estimate by k (g2 = 0), where WIENER's absolute floor changes the gains. */
START_TEST(test_wiener_rel_level_invariant)
{
    limpid_config cfg;
    limpid_config_preset(&cfg, "tiny", LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT, 16000);
    cfg.n_fft = 8;
    cfg.hop = 2;
    cfg.cond = LIMPID_COND_LOGPOW; /* (WIENER, WIENER_REL take no floor track) */
    const size_t cols = 3, cnt = (size_t)limpid_config_feature_channels(&cfg) * cols;
    float out[30], cond[30], cond2[30], xt[30], p1[30], p2[30];
    ck_assert_uint_le(cnt, 30);
    const int F = (int)(cnt / cols) / 2;
    for (size_t i = 0; i < cnt; i++) {
        int row = (int)(i / cols);
        out[i] = row < F ? 0.3f * (float)((int)(i % 5) - 2) : 0.0f; /* o1 varied, g2 = 0 */
        cond[i] = 0.05f + 0.1f * (float)(i % 7);
        cond2[i] = 0.01f * cond[i];
        xt[i] = 1.0f;
    }
    for (int head = 0; head < 2; head++) {
        cfg.head = head ? LIMPID_HEAD_WIENER_REL : LIMPID_HEAD_WIENER;
        lpi_head_forward(&cfg, out, cond, NULL, xt, cols, p1);
        lpi_head_forward(&cfg, out, cond2, NULL, xt, cols, p2);
        double maxdiff = 0.0;
        for (size_t i = 0; i < cnt; i++)
            maxdiff = fmax(maxdiff, fabs(0.01 * p1[i] - p2[i]) / (0.01 * fabs(p1[i]) + 1e-9));
        if (head)
            ck_assert_msg(maxdiff < 1e-4, "wiener_rel: relative change %g", maxdiff);
        else
            ck_assert_msg(maxdiff > 0.1, "wiener (absolute floor) should change: %g", maxdiff);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("head");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_gain_grad);
    tcase_add_test(tc, test_wiener_grad);
    tcase_add_test(tc, test_wiener_rel_grad);
    tcase_add_test(tc, test_wiener_floor_grad);
    tcase_add_test(tc, test_wiener_floor_forward);
    tcase_add_test(tc, test_floor_track);
    tcase_add_test(tc, test_floor_slow_track);
    tcase_add_test(tc, test_harmonicity_rows);
    tcase_add_test(tc, test_floor_gate_grad);
    tcase_add_test(tc, test_floor_gate_ends);
    tcase_add_test(tc, test_gate_loss_target);
    tcase_add_test(tc, test_wiener_floor_level_invariant);
    tcase_add_test(tc, test_wiener_rel_level_invariant);
    tcase_add_test(tc, test_identity_at_init);
    tcase_add_test(tc, test_logpow_cond);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
