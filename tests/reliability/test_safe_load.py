"""``plugrad.load`` on crafted files: every one raises LoadError (a RuntimeError) with a
message saying what is wrong, runs no code, allocates no more than the file holds,
and leaves the model it was meant for untouched.

The files are built here from a valid save of a small model: pickles whose
unpickling would create a marker file, wrong magic numbers and versions, the valid
file cut at every byte, header lengths and tensor entries that claim more bytes
than the file has (up to 2**64 - 1), tampered digests, data and headers, and
hostile JSON. The allocation bound is checked in a fresh interpreter whose address
space is capped (``RLIMIT_AS``) a little above what it uses before loading: a
loader that allocated what a header claims would die with MemoryError instead of
raising LoadError.
"""

from __future__ import annotations

import hashlib
import io
import json
import pathlib
import pickle
import re
import struct
import zipfile

import numpy as np
import pytest
from fault_support import docs_page, run_python

import plugrad
import plugrad.nn as nn
from plugrad.serialization import MAGIC, LoadError

PREFIX = struct.Struct("<8sIQ")
HERE = pathlib.Path(__file__).resolve().parent


class Payload:
    """Unpickling this creates the file ``path`` (via ``open(path, "w")``)."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def make_model():
    plugrad.manual_seed(5)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def valid_file() -> bytes:
    buf = io.BytesIO()
    plugrad.save(make_model().state_dict(), buf)
    return buf.getvalue()


def split(blob):
    """(version, header length, header dict, data bytes) of a valid file."""
    _, version, n = PREFIX.unpack_from(blob)
    header = json.loads(blob[PREFIX.size:PREFIX.size + n])
    return version, n, header, blob[PREFIX.size + n:-32]


def forge(header, data: bytes, version: int = 2, header_len: int | None = None, raw: bytes | None = None) -> bytes:
    """A file around ``header`` (or ``raw`` header bytes) with a correct digest."""
    raw = json.dumps(header).encode() if raw is None else raw
    body = PREFIX.pack(MAGIC, version, len(raw) if header_len is None else header_len) + raw + data
    return body + hashlib.sha256(body).digest()


def flip(blob: bytes, pos: int) -> bytes:
    b = bytearray(blob)
    b[pos] ^= 0x40
    return bytes(b)


def crafted_files(marker_dir) -> dict:
    """name -> bytes: every hostile file this module feeds to ``plugrad.load``."""
    good = valid_file()
    version, n, header, data = split(good)
    files = {}
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        files[f"pickle protocol {proto}"] = pickle.dumps({"weight": Payload(marker_dir / f"pickle{proto}")}, proto)
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:          # the layout of torch.save files: a pickle in a zip
        z.writestr("archive/data.pkl", pickle.dumps(Payload(marker_dir / "zip")))
    files["zip holding a pickle"] = zipped.getvalue()
    files["pickle after a plugrad prefix"] = good[:PREFIX.size] + pickle.dumps(Payload(marker_dir / "prefixed"))
    for name, blob in {"empty": b"", "text": b"weights = [1, 2, 3]\n",
                       "one wrong magic byte": b"PLUGRAE\x00" + good[8:], "magic only": MAGIC,
                       "magic and zeros": MAGIC + bytes(64)}.items():
        files[f"wrong magic: {name}"] = blob
    for v in (0, 3, 2 ** 32 - 1):
        files[f"version {v}"] = forge(header, data, version=v)
    for cut in range(len(good)):
        files[f"truncated to {cut} bytes"] = good[:cut]
    for claim in (n + 1, len(good), 2 ** 30, 2 ** 60, 2 ** 64 - 1):
        files[f"header length {claim}"] = good[:12] + struct.pack("<Q", claim) + good[PREFIX.size:]
        files[f"header length {claim}, digest recomputed"] = forge(header, data, header_len=claim)
    for table, changes in {"storages": {"1 GiB of elements": {"numel": 2 ** 28}, "2**80 elements": {"numel": 2 ** 80},
                                        "offset past the end": {"offset": len(data)},
                                        "offset of 2**63": {"offset": 2 ** 63}, "negative offset": {"offset": -4},
                                        "unknown dtype": {"dtype": "object"},
                                        "dtype naming code": {"dtype": "__import__('os')"}, "no device": {"device": 3}},
                           "tensors": {"shape of 2**80 elements": {"shape": [2 ** 40, 2 ** 40], "strides": [1, 1]},
                                       "shape past the storage": {"shape": [100, 4]},
                                       "zero elements and a dim of 2**63": {"shape": [0, 2 ** 63], "strides": [1, 1]},
                                       "zero elements and dims of 2**40": {"shape": [0, 2 ** 40, 2 ** 40],
                                                                           "strides": [1, 1, 1]},
                                       "negative dimension": {"shape": [-3, 4]},
                                       "dimension of 5000 digits": {"shape": ["<5000 digits>"], "strides": [1]},
                                       "65 dimensions": {"shape": [1] * 65, "strides": [1] * 65},
                                       "stride past the storage": {"strides": [1000, 1]},
                                       "negative stride": {"strides": [-4, 1]},
                                       "storage offset past the storage": {"storage_offset": 10 ** 6},
                                       "storage offset of 2**64": {"storage_offset": 2 ** 64},
                                       "strides shorter than the shape": {"strides": [1]},
                                       "missing storage": {"storage": 99},
                                       "storage named by a string": {"storage": "0"},
                                       "requires_grad not a bool": {"requires_grad": "yes"}}}.items():
        for name, change in changes.items():
            h = json.loads(json.dumps(header))
            h[table][0] = dict(h[table][0], **change)
            raw = json.dumps(h).replace('"<5000 digits>"', "1" + "0" * 4999).encode()  # json.dumps refuses such ints
            files[f"{table[:-1]} entry: {name}"] = forge(None, data, raw=raw)
    files["data_size of 2**50"] = forge(dict(header, data_size=2 ** 50), data)
    files["data section longer than announced"] = forge(header, data + bytes(8))
    for pos, what in ((-1, "last"), (-32, "first"), (-17, "middle")):
        files[f"digest: {what} byte changed"] = flip(good, len(good) + pos)
    files["data: one byte changed"] = flip(good, PREFIX.size + n + 3)
    files["header: one byte changed"] = flip(good, PREFIX.size + 5)
    for name, raw in {"not JSON": b"{'format': 'plugrad'}", "invalid UTF-8": b'{"format": "\xff\xfe"}',
                      "a JSON list": b"[1, 2, 3]", "NaN constant": b'{"format": "plugrad", "data_size": NaN}',
                      "nested 100,000 deep": b"[" * 100_000 + b"]" * 100_000,
                      "no tensor table": json.dumps(dict(header, tensors=None)).encode(),
                      "no storage table": json.dumps(dict(header, storages={})).encode(),
                      "reference to a missing array": json.dumps(dict(header, root={"$ndarray": 0})).encode(),
                      "unknown node": json.dumps(dict(header, root={"$pickle": "gASV"})).encode(),
                      "reference to a missing tensor": json.dumps(dict(header, root={"$tensor": 99})).encode(),
                      "class-like node": json.dumps(dict(header, root={"__class__": "os.system"})).encode()}.items():
        files[f"header: {name}"] = forge(None, data, raw=raw)
    return files


def test_the_pickle_payload_really_runs_when_unpickled(tmp_path):
    """The trap works: unpickling these files creates the marker (so not creating it means
    plugrad did not unpickle)."""
    files = crafted_files(tmp_path)
    pickle.loads(files["pickle protocol 2"])
    assert (tmp_path / "pickle2").exists()


def test_every_crafted_file_is_refused_without_running_code_or_touching_the_model(tmp_path, monkeypatch):
    def no_unpickling(*args, **kwargs):
        raise AssertionError("plugrad.load tried to unpickle")
    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, no_unpickling)
    model = make_model()
    with plugrad.no_grad():
        for p in model.parameters():
            p.mul_(3).add_(1)                # differs from what the valid file holds
    before = {k: np.array(v.tolist()).tobytes() for k, v in model.state_dict().items()}
    path = tmp_path / "crafted.pt"
    for name, blob in crafted_files(tmp_path).items():
        for source in (io.BytesIO(blob), path):
            path.write_bytes(blob)
            with pytest.raises(LoadError) as info:
                model.load_state_dict(plugrad.load(source))
            message = str(info.value)
            assert isinstance(info.value, RuntimeError) and len(message) > 30, name
            assert str(path) in message or "<file object>" in message or "BytesIO" in message, (name, message)
    assert [p.name for p in tmp_path.iterdir()] == ["crafted.pt"], "a payload ran"
    assert {k: np.array(v.tolist()).tobytes() for k, v in model.state_dict().items()} == before
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("name, why", [
    ("pickle protocol 2", "names the global io.open, which plugrad.load never calls"),
    ("pickle protocol 0", "is a Python pickle"), ("zip holding a pickle", "global io.open"),
    ("wrong magic: text", "not a plugrad file"), ("version 3", "unsupported plugrad file version 3"),
    ("truncated to 100 bytes", "truncated"), ("header length 1152921504606846976", "header claims"),
    ("storage entry: 1 GiB of elements", "outside the data section (bytes 0..1073741824 of"),
    ("storage entry: offset past the end", "outside"),
    ("tensor entry: zero elements and a dim of 2**63", "a dimension of tensor 0 must be an integer in"),
    ("tensor entry: zero elements and dims of 2**40", "larger than any tensor can be"),
    ("tensor entry: stride past the storage", "reads element 3002 of a storage of 12 elements"),
    ("digest: last byte changed", "checksum does not match"), ("header: nested 100,000 deep", "not valid JSON"),
    ("header: unknown node", "unknown or malformed node '$pickle'"),
    ("tensor entry: dimension of 5000 digits", "not valid JSON"),
])
def test_the_message_says_what_is_wrong(tmp_path, name, why):
    with pytest.raises(LoadError, match=re.escape(why)):
        plugrad.load(io.BytesIO(crafted_files(tmp_path)[name]))


def test_a_consistent_but_wrong_state_dict_leaves_the_model_untouched(tmp_path):
    """Files that load but do not fit: nothing is copied unless everything fits."""
    model = make_model()
    before = {k: np.array(v.tolist()).tobytes() for k, v in model.state_dict().items()}
    good = plugrad.load(io.BytesIO(valid_file()))
    cases = {"last tensor of the wrong shape": dict(good, **{"2.bias": plugrad.zeros(3)}),
             "an unexpected key": dict(good, extra=plugrad.zeros(1)),
             "a missing key": {k: v for k, v in good.items() if k != "2.weight"},
             "a non-tensor value": dict(good, **{"2.bias": [0.0, 0.0]})}
    for name, state in cases.items():
        buf = io.BytesIO()
        plugrad.save(state, buf)
        buf.seek(0)
        with pytest.raises(RuntimeError, match="Error\\(s\\) in loading state_dict"):
            model.load_state_dict(plugrad.load(buf))
        assert {k: np.array(v.tolist()).tobytes() for k, v in model.state_dict().items()} == before, name


LIMITED = """
import io, json, resource, sys
import plugrad
from plugrad.serialization import LoadError
sys.path.insert(0, {here!r})
import test_safe_load as t
import tempfile
files = t.crafted_files(t.pathlib.Path(tempfile.mkdtemp()))
plugrad.load(io.BytesIO(t.valid_file()))       # everything loading needs is imported and started
with open("/proc/self/statm") as f:
    used = int(f.read().split()[0]) * resource.getpagesize()
cap = used + {headroom}
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
outcome = {{}}
for name, blob in files.items():
    try:
        plugrad.load(io.BytesIO(blob))
        outcome[name] = "loaded"
    except LoadError:
        outcome[name] = "LoadError"
    except BaseException as exc:
        outcome[name] = type(exc).__name__ + ": " + str(exc)[:200]
try:
    bytearray(2 * {headroom})
    outcome["the cap works"] = "no"
except MemoryError:
    outcome["the cap works"] = "yes"
print(json.dumps(outcome))
"""

HEADROOM = 256 * 2 ** 20


def test_crafted_files_allocate_no_more_than_they_hold():
    proc = run_python(LIMITED.format(here=str(HERE), headroom=HEADROOM))
    assert proc.returncode == 0, proc.stderr
    outcome = json.loads(proc.stdout.splitlines()[-1])
    assert outcome.pop("the cap works") == "yes"
    assert {k: v for k, v in outcome.items() if v != "LoadError"} == {}


def test_crafted_file_figure_quoted_in_the_docs(tmp_path):
    m = re.search(r"(\d+) crafted files", docs_page())
    assert m and int(m.group(1)) == len(crafted_files(tmp_path)), "docs/reliability.md must quote the crafted files"
