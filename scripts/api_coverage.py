"""How much of PyTorch's public API plugrad has.

Two modes:

* ``python scripts/api_coverage.py generate`` (needs torch installed) lists PyTorch's
  applicable public names, per namespace, into ``core/src/plugrad/_pytorch_names.json``.
  That file is committed: the report, the docs page and plugrad's "PyTorch has this
  name, plugrad does not yet" errors (``plugrad._missing``) read it, so none of them
  needs torch.
* ``python scripts/api_coverage.py report`` (the default; no torch needed) imports
  plugrad and prints, per namespace and in total, how many of those names plugrad has.
  A name counts only when plugrad really has it: the attribute exists and is callable
  (classes, functions) or, for Tensor properties, is a property of ``plugrad.Tensor``.

Names left out of the list (the rules are in ``EXCLUDED`` below, each with its reason):
internal (underscore) names, hardware back ends (CUDA, cuDNN, MIOpen, MKL-DNN, FBGEMM,
XLA, IPU, Vulkan...), quantization, sparse layouts, complex numbers, TorchScript/JIT and
compiler internals, storages, and deprecated functions that PyTorch itself tells users
not to call.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "core" / "src" / "plugrad" / "_pytorch_names.json"

# namespace in the data file -> the module path inside torch / plugrad ("Tensor" is the class)
NAMESPACES = {
    "torch": "",
    "Tensor": "Tensor",
    "nn": "nn",
    "nn.functional": "nn.functional",
    "nn.init": "nn.init",
    "linalg": "linalg",
    "special": "special",
    "optim": "optim",
    "optim.lr_scheduler": "optim.lr_scheduler",
}

# (regular expression on the name, reason[, namespaces the rule is limited to]); a name
# matching any rule is not applicable
EXCLUDED = [
    (r"^_", "internal: underscore names are not public API"),
    (r"cuda|cudnn|miopen|mkldnn|fbgemm|xla|ipu|vulkan|mps|hpu|xpu|mtia|nnpack|cufft|cublas|cusolver|magma|"
     r"cudagraph|is_hip", "hardware back ends plugrad does not have"),
    (r"quantiz|^q_|qscheme|qparams|int_repr|dequantize|fake_quant|^quant|_per_channel|_per_tensor",
     "quantization: a separate integer-arithmetic toolkit"),
    (r"[Ss]parse|^smm$|^hsmm$|^dsmm$|^spmm$|^hspmm$|^saddmm$|^sspaddmm$|crow_indices|col_indices|ccol_indices|"
     r"row_indices|^indices|^values|_nnz|coalesce|^to_sparse|^is_coalesced|^dense_dim|^sparse_dim|^to_dense$|"
     r"^to_mkldnn|segment_reduce", "sparse layouts"),
    (r"complex|^conj|^resolve_conj|^is_conj|^polar$|^angle$|^view_as_real|^real$|^imag$|^sgn$|^is_neg$|"
     r"^resolve_neg$|_neg_bit|_conj_bit|^adjoint$|^isreal$|^stft$|^istft$|^cfloat$|^cdouble$|^chalf$",
     "complex numbers: plugrad has no complex dtypes"),
    (r"Storage|^storage|^untyped_storage|^is_storage|^set_$|^share_memory_|^is_shared|^pin_memory|^is_pinned|"
     r"^data_ptr|^storage_offset|^record_stream|^from_file$|^frombuffer$",
     "raw memory: storages, pinned/shared memory, pointers"),
    (r"^Script|^script|^jit|^import_ir|^parse_|^merge_type|^unify_type|^compile$|^compiled_with|"
     r"Type$|^Argument|^AliasDb|^Block$|^Graph|^Node$|^Value$|^Use$|^Code$|^CallStack|^CompilationUnit|"
     r"^ConcreteModuleType|^DeepCopyMemoTable|^ErrorReport|^ExecutionPlan|^FileCheck|^FunctionSchema|"
     r"^Gradient$|^IODescriptor|^InferredType|^JITException|^LiteScriptModule|^LockingLogger|^LoggerBase|"
     r"^NoopLogger|^OperatorInfo|^PyTorchFile|^SerializationStorageContext|^DeserializationStorageContext|"
     r"^StaticModule|^ThroughputBenchmark|^Benchmark|^TracingState|^AggregationType|^Capsule|^Tag$|"
     r"^Dispatch|^ExcludeDispatchKeyGuard|^DisableTorchFunction|^Sym|^sym_|^BufferDict|^vmap$|^cond$|"
     r"^while_loop$|^fork$|^wait$|^Future$|^Stream$|^Event$|^classproperty$|^get_file_path$|"
     r"^prepare_multiprocessing_environment$|^profiler_|^get_device_module$|"
     r"^AcceleratorError$|^FatalError$|^thread_safe_generator$|^hash_tensor$|^nonzero_static$|^slice_inverse$|"
     r"^module_load$|^as_subclass$|^map_$|^map2_$|^apply_$|"
     r"^is_distributed$|^init_num_threads$|^set_flush_denormal$|^set_default_tensor_type$|^get_deterministic|"
     r"^set_deterministic|^is_deterministic|^set_warn_always|^is_warn_always|^set_anomaly_enabled$|"
     r"^is_anomaly|^CompleteArgumentSpec$|torch_function|^boolean_dispatch$|^assert_int_or_pair$|"
     r"^(Callable|Optional)$", "TorchScript, compiler, dispatcher and runtime internals"),
    (r"^ModuleDict$|^ParameterDict$", "TorchScript's C++ containers (torch.ModuleDict); nn's are counted in nn",
     ("torch",)),
    (r"_copy$|^native_|^batch_norm_(backward|elemt|gather|stats|update)|^affine_grid_generator$|^grid_sampler_|"
     r"^constant_pad_nd$|^convolution$|^conv_tbc$|^norm_except_dim$|^embedding_renorm_$|^rnn_(relu|tanh)|"
     r"^(gru|lstm)(_cell)?$|^max_pool1d_with_indices$|^frobenius_norm$|^nuclear_norm$|^unsafe_|^rsub$|"
     r"^choose_qparams|^fused_|^channel_shuffle$|^native_channel_shuffle$|^feature_(alpha_)?dropout_?$|"
     r"^alpha_dropout_?$|^dropout_$|^resize_as_sparse_$|^put$|^index_put$|^split_with_sizes$|^empty_permuted$|"
     r"^empty_quantized$", "ATen operator entry points behind nn/nn.functional (use those instead)",
     ("torch", "Tensor")),
    (r"^(eig|symeig|lstsq|solve|matrix_rank|chain_matmul|cholesky|qr|lu|triangular_solve)$|"
     r"^autocast_(in|de)crement_nesting$|_(gpu|cpu|ipu|xla)_(dtype|enabled)$",
     "deprecated: PyTorch points to the torch.linalg / torch.amp replacement", ("torch", "Tensor")),
    (r"^(grouped_mm|scaled_grouped_mm|scaled_mm)$", "float8 GPU matmuls", ("nn.functional",)),
    (r"^(is_mps|is_xpu|is_ipu|is_mtia|is_maia|is_quantized|is_sparse|is_sparse_csr|is_nested|"
     r"is_mkldnn|is_vulkan|is_xla|names|rename|rename_|refine_names|align_as|"
     r"align_to|unflatten_names|has_names|output_nr|reinforce|volatile|resize|sgn_|to_padded_tensor)$",
     "named tensors, memory layout and device-kind flags without meaning in plugrad", ("Tensor",)),
]
_EXCLUDED = [(re.compile(rule[0]), rule[1], rule[2] if len(rule) > 2 else None) for rule in EXCLUDED]


def excluded(namespace: str, name: str) -> str | None:
    """The reason ``name`` of ``namespace`` is not applicable, or None."""
    for pattern, reason, limited_to in _EXCLUDED:
        if (limited_to is None or namespace in limited_to) and pattern.search(name):
            return reason
    return None


def _resolve(root, path: str):
    obj = root
    for part in filter(None, path.split(".")):
        obj = getattr(obj, part)
    return obj


def _public(namespace: str, obj) -> list[str]:
    """The names PyTorch offers in one namespace, before the exclusion rules."""
    import torch

    if namespace == "Tensor":
        names = [n for n in dir(torch.Tensor)
                 if callable(getattr(torch.Tensor, n, None)) or isinstance(inspect.getattr_static(torch.Tensor, n),
                                                                         property)
                 or type(inspect.getattr_static(torch.Tensor, n)).__name__ == "getset_descriptor"]
        return names
    listed = getattr(obj, "__all__", None)
    names = list(listed) if listed is not None and namespace != "torch" else dir(obj)
    out = []
    for n in names:
        value = getattr(obj, n, None)
        if value is None or inspect.ismodule(value) or not callable(value):
            continue
        if namespace == "nn" and not (inspect.isclass(value) and (issubclass(value, torch.nn.Module)
                                                                  or n in ("Parameter", "Buffer"))):
            continue
        if namespace == "optim" and not (inspect.isclass(value) and issubclass(value, torch.optim.Optimizer)):
            continue
        if namespace == "optim.lr_scheduler" and not (inspect.isclass(value) and (
                issubclass(value, torch.optim.lr_scheduler.LRScheduler) or n == "ReduceLROnPlateau")):
            continue
        out.append(n)
    return out


def generate(path: Path = DATA) -> dict:
    """Write PyTorch's applicable names per namespace to ``path`` (needs torch)."""
    import torch

    data = {"pytorch_version": torch.__version__.split("+")[0], "namespaces": {}}
    for namespace, module_path in NAMESPACES.items():
        obj = _resolve(torch, module_path)
        names = sorted({n for n in _public(namespace, obj) if excluded(namespace, n) is None})
        data["namespaces"][namespace] = names
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return data


def load(path: Path = DATA) -> dict:
    return json.loads(Path(path).read_text())


def has(plugrad, namespace: str, name: str) -> bool:
    """Whether plugrad really offers ``name`` in ``namespace``: it resolves, and is callable
    (or, on Tensor, a property)."""
    try:
        owner = _resolve(plugrad, NAMESPACES[namespace])
    except AttributeError:
        return False
    if namespace == "Tensor":
        try:
            static = inspect.getattr_static(owner, name)
        except AttributeError:
            return False
        return isinstance(static, property) or callable(getattr(owner, name, None))
    try:
        value = getattr(owner, name)
    except AttributeError:
        return False
    return callable(value) and not inspect.ismodule(value)


def status(data: dict) -> dict:
    """``{namespace: {name: present}}`` for the names in ``data``."""
    import plugrad

    return {ns: {n: has(plugrad, ns, n) for n in names} for ns, names in data["namespaces"].items()}


def summary(table: dict) -> tuple[list[tuple[str, int, int]], int, int]:
    rows = [(ns, sum(found.values()), len(found)) for ns, found in table.items()]
    return rows, sum(r[1] for r in rows), sum(r[2] for r in rows)


def _percent(have: int, total: int) -> str:
    return f"{100.0 * have / total:.1f}%" if total else "n/a"


def report(data: dict) -> str:
    rows, have, total = summary(status(data))
    width = max(len(ns) for ns, _, _ in rows)
    lines = [f"plugrad's coverage of PyTorch {data['pytorch_version']}'s applicable API"]
    lines += [f"  {ns:<{width}}  {h:5d} / {t:5d}  {_percent(h, t):>6}" for ns, h, t in rows]
    lines.append(f"  {'total':<{width}}  {have:5d} / {total:5d}  {_percent(have, total):>6}")
    return "\n".join(lines)


def markdown(data: dict) -> str:
    """The coverage page's body: the figures, then every name with its status."""
    table = status(data)
    rows, have, total = summary(table)
    out = [f"plugrad has **{have} of {total}** ({_percent(have, total)}) of PyTorch "
           f"{data['pytorch_version']}'s applicable public names.", "",
           "| namespace | present | applicable | coverage |", "| --- | --- | --- | --- |"]
    out += [f"| `{ns}` | {h} | {t} | {_percent(h, t)} |" for ns, h, t in rows]
    for ns, found in table.items():
        prefix = "torch." if ns == "torch" else f"torch.{ns}."
        out += ["", f"## `{ns}`", "", "| name | plugrad |", "| --- | --- |"]
        out += [f"| `{prefix}{n}` | {'present' if ok else 'missing'} |" for n, ok in found.items()]
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", nargs="?", default="report", choices=["report", "generate"])
    parser.add_argument("--data", type=Path, default=DATA, help="the names file (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.mode == "generate":
        data = generate(args.data)
        print(f"wrote {sum(map(len, data['namespaces'].values()))} names to {args.data}")
    print(report(load(args.data)))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "core" / "src"))
    importlib.invalidate_caches()
    sys.exit(main())
