/* pa_util.c - PortAudio start-up, devices and the player of the CLI (see pa_util.h). */
#define _GNU_SOURCE /* strcasestr */
#include "pa_util.h"
#include "cli.h"

#include <limits.h>
#include <samplerate.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- start-up ---------------------------------------------------------------------------- */

static int pa_verbose(void)
{
    const char *v = getenv("LIMPID_PA_VERBOSE");
    return v && *v && strcmp(v, "0") != 0;
}

int pa_init(const char *cmd)
{
    /* PortAudio probes every back-end it was built with; ALSA and JACK print to stderr what
     * they do not find. Keep that in a temporary file, shown only if PortAudio fails. */
    FILE *tmp = NULL;
    int saved = -1;
    if (!pa_verbose()) {
        fflush(stderr);
        tmp = tmpfile();
        if (tmp) {
            saved = dup(STDERR_FILENO);
            if (saved < 0 || dup2(fileno(tmp), STDERR_FILENO) < 0) {
                if (saved >= 0)
                    close(saved);
                saved = -1;
            }
        }
    }
    PaError e = Pa_Initialize();
    if (saved >= 0) {
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
    }
    if (e != paNoError && tmp) {
        char buf[4096];
        size_t n;
        rewind(tmp);
        while ((n = fread(buf, 1, sizeof buf, tmp)) > 0)
            fwrite(buf, 1, n, stderr);
    }
    if (tmp)
        fclose(tmp);
    if (e != paNoError) {
        char eb[256];
        cli_error(cmd, "cannot start PortAudio: %s", pa_error_text(e, eb, sizeof eb));
        return -1;
    }
    return 0;
}

void pa_done(void)
{
    Pa_Terminate();
}

const char *pa_error_text(PaError err, char *buf, size_t len)
{
    if (err == paUnanticipatedHostError) {
        const PaHostErrorInfo *h = Pa_GetLastHostErrorInfo();
        const PaHostApiInfo *api = h ? Pa_GetHostApiInfo(Pa_HostApiTypeIdToHostApiIndex(h->hostApiType)) : NULL;
        snprintf(buf, len, "%s (%s: %s, code %ld)", Pa_GetErrorText(err),
                 api ? api->name : "host API", h && h->errorText ? h->errorText : "?",
                 h ? h->errorCode : 0L);
    } else {
        snprintf(buf, len, "%s", Pa_GetErrorText(err));
    }
    return buf;
}

/* ---- devices ----------------------------------------------------------------------------- */

static int dev_channels(const PaDeviceInfo *d, int is_input)
{
    return d ? (is_input ? d->maxInputChannels : d->maxOutputChannels) : 0;
}

static const char *api_name(const PaDeviceInfo *d)
{
    const PaHostApiInfo *h = d ? Pa_GetHostApiInfo(d->hostApi) : NULL;
    return h && h->name ? h->name : "?";
}

void pa_device_label(PaDeviceIndex d, char *buf, size_t len)
{
    const PaDeviceInfo *di = Pa_GetDeviceInfo(d);
    if (!di) {
        snprintf(buf, len, "#%d", (int)d);
        return;
    }
    snprintf(buf, len, "#%d '%s' (%s)", (int)d, di->name ? di->name : "?", api_name(di));
}

/* Append "#i 'name'" of the devices with channels in the direction (all when filter is NULL,
 * else those whose name contains it) to buf. */
static void list_names(char *buf, size_t len, int is_input, const char *filter)
{
    size_t used = strlen(buf);
    int n = Pa_GetDeviceCount(), first = 1;
    for (int i = 0; i < n && used + 1 < len; i++) {
        const PaDeviceInfo *d = Pa_GetDeviceInfo(i);
        if (dev_channels(d, is_input) < 1 || (filter && !strcasestr(d->name, filter)))
            continue;
        int k = snprintf(buf + used, len - used, "%s#%d '%s'", first ? "" : ", ", i, d->name);
        if (k < 0)
            break;
        used += (size_t)k < len - used ? (size_t)k : len - used - 1;
        first = 0;
    }
    if (first)
        snprintf(buf + used, len - used, "none");
}

PaDeviceIndex pa_find_device(const char *spec, int is_input, char *err, size_t errlen)
{
    const char *dir = is_input ? "input" : "output";
    int n = Pa_GetDeviceCount();
    char eb[256];
    if (n < 0) {
        snprintf(err, errlen, "PortAudio cannot list the audio devices: %s",
                 pa_error_text(n, eb, sizeof eb));
        return paNoDevice;
    }
    if (!spec) {
        PaDeviceIndex d = is_input ? Pa_GetDefaultInputDevice() : Pa_GetDefaultOutputDevice();
        if (d == paNoDevice) {
            if (n == 0)
                snprintf(err, errlen, "no default %s device: PortAudio found no audio device "
                         "at all (is a sound card or a sound server such as JACK there? "
                         "LIMPID_PA_VERBOSE=1 shows what the audio back-ends reported)", dir);
            else
                snprintf(err, errlen, "no default %s device among the %d PortAudio devices: "
                         "pick one with --%s (see 'limpid live --list-devices')", dir, n, dir);
        }
        return d;
    }
    long long idx;
    if (cli_parse_int(spec, 0, INT_MAX, &idx) == 0) {
        if (idx >= n) {
            snprintf(err, errlen, "no audio device #%lld: PortAudio has %d device%s%s "
                     "(see 'limpid live --list-devices')", idx, n, n == 1 ? "" : "s",
                     n ? "" : " (LIMPID_PA_VERBOSE=1 shows what the audio back-ends reported)");
            return paNoDevice;
        }
        const PaDeviceInfo *d = Pa_GetDeviceInfo((PaDeviceIndex)idx);
        if (dev_channels(d, is_input) < 1) {
            snprintf(err, errlen, "audio device #%lld '%s' has no %s channels", idx,
                     d ? d->name : "?", dir);
            return paNoDevice;
        }
        return (PaDeviceIndex)idx;
    }
    /* exact name first (case-insensitive), then a unique substring */
    PaDeviceIndex found = paNoDevice;
    int matches = 0, any_direction = -1;
    for (int i = 0; i < n; i++) {
        const PaDeviceInfo *d = Pa_GetDeviceInfo(i);
        if (d && d->name && strcasecmp(d->name, spec) == 0) {
            if (dev_channels(d, is_input) > 0)
                return i;
            any_direction = i;
        }
    }
    for (int i = 0; i < n; i++) {
        const PaDeviceInfo *d = Pa_GetDeviceInfo(i);
        if (!d || !d->name || !strcasestr(d->name, spec))
            continue;
        if (dev_channels(d, is_input) > 0) {
            found = i;
            matches++;
        } else if (any_direction < 0) {
            any_direction = i;
        }
    }
    if (matches == 1)
        return found;
    if (matches > 1) {
        int k = snprintf(err, errlen, "the %s device name '%s' is ambiguous: it matches ", dir,
                         spec);
        if (k > 0 && (size_t)k < errlen) {
            err[k] = '\0';
            list_names(err, errlen, is_input, spec);
            size_t u = strlen(err);
            snprintf(err + u, errlen - u, "; give the index or the whole name");
        }
        return paNoDevice;
    }
    if (any_direction >= 0) {
        snprintf(err, errlen, "audio device #%d '%s' has no %s channels", any_direction,
                 Pa_GetDeviceInfo(any_direction)->name, dir);
        return paNoDevice;
    }
    int k = snprintf(err, errlen, "no %s device named '%s'; the %s devices are: ", dir, spec,
                     dir);
    if (k > 0 && (size_t)k < errlen) {
        list_names(err, errlen, is_input, NULL);
        size_t u = strlen(err);
        snprintf(err + u, errlen - u, " (see 'limpid live --list-devices')");
    }
    return paNoDevice;
}

void pa_list_devices(FILE *f)
{
    int n = Pa_GetDeviceCount();
    char eb[256];
    if (n < 0) {
        fprintf(f, "PortAudio cannot list the audio devices: %s\n", pa_error_text(n, eb, sizeof eb));
        return;
    }
    fprintf(f, "%s\n", Pa_GetVersionText());
    if (n == 0) {
        fprintf(f, "no audio devices (host APIs probed:");
        for (int h = 0; h < Pa_GetHostApiCount(); h++) {
            const PaHostApiInfo *hi = Pa_GetHostApiInfo(h);
            fprintf(f, "%s %s", h ? "," : "", hi && hi->name ? hi->name : "?");
        }
        fprintf(f, "); LIMPID_PA_VERBOSE=1 shows what they reported\n");
        return;
    }
    PaDeviceIndex din = Pa_GetDefaultInputDevice(), dout = Pa_GetDefaultOutputDevice();
    fprintf(f, "%5s %4s %4s %8s  %-28s %s\n", "index", "in", "out", "rate", "host API", "name");
    for (int i = 0; i < n; i++) {
        const PaDeviceInfo *d = Pa_GetDeviceInfo(i);
        if (!d)
            continue;
        const char *mark = i == din && i == dout ? "  [default input and output]"
                           : i == din           ? "  [default input]"
                           : i == dout          ? "  [default output]"
                                                : "";
        fprintf(f, "%5d %4d %4d %8.0f  %-28s %s%s\n", i, d->maxInputChannels,
                d->maxOutputChannels, d->defaultSampleRate, api_name(d), d->name ? d->name : "?",
                mark);
    }
}

/* ---- playback ---------------------------------------------------------------------------- */

#define PLAY_CHUNK 1024 /* device frames produced per step of the main thread */

/* Single-producer single-consumer ring of interleaved frames: the main thread writes, the
 * audio callback reads. w and r count frames since the start (they only grow), so w - r is
 * the fill and neither side ever writes the other's index. */
typedef struct ring {
    float *buf;    /* [cap * ch] */
    size_t cap;    /* frames, a power of two */
    int ch;
    atomic_size_t w, r;
} ring;

typedef struct play_shared {
    ring rb;
    atomic_int eof;        /* set after the last frame is in the ring */
    atomic_llong played;   /* frames handed to the device */
    atomic_llong calls;    /* callbacks so far (a heartbeat: the device is running) */
    atomic_int underruns;  /* callbacks that found the ring short before the end */
    atomic_int xruns;      /* callbacks flagged paOutputUnderflow by PortAudio */
} play_shared;

/* Real-time: copies frames out of the ring; no allocation, lock, I/O or logging. */
static int play_cb(const void *input, void *output, unsigned long frames,
                   const PaStreamCallbackTimeInfo *ti, PaStreamCallbackFlags flags, void *user)
{
    (void)input;
    (void)ti;
    play_shared *s = user;
    ring *rb = &s->rb;
    float *out = output;
    const size_t ch = (size_t)rb->ch;
    atomic_fetch_add_explicit(&s->calls, 1, memory_order_relaxed);
    if (flags & paOutputUnderflow)
        atomic_fetch_add_explicit(&s->xruns, 1, memory_order_relaxed);
    /* eof before w: once eof is seen, the w it was published after is final */
    int eof = atomic_load_explicit(&s->eof, memory_order_acquire);
    size_t w = atomic_load_explicit(&rb->w, memory_order_acquire);
    size_t r = atomic_load_explicit(&rb->r, memory_order_relaxed);
    size_t k = w - r < frames ? w - r : frames;
    size_t at = r & (rb->cap - 1);
    size_t k1 = k < rb->cap - at ? k : rb->cap - at;
    memcpy(out, rb->buf + at * ch, k1 * ch * sizeof(float));
    memcpy(out + k1 * ch, rb->buf, (k - k1) * ch * sizeof(float));
    atomic_store_explicit(&rb->r, r + k, memory_order_release);
    memset(out + k * ch, 0, (frames - k) * ch * sizeof(float));
    atomic_fetch_add_explicit(&s->played, (long long)k, memory_order_relaxed);
    if (k < frames) {
        if (eof)
            return paComplete;
        atomic_fetch_add_explicit(&s->underruns, 1, memory_order_relaxed);
    }
    return paContinue;
}

/* The main thread's side: the source, channel mapping and resampling. */
typedef struct producer {
    pa_play_read_fn read;
    void *user;
    int src_ch, dev_ch;
    int mix_down;          /* several source channels into one device channel */
    int64_t limit;         /* source frames still allowed (--seconds); < 0: no limit */
    int failed;            /* the reader returned -1 */
    float *sbuf;           /* [PLAY_CHUNK * src_ch] source frames */
    float *mbuf;           /* [PLAY_CHUNK * dev_ch] mapped to the device's channels */
    SRC_STATE *src;        /* NULL when the device runs at the source's rate */
    double ratio;          /* device rate / source rate */
} producer;

/* Up to want (<= PLAY_CHUNK) source frames mapped to the device channels in p->mbuf; the
 * count, 0 at the end, -1 on a reader error. */
static long read_mapped(producer *p, long want)
{
    if (p->failed)
        return -1;
    if (p->limit >= 0 && want > p->limit)
        want = (long)p->limit;
    if (want <= 0)
        return 0;
    long n = p->read(p->user, p->sbuf, want);
    if (n < 0) {
        p->failed = 1;
        return -1;
    }
    if (n > want)
        n = want;
    if (p->limit >= 0)
        p->limit -= n;
    const int sc = p->src_ch, dc = p->dev_ch;
    for (long t = 0; t < n; t++) {
        const float *x = p->sbuf + (size_t)t * (size_t)sc;
        float *y = p->mbuf + (size_t)t * (size_t)dc;
        if (p->mix_down) {
            float acc = 0.0f;
            for (int c = 0; c < sc; c++)
                acc += x[c];
            y[0] = acc / (float)sc;
        } else if (sc == 1) {
            for (int c = 0; c < dc; c++)
                y[c] = x[0];
        } else {
            for (int c = 0; c < dc; c++)
                y[c] = x[c];
        }
    }
    return n;
}

static long src_cb(void *cb_data, float **data)
{
    producer *p = cb_data;
    long n = read_mapped(p, PLAY_CHUNK);
    *data = p->mbuf;
    return n > 0 ? n : 0; /* 0 ends the conversion; a reader error is seen in p->failed */
}

/* Up to want device frames into out; the count, 0 at the end, -1 on an error (printed). */
static long produce(producer *p, const char *cmd, float *out, long want)
{
    if (!p->src) {
        long n = read_mapped(p, want);
        if (n > 0)
            memcpy(out, p->mbuf, sizeof(float) * (size_t)n * (size_t)p->dev_ch);
        return n;
    }
    long n = src_callback_read(p->src, p->ratio, want, out);
    if (p->failed)
        return -1;
    if (n < 0 || (n == 0 && src_error(p->src))) {
        cli_error(cmd, "resampling failed: %s", src_strerror(src_error(p->src)));
        return -1;
    }
    return n;
}

static void fmt_time(char *buf, size_t len, double s)
{
    if (s < 0)
        s = 0;
    int m = (int)(s / 60.0);
    snprintf(buf, len, "%d:%04.1f", m, s - 60.0 * m);
}

int pa_play(const pa_play_opts *o, pa_play_read_fn read, void *user)
{
    const char *cmd = o->cmd;
    char err[1024], eb[256], dlabel[512];
    int rc = CLI_EXIT_FAIL;
    if (o->channels < 1 || o->rate < 1) {
        cli_error(cmd, "%s: nothing to play (%d channels at %d Hz)", o->label, o->channels,
                  o->rate);
        return CLI_EXIT_FAIL;
    }
    if (pa_init(cmd))
        return CLI_EXIT_FAIL;
    play_shared sh;
    memset(&sh, 0, sizeof sh);
    producer p;
    memset(&p, 0, sizeof p);
    PaStream *stream = NULL;
    float *obuf = NULL;

    PaDeviceIndex dev = pa_find_device(o->device, 0, err, sizeof err);
    if (dev == paNoDevice) {
        cli_error(cmd, "%s", err);
        goto out;
    }
    pa_device_label(dev, dlabel, sizeof dlabel);
    const PaDeviceInfo *di = Pa_GetDeviceInfo(dev);
    int maxout = di->maxOutputChannels;
    p.read = read;
    p.user = user;
    p.src_ch = o->channels;
    if (o->channels == 1) {
        p.dev_ch = maxout >= 2 ? 2 : 1;
    } else if (o->channels <= maxout) {
        p.dev_ch = o->channels;
    } else if (maxout == 1) {
        p.dev_ch = 1;
        p.mix_down = 1;
    } else {
        p.dev_ch = maxout;
        if (!o->quiet)
            cli_warn(cmd, "%s has %d channels, the output %s %d: playing the first %d",
                     o->label, o->channels, dlabel, maxout, maxout);
    }
    PaStreamParameters op;
    memset(&op, 0, sizeof op);
    op.device = dev;
    op.channelCount = p.dev_ch;
    op.sampleFormat = paFloat32;
    op.suggestedLatency = di->defaultHighOutputLatency; /* playback: robustness over latency */
    int rate = o->rate;
    PaError e = Pa_IsFormatSupported(NULL, &op, rate);
    if (e != paFormatIsSupported) {
        int drate = (int)(di->defaultSampleRate + 0.5);
        PaError e2 = drate > 0 ? Pa_IsFormatSupported(NULL, &op, drate) : paInvalidSampleRate;
        if (e2 != paFormatIsSupported) {
            cli_error(cmd, "the output %s plays neither %d Hz (%s) nor its default %d Hz "
                      "with %d channel%s (%s)", dlabel, rate, pa_error_text(e, eb, sizeof eb),
                      drate, p.dev_ch, p.dev_ch == 1 ? "" : "s", Pa_GetErrorText(e2));
            goto out;
        }
        rate = drate;
    }
    p.limit = o->max_seconds > 0 ? (int64_t)(o->max_seconds * o->rate + 0.5) : -1;
    p.sbuf = malloc(sizeof(float) * PLAY_CHUNK * (size_t)p.src_ch);
    p.mbuf = malloc(sizeof(float) * PLAY_CHUNK * (size_t)p.dev_ch);
    obuf = malloc(sizeof(float) * PLAY_CHUNK * (size_t)p.dev_ch);
    size_t cap = 4096;
    while (cap < (size_t)rate / 2) /* about half a second of read-ahead */
        cap *= 2;
    sh.rb.cap = cap;
    sh.rb.ch = p.dev_ch;
    sh.rb.buf = calloc(cap * (size_t)p.dev_ch, sizeof(float));
    if (!p.sbuf || !p.mbuf || !obuf || !sh.rb.buf) {
        cli_error(cmd, "out of memory");
        goto out;
    }
    if (rate != o->rate) {
        int se = 0;
        p.ratio = (double)rate / o->rate;
        p.src = src_callback_new(src_cb, SRC_SINC_MEDIUM_QUALITY, p.dev_ch, &se, &p);
        if (!p.src) {
            cli_error(cmd, "cannot start the resampler (%d -> %d Hz, %d channels): %s",
                      o->rate, rate, p.dev_ch, src_strerror(se));
            goto out;
        }
    }

    e = Pa_OpenStream(&stream, NULL, &op, rate, paFramesPerBufferUnspecified, paNoFlag,
                      play_cb, &sh);
    if (e != paNoError) {
        stream = NULL;
        cli_error(cmd, "cannot open the output %s at %d Hz, %d channel%s: %s", dlabel, rate,
                  p.dev_ch, p.dev_ch == 1 ? "" : "s", pa_error_text(e, eb, sizeof eb));
        goto out;
    }
    if (!o->quiet) {
        printf("playing %s on %s: %d Hz%s, %d channel%s\n", o->label, dlabel, rate,
               rate != o->rate ? " (resampled)" : "", p.dev_ch, p.dev_ch == 1 ? "" : "s");
        if (rate != o->rate)
            printf("resampling %d -> %d Hz (the device does not take %d Hz)\n", o->rate, rate,
                   o->rate);
        fflush(stdout);
    }

    /* the main loop: keep the ring full; start once it is (or the source ended) */
    int eof = 0, started = 0, progress = !o->quiet && isatty(STDERR_FILENO);
    double total = o->frames > 0 ? (double)o->frames / o->rate : -1.0;
    if (o->max_seconds > 0 && (total < 0 || o->max_seconds < total))
        total = o->max_seconds;
    double last_print = 0.0, last_move = cli_now(), drain_since = 0.0;
    long long last_calls = 0;
    for (;;) {
        if (cli_stop_signal) {
            if (started)
                Pa_AbortStream(stream);
            rc = CLI_EXIT_INTERRUPTED;
            break;
        }
        while (!eof) {
            size_t w = atomic_load_explicit(&sh.rb.w, memory_order_relaxed);
            size_t r = atomic_load_explicit(&sh.rb.r, memory_order_acquire);
            size_t space = cap - (w - r);
            if (space < PLAY_CHUNK)
                break;
            long n = produce(&p, cmd, obuf, PLAY_CHUNK);
            if (n < 0) {
                if (started)
                    Pa_AbortStream(stream);
                goto out; /* message printed */
            }
            if (n == 0) {
                eof = 1;
                atomic_store_explicit(&sh.eof, 1, memory_order_release);
                drain_since = cli_now();
                break;
            }
            size_t at = w & (cap - 1), ch = (size_t)p.dev_ch;
            size_t k1 = (size_t)n < cap - at ? (size_t)n : cap - at;
            memcpy(sh.rb.buf + at * ch, obuf, k1 * ch * sizeof(float));
            memcpy(sh.rb.buf, obuf + k1 * ch, ((size_t)n - k1) * ch * sizeof(float));
            atomic_store_explicit(&sh.rb.w, w + (size_t)n, memory_order_release);
        }
        if (!started) {
            e = Pa_StartStream(stream);
            if (e != paNoError) {
                cli_error(cmd, "cannot start the output %s: %s", dlabel,
                          pa_error_text(e, eb, sizeof eb));
                goto out;
            }
            started = 1;
            last_move = cli_now();
        }
        double now = cli_now();
        long long played = atomic_load_explicit(&sh.played, memory_order_relaxed);
        long long calls = atomic_load_explicit(&sh.calls, memory_order_relaxed);
        if (calls != last_calls) {
            last_calls = calls;
            last_move = now;
        }
        PaError act = Pa_IsStreamActive(stream);
        if (act < 0) {
            cli_error(cmd, "the output %s failed: %s", dlabel, pa_error_text(act, eb, sizeof eb));
            goto out;
        }
        if (eof && act == 0) /* the callback returned paComplete and the device drained */
            break;
        if (eof && now - drain_since > 2.0 + Pa_GetStreamInfo(stream)->outputLatency) {
            /* the last samples are out; some host APIs keep the stream "active" a while */
            if (atomic_load_explicit(&sh.rb.w, memory_order_relaxed) ==
                atomic_load_explicit(&sh.rb.r, memory_order_relaxed))
                break;
        }
        if (!eof && now - last_move > 5.0) {
            Pa_AbortStream(stream);
            cli_error(cmd, "the output %s stopped taking audio (no callback for 5 s)", dlabel);
            goto out;
        }
        if (progress && now - last_print >= 0.1) {
            char a[32], b[32];
            fmt_time(a, sizeof a, (double)played / rate);
            fmt_time(b, sizeof b, total);
            fprintf(stderr, "\rplaying %s  %s%s%s ", o->label, a, total >= 0 ? " / " : "",
                    total >= 0 ? b : "");
            fflush(stderr);
            last_print = now;
        }
        Pa_Sleep(10);
    }
    if (progress)
        fputc('\n', stderr);
    if (rc != CLI_EXIT_INTERRUPTED) {
        e = Pa_StopStream(stream);
        if (e != paNoError && e != paStreamIsStopped) {
            cli_error(cmd, "cannot stop the output %s: %s", dlabel, pa_error_text(e, eb, sizeof eb));
            goto out;
        }
        rc = CLI_EXIT_OK;
    }
    if (!o->quiet) {
        long long played = atomic_load(&sh.played);
        int under = atomic_load(&sh.underruns), xr = atomic_load(&sh.xruns);
        printf("%s %.2f s of %s", rc == CLI_EXIT_INTERRUPTED ? "stopped after" : "played",
               (double)played / rate, o->label);
        if (under)
            printf(", %d underrun%s (the source was not read fast enough)", under,
                   under == 1 ? "" : "s");
        printf(", %d xrun%s flagged by PortAudio", xr, xr == 1 ? "" : "s");
        printf("\n");
        fflush(stdout);
    }
out:
    if (stream)
        Pa_CloseStream(stream);
    if (p.src)
        src_delete(p.src);
    free(p.sbuf);
    free(p.mbuf);
    free(obuf);
    free(sh.rb.buf);
    pa_done();
    return rc;
}

/* ---- a memory source --------------------------------------------------------------------- */

typedef struct mem_src {
    const float *x;
    int64_t n, pos;
    int ch;
} mem_src;

static long mem_read(void *user, float *buf, long frames)
{
    mem_src *m = user;
    int64_t k = m->n - m->pos < frames ? m->n - m->pos : frames;
    memcpy(buf, m->x + m->pos * m->ch, sizeof(float) * (size_t)k * (size_t)m->ch);
    m->pos += k;
    return (long)k;
}

int pa_play_frames(const pa_play_opts *o, const float *frames, int64_t n)
{
    mem_src m = {frames, n, 0, o->channels};
    pa_play_opts oo = *o;
    if (oo.frames <= 0)
        oo.frames = n;
    return pa_play(&oo, mem_read, &m);
}
