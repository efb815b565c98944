/* cmd_export.c - `limpid export CHECKPOINT -o MODEL`: a model file from a training checkpoint
 * (the weights train would write if it stopped there), while the training goes on or after
 * it was stopped. The checkpoint is only read. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CMD "export"

static void usage(FILE *f)
{
    fprintf(f,
"usage: limpid export CHECKPOINT -o MODEL [--raw] [--force]\n"
"\n"
"Write a model file from a training checkpoint (the MODEL.ckpt that 'limpid train' writes\n"
"every --ckpt-every steps and when it stops), to denoise, generate or listen with the\n"
"weights of a training that is still running or was stopped. The model gets the averaged\n"
"(EMA) weights, as 'limpid train' writes at the end; the checkpoint is only read.\n"
"'limpid info CHECKPOINT' tells its step and learning rate.\n"
"\n"
"  -o, --output MODEL  the model file to write (written to a temporary file, then renamed)\n"
"  --raw               the raw weights of the last step instead of their average\n"
"  --force             overwrite MODEL if it exists\n"
"  -h, --help          this help\n"
"\n"
"A texture checkpoint holds no class names: when the training's TRAINED.classes (beside\n"
"the checkpoint TRAINED.ckpt) exists it is copied to MODEL.classes; otherwise 'limpid\n"
"generate --model MODEL' takes class numbers.\n"
"\n"
"Exit status: 0 written, 1 the checkpoint could not be read or the model not written,\n"
"2 usage error.\n");
}

/* TRAINED.classes for a checkpoint path TRAINED.ckpt, copied to MODEL.classes when present.
 * Returns 0 (copied or none), -1 on a write error (reported). */
static int copy_classes(const char *ckpt, const char *model, int *copied)
{
    *copied = 0;
    size_t l = strlen(ckpt);
    if (l <= 5 || strcmp(ckpt + l - 5, ".ckpt") != 0)
        return 0;
    char *src = malloc(l + 4), *dst = malloc(strlen(model) + 9);
    if (!src || !dst) {
        free(src);
        free(dst);
        cli_error(CMD, "out of memory");
        return -1;
    }
    memcpy(src, ckpt, l - 5);
    memcpy(src + l - 5, ".classes", 9);
    sprintf(dst, "%s.classes", model);
    char *buf = NULL;
    size_t len = 0;
    int rc = 0;
    if (cli_read_file(src, 1 << 20, &buf, &len) == 0) {
        if (cli_write_file_atomic(dst, buf, len)) {
            cli_error(CMD, "cannot write '%s': %s", dst, strerror(errno));
            rc = -1;
        } else {
            *copied = 1;
        }
    }
    free(buf);
    free(src);
    free(dst);
    return rc;
}

int cmd_export(int argc, char **argv)
{
    enum { OPT_OUT = 1, OPT_RAW, OPT_FORCE, OPT_HELP };
    static const cli_opt opts[] = {{"output", 'o', 1, OPT_OUT},
                                   {"raw", 0, 0, OPT_RAW},
                                   {"force", 0, 0, OPT_FORCE},
                                   {"help", 'h', 0, OPT_HELP},
                                   {0}};
    cli_args a;
    cli_args_init(&a, CMD, argc, argv);
    const char *val, *ckpt = NULL, *out = NULL;
    int id, raw = 0, force = 0;
    while ((id = cli_args_next(&a, opts, &val)) != CLI_END) {
        switch (id) {
        case CLI_ERROR:
            return CLI_EXIT_USAGE;
        case CLI_POSITIONAL:
            if (ckpt)
                return cli_usage_error(CMD, "one checkpoint at a time ('%s' and '%s' given)",
                                       ckpt, val);
            ckpt = val;
            break;
        case OPT_OUT:
            out = val;
            break;
        case OPT_RAW:
            raw = 1;
            break;
        case OPT_FORCE:
            force = 1;
            break;
        case OPT_HELP:
            usage(stdout);
            return CLI_EXIT_OK;
        }
    }
    if (!ckpt)
        return cli_usage_error(CMD, "no checkpoint given");
    if (!out)
        return cli_usage_error(CMD, "no output given (-o MODEL)");
    if (strcmp(ckpt, out) == 0)
        return cli_usage_error(CMD, "the output '%s' is the checkpoint itself", out);
    if (!force && cli_file_exists(out)) {
        cli_error(CMD, "'%s' exists (--force overwrites it)", out);
        return CLI_EXIT_FAIL;
    }

    limpid_trainer *t = NULL;
    char err[1024];
    err[0] = '\0';
    limpid_status st = limpid_trainer_load_checkpoint(&t, ckpt, err, sizeof err);
    if (st != LIMPID_OK) {
        cli_load_error(CMD, "cannot read the checkpoint", "cannot read the checkpoint", ckpt, err,
                       st);
        return CLI_EXIT_FAIL;
    }
    const limpid_train_config *tc = limpid_trainer_train_config(t);
    const int ema = !raw && tc->ema_decay > 0.0f;
    limpid_provenance pv = *limpid_trainer_provenance(t);
    cli_iso_time(pv.created, sizeof pv.created);
    limpid_model *m = NULL;
    int rc = CLI_EXIT_FAIL;
    st = limpid_trainer_export(t, ema, &pv, &m);
    if (st != LIMPID_OK) {
        cli_error(CMD, "cannot export the model: %s", limpid_strerror(st));
        goto out;
    }
    st = limpid_model_save_file(m, out);
    if (st != LIMPID_OK) {
        cli_error(CMD, "cannot write model '%s': %s", out, limpid_strerror(st));
        goto out;
    }
    int copied = 0;
    if (limpid_model_config(m)->task == LIMPID_TASK_TEXTURE && copy_classes(ckpt, out, &copied))
        goto out;
    printf("wrote %s (step %lld of %lld, %s weights)\n", out,
           (long long)limpid_trainer_steps_done(t), (long long)tc->total_steps,
           ema ? "averaged" : "raw");
    if (limpid_model_config(m)->task == LIMPID_TASK_TEXTURE)
        printf(copied ? "classes: %s.classes\n"
                      : "no class names beside the checkpoint: %s takes class numbers\n",
               out);
    rc = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
    limpid_model_destroy(m);
    limpid_trainer_destroy(t);
    return rc;
}
