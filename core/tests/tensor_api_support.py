"""Shared helpers of the Tensor API tests: NumPy conversion, hypothesis strategies,
and the torch oracle (run one expression in plugrad and in PyTorch, compare).

Expected values always come from NumPy or from PyTorch, never from a pasted run.
"""

from __future__ import annotations

import contextlib
import io
import math

import numpy as np
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.extra import numpy as hnp

import plugrad

try:  # the oracle: optional, only tests import it
    import torch
except ImportError:  # pragma: no cover - exercised on machines without torch
    torch = None

#: every dtype plugrad supports, in promotion order
ALL_DTYPES = (plugrad.bool, plugrad.uint8, plugrad.int8, plugrad.int16, plugrad.int32, plugrad.int64,
              plugrad.float16, plugrad.float32, plugrad.float64)
FLOAT_DTYPES = (plugrad.float16, plugrad.float32, plugrad.float64)
INT_DTYPES = (plugrad.uint8, plugrad.int8, plugrad.int16, plugrad.int32, plugrad.int64)


def np_dtype(d) -> np.dtype:
    """The NumPy dtype of a plugrad dtype."""
    return np.dtype(d.name)


def to_np(t) -> np.ndarray:
    """A tensor's values as a NumPy array (a copy; works for every device)."""
    return np.array(t.detach().cpu().numpy())


def assert_tensor_equal(t, expected, dtype=None):
    """``t`` holds exactly ``expected`` (a NumPy array) with its shape, and ``dtype``."""
    expected = np.asarray(expected)
    assert isinstance(t, plugrad.Tensor), type(t)
    assert tuple(t.shape) == expected.shape, (tuple(t.shape), expected.shape)
    if dtype is not None:
        assert t.dtype is dtype, (t.dtype, dtype)
    np.testing.assert_array_equal(to_np(t), expected)


def assert_tensor_close(t, expected, dtype=None, rtol=1e-5, atol=1e-6):
    """Like assert_tensor_equal with a tolerance; NaNs must match."""
    expected = np.asarray(expected)
    assert isinstance(t, plugrad.Tensor), type(t)
    assert tuple(t.shape) == expected.shape, (tuple(t.shape), expected.shape)
    if dtype is not None:
        assert t.dtype is dtype, (t.dtype, dtype)
    np.testing.assert_allclose(to_np(t).astype(np.float64), expected.astype(np.float64), rtol=rtol, atol=atol,
                               equal_nan=True)


def writes_show_through(view, base, index, value) -> bool:
    """Write ``value`` at ``view[index]`` and report whether ``base`` changed."""
    before = to_np(base)
    view[index] = value
    return not np.array_equal(before, to_np(base))


# ---- hypothesis strategies -----------------------------------------------------------------

#: for ``@given`` tests that also take the ``device`` fixture: it is a plain device name,
#: so sharing it between generated examples is safe
device_settings = settings(suppress_health_check=list(settings().suppress_health_check)
                           + [HealthCheck.function_scoped_fixture])


def shapes(min_dims=0, max_dims=4, min_side=0, max_side=5):
    """Tensor shapes, size-0 and size-1 dims included."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_pairs(max_dims=4, min_side=0, max_side=4):
    """Pairs of shapes that broadcast together (size-1 and size-0 dims included)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=max_dims, min_side=min_side,
                                             max_side=max_side).map(lambda r: tuple(r.input_shapes))


def float_arrays(shape, dtype=np.float32, lo=-100.0, hi=100.0):
    """Finite float arrays whose values survive float16 (for exact comparisons)."""
    return hnp.arrays(dtype, shape, elements=st.floats(lo, hi, width=32).map(lambda v: float(np.float16(v))))


def int_arrays(shape, dtype=np.int64, lo=-50, hi=50):
    return hnp.arrays(dtype, shape, elements=st.integers(lo, hi))


def values_for(dtype_, shape):
    """Arrays of ``shape`` whose values fit every dtype (so casts never overflow)."""
    nd = np_dtype(dtype_)
    if dtype_ is plugrad.bool:
        return hnp.arrays(nd, shape, elements=st.booleans())
    if dtype_.is_floating_point:
        return hnp.arrays(nd, shape, elements=st.integers(-20, 20).map(lambda v: v / 4))
    lo = 0 if dtype_ is plugrad.uint8 else -20
    return hnp.arrays(nd, shape, elements=st.integers(lo, 40))


@st.composite
def dims_of(draw, ndim):
    """A dim argument for a reduction: None, one dim (maybe negative) or a tuple of dims."""
    if ndim == 0:
        return draw(st.sampled_from([None, 0, -1]))
    kind = draw(st.sampled_from(["none", "one", "tuple"]))
    if kind == "none":
        return None
    if kind == "one":
        return draw(st.integers(-ndim, ndim - 1))
    dims = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(d - ndim if draw(st.booleans()) else d for d in dims)


@st.composite
def basic_keys(draw, shape):
    """A basic index for ``shape``: ints (negative too), slices with steps, None, Ellipsis."""
    key = []
    dims_left = len(shape)
    use_ellipsis = draw(st.booleans()) and dims_left > 0
    ellipsis_at = draw(st.integers(0, dims_left)) if use_ellipsis else -1
    d = 0
    after_ellipsis = False  # parts after an Ellipsis must reach the last dim: no early stop
    while d < len(shape):
        if d == ellipsis_at:
            key.append(Ellipsis)
            d += draw(st.integers(0, len(shape) - d))
            ellipsis_at = -1
            after_ellipsis = True
            continue
        if draw(st.integers(0, 5)) == 0:
            key.append(None)
            continue
        n = shape[d]
        kinds = ["int", "slice", "slice"] if n else ["slice"]
        kind = draw(st.sampled_from(kinds if after_ellipsis else kinds + ["stop"]))
        if kind == "int":
            key.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            start = draw(st.none() | st.integers(-n - 2, n + 2))
            stop = draw(st.none() | st.integers(-n - 2, n + 2))
            step = draw(st.none() | st.integers(1, 3))
            key.append(slice(start, stop, step))
        else:
            break
        d += 1
    return tuple(key)


# ---- the torch oracle ----------------------------------------------------------------------

def _as_lib_input(lib, value):
    if isinstance(value, np.ndarray):
        return lib.tensor(value) if lib is plugrad else torch.tensor(value)
    return value


def _normalise(result):
    """A comparable description of an op's result: values, dtype names, shapes."""
    if isinstance(result, (plugrad.Tensor,)) or (torch is not None and isinstance(result, torch.Tensor)):
        arr = result.detach().cpu().numpy() if hasattr(result, "detach") else result
        return ("tensor", str(result.dtype), tuple(result.shape), np.array(arr))
    if isinstance(result, (tuple, list)):
        return (type(result).__name__ if type(result) in (tuple, list) else "tuple",
                [_normalise(r) for r in result])
    if isinstance(result, plugrad.dtype) or (torch is not None and isinstance(result, torch.dtype)):
        return ("dtype", repr(result))
    if isinstance(result, plugrad.device) or (torch is not None and isinstance(result, torch.device)):
        return ("device", str(result))
    return ("value", result)


def _compare(ours, theirs, rtol, atol, where="result"):
    assert ours[0] == theirs[0], f"{where}: plugrad gave {ours[0]}, torch gave {theirs[0]}"
    if ours[0] == "tensor":
        _, odt, oshape, oval = ours
        _, tdt, tshape, tval = theirs
        assert odt == tdt, f"{where}: dtype {odt} != torch's {tdt}"
        assert oshape == tshape, f"{where}: shape {oshape} != torch's {tshape}"
        if oval.dtype.kind == "f":
            np.testing.assert_allclose(oval, tval, rtol=rtol, atol=atol, equal_nan=True, err_msg=where)
        else:
            np.testing.assert_array_equal(oval, tval, err_msg=where)
    elif ours[0] in ("tuple", "list"):
        assert len(ours[1]) == len(theirs[1]), f"{where}: {len(ours[1])} items != torch's {len(theirs[1])}"
        for i, (a, b) in enumerate(zip(ours[1], theirs[1])):
            _compare(a, b, rtol, atol, f"{where}[{i}]")
    elif ours[0] == "value" and isinstance(ours[1], float) and isinstance(theirs[1], float):
        assert math.isclose(ours[1], theirs[1], rel_tol=rtol, abs_tol=atol) or (
            math.isnan(ours[1]) and math.isnan(theirs[1])), f"{where}: {ours[1]} != torch's {theirs[1]}"
    else:
        assert ours == theirs, f"{where}: {ours} != torch's {theirs}"


def run_both(fn, *inputs):
    """``fn(lib, *inputs)`` for plugrad and torch (NumPy inputs become each library's
    tensors); returns ``((value, exception), (value, exception))``."""
    out = []
    for lib in (plugrad, torch):
        args = [_as_lib_input(lib, v) for v in inputs]
        try:
            out.append((fn(lib, *args), None))
        except Exception as exc:  # the oracle compares exception classes too
            out.append((None, exc))
    return out


def check_like_torch(fn, *inputs, rtol=1e-5, atol=1e-6):
    """Assert that ``fn`` behaves the same with plugrad and with torch: same values,
    dtypes and shapes, or the same exception class.

    One leniency: where PyTorch has no kernel for a dtype (it raises
    NotImplementedError, e.g. ``bool // bool``), plugrad may compute a result."""
    (ours, our_exc), (theirs, their_exc) = run_both(fn, *inputs)
    if isinstance(their_exc, NotImplementedError):
        return ours
    if their_exc is not None or our_exc is not None:
        assert our_exc is not None, f"torch raised {their_exc!r}, plugrad returned {ours!r}"
        assert their_exc is not None, f"plugrad raised {our_exc!r}, torch returned {theirs!r}"
        assert type(our_exc).__name__ == type(their_exc).__name__ or isinstance(our_exc, type(their_exc)), \
            f"plugrad raised {type(our_exc).__name__}: {our_exc}; torch raised {type(their_exc).__name__}: {their_exc}"
        return our_exc
    _compare(_normalise(ours), _normalise(theirs), rtol, atol)
    return ours


def repr_like_torch(fn, *inputs):
    """``repr`` of ``fn``'s result under both libraries must be identical."""
    (ours, our_exc), (theirs, their_exc) = run_both(fn, *inputs)
    assert our_exc is None and their_exc is None, (our_exc, their_exc)
    assert repr(ours) == repr(theirs), f"\nplugrad:\n{ours!r}\ntorch:\n{theirs!r}"


def captured_stdout(source: str, namespace: dict) -> str:
    """Run ``source`` in ``namespace`` and return what it printed."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(source, "<snippet>", "exec"), namespace)
    return buf.getvalue()


# ---- a second device, for the behaviour that needs one ---------------------------------------

@contextlib.contextmanager
def off_host_device(name: str = "offhost"):
    """Register, for the duration of the block, an indexed device type ``name`` whose
    kernels are the cpu device's but whose memory does not count as host memory (no
    ``numpy()`` sharing, no wrapping of host arrays): what printing, ``numpy()``,
    ``to()`` and device-mixing errors see with a real accelerator. Yields its device."""
    from plugrad.extend import ALL_DTYPES as dtypes_, KERNEL_INTERFACE_VERSION, BackendSpec, hookimpl
    from plugrad.plugins import registry
    from plugrad_cpu.backend import NumpyBackend

    class OffHostBackend(NumpyBackend):
        def host_view(self, array):
            return None

        def wrap_host(self, obj, copy):
            return None

    class Plugin:
        @hookimpl
        def plugrad_register_backends(self):
            return [BackendSpec(device_type=name, interface_version=KERNEL_INTERFACE_VERSION,
                                factory=lambda index: OffHostBackend(), device_count=lambda: 1,
                                device_name=lambda index: "test device", dtypes=lambda index: dtypes_,
                                indexed=True, description="a test device without host memory")]

    plugin_name = f"test-{name}"
    record = registry.register_plugin(Plugin(), name=plugin_name)
    assert record.status == "loaded", record.error
    try:
        yield plugrad.device(name, 0)
    finally:
        registry._types.pop(name, None)
        for dev in [d for d in registry._backends if d.type == name]:
            del registry._backends[dev]
        registry._records.remove(record)
        registry._pm.unregister(name=plugin_name)
