"""plugrad's own file format: data only, checked by a digest, never unpickled.

::

    b"PLUGRAD\\0"  u32 version  u64 header length  JSON header  data bytes  SHA-256

The JSON header describes the saved object (numbers, strings, bytes, None, dtypes,
devices, ``Size``, and lists, tuples, sets and dicts of them) with each tensor as a
reference into a tensor table and each NumPy array into an array table. A tensor
entry names a storage (dtype, element count, place in the data section, device)
and its layout over it (shape, strides, storage offset), so that tensors saved
together that share memory (a tensor and its views) share it again after loading.
An array entry gives NumPy's type string (plain numbers only: bool, integers,
floats, complex), its shape and its bytes; a NumPy scalar is a 0-d array entry. Everything is little-endian.

The digest covers everything before it, so a truncated or altered file is refused
before anything is built, and every size and layout is checked against the bytes
actually present, so a file can never make ``load`` allocate more than it holds.
Version 1 files (one contiguous copy per tensor) are still read.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
from collections import OrderedDict

from .. import dtypes as _dt
from ..device import device as _device
from ..layout import Size
from ..nn.parameter import Parameter
from ..tensor import Tensor
from .errors import LoadError
from .tensors import DTYPES, LIMIT, StorageTable, check_layout, check_shape, finish, place, storage_tensor, view_of

__all__ = ["MAGIC", "VERSION", "encode", "decode", "is_native", "is_ndarray", "is_numpy_scalar"]

MAGIC = b"PLUGRAD\x00"
VERSION = 2
_PREFIX = struct.Struct("<8sIQ")
_DIGEST_SIZE = 32
_MAX_DEPTH = 200
#: NumPy type strings an array may have: plain numbers, never objects or records
_TYPESTR = re.compile(r"\|[biu]1|[<>][iuf][248]|[<>]c(8|16)")


def is_ndarray(obj) -> bool:
    """Whether ``obj`` is a NumPy array (told without importing NumPy)."""
    return type(obj).__name__ == "ndarray" and hasattr(obj, "__array_interface__") and hasattr(obj, "tobytes")


def is_numpy_scalar(obj) -> bool:
    """Whether ``obj`` is a NumPy scalar such as ``np.float32(1.5)`` (``np.float64`` is
    also a Python float and is saved as one)."""
    return type(obj).__module__ == "numpy" and hasattr(obj, "__array_interface__") and \
        getattr(obj, "shape", None) == () and hasattr(obj, "tobytes")


# ---- saving ------------------------------------------------------------------------------

class _Encoder:
    """Turns an object into JSON-ready nodes plus the byte chunks of its storages and arrays."""

    def __init__(self):
        self.storages = StorageTable()
        self.tensors, self.arrays = [], []     # header entries
        self.index = {}                        # id(tensor or array) -> entry index
        self.keepalive = []                    # the saved objects, so that ids stay unique while encoding

    def node(self, obj, depth=0):
        if depth > _MAX_DEPTH:
            raise ValueError(f"plugrad.save: the object is nested more than {_MAX_DEPTH} levels deep")
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            if obj != obj or obj in (float("inf"), float("-inf")):
                return {"$float": repr(float(obj))}
            return float(obj)
        if isinstance(obj, complex):
            return {"$complex": [self.node(obj.real), self.node(obj.imag)]}
        if isinstance(obj, Tensor):
            return {"$tensor": self.tensor(obj)}
        if is_ndarray(obj):
            return {"$ndarray": self.array(obj)}
        if is_numpy_scalar(obj):
            return {"$npscalar": self.array(obj)}
        if isinstance(obj, _dt.dtype):
            return {"$dtype": obj.name}
        if isinstance(obj, _device):
            return {"$device": str(obj)}
        if isinstance(obj, (bytes, bytearray)):
            tag = "$bytearray" if isinstance(obj, bytearray) else "$bytes"
            return {tag: base64.b64encode(bytes(obj)).decode("ascii")}
        if isinstance(obj, Size):
            return {"$size": [int(n) for n in obj]}
        if isinstance(obj, list):
            return [self.node(x, depth + 1) for x in obj]
        if isinstance(obj, tuple):
            return {"$tuple": [self.node(x, depth + 1) for x in obj]}
        if isinstance(obj, (set, frozenset)):
            tag = "$frozenset" if isinstance(obj, frozenset) else "$set"
            return {tag: [self.node(x, depth + 1) for x in obj]}
        if isinstance(obj, dict):
            tag = "$odict" if isinstance(obj, OrderedDict) else "$dict"
            return {tag: [[self.node(k, depth + 1), self.node(v, depth + 1)] for k, v in obj.items()]}
        hint = " (save model.state_dict() rather than the model object)" if hasattr(obj, "state_dict") else ""
        raise TypeError(f"plugrad.save stores tensors, NumPy arrays, numbers, strings, bytes, None, dtypes, devices "
                        f"and (nested) lists, tuples, sets and dicts of them; it cannot store "
                        f"{type(obj).__qualname__}{hint}")

    def tensor(self, t: Tensor) -> int:
        if id(t) in self.index:
            return self.index[id(t)]
        entry = {"storage": self.storages.key(t), "shape": list(t._shape), "strides": list(t._strides),
                 "storage_offset": t._offset, "requires_grad": bool(t._requires_grad),
                 "parameter": isinstance(t, Parameter)}
        self.index[id(t)] = len(self.tensors)
        self.tensors.append(entry)
        self.keepalive.append(t)
        return self.index[id(t)]

    def array(self, a) -> int:
        if id(a) in self.index:
            return self.index[id(a)]
        typestr = a.__array_interface__["typestr"]
        if not _TYPESTR.fullmatch(typestr):
            raise TypeError(f"plugrad.save stores NumPy arrays of booleans and numbers; it cannot store an array "
                            f"of type {a.dtype!s} (typestr {typestr!r})")
        self.index[id(a)] = len(self.arrays)
        self.arrays.append((a, typestr))
        self.keepalive.append(a)
        return self.index[id(a)]

    def finish(self, root) -> bytes:
        chunks, size, storages, arrays = [], 0, [], []
        for k in range(len(self.storages.roots)):
            data = self.storages.data(k)
            dt = self.storages.dtype(k)
            storages.append({"dtype": dt.name, "numel": len(data) // dt.itemsize, "offset": size,
                             "device": self.storages.device(k)})
            chunks.append(data)
            size += len(data)
        for a, typestr in self.arrays:
            data = a.tobytes()
            arrays.append({"typestr": typestr, "shape": list(a.shape), "offset": size, "nbytes": len(data)})
            chunks.append(data)
            size += len(data)
        header = json.dumps({"format": "plugrad", "version": VERSION, "data_size": size, "storages": storages,
                             "tensors": self.tensors, "arrays": arrays, "root": root},
                            separators=(",", ":"), allow_nan=False).encode("utf-8")
        parts = [_PREFIX.pack(MAGIC, VERSION, len(header)), header, *chunks]
        digest = hashlib.sha256()
        for p in parts:
            digest.update(p)
        return b"".join(parts) + digest.digest()


def encode(obj) -> bytes:
    """The bytes of a plugrad file holding ``obj``."""
    enc = _Encoder()
    return enc.finish(enc.node(obj))


# ---- loading ----------------------------------------------------------------------------

def is_native(blob: bytes) -> bool:
    return blob[:len(MAGIC)] == MAGIC


def _parse(blob: bytes, name) -> tuple:
    """The header dict and the data section, after checking structure and digest."""
    if len(blob) < _PREFIX.size:
        raise LoadError(f"{name} is truncated: {len(blob)} bytes, not even a plugrad file's prefix")
    _, version, header_len = _PREFIX.unpack_from(blob)
    if version not in (1, VERSION):
        raise LoadError(f"{name}: unsupported plugrad file version {version} (this plugrad reads versions 1 and "
                        f"{VERSION})")
    header_end = _PREFIX.size + header_len
    if header_end + _DIGEST_SIZE > len(blob):
        raise LoadError(f"{name} is truncated: its header claims {header_len} bytes but the file has "
                        f"{len(blob)} bytes in all")
    body, digest = blob[:-_DIGEST_SIZE], blob[-_DIGEST_SIZE:]
    if hashlib.sha256(body).digest() != digest:
        raise LoadError(f"{name} is corrupted or was modified (its SHA-256 checksum does not match), or it is "
                        f"truncated")
    try:
        header = json.loads(blob[_PREFIX.size:header_end].decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise LoadError(f"{name}: the header is not valid JSON ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != "plugrad":
        raise LoadError(f"{name}: the header does not describe a plugrad object")
    data = blob[header_end:-_DIGEST_SIZE]
    if header.get("data_size") != len(data):
        raise LoadError(f"{name}: the header announces {str(header.get('data_size'))[:40]} bytes of tensor data, "
                        f"the file holds {len(data)}")
    if version == 1:
        header = _upgrade(header, name)
    return header, memoryview(data)


def _no_constant(c):
    raise ValueError(f"non-standard JSON constant {c}")


def _upgrade(header, name) -> dict:
    """A version 1 header (one contiguous storage per tensor) in version 2's terms."""
    entries = header.get("tensors")
    if not isinstance(entries, list):
        raise LoadError(f"{name}: the header has no tensor table")
    storages, tensors = [], []
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or not isinstance(e.get("dtype"), str) or e["dtype"] not in DTYPES or \
                not isinstance(e.get("shape"), list):
            raise LoadError(f"{name}: tensor entry {i} is malformed or has an unknown dtype")
        dt = DTYPES[e["dtype"]]
        shape = check_shape(e["shape"], dt.itemsize, name, f"tensor {i}")
        count = 1
        for n in shape:
            count *= n
        if e.get("nbytes") != count * dt.itemsize:
            raise LoadError(f"{name}: tensor {i} of shape {list(shape)} and dtype {dt.name} needs "
                            f"{count * dt.itemsize} bytes, the entry says {str(e.get('nbytes'))[:40]}")
        storages.append({"dtype": dt.name, "numel": count, "offset": e.get("offset"), "device": e.get("device")})
        tensors.append({"storage": i, "shape": list(shape), "strides": None, "storage_offset": 0,
                        "requires_grad": bool(e.get("requires_grad")), "parameter": bool(e.get("parameter"))})
    return dict(header, storages=storages, tensors=tensors, arrays=[])


class _Decoder:
    def __init__(self, header, data, name, map_location):
        self.name, self.data, self.map_location = name, data, map_location
        storages, tensors, arrays = header.get("storages"), header.get("tensors"), header.get("arrays")
        if not all(isinstance(x, list) for x in (storages, tensors, arrays)):
            raise LoadError(f"{name}: the header has no storage, tensor or array table")
        self.storages = [self._check_storage(i, e) for i, e in enumerate(storages)]
        self.tensors = [self._check_tensor(i, e) for i, e in enumerate(tensors)]
        self.arrays = [self._check_array(i, e) for i, e in enumerate(arrays)]
        self.roots, self.built = {}, {}

    def _span(self, offset, nbytes, what):
        if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset < LIMIT:
            raise LoadError(f"{self.name}: {what} has an invalid data offset {str(offset)[:40]!r}")
        if offset + nbytes > len(self.data):
            raise LoadError(f"{self.name}: {what} lies outside the data section (bytes {offset}..{offset + nbytes} "
                            f"of {len(self.data)})")
        return offset, nbytes

    def _check_storage(self, i, e):
        if not isinstance(e, dict) or not isinstance(e.get("dtype"), str) or e["dtype"] not in DTYPES:
            raise LoadError(f"{self.name}: storage {i} is malformed or has an unknown dtype")
        dt = DTYPES[e["dtype"]]
        numel = e.get("numel")
        if isinstance(numel, bool) or not isinstance(numel, int) or not 0 <= numel < LIMIT // dt.itemsize:
            raise LoadError(f"{self.name}: storage {i} has an invalid element count {str(numel)[:40]!r}")
        if not isinstance(e.get("device"), str):
            raise LoadError(f"{self.name}: storage {i} has no device")
        return (dt, numel, *self._span(e.get("offset"), numel * dt.itemsize, f"storage {i}"), e["device"])

    def _check_tensor(self, i, e):
        if not isinstance(e, dict):
            raise LoadError(f"{self.name}: tensor entry {i} is not an object")
        k = e.get("storage")
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < len(self.storages):
            raise LoadError(f"{self.name}: tensor {i} names a storage {str(k)[:40]!r} that the table does not have")
        dt, numel = self.storages[k][:2]
        layout = check_layout(e.get("shape"), e.get("strides"), e.get("storage_offset"), dt, numel, self.name,
                              f"tensor {i}")
        return k, layout, e.get("requires_grad"), bool(e.get("parameter"))

    def _check_array(self, i, e):
        if not isinstance(e, dict) or not isinstance(e.get("typestr"), str) or not _TYPESTR.fullmatch(e["typestr"]):
            raise LoadError(f"{self.name}: array {i} is malformed or has a type that is not a plain number")
        itemsize = int(e["typestr"][2:])
        shape = check_shape(e.get("shape"), itemsize, self.name, f"array {i}")
        count = 1
        for n in shape:
            count *= n
        if count * itemsize >= LIMIT or e.get("nbytes") != count * itemsize:
            raise LoadError(f"{self.name}: array {i} of shape {list(shape)} and type {e['typestr']} needs "
                            f"{count * itemsize} bytes, the entry says {str(e.get('nbytes'))[:40]}")
        return (e["typestr"], shape, *self._span(e.get("offset"), count * itemsize, f"array {i}"))

    def root(self, k):
        if k not in self.roots:
            dt, _, offset, nbytes, saved = self.storages[k]
            cpu = storage_tensor(self.data[offset:offset + nbytes], dt, self.name)
            self.roots[k] = place(cpu, saved, self.map_location, self.name)
        return self.roots[k]

    def tensor(self, i):
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(self.tensors):
            raise LoadError(f"{self.name}: reference to a tensor {str(i)[:40]!r} that the table does not have")
        if i not in self.built:
            k, layout, requires_grad, parameter = self.tensors[i]
            self.built[i] = finish(view_of(self.root(k), *layout), requires_grad, parameter, self.name)
        return self.built[i]

    def array(self, i):
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(self.arrays):
            raise LoadError(f"{self.name}: reference to an array {str(i)[:40]!r} that the table does not have")
        key = ("array", i)
        if key not in self.built:
            typestr, shape, offset, nbytes = self.arrays[i]
            raw = storage_tensor(self.data[offset:offset + nbytes], DTYPES["uint8"], self.name)
            host = raw._backend.host_view(raw._a)     # the cpu device's NumPy array: core never imports NumPy
            if host is None:
                raise LoadError(f"{self.name} holds a NumPy array, and the cpu device cannot give one")
            self.built[key] = host.view(typestr).reshape(shape)
        return self.built[key]

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
        if tag == "$ndarray":
            return self.array(value)
        if tag == "$npscalar":
            arr = self.array(value)
            if arr.shape != ():
                raise LoadError(f"{self.name}: a NumPy scalar refers to array {value} of shape {arr.shape}")
            return arr[()]
        if tag in ("$tuple", "$set", "$frozenset") and isinstance(value, list):
            items = [self.node(x, depth + 1) for x in value]
            kind = {"$tuple": tuple, "$set": set, "$frozenset": frozenset}[tag]
            try:
                return kind(items)
            except TypeError:
                raise LoadError(f"{self.name}: unhashable set member") from None
        if tag in ("$dict", "$odict") and isinstance(value, list):
            return self._dict(tag, value, depth)
        if tag == "$float" and value in ("inf", "-inf", "nan"):
            return float(value)
        if tag == "$complex" and isinstance(value, list) and len(value) == 2:
            parts = [self.node(x, depth + 1) for x in value]
            if all(isinstance(p, float) for p in parts):
                return complex(*parts)
        if tag == "$dtype" and isinstance(value, str) and value in DTYPES:
            return DTYPES[value]
        if tag == "$device" and isinstance(value, str):
            try:
                return _device(value)
            except (RuntimeError, ValueError, TypeError) as exc:
                raise LoadError(f"{self.name}: invalid device {value[:40]!r} ({exc})") from None
        if tag == "$size" and isinstance(value, list):
            return Size(check_shape(value, 1, self.name, "a Size"))
        if tag in ("$bytes", "$bytearray") and isinstance(value, str):
            try:
                raw = base64.b64decode(value.encode("ascii"), validate=True)
            except (ValueError, UnicodeEncodeError):
                raise LoadError(f"{self.name}: invalid base64 bytes") from None
            return bytearray(raw) if tag == "$bytearray" else raw
        raise LoadError(f"{self.name}: unknown or malformed node {str(tag)[:40]!r}")

    def _dict(self, tag, value, depth):
        out = OrderedDict() if tag == "$odict" else {}
        for pair in value:
            if not isinstance(pair, list) or len(pair) != 2:
                raise LoadError(f"{self.name}: malformed dict entry {str(pair)[:80]!r}")
            key = self.node(pair[0], depth + 1)
            try:
                out[key] = self.node(pair[1], depth + 1)
            except TypeError:
                raise LoadError(f"{self.name}: unhashable dict key {str(key)[:40]!r}") from None
        return out


def decode(blob: bytes, name, map_location):
    """The object in a plugrad file (LoadError for anything but an intact one)."""
    header, data = _parse(blob, name)
    return _Decoder(header, data, name, map_location).node(header.get("root"))
