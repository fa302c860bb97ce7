"""Op definitions, one module per family. Importing this package fills the op table
(``plugrad.optable``) with every public op and the factories, then binds the Tensor
methods (see ``methods``)."""

from .. import creation
from ..optable import ops as _table
from . import (activation, conversion, convolution, dense, elementwise, indexing, join, linalg, loss, normalization,
               padding, pooling, reduction, views)

for _module in (creation, activation, conversion, convolution, dense, elementwise, indexing, join, linalg, loss,
                normalization, padding, pooling, reduction, views):
    for _name in _module.__all__:
        _table.register(_name, getattr(_module, _name))

from . import methods  # noqa: E402,F401  (binds Tensor methods; must come last)
_table.register("sum_to", reduction.sum_to)  # for the engine, which un-broadcasts gradients below the op layer
_table.register("AsStridedBackward0", views.AsStridedBackward0)  # for the graph, which regenerates views' history
