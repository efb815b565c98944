/* gemm_amx.c - C[M][N] = alpha A[M][K] B[K][N] + beta C with bfloat16 products on Intel AMX
 * (TDPBF16PS: 16x16 fp32 tiles += 16x32 bf16 by 32x16 bf16), fp32 accumulation.
 *
 * Inference only (the network's weights are rounded to bf16 per product: relative error
 * about 2^-9 per factor, summed in fp32). A and B are packed per call into the caller's
 * scratch: A as bf16 [Mp][Kp] (alpha folded in), B in AMX's pair layout [Kp/2][Np][2]
 * (rows k, k+1 interleaved), zero padded to Mp = 16*ceil(M/16), Kp = 32*ceil(K/32),
 * Np = 16*ceil(N/16). Packing costs O(K (M + N)) against the product's O(M K N).
 *
 * Built only on x86-64 with a compiler that knows AMX (LPI_HAVE_AMX); lpi_amx_available()
 * checks CPUID and asks Linux for the tile state (arch_prctl ARCH_REQ_XCOMP_PERM) once. */
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>

/* lpi_gemm_amx_pairs in plain fp32 (no AMX): blocks of 16 rows x 32 columns, the same
 * epilogue calls */
static void pairs_reference(int F, int N, int K, const float *A, int lda, const float *bias,
                            const float *B, int ldb, lpi_amx_epi epi, void *ctx)
{
    float o1[16 * 32], g2[16 * 32];
    for (int f0 = 0; f0 < F; f0 += 16) {
        const int nf = F - f0 < 16 ? F - f0 : 16;
        for (int n0 = 0; n0 < N; n0 += 32) {
            const int nn = N - n0 < 32 ? N - n0 : 32;
            for (int r = 0; r < nf; r++)
                for (int h = 0; h < 2; h++) {
                    const float *a = A + (size_t)(h * F + f0 + r) * lda;
                    float *o = (h ? g2 : o1) + r * 32;
                    for (int c = 0; c < nn; c++) {
                        float v = bias ? bias[h * F + f0 + r] : 0.0f;
                        for (int k = 0; k < K; k++)
                            v += a[k] * B[(size_t)k * ldb + n0 + c];
                        o[c] = v;
                    }
                }
            epi(ctx, f0, nf, n0, nn, o1, g2, 32);
        }
    }
}

#if defined(LPI_HAVE_AMX)
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

static pthread_once_t amx_once = PTHREAD_ONCE_INIT;
static int amx_ok;

static void amx_probe(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return;
    const int tile = (d >> 24) & 1, bf16 = (d >> 22) & 1;
    if (!tile || !bf16)
        return;
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw"))
        return;
    amx_ok = syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
}

int lpi_amx_available(void)
{
    pthread_once(&amx_once, amx_probe);
    return amx_ok;
}

typedef struct {
    uint8_t palette_id, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

/* tiles 0..3: C (2 x 2 blocks of 16x16 fp32), 4..5: A (16 rows x 32 bf16), 6..7: B (16 pair
 * rows x 16 columns x 2 bf16): all 16 rows of 64 bytes */
__attribute__((target("amx-tile"))) static void tiles_configure(void)
{
    tile_config tc;
    memset(&tc, 0, sizeof tc);
    tc.palette_id = 1;
    for (int i = 0; i < 8; i++) {
        tc.colsb[i] = 64;
        tc.rows[i] = 16;
    }
    /* GCC 12 does not see that ldtilecfg reads the 64 bytes and drops the stores above */
    __asm__ volatile("" : : "r"(&tc) : "memory");
    _tile_loadconfig(&tc);
}

static inline uint16_t bf16_round(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7f800000u) == 0x7f800000u) /* inf / nan: keep (quiet the nan) */
        return (uint16_t)((u >> 16) | ((u & 0xffff) ? 0x40 : 0));
    u += 0x7fffu + ((u >> 16) & 1u); /* round to nearest even */
    return (uint16_t)(u >> 16);
}

/* 16 floats -> 16 bf16 (round to nearest even) */
__attribute__((target("avx512f,avx512bw"))) static inline __m256i cvt16(__m512 v)
{
    __m512i u = _mm512_castps_si512(v);
    __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff)));
    return _mm512_cvtepi32_epi16(_mm512_srli_epi32(r, 16));
}

/* o[k] = bf16(alpha a[k]) for k < K, zero up to Kp (a NULL: all zero) */
__attribute__((target("avx512f,avx512bw"))) static void pack_row(const float *a, int K,
                                                                   float alpha, uint16_t *o,
                                                                   int Kp)
{
    if (!a) {
        memset(o, 0, (size_t)Kp * sizeof *o);
        return;
    }
    const __m512 va = _mm512_set1_ps(alpha);
    int k = 0;
    for (; k + 16 <= K; k += 16)
        _mm256_storeu_si256((__m256i *)(o + k), cvt16(_mm512_mul_ps(va, _mm512_loadu_ps(a + k))));
    for (; k < K; k++)
        o[k] = bf16_round(alpha * a[k]);
    for (; k < Kp; k++)
        o[k] = 0;
}

/* A: Ab[m][k] = bf16(alpha A[m][k]), zero outside M x K */
static void pack_a(int M, int K, float alpha, const float *A, int lda, uint16_t *Ab, int Mp,
                   int Kp)
{
    for (int m = 0; m < Mp; m++)
        pack_row(m < M ? A + (size_t)m * lda : NULL, K, alpha, Ab + (size_t)m * Kp, Kp);
}

__attribute__((target("avx512f,avx512bw"))) void lpi_amx_pack_pair(const float *r0,
                                                                      const float *r1, int N,
                                                                      uint16_t *o, int Np)
{
    /* interleave two rows of 16 bf16 (lo: row k, hi: row k+1) into 16 pairs */
    const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9,
                                         24, 8, 23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1,
                                         16, 0);
    int n = 0;
    if (r0 && r1) {
        for (; n + 16 <= N; n += 16) {
            __m512i lo = _mm512_castsi256_si512(cvt16(_mm512_loadu_ps(r0 + n)));
            __m512i both = _mm512_inserti64x4(lo, cvt16(_mm512_loadu_ps(r1 + n)), 1);
            _mm512_storeu_si512((void *)(o + 2 * n), _mm512_permutexvar_epi16(idx, both));
        }
    }
    for (; n < N; n++) {
        o[2 * n] = r0 ? bf16_round(r0[n]) : 0;
        o[2 * n + 1] = r1 ? bf16_round(r1[n]) : 0;
    }
    memset(o + 2 * (size_t)N, 0, (size_t)(Np - N) * 2 * sizeof *o);
}

void lpi_amx_pack_b(int N, int K, const float *B, int ldb, uint16_t *Bb, int p0, int p1)
{
    const int Np = lpi_amx_pad16(N);
    for (int p = p0; p < p1; p++) {
        const int k0 = 2 * p, k1 = 2 * p + 1;
        lpi_amx_pack_pair(k0 < K ? B + (size_t)k0 * ldb : NULL,
                          k1 < K ? B + (size_t)k1 * ldb : NULL, N, Bb + (size_t)p * Np * 2, Np);
    }
}

/* The 16x16 tile at (m, n) of C into or from the accumulator: whole tiles in place, edge
 * tiles through a buffer. */
__attribute__((target("amx-tile,amx-bf16"))) static void block(const uint16_t *Ab,
                                                                 const uint16_t *Bb, int Kp,
                                                                 int Np, int M, int N, float beta,
                                                                 float *C, int ldc, int m0,
                                                                 int n0, int mb, int nb)
{
    float edge[16 * 16];
    /* accumulators: C tile (i, j) is tile 2i + j */
#define ACC_IN(T, i, j)                                                                    \
    do {                                                                                   \
        const int m_ = m0 + 16 * (i), n_ = n0 + 16 * (j);                                  \
        if (beta != 0.0f && m_ + 16 <= M && n_ + 16 <= N)                                  \
            _tile_loadd(T, C + (size_t)m_ * ldc + n_, ldc * (int)sizeof(float));           \
        else                                                                               \
            _tile_zero(T);                                                                 \
    } while (0)
#define ACC_OUT(T, i, j)                                                                   \
    do {                                                                                   \
        const int m_ = m0 + 16 * (i), n_ = n0 + 16 * (j);                                  \
        if (m_ + 16 <= M && n_ + 16 <= N) {                                                \
            _tile_stored(T, C + (size_t)m_ * ldc + n_, ldc * (int)sizeof(float));          \
        } else {                                                                           \
            _tile_stored(T, edge, 64);                                                     \
            for (int r_ = 0; r_ < 16 && m_ + r_ < M; r_++)                                 \
                for (int c_ = 0; c_ < 16 && n_ + c_ < N; c_++) {                           \
                    float *dst_ = C + (size_t)(m_ + r_) * ldc + n_ + c_;                   \
                    *dst_ = edge[r_ * 16 + c_] + (beta != 0.0f ? *dst_ : 0.0f);            \
                }                                                                          \
        }                                                                                  \
    } while (0)
    ACC_IN(0, 0, 0);
    if (nb > 1)
        ACC_IN(1, 0, 1);
    if (mb > 1) {
        ACC_IN(2, 1, 0);
        if (nb > 1)
            ACC_IN(3, 1, 1);
    }
    const int sa = Kp * 2, sb = Np * 4; /* row strides in bytes */
    for (int k = 0; k < Kp; k += 32) {
        const uint16_t *a = Ab + (size_t)m0 * Kp + k;
        const uint16_t *b = Bb + (size_t)(k / 2) * Np * 2 + (size_t)n0 * 2;
        _tile_loadd(4, a, sa);
        _tile_loadd(6, b, sb);
        _tile_dpbf16ps(0, 4, 6);
        if (nb > 1) {
            _tile_loadd(7, b + 32, sb);
            _tile_dpbf16ps(1, 4, 7);
        }
        if (mb > 1) {
            _tile_loadd(5, a + (size_t)16 * Kp, sa);
            _tile_dpbf16ps(2, 5, 6);
            if (nb > 1)
                _tile_dpbf16ps(3, 5, 7);
        }
    }
    ACC_OUT(0, 0, 0);
    if (nb > 1)
        ACC_OUT(1, 0, 1);
    if (mb > 1) {
        ACC_OUT(2, 1, 0);
        if (nb > 1)
            ACC_OUT(3, 1, 1);
    }
#undef ACC_IN
#undef ACC_OUT
}

size_t lpi_amx_scratch(int M, int N, int K)
{
    const size_t Mp = (size_t)lpi_amx_pad16(M), Np = (size_t)lpi_amx_pad16(N);
    const size_t Kp = (size_t)lpi_amx_pad32(K);
    return (Mp * Kp + Kp * Np) * sizeof(uint16_t) + 64;
}

__attribute__((target("amx-tile"))) static void tiles_release(void) { _tile_release(); }

/* this OpenMP thread's index w of nw */
static void thread_id(int *w, int *nw)
{
#ifdef _OPENMP
    *w = lpi_thread_index();
    *nw = omp_get_num_threads();
#else
    *w = 0;
    *nw = 1;
#endif
}

/* threads for nblk column blocks */
static int col_threads(int threads, int nblk)
{
    return threads < 1 ? 1 : threads > nblk ? nblk : threads;
}

/* C = Ab Bb (+ C) with both packed; B packed here first (pair rows split over the threads)
 * unless Bsrc is NULL */
static void gemm_packed(int M, int N, int K, const uint16_t *Ab, const float *Bsrc, int ldb,
                        uint16_t *Bb, float beta, float *C, int ldc, int threads)
{
    const int Mp = lpi_amx_pad16(M), Np = lpi_amx_pad16(N), Kp = lpi_amx_pad32(K);
    const int nblk = (Np + 31) / 32, mblk = (Mp + 31) / 32;
#pragma omp parallel num_threads(col_threads(threads, nblk))
    {
        int w, nw;
        thread_id(&w, &nw);
        if (Bsrc) {
            const int pairs = Kp / 2;
            lpi_amx_pack_b(N, K, Bsrc, ldb, Bb, pairs * w / nw, pairs * (w + 1) / nw);
#pragma omp barrier
        }
        tiles_configure();
        /* column blocks of 32 split evenly over the threads; each walks all rows */
        for (int jb = nblk * w / nw; jb < nblk * (w + 1) / nw; jb++) {
            const int n0 = 32 * jb, nb = n0 + 16 < Np ? 2 : 1;
            for (int ib = 0; ib < mblk; ib++) {
                const int m0 = 32 * ib, mb = m0 + 16 < Mp ? 2 : 1;
                block(Ab, Bb, Kp, Np, M, N, beta, C, ldc, m0, n0, mb, nb);
            }
        }
        tiles_release();
    }
}

void lpi_gemm_amx(int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                  int ldb, float beta, float *C, int ldc, void *scratch, int threads)
{
    if (!lpi_amx_available() || (beta != 0.0f && beta != 1.0f)) {
        lpi_gemm(0, 0, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    const int Mp = lpi_amx_pad16(M), Kp = lpi_amx_pad32(K);
    uint16_t *Ab = (uint16_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    uint16_t *Bb = Ab + (size_t)Mp * Kp; /* Mp * Kp * 2 bytes: a multiple of 64 */
    pack_a(M, K, alpha, A, lda, Ab, Mp, Kp);
    gemm_packed(M, N, K, Ab, B, ldb, Bb, beta, C, ldc, threads);
}

void lpi_gemm_amx_bp(int M, int N, int K, float alpha, const float *A, int lda,
                     const uint16_t *Bb, float beta, float *C, int ldc, void *scratch,
                     int threads)
{
    uint16_t *Ab = (uint16_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    pack_a(M, K, alpha, A, lda, Ab, lpi_amx_pad16(M), lpi_amx_pad32(K));
    gemm_packed(M, N, K, Ab, NULL, 0, (uint16_t *)Bb, beta, C, ldc, threads);
}

/* ---- paired rows with an epilogue (lpi_gemm_amx_pairs) ---------------------------------- */

/* Row block j of the paired product: 32 rows of Ab, rows 16j..16j+15 of A's first half, then
 * the same rows of its second half (F + 16j..), zero past F. */
static void pack_a_pairs(int F, int K, const float *A, int lda, uint16_t *Ab, int nbf, int Kp)
{
    for (int j = 0; j < nbf; j++)
        for (int r = 0; r < 32; r++) {
            const int f = 16 * j + (r & 15);
            const float *a = f < F ? A + (size_t)((r < 16 ? 0 : F) + f) * lda : NULL;
            pack_row(a, K, 1.0f, Ab + ((size_t)32 * j + r) * Kp, Kp);
        }
}

/* Rows 16j.. of both halves (bias tiles bt: 16 x 16 each, the row's bias in every column) for
 * columns n0..n0 + 16 nb - 1, into o1[16][ld] and g2[16][ld]. */
__attribute__((target("amx-tile,amx-bf16"))) static void block_pairs(const uint16_t *Ab,
                                                                       const uint16_t *Bb,
                                                                       int Kp, int Np,
                                                                       const float *bt, int j,
                                                                       int n0, int nb,
                                                                       float *o1, float *g2,
                                                                       int ld)
{
    _tile_loadd(0, bt, 64);
    _tile_loadd(2, bt + 256, 64);
    if (nb > 1) {
        _tile_loadd(1, bt, 64);
        _tile_loadd(3, bt + 256, 64);
    }
    const int sa = Kp * 2, sb = Np * 4;
    const uint16_t *arow = Ab + (size_t)32 * j * Kp;
    for (int k = 0; k < Kp; k += 32) {
        const uint16_t *b = Bb + (size_t)(k / 2) * Np * 2 + (size_t)n0 * 2;
        _tile_loadd(4, arow + k, sa);
        _tile_loadd(5, arow + (size_t)16 * Kp + k, sa);
        _tile_loadd(6, b, sb);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(2, 5, 6);
        if (nb > 1) {
            _tile_loadd(7, b + 32, sb);
            _tile_dpbf16ps(1, 4, 7);
            _tile_dpbf16ps(3, 5, 7);
        }
    }
    const int st = ld * (int)sizeof(float);
    _tile_stored(0, o1 + n0, st);
    _tile_stored(2, g2 + n0, st);
    if (nb > 1) {
        _tile_stored(1, o1 + n0 + 16, st);
        _tile_stored(3, g2 + n0 + 16, st);
    }
}

static size_t pairs_layout(int F, int N, int K, size_t *a_bytes, size_t *b_bytes)
{
    const size_t nbf = (size_t)(F + 15) / 16, Np = (size_t)lpi_amx_pad16(N);
    const size_t Kp = (size_t)lpi_amx_pad32(K);
    *a_bytes = 32 * nbf * Kp * sizeof(uint16_t); /* a multiple of 64 */
    *b_bytes = Kp * Np * sizeof(uint16_t);
    /* + bias tiles [nbf][2][16][16], the two row buffers [2][16][Np] */
    return *a_bytes + *b_bytes + (nbf * 512 + 32 * Np) * sizeof(float) + 64;
}

size_t lpi_amx_pairs_scratch(int F, int N, int K)
{
    size_t a, b;
    return pairs_layout(F, N, K, &a, &b);
}

void lpi_gemm_amx_pairs(int F, int N, int K, const float *A, int lda, const float *bias,
                        const float *B, int ldb, void *scratch, int threads, lpi_amx_epi epi,
                        void *ctx)
{
    if (!lpi_amx_available()) {
        pairs_reference(F, N, K, A, lda, bias, B, ldb, epi, ctx);
        return;
    }
    size_t ab, bb;
    pairs_layout(F, N, K, &ab, &bb);
    const int nbf = (F + 15) / 16, Np = lpi_amx_pad16(N), Kp = lpi_amx_pad32(K);
    uint16_t *Ab = (uint16_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    uint16_t *Bb = (uint16_t *)((char *)Ab + ab);
    float *bt = (float *)((char *)Bb + bb); /* [nbf][2][16][16] */
    float *rb = bt + (size_t)nbf * 512;     /* [2][16][Np]: each thread its own columns */
    pack_a_pairs(F, K, A, lda, Ab, nbf, Kp);
    for (int j = 0; j < nbf; j++)
        for (int h = 0; h < 2; h++)
            for (int r = 0; r < 16; r++) {
                const int f = 16 * j + r;
                const float v = f < F && bias ? bias[h * F + f] : 0.0f;
                float *row = bt + (size_t)j * 512 + h * 256 + r * 16;
                for (int c = 0; c < 16; c++)
                    row[c] = v;
            }
    const int nblk = (Np + 31) / 32;
#pragma omp parallel num_threads(col_threads(threads, nblk))
    {
        int w, nw;
        thread_id(&w, &nw);
        const int pairs = Kp / 2;
        lpi_amx_pack_b(N, K, B, ldb, Bb, pairs * w / nw, pairs * (w + 1) / nw);
#pragma omp barrier
        tiles_configure();
        /* per block of 16 rows: the thread's columns into the row buffers (they stay in
         * cache), then the epilogue over them row by row (long streams) */
        const int jb0 = nblk * w / nw, jb1 = nblk * (w + 1) / nw;
        const int c0 = 32 * jb0, c1 = 32 * jb1 < N ? 32 * jb1 : N;
        float *o1 = rb, *g2 = rb + (size_t)16 * Np;
        for (int j = 0; j < nbf && c0 < c1; j++) {
            const int nf = F - 16 * j < 16 ? F - 16 * j : 16;
            for (int jb = jb0; jb < jb1; jb++) {
                const int n0 = 32 * jb, nb = n0 + 16 < Np ? 2 : 1;
                block_pairs(Ab, Bb, Kp, Np, bt + (size_t)j * 512, j, n0, nb, o1, g2, Np);
            }
            epi(ctx, 16 * j, nf, c0, c1 - c0, o1 + c0, g2 + c0, Np);
        }
        tiles_release();
    }
}

#else /* no AMX in this build */

int lpi_amx_available(void) { return 0; }
size_t lpi_amx_scratch(int M, int N, int K)
{
    (void)M, (void)N, (void)K;
    return 0;
}
void lpi_gemm_amx(int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                  int ldb, float beta, float *C, int ldc, void *scratch, int threads)
{
    (void)scratch, (void)threads;
    lpi_gemm(0, 0, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
size_t lpi_amx_pairs_scratch(int F, int N, int K)
{
    (void)F, (void)N, (void)K;
    return 0;
}
/* unreachable without AMX: their callers hold a workspace that lpi_net_ws_use_bf16 refused */
void lpi_amx_pack_pair(const float *r0, const float *r1, int N, uint16_t *o, int Np)
{
    (void)r0, (void)r1, (void)N, (void)o, (void)Np;
    abort();
}
void lpi_amx_pack_b(int N, int K, const float *B, int ldb, uint16_t *Bb, int p0, int p1)
{
    (void)N, (void)K, (void)B, (void)ldb, (void)Bb, (void)p0, (void)p1;
    abort();
}
void lpi_gemm_amx_bp(int M, int N, int K, float alpha, const float *A, int lda,
                     const uint16_t *Bb, float beta, float *C, int ldc, void *scratch,
                     int threads)
{
    (void)M, (void)N, (void)K, (void)alpha, (void)A, (void)lda, (void)Bb, (void)beta, (void)C;
    (void)ldc, (void)scratch, (void)threads;
    abort();
}
void lpi_gemm_amx_pairs(int F, int N, int K, const float *A, int lda, const float *bias,
                        const float *B, int ldb, void *scratch, int threads, lpi_amx_epi epi,
                        void *ctx)
{
    (void)scratch, (void)threads;
    pairs_reference(F, N, K, A, lda, bias, B, ldb, epi, ctx);
}

#endif
