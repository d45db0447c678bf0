"""orbitsweep.plot — the figures of the case study, one copy for the package
and for scripts/plot.py (its command line over the same functions).

Results tables (a DataFrame of orbitsweep.run or summarize, a dict of its
columns, or a CSV path):

    heatmap         median final error over learning rate x (optimizer, scheduler)
    lr_sensitivity  final error against learning rate, median and IQR over seeds
    profile         Dolan-More performance profiles rho(tau) of the optimizers

Traces (a DataFrame of orbitsweep.trace, a CSV path, or a list or
{label: trace} dict of them):

    paths           (Wa, Wb) trajectories over the loss contour
    step_size       effective step size per update
    lr              learning rate per update
    gradients       dL/dWa and dL/dWb per update

Either:

    fit             fitted half-ellipses over the data, with the true orbit

Each returns a matplotlib Figure (not registered with pyplot: display it,
or ``fig.savefig("x.png")``); the keyword options are the command's
(``scripts/plot.py COMMAND --help``) with underscores, and default alike.
Bad input raises PlotError (a ValueError) naming the option. Only numpy and
matplotlib are needed (the dataset of paths and fit comes from
orbitsweep.data when no ``data`` is given, so that needs the compiled module).

Modules: common (reading tables and traces, titles, styles, saving),
tables, traces, orbit; each one's register(sub) adds its commands to
scripts/plot.py's parser.
"""
from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

from . import orbit, tables, traces
from .common import InMemory, PlotError

__all__ = ["heatmap", "lr_sensitivity", "profile", "paths", "step_size", "lr", "gradients",
           "fit", "PlotError"]


def _defaults(command, positional):
    """The command's options at their command-line defaults."""
    p = argparse.ArgumentParser(add_help=False)
    sub = p.add_subparsers(dest="cmd")
    for module in (tables, traces, orbit):
        module.register(sub)
    return p.parse_args([command, positional])


def _table(t, label="table"):
    """A table argument: a path as it is, an object wrapped for read_csv."""
    if isinstance(t, (str, os.PathLike)):
        return os.fspath(t)
    if t is None:
        raise PlotError("%s: no table given" % label)
    return InMemory(t, "DataFrame" if hasattr(t, "columns") else label)


def _traces(ts):
    """One trace, or a list or {label: trace} dict of them, as Trace inputs."""
    if isinstance(ts, dict) and "update" not in ts:
        return [_one_trace(v, k) for k, v in ts.items()]
    if isinstance(ts, (list, tuple)):
        return [_one_trace(v, None, i) for i, v in enumerate(ts)]
    return [_one_trace(ts, None)]


def _one_trace(t, label, i=0):
    if isinstance(t, (str, os.PathLike)):
        return os.fspath(t)
    name = label or getattr(t, "attrs", {}).get("name") or "trace %d" % (i + 1)
    return InMemory(t, str(name))


def _options(ns, name, options):
    for k, v in options.items():
        if k in ("output", "svg", "dpi", "func", "cmd") or not hasattr(ns, k):
            raise TypeError("orbitsweep.plot.%s() got an unexpected keyword argument '%s'"
                            % (name, k))
        if k in ("y", "group") and isinstance(v, (list, tuple)):
            v = ",".join(v)
        if k == "trial" and v is not None:
            v = [str(x) for x in (v if isinstance(v, (list, tuple)) else [v])]
        if k == "size" and v is not None:
            v = tuple(float(x) for x in v)
        setattr(ns, k, v)
    ns.library = True  # paths, fit: the dataset from orbitsweep.data when none is given
    return ns


def heatmap(table: Any, **options: Any) -> Figure:
    """Heatmap of a results table or its summary: the median final error
    (or success rate, steps to target) over learning rate (x, log) and
    optimizer x scheduler (y), as `plot.py heatmap`.

    Options: metric ("param_error", "loss_gap", "success",
    "steps_to_target"), x ("lr"), y ("optimizer,scheduler" or a list of
    columns), target (0.01). The figure is 11 inches wide and
    max(3, 0.32 x rows + 1.8) high. Returns a matplotlib Figure."""
    ns = _options(_defaults("heatmap", "-"), "heatmap", options)
    ns.table = _table(table)
    return tables.heatmap(ns)


def lr_sensitivity(table: Any, **options: Any) -> Figure:
    """Final error against learning rate per group, median and 25-75% band
    over seeds, diverged fractions marked (DeepOBS style), as `plot.py
    lr-sensitivity`.

    Options: metric ("param_error" or "loss_gap"), group ("optimizer", or
    a list of columns), target (0.01), size ((10, 6) inches)."""
    ns = _options(_defaults("lr-sensitivity", "-"), "lr_sensitivity", options)
    ns.table = _table(table)
    return tables.lr_sensitivity(ns)


def profile(table: Any, **options: Any) -> Figure:
    """Performance profiles rho(tau) of the optimizers (Dolan-More), as
    `plot.py profile`.

    Options: metric ("steps_to_target" or "param_error"), group
    ("optimizer"), match ("rank" or "value"), drop_unsolved (False),
    tau_max (None: from the data), size ((10, 6))."""
    ns = _options(_defaults("profile", "-"), "profile", options)
    ns.table = _table(table)
    return tables.profile(ns)


def paths(trace: Any, **options: Any) -> Figure:
    """Trajectories (Wa, Wb) of one or more traces over the contour of the
    full-data loss, start, end and minimum marked (case study Figs 2, 3, 9).

    Options: data (orbitsweep.data()'s table, or a CSV path; default: the
    library's dataset for seed), seed ("0"), first (the first K updates),
    wa_range, wb_range ((lo, hi)), grid (300), size ((10, 7.5))."""
    ns = _options(_defaults("paths", "-"), "paths", options)
    ns.traces = _traces(trace)
    return orbit.paths(ns)


def _trace_figure(command, name, draw, trace, options):
    ns = _options(_defaults(command, "-"), name, options)
    ns.traces = _traces(trace)
    return draw(ns)


def step_size(trace: Any, **options: Any) -> Figure:
    """Effective step size per update, log y (case study Fig 1).

    Options: first (0) and last (None) update shown, seed (for the title),
    size ((10, 5.5))."""
    return _trace_figure("step-size", "step_size", traces.step_size, trace, options)


def lr(trace: Any, **options: Any) -> Figure:
    """Learning rate per update as the scheduler set it (Fig 15).

    Options: log (False), first, last, seed, size ((10, 5.5))."""
    return _trace_figure("lr", "lr", traces.lr, trace, options)


def gradients(trace: Any, **options: Any) -> Figure:
    """dL/dWa and dL/dWb per update, two panels (Fig 13).

    Options: symlog (False), first, last, seed, size ((10, 7))."""
    return _trace_figure("gradients", "gradients", traces.gradients, trace, options)


def fit(models: Any, **options: Any) -> Figure:
    """Fitted half-ellipses from the final (Wa, Wb) of traces or of
    results-table rows (trial=N or a list; default: the best training per
    optimizer) over the data, with the true orbit (Figs 4-8).

    models: a results table or a trace (DataFrame or path), or a list or
    {label: ...} dict of them. Options: trial, data, seed, size ((11, 7))."""
    ns = _options(_defaults("fit", "-"), "fit", options)
    if isinstance(models, dict) and "final_wa" not in models and "update" not in models:
        items = list(models.items())  # {label: trace or table}
    else:
        items = [(None, m) for m in (models if isinstance(models, (list, tuple)) else [models])]
    ns.files = [_one_trace(m, label, i) if isinstance(m, (str, os.PathLike)) or
                "final_wa" not in m else _table(m) for i, (label, m) in enumerate(items)]
    return orbit.fit(ns)

