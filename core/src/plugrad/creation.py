"""Making tensors: from data, from host arrays, and the factory functions (on the
default device, which ``set_default_device`` changes)."""

from __future__ import annotations

import math

from . import dtypes as _dt
from .backend import UnsupportedOperation, pack
from .device import device as _device
from .layout import Size, broadcast_shapes, check_size, numel
from .optable import ops
from .plugins.registry import backend_for
from .random import draw
from .tensor import Storage, Tensor, _empty_tensor, make

__all__ = ["tensor", "as_tensor", "from_numpy", "empty", "zeros", "ones", "full", "rand", "randn",
           "randint", "randperm", "arange", "linspace", "eye", "empty_like", "zeros_like", "ones_like",
           "full_like", "rand_like", "randn_like", "randint_like", "scalar_tensor", "normal", "set_default_device",
           "get_default_device"]


# ---- the default device ---------------------------------------------------------

_default_device = _device("cpu")


def set_default_device(dev) -> None:
    """Make ``dev`` the device of new tensors created without ``device=``."""
    global _default_device
    d = _device("cpu") if dev is None else _device(dev)
    backend_for(d)  # validates that the device exists
    _default_device = d


def get_default_device() -> _device:
    """The device new tensors go to when no ``device=`` is given."""
    return _default_device


# ---- argument helpers ---------------------------------------------------------

def _backend(device):
    return backend_for(get_default_device() if device is None else device)


def _check_dtype(dtype, default):
    if dtype is None:
        return default
    if not isinstance(dtype, _dt.dtype):
        raise TypeError(f"dtype must be a plugrad dtype (like plugrad.float32), got {dtype!r}")
    return dtype


def _device_supports(backend, dtype):
    if dtype not in backend.dtypes:
        raise UnsupportedOperation("tensor creation", backend.device, dtype,
                                   f"the device does not support {dtype!r}")


def _size(args, fname) -> tuple:
    """``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` and ``f(Size)`` all mean shape (2, 3)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    shape = []
    for n in args:
        if isinstance(n, Tensor):
            n = n.item() if n.numel() == 1 and not n.is_floating_point() else n
        if isinstance(n, bool) or not hasattr(n, "__index__"):
            raise TypeError(f"{fname}(): argument 'size' must be a sequence of ints, but got "
                            f"{type(n).__name__}")
        n = n.__index__()
        if n < 0:
            raise RuntimeError(f"{fname}(): trying to create tensor with negative dimension {n}: {list(args)}")
        shape.append(n)
    return tuple(shape)


def _finish(t: Tensor, requires_grad: bool) -> Tensor:
    if requires_grad:
        t.requires_grad_(True)
    return t


def _new(shape, dtype, device):
    backend = _backend(device)
    _device_supports(backend, dtype)
    check_size(shape, dtype.itemsize)
    return make(backend, backend.empty(shape, dtype), shape, dtype)


# ---- from data ------------------------------------------------------------------

def _convert(dtype):
    """The function that turns a Python scalar of the data into a value ``struct`` packs
    for ``dtype``: floats too large become infinities, integer targets refuse values
    out of their range (PyTorch's rule for data)."""
    if dtype.is_floating_point or dtype is _dt.bool_:
        return dtype._py
    return dtype.checked_scalar


def _flatten(data, fname="tensor"):
    """Nested sequences to (flat values, shape, inferred dtype)."""
    walk = _Flattener(fname)
    walk.walk(data, 0)
    if len(walk.leaf_depths) > 1:
        raise TypeError(f"{fname}(): nested sequences have inconsistent depth (a number and a sequence at the "
                        f"same level)")
    depth = walk.leaf_depths.pop() if walk.leaf_depths else 0
    shape = tuple(walk.sizes[d] for d in range(depth))
    inferred = None
    for k in walk.kinds:
        inferred = k if inferred is None else _dt.promote_types(inferred, k)
    return walk.flat, shape, inferred or _dt.get_default_dtype()


class _Flattener:
    """The state of one walk over nested data. A class rather than nested functions:
    recursive closures reference themselves through their cells, and every call of
    ``tensor()`` would leave that cycle for the garbage collector."""

    __slots__ = ("fname", "flat", "kinds", "sizes", "leaf_depths")

    def __init__(self, fname):
        self.fname = fname
        self.flat = []
        self.kinds = set()
        self.sizes = {}          # depth -> length every sequence at that depth must have
        self.leaf_depths = set()

    def walk(self, obj, depth):
        if isinstance(obj, Tensor):  # its values, with its dtype
            self.kinds.add(obj._dtype)
            values = obj.detach().tolist()
            if obj._shape:
                self.walk_values(values, depth)
            else:
                self.add(values, depth)
        elif isinstance(obj, (list, tuple)):
            self.check_length(depth, len(obj))
            for item in obj:
                self.walk(item, depth + 1)
            if not obj:
                self.leaf_depths.add(depth + 1)
        else:
            self.add(self.python_value(obj), depth)

    def walk_values(self, values, depth):
        """The nested lists of a tensor's ``tolist()``: shapes are already consistent."""
        if isinstance(values, list):
            self.check_length(depth, len(values))
            for item in values:
                self.walk_values(item, depth + 1)
        else:
            self.add(values, depth)

    def check_length(self, depth, n):
        expected = self.sizes.setdefault(depth, n)
        if expected != n:
            raise ValueError(f"expected sequence of length {expected} at dim {depth} (got {n})")

    def python_value(self, v):
        if hasattr(v, "dtype") and hasattr(v, "item"):
            # a NumPy scalar keeps its dtype (np.float64 is also a Python float)
            self.kinds.add(_host_dtype(v))
            return v.item()
        if isinstance(v, bool):
            self.kinds.add(_dt.bool_)
        elif isinstance(v, int):
            self.kinds.add(_dt.int64)
        elif isinstance(v, float):
            self.kinds.add(_dt.get_default_dtype())
        else:
            # PyTorch's classes: TypeError for text (a string or bytes), RuntimeError for any other object
            cls = TypeError if isinstance(v, (str, bytes)) else RuntimeError
            raise cls(f"{self.fname}(): could not infer dtype of {type(v).__name__}; expected numbers, "
                      f"bools or (nested) sequences of them")
        return v

    def add(self, v, depth):
        self.leaf_depths.add(depth)
        self.flat.append(v)


def _host_dtype(obj):
    typestr = obj.__array_interface__["typestr"] if hasattr(obj, "__array_interface__") else str(obj.dtype)
    names = {"b1": "bool", "u1": "uint8", "i1": "int8", "i2": "int16", "i4": "int32", "i8": "int64",
             "f2": "float16", "f4": "float32", "f8": "float64"}
    key = typestr[1:] if typestr[:1] in "<>|=" else typestr
    if key not in names:
        raise TypeError(f"can't convert an array of type {typestr!r}. The only supported types are: float64, "
                        f"float32, float16, int64, int32, int16, int8, uint8, and bool.")
    return _dt.dtype_from_name(names[key])


def _is_host_array(obj) -> bool:
    return not isinstance(obj, Tensor) and (hasattr(obj, "__array_interface__") or hasattr(obj, "__array__"))


def _from_host(obj, share: bool) -> Tensor:
    """A CPU tensor over a NumPy-like array (sharing its memory when ``share``)."""
    cpu = backend_for(_device("cpu"))
    wrapped = cpu.wrap_host(obj, copy=not share)
    if wrapped is None:
        raise TypeError(f"cannot convert {type(obj).__name__} to a tensor")
    return storage_tensor(cpu, wrapped)


def storage_tensor(backend, wrapped) -> Tensor:
    """A tensor over a storage that ``backend`` made from foreign memory: ``wrapped`` is
    ``(storage, dtype_name, shape, strides, offset)`` from ``wrap_host`` or ``from_dlpack``."""
    base, dtype_name, shape, strides, offset = wrapped
    dtype = _dt.dtype_from_name(dtype_name)
    t = _empty_tensor(Tensor)
    t._a = backend.view(base, shape, strides, offset)
    t._shape, t._strides, t._offset, t._dtype = shape, strides, offset, dtype
    t._backend, t._storage, t._base, t._requires_grad = backend, Storage(base), None, False
    return t


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, arrays or tensors).

    Python floats give float32, ints int64, bools bool, unless ``dtype`` says otherwise."""
    dtype = _check_dtype(dtype, None)
    if isinstance(data, Tensor):
        src = data.detach()
        t = src.to(device=device if device is not None else src.device, dtype=dtype or src._dtype, copy=True)
        return _finish(t, requires_grad)
    if _is_host_array(data):
        src = _from_host(data, share=False)
        t = src.to(device=device if device is not None else get_default_device(), dtype=dtype or src._dtype)
        if t._storage is src._storage and t._backend is src._backend:
            t = t.clone()
        return _finish(t, requires_grad)
    flat, shape, inferred = _flatten(data)
    dtype = dtype or inferred
    backend = _backend(device)
    _device_supports(backend, dtype)
    conv = _convert(dtype)
    raw = pack([conv(v) for v in flat], dtype)
    return _finish(make(backend, backend.from_bytes(raw, shape, dtype), shape, dtype), requires_grad)


def scalar_tensor(value, dtype=None, device=None, requires_grad=False) -> Tensor:
    return tensor(value, dtype=dtype or _dt.get_default_dtype(), device=device, requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but without a copy when ``data`` already has the right dtype and
    device (a tensor, or a NumPy array going to the CPU)."""
    dtype = _check_dtype(dtype, None)
    if isinstance(data, Tensor):
        return data.to(device=device if device is not None else data.device, dtype=dtype or data._dtype)
    if _is_host_array(data):
        src = _from_host(data, share=True)
        return src.to(device=device if device is not None else get_default_device(), dtype=dtype or src._dtype)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array) -> Tensor:
    """A CPU tensor sharing memory with a NumPy array: writes on either side show in both."""
    if not hasattr(array, "__array_interface__") or type(array).__name__ != "ndarray":
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    return _from_host(array, share=True)


def legacy_new(cls, default_dtype, *args, device=None, dtype=None):
    """``Tensor(...)``/``FloatTensor(...)``: data gives a copy, ints give an uninitialised shape."""
    dtype = dtype or default_dtype
    if not args:
        return _new((0,), dtype, device)
    if len(args) == 1 and not isinstance(args[0], int):
        data = args[0]
        if isinstance(data, Size):
            return _new(tuple(data), dtype, device)
        return tensor(data, dtype=dtype, device=device)
    return _new(_size(args, "Tensor"), dtype, device)


# ---- factories -----------------------------------------------------------------

def empty(*size, dtype=None, device=None, requires_grad=False, out=None, **_ignored) -> Tensor:
    """An uninitialised tensor of the given shape."""
    shape = _size(size, "empty")
    return _finish(_new(shape, _check_dtype(dtype, _dt.get_default_dtype()), device), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False, **_ignored) -> Tensor:
    """A tensor filled with ``fill_value`` (its dtype follows the value: ints give int64)."""
    shape = _size((size,) if not isinstance(size, (tuple, list)) else (tuple(size),), "full")
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    dtype = _check_dtype(dtype, _dt.scalar_dtype(fill_value))
    t = _new(shape, dtype, device)
    t._backend.fill(t._a, dtype.checked_scalar(fill_value))
    return _finish(t, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False, **_ignored) -> Tensor:
    dtype = _check_dtype(dtype, _dt.get_default_dtype())
    t = _new(_size(size, "zeros"), dtype, device)
    t._backend.fill(t._a, dtype._py(0))
    return _finish(t, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, **_ignored) -> Tensor:
    dtype = _check_dtype(dtype, _dt.get_default_dtype())
    t = _new(_size(size, "ones"), dtype, device)
    t._backend.fill(t._a, dtype._py(1))
    return _finish(t, requires_grad)


def random_tensor(kind, shape, dtype, device, generator, args, requires_grad=False) -> Tensor:
    """A new contiguous tensor holding ``numel(shape)`` values of PyTorch's CPU random
    stream ``kind`` (``plugrad._torchrng.STREAM_KINDS``) from ``generator`` (the default
    one when None): PyTorch's numbers on every device (``plugrad.random.draw``)."""
    backend = _backend(device)
    _device_supports(backend, dtype)
    check_size(shape, dtype.itemsize)
    data = draw(generator, kind, numel(shape), dtype, args, backend)
    return _finish(make(backend, backend.from_bytes(data, shape, dtype), shape, dtype), requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None, **_ignored) -> Tensor:
    """Uniform samples in [0, 1)."""
    dtype = _check_dtype(dtype, _dt.get_default_dtype())
    _require_float("rand", dtype)
    return random_tensor("uniform", _size(size, "rand"), dtype, device, generator, (0.0, 1.0), requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None, **_ignored) -> Tensor:
    """Standard normal samples."""
    dtype = _check_dtype(dtype, _dt.get_default_dtype())
    _require_float("randn", dtype)
    return random_tensor("normal", _size(size, "randn"), dtype, device, generator, (0.0, 1.0, True), requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Normal samples: of ``mean`` and ``std`` (numbers) and ``size``; or, when ``mean``
    and/or ``std`` are tensors, one sample per element of their broadcast, drawn as
    PyTorch draws it (``normal_(0, std)`` then ``+ mean`` for a tensor mean and a number
    std; else ``normal_(0, 1)``, ``* std``, ``+ mean``)."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        return _normal_of_tensors(mean, std, generator)
    if size is None:
        raise TypeError("normal(): pass size= when mean and std are numbers")
    dtype = _check_dtype(dtype, _dt.get_default_dtype())
    return random_tensor("normal", _size((size,), "normal"), dtype, device, generator,
                         (float(mean), float(std), True), requires_grad)


def _normal_of_tensors(mean, std, generator) -> Tensor:
    if isinstance(std, Tensor):
        if numel(std._shape) and not bool((std >= 0).all()):
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    like = mean if isinstance(mean, Tensor) else std
    dtype = mean._dtype if isinstance(mean, Tensor) and not isinstance(std, Tensor) else \
        std._dtype if not isinstance(mean, Tensor) else _dt.promote_types(mean._dtype, std._dtype)
    if not dtype.is_floating_point:
        raise NotImplementedError(f'"normal_kernel_cpu" not implemented for \'{dtype!r}\'')
    shape = broadcast_shapes(mean._shape, std._shape) if isinstance(mean, Tensor) and isinstance(std, Tensor) \
        else like._shape
    if isinstance(mean, Tensor) and not isinstance(std, Tensor):
        out = random_tensor("normal", shape, dtype, like.device, generator, (0.0, float(std), True))
        return out + mean.detach()
    out = random_tensor("normal", shape, dtype, like.device, generator, (0.0, 1.0, True))
    return out * std.detach() + (mean.detach() if isinstance(mean, Tensor) else mean)


def _require_float(name, dtype):
    if not dtype.is_floating_point:
        raise RuntimeError(f"{name}(): expected a floating point dtype, got {dtype!r}")


def randint(low, high=None, size=None, *, dtype=None, device=None, requires_grad=False, generator=None,
            **_ignored) -> Tensor:
    """Integers uniform in [low, high) (``randint(high, size)`` means low=0)."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint(): missing the 'size' argument (a tuple of ints)")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if not low < high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    dtype = _check_dtype(dtype, _dt.int64)
    return random_tensor("integers", _size((size,), "randint"), dtype, device, generator,
                         (int(high) - int(low), int(low)), requires_grad)


def randperm(n, *, dtype=None, device=None, generator=None, requires_grad=False) -> Tensor:
    """A random permutation of ``0..n-1``: PyTorch's CPU shuffle (``randperm_cpu``)."""
    n = int(n)
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    return random_tensor("randperm", (n,), _check_dtype(dtype, _dt.int64), device, generator, (), requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False, **_ignored) -> Tensor:
    """Values from ``start`` up to (not including) ``end`` by ``step``; int64 when all
    arguments are ints, else the default float dtype."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0 or step != step:
        raise RuntimeError(f"arange(): step must be nonzero and not NaN, got {step}")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"arange(): unsupported range: {start} -> {end} (both ends must be finite)")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange(): upper bound and larger bound inconsistent with step sign "
                           f"(start={start}, end={end}, step={step})")
    is_int = all(isinstance(v, int) for v in vals)
    dtype = _check_dtype(dtype, _dt.int64 if is_int else _dt.get_default_dtype())
    if dtype is _dt.bool_:
        raise NotImplementedError("arange(): dtype bool is not supported (as in PyTorch): use a numeric dtype")
    if is_int and not -(1 << 63) <= end <= (1 << 63) - 1:
        raise RuntimeError(f"arange(): end={end} cannot be converted to type int64 without overflow")
    size = (end - start) / step
    if size >= 2.0 ** 63:
        raise RuntimeError(f"arange(): invalid size {size:g}, possible overflow: the range {start} -> {end} "
                           f"by step {step} has more than 2**63 values")
    n = max(0, math.ceil(size))
    check_size((n,), dtype.itemsize)
    values = [start + i * step for i in range(n)]
    return tensor(values, dtype=dtype, device=device, requires_grad=requires_grad) if n else \
        _finish(_new((0,), dtype, device), requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False, **_ignored) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if not isinstance(steps, int) or steps < 0:
        raise RuntimeError(f"linspace(): number of steps must be a non-negative int, got {steps!r}")
    dtype = _check_dtype(dtype, _dt.get_default_dtype())
    check_size((steps,), dtype.itemsize)
    start, end = float(start), float(end)
    if steps == 1:
        values = [start]
    else:
        step = (end - start) / (steps - 1)
        half = steps // 2
        values = [start + i * step if i < half else end - (steps - 1 - i) * step for i in range(steps)]
    if steps == 0:
        return _finish(_new((0,), dtype, device), requires_grad)
    return tensor(values, dtype=dtype, device=device, requires_grad=requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False, **_ignored) -> Tensor:
    """The identity matrix (``n`` by ``m``)."""
    m = n if m is None else m
    dtype = _check_dtype(dtype, _dt.get_default_dtype())
    t = zeros(n, m, dtype=dtype, device=device)
    k = min(n, m)
    if k:
        diag = t.as_strided((k,), (m + 1,), 0)
        diag.fill_(1)
    return _finish(t, requires_grad)


def _like(src, dtype, device):
    return (dtype or src._dtype), (device if device is not None else src.device)


def empty_like(t, *, dtype=None, device=None, requires_grad=False, **_ignored) -> Tensor:
    dtype, device = _like(t, dtype, device)
    return empty(t._shape, dtype=dtype, device=device, requires_grad=requires_grad)


def zeros_like(t, *, dtype=None, device=None, requires_grad=False, **_ignored) -> Tensor:
    dtype, device = _like(t, dtype, device)
    return zeros(t._shape, dtype=dtype, device=device, requires_grad=requires_grad)


def ones_like(t, *, dtype=None, device=None, requires_grad=False, **_ignored) -> Tensor:
    dtype, device = _like(t, dtype, device)
    return ones(t._shape, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(t, fill_value, *, dtype=None, device=None, requires_grad=False, **_ignored) -> Tensor:
    dtype, device = _like(t, dtype, device)
    return full(t._shape, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


def rand_like(t, *, dtype=None, device=None, requires_grad=False, **_ignored) -> Tensor:
    dtype, device = _like(t, dtype, device)
    return rand(t._shape, dtype=dtype, device=device, requires_grad=requires_grad)


def randn_like(t, *, dtype=None, device=None, requires_grad=False, **_ignored) -> Tensor:
    dtype, device = _like(t, dtype, device)
    return randn(t._shape, dtype=dtype, device=device, requires_grad=requires_grad)


def randint_like(t, low, high=None, *, dtype=None, device=None, requires_grad=False, **_ignored) -> Tensor:
    dtype, device = _like(t, dtype, device)
    return randint(low, high, t._shape, dtype=dtype, device=device, requires_grad=requires_grad)


# Tensor(...) (in tensor.py, below this module) calls it through the op table
ops.register("legacy_new", legacy_new)
