"""peer_torch_loop.py - "torch-loop": the case study's way, one training at a time.

Each training is the case study's script: an nn.Module with Wa, Wb as
nn.Parameter, a DataLoader over a TensorDataset (batch 64, shuffle=True),
nn.MSELoss on the unmasked points, loss.backward(), a torch.optim optimizer
and, when the sweep has a schedule, a torch.optim.lr_scheduler stepped after
every update. It costs milliseconds per update whatever the sweep size, so
compare.py times a few trainings (`trials`) and extrapolates per training.
The case study's per-update logging (.item() calls) is left out. CPU only:
two scalar parameters gain nothing from a GPU.
"""

import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import sweep as sw


class OrbitRegressionNet(nn.Module):
    """The case study's model: ŷ = Wb·sqrt(1 - (x+c)²/Wa²), masked where negative."""

    def __init__(self, xaxisoffset, init_wa, init_wb):
        super().__init__()
        self.xaxisoffset = xaxisoffset
        self.Wa = nn.Parameter(torch.tensor(init_wa))
        self.Wb = nn.Parameter(torch.tensor(init_wb))

    def forward(self, x):
        s = 1 - (x + self.xaxisoffset) ** 2 / self.Wa ** 2
        negativeloc = s < 0
        s = torch.where(negativeloc, torch.zeros_like(s), s)
        return self.Wb * torch.sqrt(s), negativeloc


def make_optimizer(name, params, lr):
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=sw.MOMENTUM)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=sw.RMS_ALPHA, eps=sw.EPS)
    return torch.optim.Adam(params, lr=lr, betas=(sw.BETA1, sw.BETA2), eps=sw.EPS)


def train_one(x, y, optimizer, lr, spec):
    """One training, as the case study writes it; returns the final (wa, wb)."""
    net = OrbitRegressionNet(sw.OFFSET, sw.INIT_WA, sw.INIT_WB)
    opt = make_optimizer(optimizer, net.parameters(), lr)
    scheduler = None
    if spec.scheduler == "multistep":
        scheduler = torch.optim.lr_scheduler.MultiStepLR(
            opt, milestones=list(sw.MULTISTEP_MILESTONES), gamma=sw.MULTISTEP_GAMMA)
    loss_fn = nn.MSELoss(reduction="mean")
    xy_dataloader = DataLoader(TensorDataset(x, y), batch_size=sw.BATCH, shuffle=True,
                               generator=torch.Generator().manual_seed(spec.seed))
    for _ in range(spec.epochs):
        for xb, yb in xy_dataloader:
            opt.zero_grad()
            y_pred, negativeloc = net(xb)
            loss = loss_fn(y_pred[~negativeloc], yb[~negativeloc])
            loss.backward()
            opt.step()
            if scheduler is not None:
                scheduler.step()
    return float(net.Wa), float(net.Wb)


def run(spec, data, device="cpu", threads=None, trials=None):
    """Train `trials` of `spec` (default: all) on data = (xs, ys), one after another."""
    if threads:
        torch.set_num_threads(threads)
    trials = list(range(spec.trainings)) if trials is None else list(trials)
    t0 = time.perf_counter()
    x, y = torch.tensor(data[0]), torch.tensor(data[1])  # float64 lists -> float32
    finals = [train_one(x, y, *spec.trial(t), spec) for t in trials]
    return sw.Result(time.perf_counter() - t0, trials, finals, "cpu")
