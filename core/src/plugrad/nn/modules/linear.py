"""``Linear`` (``y = x W^T + b``) and ``Identity``."""

from __future__ import annotations

import math

from ...creation import empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Identity", "Linear"]


class Identity(Module):
    """Returns its input unchanged (a placeholder layer); takes and ignores any arguments."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """``y = x @ weight^T + bias`` over the last dim of ``x``.

    ``weight`` (out_features, in_features) starts from kaiming_uniform(a=sqrt(5)) and
    ``bias`` from U(-1/sqrt(in_features), 1/sqrt(in_features)), as in PyTorch."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(empty((out_features, in_features), device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        shape = getattr(input, "shape", None)
        if shape is not None and (len(shape) == 0 or shape[-1] != self.in_features):
            raise RuntimeError(f"{self._get_name()}({self.extra_repr()}): expected input of shape "
                               f"[*, {self.in_features}], but got input of shape {list(shape)}")
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
