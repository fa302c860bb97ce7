"""History rewriting for in-place ops on tensors that autograd tracks.

An in-place op is recorded as its out-of-place twin whose result is copied into
the target. When the target is a view, the base's history becomes ``CopySlices``:
gradient for the overwritten elements flows through the op, the rest flows to the
base's previous history, as in PyTorch.
"""

from __future__ import annotations

from ..layout import numel
from ..optable import ops
from .engine import call_node
from .graph import Node, edge_of, next_sequence_number, regenerate_view_fn

__all__ = ["rebase_history", "snapshot", "CopySlices"]


def snapshot(t):
    """A copy of ``t``'s current values that stands for ``t`` in the graph: an in-place
    op computes from it, so a formula that saves its input saves the value before the
    change, while gradients still flow into ``t``'s earlier history."""
    s = t.detach().clone()
    if t._requires_grad:
        s._grad_fn, s._output_nr = edge_of(t)
        s._requires_grad = True
    return s


def rebase_history(self, result) -> None:
    """Make ``self`` (just overwritten with ``result``'s values) carry ``result``'s history."""
    node, nr = result._grad_fn, result._output_nr
    if self._base is None:
        self._grad_fn, self._output_nr, self._requires_grad = node, nr, True
        return
    base = self._base
    cs = CopySlices(base, self, node, nr)
    cs._next = edge_of(base) + node._next
    cs._in_meta = (base._shape, base._dtype.name) + node._in_meta
    cs._seq = next_sequence_number()
    base._grad_fn, base._output_nr, base._requires_grad = cs, 0, True
    self._requires_grad = True
    self._grad_fn = cs  # placeholder; replaced by a fresh view node below
    regenerate_view_fn(self)


class CopySlices(Node):
    """History of a base tensor after one of its views was modified in place."""

    __slots__ = ("view_shape", "view_strides", "view_offset", "base_layout", "fn", "fn_nr")

    def __init__(self, base, view, fn, fn_nr):
        super().__init__()
        self.view_shape, self.view_strides, self.view_offset = view._shape, view._strides, view._offset
        self.base_layout = (base._shape, base._strides, base._offset)
        self.fn, self.fn_nr = fn, fn_nr

    def backward(self, grad):
        # the base's gradient laid out exactly like the base, so that the view's
        # layout addresses the overwritten region inside it (ops through the table:
        # the in-place ops, above this module, import it)
        shape, strides, offset = self.base_layout
        storage = ops.zeros(_extent(shape, strides, offset), dtype=grad._dtype, device=grad.device)
        grad_base = ops.as_strided(storage, shape, strides, offset)
        grad_base.copy_(grad)
        region = ops.as_strided(storage, self.view_shape, self.view_strides, self.view_offset)
        grads = [None] * self.fn.n_outputs
        grads[self.fn_nr] = region.clone()
        fn_grads = call_node(self.fn, grads)
        region.zero_()
        return (grad_base, *fn_grads)


def _extent(shape, strides, offset) -> int:
    """How many storage elements a layout reaches (its last element plus one)."""
    if numel(shape) == 0:
        return offset
    return offset + sum((n - 1) * s for n, s in zip(shape, strides)) + 1
