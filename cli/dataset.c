/* dataset.c - folder scanning, hold-out, deterministic crops, mixing, prefetch (dataset.h). */
#include "dataset.h"
#include "noisegen.h"

#include "audio.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- counter-based random numbers --------------------------------------------------------
 * Every draw is mix(key, slot): no state, so an item is a pure function of (seed, step, item)
 * whatever order or thread computes it. */

static uint64_t mix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t item_key(uint64_t seed, uint64_t step, uint64_t item)
{
    return mix64(mix64(seed ^ 0x64617461ull /* "data" */) ^ mix64(step + 0x51ED27ull) ^
                 mix64(item * 0x9E3779B97F4A7C15ull + 0xABCDull));
}

/* draw slots of one item (fixed, so adding a draw never shifts the others) */
enum {
    SLOT_FILE = 0, SLOT_OFFSET, SLOT_NFILE, SLOT_NOFFSET, SLOT_SNR, SLOT_GAIN, SLOT_SYNTH,
    SLOT_AUG, SLOT_AUG_SECOND, SLOT_AUG_LEVEL
};

static uint64_t draw(uint64_t key, uint64_t slot) { return mix64(key ^ mix64(slot + 0x5107ull)); }
static double draw_uniform(uint64_t key, uint64_t slot) /* [0, 1) */
{
    return (double)(draw(key, slot) >> 11) * (1.0 / 9007199254740992.0);
}
static uint64_t draw_below(uint64_t key, uint64_t slot, uint64_t n) /* [0, n) */
{
    return (uint64_t)(((unsigned __int128)draw(key, slot) * n) >> 64);
}

/* the step key of validation items: no training step reaches it */
#define VAL_STEP 0xFFFFFFFFFFFFFF00ull

/* ---- scanning ------------------------------------------------------------------------- */

typedef struct flist {
    ds_file *f;
    int n, cap;
} flist;

typedef struct strlist {
    char **s;
    int n, cap;
} strlist;

static int strlist_push(strlist *l, const char *s)
{
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 16;
        char **ns = realloc(l->s, sizeof(char *) * (size_t)nc);
        if (!ns)
            return -1;
        l->s = ns;
        l->cap = nc;
    }
    if (!(l->s[l->n] = strdup(s)))
        return -1;
    l->n++;
    return 0;
}

static void strlist_free(strlist *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->s[i]);
    free(l->s);
    memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join_path(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    size_t k = a;
    if (a == 0 || dir[a - 1] != '/')
        p[k++] = '/';
    memcpy(p + k, name, b + 1);
    return p;
}

/* Sorted entry names of a directory, '.'-names skipped. */
static int list_dir(const char *dir, strlist *out, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "cannot read folder '%s': %s", dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (strlist_push(out, e->d_name)) {
            closedir(d);
            snprintf(err, errlen, "out of memory scanning '%s'", dir);
            return -1;
        }
    }
    closedir(d);
    if (out->n > 1)
        qsort(out->s, (size_t)out->n, sizeof(char *), cmp_str);
    return 0;
}

typedef struct scan_ctx {
    const dataset *ds;
    flist *files;
    int *skipped;
    char *err;
    size_t errlen;
} scan_ctx;

/* named: the file was given on the command line (not found in a folder), so a file that
 * cannot be used is an error rather than a skip */
static int add_file(scan_ctx *sc, const char *path, int cls, int named)
{
    audio_info ai;
    char why[512];
    if (audio_probe(path, &ai, why, sizeof why)) {
        if (named) {
            snprintf(sc->err, sc->errlen, "%s", why);
            return -1;
        }
        (*sc->skipped)++;
        if (sc->ds->verbose)
            fprintf(stderr, "limpid %s: warning: skipped: %s\n", sc->ds->cmd, why);
        return 0;
    }
    /* audio, but cut short: crops past the cut would read silence. Said even without -v:
     * the file looks like audio the user meant to train on */
    if (audio_check_complete(path, why, sizeof why)) {
        if (named) {
            snprintf(sc->err, sc->errlen, "damaged audio file '%s': %s", path, why);
            return -1;
        }
        (*sc->skipped)++;
        fprintf(stderr, "limpid %s: warning: skipping damaged audio file '%s': %s\n",
                sc->ds->cmd, path, why);
        return 0;
    }
    if (ai.frames <= 0) {
        if (named) {
            snprintf(sc->err, sc->errlen, "'%s' holds no audio", path);
            return -1;
        }
        (*sc->skipped)++;
        if (sc->ds->verbose)
            fprintf(stderr, "limpid %s: warning: skipping '%s': it holds no audio\n",
                    sc->ds->cmd, path);
        return 0;
    }
    flist *l = sc->files;
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 64;
        ds_file *nf = realloc(l->f, sizeof(ds_file) * (size_t)nc);
        if (!nf)
            goto nomem;
        l->f = nf;
        l->cap = nc;
    }
    ds_file *f = &l->f[l->n];
    memset(f, 0, sizeof *f);
    if (!(f->path = strdup(path)))
        goto nomem;
    f->src_frames = ai.frames;
    f->src_rate = ai.rate;
    f->channels = ai.channels;
    f->cls = cls;
    l->n++;
    return 0;
nomem:
    snprintf(sc->err, sc->errlen, "out of memory scanning '%s'", path);
    return -1;
}

/* Depth-first, sorted. cls is stored in every file found. */
static int scan_tree(scan_ctx *sc, const char *path, int cls, int depth)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(sc->err, sc->errlen, "cannot access '%s': %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (S_ISREG(st.st_mode))
            return add_file(sc, path, cls, depth == 0);
        if (depth == 0) {
            snprintf(sc->err, sc->errlen, "'%s' is neither a file nor a folder", path);
            return -1;
        }
        return 0;
    }
    if (depth > 40) {
        snprintf(sc->err, sc->errlen, "folders nested too deep (a symbolic link loop?) at '%s'",
                 path);
        return -1;
    }
    strlist names = {0};
    if (list_dir(path, &names, sc->err, sc->errlen))
        return -1;
    int rc = 0;
    for (int i = 0; i < names.n && rc == 0; i++) {
        char *p = join_path(path, names.s[i]);
        if (!p) {
            snprintf(sc->err, sc->errlen, "out of memory scanning '%s'", path);
            rc = -1;
            break;
        }
        rc = scan_tree(sc, p, cls, depth + 1);
        free(p);
    }
    strlist_free(&names);
    return rc;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static const char *base_name(const char *p, char *buf, size_t len)
{
    /* last path component, trailing slashes ignored */
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        n--;
    size_t s = n;
    while (s > 0 && p[s - 1] != '/')
        s--;
    size_t k = n - s;
    if (k >= len)
        k = len - 1;
    memcpy(buf, p + s, k);
    buf[k] = '\0';
    return buf;
}

static int class_index(const strlist *classes, const char *name)
{
    /* classes is sorted: binary search */
    int lo = 0, hi = classes->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(classes->s[mid], name);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static int scan_texture(dataset *ds, flist *files, char *err, size_t errlen)
{
    scan_ctx sc = {ds, files, &ds->n_skipped, err, errlen};
    /* pass 1: class names */
    strlist classes = {0};
    int rc = 0;
    for (int r = 0; r < ds->n_clean_dirs && rc == 0; r++) {
        const char *root = ds->clean_dirs[r];
        char bn[256];
        if (!is_dir(root)) {
            snprintf(err, errlen,
                     "--clean '%s' is not a folder (texture classes are its subfolders)", root);
            rc = -1;
            break;
        }
        strlist names = {0};
        if (list_dir(root, &names, err, errlen)) {
            rc = -1;
            break;
        }
        int subdirs = 0;
        for (int i = 0; i < names.n && rc == 0; i++) {
            char *p = join_path(root, names.s[i]);
            if (!p) {
                rc = -1;
                break;
            }
            if (is_dir(p)) {
                subdirs++;
                if (class_index(&classes, names.s[i]) < 0) {
                    rc = strlist_push(&classes, names.s[i]);
                    qsort(classes.s, (size_t)classes.n, sizeof(char *), cmp_str);
                }
            }
            free(p);
        }
        if (rc == 0 && subdirs == 0 && class_index(&classes, base_name(root, bn, sizeof bn)) < 0) {
            rc = strlist_push(&classes, bn);
            qsort(classes.s, (size_t)classes.n, sizeof(char *), cmp_str);
        }
        strlist_free(&names);
        if (rc && !err[0])
            snprintf(err, errlen, "out of memory scanning '%s'", root);
    }
    /* pass 2: files, class by class in id order, then root by root, for a stable order */
    for (int c = 0; c < classes.n && rc == 0; c++) {
        for (int r = 0; r < ds->n_clean_dirs && rc == 0; r++) {
            const char *root = ds->clean_dirs[r];
            char bn[256];
            strlist names = {0};
            if (list_dir(root, &names, err, errlen)) {
                rc = -1;
                break;
            }
            int subdirs = 0;
            for (int i = 0; i < names.n; i++) {
                char *p = join_path(root, names.s[i]);
                if (p && is_dir(p))
                    subdirs++;
                free(p);
            }
            if (subdirs == 0) {
                if (strcmp(base_name(root, bn, sizeof bn), classes.s[c]) == 0)
                    rc = scan_tree(&sc, root, c, 0);
            } else {
                char *p = join_path(root, classes.s[c]);
                if (!p)
                    rc = -1;
                else if (is_dir(p))
                    rc = scan_tree(&sc, p, c, 1);
                free(p);
                if (c == 0) /* warn once per root about loose files */
                    for (int i = 0; i < names.n; i++) {
                        char *q = join_path(root, names.s[i]);
                        audio_info ai;
                        char why[64];
                        if (q && !is_dir(q) && audio_probe(q, &ai, why, sizeof why) == 0)
                            fprintf(stderr,
                                    "limpid %s: warning: ignoring '%s': texture classes are "
                                    "the subfolders of '%s'\n",
                                    ds->cmd, q, root);
                        free(q);
                    }
            }
            strlist_free(&names);
        }
    }
    if (rc == 0) {
        ds->class_names = classes.s;
        ds->n_classes = classes.n;
    } else {
        strlist_free(&classes);
    }
    return rc;
}

int dataset_scan(dataset *ds, const char *cmd, limpid_task task, const char *const *clean_dirs,
                 int n_clean, const char *const *noise_dirs, int n_noise, int verbose,
                 char *err, size_t errlen)
{
    memset(ds, 0, sizeof *ds);
    ds->cmd = cmd;
    ds->task = task;
    ds->verbose = verbose;
    ds->snr_lo = -5.0f;
    ds->snr_hi = 20.0f;
    ds->gain_lo = -12.0f;
    ds->gain_hi = 6.0f;
    ds->synth_noise = 0.25f;
    if (err && errlen)
        err[0] = '\0';
    if (n_clean < 1 || n_clean > DS_MAX_DIRS || n_noise < 0 || n_noise > DS_MAX_DIRS) {
        snprintf(err, errlen, "give 1..%d clean and 0..%d noise folders", DS_MAX_DIRS,
                 DS_MAX_DIRS);
        return -1;
    }
    for (int i = 0; i < n_clean; i++)
        ds->clean_dirs[i] = clean_dirs[i];
    for (int i = 0; i < n_noise; i++)
        ds->noise_dirs[i] = noise_dirs[i];
    ds->n_clean_dirs = n_clean;
    ds->n_noise_dirs = n_noise;

    flist clean = {0}, noise = {0};
    int rc = 0;
    if (task == LIMPID_TASK_TEXTURE) {
        rc = scan_texture(ds, &clean, err, errlen);
    } else {
        scan_ctx sc = {ds, &clean, &ds->n_skipped, err, errlen};
        for (int i = 0; i < n_clean && rc == 0; i++)
            rc = scan_tree(&sc, clean_dirs[i], 0, 0);
    }
    scan_ctx sn = {ds, &noise, &ds->n_skipped, err, errlen};
    for (int i = 0; i < n_noise && rc == 0; i++)
        rc = scan_tree(&sn, noise_dirs[i], 0, 0);
    ds->clean = clean.f;
    ds->n_clean = clean.n;
    ds->noise = noise.f;
    ds->n_noise = noise.n;
    if (rc)
        return -1;
    if (ds->n_clean == 0) {
        snprintf(err, errlen, "no audio files found in the clean folder%s '%s'%s",
                 n_clean > 1 ? "s" : "", clean_dirs[0], n_clean > 1 ? "..." : "");
        return -1;
    }
    if (task == LIMPID_TASK_DENOISE && ds->n_noise == 0) {
        if (n_noise == 0)
            snprintf(err, errlen, "the denoise task needs --noise folders");
        else
            snprintf(err, errlen, "no audio files found in the noise folder%s '%s'%s",
                     n_noise > 1 ? "s" : "", noise_dirs[0], n_noise > 1 ? "..." : "");
        return -1;
    }
    return 0;
}

int dataset_common_rate(const dataset *ds)
{
    int best = 0, best_n = 0;
    for (int i = 0; i < ds->n_clean; i++) {
        int r = ds->clean[i].src_rate, n = 0;
        for (int j = 0; j < ds->n_clean; j++)
            n += ds->clean[j].src_rate == r;
        if (n > best_n || (n == best_n && r > best)) {
            best = r;
            best_n = n;
        }
    }
    return best;
}

static void pool_free(ds_pool *p)
{
    free(p->idx);
    free(p->cum);
    memset(p, 0, sizeof *p);
}

static int pool_build(ds_pool *p, const ds_file *f, int n, int want_val)
{
    pool_free(p);
    p->idx = malloc(sizeof(int) * (size_t)(n ? n : 1));
    p->cum = malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
    if (!p->idx || !p->cum)
        return -1;
    for (int i = 0; i < n; i++)
        if (f[i].val == want_val && f[i].frames > 0) {
            p->total += f[i].frames;
            p->idx[p->n] = i;
            p->cum[p->n] = p->total;
            p->n++;
        }
    return 0;
}

/* Mark the hold-out of one group (files with cls == c, in order), see dataset.h. */
static void hold_out(ds_file *f, int n, int c)
{
    int count = 0, held = 0, last = -1;
    for (int i = 0; i < n; i++) {
        if (f[i].cls != c || f[i].frames <= 0)
            continue;
        f[i].val = (count % 10) == 9;
        held += f[i].val;
        last = i;
        count++;
    }
    if (count >= 2 && held == 0)
        f[last].val = 1;
}

int dataset_set_rate(dataset *ds, int rate, char *err, size_t errlen)
{
    ds->rate = rate;
    int usable = 0;
    for (int i = 0; i < ds->n_clean; i++) {
        ds_file *f = &ds->clean[i];
        f->frames = audio_frames_at_rate(f->src_frames, f->src_rate, rate);
        f->val = 0;
        usable += f->frames > 0;
    }
    for (int i = 0; i < ds->n_noise; i++) {
        ds_file *f = &ds->noise[i];
        f->frames = audio_frames_at_rate(f->src_frames, f->src_rate, rate);
        f->val = 0;
    }
    if (!usable) {
        snprintf(err, errlen, "the clean files hold no audio at %d Hz", rate);
        return -1;
    }
    int groups = ds->task == LIMPID_TASK_TEXTURE ? ds->n_classes : 1;
    for (int c = 0; c < groups; c++)
        hold_out(ds->clean, ds->n_clean, c);
    hold_out(ds->noise, ds->n_noise, 0);
    if (pool_build(&ds->clean_train, ds->clean, ds->n_clean, 0) ||
        pool_build(&ds->clean_val, ds->clean, ds->n_clean, 1) ||
        pool_build(&ds->noise_train, ds->noise, ds->n_noise, 0) ||
        pool_build(&ds->noise_val, ds->noise, ds->n_noise, 1)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (ds->task == LIMPID_TASK_DENOISE && ds->noise_train.n == 0) {
        snprintf(err, errlen, "the noise files hold no audio at %d Hz", rate);
        return -1;
    }
    return 0;
}

void dataset_free(dataset *ds)
{
    if (!ds)
        return;
    for (int i = 0; i < ds->n_clean; i++)
        free(ds->clean[i].path);
    for (int i = 0; i < ds->n_noise; i++)
        free(ds->noise[i].path);
    free(ds->clean);
    free(ds->noise);
    for (int i = 0; i < ds->n_classes; i++)
        free(ds->class_names[i]);
    free(ds->class_names);
    pool_free(&ds->clean_train);
    pool_free(&ds->clean_val);
    pool_free(&ds->noise_train);
    pool_free(&ds->noise_val);
    memset(ds, 0, sizeof *ds);
}

int dataset_has_val(const dataset *ds) { return ds->clean_val.n > 0; }

double dataset_seconds(const dataset *ds, int val, int noise)
{
    const ds_pool *p = noise ? (val ? &ds->noise_val : &ds->noise_train)
                             : (val ? &ds->clean_val : &ds->clean_train);
    return ds->rate > 0 ? (double)p->total / ds->rate : 0.0;
}

/* "12.5 s", "3.2 min", "1.25 h" */
static const char *dur(double s, char *buf, size_t len)
{
    if (s < 120)
        snprintf(buf, len, "%.1f s", s);
    else if (s < 7200)
        snprintf(buf, len, "%.1f min", s / 60);
    else
        snprintf(buf, len, "%.2f h", s / 3600);
    return buf;
}

static const char *plural(int n, const char *one, const char *many) { return n == 1 ? one : many; }

static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
    if (*pos >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *pos, len - *pos, fmt, ap);
    va_end(ap);
    if (k > 0)
        *pos += (size_t)k < len - *pos ? (size_t)k : len - *pos - 1;
}

static void describe_dirs(char *buf, size_t len, size_t *pos, const char *const *dirs, int n)
{
    for (int i = 0; i < n; i++) {
        const char *d = dirs[i];
        size_t dl = strlen(d);
        if (dl > 60) /* keep the tail, the informative part of a long path */
            append(buf, len, pos, "%s...%s", i ? "," : "", d + dl - 57);
        else
            append(buf, len, pos, "%s%s", i ? "," : "", d);
    }
}

void dataset_describe(const dataset *ds, char *buf, size_t len)
{
    size_t pos = 0;
    if (!len)
        return;
    buf[0] = '\0';
    append(buf, len, &pos, "%s %d Hz; clean ", ds->task == LIMPID_TASK_TEXTURE ? "texture" : "denoise",
           ds->rate);
    describe_dirs(buf, len, &pos, ds->clean_dirs, ds->n_clean_dirs);
    char d1[32], d2[32];
    append(buf, len, &pos, " (%d train %s %s, %d val %s %s",
           ds->clean_train.n, plural(ds->clean_train.n, "file", "files"),
           dur(dataset_seconds(ds, 0, 0), d1, sizeof d1), ds->clean_val.n,
           plural(ds->clean_val.n, "file", "files"), dur(dataset_seconds(ds, 1, 0), d2, sizeof d2));
    if (ds->task == LIMPID_TASK_TEXTURE)
        append(buf, len, &pos, ", %d classes", ds->n_classes);
    append(buf, len, &pos, ")");
    if (ds->task == LIMPID_TASK_DENOISE) {
        append(buf, len, &pos, "; noise ");
        describe_dirs(buf, len, &pos, ds->noise_dirs, ds->n_noise_dirs);
        int nn = ds->noise_train.n + ds->noise_val.n;
        append(buf, len, &pos, " (%d %s, %s); snr=%g:%g", nn, plural(nn, "file", "files"),
               dur(dataset_seconds(ds, 0, 1) + dataset_seconds(ds, 1, 1), d1, sizeof d1),
               (double)ds->snr_lo, (double)ds->snr_hi);
        if (ds->synth_noise > 0.0f)
            append(buf, len, &pos, "; synth=%g", (double)ds->synth_noise);
        if (ds->augment > 0.0f)
            append(buf, len, &pos, "; augment=%g", (double)ds->augment);
    }
}

void dataset_print_summary(const dataset *ds, void *file)
{
    FILE *f = file;
    char d1[32], d2[32];
    fprintf(f, "clean: %d %s for training (%s), %d held out for validation (%s)",
            ds->clean_train.n, plural(ds->clean_train.n, "file", "files"),
            dur(dataset_seconds(ds, 0, 0), d1, sizeof d1), ds->clean_val.n,
            dur(dataset_seconds(ds, 1, 0), d2, sizeof d2));
    if (ds->n_skipped)
        fprintf(f, "; %d other %s skipped%s", ds->n_skipped,
                plural(ds->n_skipped, "file", "files"), ds->verbose ? "" : " (-v lists them)");
    fprintf(f, "\n");
    if (ds->task == LIMPID_TASK_DENOISE)
        fprintf(f, "noise: %d %s for training (%s), %d held out (%s)%s\n",
                ds->noise_train.n, plural(ds->noise_train.n, "file", "files"),
                dur(dataset_seconds(ds, 0, 1), d1, sizeof d1), ds->noise_val.n,
                dur(dataset_seconds(ds, 1, 1), d2, sizeof d2),
                ds->noise_val.n ? "" : "; validation mixes with the training noise");
    if (ds->task == LIMPID_TASK_TEXTURE) {
        fprintf(f, "classes (%d):\n", ds->n_classes);
        for (int c = 0; c < ds->n_classes; c++) {
            int nt = 0, nv = 0;
            for (int i = 0; i < ds->n_clean; i++)
                if (ds->clean[i].cls == c && ds->clean[i].frames > 0)
                    ds->clean[i].val ? nv++ : nt++;
            fprintf(f, "  %3d  %s  (%d %s, %d held out)\n", c, ds->class_names[c], nt + nv,
                    plural(nt + nv, "file", "files"), nv);
        }
    }
    if (ds->verbose) {
        for (int i = 0; i < ds->n_clean; i++) {
            const ds_file *x = &ds->clean[i];
            fprintf(f, "  clean %s%s  %d Hz %d ch %.2f s%s\n", x->val ? "[val] " : "", x->path,
                    x->src_rate, x->channels, (double)x->src_frames / x->src_rate,
                    x->frames > 0 ? "" : " (empty at training rate)");
        }
        for (int i = 0; i < ds->n_noise; i++) {
            const ds_file *x = &ds->noise[i];
            fprintf(f, "  noise %s%s  %d Hz %d ch %.2f s\n", x->val ? "[val] " : "", x->path,
                    x->src_rate, x->channels, (double)x->src_frames / x->src_rate);
        }
    }
}

/* ---- items --------------------------------------------------------------------------- */

static int pick(const ds_pool *p, uint64_t key, uint64_t slot)
{
    uint64_t r = draw_below(key, slot, (uint64_t)p->total); /* [0, total) */
    int lo = 0, hi = p->n - 1;                               /* first cum > r */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if ((uint64_t)p->cum[mid] > r)
            hi = mid;
        else
            lo = mid + 1;
    }
    return p->idx[lo];
}

static double power(const float *x, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return s / (n > 0 ? n : 1);
}

static float peak(const float *x, int n)
{
    float m = 0.0f;
    for (int i = 0; i < n; i++)
        m = fabsf(x[i]) > m ? fabsf(x[i]) : m;
    return m;
}

/* The augmentation of dataset.h on one item's crops (before the mix). */
static int augment_item(const dataset *ds, uint64_t key, float *clean, float *noise, char *err,
                        size_t errlen)
{
    const int n = ds->crop;
    noisegen_colour(noise, n, ds->rate, key ^ 0x4E4F495345ull, 12.0);
    if (draw_uniform(key, SLOT_AUG_SECOND) < 0.5) {
        float *extra = malloc(sizeof(float) * (size_t)n);
        if (!extra) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        noisegen_fill(extra, n, ds->rate, key ^ 0x5345434F4E44ull); /* unit RMS */
        double pn = power(noise, n);
        float g = (float)(sqrt(pn > 1e-12 ? pn : 1e-4) *
                          pow(10.0, -15.0 * draw_uniform(key, SLOT_AUG_LEVEL) / 20.0));
        for (int i = 0; i < n; i++)
            noise[i] += g * extra[i];
        free(extra);
    }
    noisegen_colour(clean, n, ds->rate, key ^ 0x434C45414Eull, 6.0);
    return 0;
}

int dataset_item(const dataset *ds, int val, uint64_t step, int item, float *clean,
                 float *noisy, int *cls, char *err, size_t errlen)
{
    const int n = ds->crop;
    const ds_pool *cp = val ? &ds->clean_val : &ds->clean_train;
    if (cp->n == 0) {
        snprintf(err, errlen, "no %s files to draw from", val ? "validation" : "training");
        return -1;
    }
    const uint64_t key = item_key(ds->seed, val ? VAL_STEP : step, (uint64_t)item);
    const ds_file *f = &ds->clean[pick(cp, key, SLOT_FILE)];
    int64_t off = 0;
    if (f->frames > n)
        off = (int64_t)draw_below(key, SLOT_OFFSET, (uint64_t)(f->frames - n + 1));
    /* a file shorter than the crop: read from 0, audio_read_crop zero-pads past the end */
    if (audio_read_crop(f->path, ds->rate, off, (size_t)n, clean, err, errlen))
        return -1;
    if (cls)
        *cls = f->cls;
    if (ds->task != LIMPID_TASK_DENOISE || !noisy)
        return 0;

    const ds_pool *np = (val && ds->noise_val.n) ? &ds->noise_val : &ds->noise_train;
    const ds_file *nf = &ds->noise[pick(np, key, SLOT_NFILE)];
    if (ds->synth_noise > 0.0f && draw_uniform(key, SLOT_SYNTH) < ds->synth_noise) {
        noisegen_fill(noisy, n, ds->rate, key ^ 0xA5A5F00Dull);
    } else if (nf->frames >= n) {
        int64_t noff = (int64_t)draw_below(key, SLOT_NOFFSET, (uint64_t)(nf->frames - n + 1));
        if (audio_read_crop(nf->path, ds->rate, noff, (size_t)n, noisy, err, errlen))
            return -1;
    } else {
        /* short noise: loop it from a random phase */
        int64_t m = nf->frames;
        float *loop = malloc(sizeof(float) * (size_t)m);
        if (!loop) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (audio_read_crop(nf->path, ds->rate, 0, (size_t)m, loop, err, errlen)) {
            free(loop);
            return -1;
        }
        int64_t ph = (int64_t)draw_below(key, SLOT_NOFFSET, (uint64_t)m);
        for (int i = 0; i < n; i++)
            noisy[i] = loop[(ph + i) % m];
        free(loop);
    }
    if (!val && ds->augment > 0.0f && draw_uniform(key, SLOT_AUG) < ds->augment &&
        augment_item(ds, key, clean, noisy, err, errlen))
        return -1;
    /* mix at the drawn SNR */
    double snr = ds->snr_lo + (ds->snr_hi - ds->snr_lo) * draw_uniform(key, SLOT_SNR);
    double pc = power(clean, n), pn = power(noisy, n);
    double pref = pc > 1e-8 ? pc : 1e-4; /* silent clean crop: scale noise as for -40 dBFS */
    double k = pn > 1e-12 ? sqrt(pref / (pn * pow(10.0, snr / 10.0))) : 0.0;
    for (int i = 0; i < n; i++)
        noisy[i] = clean[i] + (float)k * noisy[i];
    /* gain augmentation, same gain on both, then keep the peaks <= 0.99 */
    double gdb = ds->gain_lo + (ds->gain_hi - ds->gain_lo) * draw_uniform(key, SLOT_GAIN);
    float g = (float)pow(10.0, gdb / 20.0);
    float pk = fmaxf(peak(clean, n), peak(noisy, n)) * g;
    if (pk > 0.99f)
        g *= 0.99f / pk;
    for (int i = 0; i < n; i++) {
        clean[i] *= g;
        noisy[i] *= g;
    }
    return 0;
}

int dataset_batch(const dataset *ds, int val, uint64_t step, int batch, float *clean,
                  float *noisy, int *cls, char *err, size_t errlen)
{
    for (int b = 0; b < batch; b++) {
        size_t o = (size_t)b * (size_t)ds->crop;
        if (dataset_item(ds, val, step, b, clean + o, noisy ? noisy + o : NULL,
                         cls ? cls + b : NULL, err, errlen))
            return -1;
    }
    return 0;
}

/* ---- prefetch ------------------------------------------------------------------------ */

typedef struct pf_slot {
    float *clean, *noisy;
    int *cls;
    int ready;      /* filled for `step` */
    uint64_t step;
    int rc;
    char err[512];
} pf_slot;

struct prefetch {
    const dataset *ds;
    int batch;
    pf_slot slot[2];
    uint64_t next;  /* next step the worker fills */
    int quit;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int started;
    int held;       /* slot index the consumer holds, -1 none */
};

static void *pf_worker(void *arg)
{
    prefetch *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        uint64_t s = p->next;
        pf_slot *sl = &p->slot[s & 1];
        while (!p->quit && (sl->ready || p->held == (int)(s & 1)))
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->quit)
            break;
        pthread_mutex_unlock(&p->mu);
        int rc = dataset_batch(p->ds, 0, s, p->batch, sl->clean, sl->noisy, sl->cls, sl->err,
                               sizeof sl->err);
        pthread_mutex_lock(&p->mu);
        sl->rc = rc;
        sl->step = s;
        sl->ready = 1;
        p->next = s + 1;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void pf_free_slots(prefetch *p)
{
    for (int i = 0; i < 2; i++) {
        free(p->slot[i].clean);
        free(p->slot[i].noisy);
        free(p->slot[i].cls);
    }
}

int prefetch_start(prefetch **out, const dataset *ds, int batch, uint64_t first_step)
{
    *out = NULL;
    prefetch *p = calloc(1, sizeof *p);
    if (!p)
        return -1;
    p->ds = ds;
    p->batch = batch;
    p->next = first_step;
    p->held = -1;
    size_t n = (size_t)batch * (size_t)ds->crop;
    for (int i = 0; i < 2; i++) {
        p->slot[i].clean = malloc(sizeof(float) * n);
        p->slot[i].noisy = ds->task == LIMPID_TASK_DENOISE ? malloc(sizeof(float) * n) : NULL;
        p->slot[i].cls = malloc(sizeof(int) * (size_t)batch);
        if (!p->slot[i].clean || !p->slot[i].cls ||
            (ds->task == LIMPID_TASK_DENOISE && !p->slot[i].noisy)) {
            prefetch_stop(p);
            return -1;
        }
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    /* the worker blocks every signal, so SIGINT/SIGTERM reach the training thread and never
     * interrupt a file read */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int e = pthread_create(&p->thread, NULL, pf_worker, p);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        pf_free_slots(p);
        free(p);
        return -1;
    }
    p->started = 1;
    *out = p;
    return 0;
}

int prefetch_get(prefetch *p, uint64_t step, const float **clean, const float **noisy,
                 const int **cls, char *err, size_t errlen)
{
    pthread_mutex_lock(&p->mu);
    if (p->held >= 0) { /* give the previous batch's slot back to the worker */
        p->slot[p->held].ready = 0;
        p->held = -1;
        pthread_cond_broadcast(&p->cv);
    }
    pf_slot *sl = &p->slot[step & 1];
    while (!(sl->ready && sl->step == step))
        pthread_cond_wait(&p->cv, &p->mu);
    p->held = (int)(step & 1);
    int rc = sl->rc;
    if (rc)
        snprintf(err, errlen, "%s", sl->err);
    pthread_mutex_unlock(&p->mu);
    *clean = sl->clean;
    *noisy = sl->noisy;
    *cls = sl->cls;
    return rc;
}

void prefetch_stop(prefetch *p)
{
    if (!p)
        return;
    if (p->started) {
        pthread_mutex_lock(&p->mu);
        p->quit = 1;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->thread, NULL);
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
    }
    pf_free_slots(p);
    free(p);
}
