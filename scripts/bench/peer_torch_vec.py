"""peer_torch_vec.py - "torch-vectorised": every training as one batch dimension.

What a strong PyTorch user writes for a sweep: the parameters of all T
trainings live in one tensor P[2, T] (row 0 Wa, row 1 Wb), the learning rates
in lr[T]; each update evaluates the minibatch for all trainings at once as
[T, batch] tensors and forms the analytic gradient (docs/design.md §1) under
torch.no_grad(); the optimizers are torch.optim's update rules written with
in-place tensor ops on each optimizer's slice of P. There is no Python loop
over trainings, no .item() and no host synchronisation until the end, and
every [T, batch] buffer is allocated once. All trainings share one randperm
per epoch (orbitsweep's --shuffle shared). Runs on CUDA when asked and
available, else on the CPU; float32 throughout, as orbitsweep's default.
"""

import math
import time

import torch

import sweep as sw


def pick_device(device):
    """'cpu', 'cuda' or 'auto' -> torch.device; 'cuda' without a GPU is an error."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise sw.DeviceUnavailable("torch sees no CUDA device")
    return torch.device(device)


# ---------------------------------------------------------------------------
# Optimizers: torch.optim's single-tensor update rules on a [2, n] slice
# ---------------------------------------------------------------------------


class SGD:
    def __init__(self, p, lr, momentum=0.0):
        self.lr = lr[None, :]                 # [1, n], broadcast over (Wa, Wb)
        self.momentum = momentum
        self.buf = torch.empty_like(p) if momentum else None
        self.t = 0

    def step(self, p, g, factor):
        """factor: the scheduler's multiplier of the initial lr at this update."""
        self.t += 1
        d = g
        if self.momentum:
            if self.t == 1:
                self.buf.copy_(g)
            else:
                self.buf.mul_(self.momentum).add_(g)
            d = self.buf
        p.addcmul_(d, self.lr, value=-factor)


class RMSprop:
    def __init__(self, p, lr):
        self.lr = lr[None, :]
        self.square_avg = torch.zeros_like(p)
        self.avg = torch.empty_like(p)
        self.num = torch.empty_like(p)

    def step(self, p, g, factor):
        self.square_avg.mul_(sw.RMS_ALPHA).addcmul_(g, g, value=1 - sw.RMS_ALPHA)
        torch.sqrt(self.square_avg, out=self.avg).add_(sw.EPS)
        torch.mul(g, self.lr, out=self.num).mul_(-factor)
        p.addcdiv_(self.num, self.avg)


class Adam:
    def __init__(self, p, lr):
        self.lr = lr[None, :]
        self.exp_avg = torch.zeros_like(p)
        self.exp_avg_sq = torch.zeros_like(p)
        self.denom = torch.empty_like(p)
        self.num = torch.empty_like(p)
        self.t = 0

    def step(self, p, g, factor):
        self.t += 1
        self.exp_avg.mul_(sw.BETA1).add_(g, alpha=1 - sw.BETA1)
        self.exp_avg_sq.mul_(sw.BETA2).addcmul_(g, g, value=1 - sw.BETA2)
        bias_correction1 = 1 - sw.BETA1 ** self.t
        bias_correction2_sqrt = math.sqrt(1 - sw.BETA2 ** self.t)
        torch.sqrt(self.exp_avg_sq, out=self.denom).div_(bias_correction2_sqrt).add_(sw.EPS)
        torch.mul(self.exp_avg, self.lr, out=self.num).mul_(-factor / bias_correction1)
        p.addcdiv_(self.num, self.denom)


def make_optimizer(name, p, lr):
    if name == "sgd":
        return SGD(p, lr)
    if name == "momentum":
        return SGD(p, lr, momentum=sw.MOMENTUM)
    if name == "rmsprop":
        return RMSprop(p, lr)
    return Adam(p, lr)


# ---------------------------------------------------------------------------
# The sweep
# ---------------------------------------------------------------------------


CPU_BLOCK = 8192  # trainings per block on the CPU: 4 buffers of [8192, 64] floats = 8 MiB


class Gradient:
    """Masked-MSE gradients of all T trainings on one minibatch, into G[2, T].

    Every [T, batch] step is a float op: torch's bool kernels (masked_fill_,
    where, comparisons into bool) are several times slower on the CPU, and its
    generic BLAS makes mv slower than mul + sum."""

    def __init__(self, trainings, device):
        shape = (trainings, sw.BATCH)
        self.s = torch.empty(shape, device=device)       # (x+c)²/Wa², then sqrt(s)
        self.masked = torch.empty(shape, device=device)  # 1.0 where s < 0, else 0.0
        self.r = torch.empty(shape, device=device)       # ŷ - y, 0 where masked
        self.tmp = torch.empty(shape, device=device)
        self.wa2 = torch.empty(trainings, device=device)
        self.count = torch.empty(trainings, device=device)
        self.one = torch.ones((), device=device)

    def __call__(self, p, g, q, neg_y):
        """p, g: [2, n] with n <= trainings; q = (x+c)² and neg_y = -y of the minibatch: [b]."""
        n, b = p.shape[1], q.shape[0]
        s, masked, r, tmp = (a[:n, :b] for a in (self.s, self.masked, self.r, self.tmp))
        wa2, count = self.wa2[:n], self.count[:n]
        wa, wb = p[0], p[1]
        torch.mul(wa, wa, out=wa2)
        torch.div(q[None, :], wa2[:, None], out=s)
        torch.gt(s, 1, out=masked)                      # s = 1 - (x+c)²/Wa² < 0
        torch.sub(self.one, s, out=s)
        torch.maximum(s, masked, out=s).sqrt_()         # sqrt(s), 1 where masked
        torch.mul(s, wb[:, None], out=r).add_(neg_y[None, :])
        r.addcmul_(r, masked, value=-1)                 # masked points do not count
        torch.sum(torch.mul(r, s, out=tmp), 1, out=g[1])                   # Σ r·sqrt(s)
        torch.sum(torch.div(r, s, out=tmp).mul_(q[None, :]), 1, out=g[0])  # Σ r·(x+c)²/sqrt(s)
        # K = unmasked count; K = 0 gives zero gradients (as PyTorch), so scale by 2/max(K, 1)
        torch.sum(masked, 1, out=count).neg_().add_(b).clamp_(min=1)
        g.mul_(torch.reciprocal(count, out=count).mul_(2))
        g[0].mul_(wb).div_(wa2).div_(wa)                                   # · Wb/Wa³


def train_block(spec, p, g, lr, groups, gradient, xq, y):
    """Train the trainings of p[2, n] (in place) through every epoch of `spec`.

    groups: (optimizer, first, end) column ranges of p; lr: [n] initial rates.
    Every block sees the same batch order: its generator restarts from the seed."""
    dev = p.device
    opts = [(make_optimizer(name, p[:, a:e], lr[a:e]), a, e) for name, a, e in groups]
    gen = torch.Generator(device=dev).manual_seed(spec.seed)
    q_epoch = torch.empty(sw.N_POINTS, device=dev)
    neg_y_epoch = torch.empty(sw.N_POINTS, device=dev)
    update = 0
    for _ in range(spec.epochs):
        perm = torch.randperm(sw.N_POINTS, generator=gen, device=dev)
        torch.index_select(xq, 0, perm, out=q_epoch)
        torch.index_select(y, 0, perm, out=neg_y_epoch).neg_()
        for start in range(0, sw.N_POINTS, sw.BATCH):
            end = min(start + sw.BATCH, sw.N_POINTS)
            gradient(p, g, q_epoch[start:end], neg_y_epoch[start:end])
            factor = spec.lr_factor(update)
            for opt, a, e in opts:
                opt.step(p[:, a:e], g[:, a:e], factor)
            update += 1


def run(spec, data, device="auto", threads=None, trials=None):
    """Train every trial of `spec` on data = (xs, ys); `trials` is ignored (no extrapolation).

    On the CPU the trainings go through in blocks of CPU_BLOCK, whose [block,
    batch] buffers stay in cache; on a GPU all at once."""
    dev = pick_device(device)
    if threads:
        torch.set_num_threads(threads)
    torch.empty(1, device=dev)  # device start-up is not part of the sweep
    block = CPU_BLOCK if dev.type == "cpu" else spec.trainings
    t0 = time.perf_counter()
    with torch.no_grad():
        x, y = (torch.tensor(d, device=dev) for d in data)  # float64 lists -> float32
        xq = (x + sw.OFFSET) ** 2

        p = torch.empty(2, spec.trainings, device=dev)
        p[0], p[1] = sw.INIT_WA, sw.INIT_WB
        lr = torch.tensor(spec.group_lrs() * len(spec.optimizers), dtype=torch.float64,
                          device=dev).float()
        n = min(block, spec.trainings)
        g = torch.empty(2, n, device=dev)
        gradient = Gradient(n, dev)
        for b0 in range(0, spec.trainings, n):
            b1 = min(b0 + n, spec.trainings)
            groups = [(name, max(a, b0) - b0, min(e, b1) - b0)
                      for name, a, e in spec.groups() if a < b1 and e > b0]
            train_block(spec, p[:, b0:b1], g[:, :b1 - b0], lr[b0:b1], groups, gradient, xq, y)
        finals = p.t().tolist()  # the one host synchronisation
    return sw.Result(time.perf_counter() - t0, list(range(spec.trainings)),
                     [tuple(f) for f in finals], dev.type)
