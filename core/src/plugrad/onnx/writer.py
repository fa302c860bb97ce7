"""Write a finished ``Graph`` as an ONNX model with the ``onnx`` package.

This is the one module of ``plugrad.onnx`` that needs ``onnx`` (an optional extra:
``pip install plugrad[onnx]``); ``plugrad.onnx.export`` loads it when it runs, so
``import plugrad.onnx`` works without it. Tensor data leaves its device as raw
little-endian bytes (``Backend.to_bytes``), which is ONNX's own ``raw_data``
layout: no NumPy here either.
"""

from __future__ import annotations

import os

import onnx
import onnx.printer
from onnx import helper

from .._version import __version__
from .graph import ONNX_TYPES

__all__ = ["to_model", "save", "text"]

_TWO_GIB = 2 ** 31


def _tensor_proto(name: str, t):
    t = t.contiguous()
    data = t._backend.to_bytes(t._a) if t.numel() else b""
    return helper.make_tensor(name, ONNX_TYPES[t.dtype], list(t.shape), data, raw=True)


def _value_info(name: str, dtype, shape):
    return helper.make_tensor_value_info(name, ONNX_TYPES[dtype], shape)


def to_model(graph, *, model_name: str, keep_initializers_as_inputs: bool = False, doc_string: str = ""):
    """The ``onnx.ModelProto`` of ``graph``, checked by ``onnx.checker``."""
    nodes = [helper.make_node(op_type, inputs, outputs, name=f"/{op_type}_{i}", **attrs)
             for i, (op_type, inputs, outputs, attrs) in enumerate(graph.nodes)]
    initializers = [_tensor_proto(name, t) for name, t in graph.initializers.items()]
    inputs = [_value_info(*v) for v in graph.inputs]
    if keep_initializers_as_inputs:
        inputs += [_value_info(name, t.dtype, list(t.shape)) for name, t in graph.initializers.items()]
    proto = helper.make_graph(nodes, model_name, inputs, [_value_info(*v) for v in graph.outputs], initializers,
                              doc_string=doc_string)
    model = helper.make_model(proto, opset_imports=[helper.make_opsetid("", graph.opset)],
                              producer_name="plugrad", producer_version=__version__)
    model.ir_version = min(model.ir_version, _IR_VERSIONS.get(graph.opset, model.ir_version))
    onnx.checker.check_model(model)
    return model


#: the newest IR version that runtimes of each opset's time read (onnx.helper.VERSION_TABLE)
_IR_VERSIONS = {opset: ir for _, ir, opset, *_ in helper.VERSION_TABLE}


def text(model) -> str:
    """The model's graph in ONNX's textual syntax (what ``export(verbose=True)`` prints)."""
    return onnx.printer.to_text(model.graph)


def save(model, f, *, external_data: bool = True) -> None:
    """Write ``model`` to ``f`` (a path or a binary file object). A model over 2 GiB
    keeps its weights in a file beside it when ``external_data`` (ONNX's protobuf
    cannot hold more); otherwise it is one file."""
    large = model.ByteSize() > _TWO_GIB if external_data else False
    if isinstance(f, (str, os.PathLike)):
        onnx.save_model(model, os.fspath(f), save_as_external_data=large,
                        location=os.path.basename(os.fspath(f)) + ".data" if large else None)
    else:
        f.write(model.SerializeToString())
