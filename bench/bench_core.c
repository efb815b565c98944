/* bench_core.c - speed of the core engine on the reference architecture, with the
 * OpenBLAS sgemm rate of the same machine as the yardstick. Prints figures; it is not a test
 * (it never fails on a slow machine).
 *
 * Reference architecture: preset "base", STFT denoising at 48 kHz (n_fft 1024, hop 256,
 * Cx = 1026 feature channels, C = 64, 12 layers, dilation cycle 6, embedding 128/512, GAIN
 * head).
 *
 * Figures (each the median of several timed repetitions after untimed warm-up runs):
 *  a. sgemm: cblas_sgemm rate (GFLOP/s) on the network's dilated-conv shape
 *     (M = 2C = 128, K = 3C = 192, N = 3008 = 16 items x 188 frames), on the same shape at the
 *     inference width N = 1875, and on a large square product (1024^3).
 *  b. inference: one network evaluation (lpi_net_forward + output head) on one item of 10 s
 *     (1875 frames): ms, real-time factor per sampling step, effective GFLOP/s of the whole
 *     network and its fraction of the sgemm rates. The residual layers alone (dilated conv,
 *     conditioning conv, gate, output conv, residual/skip: "the convolution layers") are timed
 *     as the difference of a 12-layer and a 6-layer network (the 6 extra layers have the same
 *     dilations 1..32), which isolates them from the input/output 1x1 convolutions over the
 *     1026 feature channels; the two run alternately and the median of the per-pair
 *     differences is taken, so load changes on a shared machine cancel.
 *  c. training: limpid_trainer_step, batch 16, crop 1 s (48000 samples of synthetic
 *     noise-like audio): ms per step and seconds of audio trained on per wall second; plus the
 *     network's forward+backward alone (internal API) at the same size, to split the step.
 *
 * Usage: bench_core [--threads N] [--quick] [--bf16]
 * Every figure is also printed as one line "RESULT name value unit". */
#define _GNU_SOURCE
#include "internal.h"

#include <cblas.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define SR 48000
#define INFER_SECONDS 10.0
#define TRAIN_BATCH 16
#define TRAIN_CROP 48000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Timing of `reps` runs after `warm` untimed ones: median and minimum seconds. */
typedef struct timing {
    double med, min;
    int reps;
} timing;

typedef void (*bench_fn)(void *user);

static timing time_it(bench_fn fn, void *user, int warm, int reps)
{
    double *t = malloc((size_t)reps * sizeof *t);
    timing r = {0, 0, reps};
    if (!t) {
        fprintf(stderr, "bench_core: out of memory\n");
        exit(1);
    }
    for (int i = 0; i < warm; i++)
        fn(user);
    for (int i = 0; i < reps; i++) {
        double t0 = now_s();
        fn(user);
        t[i] = now_s() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    r.min = t[0];
    r.med = reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
    free(t);
    return r;
}

/* Paired timing of two runs a and b, alternated (a, b, a, b, ...) so that load changes on a
 * shared machine hit both alike: medians of a and b, and the median of the per-pair
 * differences a - b (more robust than the difference of two medians). */
typedef struct paired {
    timing a, b;
    double diff_med;
} paired;

static paired time_pair(bench_fn fa, void *ua, bench_fn fb, void *ub, int warm, int reps)
{
    double *ta = malloc((size_t)reps * sizeof *ta), *tb = malloc((size_t)reps * sizeof *tb);
    double *td = malloc((size_t)reps * sizeof *td);
    paired r;
    memset(&r, 0, sizeof r);
    if (!ta || !tb || !td) {
        fprintf(stderr, "bench_core: out of memory\n");
        exit(1);
    }
    for (int i = 0; i < warm; i++) {
        fa(ua);
        fb(ub);
    }
    for (int i = 0; i < reps; i++) {
        double t0 = now_s();
        fa(ua);
        double t1 = now_s();
        fb(ub);
        double t2 = now_s();
        ta[i] = t1 - t0;
        tb[i] = t2 - t1;
        td[i] = ta[i] - tb[i];
    }
    qsort(ta, (size_t)reps, sizeof *ta, cmp_double);
    qsort(tb, (size_t)reps, sizeof *tb, cmp_double);
    qsort(td, (size_t)reps, sizeof *td, cmp_double);
#define MED(t) (reps % 2 ? (t)[reps / 2] : 0.5 * ((t)[reps / 2 - 1] + (t)[reps / 2]))
    r.a.med = MED(ta);
    r.a.min = ta[0];
    r.a.reps = reps;
    r.b.med = MED(tb);
    r.b.min = tb[0];
    r.b.reps = reps;
    r.diff_med = MED(td);
#undef MED
    free(ta);
    free(tb);
    free(td);
    return r;
}

static float *falloc(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    if (!p) {
        fprintf(stderr, "bench_core: out of memory (%zu floats)\n", n);
        exit(1);
    }
    return p;
}

static void fill_normal(float *x, size_t n, float scale, uint64_t seed)
{
    lpi_rng r = lpi_rng_make(seed, 0xBE4C, 0);
    for (size_t i = 0; i < n; i++)
        x[i] = scale * lpi_rng_normal(&r);
}

static void result(const char *name, double v, const char *unit)
{
    printf("RESULT %s %.6g %s\n", name, v, unit);
}

/* ------------------------------------------------------------------------ */
/* a. sgemm */

typedef struct gemm_job {
    int M, N, K;
    float *A, *B, *C;
} gemm_job;

static void run_gemm(void *u)
{
    gemm_job *g = u;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->M, g->N, g->K, 1.0f, g->A, g->K,
                g->B, g->N, 0.0f, g->C, g->N);
}

static double bench_gemm(int M, int N, int K, int warm, int reps, timing *tm)
{
    gemm_job g = {M, N, K, falloc((size_t)M * K), falloc((size_t)K * N), falloc((size_t)M * N)};
    fill_normal(g.A, (size_t)M * K, 1.0f, 1);
    fill_normal(g.B, (size_t)K * N, 1.0f, 2);
    *tm = time_it(run_gemm, &g, warm, reps);
    free(g.A);
    free(g.B);
    free(g.C);
    return 2.0 * M * N * (double)K / tm->med * 1e-9;
}

/* The gemm-only cost of one residual layer at width N (what an im2col + sgemm layer costs
 * when everything else is free): tap gather (im2col), dil [2C][3C]x[3C][N], cnd [2C][C]x[C][N],
 * out [2C][C]x[C][N]. */
typedef struct layer_job {
    int C, N, d;
    float *y, *col, *wd, *wc, *wo, *c, *a, *z, *r;
} layer_job;

static void run_layer_gemms(void *u)
{
    layer_job *j = u;
    const int C = j->C, N = j->N, d = j->d;
    for (int k = 0; k < 3; k++) { /* centred taps: frame n reads n + (k-1)d */
        int s = (k - 1) * d;
        for (int c = 0; c < C; c++) {
            float *dst = j->col + ((size_t)k * C + c) * N;
            const float *src = j->y + (size_t)c * N;
            for (int n = 0; n < N; n++) {
                int m = n + s;
                dst[n] = (m >= 0 && m < N) ? src[m] : 0.0f;
            }
        }
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2 * C, N, 3 * C, 1.0f, j->wd, 3 * C,
                j->col, N, 0.0f, j->a, N);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2 * C, N, C, 1.0f, j->wc, C, j->c, N,
                1.0f, j->a, N);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2 * C, N, C, 1.0f, j->wo, C, j->z, N,
                0.0f, j->r, N);
}

static timing bench_layer_gemms(int C, int N, int warm, int reps)
{
    layer_job j = {C, N, 8, falloc((size_t)C * N), falloc((size_t)3 * C * N),
                   falloc((size_t)6 * C * C), falloc((size_t)2 * C * C), falloc((size_t)2 * C * C),
                   falloc((size_t)C * N), falloc((size_t)2 * C * N), falloc((size_t)C * N),
                   falloc((size_t)2 * C * N)};
    fill_normal(j.y, (size_t)C * N, 1.0f, 3);
    fill_normal(j.c, (size_t)C * N, 1.0f, 4);
    fill_normal(j.z, (size_t)C * N, 1.0f, 5);
    fill_normal(j.wd, (size_t)6 * C * C, 0.1f, 6);
    fill_normal(j.wc, (size_t)2 * C * C, 0.1f, 7);
    fill_normal(j.wo, (size_t)2 * C * C, 0.1f, 8);
    timing tm = time_it(run_layer_gemms, &j, warm, reps);
    free(j.y); free(j.col); free(j.wd); free(j.wc); free(j.wo);
    free(j.c); free(j.a); free(j.z); free(j.r);
    return tm;
}

/* ------------------------------------------------------------------------ */
/* Network (internal API) */

typedef struct net_job {
    limpid_model *m;
    lpi_net_ws *ws;
    int B, Lf, train;
    float *x, *cond, *out, *pred, *dout, *grads, *t;
} net_job;

static int use_bf16; /* --bf16: inference products in bf16 on AMX */

static void net_job_init(net_job *j, const limpid_config *cfg, int B, int Lf, int train)
{
    memset(j, 0, sizeof *j);
    limpid_status st = limpid_model_create(&j->m, cfg, 7);
    if (st != LIMPID_OK) {
        fprintf(stderr, "bench_core: limpid_model_create: %s\n", limpid_strerror(st));
        exit(1);
    }
    /* final.* start at zero; give them values so the head does real work (no effect on
     * speed with BLAS, but keeps the outputs non-trivial) */
    const lpi_net_layout *L = &j->m->layout;
    fill_normal(j->m->params + L->final_w, (size_t)L->Co * L->C, 0.01f, 9);
    j->B = B;
    j->Lf = Lf;
    j->train = train;
    j->ws = lpi_net_ws_create(L, B, Lf, train);
    if (!j->ws) {
        fprintf(stderr, "bench_core: lpi_net_ws_create failed\n");
        exit(1);
    }
    if (!train && use_bf16 && (st = lpi_net_ws_use_bf16(j->ws, 1)) != LIMPID_OK) {
        fprintf(stderr, "bench_core: --bf16: %s (needs a CPU with AMX-BF16)\n",
                limpid_strerror(st));
        exit(1);
    }
    size_t cols = (size_t)B * Lf;
    j->x = falloc((size_t)L->Cx * cols);
    j->cond = falloc((size_t)L->Cx * cols);
    j->out = falloc((size_t)L->Co * cols);
    j->pred = falloc((size_t)L->Cx * cols);
    j->t = falloc((size_t)B);
    fill_normal(j->x, (size_t)L->Cx * cols, 1.0f, 10);
    fill_normal(j->cond, (size_t)L->Cx * cols, 0.5f, 11);
    for (int b = 0; b < B; b++)
        j->t[b] = (float)(1 + (7 * b + 3) % cfg->steps_T);
    if (train) {
        j->dout = falloc((size_t)L->Co * cols);
        j->grads = falloc(L->n_params);
        fill_normal(j->dout, (size_t)L->Co * cols, 1e-3f, 12);
    }
}

static void net_job_free(net_job *j)
{
    lpi_net_ws_destroy(j->ws);
    limpid_model_destroy(j->m);
    free(j->x); free(j->cond); free(j->out); free(j->pred); free(j->t);
    free(j->dout); free(j->grads);
}

/* one network evaluation of the sampler: network + GAIN head */
static void run_forward(void *u)
{
    net_job *j = u;
    const lpi_net_layout *L = &j->m->layout;
    lpi_net_forward_head(L, j->m->params, j->ws, j->x, j->cond, j->t, NULL, j->B, j->Lf,
                         &j->m->cfg, j->cond, NULL, j->x, j->out, j->pred);
}

/* the network's share of a training step: forward, backward into zeroed gradients */
static void run_fwd_bwd(void *u)
{
    net_job *j = u;
    const lpi_net_layout *L = &j->m->layout;
    lpi_net_forward(L, j->m->params, j->ws, j->x, j->cond, j->t, NULL, j->B, j->Lf, j->out);
    memset(j->grads, 0, L->n_params * sizeof *j->grads);
    lpi_net_backward(L, j->m->params, j->ws, j->dout, j->grads, NULL, NULL);
}

/* ------------------------------------------------------------------------ */
/* Trainer (public API) */

typedef struct train_job {
    limpid_trainer *tr;
    float *clean, *noisy;
    float loss;
    int bad;
} train_job;

static void run_train_step(void *u)
{
    train_job *j = u;
    limpid_status st = limpid_trainer_step(j->tr, j->clean, j->noisy, NULL, &j->loss);
    if (st != LIMPID_OK)
        j->bad = (int)st;
}

/* Noise-like synthetic audio: a few decaying tones in pink-ish noise, and the same plus
 * white noise as the observation. */
static void synth_audio(float *clean, float *noisy, int items, int n)
{
    for (int b = 0; b < items; b++) {
        lpi_rng r = lpi_rng_make(99, (uint64_t)b, 1);
        float lp = 0.0f;
        double f1 = 110.0 * (1 + b % 5), f2 = 440.0 + 37.0 * b;
        for (int i = 0; i < n; i++) {
            double tt = (double)i / SR;
            lp = 0.95f * lp + 0.05f * lpi_rng_normal(&r);
            float s = (float)(0.2 * sin(2 * M_PI * f1 * tt) * exp(-2.0 * fmod(tt, 0.5)) +
                              0.1 * sin(2 * M_PI * f2 * tt)) +
                      0.3f * lp;
            clean[(size_t)b * n + i] = s;
            noisy[(size_t)b * n + i] = s + 0.05f * lpi_rng_normal(&r);
        }
    }
}

/* ------------------------------------------------------------------------ */

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_core [--threads N] [--quick] [--profile infer|fwdbwd|train [REPS]]\n"
            "  --threads N  OpenBLAS threads (limpid_set_threads; default 1)\n"
            "  --quick      fewer repetitions (noisier figures, ~3x faster)\n"
            "  --bf16       inference (b.) with bf16 products on AMX (lpi_net_ws_use_bf16);\n"
            "               training stays fp32\n"
            "  --profile W  only run workload W REPS times (default 20) and print its mean time:\n"
            "               for perf record (infer: one 10 s network evaluation; fwdbwd: network\n"
            "               forward+backward at batch 16 x 1 s; train: limpid_trainer_step)\n");
}

/* --profile: one workload in a loop, nothing else, so a profiler sees only it. */
static int profile_run(const limpid_config *cfg, const char *what, int reps, int Lf_inf,
                       int Lf_tr)
{
    double t0, t1;
    if (!strcmp(what, "infer") || !strcmp(what, "fwdbwd")) {
        int inf = !strcmp(what, "infer");
        net_job j;
        net_job_init(&j, cfg, inf ? 1 : TRAIN_BATCH, inf ? Lf_inf : Lf_tr, !inf);
        (inf ? run_forward : run_fwd_bwd)(&j);
        t0 = now_s();
        for (int i = 0; i < reps; i++)
            (inf ? run_forward : run_fwd_bwd)(&j);
        t1 = now_s();
        net_job_free(&j);
    } else if (!strcmp(what, "train")) {
        limpid_train_config tc;
        limpid_train_config_default(&tc);
        tc.batch = TRAIN_BATCH;
        tc.crop_samples = TRAIN_CROP;
        train_job tj = {0};
        if (limpid_trainer_create(&tj.tr, cfg, NULL, &tc) != LIMPID_OK)
            return 1;
        tj.clean = falloc((size_t)TRAIN_BATCH * TRAIN_CROP);
        tj.noisy = falloc((size_t)TRAIN_BATCH * TRAIN_CROP);
        synth_audio(tj.clean, tj.noisy, TRAIN_BATCH, TRAIN_CROP);
        run_train_step(&tj);
        t0 = now_s();
        for (int i = 0; i < reps; i++)
            run_train_step(&tj);
        t1 = now_s();
        limpid_trainer_destroy(tj.tr);
        free(tj.clean);
        free(tj.noisy);
    } else {
        usage();
        return 2;
    }
    printf("profile %s: %d runs, mean %.2f ms\n", what, reps, (t1 - t0) / reps * 1e3);
    return 0;
}

int main(int argc, char **argv)
{
    /* as the limpid tool: OpenBLAS's kernels for this CPU, not its SSE3 fallback */
    const char *core = limpid_blas_better_coretype();
    if (argc > 1 && !strcmp(argv[1], "--blas-coretype")) { /* for run_core.sh */
        printf("%s\n", core ? core : "");
        return 0;
    }
    if (core) {
        setenv("OPENBLAS_CORETYPE", core, 1);
        execv("/proc/self/exe", argv);
        unsetenv("OPENBLAS_CORETYPE");
    }
    int threads = 1, quick = 0, prof_reps = 20;
    const char *prof = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            threads = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--profile") && i + 1 < argc) {
            prof = argv[++i];
            if (i + 1 < argc && argv[i + 1][0] != '-')
                prof_reps = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--quick")) {
            quick = 1;
        } else if (!strcmp(argv[i], "--bf16")) {
            use_bf16 = 1;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage();
            return 0;
        } else {
            usage();
            return 2;
        }
    }
    limpid_set_threads(threads);
    const int warm = quick ? 1 : 2;
    const int reps_fast = quick ? 5 : 11; /* sub-100 ms runs */
    const int reps_slow = quick ? 3 : 7;  /* training-sized runs */

    limpid_config cfg;
    limpid_status st = limpid_config_preset(&cfg, "base", LIMPID_TASK_DENOISE,
                                            LIMPID_DOMAIN_STFT, SR);
    /* the network of bench/torch_ref.py: the noisy spectrum itself as conditioning (Cc = Cx)
     * and the GAIN head (the preset's defaults have changed since: set them here) */
    cfg.head = LIMPID_HEAD_GAIN;
    cfg.cond = LIMPID_COND_SPECTRUM;
    if (st == LIMPID_OK)
        st = limpid_config_check(&cfg, NULL, 0);
    if (st != LIMPID_OK) {
        fprintf(stderr, "bench_core: base preset: %s\n", limpid_strerror(st));
        return 1;
    }
    limpid_config cfg6 = cfg;
    cfg6.layers = 6; /* one dilation cycle fewer: the same dilations 1..32 */
    lpi_net_layout L;
    if (lpi_net_layout_init(&L, &cfg) != LIMPID_OK)
        return 1;
    const int C = L.C, Nl = L.N;
    const double macs_frame = L.macs_per_frame;
    /* per residual layer per frame: dil 2C*3C, cnd 2C*C, out 2C*C */
    const double macs_layer = 6.0 * C * C + (L.Cc > 0 ? 2.0 * C * C : 0.0) + 2.0 * C * C;
    const int hop = limpid_config_frame_hop(&cfg);
    const int Lf_inf = (int)lpi_feature_frames(&cfg, (size_t)(INFER_SECONDS * SR)); /* 1875 */
    const size_t n_used = (size_t)(TRAIN_CROP / hop) * (size_t)hop; /* as the trainer */
    const int Lf_tr = (int)lpi_feature_frames(&cfg, n_used);
    const double train_audio_s = (double)TRAIN_BATCH * Lf_tr * hop / SR; /* per step */
    if (prof) {
        int rc = profile_run(&cfg, prof, prof_reps > 0 ? prof_reps : 1, Lf_inf, Lf_tr);
        lpi_net_layout_free(&L);
        return rc;
    }

    printf("limpid %s core benchmark: threads %d (limpid_get_threads %d)%s\n", limpid_version(),
           threads, limpid_get_threads(), quick ? ", quick" : "");
    printf("OpenBLAS kernels: %s%s\n", openblas_get_corename(),
           getenv("OPENBLAS_CORETYPE") ? " (OPENBLAS_CORETYPE)" : "");
    printf("inference products: %s\n", use_bf16 ? "bf16 on AMX (--bf16), fp32 accumulation"
                                                : "fp32 (OpenBLAS sgemm)");
    printf("network: preset base, STFT denoise %d Hz, n_fft %d, hop %d, Cx %d, C %d, %d layers, "
           "dilation cycle %d, embed %d/%d, GAIN head\n",
           cfg.sample_rate, cfg.n_fft, cfg.hop, L.Cx, C, Nl, cfg.dilation_cycle, cfg.embed_dim,
           cfg.embed_hidden);
    printf("         %zu parameters, %.0f MACs/frame (%.0f per residual layer), receptive field "
           "%d frames\n",
           L.n_params, macs_frame, macs_layer, L.receptive_field);
    printf("timing: median (min) of N repetitions after %d warm-up run(s), wall clock\n\n", warm);
    fflush(stdout);

    /* a. sgemm */
    timing tg_net, tg_inf, tg_sq;
    double gf_net = bench_gemm(2 * C, TRAIN_BATCH * 188, 3 * C, warm + 1, reps_fast * 2, &tg_net);
    double gf_inf = bench_gemm(2 * C, Lf_inf, 3 * C, warm + 1, reps_fast * 2, &tg_inf);
    double gf_sq = bench_gemm(1024, 1024, 1024, warm, quick ? 3 : 5, &tg_sq);

    /* b. inference: whole network, and 12-layer minus 6-layer */
    net_job inf, inf6;
    net_job_init(&inf, &cfg, 1, Lf_inf, 0);
    net_job_init(&inf6, &cfg6, 1, Lf_inf, 0);
    paired p_inf = time_pair(run_forward, &inf, run_forward, &inf6, warm, reps_fast);
    net_job_free(&inf);
    net_job_free(&inf6);
    const timing t_inf = p_inf.a, t_inf6 = p_inf.b;
    timing t_lg = bench_layer_gemms(C, Lf_inf, warm, reps_fast);

    const double flop_inf = 2.0 * macs_frame * Lf_inf;
    const double gf_infer = flop_inf / t_inf.med * 1e-9;
    const double rtf = t_inf.med / INFER_SECONDS;
    const double t_layers = p_inf.diff_med; /* (Nl - 6) residual layers */
    const int dl = Nl - cfg6.layers;
    const double gf_layers = t_layers > 0 ? 2.0 * macs_layer * dl * Lf_inf / t_layers * 1e-9 : 0;
    const double gf_lg = 2.0 * macs_layer * Lf_inf / t_lg.med * 1e-9;

    /* c. training: the trainer, and the network's forward+backward alone */
    limpid_train_config tc;
    limpid_train_config_default(&tc);
    tc.batch = TRAIN_BATCH;
    tc.crop_samples = TRAIN_CROP;
    train_job tj = {0};
    st = limpid_trainer_create(&tj.tr, &cfg, NULL, &tc);
    if (st != LIMPID_OK) {
        fprintf(stderr, "bench_core: limpid_trainer_create: %s\n", limpid_strerror(st));
        return 1;
    }
    tj.clean = falloc((size_t)TRAIN_BATCH * TRAIN_CROP);
    tj.noisy = falloc((size_t)TRAIN_BATCH * TRAIN_CROP);
    synth_audio(tj.clean, tj.noisy, TRAIN_BATCH, TRAIN_CROP);
    timing t_step = time_it(run_train_step, &tj, warm, reps_slow);
    if (tj.bad)
        fprintf(stderr, "bench_core: limpid_trainer_step returned %s (timing kept)\n",
                limpid_strerror((limpid_status)tj.bad));
    limpid_trainer_destroy(tj.tr);
    free(tj.clean);
    free(tj.noisy);

    net_job fb, fb6;
    net_job_init(&fb, &cfg, TRAIN_BATCH, Lf_tr, 1);
    net_job_init(&fb6, &cfg6, TRAIN_BATCH, Lf_tr, 1);
    paired p_fb = time_pair(run_fwd_bwd, &fb, run_fwd_bwd, &fb6, warm, reps_slow);
    net_job_free(&fb);
    net_job_free(&fb6);
    const timing t_fb = p_fb.a;
    /* forward + backward (data and weight gradients) = 3x the forward, less the data gradients
     * of the input and cond convolutions, which the trainer does not ask for (dx, dcond NULL) */
    const double macs_fb = 3.0 * macs_frame - (double)C * L.Cx - (double)C * L.Cc;
    const double flop_fb = 2.0 * macs_fb * TRAIN_BATCH * Lf_tr;
    const double gf_fb = flop_fb / t_fb.med * 1e-9;
    const double t_fb_layers = p_fb.diff_med;
    const double gf_fb_layers =
        t_fb_layers > 0 ? 3.0 * 2.0 * macs_layer * dl * TRAIN_BATCH * Lf_tr / t_fb_layers * 1e-9
                        : 0;

    /* table */
    printf("%-52s %12s %12s %s\n", "figure", "median", "min", "unit");
    printf("--- a. OpenBLAS sgemm (threads %d) ---\n", threads);
    printf("%-52s %12.1f %12.1f GFLOP/s\n", "sgemm 128x192 * 192x3008 (layer conv, train batch)",
           gf_net, 2.0 * 128 * 192 * 3008 / tg_net.min * 1e-9);
    printf("%-52s %12.1f %12.1f GFLOP/s\n", "sgemm 128x192 * 192x1875 (layer conv, 10 s item)",
           gf_inf, 2.0 * 128 * 192 * Lf_inf / tg_inf.min * 1e-9);
    printf("%-52s %12.1f %12.1f GFLOP/s\n", "sgemm 1024x1024 * 1024x1024", gf_sq,
           2.0 * 1024 * 1024 * 1024 / tg_sq.min * 1e-9);
    printf("--- b. inference: 1 item x %d frames (10 s), lpi_net_forward + head ---\n", Lf_inf);
    printf("%-52s %12.2f %12.2f ms\n", "network evaluation", t_inf.med * 1e3, t_inf.min * 1e3);
    printf("%-52s %12.5f %12.5f x real time\n", "real-time factor per sampling step", rtf,
           t_inf.min / INFER_SECONDS);
    printf("%-52s %12.1f %12.1f GFLOP/s\n", "whole network effective rate", gf_infer,
           flop_inf / t_inf.min * 1e-9);
    printf("%-52s %12.1f %12s %%\n", "  of sgemm 128x192x1875 (same width)",
           100 * gf_infer / gf_inf, "");
    printf("%-52s %12.1f %12s %%\n", "  of sgemm 128x192x3008", 100 * gf_infer / gf_net, "");
    printf("%-52s %12.1f %12s %%\n", "  of sgemm 1024^3", 100 * gf_infer / gf_sq, "");
    printf("%-52s %12.2f %12s ms\n", "6-layer network evaluation", t_inf6.med * 1e3, "");
    printf("%-52s %12.2f %12s ms\n", "residual layers, per layer (paired 12L - 6L, / 6)",
           t_layers / dl * 1e3, "");
    printf("%-52s %12.1f %12s GFLOP/s\n", "residual (convolution) layers rate", gf_layers, "");
    printf("%-52s %12.1f %12s %%\n", "  of sgemm 128x192x1875 (same width)",
           100 * gf_layers / gf_inf, "");
    printf("%-52s %12.1f %12s %%\n", "  of sgemm 128x192x3008", 100 * gf_layers / gf_net, "");
    printf("%-52s %12.1f %12s %%\n", "  of sgemm 1024^3", 100 * gf_layers / gf_sq, "");
    printf("%-52s %12.2f %12.2f ms\n", "gemm-only layer (im2col + 3 sgemm), for reference",
           t_lg.med * 1e3, t_lg.min * 1e3);
    printf("%-52s %12.1f %12s GFLOP/s\n", "  its rate", gf_lg, "");
    printf("--- c. training: batch %d x %d frames (crop %d samples) ---\n", TRAIN_BATCH, Lf_tr,
           TRAIN_CROP);
    printf("%-52s %12.1f %12.1f ms\n", "limpid_trainer_step", t_step.med * 1e3, t_step.min * 1e3);
    printf("%-52s %12.2f %12.2f audio-s/s\n", "training throughput", train_audio_s / t_step.med,
           train_audio_s / t_step.min);
    printf("%-52s %12.1f %12.1f ms\n", "  of which network forward+backward (alone)",
           t_fb.med * 1e3, t_fb.min * 1e3);
    printf("%-52s %12.1f %12s ms\n", "  rest of the step (features, noise, loss, AdamW, EMA)",
           (t_step.med - t_fb.med) * 1e3, "");
    printf("%-52s %12.1f %12s GFLOP/s\n", "network forward+backward rate", gf_fb, "");
    printf("%-52s %12.1f %12s GFLOP/s\n", "residual layers forward+backward rate", gf_fb_layers,
           "");
    printf("%-52s %12.1f %12s %%\n", "  of sgemm 128x192x3008", 100 * gf_fb_layers / gf_net, "");
    printf("\nconvolution layers = the residual layers, timed as 12-layer minus 6-layer network "
           "(internal API)\n\n");

    result("c_threads", threads, "threads");
    result("c_sgemm_net_gflops", gf_net, "GFLOP/s");
    result("c_sgemm_inf_gflops", gf_inf, "GFLOP/s");
    result("c_sgemm_square_gflops", gf_sq, "GFLOP/s");
    result("c_infer_frames", Lf_inf, "frames");
    result("c_infer_ms", t_inf.med * 1e3, "ms");
    result("c_infer_rtf", rtf, "x");
    result("c_infer_gflops", gf_infer, "GFLOP/s");
    result("c_infer_frac_sgemm_inf", gf_infer / gf_inf, "fraction");
    result("c_infer_frac_sgemm_net", gf_infer / gf_net, "fraction");
    result("c_infer_frac_sgemm_square", gf_infer / gf_sq, "fraction");
    result("c_layer_ms", t_layers / dl * 1e3, "ms");
    result("c_layers_gflops", gf_layers, "GFLOP/s");
    result("c_layers_frac_sgemm_inf", gf_layers / gf_inf, "fraction");
    result("c_layers_frac_sgemm_net", gf_layers / gf_net, "fraction");
    result("c_layers_frac_sgemm_square", gf_layers / gf_sq, "fraction");
    result("c_layer_gemm_only_ms", t_lg.med * 1e3, "ms");
    result("c_train_frames", Lf_tr, "frames");
    result("c_train_step_ms", t_step.med * 1e3, "ms");
    result("c_train_audio_per_s", train_audio_s / t_step.med, "audio-s/s");
    result("c_train_fwdbwd_ms", t_fb.med * 1e3, "ms");
    result("c_train_fwdbwd_gflops", gf_fb, "GFLOP/s");
    result("c_train_layers_gflops", gf_fb_layers, "GFLOP/s");
    result("c_train_layers_frac_sgemm_net", gf_fb_layers / gf_net, "fraction");
    lpi_net_layout_free(&L);
    return 0;
}
