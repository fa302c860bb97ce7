"""Repository-wide test configuration: hypothesis profiles and the device fixture.

Profiles: ``ci`` (default, fast) and ``thorough`` (on demand):
``HYPOTHESIS_PROFILE=thorough pytest``.

``ci`` is derandomized: the examples are a fixed function of each test, so a run that
passes here passes on the landing gate, and a failure there reproduces here. Exploration
is the ``thorough`` profile's job: it draws fresh random examples on every run.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=25, deadline=None, print_blob=True, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", max_examples=400, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def installed_devices():
    """Every device type that is registered and available here (``cpu`` first)."""
    import plugrad
    from plugrad.plugins import device_types
    names = []
    for name in device_types():
        if getattr(plugrad, name).is_available():
            names.append(name)
    return sorted(names, key=lambda n: (n != "cpu", n))


@pytest.fixture(params=installed_devices())
def device(request):
    """Runs a test once per installed device ("cpu", "opencl", ...)."""
    return request.param
