/* dataset.c — the Earth->Mars data, --data files, and the loss minimum.
 *
 * Generated data (docs/design.md §1): x = linspace(-(A+c), A-c, N) as numpy
 * computes it, y = B sqrt(1 - (x+c)^2/A^2) + (u - 0.5) noise with u the
 * curand_uniform stream of Philox (key seed + replicate, subsequence 0).
 * Every replicate has its own noise. The loss minimum is found in double over the
 * models that keep at least half of the points unmasked (with fewer, a
 * handful of points can be fitted exactly: loss 0 at a degenerate Wa).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "orbitsweep/orbitsweep.h"
#include "orbitsweep/shuffle.h"

os_status os_dataset_generate_points(const os_spec *spec, int n, double noise, uint32_t replicate,
                                     const double *shared_x, os_dataset *d, os_error *err)
{
    memset(d, 0, sizeof *d);
    d->n = n;
    d->x = shared_x ? (double *)shared_x : malloc((size_t)d->n * sizeof *d->x);
    d->x_borrowed = shared_x != NULL;
    d->y = malloc((size_t)d->n * sizeof *d->y);
    if (!d->x || !d->y) {
        os_dataset_free(d);
        os_set_error(err, "out of memory for --n %d", n);
        return OS_ERUNTIME;
    }
    const double a = spec->a, b = spec->b, c = os_spec_offset(spec);
    const double start = -(a + c), stop = a - c;
    const double step = (stop - start) / (double)(n - 1);
    os_philox rng;
    os_philox_init(&rng, spec->seed + replicate, OS_STREAM_DATA, 0);
    for (int i = 0; i < n; ++i) {
        double x = i == n - 1 ? stop : (double)i * step + start;
        double xc = x + c;
        double s = 1.0 - (xc * xc) / (a * a);
        if (s < 0) s = 0;
        double u = (double)os_philox_uniform(&rng);
        if (!shared_x) d->x[i] = x;
        d->y[i] = b * sqrt(s) + (u - 0.5) * noise;
    }
    d->c = c;
    d->ref_wa = a;
    d->ref_wb = b;
    return OS_OK;
}

os_status os_dataset_generate(const os_spec *spec, int n, double noise, uint32_t replicate, os_dataset *d,
                              os_error *err)
{
    os_status st = os_dataset_generate_points(spec, n, noise, replicate, NULL, d, err);
    if (!st && (st = os_dataset_find_minimum(d, err))) os_dataset_free(d);
    return st;
}

static int parse_full_double(const char *s, double *out)
{
    while (*s == ' ' || *s == '\t') ++s;
    if (!*s) return 0;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    while (*end == ' ' || *end == '\t') ++end;
    if (*end || errno == ERANGE || !(fabs(v) <= 1e15)) return 0; /* (x+c)^2 must fit a float */
    *out = v;
    return 1;
}

/* A header name without the blanks around it ("x, y" names x and y). */
static int is_name(const char *field, const char *name)
{
    while (*field == ' ' || *field == '\t') ++field;
    const size_t n = strlen(name);
    if (strncmp(field, name, n) != 0) return 0;
    for (field += n; *field == ' ' || *field == '\t'; ++field) {
    }
    return *field == 0;
}

os_status os_dataset_load(const char *path, double offset, os_dataset *d, os_error *err)
{
    memset(d, 0, sizeof *d);
    os_csv r;
    /* 10^7 points of two doubles take well under 1 GiB of text */
    if (!os_csv_open(&r, path, OS_CSV_MAX_BYTES)) {
        os_set_error(err, "--data: '%s': %s", path, os_csv_why(&r));
        return OS_EINPUT;
    }
    int xcol = -1, ycol = -1, cap = 0, rc;
    os_status st = OS_OK;
    if ((rc = os_csv_next(&r)) == 1) { /* the header: columns x and y, by name */
        for (int i = 0; i < r.n_fields; ++i) {
            if (is_name(r.fields[i], "x")) xcol = i;
            if (is_name(r.fields[i], "y")) ycol = i;
        }
        if (xcol < 0 || ycol < 0) {
            os_set_error(err, "--data: '%s': line %d: the first line must be a header naming the columns x and y "
                              "(found '%.40s%s')", path, r.line, r.fields[0], r.n_fields > 1 ? ",..." : "");
            st = OS_EINPUT;
        }
    }
    while (!st && (rc = os_csv_next(&r)) == 1) {
        const int need = (xcol > ycol ? xcol : ycol) + 1;
        double x, y;
        if (r.n_fields < need) {
            os_set_error(err, "--data: '%s': line %d: expected %d fields, got %d", path, r.line, need, r.n_fields);
            st = OS_EINPUT;
            break;
        }
        if (!parse_full_double(r.fields[xcol], &x) || !parse_full_double(r.fields[ycol], &y)) {
            os_set_error(err, "--data: '%s': line %d: '%s,%s' is not a pair of numbers with |v| <= 1e15",
                         path, r.line, r.fields[xcol], r.fields[ycol]);
            st = OS_EINPUT;
            break;
        }
        if (d->n == OS_MAX_POINTS) {
            os_set_error(err, "--data: '%s': more than %d points (line %d)", path, OS_MAX_POINTS, r.line);
            st = OS_EINPUT;
            break;
        }
        if (d->n == cap) {
            cap = cap ? 2 * cap : 1024;
            double *nx = realloc(d->x, (size_t)cap * sizeof *nx);
            if (nx) d->x = nx;
            double *ny = realloc(d->y, (size_t)cap * sizeof *ny);
            if (ny) d->y = ny;
            if (!nx || !ny) {
                os_set_error(err, "--data: '%s': out of memory", path);
                st = OS_ERUNTIME;
                break;
            }
        }
        d->x[d->n] = x;
        d->y[d->n] = y;
        d->n += 1;
    }
    if (st == OS_OK && rc == OS_CSV_NOMEM) {
        os_set_error(err, "--data: '%s': out of memory", path);
        st = OS_ERUNTIME;
    }
    if (st == OS_OK && rc < 0) {
        os_set_error(err, "--data: '%s': %s", path, r.problem);
        st = OS_EINPUT;
    }
    if (st == OS_OK && d->n < 2) {
        os_set_error(err, "--data: '%s': needs at least 2 data points, found %d", path, d->n);
        st = OS_EINPUT;
    }
    os_csv_close(&r);
    if (st) {
        os_dataset_free(d);
        return st;
    }
    d->c = offset;
    if ((st = os_dataset_find_minimum(d, err))) {
        os_dataset_free(d);
        return st;
    }
    d->ref_wa = d->min_wa;
    d->ref_wb = d->min_wb;
    return OS_OK;
}

os_status os_dataset_make(const os_spec *spec, uint32_t replicate, os_dataset *out, os_error *err)
{
    if (spec->data_file) return os_dataset_load(spec->data_file, os_spec_offset(spec), out, err);
    /* one n and one noise, the same in every block */
    static const int one[] = {OS_AX_N, OS_AX_NOISE};
    double v[2];
    for (int k = 0; k < 2; ++k)
        for (size_t b = 0; b < os_spec_n_blocks(spec); ++b) {
            const int *given, *dist;
            int64_t n_samples;
            const os_list *l = &os_spec_block_axes(spec, b, &given)[one[k]];
            os_spec_block_sampling(spec, b, &dist, &n_samples);
            if (l->n != 1 || dist[one[k]] != OS_DIST_LIST || (b && l->v[0] != v[k])) {
                os_set_error(err, "%s: takes one value here (one dataset; a sweep takes several)", os_axes[one[k]].flag);
                return OS_EINPUT;
            }
            v[k] = l->v[0];
        }
    return os_dataset_generate(spec, (int)v[0], v[1], replicate, out, err);
}

double os_dataset_loss(const os_dataset *d, double wa, double wb)
{
    if (!os_final_loss_defined(wa, wb, 0)) return NAN;
    /* the model's own math and canonical order (model.h), in double, with
     * the data in data order: the backends compute the same bits */
    os_acc_f64 part[OS_PARTIALS];
    for (int p = 0; p < OS_PARTIALS; ++p) os_acc_zero_f64(&part[p]);
    const os_fwd_f64 f = os_fwd_make_f64(wa, wb);
    for (int i = 0; i < d->n; ++i)
        os_point_f64(&f, os_point_d2_f64(d->x[i], d->c), d->y[i], &part[i % OS_PARTIALS]);
    return os_loss_mean(os_acc_tree_f64(part));
}

/* min over Wb of the loss at Wa, in one pass: Wb = sum(y r) / sum(r^2) and
 * loss = (sum y^2 - Wb sum(y r)) / K, which cancels: good for the scan. */
static double profile_loss(const os_dataset *d, double wa, double *wb_out)
{
    double syy = 0, syr = 0, srr = 0, inv = 1.0 / (wa * wa);
    int k = 0;
    for (int i = 0; i < d->n; ++i) {
        double xc = d->x[i] + d->c, y = d->y[i];
        double s = 1.0 - xc * xc * inv;
        int on = s >= 0;
        double r = sqrt(on ? s : 0.0);
        syy += on ? y * y : 0.0;
        syr += y * r;
        srr += on ? s : 0.0;
        k += on;
    }
    if (!(srr > 0)) return INFINITY;
    *wb_out = syr / srr;
    return (syy - *wb_out * syr) / k;
}

/* The same with the loss evaluated exactly (no cancellation), for the final
 * refinement. */
static double profile_loss_exact(const os_dataset *d, double wa, double *wb_out)
{
    double l = profile_loss(d, wa, wb_out);
    return isinf(l) ? l : os_dataset_loss(d, wa, *wb_out);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

os_status os_dataset_find_minimum(os_dataset *d, os_error *err)
{
    double *ad = malloc((size_t)d->n * sizeof *ad);
    if (!ad) {
        os_set_error(err, "out of memory for a dataset of %d points", d->n);
        return OS_ERUNTIME;
    }
    for (int i = 0; i < d->n; ++i) ad[i] = fabs(d->x[i] + d->c);
    qsort(ad, (size_t)d->n, sizeof *ad, cmp_double);
    double lo = ad[(d->n - 1) / 2], hi = 4.0 * ad[d->n - 1];
    free(ad);
    if (!(lo > 0)) lo = hi * 1e-6;
    if (!(hi > lo)) hi = lo * 2 + 1;

    /* a dense log-spaced scan, then golden-section around the best sample */
    long m = 300;
    if ((double)m * d->n > 1e7) m = (long)(1e7 / d->n);
    if (m < 50) m = 50;
    double best_wa = lo, best_wb = 0.0, best = INFINITY;
    const double ratio = log(hi / lo);
    long best_i = 0;
    for (long i = 0; i < m; ++i) {
        double wa = lo * exp(ratio * (double)i / (double)(m - 1)), wb = 0;
        double l = profile_loss(d, wa, &wb);
        if (l < best) best = l, best_wa = wa, best_wb = wb, best_i = i;
    }
    double u = lo * exp(ratio * (double)(best_i > 0 ? best_i - 1 : 0) / (double)(m - 1));
    double v = lo * exp(ratio * (double)(best_i < m - 1 ? best_i + 1 : m - 1) / (double)(m - 1));
    const double g = 0.6180339887498949;
    double p = v - g * (v - u), q = u + g * (v - u), wbp = 0, wbq = 0;
    double lp = profile_loss_exact(d, p, &wbp), lq = profile_loss_exact(d, q, &wbq);
    best = INFINITY; /* from here on, exact losses only */
    for (int it = 0; it < 100 && v - u > 1e-12 * v; ++it) {
        if (lp < lq) {
            v = q, q = p, lq = lp, wbq = wbp;
            p = v - g * (v - u);
            lp = profile_loss_exact(d, p, &wbp);
        } else {
            u = p, p = q, lp = lq, wbp = wbq;
            q = u + g * (v - u);
            lq = profile_loss_exact(d, q, &wbq);
        }
        if (lp < best) best = lp, best_wa = p, best_wb = wbp;
        if (lq < best) best = lq, best_wa = q, best_wb = wbq;
    }
    d->min_loss = os_dataset_loss(d, best_wa, best_wb);
    d->min_wa = best_wa;
    d->min_wb = best_wb;
    return OS_OK;
}

/* ------------------------------------------------------------------------ */
/* the minima of many datasets with the same x                               */
/*                                                                           */
/* The generated replicates differ only in y, so everything of the search   */
/* above that does not involve y is done once (os_minscan): the Wa range and */
/* samples, and per sample its 1/Wa^2, the masks, sqrt(s), sum(s) and K.     */
/* Per dataset the scan is then two dot products in data order (sum y r,     */
/* sum y^2 over the unmasked points); the golden-section refinement runs     */
/* OS_MIN_LANES datasets side by side, each on its own Wa. Every sum is the  */
/* reference's, term by term and in its order, so the doubles are the same; */
/* only the loops across datasets are new (SIMD lanes).                      */

#define OS_MIN_LANES 16     /* datasets side by side */
#define OS_MIN_MAX_N 32768  /* larger datasets take the reference path */

struct os_minscan {
    int n;
    double c, lo, hi;
    long m;                 /* scan samples */
    double *x;              /* a copy of the points: datasets with other x are not this scan's */
    double *d2;             /* (x_i + c)^2 */
    double *wa, *inv, *srr; /* per sample: Wa, 1/Wa^2, sum of s over the unmasked points */
    int *k;                 /* per sample: unmasked points */
    double *r;              /* [j*n + i]: sqrt(s) of point i at sample j, 0 where masked */
    unsigned char *on;      /* [j*n + i]: point i unmasked at sample j */
    unsigned char *same_on; /* sample j masks what sample j-1 masks */
};

void os_minscan_free(os_minscan *sc)
{
    if (!sc) return;
    free(sc->x);
    free(sc->d2);
    free(sc->wa);
    free(sc->inv);
    free(sc->srr);
    free(sc->k);
    free(sc->r);
    free(sc->on);
    free(sc->same_on);
    free(sc);
}

/* The Wa range of os_dataset_find_minimum (the same code). */
static int minimum_range(const os_dataset *d, double *lo_out, double *hi_out)
{
    double *ad = malloc((size_t)d->n * sizeof *ad);
    if (!ad) return 0;
    for (int i = 0; i < d->n; ++i) ad[i] = fabs(d->x[i] + d->c);
    qsort(ad, (size_t)d->n, sizeof *ad, cmp_double);
    double lo = ad[(d->n - 1) / 2], hi = 4.0 * ad[d->n - 1];
    free(ad);
    if (!(lo > 0)) lo = hi * 1e-6;
    if (!(hi > lo)) hi = lo * 2 + 1;
    *lo_out = lo;
    *hi_out = hi;
    return 1;
}

static long minimum_samples(int n)
{
    long m = 300;
    if ((double)m * n > 1e7) m = (long)(1e7 / n);
    if (m < 50) m = 50;
    return m;
}

os_status os_minscan_make(const os_dataset *d, os_minscan **out, os_error *err)
{
    *out = NULL;
    os_minscan *sc = calloc(1, sizeof *sc);
    const int n = d->n;
    const long m = minimum_samples(n);
    if (sc) {
        sc->n = n;
        sc->c = d->c;
        sc->m = m;
        sc->x = malloc((size_t)n * sizeof *sc->x);
        sc->d2 = malloc((size_t)n * sizeof *sc->d2);
        sc->wa = malloc((size_t)m * sizeof *sc->wa);
        sc->inv = malloc((size_t)m * sizeof *sc->inv);
        sc->srr = malloc((size_t)m * sizeof *sc->srr);
        sc->k = malloc((size_t)m * sizeof *sc->k);
        if (n <= OS_MIN_MAX_N) {
            sc->r = malloc((size_t)m * (size_t)n * sizeof *sc->r);
            sc->on = malloc((size_t)m * (size_t)n);
            sc->same_on = malloc((size_t)m);
        }
    }
    if (!sc || !sc->x || !sc->d2 || !sc->wa || !sc->inv || !sc->srr || !sc->k ||
        (n <= OS_MIN_MAX_N && (!sc->r || !sc->on || !sc->same_on)) || !minimum_range(d, &sc->lo, &sc->hi)) {
        os_minscan_free(sc);
        os_set_error(err, "out of memory for the loss minimum of %d points", n);
        return OS_ERUNTIME;
    }
    memcpy(sc->x, d->x, (size_t)n * sizeof *sc->x);
    for (int i = 0; i < n; ++i) {
        const double xc = d->x[i] + d->c;
        sc->d2[i] = xc * xc;
    }
    const double ratio = log(sc->hi / sc->lo);
    for (long j = 0; j < m; ++j) {
        /* profile_loss's terms that do not involve y, in its order */
        const double wa = sc->lo * exp(ratio * (double)j / (double)(m - 1)), inv = 1.0 / (wa * wa);
        double srr = 0;
        int k = 0;
        for (int i = 0; i < n; ++i) {
            const double s = 1.0 - sc->d2[i] * inv;
            const int on = s >= 0;
            srr += on ? s : 0.0;
            k += on;
        }
        sc->wa[j] = wa;
        sc->inv[j] = inv;
        sc->srr[j] = srr;
        sc->k[j] = k;
        if (!sc->r) continue;
        double *r = sc->r + (size_t)j * (size_t)n;
        unsigned char *on = sc->on + (size_t)j * (size_t)n;
        for (int i = 0; i < n; ++i) {
            const double s = 1.0 - sc->d2[i] * inv;
            on[i] = s >= 0;
            r[i] = sqrt(on[i] ? s : 0.0);
        }
        sc->same_on[j] = j > 0 && memcmp(on, on - n, (size_t)n) == 0;
    }
    *out = sc;
    return OS_OK;
}

/* Whether dataset d has the scan's points (and so its scan). */
static int minscan_fits(const os_minscan *sc, const os_dataset *d)
{
    return sc->r && d->n == sc->n && memcmp(&d->c, &sc->c, sizeof d->c) == 0 &&
           (d->x == sc->x || memcmp(d->x, sc->x, (size_t)d->n * sizeof *d->x) == 0);
}

#define L OS_MIN_LANES

/* The scan's y sums of every lane at four samples (their rows of r and on),
 * each in data order as profile_loss: sum y r (r = 0 where masked) and sum
 * y^2 over the unmasked points. Four samples at once: the sums of one
 * sample are a chain of dependent adds, four of them keep the adders busy. */
static __attribute__((noinline)) void lanes_syr4(const double *restrict r0, const double *restrict r1,
                                                 const double *restrict r2, const double *restrict r3,
                                                 const double *restrict yt, int n, double (*restrict syr)[L])
{
    double a0[L], a1[L], a2[L], a3[L];
    for (int l = 0; l < L; ++l) a0[l] = a1[l] = a2[l] = a3[l] = 0;
    for (int i = 0; i < n; ++i) {
        const double q0 = r0[i], q1 = r1[i], q2 = r2[i], q3 = r3[i];
        const double *yi = yt + (size_t)i * L;
#pragma omp simd
        for (int l = 0; l < L; ++l) {
            a0[l] += yi[l] * q0;
            a1[l] += yi[l] * q1;
            a2[l] += yi[l] * q2;
            a3[l] += yi[l] * q3;
        }
    }
    for (int l = 0; l < L; ++l) syr[0][l] = a0[l], syr[1][l] = a1[l], syr[2][l] = a2[l], syr[3][l] = a3[l];
}

static __attribute__((noinline)) void lanes_syy4(const unsigned char *restrict on0, const unsigned char *restrict on1,
                                                 const unsigned char *restrict on2, const unsigned char *restrict on3,
                                                 const double *restrict yy, int n, double (*restrict syy)[L])
{
    double a0[L], a1[L], a2[L], a3[L];
    for (int l = 0; l < L; ++l) a0[l] = a1[l] = a2[l] = a3[l] = 0;
    for (int i = 0; i < n; ++i) {
        const int o0 = on0[i], o1 = on1[i], o2 = on2[i], o3 = on3[i];
        const double *yi = yy + (size_t)i * L;
#pragma omp simd
        for (int l = 0; l < L; ++l) {
            a0[l] += o0 ? yi[l] : 0.0;
            a1[l] += o1 ? yi[l] : 0.0;
            a2[l] += o2 ? yi[l] : 0.0;
            a3[l] += o3 ? yi[l] : 0.0;
        }
    }
    for (int l = 0; l < L; ++l) syy[0][l] = a0[l], syy[1][l] = a1[l], syy[2][l] = a2[l], syy[3][l] = a3[l];
}

/* profile_loss of every lane at its own Wa (pass 1), keeping each point's
 * sqrt(max(s, 0)) (NaN stays NaN) for os_dataset_loss's pass. */
static __attribute__((noinline)) void lanes_profile(const double *restrict d2, const double *restrict yt,
                                                    const double *restrict yy, int n,
                                                    const double *restrict inv, double *restrict rs,
                                                    double *restrict syy, double *restrict syr,
                                                    double *restrict srr, int *restrict k)
{
    for (int l = 0; l < L; ++l) syy[l] = syr[l] = srr[l] = 0, k[l] = 0;
    for (int i = 0; i < n; ++i) {
        const double di = d2[i];
        const double *yi = yt + (size_t)i * L, *yyi = yy + (size_t)i * L;
        double *ri = rs + (size_t)i * L;
#pragma omp simd
        for (int l = 0; l < L; ++l) {
            const double s = 1.0 - di * inv[l];
            const int on = s >= 0;
            const double rr = sqrt(s < 0 ? 0.0 : s); /* = sqrt(s) where unmasked */
            const double r = on ? rr : 0.0;          /* profile_loss's sqrt(on ? s : 0) */
            ri[l] = rr;
            syy[l] += on ? yyi[l] : 0.0;
            syr[l] += yi[l] * r;
            srr[l] += on ? s : 0.0;
            k[l] += on;
        }
    }
}

/* os_dataset_loss's partial sums of every lane at (Wa, Wb): os_point_add's
 * loss term and count, point i into partial i mod 8, r from lanes_profile. */
static __attribute__((noinline)) void lanes_loss(const double *restrict d2, const double *restrict yt, int n,
                                                 const double *restrict inv, const double *restrict wb,
                                                 const double *restrict rs, double (*restrict pl)[L],
                                                 int (*restrict pk)[L])
{
    for (int p = 0; p < OS_PARTIALS; ++p)
        for (int l = 0; l < L; ++l) pl[p][l] = 0, pk[p][l] = 0;
    for (int i = 0; i < n; ++i) {
        const double di = d2[i];
        const double *yi = yt + (size_t)i * L, *ri = rs + (size_t)i * L;
        double *al = pl[i % OS_PARTIALS];
        int *ak = pk[i % OS_PARTIALS];
#pragma omp simd
        for (int l = 0; l < L; ++l) {
            const double s = 1.0 - di * inv[l];
            const int masked = s < 0;
            const double r = masked ? 1.0 : ri[l]; /* sqrt(masked ? 1 : s) */
            const double e = wb[l] * r - yi[l];
            al[l] += masked ? 0.0 : e * e;
            ak[l] += !masked;
        }
    }
}

/* profile_loss_exact of every lane at wa[l]: the loss into loss[l]; wb[l]
 * is set where profile_loss sets it. */
static void lanes_exact(const os_minscan *sc, const double *yt, const double *yy, double *rs,
                        const double *wa, double *loss, double *wb)
{
    double inv[L], syy[L], syr[L], srr[L], wbl[L];
    int k[L], exact = 0, need[L];
    for (int l = 0; l < L; ++l) inv[l] = 1.0 / (wa[l] * wa[l]);
    lanes_profile(sc->d2, yt, yy, sc->n, inv, rs, syy, syr, srr, k);
    for (int l = 0; l < L; ++l) {
        need[l] = 0;
        wbl[l] = 0;
        if (!(srr[l] > 0)) {
            loss[l] = INFINITY;
            continue;
        }
        wb[l] = syr[l] / srr[l];
        const double lp = (syy[l] - wb[l] * syr[l]) / k[l];
        if (isinf(lp)) {
            loss[l] = lp;
        } else if (!os_final_loss_defined(wa[l], wb[l], 0)) {
            loss[l] = NAN;
        } else {
            need[l] = exact = 1;
            wbl[l] = wb[l];
        }
    }
    if (!exact) return;
    double pl[OS_PARTIALS][L];
    int pk[OS_PARTIALS][L];
    lanes_loss(sc->d2, yt, sc->n, inv, wbl, rs, pl, pk);
    for (int l = 0; l < L; ++l) {
        if (!need[l]) continue;
        os_acc_f64 part[OS_PARTIALS];
        for (int p = 0; p < OS_PARTIALS; ++p) part[p].l = pl[p][l], part[p].a = part[p].b = 0, part[p].k = pk[p][l];
        loss[l] = os_loss_mean(os_acc_tree_f64(part));
    }
}

/* os_dataset_find_minimum of up to L datasets with the scan's points. */
static void minima_lanes(const os_minscan *sc, os_dataset *ds, int cnt, double *yt, double *yy, double *rs)
{
    const int n = sc->n;
    const long m = sc->m;
    for (int i = 0; i < n; ++i)
        for (int l = 0; l < L; ++l) {
            const double y = ds[l < cnt ? l : 0].y[i];
            yt[(size_t)i * L + l] = y;
            yy[(size_t)i * L + l] = y * y;
        }
    /* the scan */
    double best[L], best_wa[L], best_wb[L], syy[4][L], syr[4][L];
    long best_i[L];
    for (int l = 0; l < L; ++l) best[l] = INFINITY, best_wa[l] = sc->lo, best_wb[l] = 0, best_i[l] = 0;
    for (long j0 = 0; j0 < m; j0 += 4) {
        /* samples j0 .. j0+3 (past the last: the last again, unused) */
        const double *r[4];
        const unsigned char *on[4];
        int fresh = 0; /* a sample whose mask is not its predecessor's */
        for (int t = 0; t < 4; ++t) {
            const long j = j0 + t < m ? j0 + t : m - 1;
            r[t] = sc->r + (size_t)j * (size_t)n;
            on[t] = sc->on + (size_t)j * (size_t)n;
            fresh |= j0 + t < m && !sc->same_on[j];
        }
        lanes_syr4(r[0], r[1], r[2], r[3], yt, n, syr);
        if (fresh) /* else every sample has the mask, and so the sums, of sample j0-1 */
            lanes_syy4(on[0], on[1], on[2], on[3], yy, n, syy);
        else
            for (int t = 0; t < 3; ++t) memcpy(syy[t], syy[3], sizeof syy[t]);
        for (int t = 0; t < 4 && j0 + t < m; ++t) {
            const long j = j0 + t;
            if (!(sc->srr[j] > 0)) continue; /* profile_loss is inf: never below best */
            for (int l = 0; l < L; ++l) {
                const double wb = syr[t][l] / sc->srr[j], lj = (syy[t][l] - wb * syr[t][l]) / sc->k[j];
                if (lj < best[l]) best[l] = lj, best_wa[l] = sc->wa[j], best_wb[l] = wb, best_i[l] = j;
            }
        }
    }
    /* golden section, every lane on its own points, in lockstep */
    const double g = 0.6180339887498949;
    double u[L], v[L], p[L], q[L], lp[L], lq[L], wbp[L], wbq[L], at[L], lt[L], wbt[L];
    int act[L], side[L];
    for (int l = 0; l < L; ++l) {
        u[l] = sc->wa[best_i[l] > 0 ? best_i[l] - 1 : 0];
        v[l] = sc->wa[best_i[l] < m - 1 ? best_i[l] + 1 : m - 1];
        p[l] = v[l] - g * (v[l] - u[l]);
        q[l] = u[l] + g * (v[l] - u[l]);
        wbp[l] = wbq[l] = 0;
        act[l] = 1;
    }
    lanes_exact(sc, yt, yy, rs, p, lp, wbp);
    lanes_exact(sc, yt, yy, rs, q, lq, wbq);
    for (int l = 0; l < L; ++l) best[l] = INFINITY; /* from here on, exact losses only */
    for (int it = 0; it < 100; ++it) {
        int any = 0;
        for (int l = 0; l < L; ++l) {
            act[l] = act[l] && v[l] - u[l] > 1e-12 * v[l];
            any |= act[l];
            side[l] = 0;
            at[l] = p[l];
            wbt[l] = wbp[l];
            if (!act[l]) continue;
            if (lp[l] < lq[l]) {
                v[l] = q[l], q[l] = p[l], lq[l] = lp[l], wbq[l] = wbp[l];
                p[l] = v[l] - g * (v[l] - u[l]);
                at[l] = p[l], wbt[l] = wbp[l];
            } else {
                u[l] = p[l], p[l] = q[l], lp[l] = lq[l], wbp[l] = wbq[l];
                q[l] = u[l] + g * (v[l] - u[l]);
                at[l] = q[l], wbt[l] = wbq[l], side[l] = 1;
            }
        }
        if (!any) break;
        lanes_exact(sc, yt, yy, rs, at, lt, wbt);
        for (int l = 0; l < L; ++l) {
            if (!act[l]) continue;
            if (side[l])
                lq[l] = lt[l], wbq[l] = wbt[l];
            else
                lp[l] = lt[l], wbp[l] = wbt[l];
            if (lp[l] < best[l]) best[l] = lp[l], best_wa[l] = p[l], best_wb[l] = wbp[l];
            if (lq[l] < best[l]) best[l] = lq[l], best_wa[l] = q[l], best_wb[l] = wbq[l];
        }
    }
    for (int l = 0; l < cnt; ++l) {
        ds[l].min_loss = os_dataset_loss(&ds[l], best_wa[l], best_wb[l]);
        ds[l].min_wa = best_wa[l];
        ds[l].min_wb = best_wb[l];
    }
}

#undef L

os_status os_dataset_find_minima(const os_minscan *sc, os_dataset *ds, size_t count, os_error *err)
{
    const size_t per = (size_t)sc->n * OS_MIN_LANES;
    double *buf = sc->r ? malloc(3 * per * sizeof *buf) : NULL;
    size_t i = 0;
    os_status st = OS_OK;
    while (!st && i < count) {
        /* the next run of datasets with the scan's points, OS_MIN_LANES at most */
        if (!buf || !minscan_fits(sc, &ds[i])) {
            st = os_dataset_find_minimum(&ds[i++], err);
            continue;
        }
        size_t cnt = 1;
        while (cnt < OS_MIN_LANES && i + cnt < count && minscan_fits(sc, &ds[i + cnt])) ++cnt;
        minima_lanes(sc, ds + i, (int)cnt, buf, buf + per, buf + 2 * per);
        i += cnt;
    }
    free(buf);
    return st;
}

void os_dataset_free(os_dataset *d)
{
    if (!d->x_borrowed) free(d->x);
    free(d->y);
    memset(d, 0, sizeof *d);
}
