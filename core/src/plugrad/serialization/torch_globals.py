"""What a PyTorch pickle may name: PyTorch's ``weights_only=True`` allowlist, as plain
data builders.

Each allowed name maps to a function of plugrad (or a value such as a dtype) that
builds data from data: the tensor rebuild functions, storage types, dtypes,
``torch.device``, ``torch.Size``, ``OrderedDict``, ``Counter``, ``set``,
``frozenset``, ``bytearray``, ``complex`` and ``_codecs.encode`` (how protocol 2
pickles ``bytes``). Everything else, ``os.system`` and ``builtins.eval`` included,
is a LoadError naming the global; nothing is imported to look a name up.
"""

from __future__ import annotations

from collections import Counter, OrderedDict

from ..device import device as _device
from ..layout import Size
from .errors import LoadError
from .tensors import DTYPES
from .unpickler import Allowed, check_key

__all__ = ["StorageType", "TENSOR_TYPE", "PARAMETER_TYPE", "data_global", "torch_global"]

#: torch dtype attribute names -> plugrad dtype names (PyTorch's aliases included)
_DTYPE_NAMES = {"float32": "float32", "float": "float32", "float64": "float64", "double": "float64",
                "float16": "float16", "half": "float16", "bfloat16": "bfloat16", "int64": "int64", "long": "int64",
                "int32": "int32", "int": "int32", "int16": "int16", "short": "int16", "int8": "int8",
                "uint8": "uint8", "bool": "bool"}
#: PyTorch dtypes plugrad does not have: a file may name them, plugrad cannot build them
_OTHER_DTYPES = {"complex32", "complex64", "complex128", "cfloat", "cdouble", "chalf", "uint16", "uint32", "uint64",
                 "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu", "qint8",
                 "quint8", "qint32", "quint4x2", "quint2x4", "bits8", "bits16", "bits1x8", "bits2x4", "bits4x2",
                 "float4_e2m1fn_x2", "int1", "int2", "int3", "int4", "int5", "int6", "int7", "uint1", "uint2",
                 "uint3", "uint4", "uint5", "uint6", "uint7", "complex"}
#: storage class names -> element dtype names
_STORAGES = {"FloatStorage": "float32", "DoubleStorage": "float64", "HalfStorage": "float16",
             "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32", "ShortStorage": "int16",
             "CharStorage": "int8", "ByteStorage": "uint8", "BoolStorage": "bool", "UntypedStorage": "uint8"}
_OTHER_STORAGES = {"ComplexFloatStorage": "complex64", "ComplexDoubleStorage": "complex128", "QInt8Storage": "qint8",
                   "QUInt8Storage": "quint8", "QInt32Storage": "qint32", "QUInt4x2Storage": "quint4x2",
                   "QUInt2x4Storage": "quint2x4", "TypedStorage": "typed storage"}
#: PyTorch's rebuild functions for tensor kinds plugrad does not have
_OTHER_REBUILDS = {"_rebuild_qtensor": "quantized tensors", "_rebuild_sparse_tensor": "sparse tensors",
                   "_rebuild_nested_tensor": "nested tensors", "_rebuild_wrapper_subclass": "tensor subclasses",
                   "_rebuild_meta_tensor_no_storage": "meta tensors",
                   "_rebuild_device_tensor_from_numpy": "tensors rebuilt through NumPy (weights_only refuses them)"}


class StorageType:
    """A storage class named by a pickle (``torch.FloatStorage``): its element dtype."""

    __slots__ = ("name", "dtype")

    def __init__(self, name: str, dtype):
        self.name, self.dtype = name, dtype

    def __repr__(self):
        return f"torch.{self.name}"


class _TypeMarker:
    """``torch.Tensor`` / ``torch.nn.Parameter`` as named by ``_rebuild_from_type_v2``."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


TENSOR_TYPE, PARAMETER_TYPE = _TypeMarker("torch.Tensor"), _TypeMarker("torch.nn.parameter.Parameter")


def _bad(why):
    raise LoadError(why)


def _plain(fn, what):
    """``fn`` with any error from bad arguments turned into a LoadError."""
    def call(*args):
        try:
            return fn(*args)
        except (TypeError, ValueError, RuntimeError, OverflowError) as exc:
            raise LoadError(f"invalid arguments to {what} ({exc})") from None
    return Allowed(what, call)


def _encode(text, encoding="latin1"):
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1", "utf-8", "ascii"):
        raise TypeError("expected a str and the latin1 encoding")
    return text.encode(encoding)


def _bytearray(*args):
    if not args:
        return bytearray()
    if len(args) == 1 and isinstance(args[0], (bytes, bytearray)):
        return bytearray(args[0])
    return bytearray(_encode(*args))


def _complex(real=0.0, imag=0.0):
    if not all(isinstance(x, (int, float)) for x in (real, imag)):
        raise TypeError("complex() takes numbers")
    return complex(real, imag)


def _collection(kind):
    def build(items=()):
        if not isinstance(items, (list, tuple, set, frozenset, dict)):
            raise TypeError(f"{kind.__name__}() takes a list, tuple, set or dict")
        for k in items:           # what the constructor will hash (for a list of pairs, the pairs)
            check_key(k)
        return kind(items)
    return build


def _size(dims=()):
    if not isinstance(dims, (tuple, list)) or not all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
        raise TypeError("torch.Size takes a tuple of ints")
    return Size(dims)


def _make_device(kind, index=None):
    if not isinstance(kind, str):
        raise TypeError("torch.device takes a string")
    return _device(kind, index)


_DATA = {
    "collections.OrderedDict": _plain(_collection(OrderedDict), "collections.OrderedDict"),
    "collections.Counter": _plain(_collection(Counter), "collections.Counter"),
    "builtins.set": _plain(_collection(set), "builtins.set"),
    "builtins.frozenset": _plain(_collection(frozenset), "builtins.frozenset"),
    "builtins.bytearray": _plain(_bytearray, "builtins.bytearray"),
    "builtins.complex": _plain(_complex, "builtins.complex"),
    "_codecs.encode": _plain(_encode, "_codecs.encode"),
}


def data_global(module: str, name: str):
    """Plain-data globals only (the containers and bytes helpers), for pickles that hold no tensors."""
    found = _DATA.get(f"{module}.{name}")
    if found is None:
        raise LoadError(f"the pickle names the global {module}.{name}, which plugrad.load never calls: it allows "
                        f"only what torch.load(weights_only=True) allows (tensors, storages, dtypes, devices, "
                        f"containers, numbers, strings)")
    return found


def torch_global(module: str, name: str, rebuilds: dict):
    """What ``GLOBAL module.name`` stands for in a PyTorch checkpoint; ``rebuilds`` maps
    ``torch._utils`` / ``torch._tensor`` function names to the reader's builders."""
    qual = f"{module}.{name}"
    if qual in _DATA:
        return _DATA[qual]
    if module == "torch" and name in _DTYPE_NAMES:
        return DTYPES[_DTYPE_NAMES[name]]
    if module in ("torch", "torch.cuda", "torch.storage") and name in _STORAGES:
        return StorageType(name, DTYPES[_STORAGES[name]])
    if qual == "torch.Size":
        return _plain(_size, qual)
    if qual == "torch.device":
        return _plain(_make_device, qual)
    if qual == "torch.Tensor":
        return TENSOR_TYPE
    if qual == "torch.nn.parameter.Parameter":
        return PARAMETER_TYPE
    if module in ("torch._utils", "torch._tensor") and name in rebuilds:
        return Allowed(qual, rebuilds[name])
    if module == "torch" and (name in _OTHER_DTYPES or name in _OTHER_STORAGES):
        what = f"torch.{_OTHER_STORAGES[name]} (torch.{name})" if name in _OTHER_STORAGES else f"torch.{name}"
        _bad(f"the checkpoint holds {what} data, which plugrad does not have (its dtypes: "
             f"{', '.join(sorted(DTYPES))})")
    if module == "torch._utils" and name in _OTHER_REBUILDS:
        _bad(f"the checkpoint holds {_OTHER_REBUILDS[name]} ({qual}), which plugrad does not have")
    return data_global(module, name)
