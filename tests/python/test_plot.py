"""orbitsweep.plot: every figure function returns a matplotlib Figure of the
expected size, and the same figure as scripts/plot.py draws from the CLI's
files (the PNG bytes compared, one run of each command).

The CLI's results table, summary, traces and dataset are written to a
temporary folder; the package makes the same tables in memory."""
import os
import subprocess
import sys

import pytest
from matplotlib.figure import Figure

import orbitsweep
import orbitsweep.plot as op
from conftest import ROOT

SPEC = dict(optimizer="sgd,momentum,adam", lr="logspace(-4,-0.5,6)",
            scheduler=["none", "multistep:milestones=4/8,gamma=0.8"], seeds=2, epochs=12,
            n=128)
TRACES = {"adam": dict(optimizer="adam", lr=0.12, epochs=6, n=128),
          "sgd": dict(optimizer="sgd", lr=0.05, epochs=6, n=128)}


def flags(spec):
    out = []
    for k, v in spec.items():
        for x in (v if isinstance(v, list) else [v]):
            out += ["--" + k.replace("_", "-"), str(x)]
    return out


@pytest.fixture(scope="module")
def made(cli, tmp_path_factory):
    """The CLI's files and the package's tables of the same sweep."""
    d = tmp_path_factory.mktemp("plot")
    cli(["run"] + flags(SPEC) + ["--quiet", "-o", str(d / "r.csv")])
    cli(["summarize", str(d / "r.csv"), "--quiet", "-o", str(d / "s.csv")])
    for name, spec in TRACES.items():
        cli(["trace"] + flags(spec) + ["-o", str(d / (name + ".csv"))])
    cli(["data", "--n", "128", "--quiet", "-o", str(d / "d.csv")])
    r = orbitsweep.run(SPEC, progress=False)
    return dict(dir=d, r=r, s=orbitsweep.summarize(r),
                t={name: orbitsweep.trace(spec) for name, spec in TRACES.items()},
                d=orbitsweep.data(n=128))


def cases(m):
    """(figure, its expected size, the plot.py command of the same figure)."""
    t, d = m["t"], m["d"]
    f = lambda name: str(m["dir"] / name)  # noqa: E731
    traces = [f("adam.csv"), f("sgd.csv")]
    ny = 6  # optimizer x scheduler rows of the heatmap
    return [
        (op.heatmap(m["r"]), (11, max(3.0, 0.32 * ny + 1.8)), ["heatmap", f("r.csv")]),
        (op.heatmap(m["s"], metric="success"), (11, max(3.0, 0.32 * ny + 1.8)),
         ["heatmap", f("s.csv"), "--metric", "success"]),
        (op.heatmap(m["r"], y=["optimizer"], metric="steps_to_target"), (11, 3.0),
         ["heatmap", f("r.csv"), "--y", "optimizer", "--metric", "steps_to_target"]),
        (op.lr_sensitivity(m["r"]), (10, 6), ["lr-sensitivity", f("r.csv")]),
        (op.profile(m["r"], size=(8, 5)), (8, 5), ["profile", f("r.csv"), "--size", "8,5"]),
        (op.paths(t, data=d), (10, 7.5), ["paths"] + traces + ["--data", f("d.csv")]),
        (op.step_size(t), (10, 5.5), ["step-size"] + traces),
        (op.lr(t, log=True), (10, 5.5), ["lr"] + traces + ["--log"]),
        (op.gradients(t, first=2, last=20), (10, 7), ["gradients"] + traces +
         ["--from", "2", "--to", "20"]),
        (op.fit(m["r"], data=d), (11, 7), ["fit", f("r.csv"), "--data", f("d.csv")]),
        (op.fit({"adam": t["adam"], "sgd": t["sgd"]}, data=d), (11, 7), ["fit"] + traces + ["--data", f("d.csv")]),
    ]


def test_every_figure_is_a_figure_of_its_size_and_plot_py_s(made, tmp_path):
    for i, (fig, size, command) in enumerate(cases(made)):
        assert isinstance(fig, Figure), command
        assert tuple(fig.get_size_inches()) == pytest.approx(size), command
        ours, theirs = tmp_path / ("api%d.png" % i), tmp_path / ("cli%d.png" % i)
        fig.savefig(ours, dpi=40, format="png")
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "plot.py")] + command +
                       ["-o", str(theirs), "--dpi", "40"], check=True, capture_output=True)
        assert ours.read_bytes() == theirs.read_bytes(), "figure differs from plot.py %s" % command


def test_the_dataset_defaults_to_the_library_s(made):
    a, b = op.paths(made["t"]["adam"], data=made["d"]), op.paths(made["t"]["adam"])
    assert a.axes[0].get_title() == b.axes[0].get_title()


def test_bad_options_raise():
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        op.heatmap({"lr": [0.1]}, colour="red")
    with pytest.raises(op.PlotError, match="--x/--y: no column 'optimizer'"):
        op.heatmap({"lr": [0.1], "param_error": [0.5]})
    with pytest.raises(ValueError):  # PlotError is a ValueError
        op.lr_sensitivity({"optimizer": ["sgd"], "lr": [0.0], "param_error": [1.0]})
