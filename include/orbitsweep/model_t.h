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

/* The fixed combining tree of the canonical order. */
OS_HD static inline OS_FN(os_acc) OS_FN(os_acc_tree)(const OS_FN(os_acc) p[OS_PARTIALS])
{
    OS_FN(os_acc) l = OS_FN(os_acc_add)(OS_FN(os_acc_add)(p[0], p[1]), OS_FN(os_acc_add)(p[2], p[3]));
    OS_FN(os_acc) r = OS_FN(os_acc_add)(OS_FN(os_acc_add)(p[4], p[5]), OS_FN(os_acc_add)(p[6], p[7]));
    return OS_FN(os_acc_add)(l, r);
}

/* Minibatch loss and gradients from the combined sum. */
typedef struct OS_FN(os_grad) {
    OS_T loss, gwa, gwb;
    int k;
} OS_FN(os_grad);

OS_HD static inline OS_FN(os_grad) OS_FN(os_grad_finish)(OS_FN(os_acc) t, OS_T wa, OS_T wb)
{
    OS_FN(os_grad) g;
    g.k = t.k;
    if (t.k == 0) {
        g.loss = (OS_T)NAN;
        g.gwa = g.gwb = 0;
        return g;
    }
    OS_T kk = (OS_T)t.k;
    OS_T two_k = (OS_T)2 / kk;
    g.loss = t.l / kk;
    g.gwa = two_k * (t.a * (wb / (wa * wa * wa)));
    g.gwb = two_k * t.b;
    return g;
}
