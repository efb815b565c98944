/* models.c - finding the models shipped with limpid (see cli.h). */
#define _GNU_SOURCE
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const cli_denoise_models[] = {"rt", "hq", NULL};
const char *const cli_texture_models[] = {"textures", NULL};

/* $LIMPID_MODEL_DIR/NAME.lpm, then beside the executable in a build tree
 * (EXE_DIR/../models/NAME/NAME.lpm) or an installation (EXE_DIR/../share/limpid/NAME.lpm),
 * then the source tree this binary was built from. */
int cli_find_shipped(const char *name, char *path, size_t len)
{
    char exe[4096];
    const char *env = getenv("LIMPID_MODEL_DIR");
    if (env && *env) {
        snprintf(path, len, "%s/%s.lpm", env, name);
        if (cli_file_exists(path))
            return 0;
    }
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(path, len, "%.3000s/../models/%.64s/%.64s.lpm", exe, name, name);
            if (cli_file_exists(path))
                return 0;
            snprintf(path, len, "%.3000s/../share/limpid/%.64s.lpm", exe, name);
            if (cli_file_exists(path))
                return 0;
        }
    }
#ifdef LIMPID_SOURCE_DIR
    snprintf(path, len, "%s/models/%s/%s.lpm", LIMPID_SOURCE_DIR, name, name);
    if (cli_file_exists(path))
        return 0;
#endif
    return -1;
}

int cli_resolve_model(const char *arg, const char *const *shipped, char *path, size_t len,
                      char *err, size_t errlen)
{
    if (cli_file_exists(arg)) {
        snprintf(path, len, "%s", arg);
        return 0;
    }
    for (int i = 0; shipped && shipped[i]; i++)
        if (strcmp(arg, shipped[i]) == 0) {
            if (cli_find_shipped(arg, path, len) == 0)
                return 0;
            snprintf(err, errlen,
                     "the shipped model '%s' was not found (looked in $LIMPID_MODEL_DIR, beside "
                     "the executable and in the source tree): pass a model file",
                     arg);
            return -1;
        }
    snprintf(err, errlen, "%s: %s", arg, strerror(ENOENT));
    return -1;
}
