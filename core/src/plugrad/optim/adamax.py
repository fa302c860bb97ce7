"""``Adamax``: Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

from .adam import _check
from .optimizer import Optimizer, _check_lr, _scalar_state, _to_scalar, _zeros

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax (Kingma & Ba): ``u = max(b2 u, |g| + eps)`` (state ``exp_inf``),
    ``p -= lr / (1 - b1^t) * m / u``."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, capturable=capturable))

    def _update(self, group):
        lr, (beta1, beta2), eps = _to_scalar(group["lr"]), group["betas"], group["eps"]
        weight_decay = group["weight_decay"]
        for p, grad, state in self._stepped(group, lambda p, grad: dict(
                step=_scalar_state(p, 0.0), **_zeros(p, "exp_avg", "exp_inf"))):
            if weight_decay != 0:
                grad = grad.add(p, alpha=weight_decay)
            exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
            exp_avg.lerp_(grad, 1 - beta1)
            exp_inf.mul_(beta2).maximum_(grad.abs().add_(eps))
            clr = lr / (1 - beta1 ** state["step"].item())
            p.addcdiv_(exp_avg, exp_inf, value=-clr)
