"""``plugrad.amp`` (``torch.amp``): automatic mixed precision's ``autocast`` and
``GradScaler``. See ``autocast_mode`` for what plugrad does with autocast (it has no
mixed-precision dispatch) and ``grad_scaler`` for loss scaling."""

from .autocast_mode import autocast, custom_bwd, custom_fwd, is_autocast_available
from .grad_scaler import GradScaler

__all__ = ["autocast", "GradScaler", "custom_fwd", "custom_bwd", "is_autocast_available"]
