/* cmd_info.c - `limpid info MODEL [--json]`: what a model file is, costs and provenance. A
 * training checkpoint is described as the model `limpid export` would write from it, with
 * its place in the training (step, learning rate). */
#include "cli.h"
#include "config_file.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: limpid info [--json] MODEL\n"
            "\n"
            "Describe a model file: task, domain, sample rate, STFT settings, architecture,\n"
            "parameter count, compute cost (MACs per frame; GMAC per second of audio per\n"
            "sampling step), receptive field, latency and training provenance. Class names\n"
            "are shown when MODEL.classes (written by 'limpid train --task texture') exists.\n"
            "MODEL may also be a training checkpoint (MODEL.ckpt): it is described as the\n"
            "model 'limpid export' writes from it, with its step and learning rate.\n"
            "\n"
            "Options:\n"
            "  --json       machine-readable output (one JSON object)\n"
            "  -h, --help   this help\n"
            "\n"
            "Exit status: 0 success, 1 the model could not be read, 2 usage error.\n");
}

/* ---- JSON output ---------------------------------------------------------------------- */

/* A JSON string: escapes, control bytes as \u00XX, invalid UTF-8 bytes as U+FFFD. */
static void json_str(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    while (*p) {
        unsigned c = *p;
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc((int)c, f);
            p++;
        } else if (c < 0x20) {
            if (c == '\n')
                fputs("\\n", f);
            else if (c == '\t')
                fputs("\\t", f);
            else if (c == '\r')
                fputs("\\r", f);
            else
                fprintf(f, "\\u%04x", c);
            p++;
        } else if (c < 0x80) {
            fputc((int)c, f);
            p++;
        } else {
            /* validate one UTF-8 sequence */
            int len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
            if (c > 0xF4)
                len = 0;
            int ok = len > 0;
            for (int i = 1; ok && i < len; i++)
                ok = (p[i] & 0xC0) == 0x80;
            if (ok && len == 3) { /* overlong / surrogates */
                unsigned cp = ((c & 0x0F) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
                ok = cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF);
            } else if (ok && len == 4) {
                unsigned cp = ((c & 0x07) << 18) | ((p[1] & 0x3Fu) << 12) |
                              ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
                ok = cp >= 0x10000 && cp <= 0x10FFFF;
            }
            if (ok) {
                fwrite(p, 1, (size_t)len, f);
                p += len;
            } else {
                fputs("\\ufffd", f);
                p++;
            }
        }
    }
    fputc('"', f);
}

static void json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.9g", v);
    else
        fputs("null", f);
}

/* ---- classes file --------------------------------------------------------------------- */

/* Class names from MODEL.classes (one per line), or NULL. */
static char **read_classes(const char *model, int *n)
{
    *n = 0;
    size_t pl = strlen(model);
    char *path = malloc(pl + 9);
    if (!path)
        return NULL;
    memcpy(path, model, pl);
    memcpy(path + pl, ".classes", 9);
    char *buf;
    size_t len;
    int rc = cli_read_file(path, 1 << 20, &buf, &len);
    free(path);
    if (rc)
        return NULL;
    int cap = 0;
    char **names = NULL;
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t l = strlen(line);
        if (l && line[l - 1] == '\r')
            line[l - 1] = '\0';
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, sizeof(char *) * (size_t)cap);
            if (!nn)
                break;
            names = nn;
        }
        if (!(names[*n] = strdup(line)))
            break;
        (*n)++;
    }
    free(buf);
    return names;
}

/* ---- command -------------------------------------------------------------------------- */

static const char *lookahead_str(int la, char *buf, size_t len)
{
    if (la == LIMPID_LOOKAHEAD_NONCAUSAL)
        return "noncausal";
    if (la == 0)
        return "causal";
    snprintf(buf, len, "%d frames", la);
    return buf;
}

static void print_si(FILE *f, double v)
{
    if (v >= 1e9)
        fprintf(f, "%.3g G", v / 1e9);
    else if (v >= 1e6)
        fprintf(f, "%.3g M", v / 1e6);
    else if (v >= 1e3)
        fprintf(f, "%.3g k", v / 1e3);
    else
        fprintf(f, "%.3g ", v);
}

int cmd_info(int argc, char **argv)
{
    enum { OPT_JSON = 1, OPT_HELP };
    static const cli_opt opts[] = {{"json", 0, 0, OPT_JSON}, {"help", 'h', 0, OPT_HELP}, {0}};
    cli_args a;
    cli_args_init(&a, "info", argc, argv);
    const char *val, *path = NULL;
    int id, json = 0;
    while ((id = cli_args_next(&a, opts, &val)) != CLI_END) {
        switch (id) {
        case CLI_ERROR:
            return CLI_EXIT_USAGE;
        case CLI_POSITIONAL:
            if (path)
                return cli_usage_error("info", "one model at a time ('%s' and '%s' given)",
                                       path, val);
            path = val;
            break;
        case OPT_JSON:
            json = 1;
            break;
        case OPT_HELP:
            usage(stdout);
            return CLI_EXIT_OK;
        }
    }
    if (!path)
        return cli_usage_error("info", "no model file given");

    limpid_model *m = NULL;
    char err[1024];
    err[0] = '\0';
    limpid_status st = limpid_model_load_file(&m, path, err, sizeof err);
    /* a checkpoint: the model export would write (averaged weights), and where training is */
    limpid_trainer *t = NULL;
    if (st != LIMPID_OK &&
        limpid_trainer_load_checkpoint(&t, path, NULL, 0) == LIMPID_OK) {
        const limpid_train_config *tc = limpid_trainer_train_config(t);
        st = limpid_trainer_export(t, tc->ema_decay > 0.0f, NULL, &m);
        if (st != LIMPID_OK)
            snprintf(err, sizeof err, "cannot export a model from the checkpoint");
    }
    if (st != LIMPID_OK) {
        limpid_trainer_destroy(t);
        cli_load_error("info", "cannot load model", "cannot load model", path, err, st);
        return CLI_EXIT_FAIL;
    }
    const limpid_config *c = limpid_model_config(m);
    const limpid_provenance *p = limpid_model_provenance(m);
    limpid_model_info mi;
    limpid_model_get_info(m, &mi);
    const int stft = c->domain == LIMPID_DOMAIN_STFT;
    const int fh = limpid_config_frame_hop(c);
    /* span of input samples one output frame depends on */
    double rf_samples = (double)(mi.receptive_field - 1) * fh + (stft ? c->n_fft : 1);
    double rf_ms = 1000.0 * rf_samples / c->sample_rate;
    double lat_ms = 1000.0 * mi.latency_samples / c->sample_rate;
    int n_names = 0;
    char **names = read_classes(path, &n_names);
    char lab[32];

    FILE *f = stdout;
    if (json) {
        fprintf(f, "{\n  \"file\": ");
        json_str(f, path);
        fprintf(f, ",\n  \"task\": \"%s\",\n  \"domain\": \"%s\",\n  \"sample_rate\": %d,\n",
                cfg_task_name(c->task), cfg_domain_name(c->domain), c->sample_rate);
        if (stft)
            fprintf(f,
                    "  \"stft\": {\"n_fft\": %d, \"hop\": %d, \"window\": \"%s\", "
                    "\"compress_exp\": %.7g, \"compress_scale\": %.7g, \"features\": \"%s\"},\n",
                    c->n_fft, c->hop, cfg_window_name(c->window), (double)c->compress_exp,
                    (double)c->compress_scale, cfg_features_name(c->features));
        else
            fprintf(f, "  \"stft\": null,\n");
        fprintf(f,
                "  \"architecture\": {\"channels\": %d, \"layers\": %d, \"dilation_cycle\": %d, "
                "\"embed_dim\": %d, \"embed_hidden\": %d, \"lookahead\": %d, \"n_classes\": %d, "
                "\"head\": \"%s\", \"cond\": \"%s\", \"cond_snr\": %d, \"floor_rise\": %.7g, \"floor_slow\": %.7g, \"harmonicity\": %d, \"floor_gate\": %d, \"bands\": %d, \"band_context\": %d, \"target\": \"%s\", \"input_scale\": \"%s\", "
                "\"feature_norm\": \"%s\", \"schedule\": \"%s\", \"steps_T\": %d, \"beta_start\": %.7g, \"beta_end\": %.7g},\n",
                c->channels, c->layers, c->dilation_cycle, c->embed_dim, c->embed_hidden,
                c->lookahead, c->n_classes, cfg_head_name(c->head), cfg_cond_name(c->cond),
                c->cond_snr, (double)c->floor_rise, (double)c->floor_slow, c->harmonicity, c->floor_gate, c->bands, c->band_context, cfg_target_name(c->target), cfg_input_scale_name(c->input_scale),
                cfg_feature_norm_name(c->feature_norm), cfg_schedule_name(c->schedule),
                c->steps_T, (double)c->beta_start,
                (double)c->beta_end);
        if (names) {
            fprintf(f, "  \"classes\": [");
            for (int i = 0; i < n_names; i++) {
                fprintf(f, i ? ", " : "");
                json_str(f, names[i]);
            }
            fprintf(f, "],\n");
        }
        fprintf(f, "  \"params\": %zu,\n  \"feature_channels\": %d,\n  \"cond_channels\": %d,\n"
                   "  \"out_channels\": %d,\n  \"macs_per_frame\": ",
                mi.params, mi.feature_channels, mi.cond_channels, mi.out_channels);
        json_num(f, mi.macs_per_frame);
        fprintf(f, ",\n  \"front_end\": {\"hidden\": %d, \"bins\": %d, \"frames\": %d, "
                   "\"cond\": %d, \"macs_per_frame\": ",
                c->front_hidden, c->front_bins, c->front_frames, c->front_cond);
        json_num(f, mi.front_macs_per_frame);
        fprintf(f, "}");
        fprintf(f, ",\n  \"frames_per_second\": ");
        json_num(f, mi.frames_per_second);
        fprintf(f, ",\n  \"gmac_per_second\": ");
        json_num(f, mi.macs_per_second / 1e9);
        fprintf(f, ",\n  \"receptive_field_frames\": %d,\n  \"receptive_field_ms\": ",
                mi.receptive_field);
        json_num(f, rf_ms);
        fprintf(f, ",\n  \"lookahead_frames\": %d,\n  \"latency_samples\": %d,\n"
                   "  \"latency_ms\": ",
                mi.lookahead_frames, mi.latency_samples);
        json_num(f, lat_ms);
        if (t) {
            const limpid_train_config *tc = limpid_trainer_train_config(t);
            fprintf(f, ",\n  \"checkpoint\": {\"step\": %lld, \"total_steps\": %lld, \"lr\": ",
                    (long long)limpid_trainer_steps_done(t), (long long)tc->total_steps);
            json_num(f, limpid_trainer_lr(t));
            fprintf(f, ", \"batch\": %d, \"crop_samples\": %d, \"ema_decay\": ", tc->batch,
                    tc->crop_samples);
            json_num(f, tc->ema_decay);
            fprintf(f, "}");
        } else {
            fprintf(f, ",\n  \"checkpoint\": null");
        }
        fprintf(f, ",\n  \"provenance\": {\n    \"created\": ");
        json_str(f, p->created);
        fprintf(f, ",\n    \"tool_version\": ");
        json_str(f, p->tool_version);
        fprintf(f, ",\n    \"data\": ");
        json_str(f, p->data);
        fprintf(f, ",\n    \"command\": ");
        json_str(f, p->command);
        fprintf(f, ",\n    \"seed\": %llu,\n    \"train_steps\": %llu,\n    \"train_seconds\": ",
                (unsigned long long)p->seed, (unsigned long long)p->train_steps);
        json_num(f, p->train_seconds);
        fprintf(f, ",\n    \"final_loss\": ");
        json_num(f, p->final_loss);
        fprintf(f, ",\n    \"val_loss\": ");
        json_num(f, p->val_loss);
        fprintf(f, "\n  }\n}\n");
    } else {
        fprintf(f, "%s       %s\n", t ? "checkpoint" : "model     ", path);
        if (t) {
            const limpid_train_config *tc = limpid_trainer_train_config(t);
            fprintf(f, "training at      step %lld of %lld, learning rate %.3g, batch %d x %.2f s%s\n",
                    (long long)limpid_trainer_steps_done(t), (long long)tc->total_steps,
                    (double)limpid_trainer_lr(t), tc->batch,
                    (double)tc->crop_samples / limpid_model_config(m)->sample_rate,
                    tc->ema_decay > 0.0f ? " (described: the averaged weights)" : "");
        }
        fprintf(f, "task             %s", cfg_task_name(c->task));
        if (c->task == LIMPID_TASK_TEXTURE)
            fprintf(f, " (%d class%s)", c->n_classes, c->n_classes == 1 ? "" : "es");
        fprintf(f, "\ndomain           %s, %d Hz\n", cfg_domain_name(c->domain), c->sample_rate);
        if (stft)
            fprintf(f,
                    "STFT             n_fft %d, hop %d, %s window, compression %g*|X|^%g "
                    "(%d bins), %s features%s\n",
                    c->n_fft, c->hop, cfg_window_name(c->window), (double)c->compress_scale,
                    (double)c->compress_exp, c->n_fft / 2 + 1, cfg_features_name(c->features),
                    c->features == LIMPID_FEATURES_MAGNITUDE ? " (random phase)" : "");
        fprintf(f,
                "architecture     %d channels, %d layers, dilation cycle %d, step embedding "
                "%d/%d, lookahead %s\n",
                c->channels, c->layers, c->dilation_cycle, c->embed_dim, c->embed_hidden,
                lookahead_str(c->lookahead, lab, sizeof lab));
        fprintf(f, "                 head %s, cond %s%s, target %s, input scale %s, %s schedule, T = %d",
                cfg_head_name(c->head), cfg_cond_name(c->cond),
                c->cond_snr ? " (network reads level above floor)" : "", cfg_target_name(c->target),
                cfg_input_scale_name(c->input_scale), cfg_schedule_name(c->schedule), c->steps_T);
        if (c->schedule == LIMPID_SCHEDULE_LINEAR)
            fprintf(f, " (beta %g..%g)", (double)c->beta_start, (double)c->beta_end);
        if (c->feature_norm != LIMPID_FEATURE_NORM_NONE)
            fprintf(f, ", features scaled per %s", cfg_feature_norm_name(c->feature_norm));
        if (c->floor_rise > 0.0f)
            fprintf(f, ", floor rises %g doublings/s", (double)c->floor_rise);
        if (c->floor_slow > 0.0f)
            fprintf(f, ", slow floor track (%g doublings/s) as input", (double)c->floor_slow);
        if (c->harmonicity)
            fprintf(f, ", harmonicity rows as input");
        if (c->floor_gate)
            fprintf(f, ", gated floor head");
        if (c->bands > 0)
            fprintf(f, ", band-resolved stack (%d bands, %d neighbours each side)", c->bands,
                    c->band_context);
        fprintf(f, "\n");
        if (names) {
            fprintf(f, "classes          ");
            for (int i = 0; i < n_names; i++)
                fprintf(f, "%s%d=%s", i ? ", " : "", i, names[i]);
            fprintf(f, "\n");
        }
        fprintf(f, "parameters       %zu\n", mi.params);
        fprintf(f, "compute          ");
        print_si(f, mi.macs_per_frame);
        fprintf(f, "MAC per frame, %.4g GMAC/s of audio per sampling step\n",
                mi.macs_per_second / 1e9);
        if (c->front_hidden > 0) {
            fprintf(f, "front end        %d hidden, +-%d bins, %d frames, %d cond rows: ",
                    c->front_hidden, c->front_bins, c->front_frames, c->front_cond);
            print_si(f, mi.front_macs_per_frame);
            fprintf(f, "MAC per frame, once per frame (not per step)\n");
        }
        fprintf(f, "receptive field  %d frames (%.1f ms)\n", mi.receptive_field, rf_ms);
        fprintf(f, "latency          %d samples (%.1f ms), lookahead %d frames\n",
                mi.latency_samples, lat_ms, mi.lookahead_frames);
        fprintf(f, "provenance\n");
        fprintf(f, "  created        %s\n", p->created[0] ? p->created : "(unknown)");
        fprintf(f, "  tool version   %s\n", p->tool_version[0] ? p->tool_version : "(unknown)");
        fprintf(f, "  data           %s\n", p->data[0] ? p->data : "(none)");
        fprintf(f, "  command        %s\n", p->command[0] ? p->command : "(none)");
        fprintf(f, "  seed           %llu\n", (unsigned long long)p->seed);
        fprintf(f, "  steps          %llu\n", (unsigned long long)p->train_steps);
        fprintf(f, "  training time  %.1f s\n", p->train_seconds);
        fprintf(f, "  final loss     ");
        if (isfinite(p->final_loss))
            fprintf(f, "train %.6g", p->final_loss);
        else
            fprintf(f, "train n/a");
        if (isfinite(p->val_loss))
            fprintf(f, ", validation %.6g\n", p->val_loss);
        else
            fprintf(f, ", validation n/a\n");
    }
    for (int i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    limpid_model_destroy(m);
    limpid_trainer_destroy(t);
    if (fflush(f) != 0 || ferror(f)) {
        cli_error("info", "cannot write the output");
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}
