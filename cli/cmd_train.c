/* cmd_train.c - `limpid train`: train a denoising or texture model on folders of audio.
 *
 * Flow: options -> (resume: load the checkpoint) -> scan the data -> model and training
 * configuration (preset < config file < command line) -> [--minutes: time a few steps on a
 * scratch trainer to size the learning-rate decay] -> training loop with a prefetch thread,
 * validation, checkpoints, progress -> export the EMA model with provenance.
 *
 * Determinism: batch s is a pure function of (seed, s) (dataset.h) and a step is a pure
 * function of (seed, s, batch, state) (limpid.h), so a run split by --stop-at/--resume (or
 * interrupted and resumed) equals the uninterrupted run, given the same --threads.
 */
#include "cli.h"
#include "config_file.h"
#include "dataset.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CMD "train"

static void usage(FILE *f)
{
    fprintf(f,
"usage: limpid train --task denoise|texture --clean DIR [--noise DIR] -o MODEL [options]\n"
"       limpid train --resume MODEL.ckpt --clean DIR [--noise DIR] -o MODEL [options]\n"
"\n"
"Train a diffusion model on folders of audio (any format libsndfile reads; folders are\n"
"scanned recursively in sorted order; stereo is mixed to mono and every file is resampled\n"
"to the model rate). The EMA weights are written to MODEL at the end; a checkpoint\n"
"MODEL.ckpt is written every --ckpt-every steps and at the end ('limpid export' makes a\n"
"model from it while training goes on; 'limpid info' tells its step).\n"
"\n"
"Data:\n"
"  --task T          denoise (clean speech/music + noise) or texture (class-conditioned\n"
"                    generation; the classes are the subfolders of --clean)\n"
"  --clean DIR       clean audio (a folder or a file; repeatable)\n"
"  --noise DIR       noise audio for --task denoise (repeatable)\n"
"  --snr LO:HI       mixing SNR range in dB, uniform (default -5:20)\n"
"  --loss-weight L   STFT denoising: weigh each bin's error by 1 - L + L * (its noisy power /\n"
"                    the mean): 1 ~ linear-magnitude error, loud bins count (SI-SDR);\n"
"                    0 (default): compressed-domain MSE; may change a resumed run\n"
"  --loss-norm N     how items share the loss: batch (default: --loss-weight's mean power\n"
"                    over the batch, so loud items dominate), item (each item's own), log\n"
"                    (mean of ln(item error)), noise (STFT denoisers: each item's error in\n"
"                    the linear spectrum over its noise's energy there, r; --loss-weight does\n"
"                    not apply), noise_db (as noise, ln(1 + r / 0.01): each item's SDR gain\n"
"                    in dB); may change a resumed run\n"
"  --mask-loss M     wiener_floor head: add M x the divergence of the head's gain from the\n"
"                    ideal gain min(1, |clean| / |noisy|) per bin (a gradient that does not\n"
"                    vanish on loud noise); 0 (default): off; may change a resumed run\n"
"  --mask-form F     the mask loss's ideal gain and weights: ratio (default: min(1, |clean|\n"
"                    / |noisy|), bins weighted like the loss) or phase (the gain that\n"
"                    minimises the linear-spectrum error, Re(S Y*) / |Y|^2, bins weighted by\n"
"                    their linear power, as the squared error ranks them); may change a\n"
"                    resumed run\n"
"  --gate-loss G     gated wiener_floor head (floor_gate = 1): add G x the divergence of the\n"
"                    head's gate from the share of each noisy bin's power that is noise, so\n"
"                    the gate learns where noise rules from a target of its own; 0\n"
"                    (default): off; may change a resumed run\n"
"  --t-top P         share of items trained at the last diffusion step (from pure noise:\n"
"                    the estimate the first sampling step makes), 0..1 (default 0: t uniform);\n"
"                    may change a resumed run\n"
"  --synth-noise P   share of items mixed with procedural noise (coloured, band, tonal,\n"
"                    impulsive, modulated; an endless variety) instead of a --noise file\n"
"                    crop (0..1, default 0.25)\n"
"  --augment P       share of items augmented (0..1, default 0): the noise through a random\n"
"                    equaliser (+-12 dB shelves and band), half of them with a second,\n"
"                    procedural noise 0..15 dB below it, and the clean through a milder\n"
"                    equaliser (+-6 dB), so the model meets more than the noise files' own\n"
"                    spectra\n"
"  -v, --verbose     list every file, and the files that were skipped\n"
"  Validation holds out every 10th file (by sorted path) of each class and of the noise;\n"
"  a set of 2..9 files holds out its last file, a single file holds out nothing.\n"
"\n"
"Model:\n"
"  --preset NAME     tiny, small or base (default small)\n"
"  --domain D        stft or wave (default stft)\n"
"  --rate HZ         model sample rate (default: the config file's sample_rate, else the\n"
"                    most common rate of the clean files)\n"
"  --config FILE     'key = value' lines overriding the preset and training defaults:\n"
"                    channels layers dilation_cycle embed_dim embed_hidden lookahead n_fft\n"
"                    hop window compress_exp compress_scale schedule steps_T beta_start\n"
"                    beta_end target head cond n_classes sample_rate front_hidden front_bins\n"
"                    front_frames front_cond cond_snr lr lr_min warmup batch crop weight_decay\n"
"                    clip ema_decay ('#' starts a comment; limpid-train(1) lists them all)\n"
"\n"
"Training (command-line values override the config file):\n"
"  --steps N         train exactly N steps (the learning-rate decay spans N steps)\n"
"  --minutes M       wall-clock budget; the decay length is estimated by timing the first\n"
"                    steps (default: 10 minutes when neither is given)\n"
"  --stop-at N       stop after step N (checkpoint and model written) without changing the\n"
"                    schedule; continue later with --resume\n"
"  --batch B         items per step (default 16)\n"
"  --crop SECONDS    item length (default 1.0 for stft, 0.25 for wave)\n"
"  --lr X            peak learning rate (default 1e-3; warm-up min(200, steps/5) steps,\n"
"                    then cosine decay to lr_min)\n"
"  --seed N          initialisation, diffusion noise and data draws (default 1)\n"
"  --threads N       matrix-product threads (default: all cores)\n"
"  --val-every N     validation every N steps (default 200; 0: only at the end)\n"
"  --val-items N     validation crops, drawn once from the held-out files (default 32)\n"
"  --ckpt-every N    checkpoint every N steps (default 500; 0: only at the end)\n"
"  --resume CKPT     continue a run from its checkpoint, exactly; the model and training\n"
"                    settings come from the checkpoint, the data options must be given again\n"
"                    (--snr defaults to the checkpoint's)\n"
"  -o, --output MODEL  the model file to write (never overwritten unless --force, or when\n"
"                    resuming from MODEL.ckpt)\n"
"  --force           overwrite MODEL and MODEL.ckpt\n"
"  -h, --help        this help\n"
"\n"
"Texture models: the class id of a file is the index of its first-level subfolder name in\n"
"sorted order; the mapping is printed and written to MODEL.classes (one name per line).\n"
"Progress goes to stderr (an updating line on a terminal, else a line every 50 steps and\n"
"at each validation); the final losses go to stdout. Ctrl-C stops after the current step,\n"
"writes the checkpoint and the model, and exits with status 130.\n"
"\n"
"Exit status: 0 done, 1 error, 2 usage or configuration error, 130 interrupted.\n");
}

/* ---- signals --------------------------------------------------------------------------- */


/* ---- options --------------------------------------------------------------------------- */

enum {
    OPT_TASK = 1, OPT_CLEAN, OPT_NOISE, OPT_PRESET, OPT_CONFIG, OPT_DOMAIN, OPT_RATE,
    OPT_MINUTES, OPT_STEPS, OPT_STOP_AT, OPT_BATCH, OPT_CROP, OPT_LR, OPT_SNR, OPT_SEED,
    OPT_THREADS, OPT_RESUME, OPT_VAL_EVERY, OPT_VAL_ITEMS, OPT_CKPT_EVERY, OPT_OUTPUT,
    OPT_FORCE, OPT_VERBOSE, OPT_HELP, OPT_SYNTH, OPT_TTOP, OPT_LOSSW, OPT_LOSSN, OPT_MASKL, OPT_MASKF, OPT_AUGMENT,
    OPT_GATEL
};

static const cli_opt opts[] = {
    {"task", 0, 1, OPT_TASK},           {"clean", 0, 1, OPT_CLEAN},
    {"noise", 0, 1, OPT_NOISE},         {"preset", 0, 1, OPT_PRESET},
    {"config", 0, 1, OPT_CONFIG},       {"domain", 0, 1, OPT_DOMAIN},
    {"rate", 0, 1, OPT_RATE},           {"minutes", 0, 1, OPT_MINUTES},
    {"steps", 0, 1, OPT_STEPS},         {"stop-at", 0, 1, OPT_STOP_AT},
    {"batch", 0, 1, OPT_BATCH},         {"crop", 0, 1, OPT_CROP},
    {"lr", 0, 1, OPT_LR},               {"snr", 0, 1, OPT_SNR},
    {"synth-noise", 0, 1, OPT_SYNTH},   {"augment", 0, 1, OPT_AUGMENT},   {"t-top", 0, 1, OPT_TTOP},
    {"loss-weight", 0, 1, OPT_LOSSW},   {"loss-norm", 0, 1, OPT_LOSSN},
    {"mask-loss", 0, 1, OPT_MASKL},
    {"mask-form", 0, 1, OPT_MASKF},     {"gate-loss", 0, 1, OPT_GATEL},
    {"seed", 0, 1, OPT_SEED},           {"threads", 0, 1, OPT_THREADS},
    {"resume", 0, 1, OPT_RESUME},       {"val-every", 0, 1, OPT_VAL_EVERY},
    {"val-items", 0, 1, OPT_VAL_ITEMS}, {"ckpt-every", 0, 1, OPT_CKPT_EVERY},
    {"output", 'o', 1, OPT_OUTPUT},     {"force", 0, 0, OPT_FORCE},
    {"verbose", 'v', 0, OPT_VERBOSE},   {"help", 'h', 0, OPT_HELP},
    {0, 0, 0, 0}};

typedef struct train_opts {
    int task; /* -1 unset */
    const char *clean[DS_MAX_DIRS];
    int n_clean;
    const char *noise[DS_MAX_DIRS];
    int n_noise;
    const char *preset, *config, *resume, *output;
    int domain; /* -1 unset */
    long long rate, steps, stop_at, batch, seed, threads, val_every, val_items, ckpt_every;
    double minutes, crop, lr, snr_lo, snr_hi, synth, augment, t_top, loss_w, mask_l, gate_l;
    int loss_norm, have_loss_norm, mask_form, have_mask_form;
    int have_minutes, have_steps, have_stop_at, have_batch, have_crop, have_lr, have_snr,
        have_seed, have_rate, have_synth, have_augment, have_t_top, have_loss_w, have_mask_l,
        have_gate_l;
    int force, verbose;
} train_opts;

static int parse_snr(const char *s, double *lo, double *hi)
{
    const char *colon = strchr(s, ':');
    if (!colon || colon - s > 60)
        return -1;
    char a[64];
    memcpy(a, s, (size_t)(colon - s));
    a[colon - s] = '\0';
    if (cli_parse_double(a, -100, 100, lo) || cli_parse_double(colon + 1, -100, 100, hi))
        return -1;
    return *lo <= *hi ? 0 : -1;
}

/* Returns -1 to continue, or an exit status. */
static int parse_options(int argc, char **argv, train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->task = -1;
    o->domain = -1;
    o->val_every = 200;
    o->val_items = 32;
    o->ckpt_every = 500;
    o->seed = 1;
    cli_args a;
    cli_args_init(&a, CMD, argc, argv);
    const char *v;
    int id;
    while ((id = cli_args_next(&a, opts, &v)) != CLI_END) {
        switch (id) {
        case CLI_ERROR:
            return CLI_EXIT_USAGE;
        case CLI_POSITIONAL:
            return cli_usage_error(CMD, "unexpected argument '%s'", v);
        case OPT_HELP:
            usage(stdout);
            return CLI_EXIT_OK;
        case OPT_TASK:
            if (!strcmp(v, "denoise"))
                o->task = LIMPID_TASK_DENOISE;
            else if (!strcmp(v, "texture"))
                o->task = LIMPID_TASK_TEXTURE;
            else
                return cli_usage_error(CMD, "unknown task '%s' (denoise or texture)", v);
            break;
        case OPT_CLEAN:
        case OPT_NOISE: {
            const char **list = id == OPT_CLEAN ? o->clean : o->noise;
            int *n = id == OPT_CLEAN ? &o->n_clean : &o->n_noise;
            if (*n >= DS_MAX_DIRS)
                return cli_usage_error(CMD, "at most %d %s folders", DS_MAX_DIRS, a.opt);
            list[(*n)++] = v;
            break;
        }
        case OPT_PRESET:
            if (strcmp(v, "tiny") && strcmp(v, "small") && strcmp(v, "base"))
                return cli_usage_error(CMD, "unknown preset '%s' (tiny, small or base)", v);
            o->preset = v;
            break;
        case OPT_CONFIG:
            o->config = v;
            break;
        case OPT_DOMAIN:
            if (!strcmp(v, "stft"))
                o->domain = LIMPID_DOMAIN_STFT;
            else if (!strcmp(v, "wave"))
                o->domain = LIMPID_DOMAIN_WAVE;
            else
                return cli_usage_error(CMD, "unknown domain '%s' (stft or wave)", v);
            break;
        case OPT_RATE:
            if (cli_opt_int(&a, v, 8000, 384000, &o->rate))
                return CLI_EXIT_USAGE;
            o->have_rate = 1;
            break;
        case OPT_MINUTES:
            if (cli_opt_double(&a, v, 0.01, 1e6, &o->minutes))
                return CLI_EXIT_USAGE;
            o->have_minutes = 1;
            break;
        case OPT_STEPS:
            if (cli_opt_int(&a, v, 1, (long long)1 << 40, &o->steps))
                return CLI_EXIT_USAGE;
            o->have_steps = 1;
            break;
        case OPT_STOP_AT:
            if (cli_opt_int(&a, v, 1, (long long)1 << 40, &o->stop_at))
                return CLI_EXIT_USAGE;
            o->have_stop_at = 1;
            break;
        case OPT_BATCH:
            if (cli_opt_int(&a, v, 1, 4096, &o->batch))
                return CLI_EXIT_USAGE;
            o->have_batch = 1;
            break;
        case OPT_CROP:
            if (cli_opt_double(&a, v, 1e-4, 600, &o->crop))
                return CLI_EXIT_USAGE;
            o->have_crop = 1;
            break;
        case OPT_LR:
            if (cli_opt_double(&a, v, 1e-12, 1, &o->lr))
                return CLI_EXIT_USAGE;
            o->have_lr = 1;
            break;
        case OPT_LOSSW:
            if (cli_opt_double(&a, v, 0.0, 1.0, &o->loss_w))
                return CLI_EXIT_USAGE;
            o->have_loss_w = 1;
            break;
        case OPT_LOSSN:
            if (!strcmp(v, "batch"))
                o->loss_norm = LIMPID_LOSS_NORM_BATCH;
            else if (!strcmp(v, "item"))
                o->loss_norm = LIMPID_LOSS_NORM_ITEM;
            else if (!strcmp(v, "log"))
                o->loss_norm = LIMPID_LOSS_NORM_LOG;
            else if (!strcmp(v, "noise"))
                o->loss_norm = LIMPID_LOSS_NORM_NOISE;
            else if (!strcmp(v, "noise_db"))
                o->loss_norm = LIMPID_LOSS_NORM_NOISE_DB;
            else
                return cli_usage_error(CMD, "bad value '%s' for --loss-norm (expected batch, "
                                            "item, log, noise or noise_db)", v);
            o->have_loss_norm = 1;
            break;
        case OPT_MASKL:
            if (cli_opt_double(&a, v, 0.0, 100.0, &o->mask_l))
                return CLI_EXIT_USAGE;
            o->have_mask_l = 1;
            break;
        case OPT_GATEL:
            if (cli_opt_double(&a, v, 0.0, 100.0, &o->gate_l))
                return CLI_EXIT_USAGE;
            o->have_gate_l = 1;
            break;
        case OPT_MASKF:
            if (!strcmp(v, "ratio"))
                o->mask_form = LIMPID_MASK_FORM_RATIO;
            else if (!strcmp(v, "phase"))
                o->mask_form = LIMPID_MASK_FORM_PHASE;
            else
                return cli_usage_error(CMD, "bad value '%s' for --mask-form (expected ratio or "
                                            "phase)", v);
            o->have_mask_form = 1;
            break;
        case OPT_TTOP:
            if (cli_opt_double(&a, v, 0.0, 1.0, &o->t_top))
                return CLI_EXIT_USAGE;
            o->have_t_top = 1;
            break;
        case OPT_SYNTH:
            if (cli_opt_double(&a, v, 0.0, 1.0, &o->synth))
                return CLI_EXIT_USAGE;
            o->have_synth = 1;
            break;
        case OPT_AUGMENT:
            if (cli_opt_double(&a, v, 0.0, 1.0, &o->augment))
                return CLI_EXIT_USAGE;
            o->have_augment = 1;
            break;
        case OPT_SNR:
            if (parse_snr(v, &o->snr_lo, &o->snr_hi))
                return cli_usage_error(CMD, "bad value '%s' for --snr (expected LO:HI in dB, "
                                       "LO <= HI, within -100..100)", v);
            o->have_snr = 1;
            break;
        case OPT_SEED:
            if (cli_opt_int(&a, v, 0, LLONG_MAX, &o->seed))
                return CLI_EXIT_USAGE;
            o->have_seed = 1;
            break;
        case OPT_THREADS:
            if (cli_opt_int(&a, v, 0, 1024, &o->threads))
                return CLI_EXIT_USAGE;
            break;
        case OPT_RESUME:
            o->resume = v;
            break;
        case OPT_VAL_EVERY:
            if (cli_opt_int(&a, v, 0, LLONG_MAX, &o->val_every))
                return CLI_EXIT_USAGE;
            break;
        case OPT_VAL_ITEMS:
            if (cli_opt_int(&a, v, 1, 100000, &o->val_items))
                return CLI_EXIT_USAGE;
            break;
        case OPT_CKPT_EVERY:
            if (cli_opt_int(&a, v, 0, LLONG_MAX, &o->ckpt_every))
                return CLI_EXIT_USAGE;
            break;
        case OPT_OUTPUT:
            o->output = v;
            break;
        case OPT_FORCE:
            o->force = 1;
            break;
        case OPT_VERBOSE:
            o->verbose = 1;
            break;
        }
    }
    if (!o->output)
        return cli_usage_error(CMD, "no output model given (-o MODEL)");
    if (!o->resume && o->task < 0)
        return cli_usage_error(CMD, "no task given (--task denoise or --task texture)");
    if (o->n_clean == 0)
        return cli_usage_error(CMD, "no clean data given (--clean DIR)");
    if (o->task == LIMPID_TASK_TEXTURE && o->n_noise)
        return cli_usage_error(CMD, "--noise is for --task denoise only");
    if (o->have_steps && o->have_minutes)
        return cli_usage_error(CMD, "give --steps or --minutes, not both");
    if (o->resume) {
        const char *ignored = o->preset ? "--preset" : o->config ? "--config"
                            : o->domain >= 0 ? "--domain" : o->have_rate ? "--rate"
                            : o->have_batch ? "--batch" : o->have_crop ? "--crop"
                            : o->have_lr ? "--lr" : o->have_seed ? "--seed" : NULL;
        if (ignored)
            return cli_usage_error(CMD, "%s cannot change a resumed run (the checkpoint holds "
                                   "the model and training settings)", ignored);
    }
    return -1;
}

/* ---- small helpers --------------------------------------------------------------------- */

static char *str_cat(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (s) {
        memcpy(s, a, la);
        memcpy(s + la, b, lb + 1);
    }
    return s;
}

static int same_file(const char *a, const char *b)
{
    char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
    int same = ra && rb && strcmp(ra, rb) == 0;
    free(ra);
    free(rb);
    return same;
}

static void fmt_hms(double s, char *buf, size_t len)
{
    if (!isfinite(s) || s < 0)
        s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else
        snprintf(buf, len, "%02ld:%02ld", t / 60, t % 60);
}

/* The share "KEY=P" (key given with its '=') of a provenance data description; 0 where the
 * description has none (runs from before the option) */
static double share_from_description(const char *d, const char *key)
{
    const char *p = strstr(d, key);
    return p ? atof(p + strlen(key)) : 0.0;
}

/* "snr=LO:HI" from a provenance data description */
static int snr_from_description(const char *d, double *lo, double *hi)
{
    const char *p = strstr(d, "snr=");
    if (!p)
        return -1;
    char buf[64];
    size_t n = 0;
    p += 4;
    while (p[n] && p[n] != ' ' && p[n] != ';' && n < sizeof buf - 1) {
        buf[n] = p[n];
        n++;
    }
    buf[n] = '\0';
    return parse_snr(buf, lo, hi);
}

static int write_classes(const char *model, const dataset *ds)
{
    size_t len = 0;
    for (int i = 0; i < ds->n_classes; i++)
        len += strlen(ds->class_names[i]) + 1;
    char *buf = malloc(len + 1), *p = buf;
    if (!buf)
        return -1;
    for (int i = 0; i < ds->n_classes; i++) {
        size_t l = strlen(ds->class_names[i]);
        memcpy(p, ds->class_names[i], l);
        p[l] = '\n';
        p += l + 1;
    }
    char *path = str_cat(model, ".classes");
    int rc = path ? cli_write_file_atomic(path, buf, len) : -1;
    if (rc)
        cli_error(CMD, "cannot write '%s': %s", path ? path : "(classes)", strerror(errno));
    free(path);
    free(buf);
    return rc;
}

/* ---- progress --------------------------------------------------------------------------- */

typedef struct progress {
    int tty;
    double t_start;      /* wall clock of this session's first step */
    int64_t step0;       /* steps done when this session started */
    int64_t target;      /* step the run stops at (estimate with --minutes) */
    double budget;       /* seconds, 0: none */
    double item_seconds; /* audio seconds per step */
    double loss_sum;
    int loss_n;
    double loss_ema;
    int have_ema;
    double val;          /* NaN: none yet */
    double last_draw;
    int line_open;
    int64_t last_printed; /* step of the last line, -1 none */
} progress;

static void progress_line(progress *p, const limpid_trainer *t, int64_t step, int final_tty)
{
    double now = cli_now(), el = now - p->t_start;
    int64_t done = step - p->step0;
    double rate = el > 0 && done > 0 ? (double)done * p->item_seconds / el : 0.0;
    double per = done > 0 ? el / (double)done : 0.0;
    double eta = (double)(p->target - step) * per;
    if (p->budget > 0 && p->budget - el < eta)
        eta = p->budget - el;
    /* terminal: smoothed loss; log: mean since the last line (the EMA when no new step) */
    double loss = p->tty || !p->loss_n ? p->loss_ema : p->loss_sum / p->loss_n;
    char val[32], et[32];
    if (isfinite(p->val))
        snprintf(val, sizeof val, "%.4g", p->val);
    else
        snprintf(val, sizeof val, "-");
    fmt_hms(eta, et, sizeof et);
    fprintf(stderr, "%sstep %lld/%s%lld  loss %.4g  val %s  %.1f audio-s/s  lr %.1e  ETA %s%s",
            p->tty ? "\r" : "", (long long)step, p->budget > 0 ? "~" : "",
            (long long)p->target, loss, val, rate, (double)limpid_trainer_lr(t), et,
            p->tty ? "\033[K" : "\n");
    if (p->tty && final_tty) {
        fputc('\n', stderr);
        p->line_open = 0;
    } else {
        p->line_open = p->tty;
    }
    fflush(stderr);
    p->loss_sum = 0;
    p->loss_n = 0;
    p->last_draw = now;
    p->last_printed = step;
}

/* A message that must not be mixed into the updating line. */
static void progress_break(progress *p)
{
    if (p->line_open) {
        fputc('\n', stderr);
        p->line_open = 0;
    }
}

/* ---- the command ------------------------------------------------------------------------- */

typedef struct run_state {
    train_opts o;
    dataset ds;
    int have_ds;
    limpid_trainer *t;
    prefetch *pf;
    float *val_clean, *val_noisy;
    int *val_cls;
    int val_n;
    char *ckpt_path;
    limpid_provenance prov;
    char command[512];
} run_state;

static void run_free(run_state *r)
{
    prefetch_stop(r->pf);
    limpid_trainer_destroy(r->t);
    if (r->have_ds)
        dataset_free(&r->ds);
    free(r->val_clean);
    free(r->val_noisy);
    free(r->val_cls);
    free(r->ckpt_path);
}

/* Whether a file the run writes (MODEL, MODEL.ckpt, MODEL.classes) is one it reads: a data
 * file, the config file, or the checkpoint it resumes from (except MODEL.ckpt when resuming
 * this very run). Complains naming both. Only files that exist can be inputs. */
static int output_is_input(const run_state *r)
{
    const train_opts *o = &r->o;
    char *classes = str_cat(o->output, ".classes");
    const char *outs[3] = {o->output, r->ckpt_path, classes};
    int found = 0;
    for (int k = 0; k < 3 && !found; k++) {
        struct stat os, is;
        if (!outs[k] || stat(outs[k], &os) != 0)
            continue;
        const char *what = NULL, *in = NULL;
        if (o->config && stat(o->config, &is) == 0 && is.st_dev == os.st_dev &&
            is.st_ino == os.st_ino) {
            what = "the config file";
            in = o->config;
        } else if (o->resume && k != 1 && stat(o->resume, &is) == 0 &&
                   is.st_dev == os.st_dev && is.st_ino == os.st_ino) {
            what = "the checkpoint resumed from";
            in = o->resume;
        }
        for (int i = 0; !what && i < r->ds.n_clean + r->ds.n_noise; i++) {
            const char *p = i < r->ds.n_clean ? r->ds.clean[i].path
                                              : r->ds.noise[i - r->ds.n_clean].path;
            if (stat(p, &is) == 0 && is.st_dev == os.st_dev && is.st_ino == os.st_ino) {
                what = "a training file";
                in = p;
            }
        }
        if (what) {
            cli_error(CMD, "'%s' would overwrite %s '%s'; refusing (even with --force)",
                      outs[k], what, in);
            found = 1;
        }
    }
    free(classes);
    return found;
}

static int save_checkpoint(run_state *r, progress *pg)
{
    limpid_trainer_set_provenance(r->t, &r->prov);
    limpid_status st = limpid_trainer_save_checkpoint(r->t, r->ckpt_path);
    if (st != LIMPID_OK) {
        progress_break(pg);
        cli_error(CMD, "cannot write checkpoint '%s': %s", r->ckpt_path, limpid_strerror(st));
        return -1;
    }
    return 0;
}

static int run_validation(run_state *r, progress *pg)
{
    if (!r->val_n)
        return 0;
    float loss;
    limpid_status st = limpid_trainer_validate(r->t, r->val_clean, r->val_noisy,
                                               r->ds.task == LIMPID_TASK_TEXTURE ? r->val_cls
                                                                                 : NULL,
                                               r->val_n, &loss);
    if (st == LIMPID_ERR_NUMERIC) {
        pg->val = NAN;
        progress_break(pg);
        cli_warn(CMD, "validation loss is not finite at step %lld",
                 (long long)limpid_trainer_steps_done(r->t));
        return 0;
    }
    if (st != LIMPID_OK) {
        progress_break(pg);
        cli_error(CMD, "validation failed: %s", limpid_strerror(st));
        return -1;
    }
    pg->val = loss;
    return 0;
}

/* feature_norm CLASS: the per-class bin scales from FIT_ITEMS training crops, drawn as the
 * batches of steps past any run's end (so they are not the first steps' crops). 0 or -1. */
#define FIT_ITEMS 128
static int fit_feature_norm(run_state *r, const limpid_train_config *tc)
{
    char err[512] = "";
    const int nb = (FIT_ITEMS + tc->batch - 1) / tc->batch, n = nb * tc->batch;
    float *clean = malloc(sizeof(float) * (size_t)n * (size_t)tc->crop_samples);
    int *cls = malloc(sizeof(int) * (size_t)n);
    int rc = -1;
    if (!clean || !cls) {
        cli_error(CMD, "out of memory for %d crops to measure the feature scales", n);
        goto done;
    }
    for (int k = 0; k < nb; k++)
        if (dataset_batch(&r->ds, 0, ((uint64_t)1 << 62) + (uint64_t)k, tc->batch,
                          clean + (size_t)k * tc->batch * tc->crop_samples, NULL,
                          cls + (size_t)k * tc->batch, err, sizeof err)) {
            cli_error(CMD, "%s", err);
            goto done;
        }
    limpid_status st = limpid_trainer_fit_feature_norm(r->t, clean, cls, n);
    if (st != LIMPID_OK) {
        cli_error(CMD, "cannot measure the feature scales: %s", limpid_strerror(st));
        goto done;
    }
    fprintf(stderr, "feature scales: per class and bin, from %d training crops\n", n);
    rc = 0;
done:
    free(clean);
    free(cls);
    return rc;
}

/* Time a few steps on a scratch trainer; returns seconds per step (data preparation
 * overlaps with training in the real loop, so the slower of the two counts), or < 0. */
static double time_steps(run_state *r, const limpid_config *cfg, const limpid_train_config *tc,
                         double budget, double *used)
{
    double t0 = cli_now();
    limpid_trainer *t = NULL;
    limpid_status st = limpid_trainer_create(&t, cfg, NULL, tc);
    if (st != LIMPID_OK) {
        cli_error(CMD, "cannot create the trainer: %s", limpid_strerror(st));
        return -1;
    }
    size_t n = (size_t)tc->batch * (size_t)tc->crop_samples;
    float *clean = malloc(sizeof(float) * n);
    float *noisy = cfg->task == LIMPID_TASK_DENOISE ? malloc(sizeof(float) * n) : NULL;
    int *cls = malloc(sizeof(int) * (size_t)tc->batch);
    double train_t = 0, data_t = 0, res = -1;
    int timed = 0;
    char err[1024];
    if (!clean || !cls || (cfg->task == LIMPID_TASK_DENOISE && !noisy)) {
        cli_error(CMD, "out of memory");
        goto done;
    }
    for (int s = 0; s < 64 && !cli_stop_signal; s++) {
        double a = cli_now();
        if (dataset_batch(&r->ds, 0, (uint64_t)s, tc->batch, clean, noisy, cls, err,
                          sizeof err)) {
            cli_error(CMD, "%s", err);
            goto done;
        }
        double b = cli_now();
        float loss;
        st = limpid_trainer_step(t, clean, noisy, cfg->task == LIMPID_TASK_TEXTURE ? cls : NULL,
                                 &loss);
        double c = cli_now();
        if (st != LIMPID_OK && st != LIMPID_ERR_NUMERIC) {
            cli_error(CMD, "training step failed: %s", limpid_strerror(st));
            goto done;
        }
        if (s == 0)
            continue; /* warm-up: caches, thread start */
        data_t += b - a;
        train_t += c - b;
        timed++;
        double spent = c - t0;
        if (timed >= 2 && (spent >= fmin(0.02 * budget, 5.0) || timed >= 20))
            break;
    }
    /* the prefetch thread hides data preparation when a core is free for it */
    if (timed > 0)
        res = (limpid_get_threads() < sysconf(_SC_NPROCESSORS_ONLN) ? fmax(train_t, data_t)
                                                                   : train_t + data_t) /
              timed;
    else if (!cli_stop_signal)
        res = cli_now() - t0;
done:
    free(clean);
    free(noisy);
    free(cls);
    limpid_trainer_destroy(t);
    *used = cli_now() - t0;
    return res;
}

int cmd_train(int argc, char **argv)
{
    run_state R;
    memset(&R, 0, sizeof R);
    train_opts *o = &R.o;
    int rc = parse_options(argc, argv, o);
    if (rc >= 0)
        return rc;
    char err[1024];
    err[0] = '\0';
    int exit_code = CLI_EXIT_FAIL;
    limpid_model *model = NULL;

    limpid_set_threads((int)o->threads);

    /* ---- output files ---- */
    R.ckpt_path = str_cat(o->output, ".ckpt");
    if (!R.ckpt_path) {
        cli_error(CMD, "out of memory");
        return CLI_EXIT_FAIL;
    }
    {
        /* fail now rather than after training when the output folder is not writable */
        char *dir = strdup(o->output);
        char *slash = dir ? strrchr(dir, '/') : NULL;
        const char *d = !dir ? "." : !slash ? "." : slash == dir ? "/" : (*slash = '\0', dir);
        if (access(d, W_OK) != 0) {
            cli_error(CMD, "cannot write to the folder '%s' of the output '%s': %s", d,
                      o->output, strerror(errno));
            free(dir);
            goto out;
        }
        free(dir);
    }
    {
        struct stat st;
        if (stat(o->output, &st) == 0 && S_ISDIR(st.st_mode)) {
            cli_error(CMD, "'%s' is a folder; -o names the model file to write", o->output);
            goto out;
        }
    }
    int resuming_this_run = o->resume && same_file(o->resume, R.ckpt_path);
    if (!o->force && !resuming_this_run) {
        if (cli_file_exists(o->output)) {
            cli_error(CMD, "'%s' exists; not overwriting it (use --force, or --resume %s to "
                      "continue its run)", o->output, R.ckpt_path);
            goto out;
        }
        if (cli_file_exists(R.ckpt_path)) {
            cli_error(CMD, "checkpoint '%s' exists (an unfinished run?); continue it with "
                      "--resume %s, or use --force to start over", R.ckpt_path, R.ckpt_path);
            goto out;
        }
    }

    /* ---- resume: the checkpoint fixes model and training settings ---- */
    limpid_config cfg;
    limpid_train_config tc;
    const char *prev_command = "";
    if (o->resume) {
        limpid_status st = limpid_trainer_load_checkpoint(&R.t, o->resume, err, sizeof err);
        if (st != LIMPID_OK) {
            cli_load_error(CMD, "cannot resume", "cannot resume from", o->resume, err, st);
            goto out;
        }
        if (o->have_t_top)
            limpid_trainer_set_t_top(R.t, (float)o->t_top); /* range checked by the parser */
        if (o->have_loss_w)
            limpid_trainer_set_loss_weight(R.t, (float)o->loss_w);
        if (o->have_loss_norm && limpid_trainer_set_loss_norm(R.t, o->loss_norm) != LIMPID_OK) {
            rc = cli_usage_error(CMD, "--loss-norm noise or noise_db needs an STFT-domain "
                                      "denoiser (%s is not one)", o->resume);
            goto out_rc;
        }
        if (o->have_mask_l && limpid_trainer_set_mask_loss(R.t, (float)o->mask_l) != LIMPID_OK) {
            rc = cli_usage_error(CMD, "--mask-loss needs a denoiser with the wiener_floor head "
                                      "(%s has another)", o->resume);
            goto out_rc;
        }
        if (o->have_mask_form)
            limpid_trainer_set_mask_form(R.t, o->mask_form); /* the parser took only names */
        if (o->have_gate_l && limpid_trainer_set_gate_loss(R.t, (float)o->gate_l) != LIMPID_OK) {
            rc = cli_usage_error(CMD, "--gate-loss needs a denoiser with the gated wiener_floor "
                                      "head (%s has no floor_gate)", o->resume);
            goto out_rc;
        }
        cfg = *limpid_trainer_model_config(R.t);
        tc = *limpid_trainer_train_config(R.t);
        if (o->task >= 0 && (int)cfg.task != o->task) {
            rc = cli_usage_error(CMD, "--task %s does not match the checkpoint's task %s",
                                 cfg_task_name((limpid_task)o->task), cfg_task_name(cfg.task));
            goto out_rc;
        }
        o->task = cfg.task;
        const limpid_provenance *pv = limpid_trainer_provenance(R.t);
        prev_command = pv->command;
        if (!o->have_snr && cfg.task == LIMPID_TASK_DENOISE &&
            snr_from_description(pv->data, &o->snr_lo, &o->snr_hi) == 0)
            o->have_snr = 1;
        if (cfg.task == LIMPID_TASK_DENOISE) { /* the checkpoint's shares unless given */
            if (!o->have_synth)
                o->synth = share_from_description(pv->data, "synth=");
            if (!o->have_augment)
                o->augment = share_from_description(pv->data, "augment=");
            o->have_synth = o->have_augment = 1;
        }
    }
    if (o->task == LIMPID_TASK_DENOISE && o->n_noise == 0) {
        rc = cli_usage_error(CMD, "--task denoise needs noise data (--noise DIR)");
        goto out_rc;
    }

    /* ---- config file ---- */
    cfgfile cf;
    memset(&cf, 0, sizeof cf);
    if (o->config) {
        char *buf;
        size_t len;
        if (cli_read_file(o->config, 1 << 20, &buf, &len)) {
            cli_error(CMD, "cannot read config file '%s': %s", o->config,
                      errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
            rc = CLI_EXIT_USAGE;
            goto out_rc;
        }
        int bad = cfgfile_parse(buf, len, o->config, &cf, err, sizeof err);
        free(buf);
        if (bad) {
            cli_error(CMD, "%s", err);
            rc = CLI_EXIT_USAGE;
            goto out_rc;
        }
    }

    /* ---- data ---- */
    R.have_ds = 1; /* dataset_free also cleans up after a failed scan */
    if (dataset_scan(&R.ds, CMD, (limpid_task)o->task, o->clean, o->n_clean, o->noise,
                     o->n_noise, o->verbose, err, sizeof err)) {
        cli_error(CMD, "%s", err);
        goto out;
    }
    if (output_is_input(&R)) /* even with --force */
        goto out;
    int rate = o->resume ? cfg.sample_rate
             : o->have_rate ? (int)o->rate
             : cfgfile_has(&cf, "sample_rate") ? cf.model.sample_rate
             : dataset_common_rate(&R.ds);
    if (rate < 8000 || rate > 384000) {
        cli_error(CMD, "the clean files' rate %d Hz is outside 8000..384000; give --rate", rate);
        rc = CLI_EXIT_USAGE;
        goto out_rc;
    }
    if (dataset_set_rate(&R.ds, rate, err, sizeof err)) {
        cli_error(CMD, "%s", err);
        goto out;
    }
    if (o->have_snr) {
        R.ds.snr_lo = (float)o->snr_lo;
        R.ds.snr_hi = (float)o->snr_hi;
    }
    if (o->have_synth)
        R.ds.synth_noise = (float)o->synth;
    if (o->have_augment)
        R.ds.augment = (float)o->augment;
    if (R.ds.task == LIMPID_TASK_TEXTURE) {
        /* textures keep their recorded level: with a random gain per crop the model would
         * learn a random level, and the independently drawn blocks of a long output would
         * jump between levels */
        R.ds.gain_lo = R.ds.gain_hi = 0.0f;
    }

    /* ---- model and training configuration (fresh run) ---- */
    double crop_seconds;
    int warmup_given = 0;
    if (!o->resume) {
        const char *preset = o->preset ? o->preset : "small";
        limpid_domain domain = o->domain >= 0 ? (limpid_domain)o->domain : LIMPID_DOMAIN_STFT;
        if (limpid_config_preset(&cfg, preset, (limpid_task)o->task, domain, rate) != LIMPID_OK) {
            rc = cli_usage_error(CMD, "unknown preset '%s'", preset);
            goto out_rc;
        }
        limpid_train_config_default(&tc);
        crop_seconds = domain == LIMPID_DOMAIN_STFT ? 1.0 : 0.25;
        cfgfile_apply(&cf, &cfg, &tc, &crop_seconds);
        warmup_given = cfgfile_has(&cf, "warmup");
        cfg.sample_rate = rate;
        if (cfg.task == LIMPID_TASK_TEXTURE) {
            if (cfgfile_has(&cf, "n_classes") && cf.model.n_classes != R.ds.n_classes) {
                cli_error(CMD, "%s sets n_classes = %d but --clean has %d class folders",
                          o->config, cf.model.n_classes, R.ds.n_classes);
                rc = CLI_EXIT_USAGE;
                goto out_rc;
            }
            cfg.n_classes = R.ds.n_classes;
        } else if (cfgfile_has(&cf, "n_classes") && cf.model.n_classes != 0) {
            cli_error(CMD, "%s: a denoising model has no classes (n_classes = %d)", o->config,
                      cf.model.n_classes);
            rc = CLI_EXIT_USAGE;
            goto out_rc;
        }
        if (o->have_batch)
            tc.batch = (int)o->batch;
        if (o->have_crop)
            crop_seconds = o->crop;
        if (o->have_lr)
            tc.lr = (float)o->lr;
        if (o->have_t_top)
            tc.t_top = (float)o->t_top;
        if (o->have_loss_w)
            tc.loss_weight = (float)o->loss_w;
        if (o->have_loss_norm)
            tc.loss_norm = o->loss_norm;
        if (o->have_mask_l)
            tc.mask_loss = (float)o->mask_l;
        if (o->have_mask_form)
            tc.mask_form = o->mask_form;
        if (o->have_gate_l)
            tc.gate_loss = (float)o->gate_l;
        tc.seed = (uint64_t)o->seed;
        if (limpid_config_check(&cfg, err, sizeof err) != LIMPID_OK) {
            if (o->config)
                cli_error(CMD, "bad model configuration (preset '%s' changed by %s): %s", preset,
                          o->config, err);
            else
                cli_error(CMD, "bad model configuration: %s", err);
            rc = CLI_EXIT_USAGE;
            goto out_rc;
        }
        double cs = floor(crop_seconds * rate + 0.5);
        int fh = limpid_config_frame_hop(&cfg);
        if (cs < fh || cs > (1 << 26)) {
            rc = cli_usage_error(CMD, "crop of %g s is %.0f samples; it must be %d..%d samples "
                                 "(at least one frame)", crop_seconds, cs, fh, 1 << 26);
            goto out_rc;
        }
        tc.crop_samples = (int)cs;
        if (tc.lr_min > tc.lr) {
            rc = cli_usage_error(CMD, "lr_min %g is above lr %g", (double)tc.lr_min,
                                 (double)tc.lr);
            goto out_rc;
        }
        double cols = (double)tc.batch * (tc.crop_samples / fh) *
                      limpid_config_feature_channels(&cfg);
        if (cols > (double)INT_MAX) {
            rc = cli_usage_error(CMD, "batch %d x crop %g s is too large for one step",
                                 tc.batch, crop_seconds);
            goto out_rc;
        }
    } else {
        if (cfg.task == LIMPID_TASK_TEXTURE && cfg.n_classes != R.ds.n_classes) {
            cli_error(CMD, "the checkpoint has %d classes but --clean has %d class folders",
                      cfg.n_classes, R.ds.n_classes);
            goto out;
        }
        crop_seconds = (double)tc.crop_samples / rate;
    }
    R.ds.seed = tc.seed;
    R.ds.crop = tc.crop_samples;

    /* ---- summary ---- */
    dataset_print_summary(&R.ds, stderr);
    if (cfg.task == LIMPID_TASK_TEXTURE)
        fprintf(stderr, "class names are written to %s.classes\n", o->output);
    {
        limpid_model *tmp = NULL;
        limpid_model_info mi;
        memset(&mi, 0, sizeof mi);
        if (limpid_model_create(&tmp, &cfg, 0) == LIMPID_OK)
            limpid_model_get_info(tmp, &mi);
        limpid_model_destroy(tmp);
        fprintf(stderr,
                "model: %s %s, %d Hz, %d channels x %d layers, %zu parameters, %.3g GMAC/s "
                "per step\n",
                cfg_task_name(cfg.task), cfg_domain_name(cfg.domain), cfg.sample_rate,
                cfg.channels, cfg.layers, mi.params, mi.macs_per_second / 1e9);
        fprintf(stderr, "training: batch %d x %.3g s, lr %g -> %g, seed %llu, %d thread%s\n",
                tc.batch, crop_seconds, (double)tc.lr, (double)tc.lr_min,
                (unsigned long long)tc.seed, limpid_get_threads(),
                limpid_get_threads() == 1 ? "" : "s");
    }

    /* ---- provenance ---- */
    {
        char now_cmd[512];
        char **av = malloc(sizeof(char *) * (size_t)(argc + 1));
        if (!av) {
            cli_error(CMD, "out of memory");
            goto out;
        }
        av[0] = "limpid";
        for (int i = 0; i < argc; i++)
            av[i + 1] = argv[i];
        cli_join_command(argc + 1, av, now_cmd, sizeof now_cmd);
        free(av);
        /* "ORIGINAL; resumed: THIS", cut to fit with "..." */
        size_t cap = sizeof R.command, pos = 0;
        const char *parts[3] = {prev_command, prev_command[0] ? "; resumed: " : "", now_cmd};
        int cut = 0;
        for (int i = 0; i < 3 && !cut; i++) {
            size_t l = strlen(parts[i]);
            if (pos + l > cap - 1) {
                l = cap - 1 - pos;
                cut = 1;
            }
            memcpy(R.command + pos, parts[i], l);
            pos += l;
        }
        R.command[pos] = '\0';
        if (cut)
            memcpy(R.command + cap - 4, "...", 4);
        snprintf(R.prov.command, sizeof R.prov.command, "%s", R.command);
        dataset_describe(&R.ds, R.prov.data, sizeof R.prov.data);
    }

    /* ---- length of the run ---- */
    /* From here Ctrl-C stops cleanly; before, it just ends the process (nothing to save). */
    cli_install_stop_signals();
    double budget = 0; /* seconds of this session, 0: none */
    double t_session = cli_now();
    int64_t target;
    if (o->have_minutes || (!o->have_steps && !o->resume))
        budget = (o->have_minutes ? o->minutes : 10.0) * 60.0;
    if (!o->resume) {
        if (o->have_steps) {
            tc.total_steps = o->steps;
        } else {
            double used = 0;
            tc.total_steps = 1000000; /* provisional, for the timing trainer */
            if (!warmup_given && tc.warmup > 0)
                tc.warmup = 0;
            fprintf(stderr, "timing the first steps to size the schedule for %.4g minutes...\n",
                    budget / 60.0);
            double per = time_steps(&R, &cfg, &tc, budget, &used);
            if (cli_stop_signal) {
                cli_error(CMD, "interrupted before training started; nothing written");
                exit_code = cli_stop_signal == SIGINT ? CLI_EXIT_INTERRUPTED : 128 + SIGTERM;
                goto out;
            }
            if (per < 0)
                goto out;
            /* validation costs about val_items/(3 batch) steps every val_every steps */
            double val_cost = dataset_has_val(&R.ds) && o->val_every > 0
                                  ? (double)o->val_items / (3.0 * tc.batch) / (double)o->val_every
                                  : 0.0;
            double left = budget - used;
            double n = left > 0 ? 0.97 * left / (per * (1.0 + val_cost)) : 1.0;
            tc.total_steps = n < 1 ? 1 : (int64_t)n;
            fprintf(stderr, "about %.3g s per step: %lld steps\n", per,
                    (long long)tc.total_steps);
        }
        if (!warmup_given) { /* default warm-up: min(200, 20 % of the run) */
            limpid_train_config d;
            limpid_train_config_default(&d);
            int64_t w = tc.total_steps / 5;
            tc.warmup = (int)(w < d.warmup ? w : d.warmup);
        }
        if (tc.loss_norm >= LIMPID_LOSS_NORM_NOISE &&
            (cfg.task != LIMPID_TASK_DENOISE || cfg.domain != LIMPID_DOMAIN_STFT)) {
            rc = cli_usage_error(CMD, "the noise loss normalisation (--loss-norm or loss_norm) "
                                      "needs an STFT-domain denoiser");
            goto out_rc;
        }
        if (tc.mask_loss > 0.0f && cfg.head != LIMPID_HEAD_WIENER_FLOOR) {
            rc = cli_usage_error(CMD, "a mask loss (--mask-loss or mask_loss) needs a denoiser "
                                      "with 'head = wiener_floor' (this model's head is %s)",
                                 cfg_head_name(cfg.head));
            goto out_rc;
        }
        if (tc.gate_loss > 0.0f && (cfg.head != LIMPID_HEAD_WIENER_FLOOR || !cfg.floor_gate)) {
            rc = cli_usage_error(CMD, "a gate loss (--gate-loss or gate_loss) needs a denoiser "
                                      "with 'head = wiener_floor' and 'floor_gate = 1'");
            goto out_rc;
        }
        limpid_status st = limpid_trainer_create(&R.t, &cfg, NULL, &tc);
        if (st != LIMPID_OK) {
            cli_error(CMD, "cannot create the trainer: %s", limpid_strerror(st));
            rc = st == LIMPID_ERR_INVALID ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
            goto out_rc;
        }
        if (cfg.feature_norm == LIMPID_FEATURE_NORM_CLASS && fit_feature_norm(&R, &tc))
            goto out;
    }
    const int64_t start_step = limpid_trainer_steps_done(R.t);
    target = o->have_steps ? o->steps : tc.total_steps;
    if (o->resume && o->have_steps && o->steps > tc.total_steps)
        cli_warn(CMD, "the checkpoint's learning-rate decay ends at step %lld; steps after it "
                 "use lr_min", (long long)tc.total_steps);
    if (o->have_stop_at && o->stop_at < target)
        target = o->stop_at;
    if (start_step >= target) {
        fprintf(stderr, "the checkpoint is at step %lld, the run ends at step %lld: nothing "
                "to train\n", (long long)start_step, (long long)target);
    } else if (o->resume) {
        fprintf(stderr, "resuming at step %lld of %lld\n", (long long)start_step,
                (long long)target);
    }

    /* ---- validation set: fixed crops of the held-out files ---- */
    if (dataset_has_val(&R.ds)) {
        R.val_n = (int)o->val_items;
        size_t n = (size_t)R.val_n * (size_t)tc.crop_samples;
        R.val_clean = malloc(sizeof(float) * n);
        R.val_noisy = cfg.task == LIMPID_TASK_DENOISE ? malloc(sizeof(float) * n) : NULL;
        R.val_cls = malloc(sizeof(int) * (size_t)R.val_n);
        if (!R.val_clean || !R.val_cls || (cfg.task == LIMPID_TASK_DENOISE && !R.val_noisy)) {
            cli_error(CMD, "out of memory for %d validation crops", R.val_n);
            goto out;
        }
        if (dataset_batch(&R.ds, 1, 0, R.val_n, R.val_clean, R.val_noisy, R.val_cls, err,
                          sizeof err)) {
            cli_error(CMD, "%s", err);
            goto out;
        }
    } else {
        cli_warn(CMD, "no held-out files (a single clean file?): no validation");
    }

    /* ---- training loop ---- */
    progress pg;
    memset(&pg, 0, sizeof pg);
    pg.tty = isatty(STDERR_FILENO);
    pg.step0 = start_step;
    pg.target = target;
    pg.budget = budget;
    pg.item_seconds = (double)tc.batch * crop_seconds;
    pg.val = NAN;
    pg.last_printed = -1;
    pg.t_start = cli_now();
    double last_val_step = -1;
    int failed = 0;
    float loss = NAN;
    if (start_step < target &&
        prefetch_start(&R.pf, &R.ds, tc.batch, (uint64_t)start_step) != 0) {
        cli_error(CMD, "cannot start the data thread");
        goto out;
    }
    int64_t step = start_step;
    while (step < target && !cli_stop_signal) {
        if (budget > 0 && cli_now() - t_session >= budget)
            break;
        const float *bc, *bn;
        const int *bcls;
        if (prefetch_get(R.pf, (uint64_t)step, &bc, &bn, &bcls, err, sizeof err)) {
            progress_break(&pg);
            cli_error(CMD, "reading data for step %lld: %s", (long long)step + 1, err);
            failed = 1;
            break;
        }
        limpid_status st = limpid_trainer_step(
            R.t, bc, cfg.task == LIMPID_TASK_DENOISE ? bn : NULL,
            cfg.task == LIMPID_TASK_TEXTURE ? bcls : NULL, &loss);
        if (st == LIMPID_ERR_NUMERIC) {
            progress_break(&pg);
            cli_error(CMD, "training diverged at step %lld (non-finite loss or gradient); "
                      "the last checkpoint is kept; try a lower --lr", (long long)step + 1);
            prefetch_stop(R.pf);
            R.pf = NULL;
            goto out;
        }
        if (st != LIMPID_OK) {
            progress_break(&pg);
            cli_error(CMD, "training step %lld failed: %s", (long long)step + 1,
                      limpid_strerror(st));
            prefetch_stop(R.pf);
            R.pf = NULL;
            goto out;
        }
        step++;
        pg.loss_sum += loss;
        pg.loss_n++;
        pg.loss_ema = pg.have_ema ? 0.95 * pg.loss_ema + 0.05 * loss : loss;
        pg.have_ema = 1;
        int validated = 0;
        if (o->val_every > 0 && step % o->val_every == 0 && R.val_n) {
            if (run_validation(&R, &pg)) {
                failed = 1;
                break;
            }
            last_val_step = (double)step;
            validated = 1;
        }
        if (o->ckpt_every > 0 && step % o->ckpt_every == 0 && step < target &&
            save_checkpoint(&R, &pg)) {
            failed = 1;
            break;
        }
        if (pg.tty) {
            if (validated || cli_now() - pg.last_draw >= 0.1)
                progress_line(&pg, R.t, step, 0);
        } else if (validated || step % 50 == 0) {
            progress_line(&pg, R.t, step, 0);
        }
    }
    prefetch_stop(R.pf);
    R.pf = NULL;
    int64_t done = limpid_trainer_steps_done(R.t);
    int final_val = 0;
    if (R.val_n && last_val_step != (double)done && done > 0 && !failed) {
        failed = run_validation(&R, &pg) != 0;
        final_val = 1;
    }
    if (done > start_step && (pg.tty || final_val || pg.last_printed != done))
        progress_line(&pg, R.t, done, 1);
    progress_break(&pg);
    if (cli_stop_signal && done == start_step && !failed) {
        fprintf(stderr, "interrupted before the first step: nothing written\n");
        exit_code = cli_stop_signal == SIGINT ? CLI_EXIT_INTERRUPTED : 128 + SIGTERM;
        goto out;
    }
    if (cli_stop_signal)
        fprintf(stderr, "interrupted: stopping after step %lld\n", (long long)done);

    /* ---- checkpoint and model ---- */
    if (save_checkpoint(&R, &pg))
        goto out;
    if (failed) {
        fprintf(stderr, "checkpoint written to %s (resume with --resume %s)\n", R.ckpt_path,
                R.ckpt_path);
        goto out;
    }
    {
        limpid_provenance pv = R.prov;
        cli_iso_time(pv.created, sizeof pv.created);
        limpid_status st = limpid_trainer_export(R.t, 1, &pv, &model);
        if (st != LIMPID_OK) {
            cli_error(CMD, "cannot export the model: %s", limpid_strerror(st));
            goto out;
        }
        st = limpid_model_save_file(model, o->output);
        if (st != LIMPID_OK) {
            cli_error(CMD, "cannot write model '%s': %s", o->output, limpid_strerror(st));
            goto out;
        }
        if (cfg.task == LIMPID_TASK_TEXTURE && write_classes(o->output, &R.ds))
            goto out;
        const limpid_provenance *mp = limpid_model_provenance(model);
        printf("wrote %s (%lld steps, %.1f s of training)\n", o->output, (long long)done,
               mp->train_seconds);
        printf("final train loss ");
        if (isfinite(mp->final_loss))
            printf("%.9g", mp->final_loss);
        else
            printf("n/a");
        printf("  val loss ");
        if (isfinite(mp->val_loss))
            printf("%.9g\n", mp->val_loss);
        else
            printf("n/a\n");
        if (cfg.task == LIMPID_TASK_TEXTURE)
            printf("classes: %s.classes\n", o->output);
        fflush(stdout);
    }
    exit_code = cli_stop_signal == SIGINT    ? CLI_EXIT_INTERRUPTED
              : cli_stop_signal == SIGTERM ? 128 + SIGTERM
                                         : CLI_EXIT_OK;
out:
    limpid_model_destroy(model);
    run_free(&R);
    return exit_code;
out_rc:
    limpid_model_destroy(model);
    run_free(&R);
    return rc;
}
