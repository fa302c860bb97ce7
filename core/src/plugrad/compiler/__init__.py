"""``plugrad.compile``: capture what a function sends to the devices, replay it.

Modules, one job each: ``symbolic`` (numbers that stay replay inputs), ``tracking`` (the
Python state a function reads and writes), ``recorder`` (the kernel calls of one eager
run), ``fusion`` (elementwise chains into fused programs), ``codegen`` and ``planner``
(the generated replay function with its buffers planned), ``api`` (``compile``,
``explain``, ``OptimizedModule``). See docs/performance.md, "compile".
"""

from __future__ import annotations

from .api import (CACHE_SIZE_LIMIT, CompiledFunction, ExplainOutput, OptimizedModule, compile, explain, is_compiling,
                  list_backends)
from .errors import InvalidBackend, Unsupported

__all__ = ["compile", "explain", "is_compiling", "list_backends", "CompiledFunction", "ExplainOutput",
           "OptimizedModule", "Unsupported", "InvalidBackend", "CACHE_SIZE_LIMIT"]
