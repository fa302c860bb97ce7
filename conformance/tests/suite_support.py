"""Helpers for the conformance suite's own tests.

The suite is run in a subprocess (``plugrad-conformance`` with ``--json``), so the
test devices of ``broken_backends`` never register in the process that runs
other tests, and each run is exactly what a user's run would be.
"""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run_suite(device, *args, tmp_path, timeout=600):
    """Run ``plugrad-conformance --device DEVICE ARGS --json FILE`` with the test
    devices registered. Returns (exit status, results, console output)."""
    out = os.path.join(str(tmp_path), f"{device}.json")
    code = ("import sys, broken_backends; broken_backends.register(); "
            "from plugrad_conformance.cli import main; sys.exit(main(sys.argv[1:]))")
    env = dict(os.environ, PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", code, "--device", device, "--json", out, *args],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=str(tmp_path))
    results = json.load(open(out))["results"] if os.path.exists(out) else None
    return proc.returncode, results, proc.stdout + proc.stderr


def outcomes(results):
    """{(op, check, dtype): outcome}"""
    return {(r["op"], r["check"], r["dtype"]): r["outcome"] for r in results}
