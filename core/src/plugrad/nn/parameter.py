"""``Parameter``: a tensor that a ``Module`` registers as one of its weights; ``Buffer``:
one it registers as state; and the uninitialized forms the lazy modules start with."""

from __future__ import annotations

from ..creation import empty
from ..tensor import Tensor, _empty_tensor

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer", "UninitializedTensorMixin",
           "is_lazy"]


class Parameter(Tensor):
    """A leaf tensor that, assigned as a ``Module`` attribute, joins the module's
    ``parameters()``. It shares ``data``'s storage and requires grad by default."""

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): data must be a Tensor, got {type(data).__name__}")
        return _make_subclass(cls, data, requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        new = type(self)(self.detach().clone(), self._requires_grad)
        if self._grad is not None:
            new._grad = self._grad.clone()
        memo[id(self)] = new
        return new

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.detach(), self._requires_grad))


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


class _BufferMeta(type):
    """``isinstance(t, Buffer)`` holds for any tensor marked as a buffer: ``Buffer(...)``
    returns a plain Tensor carrying the mark, as in PyTorch."""

    def __instancecheck__(cls, instance):
        if cls is Buffer and isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False):
            return True
        return super().__instancecheck__(instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """A tensor that, assigned as a ``Module`` attribute, joins the module's
    ``buffers()`` (saved in ``state_dict`` unless ``persistent=False``), where a plain
    Tensor stays a plain attribute."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = empty(0)
        t = data.detach().requires_grad_(data.requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t


class UninitializedTensorMixin:
    """A parameter or buffer whose shape is not known yet (a lazy module's, until its
    first forward): it holds no values, keeps a dtype and device, and ``materialize``
    turns it into the regular kind with a given shape."""

    cls_to_become: type = Tensor

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Become a ``cls_to_become`` of ``shape`` (uninitialized values) in place."""
        data = empty(tuple(shape), device=device if device is not None else self.device,
                     dtype=dtype if dtype is not None else self._dtype)
        self.data = data
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. This error usually happens "
                           "in `load_state_dict` when trying to load an uninitialized parameter into an initialized "
                           "one. Call `forward` to initialize the parameters before accessing their attributes.")

    def share_memory_(self):
        raise RuntimeError("Can't share memory on an uninitialized parameter or buffer. Call `forward` to initialize "
                           "the parameters before calling `module.share_memory()`.")

    def __repr__(self):
        return f"<{type(self).__name__}>"

    def __reduce_ex__(self, protocol):
        return (type(self), (self._requires_grad,))

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self._requires_grad, self.device, self._dtype)
        return memo[id(self)]


def _make_subclass(cls, data, requires_grad):
    """A leaf ``cls`` sharing ``data``'s storage."""
    t = _empty_tensor(cls)
    t._a, t._shape, t._strides, t._offset = data._a, data._shape, data._strides, data._offset
    t._dtype, t._backend, t._storage, t._base = data._dtype, data._backend, data._storage, None
    t._requires_grad = False
    if requires_grad:
        t.requires_grad_(True)
    return t


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A ``Parameter`` whose shape is still unknown (see ``UninitializedTensorMixin``)."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        return _make_subclass(cls, empty(0, device=device, dtype=dtype), requires_grad)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is still unknown (see ``UninitializedTensorMixin``)."""

    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        t = _make_subclass(cls, empty(0, device=device, dtype=dtype), requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self._requires_grad, self.device, self._dtype, self.persistent)
        return memo[id(self)]


def is_lazy(t) -> bool:
    """Whether ``t`` is an uninitialized parameter or buffer."""
    return isinstance(t, UninitializedTensorMixin)
