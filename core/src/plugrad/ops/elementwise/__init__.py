"""Elementwise ops, declared through ``plugrad.ops.pointwise``: unary math (``unary``),
binary arithmetic (``arithmetic``), comparisons and logic (``logic``), and the ops of
three operands (``ternary``)."""

from . import arithmetic, logic, special, ternary, unary
from . import numeric
from .arithmetic import *  # noqa: F401,F403
from .logic import *  # noqa: F401,F403
from .ternary import *  # noqa: F401,F403
from .unary import *  # noqa: F401,F403
from .special import *  # noqa: F401,F403
from .numeric import *  # noqa: F401,F403

__all__ = [*unary.__all__, *arithmetic.__all__, *logic.__all__, *ternary.__all__, *special.__all__]
__all__ += numeric.__all__
