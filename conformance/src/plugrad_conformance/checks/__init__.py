"""The checks, in matrix column order. Each is a :class:`~.base.Check`."""

from .base import Check, Ctx, NotApplicable
from .fused import FUSED
from .compiled import COMPILED
from .grad import GRAD, GRADGRAD
from .misc import ALIAS, ERRORS, ROUNDTRIP
from .semantics import INPLACE, VIEW
from .values import BROADCAST, DETERMINISM, FORMS, FORWARD, LAYOUT, OUT, PROMOTION

__all__ = ["CHECKS", "COMPILED", "Check", "Ctx", "NotApplicable", "by_name"]

CHECKS = (FORWARD, FORMS, OUT, INPLACE, VIEW, LAYOUT, BROADCAST, PROMOTION, GRAD, GRADGRAD, ERRORS,
          DETERMINISM, ROUNDTRIP, FUSED, ALIAS, COMPILED)

_BY_NAME = {c.name: c for c in CHECKS}


def by_name(name: str) -> Check:
    return _BY_NAME[name]
