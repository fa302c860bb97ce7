"""What PyTorch's random streams cost on the cpu device: ``randn(10**7)`` against NumPy.

    python bench/bench_random.py [--n 10000000] [--repeat 5] [--out bench/results]

plugrad's ``randn`` gives PyTorch's bits (mt19937 words, ATen's float32 Box-Muller with
its fused multiply-adds emulated exactly); NumPy's ``Generator.standard_normal`` is the
yardstick of a vectorised normal sampler. Both run in the same process, interleaved,
best of ``--repeat`` in CPU time (each library computes on one thread here); the ratio
is plugrad / NumPy (the issue's goal: at most 2).
Also timed: torch's own ``randn`` and plugrad's ``rand`` and ``randperm``. Writes
``random.md`` into ``--out`` and prints it.
"""

from __future__ import annotations

import argparse
import pathlib
import platform
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


def report(n: int, rows: list) -> str:
    base = dict(rows)["NumPy `default_rng().standard_normal(n)` (float64)"]
    ours = dict(rows)["plugrad `randn(n)` (float32, PyTorch's bits)"]
    lines = [f"# Random streams on the cpu device (n = {n:,})", "",
             f"{platform.processor() or platform.machine()}, Python {platform.python_version()}; best of the "
             "interleaved repeats, CPU seconds.", "",
             "| what | seconds | / NumPy standard_normal |", "| --- | ---: | ---: |"]
    lines += [f"| {k} | {s:.4f} | {s / base:.2f} |" for k, s in rows]
    lines += ["", f"**randn(n) / NumPy standard_normal(n) = {ours / base:.2f}** (goal: at most 2)", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="plugrad's random streams against NumPy")
    ap.add_argument("--n", type=int, default=10 ** 7)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", default=str(HERE / "results"))
    args = ap.parse_args(argv)
    md = report(args.n, measure(args.n, args.repeat))
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "random.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
