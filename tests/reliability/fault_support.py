"""Fault injection for the reliability tests: a device whose kernels fail on demand.

``faulty`` is the NumPy ``cpu`` device with a countdown in front of every kernel
entry point (allocation, transfers and compute; not the metadata-only ``view`` and
``reshape``). ``arm(n)`` makes the n-th kernel call from now raise
:class:`InjectedFault` (a RuntimeError, like a device error), once; ``count()``
measures how many kernel calls a piece of code makes, so a test can fail each of
them in turn. The device is registered in-process through
:func:`plugrad.plugins.register_plugin`, as a plugin object, the way an installed
plugin is.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import subprocess
import sys
import textwrap

from plugrad.extend import KERNEL_INTERFACE_VERSION, BackendSpec, hookimpl
from plugrad.plugins import backend_for, device_types, register_plugin
from plugrad_cpu.backend import NumpyBackend

DEVICE = "faulty"

#: the Backend methods that touch data; each call is one place a fault can be injected
KERNEL_METHODS = ("empty", "from_bytes", "to_bytes", "to_list", "wrap_host", "copy", "fill", "unary", "binary",
                  "where", "reduce", "arg_reduce", "scan", "matmul", "take", "put", "nonzero", "random_stream",
                  "conv2d",
                  "sort", "linalg_solve", "linalg_slogdet", "linalg_cholesky", "linalg_qr", "linalg_eigh", "linalg_svd")

ROOT = pathlib.Path(__file__).resolve().parents[2]


class InjectedFault(RuntimeError):
    """The error an armed kernel raises (a RuntimeError, as device errors are)."""


class FaultyBackend(NumpyBackend):
    """NumPy kernels behind a countdown: see the module docstring."""

    def __init__(self):
        super().__init__()
        self.calls = 0            # kernel calls so far
        self.fail_at = None       # the call number that raises, or None
        self.injected = 0         # faults raised so far

    def _tick(self, name):
        self.calls += 1
        if self.calls == self.fail_at:
            self.fail_at = None
            self.injected += 1
            raise InjectedFault(f"injected fault in kernel call {self.calls} ({name}) on device '{DEVICE}'")


def _counted(name):
    inner = getattr(NumpyBackend, name)

    def method(self, *args):
        self._tick(name)
        return inner(self, *args)
    method.__name__ = name
    return method


for _name in KERNEL_METHODS:
    setattr(FaultyBackend, _name, _counted(_name))


class _Plugin:
    @hookimpl
    def plugrad_register_backends(self):
        return [BackendSpec(device_type=DEVICE, interface_version=KERNEL_INTERFACE_VERSION,
                            factory=lambda index: FaultyBackend(), indexed=False,
                            dtypes=lambda index: FaultyBackend.dtypes,
                            description="the cpu device with kernels that fail on demand (reliability tests)")]


def faulty_backend() -> FaultyBackend:
    """The ``faulty`` device's backend, registering the device on first use."""
    if DEVICE not in device_types():
        register_plugin(_Plugin(), name="reliability-faulty-device")
    return backend_for(DEVICE)


def arm(n: int) -> None:
    """Make the ``n``-th kernel call from now (1 = the next one) raise InjectedFault."""
    b = faulty_backend()
    b.fail_at = b.calls + n


def disarm() -> None:
    faulty_backend().fail_at = None


def count(fn) -> int:
    """The number of kernel calls ``fn()`` makes on the faulty device."""
    b = faulty_backend()
    start = b.calls
    fn()
    return b.calls - start


@contextlib.contextmanager
def armed(n: int):
    """``with armed(n):`` the n-th kernel call inside raises; disarmed on leaving."""
    arm(n)
    try:
        yield
    finally:
        disarm()


# ---- fresh interpreters ----------------------------------------------------------------------

def make_distribution(root: pathlib.Path, name: str, module_source: str, entry_name: str | None = None) -> None:
    """An importable module plus the dist-info of a distribution declaring it a plugrad plugin
    (its entry point, named ``entry_name`` or ``name``, claims the device type of that name)."""
    module = f"{name}_mod"
    (root / f"{module}.py").write_text(textwrap.dedent(module_source))
    info = root / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[plugrad]\n{entry_name or name} = {module}\n")


def run_python(code: str, path: pathlib.Path | None = None, env: dict | None = None,
               timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (``path`` first on ``sys.path``)."""
    full = dict(os.environ)
    if path is not None:
        full["PYTHONPATH"] = str(path) + os.pathsep + full.get("PYTHONPATH", "")
    full.update(env or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=full, timeout=timeout)


def steps(ci: int, thorough: int) -> int:
    """``ci`` in the default profile, ``thorough`` when HYPOTHESIS_PROFILE=thorough."""
    return thorough if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else ci


def docs_page() -> str:
    """docs/reliability.md with every run of whitespace made one space (figures may wrap)."""
    return " ".join((ROOT / "docs" / "reliability.md").read_text().split())
