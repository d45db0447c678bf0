/* typed.h — instantiates the *_t.h templates for one parameter dtype.
 *
 * Define OS_F32 to 1 (float, suffix _f32) or 0 (double, _f64), include this
 * file, then a *_t.h template. OS_FN(name) names the typed function and
 * OS_SQRT / OS_FMA pick the IEEE function of that type.
 */
#ifndef ORBITSWEEP_TYPED_H
#define ORBITSWEEP_TYPED_H
#define OS_CAT2(a, b) a##_##b
#define OS_CAT(a, b) OS_CAT2(a, b)
#define OS_FN(name) OS_CAT(name, OS_SFX)
#endif

#undef OS_T
#undef OS_SFX
#undef OS_SQRT
#undef OS_FMA
#undef OS_FABS
#if OS_F32
#define OS_T float
#define OS_SFX f32
#define OS_SQRT sqrtf
#define OS_FMA fmaf
#define OS_FABS fabsf
#else
#define OS_T double
#define OS_SFX f64
#define OS_SQRT sqrt
#define OS_FMA fma
#define OS_FABS fabs
#endif
#undef OS_F32
