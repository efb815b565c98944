/* cmd_eval.c - `limpid eval --clean DIR --enhanced DIR [--noisy DIR] [--json FILE]`: score
 * enhanced audio against clean references, file by file and per group.
 *
 * Files pair by relative path: every audio file under --clean (sorted, depth first, names
 * starting with '.' skipped, files libsndfile cannot open ignored) is looked up at the same
 * relative path under --enhanced (and --noisy). Multichannel files are mixed to mono (the
 * mean of the channels); the other files are resampled to the clean file's rate when their
 * rate differs; when lengths differ the common length (from the start) is compared, with a
 * warning. Groups are the first-level subfolders of --clean ("." for files directly in it),
 * and "all". Measures: metrics.h.
 *
 * `limpid eval --texture --reference DIR --generated DIR [--json FILE]` instead compares
 * generated sound textures with recordings by auditory texture statistics (texstats.h):
 * every file of either folder is read as mono at TEX_RATE; each generated file's distance
 * is its mean distance to the reference clips. For scale it also reports the same figure
 * for Gaussian noise with the references' mean power spectrum (one clip per reference, at
 * most TEX_NOISE_CLIPS, each as long as its reference, fixed seeds) and the references'
 * own leave-one-out spread (each clip's mean distance to the other clips).
 */
#include "audio.h"
#include "cli.h"
#include "metrics.h"
#include "texstats.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CMD "eval"

static void usage(FILE *f)
{
    fprintf(f,
"usage: limpid eval --clean DIR --enhanced DIR [--noisy DIR] [--json FILE]\n"
"       limpid eval --texture --reference DIR --generated DIR [--json FILE]\n"
"\n"
"Score enhanced (denoised) audio against clean references. Files pair by their path\n"
"relative to each folder (DIR may also be a single file, with files for the others).\n"
"Per file:\n"
"  SNR      10 log10(|clean|^2 / |clean - enhanced|^2), dB\n"
"  SI-SDR   scale-invariant SDR (zero-mean signals), dB\n"
"  SNRi, SI-SDRi  improvement over the --noisy file (enhanced minus noisy), dB\n"
"  STOI     short-time objective intelligibility (Taal et al. 2011), 0..1\n"
"  ESTOI    extended STOI (Jensen & Taal 2016), -1..1, usually 0..1\n"
"SNR and SI-SDR are capped at +-200 dB (identical signals give 200). STOI and ESTOI need\n"
"about 0.4 s of non-silent speech and read n/a on shorter files. Multichannel files are\n"
"mixed to mono; other rates are resampled to the clean file's; different lengths are\n"
"compared over the common length (with a warning).\n"
"Averages follow per group (the first-level subfolders of --clean) and for all files.\n"
"\n"
"With --texture: judge generated sound textures (rain, wind, fire...) against recordings\n"
"by auditory texture statistics (McDermott & Simoncelli 2011). Every audio file under\n"
"--reference and --generated (folders or single files) is mixed to mono, resampled to\n"
"20 kHz (at most the first 300 s, at least 0.5 s) and analysed: 30 ERB-spaced cochlear\n"
"bands, compressed (^0.3) Hilbert envelopes at 400 Hz, and per band the spectral level,\n"
"the envelope's coefficient of variation, skewness and kurtosis, the cross-band envelope\n"
"correlations and the envelope's modulation power in 10 bands from 0.5 to 200 Hz. The\n"
"distance between two clips is the RMS over those 6 groups of each group's RMS difference\n"
"in units of a fixed scale (the typical difference between two 5-s stretches of one\n"
"ambience recording); it ignores the overall gain. About 1: two stretches of one\n"
"recording; about 3: different recordings. Printed per generated file (its mean distance\n"
"to the reference clips, with the 6 group terms) and on average, next to:\n"
"  spectrum-matched noise baseline  the same figure for Gaussian noise with the references'\n"
"                   mean power spectrum (fixed seeds): what the spectrum alone achieves\n"
"  reference spread the references' own leave-one-out distance (each clip to the others):\n"
"                   what a new recording of the same texture would score\n"
"A good generator scores near the spread and well below the noise baseline. For noise-like\n"
"textures (steady wind, distant traffic) the baseline itself comes close to the spread.\n"
"\n"
"Options:\n"
"  --clean DIR      clean references\n"
"  --enhanced DIR   the audio to score\n"
"  --noisy DIR      the unprocessed noisy audio (adds the improvements)\n"
"  --texture        texture mode (with --reference and --generated)\n"
"  --reference DIR  recordings of the texture (texture mode)\n"
"  --generated DIR  the generated audio to judge (texture mode)\n"
"  --json FILE      also write every number as JSON (per file and per group; n/a is null)\n"
"  -q, --quiet      no table on stdout (with --json)\n"
"  -h, --help       this help\n"
"\n"
"Exit status: 0 done, 1 a file was missing or unreadable (the others are still scored),\n"
"2 usage error.\n");
}

/* ---- pairing ------------------------------------------------------------------------------ */

typedef struct entry {
    char *rel;
    char group[128];
    int ok;       /* scored */
    int has_noisy;
    int rate;
    size_t n;     /* compared samples */
    double snr, si_sdr, stoi, estoi;
    double n_snr, n_si_sdr, n_stoi, n_estoi; /* noisy vs clean */
} entry;

typedef struct elist {
    entry *v;
    int n, cap;
} elist;

static int add_entry(elist *l, char *rel)
{
    if (!rel)
        return -1;
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 64;
        entry *nv = realloc(l->v, sizeof *nv * (size_t)nc);
        if (!nv) {
            free(rel);
            return -1;
        }
        l->v = nv;
        l->cap = nc;
    }
    entry *e = &l->v[l->n++];
    memset(e, 0, sizeof *e);
    e->rel = rel;
    const char *slash = strchr(rel, '/');
    if (slash)
        snprintf(e->group, sizeof e->group, "%.*s", (int)(slash - rel), rel);
    else
        snprintf(e->group, sizeof e->group, ".");
    e->snr = e->si_sdr = e->stoi = e->estoi = NAN;
    e->n_snr = e->n_si_sdr = e->n_stoi = e->n_estoi = NAN;
    return 0;
}

static int cmp_dirent(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int entry_filter(const struct dirent *e) { return e->d_name[0] != '.'; }

/* Audio files under root/rel. -1 only when out of memory; unreadable folders are reported
 * and counted in *bad. */
static int walk(elist *l, const char *root, const char *rel, int depth, int *bad)
{
    char *dir = *rel ? cli_join_path(root, rel) : strdup(root);
    if (!dir)
        return -1;
    if (depth > 64) {
        cli_error(NULL, "%s: folders nested too deep (a symbolic-link loop?)", dir);
        (*bad)++;
        free(dir);
        return 0;
    }
    struct dirent **list;
    int n = scandir(dir, &list, entry_filter, cmp_dirent);
    if (n < 0) {
        cli_error(NULL, "%s: %s", dir, strerror(errno));
        (*bad)++;
        free(dir);
        return 0;
    }
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        char *r = *rel ? cli_join_path(rel, list[i]->d_name) : strdup(list[i]->d_name);
        char *path = cli_join_path(dir, list[i]->d_name);
        struct stat st;
        if (!r || !path) {
            rc = -1;
        } else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            rc = walk(l, root, r, depth + 1, bad);
        } else if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            audio_info ai;
            char err[16];
            if (audio_probe(path, &ai, err, sizeof err) == 0) {
                rc = add_entry(l, r);
                r = NULL;
            }
        }
        free(r);
        free(path);
    }
    for (int i = 0; i < n; i++)
        free(list[i]);
    free(list);
    free(dir);
    return rc;
}

/* ---- scoring ------------------------------------------------------------------------------ */

/* Path of rel under root; root itself when it is a file (single-pair mode). */
static char *path_of(const char *root, const char *rel, int single)
{
    return single ? strdup(root) : cli_join_path(root, rel);
}

/* Read `path` as mono at `rate` (0: its own) into *x; complains naming the file. */
static int read_mono(const char *path, int rate, float **x, size_t *n, int *rate_out)
{
    char err[1024];
    if (audio_read_mono(path, rate, x, n, rate_out, err, sizeof err) != 0) {
        cli_error(NULL, "%s", err);
        return -1;
    }
    for (size_t i = 0; i < *n; i++) /* NaN/Inf would poison every sum */
        if (!isfinite((*x)[i]))
            (*x)[i] = 0.0f;
    return 0;
}

static void score(const float *c, const float *y, size_t n, int rate, double *snr,
                  double *sisdr, double *stoi, double *estoi)
{
    *snr = metric_snr(c, y, n);
    *sisdr = metric_si_sdr(c, y, n);
    if (metric_stoi(c, y, n, rate, stoi, estoi) != 0)
        *stoi = *estoi = NAN;
}

/* 0 scored, -1 failed (reported). */
static int eval_entry(entry *e, const char *clean, const char *enh, const char *noisy,
                      int single)
{
    char *pc = path_of(clean, e->rel, single), *pe = path_of(enh, e->rel, single);
    char *pn = noisy ? path_of(noisy, e->rel, single) : NULL;
    float *xc = NULL, *xe = NULL, *xn = NULL;
    size_t nc = 0, ne = 0, nn = 0;
    int rate = 0, rc = -1;
    if (!pc || !pe || (noisy && !pn)) {
        cli_error(CMD, "out of memory");
        goto done;
    }
    if (!cli_file_exists(pe)) {
        cli_error(NULL, "%s: no enhanced file for '%s'", pe, e->rel);
        goto done;
    }
    if (read_mono(pc, 0, &xc, &nc, &rate) || read_mono(pe, rate, &xe, &ne, NULL))
        goto done;
    size_t n = nc < ne ? nc : ne;
    if (nc != ne)
        cli_warn(NULL, "%s: %zu samples, the clean file %zu (at %d Hz): comparing the first %zu",
                 pe, ne, nc, rate, n);
    if (pn) {
        if (!cli_file_exists(pn)) {
            cli_warn(NULL, "%s: no noisy file for '%s': no improvement figures", pn, e->rel);
        } else if (read_mono(pn, rate, &xn, &nn, NULL) == 0) {
            if (nn != nc)
                cli_warn(NULL, "%s: %zu samples, the clean file %zu (at %d Hz)", pn, nn, nc,
                         rate);
            if (nn < n)
                n = nn;
            e->has_noisy = 1;
        } else {
            goto done;
        }
    }
    e->rate = rate;
    e->n = n;
    score(xc, xe, n, rate, &e->snr, &e->si_sdr, &e->stoi, &e->estoi);
    if (e->has_noisy)
        score(xc, xn, n, rate, &e->n_snr, &e->n_si_sdr, &e->n_stoi, &e->n_estoi);
    e->ok = 1;
    rc = 0;
done:
    free(xc);
    free(xe);
    free(xn);
    free(pc);
    free(pe);
    free(pn);
    return rc;
}

/* ---- averages and output ------------------------------------------------------------------ */

enum { M_SNR, M_SISDR, M_SNRI, M_SISDRI, M_STOI, M_ESTOI, M_STOII, M_ESTOII, N_M };
static const char *const m_json[N_M] = {"snr", "si_sdr", "snr_i", "si_sdr_i",
                                        "stoi", "estoi", "stoi_i", "estoi_i"};

static void values(const entry *e, double *v)
{
    v[M_SNR] = e->snr;
    v[M_SISDR] = e->si_sdr;
    v[M_STOI] = e->stoi;
    v[M_ESTOI] = e->estoi;
    v[M_SNRI] = e->has_noisy ? e->snr - e->n_snr : NAN;
    v[M_SISDRI] = e->has_noisy ? e->si_sdr - e->n_si_sdr : NAN;
    v[M_STOII] = e->has_noisy ? e->stoi - e->n_stoi : NAN;
    v[M_ESTOII] = e->has_noisy ? e->estoi - e->n_estoi : NAN;
}

typedef struct group {
    const char *name;
    int files;
    double sum[N_M];
    int cnt[N_M];
} group;

static void group_add(group *g, const entry *e)
{
    double v[N_M];
    values(e, v);
    g->files++;
    for (int k = 0; k < N_M; k++)
        if (isfinite(v[k])) {
            g->sum[k] += v[k];
            g->cnt[k]++;
        }
}

static double group_mean(const group *g, int k) { return g->cnt[k] ? g->sum[k] / g->cnt[k] : NAN; }

static void print_num(FILE *f, double v, int width, int prec)
{
    if (isfinite(v))
        fprintf(f, " %*.*f", width, prec, v);
    else
        fprintf(f, " %*s", width, "n/a");
}

static void print_row(FILE *f, const char *name, int namew, const double *v, int noisy)
{
    fprintf(f, "%-*s", namew, name);
    print_num(f, v[M_SNR], 8, 2);
    print_num(f, v[M_SISDR], 8, 2);
    if (noisy) {
        print_num(f, v[M_SNRI], 8, 2);
        print_num(f, v[M_SISDRI], 8, 2);
    }
    print_num(f, v[M_STOI], 7, 4);
    print_num(f, v[M_ESTOI], 7, 4);
    fputc('\n', f);
}

/* A JSON string (paths: escapes and control bytes; other bytes as they are). */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.6f", v);
    else
        fputs("null", f);
}

static void json_metrics(FILE *f, const double *v, int noisy)
{
    int first = 1;
    for (int k = 0; k < N_M; k++) {
        int imp = k == M_SNRI || k == M_SISDRI || k == M_STOII || k == M_ESTOII;
        if (imp && !noisy)
            continue;
        fprintf(f, "%s\"%s\": ", first ? "" : ", ", m_json[k]);
        json_num(f, v[k]);
        first = 0;
    }
}


/* Close the memory stream f (whose buffer is *buf, *len) and write its text to path
 * atomically; frees the buffer. 0 or -1. */
static int json_commit(FILE *f, char **buf, size_t *len, const char *path)
{
    if (fclose(f) != 0) {
        free(*buf);
        return -1;
    }
    int rc = cli_write_file_atomic(path, *buf, *len);
    free(*buf);
    return rc;
}

static int write_json(const char *path, const elist *l, const group *g, int ng, const char *clean,
                      const char *enh, const char *noisy)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return -1;
    fputs("{\n  \"clean\": ", f);
    json_str(f, clean);
    fputs(",\n  \"enhanced\": ", f);
    json_str(f, enh);
    fputs(",\n  \"noisy\": ", f);
    if (noisy)
        json_str(f, noisy);
    else
        fputs("null", f);
    fputs(",\n  \"files\": [", f);
    int first = 1;
    for (int i = 0; i < l->n; i++) {
        const entry *e = &l->v[i];
        fprintf(f, "%s\n    {\"file\": ", first ? "" : ",");
        first = 0;
        json_str(f, e->rel);
        fputs(", \"group\": ", f);
        json_str(f, e->group);
        if (!e->ok) {
            fputs(", \"error\": true}", f);
            continue;
        }
        fprintf(f, ", \"rate\": %d, \"samples\": %zu, ", e->rate, e->n);
        double v[N_M];
        values(e, v);
        json_metrics(f, v, noisy != NULL);
        if (e->has_noisy) {
            fputs(", \"noisy\": {\"snr\": ", f);
            json_num(f, e->n_snr);
            fputs(", \"si_sdr\": ", f);
            json_num(f, e->n_si_sdr);
            fputs(", \"stoi\": ", f);
            json_num(f, e->n_stoi);
            fputs(", \"estoi\": ", f);
            json_num(f, e->n_estoi);
            fputc('}', f);
        }
        fputc('}', f);
    }
    fputs("\n  ],\n  \"groups\": {", f);
    for (int i = 0; i < ng; i++) {
        fprintf(f, "%s\n    ", i ? "," : "");
        json_str(f, g[i].name);
        fprintf(f, ": {\"files\": %d, ", g[i].files);
        double v[N_M];
        for (int k = 0; k < N_M; k++)
            v[k] = group_mean(&g[i], k);
        json_metrics(f, v, noisy != NULL);
        fputc('}', f);
    }
    fputs("\n  }\n}\n", f);
    return json_commit(f, &buf, &len, path);
}

/* ---- texture mode ---------------------------------------------------------------------------- */

#define TEX_NOISE_CLIPS 16 /* spectrum-matched noise clips of the baseline (at most) */
#define TEX_NOISE_SEED 0x6e6f697365ULL

typedef struct tex_file {
    char *rel;
    int ok;
    double seconds;
    tex_stats st;
    /* mean distance to the reference clips (leave-one-out for a reference): total, groups */
    double d, g[TEX_NGROUPS];
    size_t n; /* analysed samples (at TEX_RATE) */
} tex_file;

typedef struct tex_set {
    tex_file *v;
    int n;
} tex_set;

/* Audio files of root (a folder, walked like --clean, or a single file). -1 when out of
 * memory; unreadable folders are reported and counted in *bad. */
static int tex_list(const char *root, tex_set *s, int *single, int *bad)
{
    struct stat st;
    elist l = {0};
    memset(s, 0, sizeof *s);
    if (stat(root, &st) != 0) {
        cli_error(NULL, "%s: %s", root, strerror(errno));
        (*bad)++;
        return 0;
    }
    *single = !S_ISDIR(st.st_mode);
    if (*single) {
        const char *b = strrchr(root, '/');
        if (add_entry(&l, strdup(b ? b + 1 : root)))
            return -1;
    } else if (walk(&l, root, "", 0, bad)) {
        for (int i = 0; i < l.n; i++)
            free(l.v[i].rel);
        free(l.v);
        return -1;
    }
    if (l.n == 0 && !*bad) {
        cli_error(NULL, "%s: no audio files", root);
        (*bad)++;
    }
    s->v = calloc((size_t)l.n + 1, sizeof *s->v);
    if (!s->v) {
        for (int i = 0; i < l.n; i++)
            free(l.v[i].rel);
        free(l.v);
        return -1;
    }
    for (int i = 0; i < l.n; i++) {
        s->v[i].rel = l.v[i].rel;
        s->v[i].d = NAN;
        for (int g = 0; g < TEX_NGROUPS; g++)
            s->v[i].g[g] = NAN;
    }
    s->n = l.n;
    free(l.v);
    return 0;
}

static void tex_set_free(tex_set *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->v[i].rel);
    free(s->v);
}

/* Statistics of one file; with psd, its analysed samples are also added to psd (the
 * references' mean spectrum). 0, or -1 (reported, naming the file). */
static int tex_file_stats(tex_file *f, const char *root, int single, tex_psd *psd)
{
    char *path = path_of(root, f->rel, single);
    float *x = NULL;
    size_t n = 0;
    int rc = -1;
    char err[256];
    if (!path) {
        cli_error(CMD, "out of memory");
        return -1;
    }
    if (read_mono(path, TEX_RATE, &x, &n, NULL))
        goto done;
    const size_t nmax = (size_t)(TEX_MAX_SECONDS * TEX_RATE);
    if (n > nmax) {
        cli_warn(NULL, "%s: %.0f s long: texture statistics use the first %.0f s", path,
                 (double)n / TEX_RATE, TEX_MAX_SECONDS);
        n = nmax;
    }
    if (tex_compute(x, n, &f->st, err, sizeof err) != 0) {
        cli_error(NULL, "%s: %s", path, err);
        goto done;
    }
    if (psd && tex_psd_add(psd, x, n) != 0) {
        cli_error(CMD, "out of memory");
        goto done;
    }
    f->seconds = f->st.seconds;
    f->n = n;
    f->ok = 1;
    rc = 0;
done:
    free(x);
    free(path);
    return rc;
}

/* f's mean distance (total and groups) to the usable reference clips, leaving out clip
 * `skip` (-1: none). NaN when there is no other clip. */
static void tex_mean_distance(tex_file *f, const tex_set *ref, int skip)
{
    double sum = 0.0, gs[TEX_NGROUPS] = {0}, g[TEX_NGROUPS];
    int cnt = 0;
    for (int j = 0; j < ref->n; j++) {
        if (j == skip || !ref->v[j].ok)
            continue;
        sum += tex_distance(&f->st, &ref->v[j].st, g);
        for (int k = 0; k < TEX_NGROUPS; k++)
            gs[k] += g[k];
        cnt++;
    }
    f->d = cnt ? sum / cnt : NAN;
    for (int k = 0; k < TEX_NGROUPS; k++)
        f->g[k] = cnt ? gs[k] / cnt : NAN;
}

/* Mean over the usable files of d and the groups; the count of files in *cnt. */
static void tex_average(const tex_file *v, int n, double *d, double *g, int *cnt)
{
    int c = 0;
    *d = 0.0;
    for (int k = 0; k < TEX_NGROUPS; k++)
        g[k] = 0.0;
    for (int i = 0; i < n; i++) {
        if (!v[i].ok || !isfinite(v[i].d))
            continue;
        *d += v[i].d;
        for (int k = 0; k < TEX_NGROUPS; k++)
            g[k] += v[i].g[k];
        c++;
    }
    *cnt = c;
    *d = c ? *d / c : NAN;
    for (int k = 0; k < TEX_NGROUPS; k++)
        g[k] = c ? g[k] / c : NAN;
}

static void tex_print_row(const char *name, int namew, double d, const double *g)
{
    printf("%-*s", namew, name);
    print_num(stdout, d, 9, 3);
    for (int k = 0; k < TEX_NGROUPS; k++)
        print_num(stdout, g[k], 7, 2);
    putchar('\n');
}

static void tex_json_groups(FILE *f, double d, const double *g)
{
    fputs("\"distance\": ", f);
    json_num(f, d);
    fputs(", \"groups\": {", f);
    for (int k = 0; k < TEX_NGROUPS; k++) {
        fprintf(f, "%s\"%s\": ", k ? ", " : "", tex_group_name(k));
        json_num(f, g[k]);
    }
    fputc('}', f);
}

static void tex_json_files(FILE *f, const tex_set *s)
{
    for (int i = 0; i < s->n; i++) {
        const tex_file *e = &s->v[i];
        fprintf(f, "%s\n    {\"file\": ", i ? "," : "");
        json_str(f, e->rel);
        if (!e->ok) {
            fputs(", \"error\": true}", f);
            continue;
        }
        fprintf(f, ", \"seconds\": %.3f, ", e->seconds);
        tex_json_groups(f, e->d, e->g);
        fputc('}', f);
    }
}

typedef struct tex_summary {
    int cnt;
    double d, g[TEX_NGROUPS];
} tex_summary;

static int tex_write_json(const char *path, const char *refdir, const char *gendir,
                          const tex_set *ref, const tex_set *gen, const tex_summary *sum)
{
    static const char *const names[3] = {"generated_mean", "noise_baseline",
                                         "reference_spread"};
    static const char *const counts[3] = {"files", "clips", "clips"};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return -1;
    fputs("{\n  \"mode\": \"texture\",\n  \"reference\": ", f);
    json_str(f, refdir);
    fputs(",\n  \"generated\": ", f);
    json_str(f, gendir);
    fprintf(f, ",\n  \"rate\": %d,\n  \"bands\": %d,\n  \"modulation_bands\": %d,\n"
               "  \"group_scales\": {",
            TEX_RATE, TEX_NBANDS, TEX_NMOD);
    for (int k = 0; k < TEX_NGROUPS; k++)
        fprintf(f, "%s\"%s\": %g", k ? ", " : "", tex_group_name(k), tex_group_scale(k));
    fputs("},\n  \"files\": [", f);
    tex_json_files(f, gen);
    fputs("\n  ],\n  \"references\": [", f);
    tex_json_files(f, ref);
    fputs("\n  ]", f);
    for (int i = 0; i < 3; i++) {
        fprintf(f, ",\n  \"%s\": {\"%s\": %d, ", names[i], counts[i], sum[i].cnt);
        tex_json_groups(f, sum[i].d, sum[i].g);
        fputc('}', f);
    }
    fputs("\n}\n", f);
    return json_commit(f, &buf, &len, path);
}

static int eval_texture(const char *refdir, const char *gendir, const char *json, int quiet)
{
    tex_set ref, gen = {0};
    tex_file *noise = NULL;
    int bad = 0, rsingle = 0, gsingle = 0, rc = CLI_EXIT_FAIL, nref = 0, nnoise = 0;
    tex_summary sum[3]; /* generated, noise, spread */
    tex_psd psd;
    tex_psd_init(&psd);
    if (tex_list(refdir, &ref, &rsingle, &bad) || tex_list(gendir, &gen, &gsingle, &bad)) {
        cli_error(CMD, "out of memory");
        goto done;
    }
    for (int i = 0; i < ref.n; i++)
        if (tex_file_stats(&ref.v[i], refdir, rsingle, &psd) == 0)
            nref++;
        else
            bad++;
    if (nref == 0) {
        if (ref.n > 0)
            cli_error(NULL, "%s: no usable reference file", refdir);
        goto done;
    }
    for (int i = 0; i < gen.n; i++)
        if (tex_file_stats(&gen.v[i], gendir, gsingle, NULL) == 0)
            tex_mean_distance(&gen.v[i], &ref, -1);
        else
            bad++;
    for (int i = 0; i < ref.n; i++)
        if (ref.v[i].ok)
            tex_mean_distance(&ref.v[i], &ref, i);

    /* baseline: Gaussian noise with the references' mean power spectrum, one clip per
     * reference (the first TEX_NOISE_CLIPS), as long as it */
    noise = calloc(TEX_NOISE_CLIPS, sizeof *noise);
    if (!noise) {
        cli_error(CMD, "out of memory");
        goto done;
    }
    for (int i = 0; i < ref.n && nnoise < TEX_NOISE_CLIPS; i++) {
        if (!ref.v[i].ok)
            continue;
        tex_file *z = &noise[nnoise];
        char err[256];
        float *x = malloc(sizeof(float) * ref.v[i].n);
        if (!x || tex_psd_noise(&psd, TEX_NOISE_SEED + (uint64_t)nnoise, x, ref.v[i].n) != 0) {
            free(x);
            cli_error(CMD, "out of memory");
            goto done;
        }
        int r = tex_compute(x, ref.v[i].n, &z->st, err, sizeof err);
        free(x);
        if (r != 0) { /* cannot happen for a usable reference's length; say so if it does */
            cli_error(CMD, "spectrum-matched noise like %s: %s", ref.v[i].rel, err);
            goto done;
        }
        z->ok = 1;
        z->seconds = z->st.seconds;
        tex_mean_distance(z, &ref, -1);
        nnoise++;
    }
    tex_average(gen.v, gen.n, &sum[0].d, sum[0].g, &sum[0].cnt);
    tex_average(noise, nnoise, &sum[1].d, sum[1].g, &sum[1].cnt);
    tex_average(ref.v, ref.n, &sum[2].d, sum[2].g, &sum[2].cnt);

    if (!quiet) {
        int namew = 34;
        for (int i = 0; i < gen.n; i++)
            if (gen.v[i].ok && (int)strlen(gen.v[i].rel) > namew)
                namew = (int)strlen(gen.v[i].rel);
        if (namew > 60)
            namew = 60;
        printf("texture statistics: distance to the %d reference clip%s (mean; lower is closer)\n",
               nref, nref == 1 ? "" : "s");
        printf("%-*s %9s", namew, "file", "distance");
        for (int k = 0; k < TEX_NGROUPS; k++)
            printf(" %7s", tex_group_name(k));
        putchar('\n');
        for (int i = 0; i < gen.n; i++)
            if (gen.v[i].ok)
                tex_print_row(gen.v[i].rel, namew, gen.v[i].d, gen.v[i].g);
        char name[128];
        snprintf(name, sizeof name, "generated (%d file%s)", sum[0].cnt,
                 sum[0].cnt == 1 ? "" : "s");
        tex_print_row(name, namew, sum[0].d, sum[0].g);
        snprintf(name, sizeof name, "spectrum-matched noise (%d clip%s)", sum[1].cnt,
                 sum[1].cnt == 1 ? "" : "s");
        tex_print_row(name, namew, sum[1].d, sum[1].g);
        snprintf(name, sizeof name, "reference spread (leave-one-out)");
        tex_print_row(name, namew, sum[2].d, sum[2].g);
        char v[3][32];
        for (int k = 0; k < 3; k++)
            if (isfinite(sum[k].d))
                snprintf(v[k], sizeof v[k], "%.3f", sum[k].d);
            else
                snprintf(v[k], sizeof v[k], "n/a");
        printf("generated: %s, spectrum-matched noise baseline: %s, reference spread: %s%s\n",
               v[0], v[1], v[2], nref < 2 ? " (needs 2 reference clips)" : "");
        fflush(stdout);
    }
    rc = bad || sum[0].cnt == 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    if (json && tex_write_json(json, refdir, gendir, &ref, &gen, sum) != 0) {
        cli_error(NULL, "%s: %s", json, strerror(errno));
        rc = CLI_EXIT_FAIL;
    }
done:
    tex_set_free(&ref);
    tex_set_free(&gen);
    free(noise);
    return rc;
}

/* ---- the command -------------------------------------------------------------------------- */

int cmd_eval(int argc, char **argv)
{
    enum { OPT_CLEAN = 1, OPT_ENH, OPT_NOISY, OPT_JSON, OPT_QUIET, OPT_HELP, OPT_TEXTURE,
           OPT_REF, OPT_GEN };
    static const cli_opt opts[] = {{"clean", 0, 1, OPT_CLEAN}, {"enhanced", 0, 1, OPT_ENH},
                                   {"noisy", 0, 1, OPT_NOISY}, {"json", 0, 1, OPT_JSON},
                                   {"quiet", 'q', 0, OPT_QUIET}, {"help", 'h', 0, OPT_HELP},
                                   {"texture", 0, 0, OPT_TEXTURE},
                                   {"reference", 0, 1, OPT_REF},
                                   {"generated", 0, 1, OPT_GEN}, {0, 0, 0, 0}};
    const char *clean = NULL, *enh = NULL, *noisy = NULL, *json = NULL, *val;
    const char *ref = NULL, *gen = NULL;
    int quiet = 0, texture = 0, id;
    cli_args a;
    cli_args_init(&a, CMD, argc, argv);
    while ((id = cli_args_next(&a, opts, &val)) != CLI_END) {
        switch (id) {
        case CLI_ERROR:
            return CLI_EXIT_USAGE;
        case CLI_POSITIONAL:
            return cli_usage_error(CMD, "unexpected argument '%s' (the folders are given with "
                                        "--clean, --enhanced and --noisy)", val);
        case OPT_CLEAN:
            clean = val;
            break;
        case OPT_ENH:
            enh = val;
            break;
        case OPT_NOISY:
            noisy = val;
            break;
        case OPT_JSON:
            json = val;
            break;
        case OPT_QUIET:
            quiet = 1;
            break;
        case OPT_HELP:
            usage(stdout);
            return CLI_EXIT_OK;
        case OPT_TEXTURE:
            texture = 1;
            break;
        case OPT_REF:
            ref = val;
            break;
        case OPT_GEN:
            gen = val;
            break;
        }
    }
    if (texture) {
        if (clean || enh || noisy)
            return cli_usage_error(CMD, "--texture compares --reference with --generated; "
                                        "--clean, --enhanced and --noisy do not apply");
        if (!ref || !gen)
            return cli_usage_error(CMD, "--texture needs both --reference and --generated");
        return eval_texture(ref, gen, json, quiet);
    }
    if (ref || gen)
        return cli_usage_error(CMD, "--reference and --generated go with --texture");
    if (!clean || !enh)
        return cli_usage_error(CMD, "both --clean and --enhanced are needed");

    struct stat st;
    if (stat(clean, &st) != 0) {
        cli_error(NULL, "%s: %s", clean, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    const int single = !S_ISDIR(st.st_mode);
    elist l = {0};
    int bad = 0;
    if (single) {
        const char *b = strrchr(clean, '/');
        if (add_entry(&l, strdup(b ? b + 1 : clean))) {
            cli_error(CMD, "out of memory");
            return CLI_EXIT_FAIL;
        }
    } else if (walk(&l, clean, "", 0, &bad)) {
        cli_error(CMD, "out of memory");
        return CLI_EXIT_FAIL;
    }
    if (!single && (stat(enh, &st) != 0 || !S_ISDIR(st.st_mode))) {
        cli_error(NULL, "%s: %s", enh, stat(enh, &st) != 0 ? strerror(errno) : "not a folder");
        bad++;
        for (int i = 0; i < l.n; i++) /* nothing can pair */
            free(l.v[i].rel);
        l.n = 0;
    }
    if (l.n == 0 && !bad)
        cli_error(NULL, "%s: no audio files", clean);
    /* the report must never take the place of a file it scores */
    struct stat js;
    if (json && stat(json, &js) == 0) {
        const char *roots[3] = {clean, enh, noisy};
        for (int i = 0; i < l.n; i++)
            for (int r = 0; r < 3; r++) {
                char *p = roots[r] ? path_of(roots[r], l.v[i].rel, single) : NULL;
                int same = p && stat(p, &st) == 0 && st.st_dev == js.st_dev &&
                           st.st_ino == js.st_ino;
                free(p);
                if (same) {
                    cli_error(NULL, "%s: the --json report would overwrite an audio file being "
                              "scored; refusing", json);
                    for (int k = 0; k < l.n; k++)
                        free(l.v[k].rel);
                    free(l.v);
                    return CLI_EXIT_FAIL;
                }
            }
    }

    for (int i = 0; i < l.n; i++)
        if (eval_entry(&l.v[i], clean, enh, noisy, single))
            bad++;

    /* groups: first-level subfolders in order of appearance (sorted walk), then "all" */
    group *g = calloc((size_t)l.n + 1, sizeof(group));
    if (!g) {
        cli_error(CMD, "out of memory");
        return CLI_EXIT_FAIL;
    }
    int ng = 0, has_sub = 0;
    for (int i = 0; i < l.n; i++) {
        if (!l.v[i].ok)
            continue;
        int k = 0;
        while (k < ng && strcmp(g[k].name, l.v[i].group) != 0)
            k++;
        if (k == ng)
            g[ng++].name = l.v[i].group;
        group_add(&g[k], &l.v[i]);
        has_sub |= strcmp(l.v[i].group, ".") != 0;
    }
    group *all = &g[ng];
    all->name = "all";
    for (int i = 0; i < l.n; i++)
        if (l.v[i].ok)
            group_add(all, &l.v[i]);

    if (!quiet && all->files > 0) {
        int namew = 6;
        for (int i = 0; i < l.n; i++)
            if (l.v[i].ok && (int)strlen(l.v[i].rel) > namew)
                namew = (int)strlen(l.v[i].rel);
        for (int k = 0; k <= ng; k++) {
            int w = (int)strlen(g[k].name) + 16;
            if (w > namew)
                namew = w;
        }
        if (namew > 60)
            namew = 60;
        printf("%-*s %8s %8s", namew, "file", "SNR", "SI-SDR");
        if (noisy)
            printf(" %8s %8s", "SNRi", "SI-SDRi");
        printf(" %7s %7s\n", "STOI", "ESTOI");
        for (int i = 0; i < l.n; i++) {
            if (!l.v[i].ok)
                continue;
            double v[N_M];
            values(&l.v[i], v);
            print_row(stdout, l.v[i].rel, namew, v, noisy != NULL);
        }
        if (all->files > 0) {
            printf("%-*s\n", namew, "mean (dB for SNR and SI-SDR)");
            for (int k = has_sub ? 0 : ng; k <= ng; k++) {
                char name[256];
                snprintf(name, sizeof name, "%s (%d file%s)", g[k].name, g[k].files,
                         g[k].files == 1 ? "" : "s");
                double v[N_M];
                for (int m = 0; m < N_M; m++)
                    v[m] = group_mean(&g[k], m);
                print_row(stdout, name, namew, v, noisy != NULL);
            }
        }
        fflush(stdout);
    }
    int rc = bad ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    /* no report when nothing could be scored */
    if (json && all->files > 0 && write_json(json, &l, g, ng + 1, clean, enh, noisy) != 0) {
        cli_error(NULL, "%s: %s", json, strerror(errno));
        rc = CLI_EXIT_FAIL;
    }
    for (int i = 0; i < l.n; i++)
        free(l.v[i].rel);
    free(l.v);
    free(g);
    if (l.n == 0 && rc == CLI_EXIT_OK)
        rc = CLI_EXIT_FAIL;
    return rc;
}
