/* test_noisegen.c - the procedural training noise (cli/noisegen.c): deterministic, finite,
 * unit RMS, and varied: across keys the spectral centroid and the spectral flatness spread
 * widely (coloured, tonal and band noises are all drawn); the augmentation equaliser; and the
 * Gaussian draws against Box-Muller in double. */
#include "noisegen.h"

#include <check.h>
#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N 48000
#define RATE 48000

/* centroid (Hz) and flatness (geometric / arithmetic mean of the power spectrum) of x */
static void spectrum_shape(const float *x, double *centroid, double *flat)
{
    float *in = fftwf_alloc_real(N);
    fftwf_complex *out = fftwf_alloc_complex(N / 2 + 1);
    fftwf_plan p = fftwf_plan_dft_r2c_1d(N, in, out, FFTW_ESTIMATE);
    memcpy(in, x, sizeof(float) * N);
    fftwf_execute(p);
    double s = 0, sf = 0, lg = 0;
    for (int k = 1; k <= N / 2; k++) {
        double pw = (double)out[k][0] * out[k][0] + (double)out[k][1] * out[k][1] + 1e-12;
        s += pw;
        sf += pw * k * (double)RATE / N;
        lg += log(pw);
    }
    *centroid = sf / s;
    *flat = exp(lg / (N / 2)) / (s / (N / 2));
    fftwf_destroy_plan(p);
    fftwf_free(in);
    fftwf_free(out);
}

START_TEST(test_deterministic_finite_unit)
{
    float *a = malloc(sizeof(float) * N), *b = malloc(sizeof(float) * N);
    for (uint64_t key = 1; key <= 40; key++) {
        noisegen_fill(a, N, RATE, key * 7919);
        noisegen_fill(b, N, RATE, key * 7919);
        ck_assert(memcmp(a, b, sizeof(float) * N) == 0);
        double e = 0;
        for (int i = 0; i < N; i++) {
            ck_assert_msg(isfinite(a[i]), "key %llu sample %d", (unsigned long long)key, i);
            e += (double)a[i] * a[i];
        }
        ck_assert_msg(fabs(sqrt(e / N) - 1.0) < 1e-3, "rms %g", sqrt(e / N));
        noisegen_fill(b, N, RATE, key * 7919 + 1);
        ck_assert(memcmp(a, b, sizeof(float) * N) != 0);
    }
    /* other rates and lengths work too */
    noisegen_fill(a, 1000, 8000, 3);
    noisegen_fill(a, 5, 192000, 3);
    for (int i = 0; i < 5; i++)
        ck_assert(isfinite(a[i]));
    free(a);
    free(b);
}
END_TEST

/* Over 200 keys: centroids from below 1 kHz to above 4 kHz, and both very peaky (tonal or
 * narrow-band: flatness < 0.01) and broad (flatness > 0.3) spectra occur, each in at least 5%
 * of the draws. */
START_TEST(test_variety)
{
    float *a = malloc(sizeof(float) * N);
    int low = 0, high = 0, peaky = 0, broad = 0;
    for (uint64_t key = 0; key < 200; key++) {
        noisegen_fill(a, N, RATE, 0xC0FFEEull + key);
        double c, f;
        spectrum_shape(a, &c, &f);
        low += c < 1000.0;
        high += c > 4000.0;
        peaky += f < 0.01;
        broad += f > 0.3;
    }
    ck_assert_msg(low >= 10 && high >= 10 && peaky >= 10 && broad >= 10,
                  "low %d high %d peaky %d broad %d of 200", low, high, peaky, broad);
    free(a);
}
END_TEST

/* power of x in [f0, f1) Hz, dB */
static double band_db(const float *x, double f0, double f1)
{
    float *in = fftwf_alloc_real(N);
    fftwf_complex *out = fftwf_alloc_complex(N / 2 + 1);
    fftwf_plan p = fftwf_plan_dft_r2c_1d(N, in, out, FFTW_ESTIMATE);
    memcpy(in, x, sizeof(float) * N);
    fftwf_execute(p);
    double s = 1e-30;
    for (int k = (int)(f0 * N / RATE); k < (int)(f1 * N / RATE) && k <= N / 2; k++)
        s += (double)out[k][0] * out[k][0] + (double)out[k][1] * out[k][1];
    fftwf_destroy_plan(p);
    fftwf_free(in);
    fftwf_free(out);
    return 10.0 * log10(s);
}

/* The augmentation equaliser: deterministic, finite, 0 dB is the identity, and with +-12 dB
 * per filter the band levels of white noise move by no more than the three filters' +-36 dB,
 * by several dB in most draws, and both up and down across keys. */
START_TEST(test_colour)
{
    float *w = malloc(sizeof(float) * N), *a = malloc(sizeof(float) * N);
    float *b = malloc(sizeof(float) * N);
    noisegen_fill(w, N, RATE, 0); /* a noise to colour (its own spectrum cancels below) */
    memcpy(a, w, sizeof(float) * N);
    noisegen_colour(a, N, RATE, 5, 0.0);
    for (int i = 0; i < N; i++)
        ck_assert_msg(fabsf(a[i] - w[i]) <= 1e-5f * (1.0f + fabsf(w[i])), "0 dB: sample %d", i);
    static const double edges[] = {50, 200, 800, 3200, 12800};
    int moved = 0, up = 0, down = 0;
    for (uint64_t key = 1; key <= 40; key++) {
        memcpy(a, w, sizeof(float) * N);
        memcpy(b, w, sizeof(float) * N);
        noisegen_colour(a, N, RATE, key, 12.0);
        noisegen_colour(b, N, RATE, key, 12.0);
        ck_assert(memcmp(a, b, sizeof(float) * N) == 0);
        for (int i = 0; i < N; i++)
            ck_assert_msg(isfinite(a[i]), "key %llu sample %d", (unsigned long long)key, i);
        double lo = 1e9, hi = -1e9;
        for (int e = 0; e < 4; e++) {
            double d = band_db(a, edges[e], edges[e + 1]) - band_db(w, edges[e], edges[e + 1]);
            ck_assert_msg(fabs(d) <= 36.5, "key %llu band %d: %+.1f dB", (unsigned long long)key,
                          e, d);
            lo = fmin(lo, d);
            hi = fmax(hi, d);
            up += d > 3.0;
            down += d < -3.0;
        }
        moved += hi - lo > 3.0; /* the bands moved apart: the spectrum's shape changed */
    }
    ck_assert_msg(moved >= 30 && up >= 10 && down >= 10, "moved %d of 40, up %d, down %d", moved,
                  up, down);
    free(w);
    free(a);
    free(b);
}
END_TEST

/* noisegen_gauss against Box-Muller in double on the same splitmix64 draws (the stream
 * noisegen.h names), over lengths that end inside and at the edge of its 16-value blocks;
 * and its moments */
static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

START_TEST(test_gauss)
{
    static const int lens[] = {1, 15, 16, 17, 33, 4099};
    float *x = malloc(sizeof(float) * N);
    ck_assert_ptr_nonnull(x);
    double worst = 0.0;
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        const int n = lens[li];
        noisegen_gauss(x, n, 1234 + li);
        uint64_t s = 1234 + li;
        for (int i = 0; i < n; i++) {
            double u = (double)(splitmix(&s) >> 11) / 9007199254740992.0;
            double v = (double)(splitmix(&s) >> 11) / 9007199254740992.0;
            double want = sqrt(-2.0 * log((double)(float)u + 1e-30)) * cos(2.0 * M_PI * (float)v);
            double d = fabs(x[i] - want) / (1.0 + fabs(want));
            worst = d > worst ? d : worst;
        }
    }
    ck_assert_msg(worst < 2e-6, "largest relative difference %g", worst);
    noisegen_gauss(x, N, 99);
    double m1 = 0, m2 = 0, m4 = 0;
    for (int i = 0; i < N; i++) {
        m1 += x[i];
        m2 += (double)x[i] * x[i];
        m4 += (double)x[i] * x[i] * x[i] * x[i];
    }
    m1 /= N;
    m2 /= N;
    m4 /= N;
    /* N = 48000: standard errors 0.0046 (mean), 0.0065 (variance), 0.11 (kurtosis) */
    ck_assert_msg(fabs(m1) < 0.025 && fabs(m2 - 1.0) < 0.035 && fabs(m4 / (m2 * m2) - 3.0) < 0.5,
                  "mean %g variance %g kurtosis %g", m1, m2, m4 / (m2 * m2));
    free(x);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("noisegen");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_deterministic_finite_unit);
    tcase_add_test(tc, test_variety);
    tcase_add_test(tc, test_colour);
    tcase_add_test(tc, test_gauss);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
