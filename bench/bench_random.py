"""What PyTorch's random streams cost on the cpu device: ``randn(10**7)`` against NumPy.

    python bench/bench_random.py [--n 10000000] [--repeat 5] [--out bench/results]

plugrad's ``randn`` gives PyTorch's bits (mt19937 words, ATen's float32 Box-Muller with
its fused multiply-adds emulated exactly); NumPy's ``Generator.standard_normal`` is the
yardstick of a vectorised normal sampler. Both run in the same process, interleaved,
best of ``--repeat`` in CPU time (each library computes on one thread here); the ratio
is plugrad / NumPy (the issue's goal: at most 2).
Also timed: torch's own ``randn`` and plugrad's ``rand``. The cpu device fills normals
with compiled kernels when its ``jit`` extra (Numba) is installed, with NumPy otherwise
(``PLUGRAD_CPU_JIT=0`` forces NumPy); the report names the engine and, for the compiled
one, its one-time cost in a fresh process (importing Numba and compiling both fills, or
loading them from Numba's cache: a temporary ``NUMBA_CACHE_DIR``, empty, then filled).
Writes ``random.md`` into ``--out`` and prints it.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent


def best(fn, repeat: int) -> float:
    """The least CPU time (``process_time``) of ``repeat`` calls: on a shared machine the
    wall clock also counts other processes' turns, CPU time only this one's work."""
    times = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return min(times)


def measure(n: int, repeat: int) -> list:
    """``(what, seconds)`` rows, measured interleaved so that load affects every row alike."""
    import numpy as np

    import plugrad

    rng = np.random.default_rng(0)
    plugrad.manual_seed(0)
    rows = {
        "NumPy `default_rng().standard_normal(n)` (float64)": lambda: rng.standard_normal(n),
        "NumPy `default_rng().standard_normal(n, dtype=float32)`": lambda: rng.standard_normal(n, dtype=np.float32),
        "plugrad `randn(n)` (float32, PyTorch's bits)": lambda: plugrad.randn(n),
        "plugrad `randn(n, dtype=float64)`": lambda: plugrad.randn(n, dtype=plugrad.float64),
        "plugrad `rand(n)`": lambda: plugrad.rand(n),
    }
    try:
        import torch
        rows["torch `randn(n)` (for reference)"] = lambda: torch.randn(n)
    except ImportError:
        pass
    found = {k: [] for k in rows}
    for _ in range(repeat):
        for k, fn in rows.items():
            found[k].append(best(fn, 1))
    return [(k, min(v)) for k, v in found.items()]


def engine() -> str:
    """Which engine fills the cpu device's large normal tensors in this process."""
    from plugrad_cpu import rng

    if rng.JIT_MIN is None:
        return "NumPy (PLUGRAD_CPU_JIT=0)"
    jit = rng._jit_engine()
    if jit is None:
        return "NumPy (Numba is not installed)"
    import numba
    return f"compiled with Numba {numba.__version__} (from {rng.JIT_MIN:,} elements on; float64 too: {jit.FLOAT64})"


_LOAD = """
import time
import numpy as np
from plugrad_cpu import rng
t = time.process_time()
jit = rng._jit_engine()
words = np.zeros(32, np.uint32)
jit.fill16_float(words[:16], np.float32(0), np.float32(1), np.empty(16, np.float32))
jit.fill16_double(words, 0.0, 1.0, np.empty(16))
print(time.process_time() - t)
"""


def load_costs() -> list:
    """``(what, seconds)``: importing Numba and getting both compiled fills ready in a
    fresh process, with an empty Numba cache (compiling) and then the cache it filled."""
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        for state in ("empty Numba cache: compiles them", "Numba cache filled: loads them"):
            out = subprocess.run([sys.executable, "-c", _LOAD], env=dict(os.environ, NUMBA_CACHE_DIR=cache),
                                 check=True, capture_output=True, text=True).stdout
            rows.append((f"once per process: import Numba, both fills ready ({state})", float(out)))
    return rows


def report(n: int, rows: list, how: str, once: list) -> str:
    base = dict(rows)["NumPy `default_rng().standard_normal(n)` (float64)"]
    ours = dict(rows)["plugrad `randn(n)` (float32, PyTorch's bits)"]
    lines = [f"# Random streams on the cpu device (n = {n:,})", "",
             f"{platform.processor() or platform.machine()}, Python {platform.python_version()}; best of the "
             f"interleaved repeats, CPU seconds. Normal fills: {how}.", "",
             "| what | seconds | / NumPy standard_normal |", "| --- | ---: | ---: |"]
    lines += [f"| {k} | {s:.4f} | {s / base:.2f} |" for k, s in rows]
    lines += ["", f"**randn(n) / NumPy standard_normal(n) = {ours / base:.2f}** (goal: at most 2)", ""]
    if once:
        lines += ["| the compiled engine's one-time cost | CPU seconds |", "| --- | ---: |"]
        lines += [f"| {k} | {s:.3f} |" for k, s in once] + [""]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="plugrad's random streams against NumPy")
    ap.add_argument("--n", type=int, default=10 ** 7)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", default=str(HERE / "results"))
    args = ap.parse_args(argv)
    how = engine()
    once = load_costs() if how.startswith("compiled") else []
    md = report(args.n, measure(args.n, args.repeat), how, once)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "random.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
