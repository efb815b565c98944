/* test_denoise.c - end to end through the public API: train a tiny STFT denoiser on tones in
 * white noise for a few seconds, then check that the reverse diffusion process run by
 * limpid_denoise raises the SNR of unseen mixtures by a stated margin; plus the runtime's
 * contracts (aliasing, block processing, determinism, errors). */
#include "limpid.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RATE 16000

static uint64_t st_rng = 88172645463325252ull;
static double urand(void)
{
    st_rng ^= st_rng << 13;
    st_rng ^= st_rng >> 7;
    st_rng ^= st_rng << 17;
    return (double)(st_rng >> 11) * (1.0 / 9007199254740992.0);
}
static double nrand(void)
{
    double u1 = urand() + 1e-12, u2 = urand();
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* 1-3 steady tones, random frequencies in 150..3000 Hz, mixed with white noise at snr_db. */
static void make_pair(float *clean, float *noisy, int n, double snr_db)
{
    int k = 1 + (int)(urand() * 3);
    memset(clean, 0, (size_t)n * sizeof *clean);
    for (int j = 0; j < k; j++) {
        double f = 150.0 + urand() * 2850.0, a = 0.05 + urand() * 0.25, ph = urand() * 6.283;
        for (int i = 0; i < n; i++)
            clean[i] += (float)(a * sin(6.283185307179586 * f * i / RATE + ph));
    }
    double pc = 0;
    for (int i = 0; i < n; i++)
        pc += (double)clean[i] * clean[i];
    double sigma = sqrt(pc / n / pow(10.0, snr_db / 10.0));
    for (int i = 0; i < n; i++)
        noisy[i] = clean[i] + (float)(sigma * nrand());
}

static double snr_db(const float *ref, const float *est, int n)
{
    double s = 0, e = 0;
    for (int i = 0; i < n; i++) {
        s += (double)ref[i] * ref[i];
        e += ((double)ref[i] - est[i]) * ((double)ref[i] - est[i]);
    }
    return 10.0 * log10(s / (e + 1e-20));
}

static limpid_model *train_tiny(int steps)
{
    limpid_config cfg;
    ck_assert_int_eq(limpid_config_preset(&cfg, "tiny", LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT,
                                          RATE),
                     LIMPID_OK);
    limpid_train_config tc;
    limpid_train_config_default(&tc);
    tc.batch = 8;
    tc.crop_samples = 4096;
    tc.lr = 3e-3f;
    tc.warmup = 50;
    tc.total_steps = steps;
    tc.ema_decay = 0.99f;
    tc.seed = 7;
    limpid_trainer *t = NULL;
    ck_assert_int_eq(limpid_trainer_create(&t, &cfg, NULL, &tc), LIMPID_OK);
    size_t per = (size_t)tc.batch * tc.crop_samples;
    float *clean = malloc(per * sizeof *clean), *noisy = malloc(per * sizeof *noisy);
    for (int s = 0; s < steps; s++) {
        for (int b = 0; b < tc.batch; b++)
            make_pair(clean + (size_t)b * tc.crop_samples, noisy + (size_t)b * tc.crop_samples,
                      tc.crop_samples, -5.0 + 20.0 * urand());
        float loss;
        ck_assert_int_eq(limpid_trainer_step(t, clean, noisy, NULL, &loss), LIMPID_OK);
    }
    limpid_model *m = NULL;
    ck_assert_int_eq(limpid_trainer_export(t, 1, NULL, &m), LIMPID_OK);
    limpid_trainer_destroy(t);
    free(clean);
    free(noisy);
    return m;
}

/* The trained model must improve the SNR of unseen tone mixtures at 0 and 5 dB input by at
 * least 6 dB on average (a few seconds of training on 2 cores reach well above that; an
 * untrained gain model would give 0 dB). */
START_TEST(test_tones_snr_gain)
{
    limpid_model *m = train_tiny(1500);
    limpid_ctx *c = NULL;
    ck_assert_int_eq(limpid_ctx_create(&c, m, 0), LIMPID_OK);
    limpid_sample_opts o;
    limpid_sample_opts_default(&o);
    o.steps = 2;
    const int n = RATE * 2;
    float *clean = malloc(n * sizeof *clean), *noisy = malloc(n * sizeof *noisy),
          *out = malloc(n * sizeof *out);
    double gain = 0;
    int trials = 0;
    for (int k = 0; k < 6; k++) {
        double in_snr = (k % 2) ? 5.0 : 0.0;
        make_pair(clean, noisy, n, in_snr);
        ck_assert_int_eq(limpid_denoise(c, noisy, n, out, &o), LIMPID_OK);
        double g = snr_db(clean, out, n) - snr_db(clean, noisy, n);
        printf("tones: input %.1f dB -> gain %.2f dB\n", snr_db(clean, noisy, n), g);
        gain += g;
        trials++;
    }
    gain /= trials;
    printf("tones: mean SNR gain %.2f dB\n", gain);
    ck_assert_msg(gain >= 6.0, "mean SNR gain %.2f dB < 6 dB", gain);
    free(clean);
    free(noisy);
    free(out);
    limpid_ctx_destroy(c);
    limpid_model_destroy(m);
}
END_TEST

/* Output may alias input; long inputs run in crossfaded blocks; results are deterministic for
 * a seed; non-finite input never gives non-finite output. */
START_TEST(test_runtime_contracts)
{
    limpid_config cfg;
    ck_assert_int_eq(limpid_config_preset(&cfg, "tiny", LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT,
                                          RATE),
                     LIMPID_OK);
    cfg.head = LIMPID_HEAD_GAIN; /* exactly the identity when untrained */
    limpid_model *m = NULL;
    ck_assert_int_eq(limpid_model_create(&m, &cfg, 3), LIMPID_OK);
    limpid_ctx *c = NULL;
    ck_assert_int_eq(limpid_ctx_create(&c, m, 64), LIMPID_OK); /* 64 frames: 4096 samples */
    limpid_sample_opts o;
    limpid_sample_opts_default(&o);
    o.steps = 3;
    o.seed = 11;
    const int n = 20000; /* several blocks */
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *y1 = malloc(n * sizeof *y1);
    make_pair(a, b, n, 5.0);
    ck_assert_int_eq(limpid_denoise(c, b, n, y1, &o), LIMPID_OK);
    for (int i = 0; i < n; i++)
        ck_assert(isfinite(y1[i]));
    /* an untrained gain model is the identity at x0: with start 1 the result is the noisy
     * input up to STFT round-off; blocks and crossfades must not disturb that */
    double err = 0, ref = 0;
    for (int i = 0; i < n; i++) {
        err += ((double)y1[i] - b[i]) * ((double)y1[i] - b[i]);
        ref += (double)b[i] * b[i];
    }
    ck_assert_msg(sqrt(err / ref) < 1e-4, "identity model changed the signal: rel err %g",
                  sqrt(err / ref));
    memcpy(a, b, n * sizeof *a);
    ck_assert_int_eq(limpid_denoise(c, a, n, a, &o), LIMPID_OK); /* in place */
    ck_assert(memcmp(a, y1, n * sizeof *a) == 0);
    b[100] = NAN;
    b[200] = INFINITY;
    ck_assert_int_eq(limpid_denoise(c, b, n, a, &o), LIMPID_OK);
    for (int i = 0; i < n; i++)
        ck_assert(isfinite(a[i]));
    o.start = 0.0f;
    ck_assert_int_eq(limpid_denoise(c, b, n, a, &o), LIMPID_ERR_INVALID);
    ck_assert_int_eq(limpid_generate(c, 0, n, a, &o), LIMPID_ERR_INVALID);
    limpid_sample_opts_default(&o);
    ck_assert_int_eq(limpid_generate(c, 0, n, a, &o), LIMPID_ERR_UNSUPPORTED);
    free(a);
    free(b);
    free(y1);
    limpid_ctx_destroy(c);
    limpid_ctx_destroy(NULL);
    limpid_model_destroy(m);
}
END_TEST

START_TEST(test_generate_texture)
{
    limpid_config cfg;
    ck_assert_int_eq(limpid_config_preset(&cfg, "tiny", LIMPID_TASK_TEXTURE, LIMPID_DOMAIN_STFT,
                                          RATE),
                     LIMPID_OK);
    cfg.n_classes = 2;
    limpid_model *m = NULL;
    ck_assert_int_eq(limpid_model_create(&m, &cfg, 5), LIMPID_OK);
    limpid_ctx *c = NULL;
    ck_assert_int_eq(limpid_ctx_create(&c, m, 64), LIMPID_OK);
    limpid_sample_opts o;
    limpid_sample_opts_default(&o);
    o.seed = 1;
    const int n = 9000;
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    ck_assert_int_eq(limpid_generate(c, 1, n, a, &o), LIMPID_OK);
    ck_assert_int_eq(limpid_generate(c, 1, n, b, &o), LIMPID_OK);
    ck_assert(memcmp(a, b, n * sizeof *a) == 0); /* same seed, same clip */
    o.seed = 2;
    ck_assert_int_eq(limpid_generate(c, 1, n, b, &o), LIMPID_OK);
    ck_assert(memcmp(a, b, n * sizeof *a) != 0); /* another seed, another clip */
    ck_assert_int_eq(limpid_generate(c, 2, n, b, &o), LIMPID_ERR_INVALID);
    ck_assert_int_eq(limpid_denoise(c, a, n, b, &o), LIMPID_ERR_UNSUPPORTED);
    free(a);
    free(b);
    limpid_ctx_destroy(c);
    limpid_model_destroy(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("denoise");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_runtime_contracts);
    tcase_add_test(tc, test_generate_texture);
    tcase_add_test(tc, test_tones_snr_gain);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
