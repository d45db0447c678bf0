#!/usr/bin/env python3
"""make_golden.py - the independent PyTorch reference for orbitsweep's tests.

Writes the golden files that orbitsweep's C/CUDA tests compare against, into
tests/golden/ (relative to the repository root, found from this file's path):

  philox.txt                 first 16 curand() words of two cuRAND Philox4x32-10
                             streams: curand_init(0,0,0) and curand_init(1234,5,7)
  data_default.csv           the generated dataset, seed 0, replicate 0, N=512
  data_seed7_r3_n100.csv     the generated dataset, seed 7, replicate 3 (key 10), N=100
  sched_lr.csv               lr after k scheduler.step() calls, k = 0..100, for
                             every scheduler spec used here (torch.optim.lr_scheduler)
  trace_<name>.csv           one float64 training per file, batches in data order,
                             one row per update (the columns of `orbitsweep trace`);
                             the `# args:` comment line gives the same training as
                             orbitsweep command-line flags
  cycle_<name>.csv           a training whose momentum (or beta1) is changed in
                             param_groups[0] before every optimizer.step(), as
                             CyclicLR/OneCycleLR do: the trace columns plus `mom`,
                             the value that step used (the optimizer-side hook)
  beta_pow.csv               beta, t, Python's beta ** t and the correctly rounded
                             power (fractions.Fraction), for the cycled bias correction

Rerun from the repository root with Debian's PyTorch (CPU is enough, < 1 min):

    /usr/bin/python3 scripts/make_golden.py

It needs only torch and numpy, and imports nothing from orbitsweep: the
Philox generator, the dataset and the training loop are written here from the
contracts (docs/design.md, docs/pytorch-semantics.md, docs/gpu-notes.md); the optimizers and
schedulers are torch's own. Self-checks, any of which stops the script: the
Philox known-answer vectors; every sched_lr.csv value equal to the recursive
formulas of docs/pytorch-semantics.md §3; every trace's (wa, wb) within 1e-6
relative of a plain-Python float re-implementation (analytic gradients,
math.fsum reductions). Only the date in the comment lines changes on a rerun.
"""

import csv
import datetime
import fractions
import io
import math
import os
import re
import shlex
import sys
import warnings

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(os.path.dirname(HERE), "tests", "golden")
SCRIPT = "scripts/make_golden.py"

M32 = 0xFFFFFFFF

# ---------------------------------------------------------------------------
# Philox4x32-10, as cuRAND's device API (pure Python ints)
# ---------------------------------------------------------------------------


def philox_block(ctr, key):
    """Philox4x32-10 block function: 4-word counter, 2-word key -> 4 words."""
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    for rnd in range(10):
        if rnd > 0:  # 9 key bumps: round r uses the key bumped r times
            k0 = (k0 + 0x9E3779B9) & M32
            k1 = (k1 + 0xBB67AE85) & M32
        p0 = 0xD2511F53 * c0
        p1 = 0xCD9E8D57 * c2
        hi0, lo0 = p0 >> 32, p0 & M32
        hi1, lo1 = p1 >> 32, p1 & M32
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return (c0, c1, c2, c3)


KAT = [  # Random123 kat_vectors: counter, key -> output
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((M32, M32, M32, M32), (M32, M32), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


class Curand:
    """curandStatePhilox4_32_10_t: curand_init(seed, subsequence, offset)."""

    def __init__(self, seed, subsequence=0, offset=0):
        self.key = (seed & M32, (seed >> 32) & M32)
        blk = offset // 4
        self.ctr = (blk & M32, (blk >> 32) & M32, subsequence & M32, (subsequence >> 32) & M32)
        self.idx = offset % 4
        self.out = philox_block(self.ctr, self.key)

    def _incr(self):
        v = self.ctr[0] | (self.ctr[1] << 32) | (self.ctr[2] << 64) | (self.ctr[3] << 96)
        v = (v + 1) & ((1 << 128) - 1)
        self.ctr = (v & M32, (v >> 32) & M32, (v >> 64) & M32, (v >> 96) & M32)

    def curand(self):
        w = self.out[self.idx]
        self.idx += 1
        if self.idx == 4:
            self._incr()
            self.out = philox_block(self.ctr, self.key)
            self.idx = 0
        return w

    def uniform(self):
        """curand_uniform: float32(w) * 2^-32 + 2^-33, in float32, range (0, 1]."""
        w = self.curand()
        return np.float32(w) * np.float32(2.0 ** -32) + np.float32(2.0 ** -33)


def check_philox():
    for ctr, key, want in KAT:
        got = philox_block(ctr, key)
        assert got == want, "Philox KAT failed: %s %s -> %s" % (ctr, key, [hex(g) for g in got])
    s = Curand(0, 0, 0)
    w = [s.curand() for _ in range(6)]
    assert w == [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8, 0xF8E4CCA4, 0x5CB200DB], w
    s = Curand(1234, 5, 7)
    w = [s.curand() for _ in range(6)]
    assert w == [0x72C26332, 0x26A9BD1B, 0xD88ECB0D, 0x088F2111, 0xD1E85602, 0xC19C9FA2], w
    u = Curand(0, 0, 0).uniform()
    assert u.view(np.uint32) == 0x3ECC4FD2, hex(int(u.view(np.uint32)))


# ---------------------------------------------------------------------------
# Dataset (docs/design.md §1): bit-exact float64 construction
# ---------------------------------------------------------------------------

A_DEF = 1.261845
B_DEF = 1.234378


def make_data(seed=0, replicate=0, n=512, a=A_DEF, b=B_DEF, c=None, noise=0.1):
    if c is None:
        c = math.sqrt(a * a - b * b)
    # replicate r of a sweep with base seed s uses the Philox key s + r and
    # subsequence 0 (the row's `seed` column is s + r)
    rng = Curand(seed + replicate, 0, 0)
    u = [rng.uniform() for _ in range(n)]
    start = -(a + c)
    stop = a - c
    step = (stop - start) / (n - 1)
    xs, ys = [], []
    for i in range(n):
        x = i * step + start if i < n - 1 else stop
        xc = x + c
        s = 1.0 - (xc * xc) / (a * a)
        s = max(0.0, s)
        y = b * math.sqrt(s) + (float(u[i]) - 0.5) * noise
        xs.append(x)
        ys.append(y)
    return xs, ys, c


# ---------------------------------------------------------------------------
# Schedulers: orbitsweep spec string -> torch.optim.lr_scheduler object
# ---------------------------------------------------------------------------


def parse_spec(spec):
    name, _, rest = spec.partition(":")
    kv = {}
    if rest:
        for item in rest.split(","):
            k, _, v = item.partition("=")
            kv[k] = v
    return name, kv


def split_composite(spec):
    """'sequential(A;B;milestones=3)' -> ('sequential', ['A', 'B'], [3]); None for a plain spec."""
    if "(" not in spec.split(":")[0]:
        return None
    name, _, inner = spec.partition("(")
    parts, milestones = [], []
    for item in inner[:-1].split(";"):
        if item.startswith("milestones="):
            milestones = [int(m) for m in item[len("milestones="):].split("/")]
        else:
            parts.append(item)
    return name, parts, milestones


class CyclicLR21(torch.optim.lr_scheduler.CyclicLR):
    """CyclicLR as PyTorch >= 2.1 has it (torch/optim/lr_scheduler.py, v2.1.0,
    CyclicLR.__init__ and get_lr, `use_beta1`): with cycle_momentum on an
    optimizer whose defaults have `betas` but no `momentum` (the Adam family),
    beta1 takes the momentum's values -- betas = (max_momentum, beta2) before
    the initial step, then (momentum, beta2) at every step -- where 1.13
    raises ValueError. Every other case is 1.13's CyclicLR unchanged."""

    def __init__(self, optimizer, base_lr, max_lr, cycle_momentum=True, base_momentum=0.8,
                 max_momentum=0.9, **kw):
        self.use_beta1 = (cycle_momentum and "momentum" not in optimizer.defaults
                          and "betas" in optimizer.defaults)
        if not self.use_beta1:
            super().__init__(optimizer, base_lr, max_lr, cycle_momentum=cycle_momentum,
                             base_momentum=base_momentum, max_momentum=max_momentum, **kw)
            return
        for group in optimizer.param_groups:
            group["betas"] = (max_momentum, *group["betas"][1:])
        self.base_momentums = [base_momentum] * len(optimizer.param_groups)
        self.max_momentums = [max_momentum] * len(optimizer.param_groups)
        super().__init__(optimizer, base_lr, max_lr, cycle_momentum=False, **kw)
        self.cycle_momentum = True

    def get_lr(self):
        if not self.use_beta1:
            return super().get_lr()
        self.cycle_momentum = False  # 1.13's get_lr for the lr alone
        lrs = super().get_lr()
        self.cycle_momentum = True
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1. + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        for base_m, max_m, group in zip(self.base_momentums, self.max_momentums, self.optimizer.param_groups):
            base_height = (max_m - base_m) * scale_factor
            if self.scale_mode == "cycle":
                momentum = max_m - base_height * self.scale_fn(cycle)
            else:
                momentum = max_m - base_height * self.scale_fn(self.last_epoch)
            group["betas"] = (momentum, *group["betas"][1:])
        return lrs


def read_factor_table(path):
    """table:FILE's multipliers (header 'factor', one per line)."""
    with open(os.path.join(os.path.dirname(HERE), path)) as f:  # relative to the repository root
        lines = [l.strip() for l in f if l.strip()]
    assert lines[0] == "factor", path
    return [float(v) for v in lines[1:]]


def cycles(opt, cm):
    """cycle_momentum=auto|true|false -> PyTorch's bool (auto: the optimizer has momentum or betas)."""
    if cm == "auto":
        return "momentum" in opt.defaults or "betas" in opt.defaults
    return cm == "true"


def make_scheduler(spec, opt):
    """None for 'none'; otherwise the torch scheduler the spec names."""
    comp = split_composite(spec)
    sch = torch.optim.lr_scheduler
    if comp is not None:
        name, parts, milestones = comp
        subs = [make_scheduler(p, opt) for p in parts]  # constructed in order, as a user would
        if name == "sequential":
            return sch.SequentialLR(opt, subs, milestones=milestones)
        return sch.ChainedScheduler(subs)
    name, kv = parse_spec(spec)
    if name == "none":
        return None
    if name == "multistep":
        ms = [int(m) for m in kv["milestones"].split("/")]
        return sch.MultiStepLR(opt, milestones=ms, gamma=float(kv.get("gamma", "0.1")))
    if name == "multiplicative":
        f = float(kv["factor"])
        lo = int(kv.get("start", "1"))
        hi = int(kv["end"]) if "end" in kv else None
        ev = int(kv.get("every", "1"))

        def lam(e):
            return f if (e >= lo and (hi is None or e <= hi) and e % ev == 0) else 1.0

        return sch.MultiplicativeLR(opt, lr_lambda=lam)
    if name == "step":
        return sch.StepLR(opt, step_size=int(kv["step_size"]), gamma=float(kv.get("gamma", "0.1")))
    if name == "exponential":
        return sch.ExponentialLR(opt, gamma=float(kv["gamma"]))
    if name == "cosine":
        return sch.CosineAnnealingLR(opt, T_max=int(kv["t_max"]), eta_min=float(kv.get("eta_min", "0")))
    if name == "constant":
        return sch.ConstantLR(opt, factor=float(kv.get("factor", 1.0 / 3)), total_iters=int(kv.get("total_iters", 5)))
    if name == "linear":
        return sch.LinearLR(opt, start_factor=float(kv.get("start_factor", 1.0 / 3)),
                            end_factor=float(kv.get("end_factor", 1.0)), total_iters=int(kv.get("total_iters", 5)))
    if name == "polynomial":
        return sch.PolynomialLR(opt, total_iters=int(kv.get("total_iters", 5)), power=float(kv.get("power", 1.0)))
    if name == "cosine_warm_restarts":
        return sch.CosineAnnealingWarmRestarts(opt, T_0=int(kv["t_0"]), T_mult=int(kv.get("t_mult", 1)),
                                               eta_min=float(kv.get("eta_min", 0)))
    if name == "cyclic":
        return CyclicLR21(opt, base_lr=float(kv["base_lr"]), max_lr=opt.param_groups[0]["lr"],
                          step_size_up=int(kv.get("step_size_up", 2000)),
                          step_size_down=int(kv["step_size_down"]) if "step_size_down" in kv else None,
                          mode=kv.get("mode", "triangular"), gamma=float(kv.get("gamma", 1.0)),
                          cycle_momentum=cycles(opt, kv.get("cycle_momentum", "auto")),
                          base_momentum=float(kv.get("base_momentum", 0.8)),
                          max_momentum=float(kv.get("max_momentum", 0.9)))
    if name == "onecycle":
        return sch.OneCycleLR(opt, max_lr=opt.param_groups[0]["lr"], total_steps=int(kv["total_steps"]),
                              pct_start=float(kv.get("pct_start", 0.3)),
                              anneal_strategy=kv.get("anneal_strategy", "cos"),
                              div_factor=float(kv.get("div_factor", 25.0)),
                              final_div_factor=float(kv.get("final_div_factor", 1e4)),
                              three_phase=kv.get("three_phase", "false") == "true",
                              cycle_momentum=cycles(opt, kv.get("cycle_momentum", "auto")),
                              base_momentum=float(kv.get("base_momentum", 0.85)),
                              max_momentum=float(kv.get("max_momentum", 0.95)))
    if name == "plateau":
        return sch.ReduceLROnPlateau(opt, mode=kv.get("mode", "min"), factor=float(kv.get("factor", 0.1)),
                                     patience=int(kv.get("patience", 10)),
                                     threshold=float(kv.get("threshold", 1e-4)),
                                     threshold_mode=kv.get("threshold_mode", "rel"),
                                     cooldown=int(kv.get("cooldown", 0)), min_lr=float(kv.get("min_lr", 0)),
                                     eps=float(kv.get("eps", 1e-8)))
    if spec.startswith("table:"):
        tab = read_factor_table(spec[len("table:"):])
        return sch.LambdaLR(opt, lr_lambda=lambda e: tab[min(e, len(tab) - 1)])
    raise ValueError("unknown scheduler spec " + spec)


def is_plateau(sched):
    return isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau)


def momentum_of(opt):
    """The momentum (SGD, RMSprop) or beta1 (Adam family) the next step uses."""
    g = opt.param_groups[0]
    return g["momentum"] if "momentum" in g else g["betas"][0]


# ---------------------------------------------------------------------------
# Training traces (float64)
# ---------------------------------------------------------------------------

# orbitsweep's defaults (docs/design.md §3)
DEFAULTS = dict(optimizer="adam", lr=0.01, momentum=0.9, dampening=0.0, alpha=0.99, eps=1e-8,
                beta1=0.9, beta2=0.999, weight_decay=0.0, scheduler="none", sched_step="update",
                batch_size=64, epochs=100, init_wa=0.1, init_wb=1.8, n=512, noise=0.1, seed=0,
                amsgrad=False, centered=False, momentum_decay=0.004, lr_decay=0.0,
                initial_accumulator_value=0.0, rho=0.9)
# each optimizer's own defaults where they differ (PyTorch's; optax's for lion)
OPT_DEFAULTS = dict(rmsprop=dict(momentum=0.0), adamw=dict(weight_decay=0.01),
                    adagrad=dict(eps=1e-10), adadelta=dict(eps=1e-6, lr=1.0),
                    lion=dict(beta2=0.99, weight_decay=1e-3))
FLAG_ORDER = ["optimizer", "lr", "momentum", "dampening", "alpha", "eps", "beta1", "beta2",
              "weight_decay", "amsgrad", "centered", "momentum_decay", "lr_decay",
              "initial_accumulator_value", "rho", "scheduler", "sched_step", "batch_size", "epochs",
              "init_wa", "init_wb", "n", "noise", "seed"]
ALWAYS = {"optimizer", "lr", "epochs"}

STATS = dict(updates=0, all_masked=0, grad_none=0, grad_nan_all_masked=0, grad_nonzero_all_masked=0,
             grad_nan_partial=0, grad_inf=0, loss_nan_all_masked=0)


def fmt(v):
    return repr(float(v))


def opt_default(o, k):
    return OPT_DEFAULTS.get(o, {}).get(k, DEFAULTS[k])


def args_line(cfg):
    parts = []
    for k in FLAG_ORDER:
        v = cfg[k]
        if k not in ALWAYS and v == opt_default(cfg["optimizer"], k):
            continue
        parts.append("--" + k.replace("_", "-"))
        if isinstance(v, bool):
            parts.append("true" if v else "false")
        else:
            parts.append(fmt(v) if isinstance(v, float) else shlex.quote(str(v)))
    parts += ["--dtype", cfg.get("dtype", "float64"), "--shuffle", "none"]
    return " ".join(parts)


class OptaxLion(torch.optim.Optimizer):
    """optax.lion (not in PyTorch), transcribed from optax's source:
    chain(scale_by_lion(b1, b2), add_decayed_weights(weight_decay),
    scale_by_learning_rate(lr)) then apply_updates, i.e. per parameter
        c = (1 - b1) * g + b1 * mu;  u = sign(c)
        mu = (1 - b2) * g + b2 * mu            (from the old mu)
        u = u + weight_decay * p;  u = -lr * u;  p = p + u
    with mu starting at 0; elementwise ops in the parameter's dtype (float64
    here: the reference), Python floats entering as scalars as in optax."""

    def __init__(self, params, lr, b1=0.9, b2=0.99, weight_decay=1e-3):
        super().__init__(params, dict(lr=lr, b1=b1, b2=b2, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            lr, b1, b2, wd = group["lr"], group["b1"], group["b2"], group["weight_decay"]
            for p in group["params"]:
                st = self.state[p]
                if "mu" not in st:
                    st["mu"] = torch.zeros_like(p)
                g, mu = p.grad, st["mu"]
                u = torch.sign((1. - b1) * g + b1 * mu)
                st["mu"] = (1 - b2) * g + b2 * mu
                u = u + wd * p
                u = -lr * u
                p.copy_(p + u)


def make_optimizer(cfg, params):
    o, lr, wd = cfg["optimizer"], cfg["lr"], cfg["weight_decay"]
    betas = (cfg["beta1"], cfg["beta2"])
    if o == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0, weight_decay=wd)
    if o == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=cfg["momentum"], dampening=cfg["dampening"],
                               weight_decay=wd)
    if o == "nesterov":
        return torch.optim.SGD(params, lr=lr, momentum=cfg["momentum"], nesterov=True, weight_decay=wd)
    if o == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=cfg["alpha"], eps=cfg["eps"], weight_decay=wd,
                                   momentum=cfg["momentum"], centered=cfg["centered"])
    if o == "adam":
        return torch.optim.Adam(params, lr=lr, betas=betas, eps=cfg["eps"], weight_decay=wd,
                                amsgrad=cfg["amsgrad"])
    if o == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=betas, eps=cfg["eps"], weight_decay=wd,
                                 amsgrad=cfg["amsgrad"])
    if o == "nadam":
        return torch.optim.NAdam(params, lr=lr, betas=betas, eps=cfg["eps"], weight_decay=wd,
                                 momentum_decay=cfg["momentum_decay"])
    if o == "radam":
        return torch.optim.RAdam(params, lr=lr, betas=betas, eps=cfg["eps"], weight_decay=wd)
    if o == "adamax":
        return torch.optim.Adamax(params, lr=lr, betas=betas, eps=cfg["eps"], weight_decay=wd)
    if o == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, lr_decay=cfg["lr_decay"], weight_decay=wd,
                                   initial_accumulator_value=cfg["initial_accumulator_value"],
                                   eps=cfg["eps"])
    if o == "adadelta":
        return torch.optim.Adadelta(params, lr=lr, rho=cfg["rho"], eps=cfg["eps"], weight_decay=wd)
    if o == "lion":
        return OptaxLion(params, lr=lr, b1=cfg["beta1"], b2=cfg["beta2"], weight_decay=wd)
    raise ValueError(o)


def forward(x, y, c, wa, wb, safe):
    """Masked-MSE loss of docs/design.md §1. `safe` keeps sqrt's backward away from
    s == 0 at masked points (only needed if torch's where() leaked a NaN)."""
    d = x + c
    s = 1 - d ** 2 / wa ** 2
    mask = s < 0
    s = torch.where(mask, torch.zeros_like(s), s)
    if safe:
        r = torch.sqrt(torch.where(mask, torch.ones_like(s), s))
        r = torch.where(mask, torch.zeros_like(r), r)
    else:
        r = torch.sqrt(s)
    pred = wb * r
    loss = torch.nn.MSELoss(reduction="mean")(pred[~mask], y[~mask])
    return loss, int((~mask).sum())


def state_cols(cfg, opt, wa, wb):
    o = cfg["optimizer"]

    def g(p, key):
        st = opt.state[p]
        return fmt(st[key].item()) if key in st and st[key] is not None else ""

    if o in ("momentum", "nesterov") or (o == "sgd" and cfg.get("cycle")):
        return [g(wa, "momentum_buffer"), g(wb, "momentum_buffer"), "", ""]
    if o == "rmsprop":
        return [g(wa, "momentum_buffer"), g(wb, "momentum_buffer"), g(wa, "square_avg"),
                g(wb, "square_avg")]
    if o in ("adam", "adamw", "nadam", "radam"):
        return [g(wa, "exp_avg"), g(wb, "exp_avg"), g(wa, "exp_avg_sq"), g(wb, "exp_avg_sq")]
    if o == "adamax":
        return [g(wa, "exp_avg"), g(wb, "exp_avg"), g(wa, "exp_inf"), g(wb, "exp_inf")]
    if o == "adagrad":
        return ["", "", g(wa, "sum"), g(wb, "sum")]
    if o == "adadelta":
        return [g(wa, "acc_delta"), g(wb, "acc_delta"), g(wa, "square_avg"), g(wb, "square_avg")]
    if o == "lion":
        return [g(wa, "mu"), g(wb, "mu"), "", ""]
    return ["", "", "", ""]


def run_trace(cfg):
    xs, ys, c = make_data(seed=cfg["seed"], replicate=0, n=cfg["n"], noise=cfg["noise"])
    dt = torch.float32 if cfg.get("dtype") == "float32" else torch.float64
    # state tensors torch makes with the default dtype (NAdam's mu_product)
    # follow the training's dtype, as for a user who trains in that dtype
    torch.set_default_dtype(dt)
    x = torch.tensor(xs, dtype=dt)  # float64 data rounded once to the dtype
    y = torch.tensor(ys, dtype=dt)
    wa = torch.nn.Parameter(torch.tensor(cfg["init_wa"], dtype=dt))
    wb = torch.nn.Parameter(torch.tensor(cfg["init_wb"], dtype=dt))
    opt = make_optimizer(cfg, [wa, wb])
    sched = make_scheduler(cfg["scheduler"], opt)
    n, bs = cfg["n"], cfg["batch_size"]
    nb = (n + bs - 1) // bs
    rows = []
    k = 0
    for e in range(cfg["epochs"]):
        epoch_loss, epoch_n = 0.0, 0  # plateau's metric: the mean of the unmasked batches' loss.item()
        for b in range(nb):
            xb, yb = x[b * bs:min((b + 1) * bs, n)], y[b * bs:min((b + 1) * bs, n)]
            opt.zero_grad(set_to_none=False)
            loss, kk = forward(xb, yb, c, wa, wb, safe=False)
            loss.backward()
            STATS["updates"] += 1
            if kk == 0:
                STATS["all_masked"] += 1
                if math.isnan(loss.item()):
                    STATS["loss_nan_all_masked"] += 1
                for p in (wa, wb):
                    if p.grad is None:
                        STATS["grad_none"] += 1
                        p.grad = torch.zeros_like(p)
                    elif torch.isnan(p.grad).any():
                        STATS["grad_nan_all_masked"] += 1
                        p.grad = torch.zeros_like(p)
                    elif p.grad.item() != 0.0:
                        STATS["grad_nonzero_all_masked"] += 1
                        raise RuntimeError("nonzero grad with every point masked")
            elif any(torch.isnan(p.grad).any() for p in (wa, wb)):
                STATS["grad_nan_partial"] += 1
                opt.zero_grad(set_to_none=False)
                loss, kk = forward(xb, yb, c, wa, wb, safe=True)
                loss.backward()
            if any(torch.isinf(p.grad).any() for p in (wa, wb)):
                STATS["grad_inf"] += 1
            lr = opt.param_groups[0]["lr"]
            cyc = cfg.get("cycle")
            if cyc:
                mom = cycle_mom(k)
                if cyc == "momentum":
                    opt.param_groups[0]["momentum"] = mom
                elif "betas" in opt.param_groups[0]:
                    opt.param_groups[0]["betas"] = (mom, opt.param_groups[0]["betas"][1])
                else:  # OptaxLion
                    opt.param_groups[0]["b1"] = mom
            wa0, wb0 = wa.item(), wb.item()
            dwa, dwb = wa.grad.item(), wb.grad.item()
            opt.step()
            swa, swb = wa.item() - wa0, wb.item() - wb0
            rows.append([str(k), str(e), str(b), fmt(lr), fmt(loss.item()), fmt(wa0), fmt(wb0),
                         fmt(dwa), fmt(dwb), fmt(swa), fmt(swb), fmt(math.sqrt(swa * swa + swb * swb))]
                        + state_cols(cfg, opt, wa, wb) + ([fmt(mom)] if cyc else []))
            if kk > 0:
                epoch_loss += loss.item()  # summed left to right, as a Python loop does
                epoch_n += 1
            if sched is not None and cfg["sched_step"] == "update" and not is_plateau(sched):
                sched.step()
            k += 1
        if is_plateau(sched):  # once per epoch, whatever sched_step says
            sched.step(epoch_loss / epoch_n if epoch_n else float("nan"))
        elif sched is not None and cfg["sched_step"] == "epoch":
            sched.step()
    rows.append([str(k), "", "", "", "", fmt(wa.item()), fmt(wb.item())] + [""] * 9
                + ([""] if cfg.get("cycle") else []))
    torch.set_default_dtype(torch.float64)
    return rows


TRACE_HEADER = "update,epoch,batch,lr,loss,wa,wb,dwa,dwb,step_wa,step_wb,eff_step,m_wa,m_wb,v_wa,v_wb"

LR_CONST = dict(sgd=0.01, momentum=0.01, nesterov=0.01, rmsprop=0.01, adam=0.05, adamw=0.05,
                nadam=0.05, radam=0.05, adamax=0.05, adagrad=0.05, adadelta=1.0, lion=0.005)
NEW_OPTIMIZERS = ["adamw", "nadam", "radam", "adamax", "adagrad", "adadelta", "lion"]


def base_cfg(o):
    """orbitsweep's defaults for optimizer o (the axis defaults, then its own)."""
    cfg = dict(DEFAULTS)
    cfg.update(OPT_DEFAULTS.get(o, {}))
    return cfg
W1 = dict(init_wa=1.0, init_wb=1.0)

MS_A = "multistep:milestones=4/8/10/12/14/16/18/20/22/24,gamma=0.8"
MS_B = "multistep:milestones=5/10/15/20,gamma=0.5"
MUL_A = "multiplicative:factor=0.8,start=6,end=24,every=2"
MUL_B = "multiplicative:factor=0.5,start=5,end=20,every=5"
STEP = "step:step_size=7,gamma=0.3"
EXPO = "exponential:gamma=0.97"
COS = "cosine:t_max=20,eta_min=0.001"
SCHEDS = [MS_A, MS_B, MUL_A, MUL_B, STEP, EXPO, COS]

# Each scheduler with two optimizers: the first from the default start, the
# second from (1.0, 1.0). Every optimizer appears at least twice.
SCHED_PAIRS = [
    ("msa", MS_A, "adam", "sgd"),
    ("msb", MS_B, "momentum", "rmsprop"),
    ("mula", MUL_A, "nesterov", "adam"),
    ("mulb", MUL_B, "sgd", "momentum"),
    ("step", STEP, "rmsprop", "nesterov"),
    ("exp", EXPO, "adam", "sgd"),
    ("cos", COS, "momentum", "rmsprop"),
]


def configs():
    """(name, overrides) for every trace. Each has at most ~100 updates."""
    out = []

    def add(name, **kw):
        cfg = base_cfg(kw["optimizer"])
        cfg.update(kw)
        out.append((name, cfg))

    for o in ["sgd", "momentum", "nesterov", "rmsprop", "adam"]:
        add("%s_const" % o, optimizer=o, lr=LR_CONST[o], epochs=10)
        add("%s_const_w1" % o, optimizer=o, lr=LR_CONST[o], epochs=10, **W1)
    for tag, spec, o_def, o_w1 in SCHED_PAIRS:
        add("%s_%s" % (o_def, tag), optimizer=o_def, lr=LR_CONST[o_def], scheduler=spec, epochs=6)
        add("%s_%s_w1" % (o_w1, tag), optimizer=o_w1, lr=LR_CONST[o_w1], scheduler=spec, epochs=6, **W1)
    for o in ["sgd", "momentum", "rmsprop", "adam"]:
        add("%s_wd" % o, optimizer=o, lr=LR_CONST[o], weight_decay=0.01, epochs=8)
    for o in ["sgd", "momentum", "rmsprop", "adam"]:
        add("%s_wd_w1" % o, optimizer=o, lr=LR_CONST[o], weight_decay=0.01, epochs=8, **W1)
    # short last batches: 512 = 10*48 + 32; 100 = 3*32 + 4
    add("adam_bs48", optimizer="adam", lr=0.05, batch_size=48, epochs=8)
    add("momentum_n100_bs32", optimizer="momentum", lr=0.01, n=100, batch_size=32, epochs=20)
    add("adam_n100_bs32_w1", optimizer="adam", lr=0.05, n=100, batch_size=32, epochs=20, **W1)
    add("momentum_damp", optimizer="momentum", lr=0.01, dampening=0.3, epochs=8)
    add("momentum_damp_w1", optimizer="momentum", lr=0.01, dampening=0.3, epochs=8, **W1)
    add("adam_betas", optimizer="adam", lr=0.05, beta1=0.8, beta2=0.99, eps=1e-6, epochs=8)
    add("rmsprop_alpha", optimizer="rmsprop", lr=0.01, alpha=0.9, epochs=8)
    add("rmsprop_alpha_w1", optimizer="rmsprop", lr=0.01, alpha=0.9, epochs=8, **W1)
    add("adam_epoch_ms", optimizer="adam", lr=0.05, scheduler="multistep:milestones=2/4,gamma=0.5",
        sched_step="epoch", epochs=8)
    add("momentum_epoch_exp_w1", optimizer="momentum", lr=0.01, scheduler="exponential:gamma=0.9",
        sched_step="epoch", epochs=8, **W1)
    # the case study's §3.2 experiments (Adam at lr 0.12)
    add("case_adam_msa", optimizer="adam", lr=0.12, scheduler=MS_A, epochs=6)
    add("case_adam_msb", optimizer="adam", lr=0.12, scheduler=MS_B, epochs=6)
    add("case_adam_mula", optimizer="adam", lr=0.12, scheduler=MUL_A, epochs=6)
    add("case_adam_mulb", optimizer="adam", lr=0.12, scheduler=MUL_B, epochs=6)
    # every point masked from the start (Wa below the data's smallest |x+c|):
    # gradients are exactly zero, so these never leave the start point, but
    # the optimizer's step counters and schedules still advance
    add("adam_masked", optimizer="adam", lr=0.05, init_wa=0.001, epochs=5)
    add("momentum_masked", optimizer="momentum", lr=0.01, init_wa=0.001, epochs=5)
    # only the two middle points unmasked at first (|x+c| = 0.00247 < Wa):
    # batches 3 and 4 carry the first nonzero gradients
    add("adam_nearmasked", optimizer="adam", lr=0.05, init_wa=0.003, epochs=6)
    add("momentum_nearmasked", optimizer="momentum", lr=0.01, init_wa=0.003, epochs=6)
    # the optimizers of the catalogue beyond the case study's, and their options
    for o in NEW_OPTIMIZERS:
        add("%s_const" % o, optimizer=o, lr=LR_CONST[o], epochs=10)
        add("%s_const_w1" % o, optimizer=o, lr=LR_CONST[o], epochs=10, **W1)
        add("%s_cos" % o, optimizer=o, lr=LR_CONST[o], scheduler=COS, epochs=6)
        add("%s_wd_w1" % o, optimizer=o, lr=LR_CONST[o], weight_decay=0.05, epochs=8, **W1)
    add("adam_amsgrad", optimizer="adam", lr=0.05, amsgrad=True, epochs=8)
    add("adam_amsgrad_w1", optimizer="adam", lr=0.05, amsgrad=True, epochs=8, **W1)
    add("adamw_amsgrad_w1", optimizer="adamw", lr=0.05, amsgrad=True, epochs=8, **W1)
    add("adamw_nowd_w1", optimizer="adamw", lr=0.05, weight_decay=0.0, epochs=8, **W1)
    add("rmsprop_centered", optimizer="rmsprop", lr=0.01, centered=True, epochs=8)
    add("rmsprop_centered_w1", optimizer="rmsprop", lr=0.01, centered=True, epochs=8, **W1)
    add("rmsprop_momentum_w1", optimizer="rmsprop", lr=0.002, momentum=0.5, epochs=8, **W1)
    add("rmsprop_centered_momentum", optimizer="rmsprop", lr=0.002, centered=True, momentum=0.5,
        epochs=8)
    add("rmsprop_centered_momentum_wd_w1", optimizer="rmsprop", lr=0.002, centered=True,
        momentum=0.5, weight_decay=0.01, epochs=8, **W1)
    add("adagrad_decay_w1", optimizer="adagrad", lr=0.05, lr_decay=0.01,
        initial_accumulator_value=0.1, epochs=8, **W1)
    add("adadelta_rho_w1", optimizer="adadelta", lr=1.0, rho=0.5, eps=1e-4, epochs=8, **W1)
    add("nadam_psi_w1", optimizer="nadam", lr=0.05, momentum_decay=0.1, epochs=8, **W1)
    add("radam_beta2_w1", optimizer="radam", lr=0.05, beta2=0.9, epochs=8, **W1)
    add("adamax_betas_w1", optimizer="adamax", lr=0.05, beta1=0.8, beta2=0.99, eps=1e-6, epochs=8,
        **W1)
    add("lion_betas_w1", optimizer="lion", lr=0.005, beta1=0.8, beta2=0.9, weight_decay=0.0,
        epochs=8, **W1)
    add("nadam_epoch_ms", optimizer="nadam", lr=0.05, scheduler="multistep:milestones=2/4,gamma=0.5",
        sched_step="epoch", epochs=8)
    return out


def configs_f32():
    """float32 traces of well-conditioned trainings (start (1, 1)): PyTorch's
    float32 reductions sum in another order, so these are compared with a
    looser tolerance than the float64 ones."""
    out = []
    for o in ["sgd", "momentum", "nesterov", "rmsprop", "adam"] + NEW_OPTIMIZERS:
        cfg = base_cfg(o)
        cfg.update(optimizer=o, lr=LR_CONST[o], epochs=10, dtype="float32", **W1)
        out.append(("f32_%s_const_w1" % o, cfg))
    cfg = base_cfg("adam")
    cfg.update(optimizer="adam", lr=0.05, scheduler=MUL_A, epochs=10, dtype="float32", **W1)
    out.append(("f32_adam_mula_w1", cfg))
    # (adam_amsgrad and adamw_wd: 6 epochs. Later they settle at the minimum,
    # where the float32 (wa, wb) differences of ~1e-5 that the reduction
    # order leaves move the loss by more than the 1e-3 the test allows.)
    for name, o, kw in [("adam_amsgrad", "adam", dict(lr=0.05, amsgrad=True, epochs=6)),
                        ("rmsprop_centered_momentum", "rmsprop",
                         dict(lr=0.002, centered=True, momentum=0.5)),
                        ("adagrad_decay", "adagrad",
                         dict(lr=0.05, lr_decay=0.01, initial_accumulator_value=0.1)),
                        ("nadam_psi", "nadam", dict(lr=0.05, momentum_decay=0.1)),
                        ("adamw_wd", "adamw", dict(lr=0.05, weight_decay=0.05, epochs=6))]:
        cfg = base_cfg(o)
        cfg.update(optimizer=o, epochs=10, dtype="float32", **W1)
        cfg.update(kw)
        out.append(("f32_%s_w1" % name, cfg))
    return out


def configs_sched():
    """Traces of the scheduler catalogue, where the schedule meets the
    optimizer: cycled momentum and beta1 (onecycle, cyclic), plateau on the
    epoch loss (per update and per epoch, and with fully masked epochs),
    composites and a table file. Their lr sequences are torch's own; the
    plain-Python cross-check (1.13's recursions of sched_lr only) skips them."""
    out = []

    def add(name, **kw):
        cfg = dict(DEFAULTS)
        cfg.update(kw)
        cfg["no_cross_check"] = True
        out.append(("sched_" + name, cfg))

    oc = "onecycle:total_steps=64"
    add("onecycle_momentum", optimizer="momentum", lr=0.02, scheduler=oc, epochs=8)
    add("onecycle_sgd", optimizer="sgd", lr=0.05, scheduler=oc, epochs=8)
    add("onecycle_rmsprop_w1", optimizer="rmsprop", lr=0.01, scheduler=oc + ",anneal_strategy=linear,cycle_momentum=false",
        epochs=8, **W1)
    add("onecycle_adam_w1", optimizer="adam", lr=0.1, scheduler=oc + ",three_phase=true", epochs=8, **W1)
    add("onecycle_adam_epoch", optimizer="adam", lr=0.1, scheduler="onecycle:total_steps=10", sched_step="epoch",
        epochs=10)
    add("cyclic_adam", optimizer="adam", lr=0.1, scheduler="cyclic:base_lr=0.01,step_size_up=10", epochs=8)
    add("cyclic_nesterov_w1", optimizer="nesterov", lr=0.02,
        scheduler="cyclic:base_lr=0.002,step_size_up=6,mode=triangular2", epochs=8, **W1)
    add("cyclic_adam_nocycle", optimizer="adam", lr=0.1,
        scheduler="cyclic:base_lr=0.01,step_size_up=5,mode=exp_range,gamma=0.95,cycle_momentum=false", epochs=8)
    add("plateau_adam", optimizer="adam", lr=0.05, scheduler="plateau:patience=1,factor=0.5", epochs=12)
    add("plateau_momentum_epoch_w1", optimizer="momentum", lr=0.01,
        scheduler="plateau:patience=0,threshold=0.01", sched_step="epoch", epochs=10, **W1)
    add("plateau_adam_masked", optimizer="adam", lr=0.05, init_wa=0.001,
        scheduler="plateau:patience=1,factor=0.5", epochs=6)
    add("warmup_cosine_adam", optimizer="adam", lr=0.1,
        scheduler="sequential(linear:start_factor=0.1,total_iters=8;cosine:t_max=56;milestones=8)", epochs=8)
    add("chain_momentum_w1", optimizer="momentum", lr=0.01,
        scheduler="chain(linear:start_factor=0.2,total_iters=8;exponential:gamma=0.97)", epochs=8, **W1)
    add("table_rmsprop", optimizer="rmsprop", lr=0.01, scheduler="table:" + TABLE_FILE, epochs=8)
    add("warm_restarts_sgd", optimizer="sgd", lr=0.02, scheduler="cosine_warm_restarts:t_0=10,t_mult=2", epochs=8)
    add("constant_momentum", optimizer="momentum", lr=0.01, scheduler="constant:factor=0.5,total_iters=10", epochs=6)
    add("linear_adam_epoch_w1", optimizer="adam", lr=0.05, scheduler="linear", sched_step="epoch", epochs=8, **W1)
    add("polynomial_rmsprop", optimizer="rmsprop", lr=0.01, scheduler="polynomial:total_iters=40,power=2", epochs=6)
    return out


# Momentum / beta1 cycling (the optimizer side of CyclicLR and OneCycleLR):
# PyTorch's cyclic schedulers write param_groups[0]['momentum'] (or beta1 of
# 'betas') before each step and torch.optim reads it at every step. These
# traces change it by a fixed triangle wave between 0.8 and 0.95 and record
# the value each step used; the C test feeds torch's gradients to the
# optimizer step with that value.


def cycle_mom(k):
    """A triangle wave 0.95 -> 0.8 -> 0.95 with period 14 updates."""
    return 0.8 + 0.15 * abs((k % 14) - 7) / 7.0


def configs_cycle():
    out = []
    for o, cyc, lr in [("sgd", "momentum", 0.01), ("momentum", "momentum", 0.01),
                       ("nesterov", "momentum", 0.01), ("rmsprop", "momentum", 0.002),
                       ("adam", "beta1", 0.05)]:
        for w1 in (False, True):
            cfg = base_cfg(o)
            cfg.update(optimizer=o, lr=lr, epochs=6, cycle=cyc, **(W1 if w1 else {}))
            out.append(("%s%s" % (o, "_w1" if w1 else ""), cfg))
    cfg = base_cfg("adam")
    cfg.update(optimizer="adam", lr=0.05, epochs=6, cycle="beta1", weight_decay=0.01, beta2=0.99,
               scheduler=COS)
    out.append(("adam_wd_cos", cfg))
    for o in ["adamw", "nadam", "radam", "adamax", "lion"]:
        cfg = base_cfg(o)
        cfg.update(optimizer=o, lr=LR_CONST[o], epochs=6, cycle="beta1", **W1)
        out.append(("%s_w1" % o, cfg))
    cfg = base_cfg("adam")
    cfg.update(optimizer="adam", lr=0.05, epochs=6, cycle="beta1", amsgrad=True, **W1)
    out.append(("adam_amsgrad_w1", cfg))
    cfg = base_cfg("rmsprop")
    cfg.update(optimizer="rmsprop", lr=0.002, epochs=6, cycle="momentum", centered=True, **W1)
    out.append(("rmsprop_centered_w1", cfg))
    return out


# ---------------------------------------------------------------------------
# Cross-check: the same trainings in plain Python floats
# ---------------------------------------------------------------------------
# Analytic gradients with math.fsum reductions (a different summation order
# from torch's), the optimizer formulas of docs/pytorch-semantics.md §2 and the
# recursive schedules of §3. Agreement to 1e-6 relative in (wa, wb) at every
# update shows the traces are well-conditioned enough for the C tests.

CHECK_RTOL = 1e-6


def py_lr_seq(spec, base, count):
    name, kv = parse_spec(spec)
    lrs, lr = [base], base
    for e in range(1, count):
        if name == "multistep":
            hits = [int(m) for m in kv["milestones"].split("/")].count(e)
            if hits:
                lr = lr * float(kv.get("gamma", "0.1")) ** hits
        elif name == "multiplicative":
            lo, ev = int(kv.get("start", "1")), int(kv.get("every", "1"))
            hi = int(kv["end"]) if "end" in kv else None
            if e >= lo and (hi is None or e <= hi) and e % ev == 0:
                lr = lr * float(kv["factor"])
        elif name == "step":
            if e % int(kv["step_size"]) == 0:
                lr = lr * float(kv.get("gamma", "0.1"))
        elif name == "exponential":
            lr = lr * float(kv["gamma"])
        elif name == "cosine":
            t, em = int(kv["t_max"]), float(kv.get("eta_min", "0"))
            if (e - 1 - t) % (2 * t) == 0:
                lr = lr + (base - em) * (1 - math.cos(math.pi / t)) / 2
            else:
                lr = (1 + math.cos(math.pi * e / t)) / (1 + math.cos(math.pi * (e - 1) / t)) * (lr - em) + em
        lrs.append(lr)
    return lrs


def py_train(cfg):
    """(wa, wb) before every update, then the final pair."""
    xs, ys, c = make_data(seed=cfg["seed"], replicate=0, n=cfg["n"], noise=cfg["noise"])
    n, bs, o, wd = cfg["n"], cfg["batch_size"], cfg["optimizer"], cfg["weight_decay"]
    nb = (n + bs - 1) // bs
    lrs = py_lr_seq(cfg["scheduler"], cfg["lr"], nb * cfg["epochs"] + 1)
    w = [cfg["init_wa"], cfg["init_wb"]]
    buf, m, v, t, ns, path = [None, None], [0.0, 0.0], [0.0, 0.0], 0, 0, []
    u = [0.0, 0.0]  # amsgrad's max, centered RMSprop's grad_avg, Adagrad's sum, Adadelta's acc
    rbuf, mp = [0.0, 0.0], 1.0  # RMSprop's momentum buffer, NAdam's mu_product
    b1, b2, eps = cfg["beta1"], cfg["beta2"], cfg["eps"]
    if o == "adagrad":
        u = [cfg["initial_accumulator_value"]] * 2
    for _ in range(cfg["epochs"]):
        for b in range(nb):
            path.append(tuple(w))
            ta, tb = [], []
            for i in range(b * bs, min((b + 1) * bs, n)):
                d = xs[i] + c
                s = 1 - d * d / (w[0] * w[0])
                if s < 0:
                    continue
                r = math.sqrt(s)
                res = w[1] * r - ys[i]
                tb.append(res * r)
                ta.append(res * w[1] * d * d / (w[0] ** 3 * r) if r > 0 else math.copysign(math.inf, res))
            k = len(ta)
            g = [2 * math.fsum(ta) / k, 2 * math.fsum(tb) / k] if k else [0.0, 0.0]
            lr, t = lrs[ns], t + 1
            if o == "nadam":
                psi = cfg["momentum_decay"]
                mu = b1 * (1. - 0.5 * (0.96 ** (t * psi)))
                mun = b1 * (1. - 0.5 * (0.96 ** ((t + 1) * psi)))
                mp = mp * mu
                mpn = mp * mu * mun  # torch 1.13 (2.0 fixed it to mp * mun)
            for j in range(2):
                gj = g[j] + wd * w[j] if o not in ("adamw", "lion") else g[j]
                if o in ("momentum", "nesterov"):
                    mu = cfg["momentum"]
                    buf[j] = gj if buf[j] is None else buf[j] * mu + (1 - cfg["dampening"]) * gj
                    gj = gj + mu * buf[j] if o == "nesterov" else buf[j]
                if o in ("sgd", "momentum", "nesterov"):
                    w[j] = w[j] - lr * gj
                elif o == "rmsprop":
                    al = cfg["alpha"]
                    v[j] = v[j] * al + (1 - al) * gj * gj
                    if cfg["centered"]:
                        u[j] = u[j] * al + (1 - al) * gj
                        avg = math.sqrt(v[j] - u[j] * u[j]) + eps
                    else:
                        avg = math.sqrt(v[j]) + eps
                    if cfg["momentum"] > 0:
                        rbuf[j] = rbuf[j] * cfg["momentum"] + gj / avg
                        w[j] = w[j] - lr * rbuf[j]
                    else:
                        w[j] = w[j] - lr * gj / avg
                elif o in ("adam", "adamw"):
                    if o == "adamw":
                        w[j] = w[j] * (1 - lr * wd)
                    m[j] = m[j] * b1 + (1 - b1) * gj
                    v[j] = v[j] * b2 + (1 - b2) * gj * gj
                    vv = v[j]
                    if cfg["amsgrad"]:
                        u[j] = max(u[j], v[j])
                        vv = u[j]
                    den = math.sqrt(vv) / math.sqrt(1 - b2 ** t) + eps
                    w[j] = w[j] - lr / (1 - b1 ** t) * m[j] / den
                elif o == "nadam":
                    m[j] = m[j] * b1 + (1 - b1) * gj
                    v[j] = v[j] * b2 + (1 - b2) * gj * gj
                    den = math.sqrt(v[j] / (1 - b2 ** t)) + eps
                    w[j] = w[j] - lr * (1 - mu) / (1 - mp) * gj / den - lr * mun / (1 - mpn) * m[j] / den
                elif o == "radam":
                    m[j] = m[j] * b1 + (1 - b1) * gj
                    v[j] = v[j] * b2 + (1 - b2) * gj * gj
                    mh = m[j] / (1 - b1 ** t)
                    rinf = 2 / (1 - b2) - 1
                    rt = rinf - 2 * t * b2 ** t / (1 - b2 ** t)
                    if rt > 5:
                        rect = math.sqrt((rt - 4) * (rt - 2) * rinf / ((rinf - 4) * (rinf - 2) * rt))
                        w[j] = w[j] - mh * lr * math.sqrt(1 - b2 ** t) / (math.sqrt(v[j]) + eps) * rect
                    else:
                        w[j] = w[j] - mh * lr
                elif o == "adamax":
                    m[j] = m[j] * b1 + (1 - b1) * gj
                    v[j] = max(v[j] * b2, abs(gj) + eps)
                    w[j] = w[j] - lr / (1 - b1 ** t) * m[j] / v[j]
                elif o == "adagrad":
                    u[j] = u[j] + gj * gj
                    w[j] = w[j] - lr / (1 + (t - 1) * cfg["lr_decay"]) * gj / (math.sqrt(u[j]) + eps)
                elif o == "adadelta":
                    rho = cfg["rho"]
                    v[j] = v[j] * rho + (1 - rho) * gj * gj
                    d = math.sqrt(u[j] + eps) / math.sqrt(v[j] + eps) * gj
                    u[j] = u[j] * rho + (1 - rho) * d * d
                    w[j] = w[j] - lr * d
                elif o == "lion":
                    c_ = (1 - b1) * gj + b1 * m[j]
                    m[j] = (1 - b2) * gj + b2 * m[j]
                    w[j] = w[j] - lr * ((c_ > 0) - (c_ < 0) + wd * w[j])
            ns += cfg["sched_step"] == "update"
        ns += cfg["sched_step"] == "epoch"
    path.append(tuple(w))
    return path


def cross_check(name, cfg, rows):
    """Largest relative difference in (wa, wb) between torch and py_train."""
    worst = 0.0
    for row, (pa, pb) in zip(rows, py_train(cfg)):
        for ref, mine in ((float(row[5]), pa), (float(row[6]), pb)):
            if ref != mine:
                worst = max(worst, abs(ref - mine) / max(abs(ref), abs(mine)))
    if not worst <= CHECK_RTOL:
        raise AssertionError("%s: torch and the plain-Python trainer differ by %g" % (name, worst))
    return worst


# ---------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------


def header_comments():
    return ["# written by %s (independent PyTorch reference; regenerate with "
            "/usr/bin/python3 %s)" % (SCRIPT, SCRIPT),
            "# torch %s, numpy %s, python %s, %s" % (torch.__version__, np.__version__,
                                                     sys.version.split()[0],
                                                     datetime.date.today().isoformat())]


def same_but_date(path, text):
    """The file already holds text but for the date of its header comment (a
    rerun then leaves it alone, so regenerating touches only what changed)."""
    def undated(t):
        return re.sub(r"^(# torch .*), \d{4}-\d{2}-\d{2}$", r"\1", t, flags=re.M)
    try:
        with open(path, newline="") as f:
            return undated(f.read()) == undated(text)
    except OSError:
        return False


def write(name, text):
    path = os.path.join(OUT_DIR, name)
    if same_but_date(path, text):
        return path
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        f.write(text)
    os.replace(tmp, path)
    return path


def write_philox():
    lines = []
    for seed, sub, off in [(0, 0, 0), (1234, 5, 7)]:
        s = Curand(seed, sub, off)
        lines.append("%d %d %d: %s" % (seed, sub, off, " ".join("%08x" % s.curand() for _ in range(16))))
    write("philox.txt", "\n".join(lines) + "\n")


def write_data(name, **kw):
    xs, ys, _ = make_data(**kw)
    write(name, "x,y\n" + "".join("%s,%s\n" % (repr(a), repr(b)) for a, b in zip(xs, ys)))


def write_sched_lr():
    specs = [(s, 0.12) for s in SCHEDS] + [(s, 0.01) for s in SCHEDS] + [
        ("step:step_size=7,gamma=0.3", 0.1),
        ("cosine:t_max=7,eta_min=0", 0.05),
        ("cosine:t_max=10,eta_min=0.01", 0.3),
        ("exponential:gamma=0.9", 0.01),
        ("multistep:milestones=3/3/6,gamma=0.5", 0.1),
        ("multiplicative:factor=0.9", 0.1),
        ("multistep:milestones=2/4,gamma=0.5", 0.05),
    ]
    buf = io.StringIO()
    for line in header_comments():
        buf.write(line + "\n")
    buf.write("# lr = optimizer.param_groups[0]['lr'] after `step` scheduler.step() calls "
              "(step 0 = right after construction), torch.optim.SGD on one float64 parameter\n")
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(["scheduler", "base_lr", "step", "lr"])
    for spec, base in specs:
        p = torch.nn.Parameter(torch.tensor(0.0, dtype=torch.float64))
        opt = torch.optim.SGD([p], lr=base)
        sch = make_scheduler(spec, opt)
        want = py_lr_seq(spec, base, 101)
        for k in range(101):
            if k > 0:
                sch.step()
            lr = opt.param_groups[0]["lr"]
            assert lr == want[k], "%s base %r step %d: torch %r, recursion %r" % (spec, base, k, lr, want[k])
            w.writerow([spec, fmt(base), str(k), fmt(lr)])
    write("sched_lr.csv", buf.getvalue())


TABLE_FILE = "tests/golden/sched_table.csv"  # table:FILE's golden multipliers (relative to the repository)

# The scheduler catalogue: spec, lr (max_lr for cyclic and onecycle), and
# for plateau the epoch metrics it steps on.
PLATEAU_METRICS = [1.0, 0.9, 0.8, 0.8, 0.79995, 0.8, 0.81, 0.7, 0.7, 0.7, 0.7, float("nan"), 0.7, 0.69,
                   0.69, 0.69, 0.5, 0.5, 0.5, 0.5, 0.5, 0.4999, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6] * 2 + [0.6]
CATALOGUE = [
    "constant", "constant:factor=0.5,total_iters=3", "constant:factor=0.25,total_iters=0",
    "linear", "linear:start_factor=0.1,end_factor=1,total_iters=10", "linear:start_factor=1,end_factor=0.05,total_iters=20",
    "polynomial", "polynomial:total_iters=30,power=2", "polynomial:total_iters=25,power=0.9",
    "cosine_warm_restarts:t_0=5", "cosine_warm_restarts:t_0=3,t_mult=2,eta_min=0.001",
    "cyclic:base_lr=0.001,step_size_up=5", "cyclic:base_lr=0.002,step_size_up=3,step_size_down=7,mode=triangular2",
    "cyclic:base_lr=0.001,step_size_up=4,mode=exp_range,gamma=0.97,base_momentum=0.7,max_momentum=0.95",
    "cyclic:base_lr=0.001,step_size_up=6,cycle_momentum=false",
    "onecycle:total_steps=60", "onecycle:total_steps=60,anneal_strategy=linear,div_factor=10,final_div_factor=100",
    "onecycle:total_steps=70,pct_start=0.25,three_phase=true,base_momentum=0.8,max_momentum=0.9",
    "onecycle:total_steps=60,cycle_momentum=false",
    "sequential(linear:start_factor=0.1,total_iters=5;cosine:t_max=55;milestones=5)",
    "sequential(exponential:gamma=0.9;step:step_size=4,gamma=0.5;multiplicative:factor=0.95;milestones=10/20)",
    "sequential(constant:factor=0.5,total_iters=3;cosine_warm_restarts:t_0=7;table:%s;milestones=8/30)" % TABLE_FILE,
    "sequential(multistep:milestones=0/2,gamma=0.5;polynomial:total_iters=10,power=2;linear;milestones=6/12)",
    "chain(linear:start_factor=0.2,total_iters=8;exponential:gamma=0.95)",
    "chain(cosine:t_max=10,eta_min=0.001;multistep:milestones=5/15,gamma=0.5;polynomial:total_iters=40,power=2)",
    "table:%s" % TABLE_FILE,
    "plateau", "plateau:patience=2,factor=0.5", "plateau:mode=max,patience=1,cooldown=2,threshold=0.01",
    "plateau:patience=0,threshold_mode=abs,threshold=0.05,min_lr=0.004,factor=0.3",
]


def write_sched_table():
    vals = [(k + 1) / 10 for k in range(10)] + [0.5 ** (k / 10) for k in range(1, 31)]
    write(os.path.basename(TABLE_FILE), "factor\n" + "".join(repr(v) + "\n" for v in vals))


def write_sched_catalogue():
    """sched_catalogue.csv: the lr (and the cycled momentum) after k steps of
    every spec of CATALOGUE, from torch; plateau steps on the metric column."""
    buf = io.StringIO()
    for line in header_comments():
        buf.write(line + "\n")
    buf.write("# lr = optimizer.param_groups[0]['lr'] after `step` scheduler.step() calls (step 0 = right after "
              "construction) on torch.optim.SGD(momentum=0.9) over one float64 parameter; momentum = "
              "param_groups[0]['momentum'] when the scheduler cycles it; plateau: step(metric)\n")
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(["scheduler", "base_lr", "step", "lr", "momentum", "metric"])
    for spec in CATALOGUE:
        for base in (0.1, 0.003):
            p = torch.nn.Parameter(torch.tensor(0.0, dtype=torch.float64))
            opt = torch.optim.SGD([p], lr=base, momentum=0.9)
            sch = make_scheduler(spec, opt)
            cyc = getattr(sch, "cycle_momentum", False)
            for k in range(61):
                metric = ""
                if k > 0:
                    if is_plateau(sch):
                        metric = fmt(PLATEAU_METRICS[k - 1])
                        sch.step(PLATEAU_METRICS[k - 1])
                    else:
                        sch.step()
                lr = opt.param_groups[0]["lr"]
                w.writerow([spec, fmt(base), str(k), fmt(lr), fmt(momentum_of(opt)) if cyc else "", metric])
    write("sched_catalogue.csv", buf.getvalue())


def write_traces():
    names, worst = [], 0.0
    for name, cfg in configs() + configs_f32() + configs_sched():
        rows = run_trace(cfg)
        if cfg.get("dtype", "float64") == "float64" and not cfg.get("no_cross_check"):
            worst = max(worst, cross_check(name, cfg, rows))
        final = rows[-1]
        if not all(math.isfinite(float(v)) for v in final[5:7]):
            print("warning: %s ended non-finite (%s, %s)" % (name, final[5], final[6]), file=sys.stderr)
        text = "".join(l + "\n" for l in header_comments())
        text += "# trace: " + cfg.get("dtype", "float64") + ", batches in data order, optimizer.step() then scheduler.step() " \
                "per %s; wa/wb before the update, dwa/dwb = p.grad, step = new - old, " \
                "optimizer state after the step\n" % cfg["sched_step"]
        text += "# args: %s\n" % args_line(cfg)
        text += TRACE_HEADER + "\n" + "".join(",".join(r) + "\n" for r in rows)
        write("trace_%s.csv" % name, text)
        names.append(name)
    print("plain-Python cross-check: largest relative (wa, wb) difference %.2g" % worst)
    return names


def write_sobol(dims=32, points=256):
    """The first points of the Joe-Kuo Sobol sequence (new-joe-kuo-6.21201
    direction numbers, Gray-code order, unscrambled) as torch's SobolEngine
    draws them: the reference of orbitsweep's own generator."""
    eng = torch.quasirandom.SobolEngine(dims, scramble=False)
    x = eng.draw(points, dtype=torch.float64)
    text = "".join(l + "\n" for l in header_comments())
    text += "# torch.quasirandom.SobolEngine(%d, scramble=False).draw(%d, dtype=torch.float64)\n" % (dims, points)
    text += "index," + ",".join("d%d" % d for d in range(dims)) + "\n"
    for i in range(points):
        text += "%d," % i + ",".join(repr(float(v)) for v in x[i]) + "\n"
    write("sobol_first%d.csv" % points, text)


def write_cycle_traces():
    names = []
    for name, cfg in configs_cycle():
        rows = run_trace(cfg)
        text = "".join(l + "\n" for l in header_comments())
        text += "# cycle: float64, batches in data order; before every optimizer.step() " \
                "param_groups[0]%s is set to `mom`; wa/wb before the update, dwa/dwb = " \
                "p.grad, optimizer state after the step\n" % ("['momentum']" if cfg["cycle"] == "momentum"
                                                               else "['betas'][0]")
        text += "# args: %s\n" % args_line(cfg)
        text += TRACE_HEADER + ",mom\n" + "".join(",".join(r) + "\n" for r in rows)
        write("cycle_%s.csv" % name, text)
        names.append(name)
    return names


def write_beta_pow():
    """Python's beta ** t (glibc pow, what torch's bias corrections use) and
    the correctly rounded power, for betas a cyclic scheduler produces."""
    lines = header_comments() + ["# beta ** t: `python` = Python's float power, `exact` = the "
                                 "correctly rounded power (fractions.Fraction)", "beta,t,python,exact"]
    betas = [0.9, 0.999, 0.85, 0.8, 0.95, cycle_mom(3), cycle_mom(5), 0.9 - 1e-9, 0.8751234567]
    for b in betas:
        fb = fractions.Fraction(b)
        for t in list(range(1, 65)) + [100, 127, 128, 129, 255, 256, 500, 1000, 1023, 1024, 3000]:
            lines.append("%s,%d,%s,%s" % (fmt(b), t, fmt(b ** float(t)), fmt(float(fb ** t))))
    write("beta_pow.csv", "\n".join(lines) + "\n")


def main():
    warnings.filterwarnings("ignore", message=".*lr_scheduler.step.*")
    torch.set_default_dtype(torch.float64)
    os.makedirs(OUT_DIR, exist_ok=True)
    check_philox()
    write_philox()
    write_data("data_default.csv")
    write_data("data_seed7_r3_n100.csv", seed=7, replicate=3, n=100)
    write_sched_lr()
    write_sobol()
    write_sched_table()
    write_sched_catalogue()
    names = write_traces()
    cycles = write_cycle_traces()
    write_beta_pow()
    print("wrote %d cycle traces and beta_pow.csv" % len(cycles))
    print("wrote %d traces, philox.txt, 2 data files, sched_lr.csv to %s" % (len(names), OUT_DIR))
    print("torch %s; update stats: %s" % (torch.__version__, STATS))


if __name__ == "__main__":
    main()
