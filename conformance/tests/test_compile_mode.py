"""plugrad-conformance --compile: every op through plugrad.compile, bit-equal to eager."""

import pytest
from suite_support import run_suite

import plugrad
from plugrad_conformance.checks import Ctx, compiled as compiled_check
from plugrad_conformance.checks.base import CheckFailure
from plugrad_conformance.device import DeviceUnderTest
from plugrad_conformance.runner import Case, enumerate_cases, run_case


def test_compile_mode_runs_only_the_compiled_check(tmp_path):
    code, results, out = run_suite("cpu", "--compile", "-k", "mul-compiled or exp-compiled and not matrix_exp",
                                   tmp_path=tmp_path)
    assert code == 0, out
    assert results and {r["check"] for r in results} == {"compiled"}
    assert {r["outcome"] for r in results} == {"passed"}


def test_the_compiled_check_is_absent_from_an_ordinary_run():
    dut = DeviceUnderTest("cpu")
    assert not [c for c in enumerate_cases(dut) if c.check == "compiled"]
    dut.compile_mode = True
    assert {c.check for c in enumerate_cases(dut)} == {"compiled"}


def test_a_replay_that_differs_from_eager_fails_the_case(monkeypatch):
    """A capture bug (here: a compiled function whose replay adds one ulp) is caught."""
    class Stats:
        replays = 0

    class Perturbed:
        def __init__(self, fn):
            self.fn = fn
            self.stats = Stats()
            self.calls = 0

        def __call__(self, *args):
            self.calls += 1
            out = self.fn(*args)
            if self.calls == 1:
                return out
            self.stats.replays += 1
            return [o.nextafter(o + 1) if isinstance(o, plugrad.Tensor) and o.is_floating_point() else o
                    for o in out]
    monkeypatch.setattr(compiled_check.plugrad, "compile", Perturbed)
    dut = DeviceUnderTest("cpu")
    dut.compile_mode = True
    with pytest.raises(CheckFailure, match="the replay: value 0 differs from eager"):
        run_case(Ctx(dut, "ci"), Case("exp", "compiled", "float32"))
