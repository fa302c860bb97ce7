"""Sample generation: one small imperative API over two sources of randomness.

An op's sample function is written once against :class:`Gen` (``g.shape()``,
``g.array(shape, domain)``, ``g.dim(ndim)``...). It runs under hypothesis (every
choice is a ``draw``, so failures shrink and print) and under a seeded NumPy
generator (for the fixed hard cases that must run on every device, every time).

Values are drawn on a grid of multiples of 1/64. Such numbers are exact in
float16, float32 and float64, so the reference sees exactly what the device
sees, and two grid points are never closer than 1/64: excluded points (kinks,
ties, poles) are avoided with a margin far wider than a finite-difference step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

__all__ = ["Domain", "Gen", "HypothesisGen", "RandomGen", "Reject", "GRID", "kind_of", "DEFAULT_DOMAIN",
           "BROADCAST_HARD_CASES"]

#: values are multiples of 1/GRID
GRID = 64

#: shape pairs that catch the classic broadcasting bugs: a trailing size-1 dim,
#: size-1 dims on both sides, a missing leading dim, size-0 dims, 0-d operands
BROADCAST_HARD_CASES = (
    ((3, 1), (1, 4)), ((2, 3, 1), (3, 4)), ((4, 1), (4,)), ((1,), (2, 3)), ((2, 1, 3), (1, 4, 1)),
    ((0, 3), (1, 3)), ((2, 0), (2, 1)), ((), (2, 3)), ((3, 1, 2), ()),
)


def _broadcast(a: tuple, b: tuple) -> tuple:
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    return tuple(y if x == 1 else x for x, y in zip(a, b))


class Reject(Exception):
    """A drawn sample does not fit the op's constraints; draw another."""


def kind_of(dtype) -> str:
    """``"float"``, ``"int"`` or ``"bool"``: the category a sample is drawn for."""
    if dtype.is_floating_point:
        return "float"
    return "bool" if dtype.name == "bool" else "int"


_INT_RANGE = {"uint8": (0, 255), "int8": (-128, 127), "int16": (-32768, 32767),
              "int32": (-2 ** 31, 2 ** 31 - 1), "int64": (-2 ** 63, 2 ** 63 - 1)}


@dataclass(frozen=True)
class Domain:
    """Where an argument's values come from.

    ``lo``/``hi`` bound the values (float values are multiples of 1/64 inside);
    ``ilo``/``ihi`` bound integer values when they must differ (default: the float
    bounds rounded inward). ``exclude(x)`` is True for a forbidden float value: a
    kink, a pole, a discontinuity (integers are exact, so only floats avoid them).
    ``grid`` overrides everything with an explicit list of values (for comparisons,
    where ties matter; integer categories keep its integral values).
    """

    lo: float = -4.0
    hi: float = 4.0
    exclude: Callable | None = None
    ilo: int | None = None
    ihi: int | None = None
    grid: tuple | None = None

    def int_bounds(self, dtype_name: str) -> tuple:
        lo = int(np.ceil(self.lo)) if self.ilo is None else self.ilo
        hi = int(np.floor(self.hi)) if self.ihi is None else self.ihi
        tlo, thi = _INT_RANGE[dtype_name]
        return max(lo, tlo), min(hi, thi)


DEFAULT_DOMAIN = Domain()


class Gen:
    """The choices a sample function makes. Subclasses supply ``_int(lo, hi)``."""

    def __init__(self, dtype, purpose: str, max_numel: int | None = None, available=None):
        self.dtype = dtype              # the plugrad dtype under test
        self.kind = kind_of(dtype)
        self.purpose = purpose          # forward | grad | broadcast | layout | promotion | error
        self.max_numel = max_numel or (8 if purpose == "grad" else 24)
        #: dtype names the device supports (for ops that take a dtype argument)
        self.available = tuple(available) if available is not None else ()
        self._forced_shapes = None

    # ---- primitives -------------------------------------------------------------
    def _int(self, lo: int, hi: int) -> int:
        raise NotImplementedError

    def integers(self, lo: int, hi: int) -> int:
        return self._int(lo, hi)

    def choice(self, options):
        options = list(options)
        return options[self._int(0, len(options) - 1)]

    def boolean(self) -> bool:
        return bool(self._int(0, 1))

    def assume(self, condition) -> None:
        """Reject the sample unless ``condition`` holds."""
        if not condition:
            raise Reject()

    # ---- shapes -----------------------------------------------------------------
    def shape(self, min_ndim: int = 0, max_ndim: int = 3, min_size: int | None = None, max_size: int = 4,
              max_numel: int | None = None) -> tuple:
        """A small shape; size-0 dims appear in forward samples only (min_size None)."""
        limit = max_numel or self.max_numel
        if min_size is None:
            min_size = 0 if self.purpose == "forward" and self._int(0, 7) == 0 else 1
        ndim = self._int(min_ndim, max_ndim)
        dims = []
        for _ in range(ndim):
            dims.append(self._int(min_size, max_size))
        while int(np.prod(dims)) > limit:
            i = int(np.argmax(dims))
            dims[i] -= 1
        return tuple(dims)

    def shapes(self, k: int, **shape_kwargs) -> list:
        """Shapes of ``k`` operands that broadcast together: equal, except in the
        ``broadcast`` purpose, where some dims are 1 or missing on some operands."""
        if self._forced_shapes is not None:
            forced = list(self._forced_shapes)[:k]
            while len(forced) < k:
                full = ()
                for shape in self._forced_shapes:
                    full = _broadcast(full, shape)
                forced.append(full)
            return forced
        base = self.shape(**shape_kwargs)
        if self.purpose != "broadcast":
            return [base] * k
        out = []
        for _ in range(k):
            drop = self._int(0, len(base))
            dims = [1 if self._int(0, 2) == 0 else n for n in base[drop:]]
            out.append(tuple(dims))
        # at least one operand has the full shape, so the result shape is base
        out[self._int(0, k - 1)] = base
        return out

    def force_shapes(self, shapes) -> "Gen":
        """Make ``shapes(k)`` return exactly these (the fixed hard cases)."""
        self._forced_shapes = tuple(shapes)
        return self

    def dim(self, ndim: int, allow_none: bool = False):
        """A dim index for an ``ndim``-d tensor, negative half of the time."""
        if allow_none and self._int(0, 3) == 0:
            return None
        if ndim == 0:
            return self.choice([0, -1])
        d = self._int(0, ndim - 1)
        return d - ndim if self.boolean() else d

    # ---- values -------------------------------------------------------------------
    def array(self, shape, domain: Domain = DEFAULT_DOMAIN, unique: bool = False, kind: str | None = None):
        """Values of the dtype under test's category (float64, int64 or bool array)."""
        kind = kind or self.kind
        n = int(np.prod(shape)) if shape else 1
        if kind == "bool":
            return np.array([self.boolean() for _ in range(n)], dtype=bool).reshape(shape)
        if domain.grid is not None:
            grid = [v for v in domain.grid if kind == "float" or float(v).is_integer()]
            if kind == "int":
                lo, hi = domain.int_bounds(self.dtype.name if self.kind == "int" else "int64")
                grid = [v for v in grid if lo <= v <= hi]
            vals = [grid[self._int(0, len(grid) - 1)] for _ in range(n)]
            arr = np.array(vals, dtype=np.float64 if kind == "float" else np.int64).reshape(shape)
            self.assume(not unique or len(set(vals)) == n)
            return arr
        if kind == "int":
            lo, hi = domain.int_bounds(self.dtype.name if self.kind == "int" else "int64")
            scale, cast = 1, np.int64
        else:
            lo, hi = int(np.ceil(domain.lo * GRID)), int(np.floor(domain.hi * GRID))
            scale, cast = GRID, np.float64
        vals, seen = [], set()
        for _ in range(n):
            for _attempt in range(50):
                k = self._int(lo, hi)
                v = k / scale if kind == "float" else k
                if unique and k in seen:
                    continue
                if kind == "float" and domain.exclude is not None and bool(domain.exclude(np.float64(v))):
                    continue
                break
            else:
                raise Reject()
            seen.add(k)
            vals.append(v)
        return np.array(vals, dtype=cast).reshape(shape)

    def scalar(self, domain: Domain = DEFAULT_DOMAIN, kind: str | None = None):
        """A Python number of the category under test (int for ints, float for floats)."""
        kind = kind or self.kind
        v = self.array((), domain, kind=kind)
        return bool(v) if kind == "bool" else (int(v) if kind == "int" else float(v))

    def index(self, shape, n: int, unique: bool = False, negative: bool = True):
        """An int64 index array with values in ``[-n, n)`` (or ``[0, n)``)."""
        from .opinfo import Arr
        count = int(np.prod(shape)) if shape else 1
        self.assume(not unique or count <= n)
        self.assume(n > 0 or count == 0)
        vals, seen = [], set()
        for _ in range(count):
            for _attempt in range(50):
                v = self._int(0, n - 1)
                if not unique or v not in seen:
                    break
            else:
                raise Reject()
            seen.add(v)
            if negative and self._int(0, 3) == 0:
                v -= n
            vals.append(v)
        return Arr(np.array(vals, dtype=np.int64).reshape(shape), "int64")

    def mask(self, shape):
        """A bool array argument (not of the dtype under test)."""
        from .opinfo import Arr
        return Arr(self.array(shape, kind="bool"), "bool")


class HypothesisGen(Gen):
    """Every choice is a hypothesis draw: failures shrink and are printed."""

    def __init__(self, draw, dtype, purpose, max_numel=None, available=None):
        super().__init__(dtype, purpose, max_numel, available)
        self._draw = draw

    def _int(self, lo, hi):
        return self._draw(st.integers(lo, hi))

    def assume(self, condition):
        assume(condition)


class RandomGen(Gen):
    """Choices from a seeded NumPy generator: the same sample on every run."""

    def __init__(self, seed, dtype, purpose, max_numel=None, available=None):
        super().__init__(dtype, purpose, max_numel, available)
        self._rng = np.random.default_rng(seed)

    def _int(self, lo, hi):
        return int(self._rng.integers(lo, hi, endpoint=True))
