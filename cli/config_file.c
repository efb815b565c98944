/* config_file.c - parser of "key = value" training configuration files (see config_file.h).
 * Robust to arbitrary input: every access is bounded by len, keys and values are copied into
 * fixed buffers only after their length is checked, and text echoed in messages is escaped. */
#include "config_file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum { K_INT, K_FLOAT, K_WINDOW, K_SCHEDULE, K_TARGET, K_HEAD, K_COND, K_LOOKAHEAD, K_LOSSNORM, K_MASKFORM, K_INSCALE, K_FNORM, K_FEATURES } ktype;
typedef enum { D_MODEL, D_TRAIN, D_CROP } kdest;

typedef struct key_def {
    const char *name;
    ktype type;
    kdest dest;
    size_t off;       /* offset of the field in limpid_config / limpid_train_config */
    double lo, hi;    /* accepted range (numbers) */
    int lo_open;      /* lo excluded */
} key_def;

#define M(field) D_MODEL, offsetof(limpid_config, field)
#define T(field) D_TRAIN, offsetof(limpid_train_config, field)

/* Ranges follow limpid_config_check where it has them (that check runs again afterwards);
 * here they give the error a file and line. */
static const key_def keys[] = {
    {"channels", K_INT, M(channels), 1, 1024, 0},
    {"layers", K_INT, M(layers), 1, 128, 0},
    {"dilation_cycle", K_INT, M(dilation_cycle), 1, 16, 0},
    {"embed_dim", K_INT, M(embed_dim), 4, 1024, 0},
    {"embed_hidden", K_INT, M(embed_hidden), 1, 4096, 0},
    {"lookahead", K_LOOKAHEAD, M(lookahead), -1, 1 << 20, 0},
    {"n_fft", K_INT, M(n_fft), 4, 16384, 0},
    {"hop", K_INT, M(hop), 1, 8192, 0},
    {"window", K_WINDOW, M(window), 0, 0, 0},
    {"compress_exp", K_FLOAT, M(compress_exp), 0, 1, 1},
    {"compress_scale", K_FLOAT, M(compress_scale), 0, 100, 1},
    {"schedule", K_SCHEDULE, M(schedule), 0, 0, 0},
    {"steps_T", K_INT, M(steps_T), 1, 100000, 0},
    {"beta_start", K_FLOAT, M(beta_start), 0, 1, 1},
    {"beta_end", K_FLOAT, M(beta_end), 0, 1, 1},
    {"target", K_TARGET, M(target), 0, 0, 0},
    {"head", K_HEAD, M(head), 0, 0, 0},
    {"cond", K_COND, M(cond), 0, 0, 0},
    {"input_scale", K_INSCALE, M(input_scale), 0, 0, 0},
    {"feature_norm", K_FNORM, M(feature_norm), 0, 0, 0},
    {"features", K_FEATURES, M(features), 0, 0, 0},
    {"n_classes", K_INT, M(n_classes), 0, 4096, 0},
    {"front_hidden", K_INT, M(front_hidden), 0, 256, 0},
    {"front_bins", K_INT, M(front_bins), 0, 16, 0},
    {"front_frames", K_INT, M(front_frames), 1, 32, 0},
    {"front_cond", K_INT, M(front_cond), 0, 8, 0},
    {"cond_snr", K_INT, M(cond_snr), 0, 1, 0},
    {"floor_rise", K_FLOAT, M(floor_rise), 0, 16, 0},
    {"floor_slow", K_FLOAT, M(floor_slow), 0, 16, 0},
    {"harmonicity", K_INT, M(harmonicity), 0, 1, 0},
    {"floor_gate", K_INT, M(floor_gate), 0, 1, 0},
    {"bands", K_INT, M(bands), 0, 64, 0},
    {"band_context", K_INT, M(band_context), 0, 16, 0},
    {"sample_rate", K_INT, M(sample_rate), 8000, 384000, 0},
    {"lr", K_FLOAT, T(lr), 0, 1, 1},
    {"lr_min", K_FLOAT, T(lr_min), 0, 1, 0},
    {"warmup", K_INT, T(warmup), 0, 1000000000, 0},
    {"batch", K_INT, T(batch), 1, 4096, 0},
    {"crop", K_FLOAT, D_CROP, 0, 0, 600, 1},
    {"weight_decay", K_FLOAT, T(weight_decay), 0, 10, 0},
    {"clip", K_FLOAT, T(clip), 0, 1e6, 0},
    {"ema_decay", K_FLOAT, T(ema_decay), 0, 0.999999, 0},
    {"t_top", K_FLOAT, T(t_top), 0, 1, 0},
    {"loss_weight", K_FLOAT, T(loss_weight), 0, 1, 0},
    {"loss_norm", K_LOSSNORM, T(loss_norm), 0, 0, 0},
    {"mask_loss", K_FLOAT, T(mask_loss), 0, 100, 0},
    {"mask_form", K_MASKFORM, T(mask_form), 0, 0, 0},
    {"gate_loss", K_FLOAT, T(gate_loss), 0, 100, 0},
    {"self_refine", K_INT, T(self_refine), 0, 1, 0},
};
#define N_KEYS ((int)(sizeof keys / sizeof keys[0]))

/* ---- names ----------------------------------------------------------------------------- */

const char *cfg_window_name(limpid_window w)
{
    return w == LIMPID_WINDOW_HANN ? "hann" : w == LIMPID_WINDOW_SQRT_HANN ? "sqrt_hann" : "?";
}
const char *cfg_schedule_name(limpid_schedule s)
{
    return s == LIMPID_SCHEDULE_LINEAR ? "linear" : s == LIMPID_SCHEDULE_COSINE ? "cosine" : "?";
}
const char *cfg_target_name(limpid_target t)
{
    return t == LIMPID_TARGET_EPS ? "eps" : t == LIMPID_TARGET_X0 ? "x0" : t == LIMPID_TARGET_V ? "v" : "?";
}
const char *cfg_head_name(limpid_head h)
{
    return h == LIMPID_HEAD_DIRECT ? "direct" : h == LIMPID_HEAD_GAIN ? "gain" : h == LIMPID_HEAD_WIENER ? "wiener" : h == LIMPID_HEAD_WIENER_REL ? "wiener_rel" : h == LIMPID_HEAD_WIENER_FLOOR ? "wiener_floor" : "?";
}
const char *cfg_cond_name(limpid_cond c)
{
    return c == LIMPID_COND_SPECTRUM ? "spectrum" : c == LIMPID_COND_LOGPOW ? "logpow" : c == LIMPID_COND_LOGPOW_FLOOR ? "logpow_floor" : "?";
}
const char *cfg_feature_norm_name(limpid_feature_norm s)
{
    return s == LIMPID_FEATURE_NORM_NONE ? "none" : s == LIMPID_FEATURE_NORM_CLASS ? "class" : "?";
}
const char *cfg_features_name(limpid_spec_features s)
{
    return s == LIMPID_FEATURES_COMPLEX ? "complex" : s == LIMPID_FEATURES_MAGNITUDE ? "magnitude" : "?";
}
const char *cfg_input_scale_name(limpid_input_scale s)
{
    return s == LIMPID_INPUT_SCALE_NONE ? "none" : s == LIMPID_INPUT_SCALE_SQRT_ABAR ? "sqrt_abar" : "?";
}
const char *cfg_task_name(limpid_task t)
{
    return t == LIMPID_TASK_DENOISE ? "denoise" : t == LIMPID_TASK_TEXTURE ? "texture" : "?";
}
const char *cfg_domain_name(limpid_domain d)
{
    return d == LIMPID_DOMAIN_STFT ? "stft" : d == LIMPID_DOMAIN_WAVE ? "wave" : "?";
}

/* ---- helpers --------------------------------------------------------------------------- */

/* Printable copy of s[0..n) for messages: non-printable bytes as \xNN, at most ~40 chars. */
static void escape(const char *s, size_t n, char *out, size_t outlen)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 8 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i >= 40) {
            memcpy(out + k, "...", 3);
            k += 3;
            break;
        }
        if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
            out[k++] = (char)c;
        } else {
            snprintf(out + k, outlen - k, "\\x%02x", c);
            k += 4;
        }
    }
    out[k] = '\0';
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_space(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_space((*s)[*n - 1]))
        (*n)--;
}

static int parse_double_str(const char *s, double *out)
{
    if (!*s)
        return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v) || (errno == ERANGE && fabs(v) > 1.0))
        return -1;
    *out = v;
    return 0;
}

static int parse_ll_str(const char *s, long long *out)
{
    if (!*s)
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int word_is(const char *v, const char *a, const char *b)
{
    return !strcasecmp(v, a) || (b && !strcasecmp(v, b));
}

/* Parse value text v (NUL-free, trimmed) for key k into the matching field of out.
 * Returns 0, or -1 with a description of what was expected in `expect`. */
static int set_value(const key_def *k, const char *v, cfgfile *out, char *expect, size_t elen)
{
    char *base = k->dest == D_MODEL ? (char *)&out->model : (char *)&out->train;
    switch (k->type) {
    case K_INT:
    case K_LOOKAHEAD: {
        long long x;
        if (k->type == K_LOOKAHEAD && word_is(v, "noncausal", "non-causal")) {
            x = LIMPID_LOOKAHEAD_NONCAUSAL;
        } else if (k->type == K_LOOKAHEAD && word_is(v, "causal", NULL)) {
            x = 0;
        } else if (parse_ll_str(v, &x) || x < (long long)k->lo || x > (long long)k->hi) {
            if (k->type == K_LOOKAHEAD)
                snprintf(expect, elen, "noncausal, causal, or frames 0..%.0f (-1: noncausal)",
                         k->hi);
            else
                snprintf(expect, elen, "an integer in %.0f..%.0f", k->lo, k->hi);
            return -1;
        }
        *(int *)(base + k->off) = (int)x;
        return 0;
    }
    case K_FLOAT: {
        double x;
        if (parse_double_str(v, &x) || x > k->hi || (k->lo_open ? x <= k->lo : x < k->lo)) {
            snprintf(expect, elen, "a number in %s%g, %g]", k->lo_open ? "(" : "[", k->lo, k->hi);
            return -1;
        }
        if (k->dest == D_CROP)
            out->crop_seconds = x;
        else
            *(float *)(base + k->off) = (float)x;
        return 0;
    }
    case K_WINDOW:
        if (word_is(v, "hann", NULL))
            out->model.window = LIMPID_WINDOW_HANN;
        else if (word_is(v, "sqrt_hann", "sqrt-hann"))
            out->model.window = LIMPID_WINDOW_SQRT_HANN;
        else
            return snprintf(expect, elen, "hann or sqrt_hann"), -1;
        return 0;
    case K_SCHEDULE:
        if (word_is(v, "linear", NULL))
            out->model.schedule = LIMPID_SCHEDULE_LINEAR;
        else if (word_is(v, "cosine", NULL))
            out->model.schedule = LIMPID_SCHEDULE_COSINE;
        else
            return snprintf(expect, elen, "linear or cosine"), -1;
        return 0;
    case K_TARGET:
        if (word_is(v, "eps", "epsilon"))
            out->model.target = LIMPID_TARGET_EPS;
        else if (word_is(v, "x0", NULL))
            out->model.target = LIMPID_TARGET_X0;
        else if (word_is(v, "v", NULL))
            out->model.target = LIMPID_TARGET_V;
        else
            return snprintf(expect, elen, "eps, x0 or v"), -1;
        return 0;
    case K_HEAD:
        if (word_is(v, "direct", NULL))
            out->model.head = LIMPID_HEAD_DIRECT;
        else if (word_is(v, "gain", NULL))
            out->model.head = LIMPID_HEAD_GAIN;
        else if (word_is(v, "wiener", NULL))
            out->model.head = LIMPID_HEAD_WIENER;
        else if (word_is(v, "wiener_rel", NULL))
            out->model.head = LIMPID_HEAD_WIENER_REL;
        else if (word_is(v, "wiener_floor", NULL))
            out->model.head = LIMPID_HEAD_WIENER_FLOOR;
        else
            return snprintf(expect, elen, "direct, gain, wiener, wiener_rel or wiener_floor"), -1;
        return 0;
    case K_COND:
        if (word_is(v, "spectrum", NULL))
            out->model.cond = LIMPID_COND_SPECTRUM;
        else if (word_is(v, "logpow", NULL))
            out->model.cond = LIMPID_COND_LOGPOW;
        else if (word_is(v, "logpow_floor", NULL))
            out->model.cond = LIMPID_COND_LOGPOW_FLOOR;
        else
            return snprintf(expect, elen, "spectrum, logpow or logpow_floor"), -1;
        return 0;
    case K_INSCALE:
        if (word_is(v, "none", NULL))
            out->model.input_scale = LIMPID_INPUT_SCALE_NONE;
        else if (word_is(v, "sqrt_abar", NULL))
            out->model.input_scale = LIMPID_INPUT_SCALE_SQRT_ABAR;
        else
            return snprintf(expect, elen, "none or sqrt_abar"), -1;
        return 0;
    case K_FNORM:
        if (word_is(v, "none", NULL))
            out->model.feature_norm = LIMPID_FEATURE_NORM_NONE;
        else if (word_is(v, "class", NULL))
            out->model.feature_norm = LIMPID_FEATURE_NORM_CLASS;
        else
            return snprintf(expect, elen, "none or class"), -1;
        return 0;
    case K_FEATURES:
        if (word_is(v, "complex", NULL))
            out->model.features = LIMPID_FEATURES_COMPLEX;
        else if (word_is(v, "magnitude", NULL))
            out->model.features = LIMPID_FEATURES_MAGNITUDE;
        else
            return snprintf(expect, elen, "complex or magnitude"), -1;
        return 0;
    case K_LOSSNORM:
        if (word_is(v, "batch", NULL))
            out->train.loss_norm = LIMPID_LOSS_NORM_BATCH;
        else if (word_is(v, "item", NULL))
            out->train.loss_norm = LIMPID_LOSS_NORM_ITEM;
        else if (word_is(v, "log", NULL))
            out->train.loss_norm = LIMPID_LOSS_NORM_LOG;
        else if (word_is(v, "noise", NULL))
            out->train.loss_norm = LIMPID_LOSS_NORM_NOISE;
        else if (word_is(v, "noise_db", NULL))
            out->train.loss_norm = LIMPID_LOSS_NORM_NOISE_DB;
        else
            return snprintf(expect, elen, "batch, item, log, noise or noise_db"), -1;
        return 0;
    case K_MASKFORM:
        if (word_is(v, "ratio", NULL))
            out->train.mask_form = LIMPID_MASK_FORM_RATIO;
        else if (word_is(v, "phase", NULL))
            out->train.mask_form = LIMPID_MASK_FORM_PHASE;
        else
            return snprintf(expect, elen, "ratio or phase"), -1;
        return 0;
    }
    return -1;
}

/* ---- parser ---------------------------------------------------------------------------- */

int cfgfile_parse(const char *buf, size_t len, const char *name, cfgfile *out, char *err,
                  size_t errlen)
{
    char tmp[64];
    memset(out, 0, sizeof *out);
    if (!name)
        name = "(config)";
    if (!err)
        errlen = 0;
    if (errlen)
        err[0] = '\0';
    if (!buf)
        len = 0;
    size_t pos = 0;
    long line = 0;
    while (pos < len) {
        line++;
        const char *ls = buf + pos;
        const char *nl = memchr(ls, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - ls) : len - pos;
        pos += n + (nl ? 1 : 0);
        /* a comment runs to the end of the line; a NUL byte anywhere else is an error */
        const char *hash = memchr(ls, '#', n);
        if (hash)
            n = (size_t)(hash - ls);
        if (memchr(ls, '\0', n)) {
            snprintf(err, errlen, "%s:%ld: NUL byte in the line (not a text file?)", name, line);
            return -1;
        }
        trim(&ls, &n);
        if (n == 0)
            continue;
        const char *eq = memchr(ls, '=', n);
        if (!eq) {
            escape(ls, n, tmp, sizeof tmp);
            snprintf(err, errlen, "%s:%ld: expected 'key = value', got '%s'", name, line, tmp);
            return -1;
        }
        const char *ks = ls, *vs = eq + 1;
        size_t kn = (size_t)(eq - ls), vn = n - kn - 1;
        trim(&ks, &kn);
        trim(&vs, &vn);
        if (kn == 0) {
            snprintf(err, errlen, "%s:%ld: missing key before '='", name, line);
            return -1;
        }
        int ki = -1;
        for (int i = 0; i < N_KEYS; i++)
            if (strlen(keys[i].name) == kn && memcmp(keys[i].name, ks, kn) == 0) {
                ki = i;
                break;
            }
        if (ki < 0) {
            escape(ks, kn, tmp, sizeof tmp);
            snprintf(err, errlen, "%s:%ld: unknown key '%s'", name, line, tmp);
            return -1;
        }
        if (vn >= 2 && vs[0] == '"' && vs[vn - 1] == '"') {
            vs++;
            vn -= 2;
            trim(&vs, &vn);
        }
        char val[128], expect[96];
        expect[0] = '\0';
        int bad = vn == 0 || vn >= sizeof val;
        if (!bad) {
            memcpy(val, vs, vn);
            val[vn] = '\0';
            bad = set_value(&keys[ki], val, out, expect, sizeof expect) != 0;
        }
        if (bad) {
            escape(vs, vn, tmp, sizeof tmp);
            if (vn == 0)
                snprintf(err, errlen, "%s:%ld: missing value for key '%s'", name, line,
                         keys[ki].name);
            else if (expect[0])
                snprintf(err, errlen, "%s:%ld: bad value '%s' for key '%s' (expected %s)", name,
                         line, tmp, keys[ki].name, expect);
            else
                snprintf(err, errlen, "%s:%ld: bad value '%s' for key '%s'", name, line, tmp,
                         keys[ki].name);
            return -1;
        }
        out->set |= (uint64_t)1 << ki;
    }
    return 0;
}

int cfgfile_has(const cfgfile *f, const char *key)
{
    for (int i = 0; i < N_KEYS; i++)
        if (!strcmp(keys[i].name, key))
            return (f->set >> i) & 1;
    return 0;
}

void cfgfile_apply(const cfgfile *f, limpid_config *cfg, limpid_train_config *tc,
                   double *crop_seconds)
{
    for (int i = 0; i < N_KEYS; i++) {
        if (!((f->set >> i) & 1))
            continue;
        const key_def *k = &keys[i];
        switch (k->dest) {
        case D_MODEL:
            if (cfg) /* every model field is an int, a float or an enum (int-sized) */
                memcpy((char *)cfg + k->off, (const char *)&f->model + k->off,
                       k->type == K_FLOAT ? sizeof(float) : sizeof(int));
            break;
        case D_TRAIN:
            if (tc)
                memcpy((char *)tc + k->off, (const char *)&f->train + k->off,
                       k->type == K_FLOAT ? sizeof(float) : sizeof(int));
            break;
        case D_CROP:
            if (crop_seconds)
                *crop_seconds = f->crop_seconds;
            break;
        }
    }
}
