"""Matrix products: ``mm``, ``bmm``, ``matmul``, ``dot``, ``mv``, ``outer``, ``addmm``.

Every product runs on the backend's one batched kernel, ``matmul(a, b, out)`` with
3-d operands; the core folds and broadcasts batch dims into that form.
"""

from __future__ import annotations

from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, record
from ..dtypes import opmath
from ..layout import broadcast_shapes, contiguous_strides, numel
from ..tensor import Tensor, make
from .checks import check_device, check_tensor, check_tensors
from .dispatch import write_out
from .views import SqueezeBackward1, UnsafeViewBackward0, _view_of
from .declare import declare

__all__ = ["mm", "bmm", "matmul", "dot", "vdot", "mv", "outer", "ger", "addmm", "inner"]


def _bmm3(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` for 3-d ``(B, M, K)`` and ``(B, K, N)`` operands."""
    backend = a._backend
    nb, m, k, n = a._shape[0], a._shape[1], a._shape[2], b._shape[2]
    out = backend.empty((nb, m, n), a._dtype)
    if nb and m and n:
        if k:
            backend.matmul(a._a, b._a, out)
        else:
            backend.fill(out, a._dtype._py(0))
    return make(backend, out, (nb, m, n), a._dtype)


def _common(a, b, fname):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"{fname}(): expected Tensor arguments, got {type(a).__name__} and {type(b).__name__}")
    check_device(a, b, fname)
    if a._dtype is not b._dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {a._dtype.name} != {b._dtype.name}"
                           f" (in {fname})")


class MmBackward0(Node):
    """d(a @ b) = (g @ b^T, a^T @ g)"""

    def backward(self, g):
        a, b = self.saved_tensors
        ga = mm(g, b.t()) if self.next_functions[0][0] is not None else None
        gb = mm(a.t(), g) if self.next_functions[1][0] is not None else None
        return ga, gb


@declare(method=True)
def mm(input, mat2, *, out=None) -> Tensor:
    """Matrix product of two 2-d tensors."""
    _common(input, mat2, "mm")
    if input.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError(f"{'self' if input.dim() != 2 else 'mat2'} must be a matrix (mm got {input.dim()}-d and "
                           f"{mat2.dim()}-d tensors)")
    if input._shape[1] != mat2._shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({input._shape[0]}x{input._shape[1]} and "
                           f"{mat2._shape[0]}x{mat2._shape[1]})")
    r = _mm2(input, mat2)
    if STATE.enabled and (input._requires_grad or mat2._requires_grad):
        node = MmBackward0()
        node.save(input, mat2)
        record(node, (input, mat2), r)
    return r if out is None else write_out(out, r, "mm")


def _mm2(a, b):
    backend = a._backend
    m, k, n = a._shape[0], a._shape[1], b._shape[1]
    out = backend.empty((m, n), a._dtype)
    if m and n:
        if k:
            backend.matmul(a._a, b._a, out)
        else:
            backend.fill(out, a._dtype._py(0))
    return make(backend, out, (m, n), a._dtype)


class BmmBackward0(Node):
    """d(a @ b) batched = (g @ b^T, a^T @ g)"""

    def backward(self, g):
        a, b = self.saved_tensors
        ga = bmm(g, b.transpose(1, 2)) if self.next_functions[0][0] is not None else None
        gb = bmm(a.transpose(1, 2), g) if self.next_functions[1][0] is not None else None
        return ga, gb


@declare(method=True)
def bmm(input, mat2, *, out=None) -> Tensor:
    """Batched matrix product of two 3-d tensors with the same batch size."""
    _common(input, mat2, "bmm")
    if input.dim() != 3 or mat2.dim() != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor (bmm got {input.dim()}-d and {mat2.dim()}-d tensors)")
    if input._shape[0] != mat2._shape[0] or input._shape[2] != mat2._shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{input._shape[0]}, {input._shape[2]}] but got: [{mat2._shape[0]}, {mat2._shape[1]}].")
    r = _bmm3(input, mat2)
    if STATE.enabled and (input._requires_grad or mat2._requires_grad):
        node = BmmBackward0()
        node.save(input, mat2)
        record(node, (input, mat2), r)
    return r if out is None else write_out(out, r, "bmm")


class DotBackward0(Node):
    """d(a . b) = (g b, g a)"""

    def backward(self, g):
        a, b = self.saved_tensors
        return (g * b if self.next_functions[0][0] is not None else None,
                g * a if self.next_functions[1][0] is not None else None)


@declare(method=True, aliases=("vdot",))
def dot(input, other, *, out=None) -> Tensor:
    """Inner product of two 1-d tensors."""
    _common(input, other, "dot")
    if input.dim() != 1 or other.dim() != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.dim()}D and {other.dim()}D tensors")
    if input._shape[0] != other._shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input._shape[0]}] and src [{other._shape[0]}] "
                           f"to have the same number of elements, but got {input._shape[0]} and {other._shape[0]} "
                           f"elements respectively")
    r = _mm2(input.detach().reshape(1, -1), other.detach().reshape(-1, 1)).reshape(())
    if STATE.enabled and (input._requires_grad or other._requires_grad):
        node = DotBackward0()
        node.save(input, other)
        record(node, (input, other), r)
    return r if out is None else write_out(out, r, "dot")


vdot = dot


@declare(method=True)
def inner(input, other) -> Tensor:
    """Sums of products over the last dim of both operands (the result has both leading
    shapes); a 0-d operand scales the other; two vectors give their dot product."""
    check_tensor(input, "inner", "input")
    check_tensor(other, "inner", "other")
    if input.dim() == 0 or other.dim() == 0:
        return input * other
    if input.dim() == 1 and other.dim() == 1:
        return dot(input, other)
    k = input._shape[-1]
    if other._shape[-1] != k:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input._shape)} and {list(other._shape)}")
    r = matmul(input.reshape(-1, k), other.reshape(-1, k).t())
    return r.reshape(input._shape[:-1] + other._shape[:-1])


class MvBackward0(Node):
    """d(A v) = (outer(g, v), A^T g)"""

    def backward(self, g):
        a, v = self.saved_tensors
        ga = outer(g, v) if self.next_functions[0][0] is not None else None
        gv = mv(a.t(), g) if self.next_functions[1][0] is not None else None
        return ga, gv


@declare(method=True)
def mv(input, vec, *, out=None) -> Tensor:
    """Matrix-vector product."""
    if isinstance(input, Tensor) and not input._shape and isinstance(vec, Tensor):
        # PyTorch reads the matrix's dim 0 before any other check: an IndexError
        raise IndexError("mv(): the matrix argument is 0-d, so it has no dim 0; expected a 2-d matrix")
    _common(input, vec, "mv")
    if input.dim() != 2 or vec.dim() != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.dim()}, {vec.dim()}")
    if input._shape[1] != vec._shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input._shape[0]}), mat ({input._shape[0]}x{input._shape[1]}), "
                           f"vec ({vec._shape[0]})")
    r = _mm2(input.detach(), vec.detach().reshape(-1, 1)).reshape(-1)
    if STATE.enabled and (input._requires_grad or vec._requires_grad):
        node = MvBackward0()
        node.save(input, vec)
        record(node, (input, vec), r)
    return r if out is None else write_out(out, r, "mv")


@declare(method=True, aliases=("ger",))
def outer(input, vec2) -> Tensor:
    """Outer product of two vectors."""
    for name, v in (("self", input), ("vec2", vec2)):
        check_tensor(v, "outer", name)
        if v.dim() != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v.dim()}-D")
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer


class AddmmBackward0(Node):
    """d(beta c + alpha a @ b) = (beta g, alpha g @ b^T, alpha a^T @ g)"""
    __slots__ = ("alpha", "beta")

    def backward(self, g):
        a, b = self.saved_tensors
        needs = [e[0] is not None for e in self.next_functions]
        alpha, beta = self.alpha, self.beta
        gc = (g if beta == 1 else g * beta) if needs[0] else None
        ga = gb = None
        if needs[1]:
            ga = mm(g, b.t())
            ga = ga if alpha == 1 else ga * alpha
        if needs[2]:
            gb = mm(a.t(), g)
            gb = gb if alpha == 1 else gb * alpha
        return gc, ga, gb


@declare(method=True)
def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)`` (``input`` broadcasts; with beta=0 it is
    ignored, NaNs included). ``alpha`` and ``beta`` are converted to the dtype first, as
    in PyTorch (1.5 is 1 for integer matrices; a value the dtype cannot hold is refused)."""
    check_tensors("addmm", input=input, mat1=mat1, mat2=mat2)
    check_device(input, mat1, "addmm")
    if input._dtype is not mat1._dtype:
        raise RuntimeError(f"addmm: self and mat2 must have the same dtype, but got {input._dtype.name} and "
                           f"{mat1._dtype.name}")
    for name, value in (("beta", beta), ("alpha", alpha)):
        if not isinstance(value, (int, float)):
            raise TypeError(f"addmm(): argument '{name}' must be Number, not {type(value).__name__}")
    with no_grad():
        prod = mm(mat1, mat2)
        if broadcast_shapes(input._shape, prod._shape) != prod._shape:
            raise RuntimeError(f"addmm: input of shape {list(input._shape)} does not broadcast to the product's "
                               f"shape {list(prod._shape)}")
        if not numel(prod._shape):
            r = prod        # nothing to compute: the scalars are never converted
        elif not mat1._shape[1]:
            r = _scaled_input(input, beta, prod)
        else:
            # checked as PyTorch converts them: to the dtype, float16 to float32 (its compute type)
            dt = opmath(input._dtype)
            beta, alpha = dt.checked_scalar(beta), dt.checked_scalar(alpha)
            if alpha != 1:
                prod = prod * alpha
            r = prod if beta == 0 else prod + (input if beta == 1 else input * beta)
    if STATE.enabled and (input._requires_grad or mat1._requires_grad or mat2._requires_grad):
        node = AddmmBackward0()
        node.alpha, node.beta = alpha, beta
        node.save(mat1 if mat2._requires_grad else None, mat2 if mat1._requires_grad else None)
        record(node, (input, mat1, mat2), r)
    return r if out is None else write_out(out, r, "addmm")


def _scaled_input(input, beta, prod) -> Tensor:
    """``beta * input`` spread over the shape of ``prod`` (an all-zero product of an empty
    inner dim), computed as PyTorch does there: an ordinary multiplication written into
    the input's dtype (an int ``beta`` wraps, a float ``beta`` refused for an integer input),
    and zeros for ``beta == 0`` whatever the input holds."""
    if beta == 0:
        return prod
    scaled = input * beta
    if scaled._dtype is not input._dtype:
        raise RuntimeError(f"addmm: beta={beta!r} makes the result {scaled._dtype.name}, which cannot be "
                           f"written into the input's dtype {input._dtype.name}")
    return scaled.expand(prod._shape).contiguous()


class SqueezeBackward4(SqueezeBackward1):
    """d a.squeeze_(dim) (how matmul drops the dim it added to a vector) = g with the dim restored"""


def _unsafe_view(r, shape) -> Tensor:
    """``r`` (a fresh contiguous product) seen with the final shape; recorded as PyTorch's
    matmul records its folding reshapes."""
    return _view_of(r, tuple(shape), contiguous_strides(tuple(shape)), r._offset, UnsafeViewBackward0, shape=r._shape)


@declare(method=True)
def matmul(input, other, *, out=None) -> Tensor:
    """The ``@`` operator: dot, matrix-vector, matrix and batched products, with
    broadcasting of batch dims (NumPy's ``matmul`` rules)."""
    _common(input, other, "matmul")
    da, db = input.dim(), other.dim()
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {da}D and {db}D")
    if da == 1 and db == 1:
        r = dot(input, other)
    elif da == 2 and db == 1:
        r = mv(input, other)
    elif da == 1 and db == 2:
        if input._shape[0] != other._shape[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied (1x{input._shape[0]} and "
                               f"{other._shape[0]}x{other._shape[1]})")
        p = mm(input.unsqueeze(0), other)
        r = _view_of(p, p._shape[1:], p._strides[1:], p._offset, SqueezeBackward4, shape=p._shape, dim=0)
    elif da == 2 and db == 2:
        r = mm(input, other)
    elif da >= 3 and db <= 2:
        # fold the batch dims into the rows: one mm (or mv) and a reshape
        k = input._shape[-1]
        rows = input.reshape(numel(input._shape[:-1]), k)  # not -1: ambiguous with zero-size matrices
        if db == 1:
            r = _unsafe_view(mv(rows, other), input._shape[:-1])
        else:
            if k != other._shape[0]:
                raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows._shape[0]}x{k} and "
                                   f"{other._shape[0]}x{other._shape[1]})")
            r = _unsafe_view(mm(rows, other), input._shape[:-1] + (other._shape[1],))
    else:
        a = input.unsqueeze(0) if da == 1 else input
        b = other.unsqueeze(-1) if db == 1 else other
        if a._shape[-1] != b._shape[-2]:
            raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                               f"[{a._shape[-1]}, {b._shape[-2]}]: shapes {list(input._shape)} and "
                               f"{list(other._shape)} cannot be multiplied")
        batch = broadcast_shapes(a._shape[:-2], b._shape[:-2])
        m, k, n = a._shape[-2], a._shape[-1], b._shape[-1]
        nb = numel(batch)  # not -1: with a zero-size matrix -1 would be ambiguous
        a3 = a if a._shape == batch + (m, k) and a.dim() == 3 else a.expand(batch + (m, k)).reshape(nb, m, k)
        b3 = b if b._shape == batch + (k, n) and b.dim() == 3 else b.expand(batch + (k, n)).reshape(nb, k, n)
        shape = batch + ((m,) if da > 1 else ()) + ((n,) if db > 1 else ())
        r = _unsafe_view(bmm(a3, b3), shape)
    return r if out is None else write_out(out, r, "matmul")
