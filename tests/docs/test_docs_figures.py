"""Figures the documentation quotes about the repository stay true."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "backends" / "plugrad_pylist" / "src" / "plugrad_pylist"


def lines(path: pathlib.Path) -> int:
    return len(path.read_text().splitlines())


def test_the_example_backend_line_counts_quoted_in_the_docs():
    page = (ROOT / "docs" / "writing-a-backend.md").read_text()
    total = re.search(r"in (\d+) lines of Python all told", page)
    kernels = re.search(r"`backend\.py`, (\d+) lines", page)
    registration = re.search(r"`plugin\.py`, (\d+) lines", page)
    assert total and kernels and registration, "the page no longer quotes the example backend's size"
    assert int(kernels.group(1)) == lines(EXAMPLE / "backend.py")
    assert int(registration.group(1)) == lines(EXAMPLE / "plugin.py")
    assert int(total.group(1)) == sum(lines(p) for p in EXAMPLE.glob("*.py"))
