/* cmd_denoise.c - `limpid denoise INPUT... (-o FILE | --outdir DIR) [--model rt|hq|FILE] [options]`:
 * denoise audio files with a diffusion model, streaming in bounded memory.
 *
 * Per file (one worker thread per --jobs, each with its own limpid_ctx; the model is shared
 * read-only):
 *
 *   libsndfile read, CHUNK frames at a time (interleaved, NaN/Inf -> 0)
 *     -> libsamplerate down to the model rate (one SRC_STATE for all channels, streaming)
 *     -> model-rate blocks of B samples per channel overlapping by O samples
 *        (B = --block seconds, O = 1 s or B/4 if smaller): limpid_denoise per channel,
 *        the block's tail crossfaded into the next block's head with a raised cosine
 *     -> libsamplerate back up to the file's rate (streaming)
 *     -> libsndfile write to OUT.tmp-XXXXXX (the input's exact format), cut/padded to the
 *        input's exact frame count; fsync; rename to OUT.
 *
 * Memory is the ctx (sized to one block) plus a few block-sized buffers per channel; it does
 * not depend on the file's length.
 *
 * Stream mode: a causal STFT model (no lookahead) with the deterministic DDIM sampler runs
 * through the real-time engine instead (limpid_stream per channel, at the model rate): one
 * continuous pass, no blocks or crossfades, the engine's latency dropped at the start and
 * flushed with zeros at the end. Its output is the plugin's and `limpid live`'s.
 *
 * Alignment: limpid_denoise is offline and aligned (output sample i belongs to input sample
 * i). libsamplerate's sinc converters are aligned too: output sample k lies at input time
 * k/ratio; they only hold samples back until they have seen enough of the future, and give
 * them out when flushed with end_of_input. The streaming converter flushed that way gives
 * exactly the samples of a whole-buffer src_simple, so no delay needs compensating; the last
 * few samples of the round trip (floor rounding of the lengths) are padded with zeros.
 *
 * Linked channels: every channel is denoised with the same sampler seed (the same noise
 * draws, block by block), so the processing is the same on every channel and the stereo
 * image does not wander: identical channels give identical outputs. A truly linked gain
 * (one time-frequency gain computed from all channels and applied to each) needs support in
 * the core and is future work.
 *
 * Seeds: block k of a file uses seed mix(--seed, k), the same for every channel and every
 * file; the output depends only on the file, the model, the options and --threads, never on
 * --jobs or timing.
 *
 * Test hook: with the environment variable LIMPID_DENOISE_IDENTITY=1 the network is skipped
 * (each block is copied through unchanged), so tests can check the resampling, blocking,
 * crossfade and length handling exactly. Never useful otherwise.
 */
#define _GNU_SOURCE /* renameat2 / RENAME_NOREPLACE */
#include "audio.h"
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <samplerate.h>
#include <signal.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define CMD "denoise"
#define CONVERTER SRC_SINC_MEDIUM_QUALITY
#define READ_CHUNK 8192 /* frames per libsndfile read */
#define EMIT_CHUNK 8192 /* frames per up-resampling call */

static void usage(FILE *f)
{
    fprintf(f,
"usage: limpid denoise INPUT... (-o FILE | --outdir DIR) [--model rt|hq|FILE] [options]\n"
"\n"
"Denoise audio files (any format libsndfile reads) with a denoising diffusion model.\n"
"Each output keeps its input's file format, sample format, sample rate, channel count and\n"
"exact length. Channels are processed linked: every channel goes through the same sampler\n"
"noise, so the stereo image stays put. Files stream through in blocks: memory does not\n"
"grow with their length.\n"
"\n"
"Input and output:\n"
"  INPUT             audio files; folders with -r\n"
"  -r, --recursive   process the audio files under each folder INPUT, keeping their\n"
"                    relative paths under --outdir (files libsndfile cannot open are\n"
"                    skipped and counted)\n"
"  -o, --output FILE the output file (exactly one input file)\n"
"  --outdir DIR      write OUT = DIR/NAME (files) or DIR/RELATIVE/PATH (folders)\n"
"  --force           overwrite outputs that exist (never an input file)\n"
"  Outputs that exist are skipped (\"skip\") unless --force: a batch can be rerun after an\n"
"  interruption. Each output is written to OUT.tmp-XXXXXX and renamed when complete.\n"
"\n"
"Model and sampling:\n"
"  -m, --model MODEL rt (default: the shipped real-time model), hq, or a model file\n"
"                    (from 'limpid train')\n"
"  --strength S      0 < S <= 1: how far into the diffusion process to start from the\n"
"                    noisy input; 1 starts from pure noise (default 1)\n"
"  --steps N         network evaluations per block, DDIM sampler (default 4)\n"
"  --sampler NAME    ddim (deterministic, default) or ddpm (ancestral, every step)\n"
"  --seed N          sampler noise (default 0); the same seed gives the same output\n"
"  --block SECONDS   block length (default: 30 s, or shorter where a block's memory would\n"
"                    pass about 128 MB shared by the --jobs, so a run stays under 200 MB;\n"
"                    streamed models need no blocks); blocks overlap by 1 s (a quarter\n"
"                    block when shorter than 4 s), crossfaded; smaller blocks use less memory\n"
"\n"
"Performance:\n"
"  --threads N       matrix-product threads (default: all cores; 1 when --jobs > 1)\n"
CLI_PRECISION_HELP
"                    (offline models; the streaming engine of rt is always fp32)\n"
"  -j, --jobs N      files processed in parallel (default 1)\n"
"  -q, --quiet       no progress, no per-file lines (errors and warnings still print)\n"
"  -h, --help        this help\n"
"\n"
"Progress goes to stderr: an updating line on a terminal (files done/total, the current\n"
"file's percentage, seconds of audio per second), else one line per file. A file that\n"
"fails prints 'limpid: FILE: reason' and the batch goes on. Ctrl-C stops after the\n"
"current block and removes the unfinished outputs.\n"
"\n"
"Exit status: 0 all done (or skipped), 1 some file failed, 2 usage error, 130 interrupted.\n");
}

/* ---- signals ----------------------------------------------------------------------------- */

static mode_t g_umask; /* read once before the workers start: umask() can only be read by
                          setting it, which would race between threads */
static pthread_mutex_t g_open_mu = PTHREAD_MUTEX_INITIALIZER; /* see process_file */


/* ---- options ----------------------------------------------------------------------------- */

typedef struct dn_opts {
    const char *model_arg;
    const char *output; /* -o */
    const char *outdir; /* --outdir */
    int recursive, force, quiet;
    limpid_sample_opts so;
    int threads; /* -1: not given */
    int precision; /* CLI_PREC_AUTO or limpid_precision */
    int jobs;
    double block_s;
    int identity; /* test hook */
    int stream_mode; /* the model streams: run the real-time engine (see the top) */
} dn_opts;

/* ---- planning: inputs -> (input, output) pairs ------------------------------------------- */

typedef struct item {
    char *in;
    char *out;
    const char *error; /* planning problem (static string), or NULL */
} item;

typedef struct plan {
    item *v;
    int n, cap;
    int nonaudio;     /* files under folders that libsndfile did not open */
    int failed;       /* inputs that could not be planned (missing, folder without -r) */
    dev_t *in_dev;    /* (dev, ino) of every input file, to refuse writing to one */
    ino_t *in_ino;
    int n_ino;
    dev_t out_dev;    /* the --outdir folder, skipped when it lies inside an input folder */
    ino_t out_ino;
    int have_out_ino;
} plan;

static int plan_add(plan *p, char *in, char *out)
{
    if (!in || !out) {
        free(in);
        free(out);
        return -1;
    }
    if (p->n == p->cap) {
        int nc = p->cap ? p->cap * 2 : 64;
        item *nv = realloc(p->v, sizeof *nv * (size_t)nc);
        if (!nv) {
            free(in);
            free(out);
            return -1;
        }
        p->v = nv;
        p->cap = nc;
    }
    p->v[p->n++] = (item){in, out, NULL};
    return 0;
}

static void plan_free(plan *p)
{
    for (int i = 0; i < p->n; i++) {
        free(p->v[i].in);
        free(p->v[i].out);
    }
    free(p->v);
    free(p->in_dev);
    free(p->in_ino);
}

/* Names our own temporary files get (NAME.tmp-XXXXXX): never inputs. */
static int is_temp_name(const char *name)
{
    const char *t = strstr(name, ".tmp-");
    return t && strlen(t) == 11;
}

static int cmp_dirent(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int entry_filter(const struct dirent *e) { return e->d_name[0] != '.'; }

/* Files under dir (sorted bytewise, depth first, dot names skipped); rel is the path below
 * the INPUT folder ("" at the top). */
static int walk(plan *p, const char *dir, const char *rel, const char *outdir, int depth)
{
    if (depth > 64) {
        cli_error(NULL, "%s: folders nested too deep (a symbolic-link loop?)", dir);
        p->failed++;
        return 0;
    }
    struct dirent **list;
    int n = scandir(dir, &list, entry_filter, cmp_dirent);
    if (n < 0) {
        cli_error(NULL, "%s: %s", dir, strerror(errno));
        p->failed++;
        return 0;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *name = list[i]->d_name;
        char *path = cli_join_path(dir, name);
        char *r = *rel ? cli_join_path(rel, name) : strdup(name);
        struct stat st;
        if (!path || !r) {
            rc = -1;
        } else if (stat(path, &st) != 0) {
            cli_error(NULL, "%s: %s", path, strerror(errno));
            p->failed++;
        } else if (S_ISDIR(st.st_mode)) {
            if (!(p->have_out_ino && st.st_dev == p->out_dev && st.st_ino == p->out_ino))
                rc = walk(p, path, r, outdir, depth + 1);
        } else if (S_ISREG(st.st_mode) && !is_temp_name(name)) {
            audio_info ai;
            char err[16];
            if (audio_probe(path, &ai, err, sizeof err) != 0) {
                p->nonaudio++;
            } else {
                rc = plan_add(p, path, cli_join_path(outdir, r));
                path = NULL;
            }
        }
        free(path);
        free(r);
        if (rc)
            break;
    }
    for (int i = 0; i < n; i++)
        free(list[i]);
    free(list);
    return rc;
}

static const char *base_name(const char *path)
{
    size_t l = strlen(path);
    while (l > 1 && path[l - 1] == '/')
        l--;
    const char *s = path + l;
    while (s > path && s[-1] != '/')
        s--;
    return s;
}

static item *g_sort_items; /* qsort has no context argument; planning is single-threaded */
static int cmp_out(const void *a, const void *b)
{
    const int ia = *(const int *)a, ib = *(const int *)b;
    int c = strcmp(g_sort_items[ia].out, g_sort_items[ib].out);
    return c ? c : (ia > ib) - (ia < ib);
}

/* Inputs -> items. Returns 0, or -1 when out of memory. Problems with single inputs are
 * printed and counted in p->failed. */
static int make_plan(plan *p, const char *const *inputs, int n_in, const dn_opts *o)
{
    memset(p, 0, sizeof *p);
    struct stat st;
    if (o->outdir && stat(o->outdir, &st) == 0 && S_ISDIR(st.st_mode)) {
        p->out_dev = st.st_dev;
        p->out_ino = st.st_ino;
        p->have_out_ino = 1;
    }
    for (int i = 0; i < n_in; i++) {
        const char *in = inputs[i];
        if (stat(in, &st) != 0) {
            cli_error(NULL, "%s: %s", in, strerror(errno));
            p->failed++;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            if (!o->recursive) {
                cli_error(NULL, "%s: is a folder (use -r to process the files under it)", in);
                p->failed++;
                continue;
            }
            if (walk(p, in, "", o->outdir, 0))
                return -1;
            continue;
        }
        char *out = o->output ? strdup(o->output) : cli_join_path(o->outdir, base_name(in));
        if (plan_add(p, strdup(in), out))
            return -1;
    }
    /* every input's identity, for the "never write to an input" check (and the model's,
     * added by the caller) */
    p->in_dev = malloc(sizeof(dev_t) * (size_t)(p->n + 1));
    p->in_ino = malloc(sizeof(ino_t) * (size_t)(p->n + 1));
    if (!p->in_dev || !p->in_ino)
        return -1;
    for (int i = 0; i < p->n; i++)
        if (stat(p->v[i].in, &st) == 0) {
            p->in_dev[p->n_ino] = st.st_dev;
            p->in_ino[p->n_ino++] = st.st_ino;
        }
    /* two inputs with the same output: the later ones fail */
    if (p->n > 1) {
        int *idx = malloc(sizeof(int) * (size_t)p->n);
        if (!idx)
            return -1;
        for (int i = 0; i < p->n; i++)
            idx[i] = i;
        g_sort_items = p->v;
        qsort(idx, (size_t)p->n, sizeof *idx, cmp_out);
        for (int i = 1; i < p->n; i++)
            if (strcmp(p->v[idx[i]].out, p->v[idx[i - 1]].out) == 0)
                p->v[idx[i]].error = "its output is also the output of an earlier input";
        free(idx);
    }
    return 0;
}

/* Whether the path is (a link to) one of the inputs. */
static int is_an_input(const plan *p, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    for (int i = 0; i < p->n_ino; i++)
        if (p->in_dev[i] == st.st_dev && p->in_ino[i] == st.st_ino)
            return 1;
    return 0;
}

/* mkdir -p for the folder part of path. 0 or -1 (errno). */
static int make_parent_dirs(const char *path)
{
    char *d = strdup(path);
    if (!d)
        return -1;
    char *slash = strrchr(d, '/');
    if (!slash || slash == d) {
        free(d);
        return 0;
    }
    *slash = '\0';
    for (char *q = d + 1; ; q++) {
        if (*q == '/' || *q == '\0') {
            char c = *q;
            *q = '\0';
            if (mkdir(d, 0777) != 0 && errno != EEXIST) {
                int e = errno;
                free(d);
                errno = e;
                return -1;
            }
            *q = c;
            if (c == '\0')
                break;
        }
    }
    struct stat st;
    int ok = stat(d, &st) == 0 && S_ISDIR(st.st_mode);
    free(d);
    if (!ok) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* ---- progress ---------------------------------------------------------------------------- */

typedef struct slot {
    const char *name; /* file being processed, NULL when idle */
    double frac;      /* 0..1 */
    double audio_s;   /* seconds of input audio done in this file */
} slot;

typedef struct progress {
    pthread_mutex_t mu;
    int tty, quiet;
    int total, done, failed, skipped;
    double t0, last_draw;
    double audio_done; /* seconds of audio of finished files */
    int line_open;
    int nslots;
    slot *slots;
} progress;

static void prog_clear(progress *p)
{
    if (p->line_open) {
        fputs("\r\033[K", stderr);
        p->line_open = 0;
    }
}

/* Draw the updating line (terminal only). Caller holds mu. */
static void prog_draw(progress *p, int force)
{
    if (!p->tty || p->quiet)
        return;
    double now = cli_now();
    if (!force && now - p->last_draw < 0.2)
        return;
    p->last_draw = now;
    double audio = p->audio_done;
    for (int i = 0; i < p->nslots; i++)
        audio += p->slots[i].audio_s;
    double el = now - p->t0;
    char line[256];
    int k = snprintf(line, sizeof line, "[%d/%d]", p->done, p->total);
    for (int i = 0; i < p->nslots && k < (int)sizeof line; i++) {
        if (!p->slots[i].name)
            continue;
        const char *b = base_name(p->slots[i].name);
        k += snprintf(line + k, sizeof line - (size_t)k, " %.24s %3.0f%%", b,
                      100.0 * p->slots[i].frac);
    }
    if (k < (int)sizeof line && el > 0.5)
        k += snprintf(line + k, sizeof line - (size_t)k, "  %.1f audio-s/s", audio / el);
    if (k > 79) { /* keep it on one 80-column line */
        line[76] = line[77] = line[78] = '.';
        line[79] = '\0';
    }
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    p->line_open = 1;
}

/* ---- one file ---------------------------------------------------------------------------- */

typedef struct job {
    int id;
    const dn_opts *o;
    const limpid_model *model;
    const plan *pl;
    progress *pg;
    limpid_ctx *ctx;
    size_t B, O; /* block and overlap at the model rate */
} job;

typedef struct stream {
    job *j;
    const char *in_path;
    int ch;
    int file_rate, model_rate;
    double ratio; /* model_rate / file_rate */
    SRC_STATE *down, *up;
    float **mbuf, **dbuf, **tail; /* [ch][B], [ch][B], [ch][O] */
    size_t mlen;
    int have_tail;
    uint64_t block;
    float *ibuf;  /* [READ_CHUNK * ch] interleaved */
    float *dsbuf; /* [dcap * ch] */
    size_t dcap;
    float *ebuf;  /* [EMIT_CHUNK * ch] */
    float *obuf;  /* [ocap * ch] */
    size_t ocap;
    SNDFILE *out;
    int64_t frames_read, written, expect; /* expect: the header's frame count (progress) */
    limpid_stream **rt;  /* [ch] real-time engines (stream mode), else NULL */
    size_t rt_skip;      /* model-rate output samples still to drop (the engine's latency) */
    char err[512];
} stream;

static uint64_t mix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void stream_free(stream *s)
{
    if (s->rt) {
        for (int c = 0; c < s->ch; c++)
            limpid_stream_destroy(s->rt[c]);
        free(s->rt);
    }
    if (s->down)
        src_delete(s->down);
    if (s->up)
        src_delete(s->up);
    for (int c = 0; c < s->ch; c++) {
        if (s->mbuf)
            free(s->mbuf[c]);
        if (s->dbuf)
            free(s->dbuf[c]);
        if (s->tail)
            free(s->tail[c]);
    }
    free(s->mbuf);
    free(s->dbuf);
    free(s->tail);
    free(s->ibuf);
    free(s->dsbuf);
    free(s->ebuf);
    free(s->obuf);
}

static int stream_init(stream *s, job *j, int ch, int file_rate, int model_rate)
{
    s->j = j;
    s->ch = ch;
    s->file_rate = file_rate;
    s->model_rate = model_rate;
    s->ratio = (double)model_rate / (double)file_rate;
    int e = 0;
    if (file_rate != model_rate) {
        s->down = src_new(CONVERTER, ch, &e);
        if (s->down)
            s->up = src_new(CONVERTER, ch, &e);
        if (!s->down || !s->up) {
            snprintf(s->err, sizeof s->err, "cannot start the resampler for %d channels at "
                     "%d Hz: %s", ch, file_rate, src_strerror(e));
            return -1;
        }
    }
    s->mbuf = calloc((size_t)ch, sizeof(float *));
    s->dbuf = calloc((size_t)ch, sizeof(float *));
    s->tail = calloc((size_t)ch, sizeof(float *));
    if (!s->mbuf || !s->dbuf || !s->tail)
        goto nomem;
    for (int c = 0; c < ch; c++) {
        s->mbuf[c] = malloc(sizeof(float) * j->B);
        s->dbuf[c] = malloc(sizeof(float) * j->B);
        s->tail[c] = malloc(sizeof(float) * j->O);
        if (!s->mbuf[c] || !s->dbuf[c] || !s->tail[c])
            goto nomem;
    }
    /* converter outputs per call: the input chunk times the ratio, plus slack */
    s->dcap = (size_t)ceil(READ_CHUNK * s->ratio) + 256;
    s->ocap = (size_t)ceil(EMIT_CHUNK / s->ratio) + 256;
    s->ibuf = malloc(sizeof(float) * READ_CHUNK * (size_t)ch);
    s->dsbuf = malloc(sizeof(float) * s->dcap * (size_t)ch);
    s->ebuf = malloc(sizeof(float) * EMIT_CHUNK * (size_t)ch);
    s->obuf = malloc(sizeof(float) * s->ocap * (size_t)ch);
    if (!s->ibuf || !s->dsbuf || !s->ebuf || !s->obuf)
        goto nomem;
    if (j->o->stream_mode) {
        /* one engine per channel with the same seed: linked processing */
        s->rt = calloc((size_t)ch, sizeof *s->rt);
        if (!s->rt)
            goto nomem;
        limpid_stream_opts so;
        limpid_stream_opts_default(&so);
        so.sample_rate = model_rate;
        so.max_steps = so.steps = j->o->so.steps;
        so.strength = j->o->so.start;
        so.seed = j->o->so.seed;
        for (int c = 0; c < ch; c++) {
            limpid_status st = limpid_stream_create(&s->rt[c], j->model, &so);
            if (st != LIMPID_OK) {
                snprintf(s->err, sizeof s->err, "cannot start the streaming engine: %s",
                         limpid_strerror(st));
                return -1;
            }
        }
        s->rt_skip = (size_t)limpid_stream_latency(s->rt[0]);
    }
    return 0;
nomem:
    snprintf(s->err, sizeof s->err, "out of memory");
    return -1;
}

static void report_progress(stream *s)
{
    progress *pg = s->j->pg;
    if (!pg->tty || pg->quiet)
        return;
    pthread_mutex_lock(&pg->mu);
    slot *sl = &pg->slots[s->j->id];
    double f = s->expect > 0 ? (double)s->written / (double)s->expect : 0.0;
    sl->frac = f > 1.0 ? 1.0 : f;
    sl->audio_s = (double)s->written / s->file_rate;
    prog_draw(pg, 0);
    pthread_mutex_unlock(&pg->mu);
}

/* Write n interleaved frames at the file rate, never past the frames read so far (which at
 * the end of the input is the input's exact length). */
static int write_out(stream *s, const float *x, size_t n)
{
    int64_t room = s->frames_read - s->written;
    if ((int64_t)n > room)
        n = room > 0 ? (size_t)room : 0;
    if (n == 0)
        return 0;
    sf_count_t w = sf_writef_float(s->out, x, (sf_count_t)n);
    if (w != (sf_count_t)n) {
        snprintf(s->err, sizeof s->err, "cannot write the output: %s", sf_strerror(s->out));
        return -1;
    }
    s->written += (int64_t)n;
    return 0;
}

/* Stream n interleaved frames (n may be 0 with flush) through the converter st at ratio,
 * handing each piece of output (at most ocap frames in obuf) to sink; sink's non-zero
 * return (-1 error, -2 interrupted) stops and is returned. */
static int resample_into(stream *s, SRC_STATE *st, double ratio, float *obuf, size_t ocap,
                         const float *x, size_t n, int flush,
                         int (*sink)(stream *, const float *, size_t))
{
    size_t used = 0;
    for (;;) {
        SRC_DATA d;
        memset(&d, 0, sizeof d);
        d.data_in = x + used * (size_t)s->ch;
        d.input_frames = (long)(n - used);
        d.data_out = obuf;
        d.output_frames = (long)ocap;
        d.src_ratio = ratio;
        d.end_of_input = flush;
        int e = src_process(st, &d);
        if (e) {
            snprintf(s->err, sizeof s->err, "resampling failed: %s", src_strerror(e));
            return -1;
        }
        used += (size_t)d.input_frames_used;
        int rc = sink(s, obuf, (size_t)d.output_frames_gen);
        if (rc)
            return rc;
        if (used >= n && (!flush || d.output_frames_gen == 0))
            return 0;
        if (d.input_frames_used == 0 && d.output_frames_gen == 0 && !flush)
            return 0;
    }
}

/* Up-resample n interleaved model-rate frames (n may be 0 with flush) and write them. */
static int up_and_write(stream *s, const float *x, size_t n, int flush)
{
    if (!s->up)
        return write_out(s, x, n);
    return resample_into(s, s->up, 1.0 / s->ratio, s->obuf, s->ocap, x, n, flush, write_out);
}

/* Send dbuf[c][a..b) on: interleave, resample, write. */
static int emit(stream *s, size_t a, size_t b)
{
    while (a < b) {
        size_t n = b - a < EMIT_CHUNK ? b - a : EMIT_CHUNK;
        for (size_t i = 0; i < n; i++)
            for (int c = 0; c < s->ch; c++)
                s->ebuf[i * (size_t)s->ch + (size_t)c] = s->dbuf[c][a + i];
        if (up_and_write(s, s->ebuf, n, 0))
            return -1;
        a += n;
    }
    report_progress(s);
    return 0;
}

/* Denoise the block in mbuf[.][0..mlen), crossfade with the previous block, emit what is
 * final, keep the overlap for the next block. */
static int process_block(stream *s, int last)
{
    job *j = s->j;
    const size_t len = s->mlen, O = j->O;
    limpid_sample_opts so = j->o->so;
    so.seed = mix64(j->o->so.seed ^ mix64(s->block + 0x6C696D70ull)); /* same for every channel */
    for (int c = 0; c < s->ch; c++) {
        if (j->o->identity) {
            memcpy(s->dbuf[c], s->mbuf[c], len * sizeof(float));
            continue;
        }
        limpid_status st = limpid_denoise(j->ctx, s->mbuf[c], len, s->dbuf[c], &so);
        if (st != LIMPID_OK) {
            snprintf(s->err, sizeof s->err, "denoising failed: %s", limpid_strerror(st));
            return -1;
        }
    }
    if (s->have_tail) {
        /* raised-cosine crossfade over the O samples both blocks cover (len > O here: a
         * block is only started once a sample past the previous block exists) */
        size_t m = O < len ? O : len;
        for (int c = 0; c < s->ch; c++)
            for (size_t i = 0; i < m; i++) {
                float w = 0.5f - 0.5f * cosf((float)M_PI * ((float)i + 0.5f) / (float)O);
                s->dbuf[c][i] = w * s->dbuf[c][i] + (1.0f - w) * s->tail[c][i];
            }
    }
    if (last)
        return emit(s, 0, len);
    if (emit(s, 0, len - O))
        return -1;
    for (int c = 0; c < s->ch; c++) {
        memcpy(s->tail[c], s->dbuf[c] + len - O, O * sizeof(float));
        memmove(s->mbuf[c], s->mbuf[c] + len - O, O * sizeof(float));
    }
    s->mlen = O;
    s->have_tail = 1;
    s->block++;
    return 0;
}

/* Stream mode: n interleaved model-rate frames (x NULL: zeros) through the engines; the
 * first `latency` outputs are dropped so output sample i belongs to input sample i. */
static int push_rt(stream *s, const float *x, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (cli_stop_signal)
            return -2;
        size_t k = n - i < s->j->B ? n - i : s->j->B;
        for (int c = 0; c < s->ch; c++) {
            float *m = s->mbuf[c];
            for (size_t t = 0; t < k; t++)
                m[t] = x ? x[(i + t) * (size_t)s->ch + (size_t)c] : 0.0f;
            limpid_stream_process(s->rt[c], m, s->dbuf[c], k);
        }
        size_t a = s->rt_skip < k ? s->rt_skip : k;
        s->rt_skip -= a;
        if (emit(s, a, k))
            return -1;
        i += k;
    }
    return 0;
}

/* Append n interleaved model-rate frames to the block buffer, processing full blocks. A
 * full block is processed only when a further sample is waiting, so the last block always
 * holds at least one sample no earlier block emitted. */
static int push_model(stream *s, const float *x, size_t n)
{
    if (s->rt)
        return push_rt(s, x, n);
    size_t i = 0;
    while (i < n) {
        if (s->mlen == s->j->B) {
            if (cli_stop_signal)
                return -2;
            if (process_block(s, 0))
                return -1;
        }
        size_t k = s->j->B - s->mlen;
        if (k > n - i)
            k = n - i;
        for (int c = 0; c < s->ch; c++) {
            float *m = s->mbuf[c] + s->mlen;
            for (size_t t = 0; t < k; t++)
                m[t] = x[(i + t) * (size_t)s->ch + (size_t)c];
        }
        s->mlen += k;
        i += k;
    }
    return 0;
}

/* Down-resample n interleaved file-rate frames (or flush) and push them. */
static int down_and_push(stream *s, const float *x, size_t n, int flush)
{
    if (!s->down)
        return push_model(s, x, n);
    return resample_into(s, s->down, s->ratio, s->dsbuf, s->dcap, x, n, flush, push_model);
}

/* The whole file: read -> ... -> write. 0, -1 (s->err) or -2 (interrupted). */
static int run_stream(stream *s, SNDFILE *in, int *nonfinite)
{
    for (;;) {
        if (cli_stop_signal)
            return -2;
        sf_count_t got = sf_readf_float(in, s->ibuf, READ_CHUNK);
        if (got <= 0) {
            if (sf_error(in) != SF_ERR_NO_ERROR) {
                snprintf(s->err, sizeof s->err, "cannot read: %s", sf_strerror(in));
                return -1;
            }
            break;
        }
        size_t m = (size_t)got * (size_t)s->ch;
        for (size_t i = 0; i < m; i++)
            if (!isfinite(s->ibuf[i])) {
                s->ibuf[i] = 0.0f;
                *nonfinite = 1;
            }
        s->frames_read += got;
        int rc = down_and_push(s, s->ibuf, (size_t)got, 0);
        if (rc)
            return rc;
    }
    if (s->down) {
        int rc = down_and_push(s, s->ibuf, 0, 1);
        if (rc)
            return rc;
    }
    if (s->rt) {
        /* flush: the last `latency` samples come out while zeros go in */
        int rc = push_rt(s, NULL, (size_t)limpid_stream_latency(s->rt[0]));
        if (rc)
            return rc;
    } else if (s->mlen > 0) {
        if (s->have_tail && s->mlen <= s->j->O) {
            /* nothing new since the last block (cannot happen, see push_model): its tail
             * is final as it is */
            for (int c = 0; c < s->ch; c++)
                memcpy(s->dbuf[c], s->tail[c], s->mlen * sizeof(float));
            if (emit(s, 0, s->mlen))
                return -1;
        } else if (process_block(s, 1)) {
            return -1;
        }
    }
    if (up_and_write(s, s->ebuf, 0, 1))
        return -1;
    /* the round trip through two converters can come out a few samples short: pad */
    memset(s->ibuf, 0, sizeof(float) * READ_CHUNK * (size_t)s->ch);
    while (s->written < s->frames_read) {
        int64_t k = s->frames_read - s->written;
        if (k > READ_CHUNK)
            k = READ_CHUNK;
        if (write_out(s, s->ibuf, (size_t)k))
            return -1;
    }
    return 0;
}

/* Extension -> libsndfile major format, 0 when unknown (for a warning only). */
static int major_for_ext(const char *path)
{
    static const struct { const char *ext; int major; } t[] = {
        {"wav", SF_FORMAT_WAV},   {"wave", SF_FORMAT_WAV},  {"flac", SF_FORMAT_FLAC},
        {"aiff", SF_FORMAT_AIFF}, {"aif", SF_FORMAT_AIFF},  {"aifc", SF_FORMAT_AIFF},
        {"ogg", SF_FORMAT_OGG},   {"oga", SF_FORMAT_OGG},   {"opus", SF_FORMAT_OGG},
        {"caf", SF_FORMAT_CAF},   {"au", SF_FORMAT_AU},     {"snd", SF_FORMAT_AU},
        {"w64", SF_FORMAT_W64},   {"rf64", SF_FORMAT_RF64}, {"mp3", SF_FORMAT_MPEG},
        {NULL, 0}};
    const char *b = base_name(path);
    const char *dot = strrchr(b, '.');
    if (!dot)
        return 0;
    for (int i = 0; t[i].ext; i++)
        if (strcasecmp(dot + 1, t[i].ext) == 0)
            return t[i].major;
    return 0;
}

/* Message helpers that keep the progress line intact. */
static void file_error(progress *pg, const char *file, const char *why)
{
    pthread_mutex_lock(&pg->mu);
    prog_clear(pg);
    cli_error(NULL, "%s: %s", file, why);
    prog_draw(pg, 1);
    pthread_mutex_unlock(&pg->mu);
}

static void file_warn(progress *pg, const char *file, const char *why)
{
    pthread_mutex_lock(&pg->mu);
    prog_clear(pg);
    cli_warn(NULL, "%s: %s", file, why);
    prog_draw(pg, 1);
    pthread_mutex_unlock(&pg->mu);
}

static void file_skip(progress *pg, const char *in, const char *out)
{
    if (pg->quiet)
        return;
    pthread_mutex_lock(&pg->mu);
    prog_clear(pg);
    fprintf(stderr, "skip %s (%s exists; --force overwrites)\n", in, out);
    prog_draw(pg, 1);
    pthread_mutex_unlock(&pg->mu);
}

enum { RES_OK = 0, RES_SKIP = 1, RES_FAIL = -1, RES_STOP = -2, RES_NOT_RUN = 99 };

static int rename_into_place(const char *tmp, const char *out, int force)
{
    if (force)
        return rename(tmp, out);
#ifdef RENAME_NOREPLACE
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, out, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
#endif
    /* no atomic no-replace rename here: link fails when out exists */
    if (link(tmp, out) != 0)
        return -1;
    unlink(tmp);
    return 0;
}

static int process_file(job *j, const item *it, double *audio_s)
{
    const dn_opts *o = j->o;
    progress *pg = j->pg;
    *audio_s = 0;
    if (it->error) {
        file_error(pg, it->in, it->error);
        return RES_FAIL;
    }
    /* never write to an input, even with --force */
    if (is_an_input(j->pl, it->out)) {
        char why[1024];
        snprintf(why, sizeof why, "the output '%s' is an input file: refusing to overwrite it",
                 it->out);
        file_error(pg, it->in, why);
        return RES_FAIL;
    }
    struct stat st;
    if (stat(it->out, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            char why[1024];
            snprintf(why, sizeof why, "the output '%s' is a folder", it->out);
            file_error(pg, it->in, why);
            return RES_FAIL;
        }
        if (!o->force) {
            file_skip(pg, it->in, it->out);
            return RES_SKIP;
        }
    }

    SF_INFO si;
    memset(&si, 0, sizeof si);
    char why[1024];
    /* libsndfile keeps the reason an sf_open failed in a global: one opening at a time */
    pthread_mutex_lock(&g_open_mu);
    SNDFILE *in = sf_open(it->in, SFM_READ, &si);
    if (!in)
        audio_open_failure(it->in, why, sizeof why);
    pthread_mutex_unlock(&g_open_mu);
    if (!in) {
        file_error(pg, it->in, why);
        return RES_FAIL;
    }
    /* a lying header (absurd rate or channel count) or a cut file: refuse rather than
     * write a shorter output */
    if (audio_check_format(si.samplerate, si.channels, why, sizeof why) ||
        audio_check_complete(it->in, why, sizeof why)) {
        sf_close(in);
        file_error(pg, it->in, why);
        return RES_FAIL;
    }
    SF_INFO oi;
    memset(&oi, 0, sizeof oi);
    oi.samplerate = si.samplerate;
    oi.channels = si.channels;
    oi.format = si.format;
    if (!sf_format_check(&oi)) {
        sf_close(in);
        file_error(pg, it->in, "libsndfile cannot write this file's format");
        return RES_FAIL;
    }
    int em = major_for_ext(it->out), im = si.format & SF_FORMAT_TYPEMASK;
    if (im == SF_FORMAT_WAVEX || im == SF_FORMAT_RF64) /* WAV variants, named .wav too */
        im = em == SF_FORMAT_RF64 ? SF_FORMAT_RF64 : SF_FORMAT_WAV;
    if (em && em != im) {
        SF_FORMAT_INFO fi;
        memset(&fi, 0, sizeof fi);
        fi.format = si.format & SF_FORMAT_TYPEMASK;
        sf_command(NULL, SFC_GET_FORMAT_INFO, &fi, sizeof fi);
        snprintf(why, sizeof why, "written in the input's format (%s), not the one its name suggests",
                 fi.name ? fi.name : "?");
        file_warn(pg, it->out, why);
    }

    if (make_parent_dirs(it->out) != 0) {
        snprintf(why, sizeof why, "cannot make the folder of '%s': %s", it->out, strerror(errno));
        sf_close(in);
        file_error(pg, it->in, why);
        return RES_FAIL;
    }
    size_t ol = strlen(it->out);
    char *tmp = malloc(ol + 16);
    if (!tmp) {
        sf_close(in);
        file_error(pg, it->in, "out of memory");
        return RES_FAIL;
    }
    memcpy(tmp, it->out, ol);
    memcpy(tmp + ol, ".tmp-XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(why, sizeof why, "cannot create '%s': %s", tmp, strerror(errno));
        free(tmp);
        sf_close(in);
        file_error(pg, it->in, why);
        return RES_FAIL;
    }
    /* mkstemp makes the file 0600; give it the usual mode (rw-r--r-- less the umask) */
    fchmod(fd, 0666 & ~g_umask);

    stream s;
    memset(&s, 0, sizeof s);
    s.in_path = it->in;
    s.expect = si.frames > 0 && si.frames < ((sf_count_t)1 << 50) ? si.frames : 0;
    int rc = RES_OK, nonfinite = 0;
    const limpid_config *cfg = limpid_model_config(j->model);
    pthread_mutex_lock(&g_open_mu);
    s.out = sf_open_fd(fd, SFM_WRITE, &oi, SF_TRUE);
    if (!s.out)
        /* libsndfile has closed fd already (close_desc = SF_TRUE closes it on failure too) */
        snprintf(s.err, sizeof s.err, "cannot write '%s': %s", tmp, sf_strerror(NULL));
    pthread_mutex_unlock(&g_open_mu);
    if (!s.out) {
        rc = RES_FAIL;
    } else {
        /* no PEAK chunk: it carries a time stamp, which would make reruns differ */
        sf_command(s.out, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE);
        sf_command(s.out, SFC_SET_CLIPPING, NULL, SF_TRUE);
        for (int k = SF_STR_FIRST; k <= SF_STR_LAST; k++) { /* title, artist, ... */
            const char *v = sf_get_string(in, k);
            if (v)
                sf_set_string(s.out, k, v);
        }
        if (stream_init(&s, j, si.channels, si.samplerate, cfg->sample_rate) != 0)
            rc = RES_FAIL;
    }
    if (rc == RES_OK) {
        pthread_mutex_lock(&pg->mu);
        pg->slots[j->id].name = it->in;
        pg->slots[j->id].frac = 0;
        pg->slots[j->id].audio_s = 0;
        pthread_mutex_unlock(&pg->mu);
        int r = run_stream(&s, in, &nonfinite);
        rc = r == 0 ? RES_OK : r == -2 ? RES_STOP : RES_FAIL;
    }
    sf_close(in);
    if (nonfinite)
        file_warn(pg, it->in, "NaN or infinite samples, replaced by 0");
    if (s.out) {
        if (rc == RES_OK && s.frames_read < s.expect &&
            (si.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_MPEG) { /* MPEG: an estimate */
            snprintf(s.err, sizeof s.err, "it ends after %lld of the %lld frames its header "
                     "announces (truncated?)", (long long)s.frames_read, (long long)s.expect);
            rc = RES_FAIL;
        }
        if (rc == RES_OK && s.written != s.frames_read) {
            snprintf(s.err, sizeof s.err, "wrote %lld of %lld frames", (long long)s.written,
                     (long long)s.frames_read);
            rc = RES_FAIL;
        }
        if (rc == RES_OK)
            sf_write_sync(s.out);
        if (sf_close(s.out) != 0 && rc == RES_OK) {
            snprintf(s.err, sizeof s.err, "cannot finish '%s'", tmp);
            rc = RES_FAIL;
        }
    }
    if (rc == RES_OK && rename_into_place(tmp, it->out, o->force) != 0) {
        if (errno == EEXIST) { /* appeared while we worked */
            unlink(tmp);
            free(tmp);
            stream_free(&s);
            file_skip(pg, it->in, it->out);
            return RES_SKIP;
        }
        snprintf(s.err, sizeof s.err, "cannot rename '%s' to '%s': %s", tmp, it->out,
                 strerror(errno));
        rc = RES_FAIL;
    }
    if (rc != RES_OK)
        unlink(tmp);
    free(tmp);
    *audio_s = (double)s.frames_read / si.samplerate;
    if (rc == RES_FAIL)
        file_error(pg, it->in, s.err);
    else if (rc == RES_STOP)
        file_error(pg, it->in, "interrupted; the unfinished output was removed");
    stream_free(&s);
    return rc;
}

/* ---- workers ----------------------------------------------------------------------------- */

typedef struct shared {
    pthread_mutex_t mu;
    int next;
    const plan *pl;
    int *result; /* per item */
} shared;

typedef struct worker {
    pthread_t th;
    job j;
    shared *sh;
    int started;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    job *j = &w->j;
    progress *pg = j->pg;
    for (;;) {
        pthread_mutex_lock(&w->sh->mu);
        int i = cli_stop_signal ? j->pl->n : w->sh->next++;
        pthread_mutex_unlock(&w->sh->mu);
        if (i >= j->pl->n)
            break;
        const item *it = &j->pl->v[i];
        double t0 = cli_now(), audio;
        int r = process_file(j, it, &audio);
        double el = cli_now() - t0;
        w->sh->result[i] = r;
        pthread_mutex_lock(&pg->mu);
        pg->slots[j->id].name = NULL;
        pg->slots[j->id].audio_s = 0;
        if (r != RES_STOP) {
            pg->done++;
            if (r == RES_OK)
                pg->audio_done += audio;
        }
        if (r == RES_OK && !pg->quiet) {
            prog_clear(pg);
            fprintf(stderr, "%s -> %s (%.1f s of audio, %.1f audio-s/s)\n", it->in, it->out,
                    audio, el > 0 ? audio / el : 0.0);
        }
        prog_draw(pg, 1);
        pthread_mutex_unlock(&pg->mu);
    }
    return NULL;
}

/* ---- the command ------------------------------------------------------------------------- */

enum {
    OPT_OUTPUT = 1, OPT_OUTDIR, OPT_MODEL, OPT_RECURSIVE, OPT_STRENGTH, OPT_STEPS, OPT_SAMPLER,
    OPT_SEED, OPT_THREADS, OPT_JOBS, OPT_FORCE, OPT_QUIET, OPT_BLOCK, OPT_HELP, OPT_PRECISION
};

static const cli_opt opts[] = {
    {"output", 'o', 1, OPT_OUTPUT},     {"outdir", 0, 1, OPT_OUTDIR},
    {"model", 'm', 1, OPT_MODEL},       {"recursive", 'r', 0, OPT_RECURSIVE},
    {"strength", 0, 1, OPT_STRENGTH},   {"steps", 0, 1, OPT_STEPS},
    {"sampler", 0, 1, OPT_SAMPLER},     {"seed", 0, 1, OPT_SEED},
    {"threads", 0, 1, OPT_THREADS},     {"jobs", 'j', 1, OPT_JOBS},
    {"force", 0, 0, OPT_FORCE},         {"quiet", 'q', 0, OPT_QUIET},
    {"block", 0, 1, OPT_BLOCK},         {"help", 'h', 0, OPT_HELP},
    {"precision", 0, 1, OPT_PRECISION}, {0, 0, 0, 0}};

int cmd_denoise(int argc, char **argv)
{
    dn_opts o;
    memset(&o, 0, sizeof o);
    limpid_sample_opts_default(&o.so);
    o.so.sampler = LIMPID_SAMPLER_DDIM;
    o.so.steps = 4;
    o.so.start = 1.0f;
    o.so.eta = 0.0f;
    o.so.seed = 0;
    o.threads = -1;
    o.precision = CLI_PREC_AUTO;
    o.jobs = 1;
    o.block_s = 0; /* default: see the block sizing below */
    const char *env = getenv("LIMPID_DENOISE_IDENTITY");
    o.identity = env && strcmp(env, "1") == 0;

    const char **inputs = calloc((size_t)argc + 1, sizeof(char *));
    if (!inputs) {
        cli_error(CMD, "out of memory");
        return CLI_EXIT_FAIL;
    }
    int n_in = 0;
    cli_args a;
    cli_args_init(&a, CMD, argc, argv);
    const char *val;
    int id;
    long long iv;
    double dv;
    int rc = CLI_EXIT_USAGE;
    while ((id = cli_args_next(&a, opts, &val)) != CLI_END) {
        switch (id) {
        case CLI_ERROR:
            goto out;
        case CLI_POSITIONAL:
            inputs[n_in++] = val;
            break;
        case OPT_OUTPUT:
            o.output = val;
            break;
        case OPT_OUTDIR:
            o.outdir = val;
            break;
        case OPT_MODEL:
            o.model_arg = val;
            break;
        case OPT_RECURSIVE:
            o.recursive = 1;
            break;
        case OPT_STRENGTH:
            if (cli_opt_double(&a, val, 0.0, 1.0, &dv))
                goto out;
            if (!(dv > 0.0)) {
                cli_usage_error(CMD, "--strength must be above 0 (got '%s')", val);
                goto out;
            }
            o.so.start = (float)dv;
            break;
        case OPT_STEPS:
            if (cli_opt_int(&a, val, 1, 100000, &iv))
                goto out;
            o.so.steps = (int)iv;
            break;
        case OPT_SAMPLER:
            if (strcmp(val, "ddim") == 0)
                o.so.sampler = LIMPID_SAMPLER_DDIM;
            else if (strcmp(val, "ddpm") == 0)
                o.so.sampler = LIMPID_SAMPLER_DDPM;
            else {
                cli_usage_error(CMD, "bad value '%s' for --sampler (expected ddim or ddpm)", val);
                goto out;
            }
            break;
        case OPT_SEED:
            if (cli_opt_int(&a, val, 0, INT64_MAX, &iv))
                goto out;
            o.so.seed = (uint64_t)iv;
            break;
        case OPT_THREADS:
            if (cli_opt_int(&a, val, 1, 1024, &iv))
                goto out;
            o.threads = (int)iv;
            break;
        case OPT_PRECISION:
            if (cli_opt_precision(&a, val, &o.precision))
                goto out;
            break;
        case OPT_JOBS:
            if (cli_opt_int(&a, val, 1, 256, &iv))
                goto out;
            o.jobs = (int)iv;
            break;
        case OPT_BLOCK:
            if (cli_opt_double(&a, val, 0.25, 600.0, &dv))
                goto out;
            o.block_s = dv;
            break;
        case OPT_FORCE:
            o.force = 1;
            break;
        case OPT_QUIET:
            o.quiet = 1;
            break;
        case OPT_HELP:
            usage(stdout);
            rc = CLI_EXIT_OK;
            goto out;
        }
    }
    if (n_in == 0) {
        cli_usage_error(CMD, "no input files given");
        goto out;
    }
    if (!o.model_arg) /* the real-time model is the default, as in the plugin */
        o.model_arg = "rt";
    if (!o.output == !o.outdir) {
        cli_usage_error(CMD, o.output ? "give either -o or --outdir, not both"
                                      : "say where the output goes: -o FILE or --outdir DIR");
        goto out;
    }
    if (o.output) {
        struct stat st;
        if (n_in > 1 || o.recursive || (stat(inputs[0], &st) == 0 && S_ISDIR(st.st_mode))) {
            cli_usage_error(CMD, "-o takes exactly one input file; use --outdir for several "
                                 "files or folders");
            goto out;
        }
    }

    /* the model */
    char mpath[4096], err[1024];
    if (cli_resolve_model(o.model_arg, cli_denoise_models, mpath, sizeof mpath, err, sizeof err)) {
        cli_error(NULL, "%s", err);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    limpid_model *model = NULL;
    err[0] = '\0';
    limpid_status st = limpid_model_load_file(&model, mpath, err, sizeof err);
    if (st != LIMPID_OK) {
        cli_load_error(NULL, "cannot load model", "cannot load model", mpath, err, st);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    const limpid_config *cfg = limpid_model_config(model);
    if (cfg->task != LIMPID_TASK_DENOISE) {
        cli_error(NULL, "%s: not a denoising model (it generates textures)", mpath);
        limpid_model_destroy(model);
        rc = CLI_EXIT_FAIL;
        goto out;
    }

    plan pl;
    if (make_plan(&pl, inputs, n_in, &o)) {
        cli_error(CMD, "out of memory");
        plan_free(&pl);
        limpid_model_destroy(model);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    struct stat mst; /* the model file is an input too: never written over */
    if (stat(mpath, &mst) == 0) {
        pl.in_dev[pl.n_ino] = mst.st_dev; /* room for n + 1 */
        pl.in_ino[pl.n_ino++] = mst.st_ino;
    }
    if (pl.nonaudio && !o.quiet)
        fprintf(stderr, "limpid: %d file%s under the input folders %s not audio and %s skipped\n",
                pl.nonaudio, pl.nonaudio == 1 ? "" : "s", pl.nonaudio == 1 ? "is" : "are",
                pl.nonaudio == 1 ? "was" : "were");

    int jobs = o.jobs < pl.n ? o.jobs : (pl.n > 0 ? pl.n : 1);
    /* parallel files: one BLAS thread each, or they fight over the cores */
    limpid_set_threads(jobs > 1 ? 1 : (o.threads > 0 ? o.threads : 0));
    if (jobs > 1 && o.threads > 1)
        cli_warn(CMD, "--threads %d ignored: each of the %d jobs uses 1 thread", o.threads, jobs);

    /* block and overlap at the model rate */
    const int rate = cfg->sample_rate, hop = limpid_config_frame_hop(cfg);
    size_t B = (size_t)(o.block_s * rate);
    if (o.block_s == 0) {
        /* Default: 30 s, or less where the blocks' scratch memory would pass about 128 MB
         * shared by the jobs, so that a run stays under 200 MB whatever the options (with
         * the model, the sampler's extra buffers, a second channel and the file buffers:
         * 256 MB per job gave 225-261 MB peaks for rt at --steps 16 or --sampler ddpm,
         * mono and stereo). Per frame the runtime holds about 8*C floats of network workspace and
         * 9*Cx of feature planes (cond, x, out, pred, zeros, 3 sampler, features), plus two
         * hops of audio: waveform models (a frame per sample) get blocks of about 10 s.
         * A band-resolved stack runs its network on every band: per band 8*C floats of
         * workspace, its conditioning rows (2 (2 R + 1) + 2 bands), 3 output rows, its x_t
         * row and 3 rows of band levels. */
        double per_frame = 4.0 * (8.0 * cfg->channels +
                                  9.0 * limpid_config_feature_channels(cfg) + 2.0 * hop);
        double budget = 128e6 / jobs;
        if (cfg->bands > 0)
            per_frame += 4.0 * cfg->bands *
                         (8.0 * cfg->channels + 2.0 * (2 * cfg->band_context + 1) +
                          2.0 * cfg->bands + 3.0 + 1.0 + 3.0);
        double frames = budget / per_frame, secs = frames * hop / rate;
        B = (size_t)((secs < 30.0 ? secs : 30.0) * rate);
        if (B < (size_t)rate) /* never below 1 s (overlap 0.25 s) */
            B = (size_t)rate;
    }
    size_t O = (size_t)rate; /* 1 s */
    if (O > B / 4)
        O = B / 4;
    if (O < 1)
        O = 1;
    /* A causal STFT model with the deterministic sampler runs through the real-time engine
     * (limpid_stream, what the plugin and live mode run): one continuous pass over the file,
     * so the output equals the plugin's, sample for sample at the model's rate. Blocks are
     * then only the chunk size of that pass (1 s). */
    if (!o.identity && o.so.sampler == LIMPID_SAMPLER_DDIM && o.so.eta == 0.0f &&
        o.so.steps <= 8) {
        limpid_stream_opts so;
        limpid_stream_opts_default(&so);
        so.sample_rate = rate;
        so.max_steps = so.steps = o.so.steps;
        so.strength = o.so.start;
        limpid_stream *probe = NULL;
        if (limpid_stream_create(&probe, model, &so) == LIMPID_OK) {
            o.stream_mode = 1;
            B = (size_t)rate;
            O = 1;
        }
        limpid_stream_destroy(probe);
    }
    int max_frames = (int)((B + (size_t)hop - 1) / (size_t)hop);

    progress pg;
    memset(&pg, 0, sizeof pg);
    pthread_mutex_init(&pg.mu, NULL);
    pg.tty = isatty(STDERR_FILENO);
    pg.quiet = o.quiet;
    pg.total = pl.n;
    pg.t0 = cli_now();
    pg.nslots = jobs;
    pg.slots = calloc((size_t)jobs, sizeof(slot));
    shared sh;
    memset(&sh, 0, sizeof sh);
    pthread_mutex_init(&sh.mu, NULL);
    sh.pl = &pl;
    sh.result = malloc(sizeof(int) * ((size_t)pl.n + 1));
    for (int i = 0; sh.result && i < pl.n; i++)
        sh.result[i] = RES_NOT_RUN;
    worker *w = calloc((size_t)jobs, sizeof(worker));
    int setup_failed = !pg.slots || !sh.result || !w;
    for (int i = 0; i < jobs && !setup_failed; i++) {
        w[i].sh = &sh;
        w[i].j = (job){.id = i, .o = &o, .model = model, .pl = &pl, .pg = &pg, .B = B, .O = O};
        if (!o.identity && !o.stream_mode && pl.n > 0) {
            st = limpid_ctx_create(&w[i].j.ctx, model, max_frames);
            if (st != LIMPID_OK) {
                cli_error(CMD, "cannot set up the model: %s", limpid_strerror(st));
                setup_failed = 1;
            } else if (cli_ctx_precision(CMD, w[i].j.ctx, o.precision)) {
                setup_failed = 1;
            }
        }
    }
    g_umask = umask(0);
    umask(g_umask);
    cli_install_stop_signals();
    int n_ok = 0, n_skip = 0, n_fail = pl.failed, stopped = 0;
    if (!setup_failed) {
        if (jobs == 1) {
            worker_main(&w[0]);
        } else {
            for (int i = 0; i < jobs; i++)
                w[i].started = pthread_create(&w[i].th, NULL, worker_main, &w[i]) == 0;
            for (int i = 0; i < jobs; i++)
                if (w[i].started)
                    pthread_join(w[i].th, NULL);
            int any = 0;
            for (int i = 0; i < jobs; i++)
                any |= w[i].started;
            if (!any) /* no thread could start: do it here */
                worker_main(&w[0]);
        }
        for (int i = 0; i < pl.n; i++) {
            int r = sh.result[i];
            if (r == RES_OK)
                n_ok++;
            else if (r == RES_SKIP)
                n_skip++;
            else if (r == RES_FAIL)
                n_fail++;
            else
                stopped = 1;
        }
    } else {
        n_fail++;
    }
    prog_clear(&pg);
    if (cli_stop_signal)
        stopped = 1;
    if (!o.quiet) {
        double el = cli_now() - pg.t0;
        fprintf(stderr, "%d denoised, %d skipped, %d failed%s (%.1f s of audio in %.1f s)\n",
                n_ok, n_skip, n_fail, stopped ? ", interrupted" : "", pg.audio_done, el);
    }
    for (int i = 0; i < jobs && w; i++)
        limpid_ctx_destroy(w[i].j.ctx);
    free(w);
    free(sh.result);
    free(pg.slots);
    pthread_mutex_destroy(&sh.mu);
    pthread_mutex_destroy(&pg.mu);
    plan_free(&pl);
    limpid_model_destroy(model);
    rc = stopped ? CLI_EXIT_INTERRUPTED : n_fail ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
    free(inputs);
    return rc;
}
