"""Malicious PyTorch-style checkpoints: ``plugrad.load`` refuses every one with LoadError
and runs nothing.

Each payload, when unpickled by Python, would create a canary file (through
``open``, ``os.system``, ``builtins.eval``/``exec``, ``subprocess``, ``getattr``
chains...). Each is written in every pickle protocol (0 to 5), as a bare pickle, as
the object of a legacy ``torch.save`` file, and as ``data.pkl`` of a zip
checkpoint; nested deep inside containers and tensor rebuild arguments; through
hand-written opcodes that Python's pickler never emits for them (``INST``,
``OBJ``, ``EXT1``, ``STACK_GLOBAL``, ``NEWOBJ``, ``BUILD`` on allowed objects).
Damaged zip archives (truncated, CRC, directory and header fields altered,
compressed or encrypted records, missing records) are refused the same way. The
standard library's unpickler is disabled throughout, so a refusal cannot come
from it running.
"""

from __future__ import annotations

import builtins
import io
import os
import pickle
import re
import struct
import subprocess
import zipfile

import pytest
from fault_support import docs_page

import plugrad
from plugrad.serialization import LoadError

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class Reduce:
    """Unpickling this calls ``fn(*args)``."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def payloads(canary: str) -> dict:
    """name -> object whose unpickling creates ``canary``."""
    touch = f"open({canary!r}, 'w').close()"
    return {
        "open": Reduce(open, canary, "w"),
        "os.system": Reduce(os.system, f"touch {canary}"),
        "builtins.eval": Reduce(builtins.eval, touch),
        "builtins.exec": Reduce(builtins.exec, touch),
        "subprocess.call": Reduce(subprocess.call, ["touch", canary]),
        "nested in a dict of lists": {"state_dict": [1, {"w": (2, [Reduce(builtins.eval, touch)])}]},
        "as a dict key's value 50 deep": _deep(Reduce(open, canary, "w"), 50),
        "as an argument of an allowed call": {"od": _OrderedDictCall([("k", Reduce(os.system, f"touch {canary}"))])},
    }


class _OrderedDictCall:
    """Pickles as ``collections.OrderedDict(items)``, an allowed call, with hostile items."""

    def __init__(self, items):
        self.items = items

    def __reduce__(self):
        from collections import OrderedDict
        return OrderedDict, (self.items,)


def _deep(obj, n):
    for _ in range(n):
        obj = {"x": [obj]}
    return obj


def legacy(body: bytes, proto: int) -> bytes:
    """A legacy torch.save file whose object pickle is ``body``."""
    head = b"".join(pickle.dumps(x, proto) for x in (LEGACY_MAGIC, 1001, {"protocol_version": 1001,
                                                                         "little_endian": True}))
    return head + body + pickle.dumps([], proto)


def zipped(body: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("archive/data.pkl", body)
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/version", "3\n")
    return out.getvalue()


def hand_written(canary: str) -> dict:
    """Opcode sequences Python's pickler does not write for these payloads."""
    c = canary.encode()
    return {
        "GLOBAL os system": b"cos\nsystem\n(S'touch " + c + b"'\ntR.",
        "GLOBAL posix system, protocol 2": b"\x80\x02cposix\nsystem\nX" + struct.pack("<I", len(c) + 6)
                                           + b"touch " + c + b"\x85R.",
        "INST os system": b"(S'touch " + c + b"'\nios\nsystem\n.",
        "OBJ of os.system": b"(cos\nsystem\nS'touch " + c + b"'\no.",
        "STACK_GLOBAL builtins eval": b"\x80\x04\x8c\x08builtins\x8c\x04eval\x93\x8c" + bytes([len(c) + 22])
                                      + b"open('" + c + b"','w').close()\x85R.",
        "__builtin__ eval (python 2 name)": b"c__builtin__\neval\n(S\"open('" + c + b"','w')\"\ntR.",
        "EXT1 code 1": b"\x80\x02\x82\x01(S'touch " + c + b"'\ntR.",
        "NEWOBJ of os.system": b"\x80\x02cos\nsystem\n(S'touch " + c + b"'\ntt\x81.",
        "REDUCE of a string": b"\x80\x02X\x04\x00\x00\x00eval(S'1'\ntR.",
        "BUILD setting __class__ on an OrderedDict": b"\x80\x02ccollections\nOrderedDict\n)R}X\t\x00\x00\x00"
                                                     b"__class__cos\nsystem\nsb.",
        "BUILD shadowing OrderedDict.keys": b"\x80\x02ccollections\nOrderedDict\n)R}X\x04\x00\x00\x00keysK\x01sb.",
        "BUILD on a list": b"\x80\x02]}X\x01\x00\x00\x00aK\x01sb.",
        "rebuild_from_type_v2 calling os.system": b"\x80\x02ctorch._tensor\n_rebuild_from_type_v2\ncos\nsystem\n"
                                                  b"ctorch\nTensor\n(S'touch " + c + b"'\nt}tR.",
        "rebuild_tensor_v2 with a payload as storage": b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(cos\nsystem\n"
                                                       b"(S'touch " + c + b"'\ntRK\x00)))\x89}tR.",
        "persistent id naming os.system": b"\x80\x02(X\x07\x00\x00\x00storagecos\nsystem\nX\x01\x00\x00\x000X\x03"
                                          b"\x00\x00\x00cpuK\x01tQ.",
        "out-of-band buffer": b"\x80\x05\x97.",
        "torch.load itself": b"\x80\x02ctorch\nload\n(S'x'\ntR.",
        "torch.serialization.add_safe_globals": b"\x80\x02ctorch.serialization\nadd_safe_globals\n(]tR.",
    }


def exhausting() -> dict:
    """Pickles that run nothing but would exhaust time or memory if trusted."""
    put, get = (lambda i: b"r" + struct.pack("<I", i)), (lambda i: b"j" + struct.pack("<I", i))
    dag = b"\x80\x02}K\x00\x85" + put(0) + b"0"
    for i in range(60):                   # t[i+1] = (t[i], t[i]): hashing t[60] takes 2**60 steps
        dag += get(i) + get(i) + b"\x86" + put(i + 1) + b"0"
    big = b"\x80\x02](" + b"K\x07" * 100_000 + b"e" + put(0) + b"0]("  + get(0) * 1000 + b"e"
    return {"dict key: tuples 60 deep, each holding the one below twice": dag + get(60) + b"Ns.",
            "set member: a tuple nested 100,000 deep": b"\x80\x04\x8f(K\x00" + b"\x85" * 100_000 + b"\x90.",
            "persistent id: a list holding a 100,000-item list 1,000 times": big + b"Q.",
            "LONG4 claiming 2 GB": b"\x80\x02\x8b\xff\xff\xff\x7f.",
            "BINUNICODE8 claiming 2**63 bytes": b"\x80\x04\x8d" + struct.pack("<Q", 2 ** 63) + b"."}


def corpus(canary: str) -> dict:
    files = {}
    for name, obj in payloads(canary).items():
        for proto in range(pickle.HIGHEST_PROTOCOL + 1):
            body = pickle.dumps(obj, proto)
            files[f"{name}, protocol {proto}, bare"] = body
            files[f"{name}, protocol {proto}, legacy torch file"] = legacy(body, proto)
            files[f"{name}, protocol {proto}, zip checkpoint"] = zipped(body)
    for name, body in {**hand_written(canary), **exhausting()}.items():
        files[f"{name}, bare"] = body
        files[f"{name}, legacy torch file"] = legacy(body, 2)
        files[f"{name}, zip checkpoint"] = zipped(body)
    return files


def original():
    return {"w": plugrad.arange(6.0).reshape(2, 3), "b": plugrad.ones(3)}


def damaged_zips() -> dict:
    """name -> a damaged variant of a real PyTorch-layout checkpoint written by plugrad."""
    buf = io.BytesIO()
    plugrad.save(original(), buf, format="torch")
    good = buf.getvalue()
    files = {f"truncated to {n} bytes": good[:n] for n in range(0, len(good), max(1, len(good) // 97))}
    end = good.rfind(b"PK\x05\x06")
    central = good.find(b"PK\x01\x02")
    for field, off, fmt in (("entry count", 10, "<H"), ("directory size", 12, "<I"), ("directory offset", 16, "<I")):
        for value in (0, 1, 0xFFFF if fmt == "<H" else 0xFFFFFFFF):
            b = bytearray(good)
            struct.pack_into(fmt, b, end + off, value)
            files[f"end record {field} = {value}"] = bytes(b)
    for field, off, fmt in (("compression", 10, "<H"), ("crc", 16, "<I"), ("compressed size", 20, "<I"),
                            ("size", 24, "<I"), ("name length", 28, "<H"), ("local header offset", 42, "<I"),
                            ("flags (encrypted)", 8, "<H")):
        for value in (1, 8, 0xFFFF if fmt == "<H" else 0xFFFFFFFF):
            b = bytearray(good)
            struct.pack_into(fmt, b, central + off, value)
            files[f"first directory entry {field} = {value}"] = bytes(b)
    src = zipfile.ZipFile(io.BytesIO(good))
    for name, change in (("a data record missing", lambda n, d: None if n.endswith("data/0") else d),
                         ("a data record short", lambda n, d: d[:-4] if n.endswith("data/0") else d),
                         ("a data record long", lambda n, d: d + b"xx" if n.endswith("data/1") else d),
                         ("data.pkl empty", lambda n, d: b"" if n.endswith("data.pkl") else d),
                         ("data.pkl cut", lambda n, d: d[:len(d) // 2] if n.endswith("data.pkl") else d)):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as z:
            for info in src.infolist():
                data = change(info.filename, src.read(info))
                if data is not None:
                    z.writestr(info.filename, data)
        files[name] = out.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, src.read(info) if "data/" not in info.filename else bytes(10 ** 6))
    files["deflated records declaring a megabyte each"] = out.getvalue()
    return files


@pytest.fixture
def no_stdlib_unpickling(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("plugrad.load used Python's unpickler")
    for name in ("load", "loads", "Unpickler", "_Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)


def test_the_payloads_really_run_when_unpickled(tmp_path):
    """The traps work: Python's unpickler creates the canary (so its absence below means nothing ran)."""
    for name in ("open", "builtins.eval", "nested in a dict of lists"):
        canary = tmp_path / name.replace(" ", "_")
        pickle.loads(pickle.dumps(payloads(str(canary))[name], 2))
        assert canary.exists(), name
    canary = tmp_path / "hand"
    pickle.loads(hand_written(str(canary))["GLOBAL os system, bare".replace(", bare", "")])
    assert canary.exists()


def test_every_malicious_pickle_is_refused_and_runs_nothing(tmp_path, no_stdlib_unpickling):
    canary = tmp_path / "canary"
    files = corpus(str(canary))
    assert len(files) > 150
    for name, blob in files.items():
        with pytest.raises(LoadError) as info:
            plugrad.load(io.BytesIO(blob))
        assert len(str(info.value)) > 30, name
        assert not canary.exists(), f"{name} ran code"
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("name, why", [
    ("os.system, protocol 2, zip checkpoint", "global posix.system, which plugrad.load never calls"),
    ("builtins.eval, protocol 4, legacy torch file", "global builtins.eval"),
    ("INST os system, legacy torch file", "opcode b'i'"), ("INST os system, bare", "not a plugrad file"),
    ("OBJ of os.system, zip checkpoint", "global os.system"),
    ("EXT1 code 1, legacy torch file", "opcode b'\\x82'"),
    ("BUILD setting __class__ on an OrderedDict, zip checkpoint", "global os.system"),
    ("BUILD shadowing OrderedDict.keys, zip checkpoint", "sets the state of a OrderedDict"),
    ("torch.load itself, zip checkpoint", "global torch.load"),
])
def test_the_refusal_names_what_was_refused(tmp_path, name, why):
    with pytest.raises(LoadError, match=re.escape(why)):
        plugrad.load(io.BytesIO(corpus(str(tmp_path / "c"))[name]))


def test_every_damaged_zip_is_a_load_error_or_loads_intact(no_stdlib_unpickling):
    """A damaged archive is refused, unless the damage is in a field the reader does not
    need (the end record's entry count, a size it reads elsewhere): then what loads is
    exactly what was saved (every record's CRC is checked)."""
    files = damaged_zips()
    assert len(files) > 100
    want = {k: v.tolist() for k, v in original().items()}
    outcome = {}
    for name, blob in files.items():
        try:
            got = plugrad.load(io.BytesIO(blob))
            outcome[name] = "ok" if {k: v.tolist() for k, v in got.items()} == want else "loaded wrong values"
        except LoadError:
            outcome[name] = "ok"
        except Exception as exc:                 # noqa: BLE001 - the test reports any other class
            outcome[name] = f"{type(exc).__name__}: {exc}"
    assert {k: v for k, v in outcome.items() if v != "ok"} == {}


def test_the_figures_are_quoted_in_the_docs(tmp_path):
    page = docs_page()
    for phrase, count in (("malicious checkpoints", len(corpus(str(tmp_path / "c")))),
                          ("damaged archives", len(damaged_zips()))):
        m = re.search(r"([\d,]+) " + phrase, page)
        assert m and int(m.group(1).replace(",", "")) == count, f"docs/reliability.md must quote the {phrase}"
