/* bench_soak_lv2.c - soak benchmark of the LV2 plugin through lilv: the stereo plugin runs an
 * hour of audio (bench/soak_signal.h, a different noise seed per channel) at 48 kHz in host
 * blocks cycling through 32..1024 frames, with the controls moved every few minutes.
 * Usage: bench_soak_lv2 [--minutes M] [--rate HZ] [--bundle DIR] [--model FILE.lpm]
 *                       [--no-reload]
 * Built by the bench glob; plugin/CMakeLists.txt links lilv and defines LIMPID_SOAK_LILV and
 * LIMPID_LV2_BUNDLE (the build's limpid.lv2) when the plugin and lilv are built; otherwise
 * the program only says so.
 *
 * The model: the bundle's rt.lpm when it streams. Otherwise (the shipped model may not be
 * causal yet), or with --model, a temporary bundle (mkdtemp in $TMPDIR: symlinks to the
 * bundle's TTL files and limpid.so, and rt.lpm = --model FILE, or a "small" causal STFT
 * denoiser with random weights, the rt architecture, as bench_soak uses) that is removed at
 * the end. The bundle under test is never modified.
 *
 * The host (as tests/lv2host.c): urid:map/unmap, log:log, work:schedule with the work run
 * between cycles from the host's thread and work_response inside the cycle. Programme of
 * controls, changed at minute boundaries (minute m):
 *   enable   off (bypass) in minutes m % 6 == 5, else on
 *   steps    1 + (m / 2) % 4
 *   strength 1.0, 0.5, 0.8, 0.3 by (m / 3) % 4
 *   mix      1.0, 0.7, 1.0, 0.4 by (m / 4) % 4
 *   gain dB  0, -6, +6, +12, -24 by (m / 5) % 5
 *   model    reloaded through patch:Set (the worker loads a new engine, run() crossfades to
 *            it, the worker frees the old one) at 0:30 and every 10 minutes after (x0:30),
 *            unless --no-reload; a patch:Get at x5:30.
 * Checked and printed:
 *   - both outputs finite everywhere;
 *   - the latency port the same after every run();
 *   - in bypassed minutes (from 0.1 s after the toggle, the crossfade lasts 15 ms) the output
 *     is exactly the input delayed by the reported latency (the dry path; non-finite input is
 *     0 there): the measured delay of the plugin;
 *   - each reload announced on the notify port (patch:Set) and the latency unchanged;
 *   - memory: VmRSS / VmHWM at the end of every simulated minute; no growth beyond
 *     RSS_TOL_KB over the largest value up to the baseline minute: minute 1, or with reloads
 *     minute 11, after the second reload. A reload makes a new engine (model + streams,
 *     ~4.5 MB for the rt architecture in stereo) while the old one still runs; glibc keeps
 *     the freed engine's memory (its mmap threshold grows after the first large free), so
 *     VmRSS moves between a one-engine and a two-engine level from reload to reload (seen:
 *     20.4 / 24.8 MB; with GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072 it stays within
 *     68 kB). A leak, per reload or per call, raises the level after the baseline. RssAnon /
 *     RssFile growth printed;
 *   - per-run() CPU time (CLOCK_THREAD_CPUTIME_ID) over the block's duration: RTF, p50 / p99
 *     / p99.9 / max, the worst calls (with page faults and preemptions during them), calls
 *     over 100% (xruns of the timing model) and over 50%, judged on the calls that were not
 *     preempted, as bench_soak.c explains; the worker's time is printed apart;
 *   - under LD_PRELOAD=build/librtcheck.so (tests/rtcheck.c): allocations, frees, locks and
 *     mmaps inside run() and work_response() over the hour (must be 0). rtcheck counts every
 *     thread: the program then runs itself again with OPENBLAS_NUM_THREADS=1 (see main).
 * Then PASS/FAIL per criterion; exit status 1 if any failed.
 * CPU: about 1.5-2 min for the hour (2 channels, 1-4 steps; 2-core Xeon VM, AVX-512). */
#define _GNU_SOURCE
#include <stdio.h>

#ifndef LIMPID_SOAK_LILV
int main(void)
{
    fprintf(stderr, "bench_soak_lv2: built without lilv (it needs LIMPID_BUILD_LV2=ON, lv2-dev "
                    "and liblilv-dev; see plugin/CMakeLists.txt)\n");
    return 77;
}
#else

#include "internal.h"
#include "soak_signal.h"

#include <stdlib.h>

#include <dlfcn.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lilv/lilv.h>
#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/core/lv2.h>
#include <lv2/log/log.h>
#include <lv2/patch/patch.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#define STEREO_URI "https://limpid.example/plugins/denoise-stereo"
#define MODEL_URI "https://limpid.example/plugins/denoise#model"

#define RSS_TOL_KB 64 /* as bench_soak.c */
#define MAX_MINUTES 240
#define N_WORST 5
#define HIST 8192 /* input history per channel (power of 2, > latency + largest block) */
#define ATOM_CAP 16384
#define WQ_CAP 65536
#define BYPASS_SETTLE_S 0.1 /* after an enable toggle, before the dry-path check */

/* ---- URIDs, log ------------------------------------------------------------------------- */

#define MAX_URIDS 256
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

static int log_vprintf(LV2_Log_Handle h, LV2_URID type, const char *fmt, va_list ap)
{
    (void)h;
    (void)type;
    fputs("  [plugin log] ", stderr);
    return vfprintf(stderr, fmt, ap);
}

static int log_printf(LV2_Log_Handle h, LV2_URID type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = log_vprintf(h, type, fmt, ap);
    va_end(ap);
    return r;
}

static LV2_Log_Log logf_ = {NULL, log_printf, log_vprintf};

/* ---- the allocation / lock interposer (tests/rtcheck.c), when preloaded ----------------- */

static void (*rt_arm)(int);
static void (*rt_counts)(long *, long *, long *, long *);

static void arm(int on)
{
    if (rt_arm)
        rt_arm(on);
}

/* ---- host ------------------------------------------------------------------------------- */

typedef struct host {
    LilvInstance *inst;
    const LV2_Worker_Interface *worker;
    LV2_Worker_Schedule sched;
    float ctl[32];
    uint32_t p_in[2], p_out[2], p_control, p_notify, p_strength, p_steps, p_mix, p_gain,
        p_enable, p_latency;
    LV2_Atom_Sequence *cin, *cout;
    LV2_Atom_Forge forge;
    uint8_t wq[WQ_CAP], rq[WQ_CAP], req[WQ_CAP];
    size_t wq_len, rq_len;
    int n_notify;
    double worker_s; /* wall time in work() */
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

/* from run(): queue only (no allocation) */
static LV2_Worker_Status schedule(LV2_Worker_Schedule_Handle sh, uint32_t size, const void *data)
{
    host *h = (host *)sh;
    if (h->wq_len + 8 + pad8(size) > WQ_CAP)
        return LV2_WORKER_ERR_NO_SPACE;
    memcpy(h->wq + h->wq_len, &size, 4);
    memcpy(h->wq + h->wq_len + 8, data, size);
    h->wq_len += 8 + pad8(size);
    return LV2_WORKER_SUCCESS;
}

/* Between cycles: the work (non-RT), then the responses (audio thread: armed). */
static void host_worker(host *h)
{
    if (!h->worker || (!h->wq_len && !h->rq_len))
        return;
    LV2_Handle lh = lilv_instance_get_handle(h->inst);
    const size_t len = h->wq_len;
    memcpy(h->req, h->wq, len);
    h->wq_len = 0;
    const double t0 = soak_wall();
    for (size_t off = 0; off < len;) {
        uint32_t size;
        memcpy(&size, h->req + off, 4);
        h->worker->work(lh, respond, h, size, h->req + off + 8);
        off += 8 + pad8(size);
    }
    h->worker_s += soak_wall() - t0;
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

static void reset_atoms(host *h)
{
    h->cin->atom.type = U(LV2_ATOM__Sequence);
    h->cin->atom.size = sizeof(LV2_Atom_Sequence_Body);
    h->cin->body.unit = 0;
    h->cin->body.pad = 0;
    h->cout->atom.type = U(LV2_ATOM__Chunk);
    h->cout->atom.size = ATOM_CAP - sizeof(LV2_Atom);
}

static void read_notify(host *h)
{
    LV2_ATOM_SEQUENCE_FOREACH (h->cout, ev) {
        if (ev->body.type != U(LV2_ATOM__Object))
            continue;
        const LV2_Atom_Object *obj = (const LV2_Atom_Object *)&ev->body;
        if (obj->body.otype == U(LV2_PATCH__Set))
            h->n_notify++;
    }
}

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

static int port_index(LilvWorld *w, const LilvPlugin *p, const char *sym, uint32_t *out)
{
    LilvNode *s = lilv_new_string(w, sym);
    const LilvPort *port = lilv_plugin_get_port_by_symbol(p, s);
    lilv_node_free(s);
    if (!port) {
        fprintf(stderr, "bench_soak_lv2: no port %s\n", sym);
        return -1;
    }
    *out = lilv_port_get_index(p, port);
    return 0;
}

/* ---- the bundle --------------------------------------------------------------------------- */

static char tmp_bundle[PATH_MAX]; /* made here: removed at the end */

static void remove_tmp_bundle(void)
{
    static const char *const names[] = {"manifest.ttl", "limpid.ttl", "presets.ttl", "limpid.so",
                                        "rt.lpm"};
    if (!tmp_bundle[0])
        return;
    char p[PATH_MAX + 32];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", tmp_bundle, names[i]);
        unlink(p);
    }
    rmdir(tmp_bundle);
    tmp_bundle[0] = 0;
}

/* Ctrl-C / kill: remove the temporary bundle (unlink and rmdir are async-signal-safe; the
 * names are formatted with snprintf of %s only), then die of the signal as before. */
static void on_signal(int sig)
{
    remove_tmp_bundle();
    signal(sig, SIG_DFL);
    raise(sig);
}

static int model_streams(const char *path, char *why, size_t cap)
{
    limpid_model *m = NULL;
    if (limpid_model_load_file(&m, path, why, cap) != LIMPID_OK)
        return 0;
    limpid_stream *st = NULL;
    limpid_stream_opts o;
    limpid_stream_opts_default(&o);
    limpid_status s = limpid_stream_create(&st, m, &o);
    if (s != LIMPID_OK)
        snprintf(why, cap, "%s", limpid_strerror(s));
    limpid_stream_destroy(st);
    limpid_model_destroy(m);
    return s == LIMPID_OK;
}

/* A temporary bundle: src's files by symlink, rt.lpm = `model` (symlink) or a random causal
 * model when model is NULL. */
static int make_tmp_bundle(const char *src, const char *model, char *out, size_t cap)
{
    const char *td = getenv("TMPDIR");
    snprintf(tmp_bundle, sizeof tmp_bundle, "%s/limpid-soak-lv2-XXXXXX", td && *td ? td : "/tmp");
    if (!mkdtemp(tmp_bundle)) {
        perror("bench_soak_lv2: mkdtemp");
        tmp_bundle[0] = 0;
        return -1;
    }
    static const char *const names[] = {"manifest.ttl", "limpid.ttl", "presets.ttl", "limpid.so"};
    char a[PATH_MAX + 32], b[PATH_MAX + 32];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(a, sizeof a, "%s%s", src, names[i]);
        snprintf(b, sizeof b, "%s/%s", tmp_bundle, names[i]);
        char *ra = realpath(a, NULL);
        if (!ra || symlink(ra, b) != 0) {
            fprintf(stderr, "bench_soak_lv2: cannot link %s into %s\n", a, tmp_bundle);
            free(ra);
            return -1;
        }
        free(ra);
    }
    snprintf(b, sizeof b, "%s/rt.lpm", tmp_bundle);
    if (model) {
        char *rm = realpath(model, NULL);
        if (!rm || symlink(rm, b) != 0) {
            fprintf(stderr, "bench_soak_lv2: cannot link %s\n", model);
            free(rm);
            return -1;
        }
        free(rm);
    } else {
        limpid_config cfg;
        limpid_config_preset(&cfg, "small", LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT, 48000);
        cfg.lookahead = 0;
        limpid_model *m = NULL;
        if (limpid_model_create(&m, &cfg, 1) != LIMPID_OK)
            return -1;
        lpi_rng r = lpi_rng_make(1, 2, 3);
        for (size_t i = 0; i < m->layout.n_params; i++) /* as bench_soak / bench_stream */
            if (m->params[i] == 0.0f)
                m->params[i] = 0.01f * lpi_rng_normal(&r);
        limpid_status s = limpid_model_save_file(m, b);
        limpid_model_destroy(m);
        if (s != LIMPID_OK)
            return -1;
    }
    snprintf(out, cap, "%s/", tmp_bundle);
    return 0;
}

/* ---- the soak ----------------------------------------------------------------------------- */

typedef struct call_rec {
    double load, cpu, wall, at;
    int block, kind;
    long flt, ivc;
} call_rec;

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int minutes = 60, rate = 48000, reload = 1;
    const char *bundle_arg = NULL, *model = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--minutes") && i + 1 < argc)
            minutes = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rate") && i + 1 < argc)
            rate = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--bundle") && i + 1 < argc)
            bundle_arg = argv[++i];
        else if (!strcmp(argv[i], "--model") && i + 1 < argc)
            model = argv[++i];
        else if (!strcmp(argv[i], "--no-reload"))
            reload = 0;
        else {
            fprintf(stderr, "usage: bench_soak_lv2 [--minutes M] [--rate HZ] [--bundle DIR] "
                            "[--model FILE.lpm] [--no-reload]\n");
            return 2;
        }
    }
    if (minutes < 2 || minutes > MAX_MINUTES || rate < 8000) {
        fprintf(stderr, "bench_soak_lv2: need 2 <= --minutes <= %d, --rate >= 8000\n",
                MAX_MINUTES);
        return 2;
    }
    rt_arm = (void (*)(int))dlsym(RTLD_DEFAULT, "rtcheck_arm");
    rt_counts = (void (*)(long *, long *, long *, long *))dlsym(RTLD_DEFAULT, "rtcheck_counts");
    /* rtcheck counts the calls of every thread while armed. OpenBLAS (linked by the core)
     * starts a thread pool when it is loaded; each pool thread spins ~0.1 s and then goes to
     * sleep with pthread_mutex_lock + pthread_cond_wait, which lands inside the first run()
     * calls (seen: "2 locks", from blas_thread_server). The plugin's run() never calls BLAS,
     * so the soak runs without the pool: OPENBLAS_NUM_THREADS=1, set before the library is
     * loaded, i.e. by running this program again. */
    if (rt_counts) {
        const char *ob = getenv("OPENBLAS_NUM_THREADS");
        if (!ob || strcmp(ob, "1") != 0) {
            setenv("OPENBLAS_NUM_THREADS", "1", 1);
            execv("/proc/self/exe", argv);
            perror("bench_soak_lv2: re-exec with OPENBLAS_NUM_THREADS=1"); /* go on */
        }
    }

    /* the bundle */
    char src[PATH_MAX], bundle[PATH_MAX + 2], why[256] = "";
    snprintf(src, sizeof src, "%s", bundle_arg ? bundle_arg : LIMPID_LV2_BUNDLE);
    size_t bl = strlen(src);
    if (bl && src[bl - 1] != '/' && bl + 1 < sizeof src)
        strcat(src, "/");
    char def_model[PATH_MAX + 16];
    snprintf(def_model, sizeof def_model, "%srt.lpm", src);
    const char *model_note;
    if (model) {
        if (!model_streams(model, why, sizeof why)) {
            fprintf(stderr, "bench_soak_lv2: %s cannot stream: %s\n", model, why);
            return 1;
        }
        if (make_tmp_bundle(src, model, bundle, sizeof bundle))
            return 1;
        model_note = model;
    } else if (model_streams(def_model, why, sizeof why)) {
        snprintf(bundle, sizeof bundle, "%s", src);
        model_note = "the bundle's rt.lpm";
    } else {
        printf("note: the bundle's model %s does not stream (%s): using a temporary bundle "
               "with a small causal model with random weights\n",
               def_model, why);
        if (make_tmp_bundle(src, NULL, bundle, sizeof bundle))
            return 1;
        model_note = "(small, random weights)";
    }
    atexit(remove_tmp_bundle);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    char reload_path[PATH_MAX + 16];
    snprintf(reload_path, sizeof reload_path, "%srt.lpm", bundle);

    /* lilv: our bundle only, plus the LV2 specifications */
    LilvWorld *world = lilv_world_new();
    LilvNode *bnode = lilv_new_file_uri(world, NULL, bundle);
    lilv_world_load_bundle(world, bnode);
    lilv_node_free(bnode);
    lilv_world_load_specifications(world);
    lilv_world_load_plugin_classes(world);
    LilvNode *us = lilv_new_uri(world, STEREO_URI);
    const LilvPlugin *plug = lilv_plugins_get_by_uri(lilv_world_get_all_plugins(world), us);
    lilv_node_free(us);
    if (!plug) {
        fprintf(stderr, "bench_soak_lv2: no stereo plugin in %s\n", bundle);
        return 1;
    }
    host *h = calloc(1, sizeof *h);
    LV2_Feature f_map = {LV2_URID__map, &map}, f_unmap = {LV2_URID__unmap, &unmap},
                f_log = {LV2_LOG__log, &logf_}, f_sched;
    h->sched = (LV2_Worker_Schedule){h, schedule};
    f_sched = (LV2_Feature){LV2_WORKER__schedule, &h->sched};
    const LV2_Feature *features[] = {&f_map, &f_unmap, &f_log, &f_sched, NULL};
    h->inst = lilv_plugin_instantiate(plug, rate, features);
    if (!h->inst) {
        fprintf(stderr, "bench_soak_lv2: instantiate failed at %d Hz\n", rate);
        return 1;
    }
    h->worker = lilv_instance_get_extension_data(h->inst, LV2_WORKER__interface);
    const char *ins[2] = {"in_l", "in_r"}, *outs[2] = {"out_l", "out_r"};
    int bad = 0;
    for (int c = 0; c < 2; c++) {
        bad |= port_index(world, plug, ins[c], &h->p_in[c]);
        bad |= port_index(world, plug, outs[c], &h->p_out[c]);
    }
    bad |= port_index(world, plug, "control", &h->p_control);
    bad |= port_index(world, plug, "notify", &h->p_notify);
    bad |= port_index(world, plug, "strength", &h->p_strength);
    bad |= port_index(world, plug, "steps", &h->p_steps);
    bad |= port_index(world, plug, "mix", &h->p_mix);
    bad |= port_index(world, plug, "gain", &h->p_gain);
    bad |= port_index(world, plug, "enable", &h->p_enable);
    bad |= port_index(world, plug, "latency", &h->p_latency);
    const uint32_t n_ports = lilv_plugin_get_num_ports(plug);
    if (bad || n_ports > 32)
        return 1;
    float mins[32], maxs[32], defs[32];
    lilv_plugin_get_port_ranges_float(plug, mins, maxs, defs);
    LilvNode *cp = lilv_new_uri(world, LV2_CORE__ControlPort);
    for (uint32_t i = 0; i < n_ports; i++) {
        h->ctl[i] = isnan(defs[i]) ? 0.0f : defs[i];
        if (lilv_port_is_a(plug, lilv_plugin_get_port_by_index(plug, i), cp))
            lilv_instance_connect_port(h->inst, i, &h->ctl[i]);
    }
    lilv_node_free(cp);
    h->cin = aligned_alloc(8, ATOM_CAP);
    h->cout = aligned_alloc(8, ATOM_CAP);
    reset_atoms(h);
    lilv_instance_connect_port(h->inst, h->p_control, h->cin);
    lilv_instance_connect_port(h->inst, h->p_notify, h->cout);
    lv2_atom_forge_init(&h->forge, &map);

    /* buffers: all made resident before the RSS series starts */
    static float in[2][SOAK_MAXBLOCK], out[2][SOAK_MAXBLOCK], hist[2][HIST];
    for (int c = 0; c < 2; c++) {
        lilv_instance_connect_port(h->inst, h->p_in[c], in[c]);
        lilv_instance_connect_port(h->inst, h->p_out[c], out[c]);
    }
    soak_gen *g[2] = {malloc(sizeof(soak_gen)), malloc(sizeof(soak_gen))};
    soak_gen_init(g[0], rate, 1);
    soak_gen_init(g[1], rate, 2);
    long cyc = 0;
    for (int b = 0; b < SOAK_NBLOCKS; b++)
        cyc += soak_blocks[b];
    const size_t max_calls =
        (size_t)((double)minutes * 60.0 * rate / cyc + 1.0) * SOAK_NBLOCKS + SOAK_NBLOCKS;
    float *loads = malloc(max_calls * sizeof *loads);
    if (!loads)
        return 1;
    soak_touch(loads, max_calls * sizeof *loads);
    memset(hist, 0, sizeof hist); /* static: resident once written */

    lilv_instance_activate(h->inst);
    const int lat0 = (int)lrintf(h->ctl[h->p_latency]);
    printf("bench_soak_lv2: stereo plugin from %s, model %s, %d Hz, %d min, host blocks cycling "
           "over %d sizes 32..1024, model reloads %s; reported latency %d samples; rtcheck %s\n",
           bundle, model_note, rate, minutes, SOAK_NBLOCKS, reload ? "on" : "off", lat0,
           rt_counts ? "preloaded" : "absent");

    const uint64_t per_min = (uint64_t)llround(60.0 * rate);
    const uint64_t total = per_min * (uint64_t)minutes;
    const uint64_t at30 = (uint64_t)llround(30.0 * rate);
    const uint64_t settle = (uint64_t)llround(BYPASS_SETTLE_S * rate);
    static const float strengths[4] = {1.0f, 0.5f, 0.8f, 0.3f}, mixes[4] = {1.0f, 0.7f, 1.0f, 0.4f},
                       gains[5] = {0.0f, -6.0f, 6.0f, 12.0f, -24.0f};
    static soak_mem mem[MAX_MINUTES + 1];
    mem[0] = soak_mem_now();
    call_rec worst[N_WORST], worst_clean = {.load = -1.0};
    for (int k = 0; k < N_WORST; k++)
        worst[k].load = -1.0;
    float max_block[SOAK_NBLOCKS] = {0}, max_kind[SOAK_NKIND] = {0};
    long calls = 0, over50 = 0, over100 = 0, over50_pre = 0, over100_pre = 0, nonfinite = 0,
         lat_bad = 0, flt_all = 0, flt_late = 0, ivc_all = 0, byp_n = 0, byp_bad = 0;
    int n_reload = 0, n_get = 0;
    float peak = 0.0f, byp_maxdiff = 0.0f;
    double cpu_sum = 0.0, wall_sum = 0.0;
    int minute = -1;
    uint64_t pos = 0, toggle_at = 0;
    int enabled = 1;
    const double t_start = soak_wall();
    while (pos < total) {
        /* controls at minute boundaries; messages at x0:30 and x5:30 */
        const int m = (int)(pos / per_min);
        if (m != minute) {
            minute = m;
            const int en = m % 6 != 5;
            if (en != enabled) {
                enabled = en;
                toggle_at = pos;
            }
            h->ctl[h->p_enable] = (float)en;
            h->ctl[h->p_steps] = (float)(1 + (m / 2) % 4);
            h->ctl[h->p_strength] = strengths[(m / 3) % 4];
            h->ctl[h->p_mix] = mixes[(m / 4) % 4];
            h->ctl[h->p_gain] = gains[(m / 5) % 5];
        }
        const uint64_t msg_at = (uint64_t)m * per_min + at30;
        const int bi = (int)(calls % SOAK_NBLOCKS);
        const int B = soak_blocks[bi];
        if (pos <= msg_at && msg_at < pos + (uint64_t)B) {
            if (reload && m % 10 == 0) {
                send_set_model(h, reload_path);
                n_reload++;
            } else if (m % 10 == 5) {
                send_get(h);
                n_get++;
            }
        }
        const int kind = soak_kind_of(g[0], pos);
        for (int c = 0; c < 2; c++) {
            soak_gen_block(g[c], in[c], (size_t)B, NULL);
            for (int i = 0; i < B; i++) { /* the dry path sees non-finite input as 0 */
                const float v = in[c][i];
                hist[c][(pos + (uint64_t)i) & (HIST - 1)] = isfinite(v) ? v : 0.0f;
            }
        }
        struct rusage ru0, ru1;
        getrusage(RUSAGE_THREAD, &ru0);
        arm(1);
        const double t0 = soak_wall(), c0 = soak_cpu();
        lilv_instance_run(h->inst, (uint32_t)B);
        const double cc = soak_cpu() - c0, t = soak_wall() - t0;
        arm(0);
        getrusage(RUSAGE_THREAD, &ru1);
        const long flt = ru1.ru_minflt - ru0.ru_minflt + ru1.ru_majflt - ru0.ru_majflt;
        const long ivc = ru1.ru_nivcsw - ru0.ru_nivcsw;
        flt_all += flt;
        if (m >= 1)
            flt_late += flt;
        ivc_all += ivc;
        read_notify(h);
        reset_atoms(h);
        host_worker(h);
        /* checks */
        const int lat = (int)lrintf(h->ctl[h->p_latency]);
        if (lat != lat0)
            lat_bad++;
        const int check_bypass = !enabled && pos >= toggle_at + settle;
        for (int c = 0; c < 2; c++) {
            for (int i = 0; i < B; i++) {
                const float y = out[c][i];
                if (!isfinite(y)) {
                    nonfinite++;
                    continue;
                }
                if (fabsf(y) > peak)
                    peak = fabsf(y);
                if (check_bypass) {
                    const uint64_t n = pos + (uint64_t)i;
                    const float x = n >= (uint64_t)lat0 ? hist[c][(n - lat0) & (HIST - 1)] : 0.0f;
                    const float d = fabsf(y - x);
                    byp_n++;
                    if (d != 0.0f) {
                        byp_bad++;
                        if (d > byp_maxdiff)
                            byp_maxdiff = d;
                    }
                }
            }
        }
        const double load = cc / ((double)B / rate);
        if ((size_t)calls < max_calls)
            loads[calls] = (float)load;
        if (load > 1.0) {
            over100++;
            over100_pre += ivc > 0;
        }
        if (load > 0.5) {
            over50++;
            over50_pre += ivc > 0;
        }
        if (load > max_block[bi])
            max_block[bi] = (float)load;
        if (load > max_kind[kind])
            max_kind[kind] = (float)load;
        if (load > worst[N_WORST - 1].load) {
            int k = N_WORST - 1;
            for (; k > 0 && load > worst[k - 1].load; k--)
                worst[k] = worst[k - 1];
            worst[k] = (call_rec){load, cc, t, (double)pos / rate, B, kind, flt, ivc};
        }
        if (ivc == 0 && load > worst_clean.load)
            worst_clean = (call_rec){load, cc, t, (double)pos / rate, B, kind, flt, ivc};
        cpu_sum += cc;
        wall_sum += t;
        pos += (uint64_t)B;
        calls++;
        if (pos / per_min != (uint64_t)m || pos >= total) { /* end of a simulated minute */
            const int k = m + 1;
            mem[k] = soak_mem_now(); /* k <= minutes <= MAX_MINUTES */
            if (k % 10 == 0 || k == minutes)
                printf("  minute %3d: RSS %ld kB, HWM %ld kB, wall %.0f s, CPU %.1f s\n", k,
                       mem[k].rss, mem[k].hwm, soak_wall() - t_start, cpu_sum);
        }
    }
    lilv_instance_deactivate(h->inst);
    host_worker(h);
    lilv_instance_free(h->inst);
    long ra = 0, rf = 0, rl = 0, rm = 0;
    if (rt_counts)
        rt_counts(&ra, &rf, &rl, &rm);

    /* report */
    const double audio = (double)pos / rate;
    const size_t nl = (size_t)calls < max_calls ? (size_t)calls : max_calls;
    qsort(loads, nl, sizeof *loads, soak_cmp_float);
    const float p50 = loads[nl / 2], p99 = loads[(size_t)(0.99 * (double)(nl - 1))],
                p999 = loads[(size_t)(0.999 * (double)(nl - 1))], pmax = loads[nl - 1];
    printf("\n== stereo plugin, %d Hz: %.0f min of audio, %ld run() calls\n", rate, audio / 60.0,
           calls);
    printf("RTF %.4f (CPU time of run(); wall %.4f); worker (model loads and frees, outside "
           "run()): %.2f s wall\n",
           cpu_sum / audio, wall_sum / audio, h->worker_s);
    printf("per-run() load (CPU time / block duration): p50 %.1f%%  p99 %.1f%%  p99.9 %.1f%%  "
           "max %.1f%%;  calls > 50%%: %ld (%ld preempted during the call), > 100%%: %ld (%ld "
           "preempted)\n",
           100.0 * p50, 100.0 * p99, 100.0 * p999, 100.0 * pmax, over50, over50_pre, over100,
           over100_pre);
    printf("worst calls (page faults and involuntary context switches during the call):\n");
    for (int k = 0; k < N_WORST && worst[k].load >= 0.0; k++) {
        const call_rec *w = &worst[k];
        printf("  %5.1f%%: %4d frames at %9.3f s (minute %2d, %-8s) CPU %7.1f us of %.3f ms, "
               "wall %8.1f us, %ld faults, %ld preemptions\n",
               100.0 * w->load, w->block, w->at, (int)(w->at / 60.0), soak_kind_name[w->kind],
               1e6 * w->cpu, 1e3 * w->block / rate, 1e6 * w->wall, w->flt, w->ivc);
    }
    printf("worst call not preempted: %.1f%%: %d frames at %.3f s (minute %d, %s), CPU %.1f us, "
           "wall %.1f us, %ld faults\n",
           100.0 * worst_clean.load, worst_clean.block, worst_clean.at,
           (int)(worst_clean.at / 60.0), soak_kind_name[worst_clean.kind], 1e6 * worst_clean.cpu,
           1e6 * worst_clean.wall, worst_clean.flt);
    printf("page faults during run(): %ld (%ld after minute 1); involuntary context switches "
           "during run(): %ld\n",
           flt_all, flt_late, ivc_all);
    printf("worst load per block size:");
    for (int b = 0; b < SOAK_NBLOCKS; b++)
        printf(" %d:%.0f%%", soak_blocks[b], 100.0 * max_block[b]);
    printf("\nworst load per programme kind (at the block's first sample):");
    for (int k = 0; k < SOAK_NKIND; k++)
        printf(" %s:%.0f%%", soak_kind_name[k], 100.0 * max_kind[k]);
    printf("\noutput: %ld non-finite samples (both channels), peak |y| %.3g\n", nonfinite,
           (double)peak);
    printf("latency port: %d samples (%.2f ms), different after %ld calls\n", lat0,
           1e3 * lat0 / rate, lat_bad);
    printf("bypassed stretches: %ld samples compared with the input delayed by %d, %ld differ "
           "(max |diff| %.3g)\n",
           byp_n, lat0, byp_bad, (double)byp_maxdiff);
    printf("model reloads: %d sent, patch:Get: %d sent, patch:Set notifications: %d\n", n_reload,
           n_get, h->n_notify);
    if (rt_counts)
        printf("inside run() / work_response(): %ld allocations, %ld frees, %ld locks, %ld "
               "mmap/munmap\n",
               ra, rf, rl, rm);
    /* the memory baseline: the end of minute 1, or with reloads the end of the minute after
     * the second reload (10:30), see the header comment */
    const int base = reload && minutes > 11 ? 11 : 1;
    soak_print_mem(mem, base, minutes, "after instantiate and activate");
    const soak_mem g1 = soak_mem_growth(mem, 1, minutes);
    if (base != 1)
        printf("(growth after minute 1, for information: VmRSS %+ld, VmHWM %+ld kB)\n", g1.rss,
               g1.hwm);
    const soak_mem gr = soak_mem_growth(mem, base, minutes);
    const long rss_g = gr.rss, hwm_g = gr.hwm;
    printf("\n== summary (%.0f s wall)\n", soak_wall() - t_start);
    const int ok_fin = nonfinite == 0, ok_lat = lat_bad == 0, ok_byp = byp_bad == 0,
              ok_msg = h->n_notify >= n_reload + n_get,
              ok_mem = rss_g <= RSS_TOL_KB && hwm_g <= RSS_TOL_KB,
              ok_x = over100 - over100_pre == 0, ok_h = over50 - over50_pre == 0,
              ok_rt = !rt_counts || (ra == 0 && rf == 0 && rl == 0 && rm == 0);
    printf("%s  output finite everywhere\n", ok_fin ? "PASS" : "FAIL");
    printf("%s  reported latency constant (%d samples)\n", ok_lat ? "PASS" : "FAIL", lat0);
    printf("%s  bypassed output = input delayed by the reported latency, exactly (%ld samples)\n",
           byp_n == 0 ? "SKIP" : ok_byp ? "PASS" : "FAIL", byp_n);
    printf("%s  every model reload and patch:Get answered on the notify port\n",
           ok_msg ? "PASS" : "FAIL");
    printf("%s  memory flat: VmRSS and VmHWM grow <= %d kB after minute %d (%+ld, %+ld)\n",
           ok_mem ? "PASS" : "FAIL", RSS_TOL_KB, base, rss_g, hwm_g);
    printf("%s  no xruns in the timing model: no run() over 100%% of its block, of those not "
           "preempted (%ld; all calls: %ld)\n",
           ok_x ? "PASS" : "FAIL", over100 - over100_pre, over100);
    printf("%s  headroom: no run() over 50%% of its block, of those not preempted (%ld; all "
           "calls: %ld)\n",
           ok_h ? "PASS" : "FAIL", over50 - over50_pre, over50);
    if (rt_counts)
        printf("%s  no allocation, free, lock or mmap in run() / work_response()\n",
               ok_rt ? "PASS" : "FAIL");
    else
        printf("(allocation check skipped: run with LD_PRELOAD=<build>/librtcheck.so)\n");
    free(h->cin);
    free(h->cout);
    free(h);
    free(g[0]);
    free(g[1]);
    free(loads);
    lilv_world_free(world);
    return ok_fin && ok_lat && ok_byp && ok_msg && ok_mem && ok_x && ok_h && ok_rt ? 0 : 1;
}
#endif
