"""The ONNX graph being built, as plain Python data (no ``onnx`` import).

The op mappings (``plugrad.onnx.mapping``) add nodes through :class:`Graph`; the
writer (``plugrad.onnx.writer``, which needs the ``onnx`` package) turns the finished
graph into an ONNX ``ModelProto``. Keeping the graph free of ``onnx`` lets the
mappings and the tracer load, and be tested, where ``onnx`` is not installed.
"""

from __future__ import annotations

from ..dtypes import bfloat16, bool_, float16, float32, float64, int8, int16, int32, int64, uint8

__all__ = ["Graph", "ONNX_TYPES"]

#: plugrad dtype -> ONNX TensorProto data type (the numbers of onnx.proto's DataType enum)
ONNX_TYPES = {float32: 1, uint8: 2, int8: 3, int16: 5, int32: 6, int64: 7, bool_: 9, float16: 10, float64: 11,
              bfloat16: 16}


class Graph:
    """Nodes, initializers, inputs and outputs of one ONNX graph.

    ``nodes``: ``(op_type, input names, output names, attributes)``;
    ``initializers``: name -> plugrad Tensor (parameters, buffers and constants);
    ``inputs``/``outputs``: ``(name, dtype, shape)``, a shape entry a str for a
    symbolic dim (``dynamic_axes``) or None for an unknown one."""

    def __init__(self, opset: int):
        self.opset = opset
        self.nodes = []
        self.initializers = {}
        self.inputs = []
        self.outputs = []
        self._used = set()
        self._constants = {}

    def fresh(self, hint: str) -> str:
        """A value name not used yet, from ``hint`` (``"Relu_output"`` -> ``Relu_output_3``)."""
        n = len(self._used)
        name = f"{hint}_{n}"
        while name in self._used:
            n += 1
            name = f"{hint}_{n}"
        self._used.add(name)
        return name

    def claim(self, name: str) -> str:
        """Reserve ``name`` exactly (an input, output or parameter name)."""
        if name in self._used:
            raise ValueError(f"ONNX value name {name!r} is given twice")
        self._used.add(name)
        return name

    def op(self, op_type: str, *inputs, outputs: int = 1, **attrs):
        """Add an ``op_type`` node reading ``inputs`` (value names; "" for an omitted
        optional input) with ``attrs``; its output name, or a list of ``outputs`` names."""
        names = [self.fresh(f"{op_type}_output") for _ in range(outputs)]
        self.nodes.append((op_type, list(inputs), names, {k: v for k, v in attrs.items() if v is not None}))
        return names[0] if outputs == 1 else names

    def initializer(self, name: str, tensor) -> str:
        """Store ``tensor`` under ``name`` (a parameter's name, like ``fc1.weight``)."""
        self.initializers[self.claim(name)] = tensor
        return name

    def constant(self, tensor) -> str:
        """A constant holding ``tensor``'s values (one initializer per distinct value)."""
        key = (tensor.dtype, tuple(tensor.shape), tuple(tensor.reshape(-1).tolist()))
        name = self._constants.get(key)
        if name is None:
            name = self._constants[key] = self.fresh("const")
            self.initializers[name] = tensor
        return name
