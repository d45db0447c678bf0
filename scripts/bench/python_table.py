#!/usr/bin/env python3
"""python_table.py — how long a results table takes to reach Python: the
time from orbitsweep.run() being called to the DataFrame (and to the dict
of numpy arrays), against the CLI writing the same table as CSV (`orbitsweep
run ... -o r.csv`, the whole process) and against that CSV read back with
pandas.read_csv (the shell-out way). One session, each measured --repeat
times; best and median.

    python scripts/bench/python_table.py [--orbitsweep build/orbitsweep] [--trainings 1000000]
                                         [--repeat 3] [--markdown]

Needs the package installed in the running Python (pip install . pandas).
The sweep is host.py's table sweep: sgd, momentum, rmsprop, adam x
logspace(-4,0,T/4) learning rates, 1 epoch, on the CPU.
"""
import argparse
import os
import statistics
import subprocess
import tempfile
import time

import orbitsweep
import pandas as pd


def timed(fn, repeat):
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return min(out), statistics.median(out)


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
    flags = ["--optimizer", spec["optimizer"], "--lr", spec["lr"], "--epochs", "1", "--backend", "cpu",
             "--quiet"]
    work = tempfile.mkdtemp(prefix="os_pytable_")
    csv = os.path.join(work, "r.csv")
    try:
        orbitsweep.run(spec, progress=False)  # warm: pages, thread pool, imports
        rows = [
            ("orbitsweep.run() -> DataFrame", timed(lambda: orbitsweep.run(spec, progress=False), args.repeat)),
            ("orbitsweep.run(as_frame=False) -> dict of arrays",
             timed(lambda: orbitsweep.run(spec, progress=False, as_frame=False), args.repeat)),
            ("CLI: orbitsweep run -o r.csv (process)",
             timed(lambda: subprocess.run([args.orbitsweep, "run", *flags, "-o", csv], check=True),
                   args.repeat)),
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
        print("| %s | best s | median s | best / CLI |\n|---|---:|---:|---:|" % title)
        for name, (best, med) in rows:
            print("| %s | %.3f | %.3f | %.2f |" % (name, best, med, best / cli))
    else:
        print(title)
        for name, (best, med) in rows:
            print("  %-50s best %.3f s  median %.3f s  (%.2f x the CLI)" % (name, best, med, best / cli))


if __name__ == "__main__":
    main()
