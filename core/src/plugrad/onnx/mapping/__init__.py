"""The op -> ONNX table: one small function per op, ``MAPPINGS[name]``, in a module per
family (``elementwise``, ``activations``, ``nn``, ``shapes``, ``reductions``).

A mapping receives the converter ``cx`` (``plugrad.onnx.convert.Converter``) and the
recorded call (``call.args``: the op's parameters by name, as the op received them;
``call.output``: its result) and returns the ONNX value name of each result tensor
(one name, or a list for an op returning several). It adds nodes with
``cx.g.op(op_type, *inputs, **attributes)`` and reads tensors with ``cx.value``
(which also turns a Python number into a constant of the dtype asked for). Shapes
and dtypes are the traced ones (``cx.shape``, ``cx.dtype``): the exporter writes
what this forward computed, and a mapping may return None to refuse arguments it
cannot express (the exporter then says so, naming the op).

In-place forms (``relu_``) are written by their op's mapping; an op not listed here
is written as the ops it is made of when it is a composition (``softmin``,
``multi_head_attention_forward``), and refused otherwise. docs/onnx.md lists
this table, and a test keeps the list equal to it.
"""

from __future__ import annotations

from . import activations, elementwise, nn, reductions, shapes  # noqa: F401  (each registers its mappings)
from .table import MAPPINGS, maps

__all__ = ["MAPPINGS", "maps"]
