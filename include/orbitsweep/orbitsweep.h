/* orbitsweep.h — the public C API: sweep spec, trials, datasets, results.
 *
 * A sweep spec (os_spec) holds one list per axis (axes.h); os_sweep_plan()
 * expands it into the grid of trials (seed innermost), builds one dataset
 * per (n, noise) used and replicate and finds its loss minimum;
 * os_sweep_run() trains every
 * trial on a backend and fills one os_result per trial. A result is a pure
 * function of the spec: same spec, same numbers, whatever the thread count
 * or backend. The layers and their order are docs/design.md §2.
 *
 * Errors: functions return OS_OK, OS_EINPUT (bad input: the CLI exits 2)
 * or OS_ERUNTIME (the CLI exits 1) and fill an os_error whose message names
 * the flag and the value. Out of memory is always an OS_ERUNTIME error.
 */
#ifndef ORBITSWEEP_H
#define ORBITSWEEP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "axes.h"
#include "train.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OS_VERSION "0.1.0"

typedef enum os_status { OS_OK = 0, OS_ERUNTIME = 1, OS_EINPUT = 2 } os_status;

typedef struct os_error {
    char msg[512];
} os_error;

enum { OS_SHUFFLE_SHARED, OS_SHUFFLE_TRIAL, OS_SHUFFLE_NONE };
enum { OS_DTYPE_F32, OS_DTYPE_F64 };
enum { OS_BACKEND_AUTO, OS_BACKEND_CPU, OS_BACKEND_CUDA };
enum { OS_OVERLAP_AUTO, OS_OVERLAP_ON, OS_OVERLAP_OFF };

#define OS_MAX_DEVICES 64 /* GPUs one sweep can be split across */

/* ---- errors and numbers (src/error.c, src/fmt.c) ---- */

/* printf-style message into err (ignored when err is NULL). */
void os_set_error(os_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Shortest decimal that reads back as the same double (or float); nan,
 * inf, -inf for the non-finite values (src/shortest.cpp). Writes at most
 * size bytes with the NUL and returns the length of the whole text (at
 * most 24 characters; snprintf's convention). */
int os_fmt_double(char *buf, size_t size, double v);
int os_fmt_float(char *buf, size_t size, float v);

/* ---- the description tables (src/spec.c, src/sched_spec.c) ---- */

/* One sweep axis (a row of axes.h). */
typedef struct os_axis_def {
    int id;               /* OS_AX_* */
    const char *column;   /* results column */
    const char *flag;     /* command-line flag */
    int type;             /* OS_AXT_* */
    size_t offset;        /* the value's place in os_trial */
    const char *dflt;     /* default, as typed on the command line */
    double lo, hi;
    int lo_open, hi_open, integer;
    const char *range;    /* the valid range in words */
    int nest, hash, hp;
    const char *help;
} os_axis_def;

extern const os_axis_def os_axes[OS_AX_COUNT];

/* One optimizer (a row of optim.h). */
typedef struct os_optimizer_def {
    int kind;
    const char *name, *what;
    unsigned uses, pinned, positive; /* OS_HP bits */
    int state;                       /* OS_STATE_* bits */
    int cycles;                      /* OS_CYCLE_*: what CyclicLR/OneCycleLR cycle */
    const char *defaults;            /* "axis=value,...": its hyperparameters' defaults */
} os_optimizer_def;

extern const os_optimizer_def os_optimizers[OS_OPT_COUNT];

/* Optimizer name <-> kind. Returns -1 for an unknown name. */
int os_optimizer_from_name(const char *name);
const char *os_optimizer_name(int kind);

/* The names of a choice axis (OS_AXT_CHOICE), NULL-terminated; a value is
 * its name's position. NULL for other axes. */
const char *const *os_axis_choices(int axis);

/* 1 if optimizer `kind` uses axis `axis` (non-hyperparameter axes: always). */
int os_axis_used(int axis, int kind);

/* Optimizer `kind`'s default for axis `axis` into *v: 1 if its row has
 * one, else 0 (then the axis table's default applies). */
int os_optimizer_default(int kind, int axis, double *v);

/* What PyTorch's CyclicLR / OneCycleLR would cycle for optimizer `kind`
 * (cycle_momentum): OS_CYCLE_NONE, OS_CYCLE_MOMENTUM (the param group's
 * 'momentum') or OS_CYCLE_BETA1 (beta1 of its 'betas'). The cycled value is
 * the `mom` argument of os_opt_step_*. */
int os_optimizer_cycles(int kind);

/* ---- spec (src/spec.c) ---- */

/* A growable list of doubles (one sweep axis). */
typedef struct os_list {
    double *v;
    size_t n, cap;
} os_list;

/* A named scheduler: its parameters and canonical spec string. */
typedef struct os_sched_spec {
    os_sched s;
    char name[1024];  /* canonical */
    char text[1024];  /* as the user typed it (messages) */
} os_sched_spec;

/* How an axis's list is read: its values (a grid's axis, or a sample's
 * choice among them), or a distribution between list[0] and list[1]. */
enum { OS_DIST_LIST, OS_DIST_UNIFORM, OS_DIST_LOG_UNIFORM, OS_DIST_INT_UNIFORM };
/* A block's trainings: the product of its axes, or n_samples points drawn
 * (for each optimizer) at random or from a Sobol sequence. */
enum { OS_SAMPLE_GRID, OS_SAMPLE_RANDOM, OS_SAMPLE_SOBOL };

/* One block of a sweep: a list per axis, as os_spec holds them (given[a]:
 * set in the block or inherited from a given base axis), and how it is
 * sampled. */
typedef struct os_axis_set {
    os_list axis[OS_AX_COUNT];
    int given[OS_AX_COUNT];
    int dist[OS_AX_COUNT]; /* OS_DIST_* */
    int sample;            /* OS_SAMPLE_* */
    int64_t n_samples;
} os_axis_set;

typedef struct os_spec {
    /* The sweep axes, one list per row of axes.h: axis[OS_AX_OPTIMIZER]
     * holds optimizer kinds, axis[OS_AX_SCHEDULER] indices into scheds[],
     * the others their values. given[a]: set (os_spec_set_axis); else the
     * list holds the axis table's default and each optimizer uses its own
     * default for the hyperparameters its row gives one. */
    os_list axis[OS_AX_COUNT];
    int given[OS_AX_COUNT];
    uint64_t settings_given; /* bit k: os_settings[k] was set (os_spec_set) */
    os_sched_spec *scheds;
    size_t n_scheds;
    /* training settings (dtype, shuffle, sched_step, n, noise and target
     * are axes: each training carries its own, os_trial) */
    uint64_t seed;
    int seeds;
    /* dataset */
    double a, b, offset;
    int offset_set;
    char *data_file;
    /* execution */
    int backend;
    int threads;    /* CPU threads, 0: all cores */
    int cpu_scalar; /* 1: one training at a time (the reference for the SIMD path) */
    int tile;       /* CUDA: lanes per training, 1, 2, 4 or 8 (0: chosen from the sweep size) */
    int n_devices;  /* CUDA: how many of devices[] to use (0: every usable GPU) */
    int devices[OS_MAX_DEVICES]; /* CUDA device numbers */
    double max_memory;       /* bytes a sweep may need (0: what the machine has available) */
    int cuda_chunk;          /* CUDA: trainings per launch */
    double cuda_table_bytes; /* CUDA: bytes of shared batch orders precomputed per GPU
                                (0: always derive them on the fly) */
    int block;               /* trainings trained and written at a time (0: os_spec_block's choice) */
    int overlap;             /* OS_OVERLAP_*: hand a block on while the next one trains (os_spec_overlaps) */
    int max_blocks;          /* CUDA: at most this many blocks per launch (0: as many as are resident);
                                a small grid makes lanes hand over from training to training */
    /* Conditional grids (sweep files' `blocks:`, the command line's --and):
     * the grid is the union of the blocks' products, block after block, in
     * this order (n_blocks 0: the one product of axis[]). Each block's
     * scheduler values index scheds[] like axis[OS_AX_SCHEDULER]'s. */
    os_axis_set *blocks;
    size_t n_blocks;
    /* sampling (of the spec's own axes; a block has its own): how each
     * axis's list is read, random or Sobol points instead of a product */
    int dist[OS_AX_COUNT];
    int sample;
    int64_t n_samples;
    uint64_t sample_seed; /* --sample-seed: the Philox key of random points and Sobol shifts */
    int sobol_plain;      /* --scramble off: Sobol points unshifted */
} os_spec;

/* The spec's settings (everything that is not a sweep axis): one row each,
 * in --help order. A row names its flag and sweep-file key, where the spec
 * holds it, its kind of value and its default; os_spec_init applies the
 * defaults, os_spec_set parses a value, os_spec_validate checks them. */
enum { OS_V_INT, OS_V_U64, OS_V_DOUBLE, OS_V_CHOICE, OS_V_STRING, OS_V_DEVICES,
       OS_V_SAMPLE /* random: N, sobol: N: of the block it is given in */ };

typedef struct os_setting_def {
    const char *key;             /* sweep-file key: "sched_step" */
    const char *flag;            /* "--sched-step" */
    int kind;                    /* OS_V_* */
    size_t offset;               /* its place in os_spec */
    const char *const *choices;  /* OS_V_CHOICE: NULL-terminated */
    long mark;                   /* >= 0: an int in os_spec set to 1 when given */
    const char *dflt;            /* the default as typed (NULL: zero / none) */
    const char *shown;           /* the default as --help shows it (NULL: dflt) */
    const char *section, *arg, *help;
} os_setting_def;

extern const os_setting_def os_settings[];
extern const int os_n_settings;

/* Set setting `setting` (an index into os_settings) from its text. */
os_status os_spec_set(os_spec *spec, int setting, const char *text, os_error *err);

/* The index of the setting with this key or flag, or -1. */
int os_setting_find(const char *name);

/* 1 if the setting with this key or flag was set (not left at its default). */
int os_spec_given(const os_spec *spec, const char *name);

/* Fill a spec with the defaults (docs/design.md §3). OS_ERUNTIME only when
 * out of memory. */
os_status os_spec_init(os_spec *spec);
void os_spec_free(os_spec *spec);

/* Parse a list value ("0.1,0.01", "logspace(-4,0,64)", linspace, geomspace)
 * and append it to *out. flag names the flag in error messages. */
os_status os_list_parse(const char *flag, const char *text, os_list *out, os_error *err);
os_status os_list_push(os_list *l, double v, os_error *err);

/* Parse "NAME[:key=value,...]" into a scheduler with its canonical name. */
os_status os_sched_parse(const char *text, os_sched_spec *out, os_error *err);
/* Frees what a parsed scheduler owns (a table file's multipliers); the
 * plan's copies own their tables too. */
void os_sched_free(os_sched *s);
/* A scheduler's name, and its keys with their defaults (for --help). */
const char *os_sched_name(int kind);
void os_sched_keys(int kind, char *buf, size_t size);

/* Set axis `axis` of the spec from its command-line text: replace the
 * default on the first call (first != 0), append on later ones. A numeric
 * axis also takes a distribution, uniform(a,b), log_uniform(a,b) or
 * int_uniform(a,b) (its one value; for sampled blocks), and any axis
 * choice(v1,...) (the same as the list). */
os_status os_spec_set_axis(os_spec *spec, int axis, const char *text, int first, os_error *err);

/* Set axis `axis` of the spec to the one value v (a number, or a choice
 * axis's code): what the flag with v's text would do. OS_ERUNTIME only when
 * out of memory. */
os_status os_spec_set_one(os_spec *spec, int axis, double v, os_error *err);

/* The axis or setting a sweep-file key names (an axis's results column or
 * a setting's key), set from its text as os_spec_set_axis / os_spec_set
 * would. OS_EINPUT for an unknown key (the message names the nearest one). */
os_status os_spec_set_key(os_spec *spec, const char *key, const char *text, int first, os_error *err);

/* The valid key nearest to `key` by edit distance (an axis column, a
 * setting key, or one of extra[0..n_extra)). */
const char *os_key_nearest(const char *key, const char *const *extra, int n_extra);

/* Conditional grids: append a block that starts as a copy of the spec's
 * own axes; *index gets its number. */
os_status os_spec_add_block(os_spec *spec, size_t *index, os_error *err);
/* Exchange the spec's axes with those of set (so that os_spec_set_axis, the
 * flag parser and os_spec_set_key fill a block); swap again to undo. */
void os_spec_swap_axes(os_spec *spec, os_axis_set *set);
/* Drop every block (the grid is the spec's own axes again). */
void os_spec_drop_blocks(os_spec *spec);
/* Keep only the schedulers the grid's scheduler lists use, in order of
 * first use (after blocks were built; nothing changes without blocks). */
os_status os_spec_compact_scheds(os_spec *spec, os_error *err);
/* The axes of block b (the spec's own axes when it has no blocks). */
const os_list *os_spec_block_axes(const os_spec *spec, size_t b, const int **given);
/* How block b is sampled (OS_SAMPLE_*): its axes' distributions into
 * *dist and its number of points into *n_samples. */
int os_spec_block_sampling(const os_spec *spec, size_t b, const int **dist, int64_t *n_samples);
size_t os_spec_n_blocks(const os_spec *spec);

/* The training dtypes the spec's blocks list: bit 1 << OS_DTYPE_F32 and
 * bit 1 << OS_DTYPE_F64. */
int os_spec_dtypes(const os_spec *spec);

/* Check every value of the spec; the first bad one becomes the error. */
os_status os_spec_validate(const os_spec *spec, os_error *err);

/* The CPU threads a sweep uses: --threads, or every core. The library
 * never changes the process's OpenMP settings. */
int os_spec_threads(const os_spec *spec);

/* Trainings a run trains and writes at a time (--block, or chosen for the
 * backend): what bounds a run's memory. */
size_t os_spec_block(const os_spec *spec);

/* Whether a streamed run hands a block on while the next one trains
 * (two blocks in memory): --overlap on, or auto on a GPU (a CLI run sets
 * it on for the CPU too: a CSV table's formatting and an .npz archive's
 * columns fill the training's idle moments; the Python package's columns,
 * filled into memory, do not gain). */
int os_spec_overlaps(const os_spec *spec);

/* The offset c of the model: --offset, or sqrt(a^2 - b^2). */
double os_spec_offset(const os_spec *spec);

/* ---- sampling (src/sample.c) ---- */

#define OS_SOBOL_DIMS 32 /* Joe-Kuo dimensions: one per axis */

/* Coordinate dim (0-based) of point index of the Joe-Kuo Sobol sequence
 * (new-joe-kuo-6.21201, Gray-code order, point 0 the origin), times 2^32. */
uint32_t os_sobol_u32(uint64_t index, int dim);
/* The uniform number in [0, 1) of axis dim at point index of a block:
 * OS_SAMPLE_RANDOM: 53 bits of Philox4x32-10 (key seed, counter (index,
 * block, dim)); OS_SAMPLE_SOBOL: the Sobol coordinate, XORed with a Philox
 * word of (seed, block, dim) when scramble (a random digital shift). */
double os_sample_u(int kind, uint64_t seed, int scramble, uint32_t block, uint64_t index, int dim);
/* The value distribution dist (OS_DIST_*) gives u: OS_DIST_LIST one of
 * vals[0..n) (each 1/n), the others between vals[0] and vals[1]: uniform
 * in [a, b), log-uniform in [a, b], an integer in a..b. */
double os_dist_value(int dist, const double *vals, size_t n, double u);

/* ---- sweep files (src/sweepfile.c) ---- */

/* Apply the YAML sweep file at path to spec (docs/design.md §3): its top
 * level's keys, then its blocks (each the top level's axes with its own
 * keys), key by key through os_spec_set_key. The `output` key goes to
 * *output (when output is not NULL). OS_EINPUT names the file, the line and
 * the key. */
os_status os_sweep_file_load(os_spec *spec, const char *path, char **output, os_error *err);
/* The same from text[0..len) in memory; name stands for the file in messages. */
os_status os_sweep_text_load(os_spec *spec, const char *name, const char *text, size_t len, char **output,
                             os_error *err);

/* ---- datasets (src/dataset.c) ---- */

/* The most points a dataset may have (--n, and --data files). */
#define OS_MAX_POINTS 10000000

/* The data one replicate trains on, and its loss minimum. */
typedef struct os_dataset {
    int n;
    double *x, *y;
    double c;              /* the model's known offset */
    double ref_wa, ref_wb; /* reference of param_error */
    double min_loss, min_wa, min_wb;
    int x_borrowed;        /* x belongs to another dataset (os_dataset_free leaves it) */
} os_dataset;

/* The dataset of one replicate: the generated Earth->Mars data
 * (docs/design.md §1) of the spec's n and noise (one value each, else
 * OS_EINPUT), or the --data file. */
os_status os_dataset_make(const os_spec *spec, uint32_t replicate, os_dataset *out, os_error *err);
/* The generated dataset of n points and this noise of one replicate. */
os_status os_dataset_generate(const os_spec *spec, int n, double noise, uint32_t replicate, os_dataset *out,
                              os_error *err);
/* The generated points of one replicate without the loss minimum. x is
 * the same for every replicate and noise of one n: shared_x, another
 * replicate's x, is borrowed (NULL: computed into a fresh array). */
os_status os_dataset_generate_points(const os_spec *spec, int n, double noise, uint32_t replicate,
                                     const double *shared_x, os_dataset *out, os_error *err);
/* x,y from a CSV file (header x,y). */
os_status os_dataset_load(const char *path, double offset, os_dataset *out, os_error *err);
/* The loss minimum over (Wa, Wb) in double (fills min_*). */
os_status os_dataset_find_minimum(os_dataset *d, os_error *err);
/* Masked MSE over the whole dataset at (wa, wb), in double, with the
 * model's canonical summation order (point i into partial i mod 8). */
double os_dataset_loss(const os_dataset *d, double wa, double wb);
void os_dataset_free(os_dataset *d);

/* What the loss-minimum search of every dataset with the same points x and
 * offset c shares (everything but y: the scan's Wa samples, their masks,
 * sqrt(s) terms, sum(s) and counts), made once from d's x, c and n. */
typedef struct os_minscan os_minscan;
os_status os_minscan_make(const os_dataset *d, os_minscan **out, os_error *err);
void os_minscan_free(os_minscan *scan);
/* The loss minima of ds[0..count) (fills min_*), datasets with the scan's
 * x, c and n and each its own y: the same doubles as
 * os_dataset_find_minimum on each, several datasets side by side in SIMD
 * lanes. A dataset with other points gets os_dataset_find_minimum. */
os_status os_dataset_find_minima(const os_minscan *scan, os_dataset *ds, size_t count, os_error *err);

/* ---- the plan (src/plan.c) ---- */

/* One training: a point of the grid. */
typedef struct os_trial {
    os_opt_hp opt;
    double lr;
    uint32_t sched; /* index into spec->scheds */
    int batch_size, epochs;
    double init_wa, init_wb;
    int dtype;      /* OS_DTYPE_* */
    int shuffle;    /* OS_SHUFFLE_* */
    int sched_step; /* 0: scheduler.step() after each update, 1: after each epoch */
    int n;          /* points of its dataset (a --data file's count) */
    double noise;   /* of its generated dataset (NaN for a --data file) */
    double target;  /* param_error that counts as converged */
    uint32_t data;         /* its dataset: sweep->data[data], one per (n, noise, replicate) */
    uint32_t replicate;    /* 0 .. seeds-1 */
    uint64_t seed;         /* spec seed + replicate: the Philox key */
    uint64_t order_stream; /* Philox subsequence of its batch orders */
    uint32_t cfg;          /* index of the configuration (the trial without its seed) */
} os_trial;

typedef struct os_grid os_grid; /* the grid's layout (src/plan.c) */

/* A planned sweep, or a block of one (os_sweep_block): trials[0..n_trials)
 * are the grid's trials first .. first+n_trials-1. */
typedef struct os_sweep {
    const os_spec *spec;
    os_sched *scheds; /* the spec's schedulers, with their parts' host tables (cos, pow, table files) */
    os_trial *trials; /* NULL in a prepared sweep: its blocks hold them */
    size_t n_trials;
    size_t first;
    const struct os_sweep *parent; /* a block's sweep (NULL: a sweep) */
    int owns_trials;               /* a block: its trials are its own allocation */
    os_grid *grid;
    os_dataset *data; /* one per (n, noise) used and replicate, replicates innermost
                         (one for a --data file) */
    size_t n_data;
    /* what the plan noticed and a user should hear: duplicate values that
     * train the same thing twice, seeds that cannot differ, settings that
     * do not apply, a --data file the model fits poorly */
    char warnings[4][320];
    int n_warnings;
} os_sweep;

/* The largest grid a sweep may have. */
#define OS_MAX_TRIALS 200000000ULL

/* The grid of spec: validates it, refuses (OS_EINPUT) a grid beyond
 * OS_MAX_TRIALS or one whose memory (os_sweep_memory) exceeds
 * spec->max_memory or the machine's available memory, then builds it,
 * every trial in memory. */
os_status os_sweep_plan(const os_spec *spec, os_sweep *out, os_error *err);

/* The same without the trials (trials NULL), for a run that takes the
 * grid a block at a time: the memory check counts one block
 * (os_spec_block). Trials are decoded from their index, in grid order. */
os_status os_sweep_prepare(const os_spec *spec, os_sweep *out, os_error *err);

/* Trials first .. first+n-1 of sw as a sweep of their own, sharing sw's
 * datasets and schedulers (os_sweep_free frees only what is the block's). */
os_status os_sweep_block(const os_sweep *sw, size_t first, size_t n, os_sweep *block, os_error *err);
/* The same into a block of sw that holds at least n trials (the one
 * before it, not freed): its memory reused (a fresh block's pages cost
 * more to fault in than its trials to decode); any other block is freed
 * and made anew. */
os_status os_sweep_block_next(const os_sweep *sw, size_t first, size_t n, os_sweep *block, os_error *err);

/* Trainings block b of spec's grid has (os_spec_n_blocks; a double: it
 * may be beyond any limit). */
double os_spec_count_block(const os_spec *spec, size_t b);

/* Shard k of n (1 <= k <= n) of sw: trials *lo .. *hi-1, a contiguous
 * range in grid order. The shards tile the grid and are balanced by cost
 * (a trial's epochs x batches per epoch): trial i is in the shard its
 * cost's midpoint falls in, so every shard holds about 1/n of the updates,
 * whatever the count of trials. A pure function of the spec. */
os_status os_sweep_shard(const os_sweep *sw, int k, int n, size_t *lo, size_t *hi, os_error *err);

/* Bytes a sweep of n_trials trainings over n_data datasets of n points
 * needs while it runs and writes its table: trials, results, the backend's
 * plan, the datasets (one y per replicate; x, d2 and the loss-minimum
 * scan shared). A streamed run counts one block of trials. */
double os_sweep_memory(double n_trials, double n_data, double n);
void os_sweep_free(os_sweep *sw);

/* Axis `axis` of a trial as a double (the optimizer kind, the scheduler
 * index, or the value; NaN for a hyperparameter its optimizer does not use). */
double os_trial_axis(const os_trial *t, int axis);
/* The same from the field's address and the axis's type (a loop over one
 * axis of many trials, its type fixed). */
static inline double os_axis_field(const void *p, int type)
{
    switch (type) {
    case OS_AXT_OPT:
    case OS_AXT_CHOICE:
    case OS_AXT_INT: return (double)*(const int *)p;
    case OS_AXT_SCHED: return (double)*(const uint32_t *)p;
    default: return *(const double *)p;
    }
}

/* The configuration hash of trial t (its own batch orders' key): FNV-1a
 * over the axes of `table` (n rows) in their `hash` order, so the order of
 * the rows does not matter. */
uint64_t os_config_hash(const os_axis_def *table, size_t n, const os_trial *t, const os_spec *spec);

/* The per-training config of trial i (pointers into the sweep). */
os_train_cfg os_sweep_train_cfg(const os_sweep *sw, size_t i);
/* Does scheduler s cycle the momentum of optimizer kind opt (src/plan.c)?
 * 1: it does (cycle_momentum true, or auto where the optimizer has a
 * momentum or beta1), 0: it does not, -1: cycle_momentum=true where it
 * cannot (bad input). */
int os_sched_cycles(const os_sched *s, int opt);

/* The dataset trial i trains on. */
const os_dataset *os_sweep_dataset(const os_sweep *sw, size_t i);

/* Fill loss_gap and param_error of trial i from its final parameters and
 * final_loss, in double on the host. */
void os_result_finish(const os_sweep *sw, size_t i, os_result *r);

/* Sample evaluations of a sweep (trainings x epochs x points). */
double os_sweep_evaluations(const os_sweep *sw);

/* ---- running (src/run.c): the backend table ---- */

/* Progress callback: done trials so far (called from one thread). */
typedef void (*os_progress_fn)(void *ctx, size_t done, size_t total);

/* One CUDA device as the runtime reports it. */
typedef struct os_device_info {
    int index;              /* CUDA device number */
    char name[256];
    size_t mem_bytes;       /* global memory */
    int cc_major, cc_minor; /* compute capability */
    int sms;                /* multiprocessors */
    int usable;             /* 1 if this build has code it can run */
    char why[256];          /* why not, when usable == 0 */
} os_device_info;

/* The backend a run of this spec uses. */
typedef struct os_backend_choice {
    int backend;      /* OS_BACKEND_CPU or OS_BACKEND_CUDA */
    char where[400];  /* "the CPU (2 threads)", "GPU 0 (NVIDIA H200)", ... */
    char note[700];   /* for --backend auto: which one it took and why ("" otherwise) */
} os_backend_choice;

/* Resolve spec->backend (auto: a GPU when one is usable, else the CPU).
 * OS_ERUNTIME: --backend cuda without a usable GPU; OS_EINPUT: a --devices
 * number that is not a GPU of this machine. */
os_status os_backend_choose(const os_spec *spec, os_backend_choice *out, os_error *err);

/* Train every trial of sw on the backend spec->backend names (auto: as
 * os_backend_choose picks). */
os_status os_sweep_run(const os_sweep *sw, os_result *results, os_progress_fn progress,
                       void *ctx, os_error *err);

/* What a streamed run does with each block as it finishes, in grid order:
 * block's trials and their results (a nonzero status stops the run). */
typedef os_status (*os_block_fn)(void *ctx, const os_sweep *block, const os_result *results, os_error *err);

/* Train sw (prepared or planned) block by block, block_size trainings at
 * a time (0: os_spec_block), and hand each finished block to done, in grid
 * order: memory stays that of one block (two with overlap). With
 * os_spec_overlaps, done runs on a thread of its own while
 * the next block trains. progress counts the whole sweep; *train_s (when
 * not NULL) gets the seconds the backend spent training. */
os_status os_sweep_stream(const os_sweep *sw, size_t block_size, os_block_fn done, void *done_ctx,
                          os_progress_fn progress, void *ctx, double *train_s, os_error *err);

/* The same over trials lo .. hi-1 only (a shard, the rest of a resumed
 * table, an MPI rank's blocks): blocks start at lo. progress counts the
 * whole sweep. */
os_status os_sweep_stream_range(const os_sweep *sw, size_t lo, size_t hi, size_t block_size, os_block_fn done,
                                void *done_ctx, os_progress_fn progress, void *ctx, double *train_s,
                                os_error *err);

/* OS_EINPUT unless sw is one training (what a trace needs). */
os_status os_trace_check(const os_sweep *sw, os_error *err);

/* Train trial 0 of sw alone on the CPU and write its trace
 * (docs/design.md §5) to f. Write errors stay on f (ferror) for its owner. */
os_status os_sweep_trace(const os_sweep *sw, FILE *f, os_error *err);

/* The GPUs of this machine: fills up to max entries of out and returns how
 * many there are (0 when none, or no driver, or no CUDA in this build: then
 * why says so). */
int os_gpu_devices(os_device_info *out, int max, os_error *why);

/* ---- output (src/results.c, src/atomic.c) ---- */

/* The results table (docs/design.md §4), header first; 0, or -1 when out of
 * memory or on a write error (ferror(f)). */
int os_write_results(FILE *f, const os_sweep *sw, const os_result *results);
/* The same in parts: its header, then the rows of a block (os_sweep_block)
 * after block, in grid order. */
int os_write_header(FILE *f);
int os_write_rows(FILE *f, const os_sweep *block, const os_result *results);

/* The results table's columns as arrays (the .npz archive's and the
 * Python package's): column c's name, numpy array type ("<i8", "<u8",
 * "<f8", "<f4" or "<i4"), bytes per value, and whether NaN (floats) or -1
 * (integers) stands for the table's empty field. Fills out[0..n) (out may
 * be NULL) and returns n, the same for every sweep. */
typedef struct os_column_def {
    const char *name, *dtype;
    size_t size;
    int nullable;
    int boolean; /* a true/false axis: 1.0 / 0.0 (NaN where unused) */
} os_column_def;
size_t os_results_columns(const os_sweep *sw, os_column_def *out);
/* The rows of block blk (os_sweep_block, or a streamed run's block) into
 * columns[c] at rows blk->first .. (each an array of column c's type for
 * the whole sweep), the columns in parallel (os_spec_threads): the values
 * the .npz archive holds (optimizer and scheduler as codes into the
 * optimizer table and spec->scheds). */
void os_results_fill(const os_sweep *blk, const os_result *res, void *const *columns);

/* The results table as a numpy .npz archive (docs/design.md §4) on fd, a
 * regular file: one array per column, in the table's order and with its
 * names, rows in grid order; an empty field is NaN (<f8) or -1 (<i8);
 * optimizer and scheduler are int32 codes into the arrays
 * optimizer_categories and scheduler_categories. Open it for sw (prepared
 * or planned: every column is sized for all of sw's trials), hand it
 * every block in grid order, then finish. NULL / -1: out of memory or a
 * write error (errno). */
typedef struct os_results_npz os_results_npz;
os_results_npz *os_results_npz_open(int fd, const os_sweep *sw);
int os_results_npz_rows(os_results_npz *t, const os_sweep *block, const os_result *results);
int os_results_npz_finish(os_results_npz *t); /* frees t */
void os_results_npz_abort(os_results_npz *t);

/* An output file (src/atomic.c): a regular file or a new path is written
 * to TARGET.tmp.XXXXXX and renamed over its target (the path, or where its
 * symlinks lead) by os_atomic_commit; anything else that exists (a device,
 * a pipe) is written directly and never replaced; a directory is refused. */
typedef struct os_atomic_file {
    FILE *f;
    char *path;   /* as given */
    char *target; /* the file it names */
    char *tmp;    /* the temporary (NULL: written directly) */
} os_atomic_file;

/* Whether path can take an output before any work starts: not a
 * directory, writable (for a new or regular file: its directory too), and
 * none of inputs[0..n_inputs) (NULL entries are skipped). OS_EINPUT with
 * the reason. */
os_status os_output_check(const char *path, const char *const *inputs, int n_inputs, os_error *err);
os_status os_atomic_open(os_atomic_file *af, const char *path, os_error *err);
os_status os_atomic_commit(os_atomic_file *af, os_error *err);
void os_atomic_abort(os_atomic_file *af);
/* The file path names, through its symlinks (malloc'd): where a resumable
 * table's partial file and a table's sidecar go. */
char *os_output_target(const char *path);
/* Starts writing fd's bytes [off, off+len) (len 0: to the end) to the
 * disk and returns without waiting (Linux: sync_file_range; elsewhere
 * nothing), so that a later fsync finds them written. */
void os_file_writeback(int fd, long long off, long long len);

#ifdef __cplusplus
}
#endif

#endif
