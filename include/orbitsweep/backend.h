/* backend.h — what a backend provides (internal: for src/run.c and the
 * backends, not part of the public API).
 *
 * A backend trains every trial of a planned sweep and fills every field of
 * its os_result rows that os_result_finish does not: the same bits on every
 * backend (docs/design.md §6). src/run.c lists the backends of this build
 * in its backend table.
 */
#ifndef ORBITSWEEP_BACKEND_H
#define ORBITSWEEP_BACKEND_H

#include "orbitsweep.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the CPU (src/cpu_backend.c) ---- */
os_status os_cpu_run(const os_sweep *sw, os_result *results, os_progress_fn progress, void *ctx,
                     os_error *err);
/* The bare loop's time for sw's trainings (the shape of trial 0 for every
 * one: its batch size and epochs, dataset 0): the vectorised forward pass
 * and gradient alone, the bound the training loop is measured against
 * (`orbitsweep bench --bound`). */
os_status os_cpu_bound(const os_sweep *sw, double *seconds, os_error *err);
/* Train trial 0 of sw alone and write its trace to f. */
os_status os_cpu_trace(const os_sweep *sw, FILE *f, os_error *err);

/* ---- CUDA (kernels/cuda_backend.cu; only in builds with OS_HAVE_CUDA) ---- */

/* The CUDA devices of this machine (see os_gpu_devices). Creates a CUDA
 * context on each device. */
int os_cuda_devices(os_device_info *out, int max, os_error *why);

/* The devices a sweep with this spec would run on (spec->devices, or every
 * usable GPU): fills out (when not NULL) and returns their count, or
 * returns 0 with the reason in err (a --devices number that is not a GPU
 * sets *bad_input to 1). */
int os_cuda_select(const os_spec *spec, os_device_info *out, int *bad_input, os_error *err);

/* Train every trial of sw on the GPUs (same contract as os_cpu_run).
 * OS_ERUNTIME when no GPU is usable. */
os_status os_cuda_run(const os_sweep *sw, os_result *results, os_progress_fn progress, void *ctx,
                      os_error *err);

/* Seconds the training and final-loss kernels ran (cudaEvents; with
 * several GPUs, the longest of a run's) over every os_cuda_run of this
 * process so far: `orbitsweep bench` reports kernel time apart from end to
 * end as the difference around a run. */
double os_cuda_kernel_seconds(void);

#ifdef __cplusplus
}
#endif

#endif
