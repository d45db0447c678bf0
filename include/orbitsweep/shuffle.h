/* shuffle.h — batch orders: a fresh keyed permutation of [0, n) each epoch.
 *
 * A DataLoader draws a random permutation per epoch; storing one per training
 * and epoch would cost 1 KB each (100 GB for a million trainings), so an
 * order is a keyed bijection computed point by point instead: a few rounds
 * of add-key / multiply-by-odd / xor-shift on [0, 2^bits), cycle-walked back
 * into [0, n). The key of an epoch is one Philox block, so the CPU and the
 * GPU derive the same order from (seed, stream, epoch) alone.
 *
 * Philox streams: replicate r of a sweep uses the key seed + r (the `seed`
 * column of the results), so any row can be rerun alone with --seed. Under
 * that key, curand "subsequence"
 *   0                   : the data noise
 *   1                   : the batch order shared by all trainings of the seed
 *   1<<63 | config hash : the own batch order of one configuration
 *                         (--shuffle trial; the hash of the row's settings)
 */
#ifndef ORBITSWEEP_SHUFFLE_H
#define ORBITSWEEP_SHUFFLE_H

#include "philox.h"

#define OS_STREAM_DATA ((uint64_t)0)
#define OS_STREAM_SHARED_ORDER ((uint64_t)1)
#define OS_STREAM_TRIAL_ORDER(hash) ((uint64_t)(hash) | ((uint64_t)1 << 63))

typedef struct os_perm {
    uint32_t key[4];
    uint32_t n, mask;
    unsigned half;
} os_perm;

/* The order of one epoch: key = first block of curand_init(seed, stream, 4*epoch). */
OS_HD static inline void os_perm_init(os_perm *p, uint64_t seed, uint64_t stream, uint32_t epoch,
                                      uint32_t n)
{
    uint32_t ctr[4] = {epoch, 0u, (uint32_t)stream, (uint32_t)(stream >> 32)};
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    os_philox_block(ctr, key, p->key);
    unsigned bits = 0;
    while (bits < 32 && ((uint64_t)1 << bits) < n) ++bits;
    p->n = n;
    p->mask = bits >= 32 ? 0xFFFFFFFFu : (uint32_t)(((uint64_t)1 << bits) - 1);
    p->half = (bits + 1) / 2;
}

/* One pass of the keyed bijection of [0, 2^bits): four rounds of x = (x +
 * key[r]) * (key[r+1] | 1) mod 2^bits, then x ^= x >> half. The add and
 * the multiply wrap mod 2^32 and are masked once (reducing mod 2^bits
 * commutes with both). Written out round by round, so that a loop over
 * SIMD lanes with a key each vectorises. */
OS_HD static inline uint32_t os_perm_round(const os_perm *p, uint32_t x)
{
    const uint32_t m = p->mask;
    const unsigned h = p->half;
    x = ((x + p->key[0]) * (p->key[1] | 1u)) & m;
    x ^= x >> h;
    x = ((x + p->key[1]) * (p->key[2] | 1u)) & m;
    x ^= x >> h;
    x = ((x + p->key[2]) * (p->key[3] | 1u)) & m;
    x ^= x >> h;
    x = ((x + p->key[3]) * (p->key[0] | 1u)) & m;
    x ^= x >> h;
    return x;
}

/* Position i of the epoch's order -> data index, a bijection of [0, n):
 * the pass is repeated until it lands inside [0, n) (cycle walking). */
OS_HD static inline uint32_t os_perm_at(const os_perm *p, uint32_t i)
{
    uint32_t x = os_perm_round(p, i);
    while (x >= p->n) x = os_perm_round(p, x);
    return x;
}

#endif
