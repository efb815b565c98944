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

int main(void)
{
    Suite *s = suite_create("head");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_gain_grad);
    tcase_add_test(tc, test_wiener_grad);
    tcase_add_test(tc, test_identity_at_init);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
