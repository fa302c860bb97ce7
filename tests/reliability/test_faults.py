"""Faults injected into plugins, kernels and the OpenCL device: each gives a clear
error and leaves everything else working.

* Broken plugins (failing import, SystemExit at import, failing registration, a
  wrong interface version, a failing factory, a failing first kernel, a failing
  ``device_count``), all installed at once in one fresh interpreter: ``import
  plugrad`` works, each broken device raises a RuntimeError naming the cause, and
  ``cpu`` (and ``opencl``) train as usual.
* Kernel faults in a forward op: for every op below, each of its kernel calls is
  made to fail in turn (``fault_support.armed``). The op raises, its inputs keep
  their values, versions and graphs, and the same op then gives the right result.
* Kernel faults in a backward pass: each kernel call of a backward pass is made to
  fail in turn; every leaf's ``.grad`` is as before the call (None stays None).
* OpenCL: an allocation above CL_DEVICE_MAX_MEM_ALLOC_SIZE and a program that fails
  to build, in the middle of training; the device keeps working.
* cpu: an allocation beyond the memory the process may have, in the middle of
  training (in a fresh interpreter whose address space is capped): OutOfMemoryError,
  and training goes on from unchanged parameters.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from fault_support import InjectedFault, armed, count, docs_page, faulty_backend, make_distribution, run_python

import plugrad
import plugrad.nn as nn
import plugrad.nn.functional as F

DEV = "faulty"


@pytest.fixture(autouse=True)
def _faulty_device():
    faulty_backend()


def on(values, dtype=plugrad.float32, requires_grad=False):
    t = plugrad.tensor(values, dtype=dtype).to(DEV)
    return t.requires_grad_() if requires_grad else t


def rand(*shape, requires_grad=False, seed=0):
    data = np.random.default_rng(seed + sum(shape)).standard_normal(shape).astype(np.float32)
    return on(data.tolist(), requires_grad=requires_grad)


def raw(t):
    return np.array(t.detach().to("cpu").tolist())


def state(t):
    """What a failed op must not change about an input."""
    return raw(t).tobytes(), t.dtype, tuple(t.shape), t._version, t.grad_fn, t.grad


# ---- broken plugins ----------------------------------------------------------------------------

BROKEN_PLUGINS = {
    "plugrad_fault_import": "raise ImportError('the driver library libfoo.so is missing')",
    "plugrad_fault_exit": "raise SystemExit('the plugin called sys.exit at import')",
    "plugrad_fault_register": """
        from plugrad.extend import hookimpl

        @hookimpl
        def plugrad_register_backends():
            raise ValueError('registration exploded')
    """,
    "plugrad_fault_version": """
        from plugrad.extend import BackendSpec, hookimpl

        @hookimpl
        def plugrad_register_backends():
            return [BackendSpec(device_type='fault_version', interface_version='0.1', factory=lambda i: None)]
    """,
    "plugrad_fault_factory": """
        from plugrad.extend import BackendSpec, KERNEL_INTERFACE_VERSION, hookimpl

        def factory(index):
            raise OSError('no device memory')

        @hookimpl
        def plugrad_register_backends():
            return [BackendSpec(device_type='fault_factory', interface_version=KERNEL_INTERFACE_VERSION,
                                factory=factory)]
    """,
    "plugrad_fault_first_use": """
        from plugrad.extend import BackendSpec, KERNEL_INTERFACE_VERSION, hookimpl
        from plugrad_cpu.backend import NumpyBackend

        class FirstUseFails(NumpyBackend):
            started = False

            def empty(self, shape, dtype):
                if not self.started:
                    self.started = True
                    raise RuntimeError('fault_first_use: the driver lost the device on first use')
                return super().empty(shape, dtype)

        @hookimpl
        def plugrad_register_backends():
            return [BackendSpec(device_type='fault_first_use', interface_version=KERNEL_INTERFACE_VERSION,
                                factory=lambda i: FirstUseFails(), indexed=False)]
    """,
    "plugrad_fault_count": """
        from plugrad.extend import BackendSpec, KERNEL_INTERFACE_VERSION, hookimpl

        def device_count():
            raise RuntimeError('the driver cannot enumerate devices')

        @hookimpl
        def plugrad_register_backends():
            return [BackendSpec(device_type='fault_count', interface_version=KERNEL_INTERFACE_VERSION,
                                factory=lambda i: None, device_count=device_count)]
    """,
}

PLUGIN_PROGRAM = """
import json, warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import plugrad
import plugrad.nn as nn
from plugrad.plugins import plugin_records

def attempt(device):
    try:
        plugrad.ones(3, device=device)
        return "ok"
    except RuntimeError as e:
        return f"{type(e).__name__}: {e}"

def train(device):
    plugrad.manual_seed(0)
    model = nn.Linear(4, 2).to(device)
    opt = plugrad.optim.SGD(model.parameters(), lr=0.1)
    x = plugrad.arange(8.0).reshape(2, 4).to(device)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses

report = {
    "warning": " ".join(str(w.message) for w in caught),
    "records": {r.name: r.status for r in plugin_records()},
    "errors": {d: attempt(d) for d in ("fault_import", "fault_exit", "fault_register", "fault_version",
                                       "fault_factory", "fault_first_use", "fault_count")},
    "second_use": attempt("fault_first_use"),
    "count_available": plugrad.fault_count.is_available(),
    "devices": {d: train(d) for d in ("cpu", "opencl")
                if getattr(plugrad, d, None) and getattr(plugrad, d).is_available()},
}
print(json.dumps(report))
"""


def test_every_broken_plugin_at_once_leaves_the_working_devices_working(tmp_path):
    for name, source in BROKEN_PLUGINS.items():
        make_distribution(tmp_path, name, source, entry_name=name.removeprefix("plugrad_"))
    proc = run_python(PLUGIN_PROGRAM, tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.splitlines()[-1])
    records = report["records"]
    for name, status in [("fault_import", "failed"), ("fault_exit", "failed"), ("fault_register", "failed"),
                         ("fault_version", "refused")]:
        assert records[name] == status
    for name in ("fault_factory", "fault_first_use", "fault_count"):
        assert records[name] == "loaded"
    assert report["warning"] == ""        # plugins load lazily: importing plugrad touched none of them
    errors = report["errors"]
    # a failed or refused plugin's device is unavailable (a RuntimeError: `attempt` catches only those), and
    # the error gives that plugin's reason
    for device, reason in [("fault_import", "libfoo.so is missing"), ("fault_exit", "sys.exit at import"),
                           ("fault_register", "registration exploded"), ("fault_version", "interface 0.1")]:
        assert errors[device].startswith(f"DeviceTypeUnavailable: device type '{device}' is unavailable"), device
        assert reason in errors[device], device
    assert "major versions must match" in errors["fault_version"]
    assert "device 'fault_factory:0' failed to start: OSError: no device memory" in errors["fault_factory"]
    assert "lost the device on first use" in errors["fault_first_use"]
    assert report["second_use"] == "ok"              # a transient first-use failure leaves no broken state
    assert report["count_available"] is False
    assert "device 'fault_count:0' is not usable: counting the 'fault_count' devices failed: RuntimeError: " \
           "the driver cannot enumerate devices" in errors["fault_count"]
    expected = _reference_losses()
    assert set(report["devices"]) >= {"cpu"}
    for device, losses in report["devices"].items():
        np.testing.assert_allclose(losses, expected, rtol=1e-5, err_msg=device)


def _reference_losses():
    """The three losses of PLUGIN_PROGRAM's ``train``, computed with NumPy from the same
    initial weights."""
    plugrad.manual_seed(0)
    model = nn.Linear(4, 2)
    w = np.array(model.weight.tolist(), np.float64)
    b = np.array(model.bias.tolist(), np.float64)
    x = np.arange(8.0).reshape(2, 4)
    losses = []
    for _ in range(3):
        y = x @ w.T + b
        losses.append(float((y ** 2).mean()))
        g = 2 * y / y.size
        w, b = w - 0.1 * (g.T @ x), b - 0.1 * g.sum(0)
    return losses


# ---- kernel faults in forward ops -----------------------------------------------------------------

def _conv_inputs():
    return rand(2, 3, 5, 5, requires_grad=True), rand(4, 3, 3, 3, requires_grad=True, seed=1), rand(4, seed=2)


#: name -> (inputs builder, op). Inputs live on the faulty device; some require grad.
FORWARD_OPS = {
    "add (broadcast)": (lambda: (rand(3, 4, requires_grad=True), rand(4, seed=1)), lambda a, b: a + b),
    "mul (int * float promotion)": (lambda: (on([[1, 2], [3, 4]], plugrad.int64), rand(2, 2, requires_grad=True)),
                                    lambda a, b: a * b),
    "matmul": (lambda: (rand(3, 5, requires_grad=True), rand(5, 2, seed=1)), lambda a, b: a @ b),
    "sum over a dim": (lambda: (rand(3, 4, requires_grad=True),), lambda a: a.sum(1)),
    "var": (lambda: (rand(4, 5, requires_grad=True),), lambda a: a.var(0)),
    "softmax": (lambda: (rand(3, 4, requires_grad=True),), lambda a: a.softmax(-1)),
    "cross_entropy": (lambda: (rand(4, 3, requires_grad=True), on([0, 2, 1, 2], plugrad.int64)),
                      lambda x, t: F.cross_entropy(x, t)),
    "linear + relu": (lambda: (rand(2, 3, requires_grad=True), rand(4, 3, requires_grad=True, seed=1), rand(4)),
                      lambda x, w, b: F.relu(F.linear(x, w, b))),
    "conv2d": (_conv_inputs, lambda x, w, b: F.conv2d(x, w, b, padding=1)),
    "index with a tensor": (lambda: (rand(5, 3, requires_grad=True), on([4, 0, 4], plugrad.int64)),
                            lambda x, i: x[i]),
    "cat": (lambda: (rand(2, 3, requires_grad=True), rand(1, 3, seed=1)), lambda a, b: plugrad.cat([a, b])),
    "where": (lambda: (rand(3, 3, requires_grad=True), rand(3, 3, seed=1)), lambda a, b: plugrad.where(a > b, a, b)),
    "cumsum": (lambda: (rand(6, requires_grad=True),), lambda a: a.cumsum(0)),
    "to float64": (lambda: (rand(3, requires_grad=True),), lambda a: a.double()),
    "in-place add_ (broadcast)": (lambda: (rand(3, 4), rand(4, seed=1)), lambda a, b: a.clone().add_(b)),
    "in-place mul_ of a view": (lambda: (rand(4, 4),), lambda a: a.clone()[1:3].mul_(2.5)),
}


def _forward_sweep(name):
    """Fail each kernel call of one op in turn; return how many faults were injected."""
    make, op = FORWARD_OPS[name]
    inputs = make()
    expected = op(*inputs)
    want = raw(expected)
    calls = count(lambda: op(*inputs))
    assert calls > 0
    for n in range(1, calls + 1):
        before = [state(t) for t in inputs]
        with armed(n), pytest.raises(InjectedFault, match="kernel call"):
            op(*inputs)
        assert [state(t) for t in inputs] == before, f"{name}: fault {n} of {calls} changed an input"
        again = op(*inputs)
        assert np.array_equal(raw(again), want, equal_nan=True), f"{name}: wrong result after fault {n}"
        assert again.dtype == expected.dtype and again.shape == expected.shape
        assert (again.grad_fn is None) == (expected.grad_fn is None)
    if expected.requires_grad:   # the graph built after the faults is whole
        out = op(*inputs)
        out.float().sum().backward()
        for t in inputs:
            assert not t.requires_grad or t.grad is not None
    return calls


@pytest.mark.parametrize("name", list(FORWARD_OPS))
def test_a_kernel_fault_in_a_forward_op_leaves_its_inputs_and_later_ops_intact(name):
    _forward_sweep(name)


def test_forward_fault_figures_quoted_in_the_docs():
    total = sum(_forward_sweep(name) for name in FORWARD_OPS)
    page = docs_page()
    m = re.search(r"(\d+) kernel faults injected into the forward pass of (\d+) ops", page)
    assert m, "docs/reliability.md no longer quotes the forward fault figures"
    assert (int(m.group(1)), int(m.group(2))) == (total, len(FORWARD_OPS))


# ---- kernel faults in backward passes ---------------------------------------------------------------

class Net(nn.Module):
    """A two-layer net with a leaf used twice, a broadcast bias and a hooked leaf."""

    def __init__(self):
        super().__init__()
        plugrad.manual_seed(1)
        self.fc1 = nn.Linear(4, 5)
        self.fc2 = nn.Linear(5, 3)
        self.scale = nn.Parameter(plugrad.tensor([0.5]))

    def forward(self, x):
        h = F.relu(self.fc1(x)) * self.scale
        return self.fc2(h) + self.scale * h.sum(1, keepdim=True)


def _backward_case():
    model = Net().to(DEV)
    x = rand(6, 4, seed=3)
    target = on([0, 1, 2, 1, 0, 2], plugrad.int64)
    model.fc1.weight.register_hook(lambda g: g * 2)     # a leaf hook runs in the pass, before any leaf changes
    with plugrad.no_grad():                         # some leaves start with a gradient, others with None
        model.fc1.weight.grad = plugrad.full_like(model.fc1.weight, 0.25)
        model.scale.grad = plugrad.full_like(model.scale, -1.0)

    def loss():
        return F.cross_entropy(model(x), target)
    return model, loss


def _grads(model):
    return {n: None if p.grad is None else raw(p.grad).tobytes() for n, p in model.named_parameters()}


def _expected_grads():
    model, loss = _backward_case()
    loss().backward()
    return _grads(model)


def _backward_sweep():
    model, loss = _backward_case()
    start = _grads(model)
    expected = _expected_grads()
    total = count(lambda: loss().backward(retain_graph=True)) - count(loss)
    _reset(model, start)
    assert _grads(model) == start
    # the pass ends with one in-place addition per leaf that already had a gradient (the commit)
    commit = sum(count(lambda p=p: p.grad.clone().add_(p.grad)) - count(lambda p=p: p.grad.clone())
                 for p in model.parameters() if p.grad is not None)
    for n in range(1, total + 1):
        out = loss()
        with armed(n), pytest.raises(InjectedFault):
            out.backward()
        now = _grads(model)
        if n <= total - commit:
            assert now == start, f"backward fault {n} of {total} changed a leaf's .grad"
        else:   # a fault in the commit's in-place additions: no leaf half-updated, None leaves untouched
            for key, value in now.items():
                assert value in (start[key], expected[key]), key
                assert start[key] is not None or value is None, key
            _reset(model, start)
    loss().backward()
    assert _grads(model) == expected
    return total


def _reset(model, start):
    with plugrad.no_grad():
        for name, p in model.named_parameters():
            if start[name] is None:
                p.grad = None
            else:
                p.grad = plugrad.tensor(np.frombuffer(start[name]).reshape(p.shape).tolist()).to(DEV)


def test_a_kernel_fault_anywhere_in_backward_leaves_every_leaf_grad_as_it_was():
    total = _backward_sweep()
    m = re.search(r"(\d+) kernel faults injected into a backward pass", docs_page())
    assert m and int(m.group(1)) == total, "docs/reliability.md must quote the backward fault figure"


def test_a_failed_backward_with_retain_graph_can_run_again():
    model, loss = _backward_case()
    expected = _expected_grads()
    start = _grads(model)
    out = loss()
    with armed(7), pytest.raises(InjectedFault):
        out.backward(retain_graph=True)
    assert _grads(model) == start
    out.backward()
    assert _grads(model) == expected


def test_a_raising_hook_in_backward_leaves_every_leaf_grad_as_it_was():
    model, loss = _backward_case()
    start = _grads(model)

    def explode(g):
        raise ValueError("hook failed")
    model.fc2.bias.register_hook(explode)
    with pytest.raises(ValueError, match="hook failed"):
        loss().backward()
    assert _grads(model) == start


# ---- OpenCL: allocation beyond the device's limit, a program that fails to build ----------------------

@pytest.fixture
def ocl():
    if not (getattr(plugrad, "opencl", None) and plugrad.opencl.is_available()):
        pytest.skip("the opencl device is not available here")
    from plugrad.plugins import backend_for
    return backend_for(plugrad.device("opencl"))


def _ocl_model():
    plugrad.manual_seed(2)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 2)).to("opencl")
    x = plugrad.randn(5, 6).to("opencl")
    return model, x


def _params(model):
    return [raw(p).tobytes() for p in model.parameters()]


def test_opencl_allocation_beyond_the_limit_mid_training(ocl):
    model, x = _ocl_model()
    opt = plugrad.optim.SGD(model.parameters(), lr=0.05)
    model(x).pow(2).sum().backward()
    opt.step()
    params, grads = _params(model), [raw(p.grad).tobytes() for p in model.parameters()]
    limit = ocl.info.max_alloc
    n = limit // 4 + 1
    with pytest.raises(RuntimeError) as info:
        model(x).sum() + plugrad.zeros(n, device="opencl").sum()
    message = str(info.value)
    assert f"cannot allocate {(n * 4 + 7) & ~7} bytes" in message and f"at most {limit} bytes" in message
    assert "opencl:0" in message
    assert _params(model) == params and [raw(p.grad).tobytes() for p in model.parameters()] == grads
    cpu_model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 2))
    cpu_model.load_state_dict({k: v.to("cpu") for k, v in model.state_dict().items()})
    np.testing.assert_allclose(raw(model(x)), raw(cpu_model(x.to("cpu"))), rtol=1e-5, atol=1e-6)


def test_opencl_build_error_in_backward_leaves_grads_and_device_intact(ocl, monkeypatch):
    from plugrad_opencl.errors import KernelBuildError
    from plugrad_opencl.runtime import Library
    model, x = _ocl_model()
    out = model(x).pow(2).sum()
    start = [None if p.grad is None else raw(p.grad).tobytes() for p in model.parameters()]
    healthy = ocl.library(plugrad.float32)
    broken = Library(ocl.rt, "float32", healthy.idx, ocl.target)
    broken.source = broken.source.replace("#define RUN", "#error injected build failure\n#define RUN", 1)
    monkeypatch.setitem(ocl._libs[False], plugrad.float32, broken)
    with pytest.raises(KernelBuildError) as info:
        out.backward(retain_graph=True)
    assert isinstance(info.value, RuntimeError)
    assert "injected build failure" in info.value.build_log and "float32 kernels" in str(info.value)
    assert [None if p.grad is None else raw(p.grad).tobytes() for p in model.parameters()] == start
    monkeypatch.undo()
    out.backward()
    cpu_model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 2))
    cpu_model.load_state_dict({k: v.to("cpu") for k, v in model.state_dict().items()})
    cpu_model(x.to("cpu")).pow(2).sum().backward()
    for p, q in zip(model.parameters(), cpu_model.parameters()):
        np.testing.assert_allclose(raw(p.grad), raw(q.grad), rtol=1e-4, atol=1e-5)


# ---- cpu: an allocation beyond the process's memory ---------------------------------------------------

CPU_OUT_OF_MEMORY = """
import json, resource
import numpy as np
import plugrad, plugrad.nn as nn

def train_step(model, opt, x):
    opt.zero_grad()
    loss = model(x).pow(2).sum()
    loss.backward()
    opt.step()
    return loss.item()

plugrad.manual_seed(3)
model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 2))
opt = plugrad.optim.SGD(model.parameters(), lr=0.05)
x = plugrad.randn(5, 6)
train_step(model, opt, x)
with open("/proc/self/statm") as f:
    used = int(f.read().split()[0]) * resource.getpagesize()
cap = used + 512 * 2 ** 20
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
before = [p.detach().numpy().copy() for p in model.parameters()]
out = {}
for what, make in (("zeros", lambda: plugrad.zeros(2 ** 31, 2)),
                   ("ones", lambda: plugrad.ones(2 ** 30)),
                   ("an op's result", lambda: model(x).sum() + plugrad.zeros(2 ** 31).sum()),
                   ("a broadcast made contiguous", lambda: x[:, :1].expand(5, 2 ** 31).contiguous())):
    try:
        make()
        out[what] = "allocated"
    except plugrad.OutOfMemoryError as exc:
        out[what] = "OutOfMemoryError: " + str(exc)
    except BaseException as exc:
        out[what] = type(exc).__module__ + "." + type(exc).__name__ + ": " + str(exc)
out["unchanged"] = all(np.array_equal(b, p.detach().numpy()) for b, p in zip(before, model.parameters()))
out["losses"] = [train_step(model, opt, x) for _ in range(3)]
print(json.dumps(out))
"""


@pytest.mark.parametrize("cache_mb", ["0", "1024"], ids=["numpy-allocator", "buffer-cache"])
def test_cpu_allocation_beyond_memory_mid_training(cache_mb):
    proc = run_python(CPU_OUT_OF_MEMORY, env={"PLUGRAD_CPU_CACHE_MB": cache_mb})
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.splitlines()[-1])
    losses = out.pop("losses")
    assert out.pop("unchanged") is True
    for what, outcome in out.items():
        assert outcome.startswith("OutOfMemoryError: cpu: cannot allocate "), (what, outcome)
        assert "not enough memory" in outcome, (what, outcome)
    assert issubclass(plugrad.OutOfMemoryError, RuntimeError)
    assert losses == sorted(losses, reverse=True) and len(set(losses)) == 3, \
        f"training did not go on after the failed allocations: {losses}"
