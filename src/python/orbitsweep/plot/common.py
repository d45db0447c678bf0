"""common — what every figure shares: reading tables and traces, errors,
titles, colours, figure creation and saving.

Bad input raises PlotError; scripts/plot.py turns it into one line on
stderr and exit status 2. Columns are always read by name, so tables and
traces may carry more columns than the ones a figure uses.
"""
import csv
import math
import os
import tempfile

# The generating orbit (docs/design.md §1): semi-axes A, B and the focus offset c.
ORBIT_A = 1.261845
ORBIT_B = 1.234378
ORBIT_C = math.sqrt(ORBIT_A ** 2 - ORBIT_B ** 2)

# One colour per optimizer in every figure (matplotlib's tab10 order).
OPTIMIZER_COLOURS = {"sgd": "C0", "momentum": "C1", "rmsprop": "C2", "adam": "C3",
                     "nesterov": "C4"}
LINESTYLES = ["-", "--", ":", "-."]


class PlotError(ValueError):
    """Bad input: a missing file, an unknown column, an empty table, a bad value."""


# ---------------------------------------------------------------- reading

class InMemory:
    """A table given as an object (a pandas DataFrame or a dict of columns)
    rather than a file; label stands for it in messages and legends."""

    def __init__(self, table, label):
        self.table, self.label = table, label

    def __str__(self):
        return self.label


def cell_text(v):
    """A value as orbitsweep's CSV writes it (its shortest round-trip
    digits read back to the same double); an empty field for a missing
    value (<NA>, None)."""
    if v is None or v.__class__.__name__ == "NAType":
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return str(v)
    return repr(float(v))


def table_rows(src):
    """(field names, row dicts of text) of an InMemory table: the rows
    read_csv gives for the same table written by orbitsweep (a DataFrame of
    orbitsweep.run or .trace, or a dict of numpy arrays). float32 columns
    (final_wa, final_wb) get float32's shortest digits, as in the CSV."""
    import numpy as np

    t = src.table
    fields = [str(c) for c in (t.columns if hasattr(t, "columns") else t.keys())]
    if not fields:
        raise PlotError("table %s: no columns" % src)
    cols = []
    for c in fields:
        col = t[c]
        if getattr(col, "dtype", None) == np.float32:
            cols.append([str(v) for v in np.asarray(col)])
        else:
            cols.append([cell_text(v) for v in (col.tolist() if hasattr(col, "tolist")
                                                  else list(col))])
    if not cols[0]:
        raise PlotError("table %s: no rows" % src)
    return fields, [dict(zip(fields, r)) for r in zip(*cols)]


def read_csv(path, arg="table"):
    """Read a CSV file into (field names, list of row dicts); '#' lines are comments.
    An InMemory table gives the same rows.

    arg names the command-line argument the path came from, for messages."""
    if isinstance(path, InMemory):
        return table_rows(path)
    try:
        with open(path, newline="") as f:
            lines = [ln for ln in f if not ln.startswith("#")]
    except FileNotFoundError:
        raise PlotError("%s '%s': no such file" % (arg, path)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise PlotError("%s '%s': cannot read (%s)" % (arg, path, e)) from None
    reader = csv.DictReader(lines)
    fields = reader.fieldnames
    if not fields:
        raise PlotError("%s '%s': empty file, no header" % (arg, path))
    rows = list(reader)
    if not rows:
        raise PlotError("%s '%s': no rows" % (arg, path))
    return list(fields), rows


def require(fields, columns, path, arg):
    """Raise PlotError naming arg unless every one of columns is in fields."""
    for c in columns:
        if c not in fields:
            raise PlotError("%s: no column '%s' in %s" % (arg, c, path))


def num(v, default=math.nan):
    """float(v), or default for an empty or malformed cell."""
    try:
        return float(v)
    except (TypeError, ValueError):
        return default


def split_columns(spec):
    """'optimizer,scheduler' -> ['optimizer', 'scheduler']."""
    return [c.strip() for c in spec.split(",") if c.strip()]


def cost(row, metric):
    """A row's metric where lower is better; diverged, empty or NaN count as +inf."""
    if row.get("diverged") == "1":
        return math.inf
    v = num(row.get(metric), math.inf)
    return v if not math.isnan(v) else math.inf


def quantile(values, q):
    """Linear-interpolated quantile that keeps +inf values meaningful.

    numpy gives NaN for inf - inf; here a quantile that touches an infinite
    neighbour with a non-zero weight is +inf."""
    v = sorted(values)
    if not v:
        return math.nan
    pos = q * (len(v) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(v) - 1)
    frac = pos - lo
    if frac == 0 or v[lo] == v[hi]:
        return v[lo]
    if math.isinf(v[hi]):
        return math.inf
    return v[lo] + (v[hi] - v[lo]) * frac


class Trace:
    """One `orbitsweep trace` file: per-update columns as numpy arrays.

    cols[name] holds the update rows (NaN where a cell is empty); final_wa and
    final_wb come from the last row (update = number of updates). name is the
    file stem; label adds where the parameters first became non-finite."""

    def __init__(self, path, needed=()):
        import numpy as np

        fields, rows = read_csv(path, "trace")
        require(fields, ["update", "wa", "wb"] + list(needed), path, "trace")
        last = rows[-1]
        self.final_wa, self.final_wb = num(last["wa"]), num(last["wb"])
        if last.get("epoch", "") == "" and last.get("lr", "") == "":
            rows = rows[:-1]  # the closing row holds only the final parameters
        if not rows:
            raise PlotError("trace '%s': no update rows" % path)
        self.path = path
        self.name = str(path) if isinstance(path, InMemory) else \
            os.path.splitext(os.path.basename(path))[0]
        self.cols = {f: np.array([num(r.get(f)) for r in rows]) for f in fields}
        self.updates = len(rows)
        ep = self.cols.get("epoch")
        self.epochs = int(np.nanmax(ep)) + 1 if ep is not None and np.isfinite(ep).any() else None
        wa, wb = self.path_wa_wb()
        bad = np.flatnonzero(~(np.isfinite(wa) & np.isfinite(wb)))
        self.diverged_at = int(bad[0]) if bad.size else None  # first non-finite parameters
        self.label = self.name if bad.size == 0 else \
            "%s (diverged at update %d)" % (self.name, self.diverged_at - 1)

    def path_wa_wb(self):
        """The trajectory (wa, wb) including the final point."""
        import numpy as np

        return (np.append(self.cols["wa"], self.final_wa),
                np.append(self.cols["wb"], self.final_wb))


def read_traces(paths, needed=()):
    """Read several traces; needed lists the columns the figure uses."""
    return [Trace(p, needed) for p in paths]


# ---------------------------------------------------------------- titles and styles

def sweep_title(rows, what):
    """Two-line title: the sweep behind a results table, then what is shown."""
    seeds = len({r.get("seed") for r in rows})
    epochs = sorted({r.get("epochs", "?") for r in rows}, key=lambda e: num(e, math.inf))
    return "orbitsweep: %d trainings, %s epochs, %d seed%s\n%s" % (
        len(rows), "/".join(epochs), seeds, "" if seeds == 1 else "s", what)


def trace_title(traces, seed, what):
    """Two-line title for traces: how many trainings, epochs and updates, the seed."""
    epochs = sorted({t.epochs for t in traces if t.epochs is not None})
    updates = sorted({t.updates for t in traces})
    return "orbitsweep trace: %d training%s, %s epochs (%s updates), seed %s\n%s" % (
        len(traces), "" if len(traces) == 1 else "s",
        "/".join(str(e) for e in epochs) or "?", "/".join(str(u) for u in updates),
        seed, what)


def short_label(text, keep=3, width=None):
    """Shorten long '/'-separated lists in a label: 4/8/10/12/14/16 -> 4/8/…/16;
    then, given a width, cut what is still longer (a canonical scheduler
    spec lists every key) to its start and an ellipsis."""
    out = []
    for part in text.split(","):
        key, eq, val = part.rpartition("=")
        items = val.split("/")
        if eq and len(items) > keep + 1:
            val = "/".join(items[:keep - 1]) + "/…/" + items[-1]
        out.append(key + eq + val)
    text = ",".join(out)
    return text if width is None or len(text) <= width else text[:width - 1] + "…"


def group_styles(keys, columns):
    """{group key: (colour, linestyle)}: colour by optimizer when it is a
    group column (the same colour in every figure), linestyle by the rest."""
    styles, others, by_opt = {}, [], {}
    oi = columns.index("optimizer") if "optimizer" in columns else None
    for i, k in enumerate(keys):
        if oi is None:
            styles[k] = ("C%d" % (i % 10), "-")
            continue
        rest = tuple(v for j, v in enumerate(k) if j != oi)
        if rest not in others:
            others.append(rest)
        if k[oi] not in by_opt:  # an optimizer without a fixed colour takes C5..C9
            by_opt[k[oi]] = OPTIMIZER_COLOURS.get(k[oi]) or "C%d" % (5 + len(by_opt) % 5)
        styles[k] = (by_opt[k[oi]], LINESTYLES[others.index(rest) % len(LINESTYLES)])
    return styles


# ---------------------------------------------------------------- figures

def size_arg(text):
    """argparse type for --size W,H (inches)."""
    import argparse

    try:
        w, h = (float(v) for v in text.split(","))
        if w > 0 and h > 0:
            return (w, h)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError("expected W,H in inches, e.g. 10,6; got '%s'" % text)


def add_output_args(p, output, size):
    """-o, --svg, --dpi, --size for a figure command (PNG pixels = size x dpi)."""
    p.add_argument("-o", "--output", default=output, help="PNG to write [%(default)s]")
    p.add_argument("--svg", action="store_true", help="also write an SVG beside the PNG")
    p.add_argument("--dpi", type=int, default=130, help="PNG resolution [%(default)s]")
    p.add_argument("--size", type=size_arg, default=size, metavar="W,H",
                   help="figure size in inches [%s]" % ",".join("%g" % v for v in size))


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def check_output(path, arg="-o"):
    """Fail early (before any work) when the output's folder does not exist
    or the name leaves no room for the SVG/GIF written beside the PNG."""
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        raise PlotError("%s '%s': no such directory '%s'" % (arg, path, d))
    if os.path.splitext(path)[1].lower() in (".svg", ".gif"):
        raise PlotError("%s '%s': name the PNG (the SVG and GIF go beside it)" % (arg, path))


def figure(**kw):
    """A matplotlib Figure of its own, outside pyplot: it needs no backend
    (the command line saves it; a notebook shows the one returned) and is
    freed with its last reference."""
    from matplotlib.figure import Figure

    return Figure(**kw)


def new_figure(args, nrows=1, sharex=False):
    """A figure of args.size inches with constrained layout (the size stays exact)."""
    fig = figure(figsize=args.size, layout="constrained")
    return fig, fig.subplots(nrows, 1, sharex=sharex)


def sibling(path, ext):
    """path with its extension replaced by ext ('.svg', '.gif')."""
    return os.path.splitext(path)[0] + ext


def write_atomic(path, writer):
    """Call writer(tmp) and rename tmp onto path, so no half-written file is left."""
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".plot.", suffix=".tmp" + os.path.splitext(path)[1], dir=d)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    try:
        writer(tmp)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it 0600
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    print("wrote %s" % path)


def command(draw):
    """The command of a figure: check -o first, draw, save."""
    def run(args):
        check_output(args.output)
        save(draw(args), args)

    run.__doc__ = draw.__doc__
    return run


def save(fig, args):
    """Write args.output as PNG at args.dpi, and an SVG beside it with --svg."""
    write_atomic(args.output, lambda t: fig.savefig(t, dpi=args.dpi, format="png"))
    if args.svg:
        write_atomic(sibling(args.output, ".svg"), lambda t: fig.savefig(t, format="svg"))


def legend_outside(ax, **kw):
    """A legend to the right of the axes, where it cannot cover data."""
    return ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
                     fontsize=8, **kw)
