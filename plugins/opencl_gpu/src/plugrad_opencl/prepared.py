"""Prepared calls (``Backend.prepare``): a replay's kernel calls turned, once, into
launches whose arguments are already set, and small launches into one kernel.

A replay calls the same kernels on the same arrays every time. Each call of the
backend pays Python (the dtype's program, the layout plan, the scalar conversions) and
pyopencl's ``Kernel.__call__`` sets every argument again (about 2 us of a 4 us launch
on PoCL). Here the calls are run once through a *capturing* copy of the backend, whose
``_run`` notes each launch (kernel, sizes, arguments) instead of queueing it. Then:

* every launch gets a ``cl.Kernel`` object of its own with its arguments set once, and
  the prepared callable only queues them (``enqueue_nd_range_kernel``);
* a run of small one-dimensional launches of kernels that use no work-group features
  (elementwise, fused elementwise, reductions: no barrier, local memory or atomics)
  becomes one *graph kernel*: the kernels' own sources, renamed into functions of the
  work-item index, called in the recorded order by the work-items of a single
  work-group, each launch's index range strided over them, with a barrier between
  launches. It computes what the launches compute, bit for bit (the same functions on
  the same indices; no work-item depends on another within a launch), for one launch
  instead of many. A fused kernel's function comes last, after its
  ``FP_CONTRACT OFF``, as in its own program; the library's come before it, with their
  helpers, as in theirs.

Calls the capture cannot take (a transfer, a result read back) run as plain calls at
their place in the sequence.
"""

from __future__ import annotations

import copy
import re
import warnings

import numpy as np
import pyopencl as cl

from .errors import KernelBuildError
from .fused import _tagged
from .kernels.common import structs
from .kernels.ctype import CTYPES
from .kernels.ops import helpers
from .runtime import LAUNCHES_PER_MARK, build_program

#: the backend methods whose kernels are captured (the others are called at replay)
CAPTURED = frozenset({"copy", "fill", "unary", "binary", "where", "fused_elementwise", "reduce", "arg_reduce",
                      "scan", "matmul", "take", "put"})
#: work-item features a graph kernel cannot emulate with one work-group
_PARALLEL = ("barrier", "__local", "atomic", "get_local", "get_group", "get_global_size", "get_num_groups",
             "mem_fence", "get_global_id(1)", "get_global_id(2)")
#: built graph kernels kept per device; emptied beyond this
MAX_GRAPHS = 256


class _Capture(Exception):
    """A call the capture cannot take (it would wait for the device or read data)."""


def capture(backend, name: str, args: tuple, kwargs: dict):
    """The launches ``backend.<name>(*args, **kwargs)`` would queue, as ``(kernel, global
    size, local size, arguments)``, without queueing them; None when the call does more
    than launch kernels."""
    launches = []
    cap = copy.copy(backend)

    def note(knl, gsize, local, kargs, op):
        if getattr(knl, "plugrad", None) is None:
            raise _Capture(op)
        launches.append((knl, tuple(gsize), None if local is None else tuple(local), tuple(kargs)))
    cap._run = note
    rt = cap.rt = copy.copy(backend.rt)

    def refuse(*a, **k):
        raise _Capture("transfer")
    rt.download = rt.upload = rt.finish = refuse
    try:
        getattr(cap, name)(*args, **kwargs)
    except _Capture:
        return None
    return launches


def preset(knl, kargs):
    """A kernel object of its own for one launch of ``knl``, its arguments set."""
    info = knl.plugrad
    own = cl.Kernel(info.program, info.name)
    own.set_args(*[a if t is None else t.type(a) for a, t in zip(kargs, info.argtypes)])
    return own


class Prepared:
    """The callable ``Backend.prepare`` returns: its items, in order, are preset launches
    ``(kernel, global size, local size)`` and plain calls ``(method, args, kwargs)``.
    ``keep`` holds every launch's arguments: a kernel object does not keep its buffers
    alive, and a temporary a call allocated while it was captured (a reduction's
    partial results) would otherwise go back to the pool and be handed out again."""

    def __init__(self, backend, items, keep):
        self.rt = backend.rt
        self.sync = backend._sync
        self.items = items
        self.keep = keep
        self.launches = [it for it in items if isinstance(it[0], cl.Kernel)]
        self.plain = len(self.launches) != len(items)

    def __call__(self):
        rt = self.rt
        enqueue = cl.enqueue_nd_range_kernel
        queue = rt.queue
        if not self.plain and not self.sync:
            event = None
            for knl, gsize, local in self.launches:
                event = enqueue(queue, knl, gsize, local)
            rt.unmarked += len(self.launches)
            if rt.unmarked >= LAUNCHES_PER_MARK and event is not None:
                rt.launched(event)
            return
        for a, b, c in self.items:
            if isinstance(a, cl.Kernel):
                event = enqueue(queue, a, b, c)
                if self.sync:
                    rt.finish(a.function_name)
                else:
                    rt.unmarked += 1
                    if rt.unmarked >= LAUNCHES_PER_MARK:
                        rt.launched(event)
            else:
                a(*b, **c)


def prepare(backend, calls):
    """``Backend.prepare`` of the OpenCL device (see the module docstring)."""
    items, run, keep = [], [], []
    for name, args, kwargs in calls:
        launches = capture(backend, name, args, kwargs) if name in CAPTURED else None
        if launches is None:
            items += _launch_items(backend, run)
            run = []
            items.append((getattr(backend, name), tuple(args), dict(kwargs)))
        else:
            run += launches
            keep += [kargs for _, _, _, kargs in launches]
    items += _launch_items(backend, run)
    return Prepared(backend, items, keep)


def _launch_items(backend, launches) -> list:
    """Preset launches for ``launches``, runs of small ones merged into graph kernels."""
    items, group = [], []
    graphs = backend._graphs
    for launch in launches + [None]:
        if launch is not None and graphs.fits(launch, group):
            group.append(launch)
            continue
        if len(group) >= 2:
            graph = graphs.build(group)
            if graph is not None:
                items.append(graph)
                group = []
        items += [(preset(k, a), g, l) for k, g, l, a in group]
        group = []
        if launch is not None:
            if graphs.fits(launch, group):
                group.append(launch)
            else:
                knl, gsize, local, kargs = launch
                items.append((preset(knl, kargs), gsize, local))
    return items


def _params(text: str, name: str) -> list:
    """The parameter declarations of kernel ``name`` in ``text``."""
    m = re.search(rf"__kernel void {re.escape(name)}\((.*?)\)\s*\{{", text, re.S)
    return [p.strip() for p in m.group(1).split(",")]


class Graphs:
    """The graph kernels of one device: which launches may join one, and building it."""

    def __init__(self, backend):
        self.backend = backend
        dev = backend.info.cl_device
        self.max_items = 4 * backend.local   # most work-items of a launch that joins one (a work-group runs it)
        self.max_param_bytes = dev.max_parameter_size - 64
        self.max_constants = dev.max_constant_args
        self._built = {}

    def fits(self, launch, group) -> bool:
        """True when ``launch`` may join ``group`` (a run of launches for one graph kernel)."""
        knl, gsize, _local, kargs = launch
        info = knl.plugrad
        if len(gsize) != 1 or gsize[0] > self.max_items:
            return False
        text = info.source.kernel if info.dtype_name == "fused" else info.source
        uses = text.count("(I)get_global_id(0)")
        if not uses or uses != text.count("get_global_id") or any(p in text for p in _PARALLEL):
            return False
        if group and info.idx is not group[0][0].plugrad.idx:
            return False
        objs = {id(a): a for _, _, _, ka in group + [launch] for a in ka if not isinstance(a, (int, float))}
        constants = sum(1 for a in objs.values() if not _is_global(a))
        floats = sum(1 for _, _, _, ka in group + [launch] for a in ka if isinstance(a, float))
        return constants <= self.max_constants and 8 * (len(objs) + floats) <= self.max_param_bytes

    def build(self, group):
        """The preset graph-kernel launch ``(kernel, (local,), (local,))`` of ``group``, or
        None when its program does not build (the launches then run one by one)."""
        source, args = _GraphSource(self.backend, group).result()
        prg = self._built.get(source)
        if prg is None:
            try:
                prg = build_program(self.backend.rt.ctx, source, f"{self.backend._label()}: building a graph kernel "
                                    f"failed; its launches run one by one")
            except KernelBuildError as exc:
                warnings.warn(str(exc), stacklevel=2)
                prg = False
            if len(self._built) >= MAX_GRAPHS:
                self._built.clear()
            self._built[source] = prg
        if prg is False:
            return None
        knl = cl.Kernel(prg, "pg_graph")
        knl.set_args(*args)
        local = (self.backend.local,)
        return (knl, local, local)


def _is_global(buf) -> bool:
    """True for a data buffer, False for a layout descriptor (a read-only ``cl.Buffer``
    from ``Runtime.constant``, passed as ``__constant``)."""
    return not (isinstance(buf, cl.Buffer) and buf.flags & cl.mem_flags.READ_ONLY)


class _GraphSource:
    """The OpenCL C of one graph kernel and its argument values."""

    def __init__(self, backend, group):
        self.idx = group[0][0].plugrad.idx
        self.params, self.values, self.names = [], [], {}
        functions, fused, types, calls = {}, {}, {}, []
        for knl, gsize, _local, kargs in group:
            info = knl.plugrad
            key = (info.dtype_name, info.name) if info.dtype_name != "fused" else ("fused", id(info.source))
            table = fused if info.dtype_name == "fused" else functions
            if key not in table:
                fname = f"k{len(functions) + len(fused)}"
                if info.dtype_name == "fused":
                    table[key] = (fname, self._function(info.source.kernel, "fused", fname))
                    for ct in info.source.helper_types:
                        types[ct.name] = ct
                else:
                    ct = CTYPES[info.dtype_name]
                    types[ct.name] = ct
                    table[key] = (fname, _tagged(self._function(info.source, info.name, fname), ct))
            fname = table[key][0]
            text = info.source.kernel if info.dtype_name == "fused" else info.source
            decls = _params(text, "fused" if info.dtype_name == "fused" else info.name)
            if info.dtype_name != "fused":
                decls = [_tagged(d, CTYPES[info.dtype_name]) for d in decls]
            actual = [self._arg(a, d, t) for a, d, t in zip(kargs, decls, info.argtypes)]
            calls.append(f"    for (I t = lid; t < {gsize[0]}; t += {backend.local}) {fname}(t, {', '.join(actual)});")
        fp64 = backend.info.fp64
        head = "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n" if fp64 else ""
        head += f"#define RUN {backend.run}\n#define LOCAL {backend.local}\ntypedef {self.idx.c} I;\n"
        plain = structs(self.idx).replace(f"typedef {self.idx.c} I;\n", "")
        for ct in types.values():
            head += _tagged(plain + helpers(ct), ct)
        head += "".join(text for _, text in functions.values())
        head += "#pragma OPENCL FP_CONTRACT OFF\n"
        head += ("float pg_round_half(float v) { ushort h; vstore_half_rte(v, 0, (half*)&h); "
                 "return vload_half(0, (const half*)&h); }\n")
        if fp64:
            head += ("float pg_round_half_d(double v) { ushort h; vstore_half_rte(v, 0, (half*)&h); "
                     "return vload_half(0, (const half*)&h); }\n")
        head += "".join(text for _, text in fused.values())
        body = "\n    barrier(CLK_GLOBAL_MEM_FENCE);\n".join(calls)
        self.source = (head + f"__kernel void pg_graph({', '.join(self.params) or 'const int unused'}) {{\n"
                       f"    const I lid = (I)get_local_id(0);\n{body}\n}}\n")
        if not self.params:
            self.values.append(np.int32(0))

    def result(self):
        return self.source, self.values

    def _function(self, text: str, name: str, fname: str) -> str:
        """Kernel ``name`` of ``text`` as a function of the work-item index ``t``."""
        text = re.sub(rf"\b{re.escape(name)}", fname, text)
        text = text.replace(f"__kernel void {fname}(", f"void {fname}(const I pgt_, ")
        return text.replace("(I)get_global_id(0)", "pgt_")

    def _arg(self, value, decl: str, argtype) -> str:
        """The C expression passing ``value`` to the parameter ``decl``: a buffer or
        a float becomes a graph-kernel parameter (a buffer once however often it is
        passed), an integer a literal."""
        ctype = decl.rsplit(None, 1)[0].replace("const ", "").strip() if "*" not in decl else \
            decl[:decl.rindex("*") + 1]
        if argtype is None:
            key = id(value)
            name = self.names.get(key)
            if name is None:
                space = "__constant" if decl.startswith("__constant") else "__global"
                name = self.names[key] = f"b{len(self.names)}"
                self.params.append(f"{space} uchar* {name}")
                self.values.append(value)
            return f"({ctype}){name}"
        if argtype.kind in "iub":
            return f"(({ctype}){int(argtype.type(value))})"
        name = f"s{len(self.params)}"
        self.params.append(f"const {ctype} {name}")
        self.values.append(argtype.type(value))
        return name
