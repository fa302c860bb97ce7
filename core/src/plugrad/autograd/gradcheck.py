"""Checking gradients against finite differences: ``gradcheck`` and ``gradgradcheck``.

``gradcheck(func, inputs)`` builds, for every input that requires grad and every
floating-point output, two Jacobians of shape ``(input.numel(), output.numel())``:

* numerical, by central differences ``(f(x + eps) - f(x - eps)) / 2 eps`` on one
  input element at a time (the difference is taken over the values actually
  stored, so float32 inputs are perturbed by the eps they can represent);
* analytical, one backward pass per output element with a unit upstream gradient.

It then checks what a correct backward must also satisfy: it is linear in the
upstream gradient (a random upstream gives ``J^T u``), it is deterministic
(reentrant: a second full pass gives the same Jacobian, up to ``nondet_tol``), a zero
upstream gives zero gradients, gradients have their input's shape and device, and
``func`` leaves its inputs unchanged (values and version counters).

Everything runs through plugrad ops and ``tolist()``, so it works on any device
and needs no float64 support from it; the arithmetic on Jacobians happens in
Python floats (double precision).
"""

from __future__ import annotations

import itertools
import random
import warnings

from ..creation import randn, tensor, zeros, zeros_like
from ..dtypes import float64
from ..ops.elementwise import isnan
from ..ops.join import stack
from ..random import Generator
from ..tensor import Tensor
from .api import grad
from .grad_mode import no_grad

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """A gradient check failed: the message names the input and output indices and
    shows the numerical and analytical values."""


# ---- inputs and outputs -----------------------------------------------------------------

def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def _outputs(func, inputs):
    out = _as_tuple(func(*inputs))
    return tuple(o for o in out if _is_tensor(o))


def _check_inputs(inputs):
    """The indices of the inputs to differentiate; refuse layouts that finite
    differences cannot perturb one element at a time."""
    diff = []
    for i, t in enumerate(inputs):
        if not (_is_tensor(t) and t.requires_grad):
            continue
        if t.dtype is not float64:
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point. This check "
                          f"will likely fail if all the inputs are not of double precision floating point.",
                          UserWarning, stacklevel=3)
        for n, s in zip(t.shape, t.stride()):
            if s == 0 and n > 1:
                raise RuntimeError(f"The {i}th input has a dimension with stride 0. gradcheck only supports inputs "
                                   f"that are non-overlapping to be able to compute the numerical gradients "
                                   f"correctly. You should call .contiguous on the input before passing it to "
                                   f"gradcheck.")
        diff.append(i)
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of them have "
                         "requires_grad=True.")
    return diff


def _flat(t) -> list:
    """The values of ``t`` in row-major order, as Python floats."""
    v = t.detach().tolist()
    if not isinstance(v, list):
        return [float(v)]
    while v and isinstance(v[0], list):
        v = [x for row in v for x in row]
    return [float(x) for x in v]


def _func_name(func) -> str:
    owner = getattr(func, "__self__", None)
    if isinstance(owner, type):  # a classmethod such as MyFunction.apply
        return f"{owner.__name__}.{func.__name__}"
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or type(func).__name__


class _Failure(Exception):
    """Internal: carries the message of the first failed check."""


# ---- Jacobians ----------------------------------------------------------------------------

def _numerical(func, inputs, diff_idx, eps):
    """``jac[input][output]``: rows = input elements, columns = output elements.
    ``func`` runs with grad mode as the caller has it (gradgradcheck's function
    differentiates inside)."""
    outs = _outputs(func, inputs)
    out_sizes = [o.numel() for o in outs]
    jac = {}
    for i in diff_idx:
        x = inputs[i]
        alias = x.data  # writes through to x's memory without touching its version counter
        rows = {k: [] for k in range(len(outs))}
        for idx in itertools.product(*(range(n) for n in x.shape)):
            elem = alias[idx]
            orig = elem.item()
            elem.fill_(orig - eps)
            lo_val = elem.item()
            minus = [_flat(o) for o in _outputs(func, inputs)]
            elem.fill_(orig + eps)
            hi_val = elem.item()
            plus = [_flat(o) for o in _outputs(func, inputs)]
            elem.fill_(orig)
            step = hi_val - lo_val
            for k in range(len(outs)):
                if len(plus[k]) != out_sizes[k] or len(minus[k]) != out_sizes[k]:
                    raise _Failure(f"output {k} changed its number of elements when input {i} was perturbed")
                rows[k].append([(p - m) / step for p, m in zip(plus[k], minus[k])])
        jac[i] = rows
    return jac


def _unit(out, j):
    g = zeros(out.numel(), dtype=out.dtype, device=out.device)
    g[j] = 1
    return g.reshape(out.shape)


def _grads(outs, inputs, diff_idx, upstream):
    """Gradients of the outputs paired with ``upstream`` (None entries skipped)
    with respect to the inputs in ``diff_idx``; None where unused."""
    pairs = [(o, u) for o, u in zip(outs, upstream) if u is not None]
    if not pairs:
        return [None] * len(diff_idx)
    return list(grad([o for o, _ in pairs], [inputs[i] for i in diff_idx], [u for _, u in pairs],
                     retain_graph=True, allow_unused=True))


def _check_grad_layout(g, x, i, check_dtype):
    if g is None:
        return
    if tuple(g.shape) != tuple(x.shape):
        raise _Failure(f"Gradient for input {i} has shape {list(g.shape)}, expected the input's shape "
                       f"{list(x.shape)}")
    if g.device != x.device:
        raise _Failure(f"Gradient for input {i} is on {g.device}, expected the input's device {x.device}")
    if check_dtype and g.dtype is not x.dtype:
        raise _Failure(f"Gradient for input {i} has dtype {g.dtype}, expected the input's dtype {x.dtype}")


def _analytical(outs, inputs, diff_idx, differentiable, check_dtype):
    """``jac[input][output]`` from one backward per output element."""
    jac = {i: {k: [[0.0] * o.numel() for _ in range(inputs[i].numel())] for k, o in enumerate(outs)}
           for i in diff_idx}
    for k, o in enumerate(outs):
        if not differentiable[k]:
            continue
        for j in range(o.numel()):
            upstream = [None] * len(outs)
            upstream[k] = _unit(o, j)
            for i, g in zip(diff_idx, _grads(outs, inputs, diff_idx, upstream)):
                _check_grad_layout(g, inputs[i], i, check_dtype)
                if g is not None:
                    col = jac[i][k]
                    for r, v in enumerate(_flat(g)):
                        col[r][j] = v
    return jac


# ---- comparisons ----------------------------------------------------------------------------

def _close(a, n, atol, rtol) -> bool:
    return abs(a - n) <= atol + rtol * abs(n) or (a != a and n != n)


def _matrix_text(rows) -> str:
    if not rows or not rows[0]:
        return f"(empty, {len(rows)} x 0)"
    return repr(tensor(rows, dtype=float64, device="cpu"))


def _compare_jacobians(num, ana, diff_idx, out_idx, atol, rtol, func_name, device):
    for i in diff_idx:
        for k in out_idx:
            n_rows, a_rows = num[i][k], ana[i][k]
            worst = None
            for r, (nr, ar) in enumerate(zip(n_rows, a_rows)):
                for c, (nv, av) in enumerate(zip(nr, ar)):
                    if not _close(av, nv, atol, rtol):
                        d = abs(av - nv)
                        if worst is None or not (d <= worst[0]):
                            worst = (d, r, c, nv, av)
            if worst is not None:
                d, r, c, nv, av = worst
                raise _Failure(
                    f"Jacobian mismatch for output {k} with respect to input {i} (func {func_name!r}, device "
                    f"{device}).\nLargest difference {d:.6g} at input element {r}, output element {c}: numerical "
                    f"{nv!r}, analytical {av!r} (atol={atol}, rtol={rtol}).\n"
                    f"numerical:{_matrix_text(n_rows)}\nanalytical:{_matrix_text(a_rows)}\n")


def _check_reentrant(first, second, diff_idx, n_out, nondet_tol):
    for i in diff_idx:
        for k in range(n_out):
            for r, (ar, br) in enumerate(zip(first[i][k], second[i][k])):
                for c, (a, b) in enumerate(zip(ar, br)):
                    if not (abs(a - b) <= nondet_tol or (a != a and b != b)):
                        raise _Failure(
                            f"Backward is not reentrant, i.e., running backward with the same input and "
                            f"grad_output multiple times gives different values, although analytical gradient "
                            f"matches numerical gradient. The tolerance for nondeterminism was {nondet_tol}. "
                            f"(output {k}, input {i}: {a!r} then {b!r} at input element {r}, output element {c})")


def _random_like(t, rng):
    vals = [rng.uniform(-1.0, 1.0) for _ in range(t.numel())]
    return tensor(vals, dtype=t.dtype, device=t.device).reshape(t.shape)


def _check_linear(outs, inputs, diff_idx, differentiable, ana, atol, rtol, rng):
    """A random upstream for every output at once must give ``sum_k J_ik u_k``."""
    upstream = [_random_like(o, rng) if differentiable[k] else None for k, o in enumerate(outs)]
    grads = _grads(outs, inputs, diff_idx, upstream)
    for i, g in zip(diff_idx, grads):
        got = _flat(g) if g is not None else [0.0] * inputs[i].numel()
        for r in range(inputs[i].numel()):
            want = 0.0
            for k, u in enumerate(upstream):
                if u is not None:
                    want += sum(a * b for a, b in zip(ana[i][k][r], _flat(u)))
            if not _close(got[r], want, atol, rtol):
                raise _Failure(f"Backward is not linear in the upstream gradient: for input {i}, element {r}, a "
                               f"random upstream gradient gave {got[r]!r} but the Jacobian built from unit upstream "
                               f"gradients gives {want!r}")


def _check_zero_upstream(outs, inputs, diff_idx, differentiable):
    upstream = [zeros_like(o) if differentiable[k] else None for k, o in enumerate(outs)]
    for i, g in zip(diff_idx, _grads(outs, inputs, diff_idx, upstream)):
        if g is not None and any(v != 0.0 for v in _flat(g)):
            raise _Failure(f"Backward of a zero upstream gradient is not zero for input {i}: undefined (zero) "
                           f"gradients must give zero input gradients")


def _check_batched(outs, inputs, diff_idx, differentiable, ana, atol, rtol, rng):
    """``grad(..., is_grads_batched=True)`` over a batch of random upstreams gives each
    sample's ``J^T u``."""
    batch = 3
    pairs = [(k, o) for k, o in enumerate(outs) if differentiable[k]]
    if not pairs:
        return
    ups = [[_random_like(o, rng) for _ in range(batch)] for _, o in pairs]
    got = grad([o for _, o in pairs], [inputs[i] for i in diff_idx], [stack(u) for u in ups],
               retain_graph=True, allow_unused=True, is_grads_batched=True)
    for i, g in zip(diff_idx, got):
        for b in range(batch):
            vals = _flat(g[b]) if g is not None else [0.0] * inputs[i].numel()
            for r in range(inputs[i].numel()):
                want = sum(sum(a * c for a, c in zip(ana[i][k][r], _flat(u[b]))) for (k, _), u in zip(pairs, ups))
                if not _close(vals[r], want, atol, rtol):
                    raise _Failure(f"Batched gradient mismatch for input {i}, batch element {b}, element {r}: "
                                   f"got {vals[r]!r}, expected {want!r}")


def _fast_check(func, inputs, outs, diff_idx, differentiable, eps, atol, rtol, rng, func_name, device):
    """Compare ``v^T J u`` for random ``u`` (per input) and ``v`` (per output)."""
    vs = [_random_like(o, rng) if differentiable[k] else None for k, o in enumerate(outs)]
    for i in diff_idx:
        x = inputs[i]
        u = _random_like(x, rng)
        alias = x.data
        orig = alias.clone()
        alias.copy_(orig - eps * u)
        minus = [_flat(o) for o in _outputs(func, inputs)]
        alias.copy_(orig + eps * u)
        plus = [_flat(o) for o in _outputs(func, inputs)]
        alias.copy_(orig)
        u_flat = _flat(u)
        for k, v in enumerate(vs):
            v_flat = _flat(v) if v is not None else [1.0] * outs[k].numel()
            num = sum(vv * (p - m) / (2 * eps) for vv, p, m in zip(v_flat, plus[k], minus[k]))
            ana = 0.0
            if v is not None:
                upstream = [None] * len(outs)
                upstream[k] = v
                (g,) = _grads(outs, inputs, [i], upstream)
                if g is not None:
                    _check_grad_layout(g, x, i, False)
                    ana = sum(a * b for a, b in zip(_flat(g), u_flat))
            if not _close(ana, num, atol, rtol):
                raise _Failure(f"Jacobian mismatch for output {k} with respect to input {i} (func {func_name!r}, "
                               f"device {device}, fast mode: v^T J u for random u, v).\nnumerical:{num!r}\n"
                               f"analytical:{ana!r}\n")


def _snapshot(inputs):
    return [(t.detach().clone(), t._storage.version) if _is_tensor(t) else None for t in inputs]


def _check_unchanged(inputs, before):
    for i, (t, snap) in enumerate(zip(inputs, before)):
        if snap is None:
            continue
        saved, version = snap
        if t._storage.version != version:
            raise _Failure(f"func modified input {i} in place (its version counter went from {version} to "
                           f"{t._storage.version}); gradcheck needs a function that leaves its inputs unchanged")
        with no_grad():
            same = bool(((t.detach() == saved) | (isnan(t.detach()) & isnan(saved))).all())
        if not same:
            raise _Failure(f"func changed the values of input {i}; gradcheck needs a function that leaves its "
                           f"inputs unchanged")


# ---- gradcheck -----------------------------------------------------------------------------------

def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True,
              fast_mode=False, masked=None):
    """Check the gradients of ``func`` at ``inputs`` against central finite differences.

    ``inputs`` is a tensor or a tuple of arguments; tensors with ``requires_grad=True``
    are differentiated (use float64 ones: eps=1e-6 is tuned for double precision).
    Analytical and numerical values must satisfy ``|a - n| <= atol + rtol * |n|``.
    Returns True, or on failure raises :class:`GradcheckError` (or returns False when
    ``raise_exception=False``). ``fast_mode=True`` compares ``v^T J u`` for random
    ``u, v`` instead of full Jacobians; ``check_batched_grad`` also checks
    ``grad(..., is_grads_batched=True)``."""
    if check_forward_ad or check_batched_forward_grad:
        raise ValueError("plugrad has no forward-mode automatic differentiation: check_forward_ad and "
                         "check_batched_forward_grad must be False (jvp is available in "
                         "plugrad.autograd.functional through double backward)")
    if masked:
        raise ValueError("plugrad has no sparse or masked tensors: masked must be None or False")
    inputs = _as_tuple(inputs)
    diff_idx = _check_inputs(inputs)
    try:
        _run_checks(func, inputs, diff_idx, eps, atol, rtol, nondet_tol, check_undefined_grad, check_grad_dtypes,
                    check_batched_grad, check_backward_ad, fast_mode)
    except _Failure as failure:
        if raise_exception:
            raise GradcheckError(str(failure)) from None
        return False
    return True


def _run_checks(func, inputs, diff_idx, eps, atol, rtol, nondet_tol, check_undefined_grad, check_grad_dtypes,
                check_batched_grad, check_backward_ad, fast_mode):
    before = _snapshot(inputs)
    outs = _outputs(func, inputs)
    if not outs:
        raise _Failure("func returned no tensors: there is nothing to check")
    differentiable = [o.dtype.is_floating_point and o.requires_grad for o in outs]
    name = _func_name(func)
    device = inputs[diff_idx[0]].device
    rng = random.Random(0)
    if not check_backward_ad:
        _check_unchanged(inputs, before)
        return
    if fast_mode:
        _fast_check(func, inputs, outs, diff_idx, differentiable, eps, atol, rtol, rng, name, device)
        _check_unchanged(inputs, before)
        return
    ana = _analytical(outs, inputs, diff_idx, differentiable, check_grad_dtypes)
    _check_unchanged(inputs, before)
    num = _numerical(func, inputs, diff_idx, eps)
    _check_unchanged(inputs, before)
    float_outs = [k for k, o in enumerate(outs) if o.dtype.is_floating_point]  # integer outputs have no gradient
    _compare_jacobians(num, ana, diff_idx, float_outs, atol, rtol, name, device)
    again = _analytical(outs, inputs, diff_idx, differentiable, check_grad_dtypes)
    _check_reentrant(ana, again, diff_idx, len(outs), nondet_tol)
    _check_linear(outs, inputs, diff_idx, differentiable, ana, atol, rtol, rng)
    if check_undefined_grad:
        _check_zero_upstream(outs, inputs, diff_idx, differentiable)
    if check_batched_grad:
        _check_batched(outs, inputs, diff_idx, differentiable, ana, atol, rtol, rng)
    _check_unchanged(inputs, before)


# ---- gradgradcheck -----------------------------------------------------------------------------

def _grad_outputs_for(outs, non_contiguous):
    gen = Generator().manual_seed(0)
    result = []
    for o in outs:
        if not (o.dtype.is_floating_point and o.requires_grad):
            continue
        if non_contiguous and o.dim():
            wide = randn(*o.shape[:-1], 2 * o.shape[-1], dtype=o.dtype, device=o.device, generator=gen)
            g = wide[..., ::2].detach()
        else:
            g = randn(*o.shape, dtype=o.dtype, device=o.device, generator=gen)
        result.append(g.requires_grad_(True))
    return tuple(result)


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False, masked=False):
    """Check second derivatives: run :func:`gradcheck` on the function
    ``(inputs, grad_outputs) -> autograd.grad(func(inputs), inputs, grad_outputs,
    create_graph=True)``. Random float ``grad_outputs`` (seeded, so the check is
    reproducible) are made when none are given."""
    if check_fwd_over_rev:
        raise ValueError("plugrad has no forward-mode automatic differentiation: check_fwd_over_rev must be False")
    inputs = _as_tuple(inputs)
    diff_idx = _check_inputs(inputs)
    if grad_outputs is None:
        outs = _outputs(func, inputs)
        grad_outputs = _grad_outputs_for(outs, gen_non_contig_grad_outputs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n = len(inputs)

    def first_derivatives(*args):
        ins, gos = args[:n], args[n:]
        outs = [o for o in _outputs(func, ins) if o.dtype.is_floating_point and o.requires_grad]
        if len(outs) != len(gos):
            raise RuntimeError(f"gradgradcheck: func has {len(outs)} differentiable outputs but {len(gos)} "
                               f"grad_outputs were given")
        grads = grad(outs, [ins[i] for i in diff_idx], gos, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    first_derivatives.__qualname__ = f"first derivatives of {_func_name(func)}"
    if not check_rev_over_rev:
        return True
    return gradcheck(first_derivatives, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad, check_grad_dtypes=check_grad_dtypes,
                     check_batched_grad=check_batched_grad, fast_mode=fast_mode)
