/* gemm_dnnl.c - EXPERIMENTAL (CMake option LIMPID_DNNL, off by default): lpi_gemm through
 * oneDNN's matmul primitive, bf16 inputs with f32 accumulation and output (AMX on CPUs that
 * have it), to measure whether it pays. Not for release: see the limits below.
 *
 * How it hooks in: with LIMPID_DNNL the build links with -Wl,--wrap=lpi_gemm, so every call
 * of lpi_gemm lands in __wrap_lpi_gemm here and __real_lpi_gemm is common.c's OpenBLAS
 * version (untouched; used as the fallback and for small products).
 *
 * Environment (read once):
 *   LIMPID_DNNL_MODE   bf16 (default) | f32 (oneDNN f32 matmul) | off (OpenBLAS everywhere)
 *   LIMPID_DNNL_MIN    products with M*N*K below this go to OpenBLAS (default 300000: the
 *                      step-embedding products on 16 rows, the streaming engine's per-frame
 *                      products)
 *   LIMPID_DNNL_CHECK  1: also compute every product with OpenBLAS and print, at exit, the
 *                      relative error ||C - C_sgemm|| / ||op(A) op(B)|| per shape
 *
 * Limits of this prototype:
 *   - primitives are created lazily at the first call of each shape (allocates, JIT-compiles:
 *     milliseconds) and kept in a small table; a release version would create them in
 *     lpi_net_ws_create;
 *   - both operands are converted to bf16 on every call (the weights too: they change every
 *     training step, and this file cannot tell weights from activations; they are the small
 *     operand in every product, so this costs little);
 *   - one mutex serialises all calls (primitive memory objects are shared);
 *   - oneDNN 2.6's dnnl_primitive_execute allocates (5-6 small operator-new blocks per call,
 *     its argument map), so the "process calls do not allocate" rule does not hold.
 */
#ifdef LIMPID_DNNL
#include "internal.h"

#include <immintrin.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>
#include <stdlib.h>

int openblas_get_num_threads(void);

LPI_HIDDEN void __real_lpi_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha,
                                const float *A, int lda, const float *B, int ldb, float beta,
                                float *C, int ldc);
LPI_HIDDEN void __wrap_lpi_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha,
                                const float *A, int lda, const float *B, int ldb, float beta,
                                float *C, int ldc);

enum { MODE_OFF, MODE_F32, MODE_BF16 };

typedef struct entry {
    int ta, tb, M, N, K, lda, ldb, ldc, nt;
    float alpha, beta;
    dnnl_primitive_t prim; /* NULL: oneDNN has no implementation, use OpenBLAS */
    dnnl_memory_t a, b, c;
    /* LIMPID_DNNL_CHECK statistics */
    double err2, ref2;
    long calls;
} entry;

#define MAX_ENTRIES 256

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_mode, g_check, g_ok;
static long g_min = 300000;
static dnnl_engine_t g_eng;
static dnnl_stream_t g_strm;
static entry g_tab[MAX_ENTRIES];
static int g_n;
static uint16_t *g_ah, *g_bh; /* bf16 copies of A and B (grow-only) */
static size_t g_ah_n, g_bh_n;
static float *g_chk; /* LIMPID_DNNL_CHECK: C before the call and the OpenBLAS result */
static size_t g_chk_n;

static void report(void)
{
    if (!g_check)
        return;
    fprintf(stderr, "limpid oneDNN check (mode %s): relative error vs OpenBLAS sgemm per "
                    "product shape\n",
            g_mode == MODE_BF16 ? "bf16" : "f32");
    for (int i = 0; i < g_n; i++) {
        entry *e = &g_tab[i];
        if (e->calls)
            fprintf(stderr, "  %c%c M %5d N %5d K %5d alpha %.3g beta %g: %6ld calls, rel err %.3e\n",
                    e->ta ? 'T' : 'N', e->tb ? 'T' : 'N', e->M, e->N, e->K, (double)e->alpha,
                    (double)e->beta, e->calls, e->ref2 > 0 ? sqrt(e->err2 / e->ref2) : 0.0);
    }
}

static void init_once(void)
{
    const char *m = getenv("LIMPID_DNNL_MODE");
    g_mode = !m || !strcmp(m, "bf16") ? MODE_BF16 : !strcmp(m, "f32") ? MODE_F32 : MODE_OFF;
    const char *mn = getenv("LIMPID_DNNL_MIN");
    if (mn)
        g_min = atol(mn);
    const char *ck = getenv("LIMPID_DNNL_CHECK");
    g_check = ck && atoi(ck) > 0;
    if (g_mode == MODE_BF16 && !__builtin_cpu_supports("avx512bf16"))
        g_mode = MODE_F32; /* the conversion below needs AVX512-BF16 */
    if (g_mode != MODE_OFF && dnnl_engine_create(&g_eng, dnnl_cpu, 0) == dnnl_success &&
        dnnl_stream_create(&g_strm, g_eng, dnnl_stream_default_flags) == dnnl_success)
        g_ok = 1;
    if (g_check)
        atexit(report);
}

/* f32 -> bf16, round to nearest even */
__attribute__((target("avx512f,avx512bf16"))) static void cvt_chunk(uint16_t *d, const float *s,
                                                                     size_t n)
{
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512bh r = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(s + i + 16), _mm512_loadu_ps(s + i));
        _mm512_storeu_si512((void *)(d + i), (__m512i)r);
    }
    for (; i < n; i++) {
        uint32_t u;
        memcpy(&u, s + i, 4);
        u += 0x7fffu + ((u >> 16) & 1u);
        d[i] = (uint16_t)(u >> 16);
    }
}

static void to_bf16(uint16_t *d, const float *s, size_t n, int nt)
{
    if (nt <= 1 || n < 65536) {
        cvt_chunk(d, s, n);
        return;
    }
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num(), k = omp_get_num_threads();
        size_t per = (n / (size_t)k + 31) / 32 * 32;
        size_t a = per * (size_t)t, b = a + per < n ? a + per : n;
        if (a < n)
            cvt_chunk(d + a, s + a, b - a);
    }
}

static int grow(void **p, size_t *have, size_t need)
{
    if (need <= *have)
        return 1;
    void *q = realloc(*p, need);
    if (!q)
        return 0;
    *p = q;
    *have = need;
    return 1;
}

static void md2(dnnl_memory_desc_t *md, int r, int c, int t, int ld, dnnl_data_type_t dt)
{
    dnnl_dims_t dims = {r, c};
    dnnl_dims_t str = {t ? 1 : ld, t ? ld : 1};
    dnnl_memory_desc_init_by_strides(md, 2, dims, dt, str);
}

static void entry_create(entry *e)
{
    dnnl_data_type_t dt = g_mode == MODE_BF16 ? dnnl_bf16 : dnnl_f32;
    dnnl_memory_desc_t amd, bmd, cmd;
    md2(&amd, e->M, e->K, e->ta, e->lda, dt);
    md2(&bmd, e->K, e->N, e->tb, e->ldb, dt);
    md2(&cmd, e->M, e->N, 0, e->ldc, dnnl_f32);
    dnnl_matmul_desc_t d;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_primitive_desc_t pd = NULL;
    if (dnnl_matmul_desc_init(&d, &amd, &bmd, NULL, &cmd) != dnnl_success ||
        dnnl_primitive_attr_create(&attr) != dnnl_success)
        goto out;
    if (e->alpha != 1.0f && dnnl_primitive_attr_set_output_scales(attr, 1, 0, &e->alpha) !=
                                dnnl_success)
        goto out;
    if (e->beta != 0.0f) {
        if (dnnl_post_ops_create(&po) != dnnl_success ||
            dnnl_post_ops_append_sum(po, e->beta) != dnnl_success ||
            dnnl_primitive_attr_set_post_ops(attr, po) != dnnl_success)
            goto out;
    }
    if (dnnl_primitive_desc_create(&pd, &d, attr, g_eng, NULL) != dnnl_success)
        goto out;
    if (dnnl_primitive_create(&e->prim, pd) != dnnl_success) {
        e->prim = NULL;
        goto out;
    }
    if (dnnl_memory_create(&e->a, &amd, g_eng, DNNL_MEMORY_NONE) != dnnl_success ||
        dnnl_memory_create(&e->b, &bmd, g_eng, DNNL_MEMORY_NONE) != dnnl_success ||
        dnnl_memory_create(&e->c, &cmd, g_eng, DNNL_MEMORY_NONE) != dnnl_success) {
        dnnl_primitive_destroy(e->prim);
        e->prim = NULL;
    }
out:
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (po)
        dnnl_post_ops_destroy(po);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
}

static entry *lookup(int ta, int tb, int M, int N, int K, float alpha, int lda, int ldb,
                     float beta, int ldc, int nt)
{
    for (int i = 0; i < g_n; i++) {
        entry *e = &g_tab[i];
        if (e->ta == ta && e->tb == tb && e->M == M && e->N == N && e->K == K &&
            e->lda == lda && e->ldb == ldb && e->ldc == ldc && e->nt == nt &&
            e->alpha == alpha && e->beta == beta)
            return e;
    }
    if (g_n == MAX_ENTRIES)
        return NULL;
    entry *e = &g_tab[g_n++];
    *e = (entry){ta, tb, M, N, K, lda, ldb, ldc, nt, alpha, beta, NULL, NULL, NULL, NULL,
                 0, 0, 0};
    entry_create(e);
    return e;
}

/* elements spanned by op(X)[r][c] stored with leading dimension ld */
static size_t span(int r, int c, int t, int ld)
{
    int rows = t ? c : r, cols = t ? r : c;
    return (size_t)(rows - 1) * (size_t)ld + (size_t)cols;
}

void __wrap_lpi_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                     int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    pthread_once(&g_once, init_once);
    if (!g_ok || M <= 0 || N <= 0 || K <= 0 || (long)M * N * K < g_min) {
        __real_lpi_gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    int nt = openblas_get_num_threads(); /* limpid_set_threads sets OpenBLAS's count */
    pthread_mutex_lock(&g_mu);
    int omp_nt = omp_get_max_threads();
    if (omp_nt != nt)
        omp_set_num_threads(nt); /* oneDNN (OpenMP build) sizes its work by this */
    entry *e = lookup(trans_a ? 1 : 0, trans_b ? 1 : 0, M, N, K, alpha, lda, ldb, beta, ldc, nt);
    size_t na = span(M, K, trans_a, lda), nb = span(K, N, trans_b, ldb);
    size_t nc = (size_t)(M - 1) * ldc + N;
    if (!e || !e->prim ||
        (g_mode == MODE_BF16 &&
         (!grow((void **)&g_ah, &g_ah_n, na * 2) || !grow((void **)&g_bh, &g_bh_n, nb * 2))) ||
        (g_check && !grow((void **)&g_chk, &g_chk_n, nc * 4))) {
        if (omp_nt != nt)
            omp_set_num_threads(omp_nt);
        pthread_mutex_unlock(&g_mu);
        __real_lpi_gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    if (g_check) { /* OpenBLAS result into g_chk, from the same C */
        memcpy(g_chk, C, nc * 4);
        __real_lpi_gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, g_chk, ldc);
    }
    const void *a = A, *b = B;
    if (g_mode == MODE_BF16) {
        to_bf16(g_ah, A, na, nt);
        to_bf16(g_bh, B, nb, nt);
        a = g_ah;
        b = g_bh;
    }
    int ok = 0;
    double cnorm = 0;
    if (g_check) /* ||beta C0||^2 ... only the product's norm is wanted: see below */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                double v = (double)g_chk[(size_t)i * ldc + j] - (double)beta * C[(size_t)i * ldc + j];
                cnorm += v * v;
            }
    if (dnnl_memory_set_data_handle(e->a, (void *)a) == dnnl_success &&
        dnnl_memory_set_data_handle(e->b, (void *)b) == dnnl_success &&
        dnnl_memory_set_data_handle(e->c, C) == dnnl_success) {
        dnnl_exec_arg_t args[3] = {
            {DNNL_ARG_SRC, e->a}, {DNNL_ARG_WEIGHTS, e->b}, {DNNL_ARG_DST, e->c}};
        ok = dnnl_primitive_execute(e->prim, g_strm, 3, args) == dnnl_success &&
             dnnl_stream_wait(g_strm) == dnnl_success;
    }
    if (ok && g_check) {
        double e2 = 0;
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                double d = (double)C[(size_t)i * ldc + j] - (double)g_chk[(size_t)i * ldc + j];
                e2 += d * d;
            }
        e->err2 += e2;
        e->ref2 += cnorm;
        e->calls++;
    }
    if (omp_nt != nt)
        omp_set_num_threads(omp_nt);
    pthread_mutex_unlock(&g_mu);
    if (!ok) { /* C untouched only if execution never started: oneDNN reports errors before */
        fprintf(stderr, "limpid: oneDNN matmul failed; using OpenBLAS\n");
        __real_lpi_gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    }
}
#endif /* LIMPID_DNNL */
