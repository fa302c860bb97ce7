"""``plugrad.nn.parallel`` (``torch.nn.parallel``): the single-process data-parallel
wrapper."""

from .data_parallel import DataParallel

__all__ = ["DataParallel"]
