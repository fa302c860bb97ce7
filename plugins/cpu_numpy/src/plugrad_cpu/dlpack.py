"""DLPack for the ``cpu`` device: NumPy's own exchange, plus bfloat16, which NumPy lacks.

NumPy makes and reads DLPack capsules for bool, integer and floating dtypes, but
refuses ml_dtypes' bfloat16 (to DLPack it is an opaque "void" type), while PyTorch
exchanges bfloat16 as DLPack's ``kDLBfloat``. A bfloat16 array therefore travels as
its uint16 words, and the dtype code in the capsule is relabelled: ``kDLUInt`` to
``kDLBfloat`` on export, back on import. The bits never change, and no byte is copied.
"""

from __future__ import annotations

import ctypes

import ml_dtypes
import numpy as np

__all__ = ["export", "import_array"]

_BF16 = np.dtype(ml_dtypes.bfloat16)
_KDL_UINT, _KDL_BFLOAT = 1, 4


class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", _DLDevice), ("ndim", ctypes.c_int32),
                ("dtype", _DLDataType), ("shape", ctypes.c_void_p), ("strides", ctypes.c_void_p),
                ("byte_offset", ctypes.c_uint64)]


class _DLManagedTensorVersioned(ctypes.Structure):
    _fields_ = [("major", ctypes.c_uint32), ("minor", ctypes.c_uint32), ("manager_ctx", ctypes.c_void_p),
                ("deleter", ctypes.c_void_p), ("flags", ctypes.c_uint64), ("dl_tensor", _DLTensor)]


#: where the DLTensor sits in the struct a capsule of each name points to: first in a
#: legacy DLManagedTensor, after the version, context, deleter and flags in a versioned one
_TENSOR_OFFSET = {b"dltensor": 0, b"dltensor_versioned": _DLManagedTensorVersioned.dl_tensor.offset}

_capsule_name = ctypes.pythonapi.PyCapsule_GetName
_capsule_name.restype, _capsule_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype, _capsule_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]


def _relabel(capsule, old_code: int, new_code: int) -> bool:
    """Change the 16-bit dtype code ``old_code`` of an unconsumed capsule to ``new_code``;
    True when it did. A capsule of another name (already consumed) is left alone."""
    name = _capsule_name(capsule)
    if name not in _TENSOR_OFFSET:
        return False
    tensor = _DLTensor.from_address(_capsule_pointer(capsule, name) + _TENSOR_OFFSET[name])
    if tensor.dtype.code != old_code or tensor.dtype.bits != 16 or tensor.dtype.lanes != 1:
        return False
    tensor.dtype.code = new_code
    return True


def export(array, max_version, copy):
    """A capsule over ``array`` (NumPy's ``__dlpack__``), bfloat16 as ``kDLBfloat``."""
    if array.dtype != _BF16:
        return array.__dlpack__(max_version=max_version, copy=copy)
    capsule = array.view(np.uint16).__dlpack__(max_version=max_version, copy=copy)
    _relabel(capsule, _KDL_UINT, _KDL_BFLOAT)
    return capsule


class _Relay:
    """A DLPack producer that passes on ``producer``'s capsules, with ``kDLBfloat``
    relabelled as 16-bit ``kDLUInt`` (which NumPy reads), noting what it did, and
    refusing a consumed capsule as PyTorch does."""

    def __init__(self, producer):
        self.producer = producer
        self.relabelled = False
        self.legacy = False

    def __dlpack_device__(self):
        return self.producer.__dlpack_device__()

    def __dlpack__(self, **kwargs):
        capsule = self.producer.__dlpack__(**kwargs)
        name = _capsule_name(capsule)
        if name not in _TENSOR_OFFSET:
            raise RuntimeError("from_dlpack received an invalid capsule. Note that DLTensor capsules can be "
                               "consumed only once, so you might have already constructed a tensor from it once.")
        self.legacy = name == b"dltensor"
        self.relabelled = _relabel(capsule, _KDL_BFLOAT, _KDL_UINT)
        return capsule


class _WritableView:
    """The memory of a NumPy array seen as writeable, keeping the array alive
    (``np.asarray`` of it makes the array)."""

    def __init__(self, array):
        interface = dict(array.__array_interface__)
        interface["data"] = (interface["data"][0], False)
        self.__array_interface__ = interface
        self.array = array


def import_array(producer, copy, to_host: bool):
    """A NumPy array over the memory of a DLPack ``producer`` (``np.from_dlpack``), or a
    host copy when ``to_host`` (the producer copies to ``dl_device=(kDLCPU, 0)``).

    NumPy marks the arrays of legacy (unversioned) capsules read-only, since those carry
    no read-only flag; PyTorch, like DLPack before version 1.0, treats them as
    writeable, and so does plugrad: ``to_dlpack`` capsules share memory both ways."""
    relay = _Relay(producer)
    array = np.from_dlpack(relay, copy=copy, device="cpu" if to_host else None)
    if relay.legacy and not array.flags.writeable:
        array = np.asarray(_WritableView(array))
    return array.view(_BF16) if relay.relabelled else array
