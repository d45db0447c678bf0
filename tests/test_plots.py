#!/usr/bin/env python3
"""test_plots.py — end-to-end tests of scripts/plot.py.

    python3 tests/test_plots.py BINARY [unittest options]

BINARY is the orbitsweep executable (default: build/orbitsweep). The tests
make a small results table, three traces and a dataset with it in a
temporary folder, run every plot.py subcommand as a subprocess and check
that each wrote a PNG of the size its figure size x dpi implies; and that
bad input (a missing file, an unknown column, an empty table) exits with
status 2 and one line on stderr naming the argument, writing nothing.

Without matplotlib every test is skipped and the script still exits 0.
"""
import csv
import os
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PLOT = os.path.join(HERE, "..", "scripts", "plot.py")
BINARY = os.path.abspath(os.path.join(HERE, "..", "build", "orbitsweep"))
SKIP = "matplotlib missing: apt-get install python3-matplotlib"
DPI = 130  # plot.py's default


def find_python():
    """An interpreter that has matplotlib and numpy: this one, else Debian's."""
    for py in (sys.executable, "/usr/bin/python3"):
        if py and os.path.exists(py) and subprocess.run(
                [py, "-c", "import matplotlib, numpy"], capture_output=True).returncode == 0:
            return py
    return None


PYTHON = find_python()


def png_size(path):
    """(width, height) in pixels from a PNG's IHDR chunk (bytes 16-24)."""
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise AssertionError("%s is not a PNG" % path)
    return struct.unpack(">II", head[16:24])


@unittest.skipIf(PYTHON is None, SKIP)
class PlotTest(unittest.TestCase):
    """Every subcommand on a small sweep; one bad-input case per family."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="test_plots.")
        d = cls.dir = cls.tmp.name
        small = ["--epochs", "20", "--quiet"]
        cls.orbitsweep("run", "--optimizer", "sgd,momentum,rmsprop,adam",
                       "--lr", "logspace(-3,-0.5,6)", "--scheduler", "none",
                       "--scheduler", "multistep:milestones=5/10/15/20,gamma=0.5",
                       "--seeds", "3", "-o", "r.csv", *small)
        cls.orbitsweep("trace", "--optimizer", "momentum", "--lr", "0.005", "-o", "mom.csv",
                       *small)
        cls.orbitsweep("trace", "--optimizer", "adam", "--lr", "0.12", "--scheduler",
                       "multistep:milestones=4/8/10/12/14/16/18/20/22/24,gamma=0.8",
                       "-o", "adam.csv", *small)
        cls.orbitsweep("data", "-o", "d.csv")
        cls.orbitsweep("summarize", "r.csv", "-o", "s.csv", "--quiet")
        # an even number of seeds (the median between two trainings) and a
        # diverging lr, for the summary-vs-results figures
        cls.orbitsweep("run", "--optimizer", "sgd,adam", "--lr", "logspace(-3,0.3,7)",
                       "--scheduler", "none", "--scheduler", "step:step_size=5,gamma=0.5",
                       "--seeds", "4", "-o", "r4.csv", *small)
        cls.orbitsweep("summarize", "r4.csv", "-o", "s4.csv", "--quiet")
        with open(os.path.join(d, "r.csv"), newline="") as f:
            cls.rows = list(csv.DictReader(f))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @classmethod
    def orbitsweep(cls, *args):
        subprocess.run([BINARY, *args], cwd=cls.dir, check=True, capture_output=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def plot(self, *args, rc=0):
        """Run plot.py; check its exit status; return the finished process."""
        res = subprocess.run([PYTHON, PLOT, *args], cwd=self.dir, capture_output=True,
                             text=True)
        self.assertEqual(res.returncode, rc, "plot.py %s\n%s%s" % (" ".join(args), res.stdout,
                                                                   res.stderr))
        return res

    def assertPng(self, name, size, dpi=DPI):
        """name is a non-empty PNG of size (inches) x dpi pixels (+-1 for rounding)."""
        p = self.path(name)
        self.assertTrue(os.path.isfile(p), "%s not written" % name)
        self.assertGreater(os.path.getsize(p), 1000)
        w, h = png_size(p)
        self.assertAlmostEqual(w, size[0] * dpi, delta=1)
        self.assertAlmostEqual(h, size[1] * dpi, delta=1)

    def assertBadInput(self, out, *args, names=()):
        """Exit 2, one line on stderr naming each of names, no output file."""
        res = self.plot(*args, "-o", out, rc=2)
        lines = res.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, res.stderr)
        for n in names:
            self.assertIn(n, lines[0])
        self.assertFalse(os.path.exists(self.path(out)))

    # ------------------------------------------------------------ tables

    def test_heatmap(self):
        self.plot("heatmap", "r.csv", "-o", "heat.png", "--metric", "success")
        cells = len({(r["optimizer"], r["scheduler"]) for r in self.rows})
        self.assertPng("heat.png", (11, max(3.0, 0.32 * cells + 1.8)))

    def test_heatmap_from_summary_is_the_same_figure(self):
        """A summary gives the same PNG, byte for byte, as its results table."""
        for table, summary in (("r.csv", "s.csv"), ("r4.csv", "s4.csv")):
            for metric in ("param_error", "success", "loss_gap", "steps_to_target"):
                with self.subTest(table=table, metric=metric):
                    a, b = "hr_%s_%s.png" % (table, metric), "hs_%s_%s.png" % (table, metric)
                    self.plot("heatmap", table, "-o", a, "--metric", metric, "--dpi", "60")
                    self.plot("heatmap", summary, "-o", b, "--metric", metric, "--dpi", "60")
                    with open(self.path(a), "rb") as fa, open(self.path(b), "rb") as fb:
                        self.assertEqual(fa.read(), fb.read(), "%s and %s differ" % (a, b))

    def test_heatmap_cells_are_summarize_medians(self):
        """The results-table cell is numpy's median (finite values: bit for bit),
        +inf where an infinity is a neighbour, as summarize computes it."""
        sys.path.insert(0, os.path.join(HERE, "..", "src", "python"))
        import numpy as np
        from orbitsweep.plot.tables import median_numpy

        rng = np.random.default_rng(3)
        for n in range(1, 12):
            for _ in range(200):
                v = list(rng.random(n) * 10.0 ** rng.integers(-6, 2))
                self.assertEqual(median_numpy(v), float(np.quantile(v, 0.5)), v)
        self.assertEqual(median_numpy([1.0, float("inf")]), float("inf"))
        self.assertEqual(median_numpy([1.0, 2.0, float("inf")]), 2.0)
        # and each summary cell is the median of its trainings in r4.csv
        with open(self.path("s4.csv"), newline="") as f:
            summary = list(csv.DictReader(f))
        with open(self.path("r4.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
        for srow in summary:
            key = (srow["optimizer"], srow["lr"], srow["scheduler"])
            pe = [float("inf") if r["diverged"] == "1" else float(r["param_error"])
                  for r in rows if (r["optimizer"], r["lr"], r["scheduler"]) == key]
            self.assertEqual(len(pe), 4)
            self.assertEqual(median_numpy(pe), float(srow["param_error_median"]), key)

    def test_heatmap_summary_bad_input(self):
        """A cell holding two configurations of a summary is refused, naming --y."""
        self.assertBadInput("x5.png", "heatmap", "s.csv", "--y", "optimizer",
                            names=["--y", "s.csv"])
        self.assertBadInput("x6.png", "heatmap", "s.csv", "--y", "nope", names=["--x/--y", "nope"])

    def test_lr_sensitivity(self):
        self.plot("lr-sensitivity", "r.csv", "-o", "lrs.png")
        self.assertPng("lrs.png", (10, 6))

    def test_extra_columns(self):
        """Columns are read by name: new ones anywhere in the table are ignored."""
        with open(self.path("r.csv"), newline="") as f:
            rows = list(csv.reader(f))
        with open(self.path("wide.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["best_loss"] + rows[0] + ["oscillation", "path_length"])
            for r in rows[1:]:
                w.writerow(["0.5"] + r + ["", "3.25"])
        self.plot("lr-sensitivity", "wide.csv", "-o", "wide.png", "--metric", "loss_gap",
                  "--group", "optimizer,scheduler", "--svg", "--dpi", "60")
        self.assertPng("wide.png", (10, 6), dpi=60)
        self.assertGreater(os.path.getsize(self.path("wide.svg")), 1000)

    def test_profile(self):
        self.plot("profile", "r.csv", "-o", "prof.png")
        self.assertPng("prof.png", (10, 6))
        self.plot("profile", "r.csv", "-o", "prof2.png", "--metric", "param_error",
                  "--match", "value", "--tau-max", "1e3", "--size", "8,5", "--dpi", "50")
        self.assertPng("prof2.png", (8, 5), dpi=50)

    def test_tables_bad_input(self):
        with open(self.path("r.csv")) as f:
            header = f.readline()
        with open(self.path("empty.csv"), "w") as f:
            f.write(header)
        self.assertBadInput("x1.png", "lr-sensitivity", "missing.csv", names=["missing.csv"])
        self.assertBadInput("x2.png", "profile", "r.csv", "--group", "nope",
                            names=["--group", "nope"])
        self.assertBadInput("x3.png", "heatmap", "empty.csv", names=["empty.csv"])
        self.assertBadInput("x4.png", "lr-sensitivity", "r.csv", "--metric", "nope",
                            names=["--metric", "nope"])

    # ------------------------------------------------------------ traces

    def test_step_size(self):
        self.plot("step-size", "mom.csv", "adam.csv", "-o", "step.png")
        self.assertPng("step.png", (10, 5.5))

    def test_lr(self):
        self.plot("lr", "mom.csv", "adam.csv", "-o", "lr.png", "--from", "0", "--to", "30")
        self.assertPng("lr.png", (10, 5.5))

    def test_gradients(self):
        self.plot("gradients", "mom.csv", "adam.csv", "-o", "grad.png", "--from", "2",
                  "--to", "100", "--symlog")
        self.assertPng("grad.png", (10, 7))

    def test_traces_bad_input(self):
        with open(self.path("mom.csv")) as f:
            header = f.readline()
        with open(self.path("empty_trace.csv"), "w") as f:
            f.write(header)
        self.assertBadInput("y1.png", "step-size", "empty_trace.csv", names=["empty_trace.csv"])
        self.assertBadInput("y2.png", "gradients", "r.csv", names=["update", "r.csv"])
        self.assertBadInput("y3.png", "lr", "missing.csv", names=["missing.csv"])

    # ------------------------------------------------------------ orbit

    def test_paths_take_seed_and_data_from_the_sidecar(self):
        """A trace's sidecar (s7.csv.json) says its seed and dataset flags:
        paths and fit draw that dataset's loss surface without --seed."""
        import argparse
        self.orbitsweep("trace", "--optimizer", "adam", "--lr", "0.05", "--seed", "7", "--noise",
                        "0.3", "--n", "300", "--epochs", "3", "-o", "s7.csv")
        self.orbitsweep("data", "--seed", "7", "--noise", "0.3", "--n", "300", "-o", "d7.csv")
        sys.path.insert(0, os.path.join(HERE, "..", "src", "python"))
        from orbitsweep.plot import orbit
        args = argparse.Namespace(seed=None, data=None, data_flags=None, orbitsweep=BINARY)
        self.assertEqual(orbit.from_sidecar(args, self.path("s7.csv")), "7")
        self.assertIn("--noise 0.3", args.data_flags)
        x, y = orbit.dataset(args, "7")
        with open(self.path("d7.csv")) as f:
            want = list(csv.DictReader(f))
        self.assertEqual(len(x), 300)
        self.assertEqual([float(r["y"]) for r in want], list(y))
        given = argparse.Namespace(seed="3", data=None, data_flags="--n 64", orbitsweep=BINARY)
        self.assertEqual(orbit.from_sidecar(given, self.path("s7.csv")), "3")
        self.assertEqual(given.data_flags, "--n 64")
        self.plot("paths", "s7.csv", "-o", "p7.png", "--orbitsweep", BINARY, "--grid", "60")
        self.assertPng("p7.png", (10, 7.5))

    def test_paths(self):
        self.plot("paths", "mom.csv", "adam.csv", "-o", "paths.png", "--data", "d.csv",
                  "--grid", "120")
        self.assertPng("paths.png", (10, 7.5))
        res = self.plot("paths", "mom.csv", "-o", "paths2.png", "--orbitsweep", BINARY,
                        "--first", "20", "--grid", "80", "--gif", "--frames", "4")
        self.assertPng("paths2.png", (10, 7.5))
        if "Pillow is missing" not in res.stdout:
            with open(self.path("paths2.gif"), "rb") as f:
                self.assertEqual(f.read(6), b"GIF89a")

    def test_fit(self):
        # a trace and a table (its best training per optimizer) together
        self.plot("fit", "mom.csv", "r.csv", "-o", "fit.png", "--data", "d.csv")
        self.assertPng("fit.png", (11, 7))
        self.plot("fit", "r.csv", "-o", "fit2.png", "--orbitsweep", BINARY, "--trial", "0,5",
                  "--trial", "7")
        self.assertPng("fit2.png", (11, 7))

    def test_orbit_bad_input(self):
        self.assertBadInput("z1.png", "paths", "mom.csv", "--data", "missing.csv",
                            names=["--data", "missing.csv"])
        self.assertBadInput("z2.png", "fit", "r.csv", "--data", "d.csv", "--trial", "99999",
                            names=["--trial", "99999"])
        self.assertBadInput("z3.png", "fit", "mom.csv", "--data", "r.csv", names=["--data", "x"])


def main():
    global BINARY
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        BINARY = os.path.abspath(sys.argv.pop(1))
    if PYTHON is not None and not os.access(BINARY, os.X_OK):
        sys.exit("test_plots.py: BINARY '%s' is not an executable (usage: "
                 "test_plots.py BINARY)" % BINARY)
    unittest.main()


if __name__ == "__main__":
    main()
