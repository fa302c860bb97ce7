"""``backward`` and ``grad``: the entry points to the engine, with their argument
checks, and the legacy ``Variable``.

``Tensor.backward`` calls ``backward`` through the op table (``ops.backward``): the
Tensor sits below this module, which needs it.
"""

from __future__ import annotations

from ..creation import empty, zeros_like
from ..ops.join import stack
from ..optable import ops
from ..tensor import Tensor, empty_like_layout
from .engine import accumulate, run_backward
from .graph import edge_of

__all__ = ["backward", "grad", "Variable"]


def _tensors(x, name):
    if isinstance(x, Tensor):
        return (x,)
    if isinstance(x, (tuple, list)) and all(isinstance(t, Tensor) for t in x):
        return tuple(x)
    raise TypeError(f"{name} must be a Tensor or a sequence of Tensors, got {type(x).__name__}")


def _ones_like(out):
    """The implicit gradient of a scalar output (a fresh tensor of ones)."""
    g = empty_like_layout(out._backend, out._shape, out._dtype)
    g._backend.fill(g._a, 1.0)
    return g


def _make_grads(outputs, grad_outputs, create_graph):
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            if out.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not out._dtype.is_floating_point:
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got "
                                   f"{out._dtype!r}")
            g = _ones_like(out)
        else:
            if not isinstance(g, Tensor):
                raise TypeError(f"gradient for output {i} must be a Tensor or None, got {type(g).__name__}")
            if g._shape != out._shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] "
                                   f"has a shape of {out.shape}.")
            if g._backend is not out._backend:
                raise RuntimeError(f"gradient for output {i} is on {g.device} but the output is on {out.device}")
            if not create_graph:
                g = g.detach()
        grads.append(g)
    return grads


def _roots(outputs, grads):
    roots, root_grads = [], []
    for i, (out, g) in enumerate(zip(outputs, grads)):
        if not out._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        roots.append(edge_of(out))
        root_grads.append(g)
    return roots, root_grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the leaves they
    depend on (only into ``inputs`` when given)."""
    if tensors.__class__ is Tensor and grad_tensors is None and inputs is None and not create_graph \
            and not tensors._shape and tensors._requires_grad and tensors._dtype.is_floating_point:
        # ``loss.backward()``: a scalar output and its implicit gradient, checked as below
        run_backward((edge_of(tensors),), (_ones_like(tensors),), bool(retain_graph), False)
        return
    outputs = _tensors(tensors, "tensors")
    if grad_tensors is None:
        grad_tensors = [None] * len(outputs)
    elif not isinstance(grad_tensors, (tuple, list)):
        grad_tensors = [grad_tensors]
    if len(grad_tensors) != len(outputs):
        raise RuntimeError(f"got {len(grad_tensors)} gradients for {len(outputs)} outputs")
    retain_graph = create_graph if retain_graph is None else retain_graph
    if inputs is not None:
        inputs = _tensors(inputs, "inputs")
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    grads = _make_grads(outputs, grad_tensors, create_graph)
    roots, root_grads = _roots(outputs, grads)
    if inputs is None:
        run_backward(roots, root_grads, retain_graph, create_graph)
        return
    capture = {}
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
        capture[edge_of(t)] = t
    captured = run_backward(roots, root_grads, retain_graph, create_graph, capture=capture,
                            accumulate_into_leaves=False)
    for edge, t in capture.items():
        g = captured.get(edge)
        if g is None:
            continue
        if t._grad_fn is None:
            accumulate(edge[0], g, create_graph)
        else:
            t._grad = (g if create_graph else g.detach().clone()) if t._grad is None else t._grad + g


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned instead of
    accumulated into ``.grad``."""
    outs = _tensors(outputs, "outputs")
    ins = _tensors(inputs, "inputs")
    if grad_outputs is None:
        grad_outputs = [None] * len(outs)
    elif not isinstance(grad_outputs, (tuple, list)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outs):
        raise RuntimeError(f"grad_outputs has {len(grad_outputs)} entries but there are {len(outs)} outputs")
    retain_graph = create_graph if retain_graph is None else retain_graph
    allow_unused = materialize_grads if allow_unused is None else allow_unused
    if is_grads_batched:
        return _batched_grad(outs, ins, grad_outputs, retain_graph, create_graph, allow_unused, materialize_grads)
    grads = _make_grads(outs, grad_outputs, create_graph)
    roots, root_grads = _roots(outs, grads)
    capture = {}
    for t in ins:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
        capture[edge_of(t)] = t
    captured = run_backward(roots, root_grads, retain_graph, create_graph, capture=capture,
                            accumulate_into_leaves=False)
    result = []
    for i, t in enumerate(ins):
        g = captured.get(edge_of(t))
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"One of the differentiated Tensors (input {i}) appears to not have been used "
                                   f"in the graph. Set allow_unused=True if this is the desired behavior.")
            if materialize_grads:
                g = zeros_like(t)
        elif not create_graph:
            g = g.detach()
        result.append(g)
    return tuple(result)


def _batched_grad(outs, ins, grad_outputs, retain_graph, create_graph, allow_unused, materialize_grads):
    """``grad`` for grad_outputs that carry a leading batch dim: one backward per batch
    element (over the same graph), results stacked along a new first dim."""
    sizes = set()
    for i, g in enumerate(grad_outputs):
        if not isinstance(g, Tensor) or g.dim() == 0:
            raise RuntimeError(f"is_grads_batched=True needs every grad_output to be a tensor with a leading batch "
                               f"dim; grad_output {i} is {g if not isinstance(g, Tensor) else 'a 0-d tensor'}")
        sizes.add(g._shape[0])
    if len(sizes) != 1:
        raise RuntimeError(f"is_grads_batched=True needs the same batch size in every grad_output, got {sorted(sizes)}")
    (batch,) = sizes
    per_sample = []
    for b in range(batch):
        keep = retain_graph if b == batch - 1 else True
        per_sample.append(grad(outs, ins, [g[b] for g in grad_outputs], retain_graph=keep, create_graph=create_graph,
                               allow_unused=allow_unused, materialize_grads=materialize_grads))
    result = []
    for i in range(len(ins)):
        column = [sample[i] for sample in per_sample]
        result.append(None if not column or column[0] is None else stack(column))
    return tuple(result)


def Variable(data=None, requires_grad=False, volatile=False):
    """The legacy wrapper: returns a Tensor, as modern PyTorch does.

    ``Variable()`` is an empty float tensor; ``Variable(t, requires_grad=True)`` is a
    leaf that shares ``t``'s data."""
    if data is None:
        t = empty(0)
    elif isinstance(data, Tensor):
        t = data.detach()
    else:
        raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
    if requires_grad:
        t.requires_grad_(True)
    return t


ops.register("backward", backward)
