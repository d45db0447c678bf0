/* results.c — the results table (docs/design.md §4): one row per training.
 *
 * Columns: trial, then one per sweep axis (axes.h, in table order), seed,
 * then the measured columns of the table below. A hyperparameter the
 * training's optimizer does not use is an empty field. The same table is
 * also written as a numpy .npz archive of columns (NaN and -1 for the empty
 * fields; optimizer, scheduler and the choice axes as codes into their
 * names), and filled
 * into the caller's column arrays (os_results_fill: the Python package)
 * from the same code.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "csv.h"
#include "npz.h"
#include "orbitsweep/orbitsweep.h"

#define OS_MAX_WRITERS 64 /* threads formatting the results table */

/* Rows are formatted straight into memory: a row is at most this many
 * bytes plus its scheduler's field. */
#define ROW_BYTES (40 * (OS_AX_COUNT + 16) + 64)

static char *put_text(char *o, const char *s, size_t n)
{
    memcpy(o, s, n);
    return o + n;
}

static char *put_u64(char *o, uint64_t v)
{
    char t[24];
    int n = 0;
    do t[n++] = (char)('0' + v % 10); while ((v /= 10) != 0);
    while (n) *o++ = t[--n];
    return o;
}

static char *put_i64(char *o, int64_t v)
{
    if (v < 0) *o++ = '-';
    return put_u64(o, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
}

static char *put_double(char *o, double v) { return o + os_fmt_double(o, 40, v); }

/* A double field; NaN (a hyperparameter the optimizer does not use) is empty. */
static char *put_opt(char *o, double v) { return isnan(v) ? o : put_double(o, v); }

/* final_wa and final_wb in the training dtype. */
static char *put_param(char *o, int f32, double v)
{
    return f32 ? o + os_fmt_float(o, 40, (float)v) : put_opt(o, v);
}

/* The measured columns, after the sweep axes and the seed: name and kind.
 * Both writers (CSV here, .npz below) take a row's values from
 * measured_value. */
enum {
    M_PARAM,    /* the training dtype's value (CSV: float32 digits; .npz: <f4) */
    M_REAL,     /* a double; NaN prints "nan" */
    M_REAL_OPT, /* a double; NaN (none) is an empty field */
    M_INT,      /* an integer */
    M_INT_OPT,  /* an integer; -1 (none) is an empty field */
};

enum { COL_FINAL_LR = 8 };
static const struct {
    const char *name;
    int kind;
} measured[] = {
    {"final_wa", M_PARAM},       {"final_wb", M_PARAM},           {"final_loss", M_REAL},
    {"loss_gap", M_REAL},        {"param_error", M_REAL},         {"steps_to_target", M_INT_OPT},
    {"diverged", M_INT},         {"best_loss", M_REAL_OPT},       {"final_lr", M_REAL_OPT},
    {"diverged_at", M_INT_OPT},  {"epochs_to_target", M_INT_OPT}, {"masked_batches", M_INT},
    {"oscillation", M_REAL_OPT}, {"path_length", M_REAL},
};
#define N_MEASURED (sizeof measured / sizeof measured[0])

typedef union mval {
    double d;
    int64_t i;
} mval;

/* Measured column k of trial i (of sw) with result r. */
static inline __attribute__((always_inline)) mval measured_value(const os_sweep *sw, size_t i, const os_result *r, size_t k)
{
    mval v;
    switch (k) {
    case 0: v.d = r->final_wa; break;
    case 1: v.d = r->final_wb; break;
    case 2: v.d = r->final_loss; break;
    case 3: v.d = r->loss_gap; break;
    case 4: v.d = r->param_error; break;
    case 5: v.i = r->steps_to_target >= 0 ? r->steps_to_target : -1; break;
    case 6: v.i = r->diverged; break;
    case 7: v.d = r->best_loss; break;
    case COL_FINAL_LR: v.d = r->final_lr; break;
    case 9: v.i = r->diverged ? r->updates - 1 : -1; break;
    case 10: {
        v.i = -1;
        if (r->steps_to_target < 0) break;
        const int64_t n = os_sweep_dataset(sw, i)->n, bs = sw->trials[i].batch_size, per_epoch = (n + bs - 1) / bs;
        v.i = (r->steps_to_target + per_epoch - 1) / per_epoch;
        break;
    }
    case 11: v.i = r->masked_batches; break;
    case 12: v.d = r->oscillation; break;
    default: v.d = r->path_length; break;
    }
    return v;
}

/* Axis a of trial t's field (the axes' table, straight-line code), as bits:
 * equal bits, equal text. */
static inline uint64_t field_bits(const void *p, size_t size)
{
    uint64_t b = 0;
    memcpy(&b, p, size);
    return b;
}

static void axis_bits(const os_trial *t, uint64_t bits[OS_AX_COUNT])
{
#define OS_X(ID, column, flag, type, member, ...) bits[OS_AX_##ID] = field_bits(&t->member, sizeof t->member);
    OS_AXES(OS_X)
#undef OS_X
}

/* Axis a's field of trial t (empty where unused). */
static char *put_axis(char *o, const os_trial *t, int a, char *const *sched_fields)
{
    switch (os_axes[a].type) {
    case OS_AXT_OPT: {
        const char *name = os_optimizer_name(t->opt.kind);
        return put_text(o, name, strlen(name));
    }
    case OS_AXT_SCHED: return put_text(o, sched_fields[t->sched], strlen(sched_fields[t->sched]));
    case OS_AXT_CHOICE: {
        const char *name = os_axis_choices(a)[(int)os_trial_axis(t, a)];
        return put_text(o, name, strlen(name));
    }
    case OS_AXT_INT: return put_i64(o, (int64_t)os_trial_axis(t, a));
    case OS_AXT_BOOL: { /* true / false, empty where unused */
        const double v = os_trial_axis(t, a);
        return isnan(v) ? o : v != 0 ? put_text(o, "true", 4) : put_text(o, "false", 5);
    }
    default: return put_opt(o, os_trial_axis(t, a));
    }
}

/* The previous row's axis columns: their fields' bits and where each
 * field (its comma first) starts. Neighbouring rows mostly share their
 * axes' values (a configuration's seeds all of them, an lr grid's rows
 * all but lr), so a row copies the runs of unchanged fields from the row
 * before it and formats only the others (a writer thread has its own;
 * prev NULL: no row before, in this buffer). */
typedef struct row_cache {
    const char *prev;
    uint64_t bits[OS_AX_COUNT];
    uint32_t at[OS_AX_COUNT + 1]; /* offsets from prev; at[OS_AX_COUNT]: the end */
} row_cache;

/* The axis columns of trial t, each after a comma; c becomes this row's
 * (updated in place: entries a.. are still the row before's at axis a). */
static char *put_axes(char *o, const os_trial *t, char *const *sched_fields, row_cache *c)
{
    uint64_t bits[OS_AX_COUNT];
    axis_bits(t, bits);
    char *const start = o;
    for (int a = 0; a < OS_AX_COUNT;) {
        if (c->prev && bits[a] == c->bits[a]) { /* a run of unchanged fields: one copy */
            int b = a + 1;
            while (b < OS_AX_COUNT && bits[b] == c->bits[b]) ++b;
            const uint32_t from = c->at[a], len = c->at[b] - from, shift = (uint32_t)(o - start) - from;
            memcpy(o, c->prev + from, len);
            for (; a < b; ++a) c->at[a] += shift;
            o += len;
        } else {
            c->at[a] = (uint32_t)(o - start);
            c->bits[a] = bits[a];
            *o++ = ',';
            o = put_axis(o, t, a, sched_fields);
            ++a;
        }
    }
    c->at[OS_AX_COUNT] = (uint32_t)(o - start);
    c->prev = start;
    return o;
}

/* One row: trial, the axes, seed, the measured columns. */
static char *put_row(char *o, const os_sweep *sw, const os_result *r, size_t i, char *const *sched_fields,
                     row_cache *cache)
{
    const os_trial *t = &sw->trials[i];
    o = put_u64(o, sw->first + i);
    o = put_axes(o, t, sched_fields, cache);
    *o++ = ',';
    o = put_u64(o, t->seed);
    const int f32 = t->dtype == OS_DTYPE_F32;
#pragma GCC unroll 16 /* each column's kind and value known at compile time: no switch per field */
    for (size_t k = 0; k < N_MEASURED; ++k) {
        *o++ = ',';
        const mval v = measured_value(sw, i, r, k);
        switch (measured[k].kind) {
        case M_PARAM: o = put_param(o, f32, v.d); break;
        case M_REAL: o = put_double(o, v.d); break;
        case M_REAL_OPT:
            if (k == COL_FINAL_LR && v.d == t->lr && !signbit(v.d)) { /* a constant schedule: lr's text, as above */
                const uint32_t from = cache->at[OS_AX_LR] + 1, to = cache->at[OS_AX_LR + 1];
                memcpy(o, cache->prev + from, to - from);
                o += to - from;
            } else {
                o = put_opt(o, v.d);
            }
            break;
        case M_INT: o = put_i64(o, v.i); break;
        default:
            if (v.i >= 0) o = put_i64(o, v.i);
            break;
        }
    }
    *o++ = '\n';
    return o;
}

int os_write_header(FILE *f)
{
    fputs("trial", f);
    for (int a = 0; a < OS_AX_COUNT; ++a) fprintf(f, ",%s", os_axes[a].column);
    fputs(",seed", f);
    for (size_t k = 0; k < N_MEASURED; ++k) fprintf(f, ",%s", measured[k].name);
    fputc('\n', f);
    return ferror(f) ? -1 : 0;
}

/* Each scheduler's field as the table writes it (quoted when it must be). */
static char **sched_fields(const os_spec *s, size_t *longest)
{
    char **out = calloc(s->n_scheds ? s->n_scheds : 1, sizeof *out);
    *longest = 0;
    for (size_t k = 0; out && k < s->n_scheds; ++k) {
        size_t len = 0;
        FILE *m = open_memstream(&out[k], &len);
        if (m) os_csv_put_field(m, s->scheds[k].name);
        if (!m || fclose(m) != 0) {
            for (size_t j = 0; j <= k; ++j) free(out[j]);
            free(out);
            return NULL;
        }
        *longest = len > *longest ? len : *longest;
    }
    return out;
}

/* Rows are formatted in parallel (shortest round-trip digits are not
 * free), a chunk of CHUNK_ROWS at a time cut into PIECES pieces that the
 * threads take as they come, each piece into its own buffer; one thread
 * first writes the previous chunk's pieces, in order, so the writing
 * overlaps the formatting. The same bytes for any thread count. */
#define CHUNK_ROWS 16384
#define PIECES 32

int os_write_rows(FILE *f, const os_sweep *sw, const os_result *res)
{
    size_t longest;
    char **fields = sched_fields(sw->spec, &longest);
    if (!fields) return -1;
    const size_t n = sw->n_trials, row_max = ROW_BYTES + longest, piece_rows = CHUNK_ROWS / PIECES;
    const size_t n_chunks = (n + CHUNK_ROWS - 1) / CHUNK_ROWS, cap = piece_rows * row_max;
    int want = os_spec_threads(sw->spec), failed = 0;
    want = want < OS_MAX_WRITERS ? want : OS_MAX_WRITERS;
    char *bufs[2][PIECES] = {{0}}; /* a chunk being formatted, the one before it being written */
    size_t lens[2][PIECES] = {{0}};
    for (int s = 0; s < 2 && n_chunks > (size_t)s; ++s)
        for (int k = 0; k < PIECES && !failed; ++k)
            if (!(bufs[s][k] = malloc(cap))) failed = 1;
    for (size_t c = 0; c <= n_chunks && !failed; ++c) {
        char *const *put = bufs[c % 2], *const *out = bufs[(c + 1) % 2];
        size_t *put_len = lens[c % 2], *out_len = lens[(c + 1) % 2];
        const size_t c0 = c * CHUNK_ROWS;
#pragma omp parallel num_threads(want)
        {
#pragma omp master
            for (int k = 0; c > 0 && k < PIECES; ++k) /* the chunk before, in order */
                if (out_len[k] && fwrite(out[k], 1, out_len[k], f) != out_len[k]) failed = 1;
#pragma omp for schedule(dynamic, 1)
            for (int k = 0; k < PIECES; ++k) {
                const size_t lo = c0 + (size_t)k * piece_rows, hi = lo + piece_rows < n ? lo + piece_rows : n;
                char *o = put[k];
                row_cache cache;
                cache.prev = NULL;
                for (size_t i = lo; i < hi; ++i) o = put_row(o, sw, &res[i], i, fields, &cache);
                put_len[k] = lo < hi ? (size_t)(o - put[k]) : 0;
            }
        }
    }
    for (int s = 0; s < 2; ++s)
        for (int k = 0; k < PIECES; ++k) free(bufs[s][k]);
    for (size_t k = 0; k < sw->spec->n_scheds; ++k) free(fields[k]);
    free(fields);
    return failed || ferror(f) ? -1 : 0;
}

int os_write_results(FILE *f, const os_sweep *sw, const os_result *res)
{
    return os_write_header(f) || os_write_rows(f, sw, res) ? -1 : 0;
}

/* ------------------------------------------------------------------------ */
/* the same table as a numpy .npz archive: one array per column             */

/* The archive's arrays: the table's columns in its order (optimizer,
 * scheduler and the choice axes as int32 codes), then the codes' names:
 * optimizer_categories, scheduler_categories, then <axis>_categories of
 * each choice axis in table order. */
struct os_results_npz {
    os_npz *z;
    size_t n_cols;
    void *buf; /* a tile of rows of every column (NPZ_TILE 8-byte values each), reused */
};

enum { NPZ_I8, NPZ_U8, NPZ_F8, NPZ_F4, NPZ_I4 };
static const struct {
    const char *descr;
    size_t size;
} npz_types[] = {{"<i8", 8}, {"<u8", 8}, {"<f8", 8}, {"<f4", 4}, {"<i4", 4}};

/* Column c of the table (0: trial, 1..OS_AX_COUNT: the axes, then seed and
 * the measured columns) into *d (os_results_columns); returns its NPZ_* type. */
static int npz_column(const os_sweep *sw, size_t c, os_column_def *d)
{
    int type, nullable = 0;
    d->boolean = 0;
    if (c == 0) {
        d->name = "trial", type = NPZ_I8;
    } else if (c <= OS_AX_COUNT) {
        const os_axis_def *ax = &os_axes[c - 1];
        /* empty where unused; noise is empty for a --data file's trainings */
        d->name = ax->column, nullable = ax->hp || ax->id == OS_AX_NOISE, d->boolean = ax->type == OS_AXT_BOOL;
        /* booleans as 1.0 / 0.0, NaN where unused, like the other hyperparameters */
        type = ax->type == OS_AXT_REAL || ax->type == OS_AXT_BOOL ? NPZ_F8
               : ax->type == OS_AXT_INT                          ? NPZ_I8
                                                                 : NPZ_I4;
    } else if (c == OS_AX_COUNT + 1) {
        d->name = "seed", type = NPZ_U8;
    } else {
        /* final_wa, final_wb: <f4 when every training is float32 */
        const int kind = measured[c - OS_AX_COUNT - 2].kind, f32 = os_spec_dtypes(sw->spec) == 1 << OS_DTYPE_F32;
        d->name = measured[c - OS_AX_COUNT - 2].name;
        nullable = kind == M_REAL_OPT || kind == M_INT_OPT || (kind == M_PARAM && !f32); /* as the CSV's put_opt */
        type = kind == M_PARAM ? (f32 ? NPZ_F4 : NPZ_F8) : kind == M_INT || kind == M_INT_OPT ? NPZ_I8 : NPZ_F8;
    }
    d->dtype = npz_types[type].descr, d->size = npz_types[type].size, d->nullable = nullable;
    return type;
}

size_t os_results_columns(const os_sweep *sw, os_column_def *out)
{
    const size_t n = 1 + OS_AX_COUNT + 1 + N_MEASURED;
    for (size_t c = 0; out && c < n; ++c) npz_column(sw, c, &out[c]);
    return n;
}

/* A fixed-width unicode array ("<Uw") of names: UTF-32, zero padded. */
static uint32_t *npz_names(const char *const *names, size_t n, size_t *width)
{
    *width = 1;
    for (size_t k = 0; k < n; ++k) *width = strlen(names[k]) > *width ? strlen(names[k]) : *width;
    uint32_t *u = calloc(n * *width, sizeof *u);
    for (size_t k = 0; u && k < n; ++k)
        for (size_t j = 0; names[k][j]; ++j) u[k * *width + j] = (unsigned char)names[k][j];
    return u;
}

os_results_npz *os_results_npz_open(int fd, const os_sweep *sw)
{
    const os_spec *s = sw->spec;
    const size_t n_cols = 1 + OS_AX_COUNT + 1 + N_MEASURED;
    os_npz_entry e[1 + OS_AX_COUNT + 1 + N_MEASURED + 2 + OS_AX_COUNT];
    char descr[2 + OS_AX_COUNT][24], cat_buf[OS_AX_COUNT][48];
    const char *opt_names[OS_OPT_COUNT];
    for (int k = 0; k < OS_OPT_COUNT; ++k) opt_names[k] = os_optimizer_name(k);
    const char **sched_names = malloc((s->n_scheds ? s->n_scheds : 1) * sizeof *sched_names);
    os_results_npz *t = calloc(1, sizeof *t);
    if (!sched_names || !t) return free(sched_names), free(t), NULL;
    for (size_t k = 0; k < s->n_scheds; ++k) sched_names[k] = s->scheds[k].name;
    for (size_t c = 0; c < n_cols; ++c) {
        os_column_def d;
        npz_column(sw, c, &d);
        e[c] = (os_npz_entry){d.name, d.dtype, d.size, sw->n_trials};
    }
    size_t w[2 + OS_AX_COUNT], counts[2 + OS_AX_COUNT] = {OS_OPT_COUNT, s->n_scheds};
    uint32_t *names[2 + OS_AX_COUNT] = {npz_names(opt_names, OS_OPT_COUNT, &w[0]),
                                        npz_names(sched_names, s->n_scheds, &w[1])};
    const char *cat_names[2 + OS_AX_COUNT] = {"optimizer_categories", "scheduler_categories"};
    int n_cat = 2, ok = names[0] && names[1];
    for (int a = 0; a < OS_AX_COUNT; ++a) {
        const char *const *ch = os_axis_choices(a);
        if (!ch) continue;
        for (counts[n_cat] = 0; ch[counts[n_cat]];) ++counts[n_cat];
        snprintf(cat_buf[n_cat - 2], sizeof cat_buf[0], "%s_categories", os_axes[a].column);
        cat_names[n_cat] = cat_buf[n_cat - 2];
        ok &= (names[n_cat] = npz_names(ch, counts[n_cat], &w[n_cat])) != NULL;
        ++n_cat;
    }
    for (int k = 0; k < n_cat; ++k) {
        snprintf(descr[k], sizeof descr[k], "<U%zu", w[k]);
        e[n_cols + (size_t)k] = (os_npz_entry){cat_names[k], descr[k], 4 * w[k], counts[k]};
    }
    t->n_cols = n_cols;
    if (ok && (t->z = os_npz_open(fd, e, n_cols + (size_t)n_cat)))
        for (int k = 0; k < n_cat && t->z; ++k)
            if (os_npz_write(t->z, n_cols + (size_t)k, 0, names[k], counts[k])) os_npz_free(t->z), t->z = NULL;
    for (int k = 0; k < n_cat; ++k) free(names[k]);
    free(sched_names);
    if (!t->z) return free(t), NULL;
    return t;
}

/* Column c of rows i0 .. i1-1 of a block into buf (i1 - i0 values of its
 * array type). */
static void npz_fill(const os_sweep *blk, const os_result *res, size_t c, size_t i0, size_t i1, void *buf)
{
    os_column_def d;
    const int type = npz_column(blk, c, &d);
    int64_t *i8 = (int64_t *)buf - i0;
    uint64_t *u8 = (uint64_t *)buf - i0;
    double *f8 = (double *)buf - i0;
    float *f4 = (float *)buf - i0;
    int32_t *i4 = (int32_t *)buf - i0;
    if (c == 0) {
        for (size_t i = i0; i < i1; ++i) i8[i] = (int64_t)(blk->first + i);
    } else if (c <= OS_AX_COUNT) { /* os_trial_axis, inline: the field's kind is the loop's, not each value's */
        const int kind = os_axes[c - 1].type;
        const char *at = (const char *)(blk->trials + i0) + os_axes[c - 1].offset;
        for (size_t i = i0; i < i1; ++i, at += sizeof(os_trial)) {
            const double v = os_axis_field(at, kind);
            if (type == NPZ_F8) f8[i] = v;
            else if (type == NPZ_I8) i8[i] = (int64_t)v;
            else i4[i] = (int32_t)v;
        }
    } else if (c == OS_AX_COUNT + 1) {
        for (size_t i = i0; i < i1; ++i) u8[i] = blk->trials[i].seed;
    } else {
        for (size_t i = i0; i < i1; ++i) {
            const mval v = measured_value(blk, i, &res[i], c - OS_AX_COUNT - 2);
            if (type == NPZ_I8) i8[i] = v.i;
            else if (type == NPZ_F4) f4[i] = (float)v.d;
            else f8[i] = v.d;
        }
    }
}

/* Rows are read a few hundred at a time, every column of them while their
 * trials and results are in cache (a column at a time over a whole block
 * walked all of its trials and results once per column). */
#define NPZ_SUB 512

/* Rows i0 .. i1-1 of every column: column c's at cols[c] + (i - first) values. */
static void npz_fill_rows(const os_sweep *blk, const os_result *res, size_t n_cols, size_t i0, size_t i1,
                          size_t first, void *const *cols)
{
    for (size_t c = 0; c < n_cols; ++c) {
        os_column_def d;
        npz_column(blk, c, &d);
        npz_fill(blk, res, c, i0, i1, (char *)cols[c] + (i0 - first) * d.size);
    }
}

void os_results_fill(const os_sweep *blk, const os_result *res, void *const *columns)
{
    const size_t n_cols = os_results_columns(blk, NULL), n = blk->n_trials;
    void *cols[1 + OS_AX_COUNT + 1 + N_MEASURED];
    for (size_t c = 0; c < n_cols; ++c) {
        os_column_def d;
        npz_column(blk, c, &d);
        cols[c] = (char *)columns[c] + blk->first * d.size;
    }
#pragma omp parallel for schedule(static) num_threads(os_spec_threads(blk->spec))
    for (long s = 0; s < (long)((n + NPZ_SUB - 1) / NPZ_SUB); ++s) {
        const size_t i0 = (size_t)s * NPZ_SUB, i1 = i0 + NPZ_SUB < n ? i0 + NPZ_SUB : n;
        npz_fill_rows(blk, res, n_cols, i0, i1, 0, cols);
    }
}

/* A tile of NPZ_TILE rows at a time: its columns filled in parallel (rows
 * split among the threads), then written in parallel (each column by one
 * thread: pwrite at the column's place, its CRC its own). */
#define NPZ_TILE 16384

int os_results_npz_rows(os_results_npz *t, const os_sweep *blk, const os_result *res)
{
    const size_t n = blk->n_trials;
    int want = os_spec_threads(blk->spec), failed = 0;
    want = want < OS_MAX_WRITERS ? want : OS_MAX_WRITERS;
    if (!t->buf && !(t->buf = malloc(t->n_cols * NPZ_TILE * 8))) return -1;
    void *cols[1 + OS_AX_COUNT + 1 + N_MEASURED];
    for (size_t c = 0; c < t->n_cols; ++c) cols[c] = (char *)t->buf + c * NPZ_TILE * 8;
    for (size_t lo = 0; lo < n && !failed; lo += NPZ_TILE) {
        const size_t cnt = n - lo < NPZ_TILE ? n - lo : NPZ_TILE;
#pragma omp parallel num_threads(want)
        {
#pragma omp for schedule(static)
            for (long s = 0; s < (long)((cnt + NPZ_SUB - 1) / NPZ_SUB); ++s) {
                const size_t i0 = lo + (size_t)s * NPZ_SUB, i1 = i0 + NPZ_SUB < lo + cnt ? i0 + NPZ_SUB : lo + cnt;
                npz_fill_rows(blk, res, t->n_cols, i0, i1, lo, cols);
            }
#pragma omp for schedule(dynamic, 1)
            for (long c = 0; c < (long)t->n_cols; ++c)
                if (os_npz_write(t->z, (size_t)c, blk->first + lo, cols[c], cnt)) {
#pragma omp atomic write
                    failed = 1;
                }
        }
    }
    return failed ? -1 : 0;
}

int os_results_npz_finish(os_results_npz *t)
{
    const int rc = t->z ? os_npz_finish(t->z) : -1;
    free(t->buf);
    free(t);
    return rc;
}

void os_results_npz_abort(os_results_npz *t)
{
    if (!t) return;
    os_npz_free(t->z);
    free(t->buf);
    free(t);
}
