"""``RMSprop`` and ``Adagrad``: per-element step sizes from squared-gradient statistics."""

from __future__ import annotations

from .optimizer import Optimizer, _zeros

__all__ = ["RMSprop", "Adagrad"]


def _nonneg(**values):
    for name, v in values.items():
        if v < 0.0:
            label = "learning rate" if name == "lr" else f"{name} value"
            raise ValueError(f"Invalid {label}: {v}")


class RMSprop(Optimizer):
    """``v = alpha v + (1 - alpha) g^2``; ``p -= lr g / (sqrt(v) + eps)`` (``centered``
    subtracts the squared mean gradient from ``v``; ``momentum`` accumulates the step)."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _nonneg(lr=lr, epsilon=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, capturable=capturable, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable))

    def _update(self, group):
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        weight_decay, momentum, centered = group["weight_decay"], group["momentum"], group["centered"]
        buffers = ("square_avg",) + (("momentum_buffer",) if momentum > 0 else ()) + (("grad_avg",) if centered else ())
        for p, grad, state in self._stepped(group, lambda p, grad: dict(step=0, **_zeros(p, *buffers))):
            if weight_decay != 0:
                grad = grad.add(p, alpha=weight_decay)
            square_avg = state["square_avg"]
            square_avg.mul_(alpha).add_(grad * (1 - alpha) * grad)
            if centered:
                grad_avg = state["grad_avg"]
                grad_avg.add_((grad - grad_avg) * (1 - alpha))
                avg = (square_avg - grad_avg * grad_avg).sqrt_()
            else:
                avg = square_avg.sqrt()
            avg.add_(eps)
            if momentum > 0:
                buf = state["momentum_buffer"]
                buf.mul_(momentum).add_(grad / avg)
                p.add_(buf, alpha=-lr)
            else:
                p.add_(grad * -lr / avg)


class Adagrad(Optimizer):
    """``s += g^2``; ``p -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps)``."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        _nonneg(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                initial_accumulator_value=initial_accumulator_value, epsilon=eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, fused=fused))
        for group in self.param_groups:   # PyTorch makes Adagrad's state at construction
            for p in group["params"]:
                self.state[p].update(self._new_state(p, group))

    @staticmethod
    def _new_state(p, group) -> dict:
        return dict(step=0, sum=p.detach().new_full(p.shape, float(group["initial_accumulator_value"])))

    def _update(self, group):
        for p, grad, state in self._stepped(group, lambda p, grad: self._new_state(p, group)):
            if group["weight_decay"] != 0:
                grad = grad.add(p, alpha=group["weight_decay"])
            clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
            state["sum"].add_(grad * grad)
            std = state["sum"].sqrt().add_(group["eps"])
            p.add_(grad * -clr / std)
