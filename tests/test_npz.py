#!/usr/bin/env python3
"""test_npz.py — the results table as a numpy .npz archive (`run -o X.npz`).

    python3 tests/test_npz.py BINARY [unittest options]

The reference is the CSV table of the same sweep, read with Python's csv
module, and the reader is numpy's own np.load (and zipfile's checks): every
column of the archive equals the CSV's column, value for value and bit for
bit (a CSV number reads back to the archive's double or float exactly; an
empty field is NaN or -1; the optimizer and scheduler codes name the CSV's
text), for float32 and float64, one block and many, serial and overlapped.
A path that is not a regular file is refused with exit status 2.

Without numpy every test is skipped and the script still exits 0.
"""
import csv
import math
import os
import subprocess
import sys
import tempfile
import unittest
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
BINARY = os.path.abspath(os.path.join(HERE, "..", "build", "orbitsweep"))
try:
    import numpy as np
except ImportError:  # the separate python3 on PATH has no numpy
    np = None

SWEEP = ["--optimizer", "sgd,momentum,nesterov,rmsprop,adam", "--lr", "logspace(-3,0.5,12)",
         "--scheduler", "none", "--scheduler", "multistep:milestones=2/4,gamma=0.5",
         "--momentum", "0.5,0.9", "--epochs", "2,40", "--seeds", "2", "--n", "96", "--init-wa", "0.1,0.002",
         "--amsgrad", "false,true"]


def run(args, cwd):
    return subprocess.run([BINARY] + args, cwd=cwd, capture_output=True, text=True)


@unittest.skipIf(np is None, "numpy missing: run with /usr/bin/python3 (scripts/setup.sh installs python3-numpy)")
class Npz(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="os_test_npz_")
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def tables(self, spec, execution):
        """The CSV table of SWEEP + spec, and its archive made with the execution flags too."""
        csv_path, npz_path = os.path.join(self.dir, "r.csv"), os.path.join(self.dir, "r.npz")
        for path, more in ((csv_path, spec), (npz_path, spec + execution)):
            p = run(["run", *SWEEP, *more, "--quiet", "-o", path], self.dir)
            self.assertEqual(p.returncode, 0, p.stderr)
        with open(csv_path, newline="") as f:
            rows = list(csv.reader(f))
        self.assertIsNone(zipfile.ZipFile(npz_path).testzip())
        return rows[0], rows[1:], np.load(npz_path)

    def assertSameList(self, got, want, name):
        """got == want, reporting the first differing row (assertEqual's diff of
        two long lists takes minutes)."""
        self.assertEqual(len(got), len(want), name)
        bad = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), None)
        if bad is not None:
            self.fail(f"{name}: row {bad}: {got[bad]!r} in the archive, {want[bad]!r} in the table")

    def check(self, spec, execution, float32):
        header, rows, z = self.tables(spec, execution)
        names = [c for c in z.files if not c.endswith("_categories")]
        self.assertEqual(names, header)  # the table's columns, in its order
        self.assertGreater(len(rows), 500)
        # optimizer, scheduler and the choice axes (dtype, shuffle, sched_step): codes into their names
        cats = {c[:-len("_categories")]: list(z[c]) for c in z.files if c.endswith("_categories")}
        self.assertEqual(sorted(cats), ["dtype", "optimizer", "sched_step", "scheduler", "shuffle"])
        for j, name in enumerate(header):
            col = z[name]
            self.assertEqual(col.shape, (len(rows),), name)
            texts = [r[j] for r in rows]
            if name in cats:
                self.assertEqual(col.dtype, np.int32)
                self.assertSameList([cats[name][c] for c in col], texts, name)
                continue
            if col.dtype.kind in "iu":
                want = [-1 if t == "" else int(t) for t in texts]
                self.assertSameList(col.tolist(), want, name)
                continue
            if name in ("final_wa", "final_wb"):
                self.assertEqual(col.dtype, np.float32 if float32 else np.float64, name)
            else:
                self.assertEqual(col.dtype, np.float64, name)
            # booleans (amsgrad, centered): true/false in the CSV, 1.0/0.0 in the archive
            bools = {"": math.nan, "true": 1.0, "false": 0.0}
            want = np.array([bools[t] if t in bools else float(t) for t in texts], dtype=col.dtype)
            same = (col == want) | (np.isnan(col) & np.isnan(want))
            self.assertTrue(same.all(), f"{name}: row {int(np.argmin(same))}: {col[~same][:3]} vs {want[~same][:3]}")
        # something of each kind is exercised: unused hyperparameters, diverged runs, reached targets
        self.assertTrue(np.isnan(z["momentum"]).any() and (z["momentum"] == 0.9).any())
        self.assertTrue(np.isnan(z["amsgrad"]).any() and (z["amsgrad"] == 0).any() and (z["amsgrad"] == 1).any())
        self.assertTrue((z["diverged"] == 1).any() and (z["diverged_at"] >= 0).any())
        self.assertTrue((z["steps_to_target"] == -1).any() and (z["steps_to_target"] >= 0).any())

    def test_float32_one_block(self):
        self.check([], [], True)

    def test_float64_many_blocks(self):
        self.check(["--dtype", "float64"], ["--block", "37"], False)  # the CSV with the default block

    def test_overlapped_blocks(self):
        self.check([], ["--block", "100", "--overlap", "on"], True)

    def test_same_archive_every_time(self):
        a, b = os.path.join(self.dir, "a.npz"), os.path.join(self.dir, "b.npz")
        for path, block in ((a, "0"), (b, "29")):
            p = run(["run", *SWEEP, "--block", block, "--quiet", "-o", path], self.dir)
            self.assertEqual(p.returncode, 0, p.stderr)
        with open(a, "rb") as fa, open(b, "rb") as fb:
            self.assertEqual(fa.read(), fb.read())

    def test_not_a_regular_file(self):
        os.mkdir(os.path.join(self.dir, "d.npz"))
        p = run(["run", "--quiet", "-o", "d.npz"], self.dir)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertIn("d.npz", p.stderr)
        os.mkfifo(os.path.join(self.dir, "f.npz"))
        p = run(["run", "--quiet", "-o", "f.npz"], self.dir)
        self.assertEqual(p.returncode, 2)
        self.assertIn("regular file", p.stderr)
        self.assertEqual(sorted(os.listdir(self.dir)), ["d.npz", "f.npz"])


if __name__ == "__main__":
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        BINARY = os.path.abspath(sys.argv.pop(1))
    unittest.main()
