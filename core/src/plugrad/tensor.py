"""The Tensor: metadata kept by the core over an opaque array owned by a backend.

A tensor is a layout (shape, strides, offset, dtype) over a :class:`Storage`,
which holds the backend's base array and the version counter shared by every view
of it. Math methods are attached by the op modules in ``plugrad.ops`` (each op is
defined once, next to its backward); this module holds the attributes, the
autograd API and conversions.

This module sits below the ops and the engine: what it needs from them at run time
(``backward``, the legacy constructor, printing, the factory that unpickles) it calls
through the op table (``plugrad.optable``), never by importing them.
"""

from __future__ import annotations

import warnings

from . import dtypes as _dt
from ._missing import missing_attribute
from .autograd.graph import RemovableHandle, edge_of, retain_grad_hook
from .device import device as _device_cls
from .layout import Size, contiguous_strides, is_contiguous, normalize_dim, numel
from .optable import ops

__all__ = ["Tensor", "Storage"]


class Storage:
    """A backend allocation plus the version counter shared by all its views.

    ``Tensor.data`` makes a second Storage over the same base array: writes stay
    visible, but that alias has its own version counter, so changes made through
    ``.data`` are not seen by autograd (PyTorch's documented behaviour)."""

    __slots__ = ("base", "version", "__weakref__")

    def __init__(self, base):
        self.base = base
        self.version = 0


class Tensor:
    """A multi-dimensional array on a device, with autograd (PyTorch's ``torch.Tensor``)."""

    __slots__ = ("_a", "_shape", "_strides", "_offset", "_dtype", "_backend", "_storage", "_base",
                 "_requires_grad", "_grad", "_grad_fn", "_output_nr", "_acc", "_view_version",
                 "_retains_grad", "_hooks", "__weakref__", "__dict__")

    # Legacy constructor: ``Tensor([[1, 2]])`` / ``FloatTensor(...)`` give float32 data,
    # ``Tensor(2, 3)`` an uninitialised 2x3 tensor.
    def __new__(cls, *args, **kwargs):
        return ops.legacy_new(cls, _dt.get_default_dtype(), *args, **kwargs)

    def __init__(self, *args, **kwargs):
        pass

    # ---- structure ---------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._shape)

    def size(self, dim=None):
        """The shape, or the length of one dim."""
        if dim is None:
            return Size(self._shape)
        return self._shape[normalize_dim(dim, len(self._shape))]

    def dim(self) -> int:
        return len(self._shape)

    ndim = property(dim)

    def ndimension(self) -> int:
        return len(self._shape)

    def numel(self) -> int:
        return numel(self._shape)

    nelement = numel

    def stride(self, dim=None):
        if dim is None:
            return self._strides
        return self._strides[normalize_dim(dim, len(self._shape))]

    def storage_offset(self) -> int:
        return self._offset

    def is_contiguous(self, memory_format=None) -> bool:
        return is_contiguous(self._shape, self._strides)

    def element_size(self) -> int:
        return self._dtype.itemsize

    @property
    def dtype(self) -> _dt.dtype:
        return self._dtype

    @property
    def device(self) -> _device_cls:
        return self._backend.device

    @property
    def is_cuda(self) -> bool:
        return self._backend.device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return self._backend.device.type == "cpu"

    def is_floating_point(self) -> bool:
        return self._dtype.is_floating_point

    def is_complex(self) -> bool:
        return False

    def data_ptr(self) -> int:
        """An identifier of the storage position of the first element (not an address
        on every device; equal for tensors that start at the same element)."""
        return id(self._storage.base) * 64 + self._offset * self._dtype.itemsize

    def untyped_storage(self):
        return self._storage

    def __len__(self) -> int:
        if not self._shape:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    def __iter__(self):
        if not self._shape:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._shape[0]))

    def __hash__(self):
        return id(self)

    def _type_label(self) -> str:
        prefix = "torch." if self._backend.device.type == "cpu" else f"torch.{self._backend.device.type}."
        return prefix + _LEGACY_NAMES[self._dtype.name]

    # ---- autograd ------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if type(value) is not bool:
            raise RuntimeError("requires_grad must be a bool")
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True):
        """Start (or stop) recording operations on this leaf tensor."""
        if type(requires_grad) is not bool:
            raise TypeError(f"requires_grad_(): argument 'requires_grad' (position 1) must be bool, not "
                            f"{type(requires_grad).__name__}")
        if self._grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to use a "
                    "computed variable in a subgraph that doesn't require differentiation use "
                    "var_no_grad = var.detach().")
            return self
        if requires_grad and not self._dtype.is_floating_point:
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients "
                               f"(this tensor is {self._dtype!r})")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def _version(self) -> int:
        """How many in-place writes the storage has seen (shared by every view of it)."""
        return self._storage.version

    @property
    def is_leaf(self) -> bool:
        return self._grad_fn is None

    @property
    def grad_fn(self):
        if self._grad_fn is not None and self._base is not None and self._view_version != self._storage.version:
            return edge_of(self)[0]
        return self._grad_fn

    @property
    def output_nr(self) -> int:
        return self._output_nr

    @property
    def grad(self):
        if self._grad_fn is not None and not self._retains_grad and self._grad is None:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
                "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
                "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor.",
                UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value._shape != self._shape:
                raise RuntimeError(f"assigned grad has data of a different size: expected "
                                   f"{list(self._shape)}, got {list(value._shape)}")
            if value._dtype is not self._dtype:
                raise RuntimeError(f"assigned grad has data of a different type: expected "
                                   f"{self._dtype!r}, got {value._dtype!r}")
            if value._backend is not self._backend:
                raise RuntimeError(f"assigned grad has data located on a different device: expected "
                                   f"{self.device}, got {value.device}")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def retain_grad(self):
        """Keep ``.grad`` of this non-leaf tensor after backward (leaves keep it anyway)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is None or self._retains_grad:
            return
        self._retains_grad = True
        self._grad_fn._add_pre_hook(self._output_nr, retain_grad_hook(self))

    def register_hook(self, hook):
        """``hook(grad)`` runs when the gradient of this tensor is computed; a returned
        tensor replaces the gradient. Returns a handle with ``remove()``."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:
            return self._grad_fn._add_pre_hook(self._output_nr, hook)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return RemovableHandle(self._hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (a vector-Jacobian
        product with ``gradient`` when self is not a scalar)."""
        ops.backward(self, gradient, retain_graph, create_graph, inputs)   # by position: no keyword parsing

    def detach(self):
        """The same data, cut from the graph (shares storage and version counter)."""
        return self._alias(self._storage, requires_grad=False)

    def detach_(self):
        """Cut this tensor from the graph, in place; it becomes a leaf."""
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self):
        """An alias of the data, untracked: changes through it are invisible to autograd."""
        return self._alias(Storage(self._storage.base), requires_grad=False)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._a, self._shape, self._strides, self._offset = value._a, value._shape, value._strides, value._offset
        self._dtype, self._backend, self._storage = value._dtype, value._backend, value._storage

    def _alias(self, storage, requires_grad):
        t = _empty_tensor(type(self) if type(self) is Tensor else Tensor)
        t._a, t._shape, t._strides, t._offset = self._a, self._shape, self._strides, self._offset
        t._dtype, t._backend, t._storage = self._dtype, self._backend, storage
        t._base = None
        t._requires_grad = requires_grad
        return t

    # ---- conversion --------------------------------------------------------
    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._shape and numel(self._shape) != 1:     # a 0-d tensor (the common case) has one
            raise RuntimeError(f"a Tensor with {numel(self._shape)} elements cannot be converted to Scalar")
        return self._backend.to_list(self._a, self._dtype, 1)[0]

    def tolist(self):
        """Nested Python lists (a Python number for a 0-d tensor)."""
        flat = self._backend.to_list(self._a, self._dtype, numel(self._shape))
        if not self._shape:
            return flat[0]
        return _nest(flat, self._shape)

    def numpy(self, force: bool = False):
        """A NumPy array sharing memory with this CPU tensor."""
        if type(force) is not bool:
            raise TypeError(f"numpy(): argument 'force' must be bool, not {type(force).__name__}")
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                               "instead.")
        if self._dtype.name == "bfloat16":   # NumPy has no bfloat16: PyTorch refuses too
            raise TypeError("Got unsupported ScalarType BFloat16")
        arr = self._backend.host_view(self._a)
        if arr is None:
            if force:
                return self.cpu().numpy()
            raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to "
                            f"copy the tensor to host memory first.")
        return arr

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy(force=False) if not self._requires_grad else self.detach().numpy()
        return arr.astype(dtype) if dtype is not None else arr

    def __dlpack__(self, *, stream=-1, max_version=None, dl_device=None, copy=None):
        """A DLPack capsule of this tensor for another array library (``np.from_dlpack``,
        ``torch.from_dlpack``): shares the memory on the cpu device; see
        :mod:`plugrad.utils.dlpack` for the arguments and the other devices."""
        return ops.dlpack_export(self, stream=stream, max_version=max_version, dl_device=dl_device, copy=copy)

    def __dlpack_device__(self):
        """``(DLDeviceType, index)``: where this tensor's memory lives, in DLPack's terms."""
        return ops.dlpack_device(self)

    def __bool__(self):
        if numel(self._shape) != 1:
            raise RuntimeError(f"Boolean value of Tensor with {numel(self._shape)} elements is ambiguous")
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._dtype.is_floating_point or numel(self._shape) != 1:
            raise TypeError("only integer or bool tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self):
        return complex(self.item())

    def __format__(self, spec):
        if not self._shape:
            return format(self.item(), spec)
        return format(repr(self), spec)

    def __repr__(self):
        return ops.tensor_repr(self)

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        return (_rebuild, (self.detach().cpu().tolist(), self._dtype.name, str(self.device), self._requires_grad))

    def __deepcopy__(self, memo):
        if self._grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the "
                               "deepcopy protocol")
        new = self.detach().clone()
        new._requires_grad = self._requires_grad
        if self._grad is not None:
            new._grad = self._grad.clone()
        memo[id(self)] = new
        return new

    def __getattr__(self, name):
        """Only reached for a name Tensor lacks: a PyTorch Tensor attribute that plugrad
        does not have yet says so (``plugrad._missing``)."""
        if name.startswith("__"):
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'", name=name, obj=self)
        missing_attribute("plugrad.Tensor", name, type(self).__name__)


def _rebuild(values, dtype_name, device_name, requires_grad):
    return ops.tensor(values, dtype=_dt.dtype_from_name(dtype_name), device=device_name, requires_grad=requires_grad)


_LEGACY_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                 "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor",
                 "uint8": "ByteTensor", "bool": "BoolTensor", "bfloat16": "BFloat16Tensor"}


def _nest(flat, shape):
    if len(shape) == 1:
        return flat
    step = numel(shape[1:])
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


_new_object = object.__new__


def _empty_tensor(cls=Tensor):
    t = _new_object(cls)
    t._grad = None
    t._grad_fn = None
    t._output_nr = 0
    t._acc = None
    t._retains_grad = False
    t._hooks = None
    return t


def make(backend, array, shape: tuple, dtype) -> Tensor:
    """A tensor over a fresh contiguous array returned by ``backend``."""
    t = _new_object(Tensor)
    t._a = array
    t._shape = shape
    t._strides = contiguous_strides(shape)
    t._offset = 0
    t._dtype = dtype
    t._backend = backend
    storage = t._storage = _new_object(Storage)   # Storage(array) without an __init__ call: made for every result
    storage.base = array
    storage.version = 0
    t._base = None
    t._requires_grad = False
    t._grad = None
    t._grad_fn = None
    t._output_nr = 0
    t._acc = None
    t._retains_grad = False
    t._hooks = None
    return t


def make_view(src: Tensor, shape: tuple, strides: tuple, offset: int) -> Tensor:
    """A tensor sharing ``src``'s storage with a new layout (autograd is the caller's job)."""
    t = _new_object(Tensor)
    backend = src._backend
    storage = src._storage
    t._a = backend.view(storage.base, shape, strides, offset)
    t._shape = shape
    t._strides = strides
    t._offset = offset
    t._dtype = src._dtype
    t._backend = backend
    t._storage = storage
    t._base = src._base if src._base is not None else src
    t._view_version = storage.version
    t._requires_grad = False
    t._grad = None
    t._grad_fn = None
    t._output_nr = 0
    t._acc = None
    t._retains_grad = False
    t._hooks = None
    return t


def empty_like_layout(backend, shape: tuple, dtype) -> Tensor:
    """A new uninitialised contiguous tensor on ``backend`` (what every op that computes
    into a new tensor starts from)."""
    return make(backend, backend.empty(shape, dtype), shape, dtype)
