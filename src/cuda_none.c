/* cuda_none.c — the GPU API in a build without CUDA (no nvcc at build time).
 *
 * Real answers, not a fake backend: there are no usable GPUs, and
 * os_cuda_run fails with a message saying why.
 */
#include "orbitsweep/orbitsweep.h"

int os_cuda_built(void) { return 0; }

int os_cuda_devices(os_device_info *out, int max, os_error *why)
{
    (void)out;
    (void)max;
    os_set_error(why, "this build has no CUDA support (configured without nvcc, or with OS_ENABLE_CUDA=OFF)");
    return 0;
}

int os_cuda_select(const os_spec *spec, os_device_info *out, int *bad_input, os_error *err)
{
    (void)spec;
    (void)out;
    *bad_input = 0;
    os_set_error(err, "this build has no CUDA support (configured without nvcc, or with OS_ENABLE_CUDA=OFF)");
    return 0;
}

os_status os_cuda_run(const os_sweep *sw, os_result *results, os_progress_fn progress, void *ctx,
                      os_error *err)
{
    (void)sw;
    (void)results;
    (void)progress;
    (void)ctx;
    os_set_error(err, "--backend cuda: this build has no CUDA support (configured without nvcc, or "
                      "with OS_ENABLE_CUDA=OFF)");
    return OS_ERUNTIME;
}
