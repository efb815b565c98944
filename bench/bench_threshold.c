/* bench_threshold.c - what a wiener_floor denoiser's threshold follows (a diagnostic, not a
 * timing benchmark).
 *
 *   bench_threshold MODEL DEVSET [-v]
 *
 * DEVSET is a folder of models/eval/make_dev_set.sh (mixtures.tsv, clean/, noisy/). For each
 * mixture the network runs once at t = T (pure-noise x_t, the first sampling step of
 * `limpid denoise`) and its threshold o1 per bin and frame (front-end offsets included) is
 * compared with the ideal o1*: the o1 whose gain G = P^2 / (P^2 + (3 e^o1 M)^2) equals the
 * least-squares real gain Re(S Y*) / |Y|^2 of that bin (clipped to 0.01..0.99), all in the
 * model's compressed STFT domain. Statistics weighted by the noisy power P:
 *   R2      squared correlation of o1 with o1*
 *   static  share of the variance that is a per-bin constant (time-invariant), for o1* and o1
 *   leak    energy of g2 x_t (pure noise at t = T) against G Y in the estimate
 *   SDRi    the estimate's SDR gain over the noisy input in the linear STFT domain (dB; the
 *           scale of the compressed features cancels)
 * and over the noise bins (those whose least-squares gain is at most 0.1, nearly all noise):
 *   nz      their share of the noisy power
 *   lvl     their level over the tracked floor, ln(P / M) (the o1 a bin needs grows with it)
 *   o1* o1  the ideal and the network's threshold there (with floor_gate, the threshold
 *           the gate makes, o1 + s ln(P / M))
 *   G       the gain the head gives them (ideal: 0.01..0.1)
 * and with floor_gate, the gate s (0 shut: the floor head; 1 open: a gain free of the level):
 *   sN sS   its mean over the noise bins and over the speech bins (least-squares gain at
 *           least 0.9), so whether it tells them apart (trained with gate_loss, it should be
 *           near 1 on the first and near 0 on the second)
 * Printed per noise type (mean over its mixtures), and per mixture with -v. */
#include "internal.h"

#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    double r2, std_ideal, static_ideal, std_net, static_net, leak, sdri;
    double nz_share, nz_snr, nz_ideal, nz_net, nz_gain; /* noise bins (below) */
    double s_noise, s_speech; /* floor_gate: the gate's mean on noise and speech bins */
} diag;

static float *read_mono(const char *path, size_t *n)
{
    SF_INFO fi;
    memset(&fi, 0, sizeof fi);
    SNDFILE *f = sf_open(path, SFM_READ, &fi);
    if (!f) {
        fprintf(stderr, "bench_threshold: %s: %s\n", path, sf_strerror(NULL));
        return NULL;
    }
    float *x = malloc((size_t)fi.frames * (size_t)fi.channels * sizeof *x);
    float *m = malloc((size_t)fi.frames * sizeof *m);
    if (!x || !m || sf_readf_float(f, x, fi.frames) != fi.frames) {
        fprintf(stderr, "bench_threshold: %s: cannot read\n", path);
        free(x);
        free(m);
        sf_close(f);
        return NULL;
    }
    for (sf_count_t i = 0; i < fi.frames; i++) {
        double s = 0.0;
        for (int c = 0; c < fi.channels; c++)
            s += x[(size_t)i * fi.channels + c];
        m[i] = (float)(s / fi.channels);
    }
    free(x);
    sf_close(f);
    *n = (size_t)fi.frames;
    return m;
}

/* v's weighted mean *mu, standard deviation *sd and the share of its variance that per-row
 * (per-bin) means explain *stat; returns the weighted sum of squared deviations */
static double shares(const float *v, const float *w, int F, int Lf, double *mu_out, double *sd,
                     double *stat)
{
    double sw = 0.0, mu = 0.0;
    for (size_t a = 0; a < (size_t)F * Lf; a++) {
        sw += w[a];
        mu += w[a] * v[a];
    }
    mu /= sw;
    double var = 0.0, between = 0.0;
    for (int f = 0; f < F; f++) {
        double s = 0.0, m = 0.0;
        for (int j = 0; j < Lf; j++) {
            const size_t a = (size_t)f * Lf + j;
            s += w[a];
            m += w[a] * v[a];
            var += w[a] * (v[a] - mu) * (v[a] - mu);
        }
        if (s > 0.0)
            between += s * (m / s - mu) * (m / s - mu);
    }
    *mu_out = mu;
    *sd = sqrt(var / sw);
    *stat = var > 0.0 ? between / var : 1.0;
    return var;
}

static int run_one(const limpid_model *m, const char *clean_path, const char *noisy_path,
                   diag *d)
{
    const limpid_config *cfg = &m->cfg;
    const lpi_net_layout *L = &m->layout;
    size_t n, n2;
    float *cl = read_mono(clean_path, &n), *no = read_mono(noisy_path, &n2);
    if (!cl || !no) {
        free(cl);
        free(no);
        return 1;
    }
    if (n2 < n)
        n = n2;
    const int Lf = (int)lpi_feature_frames(cfg, n), F = L->Cx / 2;
    const size_t cnt = (size_t)L->Cx * Lf, plane = (size_t)F * Lf;
    limpid_stft *stft = NULL;
    lpi_schedule sch;
    if (limpid_stft_create(&stft, cfg->n_fft, cfg->hop, cfg->window) != LIMPID_OK ||
        lpi_schedule_init(&sch, cfg) != LIMPID_OK)
        return 1;
    float *scr = malloc((lpi_feature_scratch(cfg, n) + 1) * sizeof(float));
    float *S = malloc(cnt * sizeof *S), *Y = malloc(cnt * sizeof *Y);
    float *xt = malloc(cnt * sizeof *xt);
    float *nc = malloc(lpi_front_ncond_rows(L) * (size_t)Lf * sizeof *nc);
    float *out = malloc((size_t)L->Co * Lf * sizeof *out), *pred = malloc(cnt * sizeof *pred);
    float *ideal = malloc(plane * sizeof *ideal), *w = malloc(plane * sizeof *w);
    lpi_net_ws *ws = lpi_net_ws_create(L, 1, Lf, 0);
    lpi_front_ws *fw = L->fh > 0 ? lpi_front_ws_create(L, 0, 0) : NULL;
    lpi_features_from_audio(cfg, stft, cl, n, S, (size_t)Lf, scr);
    lpi_features_from_audio(cfg, stft, no, n, Y, (size_t)Lf, scr);
    const float *netc = lpi_cond_features(cfg, Y, (size_t)Lf, (size_t)Lf, 0, NULL, nc);
    if (fw)
        lpi_front_forward(L, m->params, fw, nc, (size_t)Lf, 1, Lf);
    /* x_T as limpid denoise draws it (seed 1, block 0) */
    lpi_rng r = lpi_rng_make(1, 0, 0x5A3D1E);
    lpi_rng_normal_fill(&r, xt, cnt);
    const double ab = lpi_schedule_abar(&sch, (double)cfg->steps_T);
    for (size_t i = 0; i < cnt; i++)
        xt[i] = (float)(sqrt(ab) * Y[i] + sqrt(1.0 - ab) * xt[i]);
    float t = (float)cfg->steps_T;
    /* the network's input as the sampler gives it (input_scale: sqrt(abar) x_t) */
    const float *xin = lpi_net_input(cfg, ab, xt, cnt, pred);
    lpi_net_forward(L, m->params, ws, xin, netc, &t, NULL, 1, Lf, out);
    lpi_front_add(L, out, (size_t)Lf, nc, (size_t)Lf, (size_t)Lf);
    lpi_head_forward(cfg, out, Y, nc, xt, (size_t)Lf, pred);
    double eg = 0.0, ey = 0.0, es = 0.0, en = 0.0, ee = 0.0;
    double zw = 0.0, zall = 0.0, zl = 0.0, zi = 0.0, zo = 0.0, zg = 0.0;
    double gn = 0.0, gs = 0.0, gw = 0.0; /* the gate on noise bins (weights zw), speech bins */
    const double ck = 1.0 / cfg->compress_exp - 1.0;
    for (int f = 0; f < F; f++)
        for (int j = 0; j < Lf; j++) {
            const size_t a = (size_t)f * Lf + j, b = (size_t)(F + f) * Lf + j;
            const double p = (double)Y[a] * Y[a] + (double)Y[b] * Y[b] + 1e-30;
            double g = ((double)S[a] * Y[a] + (double)S[b] * Y[b]) / p;
            g = g < 0.01 ? 0.01 : g > 0.99 ? 0.99 : g;
            const double mf = nc[plane + a]; /* the floor feature (ln M + 6) / 3 */
            const double lvl = log(p) - (3.0 * mf - 6.0); /* ln P - ln M */
            if (cfg->floor_gate) { /* the threshold the gate makes: o1 + s ln(P / M) */
                const double sg = 1.0 / (1.0 + exp(-(out[2 * plane + a] + LPI_GATE_BIAS)));
                out[a] += (float)(lvl * sg);
                if (g <= 0.1)
                    gn += p * sg;
                if (g >= 0.9) {
                    gs += p * sg;
                    gw += p;
                }
            }
            ideal[a] = (float)((log(1.0 / g - 1.0) + 2.0 * log(p)) / 2.0 - log(3.0) - 3.0 * mf +
                               6.0);
            w[a] = (float)p;
            zall += p;
            if (g <= 0.1) {
                const double z = fmin(2.0 * ((double)out[a] + log(3.0) - lvl), 80.0);
                zw += p;
                zl += p * lvl;
                zi += p * ideal[a];
                zo += p * out[a];
                zg += p / (1.0 + exp(z));
            }
            const double lr = (double)out[b] * xt[a], li = (double)out[b] * xt[b];
            eg += lr * lr + li * li;
            ey += (pred[a] - lr) * (pred[a] - lr) + (pred[b] - li) * (pred[b] - li);
            double sr, si, yr, yi, er, ei;
            lpi_decompress_bin(S[a], S[b], ck, &sr, &si);
            lpi_decompress_bin(Y[a], Y[b], ck, &yr, &yi);
            lpi_decompress_bin(pred[a], pred[b], ck, &er, &ei);
            es += sr * sr + si * si;
            en += (yr - sr) * (yr - sr) + (yi - si) * (yi - si);
            ee += (er - sr) * (er - sr) + (ei - si) * (ei - si);
        }
    double m1, m2, c12 = 0.0;
    const double v1 = shares(ideal, w, F, Lf, &m1, &d->std_ideal, &d->static_ideal);
    const double v2 = shares(out, w, F, Lf, &m2, &d->std_net, &d->static_net);
    for (size_t a = 0; a < plane; a++)
        c12 += w[a] * (ideal[a] - m1) * (out[a] - m2);
    d->r2 = v1 > 0.0 && v2 > 0.0 ? c12 * c12 / (v1 * v2) : 0.0;
    d->leak = ey > 0.0 ? eg / ey : 0.0;
    d->sdri = 10.0 * log10((en + 1e-30) / (ee + 1e-30));
    d->nz_share = zw / (zall + 1e-300);
    d->nz_snr = zw > 0.0 ? zl / zw : 0.0;
    d->nz_ideal = zw > 0.0 ? zi / zw : 0.0;
    d->nz_net = zw > 0.0 ? zo / zw : 0.0;
    d->nz_gain = zw > 0.0 ? zg / zw : 0.0;
    d->s_noise = zw > 0.0 ? gn / zw : 0.0;
    d->s_speech = gw > 0.0 ? gs / gw : 0.0;
    lpi_net_ws_destroy(ws);
    lpi_front_ws_destroy(fw);
    lpi_schedule_free(&sch);
    limpid_stft_destroy(stft);
    free(cl); free(no); free(scr); free(S); free(Y); free(xt); free(nc); free(out); free(pred);
    free(ideal); free(w);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_threshold MODEL DEVSET [-v]\n");
        return 2;
    }
    const int verbose = argc > 3 && strcmp(argv[3], "-v") == 0;
    limpid_model *m = NULL;
    char err[512];
    if (limpid_model_load_file(&m, argv[1], err, sizeof err) != LIMPID_OK) {
        fprintf(stderr, "bench_threshold: %s\n", err);
        return 1;
    }
    if (m->cfg.head != LIMPID_HEAD_WIENER_FLOOR) {
        fprintf(stderr, "bench_threshold: %s: not a wiener_floor denoiser\n", argv[1]);
        limpid_model_destroy(m);
        return 1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/mixtures.tsv", argv[2]);
    FILE *tsv = fopen(path, "r");
    if (!tsv) {
        fprintf(stderr, "bench_threshold: %s: cannot open\n", path);
        limpid_model_destroy(m);
        return 1;
    }
    enum { MAXT = 32 };
    char types[MAXT][64];
    diag sum[MAXT];
    int count[MAXT], nt = 0, rc = 0;
    memset(sum, 0, sizeof sum);
    char line[8192];
    if (!fgets(line, sizeof line, tsv)) /* header */
        line[0] = '\0';
    const int gate = m->cfg.floor_gate;
    printf("%-28s %3s %6s %9s %9s %9s %9s %7s %6s %5s %5s %5s %5s %5s%s\n", "noise", "n", "R2",
           "std o1*", "static", "std o1", "static", "leak", "SDRi", "nz", "lvl", "o1*", "o1", "G",
           gate ? "    sN    sS" : "");
    while (fgets(line, sizeof line, tsv)) {
        char file[4096], noise[64];
        double snr;
        if (sscanf(line, "%4095[^\t]\t%lf\t%63[^\t\n]", file, &snr, noise) != 3)
            continue;
        char cp[8192], np[8192];
        snprintf(cp, sizeof cp, "%s/clean/%s", argv[2], file);
        snprintf(np, sizeof np, "%s/noisy/%s", argv[2], file);
        diag d;
        if (run_one(m, cp, np, &d) != 0) {
            rc = 1;
            continue;
        }
        if (verbose)
            printf("%-28.28s %3.0f %6.3f %9.2f %9.2f %9.2f %9.2f %7.4f %6.2f %5.2f %5.2f %5.2f "
                   "%5.2f %5.2f", noise, snr, d.r2, d.std_ideal, d.static_ideal, d.std_net,
                   d.static_net, d.leak, d.sdri, d.nz_share, d.nz_snr, d.nz_ideal, d.nz_net,
                   d.nz_gain);
        if (verbose && gate)
            printf(" %5.2f %5.2f", d.s_noise, d.s_speech);
        if (verbose)
            printf("  %s\n", file);
        int k = 0;
        while (k < nt && strcmp(types[k], noise) != 0)
            k++;
        if (k == nt) {
            if (nt == MAXT)
                continue;
            snprintf(types[nt], sizeof types[nt], "%s", noise);
            count[nt++] = 0;
        }
        count[k]++;
        sum[k].r2 += d.r2;
        sum[k].std_ideal += d.std_ideal;
        sum[k].static_ideal += d.static_ideal;
        sum[k].std_net += d.std_net;
        sum[k].static_net += d.static_net;
        sum[k].leak += d.leak;
        sum[k].sdri += d.sdri;
        sum[k].nz_share += d.nz_share;
        sum[k].nz_snr += d.nz_snr;
        sum[k].nz_ideal += d.nz_ideal;
        sum[k].nz_net += d.nz_net;
        sum[k].nz_gain += d.nz_gain;
        sum[k].s_noise += d.s_noise;
        sum[k].s_speech += d.s_speech;
    }
    fclose(tsv);
    for (int k = 0; k < nt; k++) {
        const double c = count[k];
        printf("%-28s %3d %6.3f %9.2f %9.2f %9.2f %9.2f %7.4f %6.2f %5.2f %5.2f %5.2f %5.2f "
               "%5.2f", types[k], count[k], sum[k].r2 / c, sum[k].std_ideal / c,
               sum[k].static_ideal / c, sum[k].std_net / c, sum[k].static_net / c,
               sum[k].leak / c, sum[k].sdri / c, sum[k].nz_share / c, sum[k].nz_snr / c,
               sum[k].nz_ideal / c, sum[k].nz_net / c, sum[k].nz_gain / c);
        if (gate)
            printf(" %5.2f %5.2f", sum[k].s_noise / c, sum[k].s_speech / c);
        printf("\n");
    }
    limpid_model_destroy(m);
    return rc;
}
