"""``RAdam``: Adam with a rectified adaptive learning rate (Liu et al.)."""

from __future__ import annotations

from .adam import _check
from .optimizer import Optimizer, _check_lr, _scalar_state, _to_scalar, _zeros

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam: while the variance estimate is unreliable (``rho_t <= 5``, the first steps)
    the step is plain bias-corrected momentum; afterwards Adam's adaptive step scaled by
    the rectification term ``r_t``. ``decoupled_weight_decay=True`` decays the weights as
    AdamW does."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        _check_lr(lr)
        _check(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay, differentiable=differentiable))

    def _update(self, group):
        lr, (beta1, beta2), eps = _to_scalar(group["lr"]), group["betas"], group["eps"]
        weight_decay = group["weight_decay"]
        for p, grad, state in self._stepped(group, lambda p, grad: dict(
                step=_scalar_state(p, 0.0), **_zeros(p, "exp_avg", "exp_avg_sq"))):
            step = state["step"].item()
            if weight_decay != 0:
                if group["decoupled_weight_decay"]:
                    p.mul_(1 - lr * weight_decay)
                else:
                    grad = grad.add(p, alpha=weight_decay)
            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
            exp_avg.lerp_(grad, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            bias_correction1 = 1 - beta1 ** step
            bias_correction2 = 1 - beta2 ** step
            bias_corrected_exp_avg = exp_avg / bias_correction1
            rho_inf = 2 / (1 - beta2) - 1
            rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
            if rho_t > 5.0:
                rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                adaptive_lr = (bias_correction2 ** 0.5) / exp_avg_sq.sqrt().add_(eps)
                p.add_(bias_corrected_exp_avg * lr * adaptive_lr * rect, alpha=-1.0)
            else:
                p.add_(bias_corrected_exp_avg * lr, alpha=-1.0)
