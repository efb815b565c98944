/* gen_seeds.c - writes small valid model files as the fuzzer's seed corpus.
 * Usage: gen_seeds DIR (fuzz/build.sh builds and runs it). */
#include "limpid.h"

#include <stdio.h>
#include <string.h>

static int save(const limpid_config *c, uint64_t seed, const char *dir, const char *name)
{
    limpid_model *m = NULL;
    char path[4096];
    if (limpid_model_create(&m, c, seed) != LIMPID_OK)
        return 1;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    limpid_status st = limpid_model_save_file(m, path);
    limpid_model_destroy(m);
    if (st != LIMPID_OK) {
        fprintf(stderr, "%s: %s\n", path, limpid_strerror(st));
        return 1;
    }
    return 0;
}

/* channels 4, layers 2, embed 8/16, n_fft 16 hop 4: files of a few kilobytes */
static void micro(limpid_config *c, limpid_task task, limpid_domain domain)
{
    limpid_config_preset(c, "tiny", task, domain, 16000);
    c->channels = 4;
    c->layers = 2;
    c->dilation_cycle = 2;
    c->embed_dim = 8;
    c->embed_hidden = 16;
    c->n_fft = 16;
    c->hop = 4;
    c->steps_T = 10;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    limpid_config c;
    int bad = 0;
    micro(&c, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT);
    bad |= save(&c, 1, argv[1], "denoise-stft-micro.lpm");
    micro(&c, LIMPID_TASK_TEXTURE, LIMPID_DOMAIN_WAVE);
    c.n_classes = 3;
    bad |= save(&c, 2, argv[1], "texture-wave-micro.lpm");
    micro(&c, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_WAVE);
    c.layers = 1;
    c.lookahead = 0;
    c.schedule = LIMPID_SCHEDULE_LINEAR;
    c.target = LIMPID_TARGET_EPS;
    bad |= save(&c, 3, argv[1], "denoise-wave-causal.lpm");
    micro(&c, LIMPID_TASK_TEXTURE, LIMPID_DOMAIN_STFT); /* with the feat.scale table */
    c.n_classes = 2;
    c.feature_norm = LIMPID_FEATURE_NORM_CLASS;
    bad |= save(&c, 4, argv[1], "texture-stft-fnorm.lpm");
    c.features = LIMPID_FEATURES_MAGNITUDE; /* feat.scale and feat.mean */
    bad |= save(&c, 5, argv[1], "texture-stft-mag.lpm");
    micro(&c, LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT); /* a per-bin front end (front.*) */
    c.head = LIMPID_HEAD_WIENER_FLOOR;
    c.cond = LIMPID_COND_LOGPOW_FLOOR;
    c.target = LIMPID_TARGET_X0;
    c.front_hidden = 3;
    c.front_bins = 1;
    c.front_frames = 2;
    c.front_cond = 1;
    bad |= save(&c, 6, argv[1], "denoise-stft-front.lpm");
    c.cond_snr = 1; /* the network reads the level above the floor (arch.cond_snr) */
    c.floor_rise = 0.5f; /* a floor track slower than the default (arch.floor_rise) */
    bad |= save(&c, 7, argv[1], "denoise-stft-front-snr.lpm");
    c.front_hidden = c.front_bins = c.front_frames = c.front_cond = 0;
    c.floor_slow = 0.25f; /* a second, slow floor track as input rows (arch.floor_slow) */
    bad |= save(&c, 8, argv[1], "denoise-stft-slow.lpm");
    c.floor_slow = 0.0f; /* harmonicity rows (arch.harmonicity) and the gated head's third
                            output row per bin (arch.floor_gate) */
    c.n_fft = 256;
    c.hop = 64;
    c.harmonicity = 1;
    c.floor_gate = 1;
    bad |= save(&c, 9, argv[1], "denoise-stft-harm-gate.lpm");
    c.harmonicity = 0; /* a front end with the gated head: front.w3 with a gate row */
    c.front_hidden = 3;
    c.front_bins = 1;
    c.front_frames = 2;
    bad |= save(&c, 10, argv[1], "denoise-stft-front-gate.lpm");
    c.front_hidden = c.front_bins = c.front_frames = 0; /* a band-resolved stack (arch.bands,
                                                           arch.band_context) */
    c.cond_snr = 0;
    c.bands = 8;
    c.band_context = 2;
    bad |= save(&c, 11, argv[1], "denoise-stft-bands.lpm");
    return bad;
}
