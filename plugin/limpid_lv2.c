/*
 * limpid_lv2.c - the limpid denoiser as LV2 plugins (bundle limpid.lv2).
 *
 * Two plugins share this code:
 *   https://limpid.example/plugins/denoise-mono    1 in, 1 out
 *   https://limpid.example/plugins/denoise-stereo  2 in, 2 out, linked
 * Each channel runs its own limpid_stream (core/include/limpid.h, "Streaming denoiser").
 * The stereo plugin creates both streams with the SAME seed, so both channels draw the same
 * per-frame sampler noise and go through identical processing decisions: a centred (L = R)
 * source stays exactly centred and the stereo image does not wander. This is also what
 * `limpid denoise` does with multichannel files.
 *
 * Port layout (indices are contiguous and match limpid.ttl.in): the audio ports first
 * (mono: in 0, out 1; stereo: in_l 0, in_r 1, out_l 2, out_r 3), then, from base = 2*nch,
 * the ports of enum ctl_port below.
 *
 * Signal path, per channel, per sample (all host-rate samples, L = stream latency):
 *     dry[n] = in[n - L]                        (delay line, latency-matched)
 *     wet[n] = denoised(in)[n]                  (= denoised in[n - L])
 *     proc   = gain * (mix * swap * wet + (1 - mix) * dry)
 *     out    = w * proc + (1 - w) * dry         (w: enable, crossfaded over 15 ms)
 * `swap` fades the engine out and back in (10 ms each) around a model change. mix and gain
 * follow their ports through a one-pole smoother (about 10 ms). Every smoother advances per
 * sample, so the output does not depend on how the host cuts the stream into blocks.
 * Non-finite input samples enter both paths as 0; an output sample that is not finite
 * (e.g. +12 dB on a huge input) is written as 0.
 *
 * Threads:
 *   instantiate / activate / restore / cleanup: non-RT, never concurrent with run(); they may
 *     allocate. instantiate loads the default model rt.lpm from the bundle. restore() loads
 *     the saved model DIRECTLY (synchronously): the LV2 state spec puts restore() in the
 *     instantiation class, so it is never concurrent with run(); state:threadSafeRestore is
 *     not declared.
 *   run(): audio thread. Never allocates, frees, locks, logs or touches files (the engine
 *     promises the same of limpid_stream_process). A patch:Set of the model property is sent
 *     to the worker (work:schedule); patch:Get is answered with patch:Set on the notify port.
 *   work(): LOAD: read the model file and create the streams and delay lines (a new
 *     `engine`); FREE: destroy an engine that run() retired. work_response() (audio thread)
 *     only parks the new engine as `pending`; run() fades the wet path out, swaps engines,
 *     fades back in, and schedules the old one to be freed by the worker.
 *   save(): may run concurrently with run(): reads the model path through a sequence lock
 *     that run() updates when it swaps.
 * State: one key, <https://limpid.example/plugins/denoise#model>: a user model as its path
 * (atom:Path, through state:mapPath, so hosts can make it relative to the session or link the
 * file into it); the bundle's own model as the atom:String "default", so a session follows
 * the bundle when it is installed elsewhere. Restoring a state without the key (a preset,
 * which carries controls only) leaves the model as it is. state:makePath is not needed: the
 * plugin writes no files. Controls are port values, which hosts save themselves.
 * Without urid:map the plugin still processes audio with the bundle's default model; the
 * atom ports are ignored and state save/restore report LV2_STATE_ERR_NO_FEATURE. Without
 * work:schedule, patch:Set of the model is ignored (state restore still works).
 */
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/core/lv2.h>
#include <lv2/log/log.h>
#include <lv2/log/logger.h>
#include <lv2/patch/patch.h>
#include <lv2/state/state.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#include "limpid.h"

#define LIMPID_LV2_PREFIX "https://limpid.example/plugins/"
#define LIMPID_LV2_MONO_URI LIMPID_LV2_PREFIX "denoise-mono"
#define LIMPID_LV2_STEREO_URI LIMPID_LV2_PREFIX "denoise-stereo"
#define LIMPID_LV2_MODEL_URI LIMPID_LV2_PREFIX "denoise#model"
/* private URIDs of worker messages (never leave this plugin) */
#define LIMPID_LV2_LOAD_URI LIMPID_LV2_PREFIX "denoise#workLoad"
#define LIMPID_LV2_FREE_URI LIMPID_LV2_PREFIX "denoise#workFree"

#define DEFAULT_MODEL_FILE "rt.lpm"
#define DEFAULT_MODEL_TOKEN "default" /* state value (atom:String) for the default model */
#define STREAM_SEED 0u      /* both channels; = `limpid denoise` default --seed */
#define MAX_STEPS 4         /* streams are created for 4 steps: latency is the same for 1..4 */
#define CHUNK 256           /* frames per inner processing pass (scratch size) */
#define BYPASS_FADE_S 0.015 /* enable crossfade */
#define SWAP_FADE_S 0.010   /* model-change fade out / fade in of the wet path */
#define SMOOTH_S 0.010      /* one-pole time constant of mix and gain */
#define PATH_CAP 4096       /* longest model path (bytes with NUL) */
#define N_RETIRE 8          /* engines waiting to be handed to the worker for freeing */

enum ctl_port {
    C_CONTROL = 0, /* atom:Sequence in: patch:Set / patch:Get */
    C_NOTIFY,      /* atom:Sequence out: patch:Set of the model */
    C_STRENGTH,    /* 0..1 -> limpid_stream_set_strength */
    C_STEPS,       /* 1..4 integer -> limpid_stream_set_steps */
    C_MIX,         /* 0..1 dry/wet */
    C_GAIN,        /* dB, -24..+12, on the processed signal */
    C_ENABLE,      /* lv2:enabled toggle */
    C_LATENCY,     /* output, samples */
    C_COUNT
};

/* A loaded model with everything bound to it: made and destroyed off the audio thread. */
typedef struct engine {
    limpid_model *model;
    limpid_stream *st[2];
    int nch;
    int latency;     /* host samples */
    float *delay[2]; /* dry delay lines, `latency` samples each (NULL when latency is 0) */
    int pos;         /* next read/write index of the delay lines */
    int is_default;  /* the bundle's rt.lpm */
    char path[PATH_CAP];
} engine;

/* worker messages */
typedef struct {
    LV2_Atom atom; /* type = uris.work_load, size = bytes after this header */
    uint32_t gen;  /* restore generation the request belongs to */
    char path[PATH_CAP];
} msg_load;

typedef struct {
    LV2_Atom atom; /* type = uris.work_free */
    engine *e;
} msg_free;

typedef struct {
    engine *e; /* NULL: the load failed */
    uint32_t gen;
} msg_response;

typedef struct {
    LV2_URID atom_Path, atom_String, atom_URID, atom_Object, atom_Sequence, atom_eventTransfer;
    LV2_URID patch_Set, patch_Get, patch_property, patch_value, patch_subject;
    LV2_URID model, work_load, work_free;
} uris_t;

typedef struct plugin {
    int nch;
    double rate;

    const float *in[2];
    float *out[2];
    const LV2_Atom_Sequence *control;
    LV2_Atom_Sequence *notify;
    const float *p_strength, *p_steps, *p_mix, *p_gain, *p_enable;
    float *p_latency;

    engine *eng;     /* in use by run() */
    engine *pending; /* loaded by the worker, swapped in by run() after the fade-out */
    engine *retire[N_RETIRE]; /* to be freed by the worker (scheduled from run()) */
    atomic_uint gen;          /* bumped by restore(): older loads are discarded */

    /* smoothers (per sample) */
    float w, w_step;       /* enable crossfade weight and its per-sample step */
    float swap, swap_step; /* model-change fade */
    float mix, gain, smooth_a;
    int first_run; /* snap the smoothers to the ports at the first run after activate */
    int steps_set;
    float strength_set;

    /* scratch for one chunk: the input copied (in-place hosts), the engine's output */
    float dry_in[2][CHUNK];
    float wet[2][CHUNK];

    /* host features */
    LV2_URID_Map *map;
    LV2_Worker_Schedule *sched;
    LV2_Log_Logger logger;
    LV2_Atom_Forge forge;
    uris_t uris;
    int notify_pending;

    /* current model path for save(), written by run()/restore() under a sequence lock */
    atomic_uint path_seq;
    int path_is_default;
    char path_cur[PATH_CAP];

    char default_path[PATH_CAP];
    msg_load load_msg; /* built in run() (no allocation), copied by schedule_work */
} plugin;

/* ---- engines (non-RT) ------------------------------------------------------------------ */

static void engine_destroy(engine *e)
{
    if (!e)
        return;
    for (int c = 0; c < 2; c++) {
        limpid_stream_destroy(e->st[c]);
        free(e->delay[c]);
    }
    limpid_model_destroy(e->model);
    free(e);
}

/* Load `path` and bind nch streams at the host rate. NULL on failure (err says why). */
static engine *engine_create(const char *path, double rate, int nch, int is_default, char *err,
                             size_t errlen)
{
    if (strlen(path) >= PATH_CAP) {
        snprintf(err, errlen, "model path too long");
        return NULL;
    }
    engine *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->nch = nch;
    e->is_default = is_default;
    snprintf(e->path, sizeof e->path, "%s", path);
    if (limpid_model_load_file(&e->model, path, err, errlen) != LIMPID_OK)
        goto fail;
    limpid_stream_opts o;
    limpid_stream_opts_default(&o);
    o.sample_rate = (int)lrint(rate);
    o.max_steps = MAX_STEPS;
    o.steps = 2;
    o.strength = 1.0f;
    o.seed = STREAM_SEED; /* the same for every channel: linked stereo */
    o.spread = 1; /* a frame's work spread over the next hop: no call carries a whole frame
                     at small host blocks (one hop more latency, reported) */
    for (int c = 0; c < nch; c++) {
        limpid_status st = limpid_stream_create(&e->st[c], e->model, &o);
        if (st != LIMPID_OK) {
            snprintf(err, errlen, "%s%s", limpid_strerror(st),
                     st == LIMPID_ERR_UNSUPPORTED
                         ? (limpid_model_config(e->model)->bands > 0
                                ? " (a band-resolved model has no real-time path yet; "
                                  "'limpid denoise' runs it offline)"
                                : " (the plugin needs a causal STFT denoising model: "
                                  "lookahead = 0)")
                         : "");
            goto fail;
        }
    }
    e->latency = limpid_stream_latency(e->st[0]);
    if (e->latency > 0) {
        for (int c = 0; c < nch; c++) {
            e->delay[c] = calloc((size_t)e->latency, sizeof(float));
            if (!e->delay[c]) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
        }
    }
    return e;
fail:
    engine_destroy(e);
    return NULL;
}

/* Back to silence (activate): no allocation. */
static void engine_reset(engine *e)
{
    for (int c = 0; c < e->nch; c++) {
        limpid_stream_reset(e->st[c]);
        if (e->delay[c])
            memset(e->delay[c], 0, (size_t)e->latency * sizeof(float));
    }
    e->pos = 0;
}

/* Give `to` the last min(latency) dry input samples of `from`, so the dry path does not jump
 * when the model changes (it cannot stay continuous in time if the latency changes). RT-safe. */
static void engine_copy_dry(engine *to, const engine *from)
{
    int n = to->latency < from->latency ? to->latency : from->latency;
    for (int c = 0; c < to->nch; c++) {
        for (int k = 1; k <= n; k++) { /* k samples ago */
            int src = (from->pos - k) % from->latency;
            if (src < 0)
                src += from->latency;
            int dst = (to->pos - k) % to->latency;
            if (dst < 0)
                dst += to->latency;
            to->delay[c][dst] = from->delay[c][src];
        }
    }
}

/* ---- helpers ----------------------------------------------------------------------------- */

static void map_uris(plugin *p)
{
    LV2_URID_Map *m = p->map;
    uris_t *u = &p->uris;
    u->atom_Path = m->map(m->handle, LV2_ATOM__Path);
    u->atom_String = m->map(m->handle, LV2_ATOM__String);
    u->atom_URID = m->map(m->handle, LV2_ATOM__URID);
    u->atom_Object = m->map(m->handle, LV2_ATOM__Object);
    u->atom_Sequence = m->map(m->handle, LV2_ATOM__Sequence);
    u->atom_eventTransfer = m->map(m->handle, LV2_ATOM__eventTransfer);
    u->patch_Set = m->map(m->handle, LV2_PATCH__Set);
    u->patch_Get = m->map(m->handle, LV2_PATCH__Get);
    u->patch_property = m->map(m->handle, LV2_PATCH__property);
    u->patch_value = m->map(m->handle, LV2_PATCH__value);
    u->patch_subject = m->map(m->handle, LV2_PATCH__subject);
    u->model = m->map(m->handle, LIMPID_LV2_MODEL_URI);
    u->work_load = m->map(m->handle, LIMPID_LV2_LOAD_URI);
    u->work_free = m->map(m->handle, LIMPID_LV2_FREE_URI);
}

/* Publish the current model path for save() (sequence lock; bounded copy, RT-safe). */
static void publish_path(plugin *p, const engine *e)
{
    atomic_fetch_add(&p->path_seq, 1); /* odd: writing */
    p->path_is_default = e->is_default;
    memcpy(p->path_cur, e->path, strlen(e->path) + 1);
    atomic_fetch_add(&p->path_seq, 1); /* even: stable */
}

static float clampf(float x, float lo, float hi, float dflt)
{
    if (!(x == x))
        return dflt; /* NaN */
    return x < lo ? lo : x > hi ? hi : x;
}

static float port_value(const float *port, float lo, float hi, float dflt)
{
    return port ? clampf(*port, lo, hi, dflt) : dflt;
}

/* Make `e` the running engine with the current settings (RT-safe: setters only). */
static void apply_settings(plugin *p, engine *e)
{
    for (int c = 0; c < e->nch; c++) {
        limpid_stream_set_steps(e->st[c], p->steps_set);
        limpid_stream_set_strength(e->st[c], p->strength_set);
    }
}

/* ---- LV2 ----------------------------------------------------------------------------------- */

static LV2_Handle instantiate_n(int nch, double rate, const char *bundle_path,
                                const LV2_Feature *const *features)
{
    plugin *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->nch = nch;
    p->rate = rate;
    LV2_Log_Log *log = NULL;
    for (int i = 0; features && features[i]; i++) {
        if (!features[i]->URI) /* seen from lv2file 0.95: skip malformed entries */
            continue;
        if (!strcmp(features[i]->URI, LV2_URID__map))
            p->map = (LV2_URID_Map *)features[i]->data;
        else if (!strcmp(features[i]->URI, LV2_WORKER__schedule))
            p->sched = (LV2_Worker_Schedule *)features[i]->data;
        else if (!strcmp(features[i]->URI, LV2_LOG__log))
            log = (LV2_Log_Log *)features[i]->data;
    }
    lv2_log_logger_init(&p->logger, p->map, log);
    if (p->map) {
        map_uris(p);
        lv2_atom_forge_init(&p->forge, p->map);
    }
    if (!(rate >= 8000.0 && rate <= 384000.0)) {
        lv2_log_error(&p->logger, "limpid: sample rate %.0f Hz not supported (8000..384000)\n",
                      rate);
        free(p);
        return NULL;
    }
    size_t bl = strlen(bundle_path);
    const char *sep = (bl > 0 && bundle_path[bl - 1] == '/') ? "" : "/";
    if (bl + strlen(DEFAULT_MODEL_FILE) + 2 > sizeof p->default_path) {
        free(p);
        return NULL;
    }
    snprintf(p->default_path, sizeof p->default_path, "%s%s%s", bundle_path, sep,
             DEFAULT_MODEL_FILE);
    char err[256] = "";
    p->eng = engine_create(p->default_path, rate, nch, 1, err, sizeof err);
    if (!p->eng) {
        lv2_log_error(&p->logger, "limpid: cannot load the default model %s: %s\n",
                      p->default_path, err);
        free(p);
        return NULL;
    }
    publish_path(p, p->eng);
    p->steps_set = 2;
    p->strength_set = 1.0f;
    p->w_step = (float)(1.0 / (BYPASS_FADE_S * rate));
    p->swap_step = (float)(1.0 / (SWAP_FADE_S * rate));
    p->smooth_a = (float)(1.0 - exp(-1.0 / (SMOOTH_S * rate)));
    p->swap = 1.0f;
    p->first_run = 1;
    return p;
}

static LV2_Handle instantiate_mono(const LV2_Descriptor *d, double rate, const char *bundle,
                                   const LV2_Feature *const *features)
{
    (void)d;
    return instantiate_n(1, rate, bundle, features);
}

static LV2_Handle instantiate_stereo(const LV2_Descriptor *d, double rate, const char *bundle,
                                     const LV2_Feature *const *features)
{
    (void)d;
    return instantiate_n(2, rate, bundle, features);
}

static void connect_port(LV2_Handle h, uint32_t port, void *data)
{
    plugin *p = (plugin *)h;
    uint32_t nch = (uint32_t)p->nch;
    if (port < nch) {
        p->in[port] = (const float *)data;
        return;
    }
    if (port < 2 * nch) {
        p->out[port - nch] = (float *)data;
        return;
    }
    switch (port - 2 * nch) {
    case C_CONTROL: p->control = (const LV2_Atom_Sequence *)data; break;
    case C_NOTIFY: p->notify = (LV2_Atom_Sequence *)data; break;
    case C_STRENGTH: p->p_strength = (const float *)data; break;
    case C_STEPS: p->p_steps = (const float *)data; break;
    case C_MIX: p->p_mix = (const float *)data; break;
    case C_GAIN: p->p_gain = (const float *)data; break;
    case C_ENABLE: p->p_enable = (const float *)data; break;
    case C_LATENCY: p->p_latency = (float *)data; break;
    default: break;
    }
}

static void activate(LV2_Handle h)
{
    plugin *p = (plugin *)h;
    engine_reset(p->eng);
    if (p->pending)
        engine_reset(p->pending);
    p->swap = p->pending ? 0.0f : 1.0f;
    p->first_run = 1;
    if (p->p_latency)
        *p->p_latency = (float)p->eng->latency;
}

static void deactivate(LV2_Handle h) { (void)h; }

/* Queue an engine for freeing by the worker (audio thread). The retire slots are retried at
 * every run() until the host accepts them. */
static void retire_engine(plugin *p, engine *e)
{
    for (int i = 0; i < N_RETIRE; i++) {
        if (!p->retire[i]) {
            p->retire[i] = e;
            return;
        }
    }
    /* all slots full: nothing to do but keep it (never free on the audio thread). This
     * needs N_RETIRE model changes within cycles in which the host refused work. */
}

static void flush_retired(plugin *p)
{
    if (!p->sched)
        return;
    for (int i = 0; i < N_RETIRE; i++) {
        if (!p->retire[i])
            continue;
        msg_free m;
        m.atom.size = (uint32_t)(sizeof m - sizeof m.atom);
        m.atom.type = p->uris.work_free;
        m.e = p->retire[i];
        p->retire[i] = NULL; /* a synchronous worker may free it inside schedule_work */
        if (p->sched->schedule_work(p->sched->handle, sizeof m, &m) != LV2_WORKER_SUCCESS)
            p->retire[i] = m.e; /* try again next cycle */
    }
}

static void handle_message(plugin *p, const LV2_Atom_Object *obj)
{
    const uris_t *u = &p->uris;
    if (obj->body.otype == u->patch_Get) {
        const LV2_Atom *property = NULL;
        lv2_atom_object_get(obj, u->patch_property, &property, 0);
        if (!property || (property->type == u->atom_URID &&
                          ((const LV2_Atom_URID *)property)->body == u->model))
            p->notify_pending = 1;
        return;
    }
    if (obj->body.otype != u->patch_Set)
        return;
    const LV2_Atom *property = NULL, *value = NULL;
    lv2_atom_object_get(obj, u->patch_property, &property, u->patch_value, &value, 0);
    if (!property || property->type != u->atom_URID ||
        ((const LV2_Atom_URID *)property)->body != u->model || !value)
        return;
    if (value->type != u->atom_Path && value->type != u->atom_String)
        return;
    const char *path = (const char *)LV2_ATOM_BODY_CONST(value);
    uint32_t len = value->size; /* includes the NUL */
    if (!p->sched || len < 2 || len > PATH_CAP || path[len - 1] != '\0') {
        p->notify_pending = 1; /* cannot load: tell the UI what is loaded */
        return;
    }
    msg_load *m = &p->load_msg;
    memcpy(m->path, path, len);
    m->gen = atomic_load(&p->gen);
    m->atom.type = p->uris.work_load;
    m->atom.size = (uint32_t)(sizeof m->gen + len);
    if (p->sched->schedule_work(p->sched->handle, (uint32_t)sizeof m->atom + m->atom.size, m) !=
        LV2_WORKER_SUCCESS)
        p->notify_pending = 1;
}

static void write_notify(plugin *p)
{
    LV2_Atom_Forge *f = &p->forge;
    const uris_t *u = &p->uris;
    const engine *e = p->eng; /* what is running now (a pending model is not yet heard) */
    LV2_Atom_Forge_Frame frame;
    if (!lv2_atom_forge_frame_time(f, 0))
        return;
    if (!lv2_atom_forge_object(f, &frame, 0, u->patch_Set))
        return;
    lv2_atom_forge_key(f, u->patch_property);
    lv2_atom_forge_urid(f, u->model);
    lv2_atom_forge_key(f, u->patch_value);
    lv2_atom_forge_path(f, e->path, (uint32_t)strlen(e->path));
    lv2_atom_forge_pop(f, &frame);
    p->notify_pending = 0;
}

static void swap_engines(plugin *p)
{
    engine *old = p->eng, *e = p->pending;
    p->pending = NULL;
    engine_copy_dry(e, old);
    apply_settings(p, e);
    p->eng = e;
    publish_path(p, e);
    retire_engine(p, old);
    p->notify_pending = 1;
}

static void run(LV2_Handle h, uint32_t n_samples)
{
    plugin *p = (plugin *)h;
    const int nch = p->nch;

    /* controls (hosts may send anything: clamp, NaN -> default) */
    float strength = port_value(p->p_strength, 0.0f, 1.0f, 1.0f);
    int steps = (int)lrintf(port_value(p->p_steps, 1.0f, (float)MAX_STEPS, 2.0f));
    float mix_t = port_value(p->p_mix, 0.0f, 1.0f, 1.0f);
    float gain_db = port_value(p->p_gain, -24.0f, 12.0f, 0.0f);
    float gain_t = powf(10.0f, gain_db / 20.0f);
    float w_t = port_value(p->p_enable, 0.0f, 1.0f, 1.0f) > 0.5f ? 1.0f : 0.0f;
    /* the engine clamps strength to (0, 1]; a tiny floor keeps 0 meaningful ("least") */
    if (strength < 1e-3f)
        strength = 1e-3f;
    if (steps != p->steps_set || strength != p->strength_set || p->first_run) {
        p->steps_set = steps;
        p->strength_set = strength;
        apply_settings(p, p->eng);
    }
    if (p->first_run) {
        p->mix = mix_t;
        p->gain = gain_t;
        p->w = w_t;
        p->first_run = 0;
    }

    /* messages */
    LV2_Atom_Forge_Frame seq_frame;
    int forging = 0;
    if (p->map && p->notify) {
        lv2_atom_forge_set_buffer(&p->forge, (uint8_t *)p->notify, p->notify->atom.size);
        forging = lv2_atom_forge_sequence_head(&p->forge, &seq_frame, 0) != 0;
    }
    if (p->map && p->control) {
        LV2_ATOM_SEQUENCE_FOREACH (p->control, ev) {
            if (ev->body.type == p->uris.atom_Object)
                handle_message(p, (const LV2_Atom_Object *)&ev->body);
        }
    }
    flush_retired(p);

    /* audio, in chunks of at most CHUNK frames */
    for (uint32_t off = 0; off < n_samples;) {
        if (p->pending && p->swap <= 0.0f) {
            swap_engines(p);
            flush_retired(p);
        }
        engine *e = p->eng;
        const uint32_t n = n_samples - off < CHUNK ? n_samples - off : CHUNK;
        for (int c = 0; c < nch; c++) {
            const float *in = p->in[c];
            for (uint32_t i = 0; i < n; i++) {
                float x = in ? in[off + i] : 0.0f;
                p->dry_in[c][i] = isfinite(x) ? x : 0.0f;
            }
            limpid_stream_process(e->st[c], p->dry_in[c], p->wet[c], n);
        }
        const float swap_t = p->pending ? 0.0f : 1.0f;
        const int L = e->latency;
        int pos = e->pos;
        for (uint32_t i = 0; i < n; i++) {
            /* per-sample smoothers */
            if (p->w < w_t)
                p->w = fminf(w_t, p->w + p->w_step);
            else if (p->w > w_t)
                p->w = fmaxf(w_t, p->w - p->w_step);
            if (p->swap < swap_t)
                p->swap = fminf(swap_t, p->swap + p->swap_step);
            else if (p->swap > swap_t)
                p->swap = fmaxf(swap_t, p->swap - p->swap_step);
            p->mix += p->smooth_a * (mix_t - p->mix);
            p->gain += p->smooth_a * (gain_t - p->gain);
            if (fabsf(mix_t - p->mix) < 1e-7f)
                p->mix = mix_t;
            if (fabsf(gain_t - p->gain) < 1e-7f * gain_t)
                p->gain = gain_t;
            const float w = p->w, wet_g = p->mix * p->swap, dry_g = 1.0f - p->mix;
            for (int c = 0; c < nch; c++) {
                float dry;
                if (L > 0) {
                    dry = e->delay[c][pos];
                    e->delay[c][pos] = p->dry_in[c][i];
                } else {
                    dry = p->dry_in[c][i];
                }
                float proc = p->gain * (wet_g * p->wet[c][i] + dry_g * dry);
                float y = w * proc + (1.0f - w) * dry;
                if (p->out[c])
                    p->out[c][off + i] = isfinite(y) ? y : 0.0f;
            }
            if (L > 0 && ++pos == L)
                pos = 0;
        }
        e->pos = pos;
        off += n;
    }
    /* a swap that is due with no audio left in this cycle (e.g. n_samples = 0 or fade done
     * exactly at the end) waits for the next cycle */

    if (p->p_latency)
        *p->p_latency = (float)p->eng->latency;
    if (forging) {
        if (p->notify_pending)
            write_notify(p);
        lv2_atom_forge_pop(&p->forge, &seq_frame);
    }
}

static void cleanup(LV2_Handle h)
{
    plugin *p = (plugin *)h;
    engine_destroy(p->eng);
    engine_destroy(p->pending);
    for (int i = 0; i < N_RETIRE; i++)
        engine_destroy(p->retire[i]);
    free(p);
}

/* ---- worker ------------------------------------------------------------------------------- */

static LV2_Worker_Status work(LV2_Handle h, LV2_Worker_Respond_Function respond,
                              LV2_Worker_Respond_Handle rh, uint32_t size, const void *data)
{
    plugin *p = (plugin *)h;
    const LV2_Atom *a = (const LV2_Atom *)data;
    if (size < sizeof *a || !p->map)
        return LV2_WORKER_ERR_UNKNOWN;
    if (a->type == p->uris.work_free && size >= sizeof(msg_free)) {
        engine_destroy(((const msg_free *)data)->e);
        return LV2_WORKER_SUCCESS;
    }
    if (a->type != p->uris.work_load || size < sizeof a[0] + sizeof(uint32_t) + 2)
        return LV2_WORKER_ERR_UNKNOWN;
    const msg_load *m = (const msg_load *)data;
    size_t plen = size - (sizeof m->atom + sizeof m->gen);
    char path[PATH_CAP];
    if (plen > sizeof path)
        return LV2_WORKER_ERR_UNKNOWN;
    memcpy(path, m->path, plen);
    path[plen - 1] = '\0';
    char err[256] = "";
    int is_default = strcmp(path, p->default_path) == 0;
    msg_response r = {engine_create(path, p->rate, p->nch, is_default, err, sizeof err), m->gen};
    if (!r.e)
        lv2_log_error(&p->logger, "limpid: cannot load model %s: %s\n", path, err);
    respond(rh, sizeof r, &r);
    return LV2_WORKER_SUCCESS;
}

/* Audio thread: park the new engine; run() swaps it in after fading the wet path out. */
static LV2_Worker_Status work_response(LV2_Handle h, uint32_t size, const void *data)
{
    plugin *p = (plugin *)h;
    if (size < sizeof(msg_response))
        return LV2_WORKER_ERR_UNKNOWN;
    const msg_response *r = (const msg_response *)data;
    if (!r->e) {
        p->notify_pending = 1; /* failed: report what is still loaded */
        return LV2_WORKER_SUCCESS;
    }
    if (r->gen != atomic_load(&p->gen)) { /* a restore came in between: stale */
        retire_engine(p, r->e);
        return LV2_WORKER_SUCCESS;
    }
    if (p->pending) /* two loads in a row: the newer wins */
        retire_engine(p, p->pending);
    p->pending = r->e;
    return LV2_WORKER_SUCCESS;
}

/* ---- state -------------------------------------------------------------------------------- */

static const void *find_feature(const LV2_Feature *const *features, const char *uri)
{
    for (int i = 0; features && features[i]; i++)
        if (features[i]->URI && !strcmp(features[i]->URI, uri))
            return features[i]->data;
    return NULL;
}

/* Saves the model: a user model as its path (atom:Path, abstract through state:mapPath), the
 * bundle's default model as the atom:String "default" (the bundle may move between save and
 * restore). Controls are port values: the host saves them. */
static LV2_State_Status save(LV2_Handle h, LV2_State_Store_Function store,
                             LV2_State_Handle sh, uint32_t flags,
                             const LV2_Feature *const *features)
{
    (void)flags;
    plugin *p = (plugin *)h;
    if (!p->map)
        return LV2_STATE_ERR_NO_FEATURE;
    char *path = malloc(PATH_CAP);
    if (!path)
        return LV2_STATE_ERR_UNKNOWN;
    int is_default;
    unsigned s1, s2;
    do { /* sequence lock against a concurrent swap in run() */
        s1 = atomic_load(&p->path_seq);
        is_default = p->path_is_default;
        memcpy(path, p->path_cur, PATH_CAP);
        s2 = atomic_load(&p->path_seq);
    } while ((s1 & 1u) || s1 != s2);
    path[PATH_CAP - 1] = '\0';
    LV2_State_Status st;
    if (is_default) {
        st = store(sh, p->uris.model, DEFAULT_MODEL_TOKEN, sizeof DEFAULT_MODEL_TOKEN,
                   p->uris.atom_String, LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
    } else {
        const LV2_State_Map_Path *mp = find_feature(features, LV2_STATE__mapPath);
        const LV2_State_Free_Path *fp = find_feature(features, LV2_STATE__freePath);
        char *apath = mp ? mp->abstract_path(mp->handle, path) : path;
        if (apath)
            st = store(sh, p->uris.model, apath, strlen(apath) + 1, p->uris.atom_Path,
                       LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
        else
            st = LV2_STATE_ERR_UNKNOWN;
        if (mp && apath) {
            if (fp)
                fp->free_path(fp->handle, apath);
            else
                free(apath);
        }
    }
    free(path);
    return st;
}

/* Not concurrent with run() (instantiation class): loads and swaps directly, no worker.
 *   model = atom:Path      that file (through state:mapPath's absolute_path); a file that
 *                          cannot be loaded falls back to the bundle's default model
 *   model = "default"      the bundle's default model
 *   no model key           the model stays as it is: a preset (controls only) or an empty
 *                          state does not undo the user's model choice */
static LV2_State_Status restore(LV2_Handle h, LV2_State_Retrieve_Function retrieve,
                                LV2_State_Handle sh, uint32_t flags,
                                const LV2_Feature *const *features)
{
    (void)flags;
    plugin *p = (plugin *)h;
    if (!p->map)
        return LV2_STATE_ERR_NO_FEATURE;
    size_t size = 0;
    uint32_t type = 0, vflags = 0;
    const char *value = retrieve(sh, p->uris.model, &size, &type, &vflags);
    if (!value || size < 2 || size > PATH_CAP || value[size - 1] != '\0')
        return LV2_STATE_SUCCESS; /* nothing (usable) saved: keep the model */
    const char *want = NULL;
    char *apath = NULL;
    const LV2_State_Map_Path *mp = find_feature(features, LV2_STATE__mapPath);
    const LV2_State_Free_Path *fp = find_feature(features, LV2_STATE__freePath);
    if (type == p->uris.atom_String && !strcmp(value, DEFAULT_MODEL_TOKEN)) {
        want = p->default_path;
    } else if (type == p->uris.atom_Path) {
        apath = mp ? mp->absolute_path(mp->handle, value) : NULL;
        want = apath ? apath : value;
    } else {
        return LV2_STATE_ERR_BAD_TYPE;
    }
    atomic_fetch_add(&p->gen, 1); /* loads requested before this restore are stale */
    engine *e = NULL;
    if (strcmp(want, p->eng->path) != 0 || p->pending) {
        char err[256] = "";
        int is_default = strcmp(want, p->default_path) == 0;
        e = engine_create(want, p->rate, p->nch, is_default, err, sizeof err);
        if (!e && !is_default) {
            lv2_log_error(&p->logger, "limpid: cannot restore model %s: %s; using %s\n", want,
                          err, p->default_path);
            if (strcmp(p->eng->path, p->default_path) != 0)
                e = engine_create(p->default_path, p->rate, p->nch, 1, err, sizeof err);
        }
    }
    if (apath) {
        if (fp)
            fp->free_path(fp->handle, apath);
        else
            free(apath);
    }
    if (e) {
        engine_copy_dry(e, p->eng);
        apply_settings(p, e);
        engine_destroy(p->eng);
        engine_destroy(p->pending);
        p->pending = NULL;
        p->swap = 1.0f;
        p->eng = e;
        publish_path(p, e);
        if (p->p_latency)
            *p->p_latency = (float)e->latency;
    }
    p->notify_pending = 1;
    return LV2_STATE_SUCCESS;
}

static const void *extension_data(const char *uri)
{
    static const LV2_Worker_Interface worker = {work, work_response, NULL};
    static const LV2_State_Interface state = {save, restore};
    if (!strcmp(uri, LV2_WORKER__interface))
        return &worker;
    if (!strcmp(uri, LV2_STATE__interface))
        return &state;
    return NULL;
}

static const LV2_Descriptor descriptors[] = {
    {LIMPID_LV2_MONO_URI, instantiate_mono, connect_port, activate, run, deactivate, cleanup,
     extension_data},
    {LIMPID_LV2_STEREO_URI, instantiate_stereo, connect_port, activate, run, deactivate,
     cleanup, extension_data},
};

LV2_SYMBOL_EXPORT const LV2_Descriptor *lv2_descriptor(uint32_t index)
{
    return index < sizeof descriptors / sizeof descriptors[0] ? &descriptors[index] : NULL;
}
