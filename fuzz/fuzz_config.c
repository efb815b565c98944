/* fuzz_config.c - libFuzzer target for the `limpid train --config` parser: any bytes must give
 * either a parsed configuration or an error message, never a crash or an overread. */
#include "config_file.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cfgfile f;
    char err[256];
    memset(&f, 0, sizeof f);
    if (cfgfile_parse((const char *)data, size, "fuzz.cfg", &f, err, sizeof err) == 0) {
        limpid_config cfg;
        limpid_train_config tc;
        memset(&tc, 0, sizeof tc);
        double crop = 1.0;
        limpid_config_preset(&cfg, "tiny", LIMPID_TASK_DENOISE, LIMPID_DOMAIN_STFT, 16000);
        cfgfile_apply(&f, &cfg, &tc, &crop);
        limpid_config_check(&cfg, err, sizeof err);
    } else if (!memchr(err, '\0', sizeof err)) {
        __builtin_trap(); /* the message must be terminated */
    }
    return 0;
}
