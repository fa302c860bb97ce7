"""``Adafactor``: Adam-like steps with a factored second moment (Shazeer & Stern), so a
matrix parameter keeps one row and one column of statistics instead of a full copy."""

from __future__ import annotations

from ..tensor import Tensor
from .optimizer import Optimizer, _scalar_state, _to_scalar

__all__ = ["Adafactor"]

#: machine epsilon per float dtype: eps1's default, as ``torch.finfo(dtype).eps``
_EPS = {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7, "float32": 2.0 ** -23, "float64": 2.0 ** -52}


def _new_state(p, grad) -> dict:
    """The factored second moment of a matrix (a row and a column mean per batch), the
    full one of a vector."""
    if grad.dim() > 1:
        return dict(step=_scalar_state(p, 0.0), row_var=grad.new_zeros((*grad.shape[:-1], 1)),
                    col_var=grad.new_zeros((*grad.shape[:-2], 1, grad.shape[-1])))
    return dict(step=_scalar_state(p, 0.0), variance=grad.new_zeros(grad.shape))


class Adafactor(Optimizer):
    """Adafactor (PyTorch's variant): the second-moment decay is ``1 - t^beta2_decay``;
    a matrix (or batch of matrices) keeps row and column means of ``g^2`` (states
    ``row_var``, ``col_var``), a vector its ``variance``; the step is relative to the
    parameter's RMS (at least ``eps[1]``) and clipped to RMS ``d``."""

    def __init__(self, params, lr=1e-2, beta2_decay: float = -0.8, eps=(None, 1e-3), d: float = 1.0,
                 weight_decay: float = 0.0, *, foreach=None, maximize: bool = False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize))

    def _update(self, group):
        lr, beta2_decay, d = _to_scalar(group["lr"]), group["beta2_decay"], group["d"]
        eps1, eps2 = group["eps"]
        weight_decay = group["weight_decay"]
        for p, grad, state in self._stepped(group, _new_state):
            if eps1 is None:   # as in PyTorch: the first parameter's dtype decides, for the whole group
                eps1 = _EPS[p.dtype.name]
            step = state["step"].item()
            one_minus_beta2_t = step ** beta2_decay
            rho_t = min(lr, 1 / (step ** 0.5))
            alpha = max(eps2, p.norm(2).item() / (p.numel() ** 0.5)) * rho_t
            if weight_decay != 0:
                p.mul_(1 - lr * weight_decay)
            if grad.dim() > 1:
                row_var, col_var = state["row_var"], state["col_var"]
                row_var.lerp_(grad.norm(dim=-1, keepdim=True).square_().div_(grad.size(-1)), one_minus_beta2_t)
                col_var.lerp_(grad.norm(dim=-2, keepdim=True).square_().div_(grad.size(-2)), one_minus_beta2_t)
                var_estimate = row_var @ col_var
                var_estimate.div_(row_var.mean(dim=-2, keepdim=True).clamp_(min=eps1))
            else:
                variance = state["variance"]
                variance.lerp_(grad * grad, one_minus_beta2_t)
                var_estimate = variance.clone()
            update = var_estimate.clamp_(min=eps1 * eps1).rsqrt_()
            update.mul_(grad)
            denom = max(1.0, update.norm(2).item() / ((update.numel() ** 0.5) * d))
            p.add_(update, alpha=-alpha / denom)
