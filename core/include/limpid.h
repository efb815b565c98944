/* limpid.h - the one public header of the limpid core library.
 *
 * limpid: denoising diffusion probabilistic models (DDPMs) for audio, in C.
 *
 * Conventions
 *  - Every public symbol starts with limpid_ / LIMPID_.
 *  - Objects are opaque handles with create/destroy pairs; every destroy accepts NULL.
 *  - Every fallible call returns a limpid_status; limpid_strerror() names it.
 *    Calls that parse files also fill an optional message buffer (err, errlen) with
 *    a sentence saying what exactly is wrong.
 *  - A limpid_model (the weights and hyper-parameters) is read-only once created or
 *    loaded: any number of limpid_ctx runtime states, in any number of threads, may
 *    share one model. The model must outlive every ctx made from it.
 *  - A limpid_ctx / limpid_stft / limpid_trainer is used by one thread at a time.
 *  - The core library does no audio-file and no terminal I/O. The only files it
 *    touches are model files and training checkpoints, when asked to.
 *
 * Audio is mono float32 in [-1, 1] at the model's sample rate unless said otherwise.
 */
#ifndef LIMPID_H
#define LIMPID_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(LIMPID_BUILDING) && defined(__GNUC__)
#define LIMPID_API __attribute__((visibility("default")))
#else
#define LIMPID_API
#endif

/* ------------------------------------------------------------------------ */
/* Version and errors                                                        */

#define LIMPID_VERSION_MAJOR 0
#define LIMPID_VERSION_MINOR 1
#define LIMPID_VERSION_PATCH 0

/* The version this library was built as, "MAJOR.MINOR.PATCH" (e.g. "0.1.0"); compare with
 * the LIMPID_VERSION_* macros of the header a program was compiled against. Until 1.0 the
 * ABI may change with the minor version (the soname carries the major only): rebuild
 * programs against the matching header. Static string, thread-safe. */
LIMPID_API const char *limpid_version(void);

typedef enum limpid_status {
    LIMPID_OK = 0,
    LIMPID_ERR_NOMEM = 1,       /* an allocation failed */
    LIMPID_ERR_INVALID = 2,     /* an argument or configuration is out of range */
    LIMPID_ERR_IO = 3,          /* a file could not be opened, read or written */
    LIMPID_ERR_FORMAT = 4,      /* not a limpid file (bad magic), or wrong kind of file */
    LIMPID_ERR_VERSION = 5,     /* a limpid file of a format version this build cannot read */
    LIMPID_ERR_TRUNCATED = 6,   /* the file ends before its contents do */
    LIMPID_ERR_CORRUPT = 7,     /* checksum mismatch or inconsistent contents */
    LIMPID_ERR_UNSUPPORTED = 8, /* valid request this model/build cannot do */
    LIMPID_ERR_NUMERIC = 9,     /* non-finite values appeared (NaN/Inf) */
    LIMPID_ERR_STATE = 10       /* call made in the wrong state */
} limpid_status;

/* A static English sentence for a status; never NULL. */
LIMPID_API const char *limpid_strerror(limpid_status st);

/* Free memory returned by the library (e.g. limpid_model_save_memory); NULL is fine. */
LIMPID_API void limpid_free(void *p);

/* Threads used by matrix products (OpenBLAS) and by the trainer's item preparation, for the
 * whole process (OpenBLAS's setting is global: it affects every ctx, trainer and other user of
 * OpenBLAS in the process). n <= 0: all cores. Results are deterministic for a given seed and
 * thread count. Not for real-time threads: limpid_stream never uses OpenBLAS. */
LIMPID_API void limpid_set_threads(int n);
LIMPID_API int limpid_get_threads(void);

/* OpenBLAS picks its kernels from the CPU model at load time. On a model newer than the
 * library knows (Debian 12's 0.3.21 on a recent Xeon, or a virtual machine that reports a
 * generic "Intel Xeon Processor") it falls back to its baseline SSE3 kernels ("Prescott"),
 * 4-7x slower than the AVX-512 ones the CPU can run. This returns the OPENBLAS_CORETYPE value
 * that gives this CPU's kernels ("SKYLAKEX" with AVX-512, "HASWELL" with AVX2), or NULL when
 * the kernels in use already match, or when OPENBLAS_CORETYPE or LIMPID_KEEP_BLAS_CORE (keep
 * OpenBLAS's choice) is set. OpenBLAS reads the variable only when it is loaded: a program
 * sets it and re-executes itself (the limpid tool and bench_core do). */
LIMPID_API const char *limpid_blas_better_coretype(void);

/* ------------------------------------------------------------------------ */
/* STFT (FFTW3, single precision)                                            */
/*
 * Frame layout: one frame is 2*bins floats: re[0..bins) then im[0..bins), bins = n_fft/2+1.
 * Whole-signal analysis pads n_fft-hop zeros before the signal, so frame k covers input
 * samples [k*hop - (n_fft-hop), k*hop + hop), and every sample lies in n_fft/hop frames;
 * frames(n) = ceil(n / hop) (the last hop is zero-padded). Synthesis returns exactly n samples
 * and reconstructs the input within 1e-5 relative error (any hop <= n_fft/2 dividing n_fft);
 * with the Hann window the last hop of the signal, seen only by the tail of the last frame, is
 * divided by tiny window values and reconstructs within about 1e-3.
 * Scaling: X = FFT(window * x) / sqrt(n_fft); synthesis inverts it exactly.
 * Streaming: push hop samples, get the frame that ends with them; push a frame, get hop
 * finished output samples. A streaming analysis+synthesis is the identity delayed by
 * limpid_stft_latency() = n_fft - hop samples, and equals the whole-signal transform.
 */
typedef enum limpid_window {
    LIMPID_WINDOW_HANN = 0,      /* periodic Hann analysis, rectangular-normalised synthesis */
    LIMPID_WINDOW_SQRT_HANN = 1  /* periodic sqrt-Hann analysis and synthesis */
} limpid_window;

typedef struct limpid_stft limpid_stft;

/* n_fft even, >= 4; 1 <= hop <= n_fft/2; n_fft % hop == 0 */
LIMPID_API limpid_status limpid_stft_create(limpid_stft **out, int n_fft, int hop,
                                            limpid_window window);
LIMPID_API void limpid_stft_destroy(limpid_stft *s);
LIMPID_API int limpid_stft_bins(const limpid_stft *s);
LIMPID_API int limpid_stft_latency(const limpid_stft *s);
LIMPID_API size_t limpid_stft_frames(const limpid_stft *s, size_t n_samples);
/* x[n] -> spec[frames][2*bins] */
LIMPID_API limpid_status limpid_stft_analyze(limpid_stft *s, const float *x, size_t n,
                                             float *spec);
/* spec[frames(n)][2*bins] -> y[n] */
LIMPID_API limpid_status limpid_stft_synthesize(limpid_stft *s, const float *spec, size_t n,
                                                float *y);
/* Streaming state back to silence. */
LIMPID_API void limpid_stft_reset(limpid_stft *s);
/* hop samples in -> one frame (2*bins floats) out. No allocation. */
LIMPID_API void limpid_stft_push(limpid_stft *s, const float *hop_in, float *frame_out);
/* one frame in -> hop samples out. No allocation. */
LIMPID_API void limpid_stft_pull(limpid_stft *s, const float *frame_in, float *hop_out);

/* Amplitude compression of a complex spectrum in place (frame layout above, `frames`
 * frames): X -> beta * |X|^a * e^{j angle X}; the inverse undoes it. 0 < a <= 1, beta > 0. */
LIMPID_API void limpid_spec_compress(float *spec, size_t frames, int bins, float a, float beta);
LIMPID_API void limpid_spec_decompress(float *spec, size_t frames, int bins, float a,
                                       float beta);

/* ------------------------------------------------------------------------ */
/* Model configuration                                                       */

typedef enum limpid_task {
    LIMPID_TASK_DENOISE = 0, /* conditioned on the noisy observation */
    LIMPID_TASK_TEXTURE = 1  /* conditioned on a class id (n_classes >= 1) */
} limpid_task;

typedef enum limpid_domain {
    LIMPID_DOMAIN_WAVE = 0, /* raw waveform: 1 feature channel, one frame per sample */
    LIMPID_DOMAIN_STFT = 1  /* compressed STFT: 2*bins feature channels per frame (complex), or
                               bins (magnitude, limpid_spec_features) */
} limpid_domain;

typedef enum limpid_schedule {
    LIMPID_SCHEDULE_LINEAR = 0, /* beta linear from beta_start to beta_end */
    LIMPID_SCHEDULE_COSINE = 1  /* Nichol & Dhariwal, s = 0.008, beta clipped at 0.999 */
} limpid_schedule;

typedef enum limpid_target {
    LIMPID_TARGET_EPS = 0, /* network predicts the noise */
    LIMPID_TARGET_X0 = 1,  /* network predicts the clean signal */
    LIMPID_TARGET_V = 2    /* v = sqrt(abar) eps - sqrt(1-abar) x0 */
} limpid_target;

typedef enum limpid_head {
    LIMPID_HEAD_DIRECT = 0, /* network output is the target */
    LIMPID_HEAD_GAIN = 1,   /* STFT denoise only, target x0: x0 = (1+g1)*noisy + g2*x_t per bin,
                               g1, g2 real per bin, from the network's 2*bins outputs */
    LIMPID_HEAD_WIENER = 2, /* STFT denoise only, target x0: the network estimates a floor per
                               bin, r0 = exp(o1 - 3) (compressed magnitude), and a mixing term
                               g2; per bin, with r = |noisy|, G = r^4 / (r^4 + r0^4) and
                               x0 = G*noisy + g2*x_t. The gain is decided from each bin's own
                               magnitude, so a narrow network (channels << bins) still resolves
                               single bins (tones, harmonics). */
    LIMPID_HEAD_WIENER_REL = 3, /* as WIENER with the floor relative to the frame's level:
                               r0 = exp(o1 - 1) * L, L = sqrt(mean over bins of r^2) of the
                               noisy frame. The gain does not depend on the input level, and
                               an untrained head gates at 0.37 L, inside its responsive range
                               for any level (an absolute floor starts saturated for most
                               bins: its gradient vanishes). */
    LIMPID_HEAD_WIENER_FLOOR = 4 /* needs cond LOGPOW_FLOOR: as WIENER with the floor relative
                               to the bin's tracked noise floor M (compressed power, see
                               LIMPID_COND_LOGPOW_FLOOR): with P = r^2, G = P^2 / (P^2 +
                               (3 exp(o1) M)^2). Untrained (o1 = 0) it is already a classic
                               Wiener-style suppressor with a minimum-tracking noise estimate;
                               the network learns where to move the threshold. */
} limpid_head;

/* What the network sees of the noisy observation (denoising, STFT domain). */
typedef enum limpid_cond {
    LIMPID_COND_SPECTRUM = 0, /* the compressed complex spectrum itself (Cc = Cx) */
    LIMPID_COND_LOGPOW = 1,   /* per bin ln(|X|^(2a) beta^2 + 1e-6), scaled: Cc = bins. A
                                 level change is an offset, and the magnitude of a bin is
                                 directly visible (from re/im the network would have to
                                 compute it through a random-phase linear mix). */
    LIMPID_COND_LOGPOW_FLOOR = 2 /* LOGPOW, plus per bin the same scaled log of a causal
                                 noise-floor track M of the compressed power P = |X|^(2a)
                                 beta^2: S = S + 0.3 (P - S) per frame, M = min(S, M * 2^(hop /
                                 rate)) (falls at once, rises at most 2x per second; both start
                                 at the first frame's P): Cc = 2 * bins. Gives the network (and
                                 the WIENER_FLOOR head) each bin's level above its own floor,
                                 which no receptive field of a few hundred ms shows. */
} limpid_cond;

/* What the network takes of x_t (its input projection; the head still mixes in x_t itself).
 * NONE: x_t. SQRT_ABAR: sqrt(abar_t) x_t, so the network's input is mostly signal at small t
 * and fades to nothing at t = T, where x_t is pure noise that says nothing about x0 (fed
 * unscaled, that noise swamps the residual stream of the few-step estimate the denoisers
 * rely on). */
typedef enum limpid_input_scale {
    LIMPID_INPUT_SCALE_NONE = 0,
    LIMPID_INPUT_SCALE_SQRT_ABAR = 1
} limpid_input_scale;

/* How an STFT texture model's features are scaled before diffusion. NONE: the compressed
 * spectrum as it is. CLASS: each bin divided by its RMS over the class's training audio (a
 * table of classes x bins in the model, tensor "feat.scale", measured before training by
 * limpid_trainer_fit_feature_norm), so every bin of every class has about unit variance, as the
 * diffusion's noise does: a bin 40 dB below the loudest is no longer at the mercy of the
 * sampler's absolute errors, and the class's long-term spectrum is part of the model. */
typedef enum limpid_feature_norm {
    LIMPID_FEATURE_NORM_NONE = 0,
    LIMPID_FEATURE_NORM_CLASS = 1
} limpid_feature_norm;

/* What an STFT model's features hold. COMPLEX: beta*|X|^a e^{j angle X}, 2*bins channels (re
 * rows, then im rows). MAGNITUDE (texture models only): beta*|X|^a, bins channels; the phase
 * is not modelled: audio is made with a random phase per frame and bin (from the sampling
 * seed), which keeps the subband envelopes that make a noise texture (rain, wind, fire) and
 * leaves the network only the magnitudes' structure to learn. With feature_norm CLASS each
 * bin's mean is removed as well (tensor "feat.mean"), since magnitudes are not centred. */
typedef enum limpid_spec_features {
    LIMPID_FEATURES_COMPLEX = 0,
    LIMPID_FEATURES_MAGNITUDE = 1
} limpid_spec_features;

/* Per-layer convolution alignment. */
#define LIMPID_LOOKAHEAD_NONCAUSAL (-1)

typedef struct limpid_config {
    limpid_task task;
    limpid_domain domain;
    int sample_rate; /* Hz */

    /* STFT settings (domain STFT) */
    int n_fft;
    int hop;
    limpid_window window;
    float compress_exp;   /* a in beta*|X|^a */
    float compress_scale; /* beta */

    /* network */
    int channels;       /* residual channels C */
    int layers;         /* residual layers N */
    int dilation_cycle; /* dilation of layer i = 2^(i % dilation_cycle) */
    int embed_dim;      /* sinusoidal code size E (even) */
    int embed_hidden;   /* step-embedding MLP width H */
    int lookahead;      /* frames of lookahead of the whole stack: LIMPID_LOOKAHEAD_NONCAUSAL
                           (every layer centred), 0 (causal), or K > 0 (layers centred, first
                           to last, while the sum of their lookahead stays <= K; then causal) */
    int n_classes;      /* texture: number of classes (>= 1); denoise: 0 */
    limpid_head head;
    limpid_cond cond;   /* denoise, STFT domain; wave domain: SPECTRUM (the waveform) */

    /* diffusion */
    limpid_schedule schedule;
    int steps_T;      /* T, number of diffusion steps */
    float beta_start; /* linear schedule */
    float beta_end;
    limpid_target target;
    limpid_input_scale input_scale;
    limpid_feature_norm feature_norm; /* STFT textures (NONE otherwise) */
    limpid_spec_features features;    /* STFT: COMPLEX, or MAGNITUDE for textures */

    /* Per-bin front end (STFT denoisers with the WIENER_FLOOR head; docs/design.md): a small
     * network shared by all bins reads each bin's level and level above its floor over
     * 2*front_bins+1 neighbouring bins and the current and front_frames-1 past frames, and
     * gives the bin an offset of the head's threshold plus front_cond extra conditioning
     * rows for the network. front_hidden = 0: none (the other three are then 0 too). */
    int front_hidden; /* width of its two hidden layers, 0..256 */
    int front_bins;   /* neighbours on each side in frequency, 0..16 */
    int front_frames; /* frames of context (the current one included), 1..32 */
    int front_cond;   /* extra conditioning rows per bin, 0..8 */

    /* LOGPOW_FLOOR conditioning: 1 = the network reads its floor rows as each bin's level
     * above its floor (log power minus log floor) instead of the log floor itself. The head
     * still gets the floor; only the network's input changes (docs/design.md). 0 or 1. */
    int cond_snr;

    /* LOGPOW_FLOOR conditioning: how fast the tracked noise floor may rise, in doublings per
     * second (it always falls at once). Slower keeps sustained notes (music) from being taken
     * for the floor; faster follows rising noise sooner. 0 = the default, 1; else 0.05..16. */
    float floor_rise;

    /* LOGPOW_FLOOR conditioning: a second, slow floor track given to the network as F more
     * conditioning rows (log floor, as the first; the head keeps using the first). It rises
     * at most floor_slow doublings per second: a held note sits above it while the fast
     * track has reached the note, and rising noise lifts both. 0 = none; else 0.01..16. Not
     * with a per-bin front end. */
    float floor_slow;

    /* LOGPOW_FLOOR conditioning: 1 = LIMPID_HARM_ROWS more conditioning rows per frame that
     * say how periodic the frame is (voiced speech, pitched notes) where per-bin levels do
     * not: the peak of the frame's spectral autocorrelation below 4 kHz over pitch lags of
     * 80..480 Hz, that pitch, and the correlation of 9 bands at it (docs/design.md). Needs
     * n_fft > sample_rate / 80 and n_fft <= 4096; not with a per-bin front end or floor_slow.
     * 0 or 1. */
    int harmonicity;

    /* WIENER_FLOOR head: 1 = a third output row per bin, a gate s = sigmoid(o3 - 3) that
     * takes the gain from the floor head's G = sigmoid(2 ln(P / M) - 2 (o1 + ln 3)) (s = 0)
     * to one that does not depend on the bin's level over its floor, G = sigmoid(-2 (o1 +
     * ln 3)) (s = 1): G = sigmoid((1 - s) 2 ln(P / M) - 2 (o1 + ln 3)). With it a decision
     * of the network ("this bin is noise") cuts a burst 40 dB over the floor as it cuts one
     * 5 dB over it, where the floor head needs an o1 that grows with each bin's own level
     * (docs/design.md). Untrained s = 0.047: nearly the floor head. Not with a per-bin front
     * end. 0 or 1. */
    int floor_gate;

    /* WIENER_FLOOR denoiser: > 0 = a band-resolved stack. The WaveNet runs over (item, band)
     * pairs with weights shared by the bands: each of `bands` ERB-spaced triangular bands
     * gets its own inputs (its level and its floor's, band_context neighbours each side, the
     * frame's whole band shape, which band it is) and its own outputs (the head's o1, g2 and,
     * gated, o3, spread back to the bins by the same triangles), where the plain stack sees
     * the frame through one projection to `channels` and reads every bin out of it. Costs
     * about `bands` times a stack of the same width per frame: use a narrow one (16). 0
     * (none) or 4..64 and at most n_fft / 8 bands; not with a per-bin front end, floor_slow,
     * harmonicity or cond_snr; no streaming yet (offline denoising only). */
    int bands;
    int band_context; /* neighbouring bands seen each side: 0..16 (needs bands > 0) */
} limpid_config;

/* conditioning rows added by limpid_config.harmonicity */
#define LIMPID_HARM_ROWS 11

/* Fill cfg with a named preset: "tiny" (tests, seconds to train), "small", "base".
 * task/domain pick the variant. Returns LIMPID_ERR_INVALID for an unknown name. */
LIMPID_API limpid_status limpid_config_preset(limpid_config *cfg, const char *name,
                                              limpid_task task, limpid_domain domain,
                                              int sample_rate);
/* Check every field and their combination; err gets the first problem found. */
LIMPID_API limpid_status limpid_config_check(const limpid_config *cfg, char *err, size_t errlen);

/* Derived sizes. */
LIMPID_API int limpid_config_feature_channels(const limpid_config *cfg); /* Cx */
LIMPID_API int limpid_config_frame_hop(const limpid_config *cfg); /* samples per frame (1 or hop) */

/* ------------------------------------------------------------------------ */
/* Models                                                                    */

typedef struct limpid_model limpid_model;

/* Training provenance carried in the model file. Strings are NUL-terminated. */
typedef struct limpid_provenance {
    char created[32];       /* ISO-8601 UTC time the file was written */
    char tool_version[16];  /* limpid version that wrote it */
    char data[256];         /* description of the training data */
    char command[512];      /* command line that trained it */
    uint64_t seed;
    uint64_t train_steps;
    double train_seconds;
    double final_loss;      /* last training loss (NaN if unknown) */
    double val_loss;        /* last validation loss (NaN if unknown) */
} limpid_provenance;

typedef struct limpid_model_info {
    size_t params;              /* number of float parameters */
    int feature_channels;       /* Cx */
    int cond_channels;          /* Cc (0 when not conditioned on audio) */
    int out_channels;           /* Cout */
    double macs_per_frame;      /* multiply-accumulates of one network evaluation per frame */
    double frames_per_second;   /* sample_rate / frame_hop */
    double macs_per_second;     /* per second of audio, per sampling step */
    int receptive_field;        /* frames */
    int lookahead_frames;       /* frames of future the stack sees */
    int latency_samples;        /* latency of frame-by-frame streaming with ONE sampling
                                   step: n_fft (STFT n_fft - hop, one hop of buffering) +
                                   lookahead_frames * hop; each further step adds the
                                   lookahead again (a step needs the previous step's result
                                   on its lookahead frames). limpid_stream runs causal
                                   models only: latency n_fft for any step count. */
    double front_macs_per_frame; /* the per-bin front end, once per frame whatever the
                                    number of sampling steps (0: none) */
} limpid_model_info;

/* A new model with freshly initialised weights (seeded, deterministic); cfg is checked
 * (INVALID with an invalid configuration). An untrained gain or Wiener head passes the noisy
 * input through (its outputs start at 0). *out is owned by the caller: limpid_model_destroy.
 * The accessors below return pointers into the model (valid until it is destroyed). */
LIMPID_API limpid_status limpid_model_create(limpid_model **out, const limpid_config *cfg,
                                             uint64_t seed);
LIMPID_API void limpid_model_destroy(limpid_model *m);
LIMPID_API const limpid_config *limpid_model_config(const limpid_model *m);
LIMPID_API const limpid_provenance *limpid_model_provenance(const limpid_model *m);
LIMPID_API void limpid_model_get_info(const limpid_model *m, limpid_model_info *info);

/* Model files. The loader checks magic, version, every field and every size against the
 * file, and the checksum; a refused file gives a message in err saying what is wrong and one
 * of IO (cannot open/read), FORMAT (not a limpid model file), VERSION, TRUNCATED, CORRUPT
 * (checksum or inconsistent contents) or NOMEM; *out is then NULL. The loaded model is owned
 * by the caller. load_memory does not keep buf. */
LIMPID_API limpid_status limpid_model_load_file(limpid_model **out, const char *path, char *err,
                                                size_t errlen);
LIMPID_API limpid_status limpid_model_load_memory(limpid_model **out, const void *buf,
                                                  size_t len, char *err, size_t errlen);
/* Writes path.tmp-XXXXXX then renames over path (IO on failure; path is then untouched). */
LIMPID_API limpid_status limpid_model_save_file(const limpid_model *m, const char *path);
/* *buf is allocated; free it with limpid_free. */
LIMPID_API limpid_status limpid_model_save_memory(const limpid_model *m, void **buf,
                                                  size_t *len);

/* ------------------------------------------------------------------------ */
/* Sampling (reverse process)                                                */

typedef enum limpid_sampler {
    LIMPID_SAMPLER_DDIM = 0, /* deterministic (eta = 0) or partly stochastic DDIM */
    LIMPID_SAMPLER_DDPM = 1  /* ancestral sampling over every step from the start step */
} limpid_sampler;

typedef struct limpid_sample_opts {
    limpid_sampler sampler;
    int steps;       /* DDIM: number of network evaluations (1..T), evenly spaced steps */
    float start;     /* (0, 1]: the reverse process starts at step round(start*T) from the
                        observation (denoise) noised to that step; 1 starts from pure noise */
    float eta;       /* DDIM stochasticity, 0 = deterministic */
    uint64_t seed;
} limpid_sample_opts;

/* DDIM, 4 steps, start 1.0 (from pure noise), eta 0 (deterministic), seed 0. */
LIMPID_API void limpid_sample_opts_default(limpid_sample_opts *o);

/* A runtime state bound to a model (which must outlive it): scratch memory for blocks of up to
 * max_frames frames (max_frames <= 0: about 4 s of audio; at least 16). Longer signals are
 * processed in overlapping blocks of that size, so memory does not grow with the signal.
 * One thread at a time per ctx; any number of ctx may share one model. Errors: INVALID (NULL
 * out or model), NOMEM. */
typedef struct limpid_ctx limpid_ctx;

LIMPID_API limpid_status limpid_ctx_create(limpid_ctx **out, const limpid_model *m,
                                           int max_frames);
LIMPID_API void limpid_ctx_destroy(limpid_ctx *c);

/* Precision of the network's matrix products in a ctx. FP32 (default): OpenBLAS sgemm, the
 * same result on every x86-64 machine for a given thread count. BF16: the factors rounded to
 * bfloat16 (8-bit mantissa), products summed in fp32, on Intel AMX (Sapphire Rapids and
 * later): several times faster; outputs differ from FP32 by about 1e-3 relative (dev-set
 * metrics: see the README). limpid_ctx_set_precision gives UNSUPPORTED where the CPU (or the
 * kernel, or the build) has no AMX, and the ctx stays as it was; NOMEM. The streaming engine
 * (limpid_stream) always uses FP32. */
typedef enum limpid_precision { LIMPID_PRECISION_FP32 = 0, LIMPID_PRECISION_BF16 = 1 } limpid_precision;
LIMPID_API limpid_status limpid_ctx_set_precision(limpid_ctx *c, limpid_precision p);
/* Whether this build and machine can run LIMPID_PRECISION_BF16. */
LIMPID_API int limpid_bf16_available(void);

/* Denoise n samples of `in` into `out` (may alias). n may exceed the ctx's frame budget:
 * the signal is processed in overlapping blocks that cover the receptive field. */
LIMPID_API limpid_status limpid_denoise(limpid_ctx *c, const float *in, size_t n, float *out,
                                        const limpid_sample_opts *o);
/* Generate n samples of class `cls` (texture models; 0 <= cls < n_classes, else INVALID;
 * a denoising model gives UNSUPPORTED, as limpid_denoise does for a texture model). The same
 * options and seed give the same samples. */
LIMPID_API limpid_status limpid_generate(limpid_ctx *c, int cls, size_t n, float *out,
                                         const limpid_sample_opts *o);

/* ------------------------------------------------------------------------ */
/* Streaming denoiser (real time)                                            */
/*
 * A limpid_stream denoises one channel sample by sample with a fixed latency, for plugins and
 * live audio. It runs the same reverse process as limpid_denoise, frame by frame: each DDIM
 * step evaluates the network incrementally (per-layer history, no recomputation), so a model
 * that is causal (limpid_config.lookahead = 0, STFT domain, task denoise, a gain or Wiener
 * head) streams with latency = n_fft model samples (STFT analysis and overlap-add, n_fft - hop,
 * plus one hop of buffering; one hop more with opts.spread), whatever the block size and the
 * number of steps; when the host
 * rate differs from the model's, the two resamplers' delays and a FIFO are added (constant).
 * Other models are refused with LIMPID_ERR_UNSUPPORTED (with lookahead, every sampling step
 * would add its lookahead to the delay).
 * Output does not depend on how the input is cut into blocks: each frame's work is done at
 * the same point of the sample stream.
 * limpid_stream_process never allocates, locks, logs or touches files; it flushes denormals
 * for its own duration, and non-finite input samples are processed as 0.
 * A stream is used by one thread at a time; many streams may share one model.
 */
typedef struct limpid_stream limpid_stream;

typedef struct limpid_stream_opts {
    int sample_rate;  /* host rate in Hz (8000..384000); resampled internally if it differs */
    int max_steps;    /* most DDIM steps per frame this stream will be asked for (sets the
                         latency; 1..8) */
    int steps;        /* DDIM steps now (1..max_steps) */
    float strength;   /* the reverse process's start, as limpid_sample_opts.start, (0, 1] */
    uint64_t seed;    /* noise seed (per-frame counter-based: same seed, same output) */
    int spread;       /* 0: a frame's work runs in the call that completes its hop (lowest
                         latency: n_fft); 1: it is spread evenly over the next hop, so no
                         call carries a whole frame's work (for small host blocks: plugins,
                         live audio), one hop more latency (n_fft + hop). The samples are
                         the same, delayed by that hop. */
} limpid_stream_opts;

/* 48 kHz, 4 of max 4 steps, strength 1, seed 0, no spreading */
LIMPID_API void limpid_stream_opts_default(limpid_stream_opts *o);
LIMPID_API limpid_status limpid_stream_create(limpid_stream **out, const limpid_model *m,
                                              const limpid_stream_opts *o);
LIMPID_API void limpid_stream_destroy(limpid_stream *s);
/* Latency in host samples (what a plugin reports): output sample n is the denoised input
 * sample n - latency. */
LIMPID_API int limpid_stream_latency(const limpid_stream *s);
/* Real-time safe setters (no allocation; take effect at the next frame). steps is clamped to
 * 1..max_steps and strength to (0, 1]. */
LIMPID_API void limpid_stream_set_steps(limpid_stream *s, int steps);
LIMPID_API void limpid_stream_set_strength(limpid_stream *s, float strength);
/* Back to silence (e.g. on plugin activate); the frame counter restarts at 0. */
LIMPID_API void limpid_stream_reset(limpid_stream *s);
/* n samples in -> n samples out (in and out may be the same buffer). */
LIMPID_API void limpid_stream_process(limpid_stream *s, const float *in, float *out, size_t n);

/* ------------------------------------------------------------------------ */
/* Training                                                                  */

typedef struct limpid_train_config {
    int batch;          /* items per step */
    int crop_samples;   /* samples per item (whole frames are used) */
    float lr;           /* peak learning rate */
    float lr_min;       /* final learning rate of the cosine decay */
    int warmup;         /* linear warm-up steps */
    int64_t total_steps;/* length of the decay; steps past it stay at lr_min */
    float weight_decay; /* AdamW decoupled decay (not applied to biases) */
    float beta1, beta2, adam_eps;
    float clip;         /* global gradient-norm clip; <= 0 disables */
    float ema_decay;    /* EMA of the weights, e.g. 0.999; 0 disables */
    uint64_t seed;      /* initialisation, diffusion steps and noise */
    float t_top;        /* share of items trained at the last step t = T (from pure noise:
                           the network's predictive estimate, what the first sampling step
                           uses), the others at t uniform in 1..T; 0 (default): all uniform */
    float loss_weight;  /* STFT denoising: lambda of the per-bin loss weight
                           w = 1 - lambda + lambda * P / mean(P), P = the noisy bin's
                           compressed power (|X| for a = 0.5): lambda = 1 weighs errors about
                           as the linear-magnitude error, so loud bins, which decide SI-SDR,
                           count; 0 (default): the plain compressed-domain MSE */
    int loss_norm;      /* how items share the loss (LIMPID_LOSS_NORM_*): 0 (default) BATCH */
    float mask_loss;    /* WIENER_FLOOR head only: mu of a second term on the head's gain G
                           itself, mu (1 - abar_t) w KL(Gt || G) per bin, with the ideal gain
                           Gt = min(1, |x0| / |noisy|) (compressed domain), w the loss weight
                           above and KL the Bernoulli divergence Gt ln(Gt/G) + (1-Gt)
                           ln((1-Gt)/(1-G)). Its gradient on the gain's logit is G - Gt, which
                           does not vanish where the logistic saturates (a loud noise bin far
                           above the floor, G ~ 1, gets through the squared error a gradient
                           G (1 - G) times smaller). (1 - abar_t): the term counts where x_t
                           says little of x0 (the predictive estimate) and fades at small t,
                           where the head's other term carries x_t through. 0 (default): off */
    int mask_form;      /* the mask loss's target and weights (LIMPID_MASK_FORM_*): 0 (default)
                           RATIO */
    float gate_loss;    /* gated WIENER_FLOOR head (floor_gate) only: nu of a term that trains
                           the gate s on its own target, nu (1 - abar_t) w KL(st || s) per bin,
                           st = |N|^2 / (|S|^2 + |N|^2) the share of the noisy bin's linear
                           power that is noise (N = noisy - clean), w the loss weight (1 where
                           loss_weight is 0): the gate learns where noise rules from a target
                           of its own instead of only through the output's error, which
                           rewards a gate that opens on speech. Its gradient on the gate's
                           logit is s - st. 0 (default): off */
    int self_refine;    /* x0-target models only: 1 trains the items at t < T on the x_t that
                           sampling gives them, built from the network's own estimate instead
                           of the clean x0: the batch is first run at t = T (x_T = sqrt(abar_T)
                           x0 + sqrt(1 - abar_T) eps, every item its own eps), and each item
                           at t < T gets the DDIM step from there, x_t = sqrt(abar_t) x0^ +
                           sqrt(1 - abar_t) eps^ with x0^ that estimate and eps^ = (x_T -
                           sqrt(abar_T) x0^) / sqrt(1 - abar_T), held constant (no gradient
                           flows into x0^). The target stays the clean x0: the refinement
                           steps learn to correct the first step's errors, which an x_t made
                           from the clean x0 never shows them. Costs one more forward pass
                           per step. 0 (default): x_t from the clean x0 */
} limpid_train_config;

/* limpid_train_config.mask_form. RATIO: Gt = min(1, |x0| / |noisy|) in the compressed domain,
 * each bin weighted by the loss weight w (about the noisy bin's linear magnitude). PHASE: Gt is
 * the gain that minimises the bin's squared error in the linear STFT domain, the
 * phase-sensitive Re(S Y*) / |Y|^2 clipped to 0..1, taken to the compressed domain (its
 * square root at a = 0.5: the head's compressed gain G scales the linear magnitude by
 * G^(1/a)), and each bin weighted by its linear power |Y|^2 over the item's mean of it: the
 * weights with which the squared error ranks a bin's gain error, so the term pulls the gain
 * where the squared error (and SI-SDR) would, with a gradient that does not saturate. */
enum { LIMPID_MASK_FORM_RATIO = 0, LIMPID_MASK_FORM_PHASE = 1 };

/* limpid_train_config.loss_norm. BATCH: the loss weight's mean(P) is over the whole batch, so
 * a loud item (gain augmentation) outweighs a quiet one. ITEM: mean(P) per item, so every item
 * counts alike whatever its level (the per-item scale invariance of SI-SDR). LOG: as ITEM,
 * and the loss is the mean over items of ln(item error), an SDR-like loss: each item's
 * gradient is divided by its own error (times the batch's mean error, so the step size stays
 * that of ITEM), and the items a model does worst on count most. */
/* NOISE (STFT denoisers): each item's loss is the squared error of its estimate in the linear
 * STFT domain (the compressed features decompressed) over the energy of the item's noise there
 * (noisy minus clean): the residual-noise ratio r, 1 for an estimate no better than the noisy
 * input, 10^(-X/10) for one X dB better in SDR, so items count alike at any level and SNR and
 * the error is the one SI-SDR sees (loud bins by their energy). loss_weight does not apply.
 * NOISE_DB: as NOISE with the item loss ln(1 + r / 0.01): where r >> 0.01 the item's SDR gain
 * in dB (the mean over items follows the mean SI-SDR improvement, where NOISE's mean of r is
 * ruled by the items with the least to gain); estimates better than 20 dB fade out, so items
 * at small t (x_t nearly x0) do not take over. */
enum {
    LIMPID_LOSS_NORM_BATCH = 0,
    LIMPID_LOSS_NORM_ITEM = 1,
    LIMPID_LOSS_NORM_LOG = 2,
    LIMPID_LOSS_NORM_NOISE = 3,
    LIMPID_LOSS_NORM_NOISE_DB = 4
};

/* batch 16, crop 32768 samples, lr 1e-3 -> lr_min 1e-5 (cosine), warm-up 200, total 20000
 * steps, weight decay 0.01, Adam betas 0.9 / 0.999, eps 1e-8, clip 1.0, EMA 0.999, seed 1,
 * t_top 0, loss_weight 0, loss_norm BATCH, mask_loss 0, mask_form RATIO. */
LIMPID_API void limpid_train_config_default(limpid_train_config *tc);

typedef struct limpid_trainer limpid_trainer;

/* A trainer for a new model of configuration cfg (init = NULL), or fine-tuning init (copied:
 * init may be destroyed afterwards). INVALID when cfg or tc is out of range. One thread at a
 * time per trainer; it uses limpid_set_threads threads internally. */
LIMPID_API limpid_status limpid_trainer_create(limpid_trainer **out, const limpid_config *cfg,
                                               const limpid_model *init,
                                               const limpid_train_config *tc);
LIMPID_API void limpid_trainer_destroy(limpid_trainer *t);

/* One optimisation step on a batch: clean[batch][crop_samples]; noisy likewise (denoise) or
 * NULL (texture); cls[batch] class ids (texture) or NULL. *loss gets the batch loss. */
LIMPID_API limpid_status limpid_trainer_step(limpid_trainer *t, const float *clean,
                                             const float *noisy, const int *cls, float *loss);
/* Loss on n_items items with the EMA weights, with diffusion steps and noise fixed by the
 * item index (the same every call): a comparable validation loss. */
LIMPID_API limpid_status limpid_trainer_validate(limpid_trainer *t, const float *clean,
                                                 const float *noisy, const int *cls,
                                                 int n_items, float *loss);
LIMPID_API int64_t limpid_trainer_steps_done(const limpid_trainer *t);
LIMPID_API const limpid_train_config *limpid_trainer_train_config(const limpid_trainer *t);
LIMPID_API const limpid_config *limpid_trainer_model_config(const limpid_trainer *t);
/* Current learning rate (the schedule at the next step). */
LIMPID_API float limpid_trainer_lr(const limpid_trainer *t);
/* Change the share of items trained at t = T (limpid_train_config.t_top, 0..1) of a running
 * or resumed trainer; saved in later checkpoints. */
LIMPID_API limpid_status limpid_trainer_set_t_top(limpid_trainer *t, float t_top);
/* The same for limpid_train_config.loss_weight (0..1). */
LIMPID_API limpid_status limpid_trainer_set_loss_weight(limpid_trainer *t, float lambda);
/* The same for limpid_train_config.loss_norm (LIMPID_LOSS_NORM_*). */
LIMPID_API limpid_status limpid_trainer_set_loss_norm(limpid_trainer *t, int norm);
/* The same for limpid_train_config.mask_loss (0..100; INVALID on a model whose head is not
 * WIENER_FLOOR unless 0). */
LIMPID_API limpid_status limpid_trainer_set_mask_loss(limpid_trainer *t, float mu);
/* The same for limpid_train_config.mask_form (LIMPID_MASK_FORM_*). */
LIMPID_API limpid_status limpid_trainer_set_mask_form(limpid_trainer *t, int form);
/* The same for limpid_train_config.gate_loss (0..100; INVALID on a model without floor_gate
 * unless 0). */
LIMPID_API limpid_status limpid_trainer_set_gate_loss(limpid_trainer *t, float nu);
/* A model with feature_norm CLASS: measure each class's per-bin RMS of the compressed
 * spectrum on n_items items (clean[n_items][crop_samples], cls[n_items]) and store it in the
 * model's "feat.scale" table (a class without items keeps the mean of the others; a bin is
 * kept at least 1e-2 of its class's loudest). Only before the first step: INVALID after, or
 * on a model without feature normalisation. */
LIMPID_API limpid_status limpid_trainer_fit_feature_norm(limpid_trainer *t, const float *clean,
                                                         const int *cls, int n_items);

/* A checkpoint holds everything needed to resume bit-exactly: weights, AdamW moments, EMA,
 * step counter, configs and provenance. */
LIMPID_API limpid_status limpid_trainer_save_checkpoint(limpid_trainer *t, const char *path);
LIMPID_API limpid_status limpid_trainer_load_checkpoint(limpid_trainer **out, const char *path,
                                                        char *err, size_t errlen);
/* A model from the EMA weights (use_ema != 0, when EMA is on) or the raw weights. The
 * provenance given is copied into it (NULL: the trainer's own, see set_provenance). */
LIMPID_API limpid_status limpid_trainer_export(limpid_trainer *t, int use_ema,
                                               const limpid_provenance *prov,
                                               limpid_model **out);
/* Set provenance fields that travel with checkpoints (data description, command). */
LIMPID_API void limpid_trainer_set_provenance(limpid_trainer *t, const limpid_provenance *prov);
LIMPID_API const limpid_provenance *limpid_trainer_provenance(const limpid_trainer *t);

#ifdef __cplusplus
}
#endif
#endif /* LIMPID_H */
