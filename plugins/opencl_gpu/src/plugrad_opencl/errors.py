"""The errors the OpenCL device raises. Each names the device, the op and the cause."""

from __future__ import annotations

import re

from plugrad.extend import OutOfMemoryError


class OpenCLDeviceError(RuntimeError):
    """An OpenCL call failed (a kernel launch, a transfer, a queue wait)."""


class DeviceOutOfMemoryError(OpenCLDeviceError, OutOfMemoryError):
    """An allocation does not fit the device (a single buffer above
    CL_DEVICE_MAX_MEM_ALLOC_SIZE, or global memory exhausted): plugrad's
    ``OutOfMemoryError``, a RuntimeError; tensors allocated before stay valid."""


class KernelBuildError(OpenCLDeviceError):
    """The OpenCL compiler rejected a generated program.

    ``build_log`` is the compiler's log, ``source`` the generated OpenCL C and
    ``listing`` that source with line numbers. The message shows the log and the
    numbered lines the log points at."""

    def __init__(self, what: str, build_log: str, source: str):
        self.build_log = build_log
        self.source = source
        self.listing = numbered(source)
        super().__init__(f"{what}\n--- build log ---\n{build_log.strip()}\n--- generated source near the errors "
                         f"(full numbered source in .listing) ---\n{excerpt(source, build_log)}")


def numbered(source: str) -> str:
    lines = source.splitlines()
    width = len(str(len(lines)))
    return "\n".join(f"{i:>{width}} | {line}" for i, line in enumerate(lines, 1))


def excerpt(source: str, log: str, context: int = 3) -> str:
    """The numbered source lines a build log refers to (``file:line:col``), with context."""
    lines = source.splitlines()
    wanted = sorted({int(m.group(1)) for m in re.finditer(r":(\d+):\d+:", log)})
    if not wanted:
        return "\n".join(numbered(source).splitlines()[:40])
    keep = sorted({n for w in wanted for n in range(max(1, w - context), min(len(lines), w + context) + 1)})
    width = len(str(len(lines)))
    out, prev = [], None
    for n in keep:
        if prev is not None and n != prev + 1:
            out.append("...")
        out.append(f"{n:>{width}} | {lines[n - 1]}")
        prev = n
    return "\n".join(out)
