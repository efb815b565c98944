/* stft.c - short-time Fourier transform (FFTW3, single precision), whole-signal and streaming.
 *
 * Conventions (see limpid.h for the public contract)
 *  - N = n_fft, H = hop, P = N - H (latency, and the zero padding before a whole signal),
 *    F = bins = N/2 + 1. A frame is 2*F floats: re[0..F) then im[0..F).
 *  - Frame k covers padded samples [k*H, k*H + N), i.e. input samples [k*H - P, k*H + H).
 *  - Scaling: X[f] = (1/sqrt(N)) * sum_i w_a[i] x[i] e^{-2 pi j f i / N}
 *    (torch.stft "normalized=True", as in SGMSE+, whose compression constants a = 0.5,
 *    beta = 0.15 the presets use). A full-scale sine at a bin centre therefore has magnitude
 *    sqrt(N)/4 with the Hann window (8 at N = 1024) and sqrt(N)/pi with sqrt-Hann; white
 *    noise of variance s^2 has E|X|^2 = s^2 * mean(w_a^2) (3/8 s^2 for Hann, 1/2 s^2 for
 *    sqrt-Hann). Synthesis inverts this exactly.
 *  - Windows: periodic Hann w[i] = 0.5 - 0.5 cos(2 pi i / N); sqrt-Hann w[i] = sin(pi i / N).
 *    HANN: analysis Hann, synthesis rectangular; SQRT_HANN: sqrt-Hann for both. The
 *    overlap-add normalisation 1 / sum_m w_a[i + mH] w_s[i + mH] is computed per position
 *    (i mod H) from the actual window pair and folded into the stored synthesis window, so
 *    reconstruction is exact for every allowed hop.
 *  - The last P samples of a whole signal lie in fewer than N/H frames (frames(n) =
 *    ceil(n/H) stops there); synthesize() normalises them by the partial window sum of the
 *    frames that do exist. Streaming never needs this: it always has every frame.
 *  - State: the streaming history (input and overlap-add) is separate from the buffers the
 *    whole-signal calls use, so analyze/synthesize never disturb a stream in progress.
 *    The FFT scratch buffers are shared (one thread at a time uses a limpid_stft).
 */
#include "internal.h"
#include "vec.h"

#include <fftw3.h>
#include <pthread.h>
#include <stdlib.h>

/* FFTW's planner is not thread-safe: every plan creation/destruction in this library goes
 * through this lock. fftwf_execute on distinct plans is thread-safe. */
static pthread_mutex_t lpi_fftw_lock = PTHREAD_MUTEX_INITIALIZER;

struct limpid_stft {
    int n_fft, hop, bins;
    limpid_window window;

    float *ana;      /* [N] analysis window times 1/sqrt(N) */
    float *syn;      /* [N] synthesis window times OLA normalisation / sqrt(N) (see below) */
    float *tailfix;  /* [P] whole-signal tail: full / partial window sum */
    float rp_gain;   /* lpi_stft_random_phase_gain */

    float *tbuf;          /* [N] time-domain FFT buffer (fftwf_malloc) */
    fftwf_complex *cbuf;  /* [F] frequency-domain FFT buffer (fftwf_malloc) */
    fftwf_plan fwd, inv;

    float *s_in;  /* [N] streaming input history (padded samples of the current frame) */
    float *s_acc; /* [N] streaming overlap-add accumulator */
    float *w_acc; /* [N] whole-signal overlap-add accumulator */
};

/* ------------------------------------------------------------------------ */

static void stft_free(limpid_stft *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&lpi_fftw_lock);
    if (s->fwd)
        fftwf_destroy_plan(s->fwd);
    if (s->inv)
        fftwf_destroy_plan(s->inv);
    pthread_mutex_unlock(&lpi_fftw_lock);
    fftwf_free(s->tbuf);
    fftwf_free(s->cbuf);
    free(s->ana);
    free(s->syn);
    free(s->tailfix);
    free(s->s_in);
    free(s->s_acc);
    free(s->w_acc);
    free(s);
}

/* Windows in double; fill s->ana, s->syn, s->tailfix. */
static void stft_windows(limpid_stft *s, double *wa, double *ws)
{
    const int N = s->n_fft, H = s->hop, P = N - H;
    const double pi = 3.14159265358979323846;
    for (int i = 0; i < N; i++) {
        if (s->window == LIMPID_WINDOW_HANN) {
            wa[i] = 0.5 - 0.5 * cos(2.0 * pi * i / N);
            ws[i] = 1.0;
        } else {
            wa[i] = sin(pi * i / N); /* sqrt of the periodic Hann, >= 0 on [0, N) */
            ws[i] = wa[i];
        }
    }
    /* c2r is unnormalised: IFFT(FFT(v)) = N v. The analysis carries 1/sqrt(N), so the
     * synthesis carries 1/sqrt(N) too, plus the OLA normalisation of its position. */
    const double scale = 1.0 / sqrt((double)N);
    for (int i = 0; i < N; i++) {
        double full = 0.0;
        for (int m = i % H; m < N; m += H)
            full += wa[m] * ws[m];
        s->ana[i] = (float)(wa[i] * scale);
        s->syn[i] = full > 0.0 ? (float)(ws[i] * scale / full) : 0.0f;
    }
    /* Frames with unrelated phases (magnitude features) add in power, not in amplitude, and
     * each spreads its energy over the whole frame instead of wa's shape: their output power
     * is mean(ws^2) mean(wa^2) / (R mean(wa ws)^2) times the input's (R = N / H frames over
     * each sample; 1/4 for sqrt-Hann at H = N/4). rp_gain undoes it. */
    double aa = 0.0, ss = 0.0, as = 0.0;
    for (int i = 0; i < N; i++) {
        aa += wa[i] * wa[i];
        ss += ws[i] * ws[i];
        as += wa[i] * ws[i];
    }
    s->rp_gain = (float)sqrt((double)N / H * (as / N) * (as / N) / ((aa / N) * (ss / N)));
    /* Tail of a whole signal: after the last frame K-1, accumulator slot r (padded sample
     * K*H + r, r < P) holds the contributions of frames K-m, m >= 1, r + m*H < N only. */
    for (int r = 0; r < P; r++) {
        double full = 0.0, part = 0.0;
        for (int m = r % H; m < N; m += H)
            full += wa[m] * ws[m];
        for (int m = r + H; m < N; m += H)
            part += wa[m] * ws[m];
        s->tailfix[r] = part > 0.0 ? (float)(full / part) : 0.0f;
    }
}

limpid_status limpid_stft_create(limpid_stft **out, int n_fft, int hop, limpid_window window)
{
    if (!out)
        return LIMPID_ERR_INVALID;
    *out = NULL;
    if (n_fft < 4 || (n_fft & 1) || n_fft > (1 << 26) || hop < 1 || hop > n_fft / 2 ||
        n_fft % hop != 0)
        return LIMPID_ERR_INVALID;
    if (window != LIMPID_WINDOW_HANN && window != LIMPID_WINDOW_SQRT_HANN)
        return LIMPID_ERR_INVALID;

    limpid_stft *s = calloc(1, sizeof *s);
    if (!s)
        return LIMPID_ERR_NOMEM;
    const int N = n_fft, P = n_fft - hop, F = n_fft / 2 + 1;
    s->n_fft = N;
    s->hop = hop;
    s->bins = F;
    s->window = window;

    s->ana = malloc((size_t)N * sizeof(float));
    s->syn = malloc((size_t)N * sizeof(float));
    s->tailfix = malloc((size_t)P * sizeof(float));
    s->s_in = calloc((size_t)N, sizeof(float));
    s->s_acc = calloc((size_t)N, sizeof(float));
    s->w_acc = calloc((size_t)N, sizeof(float));
    s->tbuf = fftwf_malloc((size_t)N * sizeof(float));
    s->cbuf = fftwf_malloc((size_t)F * sizeof(fftwf_complex));
    double *wa = malloc((size_t)N * sizeof(double));
    double *ws = malloc((size_t)N * sizeof(double));
    if (!s->ana || !s->syn || !s->tailfix || !s->s_in || !s->s_acc || !s->w_acc || !s->tbuf ||
        !s->cbuf || !wa || !ws) {
        free(wa);
        free(ws);
        stft_free(s);
        return LIMPID_ERR_NOMEM;
    }
    stft_windows(s, wa, ws);
    free(wa);
    free(ws);

    /* FFTW_ESTIMATE: deterministic, fast, does not touch the buffers while planning. */
    pthread_mutex_lock(&lpi_fftw_lock);
    s->fwd = fftwf_plan_dft_r2c_1d(N, s->tbuf, s->cbuf, FFTW_ESTIMATE);
    s->inv = fftwf_plan_dft_c2r_1d(N, s->cbuf, s->tbuf, FFTW_ESTIMATE);
    pthread_mutex_unlock(&lpi_fftw_lock);
    if (!s->fwd || !s->inv) {
        stft_free(s);
        return LIMPID_ERR_NOMEM;
    }
    *out = s;
    return LIMPID_OK;
}

void limpid_stft_destroy(limpid_stft *s) { stft_free(s); }

int limpid_stft_bins(const limpid_stft *s) { return s ? s->bins : 0; }

int limpid_stft_latency(const limpid_stft *s) { return s ? s->n_fft - s->hop : 0; }

size_t limpid_stft_frames(const limpid_stft *s, size_t n_samples)
{
    if (!s)
        return 0;
    size_t H = (size_t)s->hop;
    return n_samples / H + (n_samples % H != 0); /* ceil without overflow */
}

/* ------------------------------------------------------------------------ */
/* Frame kernels shared by the whole-signal and streaming paths, so both give bit-identical
 * results. */

/* s->tbuf holds the windowed frame: transform it into out[2F]. */
static void frame_fft(limpid_stft *s, float *out)
{
    const int F = s->bins;
    fftwf_execute(s->fwd);
    for (int f = 0; f < F; f++) {
        out[f] = s->cbuf[f][0];
        out[F + f] = s->cbuf[f][1];
    }
}

/* Inverse transform of in[2F], windowed and added into acc[N]. */
static void frame_ifft_add(limpid_stft *s, const float *in, float *acc)
{
    const int N = s->n_fft, F = s->bins;
    for (int f = 0; f < F; f++) {
        s->cbuf[f][0] = in[f];
        s->cbuf[f][1] = in[F + f];
    }
    fftwf_execute(s->inv); /* c2r overwrites cbuf: it is scratch */
    for (int i = 0; i < N; i++)
        acc[i] += s->syn[i] * s->tbuf[i];
}

/* Drop the first hop slots of acc (already emitted) and open hop zero slots at the end. */
static void acc_shift(limpid_stft *s, float *acc)
{
    const int N = s->n_fft, H = s->hop;
    memmove(acc, acc + H, (size_t)(N - H) * sizeof(float));
    memset(acc + N - H, 0, (size_t)H * sizeof(float));
}

/* ------------------------------------------------------------------------ */
/* Whole signal */

limpid_status limpid_stft_analyze(limpid_stft *s, const float *x, size_t n, float *spec)
{
    if (!s)
        return LIMPID_ERR_INVALID;
    if (n == 0)
        return LIMPID_OK; /* zero frames */
    if (!x || !spec)
        return LIMPID_ERR_INVALID;
    const int N = s->n_fft, H = s->hop, P = N - H;
    const size_t K = limpid_stft_frames(s, n), stride = 2 * (size_t)s->bins;
    for (size_t k = 0; k < K; k++) {
        /* padded sample k*H + i is input sample k*H + i - P; outside [0, n) it is zero */
        for (int i = 0; i < N; i++) {
            size_t p = k * (size_t)H + (size_t)i;
            float v = (p >= (size_t)P && p - (size_t)P < n) ? x[p - (size_t)P] : 0.0f;
            s->tbuf[i] = s->ana[i] * v;
        }
        frame_fft(s, spec + k * stride);
    }
    return LIMPID_OK;
}

limpid_status limpid_stft_synthesize(limpid_stft *s, const float *spec, size_t n, float *y)
{
    if (!s)
        return LIMPID_ERR_INVALID;
    if (n == 0)
        return LIMPID_OK;
    if (!spec || !y)
        return LIMPID_ERR_INVALID;
    const int N = s->n_fft, H = s->hop, P = N - H;
    const size_t K = limpid_stft_frames(s, n), stride = 2 * (size_t)s->bins;
    float *acc = s->w_acc;
    memset(acc, 0, (size_t)N * sizeof(float));
    for (size_t k = 0; k < K; k++) {
        frame_ifft_add(s, spec + k * stride, acc);
        /* slots [0, H) are padded samples k*H + i: complete (no later frame reaches them) */
        for (int i = 0; i < H; i++) {
            size_t p = k * (size_t)H + (size_t)i;
            if (p >= (size_t)P && p - (size_t)P < n)
                y[p - (size_t)P] = acc[i];
        }
        acc_shift(s, acc);
    }
    /* tail: slot r is padded sample K*H + r, covered only by frames before K */
    for (int r = 0; r < P; r++) {
        size_t p = K * (size_t)H + (size_t)r;
        if (p >= (size_t)P && p - (size_t)P < n)
            y[p - (size_t)P] = acc[r] * s->tailfix[r];
    }
    return LIMPID_OK;
}

/* ------------------------------------------------------------------------ */
/* Streaming */

void limpid_stft_reset(limpid_stft *s)
{
    if (!s)
        return;
    memset(s->s_in, 0, (size_t)s->n_fft * sizeof(float));
    memset(s->s_acc, 0, (size_t)s->n_fft * sizeof(float));
}

void limpid_stft_push(limpid_stft *s, const float *hop_in, float *frame_out)
{
    if (!s || !hop_in || !frame_out)
        return;
    const int N = s->n_fft, H = s->hop;
    memmove(s->s_in, s->s_in + H, (size_t)(N - H) * sizeof(float));
    memcpy(s->s_in + N - H, hop_in, (size_t)H * sizeof(float));
    for (int i = 0; i < N; i++)
        s->tbuf[i] = s->ana[i] * s->s_in[i];
    frame_fft(s, frame_out);
}

void limpid_stft_pull(limpid_stft *s, const float *frame_in, float *hop_out)
{
    if (!s || !frame_in || !hop_out)
        return;
    frame_ifft_add(s, frame_in, s->s_acc);
    memcpy(hop_out, s->s_acc, (size_t)s->hop * sizeof(float));
    acc_shift(s, s->s_acc);
}

/* ------------------------------------------------------------------------ */
/* Amplitude compression: X -> beta |X|^a e^{j angle X}, computed in double so that the
 * round trip is exact to float precision; |X| = 0 stays 0. */

/* a = 0.5, every preset: X -> beta |X|^-1/2 X by two square roots, and back (|X| = (m/beta)^2,
 * so the gain is m / beta^2). Plain loops that GCC vectorises at -O3 (with -fno-math-errno,
 * which CMakeLists.txt sets, sqrt needs no call): 8 doubles per instruction in the AVX-512
 * clone. IEEE square roots and divisions are correctly rounded in every lane, so the output
 * is the scalar loop's, bit for bit; training spent about 6 % of its time here (session 17's
 * perf profile of the rt recipe) in the scalar form. */
LPI_CLONES __attribute__((optimize("O3"))) static void compress_half(float *spec, size_t frames,
                                                                       int bins, float beta)
{
    const double bd = beta;
    for (size_t k = 0; k < frames; k++) {
        float *restrict re = spec + k * 2 * (size_t)bins, *restrict im = re + bins;
        for (int f = 0; f < bins; f++) {
            double r = re[f], i = im[f], m2 = r * r + i * i;
            double g = m2 > 0.0 ? bd / sqrt(sqrt(m2)) : 0.0;
            re[f] = (float)(r * g);
            im[f] = (float)(i * g);
        }
    }
}

LPI_CLONES __attribute__((optimize("O3"))) static void decompress_half(float *spec,
                                                                         size_t frames, int bins,
                                                                         float beta)
{
    const double ib2 = 1.0 / ((double)beta * (double)beta);
    for (size_t k = 0; k < frames; k++) {
        float *restrict re = spec + k * 2 * (size_t)bins, *restrict im = re + bins;
        for (int f = 0; f < bins; f++) {
            double r = re[f], i = im[f], g = sqrt(r * r + i * i) * ib2;
            re[f] = (float)(r * g);
            im[f] = (float)(i * g);
        }
    }
}

void limpid_spec_compress(float *spec, size_t frames, int bins, float a, float beta)
{
    if (!spec || bins <= 0 || !(a > 0.0f && a <= 1.0f) || !(beta > 0.0f))
        return;
    if (a == 0.5f) { /* every preset */
        compress_half(spec, frames, bins, beta);
        return;
    }
    for (size_t k = 0; k < frames; k++) {
        float *re = spec + k * 2 * (size_t)bins, *im = re + bins;
        for (int f = 0; f < bins; f++) {
            double r = re[f], i = im[f], m = hypot(r, i);
            double g = m > 0.0 ? (double)beta * pow(m, (double)a - 1.0) : 0.0;
            re[f] = (float)(r * g);
            im[f] = (float)(i * g);
        }
    }
}

void limpid_spec_decompress(float *spec, size_t frames, int bins, float a, float beta)
{
    if (!spec || bins <= 0 || !(a > 0.0f && a <= 1.0f) || !(beta > 0.0f))
        return;
    const double inv_a = 1.0 / (double)a;
    if (a == 0.5f) {
        decompress_half(spec, frames, bins, beta);
        return;
    }
    for (size_t k = 0; k < frames; k++) {
        float *re = spec + k * 2 * (size_t)bins, *im = re + bins;
        for (int f = 0; f < bins; f++) {
            double r = re[f], i = im[f], m = hypot(r, i);
            /* |X| = (m / beta)^(1/a); gain on (r, i) is |X| / m */
            double g = m > 0.0 ? pow(m / (double)beta, inv_a) / m : 0.0;
            re[f] = (float)(r * g);
            im[f] = (float)(i * g);
        }
    }
}

float lpi_stft_random_phase_gain(const limpid_stft *s) { return s ? s->rp_gain : 1.0f; }
