"""``repr(tensor)`` exactly as PyTorch prints it.

The rules, in short: floats print with 4 decimals, or as integers with a trailing
dot when every value is whole, or in scientific notation when the magnitudes span
more than 1000x (or exceed 1e8, or a non-integer one is below 1e-4); all elements
share one width; more than 1000 elements are summarised with ``...``; a suffix
names a non-default dtype, a non-CPU device, and the autograd state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .autograd.grad_mode import no_grad
from .dtypes import bool_, get_default_dtype, int64
from .optable import ops

__all__ = ["tensor_repr", "set_printoptions", "PrintOptions"]


@dataclass
class PrintOptions:
    precision: int = 4
    threshold: int = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


OPTIONS = PrintOptions()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """Change how tensors print (``profile`` is "default", "short" or "full")."""
    if profile == "default":
        OPTIONS.__init__()
    elif profile == "short":
        OPTIONS.precision, OPTIONS.threshold, OPTIONS.edgeitems, OPTIONS.linewidth = 2, 1000, 2, 80
    elif profile == "full":
        OPTIONS.precision, OPTIONS.threshold, OPTIONS.edgeitems, OPTIONS.linewidth = 4, math.inf, 3, 80
    for name, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                        ("linewidth", linewidth)):
        if value is not None:
            setattr(OPTIONS, name, value)
    OPTIONS.sci_mode = sci_mode


class _Formatter:
    """Chooses one number format and one width for all printed values."""

    def __init__(self, values, floating: bool):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        p = OPTIONS.precision
        if not floating:
            for v in values:
                self.width = max(self.width, len(_plain(v)))
            return
        finite = [v for v in values if math.isfinite(v) and v != 0]
        if not finite:
            return
        magnitudes = [abs(v) for v in finite]
        lo, hi = min(magnitudes), max(magnitudes)
        self.int_mode = all(v == math.ceil(v) for v in finite)
        # the width follows the notation actually used, forced or chosen from the magnitudes
        if OPTIONS.sci_mode is None:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        else:
            self.sci_mode = OPTIONS.sci_mode
        if self.sci_mode:
            self.width = max(len(f"{v:.{p}e}") for v in finite)
        elif self.int_mode:
            self.width = max(len(f"{v:.0f}.") for v in finite)
        else:
            self.width = max(len(f"{v:.{p}f}") for v in finite)

    def format(self, v) -> str:
        if not self.floating:
            s = _plain(v)
        elif self.sci_mode:
            s = f"{v:{self.width}.{OPTIONS.precision}e}"
        elif self.int_mode:
            s = f"{v:.0f}" + ("" if math.isinf(v) or math.isnan(v) else ".")
        else:
            s = f"{v:.{OPTIONS.precision}f}"
        return s.rjust(self.width)


def _plain(v) -> str:
    return str(v)


def _summarized_values(flat, shape, summarize):
    """The values that will actually be printed (edges only when summarising)."""
    if not summarize:
        return flat
    e = OPTIONS.edgeitems
    out = []

    def walk(offset, dims):
        if not dims:
            out.append(flat[offset])
            return
        n = dims[0]
        step = 1
        for d in dims[1:]:
            step *= d
        idxs = range(n) if n <= 2 * e else list(range(e)) + list(range(n - e, n))
        for i in idxs:
            walk(offset + i * step, dims[1:])
    walk(0, list(shape))
    return out


def _body(flat, shape, fmt, indent, summarize, offset=0):
    """The bracketed text of a (sub)tensor whose elements start at ``offset`` in ``flat``."""
    e = OPTIONS.edgeitems
    if not shape:
        return fmt.format(flat[offset])
    n = shape[0]
    step = 1
    for d in shape[1:]:
        step *= d
    if len(shape) == 1:
        width = fmt.width + 2
        per_line = max(1, math.floor((OPTIONS.linewidth - indent) / width))
        if summarize and n > 2 * e:
            # the ellipsis is a line item of its own, written " ..." (PyTorch's spacing)
            items = [fmt.format(flat[offset + i]) for i in range(e)] + [" ..."] + \
                    [fmt.format(flat[offset + i]) for i in range(n - e, n)]
        else:
            items = [fmt.format(flat[offset + i]) for i in range(n)]
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    if summarize and n > 2 * e:
        rows = [_body(flat, shape[1:], fmt, indent + 1, summarize, offset + i * step) for i in range(e)] + ["..."] + \
               [_body(flat, shape[1:], fmt, indent + 1, summarize, offset + i * step) for i in range(n - e, n)]
    else:
        rows = [_body(flat, shape[1:], fmt, indent + 1, summarize, offset + i * step) for i in range(n)]
    return "[" + ("," + "\n" * (len(shape) - 1) + " " * (indent + 1)).join(rows) + "]"


def _add_suffixes(text, suffixes, indent):
    parts = [text]
    last_len = len(text) - text.rfind("\n") + 1
    for s in suffixes:
        if last_len + len(s) + 2 > OPTIONS.linewidth:
            parts.append(",\n" + " " * indent + s)
            last_len = indent + len(s)
        else:
            parts.append(", " + s)
            last_len += len(s) + 2
    parts.append(")")
    return "".join(parts)


def tensor_str(t, indent: int) -> str:
    """The bracketed values of ``t`` (no prefix or suffixes)."""
    with no_grad():
        flat = t.detach().tolist()
    shape = t._shape
    if shape:
        flat = _flatten(flat, len(shape))
    else:
        flat = [flat]
    n = len(flat)
    summarize = n > OPTIONS.threshold
    values = _summarized_values(flat, shape, summarize)
    fmt = _Formatter(values, t._dtype.is_floating_point)
    return _body(flat, shape, fmt, indent, summarize)


def _flatten(nested, depth):
    out = nested
    for _ in range(depth - 1):
        out = [x for sub in out for x in sub]
    return out


def tensor_repr(t, prefix: str = "tensor(") -> str:
    indent = len(prefix)
    suffixes = []
    dev = t.device
    if dev.type != "cpu":
        suffixes.append(f"device='{dev}'")
    default = t._dtype in (get_default_dtype(), int64, bool_)
    if t.numel() == 0:
        # an empty tensor has no values to show whether it holds ints: only the
        # default float dtype goes unnamed
        if t.dim() != 1:
            suffixes.append(f"size={tuple(t._shape)}")
        if t._dtype is not get_default_dtype():
            suffixes.append(f"dtype={t._dtype!r}")
        body = "[]"
    else:
        if not default:
            suffixes.append(f"dtype={t._dtype!r}")
        body = tensor_str(t, indent)
    fn = t._grad_fn
    if fn is not None:
        suffixes.append(f"grad_fn=<{fn.name()}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)


# Tensor.__repr__ (in tensor.py, below this module) calls it through the op table
ops.register("tensor_repr", tensor_repr)
