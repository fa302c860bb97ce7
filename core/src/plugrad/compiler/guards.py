"""Guards: the checks a replay makes before it changes anything.

Each check is one line of the generated function (``plugrad.compiler.codegen``) that
returns :data:`MISS` when it fails: the arguments' structure and layouts, the values
and identities the holders (``plugrad.compiler.tracking``) had when the call was
recorded. A failed guard sends the call to the next recording, or to a new one.
"""

from __future__ import annotations

from ..tensor import Tensor
from .codegen import Source
from .tracking import MISSING

__all__ = ["MISS", "guard_args", "guard_holders", "tensor_layout_guard", "read_code", "write_code"]


class _Miss:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<guards failed>"


#: what an entry returns when its guards do not hold
MISS = _Miss()


def guard_args(spec, src: Source, miss: str, known: dict, storages: dict) -> None:
    """Structure and layout guards of the arguments; tensor arguments become ``a0, a1...``."""
    tensors = []
    for code, kind, value in spec:
        if kind == "struct":
            cls, n, keys = value
            src.line(f"if {code}.__class__ is not {src.const(cls)} or len({code}) != {n}: return {miss}")
            if keys:
                src.line(f"if tuple({code}) != {src.const(keys)}: return {miss}")
        elif kind == "tensor":
            i, t = value
            a = f"a{i}"
            src.line(f"{a} = {code}")
            tensor_layout_guard(a, t, src, miss)
            for b, u in tensors:
                same = u._storage.base is t._storage.base
                src.line(f"if ({a}._storage.base is {b}._storage.base) is not {same}: return {miss}")
            tensors.append((a, t))
            known[id(t)] = a
            storages[id(t._storage)] = f"{a}._storage"
        elif kind == "value":
            if value is None or type(value) is bool:
                src.line(f"if {code} is not {value!r}: return {miss}")
            else:
                src.line(f"if {code}.__class__ is not {src.const(type(value))} or {code} != {src.const(value)}: "
                         f"return {miss}")
        else:   # identity
            src.line(f"if {code} is not {src.const(value)}: return {miss}")


def tensor_layout_guard(a: str, t: Tensor, src: Source, miss: str) -> None:
    """``a`` (a variable) is a tensor laid out as ``t`` was, not part of a graph."""
    src.line(f"if {a}.__class__ is not {src.const(type(t))} or {a}._shape != {src.const(t._shape)} or "
             f"{a}._dtype is not {src.const(t._dtype)} or {a}._backend is not {src.const(t._backend)} or "
             f"{a}._strides != {src.const(t._strides)} or {a}._offset != {t._offset} or "
             f"{a}._requires_grad is not {t._requires_grad} or {a}._grad_fn is not None: return {miss}")


def read_code(h, src: Source) -> str:
    """Source reading a holder's current value (``MISSING`` for an absent key)."""
    c = f"a{h.container[1]}" if isinstance(h.container, tuple) else src.const(h.container)
    if h.kind == "item":
        return f"{c}.get({src.const(h.key)}, {src.const(MISSING)})" if hasattr(h.container, "get") \
            else f"{c}[{src.const(h.key)}]"
    if h.kind == "attr":
        if h.before is not MISSING and h.key.isidentifier():
            return f"{c}.{h.key}"
        return f"getattr({c}, {src.const(h.key)}, {src.const(MISSING)})"
    if h.kind == "len":
        return f"len({c})"
    return f"{c}.cell_contents"


def write_code(h, value: str, src: Source) -> str:
    """Source storing ``value`` (source text) into a holder: an effect of the replay."""
    c = f"a{h.container[1]}" if isinstance(h.container, tuple) else src.const(h.container)
    if h.kind == "item":
        return f"{c}[{src.const(h.key)}] = {value}"
    if h.kind == "attr":
        if isinstance(h.container, (Tensor, tuple)) or h.key.isidentifier():
            return f"{c}.{h.key} = {value}"
        return f"setattr({c}, {src.const(h.key)}, {value})"
    return f"{c}.cell_contents = {value}"


def guard_holders(holders: list, src: Source, miss: str, known: dict, storages: dict) -> dict:
    """Read each holder into ``h0, h1...`` and check it by its role; returns ``{id(holder):
    variable}``. ``known``/``storages`` learn the code of the tensors and storages that
    exist before the call (so that a result that is one of them is that very object)."""
    names = {}
    for j, h in enumerate(holders):
        hv = f"h{j}"
        names[id(h)] = hv
        src.line(f"{hv} = {read_code(h, src)}")
        v = h.before
        if h.role == "pinned":
            src.line(f"if {hv} is not {src.const(v)} or {hv}._a is not {src.const(v._a)}: return {miss}")
            known.setdefault(id(v), src.const(v))
            storages.setdefault(id(v._storage), f"{src.const(v)}._storage")
        elif h.role == "bound":
            if v is None:
                src.line(f"if {hv} is not None: return {miss}")
            else:
                src.line(f"if {hv} is None: return {miss}")
                tensor_layout_guard(hv, v, src, miss)
                known.setdefault(id(v), hv)
                storages.setdefault(id(v._storage), f"{hv}._storage")
        elif h.role == "sym":
            if type(v) is tuple:
                src.line(f"if {hv}.__class__ is not tuple or len({hv}) != {len(v)}: return {miss}")
                for i, x in enumerate(v):
                    src.line(f"if {hv}[{i}].__class__ is not {type(x).__name__}: return {miss}")
            else:
                src.line(f"if {hv}.__class__ is not {type(v).__name__}: return {miss}")
        elif h.role == "value":
            if v is None or v is MISSING or type(v) is bool:
                src.line(f"if {hv} is not {src.const(v)}: return {miss}")
            else:
                src.line(f"if {hv}.__class__ is not {src.const(type(v))} or {hv} != {src.const(v)}: return {miss}")
        else:
            src.line(f"if {hv} is not {src.const(v)}: return {miss}")
    return names
