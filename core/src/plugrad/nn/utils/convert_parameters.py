"""Parameters as one flat vector and back (for optimizers that work on vectors)."""

from __future__ import annotations

from ...autograd.grad_mode import no_grad
from ...ops.join import cat

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters):
    """All parameters flattened and joined, in order, into one 1-d tensor."""
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters) -> None:
    """Copy consecutive slices of ``vec`` into the parameters (the inverse of
    ``parameters_to_vector``)."""
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.dim() != 1 or vec.numel() != total:
        raise RuntimeError(f"vector_to_parameters(): expected a 1-d vector of {total} elements, got shape "
                           f"{list(vec.shape)}")
    start = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p.copy_(vec[start:start + n].view_as(p))
            start += n
