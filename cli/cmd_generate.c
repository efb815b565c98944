/* cmd_generate.c - `limpid generate --texture NAME --seconds S -o OUT`: audio textures from a
 * class-conditioned diffusion model.
 *
 * Length: the output is made in chunks of CHUNK_S seconds (memory does not grow with S):
 * chunk k is limpid_generate(seed = mix(--seed, variation, channel, k)) over CHUNK_S + X
 * seconds, and the X-second tail of each chunk is crossfaded into the head of the next with
 * equal-power (sine/cosine) gains, as the core crossfades its own blocks: independent draws
 * of a stationary texture join without a level dip or a click, and never repeat (each chunk
 * has its own noise).
 * --loop: one more crossfade region is made after the end and crossfaded into the head, so
 * the last sample continues into the first: the file loops without a seam.
 * --stereo: the two channels are independent draws (different seeds): decorrelated.
 * --level DB: a gain chosen from the first chunk's RMS so that it sits at DB dBFS RMS, then
 * used for the whole file (the model's own level is kept otherwise).
 * Same seed, same options: the same file.
 * Test hook: with LIMPID_GENERATE_TEST_TONE=1 each chunk is a 100 Hz tone with a phase drawn
 * from its seed instead of the model's output, so tests can see the chunk joins and the loop
 * seam (independent chunks of a tone jump in phase where they meet). Never useful otherwise.
 * Output: the container follows OUT's extension (WAV/FLAC: 24-bit PCM; Ogg: Vorbis), written
 * to OUT.tmp-XXXXXX and renamed; an existing OUT is refused without --force. */
#define _GNU_SOURCE
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define CMD "generate"
#define CHUNK_S 20.0
#define XFADE_S 1.0

static void usage(FILE *f)
{
    fprintf(f,
"usage: limpid generate (--texture NAME | --model FILE [--class NAME|N]) --seconds S -o OUT\n"
"                       [options]\n"
"       limpid generate --list [--model FILE]\n"
"\n"
"Generate an audio texture (rain, wind, stream, fire, ...) with a diffusion model.\n"
"\n"
"  --texture NAME    a texture of the shipped texture model (see --list)\n"
"  --model FILE      a texture model trained with 'limpid train --task texture' (its classes\n"
"                    are read from FILE.classes when present); default: the shipped one\n"
"  --class NAME|N    the class of --model to generate (name or index; default 0)\n"
"  --seconds S       length of the output (any length: made in chunks, memory stays flat)\n"
"  -o, --output OUT  output file; the container follows the extension (.wav .flac .ogg ...)\n"
"  --variations K    write K different files OUT-1.EXT .. OUT-K.EXT (default 1: OUT)\n"
"  --seed N          random seed (default 0): the same seed gives the same file\n"
"  --steps N         sampling steps per block (default: all of the model's diffusion steps for a\n"
"                    model of STFT magnitudes (50 for the shipped one), whose texture detail\n"
"                    comes in the last steps; 4 for others; more = slower)\n"
"  --loop            make the file loop seamlessly (its end continues into its start)\n"
"  --stereo          two decorrelated channels (independent draws of the texture)\n"
"  --level DB        scale to DB dBFS RMS (from the first 20 s; default: the model's level)\n"
"  --threads N       threads for the matrix products (default: all cores)\n"
CLI_PRECISION_HELP
"  --force           overwrite existing output files\n"
"  --play            play the result when it is written (the first file with --variations;\n"
"                    'limpid play' plays any file)\n"
"  -q, --quiet       no progress bar\n"
"  --list            list the textures of the model and exit\n"
"  -h, --help        this help\n");
}

enum { O_TEX = 1, O_MODEL, O_CLASS, O_SECONDS, O_OUT, O_VAR, O_SEED, O_STEPS, O_LOOP, O_STEREO,
       O_LEVEL, O_THREADS, O_FORCE, O_QUIET, O_LIST, O_HELP, O_PLAY, O_PRECISION };

static const cli_opt opts[] = {
    {"texture", 0, 1, O_TEX},   {"model", 0, 1, O_MODEL},     {"class", 0, 1, O_CLASS},
    {"seconds", 0, 1, O_SECONDS}, {"output", 'o', 1, O_OUT},  {"variations", 0, 1, O_VAR},
    {"seed", 0, 1, O_SEED},     {"steps", 0, 1, O_STEPS},     {"loop", 0, 0, O_LOOP},
    {"stereo", 0, 0, O_STEREO}, {"level", 0, 1, O_LEVEL},     {"threads", 0, 1, O_THREADS},
    {"force", 0, 0, O_FORCE},   {"quiet", 'q', 0, O_QUIET},   {"list", 0, 0, O_LIST},
    {"help", 'h', 0, O_HELP},   {"play", 0, 0, O_PLAY},     {"precision", 0, 1, O_PRECISION},
    {NULL, 0, 0, 0}};

typedef struct gen_opts {
    const char *texture, *model, *cls, *out;
    double seconds, level;
    int have_level, variations, steps, loop, stereo, threads, force, quiet, list, play;
    int precision; /* CLI_PREC_AUTO or limpid_precision */
    uint64_t seed;
} gen_opts;

/* ---- class names ---------------------------------------------------------------------- */

/* MODEL.classes: one name per line. Returns the count (0 when there is no file). */
static int read_class_names(const char *model, char ***names)
{
    *names = NULL;
    char *path = NULL;
    if (asprintf(&path, "%s.classes", model) < 0)
        return 0;
    char *buf = NULL;
    size_t len = 0;
    int rc = cli_read_file(path, 1 << 20, &buf, &len);
    free(path);
    if (rc)
        return 0;
    int n = 0;
    for (size_t i = 0; i < len; i++)
        n += buf[i] == '\n';
    n += len > 0 && buf[len - 1] != '\n';
    char **v = calloc((size_t)n + 1, sizeof *v);
    int k = 0;
    for (char *save = NULL, *t = strtok_r(buf, "\n", &save); v && t && k < n;
         t = strtok_r(NULL, "\n", &save)) {
        size_t l = strlen(t);
        if (l && t[l - 1] == '\r')
            t[l - 1] = '\0';
        v[k++] = strdup(t);
    }
    free(buf);
    *names = v;
    return v ? k : 0;
}

static void free_names(char **names, int n)
{
    for (int i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

/* ---- output ----------------------------------------------------------------------------- */

static int major_format(const char *path, int *subtype)
{
    const char *dot = strrchr(path, '.');
    const char *ext = dot ? dot + 1 : "";
    *subtype = SF_FORMAT_PCM_24;
    if (!strcasecmp(ext, "flac"))
        return SF_FORMAT_FLAC;
    if (!strcasecmp(ext, "ogg") || !strcasecmp(ext, "oga")) {
        *subtype = SF_FORMAT_VORBIS;
        return SF_FORMAT_OGG;
    }
    if (!strcasecmp(ext, "aiff") || !strcasecmp(ext, "aif"))
        return SF_FORMAT_AIFF;
    if (!strcasecmp(ext, "w64"))
        return SF_FORMAT_W64;
    if (!strcasecmp(ext, "caf"))
        return SF_FORMAT_CAF;
    return SF_FORMAT_WAV;
}

/* OUT-k.EXT for variation k of K > 1 (k from 1), else OUT. malloc'd. */
static char *variation_path(const char *out, int k, int K)
{
    char *p = NULL;
    if (K <= 1)
        return strdup(out);
    const char *slash = strrchr(out, '/');
    const char *dot = strrchr(out, '.');
    if (!dot || (slash && dot < slash) || dot == (slash ? slash + 1 : out))
        dot = out + strlen(out);
    if (asprintf(&p, "%.*s-%d%s", (int)(dot - out), out, k, dot) < 0)
        return NULL;
    return p;
}

static uint64_t mix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef struct gen {
    limpid_ctx *ctx;
    const gen_opts *o;
    int cls, rate, ch;
    size_t chunk, xf;   /* samples per chunk (without the crossfade) and per crossfade (set
                           per file, at most CHUNK_S and XFADE_S seconds) */
    float **buf;        /* [ch][chunk + xf] */
    float **tail;       /* [ch][xf] the previous chunk's tail */
    float **head;       /* [ch][xf] --loop: the samples after the end */
    float *inter;       /* [chunk * ch] interleaved */
    float gain;
    int have_gain;
    double t0;
    int64_t done, total;
    int test_tone;      /* LIMPID_GENERATE_TEST_TONE=1: chunks are tones (see the top) */
} gen;

static void progress(gen *g, int variation, int K)
{
    if (g->o->quiet || !isatty(STDERR_FILENO))
        return;
    double f = g->total > 0 ? (double)g->done / (double)g->total : 1.0;
    double el = cli_now() - g->t0;
    int w = 30, fill = (int)(f * w + 0.5);
    fprintf(stderr, "\r[%.*s%*s] %3.0f%%  %.0f/%.0f s", fill, "##############################",
            w - fill, "", 100.0 * f, (double)g->done / g->rate, (double)g->total / g->rate);
    if (K > 1)
        fprintf(stderr, "  file %d/%d", variation, K);
    if (el > 0 && g->done > 0)
        fprintf(stderr, "  %.1fx real time ", ((double)g->done / g->rate) / el);
    fflush(stderr);
}

/* Chunk k of every channel into buf (chunk + xf samples). */
static int make_chunk(gen *g, int variation, uint64_t k, char *err, size_t errlen)
{
    limpid_sample_opts so;
    limpid_sample_opts_default(&so);
    so.steps = g->o->steps;
    for (int c = 0; c < g->ch; c++) {
        so.seed = mix64(g->o->seed ^ mix64(((uint64_t)variation << 40) ^ ((uint64_t)c << 32) ^ k));
        if (g->test_tone) { /* test hook: a 100 Hz tone whose phase the seed picks */
            double ph = (double)(so.seed >> 11) * (2.0 * M_PI / 9007199254740992.0);
            for (size_t i = 0; i < g->chunk + g->xf; i++)
                g->buf[c][i] = 0.5f * (float)sin(2.0 * M_PI * 100.0 * (double)i / g->rate + ph);
            continue;
        }
        limpid_status st = limpid_generate(g->ctx, g->cls, g->chunk + g->xf, g->buf[c], &so);
        if (st != LIMPID_OK) {
            snprintf(err, errlen, "generation failed: %s", limpid_strerror(st));
            return -1;
        }
    }
    return 0;
}

static int write_frames(SNDFILE *sf, gen *g, float *const *src, size_t a, size_t n, char *err,
                        size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < g->ch; c++)
            g->inter[i * (size_t)g->ch + (size_t)c] = g->gain * src[c][a + i];
    if (sf_writef_float(sf, g->inter, (sf_count_t)n) != (sf_count_t)n) {
        snprintf(err, errlen, "cannot write: %s", sf_strerror(sf));
        return -1;
    }
    return 0;
}

/* Equal-power crossfade of b's first n samples from a (fading out): into b. */
static void xfade(float *b, const float *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float u = ((float)i + 0.5f) / (float)n;
        b[i] = sinf(0.5f * (float)M_PI * u) * b[i] + cosf(0.5f * (float)M_PI * u) * a[i];
    }
}

/* One output file. Returns 0, -1 (err) or -2 (interrupted).
 * The file is m chunks of equal length (the last possibly a little shorter): m =
 * ceil(total / CHUNK_S), so every chunk is at least half of CHUNK_S long and its tail region
 * (the xf samples after its written part) never overlaps its crossfaded head. With --loop the
 * samples after the end (the last chunk's tail) are made first (the last chunk is
 * deterministic, so making it twice gives the same samples) and fade into the first chunk's
 * head. */
static int generate_file(gen *g, const char *path, int variation, int K, char *err,
                         size_t errlen)
{
    const gen_opts *o = g->o;
    const int64_t total = (int64_t)llround(o->seconds * g->rate);
    const size_t cmax = (size_t)(CHUNK_S * g->rate);
    const int64_t m = total > 0 ? (total + (int64_t)cmax - 1) / (int64_t)cmax : 1;
    g->chunk = (size_t)((total + m - 1) / m);
    if (g->chunk < 1)
        g->chunk = 1;
    g->xf = (size_t)(XFADE_S * g->rate);
    if (g->xf > g->chunk / 2) /* short files: the crossfade fits inside */
        g->xf = g->chunk / 2 > 0 ? g->chunk / 2 : 1;
    g->total = total;
    g->done = 0;
    g->t0 = cli_now();
    char *tmp = NULL;
    if (asprintf(&tmp, "%s.tmp-XXXXXX", path) < 0)
        return snprintf(err, errlen, "out of memory"), -1;
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a temporary file beside '%s': %s", path,
                 strerror(errno));
        free(tmp);
        return -1;
    }
    SF_INFO si;
    memset(&si, 0, sizeof si);
    int sub;
    si.format = major_format(path, &sub) | sub;
    si.samplerate = g->rate;
    si.channels = g->ch;
    SNDFILE *sf = sf_open_fd(fd, SFM_WRITE, &si, 1);
    int rc = 0;
    if (!sf) {
        snprintf(err, errlen, "cannot write '%s': %s", tmp, sf_strerror(NULL));
        close(fd);
        rc = -1;
        goto out;
    }
    if (sub == SF_FORMAT_VORBIS) {
        double q = 0.6;
        sf_command(sf, SFC_SET_VBR_ENCODING_QUALITY, &q, sizeof q);
    }
    sf_command(sf, SFC_SET_CLIPPING, NULL, SF_TRUE); /* peaks past full scale clip, not wrap */
    const size_t n_last = (size_t)(total - (m - 1) * (int64_t)g->chunk);
    if (o->loop) { /* the samples after the end, into head[] */
        if (make_chunk(g, variation, (uint64_t)(m - 1), err, errlen)) {
            rc = -1;
            goto out;
        }
        for (int c = 0; c < g->ch; c++)
            memcpy(g->head[c], g->buf[c] + n_last, g->xf * sizeof(float));
    }
    for (int64_t k = 0; k < m; k++) {
        if (cli_stop_signal) {
            rc = -2;
            goto out;
        }
        if (make_chunk(g, variation, (uint64_t)k, err, errlen)) {
            rc = -1;
            goto out;
        }
        if (!g->have_gain) {
            g->have_gain = 1;
            g->gain = 1.0f;
            if (o->have_level) {
                double e = 0.0;
                size_t cnt = 0;
                for (int c = 0; c < g->ch; c++)
                    for (size_t i = 0; i < g->chunk + g->xf; i++, cnt++)
                        e += (double)g->buf[c][i] * g->buf[c][i];
                double rms = sqrt(e / (double)(cnt ? cnt : 1));
                g->gain = rms > 1e-9 ? (float)(pow(10.0, o->level / 20.0) / rms) : 1.0f;
            }
        }
        float *const *from = k > 0 ? g->tail : o->loop ? g->head : NULL;
        if (from)
            for (int c = 0; c < g->ch; c++)
                xfade(g->buf[c], from[c], g->xf);
        size_t n = k == m - 1 ? n_last : g->chunk;
        if (write_frames(sf, g, g->buf, 0, n, err, errlen)) {
            rc = -1;
            goto out;
        }
        g->done += (int64_t)n;
        for (int c = 0; c < g->ch; c++) /* what follows sample n: the next chunk fades from it */
            memcpy(g->tail[c], g->buf[c] + n, g->xf * sizeof(float));
        progress(g, variation, K);
    }
    if (!o->quiet && isatty(STDERR_FILENO))
        fprintf(stderr, "\n");
out:
    if (sf) {
        if (rc == 0)
            sf_write_sync(sf);
        if (sf_close(sf) != 0 && rc == 0) {
            snprintf(err, errlen, "cannot finish '%s'", tmp);
            rc = -1;
        }
    }
    if (rc == 0) {
        if (o->force ? rename(tmp, path) != 0
                     : (link(tmp, path) != 0 || unlink(tmp) != 0)) {
            snprintf(err, errlen, "cannot move the output into place as '%s': %s", path,
                     strerror(errno));
            rc = -1;
        }
    }
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

int cmd_generate(int argc, char **argv)
{
    gen_opts o;
    memset(&o, 0, sizeof o);
    o.variations = 1;
    o.steps = 0; /* the model's kind decides (below) */
    o.threads = -1;
    o.precision = CLI_PREC_AUTO;
    o.seconds = -1.0;
    cli_args a;
    cli_args_init(&a, CMD, argc, argv);
    const char *val;
    int id;
    long long iv;
    while ((id = cli_args_next(&a, opts, &val)) != CLI_END) {
        switch (id) {
        case CLI_ERROR: return CLI_EXIT_USAGE;
        case CLI_POSITIONAL: return cli_usage_error(CMD, "unexpected argument '%s'", val);
        case O_HELP: usage(stdout); return CLI_EXIT_OK;
        case O_TEX: o.texture = val; break;
        case O_MODEL: o.model = val; break;
        case O_CLASS: o.cls = val; break;
        case O_OUT: o.out = val; break;
        case O_SECONDS:
            if (cli_opt_double(&a, val, 0.001, 24.0 * 3600.0, &o.seconds)) return CLI_EXIT_USAGE;
            break;
        case O_VAR:
            if (cli_opt_int(&a, val, 1, 10000, &iv)) return CLI_EXIT_USAGE;
            o.variations = (int)iv;
            break;
        case O_SEED:
            if (cli_opt_int(&a, val, 0, INT64_MAX, &iv)) return CLI_EXIT_USAGE;
            o.seed = (uint64_t)iv;
            break;
        case O_STEPS:
            if (cli_opt_int(&a, val, 1, 1000, &iv)) return CLI_EXIT_USAGE;
            o.steps = (int)iv;
            break;
        case O_LOOP: o.loop = 1; break;
        case O_STEREO: o.stereo = 1; break;
        case O_LEVEL:
            if (cli_opt_double(&a, val, -120.0, 0.0, &o.level)) return CLI_EXIT_USAGE;
            o.have_level = 1;
            break;
        case O_THREADS:
            if (cli_opt_int(&a, val, 1, 1024, &iv)) return CLI_EXIT_USAGE;
            o.threads = (int)iv;
            break;
        case O_PRECISION:
            if (cli_opt_precision(&a, val, &o.precision)) return CLI_EXIT_USAGE;
            break;
        case O_FORCE: o.force = 1; break;
        case O_QUIET: o.quiet = 1; break;
        case O_LIST: o.list = 1; break;
        case O_PLAY: o.play = 1; break;
        }
    }
    if (o.texture && o.cls)
        return cli_usage_error(CMD, "--texture and --class both name the class: give one");
    if (!o.list) {
        if (!o.texture && !o.model)
            return cli_usage_error(CMD, "no texture given (--texture NAME; --list shows them)");
        if (o.seconds < 0)
            return cli_usage_error(CMD, "no length given (--seconds S)");
        if (!o.out)
            return cli_usage_error(CMD, "no output file given (-o OUT)");
    }
    char mpath[4096], err[1024] = "";
    if (cli_resolve_model(o.model ? o.model : "textures", cli_texture_models, mpath,
                          sizeof mpath, err, sizeof err)) {
        cli_error(CMD, "%s", err);
        return CLI_EXIT_FAIL;
    }
    limpid_model *model = NULL;
    limpid_status st = limpid_model_load_file(&model, mpath, err, sizeof err);
    if (st != LIMPID_OK) {
        cli_error(CMD, "cannot load model '%s': %s", mpath, err[0] ? err : limpid_strerror(st));
        return CLI_EXIT_FAIL;
    }
    const limpid_config *cfg = limpid_model_config(model);
    int rc = CLI_EXIT_FAIL;
    char **names = NULL;
    int n_names = 0;
    gen g;
    memset(&g, 0, sizeof g);
    if (cfg->task != LIMPID_TASK_TEXTURE) {
        cli_error(CMD, "%s: not a texture model (it is a denoiser; use 'limpid denoise')", mpath);
        goto done;
    }
    if (o.steps == 0) /* magnitude models: fewer steps leave the envelopes smooth (design.md) */
        o.steps = cfg->domain == LIMPID_DOMAIN_STFT && cfg->features == LIMPID_FEATURES_MAGNITUDE
                      ? cfg->steps_T
                      : 4;
    n_names = read_class_names(mpath, &names);
    if (n_names != 0 && n_names != cfg->n_classes) {
        cli_warn(CMD, "%s.classes names %d classes but the model has %d: names ignored", mpath,
                 n_names, cfg->n_classes);
        free_names(names, n_names);
        names = NULL;
        n_names = 0;
    }
    if (o.list) {
        printf("textures of %s:\n", mpath);
        for (int i = 0; i < cfg->n_classes; i++)
            printf("  %d  %s\n", i, i < n_names ? names[i] : "(unnamed)");
        rc = CLI_EXIT_OK;
        goto done;
    }
    const char *want = o.texture ? o.texture : o.cls;
    g.cls = 0;
    if (want) {
        g.cls = -1;
        for (int i = 0; i < n_names; i++)
            if (!strcasecmp(names[i], want))
                g.cls = i;
        if (g.cls < 0 && cli_parse_int(want, 0, cfg->n_classes - 1, &iv) == 0)
            g.cls = (int)iv;
        if (g.cls < 0) {
            cli_error(CMD, "%s has no texture '%s' (see 'limpid generate --list%s%s')", mpath,
                      want, o.model ? " --model " : "", o.model ? o.model : "");
            goto done;
        }
    }
    /* outputs: refuse existing ones before any work */
    for (int k = 1; k <= o.variations; k++) {
        char *p = variation_path(o.out, k, o.variations);
        if (!p) {
            cli_error(CMD, "out of memory");
            goto done;
        }
        if (!o.force && cli_file_exists(p)) {
            cli_error(CMD, "%s exists (use --force to overwrite)", p);
            free(p);
            goto done;
        }
        if (!strcmp(p, mpath)) {
            cli_error(CMD, "%s is the model file: refusing to write over it", p);
            free(p);
            goto done;
        }
        free(p);
    }
    if (o.threads > 0)
        limpid_set_threads(o.threads);
    g.o = &o;
    const char *tt = getenv("LIMPID_GENERATE_TEST_TONE");
    g.test_tone = tt && !strcmp(tt, "1");
    g.rate = cfg->sample_rate;
    g.ch = o.stereo ? 2 : 1;
    g.chunk = (size_t)(CHUNK_S * g.rate); /* buffer sizes: the most generate_file uses */
    g.xf = (size_t)(XFADE_S * g.rate);
    if ((st = limpid_ctx_create(&g.ctx, model, 0)) != LIMPID_OK) {
        cli_error(CMD, "cannot set up the model: %s", limpid_strerror(st));
        goto done;
    }
    if (cli_ctx_precision(CMD, g.ctx, o.precision))
        goto done;
    g.buf = calloc((size_t)g.ch, sizeof *g.buf);
    g.tail = calloc((size_t)g.ch, sizeof *g.tail);
    g.head = calloc((size_t)g.ch, sizeof *g.head);
    g.inter = malloc(sizeof(float) * g.chunk * (size_t)g.ch);
    int ok = g.buf && g.tail && g.head && g.inter;
    for (int c = 0; ok && c < g.ch; c++) {
        g.buf[c] = malloc(sizeof(float) * (g.chunk + g.xf));
        g.tail[c] = malloc(sizeof(float) * g.xf);
        g.head[c] = malloc(sizeof(float) * g.xf);
        ok = g.buf[c] && g.tail[c] && g.head[c];
    }
    if (!ok) {
        cli_error(CMD, "out of memory");
        goto done;
    }
    cli_install_stop_signals();
    for (int k = 1; k <= o.variations; k++) {
        char *p = variation_path(o.out, k, o.variations);
        g.have_gain = 0;
        err[0] = '\0';
        int r = p ? generate_file(&g, p, k, o.variations, err, sizeof err) : -1;
        if (r == -2) {
            if (!o.quiet)
                fprintf(stderr, "\n");
            cli_error(CMD, "interrupted: %s not written", p);
            free(p);
            rc = CLI_EXIT_INTERRUPTED;
            goto done;
        }
        if (r) {
            cli_error(CMD, "%s: %s", p ? p : o.out, err[0] ? err : "out of memory");
            free(p);
            goto done;
        }
        if (!o.quiet)
            printf("wrote %s (%s, %.2f s, %d Hz, %s%s)\n", p,
                   want ? want : (n_names ? names[0] : "class 0"), o.seconds, g.rate,
                   g.ch == 2 ? "stereo" : "mono", o.loop ? ", loops" : "");
        if (o.play && k == 1) {
            fflush(stdout);
            char *pargv[4] = {(char *)"play", p, o.quiet ? (char *)"-q" : NULL, NULL};
            int prc = cmd_play(o.quiet ? 3 : 2, pargv);
            if (prc != CLI_EXIT_OK) {
                free(p);
                rc = prc;
                goto done;
            }
        }
        free(p);
    }
    rc = CLI_EXIT_OK;
done:
    for (int c = 0; c < g.ch; c++) {
        if (g.buf)
            free(g.buf[c]);
        if (g.tail)
            free(g.tail[c]);
        if (g.head)
            free(g.head[c]);
    }
    free(g.buf);
    free(g.tail);
    free(g.head);
    free(g.inter);
    limpid_ctx_destroy(g.ctx);
    free_names(names, n_names);
    limpid_model_destroy(model);
    return rc;
}
