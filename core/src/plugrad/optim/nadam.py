"""``NAdam``: Adam with Nesterov momentum (Dozat), optionally with decoupled weight decay."""

from __future__ import annotations

from .adam import _check
from .optimizer import Optimizer, _check_lr, _scalar_state, _to_scalar, _zeros

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam: the momentum coefficient ``mu_t = b1 (1 - 0.96^(t psi) / 2)`` warms up with
    ``momentum_decay`` ``psi``; each step mixes the gradient (weighted ``1 - mu_t``) and the
    look-ahead momentum (weighted ``mu_{t+1}``), both bias-corrected by the running product
    of the ``mu`` (state ``mu_product``). ``decoupled_weight_decay=True`` gives NAdamW."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check_lr(lr)
        _check(lr, betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))

    def _update(self, group):
        lr, (beta1, beta2), eps = _to_scalar(group["lr"]), group["betas"], group["eps"]
        weight_decay, momentum_decay = group["weight_decay"], group["momentum_decay"]
        for p, grad, state in self._stepped(group, lambda p, grad: dict(
                step=_scalar_state(p, 0.0), mu_product=_scalar_state(p, 1.0), **_zeros(p, "exp_avg", "exp_avg_sq"))):
            step = state["step"].item()
            bias_correction2 = 1 - beta2 ** step
            if weight_decay != 0:
                if group["decoupled_weight_decay"]:
                    p.mul_(1 - lr * weight_decay)
                else:
                    grad = grad.add(p, alpha=weight_decay)
            mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
            mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
            mu_product = state["mu_product"]
            mu_product *= mu
            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
            exp_avg.lerp_(grad, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            denom = exp_avg_sq.div(bias_correction2).sqrt()
            mu_product_value = mu_product.item()
            mu_product_next = mu_product_value * mu_next
            denom.add_(eps)
            p.addcdiv_(grad, denom, value=-lr * (1.0 - mu) / (1.0 - mu_product_value))
            p.addcdiv_(exp_avg, denom, value=-lr * mu_next / (1.0 - mu_product_next))
