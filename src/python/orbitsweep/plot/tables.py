"""tables — figures of a results table (one row per training):

    heatmap         median final error over learning rate x (optimizer, scheduler)
    lr-sensitivity  final error against learning rate, median and IQR over seeds
    profile         Dolan-More performance profiles rho(tau) of the optimizers

A metric is any column where lower is better (param_error, loss_gap,
steps_to_target, ...); diverged trainings and empty cells count as +inf.

The heatmap also reads a summary table (`orbitsweep summarize`, one row per
configuration), which holds exactly the per-cell numbers it draws: a sweep
of 10^7 trainings is plotted from its summary in a moment.
"""
import math

from .common import (PlotError, add_output_args, command, cost, figure, group_styles,
                     legend_outside, new_figure, num, quantile, read_csv, require, short_label,
                     split_columns, sweep_title)


def read_table(path, columns, arg="table"):
    """A results table's rows, after checking it has the named columns."""
    fields, rows = read_csv(path, arg)
    for c, flag in columns:
        require(fields, [c], path, flag)
    return rows


def group_rows(rows, columns):
    """{(value of each column): [rows]} in the table's order of first appearance."""
    groups = {}
    for r in rows:
        groups.setdefault(tuple(r[c] for c in columns), []).append(r)
    return groups


def is_summary(fields):
    """Whether a table's header is a summary's (orbitsweep summarize)."""
    return "success_rate" in fields and "param_error_median" in fields and "param_error" not in fields


def median_numpy(values):
    """The median as `orbitsweep summarize` computes it: numpy's linear
    quantile with its two-sided lerp (so the same double), +inf where an
    infinity is a neighbour."""
    v = sorted(values)
    pos = 0.5 * (len(v) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(v) - 1)
    t = pos - lo
    a, b = v[lo], v[hi]
    if t == 0 or a == b:
        return a
    if math.isinf(a) or math.isinf(b):
        return b if math.isinf(b) else a
    return b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t


def group_label(key):
    """Legend text of a group key."""
    return " / ".join(short_label(v) for v in key)


# ---------------------------------------------------------------- heatmap

def log_scale(v):
    """A param_error or loss_gap as the heatmap draws it: log10, +inf kept."""
    return v if math.isinf(v) else math.log10(max(v, 1e-12))


def heatmap_cell(rows, metric, target):
    """One heatmap cell from a results table: the median over its rows
    (success: the fraction), computed as `orbitsweep summarize` does, so a
    summary gives the same cell."""
    if metric == "success":
        ok = [r["diverged"] == "0" and num(r["param_error"]) <= target for r in rows]
        return sum(ok) / len(ok)
    if metric == "steps_to_target":
        return median_numpy([cost(r, "steps_to_target") for r in rows])
    return log_scale(median_numpy([cost(r, metric) for r in rows]))


# The summary column behind each heatmap metric.
SUMMARY_COLUMN = {"param_error": "param_error_median", "loss_gap": "loss_gap_median",
                  "success": "success_rate", "steps_to_target": "steps_to_target_median"}


def heatmap_cells_from_summary(path, fields, rows, ykeys, x, metric):
    """{(y label, x): value} and the trainings behind the figure, from a
    summary: each cell must be one configuration (a median over several
    needs their trainings: the results table)."""
    col = SUMMARY_COLUMN[metric]
    require(fields, [col, "trainings"], path, "--metric")
    cells, where = {}, {}
    for i, r in enumerate(rows):
        key = (" / ".join(r[k] for k in ykeys), num(r[x]))
        if key in cells:
            raise PlotError("--y: summary '%s' has more than one configuration in the cell %s = %s, "
                            "%s = %s (rows %d and %d); name the columns that differ in --y, or plot "
                            "the results table" % (path, "/".join(ykeys), key[0], x, r[x],
                                                   where[key] + 2, i + 2))
        where[key] = i
        if metric in ("param_error", "loss_gap"):
            cells[key] = log_scale(num(r[col], math.inf))
        else:  # steps_to_target: empty when the median never reached it
            cells[key] = num(r[col], math.inf)
    return cells, sum(int(num(r["trainings"], 0)) for r in rows)


def heatmap(args):
    """Learning rate (log axis) across, optimizer x scheduler down (or any two
    columns named by --x/--y), each cell the median over seeds (and any other
    axis) of the metric: param_error or loss_gap (log10 of the median),
    success (fraction with param_error <= target, not diverged) or
    steps_to_target. Diverged trainings count as the worst value of the
    colour scale. The table is a results table or its summary (orbitsweep
    summarize; the same figure when each cell is one configuration, as with
    the default --y, and the summary was made with the same --target)."""
    import numpy as np

    ykeys = split_columns(args.y)
    fields, rows = read_csv(args.table)
    require(fields, ykeys + [args.x], args.table, "--x/--y")
    target = args.target
    if is_summary(fields):
        cells, trainings = heatmap_cells_from_summary(args.table, fields, rows, ykeys, args.x,
                                                      args.metric)
        per_cell = sorted({int(num(r["trainings"], 0)) for r in rows})
        seeds = "%d" % per_cell[0] if len(per_cell) == 1 else "%d-%d" % (per_cell[0], per_cell[-1])
    else:
        metric_cols = ["param_error", "diverged"] if args.metric == "success" else [args.metric]
        require(fields, metric_cols, args.table, "--metric")
        groups = {}
        for r in rows:
            groups.setdefault((" / ".join(r[k] for k in ykeys), num(r[args.x])), []).append(r)
        cells = {key: heatmap_cell(g, args.metric, target) for key, g in groups.items()}
        trainings, seeds = len(rows), "%d" % len({r.get("seed") for r in rows})
    xs = sorted({x for _, x in cells})
    ylabels = list(dict.fromkeys(lab for lab, _ in cells))
    xi = {x: i for i, x in enumerate(xs)}
    yi = {lab: i for i, lab in enumerate(ylabels)}
    z = np.full((len(ylabels), len(xs)), np.nan)
    for (lab, x), v in cells.items():
        z[yi[lab], xi[x]] = v

    finite = z[np.isfinite(z)]
    if args.metric == "success":
        vmin, vmax, cmap, label = 0.0, 1.0, "viridis", "success rate (param_error <= %g)" % target
    elif args.metric == "steps_to_target":
        vmax = float(finite.max()) if finite.size else 1.0
        vmin, cmap, label = 0.0, "viridis_r", "median updates to reach param_error <= %g" % target
    else:
        vmin = float(np.floor(finite.min())) if finite.size else -4.0
        vmax = float(np.ceil(min(finite.max(), 1.0))) if finite.size else 1.0
        cmap, label = "viridis", "log10 median %s (diverged = top of scale)" % args.metric
    z = np.where(np.isinf(z), vmax, z)

    fig_h = max(3.0, 0.32 * len(ylabels) + 1.8)
    fig = figure(figsize=(11, fig_h))
    ax = fig.subplots()
    if len(xs) > 1 and all(x > 0 for x in xs):
        lx = np.log10(np.array(xs))
        mid = (lx[1:] + lx[:-1]) / 2
        xedges = 10 ** np.concatenate([[lx[0] - (mid[0] - lx[0])], mid,
                                       [lx[-1] + (lx[-1] - mid[-1])]])
        ax.set_xscale("log")
    else:
        xedges = np.arange(len(xs) + 1) - 0.5
    mesh = ax.pcolormesh(xedges, np.arange(len(ylabels) + 1), z, cmap=cmap, vmin=vmin,
                         vmax=vmax, shading="flat")
    if args.metric == "param_error" and finite.size and len(xs) > 1 and len(ylabels) > 1:
        ax.contour(np.sqrt(xedges[1:] * xedges[:-1]) if ax.get_xscale() == "log"
                   else np.arange(len(xs)), np.arange(len(ylabels)) + 0.5, z,
                   levels=[math.log10(target)], colors="white", linewidths=1.0)
    ax.set_yticks(np.arange(len(ylabels)) + 0.5)
    shown = [" / ".join(short_label(v, width=48) for v in lab.split(" / ")) for lab in ylabels]
    ax.set_yticklabels(shown if len(set(shown)) == len(shown) else ylabels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(args.x + (" (log scale)" if ax.get_xscale() == "log" else ""))
    ax.set_ylabel(" / ".join(ykeys))
    fig.colorbar(mesh, ax=ax).set_label(label)
    epochs = sorted({r.get("epochs", "?") for r in rows})
    ax.set_title("orbitsweep: %d trainings, %s epochs, %s seeds per cell — %s" %
                 (trainings, "/".join(epochs), seeds, args.metric), fontsize=10)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- lr-sensitivity

def lr_sensitivity(args):
    """Final error (log y) against learning rate (log x), one line per group
    (--group optimizer, or optimizer,scheduler, or any columns): the median
    over seeds (and any other axis) with a band from the 25th to the 75th
    percentile, as in DeepOBS. Diverged runs count as +inf: the median and the
    band are clipped at the top of the axis, and an x on the top edge marks
    every learning rate where some runs diverged (marker size ~ the fraction).
    For param_error a horizontal line marks the --target."""
    import matplotlib.transforms as mtransforms
    from matplotlib.lines import Line2D

    gcols = split_columns(args.group)
    rows = read_table(args.table, [(c, "--group") for c in gcols] +
                      [("lr", "table"), (args.metric, "--metric")])
    groups = group_rows(rows, gcols)
    styles = group_styles(list(groups), gcols)

    stats = {}  # key -> (lrs, q25, median, q75, diverged fraction)
    for key, g in groups.items():
        by_lr = {}
        for r in g:
            lr = num(r["lr"])
            if lr > 0:
                by_lr.setdefault(lr, []).append(cost(r, args.metric))
        lrs = sorted(by_lr)
        stats[key] = (lrs, *([quantile(by_lr[x], q) for x in lrs] for q in (0.25, 0.5, 0.75)),
                      [sum(map(math.isinf, by_lr[x])) / len(by_lr[x]) for x in lrs])
    if not any(s[0] for s in stats.values()):
        raise PlotError("table '%s': no row with a positive lr" % args.table)

    finite = [v for s in stats.values() for q in s[1:4] for v in q if math.isfinite(v)]
    positive = [v for v in finite if v > 0] or [args.target]
    floor = min(positive)  # values <= 0 (a loss_gap can be) are drawn at the smallest positive one
    top = max(positive + ([args.target] if args.metric == "param_error" else [])) * 4
    bottom = floor / 2

    fig, ax = new_figure(args)
    blend = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)

    def clip(values):  # +inf to the axis top, values <= 0 to the floor
        return [top if math.isinf(v) else max(v, floor) for v in values]

    for gi, (key, (lrs, q25, med, q75, dfrac)) in enumerate(stats.items()):
        colour, ls = styles[key]
        ax.fill_between(lrs, clip(q25), clip(q75), color=colour, alpha=0.18, lw=0)
        ax.plot(lrs, clip(med), color=colour, ls=ls, marker="o", ms=3, lw=1.5,
                label=group_label(key))
        hit = [(x, f) for x, f in zip(lrs, dfrac) if f > 0]
        if hit:
            ax.scatter([x for x, _ in hit], [0.985 - 0.025 * (gi % 8)] * len(hit),
                       s=[12 + 60 * f for _, f in hit], marker="x", color=colour,
                       transform=blend, clip_on=False, zorder=5)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(bottom, top)
    handles, labels = ax.get_legend_handles_labels()
    if args.metric == "param_error":
        handles.append(ax.axhline(args.target, color="k", ls="--", lw=1))
        labels.append("target %g" % args.target)
    handles.append(Line2D([], [], color="k", marker="x", ls="none"))
    labels.append("diverged at this lr\n(size ~ fraction;\nmedian clipped at top)")
    legend_outside(ax, handles=handles, labels=labels,
                   title=" / ".join(gcols) + " (median, 25-75%)")
    ax.set_xlabel("initial learning rate (log scale)")
    unit = "relative, max(|Wa-A|/A, |Wb-B|/B)" if args.metric == "param_error" else \
        "MSE above the dataset's minimum, AU$^2$" if args.metric == "loss_gap" else "lower is better"
    ax.set_ylabel("final %s (%s, log scale)" % (args.metric, unit))
    ax.grid(True, which="major", alpha=0.3)
    per = sorted({len(g) for g in group_rows(rows, gcols + ["lr"]).values()})
    ax.set_title(sweep_title(rows, "final %s against learning rate: median of %s trainings "
                             "per point, band 25th-75th percentile, diverged = +inf"
                             % (args.metric, "/".join(map(str, per[:3])) +
                                ("..." if len(per) > 3 else ""))), fontsize=10)
    return fig


# ---------------------------------------------------------------- profile

# Columns that define a problem (besides the learning rate), when present.
PROBLEM_COLUMNS = ["scheduler", "seed", "weight_decay", "batch_size", "epochs",
                   "init_wa", "init_wb"]


def profile_ratios(rows, gcols, metric, match, drop_unsolved=False):
    """Performance ratios {solver: [cost / best cost per problem]} and the
    number of problems. A problem is one cell of the grid shared by all
    solvers: the PROBLEM_COLUMNS (less the group columns) and the learning
    rate, matched by rank in each solver's own sorted list of learning rates
    (match='rank') or by value (match='value'). Several rows of a solver in
    one problem (say two momentum values) count as its best one. Problems
    no solver solves (cost +inf for all) stay in, unless drop_unsolved.
    Returns the ratios, the number of problems and the problem columns
    that vary in the table."""
    rows = [r for r in rows if num(r["lr"]) > 0]  # (a malformed lr is NaN: left out)
    if not rows:
        return {}, 0, []
    solvers = list(group_rows(rows, gcols))
    pcols = [c for c in PROBLEM_COLUMNS if c in rows[0] and c not in gcols]
    lr_rank = {}
    if match == "rank":
        for s, g in group_rows(rows, gcols).items():
            lrs = sorted({num(r["lr"]) for r in g})
            lr_rank[s] = {x: i for i, x in enumerate(lrs)}
    costs = {}  # problem -> {solver: best cost}
    for r in rows:
        s = tuple(r[c] for c in gcols)
        lr = num(r["lr"])
        p = (lr_rank[s][lr] if match == "rank" else lr,) + tuple(r[c] for c in pcols)
        cell = costs.setdefault(p, {})
        cell[s] = min(cell.get(s, math.inf), cost(r, metric))
    shared = [c for c in costs.values() if len(c) == len(solvers)]
    if drop_unsolved:
        shared = [c for c in shared if min(c.values()) < math.inf]
    ratios = {s: [] for s in solvers}
    for c in shared:
        best = min(c.values())
        for s in solvers:
            v = c[s]
            if math.isinf(best):
                ratios[s].append(math.inf)
            elif best <= 0:
                ratios[s].append(1.0 if v <= best else math.inf)
            else:
                ratios[s].append(v / best)
    varying = [c for c in pcols if len({r[c] for r in rows}) > 1]
    return ratios, len(shared), varying


def profile(args):
    """Performance profiles (Dolan & More 2002; AlgoPerf): for each solver
    (--group, default optimizer) rho(tau) = the fraction of problems on which
    its cost is within a factor tau of the best solver's, as a step plot on a
    log tau axis. Cost = the metric (steps_to_target, not reached = +inf; or
    param_error, ...); diverged = +inf. A problem is one configuration cell
    that every solver ran: the same scheduler, seed (and batch size, epochs,
    start, weight decay) and the same learning-rate rank within each solver's
    own lr list (--match value: the same lr value). The curve's height at
    tau = 1 is how often a solver is the best; its right end, how often it
    solves the problem at all. Problems no solver solves count (the curves
    then end below 1) unless --drop-unsolved."""
    gcols = split_columns(args.group)
    rows = read_table(args.table, [(c, "--group") for c in gcols] +
                      [("lr", "table"), (args.metric, "--metric")])
    if not any(num(r["lr"]) > 0 for r in rows):
        raise PlotError("table '%s': no row with a positive lr" % args.table)
    ratios, nprob, pcols = profile_ratios(rows, gcols, args.metric, args.match,
                                          args.drop_unsolved)
    if nprob == 0:
        raise PlotError("--group: no problem of '%s' is shared by every %s"
                        % (args.table, " / ".join(gcols)))
    finite = [r for rs in ratios.values() for r in rs if math.isfinite(r)]
    tau_max = args.tau_max or max(2.0, max(finite, default=1.0) * 1.5)
    unsolved = sum(all(math.isinf(ratios[s][i]) for s in ratios) for i in range(nprob))
    styles = group_styles(list(ratios), gcols)

    fig, ax = new_figure(args)
    for s, rs in ratios.items():
        xs = sorted(r for r in rs if r <= tau_max)
        taus = [1.0] + [x for x in xs if x > 1.0] + [tau_max]
        rho = [sum(r <= t for r in rs) / nprob for t in taus]
        colour, ls = styles[s]
        ax.step(taus, rho, where="post", color=colour, ls=ls, lw=1.8,
                label="%s (best on %.0f%%)" % (group_label(s), 100 * rho[0]))
    ax.set_xscale("log")
    ax.set_xlim(1.0, tau_max)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(r"$\tau$: factor of the best %s on the problem (log scale)" % args.metric)
    ax.set_ylabel(r"$\rho(\tau)$: fraction of problems within $\tau$ of the best")
    ax.grid(True, which="both", alpha=0.3)
    legend_outside(ax, title=" / ".join(gcols))
    by = " x ".join(pcols + ["lr " + args.match])
    ax.set_title(sweep_title(rows, "performance profile of %s: %d problems (%s), %s" % (
        args.metric, nprob, by, "unsolved ones dropped" if args.drop_unsolved
        else "%d solved by none" % unsolved)), fontsize=10)
    return fig


# ---------------------------------------------------------------- command line

def register(sub):
    """Add heatmap, lr-sensitivity and profile to the subcommand parser."""
    h = sub.add_parser("heatmap", help="learning rate x (optimizer, scheduler) heatmap",
                       description=heatmap.__doc__)
    h.add_argument("table", help="results table (orbitsweep run) or its summary (orbitsweep "
                   "summarize)")
    h.add_argument("-o", "--output", default="heatmap.png")
    h.add_argument("--metric", default="param_error",
                   choices=["param_error", "loss_gap", "success", "steps_to_target"])
    h.add_argument("--x", default="lr")
    h.add_argument("--y", default="optimizer,scheduler")
    h.add_argument("--target", type=float, default=0.01)
    h.add_argument("--dpi", type=int, default=130)
    h.add_argument("--svg", action="store_true", help="also write an SVG beside the PNG")
    h.set_defaults(func=command(heatmap))

    s = sub.add_parser("lr-sensitivity", help="final error against learning rate",
                       description=lr_sensitivity.__doc__)
    s.add_argument("table", help="results table (orbitsweep run)")
    add_output_args(s, "lr_sensitivity.png", (10.0, 6.0))
    s.add_argument("--metric", default="param_error",
                   help="column to plot, lower is better: param_error (default) or loss_gap")
    s.add_argument("--group", default="optimizer",
                   help="one line per value of these columns: optimizer (default), "
                        "optimizer,scheduler, ...")
    s.add_argument("--target", type=float, default=0.01,
                   help="param_error that counts as converged, drawn as a line [0.01]")
    s.set_defaults(func=command(lr_sensitivity))

    p = sub.add_parser("profile", help="performance profiles rho(tau) of the optimizers",
                       description=profile.__doc__)
    p.add_argument("table", help="results table (orbitsweep run)")
    add_output_args(p, "profile.png", (10.0, 6.0))
    p.add_argument("--metric", default="steps_to_target",
                   help="cost, lower is better: steps_to_target (default) or param_error")
    p.add_argument("--group", default="optimizer", help="the solvers: optimizer (default), "
                   "optimizer,scheduler, ...")
    p.add_argument("--match", choices=["rank", "value"], default="rank",
                   help="a problem's learning rate: the same rank in each solver's lr list "
                        "(default) or the same value")
    p.add_argument("--drop-unsolved", action="store_true",
                   help="leave out problems that no solver solves (cost +inf for all)")
    p.add_argument("--tau-max", type=float, default=None, metavar="TAU",
                   help="right end of the tau axis [1.5 x the largest finite ratio]")
    p.set_defaults(func=command(profile))
