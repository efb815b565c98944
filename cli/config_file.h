/* config_file.h - "key = value" configuration files for `limpid train --config FILE`.
 *
 * Syntax: one "key = value" per line; '#' starts a comment (to the end of the line); blank
 * lines and spaces/tabs around keys and values are ignored; CRLF line ends are accepted; a
 * value may be wrapped in double quotes. A key given twice: the last one wins.
 *
 * Model keys (override the preset): channels layers dilation_cycle embed_dim embed_hidden
 *   lookahead (noncausal | causal | -1 | 0 | K frames) n_fft hop window (hann | sqrt_hann)
 *   compress_exp compress_scale schedule (linear | cosine) steps_T beta_start beta_end
 *   target (eps | x0 | v) head (direct | gain | wiener | wiener_rel | wiener_floor)
 *   cond (spectrum | logpow | logpow_floor) input_scale (none | sqrt_abar) n_classes sample_rate
 *   feature_norm (none | class)
 * Training keys: lr lr_min warmup batch crop (seconds) weight_decay clip ema_decay t_top
 *   loss_weight loss_norm (batch | item | log | noise | noise_db) mask_loss
 *   mask_form (ratio | phase)
 *
 * The parser takes a memory buffer of arbitrary bytes (NULs included) and never reads past
 * len; it is meant to be fuzzed.
 */
#ifndef LIMPID_CLI_CONFIG_FILE_H
#define LIMPID_CLI_CONFIG_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "limpid.h"

typedef struct cfgfile {
    limpid_config model;       /* only the fields whose keys were set are meaningful */
    limpid_train_config train; /* likewise */
    double crop_seconds;
    uint64_t set;              /* bit i: key i of the key table was given */
} cfgfile;

/* Parse buf[0..len) (name is used in messages, e.g. the file path). Returns 0, or -1 with
 * "NAME:LINE: what is wrong" in err (unknown key, bad value, line without '='). */
int cfgfile_parse(const char *buf, size_t len, const char *name, cfgfile *out, char *err,
                  size_t errlen);

/* Copy the keys the file set onto cfg / tc / *crop_seconds (any may be NULL to skip). */
void cfgfile_apply(const cfgfile *f, limpid_config *cfg, limpid_train_config *tc,
                   double *crop_seconds);

/* Whether the file set `key` (a name from the table above). */
int cfgfile_has(const cfgfile *f, const char *key);

/* Names for enum values, as used in config files and by `limpid info`. */
const char *cfg_window_name(limpid_window w);
const char *cfg_schedule_name(limpid_schedule s);
const char *cfg_target_name(limpid_target t);
const char *cfg_head_name(limpid_head h);
const char *cfg_feature_norm_name(limpid_feature_norm s);
const char *cfg_features_name(limpid_spec_features s);
const char *cfg_cond_name(limpid_cond c);
const char *cfg_input_scale_name(limpid_input_scale s);
const char *cfg_task_name(limpid_task t);
const char *cfg_domain_name(limpid_domain d);

#endif
