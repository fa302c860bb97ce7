"""The autograd Function behind ``nn.CrossMapLRN2d`` (PyTorch's ``nn.modules._functions``
holds the same): PyTorch's running-window recurrence in forward (whose window is not
symmetric near the first channels) and its hand-written backward, so values and
gradients agree with PyTorch's; the node is ``CrossMapLRN2dBackward``."""

from __future__ import annotations

from ...autograd.function import Function
from ...creation import zeros
from ...ops.join import cat, stack

__all__ = ["CrossMapLRN2d"]


class CrossMapLRN2d(Function):
    """``x / (k + alpha / size * window_sum(x^2)) ^ beta`` over channels of a 4-d input;
    the node is ``CrossMapLRN2dBackward`` as in PyTorch."""

    @staticmethod
    def forward(ctx, input, size, alpha=1e-4, beta=0.75, k=1):
        if input.dim() != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D instead.")
        channels = input.size(1)
        square = input * input
        pre_pad = int((size - 1) / 2 + 1)
        current = square[:, :min(pre_pad, channels)].sum(1)
        scales = [current]
        for c in range(1, channels):
            if c < channels - pre_pad + 1:
                current = current + square[:, c + pre_pad - 1]
            if c > pre_pad:
                current = current - square[:, c - pre_pad]
            scales.append(current)
        scale = stack(scales, 1) * (alpha / size) + k
        output = scale.pow(-beta) * input
        ctx.size, ctx.alpha, ctx.beta, ctx.scale = size, alpha, beta, scale
        ctx.save_for_backward(input, output)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, output = ctx.saved_tensors
        size, scale = ctx.size, ctx.scale
        n, channels, h, w = input.shape
        before = int(size - (size - 1) / 2)
        after = size - 1 - before
        if after < 0:
            raise RuntimeError(f"CrossMapLRN2d: the backward of PyTorch's formula needs size >= 2, got {size}")
        ratio = grad_output * output / scale
        padded = cat([zeros(n, before, h, w, dtype=ratio.dtype, device=ratio.device), ratio,
                      zeros(n, after, h, w, dtype=ratio.dtype, device=ratio.device)], 1)
        running = cat([zeros(n, 1, h, w, dtype=ratio.dtype, device=ratio.device), padded.cumsum(1)], 1)
        window = running[:, size:size + channels] - running[:, :channels]   # sum of padded[c : c + size]
        grad_input = scale.pow(-ctx.beta) * grad_output - (2 * ctx.alpha * ctx.beta / size) * input * window
        return grad_input, None, None, None, None
