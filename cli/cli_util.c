/* cli_util.c - option parsing, messages, number parsing and small file helpers of the CLI. */
#include <signal.h>
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void vmsg(const char *cmd, const char *kind, const char *fmt, va_list ap)
{
    fflush(stdout);
    if (cmd)
        fprintf(stderr, "limpid %s: %s", cmd, kind);
    else
        fprintf(stderr, "limpid: %s", kind);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(cmd, "", fmt, ap);
    va_end(ap);
}

void cli_warn(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(cmd, "warning: ", fmt, ap);
    va_end(ap);
}

void cli_load_error(const char *cmd, const char *what, const char *what_path, const char *path,
                    const char *err, limpid_status st)
{
    if (err[0] && strstr(err, path))
        cli_error(cmd, "%s: %s (%s)", what, err, limpid_strerror(st));
    else
        cli_error(cmd, "%s '%s': %s", what_path, path, err[0] ? err : limpid_strerror(st));
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(cmd, "", fmt, ap);
    va_end(ap);
    if (cmd)
        fprintf(stderr, "Try 'limpid %s --help'.\n", cmd);
    else
        fprintf(stderr, "Try 'limpid --help'.\n");
    return CLI_EXIT_USAGE;
}

/* ---- option parsing ------------------------------------------------------------------ */

void cli_args_init(cli_args *a, const char *cmd, int argc, char **argv)
{
    a->cmd = cmd;
    a->argc = argc;
    a->argv = argv;
    a->i = 1; /* argv[0] is the command name */
    a->only_pos = 0;
    a->opt = "";
}

int cli_args_next(cli_args *a, const cli_opt *opts, const char **val)
{
    static char spelled[128];
    *val = NULL;
    if (a->i >= a->argc)
        return CLI_END;
    char *s = a->argv[a->i++];
    if (a->only_pos || s[0] != '-' || s[1] == '\0') { /* "-" alone is a positional (stdin) */
        *val = s;
        return CLI_POSITIONAL;
    }
    if (s[1] == '-' && s[2] == '\0') {
        a->only_pos = 1;
        return cli_args_next(a, opts, val);
    }
    const cli_opt *o = NULL;
    const char *inline_val = NULL;
    if (s[1] == '-') {
        const char *name = s + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        for (const cli_opt *p = opts; p->name; p++)
            if (strlen(p->name) == nlen && strncmp(p->name, name, nlen) == 0) {
                o = p;
                break;
            }
        snprintf(spelled, sizeof spelled, "--%.*s", (int)(nlen > 100 ? 100 : nlen), name);
        a->opt = spelled;
        if (!o) {
            cli_usage_error(a->cmd, "unknown option '%s'", spelled);
            return CLI_ERROR;
        }
        if (eq)
            inline_val = eq + 1;
        if (eq && !o->has_arg) {
            cli_usage_error(a->cmd, "option '%s' takes no value", spelled);
            return CLI_ERROR;
        }
    } else {
        for (const cli_opt *p = opts; p->name; p++)
            if (p->short_name && p->short_name == s[1]) {
                o = p;
                break;
            }
        snprintf(spelled, sizeof spelled, "-%c", s[1]);
        a->opt = spelled;
        if (!o) {
            cli_usage_error(a->cmd, "unknown option '%s'", spelled);
            return CLI_ERROR;
        }
        if (s[2] != '\0') {
            if (!o->has_arg) {
                cli_usage_error(a->cmd, "option '-%c' takes no value (in '%s')", s[1], s);
                return CLI_ERROR;
            }
            inline_val = s + 2;
        }
    }
    if (o->has_arg) {
        if (inline_val) {
            *val = inline_val;
        } else if (a->i < a->argc) {
            *val = a->argv[a->i++];
        } else {
            cli_usage_error(a->cmd, "option '%s' needs a value", spelled);
            return CLI_ERROR;
        }
    }
    return o->id;
}

/* ---- numbers ------------------------------------------------------------------------- */

int cli_parse_int(const char *s, long long lo, long long hi, long long *out)
{
    if (!s || !*s)
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_double(const char *s, double lo, double hi, double *out)
{
    if (!s || !*s)
        return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno == ERANGE && fabs(v) > 1.0) /* overflow; underflow to ~0 is fine */
        return -1;
    if (end == s || *end != '\0' || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int cli_opt_int(const cli_args *a, const char *s, long long lo, long long hi, long long *out)
{
    if (cli_parse_int(s, lo, hi, out) == 0)
        return 0;
    cli_usage_error(a->cmd, "bad value '%s' for %s (expected an integer in %lld..%lld)", s,
                    a->opt, lo, hi);
    return -1;
}

int cli_opt_precision(const cli_args *a, const char *s, int *out)
{
    if (strcmp(s, "auto") == 0)
        *out = CLI_PREC_AUTO;
    else if (strcmp(s, "fp32") == 0)
        *out = LIMPID_PRECISION_FP32;
    else if (strcmp(s, "bf16") == 0)
        *out = LIMPID_PRECISION_BF16;
    else {
        cli_usage_error(a->cmd, "bad value '%s' for %s (expected auto, fp32 or bf16)", s, a->opt);
        return -1;
    }
    return 0;
}

int cli_ctx_precision(const char *cmd, limpid_ctx *ctx, int prec)
{
    if (prec == CLI_PREC_AUTO)
        prec = limpid_bf16_available() ? LIMPID_PRECISION_BF16 : LIMPID_PRECISION_FP32;
    limpid_status st = limpid_ctx_set_precision(ctx, (limpid_precision)prec);
    if (st == LIMPID_ERR_UNSUPPORTED) {
        cli_error(cmd, "--precision bf16: this machine cannot run bf16 products (they need an "
                       "x86-64 CPU with AMX-BF16 and Linux 5.16 or later); use fp32");
        return -1;
    }
    if (st != LIMPID_OK) {
        cli_error(cmd, "cannot set the precision: %s", limpid_strerror(st));
        return -1;
    }
    return 0;
}

int cli_opt_double(const cli_args *a, const char *s, double lo, double hi, double *out)
{
    if (cli_parse_double(s, lo, hi, out) == 0)
        return 0;
    cli_usage_error(a->cmd, "bad value '%s' for %s (expected a number in %g..%g)", s, a->opt,
                    lo, hi);
    return -1;
}

/* ---- misc ---------------------------------------------------------------------------- */

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cli_iso_time(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    if (strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0 && len)
        buf[0] = '\0';
}

int cli_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

void cli_join_command(int argc, char **argv, char *buf, size_t len)
{
    if (len == 0)
        return;
    size_t pos = 0;
    int cut = 0;
    buf[0] = '\0';
    for (int i = 0; i < argc && !cut; i++) {
        const char *s = argv[i];
        int quote = *s == '\0';
        for (const char *p = s; *p && !quote; p++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                        "-_./=:,+@%",
                        *p))
                quote = 1;
        /* worst case piece: space + quotes + 4 bytes per char ('\'' for each ') */
        char piece[4096];
        size_t k = 0;
        if (i > 0)
            piece[k++] = ' ';
        if (quote)
            piece[k++] = '\'';
        for (const char *p = s; *p && k < sizeof piece - 8; p++) {
            if (*p == '\'') {
                memcpy(piece + k, "'\\''", 4);
                k += 4;
            } else {
                piece[k++] = *p;
            }
        }
        if (quote)
            piece[k++] = '\'';
        if (pos + k + 1 > len) {
            cut = 1;
            break;
        }
        memcpy(buf + pos, piece, k);
        pos += k;
        buf[pos] = '\0';
    }
    if (cut && len > 4) {
        if (pos + 4 > len)
            pos = len - 4;
        memcpy(buf + pos, "...", 4);
    }
}

int cli_write_file_atomic(const char *path, const void *buf, size_t len)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp)
        return -1;
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp-XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        free(tmp);
        return -1;
    }
    const char *p = buf;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            goto fail;
        }
        p += w;
        left -= (size_t)w;
    }
    /* mkstemp makes the file 0600; give it the usual mode (rw-r--r-- less the umask) */
    mode_t um = umask(0);
    umask(um);
    fchmod(fd, 0666 & ~um);
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto fail;
    free(tmp);
    return 0;
fail:;
    int e = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(tmp);
    errno = e;
    return -1;
}

int cli_read_file(const char *path, size_t max, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap + 1);
    if (!b) {
        fclose(f);
        errno = ENOMEM;
        return -1;
    }
    for (;;) {
        if (n == cap) {
            if (cap >= max) {
                if (fgetc(f) == EOF && !ferror(f))
                    break; /* exactly max bytes */
                free(b);
                fclose(f);
                errno = EFBIG;
                return -1;
            }
            size_t nc = cap * 2 > max ? max : cap * 2;
            char *nb = realloc(b, nc + 1);
            if (!nb) {
                free(b);
                fclose(f);
                errno = ENOMEM;
                return -1;
            }
            b = nb;
            cap = nc;
        }
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (r == 0) {
            if (ferror(f)) {
                int e = errno ? errno : EIO;
                free(b);
                fclose(f);
                errno = e;
                return -1;
            }
            break;
        }
    }
    fclose(f);
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}

char *cli_join_path(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    while (la > 1 && a[la - 1] == '/')
        la--;
    char *s = malloc(la + lb + 2);
    if (!s)
        return NULL;
    memcpy(s, a, la);
    s[la] = '/';
    memcpy(s + la + 1, b, lb + 1);
    return s;
}

volatile sig_atomic_t cli_stop_signal;

static void on_stop_signal(int sig) { cli_stop_signal = sig; }

void cli_install_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    /* restart interrupted reads; a second Ctrl-C gets the default action (terminate) */
    sa.sa_flags = SA_RESTART | SA_RESETHAND;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}
