"""Nothing plugrad does leaves reference cycles: graphs, saved tensors, closures and
temporary objects are freed by reference counting alone, as PyTorch's are.

With Python's cycle collector off, a training loop must not grow, so every op in the
conformance op database and every ``plugrad.nn`` module (layers, losses, containers) is
run forward and backward with the collector disabled, and ``gc.collect()`` must then
find nothing. Each call runs twice: once to warm up (kernels built, lazy modules
initialized, first-use caches filled), and once measured; the inputs and the module are
made inside the measured call, so a cycle through them counts too.

The collections look only at the objects the calls made (see :func:`cycles_left_by`): a
full collection of a test session costs tens of milliseconds, and there are over 600
calls per device.
"""

from __future__ import annotations

import gc
from collections import Counter

import numpy as np
import plugrad
import pytest
from plugrad_conformance.device import DeviceUnderTest
from plugrad_conformance.opdb import OPS
from plugrad_conformance.opinfo import Arr

import module_cases
from fault_support import docs_page

#: deprecated forms and the nested-tensor note warn here as they do in PyTorch: noise for
#: a cycle check (tests/test_deprecation_warnings.py compares such warnings with PyTorch)
pytestmark = [pytest.mark.filterwarnings("ignore:torch.chain_matmul is deprecated:UserWarning"),
              pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss:UserWarning"),
              pytest.mark.filterwarnings("ignore:`NLLLoss2d` has been deprecated:FutureWarning"),
              pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning")]

#: the dtype an op's sample is made in: the first the op and the device share
DTYPES = ("float32", "float64", "int64", "bool", "int32", "uint8", "int16", "int8", "float16")
#: seeds tried for an op's sample: the first whose call runs is measured
SEEDS = (0, 1, 2)
#: in-place forms whose op's sample fits them (docs/reliability.md quotes it)
IN_PLACE_FITTING = 102


def _kind(obj) -> str:
    name = type(obj).__name__
    qualname = getattr(obj, "__qualname__", None)
    return f"{name} {qualname}" if name in ("function", "method") and qualname else name


def cycles_left_by(step) -> Counter:
    """What the cycle collector finds after ``step()`` ran with it off (after a warm-up
    call): the kinds of objects left in reference cycles, by count.

    The collector stays off throughout, so every object made since the last collection
    stays in the youngest generation: collecting that generation alone finds the
    warm-up's garbage, then (after ``gc.freeze()`` hid everything older) exactly the
    measured call's."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        step()
        gc.collect(0)
        gc.freeze()
        step()
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect(0)
        return Counter(_kind(o) for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.unfreeze()
        if enabled:
            gc.enable()


def _tensors(result) -> list:
    if isinstance(result, plugrad.Tensor):
        return [result]
    if isinstance(result, (tuple, list)):
        return [t for r in result for t in _tensors(r)]
    return []


def backward_through(result) -> None:
    """Backward from every output that requires grad (a sum of each)."""
    outs = [t for t in _tensors(result) if t.requires_grad]
    if outs:
        plugrad.autograd.backward([o.sum() for o in outs])


# ---- ops ------------------------------------------------------------------------------------------

def _argument(value, dev, dtype, grad, nograd, position):
    """A sample's argument as a tensor (or list of tensors) on ``dev``; ``position`` counts
    the data arrays seen so far (a one-element list, as recursion needs)."""
    if isinstance(value, np.ndarray):
        k = position[0]
        position[0] += 1
        t = dev.tensor(value, dtype)
        return t.requires_grad_() if grad and dtype.is_floating_point and k not in nograd else t
    if isinstance(value, Arr):
        return dev.tensor(value.value, plugrad.dtypes.dtype_from_name(value.dtype))
    if isinstance(value, list):
        return [_argument(v, dev, dtype, grad, nograd, position) for v in value]
    if isinstance(value, tuple) and any(isinstance(v, (np.ndarray, Arr)) for v in value):
        return tuple(_argument(v, dev, dtype, grad, nograd, position) for v in value)
    return value


class OpCall:
    """One op called on one sample, forward and backward, with fresh inputs each time."""

    def __init__(self, op, sample, dev, dtype):
        self.op, self.sample, self.dev, self.dtype = op, sample, dev, dtype

    def __call__(self):
        s, grad, position = self.sample, self.op.differentiable, [0]
        args = [_argument(a, self.dev, self.dtype, grad, s.nograd, position) for a in s.args]
        kwargs = {k: _argument(v, self.dev, self.dtype, grad, s.nograd, position) for k, v in s.kwargs.items()}
        backward_through(self.op.function(*args, **kwargs))


def _op_call(op, dev):
    """A call of ``op`` that runs on ``dev`` (its first sample that does), or the error
    of the last one tried."""
    name = next((d for d in DTYPES if d in op.dtypes and dev.supports(d)), None)
    if name is None:
        return None, "the device supports none of its dtypes"
    dtype = plugrad.dtypes.dtype_from_name(name)
    error = "no sample"
    for seed in SEEDS:
        sample = op.fixed_sample(dtype, "grad", seed)
        if sample is None:
            continue
        call = OpCall(op, sample, dev, dtype)
        try:
            call()
        except Exception as exc:  # noqa: BLE001 - reported below, with the op
            error = f"{type(exc).__name__}: {exc}"
            continue
        return call, None
    return None, error


def checked_ops() -> dict:
    """The database's entries, less the aliases that are the same function as their target."""
    return {key: op for key, op in OPS.items() if op.alias_target is None or op.fn is not op.alias_target.fn}


def test_no_op_leaves_reference_cycles(device):
    """Every op of the database, forward and backward, leaves nothing for the cycle collector."""
    dev = DeviceUnderTest(device)
    left, failed = {}, {}
    for key, op in checked_ops().items():
        call, error = _op_call(op, dev)
        if call is None:
            failed[key] = error
            continue
        found = cycles_left_by(call)
        if found:
            left[key] = dict(found.most_common(5))
    assert not failed, f"ops that could not be called on {device}: {failed}"
    assert not left, f"ops that left reference cycles on {device} (object kinds found): {left}"


class InplaceCall(OpCall):
    """The op's in-place method on (a clone of) the sample's first tensor, then backward."""

    def __init__(self, op, sample, dev, dtype, method):
        super().__init__(op, sample, dev, dtype)
        self.method = method

    def __call__(self):
        s, grad, position = self.sample, self.op.differentiable, [0]
        args = [_argument(a, self.dev, self.dtype, grad, s.nograd, position) for a in s.args]
        kwargs = {k: _argument(v, self.dev, self.dtype, grad, s.nograd, position) for k, v in s.kwargs.items()}
        target = args[0].clone() if args[0].requires_grad else args[0]   # a leaf that requires grad refuses
        backward_through(getattr(target, self.method)(*args[1:], **kwargs))


def test_no_inplace_form_leaves_reference_cycles(device):
    """The in-place forms (``x.add_``...), on the op's first sample that fits them (an
    in-place op cannot change its target's shape): history rebased onto the target,
    versions bumped, views regenerated, and nothing left for the collector."""
    dev = DeviceUnderTest(device)
    left, fitting = {}, 0
    for key, op in checked_ops().items():
        method = op.inplace_name()
        call = _op_call(op, dev)[0] if method else None
        if call is None or not call.sample.args or not isinstance(call.sample.args[0], np.ndarray):
            continue            # no in-place form, or its first argument is no tensor of the sample's
        inplace = InplaceCall(op, call.sample, dev, call.dtype, method)
        try:
            inplace()
        except RuntimeError:
            continue            # a sample whose result does not fit its first argument
        fitting += 1
        found = cycles_left_by(inplace)
        if found:
            left[key] = dict(found.most_common(5))
    assert not left, f"in-place forms that left reference cycles on {device}: {left}"
    assert fitting == IN_PLACE_FITTING, f"{fitting} in-place forms ran: update IN_PLACE_FITTING and the docs"


# ---- nn modules -------------------------------------------------------------------------------------

class ModuleCall:
    """One module built, called in training mode and in eval mode, forward and backward."""

    def __init__(self, name, device):
        self.make, self.inputs = module_cases.MODULES[name]
        self.call = module_cases.CALLS.get(name, lambda m, *xs: m(*xs))
        self.device = device

    def t(self, *shape):
        return plugrad.randn(*shape, device=self.device).requires_grad_()

    def i(self, high, *shape):
        return plugrad.randint(0, high, shape, device=self.device)

    def __call__(self):
        plugrad.manual_seed(0)
        module = self.make(plugrad.nn).to(self.device)
        for training in (True, False):
            module.train(training)
            backward_through(self.call(module, *self.inputs(self.t, self.i)))


def test_every_module_class_has_a_case():
    """A new module class needs an entry in ``module_cases`` to be checked."""
    assert module_cases.uncovered() == []


@pytest.mark.parametrize("name", sorted(module_cases.MODULES))
def test_no_module_leaves_reference_cycles(name, device):
    """Built, called forward and backward, in training and eval mode: nothing is left
    for the cycle collector."""
    assert cycles_left_by(ModuleCall(name, device)) == Counter()


# ---- autograd features ------------------------------------------------------------------------------------

class _Exp(plugrad.autograd.Function):
    """A custom function that saves its output (the case that would make output -> node -> output)."""

    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * y


def _double_backward(x):
    g, = plugrad.autograd.grad((x.sin() * x).sum(), x, create_graph=True)
    g.sum().backward()


def _hooks_and_retained(x):
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g * 2)
    y.grad_fn.register_hook(lambda gi, go: None)
    (y * y).sum().backward()


def _view_changed_in_place(x):
    y = x * 1
    y[1:].mul_(2)
    y.diagonal().add_(1)
    y.sum().backward()


def _anomaly_mode(x):
    with plugrad.autograd.detect_anomaly():
        x.exp().sum().backward()


def _failing_call(x):
    try:
        x.mm(plugrad.ones(7, 7, device=x.device))
    except RuntimeError:
        pass


def _custom_function(x):
    _Exp.apply(x).sum().backward()


FEATURES = {"double backward": _double_backward, "custom Function saving its output": _custom_function,
            "hooks and retain_grad": _hooks_and_retained, "views changed in place": _view_changed_in_place,
            "anomaly mode": _anomaly_mode, "an op that raises": _failing_call}


@pytest.mark.parametrize("feature", sorted(FEATURES))
def test_autograd_features_leave_no_cycles(feature, device):
    def step():
        FEATURES[feature](plugrad.randn(3, 3, device=device).requires_grad_())
    assert cycles_left_by(step) == Counter()


# ---- the reported case ---------------------------------------------------------------------------------

def test_cross_entropy_on_a_slice_leaves_no_cycles(device):
    """Issue 19's reproducer: ten ``cross_entropy`` calls on a slice of the logits (they
    left 230 objects in cycles: the target's ``tensor()`` walk held itself)."""
    x = plugrad.randn(64, 16, device=device)
    y = plugrad.randint(0, 4, (64,), device=device)

    def ten_calls():
        for _ in range(10):
            plugrad.nn.functional.cross_entropy(x[:, :4], y)
            plugrad.nn.functional.nll_loss(x[:, :4].log_softmax(1), y)
    assert cycles_left_by(ten_calls) == Counter()


def test_tensor_from_nested_data_leaves_no_cycles(device):
    """``tensor()`` of nested lists, tuples, 0-d tensors and NumPy scalars."""
    def make():
        plugrad.tensor([[1, 2.5], (np.float32(3), plugrad.tensor(4))], device=device)
        plugrad.tensor([[True], [False]], device=device)
    assert cycles_left_by(make) == Counter()


# ---- optimizers ---------------------------------------------------------------------------------------

def _optimizers() -> list:
    base = plugrad.optim.Optimizer
    return sorted(n for n, v in vars(plugrad.optim).items()
                  if isinstance(v, type) and issubclass(v, base) and v is not base)


class TrainingSteps:
    """A model and its optimizer built, then three steps of training (LBFGS with its closure)."""

    def __init__(self, name, device):
        self.cls, self.device = getattr(plugrad.optim, name), device

    def __call__(self):
        plugrad.manual_seed(0)
        model = plugrad.nn.Linear(4, 3).to(self.device)
        opt = self.cls(model.parameters(), lr=0.01)
        x = plugrad.randn(8, 4, device=self.device)
        y = plugrad.randint(0, 3, (8,), device=self.device)

        def closure():
            opt.zero_grad()
            loss = plugrad.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            return loss
        for _ in range(3):
            opt.step(closure)


@pytest.mark.parametrize("name", _optimizers())
def test_no_optimizer_step_leaves_reference_cycles(name, device):
    assert cycles_left_by(TrainingSteps(name, device)) == Counter()


def test_figures_quoted_in_the_docs():
    page = docs_page()
    assert f"conformance op database ({len(checked_ops())} ops" in page
    assert f"`plugrad.nn` module class ({len(module_cases.MODULES)} classes" in page
    assert f"The {len(module_cases.NOT_CALLED)} classes not called" in page
    assert f"each of the {len(_optimizers())} optimizers" in page
    assert f"the in-place forms of {IN_PLACE_FITTING} of the ops" in page
