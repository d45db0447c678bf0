"""sweep.py - the benchmark sweep that orbitsweep and every peer train.

One sweep is T trainings of the orbit regression of docs/design.md §1 (N = 512
points, batch 64, start (0.1, 1.8), float32, one batch order per epoch shared
by all trainings), split evenly over one or more optimizers; in each
optimizer's group the learning rates are logspace(lo, hi, T/k). Every tool
trains on the same dataset, orbitsweep's own (`orbitsweep data`), so their
convergence statistics can be compared; batch orders come from each tool's
own random generator. This file holds that description, orbitsweep's command
line for it, and the sanity statistics every tool reports (how many
trainings converged or diverged). It is pure Python, so compare.py runs where
neither torch nor numpy is installed.
"""

import math
from dataclasses import dataclass

# ---------------------------------------------------------------------------
# The problem (docs/design.md §1)
# ---------------------------------------------------------------------------

ORBIT_A = 1.261845
ORBIT_B = 1.234378
OFFSET = math.sqrt(ORBIT_A ** 2 - ORBIT_B ** 2)  # c: the ellipse is centred at x = -c
N_POINTS = 512
NOISE = 0.1
BATCH = 64
INIT_WA, INIT_WB = 0.1, 1.8
TARGET = 0.01        # param_error that counts as converged (orbitsweep's --target)
DIVERGED_ABS = 1e6   # |parameter| above this counts as diverged (docs/design.md §4)

# Hyperparameters are torch.optim's defaults except SGD-with-momentum's 0.9.
MOMENTUM = 0.9
RMS_ALPHA, EPS = 0.99, 1e-8
BETA1, BETA2 = 0.9, 0.999
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")

# The case study's MultiStepLR (γ = 0.8), stepped after every update.
MULTISTEP_MILESTONES = (4, 8, 10, 12, 14, 16, 18, 20, 22, 24)
MULTISTEP_GAMMA = 0.8
SCHEDULERS = ("constant", "multistep")


@dataclass(frozen=True)
class Sweep:
    """T trainings: len(optimizers) groups of T/len(optimizers) learning rates."""

    trainings: int
    epochs: int
    optimizers: tuple
    lr_lo: float = -4.0  # learning rates are 10**linspace(lr_lo, lr_hi, per group)
    lr_hi: float = -1.0
    scheduler: str = "constant"
    seed: int = 0

    def __post_init__(self):
        if not self.optimizers or any(o not in OPTIMIZERS for o in self.optimizers):
            raise ValueError("optimizers must be among %s" % ", ".join(OPTIMIZERS))
        if self.trainings < 1 or self.trainings % len(self.optimizers):
            raise ValueError("trainings (%d) must be a positive multiple of the number of "
                             "optimizers (%d)" % (self.trainings, len(self.optimizers)))
        if self.epochs < 1:
            raise ValueError("epochs must be >= 1")
        if self.scheduler not in SCHEDULERS:
            raise ValueError("scheduler must be one of %s" % ", ".join(SCHEDULERS))

    @property
    def per_group(self):
        return self.trainings // len(self.optimizers)

    @property
    def updates_per_epoch(self):
        return -(-N_POINTS // BATCH)

    @property
    def sample_evals(self):
        """Sample evaluations of the whole sweep: trainings x epochs x points."""
        return self.trainings * self.epochs * N_POINTS

    def group_lrs(self):
        """The learning rates of one optimizer group, as numpy.logspace."""
        n = self.per_group
        if n == 1:
            return [10.0 ** self.lr_lo]
        step = (self.lr_hi - self.lr_lo) / (n - 1)
        return [10.0 ** (self.lr_lo + i * step) for i in range(n)]

    def groups(self):
        """(optimizer, first trial, end trial) per group, in trial order."""
        n = self.per_group
        return [(o, g * n, (g + 1) * n) for g, o in enumerate(self.optimizers)]

    def trial(self, t):
        """(optimizer, lr) of trial t."""
        return self.optimizers[t // self.per_group], self.group_lrs()[t % self.per_group]

    def lr_factor(self, update):
        """Scheduler multiplier of the lr used by update k (0-based)."""
        if self.scheduler == "constant":
            return 1.0
        return MULTISTEP_GAMMA ** sum(1 for m in MULTISTEP_MILESTONES if m <= update)

    def describe(self):
        sched = ("constant lr" if self.scheduler == "constant" else
                 "MultiStepLR(milestones=%s, gamma=%g) per update"
                 % ("/".join(map(str, MULTISTEP_MILESTONES)), MULTISTEP_GAMMA))
        return ("%s, each with lr = logspace(%g,%g,trainings/%d); %s; %d epochs; N=%d; "
                "batch %d; float32; one shared batch order per epoch"
                % ("+".join(self.optimizers), self.lr_lo, self.lr_hi, len(self.optimizers),
                   sched, self.epochs, N_POINTS, BATCH))

    def orbitsweep_args(self):
        """orbitsweep `run` flags that train exactly this sweep, in the same trial order."""
        args = ["--optimizer", ",".join(self.optimizers),
                "--lr", "logspace(%r,%r,%d)" % (self.lr_lo, self.lr_hi, self.per_group),
                "--epochs", str(self.epochs), "--batch-size", str(BATCH),
                "--n", str(N_POINTS), "--noise", repr(NOISE),
                "--init-wa", repr(INIT_WA), "--init-wb", repr(INIT_WB),
                "--momentum", repr(MOMENTUM), "--alpha", repr(RMS_ALPHA), "--eps", repr(EPS),
                "--beta1", repr(BETA1), "--beta2", repr(BETA2),
                "--seed", str(self.seed), "--seeds", "1", "--shuffle", "shared",
                "--dtype", "float32", "--target", repr(TARGET)]
        if self.scheduler == "multistep":
            args += ["--scheduler", "multistep:milestones=%s,gamma=%r"
                     % ("/".join(map(str, MULTISTEP_MILESTONES)), MULTISTEP_GAMMA)]
        return args


# ---------------------------------------------------------------------------
# Sanity statistics, the same for every tool
# ---------------------------------------------------------------------------


def param_error(wa, wb):
    """max(||Wa|-A|/A, |Wb-B|/B), as orbitsweep's param_error column."""
    return max(abs(abs(wa) - ORBIT_A) / ORBIT_A, abs(wb - ORBIT_B) / ORBIT_B)


def diverged(wa, wb):
    return not (math.isfinite(wa) and math.isfinite(wb)) or max(abs(wa), abs(wb)) > DIVERGED_ABS


def tally(finals):
    """(converged, diverged) counts over an iterable of final (wa, wb)."""
    conv = div = 0
    for wa, wb in finals:
        if diverged(wa, wb):
            div += 1
        elif param_error(wa, wb) <= TARGET:
            conv += 1
    return conv, div


class DeviceUnavailable(RuntimeError):
    """The device asked for is not there: the peer is skipped, not failed."""


@dataclass
class Result:
    """What a tool reports: wall time, and the final (wa, wb) of the trials it trained."""

    wall_s: float
    trials: list   # trial numbers trained (all of them unless the tool extrapolates)
    finals: list   # (wa, wb) per entry of trials
    device: str = "cpu"
    note: str = ""  # anything the table should mention (e.g. compile time)

    def final_of(self, trial):
        return dict(zip(self.trials, self.finals)).get(trial)
