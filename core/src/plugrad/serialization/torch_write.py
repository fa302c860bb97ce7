"""Writing checkpoints that ``torch.load(f, weights_only=True)`` opens (``format="torch"``).

The file is PyTorch's zip layout: ``archive/data.pkl`` (a protocol 2 pickle that
names only functions on PyTorch's ``weights_only`` allowlist), one stored,
64-byte-aligned record ``archive/data/<key>`` per storage, and the ``byteorder``,
``version``, ``.format_version`` and ``.storage_alignment`` records PyTorch writes.
Tensors that share a storage (views, a tensor saved twice) share it in the file,
so PyTorch loads them sharing memory. Storages are written as ``cpu`` ones:
PyTorch has no plugrad devices, and a tensor from ``opencl`` loads on PyTorch's
cpu. Objects that ``weights_only`` loading would refuse (NumPy arrays,
frozensets, other classes) are refused here, at save time.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections import OrderedDict

from .. import dtypes as _dt
from ..device import device as _device
from ..layout import Size
from ..nn.parameter import Parameter
from ..tensor import Tensor
from .native import is_ndarray, is_numpy_scalar
from .pickler import Pickler
from .tensors import StorageTable

__all__ = ["encode"]

_STORAGE_CLASS = {"float32": "FloatStorage", "float64": "DoubleStorage", "float16": "HalfStorage",
                  "bfloat16": "BFloat16Storage", "int64": "LongStorage", "int32": "IntStorage",
                  "int16": "ShortStorage", "int8": "CharStorage", "uint8": "ByteStorage", "bool": "BoolStorage"}
#: device types PyTorch's torch.device accepts (a plugrad-only device cannot be named in a torch file)
_TORCH_DEVICES = {"cpu", "cuda", "mps", "xpu", "meta", "hpu", "xla", "mtia", "ipu", "privateuseone", "lazy", "vulkan",
                  "ve", "ort", "fpga", "maia", "opengl", "opencl", "mkldnn", "ideep", "hip", "msnpu"}
_ALIGN = 64


class _Data:
    """A Parameter's data, pickled as the plain tensor PyTorch writes inside ``_rebuild_parameter``."""

    __slots__ = ("t",)

    def __init__(self, t):
        self.t = t


class _Writer:
    def __init__(self):
        self.storages = StorageTable()
        self.pids, self.blobs = {}, []

    def pid(self, t: Tensor) -> tuple:
        k = self.storages.key(t)
        if k not in self.pids:
            dt = self.storages.dtype(k)
            self.blobs.append(self.storages.data(k))
            self.pids[k] = ("storage", _StorageClass(dt), str(k), "cpu", len(self.blobs[k]) // dt.itemsize)
        return self.pids[k]

    def reduce(self, obj):
        if isinstance(obj, _StorageClass):
            return "global", "torch", _STORAGE_CLASS[obj.dtype.name]
        if isinstance(obj, _PersistentStorage):
            return "persistent", obj.pid
        if isinstance(obj, Parameter):
            return "torch._utils", "_rebuild_parameter", (_Data(obj), bool(obj._requires_grad), OrderedDict())
        if isinstance(obj, (Tensor, _Data)):
            t = obj.t if isinstance(obj, _Data) else obj
            requires_grad = False if isinstance(obj, _Data) else bool(t._requires_grad)
            return "torch._utils", "_rebuild_tensor_v2", (_PersistentStorage(self.pid(t)), t._offset,
                                                          Size(t._shape), tuple(t._strides), requires_grad,
                                                          OrderedDict())
        if isinstance(obj, Size):
            return "torch", "Size", (tuple(obj),)
        if isinstance(obj, _dt.dtype):
            return "global", "torch", obj.name
        if isinstance(obj, _device):
            if obj.type not in _TORCH_DEVICES:
                raise TypeError(f"plugrad.save(format='torch'): PyTorch has no device '{obj}'")
            return "torch", "device", (obj.type,) if obj.index is None else (obj.type, obj.index)
        if isinstance(obj, complex):
            return "builtins", "complex", (obj.real, obj.imag)
        why = ("torch.load(weights_only=True) refuses NumPy arrays and scalars: convert them with "
               "plugrad.from_numpy or .item(), or use plugrad's own format (the default)") \
            if is_ndarray(obj) or is_numpy_scalar(obj) else \
            f"torch.load(weights_only=True) would refuse a {type(obj).__qualname__}"
        raise TypeError(f"plugrad.save(format='torch') stores tensors, numbers, strings, bytes, None, dtypes, "
                        f"devices and lists, tuples, sets and dicts of them; {why}")


class _StorageClass:
    __slots__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = dtype


class _PersistentStorage:
    __slots__ = ("pid",)

    def __init__(self, pid):
        self.pid = pid


def _aligned(buf: io.BytesIO, name: str) -> zipfile.ZipInfo:
    """A stored ZipInfo whose data starts at a multiple of 64 bytes (PyTorch's layout)."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    start = buf.tell() + 30 + len(name.encode("utf-8")) + 4
    pad = -start % _ALIGN
    info.extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad
    return info


def encode(obj) -> bytes:
    """The bytes of a PyTorch zip checkpoint holding ``obj``."""
    writer = _Writer()
    pkl = Pickler(writer.reduce).dump(obj)
    records = [("data.pkl", pkl), (".format_version", b"1"), (".storage_alignment", b"64"),
               ("byteorder", b"little")]
    records += [(f"data/{k}", blob) for k, blob in enumerate(writer.blobs)]
    records.append(("version", b"3\n"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, data in records:
            zf.writestr(_aligned(buf, f"archive/{name}"), data)
    return buf.getvalue()
