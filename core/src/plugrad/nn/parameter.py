"""``Parameter``: a tensor that a ``Module`` registers as one of its weights."""

from __future__ import annotations

from ..creation import empty
from ..tensor import Tensor, _empty_tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A leaf tensor that, assigned as a ``Module`` attribute, joins the module's
    ``parameters()``. It shares ``data``'s storage and requires grad by default."""

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): data must be a Tensor, got {type(data).__name__}")
        p = _empty_tensor(cls)
        p._a, p._shape, p._strides, p._offset = data._a, data._shape, data._strides, data._offset
        p._dtype, p._backend, p._storage, p._base = data._dtype, data._backend, data._storage, None
        p._requires_grad = False
        if requires_grad:
            p.requires_grad_(True)
        return p

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
