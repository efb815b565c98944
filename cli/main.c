/* main.c - `limpid COMMAND [options]`: dispatch to the commands listed in commands.h. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} command;

static const command commands[] = {
#define LIMPID_CMD(name, summary) {#name, summary, cmd_##name},
#include "commands.h"
#undef LIMPID_CMD
};
#define N_COMMANDS ((int)(sizeof commands / sizeof commands[0]))

static void usage(FILE *f)
{
    fprintf(f,
            "limpid %s - diffusion models (DDPM) for audio denoising and texture generation\n"
            "\n"
            "usage: limpid COMMAND [options]\n"
            "       limpid --help | --version\n"
            "\n"
            "Commands:\n",
            limpid_version());
    for (int i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'limpid COMMAND --help' (or 'limpid help COMMAND') for a command's "
               "options.\n");
}

static const command *find(const char *name)
{
    for (int i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    /* OpenBLAS on a CPU model it does not know runs its SSE3 kernels: start again with the
     * kernels this CPU can run (limpid_blas_better_coretype; the variable stops a loop) */
    const char *core = limpid_blas_better_coretype();
    if (core) {
        setenv("OPENBLAS_CORETYPE", core, 1);
        execv("/proc/self/exe", argv);
        unsetenv("OPENBLAS_CORETYPE"); /* exec failed: go on with the kernels we have */
    }
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *a = argv[1];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
        printf("limpid %s\n", limpid_version());
        return CLI_EXIT_OK;
    }
    if (strcmp(a, "help") == 0) {
        if (argc < 3) {
            usage(stdout);
            return CLI_EXIT_OK;
        }
        const command *c = find(argv[2]);
        if (!c)
            return cli_usage_error(NULL, "unknown command '%s'", argv[2]);
        char *hargv[] = {(char *)c->name, "--help", NULL};
        return c->run(2, hargv);
    }
    if (a[0] == '-')
        return cli_usage_error(NULL, "unknown option '%s'", a);
    const command *c = find(a);
    if (!c)
        return cli_usage_error(NULL, "unknown command '%s'", a);
    return c->run(argc - 1, argv + 1);
}
