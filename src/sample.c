/* sample.c — random and quasi-random sweeps (docs/design.md §3,
 * "Sampling"): the uniform numbers of sample points and the values their
 * distributions give. Everything here is a pure function of its arguments
 * (Philox and integer Sobol arithmetic, then one double expression), so a
 * sample is the same on every machine, run and backend: it is drawn on the
 * host when the grid decodes a trial.
 *
 * Sobol points are those of Joe and Kuo's generator (S. Joe and F. Y. Kuo,
 * "Constructing Sobol sequences with better two-dimensional projections",
 * SIAM J. Sci. Comput. 30, 2635-2654 (2008)), with the direction numbers of
 * their published table new-joe-kuo-6.21201 for dimensions 2..32, in their
 * generator's order (Gray code: point i is the XOR of the direction
 * numbers of the bits of i ^ (i >> 1)), 32 bits per coordinate, point 0
 * being the origin. tests/golden/sobol_first256.csv holds torch's
 * SobolEngine's first points, which the tests compare bit for bit.
 */
#include <math.h>
#include <stdint.h>

#include "orbitsweep/orbitsweep.h"
#include "orbitsweep/philox.h"

_Static_assert(OS_AX_COUNT <= OS_SOBOL_DIMS, "a Sobol dimension for every axis");

/* new-joe-kuo-6.21201, dimensions 2..32: degree s, polynomial a, m_1..m_s. */
static const struct {
    unsigned s, a, m[7];
} joe_kuo[OS_SOBOL_DIMS - 1] = {
    {1, 0, {1}},                          {2, 1, {1, 3}},                       {3, 1, {1, 3, 1}},
    {3, 2, {1, 1, 1}},                    {4, 1, {1, 1, 3, 3}},                 {4, 4, {1, 3, 5, 13}},
    {5, 2, {1, 1, 5, 5, 17}},             {5, 4, {1, 1, 5, 5, 5}},              {5, 7, {1, 1, 7, 11, 19}},
    {5, 11, {1, 1, 5, 1, 1}},             {5, 13, {1, 1, 1, 3, 11}},            {5, 14, {1, 3, 5, 5, 31}},
    {6, 1, {1, 3, 3, 9, 7, 49}},          {6, 13, {1, 1, 1, 15, 21, 21}},      {6, 16, {1, 3, 1, 13, 27, 49}},
    {6, 19, {1, 1, 1, 15, 7, 5}},         {6, 22, {1, 3, 1, 15, 13, 25}},      {6, 25, {1, 1, 5, 5, 19, 61}},
    {7, 1, {1, 3, 7, 11, 23, 15, 103}},   {7, 4, {1, 3, 7, 13, 13, 15, 69}},   {7, 7, {1, 1, 3, 13, 7, 35, 63}},
    {7, 8, {1, 3, 5, 9, 1, 25, 53}},      {7, 14, {1, 3, 1, 13, 9, 35, 107}},  {7, 19, {1, 3, 1, 5, 27, 61, 31}},
    {7, 21, {1, 1, 5, 11, 19, 41, 61}},   {7, 28, {1, 3, 5, 3, 3, 13, 69}},    {7, 31, {1, 1, 7, 13, 1, 19, 1}},
    {7, 32, {1, 3, 7, 5, 13, 19, 59}},    {7, 37, {1, 1, 3, 9, 25, 29, 41}},   {7, 41, {1, 3, 5, 13, 23, 1, 55}},
    {7, 42, {1, 3, 7, 3, 13, 59, 17}},
};

/* The 32 direction numbers V_1..V_32 (scaled by 2^32) of dimension dim (0-based). */
static void directions(int dim, uint32_t v[32])
{
    if (dim == 0) { /* the first dimension: every m_k = 1 */
        for (int k = 0; k < 32; ++k) v[k] = 1u << (31 - k);
        return;
    }
    const unsigned s = joe_kuo[dim - 1].s, a = joe_kuo[dim - 1].a;
    for (unsigned k = 0; k < 32; ++k) {
        if (k < s) {
            v[k] = joe_kuo[dim - 1].m[k] << (31 - k);
            continue;
        }
        uint32_t x = v[k - s] ^ (v[k - s] >> s);
        for (unsigned l = 1; l < s; ++l)
            if ((a >> (s - 1 - l)) & 1) x ^= v[k - l];
        v[k] = x;
    }
}

uint32_t os_sobol_u32(uint64_t index, int dim)
{
    uint32_t v[32], x = 0;
    directions(dim, v);
    const uint64_t gray = index ^ (index >> 1);
    for (int k = 0; k < 32; ++k)
        if ((gray >> k) & 1) x ^= v[k];
    return x;
}

/* Philox4x32-10 of counter (lo, hi, block, word) under key seed. */
static void philox(uint64_t seed, uint64_t index, uint32_t block, uint32_t word, uint32_t out[4])
{
    const uint32_t ctr[4] = {(uint32_t)index, (uint32_t)(index >> 32), block, word};
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    os_philox_block(ctr, key, out);
}

double os_sample_u(int kind, uint64_t seed, int scramble, uint32_t block, uint64_t index, int dim)
{
    uint32_t r[4];
    if (kind == OS_SAMPLE_SOBOL) {
        uint32_t x = os_sobol_u32(index, dim);
        if (scramble) { /* a random digital shift per block and dimension */
            philox(seed, 0, block, 0x80000000u | (uint32_t)dim, r);
            x ^= r[0];
        }
        return (double)x * 0x1p-32;
    }
    philox(seed, index, block, (uint32_t)dim, r); /* 53 random bits */
    return ((double)(r[0] >> 5) * 67108864.0 + (double)(r[1] >> 6)) * 0x1p-53;
}

double os_dist_value(int dist, const double *vals, size_t n, double u)
{
    switch (dist) {
    case OS_DIST_UNIFORM: {
        const double v = vals[0] + u * (vals[1] - vals[0]); /* in [a, b): a < b */
        return v < vals[1] ? v : nextafter(vals[1], vals[0]);
    }
    case OS_DIST_LOG_UNIFORM: {
        const double la = log10(vals[0]), v = pow(10.0, la + u * (log10(vals[1]) - la));
        return v < vals[0] ? vals[0] : v > vals[1] ? vals[1] : v;
    }
    case OS_DIST_INT_UNIFORM: {
        const double v = vals[0] + floor(u * (vals[1] - vals[0] + 1));
        return v > vals[1] ? vals[1] : v;
    }
    default: { /* one of the listed values, each with probability 1/n */
        size_t k = (size_t)(u * (double)n);
        return vals[k < n ? k : n - 1];
    }
    }
}
