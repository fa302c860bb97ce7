"""``Adadelta``: per-coordinate steps from running averages of squared gradients and
squared updates (Zeiler), with no learning-rate schedule needed."""

from __future__ import annotations

from .optimizer import Optimizer, _check_lr, _scalar_state, _to_scalar, _zeros

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta: ``v = rho v + (1 - rho) g^2``, ``dx = sqrt(u + eps) / sqrt(v + eps) * g``,
    ``u = rho u + (1 - rho) dx^2``, ``p -= lr dx`` (states ``square_avg``, ``acc_delta``)."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      capturable=capturable, foreach=foreach, differentiable=differentiable))

    def _update(self, group):
        lr, rho, eps, weight_decay = _to_scalar(group["lr"]), group["rho"], group["eps"], group["weight_decay"]
        for p, grad, state in self._stepped(group, lambda p, grad: dict(
                step=_scalar_state(p, 0.0), **_zeros(p, "square_avg", "acc_delta"))):
            if weight_decay != 0:
                grad = grad.add(p, alpha=weight_decay)
            square_avg, acc_delta = state["square_avg"], state["acc_delta"]
            square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
            std = square_avg.add(eps).sqrt_()
            delta = acc_delta.add(eps).sqrt_()
            delta.div_(std).mul_(grad)
            acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
            p.add_(delta, alpha=-lr)
