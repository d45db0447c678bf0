/* philox.h — Philox4x32-10, bit-identical to cuRAND's device API.
 *
 * os_philox_init/next/uniform reproduce curand_init(seed, subsequence,
 * offset), curand() and curand_uniform() of curandStatePhilox4_32_10_t word
 * for word (see docs/gpu-notes.md for the layout and the known-answer
 * vectors that tests/test_philox.cpp checks). On the GPU the kernels may use
 * cuRAND itself; this port is what the CPU backend and the dataset use.
 */
#ifndef ORBITSWEEP_PHILOX_H
#define ORBITSWEEP_PHILOX_H

#include "os_hd.h"

#define OS_PHILOX_M0 0xD2511F53u
#define OS_PHILOX_M1 0xCD9E8D57u
#define OS_PHILOX_W0 0x9E3779B9u
#define OS_PHILOX_W1 0xBB67AE85u

typedef struct os_philox {
    uint32_t ctr[4];
    uint32_t out[4];
    uint32_t key[2];
    unsigned idx; /* next word of out[] to hand out, 0..3 */
} os_philox;

/* The Philox4x32-10 block function: out = philox(ctr, key). */
OS_HD static inline void os_philox_block(const uint32_t ctr[4], const uint32_t key[2],
                                         uint32_t out[4])
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; ++r) {
        uint64_t p0 = (uint64_t)OS_PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)OS_PHILOX_M1 * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        if (r < 9) {
            k0 += OS_PHILOX_W0;
            k1 += OS_PHILOX_W1;
        }
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

OS_HD static inline void os_philox_incr(uint32_t ctr[4])
{
    if (++ctr[0]) return;
    if (++ctr[1]) return;
    if (++ctr[2]) return;
    ++ctr[3];
}

/* curand_init(seed, subsequence, offset, &state). */
OS_HD static inline void os_philox_init(os_philox *s, uint64_t seed, uint64_t subsequence,
                                        uint64_t offset)
{
    uint64_t blocks = offset / 4;
    s->key[0] = (uint32_t)seed;
    s->key[1] = (uint32_t)(seed >> 32);
    s->ctr[0] = (uint32_t)blocks;
    s->ctr[1] = (uint32_t)(blocks >> 32);
    s->ctr[2] = (uint32_t)subsequence;
    s->ctr[3] = (uint32_t)(subsequence >> 32);
    s->idx = (unsigned)(offset % 4);
    os_philox_block(s->ctr, s->key, s->out);
}

/* curand(&state): the next 32-bit word. */
OS_HD static inline uint32_t os_philox_next(os_philox *s)
{
    uint32_t r = s->out[s->idx++];
    if (s->idx == 4) {
        os_philox_incr(s->ctr);
        os_philox_block(s->ctr, s->key, s->out);
        s->idx = 0;
    }
    return r;
}

/* curand_uniform(&state): a float in (0, 1]. The product is exact, so the
 * sum rounds the same whether or not it is fused. */
OS_HD static inline float os_philox_uniform(os_philox *s)
{
    return (float)os_philox_next(s) * 2.3283064365386963e-10f + 1.1641532182693481e-10f;
}

#endif
