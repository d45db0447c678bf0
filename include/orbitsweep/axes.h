/* axes.h — the sweep axes: one row each, in results-table column order.
 *
 * This table drives the flags (`--<flag> LIST`), their defaults and valid
 * ranges (os_spec_validate), the grid enumeration (an odometer over the rows
 * in `nest` order, optimizer outermost, seed innermost), the configuration
 * hash that keys `--shuffle trial` batch orders (rows in `hash` order, so
 * reordering the table changes no hash), the results table's configuration
 * columns, `summarize`'s grouping columns and `--help`.
 *
 * Columns of a row:
 *   ID       OS_AX_<ID>
 *   column   results column (and sweep-file key); flag  the command-line flag
 *   type     OS_AXT_OPT (optimizer names), OS_AXT_SCHED (scheduler specs),
 *            OS_AXT_REAL (doubles), OS_AXT_INT (integers), OS_AXT_BOOL
 *            (`true`/`false`, held as a double 1/0 like a real hyperparameter),
 *            OS_AXT_CHOICE (one of a list of names, os_axis_choices in
 *            src/spec.c, held as an int: its position in that list)
 *   member   where a training (os_trial) holds the value
 *   dflt     the default, as typed on the command line
 *   lo, hi, lo_open, hi_open, integer   the valid range; `range` says it in words
 *   nest     position in the grid order (0 = outermost). The axes before the
 *            optimizer (dtype, shuffle, sched_step, n, noise, target) nest
 *            outside it: a grid block is, combination after combination of
 *            their values, the product of the other axes, so a sweep over
 *            them is the concatenation of the sweeps of each combination
 *   hash     position in the configuration hash (never reuse or renumber; an
 *            axis at position >= OS_HASH_LATER adds to the hash only where its
 *            value is neither unused nor 0, so adding one changes no existing
 *            configuration's hash); -1: not hashed (the settings that became
 *            axes: a float32 and a float64 training of one configuration, or
 *            two noise levels, see the same batch orders, as before)
 *   hp       1: an optimizer hyperparameter: only the optimizers whose row in
 *            optim.h names it use it; for the others it does not multiply the
 *            grid and its column is empty
 *   help     one line for --help
 *
 * Adding a hyperparameter: a double in os_opt_hp (optim.h), one row here,
 * and its bit in the rows of the optimizers that use it.
 */
#ifndef ORBITSWEEP_AXES_H
#define ORBITSWEEP_AXES_H

#include <math.h>

enum { OS_AXT_OPT, OS_AXT_SCHED, OS_AXT_REAL, OS_AXT_INT, OS_AXT_BOOL, OS_AXT_CHOICE };

/* Hash positions from here on were added after the first tables. */
#define OS_HASH_LATER 14

/* clang-format off */
#define OS_AXES(X) \
/*  ID            column          flag              type          member            dflt        lo    hi       lo_open hi_open integer range                                nest hash hp help */ \
  X(OPTIMIZER,    "optimizer",    "--optimizer",    OS_AXT_OPT,   opt.kind,         "adam",     0,    0,       0, 0, 0, "",                                      6,  12, 0, "the optimizers (below)") \
  X(LR,           "lr",           "--lr",           OS_AXT_REAL,  lr,               "0.01",     0,    INFINITY, 1, 1, 0, "must be > 0",                           8,   0, 0, "initial learning rate") \
  X(SCHEDULER,    "scheduler",    "--scheduler",    OS_AXT_SCHED, sched,            "none",     0,    0,       0, 0, 0, "",                                      7,  13, 0, "lr schedulers, one per flag (below)") \
  X(MOMENTUM,     "momentum",     "--momentum",     OS_AXT_REAL,  opt.momentum,     "0.9",      0,    1,       0, 1, 0, "must be in [0, 1)",                     9,   1, 1, "momentum factor") \
  X(DAMPENING,    "dampening",    "--dampening",    OS_AXT_REAL,  opt.dampening,    "0",        0,    1,       0, 0, 0, "must be in [0, 1]",                     10,   2, 1, "dampening of the momentum buffer") \
  X(ALPHA,        "alpha",        "--alpha",        OS_AXT_REAL,  opt.alpha,        "0.99",     0,    1,       0, 1, 0, "must be in [0, 1)",                     11,   3, 1, "smoothing constant") \
  X(BETA1,        "beta1",        "--beta1",        OS_AXT_REAL,  opt.beta1,        "0.9",      0,    1,       0, 1, 0, "must be in [0, 1)",                     12,   4, 1, "first-moment decay") \
  X(BETA2,        "beta2",        "--beta2",        OS_AXT_REAL,  opt.beta2,        "0.999",    0,    1,       0, 1, 0, "must be in [0, 1)",                     13,   5, 1, "second-moment decay") \
  X(EPS,          "eps",          "--eps",          OS_AXT_REAL,  opt.eps,          "1e-8",     0,    INFINITY, 0, 1, 0, "must be >= 0",                          14,   6, 1, "term added to the denominator") \
  X(WEIGHT_DECAY, "weight_decay", "--weight-decay", OS_AXT_REAL,  opt.weight_decay, "0",        0,    INFINITY, 0, 1, 0, "must be >= 0",                          15,   7, 1, "L2 penalty g += wd * p as in torch.optim; decoupled for adamw and lion") \
  X(AMSGRAD,      "amsgrad",      "--amsgrad",      OS_AXT_BOOL,  opt.amsgrad,      "false",    0,    1,       0, 0, 1, "must be true or false",                 16, 14, 1, "AMSGrad: normalise by the largest second moment so far (true, false)") \
  X(CENTERED,     "centered",     "--centered",     OS_AXT_BOOL,  opt.centered,     "false",    0,    1,       0, 0, 1, "must be true or false",                 17, 15, 1, "normalise by the centered second moment (true, false)") \
  X(MOMENTUM_DECAY, "momentum_decay", "--momentum-decay", OS_AXT_REAL, opt.momentum_decay, "0.004", 0, INFINITY, 0, 1, 0, "must be >= 0",                        18, 16, 1, "momentum decay psi of the mu schedule") \
  X(LR_DECAY,     "lr_decay",     "--lr-decay",     OS_AXT_REAL,  opt.lr_decay,     "0",        0,    INFINITY, 0, 1, 0, "must be >= 0",                          19, 17, 1, "lr / (1 + (t-1) lr_decay)") \
  X(INITIAL_ACCUMULATOR_VALUE, "initial_accumulator_value", "--initial-accumulator-value", OS_AXT_REAL, opt.initial_accumulator_value, "0", 0, INFINITY, 0, 1, 0, "must be >= 0", 20, 18, 1, "the starting sum of squared gradients") \
  X(RHO,          "rho",          "--rho",          OS_AXT_REAL,  opt.rho,          "0.9",      0,    1,       0, 0, 0, "must be in [0, 1]",                     21, 19, 1, "decay of the running averages") \
  X(BATCH_SIZE,   "batch_size",   "--batch-size",   OS_AXT_INT,   batch_size,       "64",       1,    1e7,     0, 0, 1, "must be an integer in 1..10000000",     22, 10, 0, "minibatch size") \
  X(EPOCHS,       "epochs",       "--epochs",       OS_AXT_INT,   epochs,           "100",      1,    1e7,     0, 0, 1, "must be an integer in 1..10000000",     23, 11, 0, "passes over the data") \
  X(INIT_WA,      "init_wa",      "--init-wa",      OS_AXT_REAL,  init_wa,          "0.1",      -1e6, 1e6,     0, 0, 0, "must be finite, |Wa| <= 1e6",           24,  8, 0, "starting Wa (the model divides by Wa)") \
  X(INIT_WB,      "init_wb",      "--init-wb",      OS_AXT_REAL,  init_wb,          "1.8",      -1e6, 1e6,     0, 0, 0, "must be finite, |Wb| <= 1e6",           25,  9, 0, "starting Wb") \
  X(DTYPE,        "dtype",        "--dtype",        OS_AXT_CHOICE, dtype,           "float32",  0,    1,       0, 0, 1, "must be float32 or float64",            0,  -1, 0, "training precision: float32, float64") \
  X(SHUFFLE,      "shuffle",      "--shuffle",      OS_AXT_CHOICE, shuffle,         "shared",   0,    2,       0, 0, 1, "must be shared, trial or none",         1,  -1, 0, "batch orders: shared by a seed's trainings, per trial, or none") \
  X(SCHED_STEP,   "sched_step",   "--sched-step",   OS_AXT_CHOICE, sched_step,      "update",   0,    1,       0, 0, 1, "must be update or epoch",               2,  -1, 0, "scheduler.step() after every update or every epoch") \
  X(N,            "n",            "--n",            OS_AXT_INT,   n,                "512",      2,    1e7,     0, 0, 1, "must be an integer in 2..10000000",     3,  -1, 0, "points of the generated dataset") \
  X(NOISE,        "noise",        "--noise",        OS_AXT_REAL,  noise,            "0.1",      0,    1e6,     0, 0, 0, "must be in [0, 1e6]",                   4,  -1, 0, "uniform noise amplitude of the generated data") \
  X(TARGET,       "target",       "--target",       OS_AXT_REAL,  target,           "0.01",     0,    INFINITY, 1, 1, 0, "must be > 0",                           5,  -1, 0, "param_error that counts as converged")
/* clang-format on */

enum {
#define OS_X(ID, ...) OS_AX_##ID,
    OS_AXES(OS_X)
#undef OS_X
    OS_AX_COUNT
};

/* The bit of an axis in an optimizer's row (optim.h). */
#define OS_HP(ID) (1u << OS_AX_##ID)

#endif
