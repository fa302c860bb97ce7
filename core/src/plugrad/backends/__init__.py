"""``plugrad.backends`` (``torch.backends``): what the CUDA and Apple backends of PyTorch
report, for code that asks before choosing a device.

A tutorial's ``"mps" if torch.backends.mps.is_available() else "cpu"`` and a training
script's ``torch.backends.cudnn.benchmark = True`` run unchanged: plugrad has none of
these libraries, so every ``is_available()`` is False and the flags are plain settings
that nothing reads (as in a PyTorch build without them). plugrad's own devices are
asked through ``plugrad.<device type>.is_available()`` (``plugrad.opencl``...).
"""

from . import cuda, cudnn, mkldnn, mps, openmp

__all__ = ["cuda", "cudnn", "mkldnn", "mps", "openmp"]
from . import mha  # noqa: E402
__all__ += ["mha"]
