"""Graph nodes: what an op leaves behind so that backward can run later.

A node (``MulBackward0``, ``AccumulateGrad``...) knows the edges to the nodes of
its inputs (``next_functions``), the shapes and dtypes its input gradients must
have, and the tensors it saved. The engine un-broadcasts and casts every gradient
to the input's shape and dtype, so backward formulas never do it themselves.

What a node keeps per input is laid out for Python's cycle collector, whose full
collections scan every object it tracks, so that a live graph costs it one object per
op: the edges of the first two inputs sit in the node's own slots (``_n0``, ``_o0``:
node and output_nr of input 0; ``_n1``, ``_o1``: input 1), those of further inputs in
one flat tuple (``_nx``, None for up to two inputs); the input shapes and dtype names
in a flat tuple (``_in_meta``), which holds no object the collector tracks and so is
dropped from its lists at its first scan. ``_next`` reads (and sets) all the edges
as one flat tuple (node, output_nr, node, output_nr...), and ``next_functions``
builds PyTorch's pairs, both on demand. One or two saved tensors also sit in slots
(see ``save``). What still costs the collector an object per saved tensor is the
tensor itself and its storage record, when nothing else holds them.

Lifetime rules, so that dropping the output frees everything:

* a tensor holds its ``grad_fn`` strongly; a node holds only its input nodes;
* a node that needs its own output saves a detached alias (no ``grad_fn``), and
  rebuilds the link to itself when a double backward needs it;
* a leaf holds its ``AccumulateGrad`` weakly; the accumulator holds the leaf.
"""

from __future__ import annotations

import itertools
import weakref

from ..optable import ops
from . import anomaly_mode
from .grad_mode import STATE

__all__ = ["Node", "AccumulateGrad", "RemovableHandle", "record", "edge_of", "regenerate_view_fn", "retain_grad_hook",
           "next_sequence_number"]

_sequence = itertools.count()
next_sequence_number = _sequence.__next__
_FREED = object()
_NO_EDGE = (None, 0)


class Node:
    """Base of every backward node. Subclasses define ``backward(self, *grads)``
    returning one gradient (or None) per input, in the order the inputs were recorded.

    A node gets its sequence number (``_seq``) when its edges are final (in ``record``),
    so every edge points to an older node: the engine relies on it."""

    __slots__ = ("_arity", "_n0", "_o0", "_n1", "_o1", "_nx", "_in_meta", "_saved", "_s0", "_v0", "_s1", "_v1",
                 "_versions", "_seq", "_pre_hooks", "_hooks", "_trace", "__weakref__")

    n_outputs = 1

    def __init__(self):
        self._saved = None
        self._pre_hooks = None
        self._hooks = None
        self._trace = anomaly_mode.creation_trace() if anomaly_mode.ENABLED else None

    # ---- edges ----------------------------------------------------------------
    @property
    def _next(self) -> tuple:
        """The edges, flat: ``(node, output_nr, node, output_nr...)``, one pair per input."""
        k = self._arity
        if k == 1:
            return (self._n0, self._o0)
        if k == 2:
            return (self._n0, self._o0, self._n1, self._o1)
        if k == 0:
            return ()
        return (self._n0, self._o0, self._n1, self._o1) + self._nx

    @_next.setter
    def _next(self, edges):
        k = len(edges) // 2
        self._arity = k
        self._n0, self._o0 = (edges[0], edges[1]) if k > 0 else _NO_EDGE
        self._n1, self._o1 = (edges[2], edges[3]) if k > 1 else _NO_EDGE
        self._nx = tuple(edges[4:]) if k > 2 else None

    @property
    def next_functions(self) -> tuple:
        """``((node, output_nr), ...)``, one edge per input (``(None, 0)`` when the input
        takes no gradient)."""
        e = self._next
        n = len(e)
        if n == 2:      # most nodes have one or two inputs
            return ((e[0], e[1]),)
        if n == 4:
            return ((e[0], e[1]), (e[2], e[3]))
        return tuple(zip(e[::2], e[1::2]))

    @next_functions.setter
    def next_functions(self, edges):
        self._next = tuple(x for edge in edges for x in edge)

    # ---- saving tensors ---------------------------------------------------
    # ``_saved``: None (nothing saved), _FREED (freed by a backward), 1 or 2 (that many
    # tensors, in the slots ``_s0``/``_s1``, their versions in ``_v0``/``_v1``: no
    # container for the collector to track), or a tuple of more (versions in ``_versions``)
    def save(self, *tensors):
        """Keep tensors (or None) for backward, remembering their versions so that a
        later in-place change is detected instead of giving a wrong gradient."""
        n = len(tensors)
        if n == 1 or n == 2:
            t = self._s0 = tensors[0]
            self._v0 = t._storage.version if t is not None else 0
            if n == 2:
                t = self._s1 = tensors[1]
                self._v1 = t._storage.version if t is not None else 0
            self._saved = n
            return
        self._saved = tensors
        # a tuple of ints: untracked by the cycle collector (a list would stay tracked)
        self._versions = tuple([t._storage.version if t is not None else 0 for t in tensors])

    @property
    def saved_tensors(self) -> tuple:
        saved = self._saved
        if saved is None:
            return ()
        if saved.__class__ is int:
            t = self._s0
            if t is not None and t._storage.version != self._v0:
                self._modified_error()
            if saved == 1:
                return (t,)
            u = self._s1
            if u is not None and u._storage.version != self._v1:
                self._modified_error()
            return (t, u)
        if saved is _FREED:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (or to read the saved tensors of "
                f"{self.name()} after backward freed them). Pass retain_graph=True to the first "
                f"backward() or autograd.grad() call if you need to go through the graph again.")
        for t, v in zip(saved, self._versions):
            if t is not None and t._storage.version != v:
                self._modified_error()
        return saved

    def _modified_error(self):
        """Raise the error for the first saved tensor changed in place since it was saved."""
        saved = self._saved
        if saved.__class__ is int:
            pairs = [(self._s0, self._v0)] if saved == 1 else [(self._s0, self._v0), (self._s1, self._v1)]
        else:
            pairs = zip(saved, self._versions)
        for i, (t, v) in enumerate(pairs):
            if t is not None and t._storage.version != v:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: [{t._type_label()} {list(t._shape)}], saved tensor {i} of "
                    f"{self.name()}, is at version {t._storage.version}; expected version {v} instead. "
                    f"Hint: use out-of-place ops (or .clone()) on tensors that a later backward needs.")

    def output_alias(self, saved, output_nr: int = 0):
        """A saved output of this node as backward should use it: linked back to this
        node while a double backward is being recorded (so ``d(output)/d(input)`` is
        part of the new graph), plain otherwise. Saving the output itself would make a
        reference cycle (output -> node -> output); saving a detached alias and
        relinking it here does not."""
        if not STATE.enabled:
            return saved
        alias = saved.detach()
        alias._grad_fn, alias._output_nr, alias._requires_grad = self, output_nr, True
        return alias

    def release(self):
        """Free the saved tensors (after a backward without ``retain_graph``)."""
        if self._saved is not None:
            self._saved = _FREED
            self._s0 = self._s1 = None

    # ---- introspection ------------------------------------------------------
    def name(self) -> str:
        return type(self).__name__

    def __repr__(self):
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` runs after this node; it may return new grad_inputs."""
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(fn)
        return RemovableHandle(self._hooks, fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before this node; it may return new grad_outputs."""
        return self._add_pre_hook(None, fn)

    def _add_pre_hook(self, output_nr, fn):
        if self._pre_hooks is None:
            self._pre_hooks = {}
        hooks = self._pre_hooks.setdefault(output_nr, [])
        hooks.append(fn)
        return RemovableHandle(hooks, fn)

    def backward(self, *grads):  # pragma: no cover - every concrete node overrides it
        raise RuntimeError(f"{self.name()} has no backward formula")


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    __slots__ = ("_hooks", "_fn")

    def __init__(self, hooks, fn):
        self._hooks, self._fn = hooks, fn

    def remove(self):
        try:
            self._hooks.remove(self._fn)
        except ValueError:
            pass


def retain_grad_hook(tensor):
    """The hook ``Tensor.retain_grad()`` installs: it keeps a weak reference, so
    retaining a gradient never keeps the tensor alive. The engine runs it after the
    tensor's own hooks (it recognises it by ``retains_grad``)."""
    ref = weakref.ref(tensor)

    def hook(grad):
        t = ref()
        if t is not None:
            if t._grad is None:
                t._grad = grad.detach().clone() if not STATE.enabled else grad
            else:
                t._grad = t._grad + grad
        return None
    hook.retains_grad = True
    return hook


class AccumulateGrad(Node):
    """The sink of a leaf tensor: adds the arriving gradient into ``leaf.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        # built for every leaf in every iteration of a training loop: set the fields
        # directly rather than through Node.__init__
        self._saved = self._pre_hooks = self._hooks = None
        self._seq = next(_sequence)
        self._trace = anomaly_mode.creation_trace() if anomaly_mode.ENABLED else None
        self.variable = variable
        self._arity = 0
        self._n0 = self._n1 = self._nx = None
        self._o0 = self._o1 = 0
        self._in_meta = ()

    def backward(self, grad):  # the engine accumulates; see engine.accumulate
        return ()


def edge_of(t):
    """The (node, output_nr) edge that gradients for tensor ``t`` flow into."""
    if not t._requires_grad:
        return (None, 0)
    fn = t._grad_fn
    if fn is None:
        ref = t._acc
        acc = ref() if ref is not None else None
        if acc is None:
            acc = AccumulateGrad(t)
            t._acc = weakref.ref(acc)
        return (acc, 0)
    if t._base is not None and t._view_version != t._storage.version:
        fn = regenerate_view_fn(t)
    return (fn, t._output_nr)


def regenerate_view_fn(t):
    """A view whose base was changed in place gets its history from the base again:
    an ``as_strided`` node (its class lives with the op, above this layer, and is
    reached through the op table)."""
    base = t._base
    node = ops.AsStridedBackward0(base, t._shape, t._strides, t._offset)
    record(node, (base,), t)
    t._view_version = t._storage.version
    return node


_NO_META = (None, None)


def record(node: Node, inputs, out) -> None:
    """Connect ``node`` to the edges of ``inputs`` and make it ``out``'s ``grad_fn``
    (``out`` may be a tuple of outputs for multi-output nodes).

    The node gets its edges (in its slots, see the module docstring) and ``_in_meta``,
    each input's shape and dtype name (``None, None`` for a None input)."""
    if out.__class__ is not tuple:
        # one output and one or two tensor inputs (nearly every op): the slots set
        # directly (``_edge``'s common cases inlined); anything else below
        n = len(inputs)
        if n == 2:
            a, b = inputs
            if a is not None:   # b may be None: a Python number operand (``x * 2.0``)
                node._arity = 2
                if not a._requires_grad:
                    node._n0 = None
                    node._o0 = 0
                elif a._grad_fn is not None and a._base is None:
                    node._n0 = a._grad_fn
                    node._o0 = a._output_nr
                else:
                    node._n0, node._o0 = edge_of(a)
                if b is None:
                    node._n1 = None
                    node._o1 = 0
                    node._in_meta = (a._shape, a._dtype.name, None, None)
                else:
                    if not b._requires_grad:
                        node._n1 = None
                        node._o1 = 0
                    elif b._grad_fn is not None and b._base is None:
                        node._n1 = b._grad_fn
                        node._o1 = b._output_nr
                    else:
                        node._n1, node._o1 = edge_of(b)
                    node._in_meta = (a._shape, a._dtype.name, b._shape, b._dtype.name)
                node._nx = None
                node._seq = next(_sequence)
                out._grad_fn = node
                out._output_nr = 0
                out._requires_grad = True
                return
        elif n == 1:
            a = inputs[0]
            if a is not None:
                node._arity = 1
                if a._grad_fn is not None and a._base is None:   # requires_grad: it has a grad_fn
                    node._n0 = a._grad_fn
                    node._o0 = a._output_nr
                else:
                    node._n0, node._o0 = edge_of(a)
                node._n1 = node._nx = None
                node._o1 = 0
                node._in_meta = (a._shape, a._dtype.name)
                node._seq = next(_sequence)
                out._grad_fn = node
                out._output_nr = 0
                out._requires_grad = True
                return
    edges = []
    metas = []
    add_edge, add_meta = edges.append, metas.append
    for t in inputs:
        if t is None:
            edges += _NO_EDGE
            metas += _NO_META
            continue
        if not t._requires_grad:
            edges += _NO_EDGE
        elif t._grad_fn is not None and t._base is None:
            add_edge(t._grad_fn)  # the common case, inlined from edge_of
            add_edge(t._output_nr)
        else:
            edges += edge_of(t)
        add_meta(t._shape)
        add_meta(t._dtype.name)
    node._next = tuple(edges)
    node._in_meta = tuple(metas)
    node._seq = next(_sequence)  # after its inputs' nodes, one of which may have been made just above
    if type(out) is tuple:
        for i, o in enumerate(out):
            if o is not None and o._dtype.is_floating_point:
                o._grad_fn = node
                o._output_nr = i
                o._requires_grad = True
    else:
        out._grad_fn = node
        out._output_nr = 0
        out._requires_grad = True
