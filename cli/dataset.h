/* dataset.h - training data for `limpid train`: folder scanning, validation hold-out,
 * deterministic crop drawing, denoise mixing / augmentation, and a prefetch thread.
 *
 * Scanning: each --clean / --noise path is a folder (scanned recursively, entries sorted
 * bytewise with strcmp at every level, depth first, names starting with '.' skipped) or a
 * single file. A file counts when libsndfile opens it and it is at least one sample long at
 * the training rate; others are skipped (a warning line in verbose mode only), and so are
 * damaged audio files (audio_check_complete: cut short), with a warning always. A file
 * named directly that cannot be used is an error. NaN and infinite samples read as 0. The
 * order of files is therefore deterministic for a given tree.
 *
 * Texture task: the class of a file is the name of the first-level subfolder of its --clean
 * folder it lies in; class ids number the distinct names in strcmp order (several --clean
 * folders with the same subfolder name share the class). A --clean folder without
 * subfolders is one class named after the folder itself. Audio files lying directly in a
 * --clean folder that has subfolders are ignored (with a warning).
 *
 * Validation hold-out: within each class (denoise: the one set of clean files) and within
 * the noise files separately, taken in scan order, every 10th file (the 10th, 20th, ...) is
 * held out; a set of 2..9 files holds out its last file; a single file holds out nothing.
 * When the noise files hold out nothing, validation mixes with the training noise files.
 *
 * Crops: item `item` of step `step` is a pure function of (seed, step, item) through a
 * counter-based hash RNG; so is every validation item (with a fixed step key). The file is
 * chosen with probability proportional to its duration, the offset uniformly; a file
 * shorter than the crop is read from its start and zero-padded. Noise files shorter than the
 * crop are repeated (looped) from a random phase.
 * Noise: with probability synth_noise the item's noise is drawn by noisegen_fill from the item's
 * key (an endless variety of coloured, band, tonal and impulsive noise), else a crop of a
 * noise file. Denoise mixing: noisy = clean + k*noise with k such that 10*log10(P_clean / P(k*noise)) =
 * SNR, SNR uniform in [snr_lo, snr_hi] dB, powers measured on the crops (a clean crop below
 * -80 dBFS is treated as a -40 dBFS signal, a silent noise crop adds nothing); then one gain
 * uniform in [-12, +6] dB multiplies clean and noisy, and both are scaled down together if
 * the larger of their peaks exceeds 0.99. Texture items are the plain clean crops.
 * Augmentation (denoise training items, not validation ones; with probability augment, before
 * the mix): the noise crop goes
 * through a random equaliser (noisegen_colour, +-12 dB), and for half of these items a second,
 * procedural noise (noisegen_fill) is added 0..15 dB below the first's level; the clean crop
 * goes through a milder one (+-6 dB). With augment = 0 no draw is made, so runs without it
 * are unchanged.
 */
#ifndef LIMPID_CLI_DATASET_H
#define LIMPID_CLI_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "limpid.h"

typedef struct ds_file {
    char *path;
    int64_t src_frames; /* at the file's rate */
    int src_rate;
    int channels;
    int64_t frames;     /* at the dataset rate (after dataset_set_rate) */
    int cls;            /* class id (texture), 0 otherwise */
    int val;            /* held out for validation */
} ds_file;

/* Files to draw from, with cumulative durations for duration-weighted choice. */
typedef struct ds_pool {
    int n;
    int *idx;      /* into the file array */
    int64_t *cum;  /* cum[i] = frames of idx[0..i] */
    int64_t total; /* frames */
} ds_pool;

#define DS_MAX_DIRS 32

typedef struct dataset {
    const char *cmd; /* for messages: "limpid CMD: ..." */
    limpid_task task;
    int verbose;
    int rate;        /* 0 until dataset_set_rate */

    const char *clean_dirs[DS_MAX_DIRS];
    int n_clean_dirs;
    const char *noise_dirs[DS_MAX_DIRS];
    int n_noise_dirs;

    ds_file *clean;
    int n_clean;
    ds_file *noise;
    int n_noise;
    int n_skipped;   /* files libsndfile did not open (or empty) */

    char **class_names; /* [n_classes] (texture; denoise: none) */
    int n_classes;

    ds_pool clean_train, clean_val, noise_train, noise_val;

    /* drawing parameters (set by the caller before drawing) */
    uint64_t seed;
    int crop;          /* samples per item at `rate` */
    float snr_lo, snr_hi;     /* dB, default -5..20 */
    float synth_noise;        /* share of items whose noise is procedural (noisegen.h)
                                 instead of a noise file crop; default 0.25 */
    float augment;            /* share of denoise items augmented (see above); default 0 */
    float gain_lo, gain_hi;   /* dB, default -12..+6 */
} dataset;

/* Scan the folders (clean_dirs[n_clean] and, for denoise, noise_dirs[n_noise]; the strings
 * must outlive ds). Returns 0, or -1 with err (no usable files, unreadable folder...). */
int dataset_scan(dataset *ds, const char *cmd, limpid_task task, const char *const *clean_dirs,
                 int n_clean, const char *const *noise_dirs, int n_noise, int verbose,
                 char *err, size_t errlen);
/* The most common sample rate of the clean files (ties: the higher). */
int dataset_common_rate(const dataset *ds);
/* Fix the training rate: frame counts at that rate, hold-out and drawing pools. 0 / -1. */
int dataset_set_rate(dataset *ds, int rate, char *err, size_t errlen);
void dataset_free(dataset *ds);

/* Seconds of audio in the training / validation clean files. */
double dataset_seconds(const dataset *ds, int val, int noise);
/* One-line description for the model's provenance. */
void dataset_describe(const dataset *ds, char *buf, size_t len);
/* Print the files/classes summary (and with verbose, every file) to f. */
void dataset_print_summary(const dataset *ds, void *file);

/* Item `item` of training step `step` (val = 0), or validation item `item` (val = 1, step
 * ignored): clean[crop], noisy[crop] (denoise; may be NULL for texture), *cls (may be NULL).
 * Pure function of (seed, step, item) and the files. 0 or -1 with err. Thread-safe. */
int dataset_item(const dataset *ds, int val, uint64_t step, int item, float *clean,
                 float *noisy, int *cls, char *err, size_t errlen);
/* A whole batch: clean[batch][crop], noisy[batch][crop] (denoise), cls[batch] (texture). */
int dataset_batch(const dataset *ds, int val, uint64_t step, int batch, float *clean,
                  float *noisy, int *cls, char *err, size_t errlen);
/* Whether there are held-out files to validate on. */
int dataset_has_val(const dataset *ds);

/* Prefetch: a thread prepares the batch of step s+1 while step s trains. The content of a
 * batch depends only on its step (dataset_batch), never on timing. */
typedef struct prefetch prefetch;
int prefetch_start(prefetch **out, const dataset *ds, int batch, uint64_t first_step);
/* The batch of `step`; steps must be asked for in order from first_step. The pointers stay
 * valid until the next prefetch_get or prefetch_stop. 0 or -1 with err (data error). */
int prefetch_get(prefetch *p, uint64_t step, const float **clean, const float **noisy,
                 const int **cls, char *err, size_t errlen);
void prefetch_stop(prefetch *p);

#endif
