"""Fixtures of the Python package's tests: the CLI to compare against.

The package is tested against the command line built from the same
sources: ORBITSWEEP_CLI names the binary, else the build tree's
build/orbitsweep (scripts/test.sh, .ci/run) is used.
"""
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def cli():
    """run(args, cwd=None) -> CompletedProcess of the orbitsweep binary."""
    path = os.environ.get("ORBITSWEEP_CLI") or os.path.join(ROOT, "build", "orbitsweep")
    if not os.access(path, os.X_OK):
        pytest.fail("no orbitsweep binary at %s: build it (scripts/test.sh) or set ORBITSWEEP_CLI"
                    % path)

    def run(args, cwd=None, check=True):
        p = subprocess.run([path] + list(args), cwd=cwd, capture_output=True)
        if check and p.returncode != 0:
            raise AssertionError("orbitsweep %s: exit %d: %s" % (" ".join(args), p.returncode,
                                                                   p.stderr.decode()))
        return p

    return run
