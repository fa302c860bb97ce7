"""Device names: ``plugrad.device("opencl:1")`` (the default device is kept by
``plugrad.creation``, which validates it through the plugin registry)."""

from __future__ import annotations

__all__ = ["device"]


class device:
    """A device type plus an optional index, parsed like PyTorch's (``"cpu"``,
    ``"opencl"``, ``"opencl:1"``, ``device("opencl", 1)``).

    Constructing a device never needs its plugin: ``device("cuda")`` is valid on a
    machine without one; using it for a tensor is what fails.
    """

    __slots__ = ("type", "index", "_key")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            if index is not None:
                raise ValueError("device(): an index cannot be given with a device object")
            index, type = type.index, type.type
        elif not isinstance(type, str):
            raise TypeError(f"device() expected a string or a device, got {type.__class__.__name__}")
        elif ":" in type:
            if index is not None:
                raise ValueError(f"device(): type {type!r} already has an index; do not pass index={index}")
            type, _, idx = type.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}:{idx}' (the index must be a non-negative integer)")
            index = int(idx)
        if not type or not type.replace("_", "").isalnum() or not type.islower():
            raise RuntimeError(f"Invalid device string: {type!r} (expected a name like 'cpu' or 'opencl:0')")
        if index is not None:
            if not isinstance(index, int) or isinstance(index, bool) or index < 0:
                raise RuntimeError(f"Device index must be a non-negative integer, got {index!r}")
        self.type = type
        self.index = index
        self._key = (type, index)

    def __eq__(self, other):
        return isinstance(other, device) and other._key == self._key

    def __hash__(self):
        return hash(self._key)

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __reduce__(self):
        return (device, (self.type, self.index))

