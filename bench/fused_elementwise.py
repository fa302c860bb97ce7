"""What fusing an elementwise chain saves: W3's forward chain (20 ops on 1,000,000
float32) as one ``Backend.fused_elementwise`` program, on the device's own version
and on the default loop over its unfused kernels (the same bits, checked here).

    python bench/fused_elementwise.py [--devices cpu,opencl] [--n 1000000]

Prints one row per device: milliseconds per program (best of several repeats) fused
and unfused, and their ratio, in wall time and in the process's CPU time (all threads,
PoCL's included): on a shared machine the CPU time shows the work saved even when
other processes make the wall time noisy.
"""

from __future__ import annotations

import argparse
import time


def w3_program(f32):
    """Registers 0 (x), 1 (1.0001), 2 (0.5); 20 steps, every tanh output and the last
    square written out (what the backward keeps), as compile would group the chain."""
    steps, y = [], 0
    for _ in range(5):
        base = 3 + len(steps)
        steps += [("binary", "mul", (y, 1), f32), ("binary", "add", (base, 2), f32),
                  ("unary", "tanh", (base + 1,), f32), ("binary", "mul", (base + 2, base + 2), f32)]
        y = base + 3
    outs = [3 + k for k, s in enumerate(steps) if s[1] == "tanh"] + [y]
    return tuple(steps), outs


def best_ms(fn, sync, clock, repeat: int = 7, number: int = 3) -> float:
    fn()
    sync()
    best = float("inf")
    for _ in range(repeat):
        t0 = clock()
        for _ in range(number):
            fn()
        sync()
        best = min(best, (clock() - t0) / number)
    return best * 1e3


def measure(device: str, n: int) -> dict:
    import plugrad
    from plugrad.backend import Backend

    x = plugrad.rand(n, device=device)
    backend = x._backend
    program, regs = w3_program(plugrad.float32)
    outs = {kind: [(r, plugrad.empty(n, device=device)) for r in regs] for kind in ("fused", "loop")}
    inputs = [x._a, 1.0001, 0.5]
    sync = getattr(getattr(plugrad, plugrad.device(device).type, None), "synchronize", lambda: None)

    def fused():
        backend.fused_elementwise(program, inputs, [(r, t._a) for r, t in outs["fused"]])

    def loop():
        Backend.fused_elementwise(backend, program, inputs, [(r, t._a) for r, t in outs["loop"]])
    row = {"fuses": bool(backend.fuses_elementwise)}
    for clock, name in ((time.perf_counter, "wall"), (time.process_time, "cpu")):
        row[name] = (best_ms(fused, sync, clock), best_ms(loop, sync, clock))
    row["same_bits"] = all(backend.to_bytes(a._a) == backend.to_bytes(b._a)
                           for (_, a), (_, b) in zip(outs["fused"], outs["loop"]))
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--devices", default="cpu,opencl")
    ap.add_argument("--n", type=int, default=1_000_000)
    args = ap.parse_args()
    print("| device | time | fused ms | unfused loop ms | loop / fused | same bits |\n"
          "| --- | --- | --- | --- | --- | --- |")
    for device in args.devices.split(","):
        r = measure(device, args.n)
        for name in ("wall", "cpu"):
            fused, loop = r[name]
            print(f"| {device} | {name} | {fused:.2f} | {loop:.2f} | {loop / fused:.2f}x | {r['same_bits']} |")


if __name__ == "__main__":
    main()
