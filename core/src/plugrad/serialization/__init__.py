"""``plugrad.save`` / ``plugrad.load``: checkpoints whose loading never runs code.

``save`` writes plugrad's own format by default (:mod:`.native`: a JSON header,
the raw bytes, a SHA-256 digest; never a pickle) or, with ``format="torch"``,
PyTorch's zip format that ``torch.load(weights_only=True)`` opens
(:mod:`.torch_write`). Paths are written atomically (:mod:`.files`).

``load`` tells the format from the file's first bytes: plugrad's own, PyTorch's
zip format, or PyTorch's legacy format (:mod:`.torch_read`, through a pickle
reader that allows only PyTorch's ``weights_only`` set, :mod:`.unpickler`).
Anything else, and any damaged or crafted file, is a :class:`LoadError`.
"""

from __future__ import annotations

from . import native, torch_read, torch_write
from .errors import LoadError
from .files import read_all, write_atomically
from .native import MAGIC, VERSION

__all__ = ["save", "load", "LoadError", "MAGIC", "VERSION", "FORMATS"]

#: what ``save(..., format=)`` accepts
FORMATS = ("plugrad", "torch")


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True, *,
         format="plugrad") -> None:
    """Write ``obj`` to ``f``, a path or a binary file object.

    ``obj`` is a tensor, a state dict, an optimizer state dict, a NumPy array, or
    numbers, strings, bytes, None, dtypes, devices and nested lists, tuples, sets
    and dicts of them. Tensors that share memory (views, a tensor saved twice)
    share it again after loading. ``format="plugrad"`` (the default) writes
    plugrad's own file, which never holds code and carries a checksum;
    ``format="torch"`` writes PyTorch's zip checkpoint, for ``torch.load`` (it
    cannot hold NumPy arrays: ``weights_only`` loading refuses them; its pickle is
    protocol 2 whatever ``pickle_protocol`` says, which every ``torch.load`` reads). A path is
    replaced atomically, so readers and concurrent savers only ever see a complete
    file."""
    if pickle_module is not None:
        raise TypeError("plugrad.save never pickles arbitrary objects: pickle_module is not accepted")
    if format not in FORMATS:
        raise ValueError(f"plugrad.save: format must be one of {FORMATS}, got {format!r}")
    if format == "torch" and not _use_new_zipfile_serialization:
        raise ValueError("plugrad.save(format='torch') writes PyTorch's zip format (the legacy format can be read, "
                         "not written)")
    blob = native.encode(obj) if format == "plugrad" else torch_write.encode(obj)
    if hasattr(f, "write"):
        f.write(blob)
        return
    write_atomically(f, blob)


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **_ignored):
    """Read an object written by ``plugrad.save`` or ``torch.save`` from a path or a
    binary file object.

    ``map_location`` puts the tensors elsewhere than where they were saved: a device
    (``"cpu"``, ``plugrad.device("opencl")``), a dict from saved to wanted device
    names, or ``fn(storage, saved_location)`` that gets each storage as a 1-d cpu
    tensor and returns the tensor to use (or None to keep it). PyTorch files are
    read through an unpickler that allows only what ``torch.load(weights_only=True)``
    allows; loading never runs code from the file, so it acts as
    ``weights_only=True`` whatever that argument says. Raises :class:`LoadError` for every file it cannot read."""
    if pickle_module is not None:
        raise TypeError("plugrad.load never unpickles arbitrary objects: pickle_module is not accepted")
    blob, name = read_all(f)
    if native.is_native(blob):
        return native.decode(blob, name, map_location)
    if torch_read.is_zip(blob):
        return torch_read.read_zip(blob, name, map_location)
    if torch_read.is_legacy(blob):
        return torch_read.read_legacy(blob, name, map_location)
    what = "a Python pickle" if blob[:2] in (b"(d", b"(l", b"}q", b"]q", b"cc", b"(i") else "not a plugrad file"
    raise LoadError(f"{name} is {what}, nor a PyTorch checkpoint: plugrad.load reads files written by "
                    f"plugrad.save and torch.save only, and never unpickles arbitrary objects")
