"""What an op database entry says about an op, and the sample it is called with.

An :class:`OpInfo` names the op, how to call it (function, method, operator,
in-place and ``out=`` forms), its NumPy float64 reference, its sample function
(written against :class:`~plugrad_conformance.gen.Gen`), the dtypes it accepts,
its result dtype rule, which arguments are differentiable, its tolerances per
dtype and the bad inputs it must refuse. The checks read nothing else.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import plugrad
from hypothesis import strategies as st

from .gen import HypothesisGen, RandomGen, Reject

__all__ = ["Arr", "Sample", "ErrorInput", "OpInfo", "ALL", "FLOATS", "INTS", "INTS_AND_BOOL", "NUMERIC",
           "SAME", "TO_FLOAT", "TO_BOOL", "TO_INT64", "INT_TO_INT64", "DEFAULT_TOL", "data_arrays"]

FLOATS = frozenset({"float16", "float32", "float64"})
INTS = frozenset({"uint8", "int8", "int16", "int32", "int64"})
INTS_AND_BOOL = INTS | {"bool"}
NUMERIC = FLOATS | INTS
ALL = NUMERIC | {"bool"}

#: (rtol, atol) by result dtype; integers and bools compare exactly
DEFAULT_TOL = {"float16": (2e-3, 2e-3), "float32": (2e-5, 1e-5), "float64": (1e-7, 1e-9)}


# ---- result dtype rules: (dtype of the promoted operands, sample) -> result dtype ----------

def SAME(d, sample):
    return d


def TO_FLOAT(d, sample):
    """Math functions: integer and bool inputs give the default float dtype."""
    return d if d.is_floating_point else plugrad.get_default_dtype()


def TO_BOOL(d, sample):
    return plugrad.bool


def TO_INT64(d, sample):
    return plugrad.int64


def INT_TO_INT64(d, sample):
    """Sums and products: bools and integers accumulate in int64 (unless dtype= says)."""
    if sample is not None and sample.kwargs.get("dtype") is not None:
        return sample.kwargs["dtype"]
    return d if d.is_floating_point else plugrad.int64


# ---- samples ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Arr:
    """An array argument with its own dtype (indices, masks), not the dtype under test."""

    value: np.ndarray
    dtype: str

    @property
    def shape(self):
        return self.value.shape


class Sample:
    """One call of an op: positional and keyword arguments.

    NumPy arrays (float64, int64 or bool, by the category under test) become tensors
    of the dtype under test; :class:`Arr` values become tensors of their own dtype;
    lists and tuples of arrays become lists of tensors; everything else is passed as
    it is. ``nograd`` lists the positions (in :func:`data_arrays` order) of arrays that
    are not differentiated even in a float dtype (``expand_as``'s ``other``...).
    """

    __slots__ = ("args", "kwargs", "nograd", "note")

    def __init__(self, *args, nograd=(), note: str = "", **kwargs):
        self.args = args
        self.kwargs = kwargs
        self.nograd = tuple(nograd)
        self.note = note

    def replace_arrays(self, arrays) -> "Sample":
        """The same call with the data arrays replaced, in :func:`data_arrays` order."""
        it = iter(arrays)

        def sub(v):
            if isinstance(v, np.ndarray):
                return next(it)
            if isinstance(v, (list, tuple)) and not isinstance(v, Arr):
                return type(v)(sub(x) for x in v)
            return v
        args = tuple(sub(a) for a in self.args)
        kwargs = {k: sub(v) for k, v in self.kwargs.items()}
        return Sample(*args, nograd=self.nograd, note=self.note, **kwargs)

    def __repr__(self):
        parts = [_short(a) for a in self.args] + [f"{k}={_short(v)}" for k, v in self.kwargs.items()]
        return f"Sample({', '.join(parts)})"


def _short(v):
    if isinstance(v, np.ndarray):
        return f"array({v.tolist()!r})" if v.size <= 12 else f"array(shape={list(v.shape)})"
    if isinstance(v, Arr):
        return f"{v.dtype}{_short(v.value)[5:]}"
    if isinstance(v, (list, tuple)):
        inner = ", ".join(_short(x) for x in v)
        return f"[{inner}]" if isinstance(v, list) else f"({inner})"
    return repr(v)


def data_arrays(sample: Sample) -> list:
    """The arrays of the dtype under test, in argument order (lists flattened)."""
    out = []

    def walk(v):
        if isinstance(v, np.ndarray):
            out.append(v)
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)
    for a in sample.args:
        walk(a)
    for v in sample.kwargs.values():
        walk(v)
    return out


@dataclass
class ErrorInput:
    """A bad call and the exception class every device must raise for it.

    ``build(g)`` returns the :class:`Sample`; it runs with a fixed generator in
    ``dtype`` (the dtype the bad call needs, not the one under test)."""

    build: Callable
    exc: type
    why: str
    dtype: str = "float32"


@dataclass
class OpInfo:
    """One public op of plugrad, as the conformance suite knows it."""

    name: str
    family: str                       # the module that defines it: plugrad.ops.elementwise...
    ref: Callable                     # NumPy reference: ref(*args, **kwargs), arrays in float64/int64/bool
    sample: Callable                  # sample(g: Gen) -> Sample
    dtypes: frozenset = FLOATS
    result_dtype: Callable = SAME
    differentiable: bool = True       # gradient checks for float dtypes
    gradgrad: bool = True             # second derivatives
    call: Callable | None = None      # how to call it when not fn(*args, **kwargs) (setitem, copy_...)
    method: str | bool | None = True  # True: the Tensor method of the same name, if it exists
    method_call: Callable | None = None   # for methods whose signature differs (where)
    operator: Callable | None = None  # e.g. lambda a, b: a + b (called only without kwargs)
    inplace: str | bool | None = True     # True: Tensor method name + "_", if it exists
    broadcasts: bool = False          # arguments broadcast together (the broadcast check)
    promotes: bool = False            # result dtype follows type promotion (the promotion check)
    scalar_operands: bool = True      # with promotes: Python numbers among the arguments are operands
    view: bool = False                # the result shares storage with the first argument
    layouts: bool = True              # same result for any memory layout of the inputs (not as_strided)
    tol: dict = field(default_factory=dict)   # dtype name -> (rtol, atol), on top of DEFAULT_TOL
    grad_tol: tuple = (1e-5, 1e-6)    # (rtol, atol) of the float64 gradient check
    errors: list = field(default_factory=list)
    out_when: Callable | None = None  # samples whose call accepts out= (all when None)
    aliases: tuple = ()               # other public names of the same op
    fn: Callable | None = None        # resolved by the database
    alias_target: "OpInfo | None" = None  # for an alias entry: the entry it names
    key: str = ""                     # the entry's key in the database (its name, unless taken)

    # ---- how to call it ---------------------------------------------------------------
    def function(self, *args, **kwargs):
        if self.call is not None:
            return self.call(*args, **kwargs)
        return self.fn(*args, **kwargs)

    def method_name(self):
        if self.method is True:
            return self.name if hasattr(plugrad.Tensor, self.name) else None
        return self.method or None

    def inplace_name(self):
        if self.inplace is True:
            name = self.name + "_"
            return name if hasattr(plugrad.Tensor, name) else None
        return self.inplace or None

    def has_out(self) -> bool:
        if self.call is not None or self.fn is None:
            return False
        try:
            return "out" in inspect.signature(self.fn).parameters
        except (TypeError, ValueError):
            return False

    def forms(self) -> dict:
        """Every other way to call the op, each a callable taking the function's arguments."""
        forms = {}
        mname = self.method_name()
        if self.method_call is not None:
            forms["method"] = self.method_call
        elif mname is not None:
            forms["method"] = lambda *a, _m=mname, **k: getattr(a[0], _m)(*a[1:], **k)
        if self.operator is not None:
            forms["operator"] = self.operator
        return forms

    def tolerance(self, dtype_name: str) -> tuple:
        if dtype_name in self.tol:
            return self.tol[dtype_name]
        return DEFAULT_TOL.get(dtype_name, (0.0, 0.0))

    # ---- samples -------------------------------------------------------------------------
    def strategy(self, dtype, purpose: str, max_numel=None, available=None):
        """Hypothesis strategy of :class:`Sample` for ``dtype`` and ``purpose``
        (``available``: the dtype names the device supports)."""
        @st.composite
        def samples(draw):
            g = HypothesisGen(draw, dtype, purpose, max_numel, available)
            try:
                return self.sample(g)
            except Reject:
                from hypothesis import reject
                reject()
        return samples()

    def fixed_sample(self, dtype, purpose: str, seed: int = 0, shapes=None, max_numel=None,
                     available=None) -> Sample | None:
        """A sample from a seeded generator (None when 100 tries are all rejected)."""
        for attempt in range(100):
            g = RandomGen(seed * 1000 + attempt, dtype, purpose, max_numel, available)
            if shapes is not None:
                g.force_shapes(shapes)
            try:
                return self.sample(g)
            except Reject:
                continue
        return None

    def __repr__(self):
        return f"<OpInfo {self.family}.{self.name}>"
