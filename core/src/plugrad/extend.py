"""Everything a backend author (or a custom-Function author) needs, in one module.

A device plugin imports only from here: the kernel interface to implement, the
hook marker and registration types, the typed errors, the dtypes and the layout
helpers a kernel needs. Nothing private is required to write a backend.
The random streams' reference (``reference_stream``, ``MTState`` and the helpers of
``plugrad._torchrng``) is here for a device that implements ``random_stream`` itself.
``register_plugin`` registers a plugin module by hand, without installing it (tests,
notebooks); installed plugins are found through the ``plugrad`` entry-point group.
``backend_for(device)`` is a device's backend object, to call its kernels directly
(a backend's own tests, the examples of docs/writing-a-backend.md).
"""

from ._torchrng import FLOAT_DIGITS, MATHFUN_F32, MTState, fma64, round_to, stream as reference_stream
from .autograd.function import Function, FunctionCtx
from .backend import (ARG_REDUCE_OPS, BINARY_OPS, COMPARISON_OPS, KERNEL_INTERFACE_VERSION, KERNELS_ADDED,
                      RANDOM_STREAMS, kernels_added_after,
                      REDUCE_OPS, SCAN_OPS, UNARY_OPS, UNARY_PREDICATES, Backend, OutOfMemoryError,
                      UnsupportedOperation, struct_code)
from .dtypes import (ALL_DTYPES, bfloat16, bool_, dtype, dtype_from_name, float16, float32, float64, int8, int16, int32,
                     int64, uint8)
from .layout import broadcast_shapes, broadcast_strides, contiguous_strides, is_contiguous, numel
from .plugins.hookspec import hookimpl
from .plugins.registry import BackendSpec, Expectations, backend_for, register_plugin

__all__ = [
    "Backend", "BackendSpec", "Expectations", "hookimpl", "KERNEL_INTERFACE_VERSION", "KERNELS_ADDED",
    "kernels_added_after", "UnsupportedOperation",
    "OutOfMemoryError",
    "UNARY_OPS", "UNARY_PREDICATES", "BINARY_OPS", "COMPARISON_OPS", "REDUCE_OPS", "ARG_REDUCE_OPS",
    "SCAN_OPS", "RANDOM_STREAMS", "register_plugin", "backend_for",
    "ALL_DTYPES", "dtype", "dtype_from_name", "bool_", "uint8", "int8", "int16", "int32", "int64",
    "float16", "bfloat16", "float32", "float64", "struct_code",
    "broadcast_shapes", "broadcast_strides", "contiguous_strides", "is_contiguous", "numel",
    "Function", "FunctionCtx",
    "MTState", "reference_stream", "fma64", "round_to", "FLOAT_DIGITS", "MATHFUN_F32",
]
