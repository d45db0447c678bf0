/* optim_t.h — typed optimizer state and step (template: see typed.h).
 *
 * One call of os_opt_step_* is one optimizer.step() on the two parameters
 * (Wa, Wb). The order of operations and the roundings follow
 * docs/pytorch-semantics.md §2 (PyTorch 1.13's single-tensor path). Per
 * parameter p with gradient g, t = 1, 2, ... (R = round to the dtype):
 *   all       g <- fma(R(wd), p, g)                           when wd != 0
 *   sgd       p <- fma(R(-lr), g, p)
 *   momentum  m <- g (t = 1), else fma(R(1-dampening), g, m*R(mu)); p <- fma(R(-lr), m, p)
 *   nesterov  m as momentum (dampening 0); p <- fma(R(-lr), fma(R(mu), m, g), p)
 *   rmsprop   v <- fma(R(1-alpha)*g, g, v*R(alpha)); p <- p + (R(-lr)*g) / (sqrt(v) + R(eps))
 *   adam      m <- fma(R(1-b1), g, m*R(b1)); v <- fma(R(1-b2)*g, g, v*R(b2));
 *             p <- p + (R(-lr/(1-b1^t)) * m) / (sqrt(v)/R(sqrt(1-b2^t)) + R(eps))
 *             (b^t a correctly rounded power, os_powdd)
 */
typedef struct OS_FN(os_opt_state) {
    OS_T m[2];   /* SGD momentum buffer / Adam exp_avg */
    OS_T v[2];   /* RMSprop square_avg / Adam exp_avg_sq */
    int64_t t;   /* steps taken (1-based once stepping) */
    os_powdd b1t, b2t; /* beta1**t, beta2**t (Adam) */
} OS_FN(os_opt_state);

OS_HD static inline void OS_FN(os_opt_init)(OS_FN(os_opt_state) *st)
{
    st->m[0] = st->m[1] = 0;
    st->v[0] = st->v[1] = 0;
    st->t = 0;
    st->b1t.hi = st->b2t.hi = 1.0;
    st->b1t.lo = st->b2t.lo = 0.0;
}

/* optimizer.step() with learning rate lr (double, from the scheduler):
 * updates p[0..1] in place from the gradients g[0..1]. mom is the momentum
 * (SGD family, RMSprop) or beta1 (Adam) a cyclic scheduler sets for this
 * step, as PyTorch's CyclicLR / OneCycleLR set the param group's; NaN: the
 * optimizer's own hyperparameter (nothing cycles). */
OS_HD static inline void OS_FN(os_opt_step)(const os_opt_hp *hp, OS_FN(os_opt_state) *st,
                                            OS_T p[2], const OS_T g_in[2], double lr,
                                            double mom)
{
    st->t += 1;
    const int first = st->t == 1;
    const int cycled = mom == mom;
    const OS_T wd = (OS_T)hp->weight_decay;
    double step_size = 0, bc2s = 0, beta1 = hp->beta1;
    if (hp->kind == OS_OPT_ADAM) {
        if (cycled) { /* 1 - beta1**t with this step's beta1, as torch computes it */
            beta1 = mom;
            st->b1t = os_powdd_pow(beta1, st->t);
        } else {
            os_powdd_mul(&st->b1t, beta1);
        }
        os_powdd_mul(&st->b2t, hp->beta2);
        double bc1 = 1.0 - st->b1t.hi, bc2 = 1.0 - st->b2t.hi;
        step_size = lr / bc1;
        bc2s = sqrt(bc2);
    }
    /* the SGD family's and RMSprop's momentum (NaN where unused: none) */
    const double mu_d = cycled ? mom : hp->momentum;
    const double damp = hp->dampening == hp->dampening ? hp->dampening : 0.0;
    for (int i = 0; i < 2; ++i) {
        OS_T g = g_in[i];
        if (hp->weight_decay != 0) g = OS_FMA(wd, p[i], g);
        switch (hp->kind) {
        case OS_OPT_SGD: /* p <- p - lr g (a cycled momentum makes it momentum SGD, as in torch) */
        case OS_OPT_MOMENTUM: /* m <- mu m + (1-dampening) g (m <- g at t = 1); p <- p - lr m */
        case OS_OPT_NESTEROV: /* the same m; p <- p - lr (g + mu m) */ {
            if (mu_d != 0 && mu_d == mu_d) {
                const OS_T mu = (OS_T)mu_d;
                if (first)
                    st->m[i] = g;
                else
                    st->m[i] = OS_FMA((OS_T)(1.0 - damp), g, st->m[i] * mu);
                g = hp->kind == OS_OPT_NESTEROV ? OS_FMA(mu, st->m[i], g) : st->m[i];
            }
            p[i] = OS_FMA((OS_T)(-lr), g, p[i]);
            break;
        }
        case OS_OPT_RMSPROP: /* v <- alpha v + (1-alpha) g^2; p <- p - lr g / (sqrt(v) + eps) */ {
            st->v[i] = OS_FMA((OS_T)(1.0 - hp->alpha) * g, g, st->v[i] * (OS_T)hp->alpha);
            OS_T avg = OS_SQRT(st->v[i]) + (OS_T)hp->eps;
            if (mu_d > 0) { /* buf <- mu buf + g / avg (buf starts at 0); p <- p - lr buf */
                st->m[i] = st->m[i] * (OS_T)mu_d + g / avg;
                p[i] = OS_FMA((OS_T)(-lr), st->m[i], p[i]);
            } else {
                p[i] = p[i] + ((OS_T)(-lr) * g) / avg;
            }
            break;
        }
        case OS_OPT_ADAM: /* m, v as moving averages; p <- p - lr/(1-b1^t) m / (sqrt(v)/sqrt(1-b2^t) + eps) */ {
            st->m[i] = OS_FMA((OS_T)(1.0 - beta1), g, st->m[i] * (OS_T)beta1);
            st->v[i] = OS_FMA((OS_T)(1.0 - hp->beta2) * g, g, st->v[i] * (OS_T)hp->beta2);
            OS_T d = OS_SQRT(st->v[i]) / (OS_T)bc2s + (OS_T)hp->eps;
            p[i] = p[i] + ((OS_T)(-step_size) * st->m[i]) / d;
            break;
        }
        default:
            break;
        }
    }
}
