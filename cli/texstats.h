/* texstats.h - auditory texture statistics and a distance between them, for
 * `limpid eval --texture`: judge generated sound textures against recordings without
 * listening.
 *
 * After McDermott & Simoncelli, "Sound texture perception via statistics of the auditory
 * periphery: evidence from sound synthesis", Neuron 71 (2011):
 *
 *   signal   mono, at TEX_RATE (20 kHz; the CLI resamples), at most TEX_MAX_SECONDS
 *            analysed. A white Gaussian dither TEX_DITHER_DB below the signal's RMS (fixed
 *            seed) is added so that bands a recording leaves empty (e.g. above 8 kHz in a
 *            16 kHz file) read as a noise floor instead of 0/0. The first and last
 *            TEX_FADE_S are faded in/out (raised cosine) and the envelopes' first and last
 *            TEX_EDGE_S are left out of every statistic, so the clip's edges count as little
 *            as possible.
 *   cochlea  TEX_NBANDS half-cosine bandpass filters equally spaced on the ERB-number scale
 *            E(f) = 21.4 log10(1 + 0.00437 f) (Glasberg & Moore 1990): TEX_NBANDS + 2 edges
 *            from 20 Hz to 10 kHz, filter k spans edges k..k+2 with gain
 *            cos(pi (E(f) - E(centre_k)) / (E(edge_k+2) - E(edge_k))); neighbours overlap by
 *            half (squared gains sum to 1 between the 2nd and the next-to-last edge).
 *            Centres run from about 52 Hz to 8.9 kHz. Applied in the frequency domain over
 *            the whole (zero-padded) signal.
 *   envelope |analytic subband| (Hilbert magnitude), raised to TEX_COMPRESS (0.3), then
 *            low-passed (flat to 150 Hz, raised-cosine to 0 at 200 Hz) and decimated to
 *            TEX_ENV_RATE (400 Hz).
 *   modulation  TEX_NMOD filters, half-cosine on a log2(frequency) axis, centres spaced
 *            geometrically from 0.5 to 200 Hz (ratio 400^(1/9), about an octave), each
 *            spanning its two neighbours' centres; applied to the power spectrum of the
 *            Hann-windowed, mean-removed envelope.
 *
 * Statistics per band k (envelope e_k over the analysed span; moments with 1/N):
 *   level[k]   10 log10(band power / sum of all band powers), dB, floored at TEX_LEVEL_FLOOR
 *              (the spectral shape; independent of the overall gain)
 *   mean[k]    mean of e_k (depends on gain; reported, not used by the distance)
 *   cv[k]      std(e_k) / mean(e_k)
 *   skew[k]    E[(e - m)^3] / std^3
 *   kurt[k]    E[(e - m)^4] / std^4 (not excess: a Gaussian has 3)
 *   corr[p]    Pearson correlation of e_i and e_j for every pair i < j, p = tex_pair(i, j)
 *   mod[k][m]  fraction of e_k's variance in modulation band m (the band's squared gain
 *              times the envelope's power spectrum, summed, over the spectrum's total
 *              without DC): M&S's modulation power normalised by the envelope variance
 * All of them except mean are invariant to the signal's gain, so a generated texture is
 * not penalised for being louder or quieter than the references.
 * Left out of M&S's set: the C1/C2 modulation-band correlations and the marginal moments of
 * the raw subbands (the envelope moments carry the same sparseness information).
 *
 * Distance between two statistics sets a, b (tex_distance):
 *   each statistic is mapped to a space where differences are comparable:
 *     level              dB as is
 *     cv                 as is
 *     skew               asinh(skew)        (clicky sounds reach skew 10-30)
 *     kurt               ln(kurt)           (Gaussian-like envelopes ~2-4, crackle 100+)
 *     corr               as is
 *     mod                sqrt(fraction)     (an amplitude: slow bands with little power
 *                                            differ little, which also damps the chance
 *                                            variation of those few-sample estimates)
 *   group distance  d_g = sqrt(mean over the group's entries of ((a - b) / s_g)^2)
 *   distance        d = sqrt(mean over the TEX_NGROUPS groups of d_g^2)
 *   so every group weighs the same whatever its number of entries. The scales s_g
 *   (tex_group_scale: 3.5 dB, 0.045, 0.3, 0.3, 0.1, 0.07) are the mean RMS difference of
 *   each group between two 5-s chunks of the same recording, measured (rounded) over 95
 *   chunks of 19 ambience recordings in Debian packages (rain, river, waterfalls, winds,
 *   forest day and night, lava, distant traffic, a forge; redeclipse-data, megaglest-data,
 *   flare-game; models/textures/SOURCES.md). So d is about 1 between two stretches of one
 *   recording and about 3 on average between different recordings (1.1 and 3.4 in that
 *   set; the nearest other chunk was from the same recording for 89 of the 95), while two
 *   draws of one stationary synthetic noise are about 0.2-0.5 apart. d(a, a) = 0,
 *   d(a, b) = d(b, a), and d is a Euclidean distance in the mapped, scaled space (triangle
 *   inequality). Clips shorter than a few seconds give noisier statistics and so larger
 *   distances between stretches of the same sound: compare distances measured on clips of
 *   similar length.
 */
#ifndef LIMPID_CLI_TEXSTATS_H
#define LIMPID_CLI_TEXSTATS_H

#include <stddef.h>
#include <stdint.h>

#define TEX_RATE 20000
#define TEX_ENV_RATE 400
#define TEX_NBANDS 30
#define TEX_NMOD 10
#define TEX_NCORR (TEX_NBANDS * (TEX_NBANDS - 1) / 2)
#define TEX_COMPRESS 0.3
#define TEX_DITHER_DB (-80.0)
#define TEX_LEVEL_FLOOR (-80.0)
#define TEX_FADE_S 0.02
#define TEX_EDGE_S 0.1
#define TEX_MIN_SECONDS 0.5
#define TEX_MAX_SECONDS 300.0

enum { TEX_G_LEVEL, TEX_G_CV, TEX_G_SKEW, TEX_G_KURT, TEX_G_CORR, TEX_G_MOD, TEX_NGROUPS };

typedef struct tex_stats {
    double seconds; /* analysed duration */
    double level[TEX_NBANDS];
    double mean[TEX_NBANDS];
    double cv[TEX_NBANDS];
    double skew[TEX_NBANDS];
    double kurt[TEX_NBANDS];
    double corr[TEX_NCORR];
    double mod[TEX_NBANDS][TEX_NMOD];
} tex_stats;

/* Index of the pair (i, j), i != j, in tex_stats.corr. */
int tex_pair(int i, int j);

/* Centre frequency (Hz) of cochlear band k, of modulation band m. */
double tex_band_centre(int k);
double tex_mod_centre(int m);

/* Statistics of x[n] at TEX_RATE (only the first TEX_MAX_SECONDS are used). 0, or -1 with
 * a sentence in err (too short: fewer than TEX_MIN_SECONDS; silent; out of memory). */
int tex_compute(const float *x, size_t n, tex_stats *out, char *err, size_t errlen);

/* The distance above; group (optional) gets the TEX_NGROUPS group distances d_g. */
double tex_distance(const tex_stats *a, const tex_stats *b, double *group);

const char *tex_group_name(int g); /* "level", "cv", "skew", "kurt", "corr", "mod" */
double tex_group_scale(int g);

/* ---- spectrum-matched Gaussian noise (the baseline of `eval --texture`) ------------------
 * Average power spectrum of signals at TEX_RATE (Welch: TEX_PSD_FFT-sample Hann frames, hop
 * half a frame, every frame of every signal weighs the same), and Gaussian noise shaped to
 * it: white noise (fixed seed) shaped in the frequency domain by the square root of the
 * spectrum, interpolated linearly between its bins. The noise's variance matches the
 * signals' mean power. */
#define TEX_PSD_FFT 1024
typedef struct tex_psd {
    double p[TEX_PSD_FFT / 2 + 1]; /* sum over frames of |DFT(w x)|^2 / sum w^2 */
    double frames;
} tex_psd;

void tex_psd_init(tex_psd *psd);
/* Add x[n]'s frames (a signal shorter than one frame is zero-padded to one). 0 or -1 (out
 * of memory). */
int tex_psd_add(tex_psd *psd, const float *x, size_t n);
/* n samples of noise with psd's mean spectrum, from seed. 0 or -1 (out of memory, or psd is
 * empty). */
int tex_psd_noise(const tex_psd *psd, uint64_t seed, float *out, size_t n);

#endif
