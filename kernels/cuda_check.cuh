/* cuda_check.cuh — the one checking macro every CUDA call goes through.
 *
 *   CU_TRY(cudaMalloc(&p, bytes));   // on failure: err names the call, the
 *                                    // file:line and CUDA's message; goto fail
 *
 * Kernel launches are checked with CU_TRY(cudaGetLastError()) right after
 * the launch; errors raised while a kernel runs surface at the next
 * synchronising call (a copy back), which is checked the same way.
 */
#ifndef ORBITSWEEP_CUDA_CHECK_CUH
#define ORBITSWEEP_CUDA_CHECK_CUH

#include <cuda_runtime.h>
#include <string.h>

#include "orbitsweep/orbitsweep.h"

/* Fills err with the failed call, where it was made and CUDA's message. */
static inline void cu_set_error(os_error *err, cudaError_t e, const char *call, const char *file, int line)
{
    const char *k = strstr(file, "kernels/"); /* the path from the repository root */
    os_set_error(err, "CUDA error at %s:%d in %s: %s (%s)", k ? k : file, line, call,
                 cudaGetErrorString(e), cudaGetErrorName(e));
}

#define CU_TRY(call)                                                                               \
    do {                                                                                           \
        const cudaError_t cu_e_ = (call);                                                          \
        if (cu_e_ != cudaSuccess) {                                                                \
            cu_set_error(err, cu_e_, #call, __FILE__, __LINE__);                                   \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

#endif
