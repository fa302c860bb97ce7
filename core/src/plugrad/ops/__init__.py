"""Op definitions, one module per family; each op is declared once (``declare``).

Importing this package loads every family, which fills the op table
(``plugrad.optable``) with every declared op, and registers the factories of
``plugrad.creation`` there too (ops build tensors with them); then ``methods`` binds
the Tensor methods.
"""

from .. import creation
from ..optable import ops as _table
from . import (activation, conversion, convolution, dense, elementwise, indexing, join, linalg, loss, normalization,
               padding, pooling, reduction, views)
from . import rearrange, sampling, scan, sorting

for _name in creation.__all__:
    _table.register(_name, getattr(creation, _name))

from . import methods  # noqa: E402,F401  (binds Tensor methods; must come last)
