/* cmd_live.c - `limpid live`: denoise a microphone (any PortAudio input) into an output
 * device in real time with the streaming engine (limpid_stream).
 *
 *   PortAudio full-duplex callback, non-interleaved float32 at the device rate R, B frames
 *     -> limpid_stream_process per channel (resamples R <-> model rate inside, fixed latency)
 *     -> the output channels
 *
 * Channels: stereo linked when both devices have two channels or more (two engines with the
 * same seed, so identical channels give identical outputs and the image stays put); mono
 * otherwise (or with --mono): the first input channel, denoised once, goes to every output
 * channel opened (two when the output device has them).
 *
 * The callback does only limpid_stream_process (which never allocates, locks, logs or
 * touches files), a copy per extra output channel, two clock_gettime(CLOCK_MONOTONIC) reads
 * and relaxed atomic counter updates. Everything it shares with the main thread is in
 * live_rt: xruns (PortAudio's overflow/underflow flags), callbacks that took longer than
 * their block's duration, the longest callback. The main thread prints the status once per
 * second from those counters and Pa_GetStreamCpuLoad.
 */
#define _GNU_SOURCE
#include "cli.h"
#include "pa_util.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CMD "live"
#define MAX_STEPS 8 /* limpid_stream_opts.max_steps */

static void usage(FILE *f)
{
    fprintf(f,
"usage: limpid live [--model rt|FILE] [--input DEV] [--output DEV] [options]\n"
"       limpid live --list-devices\n"
"\n"
"Denoise a live input (a microphone) into an output device in real time, with the\n"
"streaming engine of the plugin: a causal model, a fixed latency, no allocation in the\n"
"audio callback. Stereo linked when both devices have two channels (the same sampler\n"
"noise on both), else mono: the first input channel to every output channel.\n"
"\n"
"Devices:\n"
"  --list-devices    list the audio devices (index, channels, default rate, host API,\n"
"                    name) and exit\n"
"  --input DEV       capture device: an index or a (part of a) name from --list-devices\n"
"                    (default: PortAudio's default input)\n"
"  --output DEV      playback device, the same way (default: the default output); both\n"
"                    must be on the same host API (PortAudio full-duplex stream)\n"
"  --rate HZ         sample rate (default: the input device's default rate); the engine\n"
"                    resamples to and from the model's rate inside\n"
"  --block N         frames per callback (default 256; 0: the host API's choice)\n"
"  --mono            process one channel even when both devices have two\n"
"\n"
"Model and sampling:\n"
"  -m, --model MODEL rt (default: the shipped real-time model) or a model file; it must be\n"
"                    a causal STFT denoiser (trained with 'lookahead = 0' in its config)\n"
"  --strength S      0 < S <= 1: how far into the diffusion process to start from the\n"
"                    input; 1 starts from pure noise (default 1)\n"
"  --steps N         DDIM steps per frame, 1..8 (default 4); the latency does not change,\n"
"                    the CPU load grows with N\n"
"  --seed N          sampler noise (default 0)\n"
"\n"
"Running:\n"
"  --seconds N       stop after N seconds (default: run until Ctrl-C)\n"
"  -q, --quiet       no status line (the set-up and summary lines still print)\n"
"  -h, --help        this help\n"
"\n"
"At start the devices, rate, block and the latency are printed: the denoiser's (constant,\n"
"the STFT frame plus resampling) plus PortAudio's input and output latencies. A status\n"
"line follows once per second on stderr: xruns (input overflows and output underflows\n"
"PortAudio flagged, plus callbacks that took longer than their block's duration), the\n"
"longest callback and PortAudio's CPU load. Ctrl-C or SIGTERM stops cleanly.\n"
"What the audio back-ends print while PortAudio probes them is hidden unless PortAudio\n"
"fails to start; LIMPID_PA_VERBOSE=1 shows it.\n"
"\n"
"Exit status: 0 ran for --seconds, 1 error (model, device), 2 usage error,\n"
"130 stopped by Ctrl-C or SIGTERM.\n");
}

/* ---- the real-time side ------------------------------------------------------------------ */

typedef struct live_rt {
    limpid_stream *st[2];
    int n_streams;          /* 1 mono, 2 stereo linked */
    int out_ch;             /* output channels opened */
    double ns_per_frame;    /* 1e9 / rate */
    atomic_int xruns;       /* callbacks with a PortAudio overflow/underflow flag */
    atomic_int late;        /* callbacks that took longer than their block lasts */
    atomic_int max_us;      /* longest callback, microseconds */
    atomic_llong frames;    /* frames processed */
} live_rt;

static int live_cb(const void *input, void *output, unsigned long n,
                   const PaStreamCallbackTimeInfo *ti, PaStreamCallbackFlags flags, void *user)
{
    (void)ti;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    live_rt *L = user;
    const float *const *in = input; /* paNonInterleaved: one buffer per channel */
    float *const *out = output;
    if (flags & (paInputOverflow | paOutputUnderflow | paInputUnderflow | paOutputOverflow))
        atomic_fetch_add_explicit(&L->xruns, 1, memory_order_relaxed);
    for (int s = 0; s < L->n_streams; s++) {
        if (in)
            limpid_stream_process(L->st[s], in[s], out[s], n);
        else /* no input this time (PortAudio says so on some underflows): silence in */
            memset(out[s], 0, sizeof(float) * n);
    }
    for (int c = L->n_streams; c < L->out_ch; c++)
        memcpy(out[c], out[0], sizeof(float) * n);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
    if (ns > (double)n * L->ns_per_frame)
        atomic_fetch_add_explicit(&L->late, 1, memory_order_relaxed);
    int us = (int)(ns / 1000.0);
    int prev = atomic_load_explicit(&L->max_us, memory_order_relaxed);
    while (us > prev &&
           !atomic_compare_exchange_weak_explicit(&L->max_us, &prev, us, memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
    atomic_fetch_add_explicit(&L->frames, (long long)n, memory_order_relaxed);
    return paContinue;
}

/* ---- set-up ------------------------------------------------------------------------------ */

/* Why limpid_stream_create refused a model with LIMPID_ERR_UNSUPPORTED, in words. */
static void explain_unsupported(const limpid_model *m, int rate, char *buf, size_t len)
{
    const limpid_config *cfg = limpid_model_config(m);
    limpid_model_info mi;
    limpid_model_get_info(m, &mi);
    if (cfg->domain != LIMPID_DOMAIN_STFT)
        snprintf(buf, len, "it works on the waveform; the real-time engine runs STFT models");
    else if (mi.lookahead_frames != 0)
        snprintf(buf, len, "it looks ahead %d frame%s (%.1f ms), and every sampling step would "
                 "add that to the delay; live denoising needs a causal model (trained with "
                 "'lookahead = 0' in its config file)", mi.lookahead_frames,
                 mi.lookahead_frames == 1 ? "" : "s", 1000.0 * mi.lookahead_frames * cfg->hop / cfg->sample_rate);
    else if (cfg->bands > 0)
        snprintf(buf, len, "it has a band-resolved network ('bands = %d'), which the "
                 "real-time engine does not run yet; 'limpid denoise' runs it offline",
                 cfg->bands);
    else if (cfg->head == LIMPID_HEAD_DIRECT)
        snprintf(buf, len, "its output head is 'direct'; the real-time engine needs a gain or "
                 "Wiener head");
    else
        snprintf(buf, len, "the engine cannot convert between %d Hz and the model's %d Hz; "
                 "try --rate %d", rate, cfg->sample_rate, cfg->sample_rate);
}

static int make_streams(live_rt *L, const limpid_model *m, const limpid_stream_opts *so,
                        const char *mpath)
{
    for (int s = 0; s < L->n_streams; s++) {
        limpid_status st = limpid_stream_create(&L->st[s], m, so);
        if (st != LIMPID_OK) {
            char why[512];
            if (st == LIMPID_ERR_UNSUPPORTED)
                explain_unsupported(m, so->sample_rate, why, sizeof why);
            else
                snprintf(why, sizeof why, "%s", limpid_strerror(st));
            cli_error(NULL, "%s cannot run in real time: %s", mpath, why);
            return -1;
        }
    }
    return 0;
}

static void free_streams(live_rt *L)
{
    for (int s = 0; s < 2; s++) {
        limpid_stream_destroy(L->st[s]);
        L->st[s] = NULL;
    }
}

enum {
    OPT_MODEL = 1, OPT_INPUT, OPT_OUTPUT, OPT_LIST, OPT_RATE, OPT_BLOCK, OPT_MONO,
    OPT_STRENGTH, OPT_STEPS, OPT_SEED, OPT_SECONDS, OPT_QUIET, OPT_HELP
};

int cmd_live(int argc, char **argv)
{
    static const cli_opt opts[] = {
        {"model", 'm', 1, OPT_MODEL},
        {"input", 0, 1, OPT_INPUT},
        {"output", 0, 1, OPT_OUTPUT},
        {"list-devices", 0, 0, OPT_LIST},
        {"rate", 0, 1, OPT_RATE},
        {"block", 0, 1, OPT_BLOCK},
        {"mono", 0, 0, OPT_MONO},
        {"strength", 0, 1, OPT_STRENGTH},
        {"steps", 0, 1, OPT_STEPS},
        {"seed", 0, 1, OPT_SEED},
        {"seconds", 0, 1, OPT_SECONDS},
        {"quiet", 'q', 0, OPT_QUIET},
        {"help", 'h', 0, OPT_HELP},
        {NULL, 0, 0, 0},
    };
    const char *model_arg = "rt", *in_spec = NULL, *out_spec = NULL, *val;
    int list = 0, mono = 0, quiet = 0, id;
    long long rate_arg = 0, block = 256, steps = 4, seed = 0;
    double strength = 1.0, seconds = 0.0;
    cli_args a;
    cli_args_init(&a, CMD, argc, argv);
    while ((id = cli_args_next(&a, opts, &val)) != CLI_END) {
        switch (id) {
        case CLI_ERROR:
            return CLI_EXIT_USAGE;
        case CLI_POSITIONAL:
            return cli_usage_error(CMD, "unexpected argument '%s'", val);
        case OPT_MODEL: model_arg = val; break;
        case OPT_INPUT: in_spec = val; break;
        case OPT_OUTPUT: out_spec = val; break;
        case OPT_LIST: list = 1; break;
        case OPT_MONO: mono = 1; break;
        case OPT_QUIET: quiet = 1; break;
        case OPT_RATE:
            if (cli_opt_int(&a, val, 8000, 384000, &rate_arg)) /* the engine's range */
                return CLI_EXIT_USAGE;
            break;
        case OPT_BLOCK:
            if (cli_opt_int(&a, val, 0, 16384, &block))
                return CLI_EXIT_USAGE;
            break;
        case OPT_STRENGTH:
            if (cli_opt_double(&a, val, 1e-3, 1.0, &strength))
                return CLI_EXIT_USAGE;
            break;
        case OPT_STEPS:
            if (cli_opt_int(&a, val, 1, MAX_STEPS, &steps))
                return CLI_EXIT_USAGE;
            break;
        case OPT_SEED:
            if (cli_opt_int(&a, val, 0, INT64_MAX, &seed))
                return CLI_EXIT_USAGE;
            break;
        case OPT_SECONDS:
            if (cli_opt_double(&a, val, 1e-3, 1e9, &seconds))
                return CLI_EXIT_USAGE;
            break;
        case OPT_HELP:
            usage(stdout);
            return CLI_EXIT_OK;
        }
    }

    if (list) {
        if (pa_init(CMD))
            return CLI_EXIT_FAIL;
        pa_list_devices(stdout);
        pa_done();
        return CLI_EXIT_OK;
    }

    /* the model first: its problems need no audio device to be reported */
    char mpath[4096], err[1024], eb[256];
    if (cli_resolve_model(model_arg, cli_denoise_models, mpath, sizeof mpath, err, sizeof err)) {
        cli_error(NULL, "%s", err);
        return CLI_EXIT_FAIL;
    }
    limpid_model *model = NULL;
    err[0] = '\0';
    limpid_status st = limpid_model_load_file(&model, mpath, err, sizeof err);
    if (st != LIMPID_OK) {
        cli_load_error(NULL, "cannot load model", "cannot load model", mpath, err, st);
        return CLI_EXIT_FAIL;
    }
    const limpid_config *cfg = limpid_model_config(model);
    if (cfg->task != LIMPID_TASK_DENOISE) {
        cli_error(NULL, "%s: not a denoising model (it generates textures)", mpath);
        limpid_model_destroy(model);
        return CLI_EXIT_FAIL;
    }
    limpid_stream_opts so;
    limpid_stream_opts_default(&so);
    so.sample_rate = cfg->sample_rate;
    so.max_steps = so.steps = (int)steps;
    so.strength = (float)strength;
    so.seed = (uint64_t)seed;
    so.spread = 1; /* even work per callback: no callback carries a whole frame */
    live_rt L;
    memset(&L, 0, sizeof L);
    L.n_streams = 1; /* probe at the model's rate: is the model streamable at all? */
    if (make_streams(&L, model, &so, mpath)) {
        limpid_model_destroy(model);
        return CLI_EXIT_FAIL;
    }
    free_streams(&L);

    cli_install_stop_signals();
    if (pa_init(CMD)) {
        limpid_model_destroy(model);
        return CLI_EXIT_FAIL;
    }
    int rc = CLI_EXIT_FAIL;
    PaStream *stream = NULL;
    char ilabel[512], olabel[512];
    PaDeviceIndex din = pa_find_device(in_spec, 1, err, sizeof err), dout = paNoDevice;
    if (din == paNoDevice) {
        cli_error(CMD, "%s", err);
        goto out;
    }
    dout = pa_find_device(out_spec, 0, err, sizeof err);
    if (dout == paNoDevice) {
        cli_error(CMD, "%s", err);
        goto out;
    }
    pa_device_label(din, ilabel, sizeof ilabel);
    pa_device_label(dout, olabel, sizeof olabel);
    const PaDeviceInfo *ii = Pa_GetDeviceInfo(din), *oi = Pa_GetDeviceInfo(dout);
    if (ii->hostApi != oi->hostApi) {
        cli_error(CMD, "the input %s and the output %s are on different host APIs: a "
                  "full-duplex stream needs one (pick both from the same host API in "
                  "--list-devices)", ilabel, olabel);
        goto out;
    }
    int stereo = !mono && ii->maxInputChannels >= 2 && oi->maxOutputChannels >= 2;
    L.n_streams = stereo ? 2 : 1;
    L.out_ch = stereo ? 2 : (oi->maxOutputChannels >= 2 ? 2 : 1);
    PaStreamParameters ip, op;
    memset(&ip, 0, sizeof ip);
    memset(&op, 0, sizeof op);
    ip.device = din;
    ip.channelCount = L.n_streams;
    ip.sampleFormat = paFloat32 | paNonInterleaved;
    ip.suggestedLatency = ii->defaultLowInputLatency;
    op.device = dout;
    op.channelCount = L.out_ch;
    op.sampleFormat = paFloat32 | paNonInterleaved;
    op.suggestedLatency = oi->defaultLowOutputLatency;

    /* the rate: --rate, else the input's default, else the output's */
    int rate = rate_arg ? (int)rate_arg : (int)(ii->defaultSampleRate + 0.5);
    PaError e = Pa_IsFormatSupported(&ip, &op, rate);
    if (e != paFormatIsSupported && !rate_arg) {
        int orate = (int)(oi->defaultSampleRate + 0.5);
        if (orate != rate && Pa_IsFormatSupported(&ip, &op, orate) == paFormatIsSupported) {
            rate = orate;
            e = paFormatIsSupported;
        }
    }
    if (e != paFormatIsSupported) {
        cli_error(CMD, "the input %s and the output %s cannot run together at %d Hz with %d "
                  "in / %d out channels: %s%s", ilabel, olabel, rate, ip.channelCount,
                  op.channelCount, pa_error_text(e, eb, sizeof eb),
                  rate_arg ? " (try another --rate)" : "");
        goto out;
    }
    if (rate < 8000 || rate > 384000) {
        cli_error(CMD, "the devices run at %d Hz; the real-time engine takes 8000..384000 Hz",
                  rate);
        goto out;
    }
    so.sample_rate = rate;
    if (make_streams(&L, model, &so, mpath))
        goto out;
    L.ns_per_frame = 1e9 / rate;
    /* touch the engines' memory once before the first callback (first-use page faults),
     * then back to silence */
    {
        float z[256], y[256];
        memset(z, 0, sizeof z);
        for (int s = 0; s < L.n_streams; s++) {
            for (int k = 0; k < rate / 10; k += 256)
                limpid_stream_process(L.st[s], z, y, 256);
            limpid_stream_reset(L.st[s]);
        }
    }

    e = Pa_OpenStream(&stream, &ip, &op, rate,
                      block ? (unsigned long)block : paFramesPerBufferUnspecified, paNoFlag,
                      live_cb, &L);
    if (e != paNoError) {
        stream = NULL;
        cli_error(CMD, "cannot open the input %s and the output %s at %d Hz, block %lld: %s",
                  ilabel, olabel, rate, block, pa_error_text(e, eb, sizeof eb));
        goto out;
    }
    const PaStreamInfo *si = Pa_GetStreamInfo(stream);
    double srate = si && si->sampleRate > 0 ? si->sampleRate : rate;
    int lat = limpid_stream_latency(L.st[0]);
    double eng_ms = 1000.0 * lat / srate;
    double in_ms = si ? 1000.0 * si->inputLatency : 0.0;
    double out_ms = si ? 1000.0 * si->outputLatency : 0.0;
    limpid_model_info mi;
    limpid_model_get_info(model, &mi);
    printf("model:      %s (%d Hz, %.0f MMAC/s per step), %d step%s, strength %g, seed %lld\n",
           mpath, cfg->sample_rate, mi.macs_per_second / 1e6, so.steps,
           so.steps == 1 ? "" : "s", (double)so.strength, seed);
    printf("input:      %s, %d channel%s\n", ilabel, ip.channelCount,
           ip.channelCount == 1 ? "" : "s");
    printf("output:     %s, %d channel%s\n", olabel, op.channelCount,
           op.channelCount == 1 ? "" : "s");
    if (stereo)
        printf("processing: stereo linked (two engines, the same seed)\n");
    else
        printf("processing: mono (input channel 1 to %s)\n",
               L.out_ch == 1 ? "the output channel" : "both output channels");
    if (block)
        printf("rate:       %.0f Hz, block %lld frames (%.2f ms)\n", srate, block,
               1000.0 * (double)block / srate);
    else
        printf("rate:       %.0f Hz, block: the host API's choice\n", srate);
    printf("latency:    %.1f ms = denoiser %.1f ms (%d samples) + input %.1f ms + output "
           "%.1f ms (PortAudio's figures)\n", eng_ms + in_ms + out_ms, eng_ms, lat, in_ms, out_ms);
    if (seconds > 0)
        printf("running for %g s\n", seconds);
    else
        printf("running; Ctrl-C stops\n");
    fflush(stdout);

    e = Pa_StartStream(stream);
    if (e != paNoError) {
        cli_error(CMD, "cannot start the stream (input %s, output %s): %s", ilabel, olabel,
                  pa_error_text(e, eb, sizeof eb));
        goto out;
    }
    int tty = isatty(STDERR_FILENO), shown = 0;
    double t0 = cli_now(), next = t0 + 1.0, load_max = 0.0;
    rc = CLI_EXIT_OK;
    for (;;) {
        Pa_Sleep(20);
        double now = cli_now();
        if (cli_stop_signal) {
            rc = CLI_EXIT_INTERRUPTED;
            break;
        }
        if (seconds > 0 && now - t0 >= seconds)
            break;
        PaError act = Pa_IsStreamActive(stream);
        if (act != 1) {
            cli_error(CMD, "the stream stopped by itself (input %s, output %s)%s%s", ilabel,
                      olabel, act < 0 ? ": " : "", act < 0 ? pa_error_text(act, eb, sizeof eb) : "");
            rc = CLI_EXIT_FAIL;
            break;
        }
        double load = Pa_GetStreamCpuLoad(stream);
        if (load > load_max)
            load_max = load;
        if (now >= next) {
            next += 1.0;
            if (!quiet) {
                int xr = atomic_load_explicit(&L.xruns, memory_order_relaxed);
                int late = atomic_load_explicit(&L.late, memory_order_relaxed);
                int mu = atomic_load_explicit(&L.max_us, memory_order_relaxed);
                fprintf(stderr, "%s%5.0f s  xruns %d (flagged %d, late %d)  CPU %5.1f%%  "
                        "longest callback %.2f ms%s", tty ? "\r" : "", now - t0, xr + late, xr,
                        late, 100.0 * load, mu / 1000.0, tty ? " " : "\n");
                fflush(stderr);
                shown = 1;
            }
        }
    }
    if (shown && tty)
        fputc('\n', stderr);
    double ran = cli_now() - t0;
    if (rc == CLI_EXIT_FAIL)
        Pa_AbortStream(stream);
    else if ((e = Pa_StopStream(stream)) != paNoError) {
        cli_error(CMD, "cannot stop the stream: %s", pa_error_text(e, eb, sizeof eb));
        rc = CLI_EXIT_FAIL;
    }
    {
        int xr = atomic_load(&L.xruns), late = atomic_load(&L.late), mu = atomic_load(&L.max_us);
        long long frames = atomic_load(&L.frames);
        printf("%s after %.1f s: %lld frames (%.0f per second), xruns %d (%d flagged by "
               "PortAudio, %d callbacks longer than their block), longest callback %.2f ms, "
               "CPU load up to %.1f%%\n", rc == CLI_EXIT_INTERRUPTED ? "interrupted" : "stopped",
               ran, frames, ran > 0 ? (double)frames / ran : 0.0, xr + late, xr, late,
               mu / 1000.0, 100.0 * load_max);
        fflush(stdout);
    }
out:
    if (stream)
        Pa_CloseStream(stream);
    pa_done();
    free_streams(&L);
    limpid_model_destroy(model);
    return rc;
}
