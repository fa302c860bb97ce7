"""``plugrad.compile``: capture what a function sends to the devices, replay it.

Modules, one job each: ``symbolic`` (numbers that stay replay inputs), ``tracking`` (the
Python state a function reads and writes), ``recorder`` (the kernel calls of one eager
run), ``guards`` (the checks before a replay), ``fusion`` (elementwise chains into fused
programs), ``codegen`` and ``planner`` (the generated replay function with its buffers
planned), ``runtime`` (the objects a replay makes for its caller), ``errors`` and ``api``
(``compile``, ``explain``, ``OptimizedModule``). See docs/performance.md, "Compile".
"""

from __future__ import annotations

from .api import (CACHE_SIZE_LIMIT, CompiledFunction, ExplainOutput, OptimizedModule, compile, explain, is_compiling,
                  list_backends, reset)
from .errors import InvalidBackend, Unsupported

__all__ = ["compile", "explain", "is_compiling", "list_backends", "reset", "CompiledFunction", "ExplainOutput",
           "OptimizedModule", "Unsupported", "InvalidBackend", "CACHE_SIZE_LIMIT"]
