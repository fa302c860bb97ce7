"""What a replay makes for its caller: tensors, storages, and stand-ins for freed graphs.

These functions are constants of the generated replay functions; they build the few
objects the caller sees, without the checks of the public constructors (the recording
already made the same objects eagerly).
"""

from __future__ import annotations

from ..autograd.graph import _FREED, Node, next_sequence_number
from ..tensor import Storage

__all__ = ["new_tensor", "new_storage", "freed_node", "graph_freed"]


def new_tensor(cls, a, shape, strides, offset, dtype, backend, storage, base, requires_grad, grad_fn, output_nr,
                view_version):
    """A tensor with exactly the fields the recorded one had (``Tensor`` without ``__init__``)."""
    t = object.__new__(cls)
    t._a, t._shape, t._strides, t._offset, t._dtype, t._backend = a, shape, strides, offset, dtype, backend
    t._storage, t._base, t._requires_grad = storage, base, requires_grad
    t._grad = None
    t._grad_fn = grad_fn
    t._output_nr = output_nr
    t._acc = None
    t._retains_grad = False
    t._hooks = None
    if base is not None:
        t._view_version = view_version
    return t


def new_storage(base, version):
    """A storage over ``base`` at ``version`` (the recorded storage's version at the end)."""
    s = object.__new__(Storage)
    s.base = base
    s.version = version
    return s


_FREED_CLASSES: dict = {}


def freed_node(cls):
    """A node standing for a graph (whose root node was a ``cls``) that the backward the
    function ran already freed: same class name, and a backward through it raises
    eager's "second time" error."""
    sub = _FREED_CLASSES.get(cls)
    if sub is None:
        def backward(self, *grads):
            return self.saved_tensors
        sub = _FREED_CLASSES[cls] = type(cls.__name__, (Node,), {"__slots__": (), "backward": backward,
                                                                 "__module__": cls.__module__})
    n = sub.__new__(sub)
    Node.__init__(n)
    n._saved = _FREED
    n._versions = []
    n.next_functions = ()
    n._in_meta = ()
    n._seq = next_sequence_number()
    return n


def graph_freed(node) -> bool:
    """True when a backward without ``retain_graph`` went through ``node``'s graph."""
    seen, stack = set(), [node]
    while stack:
        n = stack.pop()
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        if getattr(n, "_saved", None) is _FREED:
            return True
        stack.extend(f for f, _ in getattr(n, "next_functions", ()))
    return False
