"""The backward engine: walks the graph iteratively, in dependency order.

1. Run the nodes newest first (a heap on their sequence numbers, no recursion: a
   100,000-op chain is fine). Every edge points to an older node (``record`` numbers
   a node once its edges are set), so when a node is the newest one still waiting,
   every node that sends it a gradient has run: its gradient is complete without
   counting dependencies. Gradients arriving at a node from several uses are summed.
2. Before a gradient enters an input's edge it is summed down to the input's
   shape (un-broadcasting, done here once for every op) and cast to its dtype.
3. Store the leaves' gradients in their ``.grad`` only after the whole pass
   succeeded: a pass that fails leaves every ``.grad`` as it was.
"""

from __future__ import annotations

import heapq
import sys
import warnings

from ..dtypes import dtype_from_name
from ..optable import ops
from ..tensor import make
from . import anomaly_mode
from .grad_mode import STATE
from .graph import _FREED, AccumulateGrad

__all__ = ["run_backward", "call_node", "accumulate"]


def call_node(node, grads, edges=None):
    """Run one node's backward on the gradients of its outputs; return one adjusted
    gradient (or None) per input edge (``edges``: the node's ``_next``, when the caller
    has it)."""
    result = node.backward(*grads)
    if result.__class__ is not tuple:
        result = (result,)
    metas = node._in_meta      # shape, dtype name, shape, dtype name...
    if 2 * len(result) != len(metas):
        raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                           f"(expected {len(metas) // 2}, got {len(result)})")
    if edges is None:
        edges = node._next
    out = result
    j = 0   # the flat index of input i's edge and meta: 2 * i
    for g in result:
        if g is not None:
            if edges[j] is None:
                if out is result:
                    out = list(result)
                out[j >> 1] = None
            elif g._shape != metas[j] or g._dtype.name != metas[j + 1]:
                if out is result:
                    out = list(result)
                out[j >> 1] = _adjusted(node, j >> 1, g, metas[j], metas[j + 1])
        j += 2
    return out


def _adjusted(node, i, g, shape, dtype_name):
    """``g`` summed down to its input's shape and cast to its dtype, after checking that
    the shape it has can be summed to that shape."""
    if g._shape != shape:
        if shape and not _sums_to(g._shape, shape):   # anything sums to a 0-d input's ()
            raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index {i} - got "
                               f"{list(g._shape)} but expected shape compatible with {list(shape)}")
        g = ops.sum_to(g, shape)  # through the table: the ops sit above the engine (in-place ops call it)
    return g if g._dtype.name == dtype_name else g.to(dtype_from_name(dtype_name))


def _sums_to(shape, target) -> bool:
    """True when ``target`` broadcasts to ``shape`` (so a gradient of ``shape`` sums
    down to ``target``)."""
    lead = len(shape) - len(target)
    if lead < 0:
        return False
    for t, s in zip(target, shape[lead:]):
        if t != s and t != 1:
            return False
    return True


def _call_with_anomaly(node, buffer):
    """``call_node`` under anomaly detection: an error in a backward formula is
    reported with the place its forward op ran, and NaN gradients stop the pass."""
    where = node._trace or "(no trace: the forward ran before anomaly detection was enabled)\n"
    try:
        grads = call_node(node, buffer)
    except Exception:
        warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n{where}",
                      UserWarning, stacklevel=4)
        raise
    if anomaly_mode.CHECK_NAN:
        for i, g in enumerate(grads):
            if g is not None and g._dtype.is_floating_point and bool(g.isnan().any()):
                raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.\n"
                                   f"The forward op was created at:\n{where}")
    return grads


def _apply_pre_hooks(node, buffer):
    """PyTorch's order: hooks of the tensors (per output), then ``retain_grad`` (so a
    retained ``.grad`` includes what tensor hooks changed), then the node's pre-hooks."""
    hooks = node._pre_hooks
    if not hooks:
        return buffer
    retains = []
    for output_nr, fns in hooks.items():
        if output_nr is None:
            continue
        for fn in list(fns):
            if getattr(fn, "retains_grad", False):
                retains.append((output_nr, fn))
                continue
            g = buffer[output_nr]
            if g is None:
                break
            r = fn(g)
            if r is not None:
                buffer[output_nr] = r
    for output_nr, fn in retains:
        if buffer[output_nr] is not None:
            fn(buffer[output_nr])
    for fn in list(hooks.get(None, ())):
        r = fn(tuple(buffer))
        if r is not None:
            buffer = list(r)
    return buffer


def accumulate(acc: AccumulateGrad, grad, create_graph: bool) -> None:
    """Add ``grad`` into the leaf's ``.grad`` (a private copy the first time)."""
    _store(acc.variable, _leaf_hooks(acc.variable, grad), create_graph)


def _leaf_hooks(var, grad):
    """The gradient a leaf receives after its tensor hooks ran."""
    if var._hooks:
        for fn in list(var._hooks):
            r = fn(grad)
            if r is not None:
                grad = r
    return grad


def _store(var, grad, create_graph: bool) -> None:
    if var._grad is None:
        var._grad = grad if create_graph else _private_copy(grad)
    elif create_graph:
        var._grad = var._grad + grad
    else:
        var._grad.add_(grad.detach())


def _commit(pending: dict, create_graph: bool) -> None:
    """Store the gradients a whole backward pass computed for its leaves.

    The engine defers this to the end of the pass, so an error anywhere in the pass
    (a backward formula, a hook, a kernel) leaves every ``.grad`` as it was. Here,
    everything that can fail runs before the first leaf changes, except the
    in-place additions into existing ``.grad`` tensors, which go first."""
    fresh = []
    adds = False   # whether some leaf adds in place into the .grad it has
    for var, grad in pending.values():
        if var._grad is None:
            fresh.append((var, grad if create_graph or _unshared(grad) else _private_copy(grad)))
        elif create_graph:
            fresh.append((var, var._grad + grad))
        else:
            adds = True
    if adds:
        for var, grad in pending.values():
            if var._grad is not None:
                var._grad.add_(grad.detach())
    for var, grad in fresh:
        var._grad = grad


_refcount = getattr(sys, "getrefcount", None)   # CPython's; elsewhere every first gradient is copied


def _unshared(t) -> bool:
    """True when nothing outside this pass holds ``t``, its storage or its array: the
    leaf may then keep ``t`` itself as its ``.grad`` (PyTorch steals such gradients too).

    The references counted are ``pending``'s entry and ``_commit``'s loop variable, plus
    this call's own two; ``_commit`` runs after ``_run`` returned, so no frame of the
    pass holds one more."""
    if _refcount is None or t._base is not None or t._storage.base is not t._a:
        return False
    return _refcount(t) <= 4 and _refcount(t._storage) <= 2 and _refcount(t._a) <= 3


def _private_copy(t):
    """A detached contiguous copy (the leaf must never alias a gradient another
    node also received)."""
    backend = t._backend
    arr = backend.empty(t._shape, t._dtype)
    backend.copy(t._a, arr)
    return make(backend, arr, t._shape, t._dtype)


def run_backward(roots, root_grads, retain_graph: bool, create_graph: bool, capture=None,
                 accumulate_into_leaves: bool = True):
    """Propagate ``root_grads`` from the ``roots`` edges.

    ``capture`` maps edges ``(node, output_nr)`` to slots: the gradient arriving at
    such an edge is stored there instead of (for leaves) accumulated; this is how
    ``autograd.grad`` and ``backward(inputs=...)`` select what they compute."""
    prev = STATE.enabled
    STATE.enabled = create_graph
    try:
        captured, pending = _run(roots, root_grads, retain_graph, create_graph, capture, accumulate_into_leaves)
        if pending:
            _commit(pending, create_graph)
        return captured
    finally:
        STATE.enabled = prev


def _run(roots, root_grads, retain_graph, create_graph, capture, accumulate_into_leaves):
    captured = {}
    pending = {}  # id(leaf) -> (leaf, gradient): stored only once the whole pass succeeded
    buffers = {}  # node -> the gradients of its outputs gathered so far
    waiting = []  # heap of (-sequence number, node); sequence numbers are unique: nodes never compared
    push, pop = heapq.heappush, heapq.heappop
    for (node, nr), g in zip(roots, root_grads):
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node.n_outputs
            push(waiting, (-node._seq, node))
        buf[nr] = g if buf[nr] is None else buf[nr] + g
    anomaly = anomaly_mode.ENABLED
    needed = _NeededSet({k[0] for k in capture}) if capture is not None else None
    # A leaf is a sink: nothing waits for it. When the pass fills every leaf's .grad and a
    # leaf has no hooks, its gradients go straight to `pending` instead of through the queue.
    direct_leaves = capture is None and accumulate_into_leaves
    while waiting:
        node = pop(waiting)[1]
        buffer = buffers.pop(node)
        if node._pre_hooks:
            buffer = _apply_pre_hooks(node, buffer)
        if capture is not None:
            for nr, g in enumerate(buffer):
                key = (node, nr)
                if key in capture and g is not None:
                    captured[key] = g if key not in captured else captured[key] + g
        if node.__class__ is AccumulateGrad:
            if accumulate_into_leaves and buffer[0] is not None and (capture is None or (node, 0) not in capture):
                _pend(pending, node.variable, _leaf_hooks(node.variable, buffer[0]))
            continue
        k = node._arity   # node._next, without the property call for one or two inputs
        edges = (node._n0, node._o0, node._n1, node._o1) if k == 2 else (node._n0, node._o0) if k == 1 \
            else node._next
        metas = None   # set when the gradients below still need call_node's checks (its common case inlined)
        if (needed is not None and node not in needed) or (buffer[0] is None and _all_none(buffer)):
            grads = (None,) * (len(edges) // 2)
        else:
            if anomaly or node._hooks:
                grads = _call_with_anomaly(node, buffer) if anomaly else call_node(node, buffer, edges)
                if node._hooks:
                    grads = _apply_hooks(node, grads, buffer, len(edges) // 2)
            else:
                grads = node.backward(*buffer)
                if grads.__class__ is not tuple:
                    grads = (grads,)
                metas = node._in_meta
                if 2 * len(grads) != len(metas):
                    raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                                       f"(expected {len(metas) // 2}, got {len(grads)})")
            if not retain_graph and node._saved is not None:
                # only nodes that ran: a later backward may still use the others (Node.release)
                node._saved = _FREED
                node._s0 = node._s1 = None
        j = 0   # 2 * the input's index: its edge is edges[j], edges[j + 1]
        for g in grads:
            nxt = edges[j]
            if nxt is not None:
                if metas is not None and g is not None and (g._shape != metas[j] or g._dtype.name != metas[j + 1]):
                    g = _adjusted(node, j >> 1, g, metas[j], metas[j + 1])
                if direct_leaves and nxt.__class__ is AccumulateGrad and not nxt._pre_hooks \
                        and not nxt.variable._hooks:
                    if g is not None:
                        var = nxt.variable
                        seen = pending.get(id(var))
                        pending[id(var)] = (var, g if seen is None else seen[1] + g)
                else:
                    buf = buffers.get(nxt)
                    if buf is None:
                        push(waiting, (-nxt._seq, nxt))
                        if nxt.n_outputs == 1:   # the first gradient of a one-output node is its buffer
                            buffers[nxt] = [g]
                            j += 2
                            continue
                        buf = buffers[nxt] = [None] * nxt.n_outputs
                    if g is not None:
                        nr = edges[j + 1]
                        old = buf[nr]
                        buf[nr] = g if old is None else old + g
            j += 2
    return captured, pending


def _apply_hooks(node, grads, buffer, n_inputs):
    """Run the node's hooks (``fn(grad_inputs, grad_outputs)``), each of which may
    return new grad_inputs; at most ``n_inputs`` of them are sent on."""
    for fn in list(node._hooks):
        r = fn(tuple(grads), tuple(buffer))
        if r is not None:
            grads = list(r)
    return grads[:n_inputs]


def _all_none(buffer) -> bool:
    """True when no gradient reached any output of a node. By identity: ``None in
    buffer`` would compare every tensor with None through ``Tensor.__eq__``, one
    elementwise op per node."""
    for g in buffer:
        if g is not None:
            return False
    return True


def _pend(pending: dict, var, grad) -> None:
    """Add ``grad`` to what the pass will store into ``var.grad``."""
    seen = pending.get(id(var))
    pending[id(var)] = (var, grad if seen is None else seen[1] + grad)


class _NeededSet:
    """Lazily answers "does a captured edge lie below this node?" with memoisation,
    iteratively (deep graphs must not recurse)."""

    def __init__(self, targets):
        self.targets = targets
        self.memo = {}

    def __contains__(self, node):
        memo = self.memo
        if node in memo:
            return memo[node]
        stack = [(node, False)]
        while stack:
            n, expanded = stack.pop()
            if n in memo:
                continue
            if not expanded:
                stack.append((n, True))
                for nxt in n._next[::2]:
                    if nxt is not None and nxt not in memo:
                        stack.append((nxt, False))
            else:
                memo[n] = any(nxt is not None and (nxt in self.targets or memo.get(nxt, False))
                              for nxt in n._next[::2])
        return memo[node]
