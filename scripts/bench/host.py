#!/usr/bin/env python3
"""host.py — does the host keep up with the engine? Ratios measured in one run.

    scripts/bench/host.py [--orbitsweep BIN] [--quick] [--markdown] [--keep DIR]

Runs the orbitsweep command line and reports, each as a ratio of two things
measured here, one after the other (a shared, noisy machine slows both):

  table    end-to-end wall time / training time, 1M trainings x 1 epoch
           (four optimizers over lr logspace(-4,0,250000)): what writing the
           results table and planning add to the training (target <= 1.5),
           for the CSV table and for the same table as .npz columns. The
           wall is the whole process of a default run (which writes a block
           while the next one trains, sharing the cores); the training time
           is that of the same run with --overlap off, where nothing else
           runs while it trains (a default run's own training time is
           stretched by the writing that shares its cores)
  memory   peak resident memory of 10^7 trainings x 1 epoch (target < 512 MB),
           and what the same sweep's trials and results alone would take
  seeds    wall time of 40,000 seeds x 1 configuration / 40,000 learning
           rates x 1 seed, Adam, 100 epochs (target <= 1.5)
  bound    CPU training rate at 100K trainings x 100 epochs / the bare
           forward+gradient loop's rate (`orbitsweep bench --bound`,
           target >= 0.8)

--quick divides the sizes by 10 (a smoke test, not the targets' sizes).
Exit status 0 when every measurement ran (whether or not it met its
target), 1 when one failed.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_BIN = os.path.join(HERE, "..", "..", "build", "orbitsweep")


def run(cmd, cwd):
    """Runs cmd; returns (wall seconds, peak RSS in MB, stdout, stderr)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        o, e = out.read().decode(), err.read().decode()
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {e.strip()[-400:]}")
    return wall, ru.ru_maxrss / 1024.0, o, e


def training_seconds(summary):
    m = re.search(r"^time ([0-9.]+) s, .* \(([0-9.]+) s end to end, ([0-9.]+) s of it writing the table\)",
                  summary, re.M)
    if not m:
        raise RuntimeError("no 'time ... writing the table' line in the run's summary")
    return float(m.group(1)), float(m.group(3))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--orbitsweep", default=DEFAULT_BIN, help="the binary (default: build/orbitsweep)")
    ap.add_argument("--quick", action="store_true", help="sizes / 10: a smoke test")
    ap.add_argument("--markdown", action="store_true", help="a Markdown table")
    ap.add_argument("--only", help="comma-separated subset of table,memory,seeds,bound")
    args = ap.parse_args()
    exe = os.path.abspath(args.orbitsweep)
    if not os.access(exe, os.X_OK):
        sys.exit(f"host.py: --orbitsweep: '{args.orbitsweep}' is not an executable (build first: scripts/test.sh)")
    div = 10 if args.quick else 1
    only = set(args.only.split(",")) if args.only else {"table", "memory", "seeds", "bound"}
    rows, failed = [], 0
    work = tempfile.mkdtemp(prefix="os_host_")
    try:
        def sweep(*a):
            return [exe, "run", *a, "-o", os.path.join(work, "r.csv")]

        if "table" in only:
            n = 250000 // div
            for ext in ("csv", "npz"):
                cmd = [exe, "run", "--optimizer", "sgd,momentum,rmsprop,adam", "--lr", f"logspace(-4,0,{n})",
                       "--epochs", "1", "-o", os.path.join(work, "r." + ext)]
                wall_off, _, out, _ = run(cmd + ["--overlap", "off"], work)
                train, write = training_seconds(out)
                wall, _, _, _ = run(cmd, work)
                rows.append((f"table ({ext})", f"{4 * n:,} trainings x 1 epoch: wall / training",
                             f"{wall:.2f} s / {train:.2f} s (--overlap off: wall {wall_off:.2f} s, "
                             f"writing {write:.2f} s)", wall / train, "<= 1.5"))
        if "memory" in only:
            n = 2500000 // div
            _, rss, _, _ = run(sweep("--optimizer", "sgd,momentum,rmsprop,adam", "--lr", f"logspace(-4,0,{n})",
                                     "--epochs", "1", "--quiet"), work)
            rows.append(("memory", f"{4 * n:,} trainings x 1 epoch: peak RSS", f"{rss:.0f} MB", rss, "< 512 MB"))
        if "seeds" in only:
            n = 40000 // div
            ws, _, _, _ = run(sweep("--optimizer", "adam", "--seeds", str(n), "--epochs", "100", "--quiet"), work)
            wl, _, _, _ = run(sweep("--optimizer", "adam", "--lr", f"logspace(-4,-0.5,{n})", "--epochs", "100",
                                    "--quiet"), work)
            rows.append(("seeds", f"{n:,} seeds / {n:,} learning rates, 100 epochs: wall",
                         f"{ws:.2f} s / {wl:.2f} s", ws / wl, "<= 1.5"))
        if "bound" in only:
            try:
                _, _, out, _ = run([exe, "bench", "--bound", "--sizes", str(100000 // div), "--backend", "cpu"], work)
                m = re.search(r"^ratio ([0-9.]+)", out, re.M)
                if not m:
                    raise RuntimeError("no 'ratio' line in `orbitsweep bench --bound`")
                rows.append(("bound", f"{100000 // div:,} trainings x 100 epochs: CPU rate / bare loop",
                             out.strip().splitlines()[-1], float(m.group(1)), ">= 0.8"))
            except RuntimeError as e:
                failed = 1
                print(f"host.py: bound: {e}", file=sys.stderr)
    except RuntimeError as e:
        failed = 1
        print(f"host.py: {e}", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.markdown:
        print("| measure | what | measured | ratio / value | target |\n|---|---|---|---:|---|")
        for key, what, measured, value, target in rows:
            print(f"| {key} | {what} | {measured} | {value:.3g} | {target} |")
    else:
        for key, what, measured, value, target in rows:
            print(f"{key:11s} {what:55s} {measured:40s} {value:8.3g}  target {target}")
    return failed


if __name__ == "__main__":
    sys.exit(main())
