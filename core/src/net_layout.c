/* net_layout.c - the parameter table of the WaveNet stack (see internal.h), its
 * initialisation, and its cost figures. */
#include "internal.h"

#include <stdlib.h>

static int layer_dilation(const limpid_config *cfg, int i)
{
    return 1 << (i % cfg->dilation_cycle);
}

static limpid_status layout_build(lpi_net_layout *L, const limpid_config *cfg, int Cx, int Cc,
                                  int Co, int fr);

limpid_status lpi_net_layout_init(lpi_net_layout *L, const limpid_config *cfg)
{
    const int Cx = limpid_config_feature_channels(cfg);
    const int fr = cfg->front_hidden > 0 ? cfg->front_cond : 0;
    const int Cc = cfg->task != LIMPID_TASK_DENOISE ? 0
                   : cfg->cond == LIMPID_COND_LOGPOW ? Cx / 2
                                                     : Cx + fr * (Cx / 2) /* LOGPOW_FLOOR: 2F */
                                                           + (cfg->floor_slow > 0.0f ? Cx / 2 : 0)
                                                           + (cfg->harmonicity ? LIMPID_HARM_ROWS : 0);
    /* DIRECT: the target; GAIN: g1[bins], g2[bins] = 2*bins = Cx; floor_gate: o3[bins] more */
    const int Co = Cx + (cfg->floor_gate ? Cx / 2 : 0);
    if (cfg->bands <= 0)
        return layout_build(L, cfg, Cx, Cc, Co, fr);
    /* band-resolved: the table is the stack over (item, band) pairs (band.c) */
    const int F = Cx / 2, NB = cfg->bands;
    lpi_band_net *bn = calloc(1, sizeof *bn);
    if (!bn)
        return LIMPID_ERR_NOMEM;
    bn->NB = NB;
    bn->bands = lpi_band_create(F, NB, cfg->band_context, 0.5 * cfg->sample_rate);
    limpid_status st = bn->bands ? layout_build(L, cfg, 1, lpi_band_cond_rows(NB, cfg->band_context),
                                                Co / F, 0)
                                 : LIMPID_ERR_NOMEM;
    if (st != LIMPID_OK) {
        lpi_band_destroy(bn->bands);
        free(bn);
        return st;
    }
    bn->in = *L;
    L->Cx = Cx;
    L->Cc = Cc;
    L->Co = Co;
    L->band = bn;
    /* per frame: NB columns of the inner stack, the band levels (3 rows of F bins, 2 MACs
     * each) and the spread of Co / F rows back to the bins (2 MACs per bin and row) */
    L->macs_per_frame = bn->in.macs_per_frame * NB + 6.0 * F + 2.0 * Co;
    return LIMPID_OK;
}

static limpid_status layout_build(lpi_net_layout *L, const limpid_config *cfg, int Cx, int Cc,
                                  int Co, int fr)
{
    memset(L, 0, sizeof *L);
    const int C = cfg->channels, N = cfg->layers, E = cfg->embed_dim, H = cfg->embed_hidden;
    const int K = cfg->task == LIMPID_TASK_TEXTURE ? cfg->n_classes : 0;
    L->C = C; L->N = N; L->E = E; L->H = H; L->Cx = Cx; L->Cc = Cc; L->Co = Co; L->K = K;
    L->Fs = cfg->cond_snr && Cc > 0 ? Cx / 2 : 0;
    L->layer = calloc((size_t)N, sizeof *L->layer);
    int max_tensors = 24 + 7 * N;
    L->tensors = calloc((size_t)max_tensors, sizeof *L->tensors);
    if (!L->layer || !L->tensors) {
        lpi_net_layout_free(L);
        return LIMPID_ERR_NOMEM;
    }
    size_t off = 0;
#define ADD(field, nm, r, c, dec)                                                      \
    do {                                                                               \
        lpi_tensor_desc *td = &L->tensors[L->n_tensors++];                             \
        snprintf(td->name, sizeof td->name, "%s", nm);                                 \
        td->ndim = (c) > 0 ? 2 : 1;                                                    \
        td->dims[0] = (r);                                                             \
        td->dims[1] = (c) > 0 ? (c) : 0;                                               \
        td->off = off;                                                                 \
        td->count = (size_t)(r) * (size_t)((c) > 0 ? (c) : 1);                         \
        td->decay = dec;                                                               \
        (field) = off;                                                                 \
        off += td->count;                                                              \
    } while (0)
    ADD(L->in_w, "in.w", C, Cx, 1);
    ADD(L->in_b, "in.b", C, 0, 0);
    if (Cc > 0) {
        ADD(L->cond_w, "cond.w", C, Cc, 1);
        ADD(L->cond_b, "cond.b", C, 0, 0);
    }
    ADD(L->fc1_w, "emb.fc1.w", H, E, 1);
    ADD(L->fc1_b, "emb.fc1.b", H, 0, 0);
    ADD(L->fc2_w, "emb.fc2.w", H, H, 1);
    ADD(L->fc2_b, "emb.fc2.b", H, 0, 0);
    if (K > 0)
        ADD(L->class_table, "class.table", K, H, 0);
    /* lookahead: centred layers first to last while the budget allows */
    int budget = cfg->lookahead;
    double macs = (double)C * Cx + (double)C * Cc + (double)C * C + (double)Co * C;
    for (int i = 0; i < N; i++) {
        lpi_layer_off *ly = &L->layer[i];
        char nm[48];
        ly->dilation = layer_dilation(cfg, i);
        if (budget == LIMPID_LOOKAHEAD_NONCAUSAL) {
            ly->shift = ly->dilation;
        } else if (budget >= ly->dilation) {
            ly->shift = ly->dilation;
            budget -= ly->dilation;
        } else {
            ly->shift = 0;
            budget = 0; /* once causal, the rest are causal */
        }
        snprintf(nm, sizeof nm, "layer.%d.emb.w", i); ADD(ly->emb_w, nm, C, H, 1);
        snprintf(nm, sizeof nm, "layer.%d.emb.b", i); ADD(ly->emb_b, nm, C, 0, 0);
        snprintf(nm, sizeof nm, "layer.%d.dil.w", i); ADD(ly->dil_w, nm, 2 * C, 3 * C, 1);
        snprintf(nm, sizeof nm, "layer.%d.dil.b", i); ADD(ly->dil_b, nm, 2 * C, 0, 0);
        if (Cc > 0) {
            snprintf(nm, sizeof nm, "layer.%d.cnd.w", i);
            ADD(ly->cnd_w, nm, 2 * C, C, 1);
        }
        snprintf(nm, sizeof nm, "layer.%d.out.w", i); ADD(ly->out_w, nm, 2 * C, C, 1);
        snprintf(nm, sizeof nm, "layer.%d.out.b", i); ADD(ly->out_b, nm, 2 * C, 0, 0);
        L->receptive_field += 2 * ly->dilation;
        L->lookahead += ly->shift;
        macs += (double)2 * C * 3 * C + (Cc > 0 ? (double)2 * C * C : 0) + (double)2 * C * C;
    }
    L->receptive_field += 1;
    ADD(L->skip_w, "skip.w", C, C, 1);
    ADD(L->skip_b, "skip.b", C, 0, 0);
    ADD(L->final_w, "final.w", Co, C, 1);
    ADD(L->final_b, "final.b", Co, 0, 0);
    if (cfg->front_hidden > 0) {
        const int F = Cx / 2, fh = cfg->front_hidden;
        L->Fb = F; L->fh = fh; L->fnb = cfg->front_bins; L->fnt = cfg->front_frames;
        L->fr = fr;
        L->fg = cfg->floor_gate ? 1 : 0;
        const int ny = 1 + fr + L->fg;
        L->fk = 2 * (2 * L->fnb + 1) * L->fnt;
        ADD(L->fw1, "front.w1", fh, L->fk, 1);
        ADD(L->fb1, "front.b1", fh, 0, 0);
        ADD(L->fw2, "front.w2", fh, fh, 1);
        ADD(L->fb2, "front.b2", fh, 0, 0);
        ADD(L->fw3, "front.w3", ny, fh, 1);
        ADD(L->fb3, "front.b3", ny, 0, 0);
        L->front_macs_per_frame = (double)F * ((double)fh * L->fk + (double)fh * fh +
                                               (double)ny * fh);
        L->receptive_field += L->fnt - 1; /* its past frames come before the stack's */
    }
    if (cfg->feature_norm == LIMPID_FEATURE_NORM_CLASS && K > 0) {
        /* data statistics, not trained: no gradient reaches it, no decay */
        const int bins = lpi_feature_bins(cfg);
        ADD(L->feat_scale, "feat.scale", K, bins, 0);
        L->has_feat_scale = 1;
        if (cfg->features == LIMPID_FEATURES_MAGNITUDE) {
            ADD(L->feat_mean, "feat.mean", K, bins, 0);
            L->has_feat_mean = 1;
        }
    }
#undef ADD
    L->n_params = off;
    L->macs_per_frame = macs;
    return LIMPID_OK;
}

void lpi_net_layout_free(lpi_net_layout *L)
{
    if (!L)
        return;
    free(L->layer);
    free(L->tensors);
    L->layer = NULL;
    L->tensors = NULL;
    if (L->band) { /* its inner layout shares the tables just freed */
        lpi_band_destroy(L->band->bands);
        free(L->band);
        L->band = NULL;
    }
}

void lpi_net_init_params(const lpi_net_layout *L, float *params, uint64_t seed)
{
    /* Weights: uniform(-a, a) with a = sqrt(3 / fan_in) (unit-variance preserving for linear
     * layers, as PyTorch's kaiming_uniform with gain 1 for fan_in); biases 0; class table
     * N(0, 1); final layer and front.w3 0 so an untrained model outputs 0 (GAIN head:
     * identity). */
    for (int k = 0; k < L->n_tensors; k++) {
        const lpi_tensor_desc *td = &L->tensors[k];
        float *p = params + td->off;
        lpi_rng r = lpi_rng_make(seed, (uint64_t)k, 0x1417);
        if (L->has_feat_scale && td->off == L->feat_scale) {
            for (size_t i = 0; i < td->count; i++)
                p[i] = 1.0f;
        } else if (L->has_feat_mean && td->off == L->feat_mean) {
            memset(p, 0, td->count * sizeof *p);
        } else if (td->off == L->final_w || td->off == L->final_b || td->ndim == 1 ||
                   (L->fh > 0 && td->off == L->fw3)) {
            memset(p, 0, td->count * sizeof *p);
        } else if (L->K > 0 && td->off == L->class_table) {
            for (size_t i = 0; i < td->count; i++)
                p[i] = lpi_rng_normal(&r);
        } else {
            float a = sqrtf(3.0f / (float)td->dims[1]);
            for (size_t i = 0; i < td->count; i++)
                p[i] = (2.0f * lpi_rng_uniform(&r) - 1.0f) * a;
        }
    }
}
