"""plugrad.save / plugrad.load: bit-exact round trips of tensors, state dicts and
optimizer state; map_location; and refusal, without side effects, of pickles,
truncated files, altered files and forged headers."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import struct
from collections import OrderedDict

import numpy as np
import pytest

import plugrad
import plugrad.nn as nn
from plugrad.serialization import LoadError

ALL_DTYPES = [plugrad.bool, plugrad.uint8, plugrad.int8, plugrad.int16, plugrad.int32, plugrad.int64,
              plugrad.float16, plugrad.float32, plugrad.float64]


def round_trip(obj, **load_kwargs):
    buf = io.BytesIO()
    plugrad.save(obj, buf)
    buf.seek(0)
    return plugrad.load(buf, **load_kwargs)


def saved_bytes(obj) -> bytes:
    buf = io.BytesIO()
    plugrad.save(obj, buf)
    return buf.getvalue()


def assert_identical(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape and a.device == b.device
    assert a.requires_grad == b.requires_grad
    def raw(t):
        return np.ascontiguousarray(t.detach().cpu().numpy()).reshape(-1).view(np.uint8)
    assert np.array_equal(raw(a), raw(b))


# ---- round trips -----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_tensor_round_trip_is_bit_exact(dtype):
    src = (plugrad.randn(3, 4) * 100).to(dtype)
    assert_identical(round_trip(src), src)


def test_special_shapes_values_and_views():
    for t in (plugrad.tensor(3.5), plugrad.zeros(0, 3), plugrad.tensor([float("nan"), float("inf"), -0.0]),
              plugrad.arange(12.0).reshape(3, 4).t()[1:], plugrad.ones(2, requires_grad=True)):
        assert_identical(round_trip(t), t)


def test_nested_containers_keep_their_types():
    obj = {"a": [1, 2.5, None, True, "text", b"\x00\xff"], "b": (plugrad.ones(2), {3: "int key", (1, 2): "tuple"}),
           "c": OrderedDict(z=1, y=2), "d": plugrad.float16, "e": plugrad.device("cpu"), "f": plugrad.Size([2, 3]),
           "g": float("inf"), "h": -(2 ** 70), "i": []}
    out = round_trip(obj)
    assert out["a"] == obj["a"] and isinstance(out["b"], tuple) and out["b"][1] == obj["b"][1]
    assert isinstance(out["c"], OrderedDict) and list(out["c"]) == ["z", "y"]
    assert out["d"] is plugrad.float16 and out["e"] == plugrad.device("cpu")
    assert isinstance(out["f"], plugrad.Size) and out["f"] == (2, 3)
    assert out["g"] == float("inf") and out["h"] == -(2 ** 70) and out["i"] == []


def test_one_tensor_saved_twice_loads_as_one_object_and_parameters_stay_parameters():
    t = plugrad.ones(3)
    p = nn.Parameter(plugrad.zeros(2))
    out = round_trip({"x": t, "y": t, "p": p})
    assert out["x"] is out["y"]
    assert isinstance(out["p"], nn.Parameter) and out["p"].requires_grad


def test_model_outputs_are_bit_identical_after_save_and_load(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 2))
    model(plugrad.randn(4, 1, 6, 6))  # move the running statistics
    model.eval()
    x = plugrad.randn(2, 1, 6, 6)
    path = tmp_path / "model.pt"
    plugrad.save(model.state_dict(), path)
    assert os.listdir(tmp_path) == ["model.pt"]  # written atomically, no temporary left behind
    twin = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 2))
    twin.load_state_dict(plugrad.load(path))
    twin.eval()
    assert_identical(twin(x).detach(), model(x).detach())


def test_load_into_wrong_model_leaves_it_untouched(tmp_path):
    path = tmp_path / "small.pt"
    plugrad.save(nn.Linear(3, 2).state_dict(), path)
    target = nn.Linear(4, 2)
    before = target.weight.detach().clone()
    with pytest.raises(RuntimeError, match="size mismatch"):
        target.load_state_dict(plugrad.load(path))
    assert plugrad.equal(target.weight.detach(), before)


def test_unsupported_objects_are_refused_at_save():
    with pytest.raises(TypeError, match="state_dict"):
        saved_bytes(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="cannot store"):
        saved_bytes({"f": lambda: 0})
    with pytest.raises(TypeError):
        plugrad.save(plugrad.ones(1), io.BytesIO(), pickle_module=pickle)


# ---- map_location ------------------------------------------------------------------------------

def test_map_location_forms():
    t = plugrad.arange(4.0)
    for loc in ("cpu", plugrad.device("cpu"), {"cpu": "cpu"}):
        assert_identical(round_trip(t, map_location=loc), t)
    seen = []

    def fn(tensor, location):
        seen.append(location)
        return tensor * 2

    assert round_trip(t, map_location=fn).tolist() == [0.0, 2.0, 4.0, 6.0] and seen == ["cpu"]
    with pytest.raises(RuntimeError, match="map_location"):
        round_trip(t, map_location="nodevice")


def test_map_location_to_every_device(device):
    t = plugrad.randn(3, 2)
    out = round_trip(t, map_location=device)
    assert out.device.type == device and plugrad.equal(out.cpu(), t)
    back = round_trip(out, map_location="cpu")
    assert back.device.type == "cpu" and plugrad.equal(back, t)


# ---- refusals ----------------------------------------------------------------------------------

class _Payload:
    """An object whose unpickling would call ``_trap``."""

    def __reduce__(self):
        return (_trap, ("unpickled!",))


_TRAPPED = []


def _trap(msg):
    _TRAPPED.append(msg)
    return msg


def test_pickles_are_refused_without_running_them(tmp_path):
    blob = pickle.dumps({"weights": _Payload()})
    assert pickle.loads(blob) == {"weights": "unpickled!"} and _TRAPPED == ["unpickled!"]  # the trap works
    _TRAPPED.clear()
    path = tmp_path / "evil.pt"
    path.write_bytes(blob)
    with pytest.raises(LoadError, match="pickle") as info:
        plugrad.load(path)
    assert isinstance(info.value, RuntimeError)
    with pytest.raises(LoadError):
        plugrad.load(io.BytesIO(blob), weights_only=False)
    assert _TRAPPED == []


@pytest.mark.torch_oracle
def test_torch_save_files_load():
    torch = pytest.importorskip("torch")
    buf = io.BytesIO()
    torch.save({"w": torch.arange(3.0)}, buf)
    buf.seek(0)
    assert plugrad.load(buf)["w"].tolist() == torch.arange(3.0).tolist()


def test_truncated_files_are_refused():
    blob = saved_bytes({"w": plugrad.randn(5, 5), "b": plugrad.zeros(5)})
    for cut in (0, 4, 19, 21, 60, len(blob) // 2, len(blob) - 33, len(blob) - 1):
        with pytest.raises(LoadError):
            plugrad.load(io.BytesIO(blob[:cut]))


def test_any_altered_byte_is_detected():
    blob = bytearray(saved_bytes({"w": plugrad.randn(4, 4)}))
    for pos in (25, len(blob) // 2, len(blob) - 40, len(blob) - 5):
        bad = bytearray(blob)
        bad[pos] ^= 0x01
        with pytest.raises(LoadError):
            plugrad.load(io.BytesIO(bytes(bad)))


def _forge(header: dict, data: bytes = b"") -> bytes:
    """A file with a consistent digest around an arbitrary (hostile) header."""
    raw = json.dumps(header).encode()
    body = struct.pack("<8sIQ", b"PLUGRAD\x00", 1, len(raw)) + raw + data
    return body + hashlib.sha256(body).digest()


def _header(entry, root=None, data_size=16):
    root = {"$tensor": 0} if root is None else root
    return {"format": "plugrad", "version": 1, "data_size": data_size, "tensors": [entry], "root": root}


GOOD_ENTRY = {"dtype": "float32", "shape": [4], "offset": 0, "nbytes": 16, "device": "cpu", "requires_grad": False}


@pytest.mark.parametrize("change, why", [
    ({"shape": [1 << 40, 1 << 20]}, "larger than any tensor"),   # a huge allocation the file cannot hold
    ({"nbytes": 1 << 50}, "needs"),
    ({"shape": [8], "nbytes": 32}, "outside"),
    ({"offset": 8}, "outside"),
    ({"shape": [-4]}, "dimension"),
    ({"dtype": "complex64"}, "dtype"),
    ({"dtype": "__import__('os')"}, "dtype"),
    ({"device": 7}, "device"),
])
def test_forged_headers_are_refused_before_allocating(change, why):
    entry = dict(GOOD_ENTRY, **change)
    with pytest.raises(LoadError, match=why):
        plugrad.load(io.BytesIO(_forge(_header(entry), bytes(16))))
    assert plugrad.load(io.BytesIO(_forge(_header(GOOD_ENTRY), bytes(16)))).tolist() == [0.0] * 4


@pytest.mark.parametrize("root", [{"$pickle": "x"}, {"$tensor": 3}, {"a": 1, "b": 2}, {"$dict": [[1]]},
                                  {"$dict": [[[1], 2]]}, {"$float": "1e999"}, {"$bytes": "%%%"}])
def test_malformed_nodes_are_refused(root):
    with pytest.raises(LoadError):
        plugrad.load(io.BytesIO(_forge(_header(GOOD_ENTRY, root=root), bytes(16))))


def test_wrong_data_size_and_version_and_deep_nesting():
    with pytest.raises(LoadError, match="announces"):
        plugrad.load(io.BytesIO(_forge(_header(GOOD_ENTRY, data_size=8), bytes(16))))
    raw = json.dumps(_header(GOOD_ENTRY)).encode()
    body = struct.pack("<8sIQ", b"PLUGRAD\x00", 99, len(raw)) + raw + bytes(16)
    with pytest.raises(LoadError, match="version"):
        plugrad.load(io.BytesIO(body + hashlib.sha256(body).digest()))
    deep = {"$tensor": 0}
    for _ in range(300):  # deeper than plugrad.load accepts
        deep = [deep]
    with pytest.raises(LoadError):
        plugrad.load(io.BytesIO(_forge(_header(GOOD_ENTRY, root=deep), bytes(16))))
    with pytest.raises(LoadError, match="not a plugrad file"):
        plugrad.load(io.BytesIO(b"hello world, this is text"))
