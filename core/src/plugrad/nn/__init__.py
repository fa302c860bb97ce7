"""``plugrad.nn`` (``torch.nn``): modules, parameters, layers, losses, ``functional``
and ``init``."""

from .._missing import missing_attribute as _missing_attribute
from . import functional, init, parallel, utils
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all
from .parallel import DataParallel
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter

__all__ = ["Parameter", "functional", "init", "utils", *_modules_all]
__all__ += ["parallel", "DataParallel", "Buffer", "UninitializedParameter", "UninitializedBuffer"]


def __getattr__(name):
    """A name PyTorch has here and plugrad lacks says so (``plugrad._missing``)."""
    _missing_attribute(__name__, name)
