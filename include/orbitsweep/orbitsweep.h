/* orbitsweep.h — the public C API: sweep spec, trials, datasets, results.
 *
 * A sweep spec (os_spec) holds one list per axis; os_sweep_plan() expands
 * it into the Cartesian product of trials (seed innermost), builds one
 * dataset per replicate and finds its loss minimum; os_sweep_run() trains
 * every trial on a backend and fills one os_result per trial. A result is a
 * pure function of the spec: same spec, same numbers, whatever the thread
 * count or backend.
 *
 * Errors: functions return OS_OK, OS_EINPUT (bad input: the CLI exits 2)
 * or OS_ERUNTIME (the CLI exits 1) and fill an os_error whose message names
 * the flag and the value.
 */
#ifndef ORBITSWEEP_H
#define ORBITSWEEP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

#define OS_MAX_DEVICES 64 /* GPUs one sweep can be split across */

/* A growable list of doubles (one sweep axis). */
typedef struct os_list {
    double *v;
    size_t n, cap;
} os_list;

/* A named scheduler: its parameters and canonical spec string. */
typedef struct os_sched_spec {
    os_sched s;
    char name[256];
} os_sched_spec;

typedef struct os_spec {
    /* sweep axes (every one a list) */
    int optimizers[OS_OPT_COUNT];
    size_t n_optimizers;
    os_list lr, momentum, dampening, alpha, beta1, beta2, eps, weight_decay;
    os_list batch_size, epochs, init_wa, init_wb;
    os_sched_spec *scheds;
    size_t n_scheds;
    /* scalars */
    int sched_per_epoch;
    uint64_t seed;
    uint32_t seeds;
    int shuffle, dtype, backend;
    int threads;    /* 0: all cores */
    int cpu_scalar; /* 1: one training at a time (the reference for the SIMD path) */
    int tile;       /* CUDA: lanes per training, 1, 2, 4 or 8 (0: chosen from the sweep size) */
    int n_devices;  /* CUDA: how many of devices[] to use (0: every usable GPU) */
    int devices[OS_MAX_DEVICES]; /* CUDA device numbers */
    /* dataset */
    int n;
    double a, b, offset, noise;
    int offset_set;
    char *data_file;
    double target;
} os_spec;

/* One training: a point of the grid. */
typedef struct os_trial {
    os_opt_hp opt;
    double lr;
    uint32_t sched; /* index into spec->scheds */
    int batch_size, epochs;
    double init_wa, init_wb;
    uint32_t replicate;    /* 0 .. seeds-1: its dataset is sweep->data[replicate] */
    uint64_t seed;         /* spec seed + replicate: the Philox key */
    uint64_t order_stream; /* Philox subsequence of its batch orders */
    uint32_t cfg;          /* index of the configuration (the trial without its seed) */
} os_trial;

/* The data one replicate trains on, and its loss minimum. */
typedef struct os_dataset {
    int n;
    double *x, *y;
    double c;              /* the model's known offset */
    double ref_wa, ref_wb; /* reference of param_error */
    double min_loss, min_wa, min_wb;
} os_dataset;

typedef struct os_result {
    double final_wa, final_wb;
    double final_loss, loss_gap, param_error;
    int64_t steps_to_target; /* -1: ends above the target */
    int64_t updates;
    int diverged;
    double best_loss;        /* lowest epoch training loss */
    double final_lr;         /* the optimizer's lr at the end */
    int64_t masked_batches;  /* updates whose minibatch had every point masked */
    double oscillation;      /* relative spread of Wa, Wb over the last epoch */
    double path_length;      /* sum of the effective step lengths */
} os_result;

typedef struct os_sweep {
    const os_spec *spec;
    os_sched *scheds; /* the spec's schedulers, with their cosine tables */
    os_trial *trials;
    size_t n_trials;
    os_dataset *data; /* one per replicate (all the same for --data files) */
    size_t n_data;
} os_sweep;

/* Progress callback: done trials so far (called from one thread). */
typedef void (*os_progress_fn)(void *ctx, size_t done, size_t total);

/* ---- spec (src/spec.c) ---- */

/* Fill a spec with the defaults of DESIGN.md §3. */
void os_spec_init(os_spec *spec);
void os_spec_free(os_spec *spec);

/* Parse a list value ("0.1,0.01", "logspace(-4,0,64)", linspace, geomspace)
 * and append it to *out. flag names the flag in error messages. */
os_status os_list_parse(const char *flag, const char *text, os_list *out, os_error *err);
void os_list_push(os_list *l, double v);

/* Parse "NAME[:key=value,...]" into a scheduler with its canonical name. */
os_status os_sched_parse(const char *text, os_sched_spec *out, os_error *err);

/* Optimizer name <-> kind. Returns -1 for an unknown name. */
int os_optimizer_from_name(const char *name);
const char *os_optimizer_name(int kind);

/* Check every value of the spec; the first bad one becomes the error. */
os_status os_spec_validate(const os_spec *spec, os_error *err);

/* ---- datasets (src/dataset.c) ---- */

/* The generated Earth->Mars dataset of one replicate (DESIGN.md §1). */
os_status os_dataset_generate(const os_spec *spec, uint32_t replicate, os_dataset *out,
                              os_error *err);
/* x,y from a CSV file (header x,y). */
os_status os_dataset_load(const char *path, double offset, os_dataset *out, os_error *err);
/* The loss minimum over (Wa, Wb) in double (fills min_*). */
void os_dataset_find_minimum(os_dataset *d);
/* Masked MSE over the whole dataset at (wa, wb), in double, with the
 * model's canonical summation order (point i into partial i mod 8). */
double os_dataset_loss(const os_dataset *d, double wa, double wb);
void os_dataset_free(os_dataset *d);

/* ---- sweeps (src/sweep.c) ---- */

os_status os_sweep_plan(const os_spec *spec, os_sweep *out, os_error *err);
os_status os_sweep_run(const os_sweep *sw, os_result *results, os_progress_fn progress,
                       void *ctx, os_error *err);
void os_sweep_free(os_sweep *sw);

/* The per-training config of trial i (pointers into the sweep). */
os_train_cfg os_sweep_train_cfg(const os_sweep *sw, size_t i);

/* The dataset trial i trains on. */
const os_dataset *os_sweep_dataset(const os_sweep *sw, size_t i);

/* Fill loss_gap and param_error of trial i from its final parameters and
 * final_loss (which a backend computes: os_dataset_loss's bits, NaN when
 * diverged), in double on the host. */
void os_result_finish(const os_sweep *sw, size_t i, os_result *r);

/* Sample evaluations of a sweep (trainings x epochs x points). */
double os_sweep_evaluations(const os_sweep *sw);

/* ---- CPU backend (src/cpu_backend.c) ---- */

os_status os_cpu_run(const os_sweep *sw, os_result *results, os_progress_fn progress, void *ctx,
                     os_error *err);
/* Train trial 0 of sw alone and write its trace (DESIGN.md §5) to f. */
os_status os_cpu_trace(const os_sweep *sw, FILE *f, os_error *err);

/* ---- GPUs (kernels/cuda_backend.cu; src/cuda_none.c in builds without CUDA) ---- */

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

/* 1 if this build has the CUDA backend. */
int os_cuda_built(void);

/* The CUDA devices of this machine: fills up to max entries of out and
 * returns how many there are (0 when none, or no driver, or no CUDA in this
 * build: then why says so). Creates a CUDA context on each device. */
int os_cuda_devices(os_device_info *out, int max, os_error *why);

/* The devices a sweep with this spec would run on (spec->devices, or every
 * usable GPU): fills out and returns their count, or returns 0 with the
 * reason in err (OS_EINPUT-worthy problems such as a --devices number that
 * is not a GPU set *bad_input to 1). */
int os_cuda_select(const os_spec *spec, os_device_info *out, int *bad_input, os_error *err);

/* Train every trial of sw on the GPUs (same contract as os_cpu_run: every
 * result field, the same bits). OS_ERUNTIME when no GPU is usable. */
os_status os_cuda_run(const os_sweep *sw, os_result *results, os_progress_fn progress, void *ctx,
                      os_error *err);

/* ---- output (src/output.c) ---- */

/* Shortest decimal that reads back as the same double (or float). */
void os_fmt_double(char *buf, size_t size, double v);
void os_fmt_float(char *buf, size_t size, float v);

/* The results table (DESIGN.md §4), header first. */
int os_write_results(FILE *f, const os_sweep *sw, const os_result *results);

/* Opens path.tmp.XXXXXX for writing; os_atomic_commit renames it over path. */
typedef struct os_atomic_file {
    FILE *f;
    char *path, *tmp;
} os_atomic_file;
os_status os_atomic_open(os_atomic_file *af, const char *path, os_error *err);
os_status os_atomic_commit(os_atomic_file *af, os_error *err);
void os_atomic_abort(os_atomic_file *af);

void os_set_error(os_error *err, const char *fmt, ...);

#ifdef __cplusplus
}
#endif

#endif
