/* config.c - model configuration presets, validation and derived sizes. */
#include "internal.h"

int limpid_config_feature_channels(const limpid_config *cfg)
{
    if (cfg->domain != LIMPID_DOMAIN_STFT)
        return 1;
    return (cfg->features == LIMPID_FEATURES_MAGNITUDE ? 1 : 2) * (cfg->n_fft / 2 + 1);
}

int limpid_config_frame_hop(const limpid_config *cfg)
{
    return cfg->domain == LIMPID_DOMAIN_STFT ? cfg->hop : 1;
}

limpid_status limpid_config_preset(limpid_config *cfg, const char *name, limpid_task task,
                                   limpid_domain domain, int sample_rate)
{
    if (!cfg || !name)
        return LIMPID_ERR_INVALID;
    memset(cfg, 0, sizeof *cfg);
    cfg->task = task;
    cfg->domain = domain;
    cfg->sample_rate = sample_rate > 0 ? sample_rate : 48000;
    /* about 21 ms windows, 75 % overlap */
    cfg->n_fft = cfg->sample_rate > 32000 ? 1024 : cfg->sample_rate >= 16000 ? 512 : 256;
    cfg->hop = cfg->n_fft / 4;
    cfg->window = LIMPID_WINDOW_SQRT_HANN;
    cfg->compress_exp = 0.5f;
    cfg->compress_scale = 1.0f; /* compressed magnitudes of speech at usual levels ~0.1..1 */
    cfg->n_classes = task == LIMPID_TASK_TEXTURE ? 1 : 0;
    cfg->head = (task == LIMPID_TASK_DENOISE && domain == LIMPID_DOMAIN_STFT) ? LIMPID_HEAD_WIENER
                                                                            : LIMPID_HEAD_DIRECT;
    cfg->target = cfg->head != LIMPID_HEAD_DIRECT ? LIMPID_TARGET_X0 : LIMPID_TARGET_V;
    cfg->cond = (task == LIMPID_TASK_DENOISE && domain == LIMPID_DOMAIN_STFT) ? LIMPID_COND_LOGPOW
                                                                            : LIMPID_COND_SPECTRUM;
    cfg->schedule = LIMPID_SCHEDULE_COSINE;
    cfg->beta_start = 1e-4f;
    cfg->beta_end = 0.05f;
    cfg->lookahead = LIMPID_LOOKAHEAD_NONCAUSAL;
    if (strcmp(name, "tiny") == 0) {
        cfg->channels = 16;
        cfg->layers = 4;
        cfg->dilation_cycle = 4;
        cfg->embed_dim = 32;
        cfg->embed_hidden = 64;
        cfg->steps_T = 50;
        if (domain == LIMPID_DOMAIN_STFT) {
            cfg->n_fft = 256;
            cfg->hop = 64;
        }
    } else if (strcmp(name, "small") == 0) {
        cfg->channels = 48;
        cfg->layers = 8;
        cfg->dilation_cycle = domain == LIMPID_DOMAIN_STFT ? 4 : 8;
        cfg->embed_dim = 64;
        cfg->embed_hidden = 128;
        cfg->steps_T = 50;
    } else if (strcmp(name, "base") == 0) {
        cfg->channels = 64;
        cfg->layers = domain == LIMPID_DOMAIN_STFT ? 12 : 30;
        cfg->dilation_cycle = domain == LIMPID_DOMAIN_STFT ? 6 : 10;
        cfg->embed_dim = 128;
        cfg->embed_hidden = 512;
        cfg->steps_T = 50;
    } else {
        return LIMPID_ERR_INVALID;
    }
    return LIMPID_OK;
}

#define BAD(...)                                                                       \
    do {                                                                               \
        lpi_errf(err, errlen, __VA_ARGS__);                                            \
        return LIMPID_ERR_INVALID;                                                     \
    } while (0)

limpid_status limpid_config_check(const limpid_config *c, char *err, size_t errlen)
{
    if (!c)
        BAD("no configuration given");
    if (c->task != LIMPID_TASK_DENOISE && c->task != LIMPID_TASK_TEXTURE)
        BAD("task %d is not denoise (0) or texture (1)", (int)c->task);
    if (c->domain != LIMPID_DOMAIN_WAVE && c->domain != LIMPID_DOMAIN_STFT)
        BAD("domain %d is not wave (0) or stft (1)", (int)c->domain);
    if (c->sample_rate < 8000 || c->sample_rate > 384000)
        BAD("sample rate %d Hz is outside 8000..384000", c->sample_rate);
    if (c->domain == LIMPID_DOMAIN_STFT) {
        if (c->n_fft < 4 || c->n_fft > 16384 || (c->n_fft & 1))
            BAD("STFT size %d is not an even number in 4..16384", c->n_fft);
        if (c->hop < 1 || c->hop > c->n_fft / 2 || c->n_fft % c->hop != 0)
            BAD("STFT hop %d must divide the STFT size %d and be at most half of it", c->hop,
                c->n_fft);
        if (c->window != LIMPID_WINDOW_HANN && c->window != LIMPID_WINDOW_SQRT_HANN)
            BAD("window %d is unknown", (int)c->window);
        if (!(c->compress_exp > 0.0f && c->compress_exp <= 1.0f))
            BAD("compression exponent %g is outside (0, 1]", (double)c->compress_exp);
        if (!(c->compress_scale > 0.0f && c->compress_scale <= 100.0f))
            BAD("compression scale %g is outside (0, 100]", (double)c->compress_scale);
    }
    if (c->channels < 1 || c->channels > 1024)
        BAD("channels %d is outside 1..1024", c->channels);
    if (c->layers < 1 || c->layers > 128)
        BAD("layers %d is outside 1..128", c->layers);
    if (c->dilation_cycle < 1 || c->dilation_cycle > 16)
        BAD("dilation cycle %d is outside 1..16", c->dilation_cycle);
    if (c->embed_dim < 4 || c->embed_dim > 1024 || (c->embed_dim & 1))
        BAD("step embedding size %d is not an even number in 4..1024", c->embed_dim);
    if (c->embed_hidden < 1 || c->embed_hidden > 4096)
        BAD("step embedding width %d is outside 1..4096", c->embed_hidden);
    if (c->lookahead < LIMPID_LOOKAHEAD_NONCAUSAL || c->lookahead > 1 << 20)
        BAD("lookahead %d is invalid (-1 non-causal, 0 causal, K > 0 frames)", c->lookahead);
    if (c->task == LIMPID_TASK_TEXTURE && (c->n_classes < 1 || c->n_classes > 4096))
        BAD("a texture model needs 1..4096 classes, not %d", c->n_classes);
    if (c->task == LIMPID_TASK_DENOISE && c->n_classes != 0)
        BAD("a denoising model has no classes (n_classes %d)", c->n_classes);
    if (c->head != LIMPID_HEAD_DIRECT && c->head != LIMPID_HEAD_GAIN &&
        c->head != LIMPID_HEAD_WIENER && c->head != LIMPID_HEAD_WIENER_REL &&
        c->head != LIMPID_HEAD_WIENER_FLOOR)
        BAD("output head %d is unknown", (int)c->head);
    if (c->head != LIMPID_HEAD_DIRECT &&
        (c->domain != LIMPID_DOMAIN_STFT || c->task != LIMPID_TASK_DENOISE ||
         c->target != LIMPID_TARGET_X0))
        BAD("the gain and wiener heads need an STFT-domain denoising model with target x0");
    if (c->cond != LIMPID_COND_SPECTRUM && c->cond != LIMPID_COND_LOGPOW &&
        c->cond != LIMPID_COND_LOGPOW_FLOOR)
        BAD("conditioning features %d are unknown", (int)c->cond);
    if (c->input_scale != LIMPID_INPUT_SCALE_NONE && c->input_scale != LIMPID_INPUT_SCALE_SQRT_ABAR)
        BAD("input scaling %d is unknown", (int)c->input_scale);
    if (c->feature_norm != LIMPID_FEATURE_NORM_NONE && c->feature_norm != LIMPID_FEATURE_NORM_CLASS)
        BAD("feature normalisation %d is unknown", (int)c->feature_norm);
    if (c->feature_norm == LIMPID_FEATURE_NORM_CLASS &&
        (c->task != LIMPID_TASK_TEXTURE || c->domain != LIMPID_DOMAIN_STFT))
        BAD("per-class feature normalisation needs an STFT-domain texture model");
    if (c->features != LIMPID_FEATURES_COMPLEX && c->features != LIMPID_FEATURES_MAGNITUDE)
        BAD("STFT features %d are unknown", (int)c->features);
    if (c->features == LIMPID_FEATURES_MAGNITUDE &&
        (c->task != LIMPID_TASK_TEXTURE || c->domain != LIMPID_DOMAIN_STFT))
        BAD("magnitude features need an STFT-domain texture model");
    if (c->head == LIMPID_HEAD_WIENER_FLOOR && c->cond != LIMPID_COND_LOGPOW_FLOOR)
        BAD("the wiener_floor head needs logpow_floor conditioning");
    if (c->cond != LIMPID_COND_SPECTRUM &&
        (c->domain != LIMPID_DOMAIN_STFT || c->task != LIMPID_TASK_DENOISE))
        BAD("log-power conditioning needs an STFT-domain denoising model");
    if (c->front_hidden < 0 || c->front_hidden > 256)
        BAD("front-end width %d is outside 0..256", c->front_hidden);
    if (c->front_hidden == 0 && (c->front_bins || c->front_frames || c->front_cond))
        BAD("front_bins, front_frames and front_cond need a front end (front_hidden > 0)");
    if (c->front_hidden > 0) {
        if (c->head != LIMPID_HEAD_WIENER_FLOOR)
            BAD("a front end needs a denoiser with the wiener_floor head");
        if (c->front_bins < 0 || c->front_bins > 16)
            BAD("front_bins %d is outside 0..16", c->front_bins);
        if (c->front_frames < 1 || c->front_frames > 32)
            BAD("front_frames %d is outside 1..32", c->front_frames);
        if (c->front_cond < 0 || c->front_cond > 8)
            BAD("front_cond %d is outside 0..8", c->front_cond);
    }
    /* options of the noise-floor tracks: only a logpow_floor denoiser has them */
    const int floor_cond = c->cond == LIMPID_COND_LOGPOW_FLOOR && c->task == LIMPID_TASK_DENOISE;
    if (!(c->floor_rise == 0.0f || (c->floor_rise >= 0.05f && c->floor_rise <= 16.0f)))
        BAD("floor_rise %g is not 0 (the default) or 0.05..16 doublings per second",
            (double)c->floor_rise);
    if (c->floor_rise != 0.0f && !floor_cond)
        BAD("floor_rise needs a denoiser with logpow_floor conditioning");
    if (!(c->floor_slow == 0.0f || (c->floor_slow >= 0.01f && c->floor_slow <= 16.0f)))
        BAD("floor_slow %g is not 0 (none) or 0.01..16 doublings per second",
            (double)c->floor_slow);
    if (c->floor_slow != 0.0f && !floor_cond)
        BAD("floor_slow needs a denoiser with logpow_floor conditioning");
    if (c->floor_slow != 0.0f && c->front_hidden > 0)
        BAD("floor_slow does not go with a per-bin front end (front_hidden > 0)");
    if (c->harmonicity != 0 && c->harmonicity != 1)
        BAD("harmonicity %d is not 0 or 1", c->harmonicity);
    if (c->harmonicity && !floor_cond)
        BAD("harmonicity needs a denoiser with logpow_floor conditioning");
    if (c->harmonicity && (c->front_hidden > 0 || c->floor_slow != 0.0f))
        BAD("harmonicity does not go with a per-bin front end or floor_slow");
    if (c->harmonicity && c->domain == LIMPID_DOMAIN_STFT &&
        (c->n_fft > 4096 || c->n_fft <= c->sample_rate / 80))
        BAD("harmonicity needs sample_rate / 80 < n_fft <= 4096 (n_fft %d at %d Hz)",
            c->n_fft, c->sample_rate);
    if (c->floor_gate != 0 && c->floor_gate != 1)
        BAD("floor_gate %d is not 0 or 1", c->floor_gate);
    if (c->floor_gate && (c->head != LIMPID_HEAD_WIENER_FLOOR || !floor_cond))
        BAD("floor_gate needs a denoiser with the wiener_floor head");
    if (c->bands != 0 && (c->bands < 4 || c->bands > 64))
        BAD("bands %d is not 0 (none) or 4..64", c->bands);
    if (c->band_context < 0 || c->band_context > 16)
        BAD("band_context %d is outside 0..16", c->band_context);
    if (c->band_context > 0 && c->bands == 0)
        BAD("band_context needs a band-resolved stack (bands > 0)");
    if (c->bands > 0) {
        if (c->head != LIMPID_HEAD_WIENER_FLOOR || !floor_cond || c->domain != LIMPID_DOMAIN_STFT)
            BAD("a band-resolved stack (bands) needs an STFT denoiser with the wiener_floor head");
        if (c->bands > c->n_fft / 8)
            BAD("%d bands are more than n_fft / 8 = %d", c->bands, c->n_fft / 8);
        if (c->front_hidden > 0 || c->floor_slow != 0.0f || c->harmonicity || c->cond_snr)
            BAD("a band-resolved stack (bands) does not go with a per-bin front end, "
                "floor_slow, harmonicity or cond_snr");
    }
    if (c->cond_snr != 0 && c->cond_snr != 1)
        BAD("cond_snr %d is not 0 or 1", c->cond_snr);
    if (c->cond_snr && !floor_cond)
        BAD("cond_snr needs a denoiser with logpow_floor conditioning");
    if (c->schedule != LIMPID_SCHEDULE_LINEAR && c->schedule != LIMPID_SCHEDULE_COSINE)
        BAD("noise schedule %d is unknown", (int)c->schedule);
    if (c->steps_T < 1 || c->steps_T > 100000)
        BAD("diffusion steps T = %d is outside 1..100000", c->steps_T);
    if (c->schedule == LIMPID_SCHEDULE_LINEAR &&
        !(c->beta_start > 0.0f && c->beta_start <= c->beta_end && c->beta_end < 1.0f))
        BAD("linear schedule needs 0 < beta_start <= beta_end < 1 (got %g, %g)",
            (double)c->beta_start, (double)c->beta_end);
    if (c->target != LIMPID_TARGET_EPS && c->target != LIMPID_TARGET_X0 &&
        c->target != LIMPID_TARGET_V)
        BAD("training target %d is unknown", (int)c->target);
    double params = (double)c->channels * c->channels * 10.0 * c->layers;
    if (params > 2e8)
        BAD("the network would have about %.0f million parameters; the limit is 200", params / 1e6);
    return LIMPID_OK;
}
