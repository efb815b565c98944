


/* test_train.c - training API: loss falls (STFT denoise, wave texture), determinism, exact
 * resume from a checkpoint, refused checkpoints, learning-rate schedule, AdamW/clip sanity,
 * repeatable validation. Every test uses the "tiny" preset with small batches and crops so
 * it runs in seconds on one core. */
#include <check.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "limpid.h"

#define SR 16000

/* ------------------------------------------------------------------------ */
/* Helpers */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void tmp_path(char *buf, size_t len, const char *name)
{
    const char *dir = getenv("LIMPID_TEST_DIR");
    if (!dir || !dir[0])
        dir = "/tmp";
    mkdir(dir, 0777); /* may exist */
    snprintf(buf, len, "%s/test_train_%ld_%s", dir, (long)getpid(), name);
}

/* Batch `key` of tones in white noise: each item has 1..2 sines of random frequency
 * (150..3000 Hz), amplitude (0.1..0.4) and phase; the noise has a random level
 * (std 0.03..0.12). The same key gives the same batch. */
static void make_tones(uint64_t key, int B, int n, float *clean, float *noisy)
{
    for (int b = 0; b < B; b++) {
        lpi_rng r = lpi_rng_make(0x70E5, key, (uint64_t)b);
        int ntones = 1 + (int)(lpi_rng_u64(&r) % 2);
        float f[2], a[2], ph[2];
        for (int k = 0; k < ntones; k++) {
            f[k] = 150.0f + 2850.0f * lpi_rng_uniform(&r);
            a[k] = 0.1f + 0.3f * lpi_rng_uniform(&r);
            ph[k] = 6.2831853f * lpi_rng_uniform(&r);
        }
        float sigma = 0.03f + 0.09f * lpi_rng_uniform(&r);
        for (int i = 0; i < n; i++) {
            float s = 0.0f;
            for (int k = 0; k < ntones; k++)
                s += a[k] * sinf(6.2831853f * f[k] * (float)i / SR + ph[k]);
            clean[(size_t)b * n + i] = s;
            if (noisy)
                noisy[(size_t)b * n + i] = s + sigma * lpi_rng_normal(&r);
        }
    }
}

/* Batch `key` of two texture classes: class 0 a 440 Hz sine (amplitude 0.5), class 1 a
 * 1800 Hz sine (amplitude 0.3) with its 3rd harmonic; random phase; classes alternate. */
static void make_texture(uint64_t key, int B, int n, float *clean, int *cls)
{
    for (int b = 0; b < B; b++) {
        lpi_rng r = lpi_rng_make(0x7E47, key, (uint64_t)b);
        int c = (int)((key + (uint64_t)b) & 1);
        float ph = 6.2831853f * lpi_rng_uniform(&r);
        cls[b] = c;
        for (int i = 0; i < n; i++) {
            float w = (float)i / SR * 6.2831853f;
            clean[(size_t)b * n + i] = c == 0 ? 0.5f * sinf(440.0f * w + ph)
                                              : 0.3f * sinf(1800.0f * w + ph) +
                                                    0.1f * sinf(5400.0f * w + 3.0f * ph);
        }
    }
}

static void tiny_cfg(limpid_config *cfg, limpid_task task, limpid_domain domain)
{
    ck_assert_int_eq(limpid_config_preset(cfg, "tiny", task, domain, SR), LIMPID_OK);
    if (task == LIMPID_TASK_TEXTURE)
        cfg->n_classes = 2;
    ck_assert_int_eq(limpid_config_check(cfg, NULL, 0), LIMPID_OK);
}

static void small_tc(limpid_train_config *tc, int batch, int crop, int total)
{
    limpid_train_config_default(tc);
    tc->batch = batch;
    tc->crop_samples = crop;
    tc->warmup = 20;
    tc->total_steps = total;
    tc->lr = 2e-3f;
    tc->lr_min = 1e-4f;
}

static float *raw_params(limpid_trainer *t, int use_ema, size_t *n)
{
    limpid_model *m = NULL;
    ck_assert_int_eq(limpid_trainer_export(t, use_ema, NULL, &m), LIMPID_OK);
    *n = m->layout.n_params;
    float *p = malloc(*n * sizeof *p);
    ck_assert_ptr_nonnull(p);
    memcpy(p, m->params, *n * sizeof *p);
    limpid_model_destroy(m);
    return p;
}

/* Run steps [from, to) of the tone denoising data on t, losses into loss[step]. */
static void run_tones(limpid_trainer *t, int from, int to, float *loss)
{
    const limpid_train_config *tc = limpid_trainer_train_config(t);
    size_t n = (size_t)tc->batch * (size_t)tc->crop_samples;
    float *clean = malloc(n * sizeof *clean), *noisy = malloc(n * sizeof *noisy);
    ck_assert(clean && noisy);
    for (int s = from; s < to; s++) {
        ck_assert_int_eq(limpid_trainer_steps_done(t), s);
        make_tones((uint64_t)s, tc->batch, tc->crop_samples, clean, noisy);
        float l = -1.0f;
        ck_assert_int_eq(limpid_trainer_step(t, clean, noisy, NULL, &l), LIMPID_OK);
        ck_assert(isfinite(l));
        if (loss)
            loss[s] = l;
    }
    free(clean);
    free(noisy);
}

static double mean(const float *x, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += x[i];
    return s / n;
}

/* ------------------------------------------------------------------------ */
/* Loss falls */

START_TEST(test_stft_denoise_learns)
{
    enum { STEPS = 300, B = 4, CROP = 2048, NVAL = 8 };
    limpid_config cfg;
    tiny_cfg(&cfg, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    limpid_train_config tc;
    small_tc(&tc, B, CROP, STEPS);
    limpid_trainer *t = NULL;
    ck_assert_int_eq(limpid_trainer_create(&t, &cfg, NULL, &tc), LIMPID_OK);

    /* a fixed validation set, disjoint keys from the training batches */
    float *vc = malloc(sizeof(float) * NVAL * CROP), *vn = malloc(sizeof(float) * NVAL * CROP);
    ck_assert(vc && vn);
    make_tones(1000000, NVAL, CROP, vc, vn);
    float v0, v1;
    ck_assert_int_eq(limpid_trainer_validate(t, vc, vn, NULL, NVAL, &v0), LIMPID_OK);

    float loss[STEPS];
    double t0 = now_s();
    run_tones(t, 0, STEPS, loss);
    double dt = now_s() - t0;
    ck_assert_int_eq(limpid_trainer_validate(t, vc, vn, NULL, NVAL, &v1), LIMPID_OK);

    double first = mean(loss, 50), last = mean(loss + STEPS - 50, 50);
    fprintf(stderr,
            "stft denoise: %d steps (batch %d, crop %d) in %.2f s (%.1f ms/step); "
            "loss first50 %.5f last50 %.5f (ratio %.3f); val %.5f -> %.5f (ratio %.3f)\n",
            STEPS, B, CROP, dt, 1e3 * dt / STEPS, first, last, last / first, (double)v0,
            (double)v1, (double)(v1 / v0));
    /* margin: the mean loss of the last 50 steps must be below half that of the first 50 */
    ck_assert_msg(last < 0.5 * first, "loss %.5f -> %.5f did not halve", first, last);
    /* validation (EMA weights, fixed steps and noise) must fall by at least 30 % */
    ck_assert_msg(v1 < 0.7f * v0, "validation loss %.5f -> %.5f", (double)v0, (double)v1);

    const limpid_provenance *pv = limpid_trainer_provenance(t);
    ck_assert_uint_eq(pv->train_steps, STEPS);
    ck_assert(pv->train_seconds > 0.0 && pv->train_seconds <= dt + 1e-3);
    ck_assert(pv->final_loss == (double)loss[STEPS - 1]);
    ck_assert(pv->val_loss == (double)v1);
    free(vc);
    free(vn);
    limpid_trainer_destroy(t);
}
END_TEST

START_TEST(test_wave_texture_learns)
{
    enum { STEPS = 300, B = 4, CROP = 1024 };
    limpid_config cfg;
    tiny_cfg(&cfg, LIMPID_TASK_TEXTURE, LIMPID_DOMAIN_WAVE);
    limpid_train_config tc;
    small_tc(&tc, B, CROP, STEPS);
    limpid_trainer *t = NULL;
    ck_assert_int_eq(limpid_trainer_create(&t, &cfg, NULL, &tc), LIMPID_OK);
    float *clean = malloc(sizeof(float) * B * CROP);
    int cls[B];
    ck_assert_ptr_nonnull(clean);
    float loss[STEPS];
    double t0 = now_s();
    for (int s = 0; s < STEPS; s++) {
        make_texture((uint64_t)s, B, CROP, clean, cls);
        ck_assert_int_eq(limpid_trainer_step(t, clean, NULL, cls, &loss[s]), LIMPID_OK);
    }
    double dt = now_s() - t0;
    double first = mean(loss, 50), last = mean(loss + STEPS - 50, 50);
    fprintf(stderr,
            "wave texture: %d steps (batch %d, crop %d) in %.2f s (%.1f ms/step); "
            "loss first50 %.5f last50 %.5f (ratio %.3f)\n",
            STEPS, B, CROP, dt, 1e3 * dt / STEPS, first, last, last / first);
    /* margin: the last 50 steps' mean loss at least 20 % below the first 50's */
    ck_assert_msg(last < 0.8 * first, "loss %.5f -> %.5f", first, last);

    /* a class id out of range is refused */
    cls[0] = 2;
    ck_assert_int_eq(limpid_trainer_step(t, clean, NULL, cls, NULL), LIMPID_ERR_INVALID);
    ck_assert_int_eq(limpid_trainer_step(t, clean, NULL, NULL, NULL), LIMPID_ERR_INVALID);
    ck_assert_int_eq(limpid_trainer_steps_done(t), STEPS);
    free(clean);
    limpid_trainer_destroy(t);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Determinism and resume */

START_TEST(test_determinism)
{
    enum { STEPS = 20 };
    limpid_set_threads(2); /* same thread count on both runs */
    limpid_config cfg;
    tiny_cfg(&cfg, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    limpid_train_config tc;
    small_tc(&tc, 4, 2048, 100);
    limpid_trainer *a = NULL, *b = NULL, *c = NULL;
    ck_assert_int_eq(limpid_trainer_create(&a, &cfg, NULL, &tc), LIMPID_OK);
    ck_assert_int_eq(limpid_trainer_create(&b, &cfg, NULL, &tc), LIMPID_OK);
    tc.seed = 2;
    ck_assert_int_eq(limpid_trainer_create(&c, &cfg, NULL, &tc), LIMPID_OK);
    float la[STEPS], lb[STEPS], lc[STEPS];
    run_tones(a, 0, STEPS, la);
    run_tones(b, 0, STEPS, lb);
    run_tones(c, 0, STEPS, lc);
    size_t na, nb, nc;
    float *pa = raw_params(a, 0, &na), *pb = raw_params(b, 0, &nb), *pc = raw_params(c, 0, &nc);
    ck_assert_uint_eq(na, nb);
    ck_assert_uint_eq(na, nc);
    ck_assert(memcmp(pa, pb, na * sizeof *pa) == 0);
    ck_assert(memcmp(la, lb, sizeof la) == 0);
    ck_assert(memcmp(pa, pc, na * sizeof *pa) != 0);
    ck_assert(memcmp(la, lc, sizeof la) != 0);
    free(pa);
    free(pb);
    free(pc);
    pa = raw_params(a, 1, &na);
    pb = raw_params(b, 1, &nb);
    ck_assert(memcmp(pa, pb, na * sizeof *pa) == 0);
    free(pa);
    free(pb);
    limpid_trainer_destroy(a);
    limpid_trainer_destroy(b);
    limpid_trainer_destroy(c);
    limpid_set_threads(1);
}
END_TEST

/* self_refine: a no-op when every item is at t = T; otherwise other losses than without it,
 * deterministic, kept through a checkpoint (the resumed run equals the straight one), and
 * refused for a model that does not predict x0 */
START_TEST(test_self_refine)
{
    enum { STEPS = 8, HALF = 4 };
    limpid_config cfg;
    tiny_cfg(&cfg, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    ck_assert_int_eq(cfg.target, LIMPID_TARGET_X0);
    limpid_train_config tc;
    small_tc(&tc, 4, 2048, 100);
    tc.t_top = 1.0f;
    limpid_trainer *a = NULL, *b = NULL, *c = NULL;
    ck_assert_int_eq(limpid_trainer_create(&a, &cfg, NULL, &tc), LIMPID_OK);
    tc.self_refine = 1;
    ck_assert_int_eq(limpid_trainer_create(&b, &cfg, NULL, &tc), LIMPID_OK);
    float la[STEPS], lb[STEPS], lc[STEPS];
    run_tones(a, 0, HALF, la);
    run_tones(b, 0, HALF, lb);
    ck_assert(memcmp(la, lb, HALF * sizeof *la) == 0);
    limpid_trainer_destroy(a);
    limpid_trainer_destroy(b);

    tc.t_top = 0.25f;
    tc.self_refine = 0;
    ck_assert_int_eq(limpid_trainer_create(&a, &cfg, NULL, &tc), LIMPID_OK);
    tc.self_refine = 1;
    ck_assert_int_eq(limpid_trainer_create(&b, &cfg, NULL, &tc), LIMPID_OK);
    ck_assert_int_eq(limpid_trainer_create(&c, &cfg, NULL, &tc), LIMPID_OK);
    run_tones(a, 0, STEPS, la);
    run_tones(c, 0, STEPS, lc);
    run_tones(b, 0, HALF, lb);
    /* (the untrained network outputs 0 whatever x_t, and the warm-up's first step, at a
     * learning rate of 0, leaves it so: steps 0 and 1 agree, the later ones do not) */
    ck_assert_msg(memcmp(la, lc, sizeof la) != 0, "the same losses with and without");
    char path[512], err[512];
    tmp_path(path, sizeof path, "refine.ckpt");
    ck_assert_int_eq(limpid_trainer_save_checkpoint(b, path), LIMPID_OK);
    limpid_trainer_destroy(b);
    b = NULL;
    err[0] = '\0';
    limpid_status st = limpid_trainer_load_checkpoint(&b, path, err, sizeof err);
    ck_assert_msg(st == LIMPID_OK, "load: %s (%s)", limpid_strerror(st), err);
    ck_assert_int_eq(limpid_trainer_train_config(b)->self_refine, 1);
    run_tones(b, HALF, STEPS, lb);
    ck_assert(memcmp(lb, lc, sizeof lb) == 0);
    size_t nb, nc;
    float *pb = raw_params(b, 0, &nb), *pc = raw_params(c, 0, &nc);
    ck_assert_uint_eq(nb, nc);
    ck_assert(memcmp(pb, pc, nb * sizeof *pb) == 0);
    free(pb);
    free(pc);
    limpid_trainer_destroy(a);
    limpid_trainer_destroy(b);
    limpid_trainer_destroy(c);
    remove(path);

    limpid_trainer *x = NULL;
    tc.self_refine = 2;
    ck_assert_int_eq(limpid_trainer_create(&x, &cfg, NULL, &tc), LIMPID_ERR_INVALID);
    limpid_config wcfg;
    tiny_cfg(&wcfg, LIMPID_TASK_TEXTURE, LIMPID_DOMAIN_WAVE);
    ck_assert_int_ne(wcfg.target, LIMPID_TARGET_X0);
    tc.self_refine = 1;
    ck_assert_int_eq(limpid_trainer_create(&x, &wcfg, NULL, &tc), LIMPID_ERR_INVALID);
    ck_assert_ptr_null(x);
}
END_TEST

START_TEST(test_exact_resume)
{
    enum { STEPS = 20, HALF = 10 };
    limpid_config cfg;
    tiny_cfg(&cfg, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    limpid_train_config tc;
    small_tc(&tc, 4, 2048, 100);
    tc.warmup = 5; /* the resumed half runs on the decaying part of the schedule */
    tc.seed = 12345678901234ull;
    tc.t_top = 0.3f; /* its draws are part of the exact resume too */
    tc.loss_weight = 0.5f;
    tc.loss_norm = LIMPID_LOSS_NORM_LOG;
    limpid_trainer *a = NULL, *b = NULL;
    ck_assert_int_eq(limpid_trainer_create(&a, &cfg, NULL, &tc), LIMPID_OK);
    ck_assert_int_eq(limpid_trainer_create(&b, &cfg, NULL, &tc), LIMPID_OK);
    limpid_provenance pv;
    memset(&pv, 0, sizeof pv);
    snprintf(pv.data, sizeof pv.data, "tones in white noise");
    snprintf(pv.command, sizeof pv.command, "test_train resume");
    limpid_trainer_set_provenance(b, &pv);

    float la[STEPS], lb[STEPS];
    run_tones(a, 0, STEPS, la);
    run_tones(b, 0, HALF, lb);
    char path[512], err[512];
    tmp_path(path, sizeof path, "resume.ckpt");
    ck_assert_int_eq(limpid_trainer_save_checkpoint(b, path), LIMPID_OK);
    double secs = limpid_trainer_provenance(b)->train_seconds;
    limpid_trainer_destroy(b);
    b = NULL;
    err[0] = '\0';
    limpid_status st = limpid_trainer_load_checkpoint(&b, path, err, sizeof err);
    ck_assert_msg(st == LIMPID_OK, "load: %s (%s)", limpid_strerror(st), err);
    ck_assert_int_eq(limpid_trainer_steps_done(b), HALF);
    const limpid_train_config *tb = limpid_trainer_train_config(b);
    ck_assert(tb->batch == tc.batch && tb->crop_samples == tc.crop_samples &&
              tb->lr == tc.lr && tb->lr_min == tc.lr_min && tb->warmup == tc.warmup &&
              tb->total_steps == tc.total_steps && tb->weight_decay == tc.weight_decay &&
              tb->beta1 == tc.beta1 && tb->beta2 == tc.beta2 && tb->adam_eps == tc.adam_eps &&
              tb->clip == tc.clip && tb->ema_decay == tc.ema_decay && tb->t_top == tc.t_top &&
              tb->loss_weight == tc.loss_weight && tb->loss_norm == tc.loss_norm);
    ck_assert_uint_eq(tb->seed, tc.seed);
    ck_assert(memcmp(limpid_trainer_model_config(b), &cfg, sizeof cfg) == 0);
    const limpid_provenance *pb = limpid_trainer_provenance(b);
    ck_assert_str_eq(pb->data, "tones in white noise");
    ck_assert_str_eq(pb->command, "test_train resume");
    ck_assert_uint_eq(pb->train_steps, HALF);
    ck_assert(pb->train_seconds == secs);
    ck_assert(pb->final_loss == (double)lb[HALF - 1]);
    run_tones(b, HALF, STEPS, lb);

    ck_assert(memcmp(la, lb, sizeof la) == 0);
    ck_assert(limpid_trainer_lr(a) == limpid_trainer_lr(b));
    for (int ema = 0; ema < 2; ema++) {
        size_t na, nb;
        float *pa = raw_params(a, ema, &na), *pbp = raw_params(b, ema, &nb);
        ck_assert_uint_eq(na, nb);
        ck_assert_msg(memcmp(pa, pbp, na * sizeof *pa) == 0, "%s weights differ",
                      ema ? "EMA" : "raw");
        free(pa);
        free(pbp);
    }
    /* the exported model carries the trainer's counters and this version */
    limpid_model *m = NULL;
    ck_assert_int_eq(limpid_trainer_export(b, 1, NULL, &m), LIMPID_OK);
    const limpid_provenance *mp = limpid_model_provenance(m);
    ck_assert_uint_eq(mp->train_steps, STEPS);
    ck_assert_uint_eq(mp->seed, tc.seed);
    ck_assert_str_eq(mp->tool_version, limpid_version());
    ck_assert_str_eq(mp->data, "tones in white noise");
    ck_assert_int_eq((int)strlen(mp->created), 20); /* YYYY-MM-DDTHH:MM:SSZ */
    ck_assert(mp->final_loss == (double)lb[STEPS - 1]);
    limpid_model_destroy(m);
    unlink(path);
    limpid_trainer_destroy(a);
    limpid_trainer_destroy(b);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Refused checkpoints */

static void *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *b = malloc((size_t)n);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void write_all(const char *path, const void *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, len, f), len);
    fclose(f);
}

static void expect_refused(const char *path, limpid_status want)
{
    char err[512] = "";
    limpid_trainer *t = (limpid_trainer *)&err; /* must be reset to NULL */
    limpid_status st = limpid_trainer_load_checkpoint(&t, path, err, sizeof err);
    fprintf(stderr, "refused %s: %s: %s\n", path, limpid_strerror(st), err);
    ck_assert_msg(st != LIMPID_OK, "%s was accepted", path);
    if (want != LIMPID_OK)
        ck_assert_msg(st == want, "%s: got %s, want %s (%s)", path, limpid_strerror(st),
                      limpid_strerror(want), err);
    ck_assert_ptr_null(t);
    ck_assert_msg(err[0] != '\0', "no message");
    ck_assert_msg(strstr(err, path) != NULL, "message does not name the file: %s", err);
}

START_TEST(test_refused_checkpoints)
{
    limpid_config cfg;
    tiny_cfg(&cfg, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    limpid_train_config tc;
    small_tc(&tc, 2, 1024, 100);
    limpid_trainer *t = NULL;
    ck_assert_int_eq(limpid_trainer_create(&t, &cfg, NULL, &tc), LIMPID_OK);
    run_tones(t, 0, 2, NULL);
    char good[512], bad[512], model[512];
    tmp_path(good, sizeof good, "good.ckpt");
    tmp_path(bad, sizeof bad, "bad.ckpt");
    tmp_path(model, sizeof model, "model.lpd");
    ck_assert_int_eq(limpid_trainer_save_checkpoint(t, good), LIMPID_OK);
    size_t len;
    unsigned char *buf = read_all(good, &len);
    ck_assert(len > 1000);

    /* one flipped bit in the middle (inside the tensor data): checksum */
    buf[len / 2] ^= 0x10;
    write_all(bad, buf, len);
    expect_refused(bad, LIMPID_ERR_CORRUPT);
    buf[len / 2] ^= 0x10;

    /* truncated */
    write_all(bad, buf, len / 2);
    expect_refused(bad, LIMPID_ERR_TRUNCATED);
    write_all(bad, buf, 7);
    expect_refused(bad, LIMPID_OK);
    write_all(bad, buf, 0);
    expect_refused(bad, LIMPID_OK);

    /* not a limpid file */
    memset(buf, 'x', 64);
    write_all(bad, buf, len);
    expect_refused(bad, LIMPID_ERR_FORMAT);

    /* a model file is not a checkpoint */
    limpid_model *m = NULL;
    ck_assert_int_eq(limpid_trainer_export(t, 1, NULL, &m), LIMPID_OK);
    ck_assert_int_eq(limpid_model_save_file(m, model), LIMPID_OK);
    limpid_model_destroy(m);
    expect_refused(model, LIMPID_ERR_FORMAT);

    /* missing file */
    unlink(bad);
    expect_refused(bad, LIMPID_ERR_IO);

    /* the good one still loads */
    limpid_trainer *u = NULL;
    char err[256] = "";
    ck_assert_int_eq(limpid_trainer_load_checkpoint(&u, good, err, sizeof err), LIMPID_OK);
    ck_assert_int_eq(limpid_trainer_steps_done(u), 2);
    limpid_trainer_destroy(u);

    free(buf);
    unlink(good);
    unlink(model);
    limpid_trainer_destroy(t);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Configuration checks, fine-tuning start, non-finite data */

START_TEST(test_create_checks)
{
    limpid_config cfg;
    tiny_cfg(&cfg, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    limpid_train_config tc, d;
    limpid_train_config_default(&d);
    ck_assert_int_eq(d.batch, 16);
    ck_assert_int_eq(d.crop_samples, 32768);
    ck_assert(d.lr == 1e-3f && d.lr_min == 1e-5f && d.warmup == 200 && d.total_steps == 20000);
    ck_assert(d.weight_decay == 0.01f && d.beta1 == 0.9f && d.beta2 == 0.999f);
    ck_assert(d.adam_eps == 1e-8f && d.clip == 1.0f && d.ema_decay == 0.999f && d.seed == 1);

    ck_assert(d.t_top == 0.0f);

    limpid_trainer *t = NULL;
    small_tc(&tc, 2, 1024, 100);
    tc.t_top = 1.5f;
    ck_assert_int_eq(limpid_trainer_create(&t, &cfg, NULL, &tc), LIMPID_ERR_INVALID);
    tc.t_top = 1.0f;
    ck_assert_int_eq(limpid_trainer_create(&t, &cfg, NULL, &tc), LIMPID_OK);
    ck_assert_int_eq(limpid_trainer_set_t_top(t, -0.1f), LIMPID_ERR_INVALID);
    ck_assert_int_eq(limpid_trainer_set_t_top(t, 0.5f), LIMPID_OK);
    ck_assert(limpid_trainer_train_config(t)->t_top == 0.5f);
    ck_assert_int_eq(limpid_trainer_set_loss_weight(t, 1.5f), LIMPID_ERR_INVALID);
    ck_assert_int_eq(limpid_trainer_set_loss_weight(t, 1.0f), LIMPID_OK);
    ck_assert(limpid_trainer_train_config(t)->loss_weight == 1.0f);
    ck_assert_int_eq(limpid_trainer_set_loss_norm(t, 5), LIMPID_ERR_INVALID);
    ck_assert_int_eq(limpid_trainer_set_loss_norm(t, -1), LIMPID_ERR_INVALID);
    ck_assert_int_eq(limpid_trainer_set_loss_norm(t, LIMPID_LOSS_NORM_ITEM), LIMPID_OK);
    ck_assert(limpid_trainer_train_config(t)->loss_norm == LIMPID_LOSS_NORM_ITEM);
    {   /* the noise normalisation needs an STFT denoiser */
        limpid_config xcfg;
        tiny_cfg(&xcfg, LIMPID_TASK_TEXTURE, LIMPID_DOMAIN_STFT);
        limpid_train_config xt = d;
        xt.loss_norm = LIMPID_LOSS_NORM_NOISE;
        limpid_trainer *tx = NULL;
        ck_assert_int_eq(limpid_trainer_create(&tx, &xcfg, NULL, &xt), LIMPID_ERR_INVALID);
        ck_assert_int_eq(limpid_trainer_set_loss_norm(t, LIMPID_LOSS_NORM_NOISE), LIMPID_OK);
    }
    /* the mask loss needs the wiener_floor head (tiny_cfg has another) */
    ck_assert(cfg.head != LIMPID_HEAD_WIENER_FLOOR);
    ck_assert_int_eq(limpid_trainer_set_mask_loss(t, 0.5f), LIMPID_ERR_INVALID);
    ck_assert_int_eq(limpid_trainer_set_mask_loss(t, 0.0f), LIMPID_OK);
    limpid_trainer_destroy(t);
    t = NULL;
    tc.mask_loss = 0.5f;
    ck_assert_int_eq(limpid_trainer_create(&t, &cfg, NULL, &tc), LIMPID_ERR_INVALID);
    {
        limpid_config fc = cfg;
        fc.head = LIMPID_HEAD_WIENER_FLOOR;
        fc.cond = LIMPID_COND_LOGPOW_FLOOR;
        ck_assert_int_eq(limpid_trainer_create(&t, &fc, NULL, &tc), LIMPID_OK);
        ck_assert_int_eq(limpid_trainer_set_mask_loss(t, 100.5f), LIMPID_ERR_INVALID);
        ck_assert_int_eq(limpid_trainer_set_mask_loss(t, 2.0f), LIMPID_OK);
        ck_assert(limpid_trainer_train_config(t)->mask_loss == 2.0f);
        ck_assert_int_eq(limpid_trainer_set_mask_form(t, 2), LIMPID_ERR_INVALID);
        ck_assert_int_eq(limpid_trainer_set_mask_form(t, -1), LIMPID_ERR_INVALID);
        ck_assert_int_eq(limpid_trainer_train_config(t)->mask_form, LIMPID_MASK_FORM_RATIO);
        ck_assert_int_eq(limpid_trainer_set_mask_form(t, LIMPID_MASK_FORM_PHASE), LIMPID_OK);
        /* the gate loss needs the gate */
        ck_assert_int_eq(limpid_trainer_set_gate_loss(t, 0.5f), LIMPID_ERR_INVALID);
        ck_assert_int_eq(limpid_trainer_set_gate_loss(t, 0.0f), LIMPID_OK);
        char path[64]; /* the checkpoint keeps them */
        snprintf(path, sizeof path, "/tmp/test_train_%d_mask.ckpt", (int)getpid());
        ck_assert_int_eq(limpid_trainer_save_checkpoint(t, path), LIMPID_OK);
        limpid_trainer_destroy(t);
        t = NULL;
        ck_assert_int_eq(limpid_trainer_load_checkpoint(&t, path, NULL, 0), LIMPID_OK);
        ck_assert(limpid_trainer_train_config(t)->mask_loss == 2.0f);
        ck_assert_int_eq(limpid_trainer_train_config(t)->mask_form, LIMPID_MASK_FORM_PHASE);
        remove(path);
        limpid_trainer_destroy(t);
        t = NULL;
        limpid_train_config gt = tc;
        gt.gate_loss = 0.5f;
        ck_assert_int_eq(limpid_trainer_create(&t, &fc, NULL, &gt), LIMPID_ERR_INVALID);
        fc.floor_gate = 1;
        ck_assert_int_eq(limpid_trainer_create(&t, &fc, NULL, &gt), LIMPID_OK);
        ck_assert_int_eq(limpid_trainer_set_gate_loss(t, 100.5f), LIMPID_ERR_INVALID);
        ck_assert_int_eq(limpid_trainer_set_gate_loss(t, -1.0f), LIMPID_ERR_INVALID);
        ck_assert_int_eq(limpid_trainer_set_gate_loss(t, 3.0f), LIMPID_OK);
        ck_assert_int_eq(limpid_trainer_save_checkpoint(t, path), LIMPID_OK);
        limpid_trainer_destroy(t);
        t = NULL;
        ck_assert_int_eq(limpid_trainer_load_checkpoint(&t, path, NULL, 0), LIMPID_OK);
        ck_assert(limpid_trainer_train_config(t)->gate_loss == 3.0f);
        remove(path);
        limpid_trainer_destroy(t);
        t = NULL;
    }
    small_tc(&tc, 2, 1024, 100);
    tc.batch = 0;
    ck_assert_int_eq(limpid_trainer_create(&t, &cfg, NULL, &tc), LIMPID_ERR_INVALID);
    small_tc(&tc, 2, 10, 100); /* less than one frame */
    ck_assert_int_eq(limpid_trainer_create(&t, &cfg, NULL, &tc), LIMPID_ERR_INVALID);
    small_tc(&tc, 2, 1024, 100);
    tc.lr = NAN;
    ck_assert_int_eq(limpid_trainer_create(&t, &cfg, NULL, &tc), LIMPID_ERR_INVALID);
    small_tc(&tc, 2, 1024, 100);
    tc.beta2 = 1.0f;
    ck_assert_int_eq(limpid_trainer_create(&t, &cfg, NULL, &tc), LIMPID_ERR_INVALID);
    small_tc(&tc, 2, 1024, 100);
    tc.ema_decay = 1.0f;
    ck_assert_int_eq(limpid_trainer_create(&t, &cfg, NULL, &tc), LIMPID_ERR_INVALID);
    ck_assert_ptr_null(t);

    /* fine-tuning starts from the model's weights; the configurations must match */
    small_tc(&tc, 2, 1024, 100);
    limpid_model *m = NULL;
    ck_assert_int_eq(limpid_model_create(&m, &cfg, 99), LIMPID_OK);
    ck_assert_int_eq(limpid_trainer_create(&t, &cfg, m, &tc), LIMPID_OK);
    size_t n;
    float *p = raw_params(t, 1, &n);
    ck_assert_uint_eq(n, m->layout.n_params);
    ck_assert(memcmp(p, m->params, n * sizeof *p) == 0);
    free(p);

    /* non-finite data: NUMERIC, nothing changes */
    float *clean = calloc(2 * 1024, sizeof *clean), *noisy = calloc(2 * 1024, sizeof *noisy);
    ck_assert(clean && noisy);
    make_tones(5, 2, 1024, clean, noisy);
    noisy[100] = NAN;
    float l = 0.0f;
    ck_assert_int_eq(limpid_trainer_step(t, clean, noisy, NULL, &l), LIMPID_ERR_NUMERIC);
    ck_assert_int_eq(limpid_trainer_steps_done(t), 0);
    p = raw_params(t, 0, &n);
    ck_assert(memcmp(p, m->params, n * sizeof *p) == 0);
    free(p);
    ck_assert_int_eq(limpid_trainer_step(t, clean, NULL, NULL, &l), LIMPID_ERR_INVALID);
    free(clean);
    free(noisy);
    limpid_trainer_destroy(t);
    t = NULL;

    limpid_config other = cfg;
    other.channels = 8;
    ck_assert_int_eq(limpid_trainer_create(&t, &other, m, &tc), LIMPID_ERR_INVALID);
    ck_assert_ptr_null(t);
    limpid_model_destroy(m);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Learning-rate schedule */

START_TEST(test_lr_schedule)
{
    limpid_config cfg;
    tiny_cfg(&cfg, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_WAVE);
    limpid_train_config tc;
    limpid_train_config_default(&tc);
    tc.batch = 1;
    tc.crop_samples = 64;
    tc.lr = 1e-3f;
    tc.lr_min = 1e-5f;
    tc.warmup = 10;
    tc.total_steps = 30;
    limpid_trainer *t = NULL;
    ck_assert_int_eq(limpid_trainer_create(&t, &cfg, NULL, &tc), LIMPID_OK);
    float clean[64], noisy[64];
    make_tones(1, 1, 64, clean, noisy);
    const double lr = tc.lr, lmin = tc.lr_min;
    for (int s = 0; s <= 40; s++) {
        double want;
        if (s <= 10)
            want = lr * s / 10.0; /* linear warm-up from 0 */
        else if (s >= 30)
            want = lmin; /* end of the decay and after */
        else
            want = lmin + 0.5 * (lr - lmin) * (1.0 + cos(3.141592653589793 * (s - 10) / 20.0));
        if (s == 20)
            ck_assert(fabs(want - 0.5 * (lr + lmin)) < 1e-12); /* cosine midpoint */
        double got = limpid_trainer_lr(t);
        /* float result of a double computation: within float rounding */
        ck_assert_msg(fabs(got - want) <= 1e-7 * lr, "step %d: lr %.9g, want %.9g", s, got,
                      want);
        ck_assert_int_eq(limpid_trainer_step(t, clean, noisy, NULL, NULL), LIMPID_OK);
    }
    ck_assert(limpid_trainer_lr(t) == tc.lr_min);
    limpid_trainer_destroy(t);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* AdamW + clip on the first step, computable by hand.
 * The final layer starts at zero, so on the first step every gradient upstream of it is
 * exactly zero: those weights only see the decoupled decay p *= 1 - lr*wd (matrices) or stay
 * as they are (biases, tables). The final layer's bias-corrected first Adam step is
 * lr * g / (|g| + eps) ~ lr * sign(g), whatever the clip scale (Adam is scale invariant). */
START_TEST(test_adamw_first_step)
{
    limpid_config cfg;
    tiny_cfg(&cfg, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    limpid_train_config tc;
    small_tc(&tc, 2, 1024, 100);
    tc.warmup = 0;
    tc.lr = 1e-2f;
    tc.weight_decay = 0.1f;
    tc.clip = 1e-3f; /* certainly active */
    limpid_trainer *t = NULL;
    ck_assert_int_eq(limpid_trainer_create(&t, &cfg, NULL, &tc), LIMPID_OK);
    ck_assert(limpid_trainer_lr(t) == tc.lr);
    size_t n;
    float *p0 = raw_params(t, 0, &n);
    run_tones(t, 0, 1, NULL);
    float *p1 = raw_params(t, 0, &n);
    float *e1 = raw_params(t, 1, &n);

    lpi_net_layout L;
    ck_assert_int_eq(lpi_net_layout_init(&L, &cfg), LIMPID_OK);
    const float keep = (float)(1.0 - (double)tc.lr * tc.weight_decay);
    int big = 0, nfinal = 0;
    for (int k = 0; k < L.n_tensors; k++) {
        const lpi_tensor_desc *td = &L.tensors[k];
        int is_final = td->off == L.final_w || td->off == L.final_b;
        for (size_t i = td->off; i < td->off + td->count; i++) {
            if (is_final) {
                float d = fabsf(p1[i] - p0[i]);
                /* |step| <= lr (eps > 0); margin for float rounding */
                ck_assert_msg(d <= tc.lr * 1.0001f, "%s: step %g > lr", td->name, (double)d);
                /* weights fed by an inactive relu channel, and the Wiener head's floor rows
                 * (G ~ 1 on every audible bin at init), get g ~ 0: count those that moved */
                if (d > 0.0f) {
                    big += d > 0.9f * tc.lr;
                    nfinal++;
                }
            } else if (td->decay) {
                ck_assert_msg(fabsf(p1[i] - p0[i] * keep) <= 1e-6f * fabsf(p0[i]),
                              "%s[%zu]: %g, want %g", td->name, i - td->off, (double)p1[i],
                              (double)(p0[i] * keep));
            } else {
                ck_assert_msg(p1[i] == p0[i], "%s changed", td->name);
            }
        }
    }
    /* most final-layer weights that move get a full-size step */
    ck_assert_msg(big > nfinal / 2, "only %d of %d final weights took a full step", big, nfinal);
    /* EMA after step 0: d = min(0.999, 1/10) = 0.1: ema = 0.1 p0 + 0.9 p1 */
    for (size_t i = 0; i < n; i++)
        ck_assert(fabsf(e1[i] - (0.1f * p0[i] + 0.9f * p1[i])) <= 1e-6f * (fabsf(p1[i]) + 1e-3f));
    lpi_net_layout_free(&L);
    free(p0);
    free(p1);
    free(e1);
    limpid_trainer_destroy(t);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Validation is repeatable */

START_TEST(test_validate_repeatable)
{
    enum { NVAL = 5 }; /* more than one chunk of batch 2, last chunk partial */
    limpid_config cfg;
    tiny_cfg(&cfg, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    limpid_train_config tc;
    small_tc(&tc, 2, 1024, 100);
    limpid_trainer *t = NULL;
    ck_assert_int_eq(limpid_trainer_create(&t, &cfg, NULL, &tc), LIMPID_OK);
    run_tones(t, 0, 5, NULL);
    float vc[NVAL * 1024], vn[NVAL * 1024];
    make_tones(777, NVAL, 1024, vc, vn);
    float a = -1, b = -2;
    ck_assert_int_eq(limpid_trainer_validate(t, vc, vn, NULL, NVAL, &a), LIMPID_OK);
    ck_assert_int_eq(limpid_trainer_validate(t, vc, vn, NULL, NVAL, &b), LIMPID_OK);
    ck_assert(isfinite(a) && a > 0.0f);
    ck_assert(memcmp(&a, &b, sizeof a) == 0);
    ck_assert(limpid_trainer_provenance(t)->val_loss == (double)b);
    /* a step in between changes nothing about the fixed draws, only the weights */
    run_tones(t, 5, 6, NULL);
    float c = -3, d = -4;
    ck_assert_int_eq(limpid_trainer_validate(t, vc, vn, NULL, NVAL, &c), LIMPID_OK);
    ck_assert_int_eq(limpid_trainer_validate(t, vc, vn, NULL, NVAL, &d), LIMPID_OK);
    ck_assert(memcmp(&c, &d, sizeof c) == 0);
    ck_assert_int_eq(limpid_trainer_validate(t, vc, vn, NULL, 0, &d), LIMPID_ERR_INVALID);
    limpid_trainer_destroy(t);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The training objective's gradient (loss weights, BATCH / ITEM / LOG normalisation, the
 * mask loss, head, network) against central differences along random directions. Items at
 * different levels (x1, x0.1, x3), so the three normalisations give different gradients. */

static double objective(int norm, const double *isse, int B, double count, double mean0)
{
    double j = 0.0;
    for (int b = 0; b < B; b++)
        j += norm == LIMPID_LOSS_NORM_LOG ? log(isse[b]) : isse[b];
    return (norm == LIMPID_LOSS_NORM_LOG ? mean0 : 1.0) * j / count;
}

static double cosine(const float *a, const float *b, size_t n)
{
    double dot = 0.0, na = 0.0, nb = 0.0;
    for (size_t i = 0; i < n; i++) {
        dot += (double)a[i] * b[i];
        na += (double)a[i] * a[i];
        nb += (double)b[i] * b[i];
    }
    return dot / sqrt(na * nb);
}

START_TEST(test_objective_gradient)
{
    enum { B = 3, CROP = 2048, DIRS = 3 };
    limpid_config cfg;
    tiny_cfg(&cfg, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    cfg.head = LIMPID_HEAD_WIENER_FLOOR;
    cfg.cond = LIMPID_COND_LOGPOW_FLOOR;
    cfg.input_scale = LIMPID_INPUT_SCALE_SQRT_ABAR; /* the scaled input path too */
    ck_assert_int_eq(limpid_config_check(&cfg, NULL, 0), LIMPID_OK);
    float clean[B * CROP], noisy[B * CROP];
    make_tones(4242, B, CROP, clean, noisy);
    const float level[B] = {1.0f, 0.1f, 3.0f};
    for (int b = 0; b < B; b++)
        for (int i = 0; i < CROP; i++) {
            clean[b * CROP + i] *= level[b];
            noisy[b * CROP + i] *= level[b];
        }
    /* cases: the three normalisations, then ITEM and LOG with the mask loss, then ITEM with
     * the mask loss and a per-bin front end (threshold offsets and extra cond rows), the
     * linear-domain losses, then ITEM with the PHASE form of the mask loss (a = 0.5, a = 0.3) */
    enum { CASES = 16, FRONT = 5, NOISE = 6, NOISE_A = 7, PHASE = 8, PHASE_A = 9, GATE = 10,
           GATE_M = 11, GATE_L = 12, GATE_LM = 13, FRONT_G = 14, BAND = 15 };
    const int norms[CASES] = {LIMPID_LOSS_NORM_BATCH, LIMPID_LOSS_NORM_ITEM, LIMPID_LOSS_NORM_LOG,
                              LIMPID_LOSS_NORM_ITEM, LIMPID_LOSS_NORM_LOG, LIMPID_LOSS_NORM_ITEM,
                              LIMPID_LOSS_NORM_NOISE, LIMPID_LOSS_NORM_NOISE_DB,
                              LIMPID_LOSS_NORM_ITEM, LIMPID_LOSS_NORM_ITEM,
                              LIMPID_LOSS_NORM_ITEM, LIMPID_LOSS_NORM_ITEM,
                              LIMPID_LOSS_NORM_ITEM, LIMPID_LOSS_NORM_LOG,
                              LIMPID_LOSS_NORM_ITEM, LIMPID_LOSS_NORM_ITEM};
    const float masks[CASES] = {0.0f, 0.0f, 0.0f, 0.5f, 0.5f, 0.5f, 0.0f, 0.5f, 0.5f, 0.5f,
                                0.0f, 0.5f, 0.0f, 0.5f, 0.5f, 0.5f};
    /* GATE_L, GATE_LM: the gate's own term (gate_loss), alone (ITEM) and with the PHASE mask
     * loss (LOG: the item scale k shared by both terms) */
    const float gates[CASES] = {[GATE_L] = 0.5f, [GATE_LM] = 2.0f, [FRONT_G] = 0.5f,
                                [BAND] = 0.5f};
    /* GATE, GATE_M: the gated floor head (floor_gate), without and with the PHASE mask loss */
    limpid_config gcfg = cfg;
    gcfg.floor_gate = 1;
    /* the linear-domain losses: NOISE at a = 0.5 (k = 1), NOISE_DB at a = 0.3 with the mask
     * loss */
    limpid_config acfg = cfg;
    acfg.compress_exp = 0.3f;
    float *gsave[CASES] = {NULL};
    limpid_config fcfg = cfg;
    fcfg.front_hidden = 6;
    fcfg.front_bins = 1;
    fcfg.front_frames = 3;
    fcfg.front_cond = 2;
    ck_assert_int_eq(limpid_config_check(&fcfg, NULL, 0), LIMPID_OK);
    /* FRONT_G: the front end with the gated head (gate offsets), both terms */
    limpid_config fgcfg = fcfg;
    fgcfg.floor_gate = 1;
    ck_assert_int_eq(limpid_config_check(&fgcfg, NULL, 0), LIMPID_OK);
    /* BAND: the band-resolved stack (bands) with the gated head, both terms */
    limpid_config bcfg = gcfg;
    bcfg.bands = cfg.n_fft / 8 < 6 ? cfg.n_fft / 8 : 6;
    bcfg.band_context = 1;
    ck_assert_int_eq(limpid_config_check(&bcfg, NULL, 0), LIMPID_OK);
    lpi_net_layout FL, FGL;
    ck_assert_int_eq(lpi_net_layout_init(&FL, &fcfg), LIMPID_OK);
    ck_assert_int_eq(lpi_net_layout_init(&FGL, &fgcfg), LIMPID_OK);
    ck_assert_int_eq(FGL.fg, 1);
    /* the front cases' directions: layer 1, layer 2, layer 3 (weights and biases each) */
    const size_t lo[DIRS] = {FL.fw1, FL.fw2, FL.fw3}, hi[DIRS] = {FL.fw2, FL.fw3, FL.n_params};
    const size_t glo[DIRS] = {FGL.fw1, FGL.fw2, FGL.fw3},
                 ghi[DIRS] = {FGL.fw2, FGL.fw3, FGL.n_params};
    for (int cs = 0; cs < CASES; cs++) {
        const int norm = norms[cs];
        limpid_train_config tc;
        small_tc(&tc, B, CROP, 100);
        tc.loss_weight = 0.8f;
        tc.loss_norm = norm;
        tc.mask_loss = masks[cs];
        tc.mask_form = cs >= PHASE ? LIMPID_MASK_FORM_PHASE : LIMPID_MASK_FORM_RATIO;
        tc.gate_loss = gates[cs];
        tc.t_top = 0.5f;
        tc.warmup = 0;
        limpid_trainer *t = NULL;
        const limpid_config *ccfg = cs == FRONT                         ? &fcfg
                                    : cs == FRONT_G                     ? &fgcfg
                                    : cs == BAND                        ? &bcfg
                                    : (cs == NOISE_A || cs == PHASE_A)  ? &acfg
                                    : cs >= GATE                        ? &gcfg
                                                                        : &cfg;
        ck_assert_int_eq(limpid_trainer_create(&t, ccfg, NULL, &tc), LIMPID_OK);
        run_tones(t, 0, 3, NULL); /* the final layer (and front.w3) no longer zero */
        size_t n;
        float *p = raw_params(t, 0, &n), *q = malloc(n * sizeof *q);
        ck_assert_ptr_nonnull(q);
        double isse[B], count, isse_p[B], isse_m[B];
        const float *gp = NULL;
        ck_assert_int_eq(lpi_trainer_loss_grad(t, p, clean, noisy, NULL, isse, &count, &gp),
                         LIMPID_OK);
        float *g = malloc(n * sizeof *g);
        ck_assert_ptr_nonnull(g);
        memcpy(g, gp, n * sizeof *g);
        const double mean0 = (isse[0] + isse[1] + isse[2]) / B;
        for (int d = 0; d < DIRS; d++) {
            lpi_rng r = lpi_rng_make(0xD1, (uint64_t)cs, (uint64_t)d);
            float *v = malloc(n * sizeof *v);
            ck_assert_ptr_nonnull(v);
            double gv = 0.0, vv = 0.0;
            for (size_t i = 0; i < n; i++) {
                v[i] = lpi_rng_normal(&r);
                if (cs == FRONT && (i < lo[d] || i >= hi[d]))
                    v[i] = 0.0f; /* directions in one front-end layer each */
                if (cs == FRONT_G && (i < glo[d] || i >= ghi[d]))
                    v[i] = 0.0f;
                gv += (double)g[i] * v[i];
                vv += (double)v[i] * v[i];
            }
            ck_assert(fabs(gv) > 0.0); /* the direction moves the objective */
            /* ~1e-3 per weight; 2e-4 in the front end, whose ReLU kinks a larger step
             * crosses often enough to bend the difference by several per cent */
            const float h =
                (float)((cs == FRONT || cs == FRONT_G ? 2e-4 : 1e-3) / sqrt(vv / (double)n));
            for (size_t i = 0; i < n; i++)
                q[i] = p[i] + h * v[i];
            ck_assert_int_eq(lpi_trainer_loss_grad(t, q, clean, noisy, NULL, isse_p, NULL, NULL),
                             LIMPID_OK);
            for (size_t i = 0; i < n; i++)
                q[i] = p[i] - h * v[i];
            ck_assert_int_eq(lpi_trainer_loss_grad(t, q, clean, noisy, NULL, isse_m, NULL, NULL),
                             LIMPID_OK);
            const double fd = (objective(norm, isse_p, B, count, mean0) -
                               objective(norm, isse_m, B, count, mean0)) / (2.0 * h);
            /* 2 % of the directional derivative, and at least 1e-5 of the largest one
             * (|g| |v|): a direction nearly orthogonal to the gradient leaves the central
             * difference's own error (a few 1e-6 of |g| |v| at this h, every case) */
            double gg = 0.0;
            for (size_t i = 0; i < n; i++)
                gg += (double)g[i] * g[i];
            const double tol = 0.02 * fabs(gv) + 1e-5 * sqrt(gg * vv);
            ck_assert_msg(fabs(fd - gv) <= tol,
                          "case %d norm %d mask %g gate %g direction %d: finite difference "
                          "%.6g, gradient %.6g", cs, norm, (double)masks[cs], (double)gates[cs],
                          d, fd, gv);
            free(v);
        }
        gsave[cs] = g;
        free(p);
        free(q);
        limpid_trainer_destroy(t);
    }
    /* the three objectives differ (items at different levels) */
    lpi_net_layout L;
    ck_assert_int_eq(lpi_net_layout_init(&L, &cfg), LIMPID_OK);
    for (int a = 0; a < 3; a++)
        for (int b = a + 1; b < 3; b++) {
            const double c = cosine(gsave[a], gsave[b], L.n_params);
            ck_assert_msg(c < 0.999, "norms %d and %d: cosine %.4f", a, b, c);
        }
    /* the mask loss changes the gradient */
    for (int a = 1; a < 3; a++) {
        const double c = cosine(gsave[a], gsave[a + 2], L.n_params);
        ck_assert_msg(c < 0.99, "norm %d with and without the mask loss: cosine %.4f", norms[a],
                      c);
    }
    /* the PHASE form is another term than RATIO (ITEM, a = 0.5: cases 3 and PHASE) */
    const double cf = cosine(gsave[3], gsave[PHASE], L.n_params);
    ck_assert_msg(cf < 0.99, "mask forms ratio and phase: cosine %.4f", cf);
    /* the gate's rows get a gradient, from the squared error and from the mask loss */
    lpi_net_layout GL;
    ck_assert_int_eq(lpi_net_layout_init(&GL, &gcfg), LIMPID_OK);
    const int GF = GL.Cx / 2;
    for (int cs = GATE; cs <= GATE_LM; cs++) { /* (FRONT_G has another layout) */
        double o3 = 0.0;
        for (int o = 2 * GF; o < GL.Co; o++)
            for (int c = 0; c < GL.C; c++)
                o3 += fabs(gsave[cs][GL.final_w + (size_t)o * GL.C + c]);
        ck_assert_msg(o3 > 0.0, "case %d: no gradient on the gate's weights", cs);
    }
    { /* the front end's gate row gets a gradient */
        double gr = 0.0;
        for (int c = 0; c < FGL.fh; c++)
            gr += fabs(gsave[FRONT_G][FGL.fw3 + (size_t)(1 + FGL.fr) * FGL.fh + c]);
        ck_assert_msg(gr > 0.0, "no gradient on the front end's gate row");
    }
    /* the gate's term changes the gradient (GATE against GATE_L, both ITEM without the mask
     * loss) */
    const double cg = cosine(gsave[GATE], gsave[GATE_L], GL.n_params);
    ck_assert_msg(cg < 0.99, "gated head with and without the gate loss: cosine %.4f", cg);
    lpi_net_layout_free(&GL);
    lpi_net_layout_free(&L);
    lpi_net_layout_free(&FL);
    lpi_net_layout_free(&FGL);
    for (int k = 0; k < CASES; k++)
        free(gsave[k]);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* feature_norm CLASS: two classes of noise with opposite spectral tilts (class 0 low-passed,
 * class 1 high-passed). The fitted scales follow each class's spectrum; with them the
 * normalised features have about unit power in every bin; and an untrained model (output 0)
 * already generates each class with its own spectrum (centroid of class 0 well below class
 * 1's), which without the table it cannot. */

static double centroid_hz(const float *x, int n)
{
    /* spectral centroid from a plain DFT power over 0..SR/2 in 64 bands (Goertzel-free:
     * first differences weigh high frequencies, ratio of powers gives the centroid) */
    double p0 = 0.0, p1 = 0.0;
    for (int i = 1; i < n; i++) {
        p0 += (double)x[i] * x[i];
        double d = (double)x[i] - x[i - 1];
        p1 += d * d;
    }
    /* for a tone at f, |1 - e^{-jw}|^2 = 4 sin^2(w/2): the mean of that over the power
     * spectrum; invert for an equivalent frequency */
    double r = p1 / (p0 + 1e-30) / 4.0;
    if (r > 1.0)
        r = 1.0;
    return 2.0 * asin(sqrt(r)) / (2.0 * M_PI) * SR;
}

/* n items of crop samples, cls[i] = i % 2: class 0 low-passed noise (loud at the bottom),
 * class 1 differenced noise (loud at the top). */
static float *two_class_noise(int n, int crop, uint64_t seed, int *cls)
{
    float *clean = malloc(sizeof(float) * (size_t)n * (size_t)crop);
    ck_assert_ptr_nonnull(clean);
    lpi_rng r = lpi_rng_make(5, 6, seed);
    for (int i = 0; i < n; i++) {
        cls[i] = i % 2;
        float lp = 0.0f, prev = 0.0f;
        for (int j = 0; j < crop; j++) {
            float w = 0.3f * lpi_rng_normal(&r);
            lp = 0.97f * lp + 0.03f * w; /* low-passed */
            clean[(size_t)i * crop + j] = cls[i] == 0 ? 8.0f * lp : 0.5f * (w - prev);
            prev = w;
        }
    }
    return clean;
}

/* A trainer for cfg (batch 2 x crop) with its feature table fitted to the n items, and the
 * model it exports. */
static limpid_model *fitted_model(const limpid_config *cfg, const float *clean, const int *cls,
                                  int n, int crop, limpid_trainer **t)
{
    limpid_train_config tc;
    small_tc(&tc, 2, crop, 100);
    ck_assert_int_eq(limpid_trainer_create(t, cfg, NULL, &tc), LIMPID_OK);
    ck_assert_int_eq(limpid_trainer_fit_feature_norm(*t, clean, cls, n), LIMPID_OK);
    limpid_model *m = NULL;
    ck_assert_int_eq(limpid_trainer_export(*t, 1, NULL, &m), LIMPID_OK);
    return m;
}

/* m saved to path with params[at] = v (then restored) is refused by the loader, the message
 * naming tensor. */
static void expect_table_refused(limpid_model *m, size_t at, float v, const char *path,
                                 const char *tensor)
{
    const float keep = m->params[at];
    m->params[at] = v;
    ck_assert_int_eq(limpid_model_save_file(m, path), LIMPID_OK);
    m->params[at] = keep;
    limpid_model *bad = NULL;
    char e[256];
    ck_assert_int_eq(limpid_model_load_file(&bad, path, e, sizeof e), LIMPID_ERR_CORRUPT);
    ck_assert_msg(strstr(e, tensor) != NULL, "%s", e);
    ck_assert_ptr_null(bad);
}

START_TEST(test_feature_norm)
{
    enum { NI = 12, CROP = 4096 };
    limpid_config cfg;
    tiny_cfg(&cfg, LIMPID_TASK_TEXTURE, LIMPID_DOMAIN_STFT);
    cfg.feature_norm = LIMPID_FEATURE_NORM_CLASS;
    ck_assert_int_eq(limpid_config_check(&cfg, NULL, 0), LIMPID_OK);
    limpid_config bad = cfg;
    bad.task = LIMPID_TASK_DENOISE;
    bad.n_classes = 0;
    ck_assert_int_eq(limpid_config_check(&bad, NULL, 0), LIMPID_ERR_INVALID);

    int cls[NI];
    float *clean = two_class_noise(NI, CROP, 7, cls);
    limpid_trainer *t = NULL;
    limpid_model *m = fitted_model(&cfg, clean, cls, NI, CROP, &t);
    const lpi_net_layout *L = &m->layout;
    ck_assert(L->has_feat_scale);
    const int F = L->Cx / 2;
    const float *sc = m->params + L->feat_scale;
    /* class 0 louder at the bottom than at the top, class 1 the other way round */
    ck_assert_msg(sc[2] > 4.0f * sc[F - 3], "class 0: %g at bin 2, %g at bin %d", (double)sc[2],
                  (double)sc[F - 3], F - 3);
    ck_assert_msg(sc[F + F - 3] > 4.0f * sc[F + 2], "class 1: %g at bin 2, %g at bin %d",
                  (double)sc[F + 2], (double)sc[F + F - 3], F - 3);
    /* normalised features: mean power 1 per bin (re and im each), over the items */
    {
        limpid_stft *st = NULL;
        ck_assert_int_eq(limpid_stft_create(&st, cfg.n_fft, cfg.hop, cfg.window), LIMPID_OK);
        const size_t used = (size_t)CROP / (size_t)cfg.hop * (size_t)cfg.hop;
        const size_t Lf = lpi_feature_frames(&cfg, used);
        float *feat = malloc(sizeof(float) * (size_t)L->Cx * Lf);
        float *scr = malloc(sizeof(float) * (lpi_feature_scratch(&cfg, used) + 1));
        ck_assert(feat && scr);
        for (int k = 0; k < 2; k++) {
            double worst = 0.0;
            for (int f = 1; f < F - 1; f++) {
                double pw = 0.0, cnt = 0.0;
                for (int i = k; i < NI; i += 2) {
                    ck_assert_int_eq(lpi_features_from_audio(&cfg, st, clean + (size_t)i * CROP,
                                                             used, feat, Lf, scr),
                                     LIMPID_OK);
                    for (size_t n = 0; n < Lf; n++) {
                        double a = feat[(size_t)f * Lf + n] / sc[k * F + f];
                        double b = feat[(size_t)(F + f) * Lf + n] / sc[k * F + f];
                        pw += a * a + b * b;
                        cnt += 2.0;
                    }
                }
                worst = fmax(worst, fabs(pw / cnt - 1.0));
            }
            ck_assert_msg(worst < 0.25, "class %d: normalised power off 1 by %.3f", k, worst);
        }
        free(feat);
        free(scr);
        limpid_stft_destroy(st);
    }
    /* the table survives save and load */
    char path[64];
    snprintf(path, sizeof path, "/tmp/test_train_%d_fnorm.lpm", (int)getpid());
    ck_assert_int_eq(limpid_model_save_file(m, path), LIMPID_OK);
    limpid_model *m2 = NULL;
    ck_assert_int_eq(limpid_model_load_file(&m2, path, NULL, 0), LIMPID_OK);
    remove(path);
    ck_assert(m2->cfg.feature_norm == LIMPID_FEATURE_NORM_CLASS);
    ck_assert(memcmp(m2->params + m2->layout.feat_scale, sc, sizeof(float) * 2 * F) == 0);
    {   /* a table with a zero in it is refused by the loader, naming the tensor */
        limpid_model *bad = NULL;
        ck_assert_int_eq(limpid_model_load_file(&bad, path, NULL, 0), LIMPID_ERR_IO); /* removed */
        expect_table_refused(m, L->feat_scale + 5, 0.0f, path, "feat.scale");
        remove(path);
    }
    /* generation follows each class's spectrum */
    limpid_ctx *c = NULL;
    ck_assert_int_eq(limpid_ctx_create(&c, m2, 0), LIMPID_OK);
    limpid_sample_opts o;
    limpid_sample_opts_default(&o);
    const int n = 3 * SR;
    float *y = malloc(sizeof(float) * n);
    ck_assert_ptr_nonnull(y);
    double cen[2];
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(limpid_generate(c, k, n, y, &o), LIMPID_OK);
        cen[k] = centroid_hz(y, n);
    }
    ck_assert_msg(cen[1] > 2.0 * cen[0], "generated centroids: class 0 %.0f Hz, class 1 %.0f Hz",
                  cen[0], cen[1]);
    /* not after training has begun */
    float loss;
    ck_assert_int_eq(limpid_trainer_step(t, clean, NULL, cls, &loss), LIMPID_OK);
    ck_assert_int_eq(limpid_trainer_fit_feature_norm(t, clean, cls, NI), LIMPID_ERR_INVALID);
    free(y);
    limpid_ctx_destroy(c);
    limpid_model_destroy(m2);
    limpid_model_destroy(m);
    limpid_trainer_destroy(t);
    free(clean);
}
END_TEST

/* Magnitude features (textures): the features are the compressed magnitudes; the class table
 * takes each bin's mean and std; audio comes back with the magnitudes' power whatever the
 * random phase; generation is repeatable for a seed and follows each class's spectrum. */
START_TEST(test_magnitude_features)
{
    enum { NI = 12, CROP = 4096 };
    limpid_config cfg;
    tiny_cfg(&cfg, LIMPID_TASK_TEXTURE, LIMPID_DOMAIN_STFT);
    cfg.feature_norm = LIMPID_FEATURE_NORM_CLASS;
    cfg.features = LIMPID_FEATURES_MAGNITUDE;
    ck_assert_int_eq(limpid_config_check(&cfg, NULL, 0), LIMPID_OK);
    const int F = cfg.n_fft / 2 + 1;
    ck_assert_int_eq(limpid_config_feature_channels(&cfg), F);
    {
        limpid_config bad;
        tiny_cfg(&bad, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
        bad.features = LIMPID_FEATURES_MAGNITUDE;
        char e[200];
        ck_assert_int_eq(limpid_config_check(&bad, e, sizeof e), LIMPID_ERR_INVALID);
        ck_assert_msg(strstr(e, "magnitude") != NULL, "%s", e);
        bad = cfg;
        bad.features = (limpid_spec_features)7;
        ck_assert_int_eq(limpid_config_check(&bad, NULL, 0), LIMPID_ERR_INVALID);
    }
    int cls[NI];
    float *clean = two_class_noise(NI, CROP, 8, cls);
    limpid_stft *st = NULL;
    ck_assert_int_eq(limpid_stft_create(&st, cfg.n_fft, cfg.hop, cfg.window), LIMPID_OK);
    const size_t used = (size_t)CROP / (size_t)cfg.hop * (size_t)cfg.hop;
    const size_t Lf = lpi_feature_frames(&cfg, used);
    limpid_config cplx = cfg;
    cplx.features = LIMPID_FEATURES_COMPLEX;
    float *feat = malloc(sizeof(float) * 2 * (size_t)F * Lf);
    float *cf = malloc(sizeof(float) * 2 * (size_t)F * Lf);
    float *scr = malloc(sizeof(float) * (lpi_feature_scratch(&cfg, used) + 1));
    float *y = malloc(sizeof(float) * used);
    ck_assert(feat && cf && scr && y);
    /* the features are |complex features| */
    ck_assert_int_eq(lpi_features_from_audio(&cfg, st, clean, used, feat, Lf, scr), LIMPID_OK);
    ck_assert_int_eq(lpi_features_from_audio(&cplx, st, clean, used, cf, Lf, scr), LIMPID_OK);
    for (int f = 0; f < F; f++)
        for (size_t n = 0; n < Lf; n++) {
            const float a = cf[(size_t)f * Lf + n], b = cf[(size_t)(F + f) * Lf + n];
            ck_assert_float_eq_tol(feat[(size_t)f * Lf + n], hypotf(a, b),
                                   1e-5f * (1.0f + hypotf(a, b)));
        }
    /* back to audio: a phase source is required; the power per band comes back */
    ck_assert_int_eq(lpi_audio_from_features(&cfg, st, feat, Lf, used, y, scr, NULL),
                     LIMPID_ERR_INVALID);
    {
        lpi_rng ph = lpi_rng_make(1, 2, 3);
        const float *x1 = clean + CROP; /* class 1: broadband */
        ck_assert_int_eq(lpi_features_from_audio(&cfg, st, x1, used, feat, Lf, scr), LIMPID_OK);
        ck_assert_int_eq(lpi_audio_from_features(&cfg, st, feat, Lf, used, y, scr, &ph), LIMPID_OK);
        ck_assert_int_eq(lpi_features_from_audio(&cplx, st, y, used, cf, Lf, scr), LIMPID_OK);
        float *f2 = malloc(sizeof(float) * (size_t)F * Lf);
        ck_assert_ptr_nonnull(f2);
        ck_assert_int_eq(lpi_features_from_audio(&cfg, st, y, used, f2, Lf, scr), LIMPID_OK);
        for (int b = 0; b < 8; b++) { /* 8 bands of bins, frames away from the edges */
            double p0 = 0.0, p1 = 0.0;
            for (int f = 1 + b * (F - 2) / 8; f < 1 + (b + 1) * (F - 2) / 8; f++)
                for (size_t n = 4; n + 4 < Lf; n++) {
                    const double a = feat[(size_t)f * Lf + n], c = f2[(size_t)f * Lf + n];
                    p0 += a * a * a * a; /* |X|^2 = (m / beta)^4 for a = 0.5 */
                    p1 += c * c * c * c;
                }
            ck_assert_msg(p1 > 0.7 * p0 && p1 < 1.4 * p0, "band %d: power %.4g back, %.4g in",
                          b, p1, p0);
        }
        free(f2);
    }
    limpid_trainer *t = NULL;
    limpid_model *m = fitted_model(&cfg, clean, cls, NI, CROP, &t);
    const lpi_net_layout *L = &m->layout;
    ck_assert(L->has_feat_scale && L->has_feat_mean);
    ck_assert_int_eq(L->Cx, F);
    /* normalised features: mean 0 and variance 1 per bin, over each class's items */
    for (int k = 0; k < 2; k++) {
        double worst_m = 0.0, worst_v = 0.0;
        for (int f = 1; f < F - 1; f++) {
            double s1 = 0.0, s2 = 0.0, cnt = 0.0;
            for (int i = k; i < NI; i += 2) {
                ck_assert_int_eq(lpi_features_from_audio(&cfg, st, clean + (size_t)i * CROP, used,
                                                         feat, Lf, scr),
                                 LIMPID_OK);
                lpi_feature_scale(&cfg, L, m->params, k, 1, feat, Lf, 0, Lf);
                for (size_t n = 0; n < Lf; n++) {
                    const double v = feat[(size_t)f * Lf + n];
                    s1 += v;
                    s2 += v * v;
                    cnt += 1.0;
                }
            }
            const double mu = s1 / cnt, var = s2 / cnt - mu * mu;
            worst_m = fmax(worst_m, fabs(mu));
            worst_v = fmax(worst_v, fabs(var - 1.0));
        }
        ck_assert_msg(worst_m < 1e-3 && worst_v < 1e-3, "class %d: mean off 0 by %.3g, var off 1 by %.3g",
                      k, worst_m, worst_v);
    }
    /* class 0 louder at the bottom, class 1 at the top: in the means too */
    const float *mu = m->params + L->feat_mean;
    ck_assert_msg(mu[2] > 4.0f * mu[F - 3] && mu[F + F - 3] > 4.0f * mu[F + 2],
                  "means: class 0 %g / %g, class 1 %g / %g", (double)mu[2], (double)mu[F - 3],
                  (double)mu[F + 2], (double)mu[F + F - 3]);
    /* the key and both tables survive save and load; an absurd mean is refused */
    char path[64];
    snprintf(path, sizeof path, "/tmp/test_train_%d_mag.lpm", (int)getpid());
    ck_assert_int_eq(limpid_model_save_file(m, path), LIMPID_OK);
    limpid_model *m2 = NULL;
    ck_assert_int_eq(limpid_model_load_file(&m2, path, NULL, 0), LIMPID_OK);
    ck_assert(m2->cfg.features == LIMPID_FEATURES_MAGNITUDE && m2->layout.has_feat_mean);
    ck_assert(memcmp(m2->params + m2->layout.feat_mean, mu, sizeof(float) * 2 * F) == 0);
    expect_table_refused(m, L->feat_mean + 7, 1e31f, path, "feat.mean"); /* finite: saved */
    remove(path);
    /* generation: the same seed gives the same samples, another seed others; each class
     * keeps its spectrum */
    limpid_ctx *c = NULL;
    ck_assert_int_eq(limpid_ctx_create(&c, m2, 0), LIMPID_OK);
    limpid_sample_opts o;
    limpid_sample_opts_default(&o);
    const int n = 3 * SR;
    float *g1 = malloc(sizeof(float) * n), *g2 = malloc(sizeof(float) * n);
    ck_assert(g1 && g2);
    ck_assert_int_eq(limpid_generate(c, 1, n, g1, &o), LIMPID_OK);
    ck_assert_int_eq(limpid_generate(c, 1, n, g2, &o), LIMPID_OK);
    ck_assert(memcmp(g1, g2, sizeof(float) * n) == 0);
    o.seed = 99;
    ck_assert_int_eq(limpid_generate(c, 1, n, g2, &o), LIMPID_OK);
    double dif = 0.0, pw = 0.0;
    for (int i = 0; i < n; i++) {
        dif += (g1[i] - g2[i]) * (double)(g1[i] - g2[i]);
        pw += g1[i] * (double)g1[i];
    }
    ck_assert_msg(pw > 0.0 && dif > 0.5 * pw, "seeds 0 and 99: difference %.3g of power %.3g", dif, pw);
    ck_assert_int_eq(limpid_generate(c, 0, n, g2, &o), LIMPID_OK);
    const double c0 = centroid_hz(g2, n), c1 = centroid_hz(g1, n);
    ck_assert_msg(c1 > 2.0 * c0, "generated centroids: class 0 %.0f Hz, class 1 %.0f Hz", c0, c1);
    free(g1);
    free(g2);
    limpid_ctx_destroy(c);
    limpid_model_destroy(m2);
    limpid_model_destroy(m);
    limpid_trainer_destroy(t);
    limpid_stft_destroy(st);
    free(feat);
    free(cf);
    free(scr);
    free(y);
    free(clean);
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *train_suite(void)
{
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("train");
    tcase_set_timeout(tc, 300); /* sanitizer builds are several times slower */
    tcase_add_test(tc, test_create_checks);
    tcase_add_test(tc, test_lr_schedule);
    tcase_add_test(tc, test_adamw_first_step);
    tcase_add_test(tc, test_objective_gradient);
    tcase_add_test(tc, test_feature_norm);
    tcase_add_test(tc, test_magnitude_features);
    tcase_add_test(tc, test_validate_repeatable);
    tcase_add_test(tc, test_determinism);
    tcase_add_test(tc, test_exact_resume);
    tcase_add_test(tc, test_self_refine);
    tcase_add_test(tc, test_refused_checkpoints);
    tcase_add_test(tc, test_stft_denoise_learns);
    tcase_add_test(tc, test_wave_texture_learns);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    limpid_set_threads(1); /* shared 2-core machine; also fixes the thread count */
    SRunner *sr = srunner_create(train_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
