"""Plugin discovery: entry points, broken plugins, interface versions, the off switch.

Each scenario runs in a fresh interpreter whose ``sys.path`` holds a throw-away
distribution (a ``*.dist-info`` folder with an ``entry_points.txt``), so plugins are
found exactly the way installed ones are.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

import plugrad

CORE_SRC = pathlib.Path(plugrad.__file__).resolve().parent


def make_distribution(root: pathlib.Path, name: str, module_source: str, entry_name: str = None) -> None:
    """Write an importable module plus dist-info metadata declaring it as a plugrad plugin."""
    module = f"{name}_mod"
    (root / f"{module}.py").write_text(textwrap.dedent(module_source))
    info = root / f"{name}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(f"[plugrad]\n{entry_name or name} = {module}\n")


def run_python(code: str, path: pathlib.Path = None, env_extra: dict = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if path is not None:
        env["PYTHONPATH"] = str(path) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env,
                          timeout=120)


def test_plugin_that_fails_to_import_is_reported_when_its_device_is_asked_for(tmp_path):
    """Plugins are imported lazily: a broken one costs ``import plugrad`` nothing (no
    import, no warning), and asking for its device raises the import error."""
    make_distribution(tmp_path, "plugrad_broken", "raise ImportError('the broken plugin cannot import its driver')",
                      entry_name="broken")
    proc = run_python("""
        import json, sys, warnings
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import plugrad
        print(json.dumps({
            "warned": [str(w.message) for w in caught],
            "sum": plugrad.tensor([1, 2, 3]).sum().item(),
            "imported": "plugrad_broken_mod" in sys.modules,
        }))
        try:
            plugrad.zeros(2, device="broken")
        except RuntimeError as e:
            print("ERROR", e)
    """, tmp_path)
    assert proc.returncode == 0, proc.stderr
    first, error = proc.stdout.splitlines()[0], proc.stdout.splitlines()[1]
    assert json.loads(first) == {"warned": [], "sum": 6, "imported": False}
    assert "device type 'broken' is unavailable" in error
    assert "plugrad_broken" in error and "cannot import its driver" in error


def test_info_shows_broken_plugin_with_traceback_and_the_cpu_device(tmp_path):
    make_distribution(tmp_path, "plugrad_broken", "raise ImportError('missing driver library')")
    env = dict(os.environ, PYTHONPATH=str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-W", "ignore", "-m", "plugrad", "info"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert f"plugrad {plugrad.__version__}" in out
    assert f"Python {sys.version.split()[0]}" in out
    assert "plugrad_broken: plugrad_broken 1.2.3 [failed]" in out
    assert "Traceback" in out and "ImportError: missing driver library" in out
    assert "cpu: plugrad-cpu" in out
    assert "device type 'cpu'" in out
    assert "dtypes: bool, uint8, int8, int16, int32, int64, float16, float32, float64" in out


def test_plugin_failing_at_registration_is_recorded(tmp_path):
    make_distribution(tmp_path, "plugrad_badhook", """
        from plugrad.extend import hookimpl

        @hookimpl
        def plugrad_register_backends():
            raise ValueError("registration exploded")
    """)
    proc = run_python("""
        import warnings
        warnings.simplefilter("ignore")
        import plugrad
        from plugrad.plugins import plugin_records
        rec = [r for r in plugin_records() if r.name == "plugrad_badhook"][0]
        print(rec.status, "registration exploded" in rec.error, plugrad.ones(2).sum().item())
    """, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["failed", "True", "2.0"]


def test_incompatible_interface_version_is_refused_naming_both_versions(tmp_path):
    make_distribution(tmp_path, "plugrad_future", """
        from plugrad.extend import BackendSpec, hookimpl

        @hookimpl
        def plugrad_register_backends():
            return [BackendSpec(device_type="future", interface_version="99.0", factory=lambda i: None)]
    """, entry_name="future")
    proc = run_python("""
        import warnings
        warnings.simplefilter("ignore")
        import plugrad
        from plugrad.extend import KERNEL_INTERFACE_VERSION
        from plugrad.plugins import device_types, plugin_records
        rec = [r for r in plugin_records() if r.name == "future"][0]
        print(rec.status)
        print(rec.error)
        print(KERNEL_INTERFACE_VERSION)
        print("future" in device_types())
    """, tmp_path)
    assert proc.returncode == 0, proc.stderr
    status, error, version, registered = proc.stdout.splitlines()
    assert status == "refused"
    assert "99.0" in error and version in error
    assert registered == "False"


def test_an_older_minor_interface_loads_and_refuses_only_the_kernels_it_predates(tmp_path):
    make_distribution(tmp_path, "plugrad_older", """
        from plugrad.extend import BackendSpec, hookimpl
        from plugrad_pylist.backend import PyListBackend

        @hookimpl
        def plugrad_register_backends():
            return [BackendSpec(device_type="older", interface_version="1.0", factory=lambda i: PyListBackend())]
    """, entry_name="older")
    proc = run_python("""
        import plugrad
        from plugrad import backend
        on_cpu = plugrad.tensor([0.0])   # the cpu device starts before the change below
        backend.KERNELS_ADDED["1.999"] = {"unary": frozenset({"exp"})}   # as if exp came after 1.0
        x = plugrad.tensor([0.0, 1.0], device="older")
        print(x.neg().tolist())
        try:
            x.exp()
        except plugrad.UnsupportedOperation as e:
            print("REFUSED", e)
        print(on_cpu.exp().tolist())
    """, tmp_path)
    assert proc.returncode == 0, proc.stderr
    neg, refused, cpu = proc.stdout.splitlines()
    assert neg == "[-0.0, -1.0]"
    assert refused.startswith("REFUSED 'exp'") and "older" in refused and "1.0" in refused
    assert cpu == "[1.0]"


def test_device_whose_factory_fails_raises_on_use_and_others_keep_working(tmp_path):
    make_distribution(tmp_path, "plugrad_flaky", """
        from plugrad.extend import BackendSpec, KERNEL_INTERFACE_VERSION, hookimpl

        def factory(index):
            raise OSError("no device memory")

        @hookimpl
        def plugrad_register_backends():
            return [BackendSpec(device_type="flaky", interface_version=KERNEL_INTERFACE_VERSION,
                                factory=factory)]
    """, entry_name="flaky")
    proc = run_python("""
        import plugrad
        x = plugrad.tensor([1.0, 2.0])
        for _ in range(2):
            try:
                plugrad.zeros(1, device="flaky")
            except RuntimeError as e:
                print("ERROR", e)
        print((x * 2).tolist())
    """, tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == lines[1]
    assert "device 'flaky:0' failed to start" in lines[0] and "no device memory" in lines[0]
    assert lines[2] == "[2.0, 4.0]"


def test_autoload_switch_loads_nothing_and_manual_registration_works():
    proc = run_python("""
        import sys
        import plugrad
        print("numpy" in sys.modules)
        try:
            plugrad.zeros(2)
        except RuntimeError as e:
            print("ERROR", e)
        import plugrad_cpu.plugin
        plugrad.plugins.register_plugin(plugrad_cpu.plugin, name="cpu")
        print(plugrad.ones(3).sum().item())
    """, env_extra={"PLUGRAD_AUTOLOAD": "0"})
    assert proc.returncode == 0, proc.stderr
    no_numpy, error, total = proc.stdout.splitlines()
    assert no_numpy == "False"
    assert "unknown device type 'cpu'" in error and "PLUGRAD_AUTOLOAD=0" in error
    assert total == "3.0"


#: core modules whose one job is to drive an optional extra's library (``plugrad[onnx]``:
#: the onnx package, which itself needs NumPy); the core loads them only when that feature
#: is used, and ``import plugrad.onnx`` works without them
OPTIONAL_EXTRA_MODULES = ("plugrad.onnx.writer",)


def test_core_imports_no_numpy_at_runtime():
    """Every module of the core imports without pulling NumPy in (but the bridges to an
    optional extra, which exist to load that extra's library)."""
    proc = run_python(f"""
        import importlib, pkgutil, sys
        import plugrad
        for info in pkgutil.walk_packages(plugrad.__path__, "plugrad."):
            if not info.name.endswith("__main__") and info.name not in {OPTIONAL_EXTRA_MODULES!r}:
                importlib.import_module(info.name)
        print(sorted(m for m in sys.modules if m == "numpy" or m.startswith("numpy.")))
    """, env_extra={"PLUGRAD_AUTOLOAD": "0"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_core_sources_never_import_numpy():
    offenders = []
    for path in CORE_SRC.rglob("*.py"):
        for i, line in enumerate(path.read_text().splitlines(), 1):
            stripped = line.strip()
            if stripped.startswith(("import numpy", "from numpy")):
                offenders.append(f"{path.relative_to(CORE_SRC)}:{i}")
    assert offenders == []


def test_plugin_entry_point_import_is_cheap():
    proc = run_python("""
        import sys
        import plugrad
        print("numpy" in sys.modules)
        plugrad.zeros(1)
        print("numpy" in sys.modules)
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "True"]


def test_device_queries():
    assert plugrad.cpu.is_available() and plugrad.cpu.device_count() == 1
    assert plugrad.cuda.is_available() is False and plugrad.cuda.device_count() == 0
    with pytest.raises(AttributeError):
        _ = plugrad.not_a_device_type
    with pytest.raises(RuntimeError, match="unknown device type 'nosuch'"):
        plugrad.zeros(1, device="nosuch")
    with pytest.raises(RuntimeError, match="has no index"):
        plugrad.zeros(1, device="cpu:1")
    assert plugrad.zeros(1, device="cpu:0").device == plugrad.device("cpu")


def test_default_device_round_trip():
    assert plugrad.get_default_device() == plugrad.device("cpu")
    with pytest.raises(RuntimeError):
        plugrad.set_default_device("nosuch")
    assert plugrad.get_default_device() == plugrad.device("cpu")
    plugrad.set_default_device("cpu")
    assert plugrad.ones(1).device.type == "cpu"
