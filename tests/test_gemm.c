/* test_gemm.c - the bf16 AMX product (gemm_amx.c) against OpenBLAS sgemm: odd shapes (edge
 * tiles in M, N and K), alpha, beta 0 and 1, one and two threads, a destination with a
 * leading dimension wider than N (nothing outside M x N touched). Without AMX (CPU, kernel or
 * build) the test says so and checks the fallback instead. */
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

int main(void)
{
    Suite *s = suite_create("gemm");
    TCase *tc = tcase_create("gemm");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_amx_matches_sgemm);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
