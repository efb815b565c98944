/* resample.h - fixed-ratio streaming sample-rate converter (internal).
 *
 * Used by the real-time engine to run a model at its own rate (e.g. 48 kHz) inside a host that
 * runs at another (44.1, 96 kHz ...). One object converts one channel, one sample at a time.
 *
 * Method: band-limited interpolation with a Kaiser-windowed sinc (beta 8) whose cutoff is
 * 0.45 x the lower of the two rates and whose half-width is LPI_RESAMPLER_HALF_WIDTH (24)
 * samples at the lower rate, rounded up to a whole number W of input samples. The kernel is
 * tabulated at P phases per input sample (512 when upsampling; about 512 per lower-rate sample,
 * at least 64 per input sample, when downsampling) and linearly interpolated between phases.
 * The time base is exact integer arithmetic (rate ratio reduced by gcd): no drift, ever.
 *
 * Conventions (exact), with n = input sample index and j = output sample index, both counted
 * from 0 since create/reset, and input n being the signal at time n / rate_in:
 *
 *   - Output j is the signal at input position  p_j = j * rate_in / rate_out - W  (in input
 *     samples), i.e. at time  j / rate_out - W / rate_in.  Samples before input 0 are silence.
 *   - Hence an input event at time t (seconds) appears at output index
 *         t * rate_out + delay,   delay = W * rate_out / rate_in  output samples
 *     (lpi_resampler_delay; exactly the rational lpi_resampler_delay_exact). In seconds the
 *     delay is W / rate_in (W = lpi_resampler_delay_in): about 0.5 ms for 44.1 <-> 48 kHz.
 *   - Output j is returned by the push of input sample floor(j * rate_in / rate_out): after n
 *     pushes exactly ceil(n * rate_out / rate_in) outputs have been returned in total. One push
 *     returns between 0 and lpi_resampler_max_out() = ceil(rate_out / rate_in) samples.
 *   - Equal rates: exact identity (out == in bit for bit), W = 0, delay 0, one output per push.
 *
 * The output depends only on the sequence of input samples (one sample per call: no block-size
 * dependence). push never allocates, locks or blocks. */
#ifndef LIMPID_RESAMPLE_H
#define LIMPID_RESAMPLE_H

#include "internal.h"

/* Half-width of the interpolation kernel, in samples at the lower of the two rates. */
#define LPI_RESAMPLER_HALF_WIDTH 24
/* Accepted rates (Hz), inclusive. */
#define LPI_RESAMPLER_RATE_MIN 8000
#define LPI_RESAMPLER_RATE_MAX 384000

typedef struct lpi_resampler lpi_resampler;

/* rate_in -> rate_out, each in [8000, 384000] Hz, any pair (equal = identity).
 * LIMPID_ERR_INVALID for a NULL out or a rate out of range, LIMPID_ERR_NOMEM. */
LPI_HIDDEN limpid_status lpi_resampler_create(lpi_resampler **out, int rate_in, int rate_out);
LPI_HIDDEN void lpi_resampler_destroy(lpi_resampler *r); /* NULL is fine */
/* Back to the state right after create: silent history, time 0. */
LPI_HIDDEN void lpi_resampler_reset(lpi_resampler *r);
/* Push ONE input sample; writes the output samples that become computable now into out (room
 * for lpi_resampler_max_out(r) floats is required) and returns how many (0..max_out). */
LPI_HIDDEN int lpi_resampler_push(lpi_resampler *r, float x, float *out);
LPI_HIDDEN int lpi_resampler_max_out(const lpi_resampler *r);
/* Group delay in output samples: W * rate_out / rate_in (see above). */
LPI_HIDDEN double lpi_resampler_delay(const lpi_resampler *r);
/* The same delay as an exact fraction *num / *den (den > 0) of output samples. */
LPI_HIDDEN void lpi_resampler_delay_exact(const lpi_resampler *r, int64_t *num, int64_t *den);
/* W: the delay in whole input samples (latency = W / rate_in seconds). */
LPI_HIDDEN int lpi_resampler_delay_in(const lpi_resampler *r);

#endif
