"""The ``random_stream`` check: a device gives PyTorch's CPU random numbers.

plugrad's generators have PyTorch's CPU semantics, and every device must give the
same numbers for the same seed and call sequence. The reference is the core's
pure-Python definition of the streams (``plugrad._torchrng``, itself tested against
PyTorch); it is independent of any device, so this check needs no cpu device.

Its rows are not ops of the database but the random entry points, named
``random:<name>``: ``random:kernel`` holds the device's ``Backend.random_stream`` (its
own override, or the default) to the reference for every stream kind, values and
generator state; the others create tensors on the device after ``manual_seed`` and
compare their bits with the reference's values.
"""

from __future__ import annotations

import numpy as np
import plugrad
from plugrad import _torchrng

from .compare import Mismatch
from .device import NP_DTYPE

__all__ = ["CHECK_NAME", "CHECK_DOC", "ROWS", "stream_cases", "run_stream_case"]

CHECK_NAME = "random_stream"
CHECK_DOC = ("after manual_seed, the device gives PyTorch's CPU random numbers (plugrad._torchrng), bit for bit, "
             "and its random_stream kernel leaves PyTorch's generator state")
SEEDS = (0, 2 ** 40 + 7)
SIZES = (1, 17, 1000)
_FLOATS, _INTS = ("float32", "float64"), ("int64",)


def _ref(kind, seed, n, dtype, args):
    """The reference values as a NumPy array of ``dtype``."""
    return np.asarray(_torchrng.stream(kind, _torchrng.MTState(seed), n, dtype, args), NP_DTYPE[dtype])


def _on(device, dtype):
    return {"device": device, "dtype": getattr(plugrad, dtype)}


def _dropout_ref(seed, n, dtype):
    keep = _ref("bernoulli", seed, n, dtype, (0.8,))
    return keep * np.asarray(1.0, NP_DTYPE[dtype]) / NP_DTYPE[dtype].type(0.8)


#: ``row: (dtypes, make(device, dtype, n), reference(seed, n, dtype))``
ROWS = {
    "rand": (_FLOATS, lambda dev, d, n: plugrad.rand(n, **_on(dev, d)),
             lambda s, n, d: _ref("uniform", s, n, d, (0.0, 1.0))),
    "randn": (_FLOATS, lambda dev, d, n: plugrad.randn(n, **_on(dev, d)),
              lambda s, n, d: _ref("normal", s, n, d, (0.0, 1.0, True))),
    "normal_": (_FLOATS, lambda dev, d, n: plugrad.empty(n, **_on(dev, d)).normal_(0.5, 2.0),
                lambda s, n, d: _ref("normal", s, n, d, (0.5, 2.0, True))),
    "uniform_": (_FLOATS, lambda dev, d, n: plugrad.empty(n, **_on(dev, d)).uniform_(-0.5, 1.5),
                 lambda s, n, d: _ref("uniform", s, n, d, (-0.5, 1.5))),
    "exponential_": (_FLOATS, lambda dev, d, n: plugrad.empty(n, **_on(dev, d)).exponential_(2.0),
                     lambda s, n, d: _ref("exponential", s, n, d, (2.0,))),
    "bernoulli_": (_FLOATS, lambda dev, d, n: plugrad.empty(n, **_on(dev, d)).bernoulli_(0.3),
                   lambda s, n, d: _ref("bernoulli", s, n, d, (0.3,))),
    "dropout": (_FLOATS, lambda dev, d, n: plugrad.nn.functional.dropout(plugrad.ones(n, **_on(dev, d)), 0.2),
                lambda s, n, d: _dropout_ref(s, n, d)),
    "randint": (_INTS, lambda dev, d, n: plugrad.randint(-7, 9, (n,), **_on(dev, d)),
                lambda s, n, d: _ref("integers", s, n, d, (16, -7))),
    "randperm": (_INTS, lambda dev, d, n: plugrad.randperm(n, **_on(dev, d)),
                 lambda s, n, d: _ref("randperm", s, n, d, ())),
    "multinomial": (_INTS, lambda dev, d, n: plugrad.multinomial(
        plugrad.tensor([1.0, 3.0, 0.5, 2.0], device=dev), n + 1, replacement=True),
        lambda s, n, d: _ref("multinomial", s, n + 1, d, ([1.0, 3.0, 0.5, 2.0], 4, "float32"))),
}

#: one argument tuple per stream kind for the ``random:kernel`` row: ``(kind, dtype, args)``
KERNEL_CASES = (
    ("uniform", "float32", (-1.0, 2.0)), ("uniform", "float64", (0.0, 1.0)), ("uniform", "float16", (0.0, 1.0)),
    ("normal", "float32", (0.0, 1.0, True)), ("normal", "float64", (1.0, 2.0, True)),
    ("normal", "float32", (0.0, 1.0, False)), ("integers", "int64", (2 ** 40, -5)), ("integers", "int32", (10, 0)),
    ("random_int", "int64", ()), ("random_int", "float32", ()), ("full64", "int64", ()),
    ("exponential", "float32", (1.5,)), ("cauchy", "float64", (0.0, 1.0)), ("log_normal", "float32", (1.0, 2.0)),
    ("geometric", "float64", (0.3,)), ("bernoulli", "float32", (0.25,)),
    ("randperm", "int64", ()), ("multinomial", "int64", ([1.0, 0.0, 2.0, 5.0], 4, "float32")),
)


def stream_cases(device) -> list:
    """``(row, dtype label, skip reason or None)`` of this check for ``device``."""
    cases = [("random:kernel", "-", None)]
    for row, (dtypes, _make, _ref_fn) in ROWS.items():
        for d in dtypes:
            skip = None if device.supports(d) else f"the device does not support {d}"
            cases.append((f"random:{row}", d, skip))
    return cases


def _same_bits(got: np.ndarray, want: np.ndarray, what: str) -> None:
    if got.dtype != want.dtype or got.shape != want.shape:
        raise Mismatch(f"{what}: got {got.dtype}{got.shape}, the reference {want.dtype}{want.shape}")
    if got.tobytes() != want.tobytes():
        bad = np.nonzero(got.reshape(-1) != want.reshape(-1))[0]
        first = int(bad[0]) if len(bad) else 0
        raise Mismatch(f"{what}: {len(bad)} of {want.size} values differ from PyTorch's stream, first at {first}: "
                       f"{got.reshape(-1)[first]!r} instead of {want.reshape(-1)[first]!r}")


def _run_kernel(device) -> None:
    backend = device.backend
    for kind, name, args in KERNEL_CASES:
        if not device.supports(name):
            continue
        dtype = getattr(plugrad, name)
        for seed in SEEDS:
            for n in SIZES:
                got_state, want_state = _torchrng.MTState(seed), _torchrng.MTState(seed)
                got = np.frombuffer(bytes(backend.random_stream(kind, got_state, n, dtype, args)), NP_DTYPE[name])
                want = np.asarray(_torchrng.stream(kind, want_state, n, name, args), NP_DTYPE[name])
                _same_bits(got, want, f"random_stream({kind!r}, n={n}, {name}, seed={seed})")
                if ([int(k) for k in got_state.key], got_state.pos, got_state.normal_double) != \
                        ([int(k) for k in want_state.key], want_state.pos, want_state.normal_double):
                    raise Mismatch(f"random_stream({kind!r}, n={n}, {name}, seed={seed}) left the generator in "
                                   f"another state than PyTorch's kernel does")


def run_stream_case(ctx, row: str, dtype: str) -> None:
    """Run one row of the check on ``ctx.device``; raises :class:`Mismatch`."""
    device = ctx.device
    if row == "random:kernel":
        _run_kernel(device)
        return
    _dtypes, make, reference = ROWS[row.split(":", 1)[1]]
    saved = plugrad.get_rng_state()
    try:
        for seed in SEEDS:
            for n in SIZES:
                plugrad.manual_seed(seed)
                t = make(device.device, dtype, n)
                got = np.asarray(t.tolist(), NP_DTYPE[t.dtype.name])
                _same_bits(got, reference(seed, n, dtype), f"{row} n={n} seed={seed} ({dtype})")
    finally:
        plugrad.set_rng_state(saved)
