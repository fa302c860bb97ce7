"""The exporter's exceptions, named as ``torch.onnx.errors`` names them."""

from __future__ import annotations

__all__ = ["OnnxExporterError", "UnsupportedOperatorError"]


class OnnxExporterError(RuntimeError):
    """The model cannot be exported as asked (``torch.onnx.OnnxExporterError``)."""


class UnsupportedOperatorError(OnnxExporterError):
    """An op the traced forward ran has no ONNX mapping, and is not made of ops that
    have one (``torch.onnx.errors.UnsupportedOperatorError``)."""

    def __init__(self, op: str, opset: int, inside: tuple = (), arguments: bool = False):
        self.op = op
        where = "".join(f" (inside '{o}')" for o in reversed(inside))
        what = " for the arguments it was given (docs/onnx.md lists them under Limits; a newer opset_version " \
               "may have it)" if arguments else ""
        super().__init__(
            f"plugrad.onnx.export: the op '{op}'{where} has no ONNX mapping at opset {opset}{what}. The ops that "
            f"export are listed in docs/onnx.md (plugrad.onnx.mapping.MAPPINGS); write the model with those ops, or "
            f"add a mapping function for '{op}' to plugrad/onnx/mapping/.")
