/* metrics.h - objective quality measures for `limpid eval`: SNR, SI-SDR, STOI and ESTOI.
 *
 * Signals are mono, equal length n, at rate fs. x is the clean reference, y the signal
 * under test (enhanced or noisy). Sums run in double precision.
 *
 * SNR    = 10 log10( sum x^2 / sum (x - y)^2 )                                   [dB]
 * SI-SDR = 10 log10( |a x'|^2 / |a x' - y'|^2 ),  a = <y', x'> / <x', x'>          [dB]
 *          with x', y' the zero-mean signals (Le Roux et al., "SDR - half-baked or well
 *          done?", ICASSP 2019).
 * Both are capped at METRIC_DB_CAP (identical signals give the cap, not infinity, so that
 * averages and JSON stay finite); NaN when the reference is silent.
 *
 * STOI   Taal, Hendriks, Heusdens, Jensen, "An Algorithm for Intelligibility Prediction of
 *        Time-Frequency Weighted Noisy Speech", IEEE TASLP 2011, following the authors'
 *        reference implementation (stoi.m): both signals resampled to 10 kHz; 256-sample
 *        Hann frames (MATLAB hanning(256)), hop 128, 512-point DFT; frames whose clean
 *        energy is more than 40 dB below the loudest clean frame are dropped from both
 *        signals, which are then rebuilt by overlap-add; 15 one-third-octave bands from
 *        150 Hz (band edges snapped to DFT bins); segments of N = 30 frames (384 ms);
 *        per band and segment the processed envelope is scaled to the clean one's energy
 *        and clipped at (1 + 10^(-beta/20)) times the clean one, beta = -15 dB; the
 *        result is the mean correlation coefficient over bands and segments.
 * ESTOI  Jensen & Taal, "An Algorithm for Predicting the Intelligibility of Speech Masked
 *        by Modulated Noise Maskers", IEEE TASLP 2016 (estoi.m): the same 1/3-octave
 *        envelopes and segments, no clipping; each segment's J x N matrix is normalised
 *        row-wise (zero mean, unit norm over time) then column-wise (zero mean, unit norm
 *        over bands); the result is the mean over segments of (1/N) sum of column
 *        correlations.
 * Differences from the reference code: resampling to 10 kHz uses libsamplerate (sinc,
 * medium quality) instead of MATLAB's resample(); the eps-level random dither the MATLAB
 * ESTOI adds against division by zero is replaced by a deterministic guard (a zero-norm row
 * or column contributes 0). Both STOI and ESTOI are NaN ("n/a") when fewer than N frames
 * remain after removing silence (the signal is shorter than about 0.4 s of speech).
 */
#ifndef LIMPID_CLI_METRICS_H
#define LIMPID_CLI_METRICS_H

#include <stddef.h>

#define METRIC_DB_CAP 200.0

double metric_snr(const float *x, const float *y, size_t n);
double metric_si_sdr(const float *x, const float *y, size_t n);

/* STOI and ESTOI of y against x (either output pointer may be NULL). 0, or -1 when out of
 * memory or resampling failed. */
int metric_stoi(const float *x, const float *y, size_t n, int fs, double *stoi,
                double *estoi);

/* Both measures on signals already at 10 kHz (no resampling; for tests). */
int metric_stoi_10k(const double *x, const double *y, size_t n, double *stoi, double *estoi);

#endif
