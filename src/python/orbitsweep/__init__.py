"""orbitsweep — train thousands to millions of small orbit-regression models at
once and get the results table as a pandas DataFrame.

    import numpy as np, orbitsweep
    df = orbitsweep.run(optimizer=["sgd", "adam"], lr=np.logspace(-4, 0, 64), seeds=8)
    summary = orbitsweep.summarize(df)
    fig = orbitsweep.plot.heatmap(df)

Every keyword argument is a flag of the command line (`orbitsweep run
--help`), named by its results column or settings key (``weight_decay`` for
``--weight-decay``, ``sched_step`` for ``--sched-step``) and parsed by the
same parser: a sweep axis takes a value or a list (a list, tuple, range or
numpy array, or the CLI's text such as ``"logspace(-4,0,64)"``), a setting
one value. Bad input raises ValueError with the CLI's one-line message.

The functions over the C library (run, trace, data, summarize) load the
compiled module on first use; ``orbitsweep.plot`` needs only numpy and
matplotlib.
"""
from __future__ import annotations

import math
import os
import tempfile
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # the types named in hints; pandas stays optional
    import numpy
    import pandas

__all__ = ["run", "trace", "data", "summarize", "plot", "cuda_built"]


def __getattr__(name):
    # The compiled module is imported on first use, so that orbitsweep.plot
    # works where only the Python sources are (scripts/plot.py).
    if name == "__version__":
        return _lib().version
    if name == "plot":
        import importlib

        return importlib.import_module(".plot", __name__)
    raise AttributeError("module 'orbitsweep' has no attribute %r" % name)


def _lib():
    from . import _core as core

    return core


def cuda_built() -> bool:
    """Whether this build of the package has the CUDA backend (nvcc was found
    when it was built); whether a GPU is usable is decided by each run."""
    return bool(_lib().cuda)


# ---------------------------------------------------------------- arguments

def _text(v, boolean=False):
    """One value as it would be typed on the command line (a bool: true or
    false for a true/false axis such as amsgrad, else on or off)."""
    import numpy as np

    if isinstance(v, (bool, np.bool_)):
        return ("true" if v else "false") if boolean else ("on" if v else "off")
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))  # the shortest text that reads back as the same double
    if isinstance(v, (str, os.PathLike)):
        return os.fspath(v)
    raise TypeError("orbitsweep: a value must be a number, a string or a list of them, not %s"
                    % type(v).__name__)


def _items(sweep, options):
    """(name, [texts]) pairs for the C parser, from a sweep dict and keywords."""
    import numpy as np

    merged = {}
    if sweep is not None:
        if isinstance(sweep, (str, os.PathLike)):  # a sweep file, as the CLI's FILE
            sweep = {"config": os.fspath(sweep)}
        if not isinstance(sweep, dict):
            raise TypeError("orbitsweep: the sweep must be a dict, not %s" % type(sweep).__name__)
        merged.update(sweep)
    merged.update(options)
    bools = {c for c, kind in _lib().axes if kind == "bool"}
    items = []
    for name, v in merged.items():
        if v is None:
            continue
        b = str(name) in bools
        if isinstance(v, (str, bytes, os.PathLike)) or not hasattr(v, "__iter__"):
            texts = [_text(v, b)]
        elif isinstance(v, np.ndarray):
            texts = [_text(x, b) for x in v.ravel().tolist()]
        else:  # a list, tuple, range, pandas Series, ...: an axis's values
            texts = [_text(x, b) for x in v]
        items.append((str(name), texts))
    return items


def _pandas():
    try:
        import pandas
    except ImportError:
        return None
    return pandas


def _warn(lines):
    import warnings

    for w in lines:
        warnings.warn("orbitsweep: " + w, stacklevel=3)


# ---------------------------------------------------------------- tables

def _categories(codes, names):
    """Codes into names, restricted to the names used (first spelling of a
    repeated name), as (codes, categories)."""
    import numpy as np

    used = np.unique(codes)
    cats, index = [], {}
    remap = np.zeros(max(len(names), 1), dtype=codes.dtype)
    for k in used.tolist():
        remap[k] = index.setdefault(names[k], len(cats))
        if len(cats) < len(index):
            cats.append(names[k])
    return remap[codes], cats


def _results_table(res, as_frame):
    """The results table from the binding's columns: a DataFrame
    (categoricals for names, nullable columns where the CSV has empty
    fields) or a dict of numpy arrays (names as strings, NaN and -1 empty)."""
    import numpy as np

    pd = _pandas() if as_frame is not False else None
    if as_frame and pd is None:
        raise ImportError("orbitsweep: as_frame=True needs pandas (pip install pandas)")
    # optimizer, scheduler and the choice axes (dtype, shuffle, sched_step): codes into names
    cats = {k[:-len("_categories")]: v for k, v in res.items() if k.endswith("_categories")}
    out = {}
    for name, arr, nullable, boolean in res["columns"]:
        if name in cats:
            codes, names = _categories(arr, cats[name])
            out[name] = pd.Categorical.from_codes(codes, categories=names) if pd else \
                np.asarray(names)[codes]
        elif pd is not None and boolean:  # true/false, <NA> where unused
            out[name] = pd.arrays.BooleanArray(arr == 1.0, np.isnan(arr))
        elif pd is not None and nullable:
            if arr.dtype.kind == "f":
                out[name] = pd.arrays.FloatingArray(arr, np.isnan(arr))
            else:
                out[name] = pd.arrays.IntegerArray(arr, arr < 0)
        else:
            out[name] = arr
    return pd.DataFrame(out, copy=False) if pd is not None else out


def _progress_fn(progress, total):
    """(callback or None, closer) for run's progress argument."""
    if progress is False or (progress is None and total == 0):
        return None, lambda: None
    if callable(progress) and progress is not True:
        return progress, lambda: None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        if progress is True:
            raise ImportError("orbitsweep: progress=True needs tqdm (pip install tqdm)") from None
        return None, lambda: None
    bar = tqdm(total=total, unit="trainings", unit_scale=True, delay=0.5, leave=False)

    def update(done, _total):
        bar.update(done - bar.n)

    return update, bar.close


def run(sweep: dict | None = None, /, *,
        progress: bool | Callable[[int, int], Any] | None = None,
        as_frame: bool | None = None, **options: Any) -> pandas.DataFrame | dict[str, numpy.ndarray]:
    """Train every training of a sweep and return its results table.

    Arguments are the flags of ``orbitsweep run`` (``orbitsweep --help``;
    README "Using it"), as keywords named after the results column or the
    settings key, parsed by the command line's own parser:

    - sweep axes take a value or a list, whose Cartesian product is trained:
      ``optimizer`` (names as ``orbitsweep --help`` lists them: "sgd", "adam", ...),
      ``lr``, ``scheduler`` (specs such as "multistep:milestones=5/10,gamma=0.5";
      a list for several), ``momentum``, ``dampening``, ``alpha``, ``beta1``,
      ``beta2``, ``eps``, ``weight_decay``, ``batch_size``, ``epochs``,
      ``init_wa``, ``init_wb``, and the settings that are axes too:
      ``dtype``, ``shuffle``, ``sched_step``, ``n``, ``noise``, ``target``
      (nested outside the optimizer: each combination of theirs in turn).
      A list may be a Python list, tuple, range or numpy array, or the
      CLI's text ("0.1,0.01", "logspace(-4,0,64)").
    - settings take one value: ``seeds``, ``seed``, the dataset (``a``,
      ``b``, ``offset``, ``data`` a CSV path) and execution
      (``backend`` "auto"/"cpu"/"cuda", ``threads``, ``devices``, ``block``,
      ``simd`` True/False, ...).

    sweep: a dict of the same keywords, or the path of a YAML sweep file
      (examples/sweeps/; as ``orbitsweep run FILE``, also ``config=PATH``),
      blocks and sampling included; keywords override it as flags override
      a file on the command line.
    progress: None (a tqdm bar, notebook-aware, when tqdm is installed and
      the run lasts over half a second), False (none), True (tqdm, required)
      or a callable ``progress(done, total)``.
    as_frame: None (a DataFrame when pandas is installed, else a dict of
      numpy arrays), True or False.

    Returns the results table (docs/design.md §4) with the CLI's columns in
    its order, one row per training in grid order: the same numbers as
    ``orbitsweep run -o results.csv``, bit for bit. As a DataFrame,
    ``optimizer``, ``scheduler``, ``dtype``, ``shuffle`` and ``sched_step``
    are categoricals, hyperparameters an
    optimizer does not use and metrics with no value (``steps_to_target``
    never reached, ...) are <NA> in nullable columns; as a dict, they are
    NaN or -1 and the names are string arrays.

    Raises ValueError on bad input (the CLI's message), RuntimeError on a
    runtime failure (``backend="cuda"`` without a usable GPU, ...), and
    KeyboardInterrupt within about a second of Ctrl-C (training stops
    between blocks; nothing is returned). Training runs without the GIL.
    Warnings of the plan (duplicate values, ...) are Python warnings.
    A DataFrame's ``attrs`` say where it trained (``backend``; ``note``:
    why ``backend="auto"`` chose it) and the seconds of training
    (``train_s``).
    """
    items = _items(sweep, options)
    core = _lib()
    bar = []  # (update, close), made on the first report, when the total is known

    def on_progress(done, total):
        if not bar:
            bar.append(_progress_fn(progress, total))
        if bar[0][0] is not None:
            bar[0][0](done, total)

    try:
        res = core.run(items, None if progress is False else on_progress, 0.05)
    finally:
        if bar:
            bar[0][1]()
    _warn(res["warnings"])
    table = _results_table(res, as_frame)
    if hasattr(table, "attrs"):  # where it trained, as the CLI's summary says it
        table.attrs.update(backend=res["where"], note=res["note"], train_s=res["train_s"])
    return table


def _parse_csv(text, ints=()):
    """A CSV table the library wrote (header first) as {column: (numpy
    array, empty-field mask)}: floats exactly as written (empty: NaN), the
    ints columns as int64 (empty: -1), text columns as strings. The text is
    split by pandas' reader when pandas is there (as strings: no number is
    converted by it), else by the csv module."""
    import numpy as np

    pd = _pandas()
    if pd is not None:
        import io

        raw = pd.read_csv(io.BytesIO(text), dtype=str, keep_default_na=False, na_filter=False)
        cells = {name: raw[name].to_numpy(dtype=str) for name in raw.columns}
    else:
        import csv

        lines = text.decode().splitlines()
        header = next(csv.reader(lines[:1]))
        rows = list(csv.reader(lines[1:]))
        cells = {name: np.array([r[j] if j < len(r) else "" for r in rows], dtype=str)
                 for j, name in enumerate(header)}
    out = {}
    for name, arr in cells.items():
        empty = arr == ""
        try:
            if name in ints:
                out[name] = (np.where(empty, "-1", arr).astype(np.int64), empty)
            else:  # numpy reads decimal text correctly rounded, as float() does
                out[name] = (np.where(empty, "nan", arr).astype(np.float64), empty)
        except ValueError:
            out[name] = (arr, empty)
    return out


def _frame(cols, as_frame):
    """A parsed table as a DataFrame (columns with empty fields nullable,
    <NA> there; "nan" stays NaN; integer columns Int64) or a dict of numpy
    arrays."""
    pd = _pandas() if as_frame is not False else None
    if as_frame and pd is None:
        raise ImportError("orbitsweep: as_frame=True needs pandas (pip install pandas)")
    if pd is None:
        return {name: arr for name, (arr, _) in cols.items()}
    out = {}
    for name, (arr, empty) in cols.items():
        if arr.dtype.kind == "i":
            out[name] = pd.arrays.IntegerArray(arr, empty)
        elif arr.dtype.kind == "f" and empty.any():
            out[name] = pd.arrays.FloatingArray(arr, empty)
        else:
            out[name] = arr
    return pd.DataFrame(out, copy=False)


def trace(sweep: dict | None = None, /, *, as_frame: bool | None = None, **options: Any) -> pandas.DataFrame | dict[str, numpy.ndarray]:
    """One training, one row per update: ``orbitsweep trace``'s table
    (docs/design.md §5: update, epoch, batch, lr, loss, wa, wb, dwa, dwb,
    step_wa, step_wb, eff_step, m_wa, m_wb, v_wa, v_wb), and a last row
    holding the final wa, wb.

    Takes the keywords of run (one value per axis and seeds=1). The numbers
    are the CLI's text read back (shortest round-trip digits: the same
    doubles). As a DataFrame, empty fields (the last row's, an optimizer's
    unused state) are <NA> in nullable columns; as a dict, NaN (-1 for
    update, epoch and batch)."""
    items = _items(sweep, options)
    text, warnings = _lib().trace(items)
    _warn(warnings)
    out = _frame(_parse_csv(text, ("update", "epoch", "batch")), as_frame)
    if hasattr(out, "attrs"):  # the legend label of orbitsweep.plot's figures
        out.attrs["name"] = " ".join("%s=%s" % (k, ",".join(v)) for k, v in items) or "trace"
    return out


def data(sweep: dict | None = None, /, *, as_frame: bool | None = None,
         **options: Any) -> pandas.DataFrame | dict[str, Any]:
    """The dataset a sweep trains on (the first seed's): ``orbitsweep
    data``'s x and y, as a DataFrame or a dict of two float64 arrays.

    Takes the keywords of run (n, a, b, offset, noise, seed, data, ...).
    The loss minimum over (Wa, Wb) is in ``.attrs`` (DataFrame) or the
    dict's ``"minimum"``: min_loss, min_wa, min_wb, and the offset c."""
    d = _lib().data(_items(sweep, options))
    info = {k: d[k] for k in ("min_loss", "min_wa", "min_wb", "c")}
    pd = _pandas() if as_frame is not False else None
    if as_frame and pd is None:
        raise ImportError("orbitsweep: as_frame=True needs pandas (pip install pandas)")
    if pd is None:
        return {"x": d["x"], "y": d["y"], "minimum": info}
    df = pd.DataFrame({"x": d["x"], "y": d["y"]}, copy=False)
    df.attrs.update(info)
    return df


_SUMMARY_INTS = ("trainings", "steps_to_target_reached")


def _categorical(col):
    """A column of names as a categorical, categories in order of appearance."""
    pd = _pandas()
    return pd.Categorical(col, categories=pd.unique(col))


def summarize(table: pandas.DataFrame | str | os.PathLike, /, *, target: float | None = None,
              as_frame: bool | None = None) -> pandas.DataFrame | dict[str, numpy.ndarray]:
    """One row per configuration over its seeds: ``orbitsweep summarize``'s
    table (success_rate, divergence_rate, quartiles of param_error and
    loss_gap, median steps_to_target; README "Summaries").

    table: a results DataFrame (from run) or the path of a results CSV.
    A DataFrame is written to a temporary CSV and summarized by the
    library, so the numbers are the CLI's. target: the param_error that
    counts as success (None: each training's own, its target column; 0.01
    for a table without one)."""
    import numpy as np

    core = _lib()
    if isinstance(table, (str, os.PathLike)):
        text = core.summarize(os.fspath(table), math.nan if target is None else float(target))
    else:
        pd = _pandas()
        if pd is None or not isinstance(table, pd.DataFrame):
            raise TypeError("orbitsweep.summarize: expected a DataFrame or a path, not %s"
                            % type(table).__name__)
        # what summarize reads: the configuration (the axes) and the metrics
        # (a missing one is the library's error, as for a file)
        wanted = [c for c, _ in core.axes] + list(core.summary_metrics)
        table = table[[c for c in table.columns if c in wanted]]
        plain = {}  # NaN in a column that is not nullable is the text "nan" (<NA> is empty)
        bools = [c for c, kind in core.axes if kind == "bool"]
        for name in table.columns:
            col = table[name]
            if name in bools:  # the CSV's true/false, empty where unused
                plain[name] = [("" if pd.isna(v) else "true" if v else "false") for v in col]
            elif isinstance(col.dtype, np.dtype) and col.dtype.kind == "f" and col.isna().any():
                plain[name] = col.astype(object).where(col.notna(), "nan")
        if plain:
            table = table.assign(**plain)
        fd, path = tempfile.mkstemp(prefix="orbitsweep.", suffix=".csv")
        try:
            with os.fdopen(fd, "w", newline="") as f:
                table.to_csv(f, index=False, lineterminator="\n")
            text = core.summarize(path, math.nan if target is None else float(target))
        finally:
            os.unlink(path)
    ints = tuple(c for c, kind in core.axes if kind == "int") + _SUMMARY_INTS
    cols = _parse_csv(text, ints)
    for c, kind in core.axes:  # true/false as 1.0 / 0.0, NaN where unused (the results' columns)
        if kind == "bool" and c in cols:
            arr, empty = cols[c]
            cols[c] = (np.where(empty, np.nan, (arr == "true").astype(np.float64)), empty)
    out = _frame(cols, as_frame)
    if hasattr(out, "columns"):
        pd = _pandas()
        for c, kind in core.axes:
            if kind in ("optimizer", "scheduler", "choice") and c in out.columns:
                out[c] = _categorical(out[c])
            elif kind == "bool" and c in out.columns:
                arr, empty = cols[c]
                out[c] = pd.arrays.BooleanArray(arr == 1.0, empty)
    return out


def __dir__():
    return sorted(list(globals()) + ["__version__", "plot"])
