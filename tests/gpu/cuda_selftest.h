/* cuda_selftest.h — device-side checks for the tests (test_cuda, os_gpu_selftest).
 *
 * Small kernels that run the shared Philox and batch-order code, and
 * cuRAND's own device API, on a GPU and hand the words back, so a test can
 * compare them with the known-answer vectors and the CPU port. Not part of
 * the library's API.
 */
#ifndef ORBITSWEEP_CUDA_SELFTEST_H
#define ORBITSWEEP_CUDA_SELFTEST_H

#include "orbitsweep/orbitsweep.h"

#ifdef __cplusplus
extern "C" {
#endif

/* On device dev: curand_init(seed, subsequence, offset) then count curand()
 * words into from_curand, and the same with os_philox_init/os_philox_next
 * into from_port; *uni_curand / *uni_port get the first curand_uniform() /
 * os_philox_uniform() of a fresh state with the same arguments. */
os_status os_cuda_test_philox(int dev, uint64_t seed, uint64_t subsequence, uint64_t offset, int count,
                              uint32_t *from_curand, uint32_t *from_port, float *uni_curand,
                              float *uni_port, os_error *err);

/* On device dev: os_perm_at(p, i) for i = 0..n-1 of os_perm_init(p, seed,
 * stream, epoch, n), into out[n]. */
os_status os_cuda_test_perm(int dev, uint64_t seed, uint64_t stream, uint32_t epoch, uint32_t n,
                            uint32_t *out, os_error *err);

#ifdef __cplusplus
}
#endif

#endif
