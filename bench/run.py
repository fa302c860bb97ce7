"""Run the benchmark workloads and report ratios against NumPy and PyTorch.

    python bench/run.py [--quick] [--devices cpu,opencl] [--only W1,W2] [--out bench/results] [--torch-compile]

Each (workload, implementation, device) runs in a fresh interpreter, in the same
order every time; timings are medians over repetitions after warm-ups, with the
spread (interquartile range) beside them. On an asynchronous device (opencl) a
repetition ends by waiting for the device (W1 and W2 time blocks of steps and one
wait, W3 and W5 wait at every step), so its rows count device time, not only the
host's. Writes ``results.md``, ``results.json``
and, when matplotlib is installed, ``results.png`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from workloads import WORKLOADS  # noqa: E402

SCALE = {"us/iter": 1e6, "ms/iter": 1e3, "ms/epoch": 1e3}

#: W2's peak resident memory may be at most this many times the NumPy version's
PEAK_RSS_TARGET = 1.2

#: installed devices left out unless named with --devices, and why
SKIPPED_BY_DEFAULT = {"pylist": "the example device computes in pure Python: W3/W4 would take hours"}


def _worker(workload: str, impl: str, device: str, quick: bool) -> dict:
    """Run one measurement in a fresh interpreter and return its JSON result."""
    code = (f"import json, sys; sys.path.insert(0, {str(HERE)!r}); from workloads import WORKLOADS; "
            f"fn = WORKLOADS[{workload!r}][{impl!r}]; "
            f"r = fn({device!r}, {quick}) if {impl!r}.startswith('plugrad') else fn({quick}); "
            f"print('RESULT' + json.dumps(r))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=3600)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT"):
            return {"ok": True, "data": json.loads(line[6:])}
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
    return {"ok": False, "error": tail[0]}


def _summary(times: list, unit: str) -> dict:
    scale = SCALE[unit]
    q = statistics.quantiles(times, n=4) if len(times) >= 4 else [min(times), 0, max(times)]
    return {"median": statistics.median(times) * scale, "iqr": (q[2] - q[0]) * scale}


def _installed_devices() -> list:
    code = ("import plugrad; from plugrad.plugins import device_types; "
            "print(' '.join(d for d in device_types() if getattr(plugrad, d).is_available()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.split()
    for name in out:
        if name in SKIPPED_BY_DEFAULT:
            print(f"skipping device '{name}': {SKIPPED_BY_DEFAULT[name]} (name it in --devices to run it)",
                  file=sys.stderr)
    return sorted((d for d in out if d not in SKIPPED_BY_DEFAULT), key=lambda d: (d != "cpu", d))


def _has_torch() -> bool:
    return subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode == 0


def measure(names, devices, quick, torch_ok, torch_compile=False) -> dict:
    results = {}
    for name in names:
        spec = WORKLOADS[name]
        entry = results[name] = {"title": spec["title"], "unit": spec["unit"], "target": spec.get("target"),
                                 "rows": {}}
        impls = [("numpy", None)] if "numpy" in spec else []
        if torch_ok and "torch" in spec:
            impls.append(("torch", None))
        if torch_ok and torch_compile and "torch_compile" in spec:
            impls.append(("torch_compile", None))
        impls += [("plugrad", d) for d in devices]
        if "plugrad_compiled" in spec:
            impls += [("plugrad_compiled", d) for d in devices]
        for impl, dev in impls:
            label = {"torch_compile": "torch.compile"}.get(impl, impl) if dev is None else \
                f"plugrad:{dev}" + (" compiled" if impl == "plugrad_compiled" else "")
            print(f"  {name} {label} ...", end="", flush=True, file=sys.stderr)
            t0 = time.perf_counter()
            r = _worker(name, impl, dev or "", quick)
            print(f" {time.perf_counter() - t0:.1f}s", file=sys.stderr)
            if not r["ok"]:
                entry["rows"][label] = {"error": r["error"]}
                continue
            data = r["data"]
            row = {}
            if isinstance(data, list):
                row.update(_summary(data, spec["unit"]))
            elif "times" in data:
                row.update(_summary(data["times"], spec["unit"]))
                row.update({k: data[k] for k in ("peak_rss_mb", "equal") if k in data})
            else:
                row.update(data)
            entry["rows"][label] = row
    return results


def _ratio(row, ref):
    if ref is None or "median" not in row or "median" not in ref or not ref["median"]:
        return ""
    return f"{row['median'] / ref['median']:.2f}x"


QUICK_NOTE = ("Quick mode: each workload ran a few times, to show that it runs. These figures are information, "
              "not a verdict: they are too few and too noisy to judge against the targets, which a full run "
              "(`python bench/run.py`) compares.")


def _cells(cells: list, verdict: bool) -> str:
    """A table row; without ``verdict`` (quick mode) the last two cells, the target and
    whether it was met, are left out."""
    return "| " + " | ".join(cells if verdict else cells[:-2]) + " |"


def to_markdown(results: dict, meta: dict) -> str:
    verdict = meta["mode"] != "quick"
    head = ["workload", "implementation", "median", "spread (IQR)", "x NumPy", "x PyTorch", "target (x NumPy)", "met"]
    lines = ["# plugrad benchmarks", "",
             f"{meta['machine']}; Python {meta['python']}; {meta['date']}; mode: {meta['mode']}.", "",
             *([] if verdict else [QUICK_NOTE, ""]),
             _cells(head, verdict), _cells(["---"] * len(head), verdict)]
    for name, entry in results.items():
        if name == "MEM":
            continue
        rows = entry["rows"]
        ref_np, ref_torch = rows.get("numpy"), rows.get("torch")
        for label, row in rows.items():
            if "error" in row:
                lines.append(_cells([f"{name} {entry['title']}", label, f"error: {row['error']}"] + [""] * 5, verdict))
                continue
            target = entry["target"] if label.startswith("plugrad") else None
            met = ""
            if target and ref_np and "median" in ref_np:
                met = "yes" if row["median"] <= target * ref_np["median"] else "no"
            extra = f" (peak RSS {row['peak_rss_mb']:.0f} MB)" if "peak_rss_mb" in row else ""
            if "equal" in row:
                extra += ", results == eager" if row["equal"] else ", RESULTS DIFFER FROM EAGER"
            lines.append(_cells([f"{name} {entry['title']}", label, f"{row['median']:.1f} {entry['unit']}{extra}",
                                 f"{row['iqr']:.1f}", _ratio(row, ref_np), _ratio(row, ref_torch),
                                 f"{target or ''}", met], verdict))
    w2 = results.get("W2", {}).get("rows", {})
    ref_rss = w2.get("numpy", {}).get("peak_rss_mb")
    if ref_rss:
        head = ["peak RSS of W2", "implementation", "peak RSS", "x NumPy", "target (x NumPy)", "met"]
        lines += ["", _cells(head, verdict), _cells(["---"] * len(head), verdict)]
        for label, row in w2.items():
            if "peak_rss_mb" not in row:
                continue
            ratio = row["peak_rss_mb"] / ref_rss
            target = PEAK_RSS_TARGET if label.startswith("plugrad") else None
            met = ("yes" if ratio <= target else "no") if target else ""
            lines.append(_cells(["W2", label, f"{row['peak_rss_mb']:.0f} MB", f"{ratio:.2f}x", f"{target or ''}", met],
                                verdict))
    mem = results.get("MEM")
    if mem:
        lines += ["", "| memory | device | RSS after 100 iterations | RSS after all | iterations | growth |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for label, row in mem["rows"].items():
            if "error" in row:
                lines.append(f"| W1 loop | {label} | error: {row['error']} | | | |")
                continue
            growth = row["rss_after_all_mb"] - row["rss_after_100_mb"]
            lines.append(f"| W1 loop | {label} | {row['rss_after_100_mb']:.1f} MB | {row['rss_after_all_mb']:.1f} MB "
                         f"| {row['iterations']} | {growth:+.1f} MB |")
    return "\n".join(lines) + "\n"


def chart(results: dict, path: pathlib.Path) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    names = [n for n in results if n != "MEM"]
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.2), squeeze=False)
    for ax, name in zip(axes[0], names):
        rows = {k: v for k, v in results[name]["rows"].items() if "median" in v}
        ax.bar(list(rows), [v["median"] for v in rows.values()], color="#4c72b0")
        ax.set_title(f"{name}: {results[name]['title']}", fontsize=9)
        ax.set_ylabel(results[name]["unit"])
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="plugrad benchmarks")
    ap.add_argument("--quick", action="store_true", help="few repetitions: checks that everything runs")
    ap.add_argument("--devices", help="comma-separated plugrad devices (default: every installed one)")
    ap.add_argument("--only", help="comma-separated workloads (default: all)")
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--torch-compile", action="store_true",
                    help="also time PyTorch's torch.compile (its first compile takes minutes)")
    args = ap.parse_args(argv)
    devices = args.devices.split(",") if args.devices else _installed_devices()
    names = args.only.split(",") if args.only else list(WORKLOADS)
    meta = {"machine": f"{platform.machine()} {os.cpu_count()} cores", "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%d"), "mode": "quick" if args.quick else "full"}
    results = measure(names, devices, args.quick, _has_torch(), args.torch_compile)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    md = to_markdown(results, meta)
    (out / "results.md").write_text(md)
    (out / "results.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    chart(results, out / "results.png")
    print(md)
    failed = [f"{n}:{label}" for n, e in results.items() for label, row in e["rows"].items() if "error" in row]
    if failed:
        print("errors in: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
