/* cuda_selftest.cu — device-side checks for the tests (see cuda_selftest.h). */
#include <curand_kernel.h>

#include "cuda_check.cuh"
#include "cuda_selftest.h"
#include "orbitsweep/shuffle.h"

/* Thread 0: cuRAND's words; thread 1: the port's (the same arguments). */
__global__ void cu_test_philox_kernel(uint64_t seed, uint64_t subsequence, uint64_t offset, int count,
                                      uint32_t *from_curand, uint32_t *from_port, float *uni)
{
    if (threadIdx.x == 0) {
        curandStatePhilox4_32_10_t s;
        curand_init(seed, subsequence, offset, &s);
        for (int i = 0; i < count; ++i) from_curand[i] = curand(&s);
        curand_init(seed, subsequence, offset, &s);
        uni[0] = curand_uniform(&s);
    } else if (threadIdx.x == 1) {
        os_philox s;
        os_philox_init(&s, seed, subsequence, offset);
        for (int i = 0; i < count; ++i) from_port[i] = os_philox_next(&s);
        os_philox_init(&s, seed, subsequence, offset);
        uni[1] = os_philox_uniform(&s);
    }
}

__global__ void cu_test_perm_kernel(uint64_t seed, uint64_t stream, uint32_t epoch, uint32_t n, uint32_t *out)
{
    os_perm p;
    os_perm_init(&p, seed, stream, epoch, n);
    for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        out[i] = os_perm_at(&p, i);
}

extern "C" os_status os_cuda_test_philox(int dev, uint64_t seed, uint64_t subsequence, uint64_t offset,
                                         int count, uint32_t *from_curand, uint32_t *from_port,
                                         float *uni_curand, float *uni_port, os_error *err)
{
    uint32_t *d_words = NULL;
    float *d_uni = NULL;
    float uni[2];
    os_status st = OS_ERUNTIME;
    CU_TRY(cudaSetDevice(dev));
    CU_TRY(cudaMalloc(&d_words, 2 * (size_t)count * sizeof *d_words));
    CU_TRY(cudaMalloc(&d_uni, 2 * sizeof *d_uni));
    cu_test_philox_kernel<<<1, 32>>>(seed, subsequence, offset, count, d_words, d_words + count, d_uni);
    CU_TRY(cudaGetLastError());
    CU_TRY(cudaMemcpy(from_curand, d_words, (size_t)count * sizeof *d_words, cudaMemcpyDeviceToHost));
    CU_TRY(cudaMemcpy(from_port, d_words + count, (size_t)count * sizeof *d_words, cudaMemcpyDeviceToHost));
    CU_TRY(cudaMemcpy(uni, d_uni, sizeof uni, cudaMemcpyDeviceToHost));
    *uni_curand = uni[0];
    *uni_port = uni[1];
    st = OS_OK;
fail:
    cudaFree(d_words);
    cudaFree(d_uni);
    return st;
}

extern "C" os_status os_cuda_test_perm(int dev, uint64_t seed, uint64_t stream, uint32_t epoch, uint32_t n,
                                       uint32_t *out, os_error *err)
{
    uint32_t *d_out = NULL;
    os_status st = OS_ERUNTIME;
    CU_TRY(cudaSetDevice(dev));
    CU_TRY(cudaMalloc(&d_out, (size_t)n * sizeof *d_out));
    cu_test_perm_kernel<<<(n + 255) / 256, 256>>>(seed, stream, epoch, n, d_out);
    CU_TRY(cudaGetLastError());
    CU_TRY(cudaMemcpy(out, d_out, (size_t)n * sizeof *d_out, cudaMemcpyDeviceToHost));
    st = OS_OK;
fail:
    cudaFree(d_out);
    return st;
}
