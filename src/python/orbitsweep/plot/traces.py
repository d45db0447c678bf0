"""traces — figures of `orbitsweep trace` files against the update count,
one line per trace, named by the file's stem:

    step-size   effective step size |(step_wa, step_wb)| per update, log y (case study Fig 1)
    lr          learning rate per update, as the scheduler set it (Fig 15)
    gradients   dL/dWa and dL/dWb per update, two panels (Fig 13)

--from/--to choose a range of updates (inclusive); --seed only labels the
title (a trace file does not record its seed).
"""
from .common import (PlotError, add_output_args, command, legend_outside, new_figure,
                     read_traces, trace_title)


def update_range(traces, args):
    """[(trace, boolean mask of its updates in --from..--to)], or PlotError."""
    out = []
    for t in traces:
        k = t.cols["update"]
        m = k >= args.first
        if args.last is not None:
            m &= k <= args.last
        out.append((t, m))
    if not any(m.any() for _, m in out):
        raise PlotError("--from/--to: no update in %s..%s" % (args.first, args.last or "end"))
    return out


def update_axis(ax, args):
    """Label the update axis (and state the range when --from/--to cut it)."""
    cut = args.first > 0 or args.last is not None
    ax.set_xlabel("update k (optimizer.step() count)%s" %
                  (", updates %d..%s" % (args.first, args.last if args.last is not None
                                         else "end") if cut else ""))


def line_figure(args, column, what, ylabel, log=False, step=False):
    """One panel, one line per trace of column against the update count."""
    import numpy as np

    traces = read_traces(args.traces, [column])
    fig, ax = new_figure(args)
    for i, (t, m) in enumerate(update_range(traces, args)):
        y = t.cols[column][m]
        if log:
            y = np.where(y > 0, y, np.nan)  # a zero step has no place on a log axis
        draw = ax.step if step else ax.plot
        kw = {"where": "post"} if step else {}
        draw(t.cols["update"][m], y, color="C%d" % (i % 10), lw=1.2, label=t.label, **kw)
    if log:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel + (" (log scale)" if log else ""))
    update_axis(ax, args)
    ax.grid(True, which="major", alpha=0.3)
    legend_outside(ax, title="trace")
    ax.set_title(trace_title(traces, args.seed, what), fontsize=10)
    return fig


def step_size(args):
    """Effective step size per update: the length of the parameter change
    sqrt(step_wa^2 + step_wb^2) that optimizer.step() applied (column
    eff_step), log y, one line per trace (the case study's Figure 1). Zero
    steps leave gaps."""
    return line_figure(args, "eff_step", "effective step size per update",
                "effective step |(ΔWa, ΔWb)| applied (AU)", log=True)


def lr(args):
    """Learning rate per update as the scheduler set it (column lr), a step
    plot, one line per trace (the case study's Figure 15); --log for a log y axis."""
    return line_figure(args, "lr", "learning rate used by each update",
                "learning rate (as set by the scheduler)",
                log=args.log, step=True)


def gradients(args):
    """Gradients per update: dL/dWa (top) and dL/dWb (bottom) of each
    minibatch loss, one line per trace (the case study's Figure 13);
    --symlog for a symmetric log y axis (early gradients are large)."""
    traces = read_traces(args.traces, ["dwa", "dwb"])
    fig, axes = new_figure(args, nrows=2, sharex=True)
    for i, (t, m) in enumerate(update_range(traces, args)):
        for ax, col in zip(axes, ("dwa", "dwb")):
            ax.plot(t.cols["update"][m], t.cols[col][m], color="C%d" % (i % 10), lw=1.0,
                    label=t.label)
    for ax, name in zip(axes, ("Wa", "Wb")):
        if args.symlog:
            ax.set_yscale("symlog", linthresh=1e-3)
        ax.axhline(0.0, color="k", lw=0.6)
        ax.set_ylabel("dL/d%s (AU$^2$ of loss per AU%s)" % (name, ", symlog" if args.symlog
                                                             else ""))
        ax.grid(True, alpha=0.3)
    update_axis(axes[1], args)
    legend_outside(axes[0], title="trace")
    axes[0].set_title(trace_title(traces, args.seed, "minibatch gradients per update"),
                      fontsize=10)
    return fig


def add_trace_args(p, output, size):
    """Arguments every trace figure takes."""
    p.add_argument("traces", nargs="+", metavar="TRACE.csv", help="orbitsweep trace files")
    add_output_args(p, output, size)
    p.add_argument("--from", dest="first", type=int, default=0, metavar="K",
                   help="first update to show [0]")
    p.add_argument("--to", dest="last", type=int, default=None, metavar="K",
                   help="last update to show [the end]")
    p.add_argument("--seed", default="0", help="seed the traces were made with, for the "
                   "title (and the dataset of paths/fit) [0]")


def register(sub):
    """Add step-size, lr and gradients to the subcommand parser."""
    p = sub.add_parser("step-size", help="effective step size per update (log y)",
                       description=step_size.__doc__)
    add_trace_args(p, "step_size.png", (10.0, 5.5))
    p.set_defaults(func=command(step_size))

    p = sub.add_parser("lr", help="learning rate per update", description=lr.__doc__)
    add_trace_args(p, "lr.png", (10.0, 5.5))
    p.add_argument("--log", action="store_true", help="log y axis")
    p.set_defaults(func=command(lr))

    p = sub.add_parser("gradients", help="dL/dWa and dL/dWb per update",
                       description=gradients.__doc__)
    add_trace_args(p, "gradients.png", (10.0, 7.0))
    p.add_argument("--symlog", action="store_true", help="symmetric log y axes")
    p.set_defaults(func=command(gradients))
