"""orbit — figures in parameter space and data space:

    paths   trajectories (Wa, Wb) of traces over the contour of the full-data
            masked-MSE loss, start, end and minimum marked; --gif animates
            them (the case study's Figures 2, 3, 9, 12)
    fit     the fitted half-ellipses from final (Wa, Wb) over the data
            points, with the true orbit (Figures 4-8, 10, 11)

The dataset comes from --data FILE (CSV x,y), or from running
`orbitsweep data --seed S [--data-flags ...]` (the binary from --orbitsweep,
else build/orbitsweep of this checkout, else orbitsweep on PATH). The loss
is computed in closed form per Wa: with s_i = 1 - (x_i+c)^2/Wa^2 and the K
points with s_i >= 0, L(Wa, Wb) = (Wb^2 sum s - 2 Wb sum y sqrt(s) + sum y^2) / K.
"""
import math
import os
import shlex
import shutil
import subprocess
from collections import namedtuple

from .common import (ORBIT_A, ORBIT_B, ORBIT_C, PlotError, Trace, add_output_args, check_output,
                     command, cost, legend_outside, new_figure, num, pyplot, read_csv, require,
                     save, sibling, sweep_title, trace_title, write_atomic)

# the checkout this file is in (src/python/orbitsweep/plot/orbit.py), for build/orbitsweep
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), *[os.pardir] * 4))


# ---------------------------------------------------------------- dataset and loss

def find_binary(given):
    """The orbitsweep executable: --orbitsweep, build/orbitsweep, or PATH."""
    if given:
        if not (os.path.isfile(given) and os.access(given, os.X_OK)):
            raise PlotError("--orbitsweep '%s': not an executable file" % given)
        return given
    built = os.path.join(REPO, "build", "orbitsweep")
    if os.access(built, os.X_OK):
        return built
    found = shutil.which("orbitsweep")
    if not found:
        raise PlotError("--orbitsweep: no orbitsweep binary found (build it, or pass "
                        "--orbitsweep BIN or --data FILE)")
    return found


def parse_xy(lines, where, arg):
    """x, y numpy arrays from CSV text lines with columns x, y."""
    import csv

    import numpy as np

    reader = csv.DictReader([ln for ln in lines if not ln.startswith("#")])
    require(reader.fieldnames or [], ["x", "y"], where, arg)
    pts = [(num(r["x"]), num(r["y"])) for r in reader]
    pts = [p for p in pts if math.isfinite(p[0]) and math.isfinite(p[1])]
    if not pts:
        raise PlotError("%s '%s': no data points" % (arg, where))
    return np.array([p[0] for p in pts]), np.array([p[1] for p in pts])


_datasets = {}


def dataset(args, seed):
    """The data points (x, y) of seed: from --data (a file, or in the
    package's API a table with columns x and y), else from `orbitsweep
    data` (in the API: the library's, when nothing else is named)."""
    if args.data is not None and not isinstance(args.data, (str, os.PathLike)):
        import numpy as np

        try:
            return (np.asarray(args.data["x"], dtype=float),
                    np.asarray(args.data["y"], dtype=float))
        except (KeyError, TypeError, ValueError):
            raise PlotError("data: expected a table with columns x and y (orbitsweep.data())") \
                from None
    if args.data is None and getattr(args, "library", False) and not args.orbitsweep:
        import orbitsweep

        d = orbitsweep.data(dict({"seed": str(seed)}, **data_keywords(args.data_flags)),
                            as_frame=False)
        return d["x"], d["y"]
    if args.data:
        try:
            with open(args.data, newline="") as f:
                return parse_xy(f.readlines(), args.data, "--data")
        except FileNotFoundError:
            raise PlotError("--data '%s': no such file" % args.data) from None
        except (OSError, UnicodeDecodeError) as e:
            raise PlotError("--data '%s': cannot read (%s)" % (args.data, e)) from None
    if seed not in _datasets:
        flags = shlex.split(args.data_flags or "")
        cmd = [find_binary(args.orbitsweep), "data"] + flags
        if not any(f == "--seed" or f.startswith("--seed=") for f in flags):
            cmd += ["--seed", str(seed)]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            msg = (res.stderr.strip().splitlines() or ["exit %d" % res.returncode])[0]
            raise PlotError("--data-flags: orbitsweep data failed: %s" % msg)
        _datasets[seed] = parse_xy(res.stdout.splitlines(), " ".join(cmd), "orbitsweep data")
    return _datasets[seed]


def data_keywords(flags):
    """--data-flags '--n 256 --noise 0.2' as keywords of orbitsweep.data()."""
    words = shlex.split(flags or "")
    kw = {}
    for i in range(0, len(words) - 1, 2):
        kw[words[i].lstrip("-").replace("-", "_")] = words[i + 1]
    if len(words) % 2:
        raise PlotError("--data-flags: '%s': expected --flag value pairs" % flags)
    return kw


def from_sidecar(args, trace_path):
    """The seed a trace was made with, from its sidecar (TRACE.csv.json,
    written by orbitsweep trace), and its dataset: --data-flags for
    `orbitsweep data` (or --data, its data file) unless given. Without a
    sidecar: seed 0 and the flags as given."""
    import json

    seed = args.seed
    if not isinstance(trace_path, (str, os.PathLike)):  # a trace given as a table: no sidecar
        return seed or "0"
    try:
        with open(os.fspath(trace_path) + ".json") as f:
            side = json.load(f)
        settings = side["spec"]["settings"]
    except (OSError, ValueError, KeyError, TypeError):
        return seed or "0"
    if seed is None:
        seed = settings.get("seed", "0")
    if not args.data and not args.data_flags:
        data_file = side.get("data_file")
        if data_file and os.path.isfile(data_file):
            args.data = data_file
        else:  # n and noise are axes (one value for a trace), a, b and offset settings
            axes = side["spec"].get("axes", {})

            def one(k):
                if k in settings:
                    return settings[k]
                vals = axes.get(k, {}).get("values") or []
                return vals[0] if len(vals) == 1 else None
            args.data_flags = " ".join("--%s %s" % (k, one(k))
                                       for k in ("n", "a", "b", "offset", "noise") if one(k) is not None)
    return seed


class Landscape:
    """The full-data masked MSE of the model over (Wa, Wb), docs/design.md §1."""

    def __init__(self, x, y, c=ORBIT_C):
        import numpy as np

        self.u = (np.asarray(x) + c) ** 2
        self.y = np.asarray(y)
        self.n = len(self.y)

    def sums(self, wa):
        """Per Wa: K (unmasked points), sum s, sum y sqrt(s), sum y^2 over them."""
        import numpy as np

        wa = np.asarray(wa, dtype=float)
        out = np.zeros((4, wa.size))
        for lo in range(0, wa.size, 2048):  # chunks keep memory small
            w = wa[lo:lo + 2048, None]
            with np.errstate(divide="ignore", invalid="ignore"):
                s = 1.0 - self.u[None, :] / (w * w)
            keep = s >= 0
            s = np.where(keep, s, 0.0)
            out[:, lo:lo + 2048] = (keep.sum(1), s.sum(1), (self.y * np.sqrt(s)).sum(1),
                                    (self.y ** 2 * keep).sum(1))
        return out

    def grid(self, wa, wb):
        """loss[j, i] at (wa[i], wb[j]); NaN where every point is masked."""
        import numpy as np

        k, s, p, q = self.sums(wa)
        wb = np.asarray(wb, dtype=float)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (wb * wb * s - 2 * wb * p + q) / k
        return np.where(k > 0, z, np.nan)

    def minimum(self):
        """(Wa, Wb, loss) of the minimum over models keeping at least half of
        the points unmasked (with fewer a few points fit exactly), as the engine
        does: the best Wb per Wa in closed form, Wa by a refined 1-D search."""
        import numpy as np

        hi = 6.0 * math.sqrt(self.u.max())
        wa = np.linspace(hi / 4000, hi, 4000)
        for _ in range(4):
            k, s, p, q = self.sums(wa)
            with np.errstate(divide="ignore", invalid="ignore"):
                best = np.where((k >= self.n / 2) & (s > 0), (q - p * p / s) / k, np.inf)
            i = int(np.argmin(best))
            step = wa[1] - wa[0]
            wa = np.linspace(max(wa[i] - 2 * step, 1e-9), wa[i] + 2 * step, 801)
        return float(wa[400]), float(p[i] / s[i]), float(best[i])


# ---------------------------------------------------------------- paths

# Path colours that stand out on viridis.
PATH_COLOURS = ["red", "black", "magenta", "darkorange", "cyan", "blue", "saddlebrown", "pink"]


def span(values, extra, margin=0.08):
    """(lo, hi) around the finite values and extra points, with a margin."""
    v = [x for x in list(values) + list(extra) if math.isfinite(x) and abs(x) < 1e6]
    lo, hi = min(v), max(v)
    pad = max(hi - lo, 0.05) * margin
    return lo - pad, hi + pad


def draw_landscape(args, traces, seed):
    """Figure with the loss contour, the minimum and empty path artists.

    Returns (fig, ax, [(trace, wa, wb, line, head)]) with each trajectory cut to --first."""
    import numpy as np
    from matplotlib.ticker import FuncFormatter

    x, y = dataset(args, seed)
    land = Landscape(x, y)
    wa_min, wb_min, loss_min = land.minimum()
    paths = []
    for t in traces:
        wa, wb = t.path_wa_wb()
        if args.first is not None:
            wa, wb = wa[:args.first + 1], wb[:args.first + 1]
        paths.append((t, wa, wb))
    wa_lim = args.wa_range or span(np.concatenate([p[1] for p in paths]), [wa_min])
    wb_lim = args.wb_range or span(np.concatenate([p[2] for p in paths]), [wb_min])
    ga = np.linspace(wa_lim[0], wa_lim[1], args.grid)
    gb = np.linspace(wb_lim[0], wb_lim[1], args.grid)
    z = np.log10(np.maximum(land.grid(ga, gb), 1e-12))
    if not np.isfinite(z).any():
        raise PlotError("--wa-range: every data point is masked for |Wa| in %g..%g" % wa_lim)

    fig, ax = new_figure(args)
    lo = min(np.nanpercentile(z, 0.5), math.log10(loss_min))
    hi = np.nanpercentile(z, 99.5)
    step = 0.25 if hi - lo > 6 else 0.125  # contour levels in decades of the loss
    levels = np.arange(math.floor(lo / step) * step, math.ceil(hi / step) * step + step / 2,
                       step)
    cs = ax.contourf(ga, gb, np.clip(z, levels[0], levels[-1]), levels=levels, cmap="viridis")
    ax.contour(ga, gb, z, levels=levels[::2], colors="white", linewidths=0.4, alpha=0.5)
    cb = fig.colorbar(cs, ax=ax, orientation="horizontal", shrink=0.8, aspect=40, pad=0.02)
    cb.set_ticks(np.arange(math.ceil(levels[0] * 2) / 2, levels[-1] + 0.01, 0.5))
    cb.ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: "$10^{%g}$" % v))
    cb.set_label("full-data masked MSE loss (AU$^2$, log colour scale; "
                 "blank where every point is masked)")
    inside = [w for w in (wa_min, -wa_min) if wa_lim[0] <= w <= wa_lim[1]]
    ax.plot(inside, [wb_min] * len(inside), marker="*", ms=16, color="gold", mec="k",
            ls="none", zorder=6,
            label="loss minimum %.4g\nat (%.4f, %.4f)" % (loss_min, wa_min, wb_min))
    out = []
    for i, (t, wa, wb) in enumerate(paths):
        colour = PATH_COLOURS[i % len(PATH_COLOURS)]
        line = ax.plot(wa, wb, color=colour, lw=1.3, marker=".", ms=2.5, label=t.label,
                       zorder=4)[0]
        ax.plot(wa[0], wb[0], marker="o", ms=8, color=colour, mec="k", ls="none", zorder=5)
        ok = np.flatnonzero(np.isfinite(wa) & np.isfinite(wb))
        end = ok[-1] if ok.size else 0  # a diverged path ends at its last finite point
        head = ax.plot(wa[end], wb[end], marker="s", ms=7, color=colour, mec="k", ls="none",
                       zorder=5)[0]
        out.append((t, wa, wb, line, head))
    ax.plot([], [], marker="o", color="w", mec="k", ls="none", label="start")
    ax.plot([], [], marker="s", color="w", mec="k", ls="none", label="end")
    ax.set_xlim(*wa_lim)
    ax.set_ylim(*wb_lim)
    ax.set_xlabel("Wa, semi-major axis (AU)")
    ax.set_ylabel("Wb, semi-minor axis (AU)")
    legend_outside(ax, title="trace")
    first = "" if args.first is None else ", first %d updates" % args.first
    ax.set_title(trace_title(traces, seed, "paths of (Wa, Wb) over the loss contour%s"
                             % first), fontsize=10)
    return fig, ax, out


def paths(args):
    """Trajectories (Wa, Wb) of one or more traces over the contour of the
    full-data masked-MSE loss, start (circle) and end (square) marked, the
    loss minimum (star) marked; the legend names each trace by its file
    stem. --first K shows the first K updates (the case study's Figure 2);
    --gif also writes an animated GIF beside the PNG (Figures 3, 9, 12;
    needs Pillow)."""
    traces = [Trace(p) for p in args.traces]
    return draw_landscape(args, traces, from_sidecar(args, args.traces[0]))[0]


def paths_command(args):
    """paths, and with --gif its animation beside the PNG."""
    check_output(args.output)
    traces = [Trace(p) for p in args.traces]
    seed = from_sidecar(args, args.traces[0])  # the seed and dataset the traces were made with
    fig, ax, drawn = draw_landscape(args, traces, seed)
    save(fig, args)
    if args.gif:
        write_gif(fig, ax, drawn, args)


def write_gif(fig, ax, drawn, args):
    """Animate the paths growing update by update into OUTPUT.gif.

    Redrawing the contour for every frame is slow, so the static figure
    (without the paths' lines and end markers) is rendered once at --gif-dpi
    and shown as an image; a transparent axes laid exactly over the plot
    holds the growing lines. FuncAnimation saves it with the Pillow writer."""
    import numpy as np

    try:
        import PIL  # noqa: F401
    except ImportError:
        print("plot.py paths: Pillow is missing (apt-get install python3-pil); "
              "skipping the GIF")
        return
    from matplotlib.animation import FuncAnimation, PillowWriter

    plt = pyplot()
    for _, _, _, line, head in drawn:
        line.set_visible(False)
        head.set_visible(False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    fig.set_dpi(args.gif_dpi)
    canvas.draw()
    background = np.asarray(canvas.buffer_rgba()).copy()
    gif = plt.figure(figsize=fig.get_size_inches(), dpi=args.gif_dpi)
    still = gif.add_axes([0, 0, 1, 1])
    still.imshow(background, interpolation="none", aspect="auto")
    still.set_axis_off()
    over = gif.add_axes(ax.get_position(), xlim=ax.get_xlim(), ylim=ax.get_ylim())
    over.set_axis_off()
    moving = []
    for _, wa, wb, line, head in drawn:
        ln = over.plot([], [], color=line.get_color(), lw=line.get_linewidth(), marker=".",
                       ms=line.get_markersize())[0]
        hd = over.plot([], [], marker="s", ms=head.get_markersize(), color=head.get_color(),
                       mec="k", ls="none")[0]
        moving.append((wa, wb, ln, hd))
    label = over.text(0.01, 0.99, "", transform=over.transAxes, va="top", fontsize=10,
                      bbox=dict(facecolor="white", alpha=0.8, lw=0))
    longest = max(len(wa) for wa, _, _, _ in moving)
    frames = max(2, min(args.frames, longest))

    def frame(f):
        k = int(round(f * (longest - 1) / (frames - 1)))
        for wa, wb, ln, hd in moving:
            j = min(k, len(wa) - 1)
            ln.set_data(wa[:j + 1], wb[:j + 1])
            hd.set_data([wa[j]], [wb[j]])
        label.set_text("update %d of %d" % (k, longest - 1))
        return [m[2] for m in moving] + [m[3] for m in moving] + [label]

    anim = FuncAnimation(gif, frame, frames=frames, blit=False)
    write_atomic(sibling(args.output, ".gif"),
                 lambda t: anim.save(t, writer=PillowWriter(fps=args.fps), dpi=args.gif_dpi))
    plt.close(gif)


# ---------------------------------------------------------------- fit

# One fitted model to draw: a trace's end, or a results-table row.
Model = namedtuple("Model", "label wa wb seed diverged error trace")


def trial_numbers(specs):
    """--trial values (repeated, or N,M) as ints, or None when not given."""
    if not specs:
        return None
    try:
        return [int(t) for spec in specs for t in spec.split(",") if t.strip()]
    except ValueError:
        raise PlotError("--trial: expected trial numbers, got '%s'" % ",".join(specs)) from None


def table_models(path, rows, wanted, seed):
    """Models of a results table: the --trial rows, else the best per optimizer."""
    if wanted is None:
        best = {}
        for r in rows:
            o = r["optimizer"]
            if o not in best or cost(r, "param_error") < cost(best[o], "param_error"):
                best[o] = r
        chosen = list(best.values())
    else:
        by_trial = {r["trial"]: r for r in rows}
        missing = [t for t in wanted if str(t) not in by_trial]
        if missing:
            raise PlotError("--trial: no trial %d in %s" % (missing[0], path))
        chosen = [by_trial[str(t)] for t in wanted]
    out = []
    for r in chosen:
        sched = r.get("scheduler", "none").split(":")[0]
        label = "trial %s (%s, lr %.4g%s)" % (r["trial"], r["optimizer"], num(r["lr"]),
                                             "" if sched == "none" else ", " + sched)
        err = num(r.get("param_error"))
        out.append(Model(label, num(r["final_wa"]), num(r["final_wb"]),
                         seed or r.get("seed", "0"), r.get("diverged") == "1",
                         err if math.isfinite(err) else None, None))
    return out


def fit_models(args):
    """The Models to draw from the files (traces or results tables), and the
    tables' rows (for the title)."""
    models, table_rows = [], []
    wanted = trial_numbers(args.trial)
    for path in args.files:
        fields, rows = read_csv(path, "file")
        if "final_wa" in fields:
            require(fields, ["trial", "final_wb", "optimizer", "lr"], path, "file")
            table_rows += rows
            models += table_models(path, rows, wanted, args.seed)
        else:
            t = Trace(path)
            models.append(Model(t.name, t.final_wa, t.final_wb, from_sidecar(args, path), False, None,
                                t))
    return models, table_rows


def fit(args):
    """The fitted half-ellipses y = Wb sqrt(1 - (x+c)^2/Wa^2) from the final
    (Wa, Wb) of traces or of results-table rows (--trial N, repeatable or
    comma-separated; default: the best training per optimizer) over the data
    points, with the true orbit (A=1.261845, B=1.234378, c=sqrt(A^2-B^2)) and
    the Sun at the focus (the case study's Figures 4-8). The data shown are
    those of the first model's seed."""
    import numpy as np

    models, table_rows = fit_models(args)
    seed = models[0].seed
    x, y = dataset(args, seed)
    fig, ax = new_figure(args)
    ax.scatter(x, y, s=6, color="0.55", label="data (seed %s, %d points)" % (seed, len(x)),
               zorder=2)
    t = np.linspace(0, math.pi, 400)
    ax.plot(-ORBIT_C + ORBIT_A * np.cos(t), ORBIT_B * np.sin(t), "k--", lw=1.2, zorder=5,
            label="true orbit A=%g, B=%g AU" % (ORBIT_A, ORBIT_B))
    ax.plot(0, 0, marker="*", ms=14, color="orange", mec="k", ls="none", label="Sun (focus)")
    xlo, xhi = x.min() - 0.15, x.max() + 0.15
    ytop = max(y.max(), ORBIT_B)
    for i, m in enumerate(models):
        colour = "C%d" % (i % 10)
        if m.diverged or not (math.isfinite(m.wa) and math.isfinite(m.wb)) or m.wa == 0:
            ax.plot([], [], color=colour, label="%s (diverged, not drawn)" % m.label)
            continue
        a = abs(m.wa)  # Wa enters the model only as Wa^2
        xs = np.linspace(max(-ORBIT_C - a, xlo), min(-ORBIT_C + a, xhi), 600)
        ys = m.wb * np.sqrt(np.clip(1 - (xs + ORBIT_C) ** 2 / a ** 2, 0, None))
        err = m.error if m.error is not None else \
            max(abs(a - ORBIT_A) / ORBIT_A, abs(m.wb - ORBIT_B) / ORBIT_B)
        ax.plot(xs, ys, color=colour, lw=2.2, zorder=4,
                label="%s: Wa=%.4g, Wb=%.4g, param_error %.2g" % (m.label, m.wa, m.wb, err))
        ytop = max(ytop, min(float(np.nanmax(ys)), 3.0))
    ax.set_xlim(xlo, xhi)
    ax.set_ylim(-0.1, ytop + 0.1)
    ax.set_aspect("equal", adjustable="box")  # an ellipse should look like one
    ax.set_xlabel("x (AU, Sun at the origin)")
    ax.set_ylabel("y (AU)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=8)
    what = "fitted half-ellipses from the final (Wa, Wb) over the data"
    if table_rows:
        title = sweep_title(table_rows, what)
    else:
        title = trace_title([m.trace for m in models], seed, what)
    ax.set_title(title, fontsize=10)
    return fig


# ---------------------------------------------------------------- command line

def range_arg(text):
    """argparse type for LO,HI."""
    import argparse

    try:
        lo, hi = (float(v) for v in text.split(","))
        if lo < hi:
            return (lo, hi)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError("expected LO,HI with LO < HI; got '%s'" % text)


def add_data_args(p):
    """Where the dataset comes from."""
    p.add_argument("--data", metavar="FILE", help="dataset CSV x,y (orbitsweep data -o FILE)")
    p.add_argument("--orbitsweep", metavar="BIN", help="orbitsweep executable to run "
                   "`orbitsweep data` with [build/orbitsweep, then PATH]")
    p.add_argument("--data-flags", default="", metavar="FLAGS",
                   help="data flags the traces were made with, passed to `orbitsweep "
                   "data`; write it with '=': --data-flags='--n 256 --noise 0.2'")


def register(sub):
    """Add paths and fit to the subcommand parser."""
    p = sub.add_parser("paths", help="(Wa, Wb) trajectories over the loss contour",
                       description=paths.__doc__)
    p.add_argument("traces", nargs="+", metavar="TRACE.csv", help="orbitsweep trace files")
    add_output_args(p, "paths.png", (10.0, 7.5))
    add_data_args(p)
    p.add_argument("--seed", default=None,
                   help="seed the traces were made with [the first trace's sidecar's, else 0]")
    p.add_argument("--first", type=int, default=None, metavar="K",
                   help="show only the first K updates")
    p.add_argument("--wa-range", type=range_arg, metavar="LO,HI", help="Wa axis limits")
    p.add_argument("--wb-range", type=range_arg, metavar="LO,HI", help="Wb axis limits")
    p.add_argument("--grid", type=int, default=300, help="loss grid points per axis [300]")
    p.add_argument("--gif", action="store_true", help="also write an animated GIF (Pillow)")
    p.add_argument("--frames", type=int, default=120, help="GIF frames [120]")
    p.add_argument("--fps", type=int, default=15, help="GIF frames per second [15]")
    p.add_argument("--gif-dpi", type=int, default=70, help="GIF resolution [70]")
    p.set_defaults(func=paths_command)

    f = sub.add_parser("fit", help="fitted half-ellipse over the data", description=fit.__doc__)
    f.add_argument("files", nargs="+", metavar="TRACE.csv|results.csv")
    add_output_args(f, "fit.png", (11.0, 7.0))
    add_data_args(f)
    f.add_argument("--trial", action="append", metavar="N",
                   help="results-table trial(s) to draw (repeat or N,M)")
    f.add_argument("--seed", default=None,
                   help="seed of the data [a trace: its sidecar's, else 0; a table row: its seed]")
    f.set_defaults(func=command(fit))
