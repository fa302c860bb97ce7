"""Devices with fewer dtypes, and a device plugin that declares its known gaps."""

import re

import pytest

from suite_support import outcomes

pytestmark = pytest.mark.slow  # whole suite runs in subprocesses


def test_device_without_float64_checks_gradients_in_float32(suite, tmp_path):
    code, results, output = suite("conformance_f32", "-k", "sinh- or cosh- or mul- or sum- or matmul-",
                                  tmp_path=tmp_path)
    assert results is not None, output
    got = outcomes(results)
    assert code == 0, [r for r in results if r["outcome"] == "failed"]
    # float64 is not advertised: skipped, with the reason
    assert got[("mul", "forward", "float64")] == "skipped"
    reason = next(r["message"] for r in results if (r["op"], r["check"], r["dtype"]) == ("mul", "forward", "float64"))
    assert "does not advertise float64" in reason
    # gradients are checked in float32 (against the float64 reference), second
    # derivatives against the cpu device in float64
    for op in ("sinh", "cosh", "mul", "sum", "matmul"):
        assert got[(op, "grad", "float32")] == "passed", op
        assert got[(op, "gradgrad", "float32")] == "passed", op


def test_wrong_gradient_is_caught_without_float64(suite, tmp_path):
    code, results, output = suite("conformance_f32_wrongcosh", "-k", "sinh-", tmp_path=tmp_path)
    assert results is not None, output
    got = outcomes(results)
    assert code == 1
    assert got[("sinh", "grad", "float32")] == "failed"
    assert got[("sinh", "gradgrad", "float32")] == "failed"
    assert got[("sinh", "forward", "float32")] == "passed"


def test_declared_expectations_are_honoured_and_reported(suite, tmp_path):
    md = tmp_path / "matrix.md"
    code, results, output = suite("conformance_declared", "-k", "exp- or tan- or cos- or sin-", "--markdown",
                                  str(md), tmp_path=tmp_path)
    assert results is not None, output
    got = outcomes(results)
    # declared skip: every case of exp, with the plugin's reason (float16, which the
    # device does not advertise, says so instead)
    exp = [r for r in results if r["op"] == "exp"]
    assert exp and all(r["outcome"] == "skipped" for r in exp)
    assert all("not implemented on this device yet" in r["message"] for r in exp if r["dtype"] != "float16")
    # declared failure: tan's value checks fail as expected; its checks that do not
    # look at values pass (non-strict)
    assert got[("tan", "forward", "float32")] == "xfailed"
    assert got[("tan", "grad", "float64")] in ("xfailed", "xpassed")
    # a declared failure that passes is reported as such
    assert got[("cos", "forward", "float32")] == "xpassed"
    # float16 is not advertised: skipped, not failed
    assert got[("sin", "forward", "float16")] == "skipped"
    # nothing undeclared fails, so the run passes
    assert code == 0, [r for r in results if r["outcome"] == "failed"]
    text = md.read_text()
    assert "## Expected failures" in text and "the tan kernel is wrong" in text
    assert "exp is not implemented on this device yet" in text
    assert re.search(r"plugrad conformance on device 'conformance_declared'", output)
