"""run() against `orbitsweep run -o results.csv` for the same spec: every
column, every row, floats bit for bit (the CSV's shortest round-trip text
read back; float32 columns through float32), empty fields as <NA> (or NaN
and -1 in the dict form), names as categoricals. Also trace() and data()
against the CLI's CSV, and the version against --version."""
import csv
import io
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import orbitsweep

# Every optimizer and scheduler kind, a hyperparameter only some use, seeds,
# and two batch sizes.
SPEC = dict(optimizer="sgd,momentum,nesterov,rmsprop,adam,adamw,lion,adagrad", amsgrad=["false", "true"],
            lr=[0.003, 0.05, 0.3],
            scheduler=["none", "onecycle:total_steps=60", "multistep:milestones=3/6,gamma=0.5",
                       "cosine:t_max=8,eta_min=0.001"],
            weight_decay=[0, 0.01], batch_size=[32, 64], seeds=3, epochs=4, n=128)


def cli_args(spec):
    """The same spec as command-line flags."""
    args = []
    for k, v in spec.items():
        flag = "--" + k.replace("_", "-")
        for x in (v if isinstance(v, list) else [v]):
            args += [flag, str(x)]
    return args


def cli_table(cli, tmp_path, spec):
    out = tmp_path / "results.csv"
    cli(["run"] + cli_args(spec) + ["--quiet", "-o", str(out)])
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def same_bits(a, b):
    return np.array_equal(np.atleast_1d(a).view(np.uint8), np.atleast_1d(b).view(np.uint8))


def check_frame(df, header, rows, f32):
    assert list(df.columns) == header
    assert len(df) == len(rows)
    for j, name in enumerate(header):
        text = [r[j] for r in rows]
        col = df[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            assert col.astype(str).tolist() == text, name
        elif isinstance(col.dtype, pd.BooleanDtype):  # the CSV's true/false, empty where unused
            assert [("" if pd.isna(v) else "true" if v else "false") for v in col] == text, name
        elif col.dtype.kind in "iu" or isinstance(col.dtype, pd.Int64Dtype):
            na = col.isna().to_numpy()
            assert [t == "" for t in text] == na.tolist(), name
            want = np.array([int(t) for t in text if t], dtype=np.int64)
            assert np.array_equal(col[~na].to_numpy(dtype=np.int64), want), name
        else:
            na = col.isna().to_numpy() if isinstance(col.dtype, pd.Float64Dtype) else \
                np.zeros(len(col), bool)
            assert [t == "" for t in text] == na.tolist(), name
            vals = col[~na].to_numpy(dtype=col.dtype.numpy_dtype if hasattr(col.dtype, "numpy_dtype")
                                     else col.dtype)
            want = np.array([float(t) for t in text if t],
                            dtype=np.float32 if f32 and name in ("final_wa", "final_wb") else np.float64)
            assert vals.dtype == want.dtype, name
            assert same_bits(vals, want), name


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_frame_equals_cli_csv(cli, tmp_path, dtype):
    spec = dict(SPEC, dtype=dtype)
    header, rows = cli_table(cli, tmp_path, spec)
    df = orbitsweep.run(spec, progress=False)
    check_frame(df, header, rows, dtype == "float32")
    assert df["optimizer"].dtype == "category" and df["scheduler"].dtype == "category"
    assert isinstance(df["beta1"].dtype, pd.Float64Dtype)  # empty for sgd, momentum, ...
    assert df.loc[df.optimizer == "sgd", "beta1"].isna().all()
    assert df.loc[df.optimizer == "adam", "beta1"].notna().all()


def test_blocks_threads_and_dict_form(cli, tmp_path):
    """Small blocks and one thread give the same table; as_frame=False gives
    the same numbers as numpy arrays (NaN / -1 for the empty fields)."""
    header, rows = cli_table(cli, tmp_path, SPEC)
    df = orbitsweep.run(SPEC, block=7, threads=1, progress=False)
    check_frame(df, header, rows, True)
    d = orbitsweep.run(SPEC, as_frame=False, progress=False)
    assert list(d) == header
    assert all(isinstance(v, np.ndarray) for v in d.values())
    assert d["optimizer"].tolist() == [r[1] for r in rows]
    j = header.index("steps_to_target")
    assert d["steps_to_target"].tolist() == [int(r[j]) if r[j] else -1 for r in rows]
    j = header.index("beta1")
    assert same_bits(d["beta1"][[r[j] != "" for r in rows]],
                     np.array([float(r[j]) for r in rows if r[j]]))
    assert np.isnan(d["beta1"][[r[j] == "" for r in rows]]).all()


def test_list_forms_are_the_cli_syntax(cli, tmp_path):
    """A numpy array, a range and the CLI's range text give the same grid."""
    a = orbitsweep.run(lr=np.logspace(-3, -1, 5), epochs=2, n=64, progress=False)
    b = orbitsweep.run(lr="logspace(-3,-1,5)", epochs="2", n=64, progress=False)
    pd.testing.assert_frame_equal(a, b)
    c = orbitsweep.run({"lr": 0.01, "batch_size": range(16, 65, 16)}, epochs=1, n=64,
                       progress=False)
    assert c["batch_size"].tolist() == [16, 32, 48, 64]
    d = orbitsweep.run(lr=pd.Series([0.001, 0.01]), optimizer=("sgd", "adam"), epochs=1, n=64,
                       progress=False)
    assert d["lr"].tolist() == [0.001, 0.01, 0.001, 0.01]


def test_trace_equals_cli(cli, tmp_path):
    for opt, dtype in (("adam", "float32"), ("momentum", "float64"), ("sgd", "float32")):
        args = ["--optimizer", opt, "--lr", "0.05", "--epochs", "3", "--batch-size", "48",
                "--scheduler", "multistep:milestones=4/8,gamma=0.5", "--dtype", dtype]
        text = cli(["trace"] + args).stdout.decode()
        rows = list(csv.reader(io.StringIO(text)))
        tr = orbitsweep.trace(optimizer=opt, lr=0.05, epochs=3, batch_size=48,
                              scheduler="multistep:milestones=4/8,gamma=0.5", dtype=dtype)
        assert list(tr.columns) == rows[0]
        assert len(tr) == len(rows) - 1
        for j, name in enumerate(rows[0]):
            col = tr[name]
            for i, r in enumerate(rows[1:]):
                v = col.iloc[i]
                if r[j] == "":
                    assert v is pd.NA, (name, i)
                else:
                    assert v is not pd.NA and same_bits(np.float64(v), np.float64(float(r[j]))), \
                        (name, i, v, r[j])


def test_data_equals_cli(cli):
    text = cli(["data", "--n", "100", "--seed", "7", "--noise", "0.3"]).stdout.decode()
    rows = list(csv.reader(io.StringIO(text)))
    d = orbitsweep.data(n=100, seed=7, noise=0.3)
    assert list(d.columns) == rows[0] == ["x", "y"]
    assert same_bits(d["x"].to_numpy(), np.array([float(r[0]) for r in rows[1:]]))
    assert same_bits(d["y"].to_numpy(), np.array([float(r[1]) for r in rows[1:]]))
    assert d.attrs["min_loss"] >= 0 and d.attrs["min_wa"] > 0


def test_summarize_equals_cli(cli, tmp_path):
    """summarize(DataFrame) and summarize(path) are the CLI's summary."""
    out = tmp_path / "results.csv"
    cli(["run"] + cli_args(SPEC) + ["--quiet", "-o", str(out)])
    text = cli(["summarize", str(out), "--target", "0.05"]).stdout.decode()
    rows = list(csv.reader(io.StringIO(text)))
    df = orbitsweep.run(SPEC, progress=False)
    for s in (orbitsweep.summarize(df, target=0.05), orbitsweep.summarize(str(out), target=0.05)):
        assert list(s.columns) == rows[0]
        assert len(s) == len(rows) - 1
        for j, name in enumerate(rows[0]):
            for i, r in enumerate(rows[1:]):
                v = s[name].iloc[i]
                if r[j] == "":
                    assert v is pd.NA, (name, i)
                elif isinstance(v, str):
                    assert v == r[j], (name, i)
                elif isinstance(s[name].dtype, pd.BooleanDtype):  # true/false
                    assert ("true" if v else "false") == r[j], (name, i)
                else:
                    assert float(v) == float(r[j]) or (np.isnan(float(v)) and r[j] == "nan"), \
                        (name, i, v, r[j])


def test_version_matches_cli(cli):
    assert cli(["--version"]).stdout.decode().split() == ["orbitsweep", orbitsweep.__version__]


def test_the_package_is_installed_in_this_environment():
    """The compiled module is the one pip installed into this environment
    (site-packages), and says whether it was built with CUDA."""
    import orbitsweep._core as core

    assert os.path.realpath(core.__file__).startswith(os.path.realpath(sys.prefix))
    assert isinstance(orbitsweep.cuda_built(), bool)


def test_plot_imports_without_the_compiled_module():
    """orbitsweep.plot is what scripts/plot.py uses with a Python that has
    only numpy and matplotlib: importing it must not load the library."""
    code = ("import sys, orbitsweep.plot; "
            "assert 'orbitsweep._core' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_without_pandas_the_tables_are_dicts_of_arrays():
    """With pandas absent, run, trace, data and summarize return numpy arrays."""
    code = """
import sys
sys.modules["pandas"] = None  # import pandas raises ImportError
import numpy as np, orbitsweep
r = orbitsweep.run(optimizer="sgd,adam", lr=[0.01, 0.1], epochs=2, n=64, progress=False)
assert isinstance(r, dict) and r["optimizer"].tolist() == ["sgd", "sgd", "adam", "adam"], r
assert np.isnan(r["beta1"][:2]).all() and not np.isnan(r["beta1"][2:]).any()
t = orbitsweep.trace(lr=0.1, epochs=1, n=64)
assert isinstance(t, dict) and t["epoch"][-1] == -1 and len(t["update"]) == 2
d = orbitsweep.data(n=64)
assert d["x"].shape == (64,) and d["minimum"]["min_wa"] > 0
"""
    subprocess.run([sys.executable, "-c", code], check=True)


def test_progress_reports_to_the_end():
    """A progress callable hears (done, total), done rising to total; one
    that raises stops the run with its exception."""
    calls = []
    orbitsweep.run(lr="logspace(-4,-1,5000)", epochs=3, n=64,
                   progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1] == (5000, 5000)
    assert all(a[0] <= b[0] for a, b in zip(calls, calls[1:]))

    def stop(done, total):
        raise RuntimeError("enough")

    with pytest.raises(RuntimeError, match="enough"):
        orbitsweep.run(lr="logspace(-4,-1,5000)", epochs=3, n=64, progress=stop)


def test_new_axes_frame_equals_cli(cli, tmp_path):
    """dtype, shuffle, sched_step, n, noise and target as lists: the CLI's
    table; the choice axes as categoricals, final_wa/final_wb float64 with a
    float32 training's value exact (its CSV text read as float32)."""
    spec = dict(optimizer=["sgd", "adam"], lr=[0.01, 0.2], epochs=3, seeds=2, dtype=["float32", "float64"],
                shuffle=["shared", "none"], sched_step=["update", "epoch"], n=[64, 100], noise=[0, 0.05],
                target=[0.01, 0.3], scheduler="step:step_size=2,gamma=0.5")
    header, rows = cli_table(cli, tmp_path, spec)
    df = orbitsweep.run(spec, progress=False)
    assert list(df.columns) == header and len(df) == len(rows)
    for name in ("dtype", "shuffle", "sched_step"):
        assert df[name].dtype == "category"
        assert df[name].astype(str).tolist() == [r[header.index(name)] for r in rows]
    for name in ("final_wa", "final_wb"):
        j, d = header.index(name), header.index("dtype")
        want = np.array([float(np.float32(r[j])) if r[d] == "float32" else float(r[j]) for r in rows])
        assert df[name].to_numpy(dtype=np.float64).dtype == np.float64
        assert same_bits(df[name].to_numpy(dtype=np.float64), want), name
    rest = [c for c in header if c not in ("final_wa", "final_wb")]
    check_frame(df[rest], rest, [[r[header.index(c)] for c in rest] for r in rows], False)
    s = orbitsweep.summarize(df)  # each row's own target
    text = cli(["summarize", str(tmp_path / "results.csv")]).stdout.decode()
    srows = list(csv.reader(io.StringIO(text)))
    assert list(s.columns) == srows[0] and len(s) == len(srows) - 1 == len(rows) // 2
    j = srows[0].index("success_rate")
    assert [float(v) for v in s["success_rate"]] == [float(r[j]) for r in srows[1:]]


def test_boolean_axes():
    """A true/false axis takes Python bools and comes back as a nullable
    boolean column, <NA> where the optimizer does not use it."""
    df = orbitsweep.run(optimizer=["sgd", "adam"], amsgrad=[False, True], epochs=1, n=64,
                        progress=False)
    assert isinstance(df["amsgrad"].dtype, pd.BooleanDtype)
    assert [None if pd.isna(v) else bool(v) for v in df["amsgrad"]] == [None, False, True]
    s = orbitsweep.summarize(df)
    assert [None if pd.isna(v) else bool(v) for v in s["amsgrad"]] == [None, False, True]


def test_sweep_file_equals_cli(cli, tmp_path):
    """A sweep file (blocks of per-optimizer grids) as run's first argument,
    with a keyword over it, is `orbitsweep run FILE --epochs 3`'s table."""
    path = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "sweeps", "lr_grids.yaml")
    out = tmp_path / "results.csv"
    cli(["run", path, "--epochs", "3", "--seeds", "2", "--quiet", "-o", str(out)])
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    for sweep in (path, {"config": path}):
        df = orbitsweep.run(sweep, epochs=3, seeds=2, progress=False)
        check_frame(df, rows[0], rows[1:], df["final_wa"].dtype == np.float32)
