"""``plugrad.save`` / ``plugrad.load``: tensors and their containers in a file whose
loading never runs code.

PyTorch's format is a pickle, and unpickling can execute arbitrary code. plugrad
stores data only::

    b"PLUGRAD\\0"  u32 version  u64 header length  JSON header  tensor bytes  SHA-256

The JSON header describes the saved object (numbers, strings, bytes, None, dtypes,
devices, and lists, tuples and dicts of them) with each tensor as a reference into
the byte section (dtype, shape, offset, length; little-endian, row-major). The
digest covers everything before it, so a truncated or altered file is refused
before any tensor is built, and every size is checked against the bytes actually
present, so a file can never make ``load`` allocate more than it holds. A tensor
object saved twice comes back as one object; views are saved as copies.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from collections import OrderedDict

from . import dtypes as _dt
from .device import device as _device
from .layout import Size, numel
from .nn.parameter import Parameter
from .plugins.registry import backend_for
from .tensor import Tensor, make

__all__ = ["save", "load", "LoadError"]

MAGIC = b"PLUGRAD\x00"
VERSION = 1
_PREFIX = struct.Struct("<8sIQ")
_DIGEST_SIZE = 32
_MAX_DEPTH = 200
_DTYPES = {d.name: d for d in _dt.ALL_DTYPES}


class LoadError(RuntimeError):
    """A file that ``plugrad.load`` refuses: not a plugrad file, truncated, altered, or
    describing something inconsistent. Nothing was built from it."""


# ---- saving ------------------------------------------------------------------------------

class _Encoder:
    """Turns an object into JSON-ready nodes plus a list of tensor byte chunks."""

    def __init__(self):
        self.tensors = []       # header entries
        self.chunks = []        # their bytes
        self.index = {}         # id(tensor) -> entry index
        self.keepalive = []     # the tensors, so that ids stay unique while encoding
        self.size = 0

    def node(self, obj, depth=0):
        if depth > _MAX_DEPTH:
            raise ValueError(f"plugrad.save: the object is nested more than {_MAX_DEPTH} levels deep")
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            if obj != obj or obj in (float("inf"), float("-inf")):
                return {"$float": repr(obj)}
            return float(obj)
        if isinstance(obj, Tensor):
            return {"$tensor": self.tensor(obj)}
        if isinstance(obj, _dt.dtype):
            return {"$dtype": obj.name}
        if isinstance(obj, _device):
            return {"$device": str(obj)}
        if isinstance(obj, (bytes, bytearray)):
            return {"$bytes": base64.b64encode(bytes(obj)).decode("ascii")}
        if isinstance(obj, Size):
            return {"$size": [int(n) for n in obj]}
        if isinstance(obj, list):
            return [self.node(x, depth + 1) for x in obj]
        if isinstance(obj, tuple):
            return {"$tuple": [self.node(x, depth + 1) for x in obj]}
        if isinstance(obj, dict):
            tag = "$odict" if isinstance(obj, OrderedDict) else "$dict"
            return {tag: [[self.node(k, depth + 1), self.node(v, depth + 1)] for k, v in obj.items()]}
        hint = " (save model.state_dict() rather than the model object)" if hasattr(obj, "state_dict") else ""
        raise TypeError(f"plugrad.save stores tensors, numbers, strings, bytes, None, dtypes, devices and "
                        f"(nested) lists, tuples and dicts of them; it cannot store {type(obj).__qualname__}{hint}")

    def tensor(self, t: Tensor) -> int:
        key = id(t)
        if key in self.index:
            return self.index[key]
        data = t._backend.to_bytes(t.detach()._a) if numel(t._shape) else b""
        entry = {"dtype": t._dtype.name, "shape": list(t._shape), "offset": self.size, "nbytes": len(data),
                 "device": str(t.device), "requires_grad": bool(t._requires_grad),
                 "parameter": isinstance(t, Parameter)}
        self.index[key] = len(self.tensors)
        self.tensors.append(entry)
        self.chunks.append(data)
        self.keepalive.append(t)
        self.size += len(data)
        return self.index[key]


def _encode(obj) -> bytes:
    enc = _Encoder()
    root = enc.node(obj)
    header = json.dumps({"format": "plugrad", "version": VERSION, "data_size": enc.size, "tensors": enc.tensors,
                         "root": root}, separators=(",", ":"), allow_nan=False).encode("utf-8")
    digest = hashlib.sha256()
    prefix = _PREFIX.pack(MAGIC, VERSION, len(header))
    parts = [prefix, header, *enc.chunks]
    for p in parts:
        digest.update(p)
    return b"".join(parts) + digest.digest()


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True) -> None:
    """Write ``obj`` (a tensor, a state dict, an optimizer state dict, or nested lists,
    tuples and dicts of tensors, numbers, strings and None) to ``f``, a path or a
    binary file object. A path is written atomically (temporary file, then rename)."""
    if pickle_module is not None:
        raise TypeError("plugrad.save never pickles: pickle_module is not accepted")
    blob = _encode(obj)
    if hasattr(f, "write"):
        f.write(blob)
        return
    path = os.fspath(f)
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as out:
            out.write(blob)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


# ---- loading ----------------------------------------------------------------------------

def _read(f) -> tuple:
    if hasattr(f, "read"):
        return f.read(), getattr(f, "name", "<file object>")
    path = os.fspath(f)
    with open(path, "rb") as fh:
        return fh.read(), path


def _not_plugrad(blob: bytes, name) -> LoadError:
    if blob[:1] == b"\x80" or blob[:2] in (b"(d", b"(l", b"}q", b"]q", b"cc"):
        what = "a Python pickle"
    elif blob[:4] == b"PK\x03\x04":
        what = "a zip archive (PyTorch's torch.save format, which holds a pickle)"
    else:
        what = "not a plugrad file"
    return LoadError(f"{name} is {what}: plugrad.load only reads files written by plugrad.save and never "
                     f"unpickles (unpickling can run arbitrary code). Load it with the program that wrote it and "
                     f"save the tensors again with plugrad.save.")


def _parse(blob: bytes, name) -> tuple:
    """The header dict and the byte section, after checking structure and digest."""
    if len(blob) < _PREFIX.size or blob[:len(MAGIC)] != MAGIC:
        raise _not_plugrad(blob, name)
    _, version, header_len = _PREFIX.unpack_from(blob)
    if version != VERSION:
        raise LoadError(f"{name}: unsupported plugrad file version {version} (this plugrad reads version {VERSION})")
    header_end = _PREFIX.size + header_len
    if header_end + _DIGEST_SIZE > len(blob):
        raise LoadError(f"{name} is truncated: its header claims {header_len} bytes but the file has "
                        f"{len(blob)} bytes in all")
    body, digest = blob[:-_DIGEST_SIZE], blob[-_DIGEST_SIZE:]
    if hashlib.sha256(body).digest() != digest:
        raise LoadError(f"{name} is corrupted or was modified (its SHA-256 checksum does not match), or it is "
                        f"truncated")
    try:
        header = json.loads(blob[_PREFIX.size:header_end].decode("utf-8"),
                            parse_constant=lambda c: _bad(name, f"non-standard JSON constant {c}"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise LoadError(f"{name}: the header is not valid JSON ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != "plugrad":
        raise LoadError(f"{name}: the header does not describe a plugrad object")
    data = blob[header_end:-_DIGEST_SIZE]
    if header.get("data_size") != len(data):
        raise LoadError(f"{name}: the header announces {header.get('data_size')} bytes of tensor data, the file "
                        f"holds {len(data)}")
    return header, memoryview(data)


def _bad(name, why):
    raise LoadError(f"{name}: {why}")


def _check_int(value, what, name, low=0):
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise LoadError(f"{name}: {what} must be an integer >= {low}, got {value!r}")
    return value


class _Decoder:
    def __init__(self, header, data, name, map_location):
        self.name, self.data, self.map_location = name, data, map_location
        entries = header.get("tensors")
        if not isinstance(entries, list):
            raise LoadError(f"{name}: the header has no tensor table")
        self.entries = [self._check_entry(i, e) for i, e in enumerate(entries)]
        self.built = {}

    def _check_entry(self, i, e):
        name = self.name
        if not isinstance(e, dict):
            raise LoadError(f"{name}: tensor entry {i} is not an object")
        dtype_name = e.get("dtype")
        if dtype_name not in _DTYPES:
            raise LoadError(f"{name}: tensor {i} has an unknown dtype {dtype_name!r}")
        shape = e.get("shape")
        if not isinstance(shape, list) or len(shape) > 64:
            raise LoadError(f"{name}: tensor {i} has an invalid shape {shape!r}")
        for n in shape:
            _check_int(n, f"a dimension of tensor {i}", name)
        offset = _check_int(e.get("offset"), f"the offset of tensor {i}", name)
        nbytes = _check_int(e.get("nbytes"), f"the byte length of tensor {i}", name)
        dt = _DTYPES[dtype_name]
        if numel(shape) * dt.itemsize != nbytes:
            raise LoadError(f"{name}: tensor {i} of shape {shape} and dtype {dtype_name} needs "
                            f"{numel(shape) * dt.itemsize} bytes, the entry says {nbytes}")
        if offset + nbytes > len(self.data):
            raise LoadError(f"{name}: tensor {i} lies outside the data section (bytes {offset}..{offset + nbytes} of "
                            f"{len(self.data)})")
        if not isinstance(e.get("device"), str):
            raise LoadError(f"{name}: tensor {i} has no device")
        return dt, tuple(shape), offset, nbytes, e["device"], bool(e.get("requires_grad")), bool(e.get("parameter"))

    def tensor(self, i):
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(self.entries):
            raise LoadError(f"{self.name}: reference to a tensor {i!r} that the table does not have")
        if i in self.built:
            return self.built[i]
        dt, shape, offset, nbytes, saved_device, requires_grad, is_param = self.entries[i]
        cpu = backend_for("cpu")
        t = make(cpu, cpu.from_bytes(bytes(self.data[offset:offset + nbytes]), shape, dt), shape, dt)
        t = self._place(t, saved_device)
        if is_param:
            t = Parameter(t, requires_grad)
        elif requires_grad:
            t.requires_grad_(True)
        self.built[i] = t
        return t

    def _place(self, t, saved):
        loc = self.map_location
        if callable(loc) and not isinstance(loc, (str, _device)):
            moved = loc(t, saved)
            return t if moved is None else moved
        if isinstance(loc, dict):
            target = loc.get(saved, saved)
        elif loc is None:
            target = saved
        else:
            target = loc
        if str(target) == "cpu":
            return t
        try:
            return t.to(target)
        except RuntimeError as exc:
            raise RuntimeError(f"plugrad.load: a tensor was saved on device '{saved}', which is not usable here "
                               f"({exc}). Pass map_location='cpu' (or another device) to load it elsewhere.") from exc

    def node(self, n, depth=0):
        if depth > _MAX_DEPTH:
            raise LoadError(f"{self.name}: the object is nested more than {_MAX_DEPTH} levels deep")
        if n is None or isinstance(n, (bool, int, float, str)):
            return n
        if isinstance(n, list):
            return [self.node(x, depth + 1) for x in n]
        if not isinstance(n, dict) or len(n) != 1:
            raise LoadError(f"{self.name}: malformed node {str(n)[:80]!r}")
        (tag, value), = n.items()
        if tag == "$tensor":
            return self.tensor(value)
        if tag == "$tuple" and isinstance(value, list):
            return tuple(self.node(x, depth + 1) for x in value)
        if tag in ("$dict", "$odict") and isinstance(value, list):
            out = OrderedDict() if tag == "$odict" else {}
            for pair in value:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise LoadError(f"{self.name}: malformed dict entry {str(pair)[:80]!r}")
                key = self.node(pair[0], depth + 1)
                try:
                    out[key] = self.node(pair[1], depth + 1)
                except TypeError:
                    raise LoadError(f"{self.name}: unhashable dict key {key!r}") from None
            return out
        if tag == "$float" and value in ("inf", "-inf", "nan"):
            return float(value)
        if tag == "$dtype" and value in _DTYPES:
            return _DTYPES[value]
        if tag == "$device" and isinstance(value, str):
            try:
                return _device(value)
            except (RuntimeError, ValueError, TypeError) as exc:
                raise LoadError(f"{self.name}: invalid device {value!r} ({exc})") from None
        if tag == "$size" and isinstance(value, list):
            return Size(_check_int(v, "a Size entry", self.name) for v in value)
        if tag == "$bytes" and isinstance(value, str):
            try:
                return base64.b64decode(value.encode("ascii"), validate=True)
            except ValueError:
                raise LoadError(f"{self.name}: invalid base64 bytes") from None
        raise LoadError(f"{self.name}: unknown or malformed node {tag!r}")


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **_ignored):
    """Read an object written by ``plugrad.save`` from a path or binary file object.

    ``map_location`` puts the tensors elsewhere than where they were saved: a device
    (``"cpu"``, ``plugrad.device("opencl")``), a dict from saved to wanted device
    names, or ``fn(tensor, saved_location)`` returning the tensor to use. Loading
    never executes code, so ``weights_only`` is always effectively true. Raises
    ``LoadError`` for anything that is not an intact plugrad file."""
    if pickle_module is not None:
        raise TypeError("plugrad.load never unpickles: pickle_module is not accepted")
    blob, name = _read(f)
    header, data = _parse(blob, name)
    decoder = _Decoder(header, data, name, map_location)
    return decoder.node(header.get("root"))
