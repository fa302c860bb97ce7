"""The conformance suite as pytest collects it: one test, one case per matrix cell
(parametrized by the plugin in ``plugin.py``)."""

import pytest

from plugrad_conformance.runner import Skip, run_case


def test_conformance(conformance_case, conformance_ctx):
    try:
        run_case(conformance_ctx, conformance_case)
    except Skip as exc:
        pytest.skip(str(exc))
