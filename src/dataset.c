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

static int dataset_alloc(os_dataset *d, int n)
{
    memset(d, 0, sizeof *d);
    d->n = n;
    d->x = malloc((size_t)n * sizeof *d->x);
    d->y = malloc((size_t)n * sizeof *d->y);
    return d->x && d->y;
}

os_status os_dataset_generate(const os_spec *spec, uint32_t replicate, os_dataset *d,
                              os_error *err)
{
    if (!dataset_alloc(d, spec->n)) {
        os_dataset_free(d);
        os_set_error(err, "out of memory for --n %d", spec->n);
        return OS_ERUNTIME;
    }
    const double a = spec->a, b = spec->b, c = os_spec_offset(spec);
    const double start = -(a + c), stop = a - c;
    const double step = (stop - start) / (double)(spec->n - 1);
    os_philox rng;
    os_philox_init(&rng, spec->seed + replicate, OS_STREAM_DATA, 0);
    for (int i = 0; i < spec->n; ++i) {
        double x = i == spec->n - 1 ? stop : (double)i * step + start;
        double xc = x + c;
        double s = 1.0 - (xc * xc) / (a * a);
        if (s < 0) s = 0;
        double u = (double)os_philox_uniform(&rng);
        d->x[i] = x;
        d->y[i] = b * sqrt(s) + (u - 0.5) * spec->noise;
    }
    d->c = c;
    d->ref_wa = a;
    d->ref_wb = b;
    os_status st = os_dataset_find_minimum(d, err);
    if (st) os_dataset_free(d);
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
    return os_dataset_generate(spec, replicate, out, err);
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

void os_dataset_free(os_dataset *d)
{
    free(d->x);
    free(d->y);
    memset(d, 0, sizeof *d);
}
