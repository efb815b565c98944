/* common.c - version, errors, threads, matrix products. */
#include "internal.h"

#include <cblas.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* OpenBLAS extensions (declared in its cblas.h on Debian, repeated here for other BLAS). */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);

const char *limpid_version(void)
{
#define LPI_STR2(x) #x
#define LPI_STR(x) LPI_STR2(x)
    return LPI_STR(LIMPID_VERSION_MAJOR) "." LPI_STR(LIMPID_VERSION_MINOR) "." LPI_STR(
        LIMPID_VERSION_PATCH);
}

const char *limpid_strerror(limpid_status st)
{
    switch (st) {
    case LIMPID_OK: return "success";
    case LIMPID_ERR_NOMEM: return "out of memory";
    case LIMPID_ERR_INVALID: return "invalid argument or configuration";
    case LIMPID_ERR_IO: return "file could not be read or written";
    case LIMPID_ERR_FORMAT: return "not a limpid file of the expected kind";
    case LIMPID_ERR_VERSION: return "unsupported limpid file format version";
    case LIMPID_ERR_TRUNCATED: return "file is truncated";
    case LIMPID_ERR_CORRUPT: return "file is corrupt";
    case LIMPID_ERR_UNSUPPORTED: return "not supported by this model or build";
    case LIMPID_ERR_NUMERIC: return "non-finite values (NaN or Inf)";
    case LIMPID_ERR_STATE: return "call made in the wrong state";
    }
    return "unknown error";
}

void limpid_free(void *p) { free(p); }

void lpi_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void limpid_set_threads(int n)
{
    if (n <= 0)
        n = 0; /* OpenBLAS: 0 means its default (all cores) */
    openblas_set_num_threads(n);
}

int limpid_get_threads(void) { return openblas_get_num_threads(); }

/* OpenBLAS core names by the widest vectors their kernels use: 3 AVX-512, 2 AVX2, 1 AVX,
 * 0 older or unknown (unknown names count as new enough: no advice then) */
static int core_level(const char *name)
{
    static const char *const l3[] = {"skylakex", "cooperlake", "sapphirerapids", NULL};
    static const char *const l2[] = {"haswell", "zen", "skylake", "excavator", NULL};
    static const char *const l1[] = {"sandybridge", "bulldozer", "piledriver", "steamroller",
                                     NULL};
    static const char *const l0[] = {"prescott", "core2", "penryn", "dunnington", "nehalem",
                                     "atom", "katmai", "coppermine", "northwood", "banias",
                                     "opteron", "barcelona", "bobcat", NULL};
    const char *const *lists[] = {l0, l1, l2, l3};
    for (int lv = 0; lv < 4; lv++)
        for (const char *const *p = lists[lv]; *p; p++)
            if (strcasecmp(name, *p) == 0)
                return lv;
    return 3;
}

const char *limpid_blas_better_coretype(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (getenv("OPENBLAS_CORETYPE") || getenv("LIMPID_KEEP_BLAS_CORE"))
        return NULL;
    const char *name = openblas_get_corename();
    if (!name)
        return NULL;
    __builtin_cpu_init();
    const int cpu = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                            __builtin_cpu_supports("avx512vl") &&
                            __builtin_cpu_supports("avx512dq")
                        ? 3
                    : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 2
                                                                                       : 0;
    const int lv = core_level(name);
    if (cpu == 3 && lv < 3)
        return "SKYLAKEX";
    if (cpu == 2 && lv < 2)
        return "HASWELL";
#endif
    return NULL;
}

void lpi_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
              int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C,
                ldc);
}
