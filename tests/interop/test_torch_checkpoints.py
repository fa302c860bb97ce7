"""PyTorch checkpoints cross over both ways, bit for bit, with PyTorch as the oracle.

``torch.save`` files (zip and legacy formats) load into plugrad without PyTorch's
help, and ``plugrad.save(..., format="torch")`` files load in
``torch.load(weights_only=True)``. Every round trip here goes torch -> plugrad ->
torch and compares the raw bytes, dtype, shape, strides, ``requires_grad`` and the
storage sharing of every tensor with what PyTorch saved.
"""

from __future__ import annotations

import io
from collections import OrderedDict

import pytest

import plugrad
import plugrad.nn as pnn
from plugrad.serialization import LoadError

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch_oracle

#: PyTorch dtypes plugrad has
DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64"]


def torch_bytes(obj, **kwargs) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf, **kwargs)
    return buf.getvalue()


def to_torch(obj):
    """``obj`` (plugrad) saved with format="torch" and opened by torch.load(weights_only=True)."""
    buf = io.BytesIO()
    plugrad.save(obj, buf, format="torch")
    buf.seek(0)
    return torch.load(buf, weights_only=True)


def through_plugrad(obj, **kwargs):
    """torch -> plugrad -> torch: ``obj`` saved by torch, loaded by plugrad, saved by plugrad, loaded by torch."""
    loaded = plugrad.load(io.BytesIO(torch_bytes(obj, **kwargs)))
    return to_torch(loaded)


def raw(t):
    return bytes(t.detach().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()) if t.numel() else b""


def assert_same_tensor(got, want):
    assert type(got) is type(want), (type(got), type(want))
    assert got.dtype == want.dtype and got.shape == want.shape and got.stride() == want.stride()
    assert got.storage_offset() == want.storage_offset() and got.requires_grad == want.requires_grad
    assert raw(got) == raw(want)


def assert_same(got, want):
    """Equal structure, with every tensor bit-identical (NaN payloads included)."""
    if isinstance(want, torch.Tensor):
        assert_same_tensor(got, want)
    elif isinstance(want, dict):
        assert type(got) is type(want) and list(got) == list(want)
        for k in want:
            assert_same(got[k], want[k])
    elif isinstance(want, (list, tuple)):
        assert type(got) is type(want) and len(got) == len(want)
        for g, w in zip(got, want):
            assert_same(g, w)
    else:
        assert type(got) is type(want) and (got == want or got != got and want != want), (got, want)


def storage_groups(obj) -> list:
    """Which tensors of a flat dict share a storage, as sorted groups of keys."""
    groups = {}
    for k, t in obj.items():
        ptr = t.untyped_storage().data_ptr() if isinstance(t, torch.Tensor) else id(t.untyped_storage().base)
        groups.setdefault(ptr, []).append(k)
    return sorted(sorted(g) for g in groups.values())


# ---- every nn layer type's state dict ---------------------------------------------------------------

LAYERS = {
    "Linear": ((3, 4), {}), "Bilinear": ((2, 3, 4), {}), "Conv1d": ((2, 4, 3), {}), "Conv2d": ((2, 4, 3), {}),
    "Conv3d": ((2, 4, 2), {}), "ConvTranspose1d": ((2, 4, 3), {}), "ConvTranspose2d": ((2, 4, 3), {}),
    "ConvTranspose3d": ((2, 4, 2), {}), "BatchNorm1d": ((3,), {}), "BatchNorm2d": ((3,), {}),
    "BatchNorm3d": ((3,), {}), "SyncBatchNorm": ((3,), {}),
    "InstanceNorm1d": ((3,), {"affine": True, "track_running_stats": True}),
    "InstanceNorm2d": ((3,), {"affine": True, "track_running_stats": True}),
    "InstanceNorm3d": ((3,), {"affine": True, "track_running_stats": True}),
    "LayerNorm": ((4,), {}), "GroupNorm": ((2, 4), {}), "RMSNorm": ((4,), {}), "Embedding": ((5, 3), {}),
    "EmbeddingBag": ((5, 3), {}), "RNN": ((3, 4), {"num_layers": 2}), "LSTM": ((3, 4), {"bidirectional": True}),
    "GRU": ((3, 4), {}), "RNNCell": ((3, 4), {}), "LSTMCell": ((3, 4), {}), "GRUCell": ((3, 4), {}),
    "MultiheadAttention": ((4, 2), {}), "TransformerEncoderLayer": ((4, 2), {"dim_feedforward": 8}),
    "TransformerDecoderLayer": ((4, 2), {"dim_feedforward": 8}),
    "Transformer": ((), {"d_model": 4, "nhead": 2, "num_encoder_layers": 1, "num_decoder_layers": 1,
                         "dim_feedforward": 8, "batch_first": True}),
    "PReLU": ((3,), {}),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_each_layer_state_dict_round_trips_bit_for_bit(name):
    args, kwargs = LAYERS[name]
    torch.manual_seed(0)
    src = getattr(torch.nn, name)(*args, **kwargs)
    with torch.no_grad():
        for b in src.buffers():           # running statistics that differ from their initial values
            b.add_(3) if b.is_floating_point() else b.add_(7)
    want = src.state_dict()
    loaded = plugrad.load(io.BytesIO(torch_bytes(want)))
    model = getattr(pnn, name)(*args, **kwargs)
    model.load_state_dict(loaded)          # a PyTorch state dict loads straight into the plugrad module
    assert list(model.state_dict()) == list(want)
    assert_same(to_torch(model.state_dict()), OrderedDict((k, v.detach()) for k, v in want.items()))
    assert to_torch(loaded)._metadata == want._metadata       # the module versions torch keeps come back


def test_a_whole_model_round_trips_with_parameters_kept_as_parameters():
    torch.manual_seed(1)
    src = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.Flatten(),
                              torch.nn.Linear(8, 3))
    params = dict(src.named_parameters())
    assert_same(through_plugrad(params), params)


def test_an_optimizer_state_dict_round_trips():
    torch.manual_seed(2)
    model = torch.nn.Linear(3, 2)
    for opt in (torch.optim.Adam(model.parameters(), lr=1e-2, amsgrad=True),
                torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)):
        model(torch.randn(4, 3)).sum().backward()
        opt.step()
        want = opt.state_dict()
        assert_same(through_plugrad(want), want)


def test_nested_containers_with_shared_and_viewed_tensors():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    obj = {"base": base, "row": base[1], "col": base[:, 2], "t": base.t(), "tail": base.view(-1)[5:17],
           "again": base, "expanded": torch.ones(3).expand(4, 3), "empty": base[2:2],
           "nested": [{"deep": (base[3, 1:4], 7, "s", None, 2.5, True, b"bytes")}], "lone": torch.zeros(2, 3)}
    flat = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    got = through_plugrad(obj)
    assert_same(got, obj)
    assert storage_groups({k: got[k] for k in flat}) == storage_groups(flat)
    assert got["again"] is got["base"]
    loaded = plugrad.load(io.BytesIO(torch_bytes(obj)))
    assert storage_groups({k: loaded[k] for k in flat}) == storage_groups(flat)
    loaded["base"][1, 2] = -1.0             # memory is shared within plugrad too
    assert loaded["row"][2].item() == -1.0 and loaded["col"][1].item() == -1.0 and loaded["t"][2, 1].item() == -1.0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_a_bare_tensor_of_every_dtype(dtype, legacy):
    torch.manual_seed(3)
    t = (torch.randn(5, 7) * 300).to(getattr(torch, dtype))
    if t.is_floating_point():
        t[0, 0], t[0, 1], t[0, 2] = float("nan"), float("inf"), -0.0
    for case in (t, t[1:, ::2], t.t(), t[2, 3], t[:0]):
        assert_same(through_plugrad(case, _use_new_zipfile_serialization=not legacy), case)


def test_requires_grad_and_parameters_are_kept():
    obj = {"leaf": torch.randn(3, requires_grad=True), "param": torch.nn.Parameter(torch.randn(2, 2)),
           "frozen": torch.nn.Parameter(torch.randn(2), requires_grad=False)}
    loaded = plugrad.load(io.BytesIO(torch_bytes(obj)))
    assert loaded["leaf"].requires_grad and type(loaded["leaf"]) is plugrad.Tensor
    assert isinstance(loaded["param"], pnn.Parameter) and loaded["param"].requires_grad
    assert isinstance(loaded["frozen"], pnn.Parameter) and not loaded["frozen"].requires_grad
    assert_same(to_torch(loaded), obj)


def test_plain_values_devices_dtypes_and_sizes():
    obj = {"ints": [0, -1, 255, 65536, -2 ** 31, 2 ** 63 - 1, 2 ** 100], "floats": (0.1, float("inf"), -0.0),
           "text": "naïve ✓", "bytes": b"\x00\xff", "none": None, "set": {1, 2}, "complex": 1 + 2j,
           "dtype": torch.bfloat16, "device": torch.device("cpu"), "size": torch.Size([2, 3]),
           "od": OrderedDict(b=1, a=2), "counter_free": {1: "one", (2, 3): "tuple key"}}
    loaded = plugrad.load(io.BytesIO(torch_bytes(obj)))
    assert loaded["dtype"] is plugrad.bfloat16 and loaded["device"] == plugrad.device("cpu")
    assert loaded["size"] == plugrad.Size([2, 3]) and isinstance(loaded["size"], plugrad.Size)
    assert_same(to_torch(loaded), obj)


@pytest.mark.parametrize("protocol", [1, 2, 3, 4, 5])
def test_every_pickle_protocol_torch_writes_loads(protocol):
    obj = {"w": torch.randn(3, 2), "meta": {"epoch": 3, "name": "run"}}
    assert_same(to_torch(plugrad.load(io.BytesIO(torch_bytes(obj, pickle_protocol=protocol)))), obj)


def test_map_location_forms_on_torch_files():
    blob = torch_bytes({"w": torch.arange(4.0)})
    for loc in ("cpu", plugrad.device("cpu"), {"cpu": "cpu"}, lambda storage, loc: storage):
        assert plugrad.load(io.BytesIO(blob), map_location=loc)["w"].tolist() == [0.0, 1.0, 2.0, 3.0]
    with pytest.raises(LoadError, match="map_location"):
        plugrad.load(io.BytesIO(blob), map_location="nodevice")


def test_a_torch_file_loads_onto_every_device(device):
    src = {"w": torch.randn(4, 3), "v": None}
    src["v"] = src["w"][1:]
    loaded = plugrad.load(io.BytesIO(torch_bytes(src)), map_location=device)
    assert loaded["w"].device.type == device and loaded["v"].device.type == device
    assert loaded["v"].untyped_storage() is loaded["w"].untyped_storage()
    assert_same(to_torch(loaded), src)


def test_every_device_saves_for_torch(device):
    t = plugrad.arange(12.0, device=device).reshape(3, 4)
    got = to_torch({"t": t, "view": t[1:, 1:]})
    want = torch.arange(12.0).reshape(3, 4)
    assert_same(got, {"t": want, "view": want[1:, 1:]})
    assert got["view"].untyped_storage().data_ptr() == got["t"].untyped_storage().data_ptr()


def test_dtypes_plugrad_lacks_are_a_clear_load_error():
    for t in (torch.ones(2, dtype=torch.complex64), torch.ones(2, dtype=torch.uint16)):
        with pytest.raises(LoadError, match=str(t.dtype).split(".")[1]):
            plugrad.load(io.BytesIO(torch_bytes(t)))


def test_torch_format_refuses_what_weights_only_loading_refuses():
    np = pytest.importorskip("numpy")
    for obj, why in ((np.ones(2), "NumPy"), (frozenset([1]), "frozenset"), (plugrad.device("pylist"), "no device"),
                     (pnn.Linear(2, 2), "Linear")):
        with pytest.raises(TypeError, match=why):
            plugrad.save(obj, io.BytesIO(), format="torch")


def test_big_endian_and_torchscript_archives_are_refused():
    import zipfile
    good = torch_bytes(torch.ones(2))
    src = zipfile.ZipFile(io.BytesIO(good))
    for drop, replace in (("archive/data.pkl", None), ("archive/byteorder", b"big")):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as z:
            for info in src.infolist():
                if info.filename == drop and replace is None:
                    continue
                z.writestr(info.filename, replace if info.filename == drop else src.read(info))
        with pytest.raises(LoadError, match="data.pkl|byte order"):
            plugrad.load(io.BytesIO(out.getvalue()))
