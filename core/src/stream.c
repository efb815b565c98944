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
 * path: OpenBLAS may start threads or allocate on first use). */
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

    /* model-rate hop buffers [hop] each: the hop being collected, the hop of the frame in
     * flight, the output hop playing and the one being computed */
    float *inbuf, *in_work, *out_play, *out_next;
    int pos;
    int spread;          /* spread each frame's stages over the next hop */
    int stage;           /* next stage of the frame in flight, -1 when none */
    int stage_total;     /* its number of stages */

    /* per-frame vectors */
    float *Y;      /* [Cx] compressed noisy spectrum of the frame */
    float *ncond;  /* [Cc (+ F)] the network's view of Y (with a front end: its rows too) */
    lpi_front_ws *front; /* the per-bin front end (one frame), else NULL */
    float *fwin;   /* [2F][front frames] its window of past features */
    float *ftrack; /* [Cx] LOGPOW_FLOOR's noise-floor track (lpi_cond_features' state) */
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
    float *bsum;   /* [C] sum of the skip halves of out.b */
    float *beff;   /* [C] skip.b + skip.w bsum / sqrt(N) */
    float *emb;    /* [E + 2H] scratch of the step embedding */
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
    float *rs_tmp;   /* [max_out of either] */
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

/* y[0:rpad] = (acc ? y : 0) + b + W x for a transposed matrix. Blocks of 64 outputs in four
 * vector accumulators, then single vectors. */
LPI_CLONES static void mvt(const tmat *M, const float *restrict x, float *restrict y, int acc)
{
    const int rp = M->rpad, K = M->K;
    int r0 = 0;
    for (; r0 + 4 * VW <= rp; r0 += 4 * VW) {
        lpi_vf a0 = VSET(0.0f), a1 = a0, a2 = a0, a3 = a0;
        const float *w = M->wt + r0;
        for (int k = 0; k < K; k++, w += rp) {
            const lpi_vf xv = VSET(x[k]);
            a0 += VLD(w) * xv;
            a1 += VLD(w + VW) * xv;
            a2 += VLD(w + 2 * VW) * xv;
            a3 += VLD(w + 3 * VW) * xv;
        }
        if (M->b) {
            a0 += VLD(M->b + r0);
            a1 += VLD(M->b + r0 + VW);
            a2 += VLD(M->b + r0 + 2 * VW);
            a3 += VLD(M->b + r0 + 3 * VW);
        }
        if (acc) {
            a0 += VLD(y + r0);
            a1 += VLD(y + r0 + VW);
            a2 += VLD(y + r0 + 2 * VW);
            a3 += VLD(y + r0 + 3 * VW);
        }
        VST(y + r0, a0);
        VST(y + r0 + VW, a1);
        VST(y + r0 + 2 * VW, a2);
        VST(y + r0 + 3 * VW, a3);
    }
    for (; r0 < rp; r0 += VW) {
        lpi_vf a0 = VSET(0.0f), a1 = a0;
        const float *w = M->wt + r0;
        int k = 0;
        for (; k + 1 < K; k += 2, w += 2 * rp) {
            a0 += VLD(w) * VSET(x[k]);
            a1 += VLD(w + rp) * VSET(x[k + 1]);
        }
        if (k < K)
            a0 += VLD(w) * VSET(x[k]);
        a0 += a1;
        if (M->b)
            a0 += VLD(M->b + r0);
        if (acc)
            a0 += VLD(y + r0);
        VST(y + r0, a0);
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
    const int C = st->C, Cp = st->Cp, N = st->N, R = st->R;
    const int64_t k = st->frame;
    const int d = st->L->layer[i].dilation;
    const float *p = st->proj + ((size_t)s * N + (size_t)i) * C;
    float *h = st->h;
    float *ring = st->hist + ((size_t)s * N + (size_t)i) * (size_t)R * C;
    memcpy(ring + (size_t)(k % R) * C, h, (size_t)C * sizeof(float));
    /* taps n - 2d, n - d, n (causal): y = h + p, zero before the first frame */
    for (int tap = 0; tap < 3; tap++) {
        int64_t f = k - (int64_t)(2 - tap) * d;
        float *dst = st->col + (size_t)tap * C;
        if (f < 0) {
            memset(dst, 0, (size_t)C * sizeof(float));
        } else {
            const float *src = ring + (size_t)(f % R) * C;
            for (int c = 0; c < C; c++)
                dst[c] = src[c] + p[c];
        }
    }
    /* col[3C:4C] holds c (set once per frame) */
    mvt(&st->m_dil[i], st->col, st->a, 0);
    gate(st->a, Cp);
    mvt(&st->m_out[i], st->a, st->r, 0);
    const float *ob = st->outb + (size_t)i * Cp;
    for (int c = 0; c < Cp; c++) {
        h[c] = (h[c] + st->r[c] + ob[c]) * 0.70710678118654752f;
        st->skip[c] += st->r[Cp + c];
    }
}

static void stage_begin(limpid_stream *st)
{
    const limpid_config *cfg = st->cfg;
    const int Cx = st->Cx, C = st->C;
    apply_settings(st);
    limpid_stft_push(st->stft, st->in_work, st->Y);
    limpid_spec_compress(st->Y, 1, st->F, cfg->compress_exp, cfg->compress_scale);
    if (st->Cc > 0) {
        const float *nc = lpi_cond_features(cfg, st->Y, 1, 1, 0, st->ftrack, st->ncond);
        if (st->front)
            lpi_front_frame(st->L, st->m->params, st->front, st->fwin, st->ncond);
        mvt(&st->m_cond, nc, st->c, 0);
        for (int c = 0; c < C; c++) /* into the taps' tail: col[3C:4C] */
            st->col[3 * C + c] = relu_f(st->c[c]);
    }
    /* x_{t_1} from the observation and this frame's noise */
    lpi_rng rng = lpi_rng_make(st->seed, (uint64_t)st->frame, LPI_STREAM_NOISE_TAG);
    lpi_rng_normal_fill(&rng, st->eh, (size_t)Cx);
    lpi_q_sample(lpi_schedule_abar(&st->sched, st->t_step[0]), st->Y, st->eh, st->x,
                 (size_t)Cx);
}

static void stage_lane_end(limpid_stream *st, int s)
{
    const limpid_config *cfg = st->cfg;
    const int Cx = st->Cx, Cp = st->Cp;
    const float inv_sqrt_n = (float)(1.0 / sqrt((double)st->N));
    for (int c = 0; c < Cp; c++)
        st->skip[c] *= inv_sqrt_n;
    mvt(&st->m_skip, st->skip, st->s, 0);
    for (int c = 0; c < Cp; c++)
        st->s[c] = relu_f(st->s[c]);
    mvt(&st->m_final, st->s, st->out, 0);
    lpi_front_add(st->L, st->out, 1, st->ncond, 1, 1);
    lpi_head_forward(cfg, st->out, st->Y, st->ncond, st->x, 1, st->pred);
    const double ab = lpi_schedule_abar(&st->sched, st->t_step[s]);
    lpi_x0_eps_from_pred(cfg->target, ab, st->x, st->pred, st->x0, st->eh, (size_t)Cx);
    if (s == st->steps - 1)
        return;
    const double ab_next = lpi_schedule_abar(&st->sched, st->t_step[s + 1]);
    const double c_x0 = sqrt(ab_next), dir2 = 1.0 - ab_next;
    const double c_eps = dir2 > 0.0 ? sqrt(dir2) : 0.0;
    for (int i = 0; i < Cx; i++)
        st->x[i] = (float)(c_x0 * st->x0[i] + c_eps * st->eh[i]);
}

/* Lanes beyond the current step count are not run: when the count goes up again their
 * history is stale and refills within one receptive field (61 frames for rt). */
static void stage_end(limpid_stream *st)
{
    const limpid_config *cfg = st->cfg;
    for (int i = 0; i < st->Cx; i++)
        if (!isfinite(st->x0[i]))
            st->x0[i] = 0.0f;
    limpid_spec_decompress(st->x0, 1, st->F, cfg->compress_exp, cfg->compress_scale);
    limpid_stft_pull(st->stft, st->x0, st->out_next);
    st->frame++;
}

static void run_stage(limpid_stream *st, int j)
{
    const int N = st->N, per = N + 2;
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
        mvt(&st->m_in, lpi_net_input(st->cfg, ab, st->x, (size_t)st->Cx, st->xin), st->h, 0);
        for (int c = 0; c < st->Cp; c++)
            st->h[c] = relu_f(st->h[c]);
        memset(st->skip, 0, (size_t)st->Cp * sizeof(float));
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
        st->pos = 0;
        finish_frame(st); /* (spread: already done by the rule above) */
        float *t = st->out_play; /* the finished frame's output plays next */
        st->out_play = st->out_next;
        st->out_next = t;
        t = st->in_work; /* this hop becomes the next frame's input */
        st->in_work = st->inbuf;
        st->inbuf = t;
        st->stage = 0;
        if (!st->spread) {
            st->stage_total = 0; /* settings are applied in stage 0: count after it */
            run_stage(st, st->stage++);
            st->stage_total = n_stages(st);
            finish_frame(st);
            t = st->out_play;
            st->out_play = st->out_next;
            st->out_next = t;
        } else {
            run_stage(st, st->stage++); /* stage 0 (applies settings), then count */
            st->stage_total = n_stages(st);
        }
    }
    return y;
}

/* ------------------------------------------------------------------------ */
/* Host-rate wrapper */

static inline void fifo_put(limpid_stream *st, float v)
{
    /* cannot overflow: the FIFO is sized for the prefill plus the burst bound */
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

static void host_sample_counts(limpid_stream *st, float v)
{
    int n1 = lpi_resampler_push(st->rs_in, v, st->rs_tmp);
    for (int i = 0; i < n1; i++) {
        float y = engine_sample(st, st->rs_tmp[i]);
        float tmp2[64];
        int n2 = lpi_resampler_push(st->rs_out, y, tmp2);
        for (int j = 0; j < n2; j++)
            fifo_put(st, tmp2[j]);
    }
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
        for (size_t i = 0; i < n; i++)
            out[i] = engine_sample(st, in[i]);
    } else {
        for (size_t i = 0; i < n; i++) {
            float v = in[i];
            host_sample_counts(st, isfinite(v) ? v : 0.0f);
            out[i] = fifo_get(st);
        }
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
    st->fifo_len = st->fifo_prefill + 2 * (int)(2.0 * host_rate / mr + 8) + 256;
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
        L->lookahead != 0 || cfg->head == LIMPID_HEAD_DIRECT)
        return LIMPID_ERR_UNSUPPORTED; /* streaming needs a causal STFT denoiser */
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
    st->R = 2 * maxd + 1;
    limpid_status s = LIMPID_ERR_NOMEM;
    const int C = st->C, Cx = st->Cx;
    const int Cp = (C + VW - 1) / VW * VW, Cop = (st->Co + VW - 1) / VW * VW;
    st->Cp = Cp;
    /* one block for the per-frame vectors (padded where a transposed product writes) */
    const size_t ncr = lpi_front_ncond_rows(L);
    size_t nvec = (size_t)Cx * 7 + ncr + (size_t)Cop + (size_t)Cp * 9 +
                  4 * (size_t)C + 2 * (size_t)C + (size_t)L->E + 2 * (size_t)L->H;
    st->Y = calloc(nvec, sizeof(float));
    st->inbuf = calloc((size_t)st->hop, sizeof(float));
    st->in_work = calloc((size_t)st->hop, sizeof(float));
    st->out_play = calloc((size_t)st->hop, sizeof(float));
    st->out_next = calloc((size_t)st->hop, sizeof(float));
    st->hist = calloc((size_t)st->max_steps * st->N * st->R * C, sizeof(float));
    st->proj = calloc((size_t)st->max_steps * st->N * C, sizeof(float));
    if (L->fh > 0) {
        st->front = lpi_front_ws_create(L, 0, 1);
        st->fwin = calloc((size_t)2 * st->F * L->fnt, sizeof(float));
    }
    if (!st->Y || !st->inbuf || !st->in_work || !st->out_play || !st->out_next || !st->hist ||
        !st->proj || (L->fh > 0 && (!st->front || !st->fwin)))
        goto fail;
    float *q = st->Y + Cx;
    st->x = q; q += Cx;
    st->xin = q; q += Cx;
    st->pred = q; q += Cx;
    st->x0 = q; q += Cx;
    st->eh = q; q += Cx;
    st->ncond = q; q += ncr;
    st->ftrack = q; q += Cx;
    st->out = q; q += Cop;
    st->c = q; q += Cp;
    st->h = q; q += Cp;
    st->skip = q; q += Cp;
    st->col = q; q += 4 * (size_t)C;
    st->a = q; q += 2 * (size_t)Cp;
    st->r = q; q += 2 * (size_t)Cp;
    st->s = q; q += Cp;
    st->bsum = q; q += C;
    st->beff = q; q += C;
    st->emb = q;
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
        st->rs_tmp = calloc((size_t)mo, sizeof(float));
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
