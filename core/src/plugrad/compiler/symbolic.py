"""Symbolic Python numbers: a scalar read from changing state stays an input of a replay.

While a call is recorded, the numbers an optimizer reads from its ``param_groups`` and
``state`` (the learning rate a scheduler changes, Adam's step count) are replaced by
:class:`SymFloat`/:class:`SymInt`: real ``float``/``int`` objects (so the eager code runs
unchanged and computes exactly what it computes without them) that also carry the
expression that produced them from their sources. When such a number reaches a kernel
as a scalar argument, the recording keeps its expression rather than its value, and the
replay evaluates the expression again, on the sources' current values, with the very
same Python operations in the same order: the scalar is bit for bit what eager computes.

Expressions are tuples: ``("src", k)`` (source k), ``("bin", op, a, b)``, ``("un", op, a)``
and ``("call", fn, a)``; an operand that is not a tuple is a constant. A comparison or a
truth test of a symbolic number (``if weight_decay != 0``) is control flow: its outcome
becomes a guard of the recording. A conversion out of the symbolic world that a number
can notice (``float(x)``, ``int(x)``) turns into a guard on the exact value.
"""

from __future__ import annotations

import operator

__all__ = ["SymFloat", "SymInt", "symbolic", "expr_of", "plain", "GuardLog", "ACTIVE"]


class GuardLog:
    """Where symbolic comparisons of the call being recorded leave their outcomes."""

    def __init__(self):
        self.guards = []    # (expr, op name, other expr, result)

    def note(self, expr, op: str, other, result) -> None:
        self.guards.append((expr, op, other, result))


class _Active:
    """The recording that symbolic numbers report to (None outside a recording)."""
    log: GuardLog | None = None


ACTIVE = _Active()

_BINARY = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
           "floordiv": operator.floordiv, "mod": operator.mod, "pow": operator.pow}
_UNARY = {"neg": operator.neg, "pos": operator.pos, "abs": operator.abs}
_COMPARE = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge, "eq": operator.eq,
            "ne": operator.ne}


def plain(x):
    """``x`` as a plain Python number (the value of a symbolic one)."""
    return x._v if isinstance(x, (SymFloat, SymInt)) else x


def expr_of(x):
    """The expression of a symbolic number, or ``x`` itself (a constant)."""
    return x._e if isinstance(x, (SymFloat, SymInt)) else x


def symbolic(value, expr):
    """``value`` carrying ``expr`` when it is an int or a float (bools stay plain: a flag
    is control flow, guarded by its value)."""
    t = type(value)
    if t is float:
        s = SymFloat(value)
    elif t is int:
        s = SymInt(value)
    else:
        return value
    s._v, s._e = value, expr
    return s


def _operands_ok(other) -> bool:
    return isinstance(other, (int, float))


def _binary(name):
    fn = _BINARY[name]

    def forward(self, other):
        if not _operands_ok(other):
            return NotImplemented
        return symbolic(fn(self._v, plain(other)), ("bin", name, self._e, expr_of(other)))

    def reflected(self, other):
        if not _operands_ok(other):
            return NotImplemented
        return symbolic(fn(plain(other), self._v), ("bin", name, expr_of(other), self._e))
    return forward, reflected


def _unary(name):
    fn = _UNARY[name]

    def method(self):
        return symbolic(fn(self._v), ("un", name, self._e))
    return method


def _compare(name):
    fn = _COMPARE[name]

    def method(self, other):
        if not isinstance(other, (int, float)):
            return NotImplemented
        result = fn(self._v, plain(other))
        if ACTIVE.log is not None:
            ACTIVE.log.note(self._e, name, expr_of(other), result)
        return result
    return method


def _escape(convert):
    def method(self):
        if ACTIVE.log is not None:
            ACTIVE.log.note(self._e, "eq", self._v, True)
        return convert(self._v)
    return method


def _truth(self):
    result = bool(self._v)
    if ACTIVE.log is not None:
        ACTIVE.log.note(self._e, "ne", 0, result)
    return result


def _namespace() -> dict:
    ns = {}
    for name in _BINARY:
        ns[f"__{name}__"], ns[f"__r{name}__"] = _binary(name)
    for name in _UNARY:
        ns[f"__{name}__"] = _unary(name)
    for name in _COMPARE:
        ns[f"__{name}__"] = _compare(name)
    ns["__bool__"] = _truth
    ns["__float__"] = _escape(float)
    ns["__int__"] = _escape(int)
    ns["__hash__"] = lambda self: hash(self._v)
    ns["__repr__"] = lambda self: repr(self._v)
    ns["__str__"] = lambda self: str(self._v)
    ns["__format__"] = lambda self, spec: format(self._v, spec)
    ns["__reduce__"] = lambda self: (type(self._v), (self._v,))
    return ns


SymFloat = type("SymFloat", (float,), {**_namespace(), "__doc__": "A float that remembers where it came from.",
                                       "__round__": _escape(round), "__trunc__": _escape(int)})
SymInt = type("SymInt", (int,), {**_namespace(), "__doc__": "An int that remembers where it came from.",
                                 "__index__": _escape(int)})
