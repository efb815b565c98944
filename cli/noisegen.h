/* noisegen.h - procedural noise for training denoisers.
 *
 * A denoiser trained on a few hours of recorded noise learns those recordings; the noise it
 * meets later (a fridge, a fan, a hum at another frequency, a narrow whistle) is new. This
 * generator draws an endless variety of noise from a 64-bit key, so the model has to learn
 * what makes noise noise (stationary or slowly varying spectra, tones, bands, clicks) rather
 * than a catalogue. One crop is the sum of 1 to 3 components, each at its own level:
 *   - coloured: white noise through 1-4 random peaking filters (50 Hz..16 kHz, +-18 dB,
 *     Q 0.4..6) and a random tilt (first-order low or high shelf);
 *   - band: white noise through 1-3 band-pass filters (Q 1..30) at random centres;
 *   - tonal: a hum or whine, f0 30..3000 Hz (log-uniform), 1..12 harmonics with a random
 *     roll-off, slow random vibrato, over a faint coloured floor;
 *   - impulsive: clicks and crackle, Poisson 1..60 per second, each a short decaying burst
 *     of filtered noise;
 * and each component may be amplitude-modulated (a sine at 0.2..12 Hz, or smoothed random
 * gusts). The sum has unit RMS. Deterministic: the same key, length and rate give the same
 * samples on every machine (no libm calls whose results could differ are needed beyond the
 * usual sin/cos/exp/pow of glibc; the Gaussian draws use their own polynomials). */
#ifndef LIMPID_CLI_NOISEGEN_H
#define LIMPID_CLI_NOISEGEN_H

#include <stdint.h>

/* n samples at rate Hz (8000..384000) into out. */
void noisegen_fill(float *out, int n, int rate, uint64_t key);

/* n values of a standard normal variable drawn from key (Box-Muller: the pair of uniform
 * draws u, v of a splitmix64 stream seeded with key gives sqrt(-2 ln u) cos(2 pi v)): the
 * white noise the components above start from. */
void noisegen_gauss(float *x, int n, uint64_t key);

/* A random equaliser drawn from key, applied to x[n] in place (augmentation: the same
 * recording as if through another room, microphone or channel): a low shelf (80..600 Hz), a
 * high shelf (1.5..10 kHz, below 0.45 rate) and a peaking band (100 Hz..16 kHz, Q 0.5..3),
 * each with a gain uniform in [-max_db, max_db]. The level is not normalised. */
void noisegen_colour(float *x, int n, int rate, uint64_t key, double max_db);

#endif
