"""Elementwise ops, declared through ``plugrad.ops.pointwise``: unary math (``unary``),
binary arithmetic (``arithmetic``), comparisons and logic (``logic``), and the ops of
three operands (``ternary``)."""

from . import arithmetic, bessel, floatbits, logic, numeric, special, special_binary, ternary, unary
from .arithmetic import *  # noqa: F401,F403
from .bessel import *  # noqa: F401,F403
from .floatbits import *  # noqa: F401,F403
from .logic import *  # noqa: F401,F403
from .numeric import *  # noqa: F401,F403
from .special import *  # noqa: F401,F403
from .special_binary import *  # noqa: F401,F403
from .ternary import *  # noqa: F401,F403
from .unary import *  # noqa: F401,F403

__all__ = [*unary.__all__, *arithmetic.__all__, *logic.__all__, *ternary.__all__, *special.__all__,
           *special_binary.__all__, *bessel.__all__, *floatbits.__all__, *numeric.__all__]
