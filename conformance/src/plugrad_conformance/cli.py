"""``plugrad-conformance``: run the suite against a device and print the matrix.

    plugrad-conformance --device opencl --profile thorough --markdown report.md --html report.html -k grad
    plugrad-conformance --device cpu --compile     # every op through plugrad.compile, bit-equal to eager

(``--json FILE`` writes every result, machine-readable.)

The exit status is 0 when no case failed, 1 when some did, 4 when the device
cannot be used, and pytest's own status (2, 3, 5) when the run itself failed. The run is isolated from
the current project's pytest configuration and conftest files.
"""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["main", "pytest_args"]


def _parser():
    p = argparse.ArgumentParser(prog="plugrad-conformance",
                                description="Check that a plugrad device computes the values and gradients "
                                            "plugrad promises, and print the pass/fail matrix "
                                            "(op x dtype x check).")
    p.add_argument("--device", required=True, help="the device to check: cpu, opencl, opencl:1, ...")
    p.add_argument("--profile", choices=("ci", "thorough"), default="ci",
                   help="ci: a few examples per case (default); thorough: many, with shrinking")
    p.add_argument("--markdown", metavar="FILE", help="also write the matrix as Markdown")
    p.add_argument("--html", metavar="FILE", help="also write the matrix as an HTML page")
    p.add_argument("--json", metavar="FILE", help="also write every result as JSON")
    p.add_argument("-k", dest="keyword", metavar="EXPR",
                   help="only the cases whose id matches this pytest -k expression (ids look like "
                        "'exp-forward-float32', 'add-broadcast-float32', 'matmul-grad-float64')")
    p.add_argument("--compile", action="store_true",
                   help="run every op's forward and gradients through plugrad.compile (recorded, then replayed) "
                        "and require eager's bits")
    p.add_argument("-x", "--exitfirst", action="store_true", help="stop at the first failure")
    p.add_argument("-v", "--verbose", action="store_true", help="list every case as it runs, with tracebacks")
    return p


def pytest_args(ns) -> list:
    """The pytest command line for parsed options ``ns``."""
    import plugrad_conformance
    here = os.path.dirname(os.path.abspath(plugrad_conformance.__file__))
    args = [os.path.join(here, "test_conformance.py"), "--device", ns.device, "--conformance-profile", ns.profile,
            "-c", os.devnull, "--rootdir", here, "--confcutdir", here, "-p", "no:cacheprovider",
            "-W", "ignore::pytest.PytestAssertRewriteWarning", "-p", "no:warnings"]
    args += ["-v", "--tb=short"] if ns.verbose else ["-q", "--tb=no", "--no-header", "-rE"]
    if ns.markdown:
        args += ["--conformance-markdown", os.path.abspath(ns.markdown)]
    if ns.html:
        args += ["--conformance-html", os.path.abspath(ns.html)]
    if ns.json:
        args += ["--conformance-json", os.path.abspath(ns.json)]
    if ns.keyword:
        args += ["-k", ns.keyword]
    if ns.exitfirst:
        args.append("-x")
    if ns.compile:
        args.append("--conformance-compile")
    return args


def main(argv=None) -> int:
    ns = _parser().parse_args(argv)
    from .device import DeviceUnderTest
    try:
        DeviceUnderTest(ns.device)
    except Exception as exc:  # noqa: BLE001 - any reason the device cannot start is reported as is
        print(f"plugrad-conformance: cannot use device '{ns.device}': {type(exc).__name__}: {exc}", file=sys.stderr)
        return 4
    import pytest
    return int(pytest.main(pytest_args(ns)))


if __name__ == "__main__":
    sys.exit(main())
