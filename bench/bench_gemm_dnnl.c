/* bench_gemm_dnnl.c - would oneDNN's matmul (fp32, or bf16 on AMX) beat OpenBLAS sgemm on
 * the matrix products limpid makes? Built only when oneDNN (libdnnl-dev) is found.
 *
 * For each shape (lpi_gemm notation: row-major C[M][N] = op(A)[M][K] op(B)[K][N]) and each
 * thread count it times, side by side in alternating rounds:
 *   blas   cblas_sgemm (OpenBLAS)
 *   f32    oneDNN matmul, f32 in/out
 *   fpm    oneDNN matmul, f32 in/out with fpmath_mode bf16 (implicit down-conversion, if the
 *          installed oneDNN honours it for matmul: see the implementation name)
 *   bf16   oneDNN matmul, bf16 A and B, f32 C; the weight operand (marked W) is converted
 *          once outside the timing, the activation operand(s) are converted to bf16 on every
 *          call (AVX512-BF16 vcvtne2ps2bf16; the cost is included)
 *   cvt    the conversion alone (part of bf16)
 * Each round runs every method for ~15 ms (mean per call); the figure is the median over the
 * rounds, with the fastest and slowest round as the spread. Warm-up runs come first.
 *
 * Then accuracy: relative Frobenius error ||C - C64|| / ||C64|| and max |C - C64| / max |C64|
 * against a double-precision reference, for random Gaussian data and for non-negative
 * (ReLU-like, mean > 0) activations, which do not cancel and so show bf16's relative
 * rounding of the inputs undamped.
 *
 * Then real-time safety: malloc calls counted (this program interposes malloc) over 100
 * executions of a created primitive, in oneDNN's library scratchpad mode and in user mode.
 *
 * usage: bench_gemm_dnnl [--threads "1 2"] [--rounds R] [--quick] [--only NAME] [--cpu]
 *                        [--no-time] [--no-acc] [--no-rt]
 *   --cpu  time with the process CPU clock (for 1 thread on a shared machine)
 * Set ONEDNN_VERBOSE=1 (or DNNL_VERBOSE=1) to see oneDNN's own lines. Run with
 * OMP_WAIT_POLICY=passive on a loaded machine: oneDNN's OpenMP threads spin-wait by default
 * and, when another process holds one of the cores, 2-thread calls get 10-100x slower.
 * BENCH_TRACE_MALLOC=N prints the call stacks of the first N counted allocations. */
#define _GNU_SOURCE
#include <cblas.h>
#include <execinfo.h>
#include <immintrin.h>
#include <math.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void openblas_set_num_threads(int num_threads);

/* ------------------------------------------------------------------------ */
/* malloc interposition: counts calls while `count_on` is set (glibc's own allocator does the
 * work; its __libc_* entry points are exported). Not under sanitizers, which own malloc. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define NO_COUNT_ALLOCS 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NO_COUNT_ALLOCS 1
#endif
#ifndef NO_COUNT_ALLOCS
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);
static atomic_int count_on;
static atomic_long n_alloc;
static int trace_left; /* env BENCH_TRACE_MALLOC=N: print the callers of the first N */
static __thread int in_trace;
static void trace_alloc(void)
{
    if (trace_left <= 0 || in_trace)
        return;
    trace_left--;
    in_trace = 1;
    void *bt[8];
    int n = backtrace(bt, 8);
    fprintf(stderr, "-- counted allocation:\n");
    backtrace_symbols_fd(bt, n, 2);
    in_trace = 0;
}
#define COUNT()                                                                                \
    do {                                                                                       \
        if (atomic_load_explicit(&count_on, memory_order_relaxed)) {                           \
            atomic_fetch_add(&n_alloc, 1);                                                     \
            trace_alloc();                                                                     \
        }                                                                                      \
    } while (0)
void *malloc(size_t n)
{
    COUNT();
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b)
{
    COUNT();
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n)
{
    COUNT();
    return __libc_realloc(p, n);
}
void free(void *p) { __libc_free(p); }
void *memalign(size_t al, size_t n)
{
    COUNT();
    return __libc_memalign(al, n);
}
void *aligned_alloc(size_t al, size_t n)
{
    COUNT();
    return __libc_memalign(al, n);
}
int posix_memalign(void **p, size_t al, size_t n)
{
    COUNT();
    *p = __libc_memalign(al, n);
    return *p ? 0 : 12;
}
#else
static atomic_int count_on;
static atomic_long n_alloc;
static int trace_left;
#endif

/* ------------------------------------------------------------------------ */

#define CHK(x)                                                                                 \
    do {                                                                                       \
        dnnl_status_t st_ = (x);                                                               \
        if (st_ != dnnl_success) {                                                             \
            fprintf(stderr, "%s:%d: %s -> %d\n", __FILE__, __LINE__, #x, (int)st_);           \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

/* --cpu: process CPU time instead of wall time (1 thread: leaves out the time other processes
 * held the core on a shared machine; with more threads it sums the threads' time) */
static clockid_t g_clock = CLOCK_MONOTONIC;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(g_clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void *xalloc(size_t n)
{
    void *p = aligned_alloc(64, (n + 63) / 64 * 64);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

/* f32 -> bf16, round to nearest even (vcvtne2ps2bf16), split over nt threads */
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

static float bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* ------------------------------------------------------------------------ */

typedef struct shape {
    const char *name;
    int ta, tb, M, N, K;
    int a_w, b_w; /* operand is a weight matrix (converted once for bf16) */
} shape;

/* rt model (C = 48, 8 layers, Cx = 1026, Cc = 513), 4 s block at 48 kHz = 750 frames;
 * training batch 16 x 188 frames = 3008 columns */
static const shape shapes[] = {
    {"inf dil+cond 96x750x192", 0, 0, 96, 750, 192, 1, 0},
    {"inf out 96x750x48", 0, 0, 96, 750, 48, 1, 0},
    {"inf in 48x750x1026", 0, 0, 48, 750, 1026, 1, 0},
    {"inf cond 48x750x513", 0, 0, 48, 750, 513, 1, 0},
    {"inf final 1026x750x48", 0, 0, 1026, 750, 48, 1, 0},
    {"trn dil+cond 96x3008x192", 0, 0, 96, 3008, 192, 1, 0},
    {"trn out 96x3008x48", 0, 0, 96, 3008, 48, 1, 0},
    {"trn in 48x3008x1026", 0, 0, 48, 3008, 1026, 1, 0},
    {"trn cond 48x3008x513", 0, 0, 48, 3008, 513, 1, 0},
    {"trn final 1026x3008x48", 0, 0, 1026, 3008, 48, 1, 0},
    {"bwd dW=dY.X^T 96x192x3008", 0, 1, 96, 192, 3008, 0, 0},
    {"bwd dX=W^T.dY 192x3008x96", 1, 0, 192, 3008, 96, 1, 0},
    {"bwd dWfin 1026x48x3008", 0, 1, 1026, 48, 3008, 0, 0},
    {"bwd dWin 48x1026x3008", 0, 1, 48, 1026, 3008, 0, 0},
    {"bwd dXin 1026x3008x48", 1, 0, 1026, 3008, 48, 1, 0},
};
#define NSHAPES (int)(sizeof shapes / sizeof shapes[0])

/* stored size of op(X) [r][c]: not transposed [r][c], transposed [c][r] */
static void stored(int r, int c, int t, int *rows, int *ld)
{
    *rows = t ? c : r;
    *ld = t ? r : c;
}

static dnnl_engine_t eng;
static dnnl_stream_t strm;

typedef struct mm {
    dnnl_primitive_t prim;
    dnnl_memory_t a, b, c, sp;
    void *sp_buf;
    size_t sp_size;
    char impl[64];
} mm;

static void md2(dnnl_memory_desc_t *md, int r, int c, int t, int ld, dnnl_data_type_t dt)
{
    dnnl_dims_t dims = {r, c};
    dnnl_dims_t str = {t ? 1 : ld, t ? ld : 1};
    CHK(dnnl_memory_desc_init_by_strides(md, 2, dims, dt, str));
}

/* returns 0 if oneDNN has no implementation */
static int mm_create(mm *m, const shape *s, dnnl_data_type_t din, int fpmath_bf16,
                     int user_scratch)
{
    memset(m, 0, sizeof *m);
    int ra, lda, rb, ldb;
    stored(s->M, s->K, s->ta, &ra, &lda);
    stored(s->K, s->N, s->tb, &rb, &ldb);
    dnnl_memory_desc_t amd, bmd, cmd;
    md2(&amd, s->M, s->K, s->ta, lda, din);
    md2(&bmd, s->K, s->N, s->tb, ldb, din);
    md2(&cmd, s->M, s->N, 0, s->N, dnnl_f32);
    dnnl_matmul_desc_t d;
    CHK(dnnl_matmul_desc_init(&d, &amd, &bmd, NULL, &cmd));
    dnnl_primitive_attr_t attr;
    CHK(dnnl_primitive_attr_create(&attr));
    if (user_scratch)
        CHK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
    if (fpmath_bf16)
        CHK(dnnl_primitive_attr_set_fpmath_mode(attr, dnnl_fpmath_mode_bf16));
    dnnl_primitive_desc_t pd;
    dnnl_status_t st = dnnl_primitive_desc_create(&pd, &d, attr, eng, NULL);
    dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success)
        return 0;
    const char *impl = NULL;
    CHK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl));
    snprintf(m->impl, sizeof m->impl, "%s", impl ? impl : "?");
    const dnnl_memory_desc_t *spmd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    m->sp_size = spmd ? dnnl_memory_desc_get_size(spmd) : 0;
    if (user_scratch && m->sp_size) {
        m->sp_buf = xalloc(m->sp_size);
        CHK(dnnl_memory_create(&m->sp, spmd, eng, m->sp_buf));
    }
    CHK(dnnl_primitive_create(&m->prim, pd));
    dnnl_primitive_desc_destroy(pd);
    CHK(dnnl_memory_create(&m->a, &amd, eng, DNNL_MEMORY_NONE));
    CHK(dnnl_memory_create(&m->b, &bmd, eng, DNNL_MEMORY_NONE));
    CHK(dnnl_memory_create(&m->c, &cmd, eng, DNNL_MEMORY_NONE));
    return 1;
}

static void mm_run(mm *m, const void *a, const void *b, float *c)
{
    CHK(dnnl_memory_set_data_handle(m->a, (void *)a));
    CHK(dnnl_memory_set_data_handle(m->b, (void *)b));
    CHK(dnnl_memory_set_data_handle(m->c, c));
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, m->a}, {DNNL_ARG_WEIGHTS, m->b},
                               {DNNL_ARG_DST, m->c}, {DNNL_ARG_SCRATCHPAD, m->sp}};
    CHK(dnnl_primitive_execute(m->prim, strm, m->sp ? 4 : 3, args));
    CHK(dnnl_stream_wait(strm));
}

static void mm_free(mm *m)
{
    if (!m->prim)
        return;
    dnnl_primitive_destroy(m->prim);
    dnnl_memory_destroy(m->a);
    dnnl_memory_destroy(m->b);
    dnnl_memory_destroy(m->c);
    if (m->sp)
        dnnl_memory_destroy(m->sp);
    free(m->sp_buf);
    memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------------------ */
/* one shape's data and methods */

enum { M_BLAS, M_F32, M_FPM, M_BF16, M_CVT, NMETH };
static const char *meth_name[NMETH] = {"blas", "f32", "fpm", "bf16", "cvt"};

typedef struct job {
    const shape *s;
    int nt;
    float *A, *B, *C;
    uint16_t *Ah, *Bh; /* bf16 copies */
    size_t na, nb;
    mm f32, fpm, bf16;
} job;

static void fill_gauss(float *x, size_t n, unsigned seed, float scale, int relu)
{
    uint64_t st = 0x9e3779b97f4a7c15ull * (seed + 1);
    for (size_t i = 0; i < n; i += 2) {
        double u[2];
        for (int k = 0; k < 2; k++) {
            st ^= st << 13;
            st ^= st >> 7;
            st ^= st << 17;
            u[k] = ((st >> 11) + 0.5) * (1.0 / 9007199254740992.0);
        }
        double r = sqrt(-2 * log(u[0])), a = 2 * M_PI * u[1];
        double g0 = r * cos(a), g1 = r * sin(a);
        if (relu) {
            g0 = g0 > 0 ? g0 : 0;
            g1 = g1 > 0 ? g1 : 0;
        }
        x[i] = (float)(scale * g0);
        if (i + 1 < n)
            x[i + 1] = (float)(scale * g1);
    }
}

static void job_init(job *j, const shape *s, int nt, int relu)
{
    memset(j, 0, sizeof *j);
    j->s = s;
    j->nt = nt;
    int ra, lda, rb, ldb;
    stored(s->M, s->K, s->ta, &ra, &lda);
    stored(s->K, s->N, s->tb, &rb, &ldb);
    j->na = (size_t)ra * lda;
    j->nb = (size_t)rb * ldb;
    j->A = xalloc(j->na * 4);
    j->B = xalloc(j->nb * 4);
    j->C = xalloc((size_t)s->M * s->N * 4);
    j->Ah = xalloc(j->na * 2);
    j->Bh = xalloc(j->nb * 2);
    /* weights ~ N(0, 1/K) like the initialiser; activations N(0,1) or ReLU(N(0,1)) */
    fill_gauss(j->A, j->na, 1, s->a_w ? (float)(1 / sqrt(s->K)) : 1.0f, s->a_w ? 0 : relu);
    fill_gauss(j->B, j->nb, 2, s->b_w ? (float)(1 / sqrt(s->K)) : 1.0f, s->b_w ? 0 : relu);
    /* weights converted once, outside the timing */
    if (s->a_w)
        to_bf16(j->Ah, j->A, j->na, 1);
    if (s->b_w)
        to_bf16(j->Bh, j->B, j->nb, 1);
    omp_set_num_threads(nt); /* oneDNN (OpenMP build) takes its thread count at creation */
    openblas_set_num_threads(nt);
    mm_create(&j->f32, s, dnnl_f32, 0, 0);
    mm_create(&j->fpm, s, dnnl_f32, 1, 0);
    mm_create(&j->bf16, s, dnnl_bf16, 0, 0);
}

static void job_free(job *j)
{
    mm_free(&j->f32);
    mm_free(&j->fpm);
    mm_free(&j->bf16);
    free(j->A);
    free(j->B);
    free(j->C);
    free(j->Ah);
    free(j->Bh);
}

static void cvt_acts(job *j)
{
    if (!j->s->a_w)
        to_bf16(j->Ah, j->A, j->na, j->nt);
    if (!j->s->b_w)
        to_bf16(j->Bh, j->B, j->nb, j->nt);
}

/* returns 0 if the method is unavailable */
static int run_meth(job *j, int m)
{
    const shape *s = j->s;
    switch (m) {
    case M_BLAS: {
        int ra, lda, rb, ldb;
        stored(s->M, s->K, s->ta, &ra, &lda);
        stored(s->K, s->N, s->tb, &rb, &ldb);
        cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans,
                    s->tb ? CblasTrans : CblasNoTrans, s->M, s->N, s->K, 1.0f, j->A, lda, j->B,
                    ldb, 0.0f, j->C, s->N);
        return 1;
    }
    case M_F32:
        if (!j->f32.prim)
            return 0;
        mm_run(&j->f32, j->A, j->B, j->C);
        return 1;
    case M_FPM:
        if (!j->fpm.prim)
            return 0;
        mm_run(&j->fpm, j->A, j->B, j->C);
        return 1;
    case M_BF16:
        if (!j->bf16.prim)
            return 0;
        cvt_acts(j);
        mm_run(&j->bf16, j->Ah, j->Bh, j->C);
        return 1;
    case M_CVT:
        cvt_acts(j);
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */

static int g_rounds = 9;
static double g_round_s = 0.015;

static void bench_shape(const shape *s, int nt)
{
    job j;
    job_init(&j, s, nt, 0);
    int have[NMETH];
    double est[NMETH];
    for (int m = 0; m < NMETH; m++) {
        /* fpmath bf16 is not timed when oneDNN ignores it (same f32 kernel) */
        have[m] = (m == M_FPM && j.fpm.prim && j.f32.prim && !strcmp(j.fpm.impl, j.f32.impl))
                      ? 0
                      : run_meth(&j, m);
        if (!have[m])
            continue;
        for (int w = 0; w < 3; w++)
            run_meth(&j, m);
        double t0 = now_s();
        for (int w = 0; w < 3; w++)
            run_meth(&j, m);
        est[m] = (now_s() - t0) / 3;
    }
    double t[NMETH][64];
    for (int r = 0; r < g_rounds; r++) {
        for (int q = 0; q < NMETH; q++) {
            int m = (q + r) % NMETH; /* rotate the order every round */
            if (!have[m])
                continue;
            int reps = (int)(g_round_s / (est[m] > 1e-7 ? est[m] : 1e-7));
            reps = reps < 2 ? 2 : reps > 2000 ? 2000 : reps;
            double t0 = now_s();
            for (int i = 0; i < reps; i++)
                run_meth(&j, m);
            t[m][r] = (now_s() - t0) / reps;
        }
    }
    double flop = 2.0 * s->M * s->N * s->K;
    printf("%-27s %d", s->name, nt);
    double med[NMETH];
    for (int m = 0; m < NMETH; m++) {
        if (!have[m]) {
            printf(" | %21s", "n/a");
            continue;
        }
        qsort(t[m], (size_t)g_rounds, sizeof(double), cmp_double);
        med[m] = t[m][g_rounds / 2];
        printf(" | %6.3f %5.3f-%6.3f", med[m] * 1e3, t[m][0] * 1e3, t[m][g_rounds - 1] * 1e3);
    }
    printf(" | %5.0f %5.0f %5.0f | %4.2f %4.2f\n", flop / med[M_BLAS] * 1e-9,
           have[M_F32] ? flop / med[M_F32] * 1e-9 : 0, have[M_BF16] ? flop / med[M_BF16] * 1e-9 : 0,
           have[M_F32] ? med[M_BLAS] / med[M_F32] : 0, have[M_BF16] ? med[M_BLAS] / med[M_BF16] : 0);
    for (int m = 0; m < NMETH; m++)
        if (have[m])
            printf("RESULT gemm.%s.t%d.%s %.4f ms\n", s->name, nt, meth_name[m], med[m] * 1e3);
    fflush(stdout);
    job_free(&j);
}

/* ------------------------------------------------------------------------ */

static void ref64(const shape *s, const float *A, const float *B, double *C)
{
    int ra, lda, rb, ldb;
    stored(s->M, s->K, s->ta, &ra, &lda);
    stored(s->K, s->N, s->tb, &rb, &ldb);
    memset(C, 0, (size_t)s->M * s->N * sizeof *C);
    for (int m = 0; m < s->M; m++)
        for (int k = 0; k < s->K; k++) {
            double a = s->ta ? A[(size_t)k * lda + m] : A[(size_t)m * lda + k];
            double *c = C + (size_t)m * s->N;
            if (!s->tb) {
                const float *b = B + (size_t)k * ldb;
                for (int n = 0; n < s->N; n++)
                    c[n] += a * b[n];
            } else {
                for (int n = 0; n < s->N; n++)
                    c[n] += a * B[(size_t)n * ldb + k];
            }
        }
}

static void errs(const shape *s, const float *C, const double *R, double *fro, double *mx)
{
    double e2 = 0, r2 = 0, em = 0, rm = 0;
    for (size_t i = 0; i < (size_t)s->M * s->N; i++) {
        double e = C[i] - R[i];
        e2 += e * e;
        r2 += R[i] * R[i];
        em = fabs(e) > em ? fabs(e) : em;
        rm = fabs(R[i]) > rm ? fabs(R[i]) : rm;
    }
    *fro = sqrt(e2 / r2);
    *mx = em / rm;
}

static void accuracy(void)
{
    printf("\n--- accuracy vs double reference: rel. Frobenius error / max abs error over max |C| "
           "---\n");
    printf("%-27s %-6s | %-19s | %-19s | %-19s | %-19s\n", "shape", "data", "blas", "dnnl f32",
           "dnnl fpmath bf16", "dnnl bf16");
    for (int si = 0; si < NSHAPES; si++) {
        const shape *s = &shapes[si];
        if (si > 0 && si < 5)
            continue; /* the N = 750 shapes repeat the N = 3008 ones */
        for (int relu = 0; relu < 2; relu++) {
            job j;
            job_init(&j, s, 2, relu);
            double *R = xalloc((size_t)s->M * s->N * sizeof(double));
            ref64(s, j.A, j.B, R);
            printf("%-27s %-6s", s->name, relu ? "relu" : "gauss");
            int ms[4] = {M_BLAS, M_F32, M_FPM, M_BF16};
            for (int q = 0; q < 4; q++) {
                if (!run_meth(&j, ms[q])) {
                    printf(" | %19s", "n/a");
                    continue;
                }
                double fro, mx;
                errs(s, j.C, R, &fro, &mx);
                printf(" | %8.2e %8.2e ", fro, mx);
            }
            /* bf16-rounded inputs multiplied exactly: the floor of any bf16 path */
            double *R2 = xalloc((size_t)s->M * s->N * sizeof(double));
            float *C2 = xalloc((size_t)s->M * s->N * sizeof(float));
            to_bf16(j.Ah, j.A, j.na, 1);
            to_bf16(j.Bh, j.B, j.nb, 1);
            for (size_t i = 0; i < j.na; i++)
                j.A[i] = bf16_to_f32(j.Ah[i]);
            for (size_t i = 0; i < j.nb; i++)
                j.B[i] = bf16_to_f32(j.Bh[i]);
            ref64(s, j.A, j.B, R2);
            for (size_t i = 0; i < (size_t)s->M * s->N; i++)
                C2[i] = (float)R2[i];
            double fro, mx;
            errs(s, C2, R, &fro, &mx);
            printf(" | floor %8.2e %8.2e\n", fro, mx);
            free(R2);
            free(C2);
            free(R);
            job_free(&j);
        }
    }
}

/* ------------------------------------------------------------------------ */

static void rt_safety(void)
{
    printf("\n--- allocations during execution (100 calls after 3 warm-up calls, 2 threads) ---\n");
    const shape *s = &shapes[5];
    for (int user = 0; user < 2; user++) {
        job j;
        job_init(&j, s, 2, 0);
        mm m;
        omp_set_num_threads(2);
        mm_create(&m, s, dnnl_bf16, 0, user);
        to_bf16(j.Ah, j.A, j.na, 1);
        to_bf16(j.Bh, j.B, j.nb, 1);
        for (int i = 0; i < 3; i++)
            mm_run(&m, j.Ah, j.Bh, j.C);
        atomic_store(&n_alloc, 0);
        atomic_store(&count_on, 1);
        for (int i = 0; i < 100; i++)
            mm_run(&m, j.Ah, j.Bh, j.C);
        atomic_store(&count_on, 0);
#ifdef NO_COUNT_ALLOCS
        printf("(sanitizer build: allocations not counted)\n");
#endif
        printf("%s scratchpad (%zu bytes): %ld malloc calls in 100 executions; impl %s\n",
               user ? "user   " : "library", m.sp_size, atomic_load(&n_alloc), m.impl);
        /* the first execution of a fresh primitive */
        mm m2;
        mm_create(&m2, &shapes[6], dnnl_bf16, 0, user);
        atomic_store(&n_alloc, 0);
        atomic_store(&count_on, 1);
        mm_run(&m2, j.Ah, j.Bh, j.C); /* shape 6 is smaller: the buffers suffice */
        atomic_store(&count_on, 0);
        printf("        first execution of a second, just-created primitive: %ld malloc calls\n",
               atomic_load(&n_alloc));
        mm_free(&m2);
        mm_free(&m);
        job_free(&j);
    }
}

int main(int argc, char **argv)
{
    const char *threads = "1 2", *only = NULL;
    int do_time = 1, do_acc = 1, do_rt = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = argv[++i];
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            g_rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--quick"))
            g_rounds = 5, g_round_s = 0.008;
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--cpu"))
            g_clock = CLOCK_PROCESS_CPUTIME_ID;
        else if (!strcmp(argv[i], "--no-time"))
            do_time = 0;
        else if (!strcmp(argv[i], "--no-acc"))
            do_acc = 0;
        else if (!strcmp(argv[i], "--no-rt"))
            do_rt = 0;
        else {
            fprintf(stderr, "usage: bench_gemm_dnnl [--threads \"1 2\"] [--rounds R] [--quick] "
                            "[--only SUBSTR] [--cpu] [--no-time] [--no-acc] [--no-rt]\n");
            return 2;
        }
    }
    if (g_rounds < 1)
        g_rounds = 1;
    if (g_rounds > 64)
        g_rounds = 64;
    if (getenv("BENCH_TRACE_MALLOC")) {
        void *bt[2];
        backtrace(bt, 2); /* loads libgcc before any counted allocation */
        trace_left = atoi(getenv("BENCH_TRACE_MALLOC"));
    }
    CHK(dnnl_engine_create(&eng, dnnl_cpu, 0));
    CHK(dnnl_stream_create(&strm, eng, dnnl_stream_default_flags));
    const dnnl_version_t *v = dnnl_version();
    printf("oneDNN %d.%d.%d (cpu runtime %u), effective ISA 0x%x, load %s", v->major, v->minor,
           v->patch, v->cpu_runtime, (unsigned)dnnl_get_effective_cpu_isa(), "");
    FILE *f = fopen("/proc/loadavg", "r");
    char buf[64] = "";
    if (f) {
        if (!fgets(buf, sizeof buf, f))
            buf[0] = 0;
        fclose(f);
    }
    printf("%s", buf);

    /* implementation names */
    printf("\n--- implementations oneDNN chose (2 threads) ---\n");
    for (int si = 0; si < NSHAPES; si++) {
        job j;
        job_init(&j, &shapes[si], 2, 0);
        printf("%-27s f32: %-22s fpmath-bf16: %-22s bf16: %s\n", shapes[si].name,
               j.f32.prim ? j.f32.impl : "none", j.fpm.prim ? j.fpm.impl : "none",
               j.bf16.prim ? j.bf16.impl : "none");
        job_free(&j);
    }

    if (do_time) {
        printf("\n--- time per call: ms median of %d rounds (fastest-slowest round) | GFLOP/s "
               "blas f32 bf16 | speed-up f32, bf16 over blas ---\n",
               g_rounds);
        printf("%-27s %s | %-21s | %-21s | %-21s | %-21s | %-21s |\n", "shape", "t", "blas",
               "dnnl f32", "dnnl f32 fpmath=bf16", "dnnl bf16 (+cvt)", "cvt alone");
        char tl[64];
        snprintf(tl, sizeof tl, "%s", threads);
        for (char *tok = strtok(tl, " ,"); tok; tok = strtok(NULL, " ,"))
            for (int si = 0; si < NSHAPES; si++)
                if (!only || strstr(shapes[si].name, only))
                    bench_shape(&shapes[si], atoi(tok));
    }
    if (do_acc)
        accuracy();
    if (do_rt)
        rt_safety();
    f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fgets(buf, sizeof buf, f))
            printf("\nload after: %s", buf);
        fclose(f);
    }
    dnnl_stream_destroy(strm);
    dnnl_engine_destroy(eng);
    return 0;
}
