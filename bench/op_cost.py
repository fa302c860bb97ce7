"""Where the time of one small op goes: the per-op cost budget of plugrad's CPU path.

    python bench/op_cost.py [--out bench/results]

Times (on 5-element float32 tensors on the ``cpu`` device, so that the kernel itself
is negligible) each stage an op passes through, from the bare NumPy call to a
recorded op and its backward, and writes ``op_cost.md`` (the table the docs' per-op
cost page includes) into ``--out``. Each figure is the best of several repeats of a
timeit loop: the cost of the code path, not of the machine's noise.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import platform
import time
import timeit

HERE = pathlib.Path(__file__).resolve().parent


def best_us(fn, number: int = 20000, repeat: int = 7) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def measure() -> list:
    """(stage, microseconds, what it adds) rows, cheapest first."""
    import numpy as np

    import plugrad
    from plugrad.autograd.graph import record
    from plugrad.tensor import make

    a_np, b_np = np.ones(5, np.float32), np.full(5, 2.0, np.float32)
    out_np = np.empty(5, np.float32)
    a, b = plugrad.ones(5), plugrad.full((5,), 2.0)
    ga, gb = plugrad.ones(5, requires_grad=True), plugrad.full((5,), 2.0, requires_grad=True)
    backend = a._backend
    product = ga * gb
    MulBackward0 = type(product.grad_fn)   # generated with the op (plugrad.ops.pointwise)
    node = MulBackward0()

    def one_op_graph():
        (ga * gb).sum().backward()
        ga.grad = gb.grad = None

    def two_op_graph():
        ((ga * gb) * gb).sum().backward()
        ga.grad = gb.grad = None

    rows = [
        ("NumPy `a * b` (allocating)", best_us(lambda: a_np * b_np), "the floor: one ufunc call"),
        ("NumPy `multiply(a, b, out=)`", best_us(lambda: np.multiply(a_np, b_np, out=out_np)),
         "the kernel call a backend makes"),
        ("backend.empty + backend.binary", best_us(lambda: backend.binary("mul", a._a, b._a,
                                                                         backend.empty((5,), plugrad.float32))),
         "the kernel interface: one Python method call more per primitive"),
        ("tensor construction (`make`)", best_us(lambda: make(backend, out_np, (5,), plugrad.float32)),
         "a Tensor object, its strides and its storage record"),
        ("`a * b`, untracked", best_us(lambda: a * b),
         "operator dispatch, dtype and shape rules, allocation, kernel, tensor"),
        ("`a * b`, tracked (requires_grad)", best_us(lambda: ga * gb), "the same plus the graph node below"),
        ("  graph node creation", best_us(MulBackward0), "a backward node object"),
        ("  saving the inputs", best_us(lambda: node.save(ga, gb)), "saved tensors and their versions"),
        ("  recording the edges", best_us(lambda: record(node, (ga, gb), product)),
         "next_functions, input metadata, output's grad_fn"),
        ("`(a * b).sum().backward()`, then `.grad = None`", best_us(one_op_graph, number=5000),
         "two tracked ops, the implicit gradient, the engine's walk, two backward formulas, two leaf "
         "accumulations"),
        ("one more tracked op in that graph", best_us(two_op_graph, number=5000) - best_us(one_op_graph, number=5000),
         "its forward, its node's backward formula run by the engine, and a gradient summed at a shared leaf"),
    ]
    return rows


def to_markdown(rows: list) -> str:
    floor = rows[0][1]
    lines = [f"Measured by `python bench/op_cost.py` on {platform.machine()} ({os.cpu_count()} cores), Python "
             f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}.", "",
             "| stage | µs | x NumPy call | what it pays for |", "| --- | --- | --- | --- |"]
    for stage, us, why in rows:
        lines.append(f"| {stage} | {us:.2f} | {us / floor:.1f} | {why} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="plugrad's per-op cost budget")
    ap.add_argument("--out", default=str(HERE / "results"))
    args = ap.parse_args(argv)
    md = to_markdown(measure())
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "op_cost.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
