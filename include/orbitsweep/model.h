/* model.h — the orbit model, its masked MSE loss and gradients on a minibatch.
 *
 *   s_i = 1 - (x_i + c)^2 / Wa^2;  masked where s_i < 0 (then s_i := 0)
 *   yhat_i = Wb * sqrt(s_i);  L = mean over unmasked points of (yhat_i - y_i)^2
 *   dL/dWb = (2/K) sum e_i sqrt(s_i)
 *   dL/dWa = (2/K) (Wb/Wa^3) sum e_i (x_i + c)^2 / sqrt(s_i)
 *
 * Canonical summation order (the same on every backend, SIMD width and GPU
 * tile size): point k of a batch (k = position in the batch) accumulates
 * into partial k mod 8, in batch order; the 8 partials are combined by the
 * fixed tree ((p0+p1)+(p2+p3))+((p4+p5)+(p6+p7)). A shuffle-xor butterfly
 * over 1, 2, 4 lanes builds exactly this tree.
 *
 * K = 0 (every point masked) gives loss NaN and zero gradients, as PyTorch.
 */
#ifndef ORBITSWEEP_MODEL_H
#define ORBITSWEEP_MODEL_H

#include "os_hd.h"

#define OS_PARTIALS 8

#define OS_F32 1
#include "typed.h"
#include "model_t.h"
#define OS_F32 0
#include "typed.h"
#include "model_t.h"

#endif
