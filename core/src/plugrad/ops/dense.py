"""The dense layers' ops: ``linear`` (``x @ W^T + b``) and ``embedding`` (row lookup).

``linear`` of a matrix with a bias is one fused step, recorded as ``AddmmBackward0``
as in PyTorch: the product runs on the backend's ``matmul`` with the weight read
transposed in place, and the bias is added into the product's buffer.
"""

from __future__ import annotations

from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, record
from ..creation import zeros
from ..dtypes import int32, int64
from ..layout import broadcast_shapes, numel
from ..optable import ops
from ..tensor import Tensor, make
from .checks import check_device, check_int, check_same_device, check_tensor
from .declare import declare

__all__ = ["linear", "embedding"]


class AddmmBackward0(Node):
    """d(b + x @ W^T) = (g, g @ W, g^T @ x)"""

    def backward(self, g):
        x, w = self.saved_tensors
        need = [f is not None for f, _ in self.next_functions]
        gb = g if need[0] else None
        gx = ops.mm(g, w) if need[1] else None
        gw = ops.mm(g.t(), x) if need[2] else None
        return gb, gx, gw


def _product(x: Tensor, w: Tensor, bias) -> Tensor:
    """``x @ w^T (+ bias)`` for a 2-d ``x``, untracked."""
    backend = x._backend
    m, k = x._shape
    o = w._shape[0]
    out = backend.empty((m, o), x._dtype)
    if m and o:
        if k:
            wt = backend.view(w._storage.base, (k, o), (w._strides[1], w._strides[0]), w._offset)
            backend.matmul(x._a, wt, out)
        else:
            backend.fill(out, x._dtype._py(0))
        if bias is not None:
            backend.binary("add", out, bias._a, out)
    return make(backend, out, (m, o), x._dtype)


def _check_linear(input, weight, bias):
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"linear(): expected Tensor input and weight, got {type(input).__name__} and "
                        f"{type(weight).__name__}")
    if weight.dim() != 2:
        raise RuntimeError(f"linear(): weight must be a matrix (out_features, in_features), got shape "
                           f"{list(weight._shape)}")
    check_same_device(input, weight, "linear")
    if input.dim() == 0:
        raise RuntimeError("linear(): both arguments to linear need to be at least 1D, but input is 0D")
    if input._dtype is not weight._dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {input._dtype.name.capitalize()} and "
                           f"{weight._dtype.name.capitalize()}")
    k = input._shape[-1]
    if k != weight._shape[1]:
        rows = 1 if input.dim() == 1 else input.numel() // k if k else input._shape[0]
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{k} and "
                           f"{weight._shape[1]}x{weight._shape[0]})")
    if bias is not None:
        if not isinstance(bias, Tensor):
            raise TypeError(f"linear(): bias must be a Tensor or None, got {type(bias).__name__}")
        check_device(input, bias, "linear")
        if bias._shape not in ((weight._shape[0],), (), (1,)) and not _broadcasts_into(
                bias._shape, _bias_target(input, weight)):
            raise RuntimeError(f"linear(): bias of shape {list(bias._shape)} does not broadcast to the output of "
                               f"{weight._shape[0]} out_features (input of shape {list(input._shape)})")
        if bias._dtype is not input._dtype:
            raise RuntimeError(f"linear(): bias dtype {bias._dtype!r} does not match input dtype {input._dtype!r}")


def _bias_target(input, weight) -> tuple:
    """The shape a bias broadcasts into without growing it: the 2-d product (a 1-d input is
    one row) or, for a batch of matrices, the output ``input.shape[:-1] + (out_features,)``."""
    if input.dim() > 2:
        return input._shape[:-1] + (weight._shape[0],)
    return (input._shape[0] if input.dim() == 2 else 1, weight._shape[0])


def _broadcasts_into(shape: tuple, target: tuple) -> bool:
    try:
        return len(shape) <= len(target) and broadcast_shapes(shape, target) == target
    except RuntimeError:
        return False


@declare(public=False)
def linear(input, weight, bias=None) -> Tensor:
    """``input @ weight^T + bias`` over the last dim of ``input``; the bias broadcasts."""
    _check_linear(input, weight, bias)
    if input.dim() != 2:
        lead = input._shape[:-1]
        if bias is not None and bias.dim() > 1 and input.dim() > 2 and not _broadcasts_into(
                bias._shape, (numel(lead), weight._shape[0])):
            return linear(input, weight) + bias   # a bias that varies over the batch dims
        r = linear(input.reshape(numel(lead), input._shape[-1]), weight, bias)  # -1 is ambiguous for 0 features
        return r.reshape(lead + (weight._shape[0],))
    if bias is None:
        return ops.mm(input, weight.t())
    r = _product(input, weight, bias)
    if STATE.enabled and (input._requires_grad or weight._requires_grad or bias._requires_grad):
        node = AddmmBackward0()
        node.save(input if weight._requires_grad else None, weight if input._requires_grad else None)
        record(node, (bias, input, weight), r)
    return r


class EmbeddingBackward0(Node):
    """d weight[idx] = zeros with g's rows added at idx (none at padding_idx)"""
    __slots__ = ("num_weights", "padding_idx")

    def backward(self, g):
        (indices,) = self.saved_tensors
        dim = g._shape[-1]
        flat_g = g.reshape(-1, dim)
        if self.padding_idx is not None:
            flat_g = flat_g * (indices != self.padding_idx).unsqueeze(1).to(g._dtype)
        return (ops.index_add(zeros((self.num_weights, dim), dtype=g._dtype, device=g.device), 0, indices, flat_g),)


@declare(public=False)
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False) -> Tensor:
    """The rows of ``weight`` at the integer positions ``input`` (result: input.shape + (D,))."""
    check_tensor(input, "embedding", "indices")
    if input._dtype not in (int64, int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {input._type_label()} instead (while checking arguments for "
                           f"embedding)")
    check_tensor(weight, "embedding", "weight")
    if padding_idx is not None and type(padding_idx) is not int:
        padding_idx = check_int(padding_idx, "embedding", "padding_idx")
    if padding_idx is not None and padding_idx and not weight._shape:   # PyTorch reads its size(0) first
        raise IndexError("embedding(): a 0-d weight has no dim 0 to hold padding_idx")
    if weight.dim() != 2:
        raise RuntimeError(f"embedding(): 'weight' must be 2-D, got shape {list(weight._shape)}")
    if scale_grad_by_freq or sparse:
        raise RuntimeError("embedding(): scale_grad_by_freq and sparse gradients are not supported")
    num = weight._shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise RuntimeError(f"embedding(): padding_idx must be within num_embeddings ({num}), got {padding_idx}")
        padding_idx = padding_idx + num if padding_idx < 0 else padding_idx
    flat = input.reshape(-1).long()
    if flat.numel():
        if not num:
            raise RuntimeError("embedding(): the weight has no rows (num_embeddings is 0) to look indices up in")
        lo, hi = int(flat.min()), int(flat.max())
        if lo < 0 or hi >= num:
            raise IndexError("index out of range in self")
    if max_norm is not None:
        _renorm_rows_(weight, flat, max_norm, norm_type)
    with no_grad():
        r = ops.index_select(weight, 0, flat).reshape(input._shape + (weight._shape[1],))
    if STATE.enabled and weight._requires_grad:
        node = EmbeddingBackward0()
        node.num_weights, node.padding_idx = num, padding_idx
        node.save(flat)
        record(node, (weight,), r)
    return r


def _renorm_rows_(weight, indices, max_norm, norm_type):
    """Scale the looked-up rows whose norm exceeds ``max_norm`` down to it, in place
    (PyTorch's ``max_norm`` contract: the weight itself is modified, untracked)."""
    with no_grad():
        w = weight.detach()
        picked = w.index_select(0, indices)
        norms = picked.abs().pow(norm_type).sum(1).pow(1.0 / norm_type)
        scale = (max_norm / (norms + 1e-7)).clamp(max=1.0)
        w[indices] = picked * scale.unsqueeze(1)  # repeated indices write the same row twice
