#!/usr/bin/env python3
"""python_table.py — how long a results table takes to reach Python: the
time from orbitsweep.run() being called to the DataFrame (and to the dict
of numpy arrays), against the CLI writing the same table as CSV (`orbitsweep
run ... -o r.csv`, the whole process) and against that CSV read back with
pandas.read_csv (the shell-out way). One session, each measured --repeat
times; best and median, and for run() and the CLI the median of the time
each spends beyond training (run(): wall less the DataFrame's
attrs["train_s"]; the CLI: its summary's end-to-end less training time,
which is mostly writing the table).

    python scripts/bench/python_table.py [--orbitsweep build/orbitsweep] [--trainings 1000000]
                                         [--repeat 3] [--markdown]

Needs the package installed in the running Python (pip install . pandas).
The sweep is host.py's table sweep: sgd, momentum, rmsprop, adam x
logspace(-4,0,T/4) learning rates, 1 epoch, on the CPU.
"""
import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time

import orbitsweep
import pandas as pd


def timed(fn, repeat, extra=None):
    """(best, median) wall seconds of fn(), and the median of extra(fn's result)."""
    out, more = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = fn()
        out.append(time.perf_counter() - t0)
        if extra:
            more.append(extra(r, out[-1]))
    return min(out), statistics.median(out), statistics.median(more) if more else None


def cli_beyond_training(proc, wall):
    """The CLI's own seconds beyond training: its summary line's end-to-end
    time less its training time."""
    m = re.search(r"^time ([0-9.]+) s, .*\(([0-9.]+) s end to end", proc.stdout.decode(), re.M)
    return float(m.group(2)) - float(m.group(1))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orbitsweep", default=os.path.join(here, "..", "..", "build", "orbitsweep"))
    ap.add_argument("--trainings", type=int, default=1000000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    per = args.trainings // 4
    spec = dict(optimizer="sgd,momentum,rmsprop,adam", lr="logspace(-4,0,%d)" % per, epochs=1,
                backend="cpu")
    flags = ["--optimizer", spec["optimizer"], "--lr", spec["lr"], "--epochs", "1", "--backend", "cpu"]
    work = tempfile.mkdtemp(prefix="os_pytable_")
    csv = os.path.join(work, "r.csv")
    try:
        orbitsweep.run(spec, progress=False)  # warm: pages, thread pool, imports
        beyond = lambda df, wall: wall - df.attrs["train_s"]  # noqa: E731
        rows = [
            ("orbitsweep.run() -> DataFrame",
             timed(lambda: orbitsweep.run(spec, progress=False), args.repeat, beyond)),
            ("orbitsweep.run(as_frame=False) -> dict of arrays",
             timed(lambda: orbitsweep.run(spec, progress=False, as_frame=False), args.repeat)),
            ("CLI: orbitsweep run -o r.csv (process)",
             timed(lambda: subprocess.run([args.orbitsweep, "run", *flags, "-o", csv], check=True,
                                          capture_output=True), args.repeat, cli_beyond_training)),
            ("pandas.read_csv(r.csv)", timed(lambda: pd.read_csv(csv), args.repeat)),
        ]
    finally:
        for f in os.listdir(work):
            os.unlink(os.path.join(work, f))
        os.rmdir(work)
    cli = rows[2][1][0]
    title = "%s trainings x 1 epoch, %d cores, best / median of %d" % (
        f"{4 * per:,}", os.cpu_count(), args.repeat)
    if args.markdown:
        print("| %s | best s | median s | best / CLI | beyond training (median) s |\n"
              "|---|---:|---:|---:|---:|" % title)
        for name, (best, med, more) in rows:
            print("| %s | %.3f | %.3f | %.2f | %s |" % (name, best, med, best / cli,
                                                      "%.3f" % more if more is not None else ""))
    else:
        print(title)
        for name, (best, med, more) in rows:
            print("  %-50s best %.3f s  median %.3f s  (%.2f x the CLI)%s" % (
                name, best, med, best / cli,
                "  beyond training %.3f s" % more if more is not None else ""))


if __name__ == "__main__":
    main()
