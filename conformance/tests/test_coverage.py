"""Every public op has an entry in the op database, and the coverage check fails
as soon as one does not."""

import importlib
import pkgutil

import plugrad
import plugrad.ops

from plugrad_conformance import coverage
from plugrad_conformance.opdb import OPS, build
from plugrad_conformance.runner import enumerate_cases
from plugrad_conformance.device import DeviceUnderTest


def test_every_public_op_has_an_entry():
    assert coverage.missing_entries(OPS) == []


def test_every_module_of_plugrad_ops_is_classified():
    found = {f"plugrad.ops.{m.name}" for m in pkgutil.iter_modules(plugrad.ops.__path__)}
    unclassified = found - set(coverage.OP_MODULES) - coverage.NOT_OP_MODULES
    assert not unclassified, f"add these modules to OP_MODULES (or NOT_OP_MODULES): {sorted(unclassified)}"


def test_a_new_public_op_without_an_entry_fails_the_check(monkeypatch):
    module = importlib.import_module("plugrad.ops.elementwise")

    def cathetus(input, other):
        return (input * input + other * other).sqrt()
    monkeypatch.setattr(module, "cathetus", cathetus, raising=False)
    monkeypatch.setattr(module, "__all__", list(module.__all__) + ["cathetus"])
    assert coverage.missing_entries(OPS) == ["plugrad.ops.elementwise.cathetus"]


def test_a_new_alias_of_an_existing_op_is_covered(monkeypatch):
    module = importlib.import_module("plugrad.ops.elementwise")
    monkeypatch.setattr(module, "__all__", list(module.__all__) + ["mul_again"])
    monkeypatch.setattr(module, "mul_again", module.mul, raising=False)
    assert coverage.missing_entries(OPS) == []


def test_non_ops_and_aliases_name_real_public_names():
    modules = coverage.op_modules()
    for qualified in coverage.NON_OPS:
        mod, _, name = qualified.rpartition(".")
        if mod in modules:
            assert name in modules[mod].__all__, f"stale NON_OPS entry {qualified}"
    for mod, aliases in coverage.ALIASES.items():
        for alias, target in aliases.items():
            assert alias in modules[mod].__all__ and target in modules[mod].__all__, (mod, alias, target)


def unwrapped(fn):
    return getattr(fn, "__wrapped__", fn)


def test_entries_resolve_to_their_module_functions():
    modules = coverage.op_modules()
    for key, op in build().items():
        # the entry holds the public form, which may wrap the module's function (plugrad.ops.guard)
        assert unwrapped(op.fn) is unwrapped(getattr(modules[op.family], op.name)), key
        if op.alias_target is not None:
            assert op.alias_target.family == op.family


def test_every_entry_has_samples_for_every_dtype_it_declares():
    import plugrad_conformance.opinfo as oi
    for key, op in OPS.items():
        for name in op.dtypes:
            d = plugrad.dtypes.dtype_from_name(name)
            for purpose in ("forward",) + (("grad",) if op.differentiable and name == "float64" else ()):
                s = op.fixed_sample(d, purpose)
                assert isinstance(s, oi.Sample), (key, name, purpose)


def test_cases_cover_every_entry_on_cpu():
    cases = enumerate_cases(DeviceUnderTest("cpu"))
    assert {c.op for c in cases if c.check != "random_stream"} == set(OPS)
    assert not [c for c in cases if c.skip]
