/* test_texstats.c - the auditory texture statistics of `limpid eval --texture`
 * (cli/texstats.c, compiled into this test; see CMakeLists.txt).
 *
 * Synthetic signals at TEX_RATE whose statistics theory predicts: white Gaussian noise,
 * noise amplitude-modulated at 4 Hz, sparse crackle (random clicks), and a synthetic rain
 * (a low-passed noise bed plus random droplets: short decaying sinusoids of random pitch
 * and log-normal amplitude). All generators use fixed seeds, so every figure below is
 * deterministic; the thresholds sit well inside the measured values (quoted in the
 * comments) so they hold across FFTW versions and CPUs, yet fail when a statistic loses
 * the property theory gives it.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "texstats.h"

#define FS TEX_RATE
#define SECONDS 5
#define N ((size_t)SECONDS * FS)

/* ---- deterministic generators -------------------------------------------------------------- */

typedef struct trng {
    uint64_t s;
} trng;

static uint64_t t_u64(trng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double t_unif(trng *r) { return ((t_u64(r) >> 11) + 0.5) * 0x1.0p-53; } /* (0, 1) */

static double t_gauss(trng *r)
{
    return sqrt(-2.0 * log(t_unif(r))) * cos(2.0 * M_PI * t_unif(r));
}

static float *gen_white(uint64_t seed)
{
    float *x = malloc(sizeof(float) * N);
    trng r = {seed};
    for (size_t i = 0; i < N; i++)
        x[i] = (float)(0.1 * t_gauss(&r));
    return x;
}

/* white noise times (1 + depth sin(2 pi fm t)) */
static float *gen_am(uint64_t seed, double fm, double depth)
{
    float *x = malloc(sizeof(float) * N);
    trng r = {seed};
    double ph = 2.0 * M_PI * t_unif(&r);
    for (size_t i = 0; i < N; i++)
        x[i] = (float)(0.1 * t_gauss(&r) * (1.0 + depth * sin(2.0 * M_PI * fm * i / FS + ph)));
    return x;
}

/* single-sample clicks (Poisson, `rate` per second, random sign, log-normal size) on a
 * hiss 50 dB below the clicks */
static float *gen_crackle(uint64_t seed, double rate)
{
    float *x = malloc(sizeof(float) * N);
    trng r = {seed};
    for (size_t i = 0; i < N; i++)
        x[i] = (float)(0.002 * t_gauss(&r));
    for (size_t i = 0; i < N; i++)
        if (t_unif(&r) < rate / FS)
            x[i] += (float)(0.5 * exp(0.5 * t_gauss(&r)) * (t_unif(&r) < 0.5 ? -1 : 1));
    return x;
}

/* rain: one-pole low-passed noise bed + white hiss + 60 droplets a second */
static float *gen_rain(uint64_t seed)
{
    float *x = malloc(sizeof(float) * N);
    trng r = {seed};
    double y = 0.0;
    for (size_t i = 0; i < N; i++) {
        y = 0.9 * y + 0.1 * t_gauss(&r);
        x[i] = (float)(0.05 * y + 0.01 * t_gauss(&r));
    }
    for (size_t i = 0; i < N; i++) {
        if (t_unif(&r) >= 60.0 / FS)
            continue;
        double f = 1000.0 + 3000.0 * t_unif(&r), a = 0.2 * exp(0.7 * t_gauss(&r));
        double tau = 0.002 + 0.006 * t_unif(&r); /* decay time, s */
        size_t len = (size_t)(5.0 * tau * FS);
        for (size_t j = 0; j < len && i + j < N; j++)
            x[i + j] += (float)(a * exp(-(double)j / (tau * FS)) * sin(2.0 * M_PI * f * j / FS));
    }
    return x;
}

static void stats_of(const float *x, size_t n, tex_stats *st)
{
    char err[256] = "";
    int rc = tex_compute(x, n, st, err, sizeof err);
    ck_assert_msg(rc == 0, "tex_compute failed: %s", err);
}

static double band_mean(const double *v)
{
    double s = 0.0;
    for (int k = 0; k < TEX_NBANDS; k++)
        s += v[k];
    return s / TEX_NBANDS;
}

/* ---- tests ----------------------------------------------------------------------------------- */

START_TEST(identical_zero)
{
    float *x = gen_rain(1), *y = malloc(sizeof(float) * N);
    tex_stats a, b, c;
    stats_of(x, N, &a);
    stats_of(x, N, &b);
    double g[TEX_NGROUPS];
    ck_assert(tex_distance(&a, &b, g) == 0.0); /* deterministic: exactly the same stats */
    for (int k = 0; k < TEX_NGROUPS; k++)
        ck_assert(g[k] == 0.0);
    /* the distance ignores the gain: x / 4 has the same statistics up to float rounding
     * (the dither scales with the RMS) */
    for (size_t i = 0; i < N; i++)
        y[i] = x[i] * 0.25f;
    stats_of(y, N, &c);
    double d = tex_distance(&a, &c, NULL);
    ck_assert_msg(d < 1e-3, "gain changed the distance: %g", d);
    /* symmetric */
    float *w = gen_white(2);
    tex_stats s;
    stats_of(w, N, &s);
    ck_assert_double_eq_tol(tex_distance(&a, &s, NULL), tex_distance(&s, &a, NULL), 1e-12);
    free(x);
    free(y);
    free(w);
}
END_TEST

START_TEST(white_noise_values)
{
    /* the compressed envelope of Gaussian noise: |z|^0.3 with |z| Rayleigh, so CV about
     * 0.3 * 0.52 = 0.16 (less where the 200 Hz envelope low-pass smooths the fast
     * envelopes of wide bands) and a kurtosis near 3 (measured: CV 0.08-0.19, kurtosis
     * 2.5-3.3, |skewness| <= 0.54); far bands' envelopes do not correlate (measured -0.02) */
    float *x = gen_white(3);
    tex_stats s;
    stats_of(x, N, &s);
    ck_assert_double_eq_tol(s.seconds, SECONDS, 1e-9);
    for (int k = 0; k < TEX_NBANDS; k++) {
        ck_assert_msg(s.cv[k] > 0.05 && s.cv[k] < 0.3, "band %d CV %g", k, s.cv[k]);
        ck_assert_msg(s.kurt[k] > 2.0 && s.kurt[k] < 4.5, "band %d kurtosis %g", k, s.kurt[k]);
        ck_assert_msg(fabs(s.skew[k]) < 0.8, "band %d skewness %g", k, s.skew[k]);
        double sum = 0.0;
        for (int m = 0; m < TEX_NMOD; m++)
            sum += s.mod[k][m];
        ck_assert_msg(sum > 0.3 && sum < 1.5, "band %d modulation fractions sum to %g", k, sum);
    }
    ck_assert_msg(fabs(s.corr[tex_pair(0, 29)]) < 0.15, "far bands correlate %g",
                  s.corr[tex_pair(0, 29)]);
    /* white noise has equal power per Hz: the level rises with the bandwidth of the
     * ERB-spaced bands, about 35 times wider at the top (measured: +15.5 dB) */
    ck_assert_msg(s.level[29] - s.level[0] > 10.0, "levels %g .. %g dB", s.level[0],
                  s.level[29]);
    free(x);
}
END_TEST

START_TEST(tone_lands_in_its_band)
{
    float *x = malloc(sizeof(float) * N);
    for (size_t i = 0; i < N; i++)
        x[i] = (float)(0.5 * sin(2.0 * M_PI * 1000.0 * i / FS));
    tex_stats s;
    stats_of(x, N, &s);
    int best = 0, near = 0;
    for (int k = 1; k < TEX_NBANDS; k++) {
        if (s.level[k] > s.level[best])
            best = k;
        if (fabs(log(tex_band_centre(k) / 1000.0)) < fabs(log(tex_band_centre(near) / 1000.0)))
            near = k;
    }
    ck_assert_msg(best == near, "1 kHz tone loudest in band %d (%.0f Hz), expected %d (%.0f Hz)",
                  best, tex_band_centre(best), near, tex_band_centre(near));
    ck_assert(tex_band_centre(0) > 40.0 && tex_band_centre(0) < 70.0);
    ck_assert(tex_band_centre(TEX_NBANDS - 1) > 8000.0 && tex_band_centre(TEX_NBANDS - 1) < 9500.0);
    ck_assert_double_eq_tol(tex_mod_centre(0), 0.5, 1e-12);
    ck_assert_double_eq_tol(tex_mod_centre(TEX_NMOD - 1), 200.0, 1e-9);
    free(x);
}
END_TEST

START_TEST(am_noise_modulation)
{
    /* 4 Hz, depth 0.8: the envelope gains a strong 4 Hz component in every band, so the
     * CV rises (measured: mean 0.25 against 0.15) and the modulation band centred nearest
     * 4 Hz (3.7 Hz, index 3) holds the largest share of the envelope variance (measured:
     * 0.48-0.81 against at most 0.13 for white noise, whose envelope spectrum spreads up to
     * about the band's bandwidth, so only in the narrow low bands does it reach 4 Hz) */
    float *w = gen_white(4), *a = gen_am(5, 4.0, 0.8);
    tex_stats sw, sa;
    stats_of(w, N, &sw);
    stats_of(a, N, &sa);
    int m4 = 0;
    for (int m = 1; m < TEX_NMOD; m++)
        if (fabs(log(tex_mod_centre(m) / 4.0)) < fabs(log(tex_mod_centre(m4) / 4.0)))
            m4 = m;
    ck_assert_int_eq(m4, 3);
    for (int k = 0; k < TEX_NBANDS; k++) {
        ck_assert_msg(sa.cv[k] > sw.cv[k], "band %d: CV AM %g, white %g", k, sa.cv[k], sw.cv[k]);
        int peak = 0;
        for (int m = 1; m < TEX_NMOD; m++)
            if (sa.mod[k][m] > sa.mod[k][peak])
                peak = m;
        ck_assert_msg(peak == m4, "band %d: modulation peak in band %d (%.1f Hz)", k, peak,
                      tex_mod_centre(peak));
        ck_assert_msg(sa.mod[k][m4] > 3.0 * sw.mod[k][m4], "band %d: 4 Hz share %g vs %g", k,
                      sa.mod[k][m4], sw.mod[k][m4]);
    }
    ck_assert_msg(band_mean(sa.cv) > 1.3 * band_mean(sw.cv), "mean CV %g vs %g",
                  band_mean(sa.cv), band_mean(sw.cv));
    /* a common modulation makes all bands' envelopes move together */
    ck_assert_msg(sa.corr[tex_pair(3, 25)] > 0.3, "AM far-band correlation %g",
                  sa.corr[tex_pair(3, 25)]);
    free(w);
    free(a);
}
END_TEST

START_TEST(crackle_kurtosis)
{
    /* 5 clicks a second over 5 s: each band's envelope is a low floor with rare peaks, a
     * heavy-tailed distribution (kurtosis far above Gaussian-like noise's ~3). A click rings
     * for about 1/bandwidth, tens of ms in the lowest bands, so there the peaks are broader
     * and the kurtosis lower: measured 5.4 at 52 Hz rising to 37 at 8.8 kHz, mean about
     * 22, against 2.7-3.2 for noise */
    float *w = gen_white(6), *c = gen_crackle(7, 5.0);
    tex_stats sw, sc;
    stats_of(w, N, &sw);
    stats_of(c, N, &sc);
    for (int k = 0; k < TEX_NBANDS; k++)
        ck_assert_msg(sc.kurt[k] > 1.5 * sw.kurt[k], "band %d: kurtosis crackle %g, noise %g", k,
                      sc.kurt[k], sw.kurt[k]);
    ck_assert_msg(band_mean(sc.kurt) > 4.0 * band_mean(sw.kurt), "mean kurtosis %g vs %g",
                  band_mean(sc.kurt), band_mean(sw.kurt));
    ck_assert_msg(band_mean(sc.skew) > 1.0, "mean skewness %g", band_mean(sc.skew));
    /* broadband clicks hit every band at once: far bands' envelopes correlate */
    ck_assert_msg(sc.corr[tex_pair(5, 25)] > 0.3, "crackle far-band correlation %g",
                  sc.corr[tex_pair(5, 25)]);
    ck_assert_msg(tex_distance(&sw, &sc, NULL) > 2.0, "crackle vs noise distance %g",
                  tex_distance(&sw, &sc, NULL));
    free(w);
    free(c);
}
END_TEST

START_TEST(same_process_beats_matched_noise)
{
    /* The discrimination `eval --texture` relies on: another realisation of the same rain
     * is closer to the references than Gaussian noise with the references' spectrum.
     * Measured: 0.57 against 2.83 (mean distance to the 3 reference clips). */
    enum { NREF = 3 };
    tex_stats ref[NREF], gen, noise;
    tex_psd psd;
    tex_psd_init(&psd);
    for (int i = 0; i < NREF; i++) {
        float *x = gen_rain(10 + (uint64_t)i);
        stats_of(x, N, &ref[i]);
        ck_assert_int_eq(tex_psd_add(&psd, x, N), 0);
        free(x);
    }
    float *g = gen_rain(99), *z = malloc(sizeof(float) * N);
    stats_of(g, N, &gen);
    ck_assert_int_eq(tex_psd_noise(&psd, 1234, z, N), 0);
    stats_of(z, N, &noise);
    double dg = 0.0, dn = 0.0, dl = 0.0, gr[TEX_NGROUPS];
    for (int i = 0; i < NREF; i++) {
        dg += tex_distance(&gen, &ref[i], NULL) / NREF;
        dn += tex_distance(&noise, &ref[i], gr) / NREF;
        dl += gr[TEX_G_LEVEL] / NREF;
    }
    ck_assert_msg(dg < 1.0, "same process: %g", dg);
    ck_assert_msg(dn > 2.0 * dg, "same process %g, spectrum-matched noise %g", dg, dn);
    /* the noise does match the spectrum: its level term stays well within the scale
     * (measured 0.25, i.e. under 1 dB RMS) */
    ck_assert_msg(dl < 0.5, "noise level term %g", dl);
    free(g);
    free(z);
}
END_TEST

START_TEST(psd_noise_power)
{
    /* the matched noise keeps the mean power: white noise of RMS 0.1 gives noise of RMS 0.1
     * (statistical error about 1 % over 100k samples) */
    float *w = gen_white(8), *z = malloc(sizeof(float) * N);
    tex_psd psd;
    tex_psd_init(&psd);
    ck_assert_int_eq(tex_psd_add(&psd, w, N), 0);
    ck_assert_int_eq(tex_psd_noise(&psd, 42, z, N), 0);
    double s = 0.0;
    for (size_t i = 0; i < N; i++)
        s += (double)z[i] * z[i];
    ck_assert_double_eq_tol(sqrt(s / N), 0.1, 0.005);
    /* seeds: same seed, same noise; another seed, other noise */
    float *z2 = malloc(sizeof(float) * N);
    ck_assert_int_eq(tex_psd_noise(&psd, 42, z2, N), 0);
    ck_assert(memcmp(z, z2, sizeof(float) * N) == 0);
    ck_assert_int_eq(tex_psd_noise(&psd, 43, z2, N), 0);
    ck_assert(memcmp(z, z2, sizeof(float) * N) != 0);
    /* an empty spectrum cannot make noise */
    tex_psd empty;
    tex_psd_init(&empty);
    ck_assert_int_eq(tex_psd_noise(&empty, 1, z2, 100), -1);
    free(w);
    free(z);
    free(z2);
}
END_TEST

START_TEST(errors)
{
    float *x = calloc(N, sizeof(float));
    tex_stats s;
    char err[256] = "";
    ck_assert_int_eq(tex_compute(x, N, &s, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "silent") != NULL, "%s", err);
    float *w = gen_white(9);
    err[0] = 0;
    ck_assert_int_eq(tex_compute(w, (size_t)(0.3 * FS), &s, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "at least") != NULL, "%s", err);
    /* the shortest allowed clip works and gives finite statistics */
    ck_assert_int_eq(tex_compute(w, (size_t)(TEX_MIN_SECONDS * FS), &s, err, sizeof err), 0);
    for (int k = 0; k < TEX_NBANDS; k++)
        ck_assert(isfinite(s.cv[k]) && isfinite(s.kurt[k]) && isfinite(s.level[k]));
    /* a band-limited recording (nothing above 4 kHz): the empty bands read as the dither's
     * floor, finite, about 80 dB down */
    for (size_t i = 0; i < N; i++)
        x[i] = (float)(0.3 * sin(2.0 * M_PI * 440.0 * i / FS));
    ck_assert_int_eq(tex_compute(x, N, &s, err, sizeof err), 0);
    tex_stats t;
    ck_assert_int_eq(tex_compute(w, N, &t, err, sizeof err), 0);
    double d = tex_distance(&s, &t, NULL);
    ck_assert_msg(isfinite(d) && d > 1.0, "tone vs noise distance %g", d);
    ck_assert_msg(s.level[TEX_NBANDS - 1] < -60.0, "empty band level %g",
                  s.level[TEX_NBANDS - 1]);
    free(x);
    free(w);
}
END_TEST

START_TEST(pair_index)
{
    char seen[TEX_NCORR] = {0};
    for (int i = 0; i < TEX_NBANDS; i++)
        for (int j = i + 1; j < TEX_NBANDS; j++) {
            int p = tex_pair(i, j);
            ck_assert(p >= 0 && p < TEX_NCORR);
            ck_assert_int_eq(p, tex_pair(j, i));
            ck_assert(!seen[p]);
            seen[p] = 1;
        }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("texstats");
    TCase *tc = tcase_create("texstats");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, identical_zero);
    tcase_add_test(tc, white_noise_values);
    tcase_add_test(tc, tone_lands_in_its_band);
    tcase_add_test(tc, am_noise_modulation);
    tcase_add_test(tc, crackle_kurtosis);
    tcase_add_test(tc, same_process_beats_matched_noise);
    tcase_add_test(tc, psd_noise_power);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, pair_index);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
