"""``summary(model, input_size)``: a layer-by-layer table of output shapes and parameter
counts, like the ``torchsummary`` package's (``from torchsummary import summary``
becomes ``from plugrad.utils import summary``)."""

from __future__ import annotations

import sys

from ..autograd.grad_mode import no_grad
from ..creation import rand
from ..dtypes import float32
from ..nn import ModuleList, Sequential
from ..tensor import Tensor

__all__ = ["summary", "summary_string"]

_RULE = "-" * 64
_DOUBLE = "=" * 64
_MB = 1024.0 ** 2


def _shape_of(output, batch_size):
    if isinstance(output, Tensor):
        shape = list(output.shape)
        if shape:
            shape[0] = batch_size
        return shape
    if isinstance(output, (tuple, list)):
        return [_shape_of(o, batch_size) for o in output if isinstance(o, (Tensor, tuple, list))]
    return []


def _count(shape) -> int:
    if shape and isinstance(shape[0], list):
        return sum(_count(s) for s in shape)
    n = 1
    for d in shape:
        n *= d
    return n


def summary_string(model, input_size, batch_size: int = -1, device=None, dtypes=None):
    """The summary table as text, and ``(total_params, trainable_params)``.

    ``input_size`` is one sample's shape (a tuple) or a list of them for a model with
    several inputs; a batch of two random samples is run through ``model`` with
    forward hooks on every layer (containers excepted)."""
    sizes = [tuple(input_size)] if input_size and not isinstance(input_size[0], (tuple, list)) \
        else [tuple(s) for s in input_size]
    if dtypes is None:
        dtypes = [float32] * len(sizes)
    if device is None:
        first = next(iter(model.parameters()), None)
        device = first.device if first is not None else None
    rows, handles = [], []

    def hook(module, args, output):
        params = trainable = 0
        for p in module.parameters(recurse=False):
            params += p.numel()
            trainable += p.numel() if p.requires_grad else 0
        rows.append((f"{type(module).__name__}-{len(rows) + 1}", _shape_of(output, batch_size), params, trainable))

    for m in model.modules():
        if m is not model and not isinstance(m, (Sequential, ModuleList)):
            handles.append(m.register_forward_hook(hook))
    # the probe forward must not move running statistics (BatchNorm in training mode)
    saved = [(b, b.clone()) for b in model.buffers()]
    try:
        inputs = [rand(2, *s, device=device).to(d) for s, d in zip(sizes, dtypes)]
        with no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
        with no_grad():
            for b, copy in saved:
                b.copy_(copy)
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    lines = [_RULE, "{:>20}  {:>25} {:>15}".format("Layer (type)", "Output Shape", "Param #"), _DOUBLE]
    for name, shape, params, _ in rows:
        lines.append("{:>20}  {:>25} {:>15}".format(name, str(shape), f"{params:,}"))
    input_mb = abs(sum(_count(s) for s in sizes) * batch_size * 4.0 / _MB)
    output_mb = abs(2.0 * sum(_count(shape) for _, shape, _, _ in rows) * 4.0 / _MB)  # x2: outputs and gradients
    params_mb = abs(total * 4.0 / _MB)
    lines += [_DOUBLE, f"Total params: {total:,}", f"Trainable params: {trainable:,}",
              f"Non-trainable params: {total - trainable:,}", _RULE,
              f"Input size (MB): {input_mb:0.2f}", f"Forward/backward pass size (MB): {output_mb:0.2f}",
              f"Params size (MB): {params_mb:0.2f}",
              f"Estimated Total Size (MB): {input_mb + output_mb + params_mb:0.2f}", _RULE]
    return "\n".join(lines), (total, trainable)


def summary(model, input_size, batch_size: int = -1, device=None, dtypes=None, file=None) -> None:
    """Print the layer table of ``model`` for inputs of ``input_size`` (one sample's
    shape): layer, output shape (batch dim shown as ``batch_size``), parameter count,
    and totals. Returns None, like ``torchsummary.summary``."""
    text, _ = summary_string(model, input_size, batch_size, device, dtypes)
    print(text, file=file if file is not None else sys.stdout)
