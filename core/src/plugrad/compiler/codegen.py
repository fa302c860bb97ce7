"""Writing Python source: the one function a replay runs.

A replay is generated Python: one line per guard, one line per kernel call on local
variables, one line per effect. The namespace it runs in holds the constants: the
backends' bound methods, the recorded shapes and dtypes, the arrays planned once, the
holders' containers. :class:`Source` hands out those names; the planner writes the lines.
"""

from __future__ import annotations

import math

from .recorder import SlotRef, SymRef

__all__ = ["Source", "expr_code"]

_OPS = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "mod": "%", "pow": "**"}
_COMPARE = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}


class Source:
    """Lines of a function body plus the namespace of its constants."""

    def __init__(self):
        self.ns = {}
        self._by_id = {}
        self._keep = []
        self.lines = []

    def const(self, obj, hint: str = "c") -> str:
        """A name bound to ``obj`` in the namespace (literals for small plain values);
        ``hint`` starts the name (a kernel's method name, to read the source)."""
        t = type(obj)
        if obj is None or t is bool or (t is int and -2**62 < obj < 2**62) or (t is float and math.isfinite(obj)):
            return repr(obj)
        if t is str and len(obj) < 64 and obj.isidentifier():
            return repr(obj)
        name = self._by_id.get(id(obj))
        if name is None:
            name = self._by_id[id(obj)] = f"_{hint}{len(self._by_id)}"
            self.ns[name] = obj
            self._keep.append(obj)
        return name

    def line(self, text: str) -> None:
        self.lines.append(text)

    def compile(self, name: str, params: str):
        body = "\n".join("    " + ln for ln in self.lines) or "    pass"
        text = f"def {name}({params}):\n{body}\n"
        code = compile(text, f"<plugrad.compile {name}>", "exec")
        exec(code, self.ns)   # noqa: S102 - the source is generated here from a recording, never user text
        fn = self.ns[name]
        fn.source = text
        return fn


def expr_code(expr, src: Source) -> str:
    """Python source computing a symbolic expression (``plugrad.compiler.symbolic``) from
    the source variables ``s0, s1...``: the same operations, in the same order."""
    if type(expr) is not tuple:
        return src.const(expr) if not isinstance(expr, (int, float)) or isinstance(expr, bool) \
            or not math.isfinite(expr) else repr(expr)
    kind = expr[0]
    if kind == "src":
        return f"s{expr[1]}"
    if kind == "bin":
        return f"({expr_code(expr[2], src)} {_OPS[expr[1]]} {expr_code(expr[3], src)})"
    if kind == "un":
        a = expr_code(expr[2], src)
        return f"abs({a})" if expr[1] == "abs" else f"({'-' if expr[1] == 'neg' else '+'}{a})"
    if kind == "call":
        return f"{src.const(expr[1])}({expr_code(expr[2], src)})"
    raise ValueError(f"unknown symbolic expression {expr!r}")


def compare_code(expr, op: str, other, src: Source) -> str:
    return f"({expr_code(expr, src)} {_COMPARE[op]} {expr_code(other, src)})"


def template_code(t, slot_name, src: Source) -> str:
    """Source of a recorded argument: a slot's variable, a symbolic expression, a constant."""
    if isinstance(t, SlotRef):
        return slot_name(t.k)
    if isinstance(t, SymRef):
        return expr_code(t.expr, src)
    if not _dynamic(t):
        return src.const(t)
    if isinstance(t, list):
        return "[" + ", ".join(template_code(v, slot_name, src) for v in t) + "]"
    return "(" + "".join(template_code(v, slot_name, src) + ", " for v in t) + ")"


def _dynamic(t) -> bool:
    """True when a template holds a slot or a symbolic number (else it is one constant)."""
    if isinstance(t, (SlotRef, SymRef)):
        return True
    if isinstance(t, (list, tuple)):
        return any(_dynamic(v) for v in t)
    return False
