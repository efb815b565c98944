/* net_params.h - random parameters for the network tests (test_net.c, test_band.c). */
#ifndef LIMPID_TESTS_NET_PARAMS_H
#define LIMPID_TESTS_NET_PARAMS_H

#include "internal.h"

/* Random non-zero weights everywhere (final.* included: the initial zeros would hide every
 * gradient upstream), scaled so that activations stay O(1) and the gates are not saturated. */
static inline void random_params(const lpi_net_layout *L, float *P, uint64_t seed)
{
    for (int k = 0; k < L->n_tensors; k++) {
        const lpi_tensor_desc *td = &L->tensors[k];
        lpi_rng r = lpi_rng_make(seed, (uint64_t)k, 99);
        float a = td->ndim == 2 ? 1.5f / sqrtf((float)td->dims[1]) : 0.3f;
        for (size_t i = 0; i < td->count; i++)
            P[td->off + i] = (2.0f * lpi_rng_uniform(&r) - 1.0f) * a;
    }
}

#endif
