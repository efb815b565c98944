/* audio.c - libsndfile reading/writing, mono mixdown, libsamplerate resampling, crops. */
#include "audio.h"

#include <math.h>
#include <samplerate.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define CONVERTER SRC_SINC_MEDIUM_QUALITY

static void errf(char *err, size_t errlen, const char *fmt, const char *path, const char *why)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, path, why);
}

int audio_check_format(int rate, int channels, char *why, size_t len)
{
    /* A header that lies about the rate would make resampling allocate without bound. */
    if (rate < AUDIO_MIN_RATE || rate > AUDIO_MAX_RATE || channels < 1 ||
        channels > AUDIO_MAX_CHANNELS) {
        snprintf(why, len, "its header says %d Hz and %d channel%s (limpid reads %d..%d Hz, "
                 "1..%d channels)", rate, channels, channels == 1 ? "" : "s", AUDIO_MIN_RATE,
                 AUDIO_MAX_RATE, AUDIO_MAX_CHANNELS);
        return -1;
    }
    return 0;
}

static SNDFILE *open_read(const char *path, SF_INFO *info, char *err, size_t errlen)
{
    memset(info, 0, sizeof *info);
    SNDFILE *f = sf_open(path, SFM_READ, info);
    if (!f) {
        char why[256];
        audio_open_failure(path, why, sizeof why);
        errf(err, errlen, "cannot open audio file '%s': %s", path, why);
        return NULL;
    }
    if (info->frames < 0) {
        errf(err, errlen, "cannot read audio file '%s': %s", path, "it reports a negative length");
        sf_close(f);
        return NULL;
    }
    char why[160];
    if (audio_check_format(info->samplerate, info->channels, why, sizeof why)) {
        errf(err, errlen, "cannot read audio file '%s': %s", path, why);
        sf_close(f);
        return NULL;
    }
    return f;
}

static uint64_t le64(const unsigned char *b)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

static uint64_t be64(const unsigned char *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return v;
}

/* The message of every length check below: n bytes announced, `have` there. Returns -1. */
static int announce_short(char *why, size_t len, uint64_t n, uint64_t have)
{
    snprintf(why, len, "its header announces %llu bytes of audio but the file holds %llu "
             "(truncated?)", (unsigned long long)n, (unsigned long long)have);
    return -1;
}

/* RIFF WAVE or RF64: the position (of its body) and size of the first chunk named id, from
 * an open file of `size` bytes. 0 found, -1 not a RIFF WAVE / RF64 file or no such chunk. */
static int wav_chunk(FILE *f, uint64_t size, const char *id, uint64_t *pos, uint64_t *len)
{
    unsigned char h[12];
    if (fseeko(f, 0, SEEK_SET) != 0 || fread(h, 1, 12, f) != 12 ||
        (memcmp(h, "RIFF", 4) && memcmp(h, "RF64", 4)) || memcmp(h + 8, "WAVE", 4))
        return -1;
    uint64_t p = 12;
    /* a bounded number of chunks: the header may be garbage */
    for (int k = 0; k < 1024 && p + 8 <= size; k++) {
        if (fseeko(f, (off_t)p, SEEK_SET) != 0 || fread(h, 1, 8, f) != 8)
            return -1;
        uint64_t n = (uint64_t)h[4] | (uint64_t)h[5] << 8 | (uint64_t)h[6] << 16 |
                     (uint64_t)h[7] << 24;
        if (!memcmp(h, id, 4)) {
            *pos = p + 8;
            *len = n;
            return 0;
        }
        p += 8 + n + (n & 1);
    }
    return -1;
}

static FILE *open_sized(const char *path, uint64_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f && fseeko(f, 0, SEEK_END) == 0) {
        *size = (uint64_t)ftello(f);
        return f;
    }
    if (f)
        fclose(f);
    return NULL;
}

/* RIFF WAVE and RF64: the data chunk's declared size against the bytes the file holds. The
 * sizes 0 and 0xFFFFFFFF mean "unknown" in a WAV (left so by writers that stream); in an RF64
 * 0xFFFFFFFF says the size is the ds64 chunk's 64-bit dataSize (0 there: unknown). 0 when
 * fine or not a WAV. */
static int wav_check_length(FILE *f, uint64_t size, char *why, size_t len)
{
    unsigned char b[16];
    uint64_t pos, n, dpos, dlen;
    if (wav_chunk(f, size, "data", &pos, &n) != 0)
        return 0;
    if (n == 0xFFFFFFFFu) {
        n = 0;
        if (fseeko(f, 0, SEEK_SET) == 0 && fread(b, 1, 4, f) == 4 && !memcmp(b, "RF64", 4) &&
            wav_chunk(f, size, "ds64", &dpos, &dlen) == 0 && dlen >= 16 &&
            fseeko(f, (off_t)dpos, SEEK_SET) == 0 && fread(b, 1, 16, f) == 16)
            n = le64(b + 8); /* riffSize, then dataSize */
    }
    if (n != 0 && n > size - pos)
        return announce_short(why, len, n, size - pos);
    return 0;
}

/* AIFF / AIFF-C: the SSND chunk's declared size against the bytes the file holds. 0 when
 * fine or not an AIFF. */
static int aiff_check_length(FILE *f, uint64_t size, char *why, size_t len)
{
    unsigned char h[12];
    if (fseeko(f, 0, SEEK_SET) != 0 || fread(h, 1, 12, f) != 12 || memcmp(h, "FORM", 4) ||
        (memcmp(h + 8, "AIFF", 4) && memcmp(h + 8, "AIFC", 4)))
        return 0;
    uint64_t p = 12;
    for (int k = 0; k < 1024 && p + 8 <= size; k++) { /* bounded: the header may be garbage */
        if (fseeko(f, (off_t)p, SEEK_SET) != 0 || fread(h, 1, 8, f) != 8)
            return 0;
        uint64_t n = (uint64_t)h[4] << 24 | (uint64_t)h[5] << 16 | (uint64_t)h[6] << 8 |
                     (uint64_t)h[7];
        if (!memcmp(h, "SSND", 4))
            return n > size - (p + 8) ? announce_short(why, len, n, size - (p + 8)) : 0;
        p += 8 + n + (n & 1);
    }
    return 0;
}

/* Sony Wave64: chunks are named by 16-byte GUIDs, and their 64-bit little-endian sizes count
 * the 24 bytes of GUID and size; each starts on a multiple of 8. The data chunk's body (0:
 * unknown, as in a WAV) against the bytes the file holds. 0 when fine or not a W64. */
static int w64_check_length(FILE *f, uint64_t size, char *why, size_t len)
{
    static const unsigned char riff[16] = {'r',  'i',  'f',  'f',  0x2E, 0x91, 0xCF, 0x11,
                                           0xA5, 0xD6, 0x28, 0xDB, 0x04, 0xC1, 0x00, 0x00};
    /* "wave", "fmt ", "data"...: the name, then the same 12 bytes */
    static const unsigned char tail[12] = {0xF3, 0xAC, 0xD3, 0x11, 0x8C, 0xD1,
                                           0x00, 0xC0, 0x4F, 0x8E, 0xDB, 0x8A};
    unsigned char h[40];
    if (fseeko(f, 0, SEEK_SET) != 0 || fread(h, 1, 40, f) != 40 || memcmp(h, riff, 16) ||
        memcmp(h + 24, "wave", 4) || memcmp(h + 28, tail, 12))
        return 0;
    uint64_t p = 40;
    for (int k = 0; k < 1024 && p + 24 <= size; k++) { /* bounded: the header may be garbage */
        if (fseeko(f, (off_t)p, SEEK_SET) != 0 || fread(h, 1, 24, f) != 24)
            return 0;
        uint64_t n = le64(h + 16);
        if (n < 24)
            return 0; /* garbage: libsndfile decides */
        if (!memcmp(h, "data", 4) && !memcmp(h + 4, tail, 12)) {
            uint64_t body = n - 24, have = size - (p + 24);
            return body != 0 && body > have ? announce_short(why, len, body, have) : 0;
        }
        if (n > size - p)
            return 0; /* a chunk past the end before any data chunk */
        p += (n + 7) & ~(uint64_t)7;
    }
    return 0;
}

/* Core Audio Format: chunks with 64-bit big-endian sizes after an 8-byte file header. The
 * data chunk's size (its 4-byte edit count and the audio) against the bytes the file holds;
 * -1 there means "to the end of the file" and passes. 0 when fine or not a CAF. */
static int caf_check_length(FILE *f, uint64_t size, char *why, size_t len)
{
    unsigned char h[12];
    if (fseeko(f, 0, SEEK_SET) != 0 || fread(h, 1, 8, f) != 8 || memcmp(h, "caff", 4))
        return 0;
    uint64_t p = 8;
    for (int k = 0; k < 1024 && p + 12 <= size; k++) { /* bounded: the header may be garbage */
        if (fseeko(f, (off_t)p, SEEK_SET) != 0 || fread(h, 1, 12, f) != 12)
            return 0;
        uint64_t n = be64(h + 4);
        if (!memcmp(h, "data", 4)) {
            uint64_t have = size - (p + 12);
            return n != UINT64_MAX && n > have ? announce_short(why, len, n, have) : 0;
        }
        if (n > size - (p + 12))
            return 0; /* a chunk past the end before any data chunk */
        p += 12 + n;
    }
    return 0;
}

/* The audio chunk's declared size against the bytes the file holds, for the containers where
 * libsndfile quietly reads what is there, so that a truncated file would pass as a shorter
 * one: WAV, RF64, AIFF, W64 and CAF. 0, or -1 with why. */
static int container_check_length(const char *path, char *why, size_t len)
{
    uint64_t size;
    FILE *f = open_sized(path, &size);
    if (!f)
        return 0; /* unreadable: libsndfile's opening or reading says why */
    int rc = wav_check_length(f, size, why, len);
    if (rc == 0)
        rc = aiff_check_length(f, size, why, len);
    if (rc == 0)
        rc = w64_check_length(f, size, why, len);
    if (rc == 0)
        rc = caf_check_length(f, size, why, len);
    fclose(f);
    return rc;
}

/* RIFF WAVE that libsndfile refused: say what its format chunk claims when that is absurd
 * (libsndfile's own words, e.g. "SF_INFO struct incomplete", do not). 0 when it could. */
static int wav_explain(const char *path, char *why, size_t len)
{
    uint64_t size, pos, n;
    FILE *f = open_sized(path, &size);
    if (!f)
        return -1;
    unsigned char b[16];
    int rc = -1;
    if (wav_chunk(f, size, "fmt ", &pos, &n) == 0 && n >= 16 &&
        fseeko(f, (off_t)pos, SEEK_SET) == 0 && fread(b, 1, 16, f) == 16) {
        unsigned ch = b[2] | b[3] << 8, bits = b[14] | b[15] << 8;
        unsigned long rate = b[4] | b[5] << 8 | (unsigned long)b[6] << 16 |
                             (unsigned long)b[7] << 24;
        if (ch == 0 || rate == 0 || bits == 0) {
            snprintf(why, len, "its header says %lu Hz, %u channel%s, %u bits per sample", rate,
                     ch, ch == 1 ? "" : "s", bits);
            rc = 0;
        }
    }
    fclose(f);
    return rc;
}

void audio_open_failure(const char *path, char *why, size_t len)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(why, len, "it is a folder, not an audio file");
    else if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
        snprintf(why, len, "the file is empty (0 bytes)");
    else if (wav_explain(path, why, len) != 0 && container_check_length(path, why, len) == 0)
        snprintf(why, len, "%s", sf_strerror(NULL));
}

int audio_check_complete(const char *path, char *why, size_t len)
{
    if (container_check_length(path, why, len))
        return -1;
    SF_INFO si;
    memset(&si, 0, sizeof si);
    SNDFILE *f = sf_open(path, SFM_READ, &si);
    if (!f) {
        audio_open_failure(path, why, len);
        return -1;
    }
    int rc = 0;
    /* the last frame must be there (a cut FLAC stream still reports its full length); MPEG
     * lengths are estimates, and seeking in them is slow */
    if (si.frames > 0 && si.channels >= 1 && si.channels <= AUDIO_MAX_CHANNELS &&
        (si.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_MPEG) {
        float last[AUDIO_MAX_CHANNELS];
        if (sf_seek(f, si.frames - 1, SEEK_SET) < 0 || sf_readf_float(f, last, 1) != 1) {
            snprintf(why, len, "it ends before the %lld frames its header announces "
                     "(truncated?)", (long long)si.frames);
            rc = -1;
        }
    }
    sf_close(f);
    return rc;
}

int audio_probe(const char *path, audio_info *info, char *err, size_t errlen)
{
    SF_INFO si;
    SNDFILE *f = open_read(path, &si, err, errlen);
    if (!f)
        return -1;
    info->frames = si.frames;
    info->rate = si.samplerate;
    info->channels = si.channels;
    info->format = si.format;
    sf_close(f);
    return 0;
}

int64_t audio_frames_at_rate(int64_t frames, int src_rate, int dst_rate)
{
    if (src_rate == dst_rate || src_rate <= 0 || dst_rate <= 0)
        return frames;
    /* frames * dst / src without overflow for any realistic length (frames < 2^63/384000) */
    return (int64_t)((__int128)frames * dst_rate / src_rate);
}

static long long gcd_ll(long long a, long long b)
{
    while (b) {
        long long t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Read `count` frames from the current position of f, mixed down to mono into out. Returns the
 * number of frames read (fewer at the end of the file), or -1 on a read error. */
static int64_t read_mono(SNDFILE *f, int channels, int64_t count, float *out)
{
    enum { CHUNK = 4096 };
    float *buf = NULL;
    if (channels > 1) {
        buf = malloc(sizeof(float) * CHUNK * (size_t)channels);
        if (!buf)
            return -1;
    }
    int64_t done = 0;
    while (done < count) {
        sf_count_t want = count - done > CHUNK ? CHUNK : (sf_count_t)(count - done);
        sf_count_t got;
        if (channels == 1) {
            got = sf_readf_float(f, out + done, want);
        } else {
            got = sf_readf_float(f, buf, want);
            float inv = 1.0f / (float)channels;
            for (sf_count_t i = 0; i < got; i++) {
                float s = 0.0f;
                for (int c = 0; c < channels; c++)
                    s += buf[i * channels + c];
                out[done + i] = s * inv;
            }
        }
        if (got <= 0)
            break;
        for (sf_count_t i = 0; i < got; i++) /* NaN/Inf would poison every sum downstream */
            if (!isfinite(out[done + i]))
                out[done + i] = 0.0f;
        done += got;
    }
    free(buf);
    if (done < count && sf_error(f) != SF_ERR_NO_ERROR)
        return -1;
    return done;
}

int audio_resample(const float *in, size_t n, int src_rate, int dst_rate, float **out,
                   size_t *n_out, char *err, size_t errlen)
{
    size_t m = (size_t)audio_frames_at_rate((int64_t)n, src_rate, dst_rate);
    float *y = calloc(m ? m : 1, sizeof(float));
    if (!y) {
        errf(err, errlen, "%s%s", "out of memory", "");
        return -1;
    }
    if (m > 0 && n > 0) {
        SRC_DATA d;
        memset(&d, 0, sizeof d);
        d.data_in = in;
        d.input_frames = (long)n;
        d.data_out = y;
        d.output_frames = (long)m;
        d.src_ratio = (double)dst_rate / (double)src_rate;
        d.end_of_input = 1;
        int e = src_simple(&d, CONVERTER, 1);
        if (e) {
            free(y);
            errf(err, errlen, "%sresampling failed: %s", "", src_strerror(e));
            return -1;
        }
        /* d.output_frames_gen may be a little short of m: the rest stays zero */
    }
    *out = y;
    *n_out = m;
    return 0;
}

int audio_read_mono(const char *path, int target_rate, float **out, size_t *n, int *rate_out,
                    char *err, size_t errlen)
{
    char why[256];
    if (container_check_length(path, why, sizeof why)) {
        errf(err, errlen, "cannot read audio file '%s': %s", path, why);
        return -1;
    }
    SF_INFO si;
    SNDFILE *f = open_read(path, &si, err, errlen);
    if (!f)
        return -1;
    int64_t frames = si.frames;
    if ((uint64_t)frames > (uint64_t)1 << 34) { /* 16 G samples: refuse rather than thrash */
        sf_close(f);
        errf(err, errlen, "audio file '%s' is too long to read into memory%s", path, "");
        return -1;
    }
    /* Grow the buffer as samples really arrive: the header's length may lie. */
    size_t cap = (size_t)(frames < ((int64_t)1 << 20) ? (frames ? frames : 1) : ((int64_t)1 << 20));
    float *x = malloc(sizeof(float) * cap);
    int64_t got = 0;
    while (x && got < frames) {
        if ((size_t)got == cap) {
            size_t nc = cap * 2 > (size_t)frames ? (size_t)frames : cap * 2;
            float *nx = realloc(x, sizeof(float) * nc);
            if (!nx) {
                free(x);
                x = NULL;
                break;
            }
            x = nx;
            cap = nc;
        }
        int64_t want = (int64_t)cap - got;
        int64_t r = read_mono(f, si.channels, want, x + got);
        if (r < 0) {
            errf(err, errlen, "cannot read audio file '%s': %s", path, sf_strerror(f));
            sf_close(f);
            free(x);
            return -1;
        }
        got += r;
        if (r < want)
            break; /* the file ends before its header says */
    }
    if (!x) {
        sf_close(f);
        errf(err, errlen, "out of memory reading '%s'%s", path, "");
        return -1;
    }
    if (got < frames && (si.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_MPEG) {
        /* MPEG lengths are estimates; elsewhere a short read is a cut file */
        sf_close(f);
        free(x);
        snprintf(why, sizeof why, "it ends after %lld of the %lld frames its header announces "
                 "(truncated?)", (long long)got, (long long)frames);
        errf(err, errlen, "cannot read audio file '%s': %s", path, why);
        return -1;
    }
    sf_close(f);
    int rate = target_rate > 0 ? target_rate : si.samplerate;
    if (rate == si.samplerate) {
        *out = x;
        *n = (size_t)got;
    } else {
        float *y;
        size_t m;
        if (audio_resample(x, (size_t)got, si.samplerate, rate, &y, &m, why, sizeof why)) {
            free(x);
            errf(err, errlen, "cannot resample '%s': %s", path, why);
            return -1;
        }
        free(x);
        *out = y;
        *n = m;
    }
    if (rate_out)
        *rate_out = rate;
    return 0;
}

int audio_read_crop(const char *path, int target_rate, int64_t offset, size_t len, float *out,
                    char *err, size_t errlen)
{
    memset(out, 0, sizeof(float) * len);
    if (len == 0)
        return 0;
    SF_INFO si;
    SNDFILE *f = open_read(path, &si, err, errlen);
    if (!f)
        return -1;
    const int64_t frames = si.frames;
    const int sr = si.samplerate;
    const int tr = target_rate > 0 ? target_rate : sr;
    const int64_t end = offset + (int64_t)len;
    int rc = 0;
    if (tr == sr) {
        /* same rate: read exactly the overlap of [offset, end) with [0, frames) */
        int64_t a = offset < 0 ? 0 : offset, b = end < frames ? end : frames;
        if (b > a) {
            if (sf_seek(f, a, SEEK_SET) < 0) {
                errf(err, errlen, "cannot seek in audio file '%s': %s", path, sf_strerror(f));
                rc = -1;
            } else if (read_mono(f, si.channels, b - a, out + (a - offset)) < 0) {
                errf(err, errlen, "cannot read audio file '%s': %s", path, sf_strerror(f));
                rc = -1;
            }
        }
        sf_close(f);
        return rc;
    }
    /* Resampling. ratio = tr/sr = p/q in lowest terms; target sample k sits at source time
     * k*q/p. We read source frames [s0, s1), with s0 a multiple of q so that the segment's
     * first output sample is exactly target sample t0 = s0*p/q (the same phase as a
     * whole-file conversion), and a margin on both sides longer than the sinc filter's
     * half-length (about 46 zero crossings for the medium converter, stretched by sr/tr when
     * downsampling) so the zeros the converter assumes outside the segment do not reach the
     * crop. */
    const long long g = gcd_ll(sr, tr);
    const int64_t p = tr / g, q = sr / g;
    const int64_t stretch = (sr + tr - 1) / tr; /* ceil(sr/tr) >= 1 */
    const int64_t margin = 64 * (stretch > 1 ? stretch : 1) + 16;
    int64_t lo = (int64_t)((__int128)offset * q / p) - margin;
    if (lo < 0)
        lo = 0;
    int64_t s0 = lo / q * q;
    int64_t s1 = (int64_t)(((__int128)end * q + p - 1) / p) + margin;
    if (s1 > frames)
        s1 = frames;
    if (s1 <= s0) { /* entirely past the end */
        sf_close(f);
        return 0;
    }
    const int64_t t0 = s0 / q * p;
    float *seg = malloc(sizeof(float) * (size_t)(s1 - s0));
    if (!seg) {
        sf_close(f);
        errf(err, errlen, "out of memory reading '%s'%s", path, "");
        return -1;
    }
    int64_t got = 0;
    if (sf_seek(f, s0, SEEK_SET) < 0) {
        errf(err, errlen, "cannot seek in audio file '%s': %s", path, sf_strerror(f));
        rc = -1;
    } else if ((got = read_mono(f, si.channels, s1 - s0, seg)) < 0) {
        errf(err, errlen, "cannot read audio file '%s': %s", path, sf_strerror(f));
        rc = -1;
    }
    sf_close(f);
    if (rc == 0 && got > 0) {
        float *y;
        size_t m;
        char why[256];
        if (audio_resample(seg, (size_t)got, sr, tr, &y, &m, why, sizeof why)) {
            errf(err, errlen, "cannot resample '%s': %s", path, why);
            rc = -1;
        } else {
            /* y[j] is target sample t0 + j; the file has frames_at_rate samples in all */
            int64_t total = audio_frames_at_rate(frames, sr, tr);
            for (size_t i = 0; i < len; i++) {
                int64_t k = offset + (int64_t)i;
                int64_t j = k - t0;
                if (k >= 0 && k < total && j >= 0 && j < (int64_t)m)
                    out[i] = y[j];
            }
            free(y);
        }
    }
    free(seg);
    return rc;
}

int audio_write_mono(const char *path, const float *x, size_t n, int rate, int use_float,
                     char *err, size_t errlen)
{
    const char *dot = strrchr(path, '.');
    const char *ext = dot ? dot + 1 : "";
    int major = SF_FORMAT_WAV, sub = use_float ? SF_FORMAT_FLOAT : SF_FORMAT_PCM_24;
    if (!strcasecmp(ext, "flac")) {
        major = SF_FORMAT_FLAC;
        sub = SF_FORMAT_PCM_24;
    } else if (!strcasecmp(ext, "aiff") || !strcasecmp(ext, "aif")) {
        major = SF_FORMAT_AIFF;
    } else if (!strcasecmp(ext, "ogg") || !strcasecmp(ext, "oga")) {
        major = SF_FORMAT_OGG;
        sub = SF_FORMAT_VORBIS;
    } else if (!strcasecmp(ext, "caf")) {
        major = SF_FORMAT_CAF;
    } else if (!strcasecmp(ext, "au") || !strcasecmp(ext, "snd")) {
        major = SF_FORMAT_AU;
    } else if (!strcasecmp(ext, "w64")) {
        major = SF_FORMAT_W64;
    }
    SF_INFO si;
    memset(&si, 0, sizeof si);
    si.samplerate = rate;
    si.channels = 1;
    si.format = major | sub;
    if (!sf_format_check(&si)) {
        errf(err, errlen, "cannot write '%s': %s", path,
             "the sample format is not possible in this file type");
        return -1;
    }
    SNDFILE *f = sf_open(path, SFM_WRITE, &si);
    if (!f) {
        errf(err, errlen, "cannot create audio file '%s': %s", path, sf_strerror(NULL));
        return -1;
    }
    sf_command(f, SFC_SET_CLIPPING, NULL, SF_TRUE);
    sf_count_t w = sf_writef_float(f, x, (sf_count_t)n);
    int rc = 0;
    if (w != (sf_count_t)n) {
        errf(err, errlen, "cannot write audio file '%s': %s", path, sf_strerror(f));
        rc = -1;
    }
    if (sf_close(f) != 0 && rc == 0) {
        errf(err, errlen, "cannot finish audio file '%s': %s", path, "close failed");
        rc = -1;
    }
    return rc;
}
