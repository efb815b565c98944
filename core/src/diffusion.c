/* diffusion.c - noise schedules, target conversions and the reverse-process samplers
 * (DDIM, DDPM ancestral) on flat float vectors.
 *
 * Scalars (abar, coefficients) are doubles so that steps near t = 0, where 1 - abar is tiny,
 * lose no precision; per-element arithmetic is done in double and stored as float. */
#include "internal.h"

#include <stdlib.h>

#ifndef M_PI /* not in strict ISO C */
#define M_PI 3.14159265358979323846
#endif

/* Nichol & Dhariwal's offset, so beta_1 is not vanishingly small. */
#define LPI_COSINE_S 0.008
/* Their clip, so the last steps do not have beta = 1 (abar_T = 0 exactly). */
#define LPI_BETA_MAX 0.999

void limpid_sample_opts_default(limpid_sample_opts *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->sampler = LIMPID_SAMPLER_DDIM;
    o->steps = 4;
    o->start = 1.0f;
    o->eta = 0.0f;
    o->seed = 0;
}

/* ------------------------------------------------------------------------ */
/* Schedule */

static double cosine_f(double t, int T)
{
    double c = cos(((t / (double)T + LPI_COSINE_S) / (1.0 + LPI_COSINE_S)) * (M_PI / 2.0));
    return c * c;
}

limpid_status lpi_schedule_init(lpi_schedule *s, const limpid_config *cfg)
{
    if (!s)
        return LIMPID_ERR_INVALID;
    s->T = 0;
    s->beta = NULL;
    s->abar = NULL;
    if (!cfg || cfg->steps_T < 1 || cfg->steps_T > 100000)
        return LIMPID_ERR_INVALID;
    if (cfg->schedule != LIMPID_SCHEDULE_LINEAR && cfg->schedule != LIMPID_SCHEDULE_COSINE)
        return LIMPID_ERR_INVALID;
    if (cfg->schedule == LIMPID_SCHEDULE_LINEAR &&
        !(cfg->beta_start > 0.0f && cfg->beta_start <= cfg->beta_end && cfg->beta_end < 1.0f))
        return LIMPID_ERR_INVALID;

    const int T = cfg->steps_T;
    double *beta = malloc((size_t)(T + 1) * sizeof *beta);
    double *abar = malloc((size_t)(T + 1) * sizeof *abar);
    if (!beta || !abar) {
        free(beta);
        free(abar);
        return LIMPID_ERR_NOMEM;
    }
    beta[0] = 0.0;
    abar[0] = 1.0;

    if (cfg->schedule == LIMPID_SCHEDULE_LINEAR) {
        /* numpy.linspace(beta_start, beta_end, T); T = 1 gives beta_start */
        const double b0 = cfg->beta_start, b1 = cfg->beta_end;
        for (int t = 1; t <= T; t++)
            beta[t] = T == 1 ? b0 : b0 + (b1 - b0) * (double)(t - 1) / (double)(T - 1);
    } else {
        /* betas from the ratios of the analytic abar, clipped; abar itself is then rebuilt
         * from the clipped betas below so abar_t = prod (1 - beta) holds exactly. */
        const double f0 = cosine_f(0.0, T);
        double prev = 1.0;
        for (int t = 1; t <= T; t++) {
            double cur = cosine_f((double)t, T) / f0;
            double b = 1.0 - cur / prev;
            beta[t] = b < LPI_BETA_MAX ? b : LPI_BETA_MAX;
            prev = cur;
        }
    }
    for (int t = 1; t <= T; t++)
        abar[t] = abar[t - 1] * (1.0 - beta[t]);

    s->T = T;
    s->beta = beta;
    s->abar = abar;
    return LIMPID_OK;
}

void lpi_schedule_free(lpi_schedule *s)
{
    if (!s)
        return;
    free(s->beta);
    free(s->abar);
    s->beta = NULL;
    s->abar = NULL;
    s->T = 0;
}

double lpi_schedule_abar(const lpi_schedule *s, double t)
{
    if (isnan(t))
        return t;
    if (t <= 0.0)
        return s->abar[0];
    if (t >= (double)s->T)
        return s->abar[s->T];
    int i = (int)floor(t);
    double fr = t - (double)i;
    if (fr == 0.0)
        return s->abar[i]; /* integer steps give the table exactly */
    /* abar > 0 everywhere (beta < 1), so the logs are finite */
    return exp((1.0 - fr) * log(s->abar[i]) + fr * log(s->abar[i + 1]));
}

/* ------------------------------------------------------------------------ */
/* Targets. All loops read element i of every input before writing element i of any output,
 * so outputs may alias inputs. */

void lpi_x0_eps_from_pred(limpid_target target, double abar, const float *xt, const float *pred,
                          float *x0, float *eps, size_t n)
{
    const double sa = sqrt(abar);
    const double sb = sqrt(1.0 - abar);
    switch (target) {
    case LIMPID_TARGET_EPS:
        for (size_t i = 0; i < n; i++) {
            double x = xt[i], e = pred[i];
            /* abar = 0 would carry no information about x0: report 0 rather than Inf */
            if (x0)
                x0[i] = sa > 0.0 ? (float)((x - sb * e) / sa) : 0.0f;
            if (eps)
                eps[i] = (float)e;
        }
        break;
    case LIMPID_TARGET_X0:
        for (size_t i = 0; i < n; i++) {
            double x = xt[i], p = pred[i];
            if (x0)
                x0[i] = (float)p;
            /* t = 0 (abar = 1): x_t carries no noise, eps is undefined: 0 */
            if (eps)
                eps[i] = sb > 0.0 ? (float)((x - sa * p) / sb) : 0.0f;
        }
        break;
    case LIMPID_TARGET_V:
    default:
        for (size_t i = 0; i < n; i++) {
            double x = xt[i], v = pred[i];
            if (x0)
                x0[i] = (float)(sa * x - sb * v);
            if (eps)
                eps[i] = (float)(sb * x + sa * v);
        }
        break;
    }
}

void lpi_target_from_x0_eps(limpid_target target, double abar, const float *x0,
                            const float *eps, float *tgt, size_t n)
{
    switch (target) {
    case LIMPID_TARGET_EPS:
        if (tgt != eps)
            memmove(tgt, eps, n * sizeof *tgt);
        break;
    case LIMPID_TARGET_X0:
        if (tgt != x0)
            memmove(tgt, x0, n * sizeof *tgt);
        break;
    case LIMPID_TARGET_V:
    default: {
        const double sa = sqrt(abar), sb = sqrt(1.0 - abar);
        for (size_t i = 0; i < n; i++)
            tgt[i] = (float)(sa * (double)eps[i] - sb * (double)x0[i]);
        break;
    }
    }
}

void lpi_q_sample(double abar, const float *x0, const float *eps, float *xt, size_t n)
{
    const double sa = sqrt(abar), sb = sqrt(1.0 - abar);
    for (size_t i = 0; i < n; i++)
        xt[i] = (float)(sa * (double)x0[i] + sb * (double)eps[i]);
}

/* ------------------------------------------------------------------------ */
/* Samplers */

static limpid_status check_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return LIMPID_ERR_NUMERIC;
    return LIMPID_OK;
}

limpid_status lpi_sample_ddim(const lpi_schedule *s, lpi_denoise_fn fn, void *user, float *x,
                              size_t n, double t_start, int steps, float eta, lpi_rng *rng,
                              float *scratch)
{
    if (!s || !s->abar || s->T < 1 || !fn || steps < 1)
        return LIMPID_ERR_INVALID;
    if (!(t_start > 0.0 && t_start <= (double)s->T))
        return LIMPID_ERR_INVALID; /* also refuses NaN */
    /* eta in [0, 1]: above 1 the deterministic part 1 - abar_next - sigma^2 can go negative */
    if (!(eta >= 0.0f && eta <= 1.0f))
        return LIMPID_ERR_INVALID;
    if (eta > 0.0f && !rng)
        return LIMPID_ERR_INVALID;
    if (n == 0)
        return LIMPID_OK;
    if (!x || !scratch)
        return LIMPID_ERR_INVALID;

    float *x0h = scratch;       /* [n] */
    float *eh = scratch + n;    /* [n] */
    float *z = scratch + 2 * n; /* [n] */

    for (int i = 0; i < steps; i++) {
        const double t_cur = t_start * (double)(steps - i) / (double)steps;
        limpid_status st = fn(user, x, t_cur, x0h, eh, n);
        if (st != LIMPID_OK)
            return st;
        if (i == steps - 1) {
            memcpy(x, x0h, n * sizeof *x); /* t_next = 0: abar = 1, sigma = 0 */
            break;
        }
        const double t_next = t_start * (double)(steps - i - 1) / (double)steps;
        const double ab_cur = lpi_schedule_abar(s, t_cur);
        const double ab_next = lpi_schedule_abar(s, t_next);
        double sigma = 0.0;
        if (eta > 0.0f && 1.0 - ab_cur > 0.0 && ab_next > 0.0) {
            double r = (1.0 - ab_next) / (1.0 - ab_cur) * (1.0 - ab_cur / ab_next);
            sigma = r > 0.0 ? (double)eta * sqrt(r) : 0.0;
        }
        double dir2 = 1.0 - ab_next - sigma * sigma;
        const double c_x0 = sqrt(ab_next);
        const double c_eps = dir2 > 0.0 ? sqrt(dir2) : 0.0;
        if (sigma > 0.0) {
            for (size_t k = 0; k < n; k++)
                z[k] = lpi_rng_normal(rng);
            for (size_t k = 0; k < n; k++)
                x[k] = (float)(c_x0 * x0h[k] + c_eps * eh[k] + sigma * z[k]);
        } else {
            for (size_t k = 0; k < n; k++)
                x[k] = (float)(c_x0 * x0h[k] + c_eps * eh[k]);
        }
    }
    return check_finite(x, n);
}

limpid_status lpi_sample_ddpm(const lpi_schedule *s, lpi_denoise_fn fn, void *user, float *x,
                              size_t n, int t_start, lpi_rng *rng, float *scratch)
{
    if (!s || !s->abar || !s->beta || s->T < 1 || !fn)
        return LIMPID_ERR_INVALID;
    if (t_start < 1 || t_start > s->T)
        return LIMPID_ERR_INVALID;
    if (t_start > 1 && !rng)
        return LIMPID_ERR_INVALID;
    if (n == 0)
        return LIMPID_OK;
    if (!x || !scratch)
        return LIMPID_ERR_INVALID;

    float *x0h = scratch;       /* [n] */
    float *eh = scratch + n;    /* [n]: the denoiser writes it; the posterior uses x0 only */
    float *z = scratch + 2 * n; /* [n] */

    for (int t = t_start; t >= 1; t--) {
        limpid_status st = fn(user, x, (double)t, x0h, eh, n);
        if (st != LIMPID_OK)
            return st;
        if (t == 1) {
            /* abar_0 = 1: coef1 = 1, coef2 = 0, beta_tilde = 0 (exactly, not to rounding) */
            memcpy(x, x0h, n * sizeof *x);
            break;
        }
        const double beta = s->beta[t];
        const double ab = s->abar[t], ab_prev = s->abar[t - 1];
        const double den = 1.0 - ab; /* > 0 for t >= 1 */
        const double c1 = sqrt(ab_prev) * beta / den;
        const double c2 = sqrt(1.0 - beta) * (1.0 - ab_prev) / den;
        const double var = beta * (1.0 - ab_prev) / den;
        const double sd = var > 0.0 ? sqrt(var) : 0.0;
        for (size_t k = 0; k < n; k++)
            z[k] = lpi_rng_normal(rng);
        for (size_t k = 0; k < n; k++)
            x[k] = (float)(c1 * x0h[k] + c2 * x[k] + sd * z[k]);
    }
    return check_finite(x, n);
}
