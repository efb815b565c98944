/* test_stream.c - the real-time engine (limpid_stream): equal to the batch network run over
 * the whole signal, independent of the block size, latency as reported, robust input. */
#include "internal.h"

#include <check.h>
#include <pthread.h>
#include <stdlib.h>

#define SR 16000

/* A tiny causal STFT denoiser with random weights everywhere (the final layer too, so the
 * head's output really depends on the network). */
static limpid_model *tiny_model_front(int lookahead, uint64_t seed, limpid_head head, int front)
{
    limpid_config cfg;
    ck_assert_int_eq(limpid_config_preset(&cfg, "tiny", LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT,
                                          SR), LIMPID_OK);
    cfg.lookahead = lookahead;
    cfg.head = head;
    /* LOGPOW_FLOOR: the floor track is state the stream carries */
    cfg.cond = head == LIMPID_HEAD_WIENER_FLOOR ? LIMPID_COND_LOGPOW_FLOOR : LIMPID_COND_LOGPOW;
    cfg.cond_snr = front == 2; /* front 2: the level above the floor as the net's input */
    cfg.floor_slow = front == 3 ? 0.5f : 0.0f; /* front 3: a slow floor track as more rows */
    cfg.harmonicity = front == 4;              /* front 4: the harmonicity rows */
    cfg.floor_gate = front == 5 || front == 6; /* front 5: the gated floor head */
    if (front == 1 || front == 6) { /* a per-bin front end: 5 frames (a window the stream
                                       keeps), 2 cond rows; front 6 with the gate (offsets) */
        cfg.front_hidden = 8;
        cfg.front_bins = 2;
        cfg.front_frames = 5;
        cfg.front_cond = 2;
    }
    limpid_model *m = NULL;
    ck_assert_int_eq(lpi_model_alloc(&m, &cfg), LIMPID_OK);
    lpi_net_init_params(&m->layout, m->params, seed);
    const lpi_net_layout *L = &m->layout;
    lpi_rng r = lpi_rng_make(seed, 99, 1);
    for (size_t i = 0; i < (size_t)L->Co * L->C; i++)
        m->params[L->final_w + i] = 0.05f * lpi_rng_normal(&r);
    for (int i = 0; i < L->Co; i++)
        m->params[L->final_b + i] = 0.1f * lpi_rng_normal(&r);
    /* biases too, so that no path is trivially zero */
    for (int i = 0; i < L->N; i++)
        for (int c = 0; c < 2 * L->C; c++)
            m->params[L->layer[i].out_b + c] = 0.1f * lpi_rng_normal(&r);
    if (front == 1 || front == 6) /* its last layer too (initialised to zero) */
        for (size_t i = L->fw3; i < L->n_params; i++)
            m->params[i] = 0.3f * lpi_rng_normal(&r);
    return m;
}

static limpid_model *tiny_model_head(int lookahead, uint64_t seed, limpid_head head)
{
    return tiny_model_front(lookahead, seed, head, 0);
}

static limpid_model *tiny_model(int lookahead, uint64_t seed)
{
    return tiny_model_head(lookahead, seed, LIMPID_HEAD_WIENER);
}

static void test_signal(float *x, size_t n, uint64_t seed)
{
    lpi_rng r = lpi_rng_make(seed, 7, 7);
    for (size_t i = 0; i < n; i++)
        x[i] = 0.3f * sinf(0.07f * (float)i) * (1.0f + 0.5f * sinf(0.0011f * (float)i)) +
               0.05f * lpi_rng_normal(&r);
}

typedef struct {
    const limpid_model *m;
    lpi_net_ws *ws;
    const float *Y, *netc;
    int Lf;
    float *out, *pred;
} ref_ctx;

/* Reference: the reverse process over the whole signal with the batch network (net.c), the
 * engine's per-frame noise, DDIM (eta 0) with S steps from strength g. */
static void reference(const limpid_model *m, const float *x, size_t n, int S, float g,
                      uint64_t seed, float *y)
{
    const limpid_config *cfg = &m->cfg;
    const int Cx = m->layout.Cx;
    const int Lf = (int)lpi_feature_frames(cfg, n);
    const size_t cnt = (size_t)Cx * Lf;
    limpid_stft *stft = NULL;
    ck_assert_int_eq(limpid_stft_create(&stft, cfg->n_fft, cfg->hop, cfg->window), LIMPID_OK);
    float *Y = malloc(cnt * 4), *nc = malloc(lpi_front_ncond_rows(&m->layout) * (size_t)Lf * 4),
          *xt = malloc(cnt * 4), *eps = malloc(cnt * 4),
          *out = malloc((size_t)m->layout.Co * Lf * 4), *pred = malloc(cnt * 4),
          *x0 = malloc(cnt * 4), *scr = malloc((lpi_feature_scratch(cfg, n) + 1) * 4),
          *xs = malloc(cnt * 4);
    ck_assert_int_eq(lpi_features_from_audio(cfg, stft, x, n, Y, (size_t)Lf, scr), LIMPID_OK);
    const float *netc = lpi_cond_features(cfg, Y, (size_t)Lf, (size_t)Lf, 0, NULL, nc);
    lpi_front_ws *fw = m->layout.fh > 0 ? lpi_front_ws_create(&m->layout, 0, 0) : NULL;
    if (fw)
        lpi_front_forward(&m->layout, m->params, fw, nc, (size_t)Lf, 1, Lf);
    for (int k = 0; k < Lf; k++) {
        float e[1024];
        ck_assert_int_le(Cx, 1024);
        lpi_rng r = lpi_rng_make(seed, (uint64_t)k, LPI_STREAM_NOISE_TAG);
        lpi_rng_normal_fill(&r, e, (size_t)Cx);
        for (int c = 0; c < Cx; c++)
            eps[(size_t)c * Lf + k] = e[c];
    }
    lpi_schedule sch;
    ck_assert_int_eq(lpi_schedule_init(&sch, cfg), LIMPID_OK);
    double t0 = (double)g * cfg->steps_T;
    lpi_q_sample(lpi_schedule_abar(&sch, t0), Y, eps, xt, cnt);
    lpi_net_ws *ws = lpi_net_ws_create(&m->layout, 1, Lf, 0);
    ck_assert_ptr_nonnull(ws);
    for (int s = 0; s < S; s++) {
        double tc = t0 * (double)(S - s) / S, tn = t0 * (double)(S - s - 1) / S;
        float tf = (float)tc;
        const float *xin = lpi_net_input(cfg, lpi_schedule_abar(&sch, tc), xt, cnt, xs);
        lpi_net_forward(&m->layout, m->params, ws, xin, netc, &tf, NULL, 1, Lf, out);
        lpi_front_add(&m->layout, out, (size_t)Lf, netc, (size_t)Lf, (size_t)Lf);
        lpi_head_forward(cfg, out, Y, netc, xt, (size_t)Lf, pred);
        lpi_x0_eps_from_pred(cfg->target, lpi_schedule_abar(&sch, tc), xt, pred, x0, eps, cnt);
        if (s == S - 1)
            break;
        double ab = lpi_schedule_abar(&sch, tn);
        for (size_t i = 0; i < cnt; i++)
            xt[i] = (float)(sqrt(ab) * x0[i] + sqrt(1.0 - ab) * eps[i]);
    }
    ck_assert_int_eq(lpi_audio_from_features(cfg, stft, x0, (size_t)Lf, n, y, scr, NULL), LIMPID_OK);
    lpi_net_ws_destroy(ws);
    lpi_front_ws_destroy(fw);
    lpi_schedule_free(&sch);
    limpid_stft_destroy(stft);
    free(Y); free(nc); free(xt); free(eps); free(out); free(pred); free(x0); free(scr); free(xs);
}

static void run_stream(limpid_stream *st, const float *x, float *y, size_t n, size_t block,
                       int in_place)
{
    for (size_t i = 0; i < n; i += block) {
        size_t b = n - i < block ? n - i : block;
        if (in_place) {
            memcpy(y + i, x + i, b * sizeof *y);
            limpid_stream_process(st, y + i, y + i, b);
        } else {
            limpid_stream_process(st, x + i, y + i, b);
        }
    }
}

/* The engine's frame-by-frame evaluation equals the batch network (net.c: BLAS products, a
 * polynomial tanh/sigmoid) over the whole signal, shifted by the latency. Tolerance: both are
 * float computations of the same function in different orders (gate error < 3e-7, summation
 * order), through a few DDIM steps: 1e-4 of the signal's peak. */
static void matches_batch(limpid_model *m)
{
    const size_t n = 12000;
    float *x = malloc(n * 4), *ref = malloc(n * 4), *y = malloc(n * 4);
    test_signal(x, n, 3);
    for (int S = 1; S <= 3; S++) {
        const float g = S == 2 ? 0.6f : 1.0f;
        reference(m, x, n, S, g, 42, ref);
        limpid_stream_opts o;
        limpid_stream_opts_default(&o);
        o.sample_rate = SR;
        o.max_steps = 4;
        o.steps = S;
        o.strength = g;
        o.seed = 42;
        limpid_stream *st = NULL;
        ck_assert_int_eq(limpid_stream_create(&st, m, &o), LIMPID_OK);
        const int lat = limpid_stream_latency(st);
        ck_assert_int_eq(lat, m->cfg.n_fft);
        run_stream(st, x, y, n, 100, 0);
        double peak = 0.0, err = 0.0, diff_in = 0.0;
        for (size_t i = (size_t)lat; i < n; i++) {
            double d = fabs((double)y[i] - ref[i - lat]);
            err = d > err ? d : err;
            peak = fabs(ref[i - lat]) > peak ? fabs(ref[i - lat]) : peak;
            diff_in += fabs((double)ref[i - lat] - x[i - lat]);
        }
        ck_assert_msg(err <= 1e-4 * peak, "S=%d: max error %g (peak %g)", S, err, peak);
        /* and the network really changed the signal (so the comparison means something) */
        ck_assert_msg(diff_in / (double)(n - lat) > 1e-3, "S=%d: output equals input", S);
        limpid_stream_destroy(st);
    }
    free(x); free(ref); free(y);
    limpid_model_destroy(m);
}

START_TEST(test_matches_batch) { matches_batch(tiny_model(0, 11)); }
END_TEST
START_TEST(test_matches_batch_floor) { matches_batch(tiny_model_head(0, 11, LIMPID_HEAD_WIENER_FLOOR)); }
END_TEST

/* Asserts that a model feature changes the output: the batch path with set(m, 1) and with
 * set(m, 0) differ (so a stream == batch comparison would see an engine that skipped it);
 * leaves the feature on. */
static void assert_changes_output(limpid_model *m, void (*set)(limpid_model *, int),
                                  const char *what)
{
    const size_t n = 12000;
    float *x = malloc(n * 4), *a = malloc(n * 4), *b = malloc(n * 4);
    test_signal(x, n, 3);
    set(m, 1);
    reference(m, x, n, 2, 1.0f, 42, a);
    set(m, 0);
    reference(m, x, n, 2, 1.0f, 42, b);
    set(m, 1);
    double d = 0.0;
    for (size_t i = 0; i < n; i++)
        d += fabs((double)a[i] - b[i]);
    ck_assert_msg(d / (double)n > 1e-4, "%s changed nothing (%g)", what, d / (double)n);
    free(x); free(a); free(b);
}

/* off: the front end's last layer zeroed (its offsets and cond rows 0), on: restored */
static void set_front(limpid_model *m, int on)
{
    static float *keep;
    const size_t off = m->layout.fw3, cnt = m->layout.n_params - off;
    if (!on) {
        keep = malloc(cnt * 4);
        memcpy(keep, m->params + off, cnt * 4);
        memset(m->params + off, 0, cnt * 4);
    } else if (keep) {
        memcpy(m->params + off, keep, cnt * 4);
        free(keep);
        keep = NULL;
    }
}

static void set_cond_snr(limpid_model *m, int on)
{
    m->layout.Fs = on ? limpid_config_feature_channels(&m->cfg) / 2 : 0;
}

static void set_input_scale(limpid_model *m, int on)
{
    m->cfg.input_scale = on ? LIMPID_INPUT_SCALE_SQRT_ABAR : LIMPID_INPUT_SCALE_NONE;
}

/* A per-bin front end: the engine's one-frame window equals the batch path's whole-signal
 * patches, and the front end changes the output */
START_TEST(test_matches_batch_front)
{
    limpid_model *m = tiny_model_front(0, 11, LIMPID_HEAD_WIENER_FLOOR, 1);
    assert_changes_output(m, set_front, "the front end");
    matches_batch(m);
}
END_TEST

/* cond_snr: the engine's folded cond weights give what the batch path's transformed rows
 * give, and the transform changes the output (same weights, raw rows: another signal) */
START_TEST(test_matches_batch_cond_snr)
{
    limpid_model *m = tiny_model_front(0, 11, LIMPID_HEAD_WIENER_FLOOR, 2);
    ck_assert_int_eq(m->layout.Fs, limpid_config_feature_channels(&m->cfg) / 2);
    assert_changes_output(m, set_cond_snr, "cond_snr");
    matches_batch(m);
}
END_TEST

/* input_scale SQRT_ABAR: the engine scales its network input as the batch path does, and the
 * scaling changes the output */
START_TEST(test_matches_batch_input_scale)
{
    limpid_model *m = tiny_model_head(0, 11, LIMPID_HEAD_WIENER_FLOOR);
    assert_changes_output(m, set_input_scale, "input scaling");
    matches_batch(m);
}
END_TEST

/* floor_rise: the engine's floor track rises as the batch path's does, and the rate changes
 * the output */
static void set_floor_rise(limpid_model *m, int on)
{
    m->cfg.floor_rise = on ? 16.0f : 0.0f;
}

START_TEST(test_matches_batch_floor_rise)
{
    limpid_model *m = tiny_model_head(0, 11, LIMPID_HEAD_WIENER_FLOOR);
    assert_changes_output(m, set_floor_rise, "floor_rise");
    matches_batch(m);
}
END_TEST

/* floor_slow: the engine carries the second track as the batch path computes it, and its rate
 * changes the output (the same weights: the rows differ) */
static void set_floor_slow(limpid_model *m, int on)
{
    m->cfg.floor_slow = on ? 0.5f : 8.0f;
}

START_TEST(test_matches_batch_floor_slow)
{
    limpid_model *m = tiny_model_front(0, 11, LIMPID_HEAD_WIENER_FLOOR, 3);
    ck_assert_int_eq(m->layout.Cc, 3 * limpid_config_feature_channels(&m->cfg) / 2);
    assert_changes_output(m, set_floor_slow, "floor_slow");
    matches_batch(m);
}
END_TEST

/* harmonicity: the engine computes the rows per frame as the batch path does per block, and
 * they change the output (off: the cond projection's weights on them zeroed) */
static void set_harm(limpid_model *m, int on)
{
    static float keep[64 * LIMPID_HARM_ROWS];
    static int kept; /* on before any off: the weights are as they are */
    const lpi_net_layout *L = &m->layout;
    if (on && !kept)
        return;
    kept = !on;
    const int r0 = L->Cc - LIMPID_HARM_ROWS;
    ck_assert_int_le(L->C, 64);
    for (int o = 0; o < L->C; o++)
        for (int r = 0; r < LIMPID_HARM_ROWS; r++) {
            float *w = m->params + L->cond_w + (size_t)o * L->Cc + r0 + r;
            if (!on) {
                keep[o * LIMPID_HARM_ROWS + r] = *w;
                *w = 0.0f;
            } else {
                *w = keep[o * LIMPID_HARM_ROWS + r];
            }
        }
}

START_TEST(test_matches_batch_harmonicity)
{
    limpid_model *m = tiny_model_front(0, 11, LIMPID_HEAD_WIENER_FLOOR, 4);
    ck_assert_int_eq(m->layout.Cc, limpid_config_feature_channels(&m->cfg) + LIMPID_HARM_ROWS);
    assert_changes_output(m, set_harm, "harmonicity");
    matches_batch(m);
}
END_TEST

/* floor_gate: the engine's head reads the gate's rows as the batch path does, and the gate
 * changes the output (off: its rows' weights and biases at -40 in the bias, the gate shut) */
static void set_gate(limpid_model *m, int on)
{
    static float keep[1024];
    static int kept;
    const lpi_net_layout *L = &m->layout;
    const int F = L->Cx / 2;
    ck_assert_int_le(F, 1024);
    if (on && !kept)
        return;
    kept = !on;
    for (int f = 0; f < F; f++) {
        float *b = m->params + L->final_b + 2 * F + f;
        if (!on) {
            keep[f] = *b;
            *b = -40.0f;
        } else {
            *b = keep[f];
        }
    }
}

/* off: the front end's gate row (the last of front.w3 and front.b3) zeroed, on: restored */
static void set_front_gate(limpid_model *m, int on)
{
    static float keep[257];
    const lpi_net_layout *L = &m->layout;
    const int row = 1 + L->fr, fh = L->fh;
    ck_assert_int_eq(L->fg, 1);
    ck_assert_int_le(fh, 256);
    float *w = m->params + L->fw3 + (size_t)row * fh, *b = m->params + L->fb3 + row;
    if (!on) {
        memcpy(keep, w, (size_t)fh * 4);
        keep[fh] = *b;
        memset(w, 0, (size_t)fh * 4);
        *b = 0.0f;
    } else {
        memcpy(w, keep, (size_t)fh * 4);
        *b = keep[fh];
    }
}

/* a front end with the gated head: its gate offsets reach the head's o3 in the engine as in
 * the batch path (rows Cc + F.. of the conditioning), and they change the output */
START_TEST(test_matches_batch_front_gate)
{
    limpid_model *m = tiny_model_front(0, 12, LIMPID_HEAD_WIENER_FLOOR, 6);
    const lpi_net_layout *L = &m->layout;
    ck_assert_int_eq(L->fg, 1);
    ck_assert_int_eq((int)lpi_front_ncond_rows(L), L->Cc + 2 * L->Fb);
    for (int f = 0; f < L->Cx / 2; f++) /* the gate half open: it matters */
        m->params[L->final_b + L->Cx + f] += 3.0f;
    set_front_gate(m, 0); /* (keeps the row for the next call) */
    set_front_gate(m, 1);
    assert_changes_output(m, set_front_gate, "the front end's gate offsets");
    matches_batch(m);
}
END_TEST

START_TEST(test_matches_batch_floor_gate)
{
    limpid_model *m = tiny_model_front(0, 11, LIMPID_HEAD_WIENER_FLOOR, 5);
    ck_assert_int_eq(m->layout.Co, 3 * limpid_config_feature_channels(&m->cfg) / 2);
    for (int f = 0; f < m->layout.Cx / 2; f++) /* the gate half open: it matters */
        m->params[m->layout.final_b + m->layout.Cx + f] += 3.0f;
    assert_changes_output(m, set_gate, "floor_gate");
    matches_batch(m);
}
END_TEST

/* Output does not depend on the block size or on in-place buffers: bit for bit, at the
 * model's rate and through the resamplers. */
START_TEST(test_block_size_independent)
{
    limpid_model *m = tiny_model(0, 5);
    const int rates[] = {SR, 44100, 48000};
    const size_t blocks[] = {1, 32, 64, 333, 4096};
    const size_t n = 20000;
    float *x = malloc(n * 4), *y0 = malloc(n * 4), *y = malloc(n * 4);
    test_signal(x, n, 9);
    for (int ri = 0; ri < 6; ri++) {
        limpid_stream_opts o;
        limpid_stream_opts_default(&o);
        o.sample_rate = rates[ri % 3];
        o.steps = 2;
        o.seed = 7;
        o.spread = ri >= 3;
        limpid_stream *st = NULL;
        ck_assert_int_eq(limpid_stream_create(&st, m, &o), LIMPID_OK);
        run_stream(st, x, y0, n, 4096, 0);
        for (int bi = 0; bi < 5; bi++)
            for (int ip = 0; ip < 2; ip++) {
                limpid_stream_reset(st);
                run_stream(st, x, y, n, blocks[bi], ip);
                ck_assert_msg(memcmp(y, y0, n * 4) == 0,
                              "rate %d spread %d block %zu in-place %d differs", rates[ri % 3],
                              o.spread, blocks[bi], ip);
            }
        limpid_stream_destroy(st);
    }
    free(x); free(y0); free(y);
    limpid_model_destroy(m);
}
END_TEST

/* Spreading a frame's work over the next hop changes when it is computed, not what: the
 * output is the unspread output delayed by exactly one hop, bit for bit (at the model rate),
 * for any step count and with settings changed on the way. */
START_TEST(test_spread_is_delayed)
{
    limpid_model *m = tiny_model(0, 8);
    const size_t n = 15000;
    const int hop = m->cfg.hop;
    float *x = malloc(n * 4), *a = malloc(n * 4), *b = malloc(n * 4);
    test_signal(x, n, 4);
    limpid_stream *sa = NULL, *sb = NULL;
    limpid_stream_opts o;
    limpid_stream_opts_default(&o);
    o.sample_rate = SR;
    o.steps = 3;
    ck_assert_int_eq(limpid_stream_create(&sa, m, &o), LIMPID_OK);
    o.spread = 1;
    ck_assert_int_eq(limpid_stream_create(&sb, m, &o), LIMPID_OK);
    ck_assert_int_eq(limpid_stream_latency(sb), limpid_stream_latency(sa) + hop);
    /* the same settings changes at the same sample positions (hop boundaries shifted by
     * nothing: both streams see them before the same frame starts) */
    for (size_t i = 0; i < n; i += 500) {
        size_t k = n - i < 500 ? n - i : 500;
        if (i == 5000) {
            limpid_stream_set_steps(sa, 1);
            limpid_stream_set_steps(sb, 1);
            limpid_stream_set_strength(sa, 0.5f);
            limpid_stream_set_strength(sb, 0.5f);
        }
        limpid_stream_process(sa, x + i, a + i, k);
        run_stream(sb, x + i, b + i, k, 7, 0);
    }
    for (size_t i = 0; i < (size_t)hop; i++)
        ck_assert(b[i] == 0.0f);
    for (size_t i = (size_t)hop; i < n; i++)
        ck_assert_msg(b[i] == a[i - hop], "sample %zu: %g vs %g", i, b[i], a[i - hop]);
    limpid_stream_destroy(sa);
    limpid_stream_destroy(sb);
    free(x); free(a); free(b);
    limpid_model_destroy(m);
}
END_TEST

/* The reported latency is the real delay. With the untrained network (final layer 0) the
 * Wiener head is the identity on every bin well above its floor and the DDIM step from
 * strength 1 returns that estimate: out[n] = in[n - latency] up to the resamplers' passband
 * error. The delay is measured by cross-correlation over lags 0..4096 (a broadband signal has
 * one sharp peak), for the model rate and two resampled rates. */
START_TEST(test_latency_measured)
{
    limpid_config cfg;
    ck_assert_int_eq(limpid_config_preset(&cfg, "tiny", LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT,
                                          48000), LIMPID_OK);
    cfg.lookahead = 0;
    cfg.head = LIMPID_HEAD_WIENER; /* near identity untrained (see above) */
    cfg.cond = LIMPID_COND_LOGPOW;
    limpid_model *m = NULL;
    ck_assert_int_eq(limpid_model_create(&m, &cfg, 3), LIMPID_OK);
    const int rates[] = {48000, 44100, 96000};
    for (int ri = 0; ri < 6; ri++) {
        const size_t n = (size_t)rates[ri % 3] / 2;
        float *x = malloc(n * 4), *y = malloc(n * 4);
        lpi_rng r = lpi_rng_make(1, 2, 3);
        /* noise low-passed (moving average) so it stays inside every passband */
        float prev = 0.0f;
        for (size_t i = 0; i < n; i++) {
            float v = 0.3f * lpi_rng_normal(&r);
            x[i] = 0.5f * (v + prev);
            prev = v;
        }
        limpid_stream_opts o;
        limpid_stream_opts_default(&o);
        o.sample_rate = rates[ri % 3];
        o.steps = 1;
        o.spread = ri >= 3;
        limpid_stream *st = NULL;
        ck_assert_int_eq(limpid_stream_create(&st, m, &o), LIMPID_OK);
        const int lat = limpid_stream_latency(st);
        ck_assert_int_le(lat, (int)(0.040 * rates[ri % 3])); /* the 40 ms budget */
        limpid_stream_process(st, x, y, n);
        int best = -1;
        double bv = -1.0;
        for (int lag = 0; lag <= 4096; lag++) {
            double s = 0.0;
            for (size_t i = (size_t)lag; i < n; i++)
                s += (double)y[i] * x[i - lag];
            if (s > bv) {
                bv = s;
                best = lag;
            }
        }
        ck_assert_msg(best == lat, "rate %d spread %d: measured delay %d, reported %d",
                      rates[ri % 3], o.spread, best, lat);
        limpid_stream_destroy(st);
        free(x);
        free(y);
    }
    limpid_model_destroy(m);
}
END_TEST

/* NaN/Inf input never gives non-finite output; settings change at run time; bad options and
 * non-causal models are refused. */
START_TEST(test_robust)
{
    limpid_model *m = tiny_model(0, 2);
    limpid_stream_opts o;
    limpid_stream_opts_default(&o);
    o.sample_rate = 44100;
    limpid_stream *st = NULL;
    ck_assert_int_eq(limpid_stream_create(&st, m, &o), LIMPID_OK);
    float buf[1000];
    for (int it = 0; it < 40; it++) {
        for (int i = 0; i < 1000; i++)
            buf[i] = (i % 97 == 0) ? NAN : (i % 89 == 0) ? INFINITY : (i % 83 == 0) ? 1e30f
                                                                                 : 0.1f * sinf((float)i);
        limpid_stream_set_steps(st, 1 + it % 5);        /* 5 is clamped to max_steps 4 */
        limpid_stream_set_strength(st, it % 7 == 0 ? -1.0f : 0.1f * (float)(it % 11));
        limpid_stream_process(st, buf, buf, 1000);
        for (int i = 0; i < 1000; i++)
            ck_assert_msg(isfinite(buf[i]), "iteration %d sample %d not finite", it, i);
    }
    limpid_stream_destroy(st);
    o.max_steps = 0;
    ck_assert_int_eq(limpid_stream_create(&st, m, &o), LIMPID_ERR_INVALID);
    limpid_stream_opts_default(&o);
    o.sample_rate = 1000;
    ck_assert_int_eq(limpid_stream_create(&st, m, &o), LIMPID_ERR_INVALID);
    limpid_model_destroy(m);
    m = tiny_model(2, 2);
    limpid_stream_opts_default(&o);
    ck_assert_int_eq(limpid_stream_create(&st, m, &o), LIMPID_ERR_UNSUPPORTED);
    ck_assert_ptr_null(st);
    limpid_model_destroy(m);
    limpid_stream_destroy(NULL);
}
END_TEST

/* Many streams in many threads share one model (read-only): each thread's output equals the
 * same stream run alone, bit for bit. Under ThreadSanitizer (tests/tsan.sh) this is the
 * "many plugin instances sharing one model" path. */
typedef struct {
    const limpid_model *m;
    const float *x;
    float *y;
    size_t n;
    int rate;
} share_job;

static void *share_worker(void *arg)
{
    share_job *j = arg;
    limpid_stream_opts o;
    limpid_stream_opts_default(&o);
    o.sample_rate = j->rate;
    o.steps = 2;
    o.spread = 1;
    limpid_stream *st = NULL;
    if (limpid_stream_create(&st, j->m, &o) != LIMPID_OK)
        return NULL;
    for (size_t i = 0; i < j->n; i += 64)
        limpid_stream_process(st, j->x + i, j->y + i, j->n - i < 64 ? j->n - i : 64);
    limpid_stream_destroy(st);
    return j;
}

START_TEST(test_shared_model_threads)
{
    enum { NT = 4 };
    limpid_model *m = tiny_model(0, 21);
    const size_t n = 6000;
    float *x = malloc(n * 4);
    test_signal(x, n, 5);
    share_job jobs[NT], ref;
    pthread_t th[NT];
    for (int i = 0; i < NT; i++) {
        jobs[i] = (share_job){m, x, malloc(n * 4), n, i % 2 ? 44100 : SR};
        ck_assert_int_eq(pthread_create(&th[i], NULL, share_worker, &jobs[i]), 0);
    }
    for (int i = 0; i < NT; i++) {
        void *r = NULL;
        ck_assert_int_eq(pthread_join(th[i], &r), 0);
        ck_assert_ptr_eq(r, &jobs[i]);
    }
    for (int i = 0; i < 2; i++) {
        ref = (share_job){m, x, malloc(n * 4), n, i % 2 ? 44100 : SR};
        ck_assert_ptr_nonnull(share_worker(&ref));
        for (int k = i; k < NT; k += 2)
            ck_assert_msg(memcmp(ref.y, jobs[k].y, n * 4) == 0, "thread %d differs", k);
        free(ref.y);
    }
    for (int i = 0; i < NT; i++)
        free(jobs[i].y);
    free(x);
    limpid_model_destroy(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stream");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_matches_batch);
    tcase_add_test(tc, test_matches_batch_floor);
    tcase_add_test(tc, test_matches_batch_front);
    tcase_add_test(tc, test_matches_batch_input_scale);
    tcase_add_test(tc, test_matches_batch_cond_snr);
    tcase_add_test(tc, test_matches_batch_floor_rise);
    tcase_add_test(tc, test_matches_batch_floor_slow);
    tcase_add_test(tc, test_matches_batch_harmonicity);
    tcase_add_test(tc, test_matches_batch_floor_gate);
    tcase_add_test(tc, test_matches_batch_front_gate);
    tcase_add_test(tc, test_block_size_independent);
    tcase_add_test(tc, test_spread_is_delayed);
    tcase_add_test(tc, test_latency_measured);
    tcase_add_test(tc, test_robust);
    tcase_add_test(tc, test_shared_model_threads);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
