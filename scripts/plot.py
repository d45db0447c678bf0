#!/usr/bin/env python3
"""plot.py — figures from orbitsweep results tables and traces.

Results tables (orbitsweep run):
  heatmap         results.csv|summary.csv [-o heatmap.png] [--metric M] [--x lr]
                  [--y optimizer,scheduler]
                  median final error over learning rate x (optimizer, scheduler); from
                  a summary (orbitsweep summarize) the same figure, read in a moment
  lr-sensitivity  results.csv [--metric param_error|loss_gap] [--group optimizer[,scheduler]]
                  final error against learning rate, median and 25-75% band over seeds
  profile         results.csv [--metric steps_to_target|param_error] [--tau-max T]
                  performance profiles rho(tau) of the optimizers
Traces (orbitsweep trace):
  paths           TRACE.csv ... [--data d.csv | --orbitsweep BIN] [--first K] [--gif]
                  (Wa, Wb) paths over the loss contour (case study Figs 2, 3, 9)
  step-size       TRACE.csv ...   effective step size per update, log y (Fig 1)
  lr              TRACE.csv ...   learning rate per update (Fig 15)
  gradients       TRACE.csv ... [--from K --to K]   dL/dWa, dL/dWb per update (Fig 13)
Either:
  fit             TRACE.csv|results.csv ... [--trial N] [--data d.csv]
                  fitted half-ellipse over the data with the true orbit (Figs 4-8)

Every command writes a PNG (-o; --dpi; --size W,H in inches for all but
heatmap) and with --svg an SVG beside it. `plot.py COMMAND --help` says more.
Bad input (a missing file, an unknown column, an empty table, a bad value)
exits with status 2 and one line on stderr naming the argument.
Needs matplotlib and numpy (Debian: python3-matplotlib); Pillow for --gif.
"""
import argparse
import os
import sys

# the figures are the Python package's (src/python/orbitsweep/plot), used
# from the source tree: they need numpy and matplotlib, not the compiled module
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "src", "python"))

from orbitsweep.plot import orbit, tables, traces  # noqa: E402
from orbitsweep.plot.common import PlotError  # noqa: E402


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr and exit status 2."""

    def error(self, message):
        sys.stderr.write("%s: %s\n" % (self.prog, message))
        sys.exit(2)


def build_parser():
    """The command line: one subcommand per figure."""
    p = Parser(prog="plot.py", description=__doc__,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    for module in (tables, traces, orbit):
        module.register(sub)
    return p


def main():
    args = build_parser().parse_args()
    try:
        import matplotlib  # noqa: F401
        import numpy  # noqa: F401
    except ImportError:
        sys.exit("plot.py: matplotlib is missing (apt-get install python3-matplotlib)")
    try:
        args.func(args)
    except PlotError as e:
        sys.stderr.write("plot.py %s: %s\n" % (args.cmd, e))
        sys.exit(2)


if __name__ == "__main__":
    main()
