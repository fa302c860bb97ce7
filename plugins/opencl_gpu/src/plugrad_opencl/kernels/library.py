"""The program of one dtype: every kernel family, generated for that dtype and index
width, in one OpenCL source (a single clBuildProgram is far cheaper than many)."""

from __future__ import annotations

from dataclasses import dataclass

from plugrad.extend import ARG_REDUCE_OPS, BINARY_OPS, REDUCE_OPS, SCAN_OPS, UNARY_OPS

from . import elementwise, indexing, linalg, reduction
from .common import structs
from .ctype import CTYPES
from .ops import helpers


@dataclass(frozen=True)
class Target:
    """What the generated code may use on one device."""

    dtypes: tuple          # names of the dtypes the device supports
    fp64: bool
    int64_atomics: bool
    run: int               # elements per work-item along the innermost dim (16 on CPUs, 1 on GPUs)
    local: int             # the work-group size of one-dimensional launches


def program(dtype_name: str, idx, target: Target):
    """``(source, {kernel name: KernelSpec})`` of one dtype's program."""
    ct = CTYPES[dtype_name]
    specs = []
    for op in sorted(UNARY_OPS):
        specs += elementwise.unary_kernels(op, ct, idx)
    for op in sorted(BINARY_OPS):
        specs += elementwise.binary_kernels(op, ct, idx)
    specs += elementwise.where_kernels(ct, idx)
    specs += elementwise.fill_kernels(ct, idx)
    for src in target.dtypes:
        specs += elementwise.cast_kernels(CTYPES[src], ct, idx)
    for op in sorted(REDUCE_OPS):
        specs += reduction.reduce_kernel(op, ct, idx)
    for op in sorted(ARG_REDUCE_OPS):
        specs += reduction.arg_kernel(op, ct, idx)
    for op in sorted(SCAN_OPS):
        specs += reduction.scan_kernel(op, ct, idx)
    specs += linalg.generic_kernel(ct, idx) + linalg.v16_kernel(ct, idx) + linalg.tiled_kernel(ct, idx)
    atomic = indexing.atomic_helper(ct, target.int64_atomics)
    specs += indexing.take_kernels(ct, idx) + indexing.put_kernels(ct, idx, atomic=bool(atomic))
    specs += indexing.nonzero_kernels(ct, idx)
    pragmas = ""
    if target.fp64:
        pragmas += "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n"
    if target.int64_atomics:
        pragmas += "#pragma OPENCL EXTENSION cl_khr_int64_base_atomics : enable\n"
    head = (f"/* plugrad-opencl kernels for {dtype_name}, {idx.c} indices */\n{pragmas}"
            f"#define RUN {target.run}\n#define LOCAL {target.local}\n"
            f"{structs(idx)}{linalg.MM_STRUCT}{helpers(ct)}{atomic}")
    source = head + "".join(s.source for s in specs)
    return source, {s.name: s for s in specs}
