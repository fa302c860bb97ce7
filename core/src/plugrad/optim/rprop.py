"""``Rprop``: resilient backpropagation (Riedmiller & Braun): per-coordinate step sizes
driven by the gradient's sign only."""

from __future__ import annotations

from .optimizer import Optimizer, _check_lr, _scalar_state, _to_scalar, _zeros

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Rprop: each coordinate's step size grows by ``etaplus`` while its gradient keeps
    its sign and shrinks by ``etaminus`` when it flips (that step is then skipped),
    clamped to ``step_sizes``; the parameter moves by ``-sign(g) * step_size``
    (states ``prev``, ``step_size``)."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    def _update(self, group):
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        for p, grad, state in self._stepped(group, lambda p, grad: dict(
                step=_scalar_state(p, 0.0), **_zeros(p, "prev"),
                step_size=grad.new_full(grad.shape, _to_scalar(group["lr"])))):
            prev, step_size = state["prev"], state["step_size"]
            sign = grad.mul(prev).sign()
            sign = sign.masked_fill(sign.gt(0), etaplus).masked_fill(sign.lt(0), etaminus)
            sign = sign.masked_fill(sign.eq(0), 1)
            step_size.mul_(sign).clamp_(step_size_min, step_size_max)
            grad = grad.masked_fill(sign.eq(etaminus), 0)
            p.addcmul_(grad.sign(), step_size, value=-1)
            prev.copy_(grad)
