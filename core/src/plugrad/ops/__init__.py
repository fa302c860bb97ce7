"""Op definitions, one module per family. Importing this package binds the Tensor
methods (see ``methods``)."""

from . import conversion, elementwise, indexing, join, linalg, reduction, views  # noqa: F401
from . import methods  # noqa: F401  (binds Tensor methods; must come last)
