"""Reading files written by ``torch.save``, without PyTorch and without running code.

Two layouts exist. The zip format (PyTorch 1.6 and later): ``<prefix>/data.pkl``
holds a pickle whose persistent ids name storage records ``<prefix>/data/<key>``
(raw little-endian bytes), next to ``byteorder`` and ``version`` records. The
legacy format (``_use_new_zipfile_serialization=False``) is a run of pickles: a
magic number, a protocol version, system information, the object, the list of
storage keys, then each storage as an int64 element count and its bytes.

The pickles go through :mod:`.unpickler` with PyTorch's ``weights_only`` allowlist
(:mod:`.torch_globals`). Each storage is built once, on the device ``map_location``
gives, and every tensor is a view of it with the saved size, stride and offset,
checked against the storage first: tensors that shared memory when saved share it
after loading. Every failure is a LoadError naming the file.
"""

from __future__ import annotations

import io
import struct
import zipfile

from ..nn.parameter import Parameter
from ..tensor import Tensor
from .errors import LoadError, brief
from .tensors import DTYPES, LIMIT, check_layout, finish, place, storage_tensor, view_of
from .torch_globals import PARAMETER_TYPE, TENSOR_TYPE, StorageType, data_global, torch_global
from .unpickler import Allowed, unpickle

__all__ = ["is_zip", "is_legacy", "read_zip", "read_legacy", "LEGACY_MAGIC"]

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001
_I64 = struct.Struct("<q")


def is_zip(blob: bytes) -> bool:
    return blob[:4] == b"PK\x03\x04"


def is_legacy(blob: bytes) -> bool:
    """A pickle of an integer, as the legacy format starts with (its magic number, in protocol 2 or 0-1)."""
    return blob[:1] in (b"\x80", b"L", b"\x8a")


class _Checkpoint:
    """The storages of one checkpoint and the rebuild functions its pickle calls."""

    def __init__(self, name, map_location, records):
        self.name, self.map_location = name, map_location
        self.records = records      # key -> bytes of the storage, or None while only collecting keys
        self.specs = {}             # key -> (dtype, numel, location), as the pickle declares them
        self.roots = {}             # (key, dtype name) -> 1-d tensor over the built storage
        self.origin = {}            # id(storage tensor) -> (key, element offset)
        self.keep = []              # storage tensors handed to the pickle (ids stay unique)
        self.rebuilds = {"_rebuild_tensor": self.rebuild_tensor, "_rebuild_tensor_v2": self.rebuild_tensor_v2,
                         "_rebuild_tensor_v3": self.rebuild_tensor_v3, "_rebuild_parameter": self.rebuild_parameter,
                         "_rebuild_parameter_with_state": self.rebuild_parameter_with_state,
                         "_rebuild_device_tensor_from_cpu_tensor": self.rebuild_from_cpu_tensor,
                         "_rebuild_from_type_v2": self.rebuild_from_type_v2}

    def find_global(self, module, name):
        return torch_global(module, name, self.rebuilds)

    # ---- storages ------------------------------------------------------------------------------
    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise LoadError(f"{self.name}: unknown persistent id {brief(pid)} (PyTorch files name storages "
                            f"only)")
        if len(pid) == 5:
            _, stype, key, location, numel = pid
            view = None
        elif len(pid) == 6:
            _, stype, key, location, numel, view = pid
        else:
            raise LoadError(f"{self.name}: malformed storage id {brief(pid)}")
        if not isinstance(stype, StorageType) or not isinstance(location, str) or \
                isinstance(numel, bool) or not isinstance(numel, int) or not 0 <= numel < LIMIT // 8:
            raise LoadError(f"{self.name}: malformed storage id {brief(pid)}")
        if not isinstance(key, (str, int)):
            raise LoadError(f"{self.name}: storage key {brief(key)} is not a string")
        spec = (stype.dtype, numel, location)
        if self.specs.setdefault(key, spec)[:2] != spec[:2]:
            raise LoadError(f"{self.name}: storage {brief(key)} is declared twice, with different types or "
                            f"sizes")
        if self.records is None:
            return None
        root = self.root(key, stype.dtype)
        if view is None:
            return root
        if not isinstance(view, tuple) or len(view) != 3:
            raise LoadError(f"{self.name}: malformed storage view {brief(view)}")
        _, offset, size = view
        layout = check_layout((size,), (1,), offset, stype.dtype, root.numel(), self.name, "a storage view")
        t = view_of(root, *layout)
        self.origin[id(t)] = (key, layout[2])
        self.keep.append(t)
        return t

    def root(self, key, dtype) -> Tensor:
        """The 1-d tensor over storage ``key`` read as ``dtype``, built once and placed per map_location."""
        found = self.roots.get((key, dtype.name))
        if found is not None:
            return found
        data = self.records.get(key) if isinstance(self.records, dict) else self.records(key)
        if data is None:
            raise LoadError(f"{self.name}: storage {brief(key)} has no data record")
        _, numel, location = self.specs[key]
        declared = numel * self.specs[key][0].itemsize
        if len(data) != declared:
            raise LoadError(f"{self.name}: storage {brief(key)} should hold {declared} bytes, its record holds "
                            f"{len(data)}")
        if len(data) % dtype.itemsize:
            raise LoadError(f"{self.name}: storage {brief(key)} of {len(data)} bytes cannot be read as {dtype.name}")
        root = place(storage_tensor(data, dtype, self.name), location, self.map_location, self.name)
        self.roots[(key, dtype.name)] = root
        self.origin[id(root)] = (key, 0)
        return root

    # ---- rebuild functions (torch._utils) ------------------------------------------------------
    def _tensor(self, storage, offset, size, stride, dtype=None) -> Tensor:
        if not isinstance(storage, Tensor) or id(storage) not in self.origin:
            raise LoadError(f"{self.name}: a tensor is rebuilt from {type(storage).__name__}, not a storage")
        key, base = self.origin[id(storage)]
        if dtype is not None and dtype is not storage._dtype:
            if base:
                raise LoadError(f"{self.name}: a storage view is reinterpreted as {dtype.name}")
            storage = self.root(key, dtype)
        if isinstance(offset, bool) or not isinstance(offset, int):
            raise LoadError(f"{self.name}: storage offset {brief(offset)} is not an integer")
        layout = check_layout(size, stride, base + offset, storage._dtype, base + storage.numel(), self.name)
        return view_of(storage, *layout)

    def _hooks(self, hooks, metadata=None):
        if not isinstance(hooks, dict):
            raise LoadError(f"{self.name}: backward hooks must be a dict, got {type(hooks).__name__}")
        if metadata:
            raise LoadError(f"{self.name}: the tensor has conjugate or negative bits ({brief(metadata)}), which "
                            f"plugrad does not have")

    def rebuild_tensor(self, storage, offset, size, stride):
        if self.records is None:
            return None
        return self._tensor(storage, offset, size, stride)

    def rebuild_tensor_v2(self, storage, offset, size, stride, requires_grad, hooks, metadata=None):
        if self.records is None:
            return None
        self._hooks(hooks, metadata)
        return finish(self._tensor(storage, offset, size, stride), requires_grad, False, self.name)

    def rebuild_tensor_v3(self, storage, offset, size, stride, requires_grad, hooks, dtype, metadata=None):
        if self.records is None:
            return None
        if dtype not in DTYPES.values():
            raise LoadError(f"{self.name}: _rebuild_tensor_v3 names dtype {brief(dtype)}")
        self._hooks(hooks, metadata)
        return finish(self._tensor(storage, offset, size, stride, dtype), requires_grad, False, self.name)

    def rebuild_parameter(self, data, requires_grad, hooks):
        return self.rebuild_parameter_with_state(data, requires_grad, hooks, None)

    def rebuild_parameter_with_state(self, data, requires_grad, hooks, state):
        if self.records is None:
            return None
        if not isinstance(data, Tensor):
            raise LoadError(f"{self.name}: a Parameter is rebuilt from {type(data).__name__}, not a tensor")
        self._hooks(hooks)
        param = finish(data.detach(), requires_grad, True, self.name)
        return self._set_state(param, state)

    def rebuild_from_cpu_tensor(self, data, dtype, device, requires_grad):
        if self.records is None:
            return None
        if not isinstance(data, Tensor) or dtype is not data._dtype:
            raise LoadError(f"{self.name}: _rebuild_device_tensor_from_cpu_tensor got inconsistent arguments")
        return finish(data.detach(), requires_grad, False, self.name)

    def rebuild_from_type_v2(self, func, new_type, args, state):
        if not isinstance(func, Allowed) or func.fn not in self.rebuilds.values() or not isinstance(args, tuple):
            raise LoadError(f"{self.name}: _rebuild_from_type_v2 calls {brief(func)}")
        if new_type not in (TENSOR_TYPE, PARAMETER_TYPE):
            raise LoadError(f"{self.name}: _rebuild_from_type_v2 makes a {brief(new_type)}, which is not a "
                            f"tensor type plugrad has")
        t = func.fn(*args)
        if self.records is None:
            return None
        if new_type is PARAMETER_TYPE and not isinstance(t, Parameter):
            t = Parameter(t, t.requires_grad)
        return self._set_state(t, state)

    def _set_state(self, t, state):
        if state is None or state == {}:
            return t
        if not isinstance(state, dict) or not all(isinstance(k, str) and k.isidentifier() and
                                                  not k.startswith("_") and not hasattr(t, k) for k in state):
            raise LoadError(f"{self.name}: a tensor's saved attributes {brief(state)} are not plain names")
        for k, v in state.items():
            setattr(t, k, v)
        return t


def _zip_records(blob: bytes, name):
    """``(pickle bytes, record reader)`` of a PyTorch zip checkpoint."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(blob))
        infos = zf.infolist()
    except Exception as exc:      # zipfile's errors are many (BadZipFile, struct.error, ValueError...)
        raise LoadError(f"{name} is a damaged zip archive ({type(exc).__name__}: {str(exc)[:200]})") from None
    if not infos:
        raise LoadError(f"{name} is an empty zip archive, not a PyTorch checkpoint")
    prefix = infos[0].filename.split("/", 1)[0]
    by_name = {i.filename: i for i in infos}

    def record(rel):
        info = by_name.get(f"{prefix}/{rel}")
        if info is None:
            return None
        if info.compress_type != zipfile.ZIP_STORED or info.file_size > len(blob):
            raise LoadError(f"{name}: record {info.filename} is compressed or larger than the file; torch.save "
                            f"writes stored records")
        try:
            return zf.read(info)
        except Exception as exc:
            raise LoadError(f"{name}: record {info.filename} is damaged ({type(exc).__name__}: "
                            f"{str(exc)[:200]})") from None

    pkl = record("data.pkl")
    if pkl is None:
        raise LoadError(f"{name} is a zip archive without {prefix}/data.pkl: not a torch.save checkpoint (a "
                        f"TorchScript archive, or another zip file)")
    order = record("byteorder")
    if order is not None and order != b"little":
        raise LoadError(f"{name}: the checkpoint's byte order is {order[:20]!r}; plugrad reads little-endian files")
    return pkl, lambda key: record(f"data/{key}") if isinstance(key, str) and key.isalnum() else None


def read_zip(blob: bytes, name, map_location):
    """The object in a ``torch.save`` zip checkpoint."""
    pkl, record = _zip_records(blob, name)
    ckpt = _Checkpoint(f"{name} (data.pkl)", map_location, record)
    return unpickle(pkl, ckpt.name, ckpt.find_global, ckpt.persistent_load)[0]


def _no_persistent_id(pid):
    raise LoadError(f"a persistent id {brief(pid)} where the legacy format has none")


def read_legacy(blob: bytes, name, map_location):
    """The object in a legacy (non-zip) ``torch.save`` file."""
    if not is_legacy(blob):
        raise LoadError(f"{name} is not a PyTorch checkpoint")
    magic, pos = unpickle(blob, name, data_global, _no_persistent_id)
    if magic != LEGACY_MAGIC:
        raise LoadError(f"{name} is a Python pickle, not a PyTorch checkpoint (its first value is not PyTorch's "
                        f"magic number); plugrad.load never unpickles arbitrary objects")
    version, pos = unpickle(blob, name, data_global, _no_persistent_id, pos)
    if version != _LEGACY_PROTOCOL:
        raise LoadError(f"{name}: unsupported legacy PyTorch protocol version {brief(version)}")
    info, pos = unpickle(blob, name, data_global, _no_persistent_id, pos)
    if not isinstance(info, dict) or info.get("little_endian") is not True:
        raise LoadError(f"{name}: the checkpoint is not little-endian or its system information is malformed")
    main = pos
    survey = _Checkpoint(name, map_location, None)          # first pass: which storages, where the object ends
    _, pos = unpickle(blob, name, survey.find_global, survey.persistent_load, main)
    keys, pos = unpickle(blob, name, data_global, _no_persistent_id, pos)
    if not isinstance(keys, list) or len(set(map(str, keys))) != len(keys):
        raise LoadError(f"{name}: the storage key list is malformed")
    records = {}
    for key in keys:
        spec = survey.specs.get(key)
        if spec is None:
            raise LoadError(f"{name}: storage {brief(key)} is listed but never used")
        if pos + 8 > len(blob):
            raise LoadError(f"{name} is truncated in the storage data")
        (count,) = _I64.unpack_from(blob, pos)
        nbytes = spec[1] * spec[0].itemsize
        if count != spec[1] or pos + 8 + nbytes > len(blob):
            raise LoadError(f"{name}: storage {brief(key)} holds {count} elements where {spec[1]} are declared, "
                            f"or is truncated")
        records[key] = blob[pos + 8:pos + 8 + nbytes]
        pos += 8 + nbytes
    ckpt = _Checkpoint(name, map_location, records)
    return unpickle(blob, name, ckpt.find_global, ckpt.persistent_load, main)[0]
