"""``DataParallel``.

PyTorch splits a batch across CUDA devices, runs a replica of the module on each and
gathers the outputs; where no CUDA-like device is present it runs the module as is and
keeps ``device_ids`` empty. plugrad's devices are each one compute unit driven by its
plugin, so plugrad behaves as PyTorch does without GPUs: the wrapper runs the wrapped
module. Code written for ``DataParallel`` (``model.module``, the ``module.`` prefix of
state-dict keys) runs unchanged.
"""

from __future__ import annotations

from ..modules.module import Module

__all__ = ["DataParallel"]


class DataParallel(Module):
    """Wraps ``module`` (as ``self.module``); calling the wrapper calls the module.
    ``device_ids``, ``output_device`` and ``dim`` are accepted for compatibility and,
    as in PyTorch without GPUs, not used (``device_ids`` is ``[]``)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = []

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)

