/* cli.h - shared helpers of the limpid command-line tool (option parsing, messages, numbers).
 *
 * Exit statuses used by every command:
 *   0 success, 1 runtime error (I/O, bad file, training failure), 2 usage error (unknown
 *   command/option, bad option value, bad config file), 130 interrupted by SIGINT.
 * The CLI uses only the public header limpid.h.
 */
#ifndef LIMPID_CLI_H
#define LIMPID_CLI_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "limpid.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_INTERRUPTED 130

/* Commands (see commands.h). */
#define LIMPID_CMD(name, summary) int cmd_##name(int argc, char **argv);
#include "commands.h"
#undef LIMPID_CMD

/* ---- messages ---------------------------------------------------------------------- */

/* "limpid CMD: message\n" on stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_warn(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Usage error: the message, then "Try 'limpid CMD --help'." on stderr. Returns
 * CLI_EXIT_USAGE so a command can `return cli_usage_error(...)`. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A file the library could not load: "WHAT: ERR (status)" when the loader's message err
 * already names path, else "WHAT_PATH 'PATH': ERR" (the status's text when err is empty). */
void cli_load_error(const char *cmd, const char *what, const char *what_path, const char *path,
                    const char *err, limpid_status st);

/* ---- option parsing -----------------------------------------------------------------
 * Long options "--name VALUE" / "--name=VALUE", short "-x VALUE" / "-xVALUE", flags without
 * value, positional arguments anywhere, "--" ends options. Usage:
 *
 *   static const cli_opt opts[] = {{"lr", 0, 1, OPT_LR}, {"help", 'h', 0, OPT_HELP}, {0}};
 *   cli_args a; cli_args_init(&a, "train", argc, argv);
 *   const char *val; int id;
 *   while ((id = cli_args_next(&a, opts, &val)) != CLI_END) {
 *       if (id == CLI_ERROR) return CLI_EXIT_USAGE;      (message already printed)
 *       if (id == CLI_POSITIONAL) ... val is the argument ...
 *   }
 */
typedef struct cli_opt {
    const char *name; /* long name without "--"; NULL ends the table */
    char short_name;  /* 0: none */
    int has_arg;      /* 1: takes a value */
    int id;           /* > 0, returned by cli_args_next */
} cli_opt;

#define CLI_END 0
#define CLI_ERROR (-1)
#define CLI_POSITIONAL (-2)

typedef struct cli_args {
    const char *cmd;
    int argc;
    char **argv;
    int i;           /* next argv index */
    int only_pos;    /* after "--" */
    const char *opt; /* spelling of the option just returned, e.g. "--lr", for messages */
} cli_args;

void cli_args_init(cli_args *a, const char *cmd, int argc, char **argv);
int cli_args_next(cli_args *a, const cli_opt *opts, const char **val);

/* Strict number parsing of a whole string (no trailing junk, finite, within [lo, hi]).
 * Return 0 on success, -1 otherwise (nothing printed). */
int cli_parse_int(const char *s, long long lo, long long hi, long long *out);
int cli_parse_double(const char *s, double lo, double hi, double *out);
/* The same, printing a usage error naming the option on failure; return 0 / -1. */
int cli_opt_int(const cli_args *a, const char *s, long long lo, long long hi, long long *out);
int cli_opt_double(const cli_args *a, const char *s, double lo, double hi, double *out);

/* --precision auto|fp32|bf16 (limpid_ctx_set_precision): *out = CLI_PREC_AUTO (bf16 where the
 * machine has AMX, else fp32), LIMPID_PRECISION_FP32 or LIMPID_PRECISION_BF16; 0 / -1 with a
 * usage error. cli_ctx_precision applies it to ctx: 0, or -1 with an error (bf16 asked for on
 * a machine without AMX, out of memory). */
#define CLI_PREC_AUTO (-1)
#define CLI_PRECISION_HELP                                                                    \
    "  --precision P     matrix products: auto (default: bf16 where the CPU has AMX, else\n"   \
    "                    fp32), fp32 (the same output on every machine), bf16 (faster)\n"
int cli_opt_precision(const cli_args *a, const char *s, int *out);
int cli_ctx_precision(const char *cmd, limpid_ctx *ctx, int prec);

/* ---- misc --------------------------------------------------------------------------- */

double cli_now(void);                         /* monotonic seconds */
void cli_iso_time(char *buf, size_t len);     /* current UTC time, ISO-8601 */
int cli_file_exists(const char *path);
/* "a/b" (trailing slashes of a folded), malloc'd; NULL when out of memory */
char *cli_join_path(const char *a, const char *b);

/* SIGINT/SIGTERM set cli_stop_signal (to the signal number) so long commands stop cleanly;
 * a second Ctrl-C terminates. */
extern volatile sig_atomic_t cli_stop_signal;
void cli_install_stop_signals(void);
/* argv joined with spaces, arguments quoted for a POSIX shell when needed, truncated to fit
 * (ending in "..." when cut). */
void cli_join_command(int argc, char **argv, char *buf, size_t len);
/* Write len bytes to path atomically (path.tmp-XXXXXX, fsync, rename). 0 or -1 (errno set). */
int cli_write_file_atomic(const char *path, const void *buf, size_t len);
/* ---- shipped models (models.c) ------------------------------------------------------ */

/* Names of the shipped models, NULL-terminated: denoisers ("rt", "hq"), texture models. */
extern const char *const cli_denoise_models[];
extern const char *const cli_texture_models[];
/* The file of shipped model NAME: $LIMPID_MODEL_DIR/NAME.lpm, EXE_DIR/../models/NAME/NAME.lpm
 * (build tree), EXE_DIR/../share/limpid/NAME.lpm (installation), then the source tree this
 * binary was built from. 0, or -1 when none exists. */
int cli_find_shipped(const char *name, char *path, size_t len);
/* A --model argument: an existing file, or one of the names in shipped (looked up as above).
 * 0 with the file in path, or -1 with a sentence in err. */
int cli_resolve_model(const char *arg, const char *const *shipped, char *path, size_t len,
                      char *err, size_t errlen);

/* Read a whole file (up to max bytes) into a malloc'd NUL-terminated buffer. 0 or -1 (errno
 * set; EFBIG when larger than max). */
int cli_read_file(const char *path, size_t max, char **buf, size_t *len);

#endif
