"""``plugrad.onnx`` (``torch.onnx``): export a model to ONNX.

``plugrad.onnx.export(model, args, f, input_names=..., output_names=...,
dynamic_axes=..., opset_version=...)`` runs the model once under ``no_grad``,
records every op the forward calls (``plugrad.onnx.trace``), writes each as ONNX
nodes through the op table of ``plugrad.onnx.mapping`` and saves the model with the
``onnx`` package. Parameters and buffers become initializers under their
``state_dict`` names (``fc1.weight``). ``onnx`` is an optional extra
(``pip install plugrad[onnx]``): this package imports without it, and ``export``
says what to install when it is missing. docs/onnx.md describes what exports.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import warnings

from ..autograd.grad_mode import no_grad
from ..nn.modules.module import Module
from ..ops.join import cat
from ..tensor import Tensor
from . import errors
from .convert import Converter
from .errors import OnnxExporterError, UnsupportedOperatorError
from .graph import Graph
from .mapping import MAPPINGS
from .trace import is_tracing, pair, tensors_in, trace

__all__ = ["export", "is_in_onnx_export", "TrainingMode", "OperatorExportTypes", "OnnxExporterError",
           "UnsupportedOperatorError", "errors", "MAPPINGS", "DEFAULT_OPSET", "SUPPORTED_OPSETS"]

#: the opset written when ``opset_version`` is not given (PyTorch 2.13's default)
DEFAULT_OPSET = 20
#: the opsets the mappings are written for
SUPPORTED_OPSETS = range(17, 24)


class TrainingMode(enum.IntEnum):
    """The mode the model runs in while it is traced (``torch.onnx.TrainingMode``):
    EVAL (the default) switches it to eval mode for the export, PRESERVE leaves it
    as it is, TRAINING switches it to training mode. The model's own mode is restored
    afterwards."""
    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


class OperatorExportTypes(enum.IntEnum):
    """``torch.onnx.OperatorExportTypes``: plugrad writes standard ONNX operators only
    (``ONNX``); an op without a mapping is an error rather than a custom operator."""
    ONNX = 0


def is_in_onnx_export() -> bool:
    """True while ``export`` is running the model's forward (in this thread)."""
    return is_tracing()


def export(model, args=(), f=None, *, kwargs=None, verbose=None, input_names=None, output_names=None,
           opset_version=None, dynamo=True, external_data=True, dynamic_shapes=None, export_params=True,
           keep_initializers_as_inputs=False, dynamic_axes=None, training=TrainingMode.EVAL,
           operator_export_type=OperatorExportTypes.ONNX, do_constant_folding=True, verify=False):
    """Export ``model`` (an ``nn.Module`` or a function of tensors) to ONNX, traced on
    ``args`` (a tensor or a tuple; ``kwargs``: keyword arguments of the forward).

    ``f``: a path or binary file to write (None: only return the model).
    ``input_names``/``output_names``: the graph's value names, in order (default: the
    forward's parameter names, and ``output``/``output_<i>``). ``dynamic_axes``:
    ``{name: {dim: symbol}}`` or ``{name: [dims]}``, the dims that may change
    between runs (``dynamic_shapes``, the newer form, is the same per forward
    argument: a dict or tuple of ``{dim: symbol}``). ``opset_version``: 17 to 23
    (default 20, as in PyTorch). ``export_params=False``: parameters become graph inputs instead of
    initializers; ``keep_initializers_as_inputs``: initializers are listed as inputs
    too. ``training``: a :class:`TrainingMode`. ``verbose``: print the graph.
    ``verify``: run the written model in ONNX Runtime on ``args`` and compare it with
    the traced outputs (needs onnxruntime). ``dynamo`` selects PyTorch's exporter and
    is accepted with either value: plugrad has one. Constants are always folded:
    the trace holds values, not the Python that computed them
    (``do_constant_folding``). Returns the ``onnx.ModelProto``."""
    if operator_export_type != OperatorExportTypes.ONNX:
        raise ValueError(f"plugrad.onnx.export writes standard ONNX operators only "
                         f"(operator_export_type=OperatorExportTypes.ONNX), not {operator_export_type!r}")
    opset = DEFAULT_OPSET if opset_version is None else opset_version
    if opset not in SUPPORTED_OPSETS:
        raise ValueError(f"plugrad.onnx.export: opset_version {opset} is not supported; use one of "
                         f"{SUPPORTED_OPSETS.start} to {SUPPORTED_OPSETS.stop - 1}")
    try:
        writer = importlib.import_module(f"{__name__}.writer")
    except ImportError as exc:
        raise ImportError(f"plugrad.onnx.export needs the onnx package ({exc}); install it with "
                          f"pip install 'plugrad[onnx]' (or pip install onnx)") from exc
    args = args if isinstance(args, tuple) else (args,)
    kwargs = dict(kwargs or {})
    if args and isinstance(args[-1], dict) and not kwargs:   # torch.onnx's (x, {"name": value}) form
        args, kwargs = args[:-1], args[-1]
    inputs = tensors_in(list(args) + list(kwargs.values()))
    input_names = _input_names(model, args, kwargs, inputs, input_names)
    axes = _dynamic_axes(dynamic_axes, dynamic_shapes, input_names)

    graph = Graph(opset)
    params = _parameters(model) if isinstance(model, Module) else {}
    converter = Converter(graph, {key: name for key, (name, _) in params.items()} if export_params else {})
    for name, t in zip(input_names, inputs):
        graph.inputs.append((graph.claim(name), t.dtype, _shape(t.shape, axes.get(name))))
        converter.bind(t, name)
    if not export_params:
        for name, t in params.values():
            graph.inputs.append((graph.claim(name), t.dtype, list(t.shape)))
            converter.bind(t, name)

    was_training = model.training if isinstance(model, Module) else None
    if was_training is not None and training != TrainingMode.PRESERVE:
        model.train(training == TrainingMode.TRAINING)
    try:
        result, root = trace(model, args, kwargs)
        if axes:
            _trace_again_bigger(model, args, kwargs, input_names, axes, root)
    finally:
        if was_training is not None:
            model.train(was_training)
    for call in root.children:
        converter.emit(call)

    outputs = tensors_in(result)
    if not outputs:
        raise OnnxExporterError("plugrad.onnx.export: the forward returned no tensor")
    output_names = list(output_names or (["output"] if len(outputs) == 1 else
                                         [f"output_{i}" for i in range(len(outputs))]))
    if len(output_names) > len(outputs):
        raise ValueError(f"plugrad.onnx.export: {len(output_names)} output_names for {len(outputs)} output tensors")
    output_names += [f"output_{i}" for i in range(len(output_names), len(outputs))]
    for key in set(axes) - set(input_names) - set(output_names):   # torch.onnx's warning, word for word
        warnings.warn(f"Provided key {key} for dynamic axes is not a valid input/output name", stacklevel=2)
    dynamic = bool(axes)
    for name, t in zip(output_names, outputs):
        graph.nodes.append(("Identity", [converter.value(t)], [graph.claim(name)], {}))
        graph.outputs.append((name, t.dtype, _shape(t.shape, axes.get(name), unknown=dynamic)))

    model_name = type(model).__name__ if isinstance(model, Module) else getattr(model, "__name__", "graph")
    proto = writer.to_model(graph, model_name=model_name, keep_initializers_as_inputs=keep_initializers_as_inputs)
    if verbose:
        print(writer.text(proto))
    if f is not None:
        writer.save(proto, f, external_data=external_data)
    if verify:
        _verify(proto, input_names, inputs, output_names, outputs)
    return proto


def _trace_again_bigger(model, args, kwargs, input_names, axes, root) -> None:
    """Trace the forward a second time, each dynamic dim of the inputs one longer (its
    first slice repeated at the end), and pair the two traces (``trace.pair``): the
    sizes that differ are the ones the graph computes at run time."""
    inputs = iter(zip(input_names, tensors_in(list(args) + list(kwargs.values()))))

    def grow(value):
        if isinstance(value, Tensor):
            name, t = next(inputs)
            for d in sorted(axes.get(name, {})):
                d = d + t.dim() if d < 0 else d
                t = cat([t, t.narrow(d, 0, 1)], d)
            return t
        if isinstance(value, (tuple, list)):
            return type(value)(grow(v) for v in value)
        return value

    with no_grad():
        bigger_args = tuple(grow(a) for a in args)
        bigger_kwargs = {k: grow(v) for k, v in kwargs.items()}
    _, other = trace(model, bigger_args, bigger_kwargs)
    if not pair(root, other):
        raise OnnxExporterError(f"plugrad.onnx.export: the forward calls other ops when the dynamic axes "
                                f"{axes} change size (an RNN unrolls one step per element of its sequence); "
                                f"export with those dims static")


def _input_names(model, args, kwargs, inputs, given) -> list:
    """``given`` (filled up with ``input_<i>``), or the forward's parameter names when
    each argument is one tensor."""
    if given is not None:
        names = list(given)
        if len(names) > len(inputs):
            raise ValueError(f"plugrad.onnx.export: {len(names)} input_names for {len(inputs)} input tensors")
        return names + [f"input_{i}" for i in range(len(names), len(inputs))]
    forward = model.forward if isinstance(model, Module) else model
    try:
        params = list(inspect.signature(forward).parameters)
    except (TypeError, ValueError):
        params = []
    if all(isinstance(a, Tensor) for a in args) and len(params) >= len(args) and \
            all(isinstance(v, Tensor) for v in kwargs.values()) and not any(p.startswith("*") for p in params):
        return params[:len(args)] + list(kwargs)
    return [f"input_{i}" for i in range(len(inputs))]


def _dynamic_axes(dynamic_axes, dynamic_shapes, input_names) -> dict:
    """``{value name: {dim: symbol}}`` from ``dynamic_axes`` and ``dynamic_shapes``."""
    axes = {}
    for name, dims in (dynamic_axes or {}).items():
        axes[name] = dict(dims) if isinstance(dims, dict) else {d: f"{name}_dynamic_axes_{i + 1}"
                                                                  for i, d in enumerate(dims)}
    if dynamic_shapes is not None:
        items = dynamic_shapes.items() if isinstance(dynamic_shapes, dict) else zip(input_names, dynamic_shapes)
        for i, (name, dims) in enumerate(items):
            name = input_names[i] if not isinstance(name, str) or name not in input_names else name
            for d, symbol in (dims or {}).items():
                axes.setdefault(name, {})[d] = symbol if isinstance(symbol, str) else \
                    getattr(symbol, "__name__", f"{name}_dim_{d}")
    return axes


def _shape(shape, symbols, unknown=False) -> list:
    symbols = symbols or {}
    rank = len(shape)
    named = {(d + rank if d < 0 else d): s for d, s in symbols.items()}
    return [named.get(i, None if unknown else n) for i, n in enumerate(shape)]


def _parameters(model) -> dict:
    """``id(tensor) -> (state_dict name, tensor)`` of the model's parameters and buffers
    (a tensor shared by two modules keeps its first name, as in ``named_parameters``)."""
    named = {}
    for name, t in list(model.named_parameters()) + list(model.named_buffers()):
        named.setdefault(id(t), (name, t))
    return named


def _verify(proto, input_names, inputs, output_names, outputs) -> None:
    """Run ``proto`` in ONNX Runtime on the traced inputs and compare with the traced
    outputs (within 1e-5 + 1e-3 relative), as ``torch.onnx.export(verify=True)`` does."""
    ort = importlib.import_module("onnxruntime")
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {name: t.detach().cpu().numpy() for name, t in zip(input_names, inputs)}
    got = session.run(output_names[:len(outputs)], feeds)
    for name, value, expected in zip(output_names, got, outputs):
        if list(value.shape) != list(expected.shape) or not _close(value.tolist(), expected.tolist()):
            raise OnnxExporterError(f"plugrad.onnx.export(verify=True): ONNX Runtime's '{name}' differs from "
                                    f"plugrad's output")


def _close(a, b) -> bool:
    if isinstance(a, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, (bool, int)):
        return a == b
    return abs(a - b) <= 1e-5 + 1e-3 * abs(b) or (a != a and b != b)
