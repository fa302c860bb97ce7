"""Higher-level differentiation of functions: ``vjp``, ``jvp``, ``jacobian``,
``hessian``, ``hvp`` and ``vhp`` (PyTorch's ``torch.autograd.functional``).

Each takes a function of tensors and the point (a tensor or a tuple of tensors) and
returns results shaped like PyTorch's: a tensor where the user gave a tensor, a
tuple where the user gave a tuple.

Reverse mode is the primitive. A vector-Jacobian product ``v^T J`` is one backward
pass. A Jacobian-vector product ``J u`` uses the double-backward trick: with a dummy
upstream ``w`` (requiring grad), ``g(w) = J^T w`` is linear in ``w``, so the
gradient of ``<g(w), u>`` with respect to ``w`` is ``J u``. This needs backward
formulas that are differentiable, which every plugrad op provides.

``create_graph=True`` keeps the results differentiable (for higher derivatives);
otherwise they are detached. ``strict=True`` raises when an output does not depend
on an input instead of returning zeros for that block.
"""

from __future__ import annotations

from ..creation import ones_like, zeros, zeros_like
from ..ops.join import stack
from ..tensor import Tensor
from .api import grad
from .grad_mode import enable_grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


# ---- argument handling ---------------------------------------------------------------------

def _as_tuple(x, arg_name, fn_name):
    is_tuple = isinstance(x, (tuple, list))
    items = tuple(x) if is_tuple else (x,)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            if is_tuple:
                raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors "
                                f"but the value at index {i} has type {type(t).__name__}.")
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but "
                            f"the given {arg_name} has type {type(t).__name__}.")
    return is_tuple, items


def _restore(is_tuple, items):
    return items if is_tuple else items[0]


def _prepare(inputs, create_graph):
    """Inputs as the function will see them: fresh leaves that require grad, or, when
    the caller builds a graph through them, views that keep their history."""
    res = []
    for t in inputs:
        if create_graph and t.requires_grad:
            res.append(t.view_as(t))
        else:
            res.append(t.detach().requires_grad_(True))
    return tuple(res)


def _finish(items, create_graph):
    if create_graph:
        return items
    return tuple(t.detach() if t is not None else None for t in items)


def _check_vector(v, like, what, fn_name):
    """``v`` must match ``like`` (the function's inputs or outputs) in count and shapes."""
    if len(v) != len(like):
        raise RuntimeError(f"{fn_name}: v has {len(v)} Tensors but the user-provided function has {len(like)} "
                           f"{what}")
    for i, (a, b) in enumerate(zip(v, like)):
        if a.shape != b.shape:
            raise RuntimeError(f"{fn_name}: entry {i} of v has shape {list(a.shape)} but should have the shape of "
                               f"the {what[:-1]} it pairs with, {list(b.shape)}")


def _grad(outputs, inputs, grad_outputs, create_graph, retain_graph=None):
    """``autograd.grad`` over the outputs that take part in the graph (the others
    contribute nothing); None for inputs they do not reach."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad and g is not None]
    diff_inputs = [t for t in inputs if t.requires_grad]
    if not pairs or not diff_inputs:
        return (None,) * len(inputs)
    got = iter(grad([o for o, _ in pairs], diff_inputs, [g for _, g in pairs], retain_graph=retain_graph,
                    create_graph=create_graph, allow_unused=True))
    return tuple(next(got) if t.requires_grad else None for t in inputs)


def _fill_missing(grads, like, strict, create_graph, what):
    res = []
    for i, (g, ref) in enumerate(zip(grads, like)):
        if g is None:
            if strict:
                raise RuntimeError(f"The {what} for input {i} is independent of that input: the output of the "
                                   f"user-provided function does not depend on it. This is not allowed in strict "
                                   f"mode.")
            g = zeros_like(ref)
        elif strict and create_graph and not g.requires_grad:
            raise RuntimeError(f"The {what} for input {i} does not require grad although create_graph=True: it is "
                               f"independent of the inputs. This is not allowed in strict mode when "
                               f"create_graph=True.")
        res.append(g)
    return tuple(res)


def _call(func, inputs, fn_name):
    out = func(*inputs)
    return _as_tuple(out, "outputs of the user-provided function", fn_name)


# ---- products -----------------------------------------------------------------------------

def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T J)``: the vector-Jacobian product at ``inputs``. ``v`` has
    the outputs' shapes; it may be omitted when func returns a single-element tensor."""
    with enable_grad():
        in_tuple, ins = _as_tuple(inputs, "inputs", "vjp")
        ins = _prepare(ins, create_graph)
        out_tuple, outs = _call(func, ins, "vjp")
        if v is None:
            if len(outs) != 1 or outs[0].numel() != 1:
                raise RuntimeError("The vector v can only be None if the user-provided function returns a single "
                                   "Tensor with a single element.")
            vs = (ones_like(outs[0]),)
        else:
            _, vs = _as_tuple(v, "v", "vjp")
            _check_vector(vs, outs, "outputs", "vjp")
        grads = _grad(outs, ins, vs, create_graph)
        grads = _fill_missing(grads, ins, strict, create_graph, "vector-Jacobian product")
    return _restore(out_tuple, _finish(outs, create_graph)), _restore(in_tuple, _finish(grads, create_graph))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J v)``: the Jacobian-vector product at ``inputs`` (``v`` has
    the inputs' shapes; it may be omitted for a single one-element input), computed
    with the double-backward trick."""
    with enable_grad():
        in_tuple, ins = _as_tuple(inputs, "inputs", "jvp")
        ins = _prepare(ins, create_graph)
        if v is None:
            if len(ins) != 1 or ins[0].numel() != 1:
                raise RuntimeError("The vector v can only be None if the input to the user-provided function is a "
                                   "single Tensor with a single element.")
            vs = (ones_like(ins[0]),)
        else:
            _, vs = _as_tuple(v, "v", "jvp")
            _check_vector(vs, ins, "inputs", "jvp")
        out_tuple, outs = _call(func, ins, "jvp")
        dummies = tuple(zeros_like(o).requires_grad_(True) for o in outs)
        back = _grad(outs, ins, dummies, create_graph=True)
        pairs = [(b, u) for b, u in zip(back, vs) if b is not None]
        if pairs:
            res = _grad([b for b, _ in pairs], dummies, [u for _, u in pairs], create_graph)
        else:
            res = (None,) * len(outs)
        res = _fill_missing(res, outs, strict, create_graph, "Jacobian-vector product")
    return _restore(out_tuple, _finish(outs, create_graph)), _restore(out_tuple, _finish(res, create_graph))


# ---- Jacobians ---------------------------------------------------------------------------------

def _unit(t, j):
    u = zeros(t.numel(), dtype=t.dtype, device=t.device)
    u[j] = 1
    return u.reshape(t.shape)


def _jacobian_reverse(outs, ins, create_graph, strict):
    """``jac[i][j]`` of shape ``outs[i].shape + ins[j].shape``, one backward per output element."""
    jac = []
    for i, o in enumerate(outs):
        rows = [[] for _ in ins]
        for e in range(o.numel()):
            upstream = [None] * len(outs)
            upstream[i] = _unit(o, e)
            grads = _grad(outs, ins, upstream, create_graph, retain_graph=True)
            for j, (g, x) in enumerate(zip(grads, ins)):
                if g is None:
                    if strict:
                        raise RuntimeError(f"Output {i} of the user-provided function is independent of input {j}. "
                                           f"This is not allowed in strict mode.")
                    g = zeros_like(x)
                rows[j].append(g)
        jac.append(tuple(_stack_rows(rows[j], o, x) for j, x in enumerate(ins)))
    return jac


def _stack_rows(parts, out, x):
    if not parts:
        return zeros(tuple(out.shape) + tuple(x.shape), dtype=x.dtype, device=x.device)
    return stack(parts).reshape(tuple(out.shape) + tuple(x.shape))


def _jacobian_forward(func, outs, ins, create_graph):
    """The same Jacobian, one Jacobian-vector product per input element."""
    columns = [[[] for _ in ins] for _ in outs]
    for j, x in enumerate(ins):
        for e in range(x.numel()):
            vs = tuple(_unit(x, e) if k == j else zeros_like(y) for k, y in enumerate(ins))
            _, prods = jvp(func, ins, vs, create_graph=create_graph, strict=False)
            prods = prods if isinstance(prods, tuple) else (prods,)
            for i, p in enumerate(prods):
                columns[i][j].append(p)
    jac = []
    for i, o in enumerate(outs):
        row = []
        for j, x in enumerate(ins):
            parts = columns[i][j]
            if parts:
                block = stack(parts, -1).reshape(tuple(o.shape) + tuple(x.shape))
            else:
                block = _stack_rows([], o, x)
            row.append(block)
        jac.append(tuple(row))
    return jac


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: for output ``i`` and input ``j`` a tensor
    of shape ``outputs[i].shape + inputs[j].shape``, nested as PyTorch nests it (a
    tensor for tensor-in/tensor-out, tuples otherwise). ``strategy`` is
    "reverse-mode" (one backward per output element) or "forward-mode" (one
    Jacobian-vector product per input element); ``vectorize`` only selects PyTorch's
    batching and gives the same values here."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
                         f'function has more outputs than inputs, "forward-mode" tends to be more performant. '
                         f'Otherwise, prefer to use "reverse-mode". Got {strategy!r}.')
    if strategy == "forward-mode" and strict:
        raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and `strategy=\"forward-mode\"` are "
                           "not supported together (yet). Please either set `strict=False` or "
                           "`strategy=\"reverse-mode\"`.")
    with enable_grad():
        in_tuple, ins = _as_tuple(inputs, "inputs", "jacobian")
        ins = _prepare(ins, create_graph)
        out_tuple, outs = _call(func, ins, "jacobian")
        if strategy == "reverse-mode":
            jac = _jacobian_reverse(outs, ins, create_graph, strict)
        else:
            jac = _jacobian_forward(func, outs, ins, create_graph)
    jac = [_finish(row, create_graph) for row in jac]
    if out_tuple:
        return tuple(_restore(in_tuple, row) for row in jac)
    return _restore(in_tuple, jac[0])


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of the scalar function ``func`` at ``inputs``: for inputs ``i, j`` a
    tensor of shape ``inputs[i].shape + inputs[j].shape`` (a single tensor for a
    single tensor input). Computed as the Jacobian of the gradient."""
    in_tuple, ins = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*xs):
        return jacobian(lambda *a: _scalar_output(func, a, "hessian"), xs, create_graph=True, strict=strict)

    res = jacobian(gradient, ins, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    return res if in_tuple else res[0][0]


def _scalar_output(func, ins, fn_name):
    is_tuple, outs = _call(func, ins, fn_name)
    if is_tuple or outs[0].numel() != 1:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor with a single element"
                           if not is_tuple else f"The function given to {fn_name} should return a single Tensor")
    return outs[0]


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T H)`` for a scalar ``func``: the gradient of ``<grad f, v>``."""
    with enable_grad():
        in_tuple, ins = _as_tuple(inputs, "inputs", "vhp")
        ins = _prepare(ins, create_graph)
        vs = _hessian_vector(v, ins, "vhp")
        out = _scalar_output(func, ins, "vhp")
        first = _grad((out,), ins, (ones_like(out),), create_graph=True)
        first = _fill_missing(first, ins, strict, True, "gradient")
        pairs = [(f, u) for f, u in zip(first, vs) if f.requires_grad]
        res = _grad([f for f, _ in pairs], ins, [u for _, u in pairs], create_graph) if pairs else (None,) * len(ins)
        res = _fill_missing(res, ins, strict, create_graph, "vector-Hessian product")
    return _finish((out,), create_graph)[0], _restore(in_tuple, _finish(res, create_graph))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)`` for a scalar ``func``, by the double-backward trick on
    the gradient (equal to ``vhp`` for twice-differentiable functions, whose Hessian
    is symmetric)."""
    with enable_grad():
        in_tuple, ins = _as_tuple(inputs, "inputs", "hvp")
        ins = _prepare(ins, create_graph)
        vs = _hessian_vector(v, ins, "hvp")
        out = _scalar_output(func, ins, "hvp")
        first = _grad((out,), ins, (ones_like(out),), create_graph=True)
        first = _fill_missing(first, ins, strict, True, "gradient")
        dummies = tuple(zeros_like(x).requires_grad_(True) for x in ins)
        pairs = [(f, d) for f, d in zip(first, dummies) if f.requires_grad]
        if pairs:
            back = _grad([f for f, _ in pairs], ins, [d for _, d in pairs], create_graph=True)
            live = [(b, u) for b, u in zip(back, vs) if b is not None and b.requires_grad]
            res = _grad([b for b, _ in live], dummies, [u for _, u in live], create_graph) if live \
                else (None,) * len(ins)
        else:
            res = (None,) * len(ins)
        res = _fill_missing(res, ins, strict, create_graph, "Hessian-vector product")
    return _finish((out,), create_graph)[0], _restore(in_tuple, _finish(res, create_graph))


def _hessian_vector(v, ins, fn_name):
    if v is None:
        if len(ins) != 1 or ins[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided function is a "
                               "single Tensor with a single element.")
        return (ones_like(ins[0]),)
    _, vs = _as_tuple(v, "v", fn_name)
    _check_vector(vs, ins, "inputs", fn_name)
    return vs
