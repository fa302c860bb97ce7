"""Plugins are checked when they register, and imported only when their device is asked for.

* Kernel interface versions: a plugin built for a newer minor interface than the
  core's, another major, or no version at all is refused with both versions named; an
  older minor (and the core's own) loads.
* Backends: the object a factory returns must implement every abstract method of
  ``Backend`` and be callable the way the core calls each kernel (``inspect.signature``
  against the interface). A wrong ``binary`` is refused when the device starts, naming
  the kernel and both signatures, instead of a raw ``TypeError`` at the first ``a + a``;
  correct variations (renamed parameters, ``*args``, extra optional parameters) pass.
* Laziness: a plugin that hangs, exits or is slow at import costs ``import plugrad``
  and the ``cpu`` device nothing; its device type is known from its entry-point name
  without importing it.
"""

from __future__ import annotations

import json

import pytest
import torch
from fault_support import make_distribution, run_python

import plugrad
from plugrad.extend import ALL_DTYPES, KERNEL_INTERFACE_VERSION, Backend, BackendSpec, hookimpl
from plugrad.plugins import registry
from plugrad_cpu.backend import NumpyBackend

MAJOR, MINOR = (int(p) for p in KERNEL_INTERFACE_VERSION.split("."))


class _Plugin:
    def __init__(self, device_type: str, factory, version: str = KERNEL_INTERFACE_VERSION):
        self.device_type, self.factory, self.version = device_type, factory, version

    @hookimpl
    def plugrad_register_backends(self):
        return [BackendSpec(device_type=self.device_type, interface_version=self.version, factory=self.factory,
                            indexed=False)]


_counter = iter(range(10**6))


def register(factory, version: str = KERNEL_INTERFACE_VERSION):
    """Register a plugin by hand with a fresh device type: ``(type name, record)``."""
    name = f"validation_{next(_counter)}"
    return name, registry.register_plugin(_Plugin(name, factory, version), name=f"plugin-{name}")


# ---- interface versions --------------------------------------------------------------------------

@pytest.mark.parametrize("version, why", [
    (f"{MAJOR}.{MINOR + 1}", "newer than the"), (f"{MAJOR}.{MINOR + 7}", "newer than the"),
    (f"{MAJOR + 1}.0", "major versions must match"), (f"{MAJOR - 1}.{MINOR}", "major versions must match"),
    ("1", "not a 'MAJOR.MINOR' version"), ("latest", "not a 'MAJOR.MINOR' version"),
])
def test_an_incompatible_interface_version_is_refused(version, why):
    name, record = register(lambda index: NumpyBackend(), version)
    assert record.status == "refused"
    assert why in record.error and version in record.error and KERNEL_INTERFACE_VERSION in record.error
    assert name not in registry.device_types()
    with pytest.raises(RuntimeError, match=f"unknown device type '{name}'"):
        plugrad.ones(1, device=name)


@pytest.mark.parametrize("version", [f"{MAJOR}.0", KERNEL_INTERFACE_VERSION, f" {KERNEL_INTERFACE_VERSION} "])
def test_the_cores_interface_and_older_minors_load(version):
    name, record = register(lambda index: NumpyBackend(), version)
    assert record.status == "loaded", record.error
    assert (plugrad.ones(3, device=name) + 1).tolist() == (torch.ones(3) + 1).tolist()


# ---- backends --------------------------------------------------------------------------------------

class WrongBinary(NumpyBackend):
    def binary(self, op, a, out):                 # forgot b
        raise AssertionError("never called")


class ExtraRequired(NumpyBackend):
    def unary(self, op, x, out, scale):           # a parameter the core never passes
        raise AssertionError("never called")


class WrongOptional(NumpyBackend):
    def conv2d(self, x, weight, out):             # an optional kernel, overridden wrongly
        raise AssertionError("never called")


class NotCallable(NumpyBackend):
    fill = 3


class BadDtypes(NumpyBackend):
    dtypes = frozenset({"float32"})


class NotABackend:
    """Duck-typed: has the kernels' names, is not a Backend."""

    dtypes = frozenset(ALL_DTYPES)

    def __getattr__(self, name):
        return lambda *args: None


def _abstract_take():
    """A subclass that re-declares ``take`` abstract and clears the ABC check, the way a
    backend built by hand (or by a class decorator) can end up without a kernel."""
    cls = type("NoTake", (NumpyBackend,), {"take": Backend.take})
    cls.__abstractmethods__ = frozenset()
    return cls()


@pytest.mark.parametrize("factory, problem", [
    (WrongBinary, "'binary(op, a, out)' cannot be called as the interface's 'binary(op, a, b, out)' "
                  "(too many positional"),
    (ExtraRequired, "'unary(op, x, out, scale)' cannot be called as the interface's 'unary(op, x, out)' "
                    "(missing a required"),
    (WrongOptional, "'conv2d(x, weight, out)' cannot be called as the interface's 'conv2d("),
    (NotCallable, "'fill' is not callable"),
    (BadDtypes, "'dtypes' must be a collection of plugrad dtypes, but holds 'float32'"),
    (NotABackend, "not a subclass of plugrad.extend.Backend"),
    (_abstract_take, "'take' is not implemented"),
])
def test_a_backend_that_does_not_implement_the_interface_is_refused_when_its_device_starts(factory, problem):
    name, record = register(lambda index: factory())
    assert record.status == "loaded", record.error
    for _ in range(2):                             # the same clear error every time, never a TypeError
        with pytest.raises(RuntimeError) as info:
            plugrad.ones(3, device=name) + plugrad.ones(3, device=name)
        assert type(info.value) is RuntimeError
        assert f"device '{name}' was refused" in str(info.value) and problem in str(info.value)
    assert record.status == "refused" and problem in record.error


class RenamedParameters(NumpyBackend):
    def binary(self, kernel, left, right, result):
        return super().binary(kernel, left, right, result)


class StarArgs(NumpyBackend):
    def unary(self, *args):
        return super().unary(*args)


class ExtraOptional(NumpyBackend):
    def binary(self, op, a, b, out, fast=False):
        return super().binary(op, a, b, out)


@pytest.mark.parametrize("factory", [RenamedParameters, StarArgs, ExtraOptional, NumpyBackend])
def test_backends_callable_the_way_the_core_calls_them_are_accepted(factory):
    name, record = register(lambda index: factory())
    a = plugrad.tensor([1.0, -2.0, 3.0], device=name)
    assert (a + a).neg().tolist() == (lambda t: (t + t).neg())(torch.tensor([1.0, -2.0, 3.0])).tolist()
    assert record.status == "loaded", record.error


# ---- lazy import -----------------------------------------------------------------------------------

SLOW_PLUGINS = {
    "hangs": "import time\ntime.sleep(3600)\n",
    "exits": "import os\nos._exit(7)\n",
    "loops": "while True:\n    pass\n",
}


def test_a_plugin_that_hangs_or_exits_at_import_costs_import_plugrad_and_cpu_nothing(tmp_path):
    for name, source in SLOW_PLUGINS.items():
        make_distribution(tmp_path, f"plugrad_{name}", source, entry_name=name)
    proc = run_python("""
        import json, sys
        import plugrad
        from plugrad.plugins import device_types
        x = plugrad.ones(3, requires_grad=True)
        (x * x).sum().backward()
        print(json.dumps({
            "sum": (plugrad.ones(3) + plugrad.ones(3)).tolist(),
            "grad": x.grad.tolist(),
            "known": [n in device_types() and hasattr(plugrad, n) for n in ("hangs", "exits", "loops")],
            "imported": sorted(m for m in sys.modules if m.startswith("plugrad_hangs")
                               or m.startswith("plugrad_exits") or m.startswith("plugrad_loops")),
        }))
    """, tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.splitlines()[-1])
    x = torch.ones(3, requires_grad=True)
    (x * x).sum().backward()
    assert result == {"sum": (torch.ones(3) + torch.ones(3)).tolist(), "grad": x.grad.tolist(),
                      "known": [True, True, True], "imported": []}


def test_autoload_off_reads_no_entry_point(tmp_path):
    make_distribution(tmp_path, "plugrad_hangs", SLOW_PLUGINS["hangs"], entry_name="hangs")
    proc = run_python("""
        import plugrad
        from plugrad.plugins import device_types, plugin_records
        print(sorted(device_types()), plugin_records(), hasattr(plugrad, "hangs"))
    """, tmp_path, env={"PLUGRAD_AUTOLOAD": "0"}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["[]", "[]", "False"]


def test_a_plugin_registering_a_type_its_entry_point_does_not_name_is_refused(tmp_path):
    make_distribution(tmp_path, "plugrad_misnamed", """
        from plugrad.extend import BackendSpec, KERNEL_INTERFACE_VERSION, hookimpl
        from plugrad_cpu.backend import NumpyBackend

        @hookimpl
        def plugrad_register_backends():
            return [BackendSpec(device_type="elsewhere", interface_version=KERNEL_INTERFACE_VERSION,
                                factory=lambda index: NumpyBackend())]
    """, entry_name="misnamed")
    proc = run_python("""
        import plugrad
        for name in ("misnamed", "elsewhere"):
            try:
                plugrad.ones(1, device=name)
            except RuntimeError as e:
                print(f"{type(e).__name__}: {e}")
    """, tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    misnamed, elsewhere = proc.stdout.splitlines()
    assert misnamed.startswith("DeviceTypeUnavailable: device type 'misnamed' is unavailable")
    assert "its entry point names device type 'misnamed', but plugrad_register_backends returned no " \
           "BackendSpec for it" in misnamed
    assert elsewhere.startswith("DeviceTypeUnavailable: unknown device type 'elsewhere'")
    assert "registers device type 'elsewhere', which its entry point does not name" in elsewhere


def test_plugrad_info_reports_a_plugin_that_hangs_at_import_instead_of_hanging(tmp_path):
    make_distribution(tmp_path, "plugrad_hangs", SLOW_PLUGINS["hangs"], entry_name="hangs")
    proc = run_python("""
        from plugrad.plugins.registry import info_report
        print(info_report(import_timeout=3))
    """, tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = proc.stdout
    assert "hangs: plugrad_hangs 0.1 [loading]" in report
    assert "still importing after 3 s: the plugin hangs or is very slow at import" in report
    assert "cpu: plugrad-cpu" in report and "device type 'cpu'" in report
