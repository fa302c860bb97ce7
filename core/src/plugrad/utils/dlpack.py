"""``plugrad.utils.dlpack``: tensors in and out of other array libraries through DLPack,
under PyTorch's names (``torch.utils.dlpack``, ``torch.from_dlpack``, ``Tensor.__dlpack__``).

DLPack hands a pointer to a tensor's memory, with its shape, strides and dtype, to
another library (NumPy, PyTorch, JAX, CuPy...) without a copy. The core never touches
that memory itself: a device's backend makes and reads the capsules
(``Backend.to_dlpack``/``from_dlpack``; the ``cpu`` device does it with NumPy), so the
core stays free of NumPy. What each device does:

* ``cpu``: zero-copy both ways, strided views and every dtype included (bfloat16 too).
* a device whose memory the host cannot address (``opencl``, the example ``pylist``):
  its tensors report their own device in ``__dlpack_device__`` and cannot be shared.
  A consumer that asks for host memory (``dl_device=(kDLCPU, 0)``, as
  ``np.from_dlpack(t, device="cpu")`` does) gets a host copy made through the ``cpu``
  device; any other request raises BufferError saying so.

As in PyTorch, a tensor that requires grad is refused (BufferError: a capsule
carries no autograd history), and ``from_dlpack`` returns a tensor that does not
require grad.
"""

from __future__ import annotations

import enum

from ..creation import storage_tensor
from ..device import device as _device
from ..optable import ops
from ..plugins.registry import backend_for
from ..tensor import Tensor

__all__ = ["DLDeviceType", "from_dlpack", "to_dlpack"]


class DLDeviceType(enum.IntEnum):
    """DLPack's device type codes (``dlpack.h``), as ``torch.utils.dlpack.DLDeviceType``."""

    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14
    kDLWebGPU = 15
    kDLHexagon = 16
    kDLMAIA = 17


#: device types whose memory the host reads directly: the ``cpu`` device imports them
_HOST_MEMORY = frozenset({DLDeviceType.kDLCPU, DLDeviceType.kDLCUDAHost, DLDeviceType.kDLROCMHost})
_HOST = (DLDeviceType.kDLCPU, 0)


def dlpack_device(tensor: Tensor) -> tuple:
    """``Tensor.__dlpack_device__``: ``(DLDeviceType, index)`` of the tensor's memory."""
    return DLDeviceType(tensor._backend.dlpack_device_type), tensor.device.index or 0


def _check_exportable(tensor: Tensor) -> None:
    if tensor.requires_grad:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")


def export(tensor: Tensor, *, stream=-1, max_version=None, dl_device=None, copy=None):
    """``Tensor.__dlpack__``: a DLPack capsule of ``tensor`` (see the module's text for
    what each device does). ``max_version`` of 1.0 or more gives a versioned capsule,
    ``dl_device`` asks for the memory on that device, ``copy`` True always copies and
    False never does; ``stream`` must be None or -1, since plugrad's devices have no
    streams to synchronise."""
    _check_exportable(tensor)
    if stream is not None and type(stream) is not int:
        raise TypeError("stream must be ``int`` or ``none``")
    if stream is not None and stream != -1:
        raise AssertionError(f"stream should be None on {tensor.device.type}.")
    if copy is not None and type(copy) is not bool:
        raise TypeError(f"__dlpack__(): argument 'copy' must be bool or None, not {type(copy).__name__}")
    own = dlpack_device(tensor)
    if dl_device is not None and tuple(dl_device) != own:
        return _export_to_host(tensor, tuple(dl_device), max_version, copy)
    capsule = tensor._backend.to_dlpack(tensor._a, max_version, copy)
    if capsule is None:
        raise BufferError(f"a tensor on the '{tensor.device}' device cannot share its memory through DLPack: "
                          f"ask for a host copy with dl_device=(kDLCPU, 0) (np.from_dlpack(t, device='cpu')), "
                          f"or call .cpu() first")
    return capsule


def _export_to_host(tensor: Tensor, dl_device: tuple, max_version, copy):
    """A capsule of a host copy of ``tensor``, for a consumer that asked for host memory."""
    if dl_device != _HOST:
        raise BufferError(f"can't export a tensor on the '{tensor.device}' device to DLPack device {dl_device}: "
                          f"plugrad exports to the tensor's own device {dlpack_device(tensor)} or to the host "
                          f"{_HOST}")
    if copy is False:
        raise BufferError(f"can't export a tensor on the '{tensor.device}' device to host memory without a copy "
                          f"(copy=False): its memory is not host memory")
    return export(tensor.cpu(), max_version=max_version, copy=copy)


def to_dlpack(tensor: Tensor):
    """A legacy (unversioned, ``"dltensor"``) DLPack capsule sharing ``tensor``'s memory,
    as ``torch.utils.dlpack.to_dlpack``. Consume it once, with ``from_dlpack``."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dlpack(): argument 'tensor' must be Tensor, not {type(tensor).__name__}")
    return export(tensor.detach())   # PyTorch's to_dlpack exports a tensor that requires grad too


class _Capsule:
    """A bare capsule (from ``to_dlpack``) seen as a DLPack producer on the host."""

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, **_kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return _HOST


def from_dlpack(ext_tensor, *, device=None, copy=None) -> Tensor:
    """A tensor over the memory of ``ext_tensor`` (an object with ``__dlpack__``, such
    as a NumPy array or a PyTorch tensor, or a capsule from ``to_dlpack``), as
    ``torch.from_dlpack``: writes through either side show in the other. ``device``
    moves the result there (a copy when it is another device); ``copy`` True always
    copies, False refuses to (ValueError or BufferError when sharing is impossible)."""
    if copy is not None and type(copy) is not bool:
        raise TypeError(f"from_dlpack(): argument 'copy' must be bool or None, not {type(copy).__name__}")
    target = None if device is None else _device(device)
    if isinstance(ext_tensor, Tensor):
        _check_exportable(ext_tensor)
        result = ext_tensor.detach()
    elif hasattr(ext_tensor, "__dlpack__"):
        result = _import(ext_tensor, ext_tensor.__dlpack_device__(), copy)
    else:
        if device is not None or copy is not None:
            raise AssertionError("device and copy kwargs not supported when ext_tensor is already a DLPack capsule.")
        result = _import(_Capsule(ext_tensor), _HOST, None)
    if target is not None and target != result.device:
        if copy is False:
            raise ValueError(f"cannot move DLPack tensor from device {result.device} to {target} without copying. "
                             f"Set copy=None or copy=True.")
        return result.to(target)
    if copy and isinstance(ext_tensor, Tensor):
        return result.clone()
    return result


def _import(producer, source: tuple, copy) -> Tensor:
    """A ``cpu`` tensor over ``producer``'s memory, or over a host copy of it when the
    producer's device is not host memory (refused when ``copy`` is False)."""
    to_host = source[0] not in _HOST_MEMORY
    if to_host and copy is False:
        raise BufferError(f"from_dlpack: memory on DLPack device {tuple(source)} is not host memory, and copy=False "
                          f"forbids the host copy plugrad would need")
    cpu = backend_for(_device("cpu"))
    wrapped = cpu.from_dlpack(producer, copy, to_host)
    if wrapped is None:
        raise BufferError("from_dlpack: the cpu device cannot import DLPack capsules (its backend has no "
                          "from_dlpack kernel)")
    return storage_tensor(cpu, wrapped)


ops.register("dlpack_export", export)
ops.register("dlpack_device", dlpack_device)
