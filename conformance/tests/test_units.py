"""Unit tests of the suite's parts: comparisons, Jacobians, samples, expectations,
the matrix renderers and the repro lines."""

import math

import numpy as np
import plugrad
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugrad_conformance.compare import Mismatch, assert_close, assert_same_bits, expected_as
from plugrad_conformance.gen import HypothesisGen
from plugrad_conformance.jacobian import compare_jacobians, numeric_jacobian
from plugrad_conformance.opdb import OPS
from plugrad_conformance.report import Matrix, Result
from plugrad_conformance.repro import repro_line
from plugrad_conformance.runner import match_expectation

EXACT = lambda _name: (0.0, 0.0)  # noqa: E731


# ---- comparisons -------------------------------------------------------------------------------

def test_assert_close_catches_a_wrong_element():
    t = plugrad.tensor([1.0, 2.0, 3.0])
    assert_close(t, np.array([1.0, 2.0, 3.0]), EXACT)
    with pytest.raises(Mismatch, match="1 of 3 elements differ"):
        assert_close(t, np.array([1.0, 2.5, 3.0]), lambda n: (1e-5, 1e-5))


def test_assert_close_shapes_nan_and_infinities():
    nan, inf = float("nan"), float("inf")
    assert_close(plugrad.tensor([nan, inf, -inf]), np.array([nan, inf, -inf]), EXACT)
    with pytest.raises(Mismatch):
        assert_close(plugrad.tensor([inf]), np.array([-inf]), EXACT)
    with pytest.raises(Mismatch, match="shape"):
        assert_close(plugrad.tensor([1.0, 2.0]), np.array([[1.0, 2.0]]), EXACT)


def test_integer_results_wrap_like_fixed_width_integers():
    assert expected_as(np.array([127 + 1, -129]), "int8").tolist() == [-128, 127]
    assert expected_as(np.array([256 + 3]), "uint8").tolist() == [3]
    assert expected_as(np.array([0, 2, -1]), "bool").tolist() == [False, True, True]


def test_same_bits_tells_signed_zeros_apart():
    assert_same_bits(plugrad.tensor([0.0, 1.0]), plugrad.tensor([0.0, 1.0]), "x")
    with pytest.raises(Mismatch):
        assert_same_bits(plugrad.tensor([0.0]), plugrad.tensor([-0.0]), "x")


# ---- Jacobians -------------------------------------------------------------------------------

def test_numeric_jacobian_of_a_known_function():
    x = np.array([0.5, -1.0, 2.0])
    jac = numeric_jacobian(lambda a: [np.sin(a[0]) * 2], [x])
    assert np.allclose(jac, np.diag(2 * np.cos(x)), atol=1e-8)


def test_compare_jacobians_names_the_worst_element():
    a = np.eye(2)
    with pytest.raises(Mismatch, match=r"d output\[0\]\[1\] / d input\[0\]\[1\]: analytic 1.0, numeric 2.0"):
        compare_jacobians(a, np.diag([1.0, 2.0]), 1e-6, 1e-6, [(2,)], [(2,)])


# ---- samples ---------------------------------------------------------------------------------

#: the most elements of one sample array (numeric Jacobians cost a forward per element),
#: and the ops whose 4-d/5-d inputs need more room for a kernel, its stride and channels
SAMPLE_ELEMENTS, SPATIAL_SAMPLE_ELEMENTS = 64, 128
SPATIAL_OPS = {"avg_pool3d", "conv2d", "conv3d", "fold", "grid_sample", "lp_pool3d", "max_pool2d",
               "max_pool2d_with_indices", "max_pool3d", "max_pool3d_with_indices", "pixel_shuffle",
               "pixel_unshuffle"}
#: samples holding values computed from others (observation weights, spacings, Gumbel
#: noise, orthogonal factors), which are not exact in float16; harmless, since the suite
#: casts every reference input to the dtype under test first (device.py), but listed so
#: that a new one is a decision
COMPUTED_SAMPLES = {"cov", "gradient", "gumbel_softmax", "linalg.svd", "svd", "svdvals", "matrix_norm"}


@settings(max_examples=40, deadline=None, database=None)
@given(st.data())
def test_samples_respect_their_domains_and_sizes(data):
    key = data.draw(st.sampled_from(sorted(k for k, op in OPS.items() if op.alias_target is None)))
    op = OPS[key]
    dtype = plugrad.dtypes.dtype_from_name(data.draw(st.sampled_from(sorted(op.dtypes))))
    sample = data.draw(op.strategy(dtype, "forward"))
    from plugrad_conformance.opinfo import data_arrays
    for arr in data_arrays(sample):
        assert arr.size <= (SPATIAL_SAMPLE_ELEMENTS if key in SPATIAL_OPS else SAMPLE_ELEMENTS), key
        if dtype.is_floating_point and key not in COMPUTED_SAMPLES:
            finite = arr[np.isfinite(arr)]
            assert np.all(finite.astype(np.float16).astype(finite.dtype) == finite), key   # exact in float16


def test_every_sample_respects_sizes_and_exactness_over_seeds():
    """The same rules over 30 seeded samples of every op and float dtype (the drawn test
    above meets only a few ops per run)."""
    from plugrad_conformance.opinfo import data_arrays
    for key, op in sorted(OPS.items()):
        if op.alias_target is not None:
            continue
        for name in sorted(op.dtypes):
            dtype = plugrad.dtypes.dtype_from_name(name)
            for seed in range(30):
                sample = op.fixed_sample(dtype, "forward", seed=seed)
                for arr in data_arrays(sample) if sample is not None else ():
                    assert arr.size <= (SPATIAL_SAMPLE_ELEMENTS if key in SPATIAL_OPS else SAMPLE_ELEMENTS), key
                    if dtype.is_floating_point and key not in COMPUTED_SAMPLES:
                        finite = arr[np.isfinite(arr)]
                        assert np.all(finite.astype(np.float16).astype(finite.dtype) == finite), (key, name, seed)


@settings(max_examples=60, deadline=None, database=None)
@given(st.data())
def test_broadcast_shapes_broadcast(data):
    def draw_shapes(draw):
        return HypothesisGen(draw, plugrad.float32, "broadcast").shapes(data.draw(st.integers(2, 3)))
    shapes = data.draw(st.composite(lambda draw: draw_shapes(draw))())
    np.broadcast_shapes(*shapes)


def test_excluded_points_are_avoided():
    op = OPS["abs"]
    for seed in range(30):
        s = op.fixed_sample(plugrad.float64, "grad", seed=seed)
        assert not np.any(s.args[0] == 0.0)


# ---- expectations, reports, repros ------------------------------------------------------------------

def test_the_most_specific_expectation_wins():
    table = {"add": "whole op", "add:grad": "grad only", "*:grad:float16": "no fp16 gradients",
             "add:grad:float64": "exact"}
    assert match_expectation(table, "add", "forward", "float32") == "whole op"
    assert match_expectation(table, "add", "grad", "float32") == "grad only"
    assert match_expectation(table, "add", "grad", "float64") == "exact"
    assert match_expectation(table, "mul", "grad", "float16") == "no fp16 gradients"
    assert match_expectation(table, "mul", "forward", "float16") is None


def _matrix():
    rs = [Result("add", "elementwise", "forward", "float32", "passed"),
          Result("add", "elementwise", "forward", "float16", "failed", "add [forward, float16]: <wrong> & bad"),
          Result("add", "elementwise", "grad", "float64", "passed"),
          Result("exp", "elementwise", "forward", "float64", "skipped", "the device does not advertise float64"),
          Result("exp", "elementwise", "grad", "float64", "xfailed", "known")]
    return Matrix(rs, "dev", "ci", 1.5)


def test_matrix_text_marks_and_details():
    text = _matrix().text()
    assert "5 cases, 2 pass, 1 FAIL, 1 skip, 1 xfail in 1.5s" in text
    add_row = next(line for line in text.splitlines() if line.startswith("add "))
    assert add_row.split("add", 1)[1].strip().startswith(". F")      # f32 pass, f64 not run, f16 fail
    assert "FAILURES (1)" in text and "1 x the device does not advertise float64" in text


def test_matrix_markdown_and_html():
    m = _matrix()
    md = m.markdown()
    assert "| `add` | pass f32; FAIL f16 | pass |" in md
    assert "### `add` forward (float16)" in md
    page = m.html()
    assert page.startswith("<!DOCTYPE html>") and "&lt;wrong&gt; &amp; bad" in page and "<wrong>" not in page
    assert '"counts": {' in m.json()


def test_repro_line_runs_and_shows_the_call():
    from plugrad_conformance.opinfo import Sample
    line = repro_line(OPS["add"], Sample(np.array([[1.0, float("inf")]]), 2.0, alpha=2), ["float32"], "cpu")
    assert "torch.add(torch.tensor([[1.0, float('inf')]], dtype=torch.float32, device='cpu'), 2.0, alpha=2)" in line
    namespace = {}
    exec(line.replace("print(", "result = ("), namespace)
    assert namespace["result"].tolist() == [[5.0, math.inf]]
