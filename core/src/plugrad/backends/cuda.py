"""``torch.backends.cuda``: plugrad has no CUDA backend; ``matmul`` holds PyTorch's
precision flags as settings (plugrad's matmuls always compute in the tensors' dtype)."""

__all__ = ["is_built", "matmul"]


def is_built() -> bool:
    """False: plugrad is not built with CUDA."""
    return False


class _MatmulFlags:
    """``torch.backends.cuda.matmul``: PyTorch's defaults, settable, read by nothing."""

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True

    def __repr__(self) -> str:
        return f"<plugrad.backends.cuda.matmul allow_tf32={self.allow_tf32}>"


matmul = _MatmulFlags()
