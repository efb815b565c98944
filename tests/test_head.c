/* test_head.c - finite-difference check of the output heads' backward (GAIN and WIENER), and
 * their identity at initialisation. */
#include "internal.h"

#include <check.h>
#include <stdlib.h>

static double loss_of(const limpid_config *cfg, const float *out, const float *cond,
                      const float *xt, const float *R, size_t cols, float *pred)
{
    lpi_head_forward(cfg, out, cond, xt, cols, pred);
    const size_t cnt = (size_t)limpid_config_feature_channels(cfg) * cols;
    double l = 0;
    for (size_t i = 0; i < cnt; i++)
        l += (double)pred[i] * R[i];
    return l;
}

static void check_head(limpid_head head)
{
    limpid_config cfg;
    ck_assert_int_eq(limpid_config_preset(&cfg, "tiny", LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT,
                                          16000), LIMPID_OK);
    cfg.n_fft = 8;
    cfg.hop = 2;
    cfg.head = head;
    ck_assert_int_eq(limpid_config_check(&cfg, NULL, 0), LIMPID_OK);
    const size_t cols = 5, cnt = (size_t)limpid_config_feature_channels(&cfg) * cols;
    float *out = malloc(cnt * 4), *cond = malloc(cnt * 4), *xt = malloc(cnt * 4),
          *R = malloc(cnt * 4), *pred = malloc(cnt * 4), *dout = malloc(cnt * 4);
    lpi_rng r = lpi_rng_make(3, 1, 4);
    for (size_t i = 0; i < cnt; i++) {
        out[i] = 0.5f * lpi_rng_normal(&r) + (head == LIMPID_HEAD_WIENER ? 2.5f : 0.0f);
        cond[i] = 0.3f * lpi_rng_normal(&r);
        xt[i] = lpi_rng_normal(&r);
        R[i] = lpi_rng_normal(&r);
    }
    lpi_head_backward(&cfg, R, cond, xt, out, cols, dout); /* dL/dpred = R */
    /* central differences, h = 1e-3 in float: relative error bound 1e-2 per element plus a
     * small absolute slack for near-zero gradients (float32 forward) */
    for (size_t i = 0; i < cnt; i++) {
        float keep = out[i];
        out[i] = keep + 1e-3f;
        double lp = loss_of(&cfg, out, cond, xt, R, cols, pred);
        out[i] = keep - 1e-3f;
        double lm = loss_of(&cfg, out, cond, xt, R, cols, pred);
        out[i] = keep;
        double fd = (lp - lm) / 2e-3;
        ck_assert_msg(fabs(fd - dout[i]) <= 1e-2 * fabs(fd) + 2e-3,
                      "head %d element %zu: analytic %g, finite difference %g", (int)head, i,
                      (double)dout[i], fd);
    }
    free(out); free(cond); free(xt); free(R); free(pred); free(dout);
}

START_TEST(test_gain_grad) { check_head(LIMPID_HEAD_GAIN); }
END_TEST
START_TEST(test_wiener_grad) { check_head(LIMPID_HEAD_WIENER); }
END_TEST
START_TEST(test_wiener_rel_grad) { check_head(LIMPID_HEAD_WIENER_REL); }
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
    lpi_head_forward(&cfg, zero, cond, xt, cols, pred);
    ck_assert(memcmp(pred, cond, cnt * 4) == 0);
    cfg.head = LIMPID_HEAD_WIENER;
    lpi_head_forward(&cfg, zero, cond, xt, cols, pred);
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
    ck_assert_int_eq(cfg.cond, LIMPID_COND_LOGPOW);
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
    ck_assert_ptr_eq(lpi_cond_features(&cfg, spec, ld, cols, out), out);
    lpi_cond_features(&cfg, spec2, ld, cols, out2);
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
    ck_assert_ptr_eq(lpi_cond_features(&cfg, spec, ld, cols, out), spec);
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
        lpi_head_forward(&cfg, out, cond, xt, cols, p1);
        lpi_head_forward(&cfg, out, cond2, xt, cols, p2);
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
