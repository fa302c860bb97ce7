"""The plugrad-conformance command: matrix on the console, files, exit status."""

import json

from suite_support import run_suite


def test_clean_run_writes_every_format_and_exits_0(tmp_path):
    md, page = tmp_path / "m.md", tmp_path / "m.html"
    code, results, out = run_suite("cpu", "-k", "mul-forward or mul-grad-", "--markdown", str(md), "--html",
                                   str(page), tmp_path=tmp_path)
    assert code == 0, out
    assert {r["outcome"] for r in results} == {"passed"}
    assert "plugrad conformance on device 'cpu'" in out and "-- elementwise" in out
    assert "| `mul` |" in md.read_text()
    assert "<table>" in page.read_text()
    assert json.loads((tmp_path / "cpu.json").read_text())["counts"]["passed"] == len(results)


def test_a_failure_exits_1_and_is_listed_with_its_reproduction(tmp_path):
    code, results, out = run_suite("conformance_broken", "-k", "sinh-grad- and not asinh", tmp_path=tmp_path)
    assert code == 1
    assert [r["outcome"] for r in results] == ["failed"]
    assert "FAILURES (1)" in out and "reproduce: python -c" in out


def test_an_unknown_device_is_an_error_that_names_it(tmp_path):
    code, results, out = run_suite("nosuchdevice", tmp_path=tmp_path)
    assert code not in (0, 1) and results is None
    assert "nosuchdevice" in out
