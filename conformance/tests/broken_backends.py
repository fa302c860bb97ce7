"""Test devices for the conformance suite's own tests, derived from the NumPy cpu backend.

* ``conformance_broken`` carries five planted bugs the suite must catch:

  1. a wrong gradient: the ``cosh`` kernel is off by 1/64 relative. Forward, only
     ``cosh`` uses it; backward, only ``sinh`` (d sinh = cosh), so sinh's values
     are right and only its derivatives are wrong;
  2. a wrong broadcast: ``atan2`` reads an operand that must be broadcast as if its
     data repeated in row-major order (``np.resize``), which is right for a missing
     leading dim or a size-1 operand but wrong along a trailing size-1 dim;
  3. a dropped dtype: float16 is advertised, but every compute kernel refuses it
     (metadata-only ops such as views still work);
  4. an op that mutates its input: the ``log1p`` kernel also writes its result
     into its input;
  5. a wrong random stream: ``random_stream`` computes the normal kind as the cpu
     device does but on a generator one word ahead (``randn``, ``normal_`` and the
     kernel itself must fail the ``random_stream`` check, every other stream passes).

* ``conformance_f32`` has no float64 (the float32 gradient paths), and
  ``conformance_f32_wrongcosh`` adds bug 1 to it.
* ``conformance_declared`` has no float16, a wrong ``tan`` kernel, and declares
  through ``plugrad_conformance_expectations`` a skip, an expected failure (tan)
  and an expected failure that in fact passes (cos).

``register()`` adds them in-process; ``pytest -p broken_backends`` (with this
directory on ``sys.path``) registers them when pytest starts.
"""

from __future__ import annotations

import numpy as np
import plugrad
from plugrad.extend import (ALL_DTYPES, KERNEL_INTERFACE_VERSION, BackendSpec, Expectations, UnsupportedOperation,
                            hookimpl)
from plugrad.plugins import register_plugin
from plugrad_cpu.backend import NumpyBackend

_HALF = np.dtype("float16")


class Broken(NumpyBackend):
    """NumPy kernels with the five planted bugs (see the module docstring)."""

    dtypes = frozenset(ALL_DTYPES)

    def _refuse_half(self, op, *arrays):
        for a in arrays:
            if isinstance(a, np.ndarray) and a.dtype == _HALF:
                raise UnsupportedOperation(op, self.device, plugrad.float16, "no float16 kernels (planted bug)")

    def copy(self, src, out):
        self._refuse_half("copy", src, out)
        super().copy(src, out)

    def fill(self, out, value):
        self._refuse_half("fill", out)
        super().fill(out, value)

    def unary(self, op, x, out):
        self._refuse_half(op, x, out)
        super().unary(op, x, out)
        if op == "cosh":
            out *= 1 + 1 / 64
        if op == "log1p" and x is not out:
            np.copyto(x, out, casting="unsafe")

    def binary(self, op, a, b, out):
        self._refuse_half(op, a, b, out)
        if op == "atan2":
            a, b = (np.resize(v, out.shape) if isinstance(v, np.ndarray) and v.shape != out.shape else v
                    for v in (a, b))
        super().binary(op, a, b, out)

    def where(self, cond, a, b, out):
        self._refuse_half("where", a, b, out)
        super().where(cond, a, b, out)

    def reduce(self, op, x, axes, out):
        self._refuse_half(op, x, out)
        super().reduce(op, x, axes, out)

    def arg_reduce(self, op, x, axis, out):
        self._refuse_half(op, x)
        super().arg_reduce(op, x, axis, out)

    def scan(self, op, x, axis, out):
        self._refuse_half(op, x, out)
        super().scan(op, x, axis, out)

    def matmul(self, a, b, out):
        self._refuse_half("matmul", a, b, out)
        super().matmul(a, b, out)

    def take(self, base, index, out):
        self._refuse_half("take", base, out)
        super().take(base, index, out)

    def put(self, base, index, values, accumulate):
        self._refuse_half("put", base, values)
        super().put(base, index, values, accumulate)

    def random_stream(self, kind, state, n, dtype, args):
        if kind == "normal" and n:
            super().random_stream("integers", state, 1, plugrad.int64, (2, 0))   # one word skipped
        return super().random_stream(kind, state, n, dtype, args)


class Float32Only(NumpyBackend):
    """A healthy device without float64."""

    dtypes = frozenset(d for d in ALL_DTYPES if d.name != "float64")


class Float32OnlyWrongCosh(Float32Only):
    """Without float64, and with planted bug 1 (the cosh kernel)."""

    def unary(self, op, x, out):
        super().unary(op, x, out)
        if op == "cosh":
            out *= 1 + 1 / 64


class Declared(NumpyBackend):
    """No float16, and a wrong tan kernel that the plugin declares as a known failure."""

    dtypes = frozenset(d for d in ALL_DTYPES if d.name != "float16")

    def unary(self, op, x, out):
        super().unary(op, x, out)
        if op == "tan":
            out += 0.5


#: what conformance_declared tells the suite
DECLARED = Expectations(
    skip={"exp": "exp is not implemented on this device yet"},
    xfail={"tan": "the tan kernel is wrong (a known bug)", "cos:forward:float32": "declared, but it passes"},
)

DEVICES = {"conformance_broken": Broken, "conformance_f32": Float32Only,
           "conformance_f32_wrongcosh": Float32OnlyWrongCosh, "conformance_declared": Declared}


class _Plugin:
    """A plugrad plugin object providing the test devices."""

    @hookimpl
    def plugrad_register_backends(self):
        return [BackendSpec(device_type=name, interface_version=KERNEL_INTERFACE_VERSION,
                            factory=lambda index, cls=cls: cls(), device_count=lambda: 1,
                            device_name=lambda index, name=name: name, dtypes=lambda index, cls=cls: cls.dtypes,
                            indexed=False, description="a test device of the conformance suite")
                for name, cls in DEVICES.items()]

    @hookimpl
    def plugrad_conformance_expectations(self, device_type):
        return DECLARED if device_type == "conformance_declared" else None


_registered = []


def register():
    """Make the test devices available in this process (once)."""
    if not _registered:
        _registered.append(register_plugin(_Plugin(), name="conformance-test-devices"))


def pytest_configure(config):
    register()
