#!/usr/bin/env bash
# python-check.sh CLI — the Python package as a fresh machine gets it: a new
# virtual environment from /usr/bin/python3, `pip install ".[test]"` (pandas,
# matplotlib, pytest, nbclient; the CUDA backend when CMake finds nvcc), then
# pytest over tests/python, run from outside the checkout so that the
# installed package is the one tested: tables, traces and data against the
# CLI binary CLI (build/orbitsweep), every bad-input case of the CLI's tests,
# Ctrl-C, every figure, and examples/notebook.ipynb executed by nbclient.
# CI (.ci/run) runs it after ctest. Builds with 2 jobs (CMAKE_BUILD_PARALLEL_LEVEL).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cli=$(realpath "${1:-build/orbitsweep}")
venv=$(mktemp -d "${TMPDIR:-/tmp}/orbitsweep-venv.XXXXXX")
trap 'rm -rf "$venv"' EXIT
/usr/bin/python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} "$venv/bin/pip" install -q "$root[test]"
cd "$venv"
ORBITSWEEP_CLI=$cli "$venv/bin/python" -m pytest -q -p no:cacheprovider "$root/tests/python"
