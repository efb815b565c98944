/* test_diffusion.c - schedules, target conversions, forward process and the DDIM / DDPM
 * samplers (core/src/diffusion.c). */
#include "internal.h"

#include <check.h>
#include <stdlib.h>

/* ------------------------------------------------------------------------ */
/* helpers */

static limpid_config sched_cfg(limpid_schedule kind, int T, float b0, float b1)
{
    limpid_config c;
    memset(&c, 0, sizeof c);
    c.schedule = kind;
    c.steps_T = T;
    c.beta_start = b0;
    c.beta_end = b1;
    return c;
}

/* The two schedules the presets use: cosine T = 50, and DiffWave's linear 1e-4..0.05, T = 50. */
static void make_schedule(lpi_schedule *s, int which)
{
    limpid_config c = which == 0 ? sched_cfg(LIMPID_SCHEDULE_COSINE, 50, 1e-4f, 0.05f)
                                 : sched_cfg(LIMPID_SCHEDULE_LINEAR, 50, 1e-4f, 0.05f);
    ck_assert_int_eq(lpi_schedule_init(s, &c), LIMPID_OK);
}

static void fill_normal(float *v, size_t n, uint64_t seed)
{
    lpi_rng r = lpi_rng_make(seed, 1, 2);
    for (size_t i = 0; i < n; i++)
        v[i] = lpi_rng_normal(&r);
}

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= m)) /* NaN counts as infinitely wrong */
            m = isnan(d) ? INFINITY : d;
    }
    return m;
}

/* The oracle denoiser knows the true x0: x0hat = x0, epshat = the eps consistent with x_t.
 * It also logs the steps it was called at, how far epshat strays from the eps that built
 * x_{t_start} (deterministic DDIM keeps it constant), and can stop sampling at call
 * number stop_at (1-based) after copying the x_t it was given, returning stop_status. */
typedef struct oracle {
    const lpi_schedule *s;
    const float *x0;
    const float *eps0; /* eps of the starting point, or NULL */
    size_t n;
    int calls;
    double t_log[128];
    double max_eps_dev;
    int stop_at;
    limpid_status stop_status;
    float *capture; /* [n] */
    double capture_t;
    int nan_out; /* return NaN as x0hat */
} oracle;

static limpid_status oracle_fn(void *user, const float *xt, double t, float *x0, float *eps,
                               size_t n)
{
    oracle *o = user;
    ck_assert_uint_eq(n, o->n);
    if (o->calls < 128)
        o->t_log[o->calls] = t;
    o->calls++;
    if (o->stop_at > 0 && o->calls == o->stop_at) {
        if (o->capture)
            memcpy(o->capture, xt, n * sizeof *xt);
        o->capture_t = t;
        return o->stop_status;
    }
    double ab = lpi_schedule_abar(o->s, t);
    double sa = sqrt(ab), sb = sqrt(1.0 - ab);
    for (size_t i = 0; i < n; i++) {
        x0[i] = o->nan_out ? NAN : o->x0[i];
        eps[i] = (float)(((double)xt[i] - sa * (double)o->x0[i]) / sb);
        if (o->eps0) {
            double d = fabs((double)eps[i] - (double)o->eps0[i]);
            if (d > o->max_eps_dev)
                o->max_eps_dev = d;
        }
    }
    return LIMPID_OK;
}

/* A fixed, non-oracle denoiser for determinism tests: x0hat = 0.5 x_t. */
static limpid_status half_fn(void *user, const float *xt, double t, float *x0, float *eps,
                             size_t n)
{
    const lpi_schedule *s = user;
    double ab = lpi_schedule_abar(s, t);
    for (size_t i = 0; i < n; i++) {
        x0[i] = 0.5f * xt[i];
        eps[i] = (float)(((double)xt[i] - sqrt(ab) * x0[i]) / sqrt(1.0 - ab));
    }
    return LIMPID_OK;
}

/* ------------------------------------------------------------------------ */
/* schedules */

START_TEST(test_schedule_identities)
{
    for (int which = 0; which < 2; which++) {
        lpi_schedule s;
        make_schedule(&s, which);
        ck_assert_int_eq(s.T, 50);
        ck_assert(s.abar[0] == 1.0);
        ck_assert(s.beta[0] == 0.0);
        double prod = 1.0;
        for (int t = 1; t <= s.T; t++) {
            ck_assert_msg(s.beta[t] > 0.0 && s.beta[t] < 1.0, "beta[%d] = %g", t, s.beta[t]);
            prod *= 1.0 - s.beta[t];
            /* the table is this very product: equal to double rounding */
            ck_assert_msg(fabs(s.abar[t] - prod) <= 1e-15 * prod, "abar[%d]", t);
            ck_assert_msg(s.abar[t] < s.abar[t - 1], "abar not decreasing at %d", t);
            ck_assert(s.abar[t] > 0.0);
        }
        if (which == 0) {
            /* cosine: the last beta hits the 0.999 clip, abar_T ~ 1e-6 */
            ck_assert_msg(s.abar[s.T] < 1e-5, "cosine abar_T = %g", s.abar[s.T]);
            ck_assert(fabs(s.beta[s.T] - 0.999) < 1e-12);
            /* small first step (s = 0.008 offset): beta_1 ~ 1.7e-3 */
            ck_assert(s.beta[1] > 1e-4 && s.beta[1] < 1e-2);
        } else {
            /* DiffWave's linear 1e-4..0.05 with T = 50 leaves abar_T = 0.2797 (sum of betas
             * is only 1.25): x_T still holds sqrt(0.28) = 0.53 of the signal. Not "small",
             * so the bound checks the value it actually has. */
            ck_assert_msg(s.abar[s.T] > 0.27 && s.abar[s.T] < 0.29, "linear abar_T = %g",
                          s.abar[s.T]);
            ck_assert(fabs(s.beta[1] - (double)1e-4f) < 1e-15);
            ck_assert(fabs(s.beta[s.T] - (double)0.05f) < 1e-15);
            /* evenly spaced */
            double d = s.beta[2] - s.beta[1];
            for (int t = 2; t <= s.T; t++)
                ck_assert(fabs(s.beta[t] - s.beta[t - 1] - d) < 1e-15);
        }
        lpi_schedule_free(&s);
    }
    /* a standard long linear schedule: abar_T tiny */
    {
        limpid_config c = sched_cfg(LIMPID_SCHEDULE_LINEAR, 1000, 1e-4f, 0.02f);
        lpi_schedule s;
        ck_assert_int_eq(lpi_schedule_init(&s, &c), LIMPID_OK);
        ck_assert(s.abar[1000] < 1e-4);
        lpi_schedule_free(&s);
    }
    /* T = 1 is legal for both */
    {
        limpid_config c = sched_cfg(LIMPID_SCHEDULE_LINEAR, 1, 0.3f, 0.5f);
        lpi_schedule s;
        ck_assert_int_eq(lpi_schedule_init(&s, &c), LIMPID_OK);
        ck_assert(fabs(s.beta[1] - (double)0.3f) < 1e-15);
        lpi_schedule_free(&s);
        c.schedule = LIMPID_SCHEDULE_COSINE;
        ck_assert_int_eq(lpi_schedule_init(&s, &c), LIMPID_OK);
        ck_assert(fabs(s.beta[1] - 0.999) < 1e-12);
        lpi_schedule_free(&s);
    }
}
END_TEST

START_TEST(test_schedule_fractional)
{
    for (int which = 0; which < 2; which++) {
        lpi_schedule s;
        make_schedule(&s, which);
        for (int t = 0; t <= s.T; t++)
            ck_assert(lpi_schedule_abar(&s, (double)t) == s.abar[t]); /* exactly */
        for (int t = 0; t < s.T; t++) {
            for (int k = 1; k < 8; k++) {
                double f = k / 8.0;
                double a = lpi_schedule_abar(&s, t + f);
                ck_assert_msg(a < s.abar[t] && a > s.abar[t + 1], "t = %g", t + f);
                /* log-linear: midpoint is the geometric mean */
                if (k == 4)
                    ck_assert(fabs(a - sqrt(s.abar[t] * s.abar[t + 1])) < 1e-12 * s.abar[t]);
            }
        }
        /* clamped into [0, T] */
        ck_assert(lpi_schedule_abar(&s, -3.0) == 1.0);
        ck_assert(lpi_schedule_abar(&s, s.T + 7.5) == s.abar[s.T]);
        lpi_schedule_free(&s);
    }
}
END_TEST

START_TEST(test_schedule_invalid)
{
    lpi_schedule s;
    limpid_config c = sched_cfg(LIMPID_SCHEDULE_LINEAR, 0, 1e-4f, 0.05f);
    ck_assert_int_eq(lpi_schedule_init(&s, &c), LIMPID_ERR_INVALID);
    ck_assert_ptr_null(s.beta);
    ck_assert_ptr_null(s.abar);
    c = sched_cfg(LIMPID_SCHEDULE_LINEAR, 50, 0.05f, 1e-4f); /* start > end */
    ck_assert_int_eq(lpi_schedule_init(&s, &c), LIMPID_ERR_INVALID);
    c = sched_cfg(LIMPID_SCHEDULE_LINEAR, 50, 0.0f, 0.05f);
    ck_assert_int_eq(lpi_schedule_init(&s, &c), LIMPID_ERR_INVALID);
    c = sched_cfg(LIMPID_SCHEDULE_LINEAR, 50, 1e-4f, 1.0f);
    ck_assert_int_eq(lpi_schedule_init(&s, &c), LIMPID_ERR_INVALID);
    c = sched_cfg((limpid_schedule)7, 50, 1e-4f, 0.05f);
    ck_assert_int_eq(lpi_schedule_init(&s, &c), LIMPID_ERR_INVALID);
    ck_assert_int_eq(lpi_schedule_init(&s, NULL), LIMPID_ERR_INVALID);
    ck_assert_int_eq(lpi_schedule_init(NULL, &c), LIMPID_ERR_INVALID);
    /* cosine ignores the linear betas */
    c = sched_cfg(LIMPID_SCHEDULE_COSINE, 50, 0.0f, 0.0f);
    ck_assert_int_eq(lpi_schedule_init(&s, &c), LIMPID_OK);
    /* free: idempotent and NULL-safe */
    lpi_schedule_free(&s);
    ck_assert_ptr_null(s.beta);
    ck_assert_int_eq(s.T, 0);
    lpi_schedule_free(&s);
    lpi_schedule_free(NULL);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* conversions and forward process */

START_TEST(test_conversions_roundtrip)
{
    enum { N = 4096 };
    float *x0 = malloc(N * sizeof *x0), *eps = malloc(N * sizeof *eps);
    float *xt = malloc(N * sizeof *xt), *tgt = malloc(N * sizeof *tgt);
    float *x0b = malloc(N * sizeof *x0b), *epsb = malloc(N * sizeof *epsb);
    fill_normal(x0, N, 11);
    fill_normal(eps, N, 12);
    /* abar from almost clean to almost pure noise. 1e-5 holds because the float rounding
     * of x_t (~6e-8 |x_t|) is divided by sqrt(abar) or sqrt(1-abar) >= 0.03 here. */
    const double abars[] = {0.999, 0.9, 0.7, 0.5, 0.3, 0.1, 0.02};
    const limpid_target tg[] = {LIMPID_TARGET_EPS, LIMPID_TARGET_X0, LIMPID_TARGET_V};
    for (size_t a = 0; a < sizeof abars / sizeof abars[0]; a++) {
        double ab = abars[a];
        lpi_q_sample(ab, x0, eps, xt, N);
        for (int k = 0; k < 3; k++) {
            lpi_target_from_x0_eps(tg[k], ab, x0, eps, tgt, N);
            lpi_x0_eps_from_pred(tg[k], ab, xt, tgt, x0b, epsb, N);
            double ex = max_abs_diff(x0, x0b, N), ee = max_abs_diff(eps, epsb, N);
            ck_assert_msg(ex < 1e-5 && ee < 1e-5, "target %d abar %g: x0 err %g eps err %g",
                          (int)tg[k], ab, ex, ee);
            /* either output may be omitted */
            memset(x0b, 0, N * sizeof *x0b);
            lpi_x0_eps_from_pred(tg[k], ab, xt, tgt, x0b, NULL, N);
            ck_assert(max_abs_diff(x0, x0b, N) < 1e-5);
            memset(epsb, 0, N * sizeof *epsb);
            lpi_x0_eps_from_pred(tg[k], ab, xt, tgt, NULL, epsb, N);
            ck_assert(max_abs_diff(eps, epsb, N) < 1e-5);
        }
        /* targets by definition */
        lpi_target_from_x0_eps(LIMPID_TARGET_V, ab, x0, eps, tgt, N);
        for (int i = 0; i < N; i++)
            ck_assert(fabs(tgt[i] - (sqrt(ab) * eps[i] - sqrt(1 - ab) * x0[i])) < 1e-6);
        lpi_target_from_x0_eps(LIMPID_TARGET_EPS, ab, x0, eps, tgt, N);
        ck_assert(memcmp(tgt, eps, N * sizeof *tgt) == 0);
        lpi_target_from_x0_eps(LIMPID_TARGET_X0, ab, x0, eps, tgt, N);
        ck_assert(memcmp(tgt, x0, N * sizeof *tgt) == 0);
    }
    /* t = 0 (abar = 1): x0 target gives eps = 0, not NaN */
    lpi_x0_eps_from_pred(LIMPID_TARGET_X0, 1.0, x0, x0, x0b, epsb, N);
    for (int i = 0; i < N; i++)
        ck_assert(epsb[i] == 0.0f && x0b[i] == x0[i]);
    /* in place: outputs may alias the inputs */
    lpi_q_sample(0.4, x0, eps, xt, N);
    lpi_target_from_x0_eps(LIMPID_TARGET_V, 0.4, x0, eps, tgt, N);
    memcpy(x0b, xt, N * sizeof *x0b);
    memcpy(epsb, tgt, N * sizeof *epsb);
    lpi_x0_eps_from_pred(LIMPID_TARGET_V, 0.4, x0b, epsb, x0b, epsb, N);
    ck_assert(max_abs_diff(x0, x0b, N) < 1e-5 && max_abs_diff(eps, epsb, N) < 1e-5);
    free(x0), free(eps), free(xt), free(tgt), free(x0b), free(epsb);
}
END_TEST

START_TEST(test_q_sample_statistics)
{
    enum { N = 4, M = 100000 };
    const float x0[N] = {0.8f, -0.3f, 0.0f, 1.5f};
    const double ab = 0.35;
    float eps[N], xt[N];
    double sum[N] = {0}, sum2[N] = {0};
    lpi_rng r = lpi_rng_make(5, 6, 7);
    for (int m = 0; m < M; m++) {
        for (int i = 0; i < N; i++)
            eps[i] = lpi_rng_normal(&r);
        lpi_q_sample(ab, x0, eps, xt, N);
        for (int i = 0; i < N; i++) {
            sum[i] += xt[i];
            sum2[i] += (double)xt[i] * xt[i];
        }
    }
    for (int i = 0; i < N; i++) {
        double mean = sum[i] / M, var = sum2[i] / M - mean * mean;
        /* standard errors with M = 1e5: mean sqrt(0.65/M) = 2.5e-3, variance
         * 0.65 sqrt(2/M) = 2.9e-3; bounds are about 4 standard errors */
        ck_assert_msg(fabs(mean - sqrt(ab) * x0[i]) < 0.01, "mean %g vs %g", mean,
                      sqrt(ab) * x0[i]);
        ck_assert_msg(fabs(var - (1 - ab)) < 0.012, "var %g vs %g", var, 1 - ab);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* samplers with the oracle */

enum { NS = 1000 };

/* Build x_{t_start} = q_sample(x0, eps) for the oracle. */
static void oracle_setup(oracle *o, const lpi_schedule *s, float *x0, float *eps0, float *x,
                         double t_start)
{
    memset(o, 0, sizeof *o);
    fill_normal(x0, NS, 21);
    for (int i = 0; i < NS; i++)
        x0[i] *= 0.5f; /* audio-like scale */
    fill_normal(eps0, NS, 22);
    lpi_q_sample(lpi_schedule_abar(s, t_start), x0, eps0, x, NS);
    o->s = s;
    o->x0 = x0;
    o->eps0 = eps0;
    o->n = NS;
}

START_TEST(test_ddim_oracle)
{
    float *x0 = malloc(NS * sizeof *x0), *eps0 = malloc(NS * sizeof *eps0);
    float *x = malloc(NS * sizeof *x), *scratch = malloc(3 * NS * sizeof *scratch);
    const int steps_list[] = {1, 2, 7, 50};
    const float etas[] = {0.0f, 0.5f, 1.0f};
    for (int which = 0; which < 2; which++) {
        lpi_schedule s;
        make_schedule(&s, which);
        for (int k = 0; k < 4; k++) {
            for (int e = 0; e < 3; e++) {
                const double t_starts[] = {(double)s.T, 0.37 * s.T};
                for (int ts = 0; ts < 2; ts++) {
                    oracle o;
                    double t0 = t_starts[ts];
                    int steps = steps_list[k];
                    oracle_setup(&o, &s, x0, eps0, x, t0);
                    lpi_rng rng = lpi_rng_make(3, (uint64_t)k, (uint64_t)e);
                    limpid_status st = lpi_sample_ddim(&s, oracle_fn, &o, x, NS, t0, steps,
                                                       etas[e], &rng, scratch);
                    ck_assert_int_eq(st, LIMPID_OK);
                    ck_assert_int_eq(o.calls, steps);
                    /* steps evenly spaced from t_start down to t_start/steps */
                    for (int i = 0; i < steps; i++)
                        ck_assert_msg(fabs(o.t_log[i] - t0 * (steps - i) / steps) < 1e-12,
                                      "call %d at t = %g", i, o.t_log[i]);
                    /* float rounding only: the last step returns the oracle's x0 */
                    double err = max_abs_diff(x, x0, NS);
                    ck_assert_msg(err < 1e-4, "sched %d steps %d eta %g t0 %g: err %g", which,
                                  steps, (double)etas[e], t0, err);
                    /* deterministic DDIM keeps the eps of the starting point: the deviation
                     * is the float rounding of x_t (~6e-8) divided by sqrt(1-abar) >= 0.01
                     * (linear beta_1 = 1e-4), accumulated over up to 50 steps */
                    if (etas[e] == 0.0f)
                        ck_assert_msg(o.max_eps_dev < 1e-4, "eps drift %g", o.max_eps_dev);
                }
            }
        }
        lpi_schedule_free(&s);
    }
    free(x0), free(eps0), free(x), free(scratch);
}
END_TEST

START_TEST(test_ddpm_oracle)
{
    float *x0 = malloc(NS * sizeof *x0), *eps0 = malloc(NS * sizeof *eps0);
    float *x = malloc(NS * sizeof *x), *scratch = malloc(3 * NS * sizeof *scratch);
    for (int which = 0; which < 2; which++) {
        lpi_schedule s;
        make_schedule(&s, which);
        const int t_starts[] = {s.T, s.T / 2, 1};
        for (int k = 0; k < 3; k++) {
            oracle o;
            int t0 = t_starts[k];
            oracle_setup(&o, &s, x0, eps0, x, t0);
            o.eps0 = NULL; /* ancestral steps draw fresh noise */
            lpi_rng rng = lpi_rng_make(4, (uint64_t)which, (uint64_t)k);
            ck_assert_int_eq(lpi_sample_ddpm(&s, oracle_fn, &o, x, NS, t0, &rng, scratch),
                             LIMPID_OK);
            ck_assert_int_eq(o.calls, t0);
            for (int i = 0; i < t0; i++)
                ck_assert(o.t_log[i] == (double)(t0 - i)); /* every integer step */
            double err = max_abs_diff(x, x0, NS);
            ck_assert_msg(err < 1e-4, "sched %d t0 %d: err %g", which, t0, err);
        }
        lpi_schedule_free(&s);
    }
    free(x0), free(eps0), free(x), free(scratch);
}
END_TEST

/* One reverse step with the oracle from x_t ~ q(x_t | x0) must land on the marginal
 * q(x_next | x0): mean sqrt(abar_next) x0, variance 1 - abar_next. This checks the DDPM
 * posterior coefficients and the DDIM sigma / direction terms, which the final-step oracle
 * test above cannot see. The sampler is stopped at its next call, which captures x_next. */
static void check_marginal(const lpi_schedule *s, int ddpm, double t0, int steps, float eta,
                           int stop_at)
{
    enum { NM = 200000 };
    float *x0 = malloc(NM * sizeof *x0), *eps0 = malloc(NM * sizeof *eps0);
    float *x = malloc(NM * sizeof *x), *scratch = malloc(3 * (size_t)NM * sizeof *scratch);
    float *cap[2] = {malloc(NM * sizeof(float)), malloc(NM * sizeof(float))};
    for (int i = 0; i < NM; i++)
        x0[i] = (float)(0.7 * sin(0.01 * i));
    fill_normal(eps0, NM, 31);
    oracle o;
    /* the same start twice, with two noise seeds: the difference isolates the fresh noise */
    for (int run = 0; run < 2; run++) {
        lpi_q_sample(lpi_schedule_abar(s, t0), x0, eps0, x, NM);
        memset(&o, 0, sizeof o);
        o.s = s;
        o.x0 = x0;
        o.n = NM;
        o.stop_at = stop_at;
        o.stop_status = LIMPID_ERR_STATE;
        o.capture = cap[run];
        lpi_rng rng = lpi_rng_make(9, (uint64_t)stop_at, (uint64_t)run);
        limpid_status st =
            ddpm ? lpi_sample_ddpm(s, oracle_fn, &o, x, NM, (int)t0, &rng, scratch)
                 : lpi_sample_ddim(s, oracle_fn, &o, x, NM, t0, steps, eta, &rng, scratch);
        /* the denoiser's error aborts sampling and comes back unchanged */
        ck_assert_int_eq(st, LIMPID_ERR_STATE);
        ck_assert_int_eq(o.calls, stop_at);
    }
    const char *name = ddpm ? "ddpm" : "ddim";
    double ab = lpi_schedule_abar(s, o.capture_t);
    double m = 0, v = 0, cov = 0, d2 = 0;
    for (int i = 0; i < NM; i++) {
        double r = cap[0][i] - sqrt(ab) * x0[i];
        double d = (double)cap[0][i] - (double)cap[1][i];
        m += r;
        v += r * r;
        cov += r * eps0[i];
        d2 += d * d;
    }
    m /= NM;
    v = v / NM - m * m;
    cov /= NM;
    /* NM = 2e5: standard error of the mean <= 2.3e-3, of the variance <= 3.2e-3 (1-ab);
     * about 4-5 standard errors allowed */
    ck_assert_msg(fabs(m) < 0.01, "%s t %g: residual mean %g", name, o.capture_t, m);
    ck_assert_msg(fabs(v - (1 - ab)) < 0.015 * (1 - ab) + 1e-6, "%s eta %g t %g: var %g vs %g",
                  name, (double)eta, o.capture_t, v, 1 - ab);
    /* After one step the residual is c * eps0 + sigma * z: the split between kept direction
     * and fresh noise, which the marginal alone cannot see. Expected: DDIM
     * c = sqrt(1 - ab_next - sigma^2), sigma = eta sqrt((1-ab_next)/(1-ab)) sqrt(1-ab/ab_next);
     * DDPM c = coef2 sqrt(1 - ab_t), sigma^2 = beta_tilde. */
    if (stop_at == 2) {
        double c, sig;
        if (ddpm) {
            int t = (int)t0;
            double abt = s->abar[t], abp = s->abar[t - 1];
            c = sqrt(1 - s->beta[t]) * (1 - abp) / (1 - abt) * sqrt(1 - abt);
            sig = sqrt(s->beta[t] * (1 - abp) / (1 - abt));
        } else {
            double abt = lpi_schedule_abar(s, t0);
            sig = eta * sqrt((1 - ab) / (1 - abt)) * sqrt(1 - abt / ab);
            c = sqrt(1 - ab - sig * sig);
        }
        /* sample covariance with eps0: standard error ~ 1/sqrt(NM) = 2.2e-3 */
        ck_assert_msg(fabs(cov - c) < 0.01, "%s eta %g t %g: cov %g vs %g", name, (double)eta,
                      o.capture_t, cov, c);
        /* two seeds: var(d) = 2 sigma^2, relative standard error sqrt(2/NM) = 0.3 %, so
         * sigma is known to ~0.2 %; 1.5 % allowed. sigma = 0 must give identical runs. */
        double sig_est = sqrt(d2 / NM / 2);
        if (sig == 0.0)
            ck_assert_msg(sig_est == 0.0, "%s: noise where sigma = 0", name);
        else
            ck_assert_msg(fabs(sig_est - sig) < 0.015 * sig, "%s eta %g t %g: sigma %g vs %g",
                          name, (double)eta, o.capture_t, sig_est, sig);
    }
    free(x0), free(eps0), free(x), free(scratch), free(cap[0]), free(cap[1]);
}

START_TEST(test_marginals)
{
    for (int which = 0; which < 2; which++) {
        lpi_schedule s;
        make_schedule(&s, which);
        /* DDPM: steps T -> T-1, T/2 -> T/2-1, 3 -> 2, and two steps 40 -> 38 */
        check_marginal(&s, 1, s.T, 0, 0.0f, 2);
        check_marginal(&s, 1, s.T / 2, 0, 0.0f, 2);
        check_marginal(&s, 1, 3, 0, 0.0f, 2);
        check_marginal(&s, 1, 40, 0, 0.0f, 3);
        /* DDIM, fractional steps (7 steps from T), several eta, after 1 and 3 steps */
        const float etas[] = {0.0f, 0.5f, 1.0f};
        for (int e = 0; e < 3; e++) {
            check_marginal(&s, 0, s.T, 7, etas[e], 2);
            check_marginal(&s, 0, s.T, 7, etas[e], 4);
            check_marginal(&s, 0, 0.6 * s.T, 4, etas[e], 3);
            /* late steps, where sigma is a large share of the residual */
            check_marginal(&s, 0, 0.2 * s.T, 5, etas[e], 2);
        }
        lpi_schedule_free(&s);
    }
}
END_TEST

START_TEST(test_errors)
{
    lpi_schedule s;
    make_schedule(&s, 0);
    float *x0 = malloc(NS * sizeof *x0), *eps0 = malloc(NS * sizeof *eps0);
    float *x = malloc(NS * sizeof *x), *scratch = malloc(3 * NS * sizeof *scratch);
    oracle o;
    lpi_rng rng = lpi_rng_make(1, 2, 3);

    /* error from fn propagates, on the first call and later, for both samplers */
    const int stops[] = {1, 3};
    for (int k = 0; k < 2; k++) {
        oracle_setup(&o, &s, x0, eps0, x, s.T);
        o.stop_at = stops[k];
        o.stop_status = LIMPID_ERR_NOMEM;
        ck_assert_int_eq(lpi_sample_ddim(&s, oracle_fn, &o, x, NS, s.T, 5, 0.0f, &rng, scratch),
                         LIMPID_ERR_NOMEM);
        ck_assert_int_eq(o.calls, stops[k]);
        oracle_setup(&o, &s, x0, eps0, x, s.T);
        o.stop_at = stops[k];
        o.stop_status = LIMPID_ERR_UNSUPPORTED;
        ck_assert_int_eq(lpi_sample_ddpm(&s, oracle_fn, &o, x, NS, s.T, &rng, scratch),
                         LIMPID_ERR_UNSUPPORTED);
        ck_assert_int_eq(o.calls, stops[k]);
    }

    /* non-finite output is reported */
    oracle_setup(&o, &s, x0, eps0, x, s.T);
    o.nan_out = 1;
    ck_assert_int_eq(lpi_sample_ddim(&s, oracle_fn, &o, x, NS, s.T, 3, 0.0f, &rng, scratch),
                     LIMPID_ERR_NUMERIC);
    oracle_setup(&o, &s, x0, eps0, x, s.T);
    o.nan_out = 1;
    ck_assert_int_eq(lpi_sample_ddpm(&s, oracle_fn, &o, x, NS, 5, &rng, scratch),
                     LIMPID_ERR_NUMERIC);

    /* invalid arguments: refused before fn is called */
    oracle_setup(&o, &s, x0, eps0, x, s.T);
#define DDIM_INVALID(...) \
    ck_assert_int_eq(lpi_sample_ddim(__VA_ARGS__), LIMPID_ERR_INVALID)
    DDIM_INVALID(&s, oracle_fn, &o, x, NS, s.T, 0, 0.0f, &rng, scratch);      /* steps 0 */
    DDIM_INVALID(&s, oracle_fn, &o, x, NS, 0.0, 4, 0.0f, &rng, scratch);      /* t 0 */
    DDIM_INVALID(&s, oracle_fn, &o, x, NS, s.T + 0.5, 4, 0.0f, &rng, scratch); /* t > T */
    DDIM_INVALID(&s, oracle_fn, &o, x, NS, NAN, 4, 0.0f, &rng, scratch);
    DDIM_INVALID(&s, oracle_fn, &o, x, NS, s.T, 4, -0.1f, &rng, scratch);     /* eta < 0 */
    DDIM_INVALID(&s, oracle_fn, &o, x, NS, s.T, 4, 1.5f, &rng, scratch);      /* eta > 1 */
    DDIM_INVALID(&s, oracle_fn, &o, x, NS, s.T, 4, NAN, &rng, scratch);
    DDIM_INVALID(&s, oracle_fn, &o, x, NS, s.T, 4, 0.5f, NULL, scratch);      /* no rng */
    DDIM_INVALID(&s, NULL, &o, x, NS, s.T, 4, 0.0f, &rng, scratch);
    DDIM_INVALID(NULL, oracle_fn, &o, x, NS, s.T, 4, 0.0f, &rng, scratch);
    DDIM_INVALID(&s, oracle_fn, &o, NULL, NS, s.T, 4, 0.0f, &rng, scratch);
    DDIM_INVALID(&s, oracle_fn, &o, x, NS, s.T, 4, 0.0f, &rng, NULL);
#undef DDIM_INVALID
#define DDPM_INVALID(...) \
    ck_assert_int_eq(lpi_sample_ddpm(__VA_ARGS__), LIMPID_ERR_INVALID)
    DDPM_INVALID(&s, oracle_fn, &o, x, NS, 0, &rng, scratch);
    DDPM_INVALID(&s, oracle_fn, &o, x, NS, s.T + 1, &rng, scratch);
    DDPM_INVALID(&s, oracle_fn, &o, x, NS, 5, NULL, scratch);
    DDPM_INVALID(&s, NULL, &o, x, NS, 5, &rng, scratch);
    DDPM_INVALID(&s, oracle_fn, &o, x, NS, 5, &rng, NULL);
#undef DDPM_INVALID
    ck_assert_int_eq(o.calls, 0);

    /* deterministic paths need no rng */
    ck_assert_int_eq(lpi_sample_ddim(&s, oracle_fn, &o, x, NS, s.T, 4, 0.0f, NULL, scratch),
                     LIMPID_OK);
    ck_assert_int_eq(lpi_sample_ddpm(&s, oracle_fn, &o, x, NS, 1, NULL, scratch), LIMPID_OK);

    free(x0), free(eps0), free(x), free(scratch);
    lpi_schedule_free(&s);
}
END_TEST

START_TEST(test_determinism)
{
    lpi_schedule s;
    make_schedule(&s, 0);
    float *xa = malloc(NS * sizeof *xa), *xb = malloc(NS * sizeof *xb);
    float *scratch = malloc(3 * NS * sizeof *scratch);
    for (int mode = 0; mode < 2; mode++) {
        for (int seed = 0; seed < 2; seed++) {
            fill_normal(xa, NS, 40);
            fill_normal(xb, NS, 40);
            lpi_rng ra = lpi_rng_make(100, 0, 0), rb = lpi_rng_make(100 + seed, 0, 0);
            if (mode == 0) {
                ck_assert_int_eq(
                    lpi_sample_ddim(&s, half_fn, &s, xa, NS, s.T, 6, 1.0f, &ra, scratch),
                    LIMPID_OK);
                ck_assert_int_eq(
                    lpi_sample_ddim(&s, half_fn, &s, xb, NS, s.T, 6, 1.0f, &rb, scratch),
                    LIMPID_OK);
            } else {
                ck_assert_int_eq(lpi_sample_ddpm(&s, half_fn, &s, xa, NS, s.T, &ra, scratch),
                                 LIMPID_OK);
                ck_assert_int_eq(lpi_sample_ddpm(&s, half_fn, &s, xb, NS, s.T, &rb, scratch),
                                 LIMPID_OK);
            }
            /* same seed: bit-identical; another seed: different noise, different result */
            if (seed == 0)
                ck_assert(memcmp(xa, xb, NS * sizeof *xa) == 0);
            else
                ck_assert(memcmp(xa, xb, NS * sizeof *xa) != 0);
        }
    }
    free(xa), free(xb), free(scratch);
    lpi_schedule_free(&s);
}
END_TEST

START_TEST(test_opts_default)
{
    limpid_sample_opts o;
    memset(&o, 0xAB, sizeof o);
    limpid_sample_opts_default(&o);
    ck_assert_int_eq(o.sampler, LIMPID_SAMPLER_DDIM);
    ck_assert_int_eq(o.steps, 4);
    ck_assert(o.start == 1.0f);
    ck_assert(o.eta == 0.0f);
    ck_assert(o.seed == 0);
    limpid_sample_opts_default(NULL);
}
END_TEST

static Suite *diffusion_suite(void)
{
    Suite *s = suite_create("diffusion");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_schedule_identities);
    tcase_add_test(tc, test_schedule_fractional);
    tcase_add_test(tc, test_schedule_invalid);
    tcase_add_test(tc, test_conversions_roundtrip);
    tcase_add_test(tc, test_q_sample_statistics);
    tcase_add_test(tc, test_ddim_oracle);
    tcase_add_test(tc, test_ddpm_oracle);
    tcase_add_test(tc, test_marginals);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_determinism);
    tcase_add_test(tc, test_opts_default);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(diffusion_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
