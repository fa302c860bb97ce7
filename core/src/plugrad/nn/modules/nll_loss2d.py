"""``NLLLoss2d``: the deprecated name of ``NLLLoss`` for (N, C, H, W) inputs."""

from __future__ import annotations

import warnings

from .loss import NLLLoss

__all__ = ["NLLLoss2d"]

_DEPRECATED = ("`NLLLoss2d` has been deprecated. Please use `NLLLoss` instead as a drop-in replacement and see "
               "https://pytorch.org/docs/main/nn.html#torch.nn.NLLLoss for more details.")


class NLLLoss2d(NLLLoss):
    """``NLLLoss``, warning like PyTorch that the name is deprecated."""

    def __init_subclass__(cls, **kwargs):
        warnings.warn(_DEPRECATED, FutureWarning, stacklevel=2)
        super().__init_subclass__(**kwargs)

    def __new__(cls, *args, **kwargs):
        if cls is NLLLoss2d:  # a subclass warned once, when it was defined
            warnings.warn(_DEPRECATED, FutureWarning, stacklevel=2)
        return super().__new__(cls)

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean"):
        super().__init__(weight, size_average, ignore_index, reduce, reduction)
