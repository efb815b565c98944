/* denoise_file.c - denoise an audio file with the limpid library alone (its public API, no
 * limpid command-line code).
 *
 * usage: denoise_file MODEL INPUT OUTPUT [STEPS]
 *
 * Reads INPUT with libsndfile (WAV, FLAC, Ogg, ...), mixes its channels to mono, denoises it
 * with the model file MODEL (e.g. share/limpid/rt.lpm of an installation) and writes OUTPUT
 * as a mono file in the input's format. STEPS is the number of network evaluations of the
 * DDIM sampler (default 4). The input must be at the model's sample rate: this example does
 * not resample (`limpid denoise` does, and keeps every channel).
 *
 * Build against an installed limpid:
 *
 *     cc denoise_file.c $(pkg-config --cflags --libs limpid sndfile) -o denoise_file
 *
 * Exit status: 0 done, 1 error, 2 usage error.
 */
#include <limpid.h>
#include <sndfile.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The whole file as mono float samples (the mean of its channels); NULL on error. */
static float *read_mono(const char *path, SF_INFO *info, size_t *n)
{
    memset(info, 0, sizeof *info);
    SNDFILE *f = sf_open(path, SFM_READ, info);
    if (!f) {
        fprintf(stderr, "denoise_file: %s: %s\n", path, sf_strerror(NULL));
        return NULL;
    }
    const size_t frames = (size_t)info->frames, ch = (size_t)info->channels;
    float *inter = malloc((frames * ch + 1) * sizeof *inter);
    float *mono = malloc((frames + 1) * sizeof *mono);
    if (!inter || !mono) {
        fprintf(stderr, "denoise_file: %s: out of memory (%zu frames)\n", path, frames);
        goto fail;
    }
    sf_count_t got = sf_readf_float(f, inter, (sf_count_t)frames);
    if (got < 0 || (size_t)got != frames) {
        fprintf(stderr, "denoise_file: %s: read %lld of %zu frames: %s\n", path,
                (long long)got, frames, sf_strerror(f));
        goto fail;
    }
    for (size_t i = 0; i < frames; i++) {
        float s = 0.0f;
        for (size_t c = 0; c < ch; c++)
            s += inter[i * ch + c];
        mono[i] = s / (float)ch;
    }
    free(inter);
    sf_close(f);
    *n = frames;
    return mono;
fail:
    free(inter);
    free(mono);
    sf_close(f);
    return NULL;
}

static int write_mono(const char *path, const SF_INFO *in_info, const float *x, size_t n)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = in_info->samplerate;
    info.channels = 1;
    info.format = in_info->format;
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) {
        fprintf(stderr, "denoise_file: cannot write %s: %s\n", path, sf_strerror(NULL));
        return -1;
    }
    /* integer formats: clip rather than wrap around on samples past full scale */
    sf_command(f, SFC_SET_CLIPPING, NULL, SF_TRUE);
    sf_count_t put = sf_writef_float(f, x, (sf_count_t)n);
    int bad = put < 0 || (size_t)put != n;
    if (bad)
        fprintf(stderr, "denoise_file: %s: wrote %lld of %zu frames: %s\n", path,
                (long long)put, n, sf_strerror(f));
    if (sf_close(f) != 0 && !bad) {
        fprintf(stderr, "denoise_file: %s: cannot finish the file\n", path);
        bad = 1;
    }
    return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: denoise_file MODEL INPUT OUTPUT [STEPS]\n");
        return 2;
    }
    int steps = 4;
    if (argc == 5) {
        char *end;
        long v = strtol(argv[4], &end, 10);
        if (*end || end == argv[4] || v < 1 || v > 1000) {
            fprintf(stderr, "denoise_file: STEPS must be a whole number from 1 to 1000 "
                            "(got '%s')\n", argv[4]);
            return 2;
        }
        steps = (int)v;
    }

    char err[512] = "";
    limpid_model *model = NULL;
    limpid_status st = limpid_model_load_file(&model, argv[1], err, sizeof err);
    if (st != LIMPID_OK) {
        fprintf(stderr, "denoise_file: cannot load the model %s: %s\n", argv[1],
                err[0] ? err : limpid_strerror(st));
        return 1;
    }
    const limpid_config *cfg = limpid_model_config(model);
    if (cfg->task != LIMPID_TASK_DENOISE) {
        fprintf(stderr, "denoise_file: %s is not a denoising model\n", argv[1]);
        limpid_model_destroy(model);
        return 1;
    }
    if (steps > cfg->steps_T) {
        fprintf(stderr, "denoise_file: STEPS %d is more than the model's %d diffusion steps\n",
                steps, cfg->steps_T);
        limpid_model_destroy(model);
        return 2;
    }

    int rc = 1;
    limpid_ctx *ctx = NULL;
    SF_INFO info;
    size_t n = 0;
    float *x = read_mono(argv[2], &info, &n);
    if (!x)
        goto out;
    if (info.samplerate != cfg->sample_rate) {
        fprintf(stderr, "denoise_file: %s is at %d Hz but the model works at %d Hz: resample it "
                        "first (e.g. sox IN -r %d OUT), or use 'limpid denoise'\n",
                argv[2], info.samplerate, cfg->sample_rate, cfg->sample_rate);
        goto out;
    }

    /* Scratch memory for up to 30 s per call; limpid_denoise splits longer signals into
     * overlapping blocks itself. */
    const int hop = limpid_config_frame_hop(cfg);
    int max_frames = (int)((30.0 * cfg->sample_rate) / hop);
    st = limpid_ctx_create(&ctx, model, max_frames);
    if (st != LIMPID_OK) {
        fprintf(stderr, "denoise_file: cannot create a runtime state: %s\n", limpid_strerror(st));
        goto out;
    }
    limpid_sample_opts so;
    limpid_sample_opts_default(&so); /* DDIM, deterministic, from pure noise, seed 0 */
    so.steps = steps;
    st = limpid_denoise(ctx, x, n, x, &so); /* in place: in and out may alias */
    if (st != LIMPID_OK) {
        fprintf(stderr, "denoise_file: denoising failed: %s\n", limpid_strerror(st));
        goto out;
    }
    if (write_mono(argv[3], &info, x, n) == 0) {
        printf("%s -> %s (%zu samples at %d Hz, %d steps, limpid %s)\n", argv[2], argv[3], n,
               info.samplerate, steps, limpid_version());
        rc = 0;
    }
out:
    limpid_ctx_destroy(ctx);
    limpid_model_destroy(model);
    free(x);
    return rc;
}
