"""``torch.backends.cuda``: plugrad has no CUDA backend; ``matmul`` holds PyTorch's
precision flags as settings (plugrad's matmuls always compute in the tensors' dtype).
``matmul.allow_tf32`` is the other face of ``plugrad.set_float32_matmul_precision``
(``"high"``/``"medium"`` <-> True), as in PyTorch."""

from .. import _runtime

__all__ = ["is_built", "matmul"]


def is_built() -> bool:
    """False: plugrad is not built with CUDA."""
    return False


class _MatmulFlags:
    """``torch.backends.cuda.matmul``: PyTorch's defaults, settable, read by nothing."""

    def __init__(self):
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True

    @property
    def allow_tf32(self) -> bool:
        return _runtime.get_float32_matmul_precision() != "highest"

    @allow_tf32.setter
    def allow_tf32(self, value: bool) -> None:
        _runtime.set_float32_matmul_precision("high" if value else "highest")

    def __repr__(self) -> str:
        return f"<plugrad.backends.cuda.matmul allow_tf32={self.allow_tf32}>"


matmul = _MatmulFlags()
