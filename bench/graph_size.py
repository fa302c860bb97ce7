"""Forward cost per op as the graph grows: building a 100,000-op graph must cost per op
what building a 1,000-op graph does.

    python bench/graph_size.py [--out bench/results]

What can make it grow is Python's cycle collector: its full collections scan every
object it tracks, and they come more often as the tracked heap grows (each time it
grew by a quarter), so every tracked object a recorded op leaves in the graph costs
several scans over its life, and each scan of a large heap misses the caches. The
figure to watch is therefore the cost per op at 100k ops over the cost at 1k ops
(the target: at most 1.3), beside the number of objects each op leaves for the
collector and the share of the time the collector took.

Two chains on 4-element float32 tensors on the ``cpu`` device (the kernels cost
next to nothing): ``y = y * 1.0001`` (one saved-nothing node per op), and
``y = (y * w).tanh() + x`` (three ops: a node that saves its inputs, one that saves
its output, one that saves nothing). Each size runs in a fresh interpreter with the
collector on, as in a user's program; 100,000 ops are recorded per repeat (a
1,000-op graph is built and dropped 100 times), and the best of the repeats is kept.
Times are the process's CPU time, so that other work on the machine does not count.
Writes ``graph_size.md`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent

SIZES = (1_000, 100_000)
TOTAL_OPS = 100_000
REPEATS = 7
TARGET = 1.3

WORKER = r"""
import gc, json, sys, time
import plugrad

chain, n, total, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
x = plugrad.ones(4, requires_grad=True)
w = plugrad.full((4,), 0.5, requires_grad=True)

def scalar(n):
    y = x
    for _ in range(n):
        y = y * 1.0001
    return y

def mixed(n):
    y = x
    for _ in range(n // 3):
        y = (y * w).tanh() + x
    return y

build = {"scalar": scalar, "mixed": mixed}[chain]
in_gc = [0.0, 0.0]

def clock(phase, info):
    if phase == "start":
        in_gc[1] = time.process_time()
    else:
        in_gc[0] += time.process_time() - in_gc[1]

build(300)
# the objects one op leaves for the collector: tracked survivors of a young collection
gc.collect()
before = len(gc.get_objects())
y = build(3000)
gc.collect(0)
gc.collect(0)
per_op = (len(gc.get_objects()) - before) / 3000
del y
gc.collect()
gc.callbacks.append(clock)
best = None
for _ in range(repeats):
    in_gc[0] = 0.0
    start = time.process_time()
    for _ in range(max(1, total // n)):
        y = build(n)
        del y
    ops = max(1, total // n) * n
    row = ((time.process_time() - start) / ops * 1e6, in_gc[0] / ops * 1e6)
    best = row if best is None or row[0] < best[0] else best
print(json.dumps({"us_per_op": best[0], "gc_us_per_op": best[1], "tracked_per_op": per_op}))
"""


def measure(chain: str, n: int) -> dict:
    """One size of one chain, in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", WORKER, chain, str(n), str(TOTAL_OPS), str(REPEATS)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.splitlines()[-1])


def to_markdown(rows: dict) -> str:
    lines = [f"Measured by `python bench/graph_size.py` on {platform.machine()} ({os.cpu_count()} cores), Python "
             f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}: forward cost per recorded op, the cycle "
             f"collector on (best of {REPEATS} repeats of {TOTAL_OPS:,} ops).", "",
             "| chain | ops in the graph | µs per op | of which the cycle collector | objects tracked per op |",
             "| --- | --- | --- | --- | --- |"]
    for (chain, n), r in rows.items():
        lines.append(f"| {chain} | {n:,} | {r['us_per_op']:.2f} | {r['gc_us_per_op']:.2f} | "
                     f"{r['tracked_per_op']:.2f} |")
    lines.append("")
    for chain in dict.fromkeys(c for c, _ in rows):
        small, large = rows[chain, SIZES[0]]["us_per_op"], rows[chain, SIZES[-1]]["us_per_op"]
        lines.append(f"* {chain}: {SIZES[-1]:,} ops cost {large / small:.2f}x per op what {SIZES[0]:,} ops cost "
                     f"(target: at most {TARGET}x).")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="forward cost per op as the graph grows")
    ap.add_argument("--out", default=str(HERE / "results"))
    args = ap.parse_args(argv)
    rows = {(chain, n): measure(chain, n) for chain in ("scalar", "mixed") for n in SIZES}
    md = to_markdown(rows)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "graph_size.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
