/* model_t.h — typed model math (template: see typed.h and model.h). */

/* One canonical partial sum: loss, Wa and Wb gradient terms, unmasked count. */
typedef struct OS_FN(os_acc) {
    OS_T l, a, b;
    int k;
} OS_FN(os_acc);

/* Per-update invariants, hoisted out of the point loop. */
typedef struct OS_FN(os_fwd) {
    OS_T inv_wa2; /* 1 / Wa^2 */
    OS_T wb;
} OS_FN(os_fwd);

OS_HD static inline OS_FN(os_fwd) OS_FN(os_fwd_make)(OS_T wa, OS_T wb)
{
    OS_FN(os_fwd) f;
    f.inv_wa2 = (OS_T)1 / (wa * wa);
    f.wb = wb;
    return f;
}

/* A data point's d2 = (x + c)^2 in the training dtype: x and c rounded to
 * it first. Every backend prepares its data with this. */
OS_HD static inline OS_T OS_FN(os_point_d2)(double x, double c)
{
    const OS_T xc = (OS_T)x + (OS_T)c;
    return xc * xc;
}

OS_HD static inline void OS_FN(os_acc_zero)(OS_FN(os_acc) *a)
{
    a->l = a->a = a->b = 0;
    a->k = 0;
}

/* One sample evaluation: point (d2 = (x+c)^2, y) added to the partial sums
 * (*l, *a, *b, *k), given the update's 1/Wa^2 and Wb. Scalar arguments, so
 * that a loop over SIMD lanes (trainings) vectorises. The mask is a select:
 * a masked point's infinite terms never reach the sums. */
OS_HD static inline void OS_FN(os_point_add)(OS_T inv_wa2, OS_T wb, OS_T d2, OS_T y, OS_T *l,
                                             OS_T *a, OS_T *b, int *k)
{
    OS_T s = (OS_T)1 - d2 * inv_wa2;
    int masked = s < (OS_T)0;
    OS_T r = OS_SQRT(masked ? (OS_T)1 : s);
    OS_T e = wb * r - y;
    OS_T ta = (e * d2) / r;
    *l += masked ? (OS_T)0 : e * e;
    *a += masked ? (OS_T)0 : ta;
    *b += masked ? (OS_T)0 : e * r;
    *k += !masked;
}

/* The same, into one canonical partial. */
OS_HD static inline void OS_FN(os_point)(const OS_FN(os_fwd) *f, OS_T d2, OS_T y,
                                         OS_FN(os_acc) *acc)
{
    OS_FN(os_point_add)(f->inv_wa2, f->wb, d2, y, &acc->l, &acc->a, &acc->b, &acc->k);
}

OS_HD static inline OS_FN(os_acc) OS_FN(os_acc_add)(OS_FN(os_acc) x, OS_FN(os_acc) y)
{
    x.l = x.l + y.l;
    x.a = x.a + y.a;
    x.b = x.b + y.b;
    x.k = x.k + y.k;
    return x;
}

/* The fixed combining tree of the canonical order, on one quantity. */
OS_HD static inline OS_T OS_FN(os_tree8)(OS_T p0, OS_T p1, OS_T p2, OS_T p3, OS_T p4, OS_T p5,
                                         OS_T p6, OS_T p7)
{
    return ((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7));
}

OS_HD static inline OS_FN(os_acc) OS_FN(os_acc_tree)(const OS_FN(os_acc) p[OS_PARTIALS])
{
    OS_FN(os_acc) t;
    t.l = OS_FN(os_tree8)(p[0].l, p[1].l, p[2].l, p[3].l, p[4].l, p[5].l, p[6].l, p[7].l);
    t.a = OS_FN(os_tree8)(p[0].a, p[1].a, p[2].a, p[3].a, p[4].a, p[5].a, p[6].a, p[7].a);
    t.b = OS_FN(os_tree8)(p[0].b, p[1].b, p[2].b, p[3].b, p[4].b, p[5].b, p[6].b, p[7].b);
    t.k = p[0].k + p[1].k + p[2].k + p[3].k + p[4].k + p[5].k + p[6].k + p[7].k;
    return t;
}

/* Minibatch loss and gradients from the combined sum. */
typedef struct OS_FN(os_grad) {
    OS_T loss, gwa, gwb;
    int k;
} OS_FN(os_grad);

/* The same on scalars (sums sl, sa, sb over k unmasked points at (wa, wb)),
 * so that a loop over SIMD lanes vectorises. */
OS_HD static inline void OS_FN(os_grad_scalars)(OS_T sl, OS_T sa, OS_T sb, int k, OS_T wa,
                                                OS_T wb, OS_T *loss, OS_T *gwa, OS_T *gwb)
{
    OS_T kk = (OS_T)(k ? k : 1);
    OS_T two_k = (OS_T)2 / kk;
    *loss = k ? sl / kk : (OS_T)NAN;
    *gwa = k ? two_k * (sa * (wb / (wa * wa * wa))) : (OS_T)0;
    *gwb = k ? two_k * sb : (OS_T)0;
}

OS_HD static inline OS_FN(os_grad) OS_FN(os_grad_finish)(OS_FN(os_acc) t, OS_T wa, OS_T wb)
{
    OS_FN(os_grad) g;
    g.k = t.k;
    OS_FN(os_grad_scalars)(t.l, t.a, t.b, t.k, wa, wb, &g.loss, &g.gwa, &g.gwb);
    return g;
}
