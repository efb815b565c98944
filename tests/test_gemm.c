/* test_gemm.c - the bf16 AMX product (gemm_amx.c) against OpenBLAS sgemm: odd shapes (edge
 * tiles in M, N and K), alpha, beta 0 and 1, one and two threads, a destination with a
 * leading dimension wider than N (nothing outside M x N touched). Without AMX (CPU, kernel or
 * build) the test says so and checks the fallback instead. The paired product with an
 * epilogue (lpi_gemm_amx_pairs) likewise, and the network's fused output projection + head
 * (lpi_net_forward_head) against the unfused path. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void fill(lpi_rng *r, float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = lpi_rng_normal(r);
}

/* max |got - want| / (sum_k |a_mk b_kn| * alpha + |beta c|): bf16 rounds each factor with a
 * relative error <= 2^-9, so a product term errs by <= ~2^-8 of its size */
static double check_one(int M, int N, int K, float alpha, float beta, int threads)
{
    const int lda = K + 3, ldb = N + 5, ldc = N + 7;
    float *A = malloc(sizeof(float) * (size_t)M * lda), *B = malloc(sizeof(float) * (size_t)K * ldb);
    float *C0 = malloc(sizeof(float) * (size_t)M * ldc), *C1 = malloc(sizeof(float) * (size_t)M * ldc);
    float *Aa = malloc(sizeof(float) * (size_t)M * lda), *Bb = malloc(sizeof(float) * (size_t)K * ldb);
    void *scratch = malloc(lpi_amx_scratch(M, N, K) + 1);
    ck_assert(A && B && C0 && C1 && Aa && Bb && scratch);
    lpi_rng r = lpi_rng_make(99, (uint64_t)(M * 7 + N), (uint64_t)K);
    fill(&r, A, (size_t)M * lda);
    fill(&r, B, (size_t)K * ldb);
    fill(&r, C0, (size_t)M * ldc);
    memcpy(C1, C0, sizeof(float) * (size_t)M * ldc);
    for (size_t i = 0; i < (size_t)M * lda; i++)
        Aa[i] = fabsf(A[i]);
    for (size_t i = 0; i < (size_t)K * ldb; i++)
        Bb[i] = fabsf(B[i]);
    float *bound = malloc(sizeof(float) * (size_t)M * ldc);
    ck_assert_ptr_nonnull(bound);
    memset(bound, 0, sizeof(float) * (size_t)M * ldc);
    lpi_gemm(0, 0, M, N, K, fabsf(alpha), Aa, lda, Bb, ldb, 0.0f, bound, ldc);
    lpi_gemm(0, 0, M, N, K, alpha, A, lda, B, ldb, beta, C0, ldc);
    lpi_gemm_amx(M, N, K, alpha, A, lda, B, ldb, beta, C1, ldc, scratch, threads);
    double worst = 0.0;
    for (int m = 0; m < M; m++)
        for (int n = 0; n < ldc; n++) {
            size_t i = (size_t)m * ldc + n;
            if (n >= N) { /* the padding columns of C are not touched */
                ck_assert_msg(C1[i] == C0[i], "M %d N %d K %d: C[%d][%d] outside N changed", M,
                              N, K, m, n);
                continue;
            }
            double scale = bound[i] + 1e-3;
            double e = fabs((double)C1[i] - (double)C0[i]) / scale;
            if (e > worst)
                worst = e;
        }
    free(A);
    free(B);
    free(C0);
    free(C1);
    free(Aa);
    free(Bb);
    free(bound);
    free(scratch);
    return worst;
}

START_TEST(test_amx_matches_sgemm)
{
    const int amx = lpi_amx_available();
    printf("AMX bf16 products: %s\n", amx ? "available" : "not available (checking the fallback)");
    static const int shapes[][3] = {
        {16, 16, 32}, {32, 32, 64}, {128, 1875, 256}, {64, 1875, 1026}, {1026, 37, 48},
        {1, 1, 1},    {17, 33, 31}, {48, 100, 144},   {96, 5, 200},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int beta = 0; beta <= 1; beta++)
            for (int threads = 1; threads <= 2; threads++) {
                const int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
                const float alpha = beta ? 0.35f : 1.0f;
                double e = check_one(M, N, K, alpha, (float)beta, threads);
                /* bf16: <= 2 * 2^-9 per term plus fp32 sums; the fallback is sgemm itself */
                const double tol = amx ? 6e-3 : 1e-5;
                ck_assert_msg(e <= tol, "M %d N %d K %d beta %d threads %d: error %.3g > %.3g",
                              M, N, K, beta, threads, e, tol);
            }
}
END_TEST

/* lpi_gemm_amx_pairs: every (bin, column) handed to the epilogue exactly once, with the
 * values of sgemm + bias (within bf16's error), rows f and F + f side by side */
typedef struct {
    int F, N;
    float *R;  /* [2F][N] collected */
    int *seen; /* [F][N] */
} collect_ctx;

static void collect(void *u, int f0, int nf, int n0, int nn, const float *o1, const float *g2,
                    int ld)
{
    collect_ctx *c = u;
    for (int r = 0; r < nf; r++)
        for (int n = 0; n < nn; n++) {
            c->R[(size_t)(f0 + r) * c->N + n0 + n] = o1[r * ld + n];
            c->R[(size_t)(c->F + f0 + r) * c->N + n0 + n] = g2[r * ld + n];
            c->seen[(size_t)(f0 + r) * c->N + n0 + n]++;
        }
}

START_TEST(test_pairs_matches_sgemm)
{
    const int amx = lpi_amx_available();
    static const int shapes[][3] = {{513, 1875, 64}, {17, 37, 48}, {1, 1, 1}, {40, 33, 31},
                                    {16, 32, 32}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int threads = 1; threads <= 2; threads++) {
            const int F = shapes[s][0], N = shapes[s][1], K = shapes[s][2], M = 2 * F;
            const int lda = K + 2, ldb = N + 3;
            float *A = malloc(sizeof(float) * (size_t)M * lda);
            float *B = malloc(sizeof(float) * (size_t)K * ldb);
            float *bias = malloc(sizeof(float) * (size_t)M);
            float *R0 = malloc(sizeof(float) * (size_t)M * N);
            float *bound = malloc(sizeof(float) * (size_t)M * N);
            float *Aa = malloc(sizeof(float) * (size_t)M * lda);
            float *Ba = malloc(sizeof(float) * (size_t)K * ldb);
            collect_ctx c = {F, N, malloc(sizeof(float) * (size_t)M * N),
                             calloc((size_t)F * N, sizeof(int))};
            void *scratch = malloc(lpi_amx_pairs_scratch(F, N, K) + 1);
            ck_assert(A && B && bias && R0 && bound && Aa && Ba && c.R && c.seen && scratch);
            lpi_rng r = lpi_rng_make(7, (uint64_t)F, (uint64_t)(N * 3 + K));
            fill(&r, A, (size_t)M * lda);
            fill(&r, B, (size_t)K * ldb);
            fill(&r, bias, (size_t)M);
            for (size_t i = 0; i < (size_t)M * lda; i++)
                Aa[i] = fabsf(A[i]);
            for (size_t i = 0; i < (size_t)K * ldb; i++)
                Ba[i] = fabsf(B[i]);
            for (int m = 0; m < M; m++)
                for (int n = 0; n < N; n++)
                    R0[(size_t)m * N + n] = bias[m];
            lpi_gemm(0, 0, M, N, K, 1.0f, A, lda, B, ldb, 1.0f, R0, N);
            lpi_gemm(0, 0, M, N, K, 1.0f, Aa, lda, Ba, ldb, 0.0f, bound, N);
            lpi_gemm_amx_pairs(F, N, K, A, lda, bias, B, ldb, scratch, threads, collect, &c);
            double worst = 0.0;
            for (size_t i = 0; i < (size_t)F * N; i++)
                ck_assert_msg(c.seen[i] == 1, "F %d N %d K %d: (%zu, %zu) seen %d times", F, N,
                              K, i / (size_t)N, i % (size_t)N, c.seen[i]);
            for (size_t i = 0; i < (size_t)M * N; i++) {
                double e = fabs((double)c.R[i] - (double)R0[i]) / ((double)bound[i] + 1e-3);
                if (e > worst)
                    worst = e;
            }
            const double tol = amx ? 6e-3 : 1e-5;
            ck_assert_msg(worst <= tol, "pairs F %d N %d K %d threads %d: error %.3g > %.3g", F,
                          N, K, threads, worst, tol);
            free(A), free(B), free(bias), free(R0), free(bound), free(Aa), free(Ba);
            free(c.R), free(c.seen), free(scratch);
        }
}
END_TEST

/* lpi_net_forward_head with bf16 products (the fused output projection + head) gives the same
 * pred as lpi_net_forward + lpi_head_forward on the same workspace, for each per-bin head */
START_TEST(test_fused_head)
{
    if (!lpi_amx_available()) {
        printf("fused head: no AMX, lpi_net_forward_head takes the unfused path (not compared)\n");
        return;
    }
    static const limpid_head heads[] = {LIMPID_HEAD_GAIN, LIMPID_HEAD_WIENER,
                                        LIMPID_HEAD_WIENER_FLOOR};
    for (size_t h = 0; h < sizeof heads / sizeof heads[0]; h++)
        for (int threads = 1; threads <= 2; threads++) {
            limpid_config cfg;
            ck_assert_int_eq(limpid_config_preset(&cfg, "tiny", LIMPID_TASK_DENOISE,
                                                  LIMPID_DOMAIN_STFT, 16000), LIMPID_OK);
            cfg.n_fft = 200; /* 101 bins: not a multiple of 16 */
            cfg.hop = 50;
            cfg.head = heads[h];
            cfg.cond = heads[h] == LIMPID_HEAD_WIENER_FLOOR ? LIMPID_COND_LOGPOW_FLOOR
                                                            : LIMPID_COND_LOGPOW;
            cfg.target = LIMPID_TARGET_X0;
            cfg.lookahead = h == 2 ? 0 : LIMPID_LOOKAHEAD_NONCAUSAL; /* both im2col alignments */
            ck_assert_int_eq(limpid_config_check(&cfg, NULL, 0), LIMPID_OK);
            lpi_net_layout L;
            ck_assert_int_eq(lpi_net_layout_init(&L, &cfg), LIMPID_OK);
            const int Lf = 77, Cx = L.Cx, Cc = L.Cc, Co = L.Co;
            float *P = malloc(sizeof(float) * L.n_params);
            float *x = malloc(sizeof(float) * (size_t)Cx * Lf);
            float *nc = malloc(sizeof(float) * (size_t)Cc * Lf);
            float *hc = malloc(sizeof(float) * (size_t)Cx * Lf);
            float *out = malloc(sizeof(float) * (size_t)Co * Lf);
            float *p0 = malloc(sizeof(float) * (size_t)Cx * Lf);
            float *p1 = malloc(sizeof(float) * (size_t)Cx * Lf);
            ck_assert(P && x && nc && hc && out && p0 && p1);
            lpi_rng r = lpi_rng_make(11, (uint64_t)h, 0);
            fill(&r, P, L.n_params);
            for (size_t i = 0; i < L.n_params; i++)
                P[i] *= 0.2f;
            fill(&r, x, (size_t)Cx * Lf);
            fill(&r, nc, (size_t)Cc * Lf);
            fill(&r, hc, (size_t)Cx * Lf);
            float t = 17.0f;
            lpi_net_ws *ws = lpi_net_ws_create(&L, 1, Lf, 0);
            ck_assert_ptr_nonnull(ws);
            ck_assert_int_eq(lpi_net_ws_use_bf16(ws, 1), LIMPID_OK);
            limpid_set_threads(threads);
            lpi_net_forward(&L, P, ws, x, nc, &t, NULL, 1, Lf, out);
            lpi_head_forward(&cfg, out, hc, nc, x, (size_t)Lf, p0);
            lpi_net_forward_head(&L, P, ws, x, nc, &t, NULL, 1, Lf, &cfg, hc, nc, x, out, p1);
            /* the bf16 network (packed im2col, cached packed conditioning: a second call with
             * the cond kept) against fp32 */
            float *o32 = malloc(sizeof(float) * (size_t)Co * Lf);
            lpi_net_ws *w32 = lpi_net_ws_create(&L, 1, Lf, 0);
            ck_assert(o32 && w32);
            lpi_net_forward(&L, P, w32, x, nc, &t, NULL, 1, Lf, o32);
            lpi_net_ws_cache_cond(ws, 1);
            lpi_net_cond_changed(ws);
            for (int rep = 0; rep < 2; rep++) {
                lpi_net_forward(&L, P, ws, x, nc, &t, NULL, 1, Lf, out);
                double e = 0.0, m = 0.0;
                for (size_t i = 0; i < (size_t)Co * Lf; i++) {
                    e = fmax(e, fabs((double)out[i] - (double)o32[i]));
                    m = fmax(m, fabs((double)o32[i]));
                }
                ck_assert_msg(m > 0.0 && e <= 0.03 * m, "head %d threads %d call %d: bf16 "
                              "network differs from fp32 by %.3g (max %.3g)", (int)heads[h],
                              threads, rep, e, m);
            }
            lpi_net_ws_destroy(w32);
            free(o32);
            limpid_set_threads(1);
            double worst = 0.0, mag = 0.0;
            for (size_t i = 0; i < (size_t)Cx * Lf; i++) {
                ck_assert(isfinite(p1[i]));
                double e = fabs((double)p1[i] - (double)p0[i]);
                if (e > worst)
                    worst = e;
                if (fabs(p0[i]) > mag)
                    mag = fabs(p0[i]);
            }
            ck_assert_msg(mag > 0.0 && worst <= 1e-6 * mag, "head %d threads %d: fused differs "
                          "by %.3g (max |pred| %.3g)", (int)heads[h], threads, worst, mag);
            lpi_net_ws_destroy(ws);
            lpi_net_layout_free(&L);
            free(P), free(x), free(nc), free(hc), free(out), free(p0), free(p1);
        }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gemm");
    TCase *tc = tcase_create("gemm");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_amx_matches_sgemm);
    tcase_add_test(tc, test_pairs_matches_sgemm);
    tcase_add_test(tc, test_fused_head);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
