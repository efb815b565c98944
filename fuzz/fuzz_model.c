/* fuzz_model.c - libFuzzer target: any input to limpid_model_load_memory must be refused
 * cleanly or loaded, never crash, read out of bounds, leak or hang. Build with fuzz/build.sh. */
#include "limpid.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    limpid_model *m = NULL;
    char err[256];
    limpid_status st = limpid_model_load_memory(&m, data, size, err, sizeof err);
    if (st == LIMPID_OK) {
        /* a loaded model must be usable: read its info and write it back out */
        limpid_model_info info;
        limpid_model_get_info(m, &info);
        void *buf = NULL;
        size_t len = 0;
        if (limpid_model_save_memory(m, &buf, &len) != LIMPID_OK)
            __builtin_trap(); /* what loads must save */
        limpid_model *again = NULL;
        if (limpid_model_load_memory(&again, buf, len, err, sizeof err) != LIMPID_OK)
            __builtin_trap(); /* and what it saves must load */
        limpid_model_destroy(again);
        limpid_free(buf);
        limpid_model_destroy(m);
    } else if (m != NULL || memchr(err, 0, sizeof err) == NULL || err[0] == '\0') {
        __builtin_trap(); /* a refusal leaves *out NULL and says why */
    }
    return 0;
}
