"""``plugrad.utils``: ``data`` (datasets and loaders) and ``summary`` (a model's layer
table, the ``torchsummary`` function under plugrad's own name)."""

from . import data
from .summary import summary, summary_string

__all__ = ["data", "summary", "summary_string"]
