/* test_model_io.c - model files: round trips, refusal of damaged and foreign files, container
 * format details, atomic file writes. */
#include "internal.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* helpers */

/* The smallest sensible configuration: files of a few kilobytes, so sweeps over every
 * position stay fast (also under valgrind). */
static limpid_config micro_cfg(limpid_task task, limpid_domain domain)
{
    limpid_config c;
    ck_assert_int_eq(limpid_config_preset(&c, "tiny", task, domain, 16000), LIMPID_OK);
    c.channels = 4;
    c.layers = 2;
    c.dilation_cycle = 2;
    c.embed_dim = 8;
    c.embed_hidden = 16;
    c.n_fft = 16;
    c.hop = 4;
    c.steps_T = 10;
    ck_assert_int_eq(limpid_config_check(&c, NULL, 0), LIMPID_OK);
    return c;
}

static limpid_model *make_model(const limpid_config *c, uint64_t seed)
{
    limpid_model *m = NULL;
    ck_assert_int_eq(limpid_model_create(&m, c, seed), LIMPID_OK);
    ck_assert_ptr_nonnull(m);
    /* final.* start at zero: give them values so every byte of the file carries information */
    for (size_t i = 0; i < m->layout.n_params; i++)
        if (m->params[i] == 0.0f)
            m->params[i] = (float)((i % 17) - 8) * 0.01f;
    return m;
}

static void save_mem(const limpid_model *m, uint8_t **buf, size_t *len)
{
    void *b = NULL;
    ck_assert_int_eq(limpid_model_save_memory(m, &b, len), LIMPID_OK);
    ck_assert_ptr_nonnull(b);
    *buf = b;
}

static uint64_t fnv(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* After patching bytes: make the checksum valid again, so deeper checks are reached. */
static void fix_checksum(uint8_t *b, size_t len)
{
    uint64_t h = fnv(b, len - 8);
    for (int i = 0; i < 8; i++)
        b[len - 8 + i] = (uint8_t)(h >> (8 * i));
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void assert_same_config(const limpid_config *a, const limpid_config *b)
{
    /* limpid_config has only 4-byte members: no padding, memcmp compares exactly the fields */
    ck_assert_int_eq(memcmp(a, b, sizeof *a), 0);
    ck_assert_int_eq(a->channels, b->channels);
    ck_assert_int_eq(a->n_classes, b->n_classes);
    ck_assert(a->compress_exp == b->compress_exp);
}

static void assert_same_double(double a, double b)
{
    if (isnan(a))
        ck_assert(isnan(b));
    else
        ck_assert(memcmp(&a, &b, sizeof a) == 0);
}

static void assert_same_model(const limpid_model *a, const limpid_model *b)
{
    assert_same_config(limpid_model_config(a), limpid_model_config(b));
    ck_assert_uint_eq(a->layout.n_params, b->layout.n_params);
    ck_assert_int_eq(memcmp(a->params, b->params, a->layout.n_params * sizeof(float)), 0);
    const limpid_provenance *pa = limpid_model_provenance(a), *pb = limpid_model_provenance(b);
    ck_assert_str_eq(pa->created, pb->created);
    ck_assert_str_eq(pa->tool_version, pb->tool_version);
    ck_assert_str_eq(pa->data, pb->data);
    ck_assert_str_eq(pa->command, pb->command);
    ck_assert(pa->seed == pb->seed);
    ck_assert(pa->train_steps == pb->train_steps);
    assert_same_double(pa->train_seconds, pb->train_seconds);
    assert_same_double(pa->final_loss, pb->final_loss);
    assert_same_double(pa->val_loss, pb->val_loss);
}

static void fill_prov(limpid_model *m)
{
    limpid_provenance *p = &m->prov;
    snprintf(p->created, sizeof p->created, "2024-05-01T12:34:56Z");
    snprintf(p->data, sizeof p->data, "VCTK + DEMAND, 48 kHz, \"quoted\" and ünïcode");
    memset(p->command, 'x', sizeof p->command - 1); /* longest possible string: 511 bytes */
    p->command[sizeof p->command - 1] = '\0';
    p->seed = 0xFEDCBA9876543210ull; /* above 2^63: travels as the bits of an i64 */
    p->train_steps = 123456789;
    p->train_seconds = 3600.25;
    p->final_loss = 0.0123;
    /* val_loss stays NaN: unknown */
}

static void roundtrip(const limpid_config *cfg)
{
    limpid_model *m = make_model(cfg, 42);
    fill_prov(m);
    uint8_t *buf;
    size_t len;
    save_mem(m, &buf, &len);
    limpid_model *r = NULL;
    char err[512] = "";
    limpid_status st = limpid_model_load_memory(&r, buf, len, err, sizeof err);
    ck_assert_msg(st == LIMPID_OK, "load: %s", err);
    assert_same_model(m, r);
    ck_assert(isnan(limpid_model_provenance(r)->val_loss));
    /* saving the loaded model gives the same bytes: the format is deterministic */
    uint8_t *buf2;
    size_t len2;
    save_mem(r, &buf2, &len2);
    ck_assert_uint_eq(len, len2);
    ck_assert_int_eq(memcmp(buf, buf2, len), 0);
    limpid_free(buf);
    limpid_free(buf2);
    limpid_model_destroy(m);
    limpid_model_destroy(r);
}

static char g_dir[4096];

static const char *test_dir(void)
{
    if (g_dir[0])
        return g_dir;
    const char *base = getenv("LIMPID_TEST_DIR");
    if (!base || !*base)
        base = "/tmp";
    mkdir(base, 0755); /* may exist */
    snprintf(g_dir, sizeof g_dir, "%s/model_io-XXXXXX", base);
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
    return g_dir;
}

/* Remove the (empty) test folder; each test runs in its own process (Check's fork mode) or
 * all in one (CK_FORK=no), so each test cleans up after itself. */
static void test_dir_done(void)
{
    if (g_dir[0])
        ck_assert_int_eq(rmdir(g_dir), 0);
    g_dir[0] = '\0';
}

static int count_dir_entries(const char *dir, const char *only)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (only)
            ck_assert_msg(strcmp(e->d_name, only) == 0, "unexpected file %s left in %s",
                          e->d_name, dir);
        n++;
    }
    closedir(d);
    return n;
}

/* ------------------------------------------------------------------------ */
/* round trips */

START_TEST(roundtrip_denoise_stft_tiny)
{
    limpid_config c;
    ck_assert_int_eq(limpid_config_preset(&c, "tiny", LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT,
                                          48000), LIMPID_OK);
    roundtrip(&c);
}
END_TEST

START_TEST(roundtrip_texture_wave_tiny)
{
    limpid_config c;
    ck_assert_int_eq(limpid_config_preset(&c, "tiny", LIMPID_TASK_TEXTURE, LIMPID_DOMAIN_WAVE,
                                          16000), LIMPID_OK);
    c.n_classes = 3;
    roundtrip(&c);
}
END_TEST

START_TEST(roundtrip_other_settings)
{
    /* every enumeration value and odd numbers travel by name */
    limpid_config c = micro_cfg(LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    c.head = LIMPID_HEAD_DIRECT;
    c.target = LIMPID_TARGET_EPS;
    c.schedule = LIMPID_SCHEDULE_LINEAR;
    c.beta_start = 1.234567e-4f;
    c.beta_end = 0.0321f;
    c.window = LIMPID_WINDOW_HANN;
    c.compress_exp = 0.3f;
    c.compress_scale = 1.0f / 3.0f;
    c.lookahead = 1;
    roundtrip(&c);
    c.lookahead = 0;
    c.target = LIMPID_TARGET_X0;
    c.head = LIMPID_HEAD_GAIN;
    roundtrip(&c);
    c.head = LIMPID_HEAD_WIENER_FLOOR;
    c.cond = LIMPID_COND_LOGPOW_FLOOR;
    c.input_scale = LIMPID_INPUT_SCALE_SQRT_ABAR;
    roundtrip(&c);
    c.front_hidden = 3; /* a per-bin front end: its keys and front.* tensors */
    c.front_bins = 1;
    c.front_frames = 2;
    c.front_cond = 1;
    roundtrip(&c);
    c.front_cond = 0;
    roundtrip(&c);
    c.cond_snr = 1; /* the network reads the level above the floor */
    roundtrip(&c);
    c.floor_rise = 0.5f; /* the floor track rises half as fast */
    roundtrip(&c);
    c.front_hidden = c.front_bins = c.front_frames = 0; /* no front end: a slow floor track */
    c.floor_slow = 0.25f;
    roundtrip(&c);
    c.floor_slow = 0.0f; /* the harmonicity rows (n_fft above sample_rate / 80: 256 at 16 kHz) */
    c.n_fft = 256;
    c.hop = 64;
    c.harmonicity = 1;
    roundtrip(&c);
    c.floor_gate = 1; /* the gated floor head: final.* with three rows per bin */
    roundtrip(&c);
    c.harmonicity = 0;
    c.front_hidden = 3; /* with a front end: front.w3 with a gate row */
    c.front_bins = 1;
    c.front_frames = 2;
    roundtrip(&c);
    c = micro_cfg(LIMPID_TASK_TEXTURE, LIMPID_DOMAIN_WAVE);
    c.n_classes = 7;
    c.target = LIMPID_TARGET_V;
    roundtrip(&c);
}
END_TEST

START_TEST(create_and_info)
{
    limpid_config c;
    ck_assert_int_eq(limpid_config_preset(&c, "tiny", LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT,
                                          48000), LIMPID_OK);
    c.lookahead = 3;
    limpid_model *m = NULL;
    ck_assert_int_eq(limpid_model_create(&m, &c, 7), LIMPID_OK);
    const limpid_provenance *p = limpid_model_provenance(m);
    ck_assert_str_eq(p->tool_version, limpid_version());
    ck_assert(p->seed == 7);
    ck_assert(isnan(p->final_loss) && isnan(p->val_loss));
    ck_assert_str_eq(p->created, "");
    limpid_model_info info;
    limpid_model_get_info(m, &info);
    size_t sum = 0;
    for (int k = 0; k < m->layout.n_tensors; k++)
        sum += m->layout.tensors[k].count;
    ck_assert_uint_eq(info.params, sum);
    ck_assert_int_eq(info.feature_channels, 2 * (c.n_fft / 2 + 1));
    /* log-power conditioning (the STFT denoise default): one channel per bin */
    ck_assert_int_eq(c.cond, LIMPID_COND_LOGPOW);
    ck_assert_int_eq(info.cond_channels, info.feature_channels / 2);
    ck_assert_int_eq(info.out_channels, info.feature_channels);
    ck_assert(info.frames_per_second == 48000.0 / c.hop);
    ck_assert(info.macs_per_second == info.macs_per_frame * info.frames_per_second);
    ck_assert_int_eq(info.lookahead_frames, m->layout.lookahead);
    ck_assert_int_le(info.lookahead_frames, 3);
    ck_assert_int_eq(info.receptive_field, m->layout.receptive_field);
    ck_assert_int_eq(info.latency_samples, c.n_fft + info.lookahead_frames * c.hop);
    /* the same seed gives the same weights */
    limpid_model *m2 = NULL;
    ck_assert_int_eq(limpid_model_create(&m2, &c, 7), LIMPID_OK);
    ck_assert_int_eq(memcmp(m->params, m2->params, info.params * sizeof(float)), 0);
    limpid_model_destroy(m2);
    limpid_model_destroy(m);

    c = micro_cfg(LIMPID_TASK_TEXTURE, LIMPID_DOMAIN_WAVE);
    c.lookahead = LIMPID_LOOKAHEAD_NONCAUSAL;
    ck_assert_int_eq(limpid_model_create(&m, &c, 1), LIMPID_OK);
    limpid_model_get_info(m, &info);
    ck_assert_int_eq(info.cond_channels, 0);
    ck_assert_int_eq(info.latency_samples, info.lookahead_frames);
    ck_assert(info.frames_per_second == 16000.0);
    limpid_model_destroy(m);

    c.channels = 0;
    m = (limpid_model *)&c; /* must be reset to NULL on failure */
    ck_assert_int_eq(limpid_model_create(&m, &c, 1), LIMPID_ERR_INVALID);
    ck_assert_ptr_null(m);
    limpid_model_destroy(NULL);
    ck_assert_ptr_null(limpid_model_config(NULL));
}
END_TEST

/* ------------------------------------------------------------------------ */
/* damaged files */

static limpid_status load_expect_fail(const uint8_t *b, size_t n, char *err, size_t errlen)
{
    limpid_model *r = (limpid_model *)1;
    err[0] = '\0';
    limpid_status st = limpid_model_load_memory(&r, b, n, err, errlen);
    ck_assert_msg(st != LIMPID_OK, "a damaged file of %zu bytes was accepted", n);
    ck_assert_ptr_null(r);
    ck_assert_msg(err[0] != '\0', "no message for status %d", (int)st);
    return st;
}

static void corruption_sweep(const limpid_config *c, size_t step)
{
    limpid_model *m = make_model(c, 3);
    uint8_t *buf;
    size_t len;
    save_mem(m, &buf, &len);
    limpid_model_destroy(m);
    uint8_t *b = malloc(len);
    char err[512];
    static const uint8_t flips[] = {0x01, 0x80, 0xFF};
    size_t tried = 0;
    for (size_t pos = 0; pos < len; pos++) {
        /* every header and checksum byte, then every step-th byte */
        if (!(pos < 40 || pos >= len - 8 || pos % step == 0))
            continue;
        for (size_t f = 0; f < sizeof flips; f++) {
            memcpy(b, buf, len);
            b[pos] ^= flips[f];
            limpid_status st = load_expect_fail(b, len, err, sizeof err);
            tried++;
            /* FNV-1a sees any one changed byte, so past the header fields read before the
             * checksum every change is CORRUPT */
            if (pos < 8)
                ck_assert_int_eq(st, LIMPID_ERR_FORMAT);
            else if (pos < 12)
                ck_assert_int_eq(st, LIMPID_ERR_VERSION);
            else if (pos >= 24 && pos < 32)
                ck_assert_msg(st == LIMPID_ERR_TRUNCATED || st == LIMPID_ERR_CORRUPT,
                              "length byte %zu: %d %s", pos, (int)st, err);
            else
                ck_assert_msg(st == LIMPID_ERR_CORRUPT, "byte %zu: status %d (%s)", pos,
                              (int)st, err);
        }
    }
    ck_assert_uint_gt(tried, 100);
    free(b);
    limpid_free(buf);
}

START_TEST(every_corruption_refused)
{
    limpid_config c = micro_cfg(LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    corruption_sweep(&c, 7);
    c = micro_cfg(LIMPID_TASK_TEXTURE, LIMPID_DOMAIN_WAVE);
    c.n_classes = 3;
    corruption_sweep(&c, 7);
    /* a sparser sample of a real preset */
    ck_assert_int_eq(limpid_config_preset(&c, "tiny", LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT,
                                          48000), LIMPID_OK);
    corruption_sweep(&c, 997);
}
END_TEST

START_TEST(every_truncation_refused)
{
    limpid_config c = micro_cfg(LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    limpid_model *m = make_model(&c, 3);
    uint8_t *buf;
    size_t len;
    save_mem(m, &buf, &len);
    limpid_model_destroy(m);
    char err[512];
    for (size_t n = 0; n < len; n++) {
        if (!(n <= 64 || n % 13 == 0 || n == len - 1))
            continue;
        /* a copy of exactly n bytes so ASan/valgrind see any read past the end */
        uint8_t *b = malloc(n ? n : 1);
        memcpy(b, buf, n);
        limpid_status st = load_expect_fail(b, n, err, sizeof err);
        ck_assert_msg(st == LIMPID_ERR_TRUNCATED || st == LIMPID_ERR_FORMAT,
                      "%zu bytes: status %d (%s)", n, (int)st, err);
        if (n >= 40) {
            char want[128];
            snprintf(want, sizeof want, "file is %zu bytes, header says %zu", n, len);
            ck_assert_str_eq(err, want);
        }
        free(b);
    }
    /* bytes appended */
    uint8_t *b = malloc(len + 5);
    memcpy(b, buf, len);
    memset(b + len, 0, 5);
    ck_assert_int_eq(load_expect_fail(b, len + 5, err, sizeof err), LIMPID_ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr(err, "header says"));
    free(b);
    limpid_free(buf);
}
END_TEST

START_TEST(random_buffers_refused)
{
    lpi_rng r = lpi_rng_make(99, 1, 2);
    char err[512];
    uint8_t *b = malloc(4096);
    for (int it = 0; it < 3000; it++) {
        size_t n = lpi_rng_u64(&r) % 4096;
        for (size_t i = 0; i < n; i++)
            b[i] = (uint8_t)lpi_rng_u64(&r);
        int mode = it % 3;
        if (mode >= 1 && n >= 40) {
            /* a plausible header so the parser behind it is reached */
            memcpy(b, "LIMPIDMF", 8);
            put32(b + 8, 1);
            put32(b + 12, 1 + (uint32_t)(lpi_rng_u64(&r) % 2));
            put32(b + 16, (uint32_t)(lpi_rng_u64(&r) % 40));
            put32(b + 20, (uint32_t)(lpi_rng_u64(&r) % 40));
            for (int i = 0; i < 8; i++)
                b[24 + i] = (uint8_t)((uint64_t)n >> (8 * i));
            if (mode == 2)
                fix_checksum(b, n);
        }
        load_expect_fail(b, n, err, sizeof err);
    }
    free(b);
}
END_TEST

START_TEST(foreign_files_refused)
{
    char err[512];
    /* a WAV header */
    uint8_t wav[44] = {'R', 'I', 'F', 'F', 36, 0, 0, 0, 'W', 'A', 'V', 'E', 'f', 'm', 't', ' ',
                       16, 0, 0, 0, 1, 0, 1, 0, 0x80, 0xBB, 0, 0, 0, 0x77, 1, 0, 2, 0, 16, 0,
                       'd', 'a', 't', 'a', 0, 0, 0, 0};
    ck_assert_int_eq(load_expect_fail(wav, sizeof wav, err, sizeof err), LIMPID_ERR_FORMAT);
    ck_assert_str_eq(err, "not a limpid model file (bad magic)");
    const char *text = "channels = 64\nlayers = 30\n# a config file, not a model\n";
    ck_assert_int_eq(load_expect_fail((const uint8_t *)text, strlen(text), err, sizeof err),
                     LIMPID_ERR_FORMAT);
    ck_assert_int_eq(load_expect_fail((const uint8_t *)"L", 1, err, sizeof err),
                     LIMPID_ERR_TRUNCATED); /* a prefix of the magic */
    ck_assert_int_eq(load_expect_fail((const uint8_t *)"X", 1, err, sizeof err),
                     LIMPID_ERR_FORMAT);
    ck_assert_int_eq(load_expect_fail(NULL, 0, err, sizeof err), LIMPID_ERR_TRUNCATED);
}
END_TEST

START_TEST(wrong_version_refused)
{
    limpid_config c = micro_cfg(LIMPID_TASK_DENOISE, LIMPID_DOMAIN_WAVE);
    limpid_model *m = make_model(&c, 3);
    uint8_t *buf;
    size_t len;
    save_mem(m, &buf, &len);
    limpid_model_destroy(m);
    put32(buf + 8, 2);
    fix_checksum(buf, len);
    char err[512];
    ck_assert_int_eq(load_expect_fail(buf, len, err, sizeof err), LIMPID_ERR_VERSION);
    ck_assert_msg(strstr(err, "version 2") && strstr(err, "version 1"), "%s", err);
    limpid_free(buf);
}
END_TEST

/* A model container with one change, written through lpi_container_write (valid checksum). */
typedef struct edit {
    limpid_model *m;
    lpi_kv kv[64];
    lpi_rec rec[64];
    lpi_container c;
} edit;

static void edit_begin(edit *e, limpid_task task, limpid_domain domain)
{
    limpid_config c = micro_cfg(task, domain);
    e->m = make_model(&c, 5);
    ck_assert_int_eq(lpi_model_to_container(e->m, &e->c, e->kv, 64, e->rec, 64), LIMPID_OK);
    ck_assert_int_lt(e->c.n_kv, 64 - 4);
    ck_assert_int_lt(e->c.n_rec, 64 - 4);
}

static lpi_kv *edit_kv(edit *e, const char *key)
{
    for (int i = 0; i < e->c.n_kv; i++)
        if (strcmp(e->kv[i].key, key) == 0)
            return &e->kv[i];
    ck_abort_msg("no key %s", key);
    return NULL;
}

static int edit_rec(edit *e, const char *name)
{
    for (int i = 0; i < e->c.n_rec; i++)
        if (strcmp(e->rec[i].name, name) == 0)
            return i;
    ck_abort_msg("no tensor %s", name);
    return -1;
}

/* write, load, expect status st and message msg (exact when exact != 0, else a substring) */
static void edit_expect(edit *e, limpid_status st, const char *msg, int exact)
{
    void *buf;
    size_t len;
    ck_assert_int_eq(lpi_container_write(&e->c, &buf, &len), LIMPID_OK);
    char err[512];
    limpid_status got = load_expect_fail(buf, len, err, sizeof err);
    ck_assert_msg(got == st, "status %d, expected %d: %s", (int)got, (int)st, err);
    if (exact)
        ck_assert_str_eq(err, msg);
    else
        ck_assert_msg(strstr(err, msg) != NULL, "message \"%s\" lacks \"%s\"", err, msg);
    limpid_free(buf);
    limpid_model_destroy(e->m);
}

START_TEST(wrong_shape_refused)
{
    edit e;
    edit_begin(&e, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    int i = edit_rec(&e, "layer.1.dil.w");
    ck_assert_int_eq(e.rec[i].dims[0], 8);
    ck_assert_int_eq(e.rec[i].dims[1], 12);
    e.rec[i].dims[1] = 4; /* [2C][C] instead of [2C][3C] */
    e.rec[i].count = 8 * 4;
    edit_expect(&e, LIMPID_ERR_CORRUPT,
                "tensor layer.1.dil.w has shape [8 x 4], the configuration needs [8 x 12]", 1);

    edit_begin(&e, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    i = edit_rec(&e, "in.b");
    e.rec[i].ndim = 2;
    e.rec[i].dims[1] = 1;
    edit_expect(&e, LIMPID_ERR_CORRUPT, "tensor in.b has shape [4 x 1], the configuration "
                "needs [4]", 1);

    /* a configuration that does not match the tensors: more channels */
    edit_begin(&e, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    edit_kv(&e, "arch.channels")->i = 5;
    edit_expect(&e, LIMPID_ERR_CORRUPT, "tensor in.w has shape [4 x 18], the configuration "
                "needs [5 x 18]", 1);
}
END_TEST

START_TEST(missing_or_extra_tensor_refused)
{
    edit e;
    edit_begin(&e, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    int i = edit_rec(&e, "layer.0.cnd.w");
    e.rec[i] = e.rec[--e.c.n_rec];
    edit_expect(&e, LIMPID_ERR_CORRUPT, "tensor layer.0.cnd.w [8 x 4] is missing", 1);

    edit_begin(&e, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    lpi_rec *r = &e.rec[e.c.n_rec++];
    *r = e.rec[0];
    snprintf(r->name, sizeof r->name, "layer.2.emb.w");
    edit_expect(&e, LIMPID_ERR_CORRUPT, "unexpected tensor layer.2.emb.w", 0);

    /* a texture file's class table in a denoising model */
    edit_begin(&e, LIMPID_TASK_TEXTURE, LIMPID_DOMAIN_WAVE);
    edit_kv(&e, "task")->s[0] = '\0';
    snprintf(edit_kv(&e, "task")->s, 512, "denoise");
    edit_kv(&e, "arch.n_classes")->i = 0;
    edit_expect(&e, LIMPID_ERR_CORRUPT, "tensor cond.w [4 x 1] is missing", 1);
}
END_TEST

START_TEST(bad_metadata_refused)
{
    edit e;
    /* missing key */
    edit_begin(&e, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    *edit_kv(&e, "arch.channels") = e.kv[--e.c.n_kv];
    edit_expect(&e, LIMPID_ERR_CORRUPT, "missing configuration key \"arch.channels\"", 1);
    /* wrong type */
    edit_begin(&e, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    lpi_kv *kv = edit_kv(&e, "stft.hop");
    kv->type = LPI_KV_F64;
    kv->f = 4.0;
    edit_expect(&e, LIMPID_ERR_CORRUPT,
                "configuration key \"stft.hop\" is a number; expected an integer", 1);
    /* unknown name */
    edit_begin(&e, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    snprintf(edit_kv(&e, "diffusion.schedule")->s, 512, "sigmoid");
    edit_expect(&e, LIMPID_ERR_CORRUPT, "configuration key \"diffusion.schedule\" is "
                "\"sigmoid\"; expected one of: linear, cosine", 1);
    /* out of range: the message names the key */
    edit_begin(&e, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    edit_kv(&e, "arch.layers")->i = 0;
    edit_expect(&e, LIMPID_ERR_CORRUPT, "configuration key \"arch.layers\": layers 0 is "
                "outside 1..128", 1);
    edit_begin(&e, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    edit_kv(&e, "sample_rate")->i = 100;
    edit_expect(&e, LIMPID_ERR_CORRUPT, "configuration key \"sample_rate\"", 0);
    edit_begin(&e, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    edit_kv(&e, "stft.compress_exp")->f = 1.5;
    edit_expect(&e, LIMPID_ERR_CORRUPT, "configuration key \"stft.compress_exp\"", 0);
    edit_begin(&e, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    edit_kv(&e, "stft.compress_exp")->f = NAN;
    edit_expect(&e, LIMPID_ERR_CORRUPT, "configuration key \"stft.compress_exp\"", 0);
    edit_begin(&e, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    edit_kv(&e, "arch.embed_dim")->i = 1ll << 40;
    edit_expect(&e, LIMPID_ERR_CORRUPT, "configuration key \"arch.embed_dim\" = 1099511627776 "
                "is out of range", 1);
    /* front-end keys: absent means none (files from before them); a front end on a model
     * whose head cannot take it is named */
    edit_begin(&e, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    for (int i = 0; i < e.c.n_kv;)
        if (strncmp(e.kv[i].key, "arch.front_", 11) == 0)
            e.kv[i] = e.kv[--e.c.n_kv];
        else
            i++;
    {
        void *b;
        size_t n;
        ck_assert_int_eq(lpi_container_write(&e.c, &b, &n), LIMPID_OK);
        limpid_model *r = NULL;
        char err[512];
        ck_assert_int_eq(limpid_model_load_memory(&r, b, n, err, sizeof err), LIMPID_OK);
        ck_assert_int_eq(r->cfg.front_hidden, 0);
        ck_assert_int_eq(r->layout.fh, 0);
        limpid_model_destroy(r);
        limpid_free(b);
        limpid_model_destroy(e.m);
    }
    edit_begin(&e, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    edit_kv(&e, "arch.cond_snr")->i = 1;
    edit_expect(&e, LIMPID_ERR_CORRUPT, "cond_snr needs a denoiser with logpow_floor "
                "conditioning", 0);
    edit_begin(&e, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    edit_kv(&e, "arch.harmonicity")->i = 2;
    edit_expect(&e, LIMPID_ERR_CORRUPT, "harmonicity 2 is not 0 or 1", 0);
    edit_begin(&e, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    edit_kv(&e, "arch.harmonicity")->i = 1;
    edit_expect(&e, LIMPID_ERR_CORRUPT, "harmonicity needs a denoiser with logpow_floor "
                "conditioning", 0);
    edit_begin(&e, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    edit_kv(&e, "arch.floor_gate")->i = 1;
    edit_expect(&e, LIMPID_ERR_CORRUPT, "floor_gate needs a denoiser with the wiener_floor head",
                0);
    edit_begin(&e, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    edit_kv(&e, "arch.floor_slow")->f = 20.0;
    edit_expect(&e, LIMPID_ERR_CORRUPT, "floor_slow 20 is not 0 (none) or 0.01..16 doublings "
                "per second", 0);
    edit_begin(&e, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    edit_kv(&e, "arch.floor_rise")->f = 0.01;
    edit_expect(&e, LIMPID_ERR_CORRUPT, "floor_rise 0.01 is not 0 (the default) or 0.05..16 "
                "doublings per second", 0);
    edit_begin(&e, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    edit_kv(&e, "arch.front_frames")->i = 3;
    edit_expect(&e, LIMPID_ERR_CORRUPT, "front_bins, front_frames and front_cond need a front "
                "end (front_hidden > 0)", 0);
    edit_begin(&e, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    edit_kv(&e, "arch.front_hidden")->i = 4;
    edit_kv(&e, "arch.front_frames")->i = 2;
    edit_expect(&e, LIMPID_ERR_CORRUPT, "a front end needs a denoiser with the wiener_floor "
                "head", 0);
    /* the gain head with an eps target: the target is named */
    edit_begin(&e, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    snprintf(edit_kv(&e, "diffusion.target")->s, 512, "eps");
    edit_expect(&e, LIMPID_ERR_CORRUPT, "configuration key \"diffusion.target\"", 0);
    /* a checkpoint is not a model */
    edit_begin(&e, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    e.c.kind = LPI_KIND_CHECKPOINT;
    edit_expect(&e, LIMPID_ERR_FORMAT, "training checkpoint, not a model file", 0);
    /* unknown extra keys and missing provenance are fine */
    edit_begin(&e, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    for (int i = 0; i < e.c.n_kv;)
        if (strncmp(e.kv[i].key, "prov.", 5) == 0)
            e.kv[i] = e.kv[--e.c.n_kv];
        else
            i++;
    kv = &e.kv[e.c.n_kv++];
    memset(kv, 0, sizeof *kv);
    snprintf(kv->key, sizeof kv->key, "future.option");
    kv->type = LPI_KV_STR;
    void *buf;
    size_t len;
    ck_assert_int_eq(lpi_container_write(&e.c, &buf, &len), LIMPID_OK);
    limpid_model *r = NULL;
    char err[512];
    ck_assert_int_eq(limpid_model_load_memory(&r, buf, len, err, sizeof err), LIMPID_OK);
    ck_assert_int_eq(memcmp(r->params, e.m->params, r->layout.n_params * sizeof(float)), 0);
    ck_assert_str_eq(limpid_model_provenance(r)->tool_version, "");
    ck_assert(isnan(limpid_model_provenance(r)->final_loss));
    limpid_model_destroy(r);
    limpid_free(buf);
    limpid_model_destroy(e.m);
}
END_TEST

/* offset of the first occurrence of the float v in b, or -1 */
static long find_float(const uint8_t *b, size_t len, float v)
{
    for (size_t i = 0; i + 4 <= len; i++)
        if (memcmp(b + i, &v, 4) == 0)
            return (long)i;
    return -1;
}

START_TEST(non_finite_refused)
{
    limpid_config c = micro_cfg(LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    limpid_model *m = make_model(&c, 3);
    const float mark = 1234.5f;
    m->params[m->layout.layer[1].out_b + 2] = mark;
    uint8_t *buf;
    size_t len;
    save_mem(m, &buf, &len);
    long at = find_float(buf, len, mark);
    ck_assert_int_ge(at, 0);
    char err[512];
    float bad[2] = {NAN, -INFINITY};
    for (int k = 0; k < 2; k++) {
        memcpy(buf + at, &bad[k], 4);
        fix_checksum(buf, len);
        ck_assert_int_eq(load_expect_fail(buf, len, err, sizeof err), LIMPID_ERR_NUMERIC);
        ck_assert_str_eq(err, k == 0 ? "tensor layer.1.out.b holds a non-finite value (NaN) at "
                                       "index 2"
                                     : "tensor layer.1.out.b holds a non-finite value (Inf) at "
                                       "index 2");
    }
    limpid_free(buf);
    /* the writer does not make files the reader refuses */
    m->params[5] = NAN;
    void *b2 = NULL;
    size_t l2 = 0;
    ck_assert_int_eq(limpid_model_save_memory(m, &b2, &l2), LIMPID_ERR_NUMERIC);
    ck_assert_ptr_null(b2);
    limpid_model_destroy(m);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* the container itself */

START_TEST(container_roundtrip)
{
    float a[6] = {1, -2, 3.5f, 0, -0.0f, 1e-38f}, b[3] = {7, 8, 9};
    lpi_kv kv[5];
    memset(kv, 0, sizeof kv);
    snprintf(kv[0].key, 48, "i.min");
    kv[0].type = LPI_KV_I64;
    kv[0].i = INT64_MIN;
    snprintf(kv[1].key, 48, "i.max");
    kv[1].type = LPI_KV_I64;
    kv[1].i = INT64_MAX;
    snprintf(kv[2].key, 48, "f.nan");
    kv[2].type = LPI_KV_F64;
    kv[2].f = NAN;
    snprintf(kv[3].key, 48, "s.empty");
    kv[3].type = LPI_KV_STR;
    /* 47 printable characters, spaces included */
    snprintf(kv[4].key, 48, "a key with spaces ~ and symbols !#$%%&()*+,-./:;");
    ck_assert_uint_eq(strlen(kv[4].key), 47);
    kv[4].type = LPI_KV_F64;
    kv[4].f = -INFINITY;
    lpi_rec rec[2];
    memset(rec, 0, sizeof rec);
    snprintf(rec[0].name, 48, "m");
    rec[0].ndim = 2;
    rec[0].dims[0] = 2;
    rec[0].dims[1] = 3;
    rec[0].data = a;
    rec[0].count = 6;
    snprintf(rec[1].name, 48, "v");
    rec[1].ndim = 1;
    rec[1].dims[0] = 3;
    rec[1].data = b;
    rec[1].count = 3;
    lpi_container c = {LPI_KIND_CHECKPOINT, 5, kv, 2, rec, NULL};
    void *buf;
    size_t len;
    ck_assert_int_eq(lpi_container_write(&c, &buf, &len), LIMPID_OK);
    lpi_container r;
    char err[512];
    ck_assert_int_eq(lpi_container_read(&r, buf, len, err, sizeof err), LIMPID_OK);
    ck_assert_uint_eq(r.kind, LPI_KIND_CHECKPOINT);
    ck_assert_int_eq(r.n_kv, 5);
    ck_assert_int_eq(r.n_rec, 2);
    ck_assert(lpi_container_kv(&r, "i.min")->i == INT64_MIN);
    ck_assert(lpi_container_kv(&r, "i.max")->i == INT64_MAX);
    ck_assert(isnan(lpi_container_kv(&r, "f.nan")->f));
    ck_assert_str_eq(lpi_container_kv(&r, "s.empty")->s, "");
    ck_assert(lpi_container_kv(&r, kv[4].key)->f == -INFINITY);
    ck_assert_ptr_null(lpi_container_kv(&r, "nope"));
    const lpi_rec *m = lpi_container_rec(&r, "m"), *v = lpi_container_rec(&r, "v");
    ck_assert(m && v && !lpi_container_rec(&r, "x"));
    ck_assert_int_eq(m->ndim, 2);
    ck_assert(m->dims[0] == 2 && m->dims[1] == 3 && m->count == 6);
    ck_assert(v->ndim == 1 && v->dims[0] == 3 && v->dims[1] == 0 && v->count == 3);
    ck_assert_int_eq(memcmp(m->data, a, sizeof a), 0);
    ck_assert_int_eq(memcmp(v->data, b, sizeof b), 0);
    /* record data lives in one owned, aligned blob */
    ck_assert_ptr_eq(m->data, r.blob);
    ck_assert_uint_eq((uintptr_t)m->data % 64, 0);
    ck_assert_uint_eq((uintptr_t)v->data % 64, 0);
    /* the data offsets in the file are 16-byte aligned: 32 header + kv, record "m" */
    lpi_container_free(&r);
    ck_assert_ptr_null(r.kv);
    lpi_container_free(&r); /* twice is harmless */
    limpid_free(buf);

    /* an empty container */
    lpi_container e = {LPI_KIND_MODEL, 0, NULL, 0, NULL, NULL};
    ck_assert_int_eq(lpi_container_write(&e, &buf, &len), LIMPID_OK);
    ck_assert_uint_eq(len, 40);
    ck_assert_int_eq(lpi_container_read(&r, buf, len, err, sizeof err), LIMPID_OK);
    lpi_container_free(&r);
    limpid_free(buf);
}
END_TEST

START_TEST(container_writer_refuses_invalid)
{
    float a[2] = {1, 2};
    lpi_kv kv[2];
    lpi_rec rec[2];
    memset(kv, 0, sizeof kv);
    memset(rec, 0, sizeof rec);
    snprintf(kv[0].key, 48, "k");
    kv[0].type = LPI_KV_I64;
    snprintf(kv[1].key, 48, "k2");
    kv[1].type = LPI_KV_STR;
    snprintf(rec[0].name, 48, "r");
    rec[0].ndim = 1;
    rec[0].dims[0] = 2;
    rec[0].data = a;
    rec[0].count = 2;
    rec[1] = rec[0];
    snprintf(rec[1].name, 48, "r2");
    lpi_container c = {LPI_KIND_MODEL, 2, kv, 2, rec, NULL};
    void *buf;
    size_t len;
    ck_assert_int_eq(lpi_container_write(&c, &buf, &len), LIMPID_OK);
    limpid_free(buf);
#define REFUSED(mutate, undo)                                                          \
    do {                                                                               \
        mutate;                                                                        \
        ck_assert_int_ne(lpi_container_write(&c, &buf, &len), LIMPID_OK);             \
        ck_assert_ptr_null(buf);                                                       \
        undo;                                                                          \
    } while (0)
    REFUSED(kv[1].key[1] = '\0', kv[1].key[1] = '2');            /* duplicate key */
    REFUSED(rec[1].name[1] = '\0', rec[1].name[1] = '2');        /* duplicate name */
    REFUSED(kv[0].key[0] = '\0', kv[0].key[0] = 'k');            /* empty key */
    REFUSED(kv[0].key[0] = '\n', kv[0].key[0] = 'k');            /* not printable */
    REFUSED(kv[0].type = 4, kv[0].type = LPI_KV_I64);            /* unknown type */
    REFUSED(memset(kv[1].s, 'a', 512), memset(kv[1].s, 0, 512)); /* 512-byte string */
    REFUSED(rec[0].count = 3, rec[0].count = 2);                 /* count != shape */
    REFUSED(rec[0].ndim = 3, rec[0].ndim = 1);
    REFUSED(rec[0].dims[0] = 0, rec[0].dims[0] = 2);
    REFUSED(rec[0].data = NULL, rec[0].data = a);
    REFUSED(c.kind = 3, c.kind = LPI_KIND_MODEL);
    REFUSED(a[1] = INFINITY, a[1] = 2);
#undef REFUSED
    ck_assert_int_eq(lpi_container_write(&c, &buf, &len), LIMPID_OK);
    limpid_free(buf);
}
END_TEST

START_TEST(container_reader_details)
{
    /* one record "a" of 2 floats, no keys: name at 32, ndim 35, dims 36..43, padding 44..47,
     * data 48..55, checksum 56..63 */
    float a[2] = {1, 2};
    lpi_rec rec;
    memset(&rec, 0, sizeof rec);
    snprintf(rec.name, 48, "a");
    rec.ndim = 1;
    rec.dims[0] = 2;
    rec.data = a;
    rec.count = 2;
    lpi_container c = {LPI_KIND_MODEL, 0, NULL, 1, &rec, NULL};
    uint8_t *buf;
    size_t len;
    ck_assert_int_eq(lpi_container_write(&c, (void **)&buf, &len), LIMPID_OK);
    ck_assert_uint_eq(len, 64);
    ck_assert_int_eq(memcmp(buf + 48, a, 8), 0);
    char err[512];
    lpi_container r;
    /* non-zero padding */
    buf[45] = 1;
    fix_checksum(buf, len);
    ck_assert_int_eq(lpi_container_read(&r, buf, len, err, sizeof err), LIMPID_ERR_CORRUPT);
    ck_assert_str_eq(err, "tensor a at byte 32: padding byte 45 is not zero");
    buf[45] = 0;
    /* a dimension larger than the data */
    buf[36] = 3;
    fix_checksum(buf, len);
    ck_assert_int_eq(lpi_container_read(&r, buf, len, err, sizeof err), LIMPID_ERR_CORRUPT);
    ck_assert_str_eq(err, "tensor a at byte 32: 3 values need 12 bytes, only 8 remain");
    /* a huge dimension */
    buf[36] = 2;
    buf[43] = 0x80;
    fix_checksum(buf, len);
    ck_assert_int_eq(lpi_container_read(&r, buf, len, err, sizeof err), LIMPID_ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr(err, "dimension 0"));
    buf[43] = 0;
    /* counts larger than the bytes can hold, and over the caps */
    put32(buf + 20, 2);
    fix_checksum(buf, len);
    ck_assert_int_eq(lpi_container_read(&r, buf, len, err, sizeof err), LIMPID_ERR_CORRUPT);
    put32(buf + 20, 70000);
    fix_checksum(buf, len);
    ck_assert_int_eq(lpi_container_read(&r, buf, len, err, sizeof err), LIMPID_ERR_CORRUPT);
    ck_assert_str_eq(err, "header says 70000 tensors; at most 65536 are allowed");
    put32(buf + 20, 1);
    put32(buf + 16, 5000);
    fix_checksum(buf, len);
    ck_assert_int_eq(lpi_container_read(&r, buf, len, err, sizeof err), LIMPID_ERR_CORRUPT);
    put32(buf + 16, 0);
    put32(buf + 12, 9);
    fix_checksum(buf, len);
    ck_assert_int_eq(lpi_container_read(&r, buf, len, err, sizeof err), LIMPID_ERR_FORMAT);
    put32(buf + 12, 1);
    fix_checksum(buf, len);
    ck_assert_int_eq(lpi_container_read(&r, buf, len, err, sizeof err), LIMPID_OK);
    lpi_container_free(&r);
    /* a damaged byte without a fixed checksum */
    buf[50] ^= 4;
    ck_assert_int_eq(lpi_container_read(&r, buf, len, err, sizeof err), LIMPID_ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr(err, "checksum mismatch"));
    limpid_free(buf);

    /* duplicate key and duplicate tensor name, made by patching a valid file */
    lpi_kv kv[2];
    memset(kv, 0, sizeof kv);
    snprintf(kv[0].key, 48, "kA");
    snprintf(kv[1].key, 48, "kB");
    kv[0].type = kv[1].type = LPI_KV_I64;
    lpi_rec rr[2] = {rec, rec};
    snprintf(rr[1].name, 48, "b");
    lpi_container c2 = {LPI_KIND_MODEL, 2, kv, 2, rr, NULL};
    ck_assert_int_eq(lpi_container_write(&c2, (void **)&buf, &len), LIMPID_OK);
    /* kv 0 at 32: 2 + 2 + 1 + 8 = 13 bytes; kv 1 key at 45 + 2 */
    ck_assert_int_eq(buf[48], 'B');
    buf[48] = 'A';
    fix_checksum(buf, len);
    ck_assert_int_eq(lpi_container_read(&r, buf, len, err, sizeof err), LIMPID_ERR_CORRUPT);
    ck_assert_str_eq(err, "key \"kA\" appears twice (entries 0 and 1)");
    buf[48] = 'B';
    long at = -1;
    for (size_t i = 60; i + 4 < len; i++)
        if (buf[i] == 1 && buf[i + 1] == 0 && buf[i + 2] == 'b' && buf[i + 3] == 1) {
            at = (long)i;
            break;
        }
    ck_assert_int_ge(at, 0);
    buf[at + 2] = 'a';
    fix_checksum(buf, len);
    ck_assert_int_eq(lpi_container_read(&r, buf, len, err, sizeof err), LIMPID_ERR_CORRUPT);
    ck_assert_str_eq(err, "tensor a appears twice (records 0 and 1)");
    limpid_free(buf);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* files */

START_TEST(file_roundtrip)
{
    const char *dir = test_dir();
    char sub[4200], path[4300];
    snprintf(sub, sizeof sub, "%s/save", dir);
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    snprintf(path, sizeof path, "%s/model.lpm", sub);
    limpid_config c = micro_cfg(LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    limpid_model *m = make_model(&c, 11);
    fill_prov(m);
    ck_assert_int_eq(limpid_model_save_file(m, path), LIMPID_OK);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644);
    ck_assert_int_eq(count_dir_entries(sub, "model.lpm"), 1);
    limpid_model *r = NULL;
    char err[1024] = "";
    ck_assert_msg(limpid_model_load_file(&r, path, err, sizeof err) == LIMPID_OK, "%s", err);
    assert_same_model(m, r);
    limpid_model_destroy(r);
    /* overwrite with another model: replaced whole, still no temp files */
    limpid_model *m2 = make_model(&c, 12);
    ck_assert_int_eq(limpid_model_save_file(m2, path), LIMPID_OK);
    ck_assert_int_eq(count_dir_entries(sub, "model.lpm"), 1);
    ck_assert_int_eq(limpid_model_load_file(&r, path, err, sizeof err), LIMPID_OK);
    assert_same_model(m2, r);
    limpid_model_destroy(r);
    /* a damaged file: the message starts with the path */
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    fseek(f, 100, SEEK_SET);
    int byte = fgetc(f);
    fseek(f, 100, SEEK_SET);
    fputc(byte ^ 0xFF, f);
    fclose(f);
    ck_assert_int_eq(limpid_model_load_file(&r, path, err, sizeof err), LIMPID_ERR_CORRUPT);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(strncmp(err, path, strlen(path)), 0);
    ck_assert_ptr_nonnull(strstr(err, "checksum"));
    /* saving into a folder that does not exist fails and leaves nothing */
    char bad[4400];
    snprintf(bad, sizeof bad, "%s/no-such-dir/model.lpm", sub);
    ck_assert_int_eq(limpid_model_save_file(m, bad), LIMPID_ERR_IO);
    /* rename over a directory fails: the temp file is removed */
    char dpath[4400];
    snprintf(dpath, sizeof dpath, "%s/adir", sub);
    ck_assert_int_eq(mkdir(dpath, 0755), 0);
    char inner[4500];
    snprintf(inner, sizeof inner, "%s/x", dpath);
    ck_assert_int_eq(mkdir(inner, 0755), 0);
    ck_assert_int_eq(limpid_model_save_file(m, dpath), LIMPID_ERR_IO);
    unlink(path);
    rmdir(inner);
    rmdir(dpath);
    ck_assert_int_eq(count_dir_entries(sub, NULL), 0);
    rmdir(sub);
    limpid_model_destroy(m);
    limpid_model_destroy(m2);
    test_dir_done();
}
END_TEST

START_TEST(file_errors)
{
    const char *dir = test_dir();
    char path[4300];
    snprintf(path, sizeof path, "%s/does-not-exist.lpm", dir);
    limpid_model *r = (limpid_model *)1;
    char err[1024] = "";
    ck_assert_int_eq(limpid_model_load_file(&r, path, err, sizeof err), LIMPID_ERR_IO);
    ck_assert_ptr_null(r);
    ck_assert_ptr_nonnull(strstr(err, path));
    ck_assert_ptr_nonnull(strstr(err, strerror(ENOENT)));
    ck_assert_int_eq(limpid_model_load_file(&r, dir, err, sizeof err), LIMPID_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err, dir));
    ck_assert_ptr_nonnull(strstr(err, "directory"));
    /* a foreign file on disk */
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("hello, this is text and not a model\n", f);
    fclose(f);
    ck_assert_int_eq(limpid_model_load_file(&r, path, err, sizeof err), LIMPID_ERR_FORMAT);
    char want[4400];
    snprintf(want, sizeof want, "%s: not a limpid model file (bad magic)", path);
    ck_assert_str_eq(err, want);
    unlink(path);
    /* an empty file */
    f = fopen(path, "wb");
    fclose(f);
    ck_assert_int_eq(limpid_model_load_file(&r, path, err, sizeof err), LIMPID_ERR_TRUNCATED);
    unlink(path);
    /* lpi_read_file / lpi_write_file_atomic directly */
    snprintf(path, sizeof path, "%s/blob.bin", dir);
    ck_assert_int_eq(lpi_write_file_atomic(path, "abc", 3), LIMPID_OK);
    void *buf;
    size_t len;
    ck_assert_int_eq(lpi_read_file(path, &buf, &len, err, sizeof err), LIMPID_OK);
    ck_assert_uint_eq(len, 3);
    ck_assert_int_eq(memcmp(buf, "abc", 3), 0);
    free(buf);
    unlink(path);
    ck_assert_int_eq(count_dir_entries(dir, NULL), 0);
    test_dir_done();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("model_io");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, roundtrip_denoise_stft_tiny);
    tcase_add_test(tc, roundtrip_texture_wave_tiny);
    tcase_add_test(tc, roundtrip_other_settings);
    tcase_add_test(tc, create_and_info);
    tcase_add_test(tc, every_corruption_refused);
    tcase_add_test(tc, every_truncation_refused);
    tcase_add_test(tc, random_buffers_refused);
    tcase_add_test(tc, foreign_files_refused);
    tcase_add_test(tc, wrong_version_refused);
    tcase_add_test(tc, wrong_shape_refused);
    tcase_add_test(tc, missing_or_extra_tensor_refused);
    tcase_add_test(tc, bad_metadata_refused);
    tcase_add_test(tc, non_finite_refused);
    tcase_add_test(tc, container_roundtrip);
    tcase_add_test(tc, container_writer_refuses_invalid);
    tcase_add_test(tc, container_reader_details);
    tcase_add_test(tc, file_roundtrip);
    tcase_add_test(tc, file_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
