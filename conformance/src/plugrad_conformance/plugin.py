"""The pytest plugin (entry point ``pytest11``): ``pytest --pyargs plugrad_conformance
--device NAME``.

Loaded by every pytest run in an environment where the suite is installed, so it
stays inert unless the suite's own test module is collected: importing it loads
neither plugrad nor hypothesis, its options only add to the parser, and its hooks
act only on the items of ``plugrad_conformance/test_conformance.py``.
"""

from __future__ import annotations

import os
import time

import pytest

__all__ = ["DEVICE_ENV", "ResultCollector"]

#: environment variable naming the device when --device is not given (default: cpu)
DEVICE_ENV = "PLUGRAD_CONFORMANCE_DEVICE"
_FIXTURE = "conformance_case"


def pytest_addoption(parser):
    group = parser.getgroup("plugrad-conformance", "plugrad conformance suite")
    group.addoption("--device", action="store", default=None, metavar="NAME",
                    help=f"plugrad device the conformance suite checks (default: ${DEVICE_ENV} or cpu)")
    group.addoption("--conformance-profile", action="store", default=None, choices=("ci", "thorough"),
                    help="hypothesis profile of the conformance suite (default: ci)")
    group.addoption("--conformance-markdown", action="store", default=None, metavar="FILE",
                    help="write the conformance matrix as Markdown")
    group.addoption("--conformance-html", action="store", default=None, metavar="FILE",
                    help="write the conformance matrix as an HTML page")
    group.addoption("--conformance-json", action="store", default=None, metavar="FILE",
                    help="write every conformance result as JSON")
    group.addoption("--conformance-compile", action="store_true", default=False,
                    help="run every op through plugrad.compile: values and gradients must equal eager's bit for bit")


def pytest_configure(config):
    config.addinivalue_line("markers", "conformance: a case of the plugrad conformance suite")
    config.pluginmanager.register(ResultCollector(config), "plugrad-conformance-results")


def device_name(config) -> str:
    return config.getoption("--device") or os.environ.get(DEVICE_ENV) or "cpu"


def profile_name(config) -> str:
    return config.getoption("--conformance-profile") or os.environ.get("PLUGRAD_CONFORMANCE_PROFILE") or "ci"


def _device(config):
    dut = getattr(config, "_conformance_device", None)
    if dut is None:
        from .device import DeviceUnderTest
        dut = DeviceUnderTest(device_name(config))
        dut.compile_mode = bool(config.getoption("--conformance-compile"))
        config._conformance_device = dut
    return dut


def pytest_generate_tests(metafunc):
    if _FIXTURE not in metafunc.fixturenames:
        return
    from .runner import enumerate_cases
    params = []
    for case in enumerate_cases(_device(metafunc.config)):
        marks = [pytest.mark.conformance]
        if case.skip:
            marks.append(pytest.mark.skip(reason=case.skip))
        elif case.xfail:
            marks.append(pytest.mark.xfail(reason=f"declared by the device plugin: {case.xfail}", strict=False))
        params.append(pytest.param(case, id=case.id, marks=marks))
    metafunc.parametrize(_FIXTURE, params)


@pytest.fixture(scope="session")
def conformance_ctx(request):
    """The device under test and the profile, shared by every case."""
    from .checks import Ctx
    return Ctx(_device(request.config), profile_name(request.config))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    callspec = getattr(item, "callspec", None)
    if callspec is None or _FIXTURE not in callspec.params:
        return
    report = outcome.get_result()
    report.conformance_case = callspec.params[_FIXTURE]
    if call.excinfo is not None:
        exc = call.excinfo.value
        notes = [n for n in getattr(exc, "__notes__", ()) if n.strip()]
        report.conformance_message = "\n".join([str(exc)] + notes)


class ResultCollector:
    """Turns the reports of conformance cases into :class:`~.report.Result` rows and
    prints (and writes) the matrix at the end of the session."""

    def __init__(self, config):
        self.config = config
        self.results = []
        self.started = None

    def pytest_sessionstart(self, session):
        self.started = time.perf_counter()

    def pytest_runtest_logreport(self, report):
        case = getattr(report, "conformance_case", None)
        if case is None:
            return
        outcome = None
        message = getattr(report, "conformance_message", "")
        if report.when == "setup" and report.skipped:
            outcome, message = "skipped", _skip_reason(report)
        elif report.when == "call":
            if hasattr(report, "wasxfail"):
                outcome = "xfailed" if report.skipped else "xpassed"
                message = report.wasxfail if outcome == "xpassed" else (message or report.wasxfail)
            elif report.skipped:
                outcome, message = "skipped", _skip_reason(report)
            else:
                outcome = report.outcome
        elif report.failed:
            outcome = "failed"
            message = message or str(report.longrepr).splitlines()[-1]
        if outcome is not None:
            from .opdb import OPS
            from .report import Result
            family = OPS[case.op].family.rsplit(".", 1)[-1] if case.op in OPS else ""
            self.results.append(Result(case.op, family, case.check, case.dtype, outcome, message))

    def matrix(self):
        from .report import Matrix
        seconds = time.perf_counter() - self.started if self.started is not None else None
        return Matrix(self.results, device_name(self.config), profile_name(self.config), seconds)

    def pytest_terminal_summary(self, terminalreporter):
        if not self.results:
            return
        m = self.matrix()
        terminalreporter.write_sep("=", "plugrad conformance matrix")
        terminalreporter.write_line(m.text())
        for option, render in (("--conformance-markdown", m.markdown), ("--conformance-html", m.html),
                               ("--conformance-json", m.json)):
            path = self.config.getoption(option)
            if path:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(render())
                terminalreporter.write_line(f"wrote {path}")


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        reason = longrepr[2]
        return reason[len("Skipped: "):] if reason.startswith("Skipped: ") else reason
    return str(longrepr)
