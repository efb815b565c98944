/*
 * lv2host.c - a lilv test host for the limpid.lv2 bundle (issue 4). Built as test_lv2host by
 * plugin/CMakeLists.txt (it links lilv, so it is not one of the tests/test_*.c globbed by the
 * top CMakeLists.txt), and run by ctest under LD_PRELOAD=librtcheck.so (tests/rtcheck.c).
 *
 * The host provides urid:map/unmap, work:schedule (worker run from the host's main thread
 * between run() calls, as a threaded host would run it between cycles, or inside
 * schedule_work for the "immediate" mode that free-wheeling hosts use) and log:log. It
 * checks, for the mono and the stereo plugin:
 *   - the bundle: both plugins, ports and designations, presets, no required feature;
 *   - output identical (<= 1e-6) for block sizes 1, 32, 64, 333, 4096 and in-place buffers,
 *     at 44.1, 48 and 96 kHz;
 *   - the reported latency equals the delay a signal sees: the dry path (impulse, exact) and
 *     the wet path (cross-correlation of a chirp burst with the output);
 *   - activate / deactivate / activate gives the same output again;
 *   - the enable crossfade: out = w*wet + (1-w)*dry with the dry path latency-aligned;
 *   - model change through patch:Set (worker), notify after load and on patch:Get, a
 *     failed load, a change while bypassed keeps the dry path continuous;
 *   - state save/restore through lilv (files) and with a mapPath that makes paths relative;
 *   - no urid:map: audio is still processed, identical to a full host's;
 *   - non-finite input never gives non-finite output; linked stereo (L = R in, L = R out;
 *     stereo L = mono);
 *   - run() and work_response() never allocate, free, lock or mmap (when the interposer is
 *     preloaded), and the time per run() call at 256 (and 32) frames, printed.
 * Tolerances: 1e-6 absolute where outputs must be identical (they are computed by the same
 * float operations in the same order; the margin only absorbs nothing but is stated).
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lilv/lilv.h>
#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/core/lv2.h>
#include <lv2/log/log.h>
#include <lv2/patch/patch.h>
#include <lv2/presets/presets.h>
#include <lv2/state/state.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#include "limpid.h"

#define MONO_URI "https://limpid.example/plugins/denoise-mono"
#define STEREO_URI "https://limpid.example/plugins/denoise-stereo"
#define MODEL_URI "https://limpid.example/plugins/denoise#model"

#define SAME_TOL 1e-6f /* outputs that must be identical (same arithmetic, same order) */

/* ---- world, URIDs ------------------------------------------------------------------------- */

static LilvWorld *world;
static const LilvPlugin *plug_mono, *plug_stereo;
static char scratch[1024];
static char bundle_dir[1024];

#define MAX_URIDS 1024
static char *urid_tab[MAX_URIDS];
static uint32_t n_urids;

static LV2_URID map_uri(LV2_URID_Map_Handle h, const char *uri)
{
    (void)h;
    for (uint32_t i = 0; i < n_urids; i++)
        if (!strcmp(urid_tab[i], uri))
            return i + 1;
    if (n_urids == MAX_URIDS)
        return 0;
    urid_tab[n_urids] = strdup(uri);
    return ++n_urids;
}

static const char *unmap_uri(LV2_URID_Unmap_Handle h, LV2_URID u)
{
    (void)h;
    return u >= 1 && u <= n_urids ? urid_tab[u - 1] : NULL;
}

static LV2_URID_Map map = {NULL, map_uri};
static LV2_URID_Unmap unmap = {NULL, unmap_uri};
#define U(uri) map_uri(NULL, (uri))

static int log_printf(LV2_Log_Handle h, LV2_URID type, const char *fmt, ...)
{
    (void)h;
    (void)type;
    va_list ap;
    va_start(ap, fmt);
    fputs("  [plugin log] ", stderr);
    int r = vfprintf(stderr, fmt, ap);
    va_end(ap);
    return r;
}

static int log_vprintf(LV2_Log_Handle h, LV2_URID type, const char *fmt, va_list ap)
{
    (void)h;
    (void)type;
    fputs("  [plugin log] ", stderr);
    return vfprintf(stderr, fmt, ap);
}

static LV2_Log_Log logf_ = {NULL, log_printf, log_vprintf};

/* ---- the allocation / lock interposer (tests/rtcheck.c), when preloaded -------------------- */

static void (*rt_arm)(int);
static void (*rt_counts)(long *, long *, long *, long *);
static void (*rt_reset)(void);

static void rt_find(void)
{
    rt_arm = (void (*)(int))dlsym(RTLD_DEFAULT, "rtcheck_arm");
    rt_counts = (void (*)(long *, long *, long *, long *))dlsym(RTLD_DEFAULT, "rtcheck_counts");
    rt_reset = (void (*)(void))dlsym(RTLD_DEFAULT, "rtcheck_reset");
}

static void arm(int on)
{
    if (rt_arm)
        rt_arm(on);
}

/* ---- host instance ------------------------------------------------------------------------ */

#define ATOM_CAP 16384
#define WQ_CAP 65536
enum { HOST_FULL = 0, HOST_NO_FEATURES = 1, HOST_NO_WORKER = 2, HOST_IMMEDIATE = 4 };

typedef struct host {
    const LilvPlugin *plug;
    LilvInstance *inst;
    int nch, mode;
    double rate;
    uint32_t n_ports;
    float ctl[32];
    uint32_t p_in[2], p_out[2], p_control, p_notify, p_strength, p_steps, p_mix, p_gain,
        p_enable, p_latency;
    LV2_Atom_Sequence *cin, *cout;
    LV2_Atom_Forge forge;
    const LV2_Worker_Interface *worker;
    LV2_Worker_Schedule sched;
    uint8_t wq[WQ_CAP]; /* pending work requests: [uint32 size][data, padded to 8] */
    size_t wq_len;
    uint8_t rq[WQ_CAP]; /* pending responses */
    size_t rq_len;
    int in_run;
    /* last patch:Set of the model seen on the notify port */
    char notified[4096];
    int n_notify;
    /* timing of run() calls */
    double t_max, t_sum; /* wall clock: includes preemption on a busy machine */
    double c_max, c_sum; /* this thread's CPU time: the plugin's own cost */
    long t_calls;
    LV2_Feature f_map, f_unmap, f_sched, f_log;
    const LV2_Feature *features[8];
} host;

static size_t pad8(size_t n) { return (n + 7u) & ~(size_t)7u; }

static LV2_Worker_Status respond(LV2_Worker_Respond_Handle rh, uint32_t size, const void *data)
{
    host *h = (host *)rh;
    if (h->rq_len + 8 + pad8(size) > WQ_CAP)
        return LV2_WORKER_ERR_NO_SPACE;
    memcpy(h->rq + h->rq_len, &size, 4);
    memcpy(h->rq + h->rq_len + 8, data, size);
    h->rq_len += 8 + pad8(size);
    return LV2_WORKER_SUCCESS;
}

/* Called from run(): must not allocate (it is inside the armed region). */
static LV2_Worker_Status schedule(LV2_Worker_Schedule_Handle sh, uint32_t size, const void *data)
{
    host *h = (host *)sh;
    if (h->mode & HOST_IMMEDIATE) { /* free-wheeling host: do the work right now */
        arm(0);
        LV2_Worker_Status st =
            h->worker->work(lilv_instance_get_handle(h->inst), respond, h, size, data);
        arm(h->in_run);
        return st;
    }
    if (h->wq_len + 8 + pad8(size) > WQ_CAP)
        return LV2_WORKER_ERR_NO_SPACE;
    memcpy(h->wq + h->wq_len, &size, 4);
    memcpy(h->wq + h->wq_len + 8, data, size);
    h->wq_len += 8 + pad8(size);
    return LV2_WORKER_SUCCESS;
}

/* Between cycles: the work (non-RT, not armed), then the responses (audio thread, armed). */
static void host_worker(host *h)
{
    if (!h->worker)
        return;
    LV2_Handle lh = lilv_instance_get_handle(h->inst);
    static uint8_t req[WQ_CAP];
    size_t len = h->wq_len;
    memcpy(req, h->wq, len);
    h->wq_len = 0;
    for (size_t off = 0; off < len;) {
        uint32_t size;
        memcpy(&size, req + off, 4);
        h->worker->work(lh, respond, h, size, req + off + 8);
        off += 8 + pad8(size);
    }
    arm(1);
    for (size_t off = 0; off < h->rq_len;) {
        uint32_t size;
        memcpy(&size, h->rq + off, 4);
        h->worker->work_response(lh, size, h->rq + off + 8);
        off += 8 + pad8(size);
    }
    h->rq_len = 0;
    if (h->worker->end_run)
        h->worker->end_run(lh);
    arm(0);
}

static uint32_t port_index(const LilvPlugin *p, const char *sym)
{
    LilvNode *s = lilv_new_string(world, sym);
    const LilvPort *port = lilv_plugin_get_port_by_symbol(p, s);
    lilv_node_free(s);
    ck_assert_msg(port != NULL, "no port %s", sym);
    return lilv_port_get_index(p, port);
}

static void reset_atoms(host *h)
{
    h->cin->atom.type = U(LV2_ATOM__Sequence);
    h->cin->atom.size = sizeof(LV2_Atom_Sequence_Body);
    h->cin->body.unit = 0;
    h->cin->body.pad = 0;
    h->cout->atom.type = U(LV2_ATOM__Chunk);
    h->cout->atom.size = ATOM_CAP - sizeof(LV2_Atom);
}

static host *host_new(const LilvPlugin *plug, double rate, int mode)
{
    host *h = calloc(1, sizeof *h);
    ck_assert_ptr_nonnull(h);
    h->plug = plug;
    h->mode = mode;
    h->rate = rate;
    h->nch = plug == plug_stereo ? 2 : 1;
    int nf = 0;
    if (!(mode & HOST_NO_FEATURES)) {
        h->f_map = (LV2_Feature){LV2_URID__map, &map};
        h->f_unmap = (LV2_Feature){LV2_URID__unmap, &unmap};
        h->f_log = (LV2_Feature){LV2_LOG__log, &logf_};
        h->features[nf++] = &h->f_map;
        h->features[nf++] = &h->f_unmap;
        h->features[nf++] = &h->f_log;
        if (!(mode & HOST_NO_WORKER)) {
            h->sched = (LV2_Worker_Schedule){h, schedule};
            h->f_sched = (LV2_Feature){LV2_WORKER__schedule, &h->sched};
            h->features[nf++] = &h->f_sched;
        }
    }
    h->features[nf] = NULL;
    h->inst = lilv_plugin_instantiate(plug, rate, h->features);
    ck_assert_msg(h->inst != NULL, "instantiate failed at %.0f Hz", rate);
    if (!(mode & (HOST_NO_FEATURES | HOST_NO_WORKER)))
        h->worker = lilv_instance_get_extension_data(h->inst, LV2_WORKER__interface);
    h->n_ports = lilv_plugin_get_num_ports(plug);
    ck_assert_uint_le(h->n_ports, 32);
    const char *ins[2] = {"in", NULL}, *outs[2] = {"out", NULL};
    if (h->nch == 2) {
        ins[0] = "in_l";
        ins[1] = "in_r";
        outs[0] = "out_l";
        outs[1] = "out_r";
    }
    for (int c = 0; c < h->nch; c++) {
        h->p_in[c] = port_index(plug, ins[c]);
        h->p_out[c] = port_index(plug, outs[c]);
    }
    h->p_control = port_index(plug, "control");
    h->p_notify = port_index(plug, "notify");
    h->p_strength = port_index(plug, "strength");
    h->p_steps = port_index(plug, "steps");
    h->p_mix = port_index(plug, "mix");
    h->p_gain = port_index(plug, "gain");
    h->p_enable = port_index(plug, "enable");
    h->p_latency = port_index(plug, "latency");
    /* control ports: defaults from the TTL */
    float mins[32], maxs[32], defs[32];
    lilv_plugin_get_port_ranges_float(plug, mins, maxs, defs);
    for (uint32_t i = 0; i < h->n_ports; i++) {
        h->ctl[i] = isnan(defs[i]) ? 0.0f : defs[i];
        const LilvPort *port = lilv_plugin_get_port_by_index(plug, i);
        LilvNode *cp = lilv_new_uri(world, LV2_CORE__ControlPort);
        if (lilv_port_is_a(plug, port, cp))
            lilv_instance_connect_port(h->inst, i, &h->ctl[i]);
        lilv_node_free(cp);
    }
    h->cin = aligned_alloc(8, ATOM_CAP);
    h->cout = aligned_alloc(8, ATOM_CAP);
    reset_atoms(h);
    if (!(mode & HOST_NO_FEATURES)) {
        lilv_instance_connect_port(h->inst, h->p_control, h->cin);
        lilv_instance_connect_port(h->inst, h->p_notify, h->cout);
        lv2_atom_forge_init(&h->forge, &map);
    } else { /* a host without atom support leaves them unconnected (connectionOptional) */
        lilv_instance_connect_port(h->inst, h->p_control, NULL);
        lilv_instance_connect_port(h->inst, h->p_notify, NULL);
    }
    lilv_instance_activate(h->inst);
    return h;
}

static void host_free(host *h)
{
    if (!h)
        return;
    lilv_instance_deactivate(h->inst);
    host_worker(h); /* let the worker free what the plugin retired */
    lilv_instance_free(h->inst);
    free(h->cin);
    free(h->cout);
    free(h);
}

static void set_ctl(host *h, uint32_t port, float v) { h->ctl[port] = v; }
static int latency(host *h) { return (int)lrintf(h->ctl[h->p_latency]); }

static void read_notify(host *h)
{
    if (h->mode & HOST_NO_FEATURES)
        return;
    LV2_ATOM_SEQUENCE_FOREACH (h->cout, ev) {
        if (ev->body.type != U(LV2_ATOM__Object))
            continue;
        const LV2_Atom_Object *obj = (const LV2_Atom_Object *)&ev->body;
        if (obj->body.otype != U(LV2_PATCH__Set))
            continue;
        const LV2_Atom *prop = NULL, *val = NULL;
        lv2_atom_object_get(obj, U(LV2_PATCH__property), &prop, U(LV2_PATCH__value), &val, 0);
        ck_assert_ptr_nonnull(prop);
        ck_assert_ptr_nonnull(val);
        ck_assert_uint_eq(prop->type, U(LV2_ATOM__URID));
        ck_assert_uint_eq(((const LV2_Atom_URID *)prop)->body, U(MODEL_URI));
        ck_assert_uint_eq(val->type, U(LV2_ATOM__Path));
        snprintf(h->notified, sizeof h->notified, "%s", (const char *)LV2_ATOM_BODY_CONST(val));
        h->n_notify++;
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One cycle: run() on n frames at in[c] -> out[c] (may alias), then the worker. */
static void host_cycle(host *h, const float *const *in, float *const *out, uint32_t n)
{
    for (int c = 0; c < h->nch; c++) {
        lilv_instance_connect_port(h->inst, h->p_in[c], (void *)in[c]);
        lilv_instance_connect_port(h->inst, h->p_out[c], out[c]);
    }
    h->in_run = 1;
    arm(1);
    double t0 = now_s(), c0 = cpu_s();
    lilv_instance_run(h->inst, n);
    double c = cpu_s() - c0, t = now_s() - t0;
    arm(0);
    h->in_run = 0;
    if (t > h->t_max)
        h->t_max = t;
    if (c > h->c_max)
        h->c_max = c;
    h->t_sum += t;
    h->c_sum += c;
    h->t_calls++;
    read_notify(h);
    reset_atoms(h);
    host_worker(h);
}

/* Process n frames of x[c] into y[c] in blocks of `block` frames; in place (the output
 * buffer holds the input when run() is called) when inplace != 0. */
static void host_process(host *h, float *const *x, float *const *y, size_t n, size_t block,
                         int inplace)
{
    for (size_t off = 0; off < n; off += block) {
        uint32_t m = (uint32_t)(n - off < block ? n - off : block);
        const float *in[2];
        float *out[2];
        for (int c = 0; c < h->nch; c++) {
            out[c] = y[c] + off;
            if (inplace) {
                memmove(out[c], x[c] + off, m * sizeof(float));
                in[c] = out[c];
            } else {
                in[c] = x[c] + off;
            }
        }
        host_cycle(h, in, out, m);
    }
}

/* messages on the control port (sent with the next cycle) */
static void send_set_model(host *h, const char *path)
{
    LV2_Atom_Forge *f = &h->forge;
    lv2_atom_forge_set_buffer(f, (uint8_t *)h->cin, ATOM_CAP);
    LV2_Atom_Forge_Frame seq, obj;
    lv2_atom_forge_sequence_head(f, &seq, 0);
    lv2_atom_forge_frame_time(f, 0);
    lv2_atom_forge_object(f, &obj, 0, U(LV2_PATCH__Set));
    lv2_atom_forge_key(f, U(LV2_PATCH__property));
    lv2_atom_forge_urid(f, U(MODEL_URI));
    lv2_atom_forge_key(f, U(LV2_PATCH__value));
    lv2_atom_forge_path(f, path, (uint32_t)strlen(path));
    lv2_atom_forge_pop(f, &obj);
    lv2_atom_forge_pop(f, &seq);
}

static void send_get(host *h)
{
    LV2_Atom_Forge *f = &h->forge;
    lv2_atom_forge_set_buffer(f, (uint8_t *)h->cin, ATOM_CAP);
    LV2_Atom_Forge_Frame seq, obj;
    lv2_atom_forge_sequence_head(f, &seq, 0);
    lv2_atom_forge_frame_time(f, 0);
    lv2_atom_forge_object(f, &obj, 0, U(LV2_PATCH__Get));
    lv2_atom_forge_pop(f, &obj);
    lv2_atom_forge_pop(f, &seq);
}

/* ---- signals -------------------------------------------------------------------------------- */

static uint64_t rng_state;
static float urand(void) /* [-1, 1) */
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(rng_state >> 40) / (double)(1ull << 23)) - 1.0f;
}

/* speech-like test signal: gliding harmonic tone in syllable-like bursts + white noise */
static void make_signal(float *x, size_t n, double rate, uint64_t seed)
{
    rng_state = seed * 2654435761u + 1;
    double ph = 0.0;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / rate;
        double f0 = 140.0 + 40.0 * sin(2 * M_PI * 1.3 * t + (double)seed);
        ph += 2 * M_PI * f0 / rate;
        double env = 0.5 + 0.5 * sin(2 * M_PI * 3.0 * t + 0.7 * (double)seed);
        double v = 0.0;
        for (int k = 1; k <= 12; k++)
            v += sin((double)k * ph) / (double)k;
        x[i] = (float)(0.25 * env * env * v) + 0.03f * urand();
    }
}

static float **alloc_ch(int nch, size_t n)
{
    float **x = calloc(2, sizeof *x);
    for (int c = 0; c < nch; c++)
        x[c] = calloc(n ? n : 1, sizeof(float));
    return x;
}

static void free_ch(float **x)
{
    if (!x)
        return;
    free(x[0]);
    free(x[1]);
    free(x);
}

static float max_diff(const float *a, const float *b, size_t n)
{
    float m = 0.0f;
    for (size_t i = 0; i < n; i++) {
        float d = fabsf(a[i] - b[i]);
        if (!(d <= m))
            m = isnan(d) ? INFINITY : d;
    }
    return m;
}

static int all_finite(const float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i]))
            return 0;
    return 1;
}

static double energy(const float *a, size_t n)
{
    double e = 0.0;
    for (size_t i = 0; i < n; i++)
        e += (double)a[i] * a[i];
    return e;
}

/* ---- tests ---------------------------------------------------------------------------------- */

START_TEST(test_bundle)
{
    ck_assert_ptr_nonnull(plug_mono);
    ck_assert_ptr_nonnull(plug_stereo);
    const LilvPlugin *ps[2] = {plug_mono, plug_stereo};
    for (int k = 0; k < 2; k++) {
        const LilvPlugin *p = ps[k];
        ck_assert_uint_eq(lilv_plugin_get_num_ports(p), (uint32_t)(k ? 12 : 10));
        LilvNodes *req = lilv_plugin_get_required_features(p);
        ck_assert_uint_eq(lilv_nodes_size(req), 0);
        lilv_nodes_free(req);
        LilvNode *rt = lilv_new_uri(world, LV2_CORE__hardRTCapable);
        ck_assert(lilv_plugin_has_feature(p, rt));
        lilv_node_free(rt);
        ck_assert_uint_eq(lilv_plugin_get_latency_port_index(p), port_index(p, "latency"));
        LilvNode *enabled = lilv_new_uri(world, LV2_CORE__enabled);
        LilvNode *input = lilv_new_uri(world, LV2_CORE__InputPort);
        const LilvPort *en = lilv_plugin_get_port_by_designation(p, input, enabled);
        ck_assert_ptr_nonnull(en);
        ck_assert_uint_eq(lilv_port_get_index(p, en), port_index(p, "enable"));
        lilv_node_free(enabled);
        lilv_node_free(input);
        /* presets */
        LilvNode *pset = lilv_new_uri(world, LV2_PRESETS__Preset);
        LilvNodes *presets = lilv_plugin_get_related(p, pset);
        ck_assert_uint_eq(lilv_nodes_size(presets), 3);
        lilv_nodes_free(presets);
        lilv_node_free(pset);
        /* versions from the build */
        LilvNode *minor = lilv_new_uri(world, LV2_CORE__minorVersion);
        LilvNodes *mv = lilv_plugin_get_value(p, minor);
        ck_assert_uint_eq(lilv_nodes_size(mv), 1);
        ck_assert_int_eq(lilv_node_as_int(lilv_nodes_get_first(mv)), LIMPID_VERSION_MINOR);
        lilv_nodes_free(mv);
        lilv_node_free(minor);
    }
}
END_TEST

/* block sizes and in-place buffers: output identical to one big block */
START_TEST(test_block_sizes)
{
    static const double rates[3] = {44100.0, 48000.0, 96000.0};
    static const size_t blocks[5] = {1, 32, 64, 333, 4096};
    const int pi = _i / 3; /* 0 mono, 1 stereo */
    const double rate = rates[_i % 3];
    const LilvPlugin *plug = pi ? plug_stereo : plug_mono;
    const int nch = pi + 1;
    const size_t n = (size_t)(0.75 * rate);
    float **x = alloc_ch(nch, n), **ref = alloc_ch(nch, n), **y = alloc_ch(nch, n);
    for (int c = 0; c < nch; c++)
        make_signal(x[c], n, rate, 11 + (uint64_t)c);
    host *h = host_new(plug, rate, HOST_FULL);
    host_process(h, x, ref, n, 4096, 0);
    int lat = latency(h);
    host_free(h);
    for (int c = 0; c < nch; c++) {
        ck_assert(all_finite(ref[c], n));
        ck_assert(energy(ref[c] + lat, n - (size_t)lat) > 1e-3 * energy(x[c], n));
    }
    for (int b = 0; b < 5; b++) {
        for (int inplace = 0; inplace < 2; inplace++) {
            if (inplace && blocks[b] == 1 && nch == 1 && rate != 48000.0)
                continue; /* in-place at 1 frame: checked at 48 kHz (mono) and stereo */
            h = host_new(plug, rate, HOST_FULL);
            host_process(h, x, y, n, blocks[b], inplace);
            ck_assert_int_eq(latency(h), lat);
            host_free(h);
            for (int c = 0; c < nch; c++) {
                float d = max_diff(ref[c], y[c], n);
                ck_assert_msg(d <= SAME_TOL, "%s %.0f Hz block %zu%s ch %d: max diff %g",
                              pi ? "stereo" : "mono", rate, blocks[b],
                              inplace ? " in-place" : "", c, (double)d);
            }
        }
    }
    printf("block sizes: %s %.0f Hz: identical for 1, 32, 64, 333, 4096 (separate and "
           "in-place buffers), latency %d\n",
           pi ? "stereo" : "mono", rate, lat);
    free_ch(x);
    free_ch(ref);
    free_ch(y);
}
END_TEST

/* lag in [0, maxlag] maximising the normalised cross-correlation of y against x */
static int best_lag(const float *x, const float *y, size_t n, int maxlag, double *peak)
{
    size_t a = 0, b = n;
    while (a < n && x[a] == 0.0f)
        a++;
    while (b > a && x[b - 1] == 0.0f)
        b--;
    int best = -1;
    double bv = -1.0;
    double ex = energy(x + a, b - a);
    for (int lag = 0; lag <= maxlag; lag++) {
        if (b + (size_t)lag > n)
            break;
        double s = 0.0;
        for (size_t i = a; i < b; i++)
            s += (double)x[i] * y[i + (size_t)lag];
        double ey = energy(y + a + lag, b - a);
        double v = ey > 0 ? s / sqrt(ex * ey) : 0.0;
        if (v > bv) {
            bv = v;
            best = lag;
        }
    }
    *peak = bv;
    return best;
}

/* The reported latency is the delay of the dry path (impulse: exact) and of the wet path
 * (cross-correlation of a loud chirp burst with the output). */
START_TEST(test_latency)
{
    static const double rates[5] = {44100.0, 48000.0, 96000.0, 22050.0, 192000.0};
    const int pi = _i / 5;
    const double rate = rates[_i % 5];
    const LilvPlugin *plug = pi ? plug_stereo : plug_mono;
    const int nch = pi + 1;
    const size_t n = (size_t)(0.6 * rate);
    float **x = alloc_ch(nch, n), **y = alloc_ch(nch, n);

    /* dry path, bypassed (enable = 0 from the start: no crossfade) and mix = 0 */
    for (int variant = 0; variant < 2; variant++) {
        for (int c = 0; c < nch; c++) {
            memset(x[c], 0, n * sizeof(float));
            x[c][1000 + c] = 1.0f;
        }
        host *h = host_new(plug, rate, HOST_FULL);
        if (variant == 0)
            set_ctl(h, h->p_enable, 0.0f);
        else
            set_ctl(h, h->p_mix, 0.0f);
        host_process(h, x, y, n, 256, 0);
        int lat = latency(h);
        ck_assert_int_gt(lat, 0);
        ck_assert_int_lt(1000 + lat + 1, (int)n);
        for (int c = 0; c < nch; c++) {
            for (size_t i = 0; i < n; i++) {
                float want = i == (size_t)(1000 + c + lat) ? 1.0f : 0.0f;
                ck_assert_msg(fabsf(y[c][i] - want) <= SAME_TOL,
                              "dry path (%s): sample %zu = %g, latency %d", variant ? "mix 0" : "bypass",
                              i, (double)y[c][i], lat);
            }
        }
        host_free(h);
    }

    /* wet path: a chirp burst (0.1 s, 300 Hz -> 4 kHz, Hann envelope), strength 0.5 */
    const size_t on = (size_t)(0.15 * rate), len = (size_t)(0.1 * rate);
    for (int c = 0; c < nch; c++) {
        memset(x[c], 0, n * sizeof(float));
        double ph = 0.0;
        for (size_t i = 0; i < len; i++) {
            double t = (double)i / rate, T = (double)len / rate;
            double f = 300.0 * pow(4000.0 / 300.0, t / T);
            ph += 2 * M_PI * f / rate;
            x[c][on + i] = (float)(0.5 * (0.5 - 0.5 * cos(2 * M_PI * t / T)) * sin(ph));
        }
    }
    host *h = host_new(plug, rate, HOST_FULL);
    set_ctl(h, h->p_strength, 0.5f);
    host_process(h, x, y, n, 256, 0);
    int lat = latency(h);
    for (int c = 0; c < nch; c++) {
        double peak;
        int lag = best_lag(x[c], y[c], n, lat + (int)(0.05 * rate), &peak);
        printf("latency: %s %.0f Hz: reported %d, wet path delay (cross-correlation peak %.3f) "
               "%d, dry path %d\n",
               pi ? "stereo" : "mono", rate, lat, peak, lag, lat);
        ck_assert_msg(peak > 0.5, "wet output does not resemble the input (peak %g)", peak);
        ck_assert_msg(lag == lat, "wet path delay %d != reported latency %d", lag, lat);
    }
    host_free(h);
    free_ch(x);
    free_ch(y);
}
END_TEST

START_TEST(test_reactivate)
{
    const LilvPlugin *plug = _i ? plug_stereo : plug_mono;
    const int nch = _i + 1;
    const size_t n = 30000;
    float **x = alloc_ch(nch, n), **y1 = alloc_ch(nch, n), **y2 = alloc_ch(nch, n);
    for (int c = 0; c < nch; c++)
        make_signal(x[c], n, 48000.0, 5 + (uint64_t)c);
    host *h = host_new(plug, 48000.0, HOST_FULL);
    set_ctl(h, h->p_mix, 0.8f);
    set_ctl(h, h->p_gain, -3.0f);
    host_process(h, x, y1, n, 512, 0);
    for (int round = 0; round < 2; round++) {
        lilv_instance_deactivate(h->inst);
        lilv_instance_activate(h->inst);
        host_process(h, x, y2, n, round ? 100 : 512, round);
        for (int c = 0; c < nch; c++) {
            float d = max_diff(y1[c], y2[c], n);
            ck_assert_msg(d <= SAME_TOL, "re-activated output differs by %g", (double)d);
        }
    }
    host_free(h);
    free_ch(x);
    free_ch(y1);
    free_ch(y2);
}
END_TEST

/* enable 1 -> 0 -> 1: out = w*wet + (1-w)*dry, w ramps linearly over 15 ms, the dry path is
 * the input delayed by the latency (no jump in time) */
START_TEST(test_bypass_crossfade)
{
    const double rate = 48000.0;
    const size_t n = 48000, blk = 64;
    float **x = alloc_ch(1, n), **wet = alloc_ch(1, n), **y = alloc_ch(1, n);
    make_signal(x[0], n, rate, 3);
    host *h = host_new(plug_mono, rate, HOST_FULL);
    host_process(h, x, wet, n, blk, 0);
    const int lat = latency(h);
    host_free(h);
    h = host_new(plug_mono, rate, HOST_FULL);
    const size_t t_off = 12800, t_on = 32000; /* multiples of blk */
    host_process(h, x, y, t_off, blk, 0);
    set_ctl(h, h->p_enable, 0.0f);
    float *xs[1] = {x[0] + t_off}, *ys[1] = {y[0] + t_off};
    host_process(h, xs, ys, t_on - t_off, blk, 0);
    set_ctl(h, h->p_enable, 1.0f);
    xs[0] = x[0] + t_on;
    ys[0] = y[0] + t_on;
    host_process(h, xs, ys, n - t_on, blk, 0);
    host_free(h);
    const float step = (float)(1.0 / (0.015 * rate));
    float w = 1.0f, worst = 0.0f;
    size_t ramp_end = 0;
    for (size_t i = 0; i < n; i++) {
        float target = (i >= t_off && i < t_on) ? 0.0f : 1.0f;
        w = w < target ? fminf(target, w + step) : fmaxf(target, w - step);
        if (i >= t_off && w == 0.0f && !ramp_end)
            ramp_end = i;
        float dry = i >= (size_t)lat ? x[0][i - (size_t)lat] : 0.0f;
        float want = w * wet[0][i] + (1.0f - w) * dry;
        float d = fabsf(y[0][i] - want);
        if (d > worst)
            worst = d;
    }
    printf("bypass crossfade: %zu samples (%.1f ms) to fully bypassed, max deviation from "
           "w*wet + (1-w)*dry(n - %d): %g\n",
           ramp_end - t_off + 1, 1e3 * (double)(ramp_end - t_off + 1) / rate, lat,
           (double)worst);
    ck_assert_msg(worst <= 1e-5f, "crossfade deviates by %g", (double)worst);
    ck_assert_int_ge((int)(ramp_end - t_off), (int)(0.010 * rate));
    ck_assert_int_le((int)(ramp_end - t_off), (int)(0.020 * rate));
    free_ch(x);
    free_ch(wet);
    free_ch(y);
}
END_TEST

/* A second model with another latency: the tiny STFT preset, causal, random weights. */
static void make_alt_model(char *path, size_t cap)
{
    snprintf(path, cap, "%s/alt-causal.lpm", scratch);
    if (access(path, R_OK) == 0)
        return;
    limpid_config cfg;
    ck_assert_int_eq(limpid_config_preset(&cfg, "tiny", LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT,
                                          48000),
                     LIMPID_OK);
    cfg.lookahead = 0;
    cfg.head = LIMPID_HEAD_WIENER; /* near identity untrained: the delay is measurable */
    cfg.cond = LIMPID_COND_LOGPOW;
    limpid_model *m = NULL;
    ck_assert_int_eq(limpid_model_create(&m, &cfg, 7), LIMPID_OK);
    ck_assert_int_eq(limpid_model_save_file(m, path), LIMPID_OK);
    limpid_model_destroy(m);
}

static void copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    char buf[65536];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, a)) > 0)
        ck_assert_uint_eq(fwrite(buf, 1, k, b), k);
    fclose(a);
    ck_assert_int_eq(fclose(b), 0);
}

static void run_silence(host *h, size_t n)
{
    float **x = alloc_ch(h->nch, n), **y = alloc_ch(h->nch, n);
    host_process(h, x, y, n, 256, 0);
    free_ch(x);
    free_ch(y);
}

/* patch:Set through the worker, notify, patch:Get, a failed load, immediate-mode worker */
START_TEST(test_model_switch)
{
    const int immediate = _i;
    char alt[1200], def[1200];
    make_alt_model(alt, sizeof alt);
    snprintf(def, sizeof def, "%srt.lpm", bundle_dir);
    host *h = host_new(plug_stereo, 44100.0, HOST_FULL | (immediate ? HOST_IMMEDIATE : 0));
    run_silence(h, 1024);
    const int lat0 = latency(h);
    send_get(h);
    run_silence(h, 256);
    ck_assert_int_eq(h->n_notify, 1);
    ck_assert_str_eq(h->notified, def);

    send_set_model(h, alt);
    run_silence(h, 256);
    /* within 2 x 10 ms fades + one block the new model runs */
    run_silence(h, (size_t)(0.03 * 44100.0));
    ck_assert_int_eq(h->n_notify, 2);
    ck_assert_str_eq(h->notified, alt);
    int lat1 = latency(h);
    printf("model switch: latency %d (rt) -> %d (causal tiny model), notify %s\n", lat0, lat1,
           h->notified);
    ck_assert_int_ne(lat1, lat0);
    send_get(h);
    run_silence(h, 256);
    ck_assert_int_eq(h->n_notify, 3);
    ck_assert_str_eq(h->notified, alt);

    /* a file that is not there: nothing changes, notify says what is loaded */
    char bad[1300];
    snprintf(bad, sizeof bad, "%s/no-such-model.lpm", scratch);
    send_set_model(h, bad);
    run_silence(h, 2048);
    ck_assert_int_eq(h->n_notify, 4);
    ck_assert_str_eq(h->notified, alt);
    ck_assert_int_eq(latency(h), lat1);

    /* audio keeps flowing through the new model, finite */
    const size_t n = 20000;
    float **x = alloc_ch(2, n), **y = alloc_ch(2, n);
    make_signal(x[0], n, 44100.0, 1);
    make_signal(x[1], n, 44100.0, 2);
    host_process(h, x, y, n, 333, 0);
    ck_assert(all_finite(y[0], n) && all_finite(y[1], n));
    host_free(h);
    free_ch(x);
    free_ch(y);
}
END_TEST

/* A model change while bypassed, to a model of the same latency: the dry path goes on
 * without a glitch (its history is handed over). */
START_TEST(test_switch_bypassed)
{
    char copy[1200], def[1200];
    snprintf(def, sizeof def, "%srt.lpm", bundle_dir);
    snprintf(copy, sizeof copy, "%s/rt-copy.lpm", scratch);
    copy_file(def, copy);
    const size_t n = 48000, blk = 128;
    float **x = alloc_ch(1, n), **y = alloc_ch(1, n);
    make_signal(x[0], n, 48000.0, 9);
    host *h = host_new(plug_mono, 48000.0, HOST_FULL);
    set_ctl(h, h->p_enable, 0.0f);
    const int lat = latency(h);
    for (size_t off = 0; off < n; off += blk) {
        if (off == 9984)
            send_set_model(h, copy);
        float *xs[1] = {x[0] + off}, *ys[1] = {y[0] + off};
        host_process(h, xs, ys, blk, blk, 0);
    }
    ck_assert_str_eq(h->notified, copy);
    ck_assert_int_eq(latency(h), lat);
    host_free(h);
    for (size_t i = 0; i < n; i++) {
        float want = i >= (size_t)lat ? x[0][i - (size_t)lat] : 0.0f;
        ck_assert_msg(y[0][i] == want, "bypassed output at %zu: %g, want %g", i,
                      (double)y[0][i], (double)want);
    }
    free_ch(x);
    free_ch(y);
}
END_TEST

/* state through lilv: save to a directory, load in a new instance, model and controls back */
static float saved_ctl[32];
static const void *get_port(const char *sym, void *ud, uint32_t *size, uint32_t *type)
{
    host *h = (host *)ud;
    uint32_t i = port_index(h->plug, sym);
    const LilvPort *port = lilv_plugin_get_port_by_index(h->plug, i);
    LilvNode *in = lilv_new_uri(world, LV2_CORE__InputPort);
    int is_in = lilv_port_is_a(h->plug, port, in);
    lilv_node_free(in);
    if (!is_in)
        return NULL;
    *size = sizeof(float);
    *type = U(LV2_ATOM__Float);
    return &h->ctl[i];
}

static void set_port(const char *sym, void *ud, const void *value, uint32_t size, uint32_t type)
{
    host *h = (host *)ud;
    ck_assert_uint_eq(size, sizeof(float));
    ck_assert_uint_eq(type, U(LV2_ATOM__Float));
    uint32_t i = port_index(h->plug, sym);
    h->ctl[i] = *(const float *)value;
    saved_ctl[i] = h->ctl[i];
}

START_TEST(test_state_lilv)
{
    char alt[1200], dir[1300], file[1400];
    make_alt_model(alt, sizeof alt);
    char tmp[1400];
    snprintf(dir, sizeof dir, "%s/state-%d", scratch, (int)getpid());
    snprintf(tmp, sizeof tmp, "%s/state-tmp-%d", scratch, (int)getpid());
    mkdir(tmp, 0777);
    host *h = host_new(plug_mono, 48000.0, HOST_FULL);
    send_set_model(h, alt);
    run_silence(h, 4096);
    ck_assert_str_eq(h->notified, alt);
    set_ctl(h, h->p_strength, 0.4f);
    set_ctl(h, h->p_steps, 3.0f);
    set_ctl(h, h->p_mix, 0.7f);
    set_ctl(h, h->p_gain, -6.0f);
    set_ctl(h, h->p_enable, 0.0f);
    /* the directories as jalv gives them: files outside the state are linked into it */
    LilvState *st = lilv_state_new_from_instance(h->plug, h->inst, &map, tmp, dir, dir, dir,
                                                 get_port, h, 0, h->features);
    ck_assert_ptr_nonnull(st);
    ck_assert_uint_eq(lilv_state_get_num_properties(st), 1);
    ck_assert_int_eq(lilv_state_save(world, &map, &unmap, st, NULL, dir, "state.ttl"), 0);
    lilv_state_free(st);
    host_free(h);

    /* a fresh instance (default model) gets the saved state from the file */
    snprintf(file, sizeof file, "%s/state.ttl", dir);
    LilvState *ld = lilv_state_new_from_file(world, &map, NULL, file);
    ck_assert_ptr_nonnull(ld);
    host *g = host_new(plug_mono, 48000.0, HOST_FULL);
    const int lat_default = latency(g);
    memset(saved_ctl, 0, sizeof saved_ctl);
    lilv_state_restore(ld, g->inst, set_port, g, 0, g->features);
    run_silence(g, 512);
    ck_assert_int_ge(g->n_notify, 1);
    /* the state refers to the model through a link in its own directory */
    char *r1 = realpath(g->notified, NULL), *r2 = realpath(alt, NULL);
    ck_assert_ptr_nonnull(r1);
    ck_assert_str_eq(r1, r2);
    printf("state: model saved as %s (-> %s)\n", g->notified, r1);
    free(r1);
    free(r2);
    ck_assert_int_ne(latency(g), lat_default);
    ck_assert_float_eq(g->ctl[g->p_strength], 0.4f);
    ck_assert_float_eq(g->ctl[g->p_steps], 3.0f);
    ck_assert_float_eq(g->ctl[g->p_mix], 0.7f);
    ck_assert_float_eq(g->ctl[g->p_gain], -6.0f);
    ck_assert_float_eq(g->ctl[g->p_enable], 0.0f);
    lilv_state_free(ld);

    /* a state saved with the default model brings the default back */
    host *d = host_new(plug_mono, 48000.0, HOST_FULL);
    LilvState *sd = lilv_state_new_from_instance(d->plug, d->inst, &map, tmp, dir, dir, dir,
                                                 get_port, d, 0, d->features);
    host_free(d);
    lilv_state_restore(sd, g->inst, set_port, g, 0, g->features);
    lilv_state_free(sd);
    run_silence(g, 512);
    ck_assert_int_eq(latency(g), lat_default);
    char def[1200];
    snprintf(def, sizeof def, "%srt.lpm", bundle_dir);
    ck_assert_str_eq(g->notified, def);

    /* a preset sets controls and leaves the model alone */
    send_set_model(g, alt);
    run_silence(g, 4096);
    ck_assert_str_eq(g->notified, alt);
    LilvNode *pnode = lilv_new_uri(world, MONO_URI "#preset-strong");
    lilv_world_load_resource(world, pnode);
    LilvState *ps = lilv_state_new_from_world(world, &map, pnode);
    ck_assert_ptr_nonnull(ps);
    lilv_state_restore(ps, g->inst, set_port, g, 0, g->features);
    lilv_state_free(ps);
    lilv_node_free(pnode);
    ck_assert_float_eq(g->ctl[g->p_strength], 1.0f);
    ck_assert_float_eq(g->ctl[g->p_steps], 4.0f);
    run_silence(g, 512);
    send_get(g);
    run_silence(g, 256);
    ck_assert_str_eq(g->notified, alt);
    host_free(g);
}
END_TEST

/* state:mapPath is used both ways: the stored path is the host's abstract one */
typedef struct {
    char key_path[4096];
    uint32_t type;
    int stored;
} kv_store;

static LV2_State_Status kv_store_fn(LV2_State_Handle hd, uint32_t key, const void *value,
                                    size_t size, uint32_t type, uint32_t flags)
{
    kv_store *s = (kv_store *)hd;
    ck_assert_uint_eq(key, U(MODEL_URI));
    ck_assert(flags & LV2_STATE_IS_POD);
    ck_assert_uint_le(size, sizeof s->key_path);
    memcpy(s->key_path, value, size);
    s->type = type;
    s->stored = 1;
    return LV2_STATE_SUCCESS;
}

static const void *kv_retrieve_fn(LV2_State_Handle hd, uint32_t key, size_t *size,
                                  uint32_t *type, uint32_t *flags)
{
    kv_store *s = (kv_store *)hd;
    if (key != U(MODEL_URI) || !s->stored)
        return NULL;
    *size = strlen(s->key_path) + 1;
    *type = s->type;
    *flags = LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE;
    return s->key_path;
}

static char *abs_to_abstract(LV2_State_Map_Path_Handle hd, const char *abs)
{
    (void)hd;
    size_t k = strlen(scratch);
    if (!strncmp(abs, scratch, k) && abs[k] == '/')
        return strdup(abs + k + 1);
    return strdup(abs);
}

static char *abstract_to_abs(LV2_State_Map_Path_Handle hd, const char *abstract)
{
    (void)hd;
    if (abstract[0] == '/')
        return strdup(abstract);
    char *r = malloc(strlen(scratch) + strlen(abstract) + 2);
    sprintf(r, "%s/%s", scratch, abstract);
    return r;
}

START_TEST(test_state_mappath)
{
    char alt[1200];
    make_alt_model(alt, sizeof alt);
    host *h = host_new(plug_stereo, 48000.0, HOST_FULL);
    const LV2_State_Interface *si = lilv_instance_get_extension_data(h->inst,
                                                                     LV2_STATE__interface);
    ck_assert_ptr_nonnull(si);
    LV2_State_Map_Path mp = {NULL, abs_to_abstract, abstract_to_abs};
    LV2_Feature fmp = {LV2_STATE__mapPath, &mp};
    const LV2_Feature *feats[] = {&fmp, NULL};
    kv_store kv = {{0}, 0, 0};
    /* default model: stored as the token "default" */
    ck_assert_int_eq(si->save(lilv_instance_get_handle(h->inst), kv_store_fn, &kv, 0, feats),
                     LV2_STATE_SUCCESS);
    ck_assert(kv.stored);
    ck_assert_uint_eq(kv.type, U(LV2_ATOM__String));
    ck_assert_str_eq(kv.key_path, "default");
    send_set_model(h, alt);
    run_silence(h, 4096);
    ck_assert_str_eq(h->notified, alt);
    memset(&kv, 0, sizeof kv);
    ck_assert_int_eq(si->save(lilv_instance_get_handle(h->inst), kv_store_fn, &kv, 0, feats),
                     LV2_STATE_SUCCESS);
    ck_assert_uint_eq(kv.type, U(LV2_ATOM__Path));
    ck_assert_str_eq(kv.key_path, "alt-causal.lpm"); /* abstract: relative to the scratch dir */
    host_free(h); /* may unload the plugin's library: si is fetched again below */

    host *g = host_new(plug_stereo, 48000.0, HOST_FULL);
    si = lilv_instance_get_extension_data(g->inst, LV2_STATE__interface);
    ck_assert_int_eq(si->restore(lilv_instance_get_handle(g->inst), kv_retrieve_fn, &kv, 0,
                                 feats),
                     LV2_STATE_SUCCESS);
    run_silence(g, 256);
    ck_assert_str_eq(g->notified, alt);
    /* a saved model that is gone: back to the default model, still SUCCESS */
    snprintf(kv.key_path, sizeof kv.key_path, "gone.lpm");
    ck_assert_int_eq(si->restore(lilv_instance_get_handle(g->inst), kv_retrieve_fn, &kv, 0,
                                 feats),
                     LV2_STATE_SUCCESS);
    run_silence(g, 256);
    char def[1200];
    snprintf(def, sizeof def, "%srt.lpm", bundle_dir);
    ck_assert_str_eq(g->notified, def);
    host_free(g);

    /* without urid:map there is no state */
    host *nm = host_new(plug_stereo, 48000.0, HOST_NO_FEATURES);
    si = lilv_instance_get_extension_data(nm->inst, LV2_STATE__interface);
    memset(&kv, 0, sizeof kv);
    ck_assert_int_eq(si->save(lilv_instance_get_handle(nm->inst), kv_store_fn, &kv, 0, feats),
                     LV2_STATE_ERR_NO_FEATURE);
    host_free(nm);
}
END_TEST

/* no features at all: audio processed, identical to a full host's output */
START_TEST(test_no_features)
{
    const LilvPlugin *plug = _i ? plug_stereo : plug_mono;
    const int nch = _i + 1;
    const size_t n = 24000;
    float **x = alloc_ch(nch, n), **y = alloc_ch(nch, n), **z = alloc_ch(nch, n);
    for (int c = 0; c < nch; c++)
        make_signal(x[c], n, 48000.0, 21 + (uint64_t)c);
    host *h = host_new(plug, 48000.0, HOST_NO_FEATURES);
    host_process(h, x, y, n, 480, 0);
    const int lat = latency(h);
    host_free(h);
    h = host_new(plug, 48000.0, HOST_FULL);
    host_process(h, x, z, n, 480, 0);
    host_free(h);
    for (int c = 0; c < nch; c++) {
        ck_assert(energy(y[c] + lat, n - (size_t)lat) > 0.0);
        ck_assert(max_diff(y[c], z[c], n) <= SAME_TOL);
    }
    /* and without a worker: model changes are refused (notify says what is loaded) */
    h = host_new(plug, 48000.0, HOST_NO_WORKER);
    char alt[1200];
    make_alt_model(alt, sizeof alt);
    send_set_model(h, alt);
    run_silence(h, 2048);
    ck_assert_int_eq(h->n_notify, 1);
    ck_assert_int_eq(latency(h), lat);
    host_free(h);
    free_ch(x);
    free_ch(y);
    free_ch(z);
}
END_TEST

START_TEST(test_nonfinite)
{
    const size_t n = 24000;
    float **x = alloc_ch(2, n), **y = alloc_ch(2, n);
    make_signal(x[0], n, 48000.0, 1);
    make_signal(x[1], n, 48000.0, 2);
    for (size_t i = 3000; i < 3100; i++)
        x[0][i] = NAN;
    for (size_t i = 7000; i < 7050; i++)
        x[1][i] = (i & 1) ? INFINITY : -INFINITY;
    x[0][15000] = 1e38f;
    x[1][15001] = -1e38f;
    host *h = host_new(plug_stereo, 48000.0, HOST_FULL);
    set_ctl(h, h->p_gain, 12.0f);
    set_ctl(h, h->p_mix, 0.5f);
    for (size_t off = 0; off < n; off += 200) {
        set_ctl(h, h->p_enable, (off / 2000) & 1 ? 0.0f : 1.0f);
        float *xs[2] = {x[0] + off, x[1] + off}, *ys[2] = {y[0] + off, y[1] + off};
        host_process(h, xs, ys, 200, 200, 0);
    }
    host_free(h);
    ck_assert(all_finite(y[0], n));
    ck_assert(all_finite(y[1], n));
    free_ch(x);
    free_ch(y);
}
END_TEST

/* linked stereo: L = R in gives L = R out, and the stereo plugin's L = the mono plugin */
START_TEST(test_stereo_linked)
{
    const size_t n = 24000;
    float **x = alloc_ch(2, n), **y = alloc_ch(2, n), **m = alloc_ch(1, n);
    make_signal(x[0], n, 48000.0, 4);
    memcpy(x[1], x[0], n * sizeof(float));
    host *h = host_new(plug_stereo, 48000.0, HOST_FULL);
    host_process(h, x, y, n, 256, 0);
    host_free(h);
    ck_assert(max_diff(y[0], y[1], n) == 0.0f);
    h = host_new(plug_mono, 48000.0, HOST_FULL);
    host_process(h, x, m, n, 256, 0);
    host_free(h);
    ck_assert(max_diff(y[0], m[0], n) <= SAME_TOL);
    free_ch(x);
    free_ch(y);
    free_ch(m);
}
END_TEST

/* run() and work_response() never allocate, free, lock or mmap; time per run() call */
START_TEST(test_realtime)
{
    const LilvPlugin *plug = _i ? plug_stereo : plug_mono;
    const int nch = _i + 1;
    const double rate = 48000.0;
    const size_t n = (size_t)(4.0 * rate);
    char alt[1200];
    make_alt_model(alt, sizeof alt);
    float **x = alloc_ch(nch, n), **y = alloc_ch(nch, n);
    for (int c = 0; c < nch; c++)
        make_signal(x[c], n, rate, 31 + (uint64_t)c);
    if (rt_reset)
        rt_reset();
    static const size_t blocks[2] = {256, 32};
    for (int b = 0; b < 2; b++) {
        for (int steps = 4; steps >= 1; steps -= 3) {
            host *h = host_new(plug, rate, HOST_FULL);
            set_ctl(h, h->p_steps, (float)steps);
            host_process(h, x, y, (size_t)rate / 2, blocks[b], 0); /* warm up */
            h->t_max = h->t_sum = h->c_max = h->c_sum = 0.0;
            h->t_calls = 0;
            host_process(h, x, y, n, blocks[b], b == 1);
            printf("run() %s, %zu frames at 48 kHz, %d steps: CPU time worst %.3f ms, mean "
                   "%.3f ms; wall clock worst %.3f ms, mean %.3f ms (%ld calls; one block "
                   "lasts %.3f ms)\n",
                   nch == 2 ? "stereo" : "mono", blocks[b], steps, 1e3 * h->c_max,
                   1e3 * h->c_sum / (double)h->t_calls, 1e3 * h->t_max,
                   1e3 * h->t_sum / (double)h->t_calls, h->t_calls,
                   1e3 * (double)blocks[b] / rate);
            host_free(h);
        }
    }
    /* model changes, patch:Get, bypass toggles and control moves while running */
    host *h = host_new(plug, rate, HOST_FULL);
    char def[1200];
    snprintf(def, sizeof def, "%srt.lpm", bundle_dir);
    for (int k = 0; k < 40; k++) {
        if (k % 10 == 3)
            send_set_model(h, (k / 10) & 1 ? def : alt);
        if (k % 10 == 7)
            send_get(h);
        set_ctl(h, h->p_enable, (k / 5) & 1 ? 0.0f : 1.0f);
        set_ctl(h, h->p_steps, (float)(1 + k % 4));
        set_ctl(h, h->p_strength, 0.25f * (float)(1 + k % 4));
        set_ctl(h, h->p_gain, (float)(k % 7) - 3.0f);
        host_process(h, x, y, 4096, 256, 0);
    }
    ck_assert_int_ge(h->n_notify, 6);
    host_free(h);
    if (rt_counts) {
        long a, f, l, mm;
        rt_counts(&a, &f, &l, &mm);
        printf("run()/work_response() %s: %ld allocations, %ld frees, %ld locks, %ld mmap/munmap\n",
               nch == 2 ? "stereo" : "mono", a, f, l, mm);
        ck_assert_int_eq(a, 0);
        ck_assert_int_eq(f, 0);
        ck_assert_int_eq(l, 0);
        ck_assert_int_eq(mm, 0);
    } else {
        printf("run()/work_response(): allocation check skipped (librtcheck.so not preloaded)\n");
    }
    free_ch(x);
    free_ch(y);
}
END_TEST

/* the interposer itself counts (so a 0 above means something) */
START_TEST(test_rtcheck_works)
{
    if (!rt_counts) {
        printf("librtcheck.so not preloaded: skipped\n");
        return;
    }
    rt_reset();
    arm(1);
    void *volatile p = malloc(100);
    free(p);
    arm(0);
    long a, f, l, mm;
    rt_counts(&a, &f, &l, &mm);
    ck_assert_int_ge(a, 1);
    ck_assert_int_ge(f, 1);
    rt_reset();
}
END_TEST

/* LV2HOST_TEST=name runs only the tests whose function name contains `name` */
static int wanted(const char *name)
{
    const char *only = getenv("LV2HOST_TEST");
    return !only || !*only || strstr(name, only) != NULL;
}
#define ADD(tc, fn)                                                                            \
    do {                                                                                       \
        if (wanted(#fn))                                                                       \
            tcase_add_test(tc, fn);                                                            \
    } while (0)
#define ADD_LOOP(tc, fn, a, b)                                                                 \
    do {                                                                                       \
        if (wanted(#fn))                                                                       \
            tcase_add_loop_test(tc, fn, a, b);                                                 \
    } while (0)

static Suite *suite(void)
{
    Suite *s = suite_create("lv2host");
    TCase *tc = tcase_create("plugin");
    tcase_set_timeout(tc, 600);
    ADD(tc, test_rtcheck_works);
    ADD(tc, test_bundle);
    ADD_LOOP(tc, test_block_sizes, 0, 6);
    ADD_LOOP(tc, test_latency, 0, 10);
    ADD_LOOP(tc, test_reactivate, 0, 2);
    ADD(tc, test_bypass_crossfade);
    ADD_LOOP(tc, test_model_switch, 0, 2);
    ADD(tc, test_switch_bypassed);
    ADD(tc, test_state_lilv);
    ADD(tc, test_state_mappath);
    ADD_LOOP(tc, test_no_features, 0, 2);
    ADD(tc, test_nonfinite);
    ADD(tc, test_stereo_linked);
    ADD_LOOP(tc, test_realtime, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    rt_find();
    const char *td = getenv("LIMPID_TEST_DIR");
    snprintf(scratch, sizeof scratch, "%s/lv2host", td && *td ? td : "/tmp");
    if (td && *td)
        mkdir(td, 0777);
    mkdir(scratch, 0777);
    char *real = realpath(scratch, NULL);
    if (real) {
        snprintf(scratch, sizeof scratch, "%s", real);
        free(real);
    }
    const char *b = getenv("LIMPID_LV2_BUNDLE");
    snprintf(bundle_dir, sizeof bundle_dir, "%s", b && *b ? b : LIMPID_LV2_BUNDLE);
    size_t bl = strlen(bundle_dir);
    if (bl && bundle_dir[bl - 1] != '/')
        snprintf(bundle_dir + bl, sizeof bundle_dir - bl, "/");

    /* our bundle by path, and the LV2 specification bundles (presets, port properties) from
     * /usr/lib/lv2, but no other plugin bundles: an installed limpid.lv2 (or anything in
     * ~/.lv2) must not stand in for the one under test */
    world = lilv_world_new();
    LilvNode *bnode = lilv_new_file_uri(world, NULL, bundle_dir);
    lilv_world_load_bundle(world, bnode);
    lilv_node_free(bnode);
    DIR *dir = opendir("/usr/lib/lv2");
    for (struct dirent *de; dir && (de = readdir(dir));) {
        size_t k = strlen(de->d_name);
        if (k < 5 || strcmp(de->d_name + k - 4, ".lv2") || !strcmp(de->d_name, "limpid.lv2"))
            continue;
        char path[1400];
        snprintf(path, sizeof path, "/usr/lib/lv2/%s/", de->d_name);
        LilvNode *sb = lilv_new_file_uri(world, NULL, path);
        lilv_world_load_bundle(world, sb);
        lilv_node_free(sb);
    }
    if (dir)
        closedir(dir);
    lilv_world_load_specifications(world);
    lilv_world_load_plugin_classes(world);
    const LilvPlugins *all = lilv_world_get_all_plugins(world);
    LilvNode *um = lilv_new_uri(world, MONO_URI), *us = lilv_new_uri(world, STEREO_URI);
    plug_mono = lilv_plugins_get_by_uri(all, um);
    plug_stereo = lilv_plugins_get_by_uri(all, us);
    lilv_node_free(um);
    lilv_node_free(us);
    /* the plugins' bundle must be the one under test, not an installed copy */
    if (plug_mono) {
        const char *bu = lilv_node_as_uri(lilv_plugin_get_bundle_uri(plug_mono));
        char *bp = lilv_file_uri_parse(bu, NULL);
        if (bp && strcmp(bp, bundle_dir) != 0)
            fprintf(stderr, "warning: plugin bundle %s, expected %s\n", bp, bundle_dir);
        lilv_free(bp);
    }
    printf("bundle %s, scratch %s, rtcheck %s\n", bundle_dir, scratch,
           rt_counts ? "preloaded" : "absent");

    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    lilv_world_free(world);
    return failed ? 1 : 0;
}
