"""Elementwise ops, declared through ``plugrad.ops.pointwise``: unary math (``unary``),
binary arithmetic (``arithmetic``), comparisons and logic (``logic``), and the ops of
three operands (``ternary``)."""

from . import arithmetic, logic, ternary, unary
from .arithmetic import *  # noqa: F401,F403
from .logic import *  # noqa: F401,F403
from .ternary import *  # noqa: F401,F403
from .unary import *  # noqa: F401,F403

__all__ = [*unary.__all__, *arithmetic.__all__, *logic.__all__, *ternary.__all__]

from . import special  # noqa: E402  (special functions: erfc, lgamma, polygamma, xlogy, hypot, i0...)
from .special import *  # noqa: E402,F401,F403

__all__ += special.__all__
