"""Discovery numbers only devices that can build and run a kernel.

A platform whose compiler fails (simulated: ``pyopencl.Program.build`` builds an
``#error`` program instead while that platform's devices are probed, so the failure is
the real compiler's, with its log) goes first in platform order, before the real
platforms. Its devices must not be numbered: ``opencl:0`` is the first device that
works, ``plugrad info`` lists the broken one as unusable with the compiler's message,
and when no device works, the device type reports none and says what to install.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("plugrad_opencl", reason="the opencl device (plugrad-opencl) is not installed")

from test_opencl_transfers import run_python  # noqa: E402

#: installs, before discovery, a platform named "Broken PoCL" holding the real devices
#: whose compiler fails, in front of the real platforms (or alone: ONLY_BROKEN)
SIMULATION = """
import json
import pyopencl as cl

ONLY_BROKEN = {only_broken}
MESSAGE = "unknown target CPU 'generic'"
real_platforms = cl.get_platforms()
state = {{"failing": False}}


class Platform:
    def __init__(self, platform, failing, name=None):
        self.platform, self.failing, self.name = platform, failing, name or platform.name

    def get_devices(self, *args):
        state["failing"] = self.failing
        return self.platform.get_devices(*args)


original_build = cl.Program.build


def build(self, *args, **kwargs):
    if state["failing"]:
        context = self.get_info(cl.program_info.CONTEXT)
        return original_build(cl.Program(context, f"#error {{MESSAGE}}\\n"), *args, **kwargs)
    return original_build(self, *args, **kwargs)


cl.Program.build = build
broken = [Platform(p, True, name="Broken PoCL 3.0-rc2") for p in real_platforms]
cl.get_platforms = lambda: broken if ONLY_BROKEN else broken + [Platform(p, False) for p in real_platforms]

import plugrad
from plugrad.plugins.registry import info_report
from plugrad_opencl.devices import devices, discovery_error, unusable
"""


def simulate(code: str, only_broken: bool) -> dict:
    out = run_python(SIMULATION.format(only_broken=only_broken) + code)
    return json.loads(out.splitlines()[-1])


def test_a_platform_that_cannot_build_is_not_numbered_and_info_says_why():
    result = simulate("""
x = plugrad.ones(3, device="opencl")
print(json.dumps({
    "platforms": [d.platform_name for d in devices()],
    "real": [p.name.strip() for p in real_platforms],
    "count": plugrad.opencl.device_count(),
    "unusable": [(u.platform_name, u.reason) for u in unusable()],
    "sum": (x + x).tolist(), "device": str(x.device),
    "info": info_report(),
}))
""", only_broken=False)
    assert result["platforms"] and set(result["platforms"]) <= set(result["real"])   # opencl:0 works
    assert result["count"] == len(result["platforms"])
    assert result["unusable"], "the broken platform's devices must be listed"
    for platform, reason in result["unusable"]:
        assert platform == "Broken PoCL 3.0-rc2"
        assert "unknown target CPU 'generic'" in reason            # the compiler's own message
    assert result["sum"] == [2.0, 2.0, 2.0] and result["device"] == "opencl:0"
    unusable_lines = [ln for ln in result["info"].splitlines() if ln.strip().startswith("unusable:")]
    assert len(unusable_lines) == len(result["unusable"])
    assert all("(Broken PoCL 3.0-rc2)" in ln and "unknown target CPU 'generic'" in ln for ln in unusable_lines)
    assert "opencl:0: " in result["info"]


def test_when_no_device_can_build_the_type_has_none_and_says_what_to_install():
    result = simulate("""
try:
    plugrad.zeros(1, device="opencl")
    error = ""
except RuntimeError as e:
    error = str(e)
print(json.dumps({
    "available": plugrad.opencl.is_available(), "count": plugrad.opencl.device_count(),
    "why": discovery_error(), "error": error, "info": info_report(),
    "cpu": (plugrad.ones(2) * 3).tolist(),
}))
""", only_broken=True)
    assert result["available"] is False and result["count"] == 0
    assert "device 'opencl:0' does not exist: 0 'opencl' device(s) available" in result["error"]
    assert result["why"].startswith("no OpenCL device can build a kernel")
    assert "unknown target CPU 'generic'" in result["why"] and "pocl-opencl-icd" in result["why"]
    assert "device type 'opencl' (interface" in result["info"] and "0 device(s)" in result["info"]
    assert "unusable: " in result["info"] and "pocl-opencl-icd" in result["info"]
    assert result["cpu"] == [3.0, 3.0]
