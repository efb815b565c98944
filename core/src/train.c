/* train.c - the training API: denoising-score-matching steps with AdamW, EMA weights,
 * validation, bit-exact checkpoints and model export.
 *
 * One step is a pure function of (train seed, step index, batch data, state): the diffusion
 * step and the noise of item b at step s come from the counter-based stream
 * lpi_rng_make(seed, s, b), so a resumed run repeats the uninterrupted one bit for bit (given
 * the same OpenBLAS thread count). Everything a step needs is allocated at create. */
#include "internal.h"

/* initial bias of the Wiener head's floor outputs in a fresh training run (see create) */
#define WIENER_INIT_FLOOR 1.5f

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <time.h>

/* Threads that prepare items (features, noise): as many as the matrix products use, at most
 * LPI_PREP_THREADS, never more than the items. */
static int prep_threads(int items)
{
    int n = limpid_get_threads();
    if (n > LPI_PREP_THREADS)
        n = LPI_PREP_THREADS;
    if (n > items)
        n = items;
    return n < 1 ? 1 : n;
}


struct limpid_trainer {
    limpid_config cfg;
    limpid_train_config tc;
    limpid_provenance prov;
    lpi_net_layout L;
    int have_layout;
    int have_sched;

    float *p;   /* [n_params] raw weights */
    float *g;   /* [n_params] gradients of the last step */
    float *m;   /* [n_params] AdamW first moment */
    float *v;   /* [n_params] AdamW second moment */
    float *ema; /* [n_params] EMA of the weights (equals p when ema_decay == 0) */

    lpi_net_ws *ws;
    lpi_schedule sched;

    int B;         /* batch */
    int Lf;        /* frames per item */
    size_t n_used; /* samples per item that make up the Lf whole frames */
    int Cx, Cc, Co;

    /* [Cx][B*Lf] (cond: [Cc][B*Lf]; out, dout: [Co][B*Lf]) */
    float *x0, *cond, *eps, *xt, *out, *pred, *tgt, *dpred, *dout;
    float *ncond;       /* [Cc (+ bins with a front end)][B*Lf] the network's conditioning
                           (LOGPOW, LOGPOW_FLOOR; lpi_front_ncond_rows) */
    float *dcond;       /* [Cc][B*Lf] its gradient (a front end with extra cond rows), else NULL */
    lpi_front_ws *front; /* the per-bin front end's workspace (front_hidden > 0), else NULL */
    float *xin;         /* [Cx][B*Lf] the network's input with input_scale (else NULL) */
    float *xT;          /* [Cx][B*Lf] self_refine: x_T of every item (else NULL) */
    float *tT;          /* [B] self_refine: T for every item */
    double *abT;        /* [B] self_refine: abar_T for every item */
    float *lw;          /* [bins][B*Lf] loss weights (STFT denoise), see loss_weight */
    float *scratch_w[LPI_PREP_THREADS]; /* per preparing thread: lpi_feature_scratch floats */
    limpid_stft *stft_w[LPI_PREP_THREADS];
    float *tstep;    /* [B] diffusion step of each item */
    double *abar;    /* [B] abar at tstep */
    double *isse;    /* [B] each item's (weighted) squared error of the last forward_batch */
    double *nr;      /* [2B] LOSS_NORM_NOISE(_DB): each item's noise energy N_b and ratio r_b
                        from the last forward_batch (noise_norm_loss) */
    float *mu;       /* [3B] mask-loss weight of each item (mask_loss (1 - abar)), then the
                        gradient scale of each item, then its gate-loss weight */
    int *cls;        /* [B] class ids (texture) */

    int64_t step;    /* steps done */
};

/* ------------------------------------------------------------------------ */
/* Configuration */

void limpid_train_config_default(limpid_train_config *tc)
{
    if (!tc)
        return;
    memset(tc, 0, sizeof *tc);
    tc->batch = 16;
    tc->crop_samples = 32768;
    tc->lr = 1e-3f;
    tc->lr_min = 1e-5f;
    tc->warmup = 200;
    tc->total_steps = 20000;
    tc->weight_decay = 0.01f;
    tc->beta1 = 0.9f;
    tc->beta2 = 0.999f;
    tc->adam_eps = 1e-8f;
    tc->clip = 1.0f;
    tc->ema_decay = 0.999f;
    tc->seed = 1;
}

/* Range check of a training configuration for model configuration cfg (checked). The
 * product Cx * batch * frames must fit an int: the network indexes columns with ints. */
static limpid_status train_config_check(const limpid_config *cfg, const limpid_train_config *tc,
                                        char *err, size_t errlen)
{
#define TBAD(...)                                                                      \
    do {                                                                               \
        lpi_errf(err, errlen, __VA_ARGS__);                                            \
        return LIMPID_ERR_INVALID;                                                     \
    } while (0)
    if (tc->batch < 1 || tc->batch > 65536)
        TBAD("batch %d is outside 1..65536", tc->batch);
    int fh = limpid_config_frame_hop(cfg);
    if (tc->crop_samples < fh || tc->crop_samples > (1 << 26))
        TBAD("crop of %d samples is outside %d..%d (at least one frame of %d samples)",
             tc->crop_samples, fh, 1 << 26, fh);
    double cols = (double)tc->batch * (double)(tc->crop_samples / fh);
    if (cols * limpid_config_feature_channels(cfg) > (double)INT_MAX)
        TBAD("batch %d x crop %d samples is too large for one step", tc->batch,
             tc->crop_samples);
    if (!(isfinite(tc->lr) && tc->lr > 0.0f && tc->lr <= 10.0f))
        TBAD("learning rate %g is outside (0, 10]", (double)tc->lr);
    if (!(isfinite(tc->lr_min) && tc->lr_min >= 0.0f && tc->lr_min <= tc->lr))
        TBAD("final learning rate %g is outside [0, lr = %g]", (double)tc->lr_min,
             (double)tc->lr);
    if (tc->warmup < 0)
        TBAD("warm-up of %d steps is negative", tc->warmup);
    if (tc->total_steps < 1)
        TBAD("total steps %lld is below 1", (long long)tc->total_steps);
    if (!(isfinite(tc->weight_decay) && tc->weight_decay >= 0.0f && tc->weight_decay <= 10.0f))
        TBAD("weight decay %g is outside [0, 10]", (double)tc->weight_decay);
    if (!(tc->beta1 >= 0.0f && tc->beta1 < 1.0f))
        TBAD("Adam beta1 %g is outside [0, 1)", (double)tc->beta1);
    if (!(tc->beta2 >= 0.0f && tc->beta2 < 1.0f))
        TBAD("Adam beta2 %g is outside [0, 1)", (double)tc->beta2);
    if (!(isfinite(tc->adam_eps) && tc->adam_eps > 0.0f && tc->adam_eps <= 1.0f))
        TBAD("Adam epsilon %g is outside (0, 1]", (double)tc->adam_eps);
    if (!isfinite(tc->clip))
        TBAD("gradient clip %g is not finite", (double)tc->clip);
    if (!(tc->ema_decay >= 0.0f && tc->ema_decay < 1.0f))
        TBAD("EMA decay %g is outside [0, 1)", (double)tc->ema_decay);
    if (!(tc->t_top >= 0.0f && tc->t_top <= 1.0f))
        TBAD("share of items at t = T %g is outside [0, 1]", (double)tc->t_top);
    if (!(tc->loss_weight >= 0.0f && tc->loss_weight <= 1.0f))
        TBAD("loss weight %g is outside [0, 1]", (double)tc->loss_weight);
    if (tc->loss_norm < LIMPID_LOSS_NORM_BATCH || tc->loss_norm > LIMPID_LOSS_NORM_NOISE_DB)
        TBAD("loss normalisation %d is not one of 0 (batch), 1 (item), 2 (log), 3 (noise), "
             "4 (noise_db)", tc->loss_norm);
    if (tc->loss_norm >= LIMPID_LOSS_NORM_NOISE &&
        (cfg->task != LIMPID_TASK_DENOISE || cfg->domain != LIMPID_DOMAIN_STFT))
        TBAD("the noise loss normalisation needs an STFT-domain denoiser");
    if (!(tc->mask_loss >= 0.0f && tc->mask_loss <= 100.0f))
        TBAD("mask loss %g is outside [0, 100]", (double)tc->mask_loss);
    if (tc->mask_loss > 0.0f && (cfg->head != LIMPID_HEAD_WIENER_FLOOR ||
                                 cfg->task != LIMPID_TASK_DENOISE))
        TBAD("a mask loss needs a denoiser with the wiener_floor head");
    if (tc->mask_form != LIMPID_MASK_FORM_RATIO && tc->mask_form != LIMPID_MASK_FORM_PHASE)
        TBAD("mask form %d is not one of 0 (ratio), 1 (phase)", tc->mask_form);
    if (!(tc->gate_loss >= 0.0f && tc->gate_loss <= 100.0f))
        TBAD("gate loss %g is outside [0, 100]", (double)tc->gate_loss);
    if (tc->gate_loss > 0.0f && (cfg->head != LIMPID_HEAD_WIENER_FLOOR || !cfg->floor_gate ||
                                 cfg->task != LIMPID_TASK_DENOISE))
        TBAD("a gate loss needs a denoiser with the gated wiener_floor head (floor_gate)");
    if (tc->self_refine != 0 && tc->self_refine != 1)
        TBAD("self_refine %d is not 0 or 1", tc->self_refine);
    if (tc->self_refine && cfg->target != LIMPID_TARGET_X0)
        TBAD("self-refinement needs a model that predicts x0 (target = x0)");
    return LIMPID_OK;
#undef TBAD
}

static int config_equal(const limpid_config *a, const limpid_config *b)
{
    return a->task == b->task && a->domain == b->domain && a->sample_rate == b->sample_rate &&
           (a->domain != LIMPID_DOMAIN_STFT ||
            (a->n_fft == b->n_fft && a->hop == b->hop && a->window == b->window &&
             a->compress_exp == b->compress_exp && a->compress_scale == b->compress_scale)) &&
           a->channels == b->channels && a->layers == b->layers &&
           a->dilation_cycle == b->dilation_cycle && a->embed_dim == b->embed_dim &&
           a->embed_hidden == b->embed_hidden && a->lookahead == b->lookahead &&
           a->n_classes == b->n_classes && a->head == b->head && a->schedule == b->schedule &&
           a->steps_T == b->steps_T && a->beta_start == b->beta_start &&
           a->beta_end == b->beta_end && a->target == b->target && a->cond == b->cond &&
           a->input_scale == b->input_scale;
}

/* ------------------------------------------------------------------------ */
/* Create / destroy */

void limpid_trainer_destroy(limpid_trainer *t)
{
    if (!t)
        return;
    if (t->ws)
        lpi_net_ws_destroy(t->ws);
    for (int k = 0; k < LPI_PREP_THREADS; k++) {
        limpid_stft_destroy(t->stft_w[k]);
        free(t->scratch_w[k]);
    }
    if (t->have_sched)
        lpi_schedule_free(&t->sched);
    if (t->have_layout)
        lpi_net_layout_free(&t->L);
    free(t->p);
    free(t->g);
    free(t->m);
    free(t->v);
    free(t->ema);
    free(t->x0);
    free(t->cond);
    free(t->ncond);
    free(t->dcond);
    lpi_front_ws_destroy(t->front);
    free(t->lw);
    free(t->eps);
    free(t->xt);
    free(t->xT);
    free(t->tT);
    free(t->abT);
    free(t->out);
    free(t->pred);
    free(t->tgt);
    free(t->dpred);
    free(t->dout);
    free(t->tstep);
    free(t->abar);
    free(t->isse);
    free(t->nr);
    free(t->mu);
    free(t->xin);
    free(t->cls);
    free(t);
}

static float *falloc(size_t n)
{
    return malloc((n ? n : 1) * sizeof(float));
}

/* Build a trainer; err (optional) gets the reason of an INVALID configuration. */
static limpid_status trainer_new(limpid_trainer **out, const limpid_config *cfg,
                                 const limpid_model *init, const limpid_train_config *tc,
                                 char *err, size_t errlen)
{
    limpid_status st;
    if (!out || !cfg || !tc)
        return LIMPID_ERR_INVALID;
    *out = NULL;
    if ((st = limpid_config_check(cfg, err, errlen)) != LIMPID_OK)
        return st;
    if ((st = train_config_check(cfg, tc, err, errlen)) != LIMPID_OK)
        return st;
    if (init && !config_equal(&init->cfg, cfg)) {
        lpi_errf(err, errlen, "the initial model's configuration differs from the one given");
        return LIMPID_ERR_INVALID;
    }

    limpid_trainer *t = calloc(1, sizeof *t);
    if (!t)
        return LIMPID_ERR_NOMEM;
    t->cfg = *cfg;
    t->tc = *tc;
    t->prov.seed = tc->seed;
    t->prov.final_loss = NAN;
    t->prov.val_loss = NAN;

    if ((st = lpi_net_layout_init(&t->L, cfg)) != LIMPID_OK)
        goto fail;
    t->have_layout = 1;
    if ((st = lpi_schedule_init(&t->sched, cfg)) != LIMPID_OK)
        goto fail;
    t->have_sched = 1;
    for (int k = 0; k < LPI_PREP_THREADS; k++)
        if (cfg->domain == LIMPID_DOMAIN_STFT &&
            (st = limpid_stft_create(&t->stft_w[k], cfg->n_fft, cfg->hop, cfg->window)) !=
                LIMPID_OK)
            goto fail;

    const int fh = limpid_config_frame_hop(cfg);
    t->B = tc->batch;
    /* whole frames only: the crop is cut down to a multiple of the frame hop */
    t->n_used = (size_t)(tc->crop_samples / fh) * (size_t)fh;
    t->Lf = (int)lpi_feature_frames(cfg, t->n_used);
    t->Cx = t->L.Cx;
    t->Cc = t->L.Cc;
    t->Co = t->L.Co;
    if (t->Lf < 1) {
        st = LIMPID_ERR_INVALID;
        goto fail;
    }

    const size_t np = t->L.n_params;
    const size_t cols = (size_t)t->B * (size_t)t->Lf;
    const size_t nx = (size_t)t->Cx * cols, no = (size_t)t->Co * cols;
    t->p = falloc(np);
    t->g = falloc(np);
    t->m = calloc(np ? np : 1, sizeof(float));
    t->v = calloc(np ? np : 1, sizeof(float));
    t->ema = falloc(np);
    t->x0 = falloc(nx);
    /* cond: the noisy features [Cx] (the head needs them); ncond: the network's view */
    t->cond = t->Cc > 0 ? falloc(nx) : NULL;
    const int own_cond = cfg->cond == LIMPID_COND_LOGPOW || cfg->cond == LIMPID_COND_LOGPOW_FLOOR;
    t->ncond = own_cond ? falloc(lpi_front_ncond_rows(&t->L) * cols) : NULL;
    const int has_front = t->L.fh > 0;
    t->front = has_front ? lpi_front_ws_create(&t->L, 1, 0) : NULL;
    t->dcond = has_front && t->L.fr > 0 ? falloc((size_t)t->Cc * cols) : NULL;
    const int stft_dn = cfg->domain == LIMPID_DOMAIN_STFT && cfg->task == LIMPID_TASK_DENOISE;
    t->lw = stft_dn ? falloc((size_t)(t->L.Cx / 2) * cols) : NULL;
    t->eps = falloc(nx);
    t->xin = cfg->input_scale != LIMPID_INPUT_SCALE_NONE ? falloc(nx) : NULL;
    t->xt = falloc(nx);
    t->xT = t->tc.self_refine ? falloc(nx) : NULL;
    t->tT = t->tc.self_refine ? falloc((size_t)t->B) : NULL;
    t->abT = t->tc.self_refine ? malloc((size_t)t->B * sizeof *t->abT) : NULL;
    t->out = falloc(no);
    t->pred = falloc(nx);
    t->tgt = falloc(nx);
    t->dpred = falloc(nx);
    t->dout = falloc(no);
    int scratch_ok = 1;
    for (int k = 0; k < LPI_PREP_THREADS; k++) /* +1: wave models need none */
        scratch_ok &= (t->scratch_w[k] = falloc(lpi_feature_scratch(cfg, t->n_used) + 1)) != NULL;
    t->tstep = falloc((size_t)t->B);
    t->abar = malloc((size_t)t->B * sizeof *t->abar);
    t->isse = malloc((size_t)t->B * sizeof *t->isse);
    t->nr = malloc(2 * (size_t)t->B * sizeof *t->nr);
    t->mu = falloc(3 * (size_t)t->B);
    t->cls = calloc((size_t)t->B, sizeof *t->cls);
    t->ws = lpi_net_ws_create(&t->L, t->B, t->Lf, 1);
    if (!t->p || !t->g || !t->m || !t->v || !t->ema || !t->x0 || (t->Cc > 0 && !t->cond) ||
        (own_cond && !t->ncond) || (stft_dn && !t->lw) || (has_front && !t->front) ||
        (has_front && t->L.fr > 0 && !t->dcond) ||
        (cfg->input_scale != LIMPID_INPUT_SCALE_NONE && !t->xin) ||
        (t->tc.self_refine && (!t->xT || !t->tT || !t->abT)) ||
        !t->eps || !t->xt || !t->out || !t->pred || !t->tgt || !t->dpred || !t->dout ||
        !scratch_ok || !t->tstep || !t->abar || !t->isse || !t->nr || !t->mu || !t->cls || !t->ws) {
        st = LIMPID_ERR_NOMEM;
        goto fail;
    }

    if (init) {
        if (init->layout.n_params != np) {
            st = LIMPID_ERR_INVALID;
            goto fail;
        }
        memcpy(t->p, init->params, np * sizeof *t->p);
    } else {
        lpi_net_init_params(&t->L, t->p, tc->seed);
        if (cfg->head == LIMPID_HEAD_WIENER) {
            /* Start the Wiener floor at a quiet bin's level, r0 = exp(1.5 - 3) = 0.22 in
             * compressed magnitude (|X| = 0.05), not far below every bin (o1 = 0, where an
             * untrained model is the identity): there the gate G = r^4 / (r^4 + r0^4) is
             * saturated at 1, its gradient 4 G (1 - G) vanishes, and after clipping it falls
             * below Adam's epsilon, so the floor never moves (seen: +0.08 after 3,900 steps). */
            for (int f = 0; f < t->L.Co / 2; f++)
                t->p[t->L.final_b + f] = WIENER_INIT_FLOOR;
        }
    }
    memcpy(t->ema, t->p, np * sizeof *t->p);
    memset(t->g, 0, np * sizeof *t->g);
    *out = t;
    return LIMPID_OK;
fail:
    limpid_trainer_destroy(t);
    return st;
}

limpid_status limpid_trainer_create(limpid_trainer **out, const limpid_config *cfg,
                                    const limpid_model *init, const limpid_train_config *tc)
{
    return trainer_new(out, cfg, init, tc, NULL, 0);
}

/* ------------------------------------------------------------------------ */
/* Learning rate */

/* Linear warm-up from 0 (step 0) to lr (step warmup), then cosine decay from lr to lr_min
 * at step total_steps; lr_min from there on. */
static double lr_at(const limpid_train_config *tc, int64_t s)
{
    if (s < tc->warmup)
        return (double)tc->lr * (double)s / (double)tc->warmup;
    if (s >= tc->total_steps)
        return tc->lr_min;
    double span = (double)(tc->total_steps - tc->warmup);
    double prog = span > 0 ? (double)(s - tc->warmup) / span : 1.0;
    return tc->lr_min + 0.5 * ((double)tc->lr - tc->lr_min) * (1.0 + cos(3.14159265358979323846 * prog));
}

float limpid_trainer_lr(const limpid_trainer *t)
{
    return t ? (float)lr_at(&t->tc, t->step) : 0.0f;
}

limpid_status limpid_trainer_set_t_top(limpid_trainer *t, float t_top)
{
    if (!t || !(t_top >= 0.0f && t_top <= 1.0f))
        return LIMPID_ERR_INVALID;
    t->tc.t_top = t_top;
    return LIMPID_OK;
}

limpid_status limpid_trainer_set_loss_weight(limpid_trainer *t, float lambda)
{
    if (!t || !(lambda >= 0.0f && lambda <= 1.0f))
        return LIMPID_ERR_INVALID;
    t->tc.loss_weight = lambda;
    return LIMPID_OK;
}

limpid_status limpid_trainer_set_loss_norm(limpid_trainer *t, int norm)
{
    if (!t || norm < LIMPID_LOSS_NORM_BATCH || norm > LIMPID_LOSS_NORM_NOISE_DB ||
        (norm >= LIMPID_LOSS_NORM_NOISE &&
         (t->cfg.task != LIMPID_TASK_DENOISE || t->cfg.domain != LIMPID_DOMAIN_STFT)))
        return LIMPID_ERR_INVALID;
    t->tc.loss_norm = norm;
    return LIMPID_OK;
}

limpid_status limpid_trainer_fit_feature_norm(limpid_trainer *t, const float *clean,
                                              const int *cls, int n_items)
{
    if (!t || !clean || !cls || n_items < 1 || !t->L.has_feat_scale || t->step != 0)
        return LIMPID_ERR_INVALID;
    const int K = t->L.K, F = lpi_feature_bins(&t->cfg), Lf = t->Lf;
    const int mag = t->L.has_feat_mean; /* magnitude features: mean and std, else RMS */
    const size_t ld = (size_t)t->B * (size_t)Lf;
    for (int i = 0; i < n_items; i++)
        if (cls[i] < 0 || cls[i] >= K)
            return LIMPID_ERR_INVALID;
    double *sum = calloc(2 * (size_t)K * F, sizeof *sum); /* [K][F] sums of squares, of values */
    double *frames = calloc((size_t)K, sizeof *frames);
    if (!sum || !frames) {
        free(sum);
        free(frames);
        return LIMPID_ERR_NOMEM;
    }
    double *sum1 = sum + (size_t)K * F;
    limpid_status st = LIMPID_OK;
    for (int i = 0; i < n_items && st == LIMPID_OK; i++) {
        /* item i's features into the first Lf columns of x0 (free before the first step) */
        st = lpi_features_from_audio(&t->cfg, t->stft_w[0],
                                     clean + (size_t)i * (size_t)t->tc.crop_samples, t->n_used,
                                     t->x0, ld, t->scratch_w[0]);
        if (st != LIMPID_OK)
            break;
        double *s = sum + (size_t)cls[i] * F, *s1 = sum1 + (size_t)cls[i] * F;
        for (int f = 0; f < F; f++) {
            const float *re = t->x0 + (size_t)f * ld, *im = mag ? NULL : t->x0 + (size_t)(F + f) * ld;
            double a = 0.0, a1 = 0.0;
            for (int n = 0; n < Lf; n++) {
                a += (double)re[n] * re[n] + (im ? (double)im[n] * im[n] : 0.0);
                a1 += re[n];
            }
            s[f] += a;
            s1[f] += a1;
        }
        frames[cls[i]] += Lf;
    }
    if (st == LIMPID_OK) {
        float *p = t->p + t->L.feat_scale, *e = t->ema + t->L.feat_scale;
        float *pm = mag ? t->p + t->L.feat_mean : NULL, *em = mag ? t->ema + t->L.feat_mean : NULL;
        int seen = 0;
        for (int k = 0; k < K; k++) {
            if (frames[k] <= 0.0)
                continue;
            double mx = 0.0;
            for (int f = 0; f < F; f++) {
                const size_t i = (size_t)k * F + f;
                double v;
                if (mag) { /* std of the magnitude around its mean */
                    const double m = sum1[i] / frames[k];
                    const double var = sum[i] / frames[k] - m * m;
                    v = sqrt(var > 0.0 ? var : 0.0);
                    pm[i] = (float)m;
                } else { /* RMS of re and im alike: unit variance per real row, as the noise */
                    v = sqrt(sum[i] / (2.0 * frames[k]));
                }
                sum[i] = v;
                mx = v > mx ? v : mx;
            }
            for (int f = 0; f < F; f++) {
                double v = sum[(size_t)k * F + f];
                v = v > 1e-2 * mx ? v : 1e-2 * mx;
                p[(size_t)k * F + f] = (float)(v > 1e-12 ? v : 1.0);
            }
            seen++;
        }
        for (int k = 0; k < K; k++) { /* classes without items: the others' mean */
            if (frames[k] > 0.0)
                continue;
            for (int f = 0; f < F; f++) {
                double m = 0.0, mm = 0.0;
                for (int j = 0; j < K; j++)
                    if (frames[j] > 0.0) {
                        m += p[(size_t)j * F + f];
                        mm += mag ? pm[(size_t)j * F + f] : 0.0;
                    }
                p[(size_t)k * F + f] = seen ? (float)(m / seen) : 1.0f;
                if (mag)
                    pm[(size_t)k * F + f] = seen ? (float)(mm / seen) : 0.0f;
            }
        }
        memcpy(e, p, (size_t)K * F * sizeof *p);
        if (mag)
            memcpy(em, pm, (size_t)K * F * sizeof *pm);
    }
    free(sum);
    free(frames);
    return st;
}

/* t's training configuration becomes tc (t's own with one field changed) if tc passes
 * train_config_check's rules (ranges, and what the model's head and task allow) */
static limpid_status set_checked(limpid_trainer *t, const limpid_train_config *tc)
{
    limpid_status st = train_config_check(&t->cfg, tc, NULL, 0);
    if (st == LIMPID_OK)
        t->tc = *tc;
    return st;
}

limpid_status limpid_trainer_set_mask_loss(limpid_trainer *t, float mu)
{
    if (!t)
        return LIMPID_ERR_INVALID;
    limpid_train_config tc = t->tc;
    tc.mask_loss = mu;
    return set_checked(t, &tc);
}

limpid_status limpid_trainer_set_mask_form(limpid_trainer *t, int form)
{
    if (!t)
        return LIMPID_ERR_INVALID;
    limpid_train_config tc = t->tc;
    tc.mask_form = form;
    return set_checked(t, &tc);
}

limpid_status limpid_trainer_set_gate_loss(limpid_trainer *t, float nu)
{
    if (!t)
        return LIMPID_ERR_INVALID;
    limpid_train_config tc = t->tc;
    tc.gate_loss = nu;
    return set_checked(t, &tc);
}

int64_t limpid_trainer_steps_done(const limpid_trainer *t) { return t ? t->step : 0; }

const limpid_train_config *limpid_trainer_train_config(const limpid_trainer *t)
{
    return t ? &t->tc : NULL;
}

const limpid_config *limpid_trainer_model_config(const limpid_trainer *t)
{
    return t ? &t->cfg : NULL;
}

/* ------------------------------------------------------------------------ */
/* Loss */

static limpid_status check_inputs(const limpid_trainer *t, const float *clean,
                                  const float *noisy, const int *cls, int n)
{
    if (!clean)
        return LIMPID_ERR_INVALID;
    if (t->cfg.task == LIMPID_TASK_DENOISE && !noisy)
        return LIMPID_ERR_INVALID;
    if (t->cfg.task == LIMPID_TASK_TEXTURE) {
        if (!cls && t->cfg.n_classes != 1)
            return LIMPID_ERR_INVALID; /* only a single-class model may omit the ids */
        for (int i = 0; cls && i < n; i++)
            if (cls[i] < 0 || cls[i] >= t->cfg.n_classes)
                return LIMPID_ERR_INVALID;
    }
    return LIMPID_OK;
}

/* Loss weights lw[f][n] = 1 - lambda + lambda * P[f][n] / mean(P), P = re^2 + im^2 of the
 * noisy features (cond), the mean over the ld columns of the batch (loss_norm BATCH) or over
 * each item's Lf columns (ITEM, LOG). Returns 0 (no weighting) when loss_weight is 0 or the
 * model is not an STFT denoiser. */
static int loss_weights(limpid_trainer *t, size_t ld, int nb)
{
    const float lam = t->tc.loss_weight;
    if (!(lam > 0.0f) || !t->lw || !t->cond)
        return 0;
    const int F = t->Cx / 2;
    const size_t Lf = (size_t)t->Lf;
    const int per_item = t->tc.loss_norm != LIMPID_LOSS_NORM_BATCH;
    double *sum = t->isse; /* [nb] power sums (isse is free until the loss is summed) */
    for (int b = 0; b < nb; b++)
        sum[b] = 0.0;
    for (int f = 0; f < F; f++) {
        const float *re = t->cond + (size_t)f * ld, *im = t->cond + (size_t)(F + f) * ld;
        float *w = t->lw + (size_t)f * ld;
        for (int b = 0; b < nb; b++) {
            double s = 0.0;
            for (size_t n = (size_t)b * Lf; n < (size_t)(b + 1) * Lf; n++) {
                w[n] = re[n] * re[n] + im[n] * im[n];
                s += w[n];
            }
            sum[per_item ? b : 0] += s;
        }
    }
    if (!per_item) {
        const double mean = sum[0] / ((double)F * (double)ld) + 1e-20;
        const float a = 1.0f - lam, k = (float)((double)lam / mean);
        for (size_t i = 0; i < (size_t)F * ld; i++)
            t->lw[i] = a + k * t->lw[i];
        return 1;
    }
    for (int b = 0; b < nb; b++) {
        const double mean = sum[b] / ((double)F * (double)Lf) + 1e-20;
        const float a = 1.0f - lam, k = (float)((double)lam / mean);
        for (int f = 0; f < F; f++) {
            float *w = t->lw + (size_t)f * ld + (size_t)b * Lf;
            for (size_t n = 0; n < Lf; n++)
                w[n] = a + k * w[n];
        }
    }
    return 1;
}

/* LOSS_NORM_NOISE(_DB) over nb items: E_b = sum over item b's bins of |D(pred) - D(x0)|^2
 * and N_b = sum |D(cond) - D(x0)|^2 (its noise), r_b = E_b / N_b, item loss l_b = r_b (NOISE)
 * or ln(1 + r_b / NOISE_DB_EPS) (NOISE_DB). Without dpred (forward_batch): isse[b] = Cx Lf
 * l_b, so that sse / count is the mean over items of l_b, and N_b, r_b kept in nr. N_b has
 * 1e-3 of the item's clean energy added (an item with next to no noise counts as one at 30 dB
 * SNR). With dpred, after forward_batch on the same batch: only the gradient of sse / count,
 * (1 / nb) (dl_b / dr_b) (1 / N_b) J^T 2 (D(pred) - D(x0)) per bin, where J^T e =
 * m^k (e + k u^ (u^ . e)) with m = |u|, u^ = u / m. */
#define NOISE_DB_EPS 0.01
static void noise_norm_loss(limpid_trainer *t, size_t ld, int nb, float *dpred)
{
    const int F = t->Cx / 2;
    const size_t Lf = (size_t)t->Lf;
    const double k = 1.0 / (double)t->cfg.compress_exp - 1.0;
    const int db = t->tc.loss_norm == LIMPID_LOSS_NORM_NOISE_DB;
    for (int b = 0; b < nb && !dpred; b++) {
        double E = 0.0, N = 0.0, C = 0.0;
        for (int f = 0; f < F; f++) {
            const size_t re = (size_t)f * ld + (size_t)b * Lf, im = re + (size_t)F * ld;
            for (size_t n = 0; n < Lf; n++) {
                double er, ei, sr, si, yr, yi;
                lpi_decompress_bin(t->pred[re + n], t->pred[im + n], k, &er, &ei);
                lpi_decompress_bin(t->x0[re + n], t->x0[im + n], k, &sr, &si);
                lpi_decompress_bin(t->cond[re + n], t->cond[im + n], k, &yr, &yi);
                E += (er - sr) * (er - sr) + (ei - si) * (ei - si);
                N += (yr - sr) * (yr - sr) + (yi - si) * (yi - si);
                C += sr * sr + si * si;
            }
        }
        N += 1e-3 * C + 1e-30;
        const double r = E / N;
        t->isse[b] = (double)t->Cx * (double)Lf * (db ? log1p(r / NOISE_DB_EPS) : r);
        t->nr[2 * b] = N;
        t->nr[2 * b + 1] = r;
    }
    /* (isse stays forward_batch's, with the mask loss's term in it) */
    for (int b = 0; b < nb && dpred; b++) {
        const double N = t->nr[2 * b], r = t->nr[2 * b + 1];
        const double g = 2.0 / ((double)nb * N) * (db ? 1.0 / (NOISE_DB_EPS + r) : 1.0);
        for (int f = 0; f < F; f++) {
            const size_t re = (size_t)f * ld + (size_t)b * Lf, im = re + (size_t)F * ld;
            for (size_t n = 0; n < Lf; n++) {
                const double ur = t->pred[re + n], ui = t->pred[im + n];
                double er, ei, sr, si;
                lpi_decompress_bin((float)ur, (float)ui, k, &er, &ei);
                lpi_decompress_bin(t->x0[re + n], t->x0[im + n], k, &sr, &si);
                er -= sr;
                ei -= si;
                const double m = sqrt(ur * ur + ui * ui);
                double jr = 0.0, ji = 0.0;
                if (m > 0.0) {
                    const double mk = k == 1.0 ? m : pow(m, k);
                    const double ue = (ur * er + ui * ei) / m;
                    jr = mk * (er + k * ur / m * ue);
                    ji = mk * (ei + k * ui / m * ue);
                }
                dpred[re + n] = (float)(g * jr);
                dpred[im + n] = (float)(g * ji);
            }
        }
    }
}

/* The network and the head on x (layout [Cx][nb*Lf]) at the items' steps ts[b] (abar[b]
 * their abar): out, then pred. netc: the network's conditioning (NULL: none). */
static void net_pass(limpid_trainer *t, const float *params, const float *x, const float *ts,
                     const double *abar, const float *netc, int nb)
{
    const int Lf = t->Lf, Cx = t->Cx;
    const size_t ld = (size_t)nb * (size_t)Lf;
    const float *xin = x;
    if (t->xin) { /* input_scale: each item's columns scaled by its own sqrt(abar) */
        for (int c = 0; c < Cx; c++)
            for (int b = 0; b < nb; b++) {
                size_t o = (size_t)c * ld + (size_t)b * Lf;
                lpi_net_input(&t->cfg, abar[b], x + o, (size_t)Lf, t->xin + o);
            }
        xin = t->xin;
    }
    lpi_net_forward(&t->L, params, t->ws, xin, netc, ts, t->L.K > 0 ? t->cls : NULL, nb, Lf,
                    t->out);
    lpi_front_add(&t->L, t->out, ld, t->ncond, ld, ld);
    lpi_head_forward(&t->cfg, t->out, t->Cc > 0 ? t->cond : NULL, t->ncond, x, ld, t->pred);
}

/* self_refine (limpid_train_config): every item run at t = T from x_T = q_sample(abar_T, x0,
 * eps) (pred = the estimate x0^), then each item at t < T gets x_t from the DDIM step T -> t
 * on x0^, in place of the q_sample of the clean x0 that forward_batch made. x0^ is data here:
 * the backward pass runs through the second pass only. */
static void refine_xt(limpid_trainer *t, const float *params, const float *netc, int nb)
{
    const int Lf = t->Lf, Cx = t->Cx, T = t->cfg.steps_T;
    const size_t ld = (size_t)nb * (size_t)Lf;
    int any = 0;
    for (int b = 0; b < nb; b++)
        any |= t->tstep[b] < (float)T;
    if (!any)
        return; /* every item is at T: x_t is x_T already */
    const double aT = lpi_schedule_abar(&t->sched, (double)T);
    for (int b = 0; b < nb; b++) {
        t->tT[b] = (float)T;
        t->abT[b] = aT;
    }
    for (int c = 0; c < Cx; c++)
        for (int b = 0; b < nb; b++) {
            size_t o = (size_t)c * ld + (size_t)b * Lf;
            lpi_q_sample(aT, t->x0 + o, t->eps + o, t->xT + o, (size_t)Lf);
        }
    net_pass(t, params, t->xT, t->tT, t->abT, netc, nb);
    const double sT = sqrt(aT), nT = sqrt(1.0 - aT);
    for (int b = 0; b < nb; b++) {
        if (t->tstep[b] >= (float)T)
            continue;
        const double st = sqrt(t->abar[b]), nt = sqrt(1.0 - t->abar[b]);
        for (int c = 0; c < Cx; c++) {
            const size_t o = (size_t)c * ld + (size_t)b * Lf;
            for (int n = 0; n < Lf; n++) {
                const double x0h = t->pred[o + n];
                const double eh = ((double)t->xT[o + n] - sT * x0h) / nT;
                t->xt[o + n] = (float)(st * x0h + nt * eh);
            }
        }
    }
}

/* Loss of nb items (item b at clean/noisy + b*crop_samples): features x0 (and cond), x_t,
 * network output, prediction and target. The caller has filled tstep[b], abar[b] and the
 * noise eps of each item. *sse = sum of squared errors over Cx*nb*Lf values; pred and tgt
 * hold the two sides (layout [Cx][nb*Lf]) for the backward pass. refine: x_t of the items
 * at t < T from the network's own estimate (self_refine; refine_xt). */
static limpid_status forward_batch(limpid_trainer *t, const float *params, const float *clean,
                                   const float *noisy, const int *cls, int nb, int refine,
                                   double *sse)
{
    const int Lf = t->Lf, Cx = t->Cx;
    const size_t ld = (size_t)nb * (size_t)Lf;
    const size_t stride = (size_t)t->tc.crop_samples;
    /* Features per item, items spread over up to LPI_PREP_THREADS threads: each item's
     * result is independent of the thread that made it, so training stays deterministic. */
    limpid_status st = LIMPID_OK;
    const int nthr = prep_threads(nb);
#pragma omp parallel for num_threads(nthr) schedule(static) reduction(max : st)
    for (int b = 0; b < nb; b++) {
        const int w = lpi_thread_index();
        limpid_status sb = lpi_features_from_audio(&t->cfg, t->stft_w[w],
                                                   clean + (size_t)b * stride, t->n_used,
                                                   t->x0 + (size_t)b * Lf, ld, t->scratch_w[w]);
        if (sb == LIMPID_OK && t->Cc > 0)
            sb = lpi_features_from_audio(&t->cfg, t->stft_w[w], noisy + (size_t)b * stride,
                                         t->n_used, t->cond + (size_t)b * Lf, ld,
                                         t->scratch_w[w]);
        t->cls[b] = cls ? cls[b] : 0;
        if (sb > st)
            st = sb;
    }
    if (st != LIMPID_OK)
        return st;
    if (t->L.has_feat_scale) /* feature_norm CLASS: each item's bins by its class's scales */
        for (int b = 0; b < nb; b++)
            lpi_feature_scale(&t->cfg, &t->L, params, t->cls[b], 1, t->x0, ld, (size_t)b * Lf,
                              (size_t)Lf);
    /* x_t and target per item: one abar per item, elementwise per channel row */
    for (int c = 0; c < Cx; c++) {
        for (int b = 0; b < nb; b++) {
            size_t o = (size_t)c * ld + (size_t)b * Lf;
            lpi_q_sample(t->abar[b], t->x0 + o, t->eps + o, t->xt + o, (size_t)Lf);
            lpi_target_from_x0_eps(t->cfg.target, t->abar[b], t->x0 + o, t->eps + o,
                                   t->tgt + o, (size_t)Lf);
        }
    }
    /* (each item's noise-floor track starts at its first frame, as a file's does) */
    const float *netc = t->Cc > 0 ? lpi_cond_features(&t->cfg, t->cond, ld, ld, (size_t)Lf, NULL,
                                                      t->ncond)
                                  : NULL;
    if (t->front) /* the per-bin front end: extra cond rows and threshold offsets */
        lpi_front_forward(&t->L, params, t->front, t->ncond, ld, nb, Lf);
    if (refine && t->xT)
        refine_xt(t, params, netc, nb);
    net_pass(t, params, t->xt, t->tstep, t->abar, netc, nb);
    /* squared errors per item (isse[b]), weighted when loss_weight > 0 */
    const int noise_norm = t->tc.loss_norm >= LIMPID_LOSS_NORM_NOISE;
    const int weighted = !noise_norm && loss_weights(t, ld, nb);
    for (int b = 0; b < nb; b++)
        t->isse[b] = 0.0;
    if (noise_norm)
        noise_norm_loss(t, ld, nb, NULL);
    for (int c = 0; c < Cx && !noise_norm; c++) { /* (weighted: row c is bin c mod bins) */
        const float *w = weighted ? t->lw + (size_t)(c % (Cx / 2)) * ld : NULL;
        const size_t o = (size_t)c * ld;
        for (int b = 0; b < nb; b++) {
            double s = 0.0;
            for (size_t n = (size_t)b * (size_t)Lf; n < (size_t)(b + 1) * (size_t)Lf; n++) {
                double d = (double)t->pred[o + n] - (double)t->tgt[o + n];
                s += (w ? (double)w[n] : 1.0) * d * d;
            }
            t->isse[b] += s;
        }
    }
    if (t->tc.mask_loss > 0.0f && t->cond) { /* the gain term (item b: mu[b]) */
        for (int b = 0; b < nb; b++)
            t->mu[b] = t->tc.mask_loss * (float)(1.0 - t->abar[b]);
        lpi_head_mask_loss(&t->cfg, t->tc.mask_form, t->out, t->cond, t->ncond, t->x0,
                           weighted ? t->lw : NULL, ld, nb, Lf, t->mu, t->isse, NULL, NULL);
    }
    if (t->tc.gate_loss > 0.0f && t->cond) { /* the gate term (item b: mu[2B + b]) */
        float *gmu = t->mu + 2 * (size_t)t->B;
        for (int b = 0; b < nb; b++)
            gmu[b] = t->tc.gate_loss * (float)(1.0 - t->abar[b]);
        lpi_head_gate_loss(&t->cfg, t->out, t->cond, t->x0, weighted ? t->lw : NULL, ld, nb, Lf,
                           gmu, t->isse, NULL, NULL);
    }
    double s = 0.0;
    for (int b = 0; b < nb; b++)
        s += t->isse[b];
    *sse = s;
    return LIMPID_OK;
}

/* eps[c][b*Lf + n] for n < Lf from rng, channel-major (the order is part of the format of a
 * run: changing it changes every trained model). */
static void draw_eps(limpid_trainer *t, lpi_rng *r, int b, size_t ld)
{
    for (int c = 0; c < t->Cx; c++) {
        lpi_rng_normal_fill(r, t->eps + (size_t)c * ld + (size_t)b * t->Lf, (size_t)t->Lf);
    }
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ------------------------------------------------------------------------ */
/* Step */

/* The draws of step t->step (diffusion step and noise per item), the loss on params and its
 * gradient into t->g: the part of limpid_trainer_step before the update. *mse gets the
 * reported loss (weighted squared error / count); the gradient is that of the objective,
 * which for LOG is (mean isse) / count * sum_b ln isse[b] with the mean held fixed. */
static limpid_status loss_and_grad(limpid_trainer *t, const float *params, const float *clean,
                                   const float *noisy, const int *cls, double *mse)
{
    const int B = t->B, T = t->cfg.steps_T;
    const int64_t s = t->step;
    const size_t ld = (size_t)B * (size_t)t->Lf;
    const size_t count = (size_t)t->Cx * ld;
#pragma omp parallel for num_threads(prep_threads(B)) schedule(static)
    for (int b = 0; b < B; b++) {
        lpi_rng r = lpi_rng_make(t->tc.seed, (uint64_t)s, (uint64_t)b);
        int tb = 1 + (int)(lpi_rng_u64(&r) % (uint64_t)T);
        if (t->tc.t_top > 0.0f && lpi_rng_uniform(&r) < t->tc.t_top)
            tb = T; /* (no draw at all when t_top = 0: older runs stay bit-exact) */
        t->tstep[b] = (float)tb;
        t->abar[b] = lpi_schedule_abar(&t->sched, (double)tb);
        draw_eps(t, &r, b, ld);
    }
    double sse;
    limpid_status st = forward_batch(t, params, clean, noisy, cls, B, 1, &sse);
    if (st != LIMPID_OK)
        return st;
    *mse = sse / (double)count;
    if (!isfinite(*mse))
        return LIMPID_ERR_NUMERIC;

    /* d loss / d pred = 2 w (pred - tgt) / count, per item times isse_mean / isse[b] for LOG */
    const int Cx = t->Cx;
    const int noise_norm = t->tc.loss_norm >= LIMPID_LOSS_NORM_NOISE;
    /* (lw: made by forward_batch) */
    const int weighted = !noise_norm && t->tc.loss_weight > 0.0f && t->lw && t->cond;
    if (noise_norm)
        noise_norm_loss(t, ld, B, t->dpred);
    for (int b = 0; b < B && !noise_norm; b++) {
        double k = 2.0 / (double)count;
        if (t->tc.loss_norm == LIMPID_LOSS_NORM_LOG)
            k *= (sse / (double)B) / (t->isse[b] + 1e-30);
        const float k2 = (float)k;
        const size_t n0 = (size_t)b * (size_t)t->Lf, n1 = n0 + (size_t)t->Lf;
        for (int c = 0; c < Cx; c++) {
            const float *w = weighted ? t->lw + (size_t)(c % (Cx / 2)) * ld : NULL;
            const size_t o = (size_t)c * ld;
            for (size_t n = n0; n < n1; n++)
                t->dpred[o + n] = k2 * (w ? w[n] : 1.0f) * (t->pred[o + n] - t->tgt[o + n]);
        }
    }
    lpi_head_backward(&t->cfg, t->dpred, t->Cc > 0 ? t->cond : NULL, t->ncond, t->xt, t->out, ld,
                      t->dout);
    const int mask = t->tc.mask_loss > 0.0f && t->cond, gate = t->tc.gate_loss > 0.0f && t->cond;
    float *k = t->mu + B; /* d loss / d (item b's term) = 1 / count, x mean / isse[b] (LOG) */
    for (int b = 0; b < B && (mask || gate); b++)
        k[b] = (float)((t->tc.loss_norm == LIMPID_LOSS_NORM_LOG
                            ? (sse / (double)B) / (t->isse[b] + 1e-30)
                            : 1.0) /
                       (double)count);
    if (mask) /* mu[b] as forward_batch set it */
        lpi_head_mask_loss(&t->cfg, t->tc.mask_form, t->out, t->cond, t->ncond, t->x0,
                           weighted ? t->lw : NULL, ld, B, t->Lf, t->mu, NULL, t->dout, k);
    if (gate) /* mu[2B + b] likewise */
        lpi_head_gate_loss(&t->cfg, t->out, t->cond, t->x0, weighted ? t->lw : NULL, ld, B,
                           t->Lf, t->mu + 2 * (size_t)B, NULL, t->dout, k);
    memset(t->g, 0, t->L.n_params * sizeof *t->g);
    lpi_net_backward(&t->L, params, t->ws, t->dout, t->g, NULL, t->dcond);
    if (t->front) /* o1 (o3 with the gate) = out + offsets: d offsets = those rows of d out */
        lpi_front_backward(&t->L, params, t->front, t->ncond, ld, B, t->Lf, t->dout, ld,
                           t->dcond, t->g);
    return LIMPID_OK;
}

limpid_status lpi_trainer_loss_grad(limpid_trainer *t, const float *params, const float *clean,
                                    const float *noisy, const int *cls, double *isse,
                                    double *count, const float **grad)
{
    if (!t)
        return LIMPID_ERR_INVALID;
    limpid_status st = check_inputs(t, clean, noisy, cls, t->B);
    if (st != LIMPID_OK)
        return st;
    double mse;
    st = loss_and_grad(t, params ? params : t->p, clean, noisy, cls, &mse);
    if (isse)
        memcpy(isse, t->isse, (size_t)t->B * sizeof *isse);
    if (count)
        *count = (double)t->Cx * (double)t->B * (double)t->Lf;
    if (grad)
        *grad = t->g;
    return st;
}

limpid_status limpid_trainer_step(limpid_trainer *t, const float *clean, const float *noisy,
                                  const int *cls, float *loss)
{
    if (!t)
        return LIMPID_ERR_INVALID;
    limpid_status st = check_inputs(t, clean, noisy, cls, t->B);
    if (st != LIMPID_OK)
        return st;
    const double t0 = now_seconds();
    const int64_t s = t->step;
    const size_t np = t->L.n_params;
    double mse = NAN;
    st = loss_and_grad(t, t->p, clean, noisy, cls, &mse);
    if (loss && (st == LIMPID_OK || st == LIMPID_ERR_NUMERIC))
        *loss = (float)mse;
    if (st != LIMPID_OK)
        return st;

    double gsq = 0.0;
    for (size_t i = 0; i < np; i++)
        gsq += (double)t->g[i] * (double)t->g[i];
    if (!isfinite(gsq))
        return LIMPID_ERR_NUMERIC; /* nothing updated: weights, moments and counter intact */
    const double gnorm = sqrt(gsq);
    float scale = 1.0f;
    if (t->tc.clip > 0.0f && gnorm > (double)t->tc.clip)
        scale = (float)((double)t->tc.clip / gnorm);

    /* AdamW (Loshchilov & Hutter) with bias correction, as torch.optim.AdamW:
     * p *= 1 - lr*wd (decay tensors); p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps) */
    const double lr = lr_at(&t->tc, s);
    const float b1 = t->tc.beta1, b2 = t->tc.beta2, aeps = t->tc.adam_eps;
    const double kstep = (double)(s + 1);
    const double bc1 = 1.0 - pow((double)b1, kstep), bc2 = 1.0 - pow((double)b2, kstep);
    const float step_size = (float)(lr / bc1);
    const float inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2));
    const float decayf = (float)(1.0 - lr * (double)t->tc.weight_decay);
    for (int k = 0; k < t->L.n_tensors; k++) {
        const lpi_tensor_desc *td = &t->L.tensors[k];
        const float df = td->decay ? decayf : 1.0f;
        float *p = t->p + td->off, *m = t->m + td->off, *v = t->v + td->off;
        const float *g = t->g + td->off;
        for (size_t i = 0; i < td->count; i++) {
            float gi = g[i] * scale;
            m[i] = b1 * m[i] + (1.0f - b1) * gi;
            v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
            p[i] = p[i] * df - step_size * m[i] / (sqrtf(v[i]) * inv_sqrt_bc2 + aeps);
        }
    }
    /* EMA with warm-up: early weights are forgotten quickly */
    double d = (1.0 + (double)s) / (10.0 + (double)s);
    if (d > (double)t->tc.ema_decay)
        d = (double)t->tc.ema_decay;
    const float df = (float)d, di = (float)(1.0 - d);
    for (size_t i = 0; i < np; i++)
        t->ema[i] = df * t->ema[i] + di * t->p[i];

    t->step = s + 1;
    t->prov.train_steps = (uint64_t)t->step;
    t->prov.final_loss = (double)(float)mse; /* the value the caller got */
    t->prov.train_seconds += now_seconds() - t0;
    return LIMPID_OK;
}

/* ------------------------------------------------------------------------ */
/* Validation */

limpid_status limpid_trainer_validate(limpid_trainer *t, const float *clean, const float *noisy,
                                      const int *cls, int n_items, float *loss)
{
    if (!t || n_items < 1)
        return LIMPID_ERR_INVALID;
    limpid_status st = check_inputs(t, clean, noisy, cls, n_items);
    if (st != LIMPID_OK)
        return st;
    const float *params = t->tc.ema_decay > 0.0f ? t->ema : t->p;
    const int T = t->cfg.steps_T;
    const size_t stride = (size_t)t->tc.crop_samples;
    double sse_all = 0.0, count_all = 0.0;
    for (int i0 = 0; i0 < n_items; i0 += t->B) {
        int nb = n_items - i0 < t->B ? n_items - i0 : t->B;
        const size_t ld = (size_t)nb * (size_t)t->Lf;
        for (int b = 0; b < nb; b++) {
            int64_t i = i0 + b;
            int tb = 1 + (int)((i * 7919) % T);
            t->tstep[b] = (float)tb;
            t->abar[b] = lpi_schedule_abar(&t->sched, (double)tb);
            lpi_rng r = lpi_rng_make(t->tc.seed ^ 0x5A17u, (uint64_t)i, 0);
            draw_eps(t, &r, b, ld);
        }
        double sse;
        st = forward_batch(t, params, clean + (size_t)i0 * stride,
                           noisy ? noisy + (size_t)i0 * stride : NULL, cls ? cls + i0 : NULL,
                           nb, 0, &sse);
        if (st != LIMPID_OK)
            return st;
        sse_all += sse;
        count_all += (double)t->Cx * (double)ld;
    }
    double mse = sse_all / count_all;
    if (loss)
        *loss = (float)mse;
    t->prov.val_loss = (double)(float)mse;
    return isfinite(mse) ? LIMPID_OK : LIMPID_ERR_NUMERIC;
}

/* ------------------------------------------------------------------------ */
/* Provenance and export */

void limpid_trainer_set_provenance(limpid_trainer *t, const limpid_provenance *prov)
{
    if (!t || !prov)
        return;
    /* only the descriptive fields: the counters belong to the trainer */
    snprintf(t->prov.data, sizeof t->prov.data, "%s", prov->data);
    snprintf(t->prov.command, sizeof t->prov.command, "%s", prov->command);
    if (prov->created[0])
        snprintf(t->prov.created, sizeof t->prov.created, "%s", prov->created);
}

const limpid_provenance *limpid_trainer_provenance(const limpid_trainer *t)
{
    return t ? &t->prov : NULL;
}

static void utc_now_iso(char *buf, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "1970-01-01T00:00:00Z");
}

limpid_status limpid_trainer_export(limpid_trainer *t, int use_ema, const limpid_provenance *prov,
                                    limpid_model **out)
{
    if (!t || !out)
        return LIMPID_ERR_INVALID;
    *out = NULL;
    limpid_model *m = NULL;
    limpid_status st = lpi_model_alloc(&m, &t->cfg);
    if (st != LIMPID_OK)
        return st;
    if (m->layout.n_params != t->L.n_params) {
        limpid_model_destroy(m);
        return LIMPID_ERR_STATE;
    }
    const float *src = (use_ema && t->tc.ema_decay > 0.0f) ? t->ema : t->p;
    memcpy(m->params, src, t->L.n_params * sizeof *src);
    limpid_provenance pv = prov ? *prov : t->prov;
    if (prov) {
        if (!pv.data[0])
            snprintf(pv.data, sizeof pv.data, "%s", t->prov.data);
        if (!pv.command[0])
            snprintf(pv.command, sizeof pv.command, "%s", t->prov.command);
    }
    pv.created[sizeof pv.created - 1] = '\0';
    pv.data[sizeof pv.data - 1] = '\0';
    pv.command[sizeof pv.command - 1] = '\0';
    pv.seed = t->tc.seed;
    pv.train_steps = (uint64_t)t->step;
    pv.train_seconds = t->prov.train_seconds;
    pv.final_loss = t->prov.final_loss;
    pv.val_loss = t->prov.val_loss;
    if (!pv.created[0])
        utc_now_iso(pv.created, sizeof pv.created);
    snprintf(pv.tool_version, sizeof pv.tool_version, "%s", limpid_version());
    m->prov = pv;
    *out = m;
    return LIMPID_OK;
}

/* ------------------------------------------------------------------------ */
/* Checkpoints */

#define CK_KV_CAP 256

/* The training configuration as key/values; floats are stored as doubles (exact). */
static int train_to_kv(const limpid_trainer *t, lpi_kv *kv)
{
    const limpid_train_config *tc = &t->tc;
    int n = 0;
    lpi_kv_set_i64(&kv[n++], "train.batch", tc->batch);
    lpi_kv_set_i64(&kv[n++], "train.crop_samples", tc->crop_samples);
    lpi_kv_set_f64(&kv[n++], "train.lr", tc->lr);
    lpi_kv_set_f64(&kv[n++], "train.lr_min", tc->lr_min);
    lpi_kv_set_i64(&kv[n++], "train.warmup", tc->warmup);
    lpi_kv_set_i64(&kv[n++], "train.total_steps", tc->total_steps);
    lpi_kv_set_f64(&kv[n++], "train.weight_decay", tc->weight_decay);
    lpi_kv_set_f64(&kv[n++], "train.beta1", tc->beta1);
    lpi_kv_set_f64(&kv[n++], "train.beta2", tc->beta2);
    lpi_kv_set_f64(&kv[n++], "train.adam_eps", tc->adam_eps);
    lpi_kv_set_f64(&kv[n++], "train.clip", tc->clip);
    lpi_kv_set_f64(&kv[n++], "train.ema_decay", tc->ema_decay);
    lpi_kv_set_i64(&kv[n++], "train.seed", (int64_t)tc->seed); /* bits of the uint64 */
    lpi_kv_set_i64(&kv[n++], "train.step", t->step);
    lpi_kv_set_f64(&kv[n++], "train.t_top", tc->t_top);
    lpi_kv_set_f64(&kv[n++], "train.loss_weight", tc->loss_weight);
    lpi_kv_set_i64(&kv[n++], "train.loss_norm", tc->loss_norm);
    lpi_kv_set_f64(&kv[n++], "train.mask_loss", tc->mask_loss);
    lpi_kv_set_i64(&kv[n++], "train.mask_form", tc->mask_form);
    lpi_kv_set_f64(&kv[n++], "train.gate_loss", tc->gate_loss);
    lpi_kv_set_i64(&kv[n++], "train.self_refine", tc->self_refine);
    /* the trainer's own copies of the counters (provenance keys may round them) */
    lpi_kv_set_f64(&kv[n++], "train.seconds", t->prov.train_seconds);
    lpi_kv_set_f64(&kv[n++], "train.final_loss", t->prov.final_loss);
    lpi_kv_set_f64(&kv[n++], "train.val_loss", t->prov.val_loss);
    return n;
}

static const char *const rec_prefix[4] = {"p.", "m.", "v.", "ema."};

static float *state_array(limpid_trainer *t, int which)
{
    switch (which) {
    case 0: return t->p;
    case 1: return t->m;
    case 2: return t->v;
    default: return t->ema;
    }
}

limpid_status limpid_trainer_save_checkpoint(limpid_trainer *t, const char *path)
{
    if (!t || !path)
        return LIMPID_ERR_INVALID;
    limpid_status st = LIMPID_OK;
    const int nrec = 4 * t->L.n_tensors;
    lpi_kv *kv = calloc(CK_KV_CAP, sizeof *kv);
    lpi_rec *rec = calloc((size_t)nrec, sizeof *rec);
    void *buf = NULL;
    size_t len = 0;
    if (!kv || !rec) {
        st = LIMPID_ERR_NOMEM;
        goto done;
    }
    int n = lpi_config_to_kv(&t->cfg, kv, CK_KV_CAP - 32);
    if (n < 0 || n > CK_KV_CAP - 32) {
        st = LIMPID_ERR_STATE;
        goto done;
    }
    int np = lpi_provenance_to_kv(&t->prov, kv + n, CK_KV_CAP - 32 - n);
    if (np < 0 || np > CK_KV_CAP - 32 - n) {
        st = LIMPID_ERR_STATE;
        goto done;
    }
    n += np;
    n += train_to_kv(t, kv + n);

    for (int w = 0; w < 4; w++) {
        const float *arr = state_array(t, w);
        for (int k = 0; k < t->L.n_tensors; k++) {
            const lpi_tensor_desc *td = &t->L.tensors[k];
            lpi_rec *r = &rec[w * t->L.n_tensors + k];
            snprintf(r->name, sizeof r->name, "%s%s", rec_prefix[w], td->name);
            r->ndim = td->ndim;
            r->dims[0] = td->dims[0];
            r->dims[1] = td->ndim > 1 ? td->dims[1] : 0;
            r->data = arr + td->off;
            r->count = td->count;
        }
    }
    lpi_container c;
    memset(&c, 0, sizeof c);
    c.kind = LPI_KIND_CHECKPOINT;
    c.n_kv = n;
    c.kv = kv;
    c.n_rec = nrec;
    c.rec = rec;
    if ((st = lpi_container_write(&c, &buf, &len)) != LIMPID_OK)
        goto done;
    st = lpi_write_file_atomic(path, buf, len);
done:
    free(buf);
    free(kv);
    free(rec);
    return st;
}

/* Fetch a required key of a given type; message and CORRUPT when missing. */
static const lpi_kv *need_kv(const lpi_container *c, const char *key, lpi_kv_type type,
                             const char *path, char *err, size_t errlen)
{
    const lpi_kv *kv = lpi_container_kv(c, key);
    if (!kv) {
        lpi_errf(err, errlen, "%s: checkpoint has no key \"%s\"", path, key);
        return NULL;
    }
    if (kv->type != type) {
        lpi_errf(err, errlen, "%s: checkpoint key \"%s\" has type %d, expected %d", path, key,
                 (int)kv->type, (int)type);
        return NULL;
    }
    return kv;
}

static limpid_status load_train_config(const lpi_container *c, limpid_train_config *tc,
                                       int64_t *step, const char *path, char *err,
                                       size_t errlen)
{
    static const struct {
        const char *key;
        int is_int;
        int64_t lo, hi; /* for integers */
    } spec[] = {
        {"train.batch", 1, 1, 65536},
        {"train.crop_samples", 1, 1, 1 << 26},
        {"train.lr", 0, 0, 0},
        {"train.lr_min", 0, 0, 0},
        {"train.warmup", 1, 0, INT_MAX},
        {"train.total_steps", 1, 1, INT64_MAX},
        {"train.weight_decay", 0, 0, 0},
        {"train.beta1", 0, 0, 0},
        {"train.beta2", 0, 0, 0},
        {"train.adam_eps", 0, 0, 0},
        {"train.clip", 0, 0, 0},
        {"train.ema_decay", 0, 0, 0},
        {"train.seed", 1, INT64_MIN, INT64_MAX},
        {"train.step", 1, 0, INT64_MAX},
    };
    int64_t iv[14];
    double fv[14];
    for (int k = 0; k < (int)(sizeof spec / sizeof spec[0]); k++) {
        const lpi_kv *kv = need_kv(c, spec[k].key, spec[k].is_int ? LPI_KV_I64 : LPI_KV_F64,
                                   path, err, errlen);
        if (!kv)
            return LIMPID_ERR_CORRUPT;
        if (spec[k].is_int) {
            if (kv->i < spec[k].lo || kv->i > spec[k].hi) {
                lpi_errf(err, errlen, "%s: checkpoint key \"%s\" = %lld is outside %lld..%lld",
                         path, spec[k].key, (long long)kv->i, (long long)spec[k].lo,
                         (long long)spec[k].hi);
                return LIMPID_ERR_CORRUPT;
            }
            iv[k] = kv->i;
        } else {
            if (!isfinite(kv->f) || fabs(kv->f) > 1e30) {
                lpi_errf(err, errlen, "%s: checkpoint key \"%s\" = %g is not a usable number",
                         path, spec[k].key, kv->f);
                return LIMPID_ERR_CORRUPT;
            }
            fv[k] = kv->f;
        }
    }
    memset(tc, 0, sizeof *tc);
    tc->batch = (int)iv[0];
    tc->crop_samples = (int)iv[1];
    tc->lr = (float)fv[2];
    tc->lr_min = (float)fv[3];
    tc->warmup = (int)iv[4];
    tc->total_steps = iv[5];
    tc->weight_decay = (float)fv[6];
    tc->beta1 = (float)fv[7];
    tc->beta2 = (float)fv[8];
    tc->adam_eps = (float)fv[9];
    tc->clip = (float)fv[10];
    tc->ema_decay = (float)fv[11];
    tc->seed = (uint64_t)iv[12];
    *step = iv[13];
    /* optional (checkpoints from before it existed: 0) */
    const lpi_kv *kt = lpi_container_kv(c, "train.t_top");
    if (kt && kt->type == LPI_KV_F64 && kt->f >= 0.0 && kt->f <= 1.0)
        tc->t_top = (float)kt->f;
    kt = lpi_container_kv(c, "train.loss_weight");
    if (kt && kt->type == LPI_KV_F64 && kt->f >= 0.0 && kt->f <= 1.0)
        tc->loss_weight = (float)kt->f;
    kt = lpi_container_kv(c, "train.loss_norm");
    if (kt && kt->type == LPI_KV_I64 && kt->i >= LIMPID_LOSS_NORM_BATCH &&
        kt->i <= LIMPID_LOSS_NORM_NOISE_DB)
        tc->loss_norm = (int)kt->i;
    kt = lpi_container_kv(c, "train.mask_loss");
    if (kt && kt->type == LPI_KV_F64 && kt->f >= 0.0 && kt->f <= 100.0)
        tc->mask_loss = (float)kt->f;
    kt = lpi_container_kv(c, "train.mask_form");
    if (kt && kt->type == LPI_KV_I64 &&
        (kt->i == LIMPID_MASK_FORM_RATIO || kt->i == LIMPID_MASK_FORM_PHASE))
        tc->mask_form = (int)kt->i;
    kt = lpi_container_kv(c, "train.gate_loss");
    if (kt && kt->type == LPI_KV_F64 && kt->f >= 0.0 && kt->f <= 100.0)
        tc->gate_loss = (float)kt->f;
    kt = lpi_container_kv(c, "train.self_refine");
    if (kt && kt->type == LPI_KV_I64 && (kt->i == 0 || kt->i == 1))
        tc->self_refine = (int)kt->i;
    return LIMPID_OK;
}

limpid_status limpid_trainer_load_checkpoint(limpid_trainer **out, const char *path, char *err,
                                             size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!out || !path) {
        lpi_errf(err, errlen, "no output or path given");
        return LIMPID_ERR_INVALID;
    }
    *out = NULL;
    char msg[512];
    msg[0] = '\0';
    void *buf = NULL;
    size_t len = 0;
    limpid_status st = lpi_read_file(path, &buf, &len, msg, sizeof msg);
    if (st != LIMPID_OK) {
        if (strstr(msg, path))
            lpi_errf(err, errlen, "%s", msg);
        else
            lpi_errf(err, errlen, "%s: %s", path, msg[0] ? msg : limpid_strerror(st));
        free(buf);
        return st;
    }
    lpi_container c;
    memset(&c, 0, sizeof c);
    msg[0] = '\0';
    st = lpi_container_read(&c, buf, len, msg, sizeof msg);
    free(buf);
    if (st != LIMPID_OK) {
        lpi_errf(err, errlen, "%s: %s", path, msg[0] ? msg : limpid_strerror(st));
        return st;
    }
    limpid_trainer *t = NULL;
    if (c.kind != LPI_KIND_CHECKPOINT) {
        lpi_errf(err, errlen, "%s: not a training checkpoint (container kind %u%s)", path,
                 (unsigned)c.kind, c.kind == LPI_KIND_MODEL ? ", a model file" : "");
        st = LIMPID_ERR_FORMAT;
        goto done;
    }
    limpid_config cfg;
    msg[0] = '\0';
    if ((st = lpi_config_from_container(&c, &cfg, msg, sizeof msg)) != LIMPID_OK) {
        lpi_errf(err, errlen, "%s: %s", path, msg[0] ? msg : limpid_strerror(st));
        goto done;
    }
    limpid_train_config tc;
    int64_t step = 0;
    if ((st = load_train_config(&c, &tc, &step, path, err, errlen)) != LIMPID_OK)
        goto done;
    msg[0] = '\0';
    st = trainer_new(&t, &cfg, NULL, &tc, msg, sizeof msg);
    if (st != LIMPID_OK) {
        lpi_errf(err, errlen, "%s: checkpoint settings refused: %s", path,
                 msg[0] ? msg : limpid_strerror(st));
        if (st == LIMPID_ERR_INVALID)
            st = LIMPID_ERR_CORRUPT;
        goto done;
    }
    for (int w = 0; w < 4; w++) {
        float *arr = state_array(t, w);
        for (int k = 0; k < t->L.n_tensors; k++) {
            const lpi_tensor_desc *td = &t->L.tensors[k];
            char name[64];
            snprintf(name, sizeof name, "%s%s", rec_prefix[w], td->name);
            const lpi_rec *r = lpi_container_rec(&c, name);
            if (!r) {
                lpi_errf(err, errlen, "%s: checkpoint has no tensor \"%s\"", path, name);
                st = LIMPID_ERR_CORRUPT;
                goto done;
            }
            int64_t d1 = td->ndim > 1 ? td->dims[1] : 0;
            int64_t rd1 = r->ndim > 1 ? r->dims[1] : 0;
            if (r->ndim != td->ndim || r->dims[0] != td->dims[0] || rd1 != d1 ||
                r->count != td->count || !r->data) {
                lpi_errf(err, errlen,
                         "%s: tensor \"%s\" has shape [%lld][%lld] (%zu values), expected "
                         "[%lld][%lld] (%zu)",
                         path, name, (long long)r->dims[0], (long long)rd1, r->count,
                         (long long)td->dims[0], (long long)d1, td->count);
                st = LIMPID_ERR_CORRUPT;
                goto done;
            }
            memcpy(arr + td->off, r->data, td->count * sizeof(float));
        }
    }
    t->step = step;
    lpi_provenance_from_container(&c, &t->prov);
    t->prov.seed = tc.seed;
    t->prov.train_steps = (uint64_t)step;
    const lpi_kv *kv;
    if ((kv = lpi_container_kv(&c, "train.seconds")) && kv->type == LPI_KV_F64)
        t->prov.train_seconds = kv->f;
    if ((kv = lpi_container_kv(&c, "train.final_loss")) && kv->type == LPI_KV_F64)
        t->prov.final_loss = kv->f;
    if ((kv = lpi_container_kv(&c, "train.val_loss")) && kv->type == LPI_KV_F64)
        t->prov.val_loss = kv->f;
    *out = t;
    t = NULL;
    st = LIMPID_OK;
done:
    limpid_trainer_destroy(t);
    lpi_container_free(&c);
    return st;
}
