"""Seeded mutations of real checkpoints for the load fuzz test (issue 19, defect 5).

``cases(seed)`` yields ``(name, bytes)``: real files (plugrad's format, PyTorch's zip
format written by plugrad, and, with PyTorch installed, zip and legacy files
written by ``torch.save``) with bytes flipped, inserted, deleted and cut; with
header fields replaced by hostile values and the checksum recomputed (plugrad's
format); and with bytes of the pickle and of the storage records changed and the
archive rebuilt with correct CRCs (PyTorch's zip format), so that the mutations
reach the parts behind the integrity checks.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import struct
import zipfile

import numpy as np

import plugrad
import plugrad.nn as nn

PREFIX = struct.Struct("<8sIQ")
#: values a mutated header field takes
HOSTILE = [0, 1, -1, 2, 3, 7, 2 ** 31, 2 ** 32, 2 ** 62, 2 ** 63, 2 ** 64, -2 ** 63, 10 ** 30, 0.5, float("inf"),
           None, True, "", "float32", "bfloat16", "cpu", "opencl", "nodevice", [], [0], [2 ** 63], [-1, 2],
           [0, 2 ** 63], {}, {"$tensor": 0}, {"$ndarray": 0}, {"$tensor": -1}, "<i8", "|O", "|V8"]


def sources() -> dict:
    """name -> bytes of the real checkpoints the mutations start from."""
    plugrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 2))
    base = plugrad.arange(12.0).reshape(3, 4)
    obj = {"model": model.state_dict(), "view": base[1:, ::2], "base": base, "half": plugrad.ones(3).half(),
           "ints": plugrad.arange(5), "meta": {"epoch": 3, "lr": 0.1, "tags": ("a", "b")}}
    out = {}
    buf = io.BytesIO()
    plugrad.save(dict(obj, array=np.arange(6, dtype=np.int16).reshape(2, 3)), buf)
    out["plugrad"] = buf.getvalue()
    buf = io.BytesIO()
    plugrad.save(obj, buf, format="torch")
    out["torch zip (plugrad)"] = buf.getvalue()
    try:
        import torch
    except ImportError:
        return out
    tobj = torch.load(io.BytesIO(out["torch zip (plugrad)"]), weights_only=True)
    for name, zipped in (("torch zip (torch)", True), ("torch legacy (torch)", False)):
        buf = io.BytesIO()
        torch.save(tobj, buf, _use_new_zipfile_serialization=zipped)
        out[name] = buf.getvalue()
    return out


def _bytes_mutation(rng: random.Random, blob: bytes) -> tuple:
    b = bytearray(blob)
    kind = rng.choice(["flip", "flip", "set", "insert", "delete", "cut", "repeat"])
    pos = rng.randrange(len(b))
    if kind == "flip":
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif kind == "set":
        b[pos] = rng.choice([0, 1, 0x7F, 0x80, 0xFF])
    elif kind == "insert":
        b[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    elif kind == "delete":
        del b[pos:pos + rng.randint(1, 8)]
    elif kind == "cut":
        del b[pos:]
    else:
        b[pos:pos] = b[pos:pos + rng.randint(1, 64)]
    return kind, bytes(b)


def _fields(node, path=()):
    """Every (path, value) of a JSON document."""
    yield path, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _fields(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _fields(v, path + (i,))


def _native_field_mutation(rng: random.Random, blob: bytes) -> tuple:
    _, version, n = PREFIX.unpack_from(blob)
    header = json.loads(blob[PREFIX.size:PREFIX.size + n])
    data = blob[PREFIX.size + n:-32]
    paths = [p for p, _ in _fields(header) if p]
    path = rng.choice(paths)
    target = header
    for k in path[:-1]:
        target = target[k]
    target[path[-1]] = rng.choice(HOSTILE)
    raw = json.dumps(header).encode()
    body = PREFIX.pack(b"PLUGRAD\x00", version, len(raw)) + raw + data
    return "field " + "/".join(map(str, path)), body + hashlib.sha256(body).digest()


def _zip_record_mutation(rng: random.Random, blob: bytes) -> tuple:
    src = zipfile.ZipFile(io.BytesIO(blob))
    infos = src.infolist()
    victim = rng.choice([i for i in infos if i.filename.endswith("data.pkl")] * 3 + infos)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in infos:
            data = src.read(info)
            if info is victim and data:
                data = _bytes_mutation(rng, data)[1]
            z.writestr(info.filename, data)
    return f"record {victim.filename}", out.getvalue()


def cases(seed: int, per_source: int):
    """``per_source`` mutated files of each source, reproducible from ``seed``."""
    rng = random.Random(seed)
    for source, blob in sources().items():
        for i in range(per_source):
            if source == "plugrad" and i % 2:
                what, mutated = _native_field_mutation(rng, blob)
            elif source.startswith("torch zip") and i % 2:
                what, mutated = _zip_record_mutation(rng, blob)
            else:
                what, mutated = _bytes_mutation(rng, blob)
            yield f"{source} #{i}: {what}", mutated
