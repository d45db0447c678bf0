"""plots — the figures behind scripts/plot.py.

    common   reading tables and traces, errors, titles, styles, saving
    tables   figures of a results table: heatmap, lr-sensitivity, profile
    traces   figures of traces against the update count: step-size, lr, gradients
    orbit    figures in parameter and data space: paths (contour + GIF), fit

Every subcommand is a function taking the parsed argparse namespace; each
module's register(sub, parents) adds its subcommands to the parser.
"""
