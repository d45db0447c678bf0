#!/usr/bin/env python3
"""plot.py — figures from an orbitsweep results table (results.csv).

    scripts/plot.py heatmap results.csv [-o heatmap.png] [--metric M] [--x lr] [--y optimizer,scheduler]

heatmap: learning rate (log axis) across, optimizer x scheduler down (or any
two columns you name), each cell the median over seeds (and any other axis)
of the metric:
    param_error      log10 of the final relative parameter error (default)
    loss_gap         log10 of final loss minus the dataset's minimum loss
    success          fraction of trainings with param_error <= target, not diverged
    steps_to_target  median updates until param_error stays <= target
Diverged trainings count as the worst value of the colour scale.
Needs matplotlib (Debian: python3-matplotlib); reads the table with csv only.
"""
import argparse
import csv
import math
import statistics
import sys


def read_table(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def num(v, default=math.nan):
    try:
        return float(v)
    except (TypeError, ValueError):
        return default


def cell_value(rows, metric, target):
    if metric == "success":
        ok = [r["diverged"] == "0" and num(r["param_error"]) <= target for r in rows]
        return sum(ok) / len(ok)
    if metric == "steps_to_target":
        vals = [num(r["steps_to_target"], math.inf) for r in rows]
        return statistics.median(vals)
    vals = []
    for r in rows:
        v = num(r[metric])
        if r["diverged"] == "1" or not math.isfinite(v):
            vals.append(math.inf)
        else:
            vals.append(math.log10(max(v, 1e-12)))
    return statistics.median(vals)


def heatmap(args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rows = read_table(args.table)
    if not rows:
        sys.exit("plot.py: %s has no rows" % args.table)
    ykeys = args.y.split(",")
    for k in ykeys + [args.x]:
        if k not in rows[0]:
            sys.exit("plot.py: --x/--y: no column '%s' in %s" % (k, args.table))
    xs = sorted({num(r[args.x]) for r in rows})
    ylabels = []
    for r in rows:  # keep the table's order of first appearance
        lab = " / ".join(r[k] for k in ykeys)
        if lab not in ylabels:
            ylabels.append(lab)
    groups = {}
    for r in rows:
        groups.setdefault((" / ".join(r[k] for k in ykeys), num(r[args.x])), []).append(r)
    target = args.target
    z = np.full((len(ylabels), len(xs)), np.nan)
    for (lab, x), g in groups.items():
        z[ylabels.index(lab), xs.index(x)] = cell_value(g, args.metric, target)

    finite = z[np.isfinite(z)]
    if args.metric == "success":
        vmin, vmax, cmap, label = 0.0, 1.0, "viridis", "success rate (param_error <= %g)" % target
    elif args.metric == "steps_to_target":
        vmax = float(finite.max()) if finite.size else 1.0
        vmin, cmap, label = 0.0, "viridis_r", "median updates to reach param_error <= %g" % target
    else:
        vmin = float(np.floor(finite.min())) if finite.size else -4.0
        vmax = float(np.ceil(min(finite.max(), 1.0))) if finite.size else 1.0
        cmap, label = "viridis", "median log10 %s (diverged = top of scale)" % args.metric
    z = np.where(np.isinf(z), vmax, z)

    fig_h = max(3.0, 0.32 * len(ylabels) + 1.8)
    fig, ax = plt.subplots(figsize=(11, fig_h))
    edges = np.array(xs)
    if len(xs) > 1 and all(x > 0 for x in xs):
        lx = np.log10(edges)
        mid = (lx[1:] + lx[:-1]) / 2
        e = np.concatenate([[lx[0] - (mid[0] - lx[0])], mid, [lx[-1] + (lx[-1] - mid[-1])]])
        xedges = 10 ** e
        ax.set_xscale("log")
    else:
        xedges = np.arange(len(xs) + 1) - 0.5
    mesh = ax.pcolormesh(xedges, np.arange(len(ylabels) + 1), z, cmap=cmap, vmin=vmin, vmax=vmax,
                         shading="flat")
    if args.metric == "param_error" and finite.size:
        ax.contour(np.sqrt(xedges[1:] * xedges[:-1]) if len(xs) > 1 else [0],
                   np.arange(len(ylabels)) + 0.5, z, levels=[math.log10(target)], colors="white",
                   linewidths=1.0)
    ax.set_yticks(np.arange(len(ylabels)) + 0.5)
    ax.set_yticklabels(ylabels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(args.x + (" (log scale)" if ax.get_xscale() == "log" else ""))
    ax.set_ylabel(" / ".join(ykeys))
    cb = fig.colorbar(mesh, ax=ax)
    cb.set_label(label)
    seeds = len({r["seed"] for r in rows})
    epochs = sorted({r["epochs"] for r in rows})
    ax.set_title("orbitsweep: %d trainings, %s epochs, %d seeds per cell — %s" %
                 (len(rows), "/".join(epochs), seeds, args.metric), fontsize=10)
    fig.tight_layout()
    fig.savefig(args.output, dpi=args.dpi)
    if args.output.endswith(".png") and args.svg:
        fig.savefig(args.output[:-4] + ".svg")
    print("wrote %s" % args.output)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("heatmap", help="learning rate x (optimizer, scheduler) heatmap")
    h.add_argument("table")
    h.add_argument("-o", "--output", default="heatmap.png")
    h.add_argument("--metric", default="param_error",
                   choices=["param_error", "loss_gap", "success", "steps_to_target"])
    h.add_argument("--x", default="lr")
    h.add_argument("--y", default="optimizer,scheduler")
    h.add_argument("--target", type=float, default=0.01)
    h.add_argument("--dpi", type=int, default=130)
    h.add_argument("--svg", action="store_true", help="also write an SVG beside the PNG")
    args = p.parse_args()
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        sys.exit("plot.py: matplotlib is missing (apt-get install python3-matplotlib)")
    heatmap(args)


if __name__ == "__main__":
    main()
