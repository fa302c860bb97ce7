"""plugrad.save / plugrad.load in plugrad's own format: what ordinary programs save.

Tensors on every device (sharing kept: views saved together share memory after
loading, issue 19 defect 5), NumPy arrays as data, and Python containers, numbers
and strings; files of format version 1 still load.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import plugrad


def round_trip(obj, fmt="plugrad", **kwargs):
    buf = io.BytesIO()
    plugrad.save(obj, buf, format=fmt)
    buf.seek(0)
    return plugrad.load(buf, **kwargs)


@pytest.mark.parametrize("fmt", ["plugrad", "torch"])
def test_views_saved_together_share_storage_after_loading_on_every_device(device, fmt):
    a = plugrad.arange(10.0, device=device)
    m = plugrad.arange(12.0, device=device).reshape(3, 4)
    got = round_trip({"a": a, "b": a[1:], "c": a[::3], "m": m, "mt": m.t(), "row": m[2], "lone": a.clone()}, fmt,
                     map_location=device)
    assert got["b"].untyped_storage() is got["a"].untyped_storage() is got["c"].untyped_storage()
    assert got["mt"].untyped_storage() is got["m"].untyped_storage() is got["row"].untyped_storage()
    assert got["lone"].untyped_storage() is not got["a"].untyped_storage()
    assert got["mt"].stride() == (1, 4) and got["row"].storage_offset() == 8 and got["c"].stride() == (3,)
    assert got["b"].tolist() == a[1:].tolist() and got["mt"].tolist() == m.t().tolist()
    got["a"][5] = -1.0                                          # one memory, as before saving
    assert got["b"][4].item() == -1.0 and got["a"].device.type == device
    assert not got["b"].requires_grad and got["b"].grad_fn is None      # each loaded tensor is a leaf


def test_a_tensor_saved_on_each_device_loads_back_there(device):
    t = plugrad.randn(3, 4).to(device)
    got = round_trip({"t": t, "p": plugrad.nn.Parameter(plugrad.ones(2, device=device))})
    assert got["t"].device.type == device and got["t"].cpu().tolist() == t.cpu().tolist()
    assert isinstance(got["p"], plugrad.nn.Parameter) and got["p"].requires_grad
    assert round_trip(t, map_location="cpu").device.type == "cpu"


@pytest.mark.parametrize("dtype", [np.bool_, np.uint8, np.int8, np.int16, np.uint16, np.int32, np.uint32, np.int64,
                                   np.uint64, np.float16, np.float32, np.float64, np.complex64, np.complex128])
def test_numpy_arrays_round_trip_as_data(dtype):
    rng = np.random.default_rng(0)
    arr = (rng.standard_normal((3, 5)) * 100).astype(dtype)
    for case in (arr, arr[:, ::2], arr.T, arr[:0], np.asarray(arr[0, 0]), arr.astype(arr.dtype.newbyteorder(">"))):
        got = round_trip({"x": case})["x"]
        assert type(got) is np.ndarray and got.dtype == case.dtype and got.shape == case.shape
        assert got.tobytes() == case.tobytes()


def test_numpy_scalars_round_trip_as_numpy_scalars():
    values = [np.float32(1.5), np.int64(-3), np.bool_(True), np.uint8(200), np.float16(0.1), np.complex64(1 - 1j)]
    got = round_trip(values)
    assert [type(v) for v in got] == [type(v) for v in values] and got == values
    with pytest.raises(TypeError, match="NumPy arrays and scalars"):
        plugrad.save(np.float32(1.0), io.BytesIO(), format="torch")


def test_numpy_arrays_of_objects_or_records_are_refused_at_save():
    for arr in (np.array([object()]), np.zeros(2, dtype=[("a", "i4")]), np.array(["text"])):
        with pytest.raises(TypeError, match="NumPy arrays of booleans and numbers"):
            plugrad.save(arr, io.BytesIO())


def test_python_containers_numbers_and_strings():
    obj = {"list": [1, -2 ** 70, 2.5, float("nan"), float("-inf")], "tuple": (None, True, False),
           "set": {1, 2, "x"}, "frozen": frozenset({(1, 2)}), "complex": 1.5 - 2j, "text": "naïve ✓",
           "bytes": b"\x00\xff", "bytearray": bytearray(b"ab"), "od": OrderedDict(z=1, a=2), "int keys": {3: "c"},
           "size": plugrad.Size([2, 3]), "dtype": plugrad.bfloat16, "device": plugrad.device("cpu")}
    got = round_trip(obj)
    assert list(got) == list(obj)
    for k in obj:
        assert type(got[k]) is type(obj[k]), k
    assert got["list"][:3] == obj["list"][:3] and got["list"][3] != got["list"][3]
    assert {k: got[k] for k in obj if k != "list"} == {k: obj[k] for k in obj if k != "list"}


def test_an_object_saved_twice_loads_once():
    t, arr = plugrad.ones(2), np.ones(2)
    got = round_trip([t, t, arr, arr])
    assert got[0] is got[1] and got[2] is got[3]


def test_map_location_callable_gets_each_storage_once():
    calls = []

    def fn(storage, location):
        calls.append((tuple(storage.shape), location))
        return storage * 2

    a = plugrad.arange(6.0)
    got = round_trip({"a": a, "view": a[2:]}, map_location=fn)
    assert calls == [((6,), "cpu")] and got["view"].tolist() == [4.0, 6.0, 8.0, 10.0]


def test_version_1_files_still_load():
    """A file as plugrad wrote it before storages were shared (one contiguous copy per tensor)."""
    data = struct.pack("<4f", 1, 2, 3, 4)
    header = {"format": "plugrad", "version": 1, "data_size": 16, "root": {"$dict": [["w", {"$tensor": 0}]]},
              "tensors": [{"dtype": "float32", "shape": [2, 2], "offset": 0, "nbytes": 16, "device": "cpu",
                           "requires_grad": True, "parameter": True}]}
    raw = json.dumps(header).encode()
    body = struct.pack("<8sIQ", b"PLUGRAD\x00", 1, len(raw)) + raw + data
    got = plugrad.load(io.BytesIO(body + hashlib.sha256(body).digest()))
    assert got["w"].tolist() == [[1.0, 2.0], [3.0, 4.0]] and isinstance(got["w"], plugrad.nn.Parameter)


def test_format_argument_is_checked():
    with pytest.raises(ValueError, match="format"):
        plugrad.save(plugrad.ones(1), io.BytesIO(), format="onnx")
    with pytest.raises(ValueError, match="zip"):
        plugrad.save(plugrad.ones(1), io.BytesIO(), format="torch", _use_new_zipfile_serialization=False)


_DTYPES = [plugrad.float32, plugrad.float64, plugrad.float16, plugrad.bfloat16, plugrad.int64, plugrad.int32,
           plugrad.int16, plugrad.int8, plugrad.uint8, plugrad.bool]


@st.composite
def views_of_one_base(draw):
    """A base tensor of random shape and dtype and random views of it (slices with steps,
    transposes, single rows), as a dict."""
    shape = draw(st.lists(st.integers(1, 5), min_size=1, max_size=3))
    dtype = draw(st.sampled_from(_DTYPES))
    base = (plugrad.randn(*shape) * 50).to(dtype)
    out = {"base": base}
    for i in range(draw(st.integers(0, 4))):
        t = base
        for d in range(t.dim()):
            n = t.shape[d]
            start = draw(st.integers(0, n - 1))
            step = draw(st.integers(1, 3))
            t = t.narrow(d, start, n - start)[(slice(None),) * d + (slice(None, None, step),)]
        if t.dim() > 1 and draw(st.booleans()):
            t = t.transpose(0, t.dim() - 1)
        out[f"view{i}"] = t
    return out


@settings(max_examples=25)
@given(views_of_one_base(), st.sampled_from(["plugrad", "torch"]))
def test_random_views_keep_layout_values_and_sharing(obj, fmt):
    got = round_trip(obj, fmt)
    for k, t in obj.items():
        assert got[k].dtype == t.dtype and got[k].shape == t.shape and got[k].stride() == t.stride()
        assert got[k].storage_offset() == t.storage_offset()
        assert got[k].untyped_storage() is got["base"].untyped_storage()
        assert plugrad.equal(got[k], t)
