/* model.c - runtime states (limpid_ctx): offline denoising and generation by running the
 * reverse diffusion process over whole blocks of audio. */
#include "internal.h"

#include <stdlib.h>

struct limpid_ctx {
    const limpid_model *m;
    const lpi_net_layout *L;
    int Lmax;            /* frames per block */
    size_t seg;          /* samples per block */
    size_t overlap;      /* samples crossfaded between blocks */
    int Cx;
    lpi_net_ws *ws;
    limpid_stft *stft;
    lpi_schedule sched;
    float *cond, *x, *out, *pred, *zeros; /* [Cx][Lmax] each */
    float *xin;         /* [Cx][Lmax] the network's input with input_scale (else NULL) */
    float *ncond;       /* [Cc (+ bins)][Lmax] the network's conditioning (LOGPOW,
                           LOGPOW_FLOOR; with a front end its rows too: lpi_front_ncond_rows) */
    lpi_front_ws *front; /* the per-bin front end's workspace, else NULL */
    const float *netc;  /* what the network takes: cond or ncond */
    float *samp_scratch;                  /* 3 * Cx * Lmax */
    float *feat_scratch;                  /* lpi_feature_scratch(seg) */
    float *blk_in, *blk_out;              /* [seg] */
    float *tail;                          /* [overlap] */
    /* per-call */
    int cur_frames;
    int cur_cls;
    int has_cond;
};


limpid_status limpid_ctx_set_precision(limpid_ctx *c, limpid_precision p)
{
    if (!c || (p != LIMPID_PRECISION_FP32 && p != LIMPID_PRECISION_BF16))
        return LIMPID_ERR_INVALID;
    return lpi_net_ws_use_bf16(c->ws, p == LIMPID_PRECISION_BF16);
}

int limpid_bf16_available(void) { return lpi_amx_available(); }

void limpid_ctx_destroy(limpid_ctx *c)
{
    if (!c)
        return;
    lpi_net_ws_destroy(c->ws);
    limpid_stft_destroy(c->stft);
    lpi_schedule_free(&c->sched);
    free(c->cond);
    free(c->ncond);
    lpi_front_ws_destroy(c->front);
    free(c->x);
    free(c->out);
    free(c->pred);
    free(c->zeros);
    free(c->xin);
    free(c->samp_scratch);
    free(c->feat_scratch);
    free(c->blk_in);
    free(c->blk_out);
    free(c->tail);
    free(c);
}

limpid_status limpid_ctx_create(limpid_ctx **out, const limpid_model *m, int max_frames)
{
    if (!out || !m)
        return LIMPID_ERR_INVALID;
    *out = NULL;
    const limpid_config *cfg = &m->cfg;
    const int hop = limpid_config_frame_hop(cfg);
    if (max_frames <= 0) /* default: about 4 s of audio per block */
        max_frames = (int)((4.0 * cfg->sample_rate) / hop);
    if (max_frames < 16)
        max_frames = 16;
    limpid_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return LIMPID_ERR_NOMEM;
    c->m = m;
    c->L = &m->layout;
    c->Lmax = max_frames;
    c->Cx = limpid_config_feature_channels(cfg);
    c->seg = (size_t)max_frames * (size_t)hop;
    /* Blocks overlap by twice the receptive half-width (plus an STFT window), capped at a
     * quarter block; the crossfade hides the independent block edges. */
    size_t ctx_frames = (size_t)c->L->receptive_field;
    size_t ov = ctx_frames * (size_t)hop + (cfg->domain == LIMPID_DOMAIN_STFT ? (size_t)cfg->n_fft : 0);
    if (ov > c->seg / 4)
        ov = c->seg / 4;
    if (ov < 1)
        ov = 1;
    c->overlap = ov;
    limpid_status st = LIMPID_ERR_NOMEM;
    size_t plane = (size_t)c->Cx * (size_t)max_frames;
    c->ws = lpi_net_ws_create(c->L, 1, max_frames, 0);
    c->cond = malloc(plane * sizeof(float));
    c->ncond = malloc((lpi_front_ncond_rows(c->L) * (size_t)max_frames + 1) * sizeof(float));
    c->front = c->L->fh > 0 ? lpi_front_ws_create(c->L, 0, 0) : NULL;
    c->x = malloc(plane * sizeof(float));
    c->out = malloc((size_t)c->L->Co * (size_t)max_frames * sizeof(float)); /* Co >= Cx */
    c->pred = malloc(plane * sizeof(float));
    c->zeros = calloc(plane, sizeof(float));
    c->xin = cfg->input_scale != LIMPID_INPUT_SCALE_NONE ? malloc(plane * sizeof(float)) : NULL;
    c->samp_scratch = malloc(3 * plane * sizeof(float));
    size_t fs = lpi_feature_scratch(cfg, c->seg);
    c->feat_scratch = malloc((fs ? fs : 1) * sizeof(float));
    c->blk_in = malloc(c->seg * sizeof(float));
    c->blk_out = malloc(c->seg * sizeof(float));
    c->tail = malloc(c->overlap * sizeof(float));
    if (c->ws)
        lpi_net_ws_cache_cond(c->ws, 1);
    if (!c->ws || !c->cond || !c->ncond || (c->L->fh > 0 && !c->front) || !c->x || !c->out ||
        !c->pred || !c->zeros || !c->samp_scratch ||
        (cfg->input_scale != LIMPID_INPUT_SCALE_NONE && !c->xin) ||
        !c->feat_scratch || !c->blk_in || !c->blk_out || !c->tail)
        goto fail;
    if (cfg->domain == LIMPID_DOMAIN_STFT) {
        st = limpid_stft_create(&c->stft, cfg->n_fft, cfg->hop, cfg->window);
        if (st != LIMPID_OK)
            goto fail;
    }
    st = lpi_schedule_init(&c->sched, cfg);
    if (st != LIMPID_OK)
        goto fail;
    *out = c;
    return LIMPID_OK;
fail:
    limpid_ctx_destroy(c);
    return st;
}

/* The denoiser the samplers call: one network evaluation on the current block. */
static limpid_status ctx_denoise_fn(void *user, const float *xt, double t, float *x0,
                                    float *eps, size_t n)
{
    limpid_ctx *c = user;
    const limpid_config *cfg = &c->m->cfg;
    const int Lf = c->cur_frames;
    float tf = (float)t;
    int cls = c->cur_cls;
    const float *xin = lpi_net_input(cfg, lpi_schedule_abar(&c->sched, t), xt, n, c->xin);
    lpi_net_forward_head(c->L, c->m->params, c->ws, xin, c->has_cond ? c->netc : NULL, &tf,
                         c->L->K > 0 ? &cls : NULL, 1, Lf, cfg, c->has_cond ? c->cond : c->zeros,
                         c->has_cond ? c->netc : NULL, xt, c->out, c->pred);
    lpi_x0_eps_from_pred(cfg->target, lpi_schedule_abar(&c->sched, t), xt, c->pred, x0, eps,
                         n);
    return LIMPID_OK;
}

/* Reverse process over one block of n <= seg samples: blk_in -> blk_out. */
static limpid_status run_block(limpid_ctx *c, size_t n, const limpid_sample_opts *o,
                               uint64_t block)
{
    const limpid_config *cfg = &c->m->cfg;
    const int Lf = (int)lpi_feature_frames(cfg, n);
    const size_t count = (size_t)c->Cx * (size_t)Lf;
    limpid_status st;
    c->cur_frames = Lf;
    if (c->has_cond) {
        st = lpi_features_from_audio(cfg, c->stft, c->blk_in, n, c->cond, (size_t)Lf,
                                     c->feat_scratch);
        if (st != LIMPID_OK)
            return st;
        c->netc = lpi_cond_features(cfg, c->cond, (size_t)Lf, (size_t)Lf, 0, NULL, c->ncond);
        if (c->front) /* once per block: it depends on the noisy input only */
            lpi_front_forward(c->L, c->m->params, c->front, c->ncond, (size_t)Lf, 1, Lf);
        lpi_net_cond_changed(c->ws);
    }
    const int T = cfg->steps_T;
    double t0 = (double)o->start * T;
    if (t0 > T)
        t0 = T;
    if (o->sampler == LIMPID_SAMPLER_DDPM) {
        t0 = floor(t0 + 0.5);
        if (t0 < 1)
            t0 = 1;
    } else if (t0 <= 0.0) {
        t0 = 1e-3;
    }
    lpi_rng rng = lpi_rng_make(o->seed, block, 0x5A3D1E);
    float *eps = c->samp_scratch; /* borrowed before sampling starts */
    lpi_rng_normal_fill(&rng, eps, count);
    lpi_q_sample(lpi_schedule_abar(&c->sched, t0), c->has_cond ? c->cond : c->zeros, eps, c->x,
                 count);
    if (o->sampler == LIMPID_SAMPLER_DDPM)
        st = lpi_sample_ddpm(&c->sched, ctx_denoise_fn, c, c->x, count, (int)t0, &rng,
                             c->samp_scratch);
    else
        st = lpi_sample_ddim(&c->sched, ctx_denoise_fn, c, c->x, count, t0,
                             o->steps < 1 ? 1 : (o->steps > T ? T : o->steps), o->eta, &rng,
                             c->samp_scratch);
    if (st != LIMPID_OK)
        return st;
    if (c->L->has_feat_scale && !c->has_cond) /* feature_norm CLASS: back to the spectrum */
        lpi_feature_scale(cfg, c->L, c->m->params, c->cur_cls, 0, c->x, (size_t)Lf, 0,
                          (size_t)Lf);
    lpi_rng phase = lpi_rng_make(o->seed, block, 0xF4A5E);
    return lpi_audio_from_features(cfg, c->stft, c->x, (size_t)Lf, n, c->blk_out,
                                   c->feat_scratch, &phase);
}

/* Shared block loop: blocks of seg samples overlapping by `overlap`, crossfaded with a
 * raised cosine; out may alias in (each output span is written only once no later block
 * needs it as input). */
static limpid_status run_blocks(limpid_ctx *c, const float *in, size_t n, float *out,
                                const limpid_sample_opts *o)
{
    const size_t seg = c->seg, ov = c->overlap, stride = seg - ov;
    size_t pos = 0;
    uint64_t k = 0;
    for (;;) {
        size_t len = n - pos < seg ? n - pos : seg;
        if (in) {
            for (size_t i = 0; i < len; i++) {
                float v = in[pos + i];
                c->blk_in[i] = isfinite(v) ? v : 0.0f; /* never pass NaN/Inf on */
            }
        }
        limpid_status st = run_block(c, len, o, k);
        if (st != LIMPID_OK)
            return st;
        if (k > 0) { /* crossfade the previous block's tail into this block's head */
            size_t m = ov < len ? ov : len;
            for (size_t i = 0; i < m; i++) {
                float u = ((float)i + 0.5f) / (float)ov;
                if (in) { /* denoising: both blocks estimate one signal: raised cosine */
                    float w = 0.5f - 0.5f * cosf((float)M_PI * u);
                    c->blk_out[i] = w * c->blk_out[i] + (1.0f - w) * c->tail[i];
                } else { /* generation: independent draws: equal power, no level dip */
                    c->blk_out[i] = sinf(0.5f * (float)M_PI * u) * c->blk_out[i] +
                                    cosf(0.5f * (float)M_PI * u) * c->tail[i];
                }
            }
        }
        int last = pos + len >= n;
        size_t keep = last ? len : stride;
        memcpy(out + pos, c->blk_out, keep * sizeof *out);
        if (last)
            break;
        memcpy(c->tail, c->blk_out + stride, ov * sizeof *c->tail);
        pos += stride;
        k++;
    }
    for (size_t i = 0; i < n; i++)
        if (!isfinite(out[i]))
            return LIMPID_ERR_NUMERIC;
    return LIMPID_OK;
}

static limpid_status check_opts(const limpid_sample_opts *o)
{
    if (!o)
        return LIMPID_ERR_INVALID;
    if (o->sampler != LIMPID_SAMPLER_DDIM && o->sampler != LIMPID_SAMPLER_DDPM)
        return LIMPID_ERR_INVALID;
    if (!(o->start > 0.0f && o->start <= 1.0f) || !(o->eta >= 0.0f && o->eta <= 1.0f))
        return LIMPID_ERR_INVALID;
    return LIMPID_OK;
}

limpid_status limpid_denoise(limpid_ctx *c, const float *in, size_t n, float *out,
                             const limpid_sample_opts *o)
{
    if (!c || (!in && n) || (!out && n) || check_opts(o) != LIMPID_OK)
        return LIMPID_ERR_INVALID;
    if (c->m->cfg.task != LIMPID_TASK_DENOISE)
        return LIMPID_ERR_UNSUPPORTED;
    if (n == 0)
        return LIMPID_OK;
    c->has_cond = 1;
    c->cur_cls = 0;
    return run_blocks(c, in, n, out, o);
}

limpid_status limpid_generate(limpid_ctx *c, int cls, size_t n, float *out,
                              const limpid_sample_opts *o)
{
    if (!c || (!out && n) || check_opts(o) != LIMPID_OK)
        return LIMPID_ERR_INVALID;
    if (c->m->cfg.task != LIMPID_TASK_TEXTURE)
        return LIMPID_ERR_UNSUPPORTED;
    if (cls < 0 || cls >= c->m->cfg.n_classes)
        return LIMPID_ERR_INVALID;
    if (n == 0)
        return LIMPID_OK;
    c->has_cond = 0;
    c->cur_cls = cls;
    return run_blocks(c, NULL, n, out, o);
}
