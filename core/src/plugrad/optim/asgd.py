"""``ASGD``: averaged stochastic gradient descent (Polyak & Juditsky)."""

from __future__ import annotations

from ..creation import tensor
from .optimizer import Optimizer, _check_lr, _scalar_state, _to_scalar, _zeros

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """ASGD: SGD with a decaying step ``eta_t = lr / (1 + lambd lr t)^alpha`` and weight
    shrinkage ``1 - lambd eta``; from step ``t0`` on, ``ax`` keeps the running average of
    the iterates (``mu = 1 / max(1, t - t0)``)."""

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _update(self, group):
        lr, lambd, alpha, t0 = _to_scalar(group["lr"]), group["lambd"], group["alpha"], group["t0"]
        weight_decay = group["weight_decay"]
        for p, grad, state in self._stepped(group, lambda p, grad: dict(
                step=_scalar_state(p, 0.0), eta=_scalar_state(p, lr), mu=_scalar_state(p, 1.0), **_zeros(p, "ax"))):
            if weight_decay != 0:
                grad = grad.add(p, alpha=weight_decay)
            eta = state["eta"].item()
            p.mul_(1 - lambd * eta)
            p.add_(grad, alpha=-eta)
            ax, mu = state["ax"], state["mu"].item()
            if mu != 1:
                ax.add_(p.sub(ax).mul_(mu))
            else:
                ax.copy_(p)
            step = state["step"].item()
            # PyTorch goes through a tensor of the default dtype, which rounds these two
            state["eta"].copy_(tensor(lr / ((1 + lambd * lr * step) ** alpha), device=p.device))
            state["mu"].copy_(tensor(1 / max(1, step - t0), device=p.device))
