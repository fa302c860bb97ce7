"""Micro-benchmarks of the opencl device: per-op overhead, bandwidth-bound ops,
reductions and matmul kernels, each against NumPy on the host.

    python plugins/opencl_gpu/bench/bench_opencl.py [--device opencl:0] [--quick]

Timings are best-of-3 wall times with the queue drained (``synchronize``) at the end
of each repetition; on a shared machine run it more than once.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import plugrad as torch


def best_of(fn, reps: int, sync) -> float:
    """Seconds per call of ``fn`` (best of three batches of ``reps`` calls)."""
    fn()
    sync()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        sync()
        best = min(best, (time.perf_counter() - start) / reps)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="opencl")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repetitions")
    args = parser.parse_args()
    dev = torch.device(args.device)
    backend = torch.ones(1, device=dev)._backend
    sync = backend.synchronize
    print(f"{dev}: {backend.info.describe()} (tuning {backend.tuning})")

    print("\nper-op overhead, 5-element tensors, queued (us/op)")
    x, y = torch.ones(5, device=dev), torch.ones(5, device=dev)
    xt = torch.ones(5, 4, device=dev).t()
    m = torch.ones(4, 4, device=dev)
    raw = backend.empty((5,), torch.float32)
    cases = {
        "backend.binary add (kernel call)": lambda: backend.binary("add", x._a, y._a, raw),
        "x + y": lambda: x + y, "x * 2": lambda: x * 2, "xt.exp() (strided)": lambda: xt.exp(),
        "x.sum()": lambda: x.sum(), "m @ m": lambda: m @ m,
    }
    for name, fn in cases.items():
        print(f"  {name:34s} {best_of(fn, 500 if args.quick else 2000, sync) * 1e6:8.1f}")
    print(f"  {'x + y, then .item() (round trip)':34s} {best_of(lambda: (x + y)[0].item(), 300, sync) * 1e6:8.1f}")

    n = 1 << (18 if args.quick else 20)
    side = int(n ** 0.5)
    print(f"\nbandwidth-bound ops on {n} float32 elements (ms): opencl / numpy")
    a = torch.rand(n, device=dev)
    b = torch.rand(n, device=dev)
    sq = torch.rand(side, side, device=dev)
    an, bn, sqn = a.cpu().numpy(), b.cpu().numpy(), sq.cpu().numpy()
    none = lambda: None  # noqa: E731
    rows = [("a + b", lambda: a + b, lambda: an + bn),
            ("exp(a) * b", lambda: a.exp() * b, lambda: np.exp(an) * bn),
            ("sum(a)", lambda: a.sum(), lambda: an.sum()),
            ("sum rows", lambda: sq.sum(1), lambda: sqn.sum(1)),
            ("sum columns", lambda: sq.sum(0), lambda: sqn.sum(0)),
            ("sq.t() + sq (strided)", lambda: sq.t() + sq, lambda: sqn.T + sqn),
            ("argmax rows", lambda: sq.argmax(1), lambda: sqn.argmax(1)),
            ("cumsum rows", lambda: sq.cumsum(1), lambda: np.cumsum(sqn, 1))]
    for name, ours, ref in rows:
        t_ours = best_of(ours, 5, sync) * 1e3
        t_ref = best_of(ref, 5, none) * 1e3
        print(f"  {name:24s} {t_ours:8.2f} / {t_ref:8.2f}")

    print("\nmatmul, float32 (GFLOP/s)")
    sizes = (256, 512) if args.quick else (256, 512, 1024)
    kernels = ("generic", "v16", "tiled")
    print("  " + "size".ljust(8) + "".join(k.rjust(10) for k in kernels) + "numpy".rjust(10))
    for s in sizes:
        p, q = torch.randn(s, s, device=dev), torch.randn(s, s, device=dev)
        pn, qn = p.cpu().numpy(), q.cpu().numpy()
        flops = 2 * s ** 3
        line = f"  {s:<8d}"
        for kernel in kernels:
            backend.matmul_kernel = kernel
            slow = kernel != "v16" and backend.tuning == "cpu"
            t = best_of(lambda p=p, q=q: p @ q, 1, sync) if not (slow and s > 512) else float("nan")
            line += f"{flops / t / 1e9:10.1f}"
        backend.matmul_kernel = "auto"
        line += f"{flops / best_of(lambda pn=pn, qn=qn: pn @ qn, 3, none) / 1e9:10.1f}"
        print(line)


if __name__ == "__main__":
    main()
