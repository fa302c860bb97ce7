"""Op definitions, one module per family; each op is declared once (``declare``).

Importing this package loads every family, which fills the op table
(``plugrad.optable``) with every declared op, and registers the factories of
``plugrad.creation`` there too (ops build tensors with them); then ``methods`` binds
the Tensor methods.
"""

from .. import creation
from ..optable import ops as _table
from . import (activation, attention, conversion, convolution, decompositions, dense, elementwise, gather,  # noqa: F401
               indexing, join, linalg, loss, nan, normalization, padding, pooling, products, rearrange, reduction,
               sampling, scan, shaping, sorting, upsampling, views)

for _name in creation.__all__:
    _table.register(_name, getattr(creation, _name))

from . import misc  # noqa: E402,F401
from . import inplace_functions  # noqa: E402,F401  (after every family: names their in-place forms)
from . import methods  # noqa: E402,F401  (binds Tensor methods; must come last)
