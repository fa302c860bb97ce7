"""Fixtures of the conformance suite's own tests (helpers live in ``suite_support``:
several test folders have a ``conftest.py``, so none is imported by name)."""

import pytest

from suite_support import run_suite


@pytest.fixture(scope="session")
def suite():
    return run_suite


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long-running test, still part of the default run")
