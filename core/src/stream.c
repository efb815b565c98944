/* stream.c - the real-time denoiser: the reverse process of a causal STFT-domain model run
 * frame by frame with a fixed latency (API and contract: limpid.h, "Streaming denoiser").
 *
 * Model-rate engine. Input samples collect in a hop buffer; when it is full (tick k):
 *   1. Y_k = compressed STFT frame k (limpid_stft_push: the frame ending with this hop);
 *      the network's conditioning c_k = relu(cond.w cond(Y_k) + cond.b), once per frame;
 *   2. x = sqrt(abar(t_1)) Y_k + sqrt(1 - abar(t_1)) eps_k, eps_k drawn from the counter-based
 *      RNG keyed by (seed, k), so the noise of a frame does not depend on anything else;
 *   3. for each DDIM step s (t_s = t0 (S - s + 1) / S as lpi_sample_ddim): the network at
 *      column k only (its causal convolutions read their per-layer history rings), the output
 *      head, then the deterministic DDIM update (eta = 0) to t_{s+1}, or x0 after the last;
 *   4. decompress x0 and overlap-add (limpid_stft_pull) into the output hop buffer.
 * Output sample n reads the hop produced at the previous tick, so output n is the denoised
 * input n - n_fft: latency = n_fft model samples for any number of steps (the model must be
 * causal: with lookahead each step would add its lookahead to the delay).
 * The per-layer rings hold h (layer input before the step projection p_s is added), so a
 * change of steps or strength applies from the next frame on with the new projections.
 * Frames before the first (after create/reset) are zero, as the offline network's padding.
 *
 * Host rate != model rate: host samples go through an input resampler to the model rate,
 * through the engine, back through an output resampler, into a FIFO that was pre-filled
 * with the number of zeros that makes its reads never run dry; the latency adds up to a
 * constant (see stream_latency_init).
 *
 * Matrix-vector products use plain loops the compiler vectorises (no BLAS in the real-time
 * path: OpenBLAS may start threads or allocate on first use).
 *
 * Frame batches: without spreading, a call that brings whole hops (pos at a hop boundary)
 * runs up to FB frames at once, stage by stage: every per-frame vector below is an array of
 * FB of them (frame j of the batch at j * stride), the history rings are long enough to hold
 * the batch (R = 2 * max dilation + FB), and each product computes every element with the
 * same sequence of operations whatever the number of frames, so the output does not depend
 * on how calls cut the stream, bit for bit (test_stream). */
#include "internal.h"
#include "resample.h"
#include "vec.h"

#include <assert.h>
#include <stdlib.h>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define LPI_HAVE_MXCSR 1
#endif

#define MAX_STEPS 8
/* Frames run together when a call brings several whole hops (offline use, no spreading): each
 * product then reads its weights once for up to FB frames (see mmt). */
#define FB 8

/* A weight matrix W[rows][K] stored transposed, wt[k][rpad] (rows padded with zeros to a
 * multiple of VW), with its bias padded likewise: y = b + W x is a sum of contiguous rows of
 * wt scaled by x[k], the outputs held in vector registers. */
typedef struct tmat {
    int rows, rpad, K;
    float *wt;   /* [K][rpad] */
    float *b;    /* [rpad] or NULL */
} tmat;

struct limpid_stream {
    const limpid_model *m;
    const lpi_net_layout *L;
    const limpid_config *cfg;
    int C, N, Cx, Cc, Co, F, hop, n_fft;
    int max_steps, steps, strength_set_steps;
    float strength;
    int want_steps;      /* pending settings (applied at the next tick) */
    float want_strength;
    uint64_t seed;
    int64_t frame;       /* frames done since create/reset */
    lpi_schedule sched;
    limpid_stft *stft;

    /* model-rate hop buffers: the hop being collected and the one playing [hop]; the input
     * hops of the frames in flight and their output hops [FB][hop] */
    float *inbuf, *in_work, *out_play, *out_next;
    int pos;
    int spread;          /* spread each frame's stages over the next hop */
    int stage;           /* next stage of the frame in flight, -1 when none */
    int stage_total;     /* its number of stages */
    int nb;              /* frames in flight (1..FB; 1 when spreading or sample by sample) */

    /* per-frame vectors, FB of each (frame j at j * its stride) */
    int sx, snc, so_, sc, scol, sa; /* strides: Cx, ncond rows, Cop, Cp, 4C, 2Cp */
    float *Y;      /* [Cx] compressed noisy spectrum of the frame */
    float *ncond;  /* [Cc (+ F)] the network's view of Y (with a front end: its rows too) */
    lpi_front_ws *front; /* the per-bin front end (one frame), else NULL */
    float *fwin;   /* [2F][front frames] its window of past features */
    float *ftrack; /* [3F] LOGPOW_FLOOR's noise-floor tracks (lpi_cond_features' state; one) */
    float *c;      /* [C] conditioning projection */
    float *x;      /* [Cx] the current step's x_t */
    float *xin;    /* [Cx] the network's input (limpid_config.input_scale) */
    float *out;    /* [Co] network output */
    float *pred;   /* [Cx] head output */
    float *x0, *eh;/* [Cx] */
    float *h;      /* [C] residual stream */
    float *skip;   /* [C] */
    float *col;    /* [4C] taps + c */
    float *a;      /* [2C] */
    float *r;      /* [2C] */
    float *s;      /* [C] */
    float *bsum;   /* [C] sum of the skip halves of out.b (one) */
    float *beff;   /* [C] skip.b + skip.w bsum / sqrt(N) (one) */
    float *emb;    /* [E + 2H] scratch of the step embedding (one) */
    /* transposed weights (one allocation, mats_mem) */
    void *mats_mem;
    tmat m_in, m_cond, m_skip, m_final;
    tmat *m_dil;   /* [N]: [dil.w | cnd.w] with K = 3C (+C); outputs tanh rows then sigmoid
                      rows, each half padded to Cp */
    tmat *m_out;   /* [N]: out.w, residual half then skip half, each padded to Cp */
    float *outb;   /* [N][Cp] residual half of out.b, padded */
    int Cp;
    /* per step (lane) s < max_steps */
    float *proj;   /* [max_steps][N][C] step projections p_s */
    double t_step[MAX_STEPS + 1];
    int proj_stale[MAX_STEPS]; /* lane s needs lane_projection before its next use */
    float *hist;   /* [max_steps][N][R][C] history rings of h per layer */
    int R;         /* ring length: 2 * max dilation + 1 */

    /* host-rate path (NULL when the rates are equal) */
    lpi_resampler *rs_in, *rs_out;
    float *rs_tmp;   /* [HOST_CHUNK * max_out of the input resampler] model-rate samples */
    float *fifo;     /* [fifo_len] output FIFO at the host rate */
    int fifo_len, fifo_r, fifo_w, fifo_fill, fifo_prefill;
    int latency;     /* host samples */
};

void limpid_stream_opts_default(limpid_stream_opts *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->sample_rate = 48000;
    o->max_steps = 4;
    o->steps = 4;
    o->strength = 1.0f;
    o->seed = 0;
}

/* ------------------------------------------------------------------------ */
/* Kernels */

/* One block of a transposed product: NH <= 8 half vectors (8 rows each, the native width of
 * AVX2) from r0, NC <= 4 columns (frames). Every element is 0, plus w[k] x[k] for k = 0, 1,
 * ... in order, plus the bias: the same operations for any NH and NC, so the blocking never
 * changes a result. NH and NC are constants at every call (always inlined): the unused
 * accumulators and branches vanish and the named ones stay in registers (GCC spills arrays of
 * vectors, and splits 16-wide ones through memory on AVX2). */
typedef float lpi_v8 __attribute__((vector_size(32)));
#define V8LD(p) ({ lpi_v8 v_; memcpy(&v_, (p), sizeof v_); v_; })
#define V8SET(s) ((lpi_v8){0} + (float)(s))
#define MM_ACCS(h) lpi_v8 a##h##0 = V8SET(0.0f), a##h##1 = a##h##0, a##h##2 = a##h##0, a##h##3 = a##h##0
#define MM_FMA(h, c) \
    if (NH > h && NC > c) \
        a##h##c += wv##h * xv##c
#define MM_ROW(h) MM_FMA(h, 0); MM_FMA(h, 1); MM_FMA(h, 2); MM_FMA(h, 3)
#define MM_STORE(h, c)                                                                   \
    if (NH > h && NC > c) {                                                              \
        if (M->b)                                                                        \
            a##h##c += V8LD(M->b + r0 + h * 8);                                          \
        memcpy(Y + (size_t)(c) * ldy + r0 + h * 8, &a##h##c, sizeof a##h##c);            \
    }
static inline __attribute__((always_inline)) void mm_block(const tmat *M, int r0, int NH, int NC,
                                                           const float *restrict X, size_t ldx,
                                                           float *restrict Y, size_t ldy)
{
    const int rp = M->rpad, K = M->K;
    MM_ACCS(0);
    MM_ACCS(1);
    MM_ACCS(2);
    MM_ACCS(3);
    MM_ACCS(4);
    MM_ACCS(5);
    MM_ACCS(6);
    MM_ACCS(7);
    const float *w = M->wt + r0;
    const float *x0 = X, *x1 = X + ldx, *x2 = X + 2 * ldx, *x3 = X + 3 * ldx;
    for (int k = 0; k < K; k++, w += rp) {
        const lpi_v8 wv0 = V8LD(w);
        const lpi_v8 wv1 = NH > 1 ? V8LD(w + 1 * 8) : wv0;
        const lpi_v8 wv2 = NH > 2 ? V8LD(w + 2 * 8) : wv0;
        const lpi_v8 wv3 = NH > 3 ? V8LD(w + 3 * 8) : wv0;
        const lpi_v8 wv4 = NH > 4 ? V8LD(w + 4 * 8) : wv0;
        const lpi_v8 wv5 = NH > 5 ? V8LD(w + 5 * 8) : wv0;
        const lpi_v8 wv6 = NH > 6 ? V8LD(w + 6 * 8) : wv0;
        const lpi_v8 wv7 = NH > 7 ? V8LD(w + 7 * 8) : wv0;
        const lpi_v8 xv0 = V8SET(x0[k]);
        const lpi_v8 xv1 = NC > 1 ? V8SET(x1[k]) : xv0;
        const lpi_v8 xv2 = NC > 2 ? V8SET(x2[k]) : xv0;
        const lpi_v8 xv3 = NC > 3 ? V8SET(x3[k]) : xv0;
        MM_ROW(0);
        MM_ROW(1);
        MM_ROW(2);
        MM_ROW(3);
        MM_ROW(4);
        MM_ROW(5);
        MM_ROW(6);
        MM_ROW(7);
    }
    MM_STORE(0, 0) MM_STORE(0, 1) MM_STORE(0, 2) MM_STORE(0, 3)
    MM_STORE(1, 0) MM_STORE(1, 1) MM_STORE(1, 2) MM_STORE(1, 3)
    MM_STORE(2, 0) MM_STORE(2, 1) MM_STORE(2, 2) MM_STORE(2, 3)
    MM_STORE(3, 0) MM_STORE(3, 1) MM_STORE(3, 2) MM_STORE(3, 3)
    MM_STORE(4, 0) MM_STORE(4, 1) MM_STORE(4, 2) MM_STORE(4, 3)
    MM_STORE(5, 0) MM_STORE(5, 1) MM_STORE(5, 2) MM_STORE(5, 3)
    MM_STORE(6, 0) MM_STORE(6, 1) MM_STORE(6, 2) MM_STORE(6, 3)
    MM_STORE(7, 0) MM_STORE(7, 1) MM_STORE(7, 2) MM_STORE(7, 3)
}
#undef MM_ACCS
#undef MM_FMA
#undef MM_ROW
#undef MM_STORE

/* Y[j][0:rpad] = b + W X[j] for the n frames j < n (columns ldx / ldy apart), W transposed
 * (tmat). Four frames at a time share each weight load; one frame alone (the real-time path)
 * runs eight half vectors at a time. */
LPI_CLONES static void mmt(const tmat *M, const float *restrict X, size_t ldx, float *restrict Y,
                           size_t ldy, int n)
{
    const int nh = M->rpad / 8; /* even: rpad is a multiple of VW = 16 */
    int j = 0;
    for (; j + 4 <= n; j += 4)
        for (int h = 0; h < nh; h += 2)
            mm_block(M, h * 8, 2, 4, X + (size_t)j * ldx, ldx, Y + (size_t)j * ldy, ldy);
    if (n - j >= 2) {
        int h = 0;
        for (; h + 4 <= nh; h += 4)
            mm_block(M, h * 8, 4, 2, X + (size_t)j * ldx, ldx, Y + (size_t)j * ldy, ldy);
        if (h < nh)
            mm_block(M, h * 8, 2, 2, X + (size_t)j * ldx, ldx, Y + (size_t)j * ldy, ldy);
        j += 2;
    }
    if (j < n) {
        const float *x = X + (size_t)j * ldx;
        float *y = Y + (size_t)j * ldy;
        int h = 0;
        for (; h + 8 <= nh; h += 8)
            mm_block(M, h * 8, 8, 1, x, ldx, y, ldy);
        switch (nh - h) {
        case 6: mm_block(M, h * 8, 6, 1, x, ldx, y, ldy); break;
        case 4: mm_block(M, h * 8, 4, 1, x, ldx, y, ldy); break;
        case 2: mm_block(M, h * 8, 2, 1, x, ldx, y, ldy); break;
        default: break;
        }
    }
}

/* z[0:Cp] = tanh(a[0:Cp]) * sigmoid(a[Cp:2Cp]) (biases already in a), the polynomial gate
 * of the batch network. */
LPI_CLONES static void gate(float *restrict a, int Cp)
{
    for (int j = 0; j < Cp; j += VW) {
        GATE_BODY(a + j, a + Cp + j, 0.0f, 0.0f);
        VST(a + j, m_ * r_);
    }
}

/* Scalar matrix-vector product for the step embedding (settings changes only). */
static void mv(const float *W, int ldw, int rows, int K, const float *x, const float *b,
               float *y)
{
    for (int o = 0; o < rows; o++) {
        const float *w = W + (size_t)o * ldw;
        float sum = 0.0f;
        for (int k = 0; k < K; k++)
            sum += w[k] * x[k];
        y[o] = (b ? b[o] : 0.0f) + sum;
    }
}

static inline float relu_f(float v) { return v > 0.0f ? v : 0.0f; }
static float silu_f(float u) { return u / (1.0f + expf(-u)); }

/* ------------------------------------------------------------------------ */
/* Settings */

/* Step projections p_s[i][c] = emb.w_i e(t_s) + emb.b_i for every lane: the same equations as
 * the network's step embedding (internal.h), with loops instead of BLAS. */
static void lane_projection(limpid_stream *st, double t, float *p)
{
    const lpi_net_layout *L = st->L;
    const float *P = st->m->params;
    const int E = L->E, H = L->H, half = E / 2, C = L->C;
    float *code = st->emb, *e1 = st->emb + E, *em = st->emb + E + H;
    for (int j = 0; j < half; j++) {
        double f = pow(10.0, 4.0 * j / (double)(half - 1));
        double arg = (double)(float)t * f;
        code[j] = (float)sin(arg);
        code[half + j] = (float)cos(arg);
    }
    mv(P + L->fc1_w, E, H, E, code, P + L->fc1_b, e1);
    for (int j = 0; j < H; j++)
        e1[j] = silu_f(e1[j]);
    mv(P + L->fc2_w, H, H, H, e1, P + L->fc2_b, em);
    for (int j = 0; j < H; j++)
        em[j] = silu_f(em[j]);
    for (int i = 0; i < L->N; i++)
        mv(P + L->layer[i].emb_w, H, C, H, em, P + L->layer[i].emb_b, p + (size_t)i * C);
}

static void apply_settings(limpid_stream *st)
{
    int S = st->want_steps;
    if (S < 1)
        S = 1;
    if (S > st->max_steps)
        S = st->max_steps;
    float g = st->want_strength;
    if (!(g > 0.0f))
        g = 1e-3f;
    if (g > 1.0f)
        g = 1.0f;
    if (S == st->steps && g == st->strength)
        return;
    st->steps = S;
    st->strength = g;
    const int T = st->cfg->steps_T;
    double t0 = (double)g * T; /* as limpid_denoise: start*T, at least 1e-3 */
    if (t0 <= 0.0)
        t0 = 1e-3;
    for (int s = 0; s <= S; s++)
        st->t_step[s] = t0 * (double)(S - s) / (double)S;
    /* each lane's projection is recomputed in its own first stage (proj_stale), so a change
     * of settings costs no more in one call than a lane's stage does */
    for (int s = 0; s < S; s++)
        st->proj_stale[s] = 1;
}

void limpid_stream_set_steps(limpid_stream *st, int steps)
{
    if (st)
        st->want_steps = steps;
}

void limpid_stream_set_strength(limpid_stream *st, float strength)
{
    if (st)
        st->want_strength = strength;
}

/* ------------------------------------------------------------------------ */
/* One frame */

/* The work of one frame is a sequence of stages (so that it can be spread over a hop):
 *   0                      STFT frame, conditioning, initial x (apply settings first)
 *   1 + s*(N+2)            lane s: input projection
 *   1 + s*(N+2) + 1 + i    lane s: residual layer i (i < N)
 *   1 + s*(N+2) + N + 1    lane s: skip and output layers, head, DDIM update
 *   1 + S*(N+2)            decompress, overlap-add into the output hop
 * n_stages(S) = 2 + S*(N+2). The h history of layer i of lane s lives in the ring
 * hist[s][i][R][C] at slot frame % R. Vectors are padded to Cp. */
static int n_stages(const limpid_stream *st) { return 2 + st->steps * (st->N + 2); }

static void stage_layer(limpid_stream *st, int s, int i)
{
    const int C = st->C, Cp = st->Cp, N = st->N, R = st->R, nb = st->nb;
    const int d = st->L->layer[i].dilation;
    const float *p = st->proj + ((size_t)s * N + (size_t)i) * C;
    float *ring = st->hist + ((size_t)s * N + (size_t)i) * (size_t)R * C;
    /* every frame's h first: a tap may read a frame of the same batch (R >= 2 d + nb) */
    for (int j = 0; j < nb; j++)
        memcpy(ring + (size_t)((st->frame + j) % R) * C, st->h + (size_t)j * st->sc,
               (size_t)C * sizeof(float));
    for (int j = 0; j < nb; j++) {
        const int64_t k = st->frame + j;
        float *col = st->col + (size_t)j * st->scol;
        /* taps n - 2d, n - d, n (causal): y = h + p, zero before the first frame */
        for (int tap = 0; tap < 3; tap++) {
            int64_t f = k - (int64_t)(2 - tap) * d;
            float *dst = col + (size_t)tap * C;
            if (f < 0) {
                memset(dst, 0, (size_t)C * sizeof(float));
            } else {
                const float *src = ring + (size_t)(f % R) * C;
                for (int c = 0; c < C; c++)
                    dst[c] = src[c] + p[c];
            }
        }
    }
    /* col[3C:4C] holds c (set once per frame) */
    mmt(&st->m_dil[i], st->col, (size_t)st->scol, st->a, (size_t)st->sa, nb);
    for (int j = 0; j < nb; j++)
        gate(st->a + (size_t)j * st->sa, Cp);
    mmt(&st->m_out[i], st->a, (size_t)st->sa, st->r, (size_t)st->sa, nb);
    const float *ob = st->outb + (size_t)i * Cp;
    for (int j = 0; j < nb; j++) {
        float *h = st->h + (size_t)j * st->sc, *sk = st->skip + (size_t)j * st->sc;
        const float *r = st->r + (size_t)j * st->sa;
        for (int c = 0; c < Cp; c++) {
            h[c] = (h[c] + r[c] + ob[c]) * 0.70710678118654752f;
            sk[c] += r[Cp + c];
        }
    }
}

static void stage_begin(limpid_stream *st)
{
    const limpid_config *cfg = st->cfg;
    const int Cx = st->Cx, C = st->C, nb = st->nb;
    apply_settings(st);
    const float *nc = NULL; /* the cond projection's input: ncond, or Y itself */
    size_t ldc = 0;
    for (int j = 0; j < nb; j++) {
        float *Y = st->Y + (size_t)j * st->sx;
        limpid_stft_push(st->stft, st->in_work + (size_t)j * st->hop, Y);
        limpid_spec_compress(Y, 1, st->F, cfg->compress_exp, cfg->compress_scale);
        if (st->Cc > 0) {
            float *ncj = st->ncond + (size_t)j * st->snc;
            const float *v = lpi_cond_features(cfg, Y, 1, 1, 0, st->ftrack, ncj);
            if (st->front)
                lpi_front_frame(st->L, st->m->params, st->front, st->fwin, ncj);
            nc = v == ncj ? st->ncond : st->Y; /* the same for every frame */
            ldc = v == ncj ? (size_t)st->snc : (size_t)st->sx;
        }
        /* x_{t_1} from the observation and this frame's noise */
        float *eh = st->eh + (size_t)j * st->sx;
        lpi_rng rng = lpi_rng_make(st->seed, (uint64_t)(st->frame + j), LPI_STREAM_NOISE_TAG);
        lpi_rng_normal_fill(&rng, eh, (size_t)Cx);
        lpi_q_sample(lpi_schedule_abar(&st->sched, st->t_step[0]), Y, eh,
                     st->x + (size_t)j * st->sx, (size_t)Cx);
    }
    if (nc) {
        mmt(&st->m_cond, nc, ldc, st->c, (size_t)st->sc, nb);
        for (int j = 0; j < nb; j++) /* into the taps' tail: col[3C:4C] */
            for (int c = 0; c < C; c++)
                st->col[(size_t)j * st->scol + 3 * C + c] = relu_f(st->c[(size_t)j * st->sc + c]);
    }
}

static void stage_lane_end(limpid_stream *st, int s)
{
    const limpid_config *cfg = st->cfg;
    const int Cx = st->Cx, Cp = st->Cp, nb = st->nb;
    const float inv_sqrt_n = (float)(1.0 / sqrt((double)st->N));
    for (int j = 0; j < nb; j++)
        for (int c = 0; c < Cp; c++)
            st->skip[(size_t)j * st->sc + c] *= inv_sqrt_n;
    mmt(&st->m_skip, st->skip, (size_t)st->sc, st->s, (size_t)st->sc, nb);
    for (int j = 0; j < nb; j++)
        for (int c = 0; c < Cp; c++)
            st->s[(size_t)j * st->sc + c] = relu_f(st->s[(size_t)j * st->sc + c]);
    mmt(&st->m_final, st->s, (size_t)st->sc, st->out, (size_t)st->so_, nb);
    const double ab = lpi_schedule_abar(&st->sched, st->t_step[s]);
    const int last = s == st->steps - 1;
    const double ab_next = last ? 0.0 : lpi_schedule_abar(&st->sched, st->t_step[s + 1]);
    const double c_x0 = sqrt(ab_next), dir2 = 1.0 - ab_next;
    const double c_eps = dir2 > 0.0 ? sqrt(dir2) : 0.0;
    for (int j = 0; j < nb; j++) {
        float *out = st->out + (size_t)j * st->so_, *ncond = st->ncond + (size_t)j * st->snc;
        float *x = st->x + (size_t)j * st->sx, *pred = st->pred + (size_t)j * st->sx;
        float *x0 = st->x0 + (size_t)j * st->sx, *eh = st->eh + (size_t)j * st->sx;
        lpi_front_add(st->L, out, 1, ncond, 1, 1);
        lpi_head_forward(cfg, out, st->Y + (size_t)j * st->sx, ncond, x, 1, pred);
        lpi_x0_eps_from_pred(cfg->target, ab, x, pred, x0, eh, (size_t)Cx);
        if (last)
            continue;
        for (int i = 0; i < Cx; i++)
            x[i] = (float)(c_x0 * x0[i] + c_eps * eh[i]);
    }
}

/* Lanes beyond the current step count are not run: when the count goes up again their
 * history is stale and refills within one receptive field (61 frames for rt). */
static void stage_end(limpid_stream *st)
{
    const limpid_config *cfg = st->cfg;
    for (int j = 0; j < st->nb; j++) {
        float *x0 = st->x0 + (size_t)j * st->sx;
        for (int i = 0; i < st->Cx; i++)
            if (!isfinite(x0[i]))
                x0[i] = 0.0f;
        limpid_spec_decompress(x0, 1, st->F, cfg->compress_exp, cfg->compress_scale);
        limpid_stft_pull(st->stft, x0, st->out_next + (size_t)j * st->hop);
    }
    st->frame += st->nb;
}

static void run_stage(limpid_stream *st, int j)
{
    const int N = st->N, per = N + 2, nb = st->nb;
    if (j == 0) {
        stage_begin(st);
        return;
    }
    if (j == 1 + st->steps * per) {
        stage_end(st);
        return;
    }
    const int s = (j - 1) / per, r = (j - 1) % per;
    if (r == 0) {
        if (st->proj_stale[s]) {
            lane_projection(st, st->t_step[s], st->proj + (size_t)s * N * st->C);
            st->proj_stale[s] = 0;
        }
        const double ab = lpi_schedule_abar(&st->sched, st->t_step[s]);
        const float *in = NULL;
        for (int f = 0; f < nb; f++) {
            float *xin = st->xin + (size_t)f * st->sx;
            const float *v = lpi_net_input(st->cfg, ab, st->x + (size_t)f * st->sx,
                                           (size_t)st->Cx, xin);
            in = v == xin ? st->xin : st->x; /* the same for every frame */
        }
        mmt(&st->m_in, in, (size_t)st->sx, st->h, (size_t)st->sc, nb);
        for (int c = 0; c < nb * st->sc; c++)
            st->h[c] = relu_f(st->h[c]);
        memset(st->skip, 0, (size_t)nb * st->sc * sizeof(float));
    } else if (r <= N) {
        stage_layer(st, s, r - 1);
    } else {
        stage_lane_end(st, s);
    }
}

/* Finish the frame in flight (its remaining stages). */
static void finish_frame(limpid_stream *st)
{
    while (st->stage >= 0 && st->stage < st->stage_total)
        run_stage(st, st->stage++);
    st->stage = -1;
}

/* One model-rate sample in, one out.
 * Without spreading: at the end of hop k the whole of frame k runs; its output hop plays
 * during hop k+1 (latency n_fft). With spreading, frame k's stages run during hop k+1, a
 * share proportional to the samples seen (stage j is done once j < ceil(T * pos / hop)),
 * and its output plays during hop k+2 (latency n_fft + hop). Either way the work depends
 * only on the sample position, never on how the calls cut the stream. */
/* Put nb frames in flight (their input hops in in_work): stage 0, which applies pending
 * settings, then the count of stages under those settings. */
static void start_frames(limpid_stream *st, int nb)
{
    st->nb = nb;
    st->stage = 0;
    st->stage_total = 0; /* settings are applied in stage 0: count after it */
    run_stage(st, st->stage++);
    st->stage_total = n_stages(st);
}

static inline float engine_sample(limpid_stream *st, float v)
{
    st->inbuf[st->pos] = isfinite(v) ? v : 0.0f;
    float y = st->out_play[st->pos];
    st->pos++;
    if (st->spread && st->stage >= 0) {
        int want = (int)(((int64_t)st->stage_total * st->pos + st->hop - 1) / st->hop);
        while (st->stage < want)
            run_stage(st, st->stage++);
    }
    if (st->pos == st->hop) {
        const size_t hb = (size_t)st->hop * sizeof(float);
        st->pos = 0;
        if (st->spread) {
            finish_frame(st); /* (already done by the rule above) */
            memcpy(st->out_play, st->out_next, hb); /* the finished frame plays next */
        }
        memcpy(st->in_work, st->inbuf, hb); /* this hop is the next frame's input */
        start_frames(st, 1);
        if (!st->spread) {
            finish_frame(st);
            memcpy(st->out_play, st->out_next, hb);
        }
    }
    return y;
}

/* nb whole hops at a hop boundary, without spreading: what nb * hop calls of engine_sample
 * do, with the nb frames run as one batch. in and out may be the same buffer. */
static void engine_frames(limpid_stream *st, const float *in, float *out, int nb)
{
    const int hop = st->hop;
    const size_t hb = (size_t)hop * sizeof(float);
    for (int i = 0; i < nb * hop; i++)
        st->in_work[i] = isfinite(in[i]) ? in[i] : 0.0f;
    start_frames(st, nb);
    finish_frame(st);
    /* hop j plays frame j - 1: the one before the batch, then the batch's */
    memcpy(out, st->out_play, hb);
    memcpy(out + hop, st->out_next, (size_t)(nb - 1) * hb);
    memcpy(st->out_play, st->out_next + (size_t)(nb - 1) * hop, hb);
}

/* Model-rate samples through the engine: whole hops at a boundary in batches of up to FB
 * frames, the rest sample by sample. */
static void engine_run(limpid_stream *st, const float *in, float *out, size_t n)
{
    const size_t hop = (size_t)st->hop;
    size_t i = 0;
    while (i < n) {
        if (!st->spread && st->pos == 0 && n - i >= hop) {
            size_t k = (n - i) / hop;
            int nb = k > FB ? FB : (int)k;
            engine_frames(st, in + i, out + i, nb);
            i += (size_t)nb * hop;
        } else {
            out[i] = engine_sample(st, in[i]);
            i++;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Host-rate wrapper */

static inline void fifo_put(limpid_stream *st, float v)
{
    /* cannot overflow: the FIFO is sized for the prefill, the burst bound and a chunk */
    st->fifo[st->fifo_w] = v;
    if (++st->fifo_w == st->fifo_len)
        st->fifo_w = 0;
    st->fifo_fill++;
}

static inline float fifo_get(limpid_stream *st)
{
    if (st->fifo_fill == 0)
        return 0.0f; /* never happens with a correct prefill; silence rather than garbage */
    float v = st->fifo[st->fifo_r];
    if (++st->fifo_r == st->fifo_len)
        st->fifo_r = 0;
    st->fifo_fill--;
    return v;
}

/* Host samples of one call go through in chunks of up to HOST_CHUNK: all of a chunk through
 * the input resampler, the engine (so whole hops run as frame batches), the output resampler
 * and into the FIFO, then the chunk's outputs are read. The FIFO receives the same samples
 * in the same order as sample by sample, only earlier, so reads see the same values (it is
 * sized for the chunk). */
#define HOST_CHUNK 4096
static void host_chunk(limpid_stream *st, const float *in, float *out, size_t m)
{
    size_t nm = 0;
    for (size_t t = 0; t < m; t++)
        nm += (size_t)lpi_resampler_push(st->rs_in, isfinite(in[t]) ? in[t] : 0.0f,
                                         st->rs_tmp + nm);
    engine_run(st, st->rs_tmp, st->rs_tmp, nm);
    for (size_t t = 0; t < nm; t++) {
        float tmp2[64];
        int n2 = lpi_resampler_push(st->rs_out, st->rs_tmp[t], tmp2);
        for (int j = 0; j < n2; j++)
            fifo_put(st, tmp2[j]);
    }
    for (size_t t = 0; t < m; t++)
        out[t] = fifo_get(st);
}

void limpid_stream_process(limpid_stream *st, const float *in, float *out, size_t n)
{
    if (!st || (!in && n) || (!out && n))
        return;
#ifdef LPI_HAVE_MXCSR
    const unsigned csr = _mm_getcsr();
    _mm_setcsr(csr | 0x8040); /* flush denormals to zero, denormal inputs as zero */
#endif
    if (!st->rs_in) {
        engine_run(st, in, out, n);
    } else {
        for (size_t i = 0; i < n; i += HOST_CHUNK)
            host_chunk(st, in + i, out + i, n - i < HOST_CHUNK ? n - i : HOST_CHUNK);
    }
#ifdef LPI_HAVE_MXCSR
    _mm_setcsr(csr);
#endif
}

void limpid_stream_reset(limpid_stream *st)
{
    if (!st)
        return;
    limpid_stft_reset(st->stft);
    memset(st->inbuf, 0, (size_t)st->hop * sizeof(float));
    memset(st->in_work, 0, (size_t)st->hop * sizeof(float));
    memset(st->out_play, 0, (size_t)st->hop * sizeof(float));
    memset(st->out_next, 0, (size_t)st->hop * sizeof(float));
    st->stage = -1;
    st->stage_total = 0;
    memset(st->hist, 0, (size_t)st->max_steps * st->N * st->R * st->C * sizeof(float));
    st->pos = 0;
    st->frame = 0;
    for (int f = 0; f < st->F; f++)
        st->ftrack[f] = -1.0f; /* the floor track starts at the next frame */
    if (st->fwin)
        memset(st->fwin, 0, (size_t)2 * st->F * st->L->fnt * sizeof(float));
    if (st->rs_in) {
        lpi_resampler_reset(st->rs_in);
        lpi_resampler_reset(st->rs_out);
        st->fifo_r = st->fifo_w = st->fifo_fill = 0;
        for (int i = 0; i < st->fifo_prefill; i++)
            fifo_put(st, 0.0f);
    }
}

int limpid_stream_latency(const limpid_stream *st)
{
    return st ? st->latency : 0;
}

/* Host-rate latency and FIFO prefill, by simulation of the sample counts: feed host samples
 * and count what reaches the FIFO; the prefill is the largest shortfall of produced versus
 * read samples (so reads never run dry), and the latency is the prefill plus the delays of
 * the two resamplers and the engine, in host samples. Runs at create time only. */
static limpid_status stream_latency_init(limpid_stream *st, int host_rate)
{
    const int mr = st->cfg->sample_rate;
    /* model samples; spreading plays each frame one hop later */
    const int eng = st->n_fft + (st->spread ? st->hop : 0);
    const double engine = (double)eng;
    if (!st->rs_in) {
        st->latency = eng;
        return LIMPID_OK;
    }
    /* the count pattern repeats with the rational period of the two rates; a few seconds
     * cover it for any pair we accept, and the shortfall settles in the first period */
    long produced = 0, shortfall = 0;
    const long sim = 4L * host_rate + 4096;
    float tmp[64], tmp2[64];
    for (long i = 0; i < sim; i++) {
        int n1 = lpi_resampler_push(st->rs_in, 0.0f, tmp);
        for (int a = 0; a < n1; a++)
            produced += lpi_resampler_push(st->rs_out, 0.0f, tmp2);
        long need = i + 1; /* reads so far */
        if (need - produced > shortfall)
            shortfall = need - produced;
    }
    lpi_resampler_reset(st->rs_in);
    lpi_resampler_reset(st->rs_out);
    st->fifo_prefill = (int)shortfall;
    /* a chunk (host_chunk) adds up to HOST_CHUNK samples before its reads */
    st->fifo_len = st->fifo_prefill + 2 * (int)(2.0 * host_rate / mr + 8) + 256 + HOST_CHUNK;
    st->fifo = calloc((size_t)st->fifo_len, sizeof(float));
    if (!st->fifo)
        return LIMPID_ERR_NOMEM;
    double d = lpi_resampler_delay(st->rs_in) * (double)host_rate / mr + engine * host_rate / mr +
               lpi_resampler_delay(st->rs_out) + st->fifo_prefill;
    st->latency = (int)floor(d + 0.5);
    return LIMPID_OK;
}

void limpid_stream_destroy(limpid_stream *st)
{
    if (!st)
        return;
    limpid_stft_destroy(st->stft);
    lpi_schedule_free(&st->sched);
    lpi_resampler_destroy(st->rs_in);
    lpi_resampler_destroy(st->rs_out);
    free(st->fifo);
    free(st->rs_tmp);
    free(st->inbuf);
    free(st->in_work);
    free(st->out_play);
    free(st->out_next);
    free(st->Y);
    lpi_front_ws_destroy(st->front);
    free(st->fwin);
    free(st->hist);
    free(st->proj);
    free(st->mats_mem);
    free(st->m_dil);
    free(st->m_out);
    free(st);
}

/* Carve a matrix (and its bias) out of q; returns the next free float. */
static float *tmat_take(tmat *M, int rows, int rpad, int K, int with_b, float *q)
{
    M->rows = rows;
    M->rpad = rpad;
    M->K = K;
    M->wt = q;
    q += (size_t)K * rpad;
    M->b = with_b ? q : NULL;
    return with_b ? q + rpad : q;
}

/* wt[kofs + k][row(o)] = W[o][k] for W row-major [rows][ld], k < ncols; with half = C > 0
 * rows C.. go to Cp.. (the two halves of a [2C] output each padded to Cp). */
static void tmat_fill(tmat *M, const float *W, int ld, int ncols, int kofs, int half, int Cp)
{
    for (int o = 0; o < M->rows; o++) {
        int row = (half && o >= half) ? Cp + o - half : o;
        for (int k = 0; k < ncols; k++)
            M->wt[(size_t)(kofs + k) * M->rpad + row] = W[(size_t)o * ld + k];
    }
}

/* Transposed, padded copies of the weights (see tmat). */
static limpid_status build_mats(limpid_stream *st)
{
    const lpi_net_layout *L = st->L;
    const float *P = st->m->params;
    const int C = st->C, Cp = st->Cp, N = st->N, Cc = st->Cc, Cx = st->Cx;
    const int Cop = (st->Co + VW - 1) / VW * VW, Kd = 3 * C + (Cc > 0 ? C : 0);
    size_t total = (size_t)Cx * Cp + Cp + (size_t)Cc * Cp + Cp +
                   (size_t)N * ((size_t)Kd * 2 * Cp + 2 * Cp + (size_t)C * 2 * Cp + Cp) +
                   (size_t)C * Cp + Cp + (size_t)C * Cop + Cop;
    st->mats_mem = calloc(total, sizeof(float));
    st->m_dil = calloc((size_t)N, sizeof *st->m_dil);
    st->m_out = calloc((size_t)N, sizeof *st->m_out);
    if (!st->mats_mem || !st->m_dil || !st->m_out)
        return LIMPID_ERR_NOMEM;
    float *q = st->mats_mem;
#define TM(M, R_, RP_, K_, WITH_B) (q = tmat_take(&(M), (R_), (RP_), (K_), (WITH_B), q))
    /* wt[k][row(o)] = W[o][k] for W row-major [rows][ld] at P + off */
#define FILL(M, off, ld, ncols, kofs, half) \
    tmat_fill(&(M), P + (off), (ld), (ncols), (kofs), (half) ? C : 0, Cp)
#define HALF(o) ((o) < C ? (o) : Cp + (o) - C)
    TM(st->m_in, C, Cp, Cx, 1);
    FILL(st->m_in, L->in_w, Cx, Cx, 0, 0);
    for (int o = 0; o < C; o++)
        st->m_in.b[o] = P[L->in_b + o];
    if (Cc > 0) {
        TM(st->m_cond, C, Cp, Cc, 1);
        if (L->Fs > 0) { /* cond_snr: the level-above-floor rows folded into the weights */
            float *w = malloc((size_t)C * Cc * sizeof *w);
            if (!w)
                return LIMPID_ERR_NOMEM;
            lpi_net_snr_fold(L, P, w);
            tmat_fill(&st->m_cond, w, Cc, Cc, 0, 0, Cp);
            free(w);
        } else {
            FILL(st->m_cond, L->cond_w, Cc, Cc, 0, 0);
        }
        for (int o = 0; o < C; o++)
            st->m_cond.b[o] = P[L->cond_b + o];
    }
    for (int i = 0; i < N; i++) {
        const lpi_layer_off *ly = &L->layer[i];
        TM(st->m_dil[i], 2 * C, 2 * Cp, Kd, 1);
        FILL(st->m_dil[i], ly->dil_w, 3 * C, 3 * C, 0, 1);
        if (Cc > 0)
            FILL(st->m_dil[i], ly->cnd_w, C, C, 3 * C, 1);
        for (int o = 0; o < 2 * C; o++)
            st->m_dil[i].b[HALF(o)] = P[ly->dil_b + o];
        TM(st->m_out[i], 2 * C, 2 * Cp, C, 0);
        FILL(st->m_out[i], ly->out_w, C, C, 0, 1);
    }
    st->outb = q;
    q += (size_t)N * Cp;
    for (int i = 0; i < N - 1; i++) /* the last layer's residual half feeds nothing */
        for (int c = 0; c < C; c++)
            st->outb[(size_t)i * Cp + c] = P[L->layer[i].out_b + c];
    TM(st->m_skip, C, Cp, C, 1);
    FILL(st->m_skip, L->skip_w, C, C, 0, 0);
    for (int o = 0; o < C; o++)
        st->m_skip.b[o] = st->beff[o];
    TM(st->m_final, st->Co, Cop, C, 1);
    FILL(st->m_final, L->final_w, C, C, 0, 0);
    for (int o = 0; o < st->Co; o++)
        st->m_final.b[o] = P[L->final_b + o];
#undef TM
#undef FILL
#undef HALF
    assert((size_t)(q - (float *)st->mats_mem) <= total);
    return LIMPID_OK;
}

limpid_status limpid_stream_create(limpid_stream **out, const limpid_model *m,
                                   const limpid_stream_opts *o)
{
    if (!out || !m || !o)
        return LIMPID_ERR_INVALID;
    *out = NULL;
    const limpid_config *cfg = &m->cfg;
    const lpi_net_layout *L = &m->layout;
    if (cfg->task != LIMPID_TASK_DENOISE || cfg->domain != LIMPID_DOMAIN_STFT ||
        L->lookahead != 0 || cfg->head == LIMPID_HEAD_DIRECT || L->band)
        return LIMPID_ERR_UNSUPPORTED; /* streaming needs a causal STFT denoiser (and the
                                          band-resolved stack has no streaming path yet) */
    if (o->sample_rate < 8000 || o->sample_rate > 384000 || o->max_steps < 1 ||
        o->max_steps > MAX_STEPS || !(o->strength > 0.0f && o->strength <= 1.0f))
        return LIMPID_ERR_INVALID;
    limpid_stream *st = calloc(1, sizeof *st);
    if (!st)
        return LIMPID_ERR_NOMEM;
    st->m = m;
    st->L = L;
    st->cfg = cfg;
    st->C = L->C;
    st->N = L->N;
    st->Cx = L->Cx;
    st->Cc = L->Cc;
    st->Co = L->Co;
    st->F = L->Cx / 2;
    st->hop = cfg->hop;
    st->n_fft = cfg->n_fft;
    st->max_steps = o->max_steps;
    st->seed = o->seed;
    st->spread = o->spread != 0;
    int maxd = 1;
    for (int i = 0; i < L->N; i++)
        if (L->layer[i].dilation > maxd)
            maxd = L->layer[i].dilation;
    st->R = 2 * maxd + FB;
    limpid_status s = LIMPID_ERR_NOMEM;
    const int C = st->C, Cx = st->Cx;
    const int Cp = (C + VW - 1) / VW * VW, Cop = (st->Co + VW - 1) / VW * VW;
    st->Cp = Cp;
    /* one block for the vectors: FB of each per-frame one (padded where a transposed product
     * writes), then the single ones */
    const size_t ncr = lpi_front_ncond_rows(L);
    st->sx = Cx;
    st->snc = (int)ncr;
    st->so_ = Cop;
    st->sc = Cp;
    st->scol = 4 * C;
    st->sa = 2 * Cp;
    size_t per = (size_t)Cx * 6 + ncr + (size_t)Cop + (size_t)Cp * 4 + 4 * (size_t)C +
                 4 * (size_t)Cp;
    size_t nvec = per * FB + (size_t)Cx + (size_t)st->F + 2 * (size_t)C + (size_t)L->E +
                  2 * (size_t)L->H;
    st->Y = calloc(nvec, sizeof(float));
    st->inbuf = calloc((size_t)st->hop, sizeof(float));
    st->in_work = calloc((size_t)FB * st->hop, sizeof(float));
    st->out_play = calloc((size_t)st->hop, sizeof(float));
    st->out_next = calloc((size_t)FB * st->hop, sizeof(float));
    st->hist = calloc((size_t)st->max_steps * st->N * st->R * C, sizeof(float));
    st->proj = calloc((size_t)st->max_steps * st->N * C, sizeof(float));
    if (L->fh > 0) {
        st->front = lpi_front_ws_create(L, 0, 1);
        st->fwin = calloc((size_t)2 * st->F * L->fnt, sizeof(float));
    }
    if (!st->Y || !st->inbuf || !st->in_work || !st->out_play || !st->out_next || !st->hist ||
        !st->proj || (L->fh > 0 && (!st->front || !st->fwin)))
        goto fail;
    float *q = st->Y + (size_t)FB * Cx;
#define PER_FRAME(v, n) (st->v = q, q += (size_t)FB * (n))
    PER_FRAME(x, Cx);
    PER_FRAME(xin, Cx);
    PER_FRAME(pred, Cx);
    PER_FRAME(x0, Cx);
    PER_FRAME(eh, Cx);
    PER_FRAME(ncond, ncr);
    PER_FRAME(out, Cop);
    PER_FRAME(c, Cp);
    PER_FRAME(h, Cp);
    PER_FRAME(skip, Cp);
    PER_FRAME(col, 4 * (size_t)C);
    PER_FRAME(a, 2 * (size_t)Cp);
    PER_FRAME(r, 2 * (size_t)Cp);
    PER_FRAME(s, Cp);
#undef PER_FRAME
    st->ftrack = q; q += Cx + st->F;
    st->bsum = q; q += C;
    st->beff = q; q += C;
    st->emb = q;
    st->nb = 1;
    if ((s = limpid_stft_create(&st->stft, cfg->n_fft, cfg->hop, cfg->window)) != LIMPID_OK)
        goto fail;
    if ((s = lpi_schedule_init(&st->sched, cfg)) != LIMPID_OK)
        goto fail;
    /* skip bias: the skip halves of every out.b enter once, through skip.w (as net.c) */
    const float *P = m->params;
    for (int i = 0; i < L->N; i++)
        for (int c = 0; c < C; c++)
            st->bsum[c] += P[L->layer[i].out_b + C + c];
    const float inv_sqrt_n = (float)(1.0 / sqrt((double)L->N));
    for (int oc = 0; oc < C; oc++) {
        float v = 0.0f;
        for (int k = 0; k < C; k++)
            v += P[L->skip_w + (size_t)oc * C + k] * st->bsum[k];
        st->beff[oc] = P[L->skip_b + oc] + v * inv_sqrt_n;
    }
    if ((s = build_mats(st)) != LIMPID_OK)
        goto fail;
    if (o->sample_rate != cfg->sample_rate) {
        s = lpi_resampler_create(&st->rs_in, o->sample_rate, cfg->sample_rate);
        if (s == LIMPID_OK)
            s = lpi_resampler_create(&st->rs_out, cfg->sample_rate, o->sample_rate);
        if (s != LIMPID_OK)
            goto fail;
        int mo = lpi_resampler_max_out(st->rs_in);
        if (lpi_resampler_max_out(st->rs_out) > 64) {
            s = LIMPID_ERR_UNSUPPORTED;
            goto fail;
        }
        s = LIMPID_ERR_NOMEM;
        st->rs_tmp = calloc((size_t)HOST_CHUNK * mo, sizeof(float));
        if (!st->rs_tmp)
            goto fail;
    }
    if ((s = stream_latency_init(st, o->sample_rate)) != LIMPID_OK)
        goto fail;
    st->steps = 0; /* forces apply_settings */
    st->want_steps = o->steps < 1 ? 1 : o->steps;
    st->want_strength = o->strength;
    apply_settings(st);
    limpid_stream_reset(st);
    *out = st;
    return LIMPID_OK;
fail:
    limpid_stream_destroy(st);
    return s;
}
