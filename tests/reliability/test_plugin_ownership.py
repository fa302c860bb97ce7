"""Device names are owned: no installed package can take over a device type.

Attacks, each from a real (throw-away) distribution found through its entry point, in
a fresh interpreter:

* a plugin whose entry point sorts before ``cpu`` and registers ``device_type="cpu"``
  with kernels that answer 42: ``ones(3) + ones(3)`` is unchanged, the hijacker is
  not even imported, and once it is (``plugrad info``) it is refused for registering a
  type its entry point does not name;
* a second distribution whose entry point is named ``cpu``: a conflict. Using ``cpu``
  raises an error naming both distributions, ``plugrad info`` shows it, neither is
  imported, until the user names the owner (``PLUGRAD_DEVICE_OWNERS`` or
  ``plugrad.plugins.set_device_owner``); then exactly the chosen one serves ``cpu``;
* a plugin declaring conformance expectations for a device it does not provide: the
  suite asks only the device's own plugin.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
from fault_support import make_distribution, run_python

import plugrad
from plugrad.extend import KERNEL_INTERFACE_VERSION, BackendSpec, Expectations, hookimpl
from plugrad.plugins import registry

#: a cpu look-alike whose every binary kernel writes 42
HIJACKER = """
    from plugrad.extend import BackendSpec, KERNEL_INTERFACE_VERSION, hookimpl
    from plugrad_cpu.backend import NumpyBackend

    class Answer(NumpyBackend):
        def binary(self, op, a, b, out):
            out[...] = 42

    @hookimpl
    def plugrad_register_backends():
        return [BackendSpec(device_type="cpu", interface_version=KERNEL_INTERFACE_VERSION,
                            factory=lambda index: Answer(), indexed=False)]
"""

SUM_PROGRAM = """
    import json, sys, warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import plugrad
    result = {"imported_at_import": sorted(m for m in sys.modules if m.startswith("evil"))}
    try:
        result["sum"] = (plugrad.ones(3) + plugrad.ones(3)).tolist()
    except RuntimeError as e:
        result["error"] = f"{type(e).__name__}: {e}"
    result["imported"] = sorted(m for m in sys.modules if m.startswith("evil"))
    result["warnings"] = [str(w.message) for w in caught]
    print(json.dumps(result))
"""

EXPECTED_SUM = (torch.ones(3) + torch.ones(3)).tolist()


def run_sum(path, **env) -> dict:
    proc = run_python(SUM_PROGRAM, path, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def plugrad_info(path, **env) -> str:
    full = dict(os.environ, PYTHONPATH=str(path) + os.pathsep + os.environ.get("PYTHONPATH", ""), **env)
    proc = subprocess.run([sys.executable, "-m", "plugrad", "info"], capture_output=True, text=True, env=full,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_a_plugin_sorting_before_cpu_cannot_register_cpu(tmp_path):
    make_distribution(tmp_path, "evil_aaa", HIJACKER, entry_name="aaa")
    result = run_sum(tmp_path)
    assert result.get("sum") == EXPECTED_SUM, result
    assert result["imported"] == [] and result["warnings"] == []
    info = plugrad_info(tmp_path)
    assert "aaa: evil_aaa 0.1 [refused]" in info
    assert "it registers device type 'cpu', which its entry point does not name" in info
    assert "cpu: plugrad-cpu" in info and "[loaded]" in info.split("cpu: plugrad-cpu")[1].splitlines()[0]


def test_a_second_distribution_claiming_cpu_is_a_conflict_naming_both(tmp_path):
    make_distribution(tmp_path, "evil_cpu", HIJACKER, entry_name="cpu")
    result = run_sum(tmp_path)
    assert "sum" not in result
    error = result["error"]
    assert error.startswith("DeviceTypeUnavailable: device type 'cpu' is claimed by 2 distributions")
    assert "'plugrad-cpu" in error and "'evil_cpu 0.1'" in error
    assert "PLUGRAD_DEVICE_OWNERS=cpu=" in error and "set_device_owner('cpu'" in error
    assert result["imported"] == []                      # no claimant runs before the user chooses
    info = plugrad_info(tmp_path)
    assert "cpu: evil_cpu 0.1 [conflict]" in info
    assert "cpu: plugrad-cpu" in info and "[conflict]" in info.split("cpu: plugrad-cpu")[1].splitlines()[0]
    assert "device type 'cpu' is claimed by 2 distributions" in info


@pytest.mark.parametrize("owner, expected", [("plugrad-cpu", EXPECTED_SUM), ("plugrad_CPU", EXPECTED_SUM),
                                             ("evil-cpu", [42.0, 42.0, 42.0])])
def test_the_owner_setting_decides_a_conflict(tmp_path, owner, expected):
    make_distribution(tmp_path, "evil_cpu", HIJACKER, entry_name="cpu")
    result = run_sum(tmp_path, PLUGRAD_DEVICE_OWNERS=f"opencl=plugrad-opencl, cpu={owner}")
    assert result.get("sum") == expected, result
    assert result["imported"] == ([] if expected == EXPECTED_SUM else ["evil_cpu_mod"])
    info = plugrad_info(tmp_path, PLUGRAD_DEVICE_OWNERS=f"cpu={owner}")
    assert "device owners (PLUGRAD_DEVICE_OWNERS): cpu=" in info
    loser = "cpu: evil_cpu 0.1" if expected == EXPECTED_SUM else "cpu: plugrad-cpu"
    assert "[not owner]" in info.split(loser)[1].splitlines()[0]


def test_set_device_owner_resolves_a_conflict_and_cannot_swap_a_device_in_use(tmp_path):
    make_distribution(tmp_path, "evil_cpu", HIJACKER, entry_name="cpu")
    proc = run_python("""
        import sys
        import plugrad
        from plugrad.plugins import set_device_owner
        set_device_owner("cpu", "plugrad-cpu")
        print((plugrad.ones(3) + plugrad.ones(3)).tolist())
        set_device_owner("cpu", "plugrad-cpu")      # the same owner again: nothing changes
        try:
            set_device_owner("cpu", "evil_cpu")
        except RuntimeError as e:
            print("ERROR", e)
        print((plugrad.ones(3) + plugrad.ones(3)).tolist(), "evil_cpu_mod" in sys.modules)
    """, tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    first, error, last = proc.stdout.splitlines()
    assert first == str(EXPECTED_SUM) and last == f"{EXPECTED_SUM} False"
    assert "device type 'cpu' is already in use" in error and "plugrad-cpu" in error


def test_an_owner_that_does_not_provide_the_type_is_an_error_naming_the_providers(tmp_path):
    result = run_sum(tmp_path, PLUGRAD_DEVICE_OWNERS="cpu=not-installed")
    assert "sum" not in result
    assert "device type 'cpu' was given to distribution 'not-installed'" in result["error"]
    assert "plugrad-cpu" in result["error"]


def test_a_malformed_owner_setting_warns_and_chooses_nothing(tmp_path):
    make_distribution(tmp_path, "evil_cpu", HIJACKER, entry_name="cpu")
    result = run_sum(tmp_path, PLUGRAD_DEVICE_OWNERS="cpu")
    assert any("'cpu' is not of the form TYPE=DISTRIBUTION" in w for w in result["warnings"]), result
    assert "device type 'cpu' is claimed by 2 distributions" in result["error"]


def test_only_a_devices_own_plugin_declares_its_conformance_expectations():
    """A plugin providing ``decoy`` may not mark ``cpu``'s conformance cases skipped."""
    from plugrad_cpu.backend import NumpyBackend

    class Decoy:
        @hookimpl
        def plugrad_register_backends(self):
            return [BackendSpec(device_type="ownership_decoy", interface_version=KERNEL_INTERFACE_VERSION,
                                factory=lambda index: NumpyBackend(), indexed=False)]

        @hookimpl
        def plugrad_conformance_expectations(self, device_type):
            return Expectations(skip={"*": "skip everything"}) if device_type == "cpu" else None

    before = registry.expectations_for("cpu")
    record = registry.register_plugin(Decoy(), name="ownership-decoy")
    assert record.status == "loaded", record.error
    assert registry.expectations_for("cpu") == before
    assert "*" not in before.skip
    assert (plugrad.ones(2, device="ownership_decoy") * 3).tolist() == (torch.ones(2) * 3).tolist()


def test_registering_by_hand_a_type_another_plugin_provides_is_refused():
    from plugrad_cpu.backend import NumpyBackend

    class Impostor:
        @hookimpl
        def plugrad_register_backends(self):
            return [BackendSpec(device_type="cpu", interface_version=KERNEL_INTERFACE_VERSION,
                                factory=lambda index: NumpyBackend(), indexed=False)]

    plugrad.ones(1)                                    # cpu is in use
    record = registry.register_plugin(Impostor(), name="ownership-impostor")
    assert record.status == "refused" and "device type 'cpu' is already provided by plugin 'cpu'" in record.error
    assert registry.device_types()["cpu"].description == "NumPy on the host CPU"
