/* os_hd.h — the one macro that lets the step math run on both sides.
 *
 * Every function of the shared math (model, optimizers, schedulers, Philox,
 * batch orders) is `OS_HD static inline`: __host__ __device__ under nvcc,
 * plain static inline in C. The CPU backend and the CUDA kernels include the
 * very same headers, so there is one copy of the math.
 */
#ifndef ORBITSWEEP_OS_HD_H
#define ORBITSWEEP_OS_HD_H

#if defined(__CUDACC__)
#define OS_HD __host__ __device__
#else
#define OS_HD
#endif

/* In place of `inline` (OS_HD static OS_FORCEINLINE void f(...)), for a
 * function that must be inlined into its caller's loop whatever its size (the optimizer step: with the whole catalogue in one switch the
 * compilers would call it out of line, without the caller's constants). */
#if defined(__CUDACC__)
#define OS_FORCEINLINE __forceinline__ /* (inline included) */
#elif defined(__GNUC__)
#define OS_FORCEINLINE inline __attribute__((always_inline))
#else
#define OS_FORCEINLINE inline
#endif

#include <math.h>
#include <stdint.h>

#endif
