/* speexdsp_denoise.c - denoise an audio file with speexdsp's preprocessor (the noise
 * suppressor of Speex/speexdsp, a classic MMSE-style spectral gain on a Bark filterbank with
 * a minimum-statistics noise estimate), as a peer for bench/quality.
 *
 * Usage: speexdsp_denoise [--suppress DB] [--frame-ms MS] [--no-align] IN OUT
 *
 * Settings (speexdsp defaults except where stated):
 *   - frame: MS ms at the file's own rate (default 10 ms: 480 samples at 48 kHz); the
 *     preprocessor works at any rate (its filterbank is built from the rate), no resampling;
 *   - denoise on, noise suppression --suppress dB (default -15, speexdsp's own default, set
 *     explicitly); AGC and dereverb off (their defaults, set explicitly); VAD off (its
 *     default, left alone: setting it at all prints a warning from speexdsp 1.2);
 *   - input mixed to mono (mean of the channels), float -> int16 (x 32768, clipped), the
 *     preprocessor runs in place on int16 frames, output int16 / 32768 written as a 16-bit
 *     WAV/FLAC/... in IN's container at IN's rate, same length as IN.
 * Alignment: the preprocessor's windowed overlap-add (window 2 x frame, hop = frame) delays
 * its output by exactly one frame; we feed one extra frame of zeros at the end and drop the
 * first frame of output so OUT is sample-aligned with IN (checked by cross-correlation, see
 * README.md). --no-align keeps the raw output (for that check).
 */
#include <sndfile.h>
#include <speex/speex_preprocess.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: speexdsp_denoise [--suppress DB] [--frame-ms MS] [--no-align] IN OUT\n");
}

int main(int argc, char **argv)
{
    int suppress = -15, align = 1;
    double frame_ms = 10.0;
    const char *in = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--suppress") && i + 1 < argc)
            suppress = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--frame-ms") && i + 1 < argc)
            frame_ms = atof(argv[++i]);
        else if (!strcmp(argv[i], "--no-align"))
            align = 0;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!in)
            in = argv[i];
        else if (!out)
            out = argv[i];
        else {
            usage(stderr);
            return 2;
        }
    }
    if (!in || !out) {
        usage(stderr);
        return 2;
    }

    SF_INFO si;
    memset(&si, 0, sizeof si);
    SNDFILE *sf = sf_open(in, SFM_READ, &si);
    if (!sf) {
        fprintf(stderr, "speexdsp_denoise: %s: %s\n", in, sf_strerror(NULL));
        return 1;
    }
    const size_t n = (size_t)si.frames, ch = (size_t)si.channels;
    const int frame = (int)lround(frame_ms * 1e-3 * si.samplerate);
    if (frame < 32) {
        fprintf(stderr, "speexdsp_denoise: frame of %d samples is too short\n", frame);
        return 2;
    }
    const int delay = align ? frame : 0;
    /* Whole frames covering the input plus the delay; the tail is zeros. */
    const size_t nfr = (n + (size_t)delay + (size_t)frame - 1) / (size_t)frame;
    float *buf = malloc(sizeof *buf * (n * ch + 1));
    spx_int16_t *x = calloc(nfr * (size_t)frame, sizeof *x);
    if (!buf || !x) {
        fprintf(stderr, "speexdsp_denoise: out of memory\n");
        return 1;
    }
    if ((size_t)sf_readf_float(sf, buf, (sf_count_t)n) != n) {
        fprintf(stderr, "speexdsp_denoise: %s: short read\n", in);
        return 1;
    }
    sf_close(sf);
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t c = 0; c < ch; c++)
            s += buf[i * ch + c];
        s = s / (double)ch * 32768.0;
        x[i] = (spx_int16_t)lrint(s > 32767 ? 32767 : s < -32768 ? -32768 : s);
    }

    SpeexPreprocessState *st = speex_preprocess_state_init(frame, si.samplerate);
    if (!st) {
        fprintf(stderr, "speexdsp_denoise: speex_preprocess_state_init(%d, %d) failed\n", frame,
                si.samplerate);
        return 1;
    }
    int on = 1, off = 0;
    speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_DENOISE, &on);
    speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, &suppress);
    speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_AGC, &off);
    speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_DEREVERB, &off);
    for (size_t f = 0; f < nfr; f++)
        speex_preprocess_run(st, x + f * (size_t)frame);
    speex_preprocess_state_destroy(st);

    for (size_t i = 0; i < n; i++)
        buf[i] = (float)x[i + (size_t)delay] / 32768.0f;
    SF_INFO so;
    memset(&so, 0, sizeof so);
    so.samplerate = si.samplerate;
    so.channels = 1;
    so.format = (si.format & SF_FORMAT_TYPEMASK) | SF_FORMAT_PCM_16;
    if (!sf_format_check(&so))
        so.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE *sw = sf_open(out, SFM_WRITE, &so);
    if (!sw) {
        fprintf(stderr, "speexdsp_denoise: %s: %s\n", out, sf_strerror(NULL));
        return 1;
    }
    if ((size_t)sf_writef_float(sw, buf, (sf_count_t)n) != n) {
        fprintf(stderr, "speexdsp_denoise: %s: short write\n", out);
        return 1;
    }
    sf_close(sw);
    free(buf);
    free(x);
    return 0;
}
