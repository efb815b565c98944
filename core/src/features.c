/* features.c - audio <-> network features, and the output head.
 *
 * STFT domain: x[n] -> STFT frames -> beta*|X|^a e^{j angle X} -> channel-major features
 * feat[2*bins][frames] (row f: re of bin f, row bins+f: im of bin f); magnitude features
 * (textures): beta*|X|^a -> feat[bins][frames], and back with a random phase.
 * Wave domain: feat[1][n] = x. */
#include "internal.h"
#include "vec.h"

size_t lpi_feature_frames(const limpid_config *cfg, size_t n)
{
    if (cfg->domain == LIMPID_DOMAIN_WAVE)
        return n;
    return (n + (size_t)cfg->hop - 1) / (size_t)cfg->hop;
}

size_t lpi_feature_scratch(const limpid_config *cfg, size_t n)
{
    if (cfg->domain == LIMPID_DOMAIN_WAVE)
        return 0;
    return lpi_feature_frames(cfg, n) * 2 * (size_t)lpi_feature_bins(cfg); /* complex frames */
}

limpid_status lpi_features_from_audio(const limpid_config *cfg, limpid_stft *stft,
                                      const float *x, size_t n, float *feat, size_t ld,
                                      float *scratch)
{
    if (cfg->domain == LIMPID_DOMAIN_WAVE) {
        memcpy(feat, x, n * sizeof *x);
        return LIMPID_OK;
    }
    const size_t frames = lpi_feature_frames(cfg, n);
    const int Cx = limpid_config_feature_channels(cfg), bins = lpi_feature_bins(cfg);
    limpid_status st = limpid_stft_analyze(stft, x, n, scratch);
    if (st != LIMPID_OK)
        return st;
    limpid_spec_compress(scratch, frames, bins, cfg->compress_exp, cfg->compress_scale);
    if (cfg->features == LIMPID_FEATURES_MAGNITUDE) {
        for (size_t k = 0; k < frames; k++) {
            const float *re = scratch + k * 2 * (size_t)bins, *im = re + bins;
            for (int f = 0; f < bins; f++)
                feat[(size_t)f * ld + k] = hypotf(re[f], im[f]);
        }
        return LIMPID_OK;
    }
    /* transpose [frames][Cx] -> [Cx][ld] */
    for (size_t k = 0; k < frames; k++) {
        const float *fr = scratch + k * (size_t)Cx;
        for (int c = 0; c < Cx; c++)
            feat[(size_t)c * ld + k] = fr[c];
    }
    return LIMPID_OK;
}

limpid_status lpi_audio_from_features(const limpid_config *cfg, limpid_stft *stft,
                                      const float *feat, size_t ld, size_t n, float *x,
                                      float *scratch, lpi_rng *phase)
{
    if (cfg->domain == LIMPID_DOMAIN_WAVE) {
        memmove(x, feat, n * sizeof *x);
        return LIMPID_OK;
    }
    const size_t frames = lpi_feature_frames(cfg, n);
    const int Cx = limpid_config_feature_channels(cfg), bins = lpi_feature_bins(cfg);
    if (cfg->features == LIMPID_FEATURES_MAGNITUDE) {
        if (!phase)
            return LIMPID_ERR_INVALID;
        /* a sampled magnitude below 0 is no magnitude: 0; DC and Nyquist are real */
        for (size_t k = 0; k < frames; k++) {
            float *re = scratch + k * 2 * (size_t)bins, *im = re + bins;
            for (int f = 0; f < bins; f++) {
                const float m = fmaxf(feat[(size_t)f * ld + k], 0.0f);
                const float ph = 6.28318531f * lpi_rng_uniform(phase);
                if (f == 0 || f == bins - 1) {
                    re[f] = ph < 3.14159265f ? m : -m;
                    im[f] = 0.0f;
                } else {
                    re[f] = m * cosf(ph);
                    im[f] = m * sinf(ph);
                }
            }
        }
        limpid_spec_decompress(scratch, frames, bins, cfg->compress_exp, cfg->compress_scale);
        const float g = lpi_stft_random_phase_gain(stft);
        for (size_t i = 0; i < frames * 2 * (size_t)bins; i++)
            scratch[i] *= g;
        return limpid_stft_synthesize(stft, scratch, n, x);
    }
    for (size_t k = 0; k < frames; k++) {
        float *fr = scratch + k * (size_t)Cx;
        for (int c = 0; c < Cx; c++)
            fr[c] = feat[(size_t)c * ld + k];
    }
    limpid_spec_decompress(scratch, frames, bins, cfg->compress_exp, cfg->compress_scale);
    return limpid_stft_synthesize(stft, scratch, n, x);
}

/* The noise-floor track of LIMPID_COND_LOGPOW_FLOOR (limpid.h): smoothing of the compressed
 * power, and the floor's largest rise per frame (limpid_config.floor_rise doublings per
 * second; 0: the default, 2x per second). */
#define FLOOR_SMOOTH 0.3f
static float rise_per_frame(const limpid_config *cfg, double doublings)
{
    return (float)exp(doublings * log(2.0) * (double)cfg->hop / (double)cfg->sample_rate);
}

static inline float logpow_feature(float p) { return (logf(p + 1e-6f) + 6.0f) * (1.0f / 3.0f); }

/* limpid_config.harmonicity: LIMPID_HARM_ROWS rows per frame from the compressed power
 * a_k = re^2 + im^2 of each bin (|X| at compress_exp 0.5), out[r * ld + n] for rows r:
 *   0: the peak over lags L (pitch 80..480 Hz; every 2 samples from 32 kHz up, else 1) of the
 *      spectral autocorrelation c(L) = sum_k a_k cos(2 pi k L / n_fft) / sum_k a_k over the
 *      bins below 4 kHz: near 1 for a frame of one periodic source (voiced speech, a pitched
 *      note), lower for noise. Not normalised by the window's own autocorrelation: that
 *      favoured the longest lags (session 13's numpy check: speech-dominated against
 *      noise-dominated frames of the third dev set, AUC 0.90 as it is, 0.82 normalised);
 *   1: that pitch, log2(sample_rate / L / 200);
 *   2..10: each band's correlation at L, sum_{k in band} a_k cos(2 pi k L / n_fft) /
 *      sum_{k in band} a_k, bands from HARM_EDGES (Hz).
 * A frame with no energy in a sum gives 0 there. The frame alone decides (no state). */
#define HARM_FMIN 80.0
#define HARM_FMAX 480.0
#define HARM_FTOP 4000.0
static const double HARM_EDGES[LIMPID_HARM_ROWS - 1] = {0, 500, 1000, 2000, 3000, 4000,
                                                       6000, 8000, 12000, 1e9};

static void harm_rows(const limpid_config *cfg, const float *spec, size_t ld, size_t cols,
                      float *out)
{
    const int N = cfg->n_fft, F = lpi_feature_bins(cfg), sr = cfg->sample_rate;
    float ctab[4096]; /* cos(2 pi j / N); config.c keeps n_fft <= 4096 */
    for (int j = 0; j < N; j++)
        ctab[j] = (float)cos(6.283185307179586 * j / N);
    const int lag_lo = (int)lround(sr / HARM_FMAX), lag_hi = (int)lround(sr / HARM_FMIN);
    const int lag_step = sr >= 32000 ? 2 : 1;
    int ktop = (int)ceil(HARM_FTOP * N / sr);
    if (ktop > F)
        ktop = F;
    int edge[LIMPID_HARM_ROWS - 1];
    for (int b = 0; b < LIMPID_HARM_ROWS - 1; b++) {
        double e = ceil(HARM_EDGES[b] * N / sr);
        edge[b] = e > F ? F : (int)e;
    }
    float a[4096 / 2 + 1];
    for (size_t n = 0; n < cols; n++) {
        double r0 = 0.0;
        for (int k = 0; k < F; k++) {
            const float re = spec[(size_t)k * ld + n], im = spec[(size_t)(F + k) * ld + n];
            a[k] = re * re + im * im;
        }
        for (int k = 0; k < ktop; k++)
            r0 += a[k];
        float best = 0.0f;
        int L = lag_lo;
        if (r0 > 1e-20) {
            best = -2.0f;
            for (int lag = lag_lo; lag <= lag_hi; lag += lag_step) {
                float c = 0.0f;
                int j = 0;
                for (int k = 0; k < ktop; k++) {
                    c += a[k] * ctab[j];
                    j += lag; /* lag < N (config.c) */
                    if (j >= N)
                        j -= N;
                }
                if (c > best) {
                    best = c;
                    L = lag;
                }
            }
            best = (float)(best / r0);
        }
        out[n] = best;
        out[ld + n] = (float)log2((double)sr / L / 200.0);
        for (int b = 0; b < LIMPID_HARM_ROWS - 2; b++) {
            double s = 0.0, c = 0.0;
            int j = (int)(((long long)edge[b] * L) % N);
            for (int k = edge[b]; k < edge[b + 1]; k++) {
                s += a[k];
                c += a[k] * ctab[j];
                j += L;
                if (j >= N)
                    j -= N;
            }
            out[(size_t)(2 + b) * ld + n] = s > 1e-20 ? (float)(c / s) : 0.0f;
        }
    }
}

const float *lpi_cond_features(const limpid_config *cfg, const float *spec, size_t ld,
                               size_t cols, size_t item, float *state, float *out)
{
    if (cfg->cond != LIMPID_COND_LOGPOW && cfg->cond != LIMPID_COND_LOGPOW_FLOOR)
        return spec;
    const int F = limpid_config_feature_channels(cfg) / 2;
    const int track = cfg->cond == LIMPID_COND_LOGPOW_FLOOR;
    const int slow = track && cfg->floor_slow > 0.0f;
    const float rise = rise_per_frame(cfg, cfg->floor_rise > 0.0f ? (double)cfg->floor_rise : 1.0);
    const float rise_s = slow ? rise_per_frame(cfg, (double)cfg->floor_slow) : 1.0f;
    if (item == 0)
        item = cols;
    for (int f = 0; f < F; f++) {
        const float *re = spec + (size_t)f * ld, *im = spec + (size_t)(F + f) * ld;
        float *o = out + (size_t)f * ld, *m = out + (size_t)(F + f) * ld;
        float *ms = slow ? out + (size_t)(2 * F + f) * ld : NULL;
        float S = state ? state[f] : -1.0f, M = state ? state[F + f] : 0.0f;
        float Ms = state && slow ? state[2 * F + f] : 0.0f;
        for (size_t n = 0; n < cols; n++) {
            const float p = re[n] * re[n] + im[n] * im[n];
            o[n] = logpow_feature(p);
            if (!track)
                continue;
            if (!state && n % item == 0)
                S = -1.0f; /* a new item: the track starts again */
            if (S < 0.0f) {
                S = p;
                M = p;
                Ms = p;
            } else {
                S += FLOOR_SMOOTH * (p - S);
                M = fminf(S, M * rise);
                Ms = fminf(S, Ms * rise_s);
            }
            m[n] = logpow_feature(M);
            if (slow)
                ms[n] = logpow_feature(Ms);
        }
        if (state && track) {
            state[f] = S;
            state[F + f] = M;
            if (slow)
                state[2 * F + f] = Ms;
        }
    }
    if (track && cfg->harmonicity)
        harm_rows(cfg, spec, ld, cols, out + (size_t)2 * F * ld);
    return out;
}

/* WIENER head: q = exp(2 (o1 + WIENER_BIAS)) is a noise floor in the compressed-magnitude
 * domain; with the untrained o1 = 0 the floor (about 6e-6) is far below any audible bin, so the
 * head starts as the identity. WIENER_REL: the floor is exp(o1 + WIENER_REL_BIAS) times the
 * frame's RMS compressed magnitude L, so q gets the factor L^4 = (mean r^2)^2. */
#define WIENER_BIAS (-3.0f)
#define WIENER_REL_BIAS (-1.0f)

#ifndef WIENER_POW
#define WIENER_POW 2
#endif
static inline float wiener_gain(float o1, float bias, float level4, float yre, float yim)
{
    float r2 = yre * yre + yim * yim;
#if WIENER_POW == 2
    r2 = r2 * r2;
#endif
    float q = expf(2.0f * WIENER_POW * (o1 + bias)) * level4;
    return r2 / (r2 + q + 1e-30f);
}

/* level4[n] for columns [n0, n0 + m): (mean over bins of re^2 + im^2)^2 for WIENER_REL (a
 * floor of 1e-12 keeps silent frames finite), 1 otherwise. */
static void wiener_levels(const limpid_config *cfg, const float *cond, size_t cols, size_t n0,
                          size_t m, float *level4)
{
    const int F = limpid_config_feature_channels(cfg) / 2;
    if (cfg->head != LIMPID_HEAD_WIENER_REL) {
        for (size_t j = 0; j < m; j++)
            level4[j] = 1.0f;
        return;
    }
    for (size_t j = 0; j < m; j++)
        level4[j] = 0.0f;
    for (int f = 0; f < F; f++) {
        const float *re = cond + (size_t)f * cols + n0, *im = cond + (size_t)(F + f) * cols + n0;
        for (size_t j = 0; j < m; j++)
            level4[j] += re[j] * re[j] + im[j] * im[j];
    }
    for (size_t j = 0; j < m; j++) {
        float p = level4[j] / (float)F + 1e-12f;
        level4[j] = p * p;
    }
}

/* Vector forms of the head's elementwise math, VW bins at a time. Every element goes through
 * the same vector code, the tail of a row too (padded with zeros: a silent bin, finite), so a
 * value does not depend on where it sits or how many come with it (the streaming engine runs
 * one frame's bins, the batch network a row of frames). */

/* VW floats from p, or its first m < VW and zeros */
#define VLDN(p, m)                                                                       \
    ({                                                                                   \
        lpi_vf l_;                                                                       \
        if ((m) == VW) {                                                                 \
            l_ = VLD(p);                                                                 \
        } else {                                                                         \
            float t_[VW] = {0};                                                          \
            memcpy(t_, (p), (size_t)(m) * sizeof(float));                                \
            l_ = VLD(t_);                                                                \
        }                                                                                \
        l_;                                                                              \
    })
/* the first m lanes of v to p */
#define VSTN(p, v, m)                                                                    \
    do {                                                                                 \
        if ((m) == VW) {                                                                 \
            VST(p, v);                                                                   \
        } else {                                                                         \
            float t_[VW];                                                                \
            VST(t_, v);                                                                  \
            memcpy((p), t_, (size_t)(m) * sizeof(float));                                \
        }                                                                                \
    } while (0)
/* 1 / (1 + e^z), z clamped to +-80 (0 or 1 to float precision beyond); as fminf(z, 80), a
 * NaN z reads 80 (~ 0) */
#define VSIGMOID_OF_NEG(zin)                                                             \
    ({                                                                                   \
        lpi_vf z3_ = (zin);                                                              \
        z3_ = VSEL(z3_ < 80.0f, z3_, VSET(80.0f));                                       \
        z3_ = VSEL(z3_ > -80.0f, z3_, VSET(-80.0f));                                     \
        1.0f / (1.0f + VEXP_IN_RANGE(z3_));                                              \
    })
/* 1 / (1 + e^-y) */
#define VSIGMOID(yin) VSIGMOID_OF_NEG(-(yin))
/* 1.0 on the first m of VW lanes, 0.0 on the rest (a padded tail's) */
#define VLIVE(m)                                                                         \
    ({                                                                                   \
        lpi_vf v3_ = VSET(1.0f);                                                         \
        for (int q3_ = (m); q3_ < VW; q3_++)                                             \
            v3_[q3_] = 0.0f;                                                             \
        v3_;                                                                             \
    })
/* e^x for x <= 0 (below -87: 0 to float precision) */
#define VEXP_NEG(xin) VEXP_IN_RANGE(VCLAMP((xin), -87.0f, 0.0f))
/* ln x for x >= 0, x + 1e-30 (a silent bin: finite) */
#define VLOG0(xin) VLOG_POS((xin) + 1e-30f)

/* limpid_config.floor_gate: the logit of G, y = (1 - s) d - 2 (o1 + ln FLOOR_K) with d =
 * 2 ln(P / M) and the gate s = sigmoid(o3 + LPI_GATE_BIAS) (s = 0: the plain floor head's
 * logit); dy3 = dy/do3 = -d s (1 - s) (dy/do1 = -2). lp = ln P, mf the floor feature. */
#define VGATED_LOGIT(o1v, o3v, mfv, lpv, yv, dy3v)                                       \
    do {                                                                                 \
        const lpi_vf d_g = 2.0f * ((lpv) - (3.0f * (mfv) - 6.0f));                       \
        const lpi_vf s_g = VSIGMOID((o3v) + LPI_GATE_BIAS);                              \
        (dy3v) = -d_g * s_g * (1.0f - s_g);                                              \
        (yv) = (1.0f - s_g) * d_g - 2.0f * ((o1v) + LN_FLOOR_K);                         \
    } while (0)
#define LN_FLOOR_K 1.0986122886681098f /* ln FLOOR_K, FLOOR_K = 3 (below) */
/* WIENER_FLOOR head: P = yre^2 + yim^2 (compressed power); the plain head's logit
 * y = 2 ln P - 2 (o1 + ln FLOOR_K + ln M) with the floor M from
 * its feature mf = (ln(M + 1e-6) + 6) / 3: G = P^2 / (P^2 + (FLOOR_K e^o1 M)^2) = sigmoid(y),
 * written as a logistic so that neither side overflows. FLOOR_K = 3: the untrained threshold
 * sits at 3x the tracked minimum (a classic suppressor's setting). */
#define VFLOOR_LOGIT(o1v, mfv, lpv)                                                      \
    (2.0f * (lpv) - 2.0f * ((o1v) + LN_FLOOR_K + 3.0f * (mfv) - 6.0f))

/* ln(1 + u) for u in [0, 1] to a few ulp (ln w u / (w - 1), w = 1 + u: Goldberg's form) */
#define VLOG1P_01(uin)                                                                   \
    ({                                                                                   \
        const lpi_vf u1_ = (uin), w1_ = 1.0f + u1_, e1_ = w1_ - 1.0f;                    \
        const lpi_vi z1_ = e1_ == 0.0f;                                                  \
        VSEL(z1_, u1_, VLOG_POS(w1_) * u1_ / VSEL(z1_, VSET(1.0f), e1_));                \
    })
/* The Bernoulli divergence KL(t || sigmoid(y)) = t ln t + (1 - t) ln(1 - t) + softplus(y) - t y
 * for t in [0, 1] (t ln(t / s) + (1 - t) ln((1 - t) / (1 - s)) with s = sigmoid(y)); its
 * y-derivative is s - t. softplus(y) = max(y, 0) + ln(1 + e^-|y|). */
#define VBERN_KL(tin, yin)                                                               \
    ({                                                                                   \
        const lpi_vf t2_ = (tin), y2_ = (yin), u2_ = 1.0f - t2_;                         \
        const lpi_vf a2_ = VSEL(y2_ < 0.0f, -y2_, y2_);                                  \
        t2_ * VLOG_POS(VSEL(t2_ > 1e-30f, t2_, VSET(1e-30f))) +                          \
            u2_ * VLOG_POS(VSEL(u2_ > 1e-30f, u2_, VSET(1e-30f))) + VRELU(y2_) +         \
            VLOG1P_01(VEXP_NEG(-a2_)) - t2_ * y2_;                                       \
    })

/* The gated head's forward on n elements at stride 1: pred = G noisy + g2 x_t */
LPI_CLONES static void gated_head_run(const float *restrict o1, const float *restrict o3,
                                      const float *restrict mf, const float *restrict cr,
                                      const float *restrict ci, const float *restrict g2,
                                      const float *restrict xr, const float *restrict xi,
                                      float *restrict pr, float *restrict pi, int n)
{
    for (int j = 0; j < n; j += VW) {
        const int m = n - j < VW ? n - j : VW;
        const lpi_vf yr = VLDN(cr + j, m), yi = VLDN(ci + j, m), gg = VLDN(g2 + j, m);
        lpi_vf y, dy3;
        VGATED_LOGIT(VLDN(o1 + j, m), VLDN(o3 + j, m), VLDN(mf + j, m),
                     VLOG0(yr * yr + yi * yi), y, dy3);
        (void)dy3;
        const lpi_vf G = VSIGMOID(y);
        VSTN(pr + j, G * yr + gg * VLDN(xr + j, m), m);
        VSTN(pi + j, G * yi + gg * VLDN(xi + j, m), m);
    }
}

/* The gated head's forward, all bins and columns (out: o1, g2, o3 rows of F each) */
static void gated_head_forward(int F, const float *out, const float *cond, const float *ncond,
                               const float *xt, size_t cols, float *pred)
{
    if (cols == 1) { /* one frame (the streaming engine): its bins are contiguous */
        gated_head_run(out, out + 2 * (size_t)F, ncond + F, cond, cond + F, out + F, xt, xt + F,
                       pred, pred + F, F);
        return;
    }
    for (int f = 0; f < F; f++) {
        const size_t re = (size_t)f * cols, im = (size_t)(F + f) * cols;
        gated_head_run(out + re, out + (size_t)(2 * F + f) * cols, ncond + im, cond + re,
                       cond + im, out + im, xt + re, xt + im, pred + re, pred + im, (int)cols);
    }
}

/* The WIENER_FLOOR head's backward (gated or not) on n elements at stride 1: from d pred
 * (dr, di) to d o1, d g2 and, gated, d o3. dG/dy = G (1 - G), dy/do1 = -2; the floor is
 * data. */
LPI_CLONES static void floor_head_bwd_run(int gate, const float *restrict o1,
                                          const float *restrict o3, const float *restrict mf,
                                          const float *restrict cr, const float *restrict ci,
                                          const float *restrict xr, const float *restrict xi,
                                          const float *restrict dr, const float *restrict di,
                                          float *restrict d1, float *restrict d2,
                                          float *restrict d3, int n)
{
    for (int j = 0; j < n; j += VW) {
        const int m = n - j < VW ? n - j : VW;
        const lpi_vf yr = VLDN(cr + j, m), yi = VLDN(ci + j, m);
        const lpi_vf er = VLDN(dr + j, m), ei = VLDN(di + j, m);
        const lpi_vf lp = VLOG0(yr * yr + yi * yi), a = VLDN(o1 + j, m), f = VLDN(mf + j, m);
        lpi_vf dg = er * yr + ei * yi, y;
        if (gate) {
            lpi_vf dy3;
            VGATED_LOGIT(a, VLDN(o3 + j, m), f, lp, y, dy3);
            const lpi_vf G = VSIGMOID(y);
            dg *= G * (1.0f - G);
            VSTN(d3 + j, dg * dy3, m);
        } else {
            y = VFLOOR_LOGIT(a, f, lp);
            const lpi_vf G = VSIGMOID(y);
            dg *= G * (1.0f - G);
        }
        VSTN(d1 + j, -2.0f * dg, m);
        VSTN(d2 + j, er * VLDN(xr + j, m) + ei * VLDN(xi + j, m), m);
    }
}

/* The WIENER_FLOOR head's forward on n elements at stride 1 (a row of frames in the batch
 * network; a frame's bins in the streaming engine): pred = G noisy + g2 x_t with G =
 * sigmoid(VFLOOR_LOGIT), as VSIGMOID_OF_NEG of its exponent -VFLOOR_LOGIT written out in the
 * order the shipped models were measured with (through VSIGMOID(VFLOOR_LOGIT) the compiler
 * fuses the products otherwise: `rt`'s output moved by 1 LSB in 24 of 378,081 samples). Every element goes
 * through the same vector code, the tail too (padded), so a value does not depend on where it
 * sits or how many come with it. */
LPI_CLONES static void floor_head_run(const float *restrict a, const float *restrict mf,
                                      const float *restrict cr, const float *restrict ci,
                                      const float *restrict g, const float *restrict xr,
                                      const float *restrict xi, float *restrict pr,
                                      float *restrict pi, int n)
{
    const float lnk = LN_FLOOR_K;
    for (int j = 0; j < n; j += VW) {
        const int m = n - j < VW ? n - j : VW;
        const lpi_vf va = VLDN(a + j, m), vm = VLDN(mf + j, m), yr = VLDN(cr + j, m),
                     yi = VLDN(ci + j, m), gg = VLDN(g + j, m), vxr = VLDN(xr + j, m),
                     vxi = VLDN(xi + j, m);
        const lpi_vf p = yr * yr + yi * yi;
        const lpi_vf lq = 2.0f * (va + lnk + 3.0f * vm - 6.0f);
        const lpi_vf G = VSIGMOID_OF_NEG(lq - 2.0f * VLOG_POS(p + 1e-30f));
        VSTN(pr + j, G * yr + gg * vxr, m);
        VSTN(pi + j, G * yi + gg * vxi, m);
    }
}

/* One row of the mask loss (bin f of item b, m columns), VW columns at a time: with dout,
 * d o1 (and d o3, gated) accumulate kd x the gradient; with acc, the row's sum of wn KL */
LPI_CLONES static void mask_loss_row(int phase, int gate, float a, float wk, float kd,
                                     const float *restrict o1, const float *restrict o3,
                                     const float *restrict mf, const float *restrict cr,
                                     const float *restrict ci, const float *restrict xr,
                                     const float *restrict xi, const float *restrict w,
                                     float *restrict d1, float *restrict d3, int n, double *acc)
{
    const float ia = 1.0f / a;
    const int half = a == 0.5f; /* the usual exponent: |Y|^2 = P^2 */
    lpi_vf sum = VSET(0.0f);
    for (int j = 0; j < n; j += VW) {
        const int m = n - j < VW ? n - j : VW;
        const lpi_vf live = VLIVE(m); /* 1 on the row's lanes, 0 on the padding */
        const lpi_vf yr = VLDN(cr + j, m), yi = VLDN(ci + j, m);
        const lpi_vf sr = VLDN(xr + j, m), si = VLDN(xi + j, m);
        const lpi_vf p = yr * yr + yi * yi, c = sr * sr + si * si;
        const lpi_vf lp = VLOG0(p), lc = VLOG0(c);
        lpi_vf gt, wn;
        if (phase) {
            /* linear gain Re(S Y*) / |Y|^2 = (|S| / |Y|) cos(dphi) with |S| / |Y| =
             * (c / p)^(1 / 2a), cos(dphi) = Re(x0 cond*) / sqrt(c p); the compressed gain is
             * its power a (1 at and above 1, 0 where the phases are opposed) */
            const lpi_vf dot = sr * yr + si * yi;
            const lpi_vf ld = VLOG_POS(VSEL(dot > 1e-30f, dot, VSET(1e-30f)));
            const lpi_vf lg = 0.5f * ia * (lc - lp) + ld - 0.5f * (lc + lp);
            gt = VSEL(lg >= 0.0f, VSET(1.0f), VEXP_NEG(a * lg));
            gt = VSEL(dot > 0.0f, gt, VSET(0.0f));
            /* bins weighted by their linear power |Y|^2 = P^(1/a), over the item's mean */
            wn = (half ? p * p : VEXP_IN_RANGE(VCLAMP(ia * lp, -87.0f, 88.0f))) * wk * live;
        } else {
            gt = VSEL(c >= p, VSET(1.0f), VEXP_NEG(0.5f * (lc - lp)));
            wn = w ? VLDN(w + j, m) : live;
        }
        /* G = sigmoid(y): the floor head's logit, or the gated one */
        const lpi_vf a1 = VLDN(o1 + j, m), f = VLDN(mf + j, m);
        lpi_vf y, dy3 = VSET(0.0f);
        if (gate)
            VGATED_LOGIT(a1, VLDN(o3 + j, m), f, lp, y, dy3);
        else
            y = VFLOOR_LOGIT(a1, f, lp);
        y = VSEL(y > -80.0f, y, VSET(-80.0f));
        if (d1) {
            const lpi_vf e = kd * wn * (VSIGMOID(y) - gt);
            VSTN(d1 + j, VLDN(d1 + j, m) + e, m);
            if (gate) /* d logit / d o3 = dy3 */
                VSTN(d3 + j, VLDN(d3 + j, m) - 0.5f * dy3 * e, m);
        }
        if (acc)
            sum += wn * VBERN_KL(gt, y);
    }
    if (acc)
        *acc += (double)VHSUM(sum);
}

void lpi_head_mask_loss(const limpid_config *cfg, int form, const float *out, const float *cond,
                        const float *ncond, const float *x0, const float *lw, size_t cols,
                        int nb, int Lf, const float *mu, double *isse, float *dout,
                        const float *k)
{
    const int F = limpid_config_feature_channels(cfg) / 2;
    const int phase = form == LIMPID_MASK_FORM_PHASE;
    /* PHASE: linear magnitude = (compressed magnitude)^(1/a), up to the scale beta, which the
     * ratios and the normalised weights do not see */
    const float a = cfg->compress_exp, ia = 1.0f / cfg->compress_exp;
    const int half = a == 0.5f; /* the usual exponent: products and a square root, no powf */
    const int gate = cfg->floor_gate;
    const float *o3 = gate ? out + (size_t)2 * F * cols : NULL;
    float *d3 = gate && dout ? dout + (size_t)2 * F * cols : NULL;
    for (int b = 0; b < nb; b++) {
        if (!(mu[b] > 0.0f))
            continue;
        const size_t n0 = (size_t)b * (size_t)Lf, n1 = n0 + (size_t)Lf;
        float wk = 1.0f; /* PHASE: 1 / the item's mean of |Y|^2 (= p^2) */
        if (phase) {
            double sp = 0.0;
            for (int f = 0; f < F; f++) {
                const size_t re = (size_t)f * cols, im = (size_t)(F + f) * cols;
                for (size_t n = n0; n < n1; n++) {
                    const float p = cond[re + n] * cond[re + n] + cond[im + n] * cond[im + n];
                    sp += (double)(half ? p * p : powf(p, ia)); /* |Y|^2 up to beta */
                }
            }
            wk = (float)((double)F * (double)Lf / (sp + 1e-30));
        }
        const float kd = dout ? -2.0f * k[b] * mu[b] : 0.0f; /* d logit / d o1 = -2 */
        double s = 0.0;
        for (int f = 0; f < F; f++) {
            const size_t re = (size_t)f * cols + n0, im = (size_t)(F + f) * cols + n0;
            mask_loss_row(phase, gate, a, wk, kd, out + re, o3 ? o3 + re : NULL, ncond + im,
                          cond + re, cond + im, x0 + re, x0 + im, lw && !phase ? lw + re : NULL,
                          dout ? dout + re : NULL, d3 ? d3 + re : NULL, Lf, isse ? &s : NULL);
        }
        if (isse)
            isse[b] += (double)mu[b] * s;
    }
}

/* One row of the gate loss (bin f of item b, m columns), as mask_loss_row: the linear clean
 * S and noisy Y (compressed c -> c |c|^kc, kc = 1/a - 1, up to the scale beta, which the
 * ratio st does not see), the gate's target st = |Y - S|^2 / (|Y - S|^2 + |S|^2) */
LPI_CLONES static void gate_loss_row(float kc, float kd, const float *restrict o3,
                                     const float *restrict cr, const float *restrict ci,
                                     const float *restrict xr, const float *restrict xi,
                                     const float *restrict w, float *restrict d3, int n,
                                     double *acc)
{
    lpi_vf sum = VSET(0.0f);
    for (int j = 0; j < n; j += VW) {
        const int m = n - j < VW ? n - j : VW;
        const lpi_vf live = VLIVE(m);
        const lpi_vf yr = VLDN(cr + j, m), yi = VLDN(ci + j, m);
        const lpi_vf sr = VLDN(xr + j, m), si = VLDN(xi + j, m);
        /* |c|^kc = e^(kc ln(c^2) / 2) */
        const lpi_vf ly = 0.5f * kc * VLOG0(yr * yr + yi * yi);
        const lpi_vf ls = 0.5f * kc * VLOG0(sr * sr + si * si);
        const lpi_vf ky = VEXP_IN_RANGE(VCLAMP(ly, -87.0f, 88.0f));
        const lpi_vf ks = VEXP_IN_RANGE(VCLAMP(ls, -87.0f, 88.0f));
        const lpi_vf lsr = ks * sr, lsi = ks * si, nr = ky * yr - lsr, ni = ky * yi - lsi;
        const lpi_vf en = nr * nr + ni * ni, es = lsr * lsr + lsi * lsi;
        const lpi_vf st = en / (en + es + 1e-30f);
        const lpi_vf wn = w ? VLDN(w + j, m) : live;
        const lpi_vf z = VLDN(o3 + j, m) + LPI_GATE_BIAS;
        if (d3) /* d logit / d o3 = 1 */
            VSTN(d3 + j, VLDN(d3 + j, m) + kd * wn * (VSIGMOID(z) - st), m);
        if (acc)
            sum += wn * VBERN_KL(st, z);
    }
    if (acc)
        *acc += (double)VHSUM(sum);
}

void lpi_head_gate_loss(const limpid_config *cfg, const float *out, const float *cond,
                        const float *x0, const float *lw, size_t cols, int nb, int Lf,
                        const float *mu, double *isse, float *dout, const float *k)
{
    const int F = limpid_config_feature_channels(cfg) / 2;
    const float kc = 1.0f / cfg->compress_exp - 1.0f;
    float *d3 = dout ? dout + (size_t)2 * F * cols : NULL;
    const float *o3 = out + (size_t)2 * F * cols;
    for (int b = 0; b < nb; b++) {
        if (!(mu[b] > 0.0f))
            continue;
        const size_t n0 = (size_t)b * (size_t)Lf;
        const float kd = dout ? k[b] * mu[b] : 0.0f;
        double s = 0.0;
        for (int f = 0; f < F; f++) {
            const size_t re = (size_t)f * cols + n0, im = (size_t)(F + f) * cols + n0;
            gate_loss_row(kc, kd, o3 + re, cond + re, cond + im, x0 + re, x0 + im,
                          lw ? lw + re : NULL, d3 ? d3 + re : NULL, Lf, isse ? &s : NULL);
        }
        if (isse)
            isse[b] += (double)mu[b] * s;
    }
}

#define HEAD_CHUNK 256

/* GAIN head, one bin over m columns: pred = (1 + o1) cond + g2 x_t (re and im rows) */
LPI_CLONES static void gain_rows(float *restrict pr, float *restrict pi, const float *restrict o1,
                                 const float *restrict g2, const float *restrict cr,
                                 const float *restrict ci, const float *restrict xr,
                                 const float *restrict xi, size_t m)
{
    for (size_t n = 0; n < m; n++) {
        const float g = 1.0f + o1[n];
        pr[n] = g * cr[n] + g2[n] * xr[n];
        pi[n] = g * ci[n] + g2[n] * xi[n];
    }
}

void lpi_head_forward(const limpid_config *cfg, const float *out, const float *cond,
                      const float *ncond, const float *xt, size_t cols, float *pred)
{
    const int Cx = limpid_config_feature_channels(cfg);
    if (cfg->head == LIMPID_HEAD_DIRECT) {
        memcpy(pred, out, (size_t)Cx * cols * sizeof *pred);
        return;
    }
    const int F = Cx / 2;
    if (cfg->head == LIMPID_HEAD_WIENER_FLOOR && cfg->floor_gate) {
        gated_head_forward(F, out, cond, ncond, xt, cols, pred);
        return;
    }
    if (lpi_head_fusable(cfg)) { /* each bin on its own: the block form over whole rows */
        lpi_head_ctx h = {cfg, cond, ncond, xt, cols, pred};
        lpi_head_block(&h, 0, F, 0, (int)cols, out, out + (size_t)F * cols, (int)cols);
        return;
    }
    /* WIENER_REL: the floor follows the frame's level over all bins (chunks of columns) */
    float lv[HEAD_CHUNK];
    for (size_t n0 = 0; n0 < cols; n0 += HEAD_CHUNK) {
        const size_t m = cols - n0 < HEAD_CHUNK ? cols - n0 : HEAD_CHUNK;
        wiener_levels(cfg, cond, cols, n0, m, lv);
        for (int f = 0; f < F; f++) {
            const size_t re = (size_t)f * cols + n0, im = (size_t)(F + f) * cols + n0;
            const float *o1 = out + re, *g2 = out + im;
            for (size_t n = 0; n < m; n++) {
                float g = wiener_gain(o1[n], WIENER_REL_BIAS, lv[n], cond[re + n], cond[im + n]);
                pred[re + n] = g * cond[re + n] + g2[n] * xt[re + n];
                pred[im + n] = g * cond[im + n] + g2[n] * xt[im + n];
            }
        }
    }
}

int lpi_head_fusable(const limpid_config *cfg)
{
    return cfg->head == LIMPID_HEAD_GAIN || cfg->head == LIMPID_HEAD_WIENER ||
           (cfg->head == LIMPID_HEAD_WIENER_FLOOR && !cfg->floor_gate);
}

void lpi_head_block(void *ctx, int f0, int nf, int n0, int nn, const float *o1, const float *g2,
                    int ld)
{
    const lpi_head_ctx *h = ctx;
    const limpid_head kind = h->cfg->head;
    const int F = limpid_config_feature_channels(h->cfg) / 2;
    if (kind == LIMPID_HEAD_WIENER_FLOOR && nn == 1 && h->cols == 1 && ld == 1) {
        /* one frame (the streaming engine): its bins are contiguous */
        const size_t re = (size_t)f0 + (size_t)n0, im = (size_t)(F + f0) + (size_t)n0;
        floor_head_run(o1, h->ncond + im, h->cond + re, h->cond + im, g2, h->xt + re,
                       h->xt + im, h->pred + re, h->pred + im, nf);
        return;
    }
    for (int r = 0; r < nf; r++) {
        const size_t re = (size_t)(f0 + r) * h->cols + (size_t)n0;
        const size_t im = (size_t)(F + f0 + r) * h->cols + (size_t)n0;
        const float *a = o1 + (size_t)r * ld, *g = g2 + (size_t)r * ld;
        const float *cr = h->cond + re, *ci = h->cond + im, *xr = h->xt + re, *xi = h->xt + im;
        float *pr = h->pred + re, *pi = h->pred + im;
        if (kind == LIMPID_HEAD_GAIN) {
            gain_rows(pr, pi, a, g, cr, ci, xr, xi, (size_t)nn);
            continue;
        }
        if (kind == LIMPID_HEAD_WIENER_FLOOR) {
            floor_head_run(a, h->ncond + im, cr, ci, g, xr, xi, pr, pi, nn);
            continue;
        }
        for (int n = 0; n < nn; n++) {
            const float G = wiener_gain(a[n], WIENER_BIAS, 1.0f, cr[n], ci[n]);
            pr[n] = G * cr[n] + g[n] * xr[n];
            pi[n] = G * ci[n] + g[n] * xi[n];
        }
    }
}

void lpi_head_backward(const limpid_config *cfg, const float *dpred, const float *cond,
                       const float *ncond, const float *xt, const float *out, size_t cols,
                       float *dout)
{
    const int Cx = limpid_config_feature_channels(cfg);
    if (cfg->head == LIMPID_HEAD_DIRECT) {
        memcpy(dout, dpred, (size_t)Cx * cols * sizeof *dout);
        return;
    }
    const int F = Cx / 2;
    const int wiener = cfg->head == LIMPID_HEAD_WIENER || cfg->head == LIMPID_HEAD_WIENER_REL;
    if (cfg->head == LIMPID_HEAD_WIENER_FLOOR) {
        const int gate = cfg->floor_gate;
        for (int f = 0; f < F; f++) {
            const size_t re = (size_t)f * cols, im = (size_t)(F + f) * cols;
            const size_t r3 = (size_t)(2 * F + f) * cols;
            floor_head_bwd_run(gate, out + re, gate ? out + r3 : NULL, ncond + im, cond + re,
                               cond + im, xt + re, xt + im, dpred + re, dpred + im, dout + re,
                               dout + im, gate ? dout + r3 : NULL, (int)cols);
        }
        return;
    }
    const float bias = cfg->head == LIMPID_HEAD_WIENER_REL ? WIENER_REL_BIAS : WIENER_BIAS;
    float lv[HEAD_CHUNK];
    for (size_t n0 = 0; n0 < cols; n0 += HEAD_CHUNK) {
        const size_t m = cols - n0 < HEAD_CHUNK ? cols - n0 : HEAD_CHUNK;
        if (wiener)
            wiener_levels(cfg, cond, cols, n0, m, lv);
        for (int f = 0; f < F; f++) {
            const size_t re = (size_t)f * cols + n0, im = (size_t)(F + f) * cols + n0;
            float *d1 = dout + re, *d2 = dout + im;
            for (size_t n = 0; n < m; n++) {
                float dg = dpred[re + n] * cond[re + n] + dpred[im + n] * cond[im + n];
                if (wiener) { /* dG/do1 = -2 WIENER_POW G (1 - G); the level is data */
                    float g = wiener_gain(out[re + n], bias, lv[n], cond[re + n], cond[im + n]);
                    dg *= -2.0f * WIENER_POW * g * (1.0f - g);
                }
                d1[n] = dg;
                d2[n] = dpred[re + n] * xt[re + n] + dpred[im + n] * xt[im + n];
            }
        }
    }
}

void lpi_feature_scale(const limpid_config *cfg, const lpi_net_layout *L, const float *params,
                       int cls, int invert, float *x, size_t ld, size_t n0, size_t n)
{
    const int Cx = limpid_config_feature_channels(cfg), F = lpi_feature_bins(cfg);
    const size_t at = (size_t)cls * (size_t)F;
    const float *sc = params + L->feat_scale + at;
    const float *mu = L->has_feat_mean ? params + L->feat_mean + at : NULL;
    for (int r = 0; r < Cx; r++) {
        float *row = x + (size_t)r * ld + n0;
        const float k = invert ? 1.0f / sc[r % F] : sc[r % F];
        const float m = mu ? mu[r % F] : 0.0f;
        if (invert)
            for (size_t j = 0; j < n; j++)
                row[j] = (row[j] - m) * k;
        else
            for (size_t j = 0; j < n; j++)
                row[j] = row[j] * k + m;
    }
}

const float *lpi_net_input(const limpid_config *cfg, double abar, const float *xt, size_t n,
                           float *buf)
{
    if (cfg->input_scale == LIMPID_INPUT_SCALE_NONE)
        return xt;
    const float k = (float)sqrt(abar > 0.0 ? abar : 0.0);
    for (size_t i = 0; i < n; i++)
        buf[i] = k * xt[i];
    return buf;
}
