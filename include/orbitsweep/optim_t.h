/* optim_t.h — typed optimizer state and step (template: see typed.h).
 *
 * One call of os_opt_step_* is one optimizer.step() on the two parameters
 * (Wa, Wb). The order of operations and the roundings follow
 * docs/pytorch-semantics.md §2 (PyTorch 1.13.1's single-tensor path; Lion:
 * optax). Per parameter p with gradient g, t = 1, 2, ... (R = round to the
 * dtype, b^t a correctly rounded power in double, os_powdd):
 *   L2        g <- fma(R(wd), p, g)        when wd != 0 (not adamw, lion)
 *   sgd       p <- fma(R(-lr), g, p)
 *   momentum  m <- g (t = 1), else fma(R(1-dampening), g, m*R(mu)); p <- fma(R(-lr), m, p)
 *   nesterov  m as momentum (dampening 0); p <- fma(R(-lr), fma(R(mu), m, g), p)
 *   rmsprop   v <- fma(R(1-alpha)*g, g, v*R(alpha));
 *             centered: u <- fma(R(1-alpha), g, u*R(alpha)), avg = sqrt(fma(-u, u, v)); else sqrt(v)
 *             avg += R(eps); mu > 0: m <- m*R(mu) + g/avg, p <- fma(R(-lr), m, p);
 *             else p <- p + (R(-lr)*g) / avg
 *   adam      m <- fma(R(1-b1), g, m*R(b1)); v <- fma(R(1-b2)*g, g, v*R(b2)); amsgrad: u <- max(u, v)
 *             p <- p + (R(-lr/(1-b1^t)) * m) / (sqrt(v or u)/R(sqrt(1-b2^t)) + R(eps))
 *   adamw     p <- p * R(1 - lr*wd), then adam without L2
 *   nadam     mu_t = b1 (1 - 0.5 * 0.96^(t psi)), mu_n likewise at t+1 (double);
 *             q <- q*R(mu_t) (q: mu_product, dtype), qn = (q*R(mu_t))*R(mu_n) (torch 1.13);
 *             m, v as adam; d = sqrt(v / R(1-b2^t)) + R(eps);
 *             p <- p + (R(-lr(1-mu_t)/(1-q)) * g) / d; p <- p + (R(-lr mu_n/(1-qn)) * m) / d
 *   radam     m, v as adam; mh = m / R(1-b1^t); rho_t = rho_inf - 2t b2^t/(1-b2^t);
 *             rho_t > 5: p <- fma(-1, ((mh*R(lr)) * ((1/(sqrt(v)+R(eps)))*R(sqrt(1-b2^t)))) * R(rect), p)
 *             else p <- fma(-1, mh*R(lr), p)
 *   adamax    m as adam; v <- max(v*R(b2), |g| + R(eps)); p <- p + (R(-lr/(1-b1^t)) * m) / v
 *   adagrad   v <- R(initial_accumulator_value) at t = 1; v <- fma(g, g, v);
 *             p <- p + (R(-lr/(1+(t-1) lr_decay)) * g) / (sqrt(v) + R(eps))
 *   adadelta  v <- fma(R(1-rho)*g, g, v*R(rho)); d = (sqrt(m + R(eps)) / sqrt(v + R(eps))) * g;
 *             m <- fma(R(1-rho)*d, d, m*R(rho)); p <- fma(R(-lr), d, p)
 *   lion      c = R(1-b1)*g + R(b1)*m; m <- R(1-b2)*g + R(b2)*m;
 *             p <- p + R(-lr) * (sign(c) + R(wd)*p)            (optax, no fma)
 * A cycled momentum or beta1 (the step's `mom`) replaces the hyperparameter
 * and, for the bias corrections, b1^t is that step's beta1 to the power t.
 */
typedef struct OS_FN(os_opt_state) {
    OS_T m[2];   /* momentum buffer / exp_avg / Adadelta's acc_delta */
    OS_T v[2];   /* square_avg / exp_avg_sq / Adagrad's sum / Adamax's exp_inf */
    OS_T u[2];   /* AMSGrad's max_exp_avg_sq / centered RMSprop's grad_avg */
    int64_t t;   /* steps taken (1-based once stepping) */
    os_powdd b1t; /* beta1**t (Adam family); NAdam, which has no use for it, keeps its
                     mu_product (a dtype value, so exact as a double) in b1t.hi */
    os_powdd b2t; /* beta2**t (Adam family) */
} OS_FN(os_opt_state);

OS_HD static inline void OS_FN(os_opt_init)(OS_FN(os_opt_state) *st)
{
    st->m[0] = st->m[1] = 0;
    st->v[0] = st->v[1] = 0;
    st->u[0] = st->u[1] = 0;
    st->t = 0;
    st->b1t.hi = st->b2t.hi = 1.0;
    st->b1t.lo = st->b2t.lo = 0.0;
}

/* optimizer.step() with learning rate lr (double, from the scheduler):
 * updates p[0..1] in place from the gradients g[0..1]. mom is the momentum
 * (SGD family, RMSprop) or beta1 (Adam family, Lion) a cyclic scheduler sets
 * for this step, as PyTorch's CyclicLR / OneCycleLR set the param group's;
 * NaN: the optimizer's own hyperparameter (nothing cycles). */
OS_HD static OS_FORCEINLINE void OS_FN(os_opt_step)(const os_opt_hp *hp, OS_FN(os_opt_state) *st,
                                            OS_T p[2], const OS_T g_in[2], double lr,
                                            double mom)
{
    st->t += 1;
    const int kind = hp->kind, first = st->t == 1;
    const int cycled = mom == mom;
    const double beta1 = cycled && kind >= OS_OPT_ADAM ? mom : hp->beta1;
    /* what the per-parameter loop needs, in double, once per step */
    double c1 = 0, c2 = 0, c3 = 0;
    if (kind == OS_OPT_ADAM || kind == OS_OPT_ADAMW || kind == OS_OPT_RADAM || kind == OS_OPT_ADAMAX ||
        kind == OS_OPT_NADAM) {
        if (kind != OS_OPT_NADAM) { /* 1 - beta1**t with this step's beta1, as torch computes it */
            if (cycled)
                st->b1t = os_powdd_pow(beta1, st->t);
            else
                os_powdd_mul(&st->b1t, beta1);
        }
        os_powdd_mul(&st->b2t, hp->beta2);
        const double bc1 = 1.0 - st->b1t.hi, bc2 = 1.0 - st->b2t.hi;
        if (kind == OS_OPT_ADAM || kind == OS_OPT_ADAMW || kind == OS_OPT_ADAMAX) {
            c1 = lr / bc1; /* step_size (Adamax: clr) */
            c2 = sqrt(bc2);
            c3 = 1.0 - lr * hp->weight_decay; /* AdamW */
        } else if (kind == OS_OPT_RADAM) {
            c1 = bc1;
            const double rho_inf = 2 / (1 - hp->beta2) - 1;
            const double rho_t = rho_inf - 2 * (double)st->t * st->b2t.hi / bc2;
            c2 = rho_t > 5.0 ? sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                             : NAN; /* rect, NaN: not rectified */
            c3 = sqrt(bc2);
        } else { /* NAdam: mu_t, mu_{t+1}, the product (dtype) */
            const double t = (double)st->t, psi = hp->momentum_decay;
            const double mu = beta1 * (1.0 - 0.5 * os_pow096(t * psi));
            const double mu_next = beta1 * (1.0 - 0.5 * os_pow096((t + 1.0) * psi));
            const OS_T prod = (OS_T)st->b1t.hi * (OS_T)mu; /* mu_product, from 1 */
            const OS_T prod_next = (prod * (OS_T)mu) * (OS_T)mu_next;
            st->b1t.hi = (double)prod;
            c1 = bc2;
            c2 = -lr * (1.0 - mu) / (1.0 - (double)prod);
            c3 = -lr * mu_next / (1.0 - (double)prod_next);
        }
    } else if (kind == OS_OPT_ADAGRAD) {
        c1 = lr / (1.0 + (double)(st->t - 1) * hp->lr_decay);
    }
    /* the gradient, with the L2 term where it enters it (not adamw, lion: decoupled) */
    const int l2 = hp->weight_decay != 0 && kind != OS_OPT_ADAMW && kind != OS_OPT_LION;
    OS_T gr[2];
    for (int i = 0; i < 2; ++i) gr[i] = l2 ? OS_FMA((OS_T)hp->weight_decay, p[i], g_in[i]) : g_in[i];
    /* one dispatch per step, each optimizer's loop over the two parameters */
    switch (kind) {
    case OS_OPT_SGD: /* p <- p - lr g (a cycled momentum makes it momentum SGD, as in torch) */
    case OS_OPT_MOMENTUM: /* m <- mu m + (1-dampening) g (m <- g at t = 1); p <- p - lr m */
    case OS_OPT_NESTEROV: /* the same m; p <- p - lr (g + mu m) */
    {
        const double mu_d = cycled ? mom : hp->momentum; /* NaN (sgd): none */
        const int has_m = mu_d != 0 && mu_d == mu_d;
        const OS_T mu = (OS_T)mu_d, damp1 = (OS_T)(1.0 - (kind == OS_OPT_MOMENTUM ? hp->dampening : 0.0));
        for (int i = 0; i < 2; ++i) {
            OS_T g = gr[i];
            if (has_m) {
                if (first)
                    st->m[i] = g;
                else
                    st->m[i] = OS_FMA(damp1, g, st->m[i] * mu);
                g = kind == OS_OPT_NESTEROV ? OS_FMA(mu, st->m[i], g) : st->m[i];
            }
            p[i] = OS_FMA((OS_T)(-lr), g, p[i]);
        }
        break;
    }
    case OS_OPT_RMSPROP: /* v <- alpha v + (1-alpha) g^2; p <- p - lr g / (sqrt(v) + eps) */
        for (int i = 0; i < 2; ++i) {
            OS_T g = gr[i];
            const OS_T alpha = (OS_T)hp->alpha;
            st->v[i] = OS_FMA((OS_T)(1.0 - hp->alpha) * g, g, st->v[i] * alpha);
            OS_T avg;
            if (hp->centered != 0) { /* grad_avg u; avg = sqrt(v - u^2) */
                st->u[i] = OS_FMA((OS_T)(1.0 - hp->alpha), g, st->u[i] * alpha);
                avg = OS_SQRT(OS_FMA(-st->u[i], st->u[i], st->v[i]));
            } else {
                avg = OS_SQRT(st->v[i]);
            }
            avg = avg + (OS_T)hp->eps;
            const double mu_d = cycled ? mom : hp->momentum;
            if (mu_d > 0) { /* buf <- mu buf + g / avg (buf starts at 0); p <- p - lr buf */
                st->m[i] = st->m[i] * (OS_T)mu_d + g / avg;
                p[i] = OS_FMA((OS_T)(-lr), st->m[i], p[i]);
            } else {
                p[i] = p[i] + ((OS_T)(-lr) * g) / avg;
            }
        }
        break;
    case OS_OPT_ADAMW: /* decoupled: p <- p (1 - lr wd), then Adam */
        for (int i = 0; i < 2; ++i) {
            p[i] = p[i] * (OS_T)c3;
        }
        /* fall through */
    case OS_OPT_ADAM: /* m, v as moving averages; p <- p - lr/(1-b1^t) m / (sqrt(v)/sqrt(1-b2^t) + eps) */
        for (int i = 0; i < 2; ++i) {
            OS_T g = gr[i];
            st->m[i] = OS_FMA((OS_T)(1.0 - beta1), g, st->m[i] * (OS_T)beta1);
            st->v[i] = OS_FMA((OS_T)(1.0 - hp->beta2) * g, g, st->v[i] * (OS_T)hp->beta2);
            OS_T v = st->v[i];
            if (hp->amsgrad != 0) { /* torch.maximum: NaN propagates */
                st->u[i] = st->u[i] != st->u[i] || st->u[i] > v ? st->u[i] : v;
                v = st->u[i];
            }
            OS_T d = OS_SQRT(v) / (OS_T)c2 + (OS_T)hp->eps;
            p[i] = p[i] + ((OS_T)(-c1) * st->m[i]) / d;
        }
        break;
    case OS_OPT_NADAM: /* two addcdivs: the gradient's and the momentum's share */
        for (int i = 0; i < 2; ++i) {
            OS_T g = gr[i];
            st->m[i] = OS_FMA((OS_T)(1.0 - beta1), g, st->m[i] * (OS_T)beta1);
            st->v[i] = OS_FMA((OS_T)(1.0 - hp->beta2) * g, g, st->v[i] * (OS_T)hp->beta2);
            OS_T d = OS_SQRT(st->v[i] / (OS_T)c1) + (OS_T)hp->eps;
            p[i] = p[i] + ((OS_T)c2 * g) / d;
            p[i] = p[i] + ((OS_T)c3 * st->m[i]) / d;
        }
        break;
    case OS_OPT_RADAM: /* bias-corrected m, rectified adaptive lr once rho_t > 5 */
        for (int i = 0; i < 2; ++i) {
            OS_T g = gr[i];
            st->m[i] = OS_FMA((OS_T)(1.0 - beta1), g, st->m[i] * (OS_T)beta1);
            st->v[i] = OS_FMA((OS_T)(1.0 - hp->beta2) * g, g, st->v[i] * (OS_T)hp->beta2);
            OS_T upd = (st->m[i] / (OS_T)c1) * (OS_T)lr;
            if (c2 == c2) {
                const OS_T alr = ((OS_T)1 / (OS_SQRT(st->v[i]) + (OS_T)hp->eps)) * (OS_T)c3;
                upd = (upd * alr) * (OS_T)c2;
            }
            p[i] = OS_FMA((OS_T)-1, upd, p[i]);
        }
        break;
    case OS_OPT_ADAMAX: /* m as Adam; v <- max(v b2, |g| + eps); p <- p - lr/(1-b1^t) m / v */
        for (int i = 0; i < 2; ++i) {
            OS_T g = gr[i];
            st->m[i] = OS_FMA((OS_T)(1.0 - beta1), g, st->m[i] * (OS_T)beta1);
            const OS_T a = st->v[i] * (OS_T)hp->beta2, b = OS_FABS(g) + (OS_T)hp->eps;
            st->v[i] = a != a || a > b ? a : b; /* torch.amax: NaN propagates */
            p[i] = p[i] + ((OS_T)(-c1) * st->m[i]) / st->v[i];
        }
        break;
    case OS_OPT_ADAGRAD: /* sum <- sum + g^2 (from initial_accumulator_value); p <- p - clr g / (sqrt(sum) + eps) */
        for (int i = 0; i < 2; ++i) {
            OS_T g = gr[i];
            if (first) st->v[i] = (OS_T)hp->initial_accumulator_value;
            st->v[i] = OS_FMA(g, g, st->v[i]);
            const OS_T std = OS_SQRT(st->v[i]) + (OS_T)hp->eps;
            p[i] = p[i] + ((OS_T)(-c1) * g) / std;
        }
        break;
    case OS_OPT_ADADELTA: /* square_avg v, acc_delta m */
        for (int i = 0; i < 2; ++i) {
            OS_T g = gr[i];
            const OS_T rho = (OS_T)hp->rho, eps = (OS_T)hp->eps;
            st->v[i] = OS_FMA((OS_T)(1.0 - hp->rho) * g, g, st->v[i] * rho);
            const OS_T std = OS_SQRT(st->v[i] + eps);
            const OS_T delta = (OS_SQRT(st->m[i] + eps) / std) * g;
            st->m[i] = OS_FMA((OS_T)(1.0 - hp->rho) * delta, delta, st->m[i] * rho);
            p[i] = OS_FMA((OS_T)(-lr), delta, p[i]);
        }
        break;
    case OS_OPT_LION: /* optax: sign of the interpolation, then the moment; decoupled decay */
        for (int i = 0; i < 2; ++i) {
            OS_T g = gr[i];
            const OS_T c = (OS_T)(1.0 - beta1) * g + (OS_T)beta1 * st->m[i];
            const OS_T dir = c > 0 ? (OS_T)1 : c < 0 ? (OS_T)-1 : c; /* jnp.sign: 0 and NaN stay */
            st->m[i] = (OS_T)(1.0 - hp->beta2) * g + (OS_T)hp->beta2 * st->m[i];
            const OS_T u = dir + (OS_T)hp->weight_decay * p[i];
            p[i] = p[i] + (OS_T)(-lr) * u;
        }
        break;
    default:
        break;
    }
}
