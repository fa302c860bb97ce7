"""plugrad.amp / plugrad.cuda.amp (autocast, GradScaler), plugrad.cuda and the
process-wide settings (float32 matmul precision, thread counts) against PyTorch's
CPU-only build: same results, warnings, exceptions and state dicts."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import plugrad

torch = pytest.importorskip("torch")


def _messages(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn()
    return result, [(w.category, str(w.message)) for w in caught]


def _matmul(lib):
    a = lib.tensor(np.arange(6.0).reshape(2, 3), dtype=lib.float32)
    return (a @ a.T + 1).tolist()


@pytest.mark.parametrize("args, kwargs", [(("cpu",), {"enabled": False}), (("cuda",), {}),
                                          (("cuda",), {"dtype": "float16"}), (("cpu",), {"dtype": "float32"}),
                                          (("cpu",), {"dtype": "float64", "enabled": False}),
                                          (("cuda",), {"enabled": False, "cache_enabled": False})])
def test_autocast_that_pytorch_disables_is_an_exact_no_op(args, kwargs):
    def run(lib):
        kw = {k: getattr(lib, v) if k == "dtype" else v for k, v in kwargs.items()}

        def body():
            with lib.autocast(*args, **kw):
                inside = (_matmul(lib), lib.is_autocast_enabled(), lib.is_autocast_enabled(args[0]),
                          lib.is_autocast_cache_enabled())
            return inside, lib.is_autocast_cache_enabled()
        return _messages(body)
    ours, theirs = run(plugrad), run(torch)
    assert ours == theirs
    assert ours[0][0][0] == _matmul(plugrad)


def test_autocast_settings_match_pytorch():
    for lib in (plugrad, torch):
        lib.set_autocast_cache_enabled(False)
        assert not lib.is_autocast_cache_enabled()
        lib.set_autocast_cache_enabled(True)
        assert lib.clear_autocast_cache() is None
        lib.set_autocast_enabled("cpu", False)
        lib.set_autocast_enabled(False)
        assert not lib.is_autocast_enabled("cpu") and not lib.is_autocast_enabled()
    for args in [("opencl", False), ("cpu", 1)]:
        with pytest.raises(Exception) as theirs:
            torch.set_autocast_enabled(*args)
        with pytest.raises(type(theirs.value)) as ours:
            plugrad.set_autocast_enabled(*args)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(RuntimeError, match="not supported by plugrad"):
        plugrad.set_autocast_enabled("cpu", True)


def test_autocast_as_decorator_and_amp_alias():
    assert plugrad.amp.autocast is plugrad.autocast

    @plugrad.amp.autocast("cpu", enabled=False)
    def f(x):
        return x * 2
    assert f(plugrad.tensor(3.0)).item() == 6.0
    assert f.__name__ == "f"
    with pytest.warns(UserWarning, match="Disabling autocast"):
        g = plugrad.autocast("cuda")(lambda: 5)
    assert g() == 5


@pytest.mark.parametrize("dtype", ["float16", None])
def test_enabled_cpu_autocast_says_it_is_not_supported(dtype):
    kwargs = {} if dtype is None else {"dtype": getattr(plugrad, dtype)}
    region = plugrad.autocast("cpu", **kwargs)
    with pytest.raises(RuntimeError, match="not supported by plugrad.*enabled=False"):
        with region:
            pass

    @plugrad.autocast("cpu", **kwargs)
    def f():
        return 1
    with pytest.raises(RuntimeError, match="not supported by plugrad"):
        f()


@pytest.mark.parametrize("args, kwargs", [((3,), {}), ((None,), {"dtype": "x"})])
def test_autocast_argument_errors_match_pytorch(args, kwargs):
    with pytest.raises(Exception) as theirs:
        torch.autocast(*args, **kwargs)
    with pytest.raises(type(theirs.value)) as ours:
        plugrad.autocast(*args, **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_autocast_queries_match_pytorch():
    for name, args in [("is_autocast_enabled", ()), ("is_autocast_enabled", ("cpu",)),
                       ("is_autocast_enabled", ("cuda",)), ("is_autocast_cache_enabled", ())]:
        assert getattr(plugrad, name)(*args) == getattr(torch, name)(*args)
    for device_type in ("cpu", "cuda", "opencl"):
        assert plugrad.amp.is_autocast_available(device_type) == torch.amp.is_autocast_available(device_type)
    with pytest.raises(RuntimeError, match="unsupported autocast device_type 'opencl'"):
        plugrad.autocast("opencl")


def test_custom_fwd_bwd_run_the_function():
    class Double(plugrad.autograd.Function):
        @staticmethod
        @plugrad.amp.custom_fwd(device_type="cpu", cast_inputs=plugrad.float32)
        def forward(ctx, x):
            return x * 2

        @staticmethod
        @plugrad.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            return g * 2
    x = plugrad.tensor([1.0, 2.0], requires_grad=True)
    Double.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    with pytest.raises(ValueError, match="device_type"):
        plugrad.amp.custom_fwd(lambda: 0, device_type=1)


# ---- GradScaler ----------------------------------------------------------------------

def test_disabled_grad_scaler_is_an_exact_pass_through():
    w = plugrad.tensor([1.0, -2.0], requires_grad=True)
    opt = plugrad.optim.SGD([w], lr=0.1)
    for scaler in (plugrad.amp.GradScaler("cpu", enabled=False), plugrad.GradScaler(enabled=False)):
        loss = (w * w).sum()
        assert scaler.scale(loss) is loss
        outs = [loss, (loss,)]
        assert scaler.scale(outs) is outs
        loss.backward()
        scaler.unscale_(opt)
        before = w.grad.tolist()
        calls = []
        assert scaler.step(opt, closure=lambda calls=calls: calls.append(1) or 7.0) == 7.0
        assert calls == [1] and w.grad.tolist() == before
        assert scaler.update() is None and scaler.update(123.0) is None
        assert scaler.state_dict() == {} and scaler.get_scale() == 1.0 and not scaler.is_enabled()
        scaler.load_state_dict({"anything": 1})
        opt.zero_grad()


@pytest.mark.parametrize("make", ["amp_cuda", "cuda_amp", "top_level"])
def test_cuda_grad_scaler_disables_itself_like_pytorch_without_cuda(make):
    def build(lib):
        if make == "amp_cuda":
            return lib.amp.GradScaler("cuda", init_scale=1024.0)
        if make == "cuda_amp":
            return lib.cuda.amp.GradScaler(init_scale=1024.0)
        return lib.GradScaler()
    (ours, ours_warnings), (theirs, their_warnings) = _messages(lambda: build(plugrad)), _messages(lambda: build(torch))
    assert [w[0] for w in ours_warnings] == [w[0] for w in their_warnings]
    assert [w[1] for w in ours_warnings] == [w[1] for w in their_warnings]
    assert ours.is_enabled() == theirs.is_enabled() is False
    assert ours.state_dict() == theirs.state_dict() == {}
    assert ours.get_scale() == theirs.get_scale()


def _scaled_training(lib, grad_dtype_name="float64", steps=14, bad=(2, 9), unscale=False, interval=3):
    w = lib.tensor([0.5, -1.5, 2.0], dtype=getattr(lib, grad_dtype_name), requires_grad=True)
    opt = lib.optim.SGD([w], lr=0.01, momentum=0.9)
    scaler = lib.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_factor=4.0, backoff_factor=0.25,
                                growth_interval=interval)
    record = []
    for i in range(steps):
        opt.zero_grad()
        coeff = lib.tensor([3.0, -0.25, 1.5], dtype=w.dtype)
        loss = (w * coeff).sum() * {bad[0]: float("inf"), bad[1]: float("nan")}.get(i, 1.0)
        scaler.scale(loss).backward()
        if unscale:
            scaler.unscale_(opt)
            record.append(w.grad.tolist())
        scaler.step(opt)
        scaler.update()
        record.append((w.tolist(), scaler.get_scale(), scaler._get_growth_tracker(), scaler.state_dict()))
    return record, scaler


@pytest.mark.parametrize("unscale", [False, True])
def test_enabled_grad_scaler_matches_pytorch(unscale):
    ours, _ = _scaled_training(plugrad, unscale=unscale)
    theirs, _ = _scaled_training(torch, unscale=unscale)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        if isinstance(b, tuple):   # parameters (SGD's own rounding: 1e-12), then the scaler exactly
            np.testing.assert_allclose(a[0], b[0], rtol=1e-12)
            assert a[1:] == b[1:]
        else:                      # the unscaled gradients, exactly (NaN where PyTorch has NaN)
            np.testing.assert_array_equal(a, b)


def test_grad_scaler_state_dict_round_trip_and_pickle():
    _, scaler = _scaled_training(plugrad, steps=5)
    state = scaler.state_dict()
    fresh = plugrad.amp.GradScaler("cpu")
    fresh.load_state_dict(state)
    assert fresh.state_dict() == state
    clone = pickle.loads(pickle.dumps(scaler))
    assert clone.state_dict() == state
    with pytest.raises(RuntimeError, match="source state dict is empty"):
        plugrad.amp.GradScaler("cpu").load_state_dict({})


def test_grad_scaler_errors_match_pytorch():
    def misuse(lib, what):
        w = lib.tensor([1.0], requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1)
        scaler = lib.amp.GradScaler("cpu")
        if what == "update_first":
            scaler.update()
        scaler.scale((w * 2).sum()).backward()
        if what == "twice_unscale":
            scaler.unscale_(opt)
            scaler.unscale_(opt)
        if what == "unscale_after_step":
            scaler.step(opt)
            scaler.unscale_(opt)
        if what == "step_twice":
            scaler.step(opt)
            scaler.step(opt)
        if what == "closure":
            scaler.step(opt, closure=lambda: 0)
        if what == "bad_factor":
            lib.amp.GradScaler("cpu", growth_factor=0.5)
        if what == "bad_outputs":
            scaler.scale([w, 3])
        if what == "fp16":
            w16 = lib.tensor([1.0], dtype=lib.float16, requires_grad=True)
            opt16 = lib.optim.SGD([w16], lr=0.1)
            w16.grad = lib.tensor([1.0], dtype=lib.float16)
            scaler.unscale_(opt16)
    for what in ["update_first", "twice_unscale", "unscale_after_step", "step_twice", "closure", "bad_factor",
                 "bad_outputs", "fp16"]:
        with pytest.raises(Exception) as theirs:
            misuse(torch, what)
        with pytest.raises(type(theirs.value)) as ours:
            misuse(plugrad, what)
        assert str(ours.value) == str(theirs.value), what


def test_grad_scaler_update_with_new_scale():
    for lib in (plugrad, torch):
        w = lib.tensor([1.0], requires_grad=True)
        scaler = lib.amp.GradScaler("cpu")
        scaler.scale(w.sum())
        scaler.update(8.0)
        assert scaler.get_scale() == 8.0
        scaler.update(lib.tensor(16.0))
        assert scaler.get_scale() == 16.0


def test_grad_scaler_on_every_device(device):
    w = plugrad.tensor([0.5, -1.5], device=device, requires_grad=True)
    opt = plugrad.optim.SGD([w], lr=0.1)
    scaler = plugrad.amp.GradScaler(device, init_scale=256.0, growth_interval=2)
    for i in range(4):
        opt.zero_grad()
        scaler.scale((w ** 2).sum() * (float("inf") if i == 1 else 1.0)).backward()
        scaler.step(opt)
        scaler.update()
    tw = torch.tensor([0.5, -1.5], requires_grad=True)
    topt = torch.optim.SGD([tw], lr=0.1)
    tscaler = torch.amp.GradScaler("cpu", init_scale=256.0, growth_interval=2)
    for i in range(4):
        topt.zero_grad()
        tscaler.scale((tw ** 2).sum() * (float("inf") if i == 1 else 1.0)).backward()
        tscaler.step(topt)
        tscaler.update()
    np.testing.assert_allclose(w.detach().cpu().numpy(), tw.detach().numpy(), rtol=1e-6)
    assert scaler.state_dict() == tscaler.state_dict()


def test_cuda_amp_spellings_warn_like_pytorch():
    def use(lib):
        with lib.cuda.amp.autocast():
            return _matmul(lib)
    (ours, ours_warnings), (theirs, their_warnings) = _messages(lambda: use(plugrad)), _messages(lambda: use(torch))
    assert ours == theirs
    assert [w[1] for w in ours_warnings] == [w[1] for w in their_warnings]
    with pytest.warns(FutureWarning, match="custom_fwd"):
        plugrad.cuda.amp.custom_fwd(lambda ctx, x: x)
    with pytest.warns(FutureWarning, match="custom_bwd"):
        plugrad.cuda.amp.custom_bwd(lambda ctx, g: g)


# ---- plugrad.cuda ----------------------------------------------------------------------

@pytest.mark.parametrize("name, args", [("is_available", ()), ("device_count", ()), ("manual_seed", (3,)),
                                        ("manual_seed_all", (3,)), ("seed", ()), ("seed_all", ()),
                                        ("empty_cache", ()), ("is_initialized", ()), ("memory_allocated", ()),
                                        ("max_memory_allocated", ()), ("memory_reserved", ()),
                                        ("max_memory_reserved", ()), ("is_bf16_supported", ()),
                                        ("synchronize", ()), ("current_device", ()), ("get_device_name", ()),
                                        ("init", ())])
def test_cuda_module_answers_like_a_cpu_only_pytorch(name, args):
    def call(lib):
        try:
            return "ok", getattr(lib.cuda, name)(*args)
        except Exception as exc:
            return type(exc), str(exc)
    assert call(plugrad) == call(torch)


def test_cuda_is_a_module_and_oom_alias():
    import plugrad.cuda as cuda_module
    assert plugrad.cuda is cuda_module
    assert plugrad.cuda.OutOfMemoryError is plugrad.OutOfMemoryError


# ---- precision and threads ------------------------------------------------------------

def test_float32_matmul_precision_and_allow_tf32_stay_consistent():
    saved = plugrad.get_float32_matmul_precision()
    try:
        for lib in (plugrad, torch):
            seen = []
            for p in ("high", "medium", "highest"):
                lib.set_float32_matmul_precision(p)
                seen.append((lib.get_float32_matmul_precision(), lib.backends.cuda.matmul.allow_tf32))
            lib.backends.cuda.matmul.allow_tf32 = True
            seen.append(lib.get_float32_matmul_precision())
            lib.backends.cuda.matmul.allow_tf32 = False
            seen.append(lib.get_float32_matmul_precision())
            _, warned = _messages(lambda lib=lib: lib.set_float32_matmul_precision("fast"))
            seen.append((lib.get_float32_matmul_precision(), [w[0] for w in warned]))
            with pytest.raises(RuntimeError, match="expects a str, but got int"):
                lib.set_float32_matmul_precision(3)
            if lib is plugrad:
                ours = seen
        assert ours == seen
    finally:
        plugrad.set_float32_matmul_precision(saved)
        torch.set_float32_matmul_precision("highest")


def test_thread_settings_validate_like_pytorch():
    saved = plugrad.get_num_threads()
    try:
        plugrad.set_num_threads(1)
        assert plugrad.get_num_threads() == 1
        assert plugrad.get_num_interop_threads() >= 1
        for fname, arg in [("set_num_threads", 0), ("set_num_threads", "a"), ("set_num_threads", -1),
                           ("set_num_interop_threads", 0), ("set_num_interop_threads", 1.5)]:
            with pytest.raises(RuntimeError) as theirs:
                getattr(torch, fname)(arg)
            with pytest.raises(RuntimeError) as ours:
                getattr(plugrad, fname)(arg)
            assert str(ours.value) == str(theirs.value)
    finally:
        plugrad.set_num_threads(saved)


def test_interop_threads_can_be_set_once():
    import subprocess
    import sys
    code = ("import plugrad\nplugrad.set_num_interop_threads(3)\nassert plugrad.get_num_interop_threads() == 3\n"
            "try:\n    plugrad.set_num_interop_threads(2)\nexcept RuntimeError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "cannot set number of interop threads" in out
