/* model_io.c - the model object (create, destroy, info) and its file form: configuration and
 * provenance as container metadata keys, one container record per layout tensor.
 *
 * Metadata keys of a model file (also written into checkpoints):
 *   task "denoise"|"texture", domain "wave"|"stft", sample_rate (i64, Hz)
 *   stft.n_fft, stft.hop (i64), stft.window "hann"|"sqrt_hann",
 *   stft.compress_exp, stft.compress_scale (f64; written for every domain)
 *   arch.channels, arch.layers, arch.dilation_cycle, arch.embed_dim, arch.embed_hidden,
 *   arch.lookahead, arch.n_classes (i64), arch.head "direct"|"gain"|"wiener"|"wiener_rel"|
 *   "wiener_floor", arch.cond "spectrum"|"logpow"|"logpow_floor" (optional: files without it
 *   are "spectrum")
 *   diffusion.schedule "linear"|"cosine", diffusion.steps_T (i64),
 *   diffusion.beta_start, diffusion.beta_end (f64), diffusion.target "eps"|"x0"|"v",
 *   diffusion.input_scale "none"|"sqrt_abar" (optional: files without it are "none")
 *   stft.feature_norm "none"|"class" (optional: files without it are "none"; "class" adds the
 *   tensor feat.scale [n_classes][bins], and with magnitude features feat.mean [n_classes][bins])
 *   stft.features "complex"|"magnitude" (optional: files without it are "complex")
 *   arch.front_hidden, arch.front_bins, arch.front_frames, arch.front_cond (i64; optional:
 *   files without them have no front end, 0; a front end adds the tensors front.*)
 *   arch.cond_snr (i64; optional: files without it are 0)
 *   arch.floor_rise (f64; optional: files without it are 0, the default rise)
 *   arch.floor_slow (f64; optional: files without it are 0, no slow track)
 *   arch.harmonicity (i64; optional: files without it are 0, no harmonicity rows)
 *   arch.floor_gate (i64; optional: files without it are 0; 1: final.* has 3 rows per bin)
 *   arch.bands, arch.band_context (i64; optional: files without them are 0, the plain stack;
 *   bands > 0: the tensors are the band-resolved stack's, band.c)
 *   prov.created, prov.tool_version, prov.data, prov.command (str; optional)
 *   prov.seed, prov.train_steps (i64 holding the u64 bits; optional)
 *   prov.train_seconds, prov.final_loss, prov.val_loss (f64, NaN allowed; optional)
 * Enumerations are stored by name so the files do not depend on the enum numbering.
 * Every other configuration key is required; unknown keys are ignored (checkpoints add their own).
 * Records: one per tensor of lpi_net_layout (name and shape as there), no others.
 */
#include "internal.h"

#include <float.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>

/* ------------------------------------------------------------------------ */
/* Model object */

limpid_status lpi_model_alloc(limpid_model **out, const limpid_config *cfg)
{
    if (!out)
        return LIMPID_ERR_INVALID;
    *out = NULL;
    if (limpid_config_check(cfg, NULL, 0) != LIMPID_OK)
        return LIMPID_ERR_INVALID;
    limpid_model *m = calloc(1, sizeof *m);
    if (!m)
        return LIMPID_ERR_NOMEM;
    m->cfg = *cfg;
    m->prov.final_loss = NAN;
    m->prov.val_loss = NAN;
    limpid_status st = lpi_net_layout_init(&m->layout, cfg);
    if (st != LIMPID_OK) {
        free(m);
        return st;
    }
    /* 64-byte aligned for vector loads; config_check bounds n_params (< 1e9 floats) */
    void *mem = NULL;
    size_t bytes = (m->layout.n_params > 0 ? m->layout.n_params : 1) * sizeof(float);
    if (posix_memalign(&mem, 64, bytes) != 0) {
        lpi_net_layout_free(&m->layout);
        free(m);
        return LIMPID_ERR_NOMEM;
    }
    memset(mem, 0, bytes);
    m->params = mem;
    *out = m;
    return LIMPID_OK;
}

limpid_status limpid_model_create(limpid_model **out, const limpid_config *cfg, uint64_t seed)
{
    limpid_status st = lpi_model_alloc(out, cfg);
    if (st != LIMPID_OK)
        return st;
    limpid_model *m = *out;
    lpi_net_init_params(&m->layout, m->params, seed);
    snprintf(m->prov.tool_version, sizeof m->prov.tool_version, "%s", limpid_version());
    m->prov.seed = seed;
    return LIMPID_OK;
}

void limpid_model_destroy(limpid_model *m)
{
    if (!m)
        return;
    lpi_net_layout_free(&m->layout);
    free(m->params);
    free(m);
}

const limpid_config *limpid_model_config(const limpid_model *m) { return m ? &m->cfg : NULL; }

const limpid_provenance *limpid_model_provenance(const limpid_model *m)
{
    return m ? &m->prov : NULL;
}

void limpid_model_get_info(const limpid_model *m, limpid_model_info *info)
{
    if (!info)
        return;
    memset(info, 0, sizeof *info);
    if (!m)
        return;
    const lpi_net_layout *L = &m->layout;
    const limpid_config *cfg = &m->cfg;
    int frame_hop = limpid_config_frame_hop(cfg);
    info->params = L->n_params;
    info->feature_channels = L->Cx;
    info->cond_channels = L->Cc;
    info->out_channels = L->Co;
    info->macs_per_frame = L->macs_per_frame;
    info->front_macs_per_frame = L->front_macs_per_frame;
    info->frames_per_second = (double)cfg->sample_rate / frame_hop;
    info->macs_per_second = info->macs_per_frame * info->frames_per_second;
    info->receptive_field = L->receptive_field;
    info->lookahead_frames = L->lookahead;
    /* STFT: the delay of a frame-by-frame stream (limpid_stream): analysis and overlap-add
     * delay n_fft - hop, one hop of buffering (a frame is processed once its last hop is in),
     * plus the frames of future the network waits for (per sampling step) */
    if (cfg->domain == LIMPID_DOMAIN_STFT)
        info->latency_samples = cfg->n_fft + L->lookahead * cfg->hop;
    else
        info->latency_samples = L->lookahead;
}

/* ------------------------------------------------------------------------ */
/* Configuration <-> metadata keys */

typedef struct enum_name {
    const char *name;
    int value;
} enum_name;

static const enum_name task_names[] = {
    {"denoise", LIMPID_TASK_DENOISE}, {"texture", LIMPID_TASK_TEXTURE}, {NULL, 0}};
static const enum_name domain_names[] = {
    {"wave", LIMPID_DOMAIN_WAVE}, {"stft", LIMPID_DOMAIN_STFT}, {NULL, 0}};
static const enum_name window_names[] = {
    {"hann", LIMPID_WINDOW_HANN}, {"sqrt_hann", LIMPID_WINDOW_SQRT_HANN}, {NULL, 0}};
static const enum_name head_names[] = {
    {"direct", LIMPID_HEAD_DIRECT}, {"gain", LIMPID_HEAD_GAIN}, {"wiener", LIMPID_HEAD_WIENER},
    {"wiener_rel", LIMPID_HEAD_WIENER_REL}, {"wiener_floor", LIMPID_HEAD_WIENER_FLOOR},
    {NULL, 0}};
static const enum_name cond_names[] = {
    {"spectrum", LIMPID_COND_SPECTRUM}, {"logpow", LIMPID_COND_LOGPOW},
    {"logpow_floor", LIMPID_COND_LOGPOW_FLOOR}, {NULL, 0}};
static const enum_name feature_norm_names[] = {
    {"none", LIMPID_FEATURE_NORM_NONE}, {"class", LIMPID_FEATURE_NORM_CLASS}, {NULL, 0}};
static const enum_name features_names[] = {
    {"complex", LIMPID_FEATURES_COMPLEX}, {"magnitude", LIMPID_FEATURES_MAGNITUDE}, {NULL, 0}};
static const enum_name input_scale_names[] = {
    {"none", LIMPID_INPUT_SCALE_NONE}, {"sqrt_abar", LIMPID_INPUT_SCALE_SQRT_ABAR}, {NULL, 0}};
static const enum_name schedule_names[] = {
    {"linear", LIMPID_SCHEDULE_LINEAR}, {"cosine", LIMPID_SCHEDULE_COSINE}, {NULL, 0}};
static const enum_name target_names[] = {
    {"eps", LIMPID_TARGET_EPS}, {"x0", LIMPID_TARGET_X0}, {"v", LIMPID_TARGET_V}, {NULL, 0}};

/* enum fields are read and written through int */
_Static_assert(sizeof(limpid_task) == sizeof(int), "enum size");
_Static_assert(sizeof(limpid_domain) == sizeof(int), "enum size");
_Static_assert(sizeof(limpid_window) == sizeof(int), "enum size");
_Static_assert(sizeof(limpid_head) == sizeof(int), "enum size");
_Static_assert(sizeof(limpid_schedule) == sizeof(int), "enum size");
_Static_assert(sizeof(limpid_cond) == sizeof(int), "enum size");
_Static_assert(sizeof(limpid_target) == sizeof(int), "enum size");
_Static_assert(sizeof(limpid_input_scale) == sizeof(int), "enum size");
_Static_assert(sizeof(limpid_feature_norm) == sizeof(int), "enum size");
_Static_assert(sizeof(limpid_spec_features) == sizeof(int), "enum size");

typedef enum cf_kind { CF_INT, CF_FLOAT, CF_ENUM } cf_kind;

typedef struct cfg_field {
    const char *key;
    cf_kind kind;
    size_t off;
    const enum_name *names; /* CF_ENUM */
    int optional;           /* absent in older files: the field keeps 0 (names[0] for enums) */
} cfg_field;

#define F_INT(k, f) {k, CF_INT, offsetof(limpid_config, f), NULL, 0}
#define F_INT_OPT(k, f) {k, CF_INT, offsetof(limpid_config, f), NULL, 1}
#define F_FLT(k, f) {k, CF_FLOAT, offsetof(limpid_config, f), NULL, 0}
#define F_FLT_OPT(k, f) {k, CF_FLOAT, offsetof(limpid_config, f), NULL, 1}
#define F_ENU(k, f, n) {k, CF_ENUM, offsetof(limpid_config, f), n, 0}
#define F_ENU_OPT(k, f, n) {k, CF_ENUM, offsetof(limpid_config, f), n, 1}
static const cfg_field cfg_fields[] = {
    F_ENU("task", task, task_names),
    F_ENU("domain", domain, domain_names),
    F_INT("sample_rate", sample_rate),
    F_INT("stft.n_fft", n_fft),
    F_INT("stft.hop", hop),
    F_ENU("stft.window", window, window_names),
    F_FLT("stft.compress_exp", compress_exp),
    F_FLT("stft.compress_scale", compress_scale),
    F_INT("arch.channels", channels),
    F_INT("arch.layers", layers),
    F_INT("arch.dilation_cycle", dilation_cycle),
    F_INT("arch.embed_dim", embed_dim),
    F_INT("arch.embed_hidden", embed_hidden),
    F_INT("arch.lookahead", lookahead),
    F_INT("arch.n_classes", n_classes),
    F_ENU("arch.head", head, head_names),
    F_ENU_OPT("arch.cond", cond, cond_names), /* added in 0.1.0's second session */
    F_ENU("diffusion.schedule", schedule, schedule_names),
    F_INT("diffusion.steps_T", steps_T),
    F_FLT("diffusion.beta_start", beta_start),
    F_FLT("diffusion.beta_end", beta_end),
    F_ENU("diffusion.target", target, target_names),
    F_ENU_OPT("diffusion.input_scale", input_scale, input_scale_names), /* 0.1.0, session 4 */
    F_ENU_OPT("stft.feature_norm", feature_norm, feature_norm_names),   /* 0.1.0, session 5 */
    F_ENU_OPT("stft.features", features, features_names),               /* 0.1.0, session 6 */
    F_INT_OPT("arch.front_hidden", front_hidden),                       /* 0.1.0, session 7 */
    F_INT_OPT("arch.front_bins", front_bins),
    F_INT_OPT("arch.front_frames", front_frames),
    F_INT_OPT("arch.front_cond", front_cond),
    F_INT_OPT("arch.cond_snr", cond_snr),                               /* 0.1.0, session 9 */
    F_FLT_OPT("arch.floor_rise", floor_rise),                           /* 0.1.0, session 10 */
    F_FLT_OPT("arch.floor_slow", floor_slow),
    F_INT_OPT("arch.harmonicity", harmonicity),                         /* 0.1.0, session 13 */
    F_INT_OPT("arch.floor_gate", floor_gate),
    F_INT_OPT("arch.bands", bands),                                     /* 0.1.0, session 15 */
    F_INT_OPT("arch.band_context", band_context),
};
#undef F_INT
#undef F_INT_OPT
#undef F_FLT_OPT
#undef F_FLT
#undef F_ENU
#undef F_ENU_OPT
#define N_CFG_FIELDS ((int)(sizeof cfg_fields / sizeof cfg_fields[0]))

static int get_int_field(const limpid_config *cfg, const cfg_field *f)
{
    int v;
    memcpy(&v, (const char *)cfg + f->off, sizeof v);
    return v;
}
static void set_int_field(limpid_config *cfg, const cfg_field *f, int v)
{
    memcpy((char *)cfg + f->off, &v, sizeof v);
}
static float get_float_field(const limpid_config *cfg, const cfg_field *f)
{
    float v;
    memcpy(&v, (const char *)cfg + f->off, sizeof v);
    return v;
}
static void set_float_field(limpid_config *cfg, const cfg_field *f, float v)
{
    memcpy((char *)cfg + f->off, &v, sizeof v);
}

void lpi_kv_set_i64(lpi_kv *kv, const char *key, int64_t v)
{
    memset(kv, 0, sizeof *kv);
    snprintf(kv->key, sizeof kv->key, "%s", key);
    kv->type = LPI_KV_I64;
    kv->i = v;
}
void lpi_kv_set_f64(lpi_kv *kv, const char *key, double v)
{
    memset(kv, 0, sizeof *kv);
    snprintf(kv->key, sizeof kv->key, "%s", key);
    kv->type = LPI_KV_F64;
    kv->f = v;
}
/* src need not be NUL-terminated within n bytes */
static void kv_set_str(lpi_kv *kv, const char *key, const char *src, size_t n)
{
    memset(kv, 0, sizeof *kv);
    snprintf(kv->key, sizeof kv->key, "%s", key);
    kv->type = LPI_KV_STR;
    size_t l = strnlen(src, n);
    if (l > sizeof kv->s - 1)
        l = sizeof kv->s - 1;
    memcpy(kv->s, src, l);
}

/* Number of entries written, or with kv == NULL the number needed; -1 when cap is too small
 * or a field holds a value no name stands for. */
int lpi_config_to_kv(const limpid_config *cfg, lpi_kv *kv, int cap)
{
    if (!kv)
        return N_CFG_FIELDS;
    if (!cfg || cap < N_CFG_FIELDS)
        return -1;
    for (int k = 0; k < N_CFG_FIELDS; k++) {
        const cfg_field *f = &cfg_fields[k];
        if (f->kind == CF_INT) {
            lpi_kv_set_i64(&kv[k], f->key, get_int_field(cfg, f));
        } else if (f->kind == CF_FLOAT) {
            lpi_kv_set_f64(&kv[k], f->key, (double)get_float_field(cfg, f));
        } else {
            int v = get_int_field(cfg, f);
            const enum_name *e = f->names;
            while (e->name && e->value != v)
                e++;
            if (!e->name)
                return -1;
            kv_set_str(&kv[k], f->key, e->name, strlen(e->name));
        }
    }
    return N_CFG_FIELDS;
}

#define N_PROV_KEYS 9

int lpi_provenance_to_kv(const limpid_provenance *p, lpi_kv *kv, int cap)
{
    if (!kv)
        return N_PROV_KEYS;
    if (!p || cap < N_PROV_KEYS)
        return -1;
    kv_set_str(&kv[0], "prov.created", p->created, sizeof p->created);
    kv_set_str(&kv[1], "prov.tool_version", p->tool_version, sizeof p->tool_version);
    kv_set_str(&kv[2], "prov.data", p->data, sizeof p->data);
    kv_set_str(&kv[3], "prov.command", p->command, sizeof p->command);
    lpi_kv_set_i64(&kv[4], "prov.seed", (int64_t)p->seed); /* u64 bits; read back as u64 */
    lpi_kv_set_i64(&kv[5], "prov.train_steps", (int64_t)p->train_steps);
    lpi_kv_set_f64(&kv[6], "prov.train_seconds", p->train_seconds);
    lpi_kv_set_f64(&kv[7], "prov.final_loss", p->final_loss);
    lpi_kv_set_f64(&kv[8], "prov.val_loss", p->val_loss);
    return N_PROV_KEYS;
}

static void prov_str(const lpi_container *c, const char *key, char *dst, size_t n)
{
    const lpi_kv *kv = lpi_container_kv(c, key);
    if (kv && kv->type == LPI_KV_STR) {
        size_t l = strnlen(kv->s, sizeof kv->s);
        if (l > n - 1)
            l = n - 1; /* truncates to the field */
        memcpy(dst, kv->s, l);
        dst[l] = '\0';
    }
}

void lpi_provenance_from_container(const lpi_container *c, limpid_provenance *p)
{
    if (!p)
        return;
    memset(p, 0, sizeof *p);
    p->final_loss = NAN;
    p->val_loss = NAN;
    if (!c)
        return;
    /* every key optional; a key of the wrong type counts as absent */
    prov_str(c, "prov.created", p->created, sizeof p->created);
    prov_str(c, "prov.tool_version", p->tool_version, sizeof p->tool_version);
    prov_str(c, "prov.data", p->data, sizeof p->data);
    prov_str(c, "prov.command", p->command, sizeof p->command);
    const lpi_kv *kv;
    if ((kv = lpi_container_kv(c, "prov.seed")) && kv->type == LPI_KV_I64)
        p->seed = (uint64_t)kv->i;
    if ((kv = lpi_container_kv(c, "prov.train_steps")) && kv->type == LPI_KV_I64)
        p->train_steps = (uint64_t)kv->i;
    if ((kv = lpi_container_kv(c, "prov.train_seconds")) && kv->type == LPI_KV_F64)
        p->train_seconds = kv->f;
    if ((kv = lpi_container_kv(c, "prov.final_loss")) && kv->type == LPI_KV_F64)
        p->final_loss = kv->f;
    if ((kv = lpi_container_kv(c, "prov.val_loss")) && kv->type == LPI_KV_F64)
        p->val_loss = kv->f;
}

static const char *kv_type_word(lpi_kv_type t)
{
    switch (t) {
    case LPI_KV_I64: return "an integer";
    case LPI_KV_F64: return "a number";
    case LPI_KV_STR: return "a string";
    }
    return "of unknown type";
}

limpid_status lpi_config_from_container(const lpi_container *c, limpid_config *cfg, char *err,
                                        size_t errlen)
{
    if (!c || !cfg) {
        lpi_errf(err, errlen, "no container or configuration given");
        return LIMPID_ERR_INVALID;
    }
    limpid_config tmp;
    memset(&tmp, 0, sizeof tmp);
    for (int k = 0; k < N_CFG_FIELDS; k++) {
        const cfg_field *f = &cfg_fields[k];
        const lpi_kv *kv = lpi_container_kv(c, f->key);
        lpi_kv_type want = f->kind == CF_INT ? LPI_KV_I64 : f->kind == CF_FLOAT ? LPI_KV_F64
                                                                               : LPI_KV_STR;
        if (!kv && f->optional)
            continue; /* tmp was zeroed: the default */
        if (!kv) {
            lpi_errf(err, errlen, "missing configuration key \"%s\"", f->key);
            return LIMPID_ERR_CORRUPT;
        }
        if (kv->type != want) {
            lpi_errf(err, errlen, "configuration key \"%s\" is %s; expected %s", f->key,
                     kv_type_word(kv->type), kv_type_word(want));
            return LIMPID_ERR_CORRUPT;
        }
        if (f->kind == CF_INT) {
            if (kv->i < INT_MIN || kv->i > INT_MAX) {
                lpi_errf(err, errlen, "configuration key \"%s\" = %lld is out of range", f->key,
                         (long long)kv->i);
                return LIMPID_ERR_CORRUPT;
            }
            set_int_field(&tmp, f, (int)kv->i);
        } else if (f->kind == CF_FLOAT) {
            if (!isfinite(kv->f) || fabs(kv->f) > FLT_MAX) {
                lpi_errf(err, errlen, "configuration key \"%s\" = %g is not a finite "
                         "single-precision number", f->key, kv->f);
                return LIMPID_ERR_CORRUPT;
            }
            set_float_field(&tmp, f, (float)kv->f);
        } else {
            const enum_name *e = f->names;
            while (e->name && strcmp(e->name, kv->s) != 0)
                e++;
            if (!e->name) {
                char list[128] = "";
                size_t used = 0;
                for (const enum_name *q = f->names; q->name; q++) {
                    int w = snprintf(list + used, sizeof list - used, "%s%s",
                                     q == f->names ? "" : ", ", q->name);
                    if (w < 0 || (size_t)w >= sizeof list - used)
                        break;
                    used += (size_t)w;
                }
                lpi_errf(err, errlen, "configuration key \"%s\" is \"%s\"; expected one of: %s",
                         f->key, kv->s, list);
                return LIMPID_ERR_CORRUPT;
            }
            set_int_field(&tmp, f, e->value);
        }
    }
    char msg[256];
    if (limpid_config_check(&tmp, msg, sizeof msg) != LIMPID_OK) {
        /* Name the key: the first field whose value from a valid reference configuration (the
         * "tiny" preset of the same task and domain) makes the check pass. Combination errors
         * that no single field explains are reported without a key. */
        limpid_config ref;
        if (limpid_config_preset(&ref, "tiny", tmp.task, tmp.domain, 48000) == LIMPID_OK) {
            for (int k = 0; k < N_CFG_FIELDS; k++) {
                const cfg_field *f = &cfg_fields[k];
                limpid_config probe = tmp;
                memcpy((char *)&probe + f->off, (const char *)&ref + f->off, sizeof(int));
                if (memcmp((char *)&probe + f->off, (char *)&tmp + f->off, sizeof(int)) != 0 &&
                    limpid_config_check(&probe, NULL, 0) == LIMPID_OK) {
                    lpi_errf(err, errlen, "configuration key \"%s\": %s", f->key, msg);
                    return LIMPID_ERR_CORRUPT;
                }
            }
        }
        lpi_errf(err, errlen, "invalid configuration: %s", msg);
        return LIMPID_ERR_CORRUPT;
    }
    *cfg = tmp;
    return LIMPID_OK;
}

/* ------------------------------------------------------------------------ */
/* Model <-> container */

limpid_status lpi_model_to_container(const limpid_model *m, lpi_container *c, lpi_kv *kv_space,
                                     int kv_cap, lpi_rec *rec_space, int rec_cap)
{
    if (!m || !c || !kv_space || !rec_space)
        return LIMPID_ERR_INVALID;
    memset(c, 0, sizeof *c);
    int n_cfg = lpi_config_to_kv(&m->cfg, kv_space, kv_cap);
    if (n_cfg < 0)
        return LIMPID_ERR_INVALID;
    int n_prov = lpi_provenance_to_kv(&m->prov, kv_space + n_cfg, kv_cap - n_cfg);
    if (n_prov < 0)
        return LIMPID_ERR_INVALID;
    const lpi_net_layout *L = &m->layout;
    if (rec_cap < L->n_tensors)
        return LIMPID_ERR_INVALID;
    for (int k = 0; k < L->n_tensors; k++) {
        const lpi_tensor_desc *td = &L->tensors[k];
        lpi_rec *r = &rec_space[k];
        memset(r, 0, sizeof *r);
        snprintf(r->name, sizeof r->name, "%s", td->name);
        r->ndim = td->ndim;
        r->dims[0] = td->dims[0];
        r->dims[1] = td->ndim == 2 ? td->dims[1] : 0;
        r->data = m->params + td->off;
        r->count = td->count;
    }
    c->kind = LPI_KIND_MODEL;
    c->n_kv = n_cfg + n_prov;
    c->kv = kv_space;
    c->n_rec = L->n_tensors;
    c->rec = rec_space;
    c->blob = NULL;
    return LIMPID_OK;
}

static void shape_str(char *dst, size_t n, int ndim, int64_t d0, int64_t d1)
{
    if (ndim == 2)
        snprintf(dst, n, "[%lld x %lld]", (long long)d0, (long long)d1);
    else
        snprintf(dst, n, "[%lld]", (long long)d0);
}

/* index of the record named name, trying `hint` first (files keep the layout order) */
static int find_rec(const lpi_container *c, const char *name, int hint)
{
    if (hint >= 0 && hint < c->n_rec && strcmp(c->rec[hint].name, name) == 0)
        return hint;
    for (int i = 0; i < c->n_rec; i++)
        if (strcmp(c->rec[i].name, name) == 0)
            return i;
    return -1;
}

/* Every layout tensor present with its exact shape, and no other record. */
static limpid_status check_records(const lpi_container *c, const lpi_net_layout *L, char *err,
                                   size_t errlen)
{
    for (int k = 0; k < L->n_tensors; k++) {
        const lpi_tensor_desc *td = &L->tensors[k];
        int i = find_rec(c, td->name, k);
        char want[64], have[64];
        shape_str(want, sizeof want, td->ndim, td->dims[0], td->dims[1]);
        if (i < 0) {
            lpi_errf(err, errlen, "tensor %s %s is missing", td->name, want);
            return LIMPID_ERR_CORRUPT;
        }
        const lpi_rec *r = &c->rec[i];
        if (r->ndim != td->ndim || r->dims[0] != td->dims[0] ||
            (td->ndim == 2 && r->dims[1] != td->dims[1])) {
            shape_str(have, sizeof have, r->ndim, r->dims[0], r->dims[1]);
            lpi_errf(err, errlen, "tensor %s has shape %s, the configuration needs %s",
                     td->name, have, want);
            return LIMPID_ERR_CORRUPT;
        }
    }
    /* names are unique (reader) and all layout names were found: extras exist iff more */
    if (c->n_rec > L->n_tensors) {
        for (int i = 0; i < c->n_rec; i++) {
            int found = 0;
            if (i < L->n_tensors && strcmp(L->tensors[i].name, c->rec[i].name) == 0)
                found = 1;
            for (int k = 0; !found && k < L->n_tensors; k++)
                found = strcmp(L->tensors[k].name, c->rec[i].name) == 0;
            if (!found) {
                lpi_errf(err, errlen, "unexpected tensor %s: the configuration has no such "
                         "parameter (%d tensors in the file, %d expected)", c->rec[i].name,
                         c->n_rec, L->n_tensors);
                return LIMPID_ERR_CORRUPT;
            }
        }
    }
    return LIMPID_OK;
}

limpid_status lpi_model_from_container(const lpi_container *c, limpid_model **out, char *err,
                                       size_t errlen)
{
    if (!out) {
        lpi_errf(err, errlen, "no output given");
        return LIMPID_ERR_INVALID;
    }
    *out = NULL;
    if (!c) {
        lpi_errf(err, errlen, "no container given");
        return LIMPID_ERR_INVALID;
    }
    if (c->kind != LPI_KIND_MODEL) {
        if (c->kind == LPI_KIND_CHECKPOINT)
            lpi_errf(err, errlen, "this is a limpid training checkpoint, not a model file "
                     "(export a model from it first)");
        else
            lpi_errf(err, errlen, "unknown limpid file kind %u, not a model file", c->kind);
        return LIMPID_ERR_FORMAT;
    }
    limpid_config cfg;
    limpid_status st = lpi_config_from_container(c, &cfg, err, errlen);
    if (st != LIMPID_OK)
        return st;
    /* Check the records against the layout before allocating the parameters: a small
     * crafted file could otherwise claim a configuration of hundreds of megabytes. */
    lpi_net_layout L;
    st = lpi_net_layout_init(&L, &cfg);
    if (st != LIMPID_OK) {
        lpi_errf(err, errlen, "out of memory building the network layout");
        return st;
    }
    st = check_records(c, &L, err, errlen);
    lpi_net_layout_free(&L);
    if (st != LIMPID_OK)
        return st;
    limpid_model *m;
    st = lpi_model_alloc(&m, &cfg);
    if (st != LIMPID_OK) {
        lpi_errf(err, errlen, "%s allocating the model", limpid_strerror(st));
        return st;
    }
    for (int k = 0; k < m->layout.n_tensors; k++) {
        const lpi_tensor_desc *td = &m->layout.tensors[k];
        const lpi_rec *r = &c->rec[find_rec(c, td->name, k)]; /* found above */
        memcpy(m->params + td->off, r->data, td->count * sizeof(float));
    }
    if (m->layout.has_feat_scale) { /* generation multiplies, training divides by them */
        const int F = lpi_feature_bins(&m->cfg);
        for (int i = 0; i < m->layout.K * F; i++) {
            const float v = m->params[m->layout.feat_scale + (size_t)i];
            const float u = m->layout.has_feat_mean ? m->params[m->layout.feat_mean + (size_t)i] : 0.0f;
            const int bad_scale = !(v > 0.0f && v < 1e30f);
            if (bad_scale || !(fabsf(u) < 1e30f)) {
                lpi_errf(err, errlen, "tensor feat.%s holds %g at class %d, bin %d: feature "
                         "scales must be positive and finite, means finite",
                         bad_scale ? "scale" : "mean", (double)(bad_scale ? v : u), i / F, i % F);
                limpid_model_destroy(m);
                return LIMPID_ERR_CORRUPT;
            }
        }
    }
    lpi_provenance_from_container(c, &m->prov);
    *out = m;
    return LIMPID_OK;
}

/* ------------------------------------------------------------------------ */
/* Load and save */

limpid_status limpid_model_load_memory(limpid_model **out, const void *buf, size_t len,
                                       char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!out) {
        lpi_errf(err, errlen, "no output given");
        return LIMPID_ERR_INVALID;
    }
    *out = NULL;
    lpi_container c;
    limpid_status st = lpi_container_read(&c, buf, len, err, errlen);
    if (st != LIMPID_OK)
        return st;
    st = lpi_model_from_container(&c, out, err, errlen);
    lpi_container_free(&c);
    return st;
}

limpid_status limpid_model_load_file(limpid_model **out, const char *path, char *err,
                                     size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!out) {
        lpi_errf(err, errlen, "no output given");
        return LIMPID_ERR_INVALID;
    }
    *out = NULL;
    void *buf;
    size_t len;
    /* lpi_read_file's messages already start with the path */
    limpid_status st = lpi_read_file(path, &buf, &len, err, errlen);
    if (st != LIMPID_OK)
        return st;
    char msg[768];
    msg[0] = '\0';
    st = limpid_model_load_memory(out, buf, len, msg, sizeof msg);
    free(buf);
    if (st != LIMPID_OK)
        lpi_errf(err, errlen, "%s: %s", path, msg);
    return st;
}

limpid_status limpid_model_save_memory(const limpid_model *m, void **buf, size_t *len)
{
    if (!m || !buf || !len)
        return LIMPID_ERR_INVALID;
    *buf = NULL;
    *len = 0;
    int kv_cap = lpi_config_to_kv(NULL, NULL, 0) + lpi_provenance_to_kv(NULL, NULL, 0);
    int rec_cap = m->layout.n_tensors;
    lpi_kv *kv = calloc((size_t)kv_cap, sizeof *kv);
    lpi_rec *rec = calloc((size_t)rec_cap, sizeof *rec);
    limpid_status st = LIMPID_ERR_NOMEM;
    if (kv && rec) {
        lpi_container c;
        st = lpi_model_to_container(m, &c, kv, kv_cap, rec, rec_cap);
        if (st == LIMPID_OK)
            st = lpi_container_write(&c, buf, len);
    }
    free(kv);
    free(rec);
    return st;
}

limpid_status limpid_model_save_file(const limpid_model *m, const char *path)
{
    if (!m || !path)
        return LIMPID_ERR_INVALID;
    void *buf;
    size_t len;
    limpid_status st = limpid_model_save_memory(m, &buf, &len);
    if (st != LIMPID_OK)
        return st;
    st = lpi_write_file_atomic(path, buf, len);
    free(buf);
    return st;
}
