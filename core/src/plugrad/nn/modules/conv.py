"""Convolution layers over 1, 2 or 3 spatial dims: ``Conv1d``/``Conv2d``/``Conv3d`` and
``ConvTranspose1d``/``ConvTranspose2d``/``ConvTranspose3d``."""

from __future__ import annotations

import math

from ...creation import empty
from ...ops.convolution import ntuple
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What the convolution layers share: arguments, parameters, initialisation, repr."""

    _ndim = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                 padding_mode, device, dtype, transposed=False, output_padding=0):
        super().__init__()
        name = type(self).__name__
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {list(_PADDING_MODES)}, but got padding_mode="
                             f"'{padding_mode}'")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = self._tuple(kernel_size, "kernel_size", name)
        self.stride = self._tuple(stride, "stride", name)
        self.dilation = self._tuple(dilation, "dilation", name)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of ['valid', 'same']")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = self._tuple(padding, "padding", name)
        self.groups, self.padding_mode = groups, padding_mode
        self.output_padding = self._tuple(output_padding, "output_padding", name)
        self.transposed = transposed
        shape = (in_channels, out_channels // groups) if transposed else (out_channels, in_channels // groups)
        self.weight = Parameter(empty(shape + self.kernel_size, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _tuple(self, value, what, name):
        return ntuple(value, self._ndim, what, name)

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _check_input(self, input):
        nd = self._ndim
        shape = list(getattr(input, "shape", ()))
        if len(shape) not in (nd + 1, nd + 2) or shape[-nd - 1] != self.in_channels:
            dims = {1: "L", 2: "H, W", 3: "D, H, W"}[nd]
            raise RuntimeError(f"{self._get_name()}({self.extra_repr()}): expected input of shape "
                               f"[N, {self.in_channels}, {dims}] or [{self.in_channels}, {dims}], but got input "
                               f"of shape {shape}")

    def _padded_input(self, input):
        """The input padded by padding_mode (non-zero modes pad before the convolution);
        'same' pads ``dilation * (kernel - 1)`` per dim, the odd one at the end, as PyTorch."""
        pads = []
        for i in reversed(range(self._ndim)):
            if self.padding == "valid":
                lo = hi = 0
            elif self.padding == "same":
                total = self.dilation[i] * (self.kernel_size[i] - 1)
                lo, hi = total // 2, total - total // 2
            else:
                lo = hi = self.padding[i]
            pads += [lo, hi]
        return F.pad(input, pads, mode=self.padding_mode)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._ndim:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._ndim:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._ndim:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _forward(self, input, conv, padding):
        """Run ``conv`` (F.conv1d, F.conv2d or F.conv3d) with this layer's settings; a padding
        mode other than zeros pads the input first."""
        self._check_input(input)
        if self.padding_mode != "zeros":
            return conv(self._padded_input(input), self.weight, self.bias, self.stride, 0, self.dilation,
                        self.groups)
        return conv(input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class Conv2d(_ConvNd):
    """2-d convolution over (N, C, H, W) or (C, H, W) inputs."""

    _ndim = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)

    def forward(self, input):
        return self._forward(input, F.conv2d, self.padding)


class Conv1d(_ConvNd):
    """1-d convolution over (N, C, L) or (C, L) inputs."""

    _ndim = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)

    def forward(self, input):
        return self._forward(input, F.conv1d, self.padding if isinstance(self.padding, str) else self.padding[0])


class Conv3d(_ConvNd):
    """3-d convolution over (N, C, D, H, W) or (C, D, H, W) inputs."""

    _ndim = 3

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)

    def forward(self, input):
        return self._forward(input, F.conv3d, self.padding)


class _ConvTransposeNd(_ConvNd):
    """What the transposed convolutions share: zeros padding only, and ``output_size``."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype, transposed=True, output_padding=output_padding)

    def _output_padding(self, input, output_size):
        """The output padding that reaches ``output_size`` (the layer's own when None)."""
        if output_size is None:
            return self.output_padding
        nd = self._ndim
        want = tuple(output_size)[-nd:]
        if len(want) != nd:
            raise ValueError(f"ConvTranspose{nd}D: for {input.dim()}D input, output_size must have {nd} or "
                             f"{nd + 2} elements (got {len(tuple(output_size))})")
        sizes = tuple(input.shape)[-nd:]
        least = [(n - 1) * s - 2 * p + d * (k - 1) + 1
                 for n, s, p, d, k in zip(sizes, self.stride, self.padding, self.dilation, self.kernel_size)]
        for w, lo, s in zip(want, least, self.stride):
            if not lo <= w < lo + s:
                raise ValueError(f"requested an output size of {list(want)}, but valid sizes range from {least} to "
                                 f"{[m + t - 1 for m, t in zip(least, self.stride)]} (for an input of "
                                 f"{list(sizes)})")
        return tuple(w - lo for w, lo in zip(want, least))

    def forward(self, input, output_size=None):
        self._check_input(input)
        conv = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[self._ndim]
        return conv(input, self.weight, self.bias, self.stride, self.padding, self._output_padding(input, output_size),
                    self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-d convolution (the adjoint of Conv1d): upsamples (N, C, L) inputs."""

    _ndim = 1


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-d convolution (the adjoint of Conv2d): upsamples (N, C, H, W) inputs."""

    _ndim = 2


class ConvTranspose3d(_ConvTransposeNd):
    """Transposed 3-d convolution (the adjoint of Conv3d): upsamples (N, C, D, H, W) inputs."""

    _ndim = 3
