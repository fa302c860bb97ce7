"""``plugrad.utils``: ``data`` (datasets and loaders), ``dlpack`` (zero-copy exchange
with other array libraries) and ``summary`` (a model's layer table, the
``torchsummary`` function under plugrad's own name)."""

from . import data, dlpack
from .summary import summary, summary_string

__all__ = ["data", "dlpack", "summary", "summary_string"]
