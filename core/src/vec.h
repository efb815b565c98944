/* vec.h - 16-wide float vectors (GCC vector extensions) and the elementwise math shared by
 * the batch network (net.c), the streaming engine (stream.c) and the front end (front.c).
 * Kernels using them are compiled for AVX-512, AVX2 and baseline x86-64 (LPI_CLONES, picked
 * at load time). */
#ifndef LIMPID_VEC_H
#define LIMPID_VEC_H

#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__ELF__)
#define LPI_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define LPI_CLONES
#endif

/* ------------------------------------------------------------------------ */
/* 16-wide float vectors. Operations are macros (statement expressions), so no function takes
 * or returns a vector and the 64-byte-vector ABI never matters. */

#define VW 16
typedef float lpi_vf __attribute__((vector_size(64)));
typedef int32_t lpi_vi __attribute__((vector_size(64)));

#define VLD(p) ({ lpi_vf v_; memcpy(&v_, (p), sizeof v_); v_; })
#define VST(p, v) do { lpi_vf w_ = (v); memcpy((p), &w_, sizeof w_); } while (0)
#define VSET(s) ((lpi_vf){0} + (float)(s))
/* m ? a : b for a lane mask m (all ones / zero) */
#define VSEL(m, a, b) ((lpi_vf)((((lpi_vi)(a)) & (m)) | (((lpi_vi)(b)) & ~(m))))
/* max(x, 0) that keeps NaN (so a diverged network shows up in its output) */
#define VRELU(x) ({ lpi_vf r_ = (x); (lpi_vf)((lpi_vi)r_ & ~(r_ < 0.0f)); })
/* exp(x) for x in [-87, 88] (2^n stays a normal number), Cephes expf polynomial, ~2 ulp */
#define VEXP_IN_RANGE(xin)                                                               \
    ({                                                                                   \
        lpi_vf x_ = (xin);                                                               \
        lpi_vf t_ = x_ * 1.44269504088896341f + 12582912.0f;                             \
        lpi_vf n_ = t_ - 12582912.0f;                                                    \
        lpi_vf r_ = x_ - n_ * 0.693359375f;                                              \
        r_ = r_ + n_ * 2.12194440e-4f;                                                   \
        lpi_vf p_ = r_ * 1.9875691500e-4f + 1.3981999507e-3f;                            \
        p_ = p_ * r_ + 8.3334519073e-3f;                                                 \
        p_ = p_ * r_ + 4.1665795894e-2f;                                                 \
        p_ = p_ * r_ + 1.6666665459e-1f;                                                 \
        p_ = p_ * r_ + 5.0000001201e-1f;                                                 \
        p_ = p_ * (r_ * r_) + r_ + 1.0f;                                                 \
        lpi_vi e_ = (((lpi_vi)t_ - 0x4B400000) + 127) << 23;                             \
        p_ * (lpi_vf)e_;                                                                 \
    })
/* ln(x) for positive normal x (Cephes logf: x = m 2^e, m in [sqrt(1/2), sqrt(2)), a degree-9
 * polynomial in m - 1), ~2 ulp */
#define VLOG_POS(xin)                                                                    \
    ({                                                                                   \
        lpi_vi b_ = (lpi_vi)(xin);                                                       \
        lpi_vi e_ = ((b_ >> 23) & 0xff) - 126;                                           \
        lpi_vf m_ = (lpi_vf)((b_ & 0x807fffff) | 0x3f000000); /* [0.5, 1) */             \
        lpi_vi lo_ = m_ < 0.707106781186547524f;                                         \
        e_ += lo_; /* -1 where m < sqrt(1/2): m doubles */                               \
        m_ = VSEL(lo_, m_ + m_, m_) - 1.0f;                                              \
        lpi_vf z_ = m_ * m_;                                                             \
        lpi_vf y_ = m_ * 7.0376836292e-2f - 1.1514610310e-1f;                            \
        y_ = y_ * m_ + 1.1676998740e-1f;                                                 \
        y_ = y_ * m_ - 1.2420140846e-1f;                                                 \
        y_ = y_ * m_ + 1.4249322787e-1f;                                                 \
        y_ = y_ * m_ - 1.6668057665e-1f;                                                 \
        y_ = y_ * m_ + 2.0000714765e-1f;                                                 \
        y_ = y_ * m_ - 2.4999993993e-1f;                                                 \
        y_ = y_ * m_ + 3.3333331174e-1f;                                                 \
        y_ = y_ * m_ * z_;                                                               \
        lpi_vf ef_ = __builtin_convertvector(e_, lpi_vf);                                \
        y_ += ef_ * -2.12194440e-4f;                                                     \
        y_ -= 0.5f * z_;                                                                 \
        m_ + y_ + ef_ * 0.693359375f;                                                    \
    })
/* x clamped to [lo, hi]; NaN stays NaN (comparisons with NaN are false) */
#define VCLAMP(xin, lo, hi)                                                              \
    ({                                                                                   \
        lpi_vf c_ = (xin);                                                               \
        c_ = VSEL(c_ < (lo), VSET(lo), c_);                                              \
        VSEL(c_ > (hi), VSET(hi), c_);                                                   \
    })
#define VHSUM(v) ({ lpi_vf h_ = (v); float s_ = 0.0f; for (int q_ = 0; q_ < VW; q_++) s_ += h_[q_]; s_; })

/* Gate: E1 = exp(-2 (a_t + bt)), E2 = exp(-(a_s + bs)), tanh = (1 - E1) / (1 + E1),
 * sigmoid = 1 / (1 + E2); r_ = 1 / ((1 + E1)(1 + E2)), so z = m_ r_ (see net.c). */
#define GATE_BODY(pa, pb, bt, bs)                                                        \
    lpi_vf e1_ = VEXP_IN_RANGE(VCLAMP(-2.0f * (VLD(pa) + (bt)), -40.0f, 40.0f));         \
    lpi_vf e2_ = VEXP_IN_RANGE(VCLAMP(-(VLD(pb) + (bs)), -40.0f, 40.0f));                \
    lpi_vf q_ = 1.0f + e1_, u_ = 1.0f + e2_, m_ = 1.0f - e1_;                            \
    lpi_vf r_ = 1.0f / (q_ * u_)

/* ------------------------------------------------------------------------ */
/* Row kernels of the batch network (net.c) and the per-bin front end (front.c): rows of
 * length n (lpi_bias_act's at stride ld). Static, so each file has its own clones and no
 * resolver leaves the library. */

#include <stddef.h>

/* y[r][:] = act(y[r][:] + b[r]) ; relu when relu != 0 */
LPI_CLONES static inline void lpi_bias_act(float *restrict y, const float *restrict b, int rows,
                                           size_t n, size_t ld, int relu)
{
    for (int r = 0; r < rows; r++) {
        float *restrict p = y + (size_t)r * ld;
        const float bb = b[r];
        size_t j = 0;
        if (relu) {
            for (; j + VW <= n; j += VW)
                VST(p + j, VRELU(VLD(p + j) + bb));
            for (; j < n; j++) {
                float v = p[j] + bb;
                p[j] = v < 0.0f ? 0.0f : v;
            }
        } else {
            for (; j + VW <= n; j += VW)
                VST(p + j, VLD(p + j) + bb);
            for (; j < n; j++)
                p[j] += bb;
        }
    }
}

/* d[r][:] *= (v[r][:] > 0) (v is a relu output; NaN passes); dbias[r] += row sum of d. */
LPI_CLONES static inline void lpi_relu_bwd(float *restrict d, const float *restrict v,
                                           float *restrict dbias, int rows, size_t n)
{
    for (int r = 0; r < rows; r++) {
        float *pd = d + (size_t)r * n;
        const float *pv = v + (size_t)r * n;
        lpi_vf acc = VSET(0.0f);
        float a1 = 0.0f;
        size_t j = 0;
        for (; j + VW <= n; j += VW) {
            lpi_vf x = (lpi_vf)((lpi_vi)VLD(pd + j) & ~(VLD(pv + j) <= 0.0f));
            VST(pd + j, x);
            acc += x;
        }
        for (; j < n; j++) {
            float x = pv[j] <= 0.0f ? 0.0f : pd[j];
            pd[j] = x;
            a1 += x;
        }
        dbias[r] += VHSUM(acc) + a1;
    }
}

/* acc[r] += sum_j x[r][j] */
LPI_CLONES static inline void lpi_rowsum(const float *restrict x, float *restrict acc, int rows,
                                         size_t n)
{
    for (int r = 0; r < rows; r++) {
        const float *p = x + (size_t)r * n;
        lpi_vf v = VSET(0.0f);
        float a1 = 0.0f;
        size_t j = 0;
        for (; j + VW <= n; j += VW)
            v += VLD(p + j);
        for (; j < n; j++)
            a1 += p[j];
        acc[r] += VHSUM(v) + a1;
    }
}

#endif
