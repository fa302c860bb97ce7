"""Seeing the graph: anomaly detection (a NaN or an error in backward names the
forward op and where it ran) and Graphviz pictures of the graph."""

import re
import shutil
import warnings

import pytest

import plugrad
from plugrad.autograd import anomaly_mode, graphviz

pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # the NaNs made on purpose


def _nan_program():
    x = plugrad.tensor([0.0, 1.0], requires_grad=True)
    y = x.sqrt()  # FORWARD-LINE: d sqrt at 0 is inf, and inf * 0 is NaN
    return (y * 0).sum()


def test_nan_in_backward_names_the_op_and_where_it_was_created():
    with plugrad.autograd.detect_anomaly():
        z = _nan_program()
        with pytest.raises(RuntimeError) as info:
            z.backward()
    msg = str(info.value)
    assert "Function 'SqrtBackward0' returned nan values in its 0th output." in msg
    assert "test_autograd_anomaly_graphviz.py" in msg and "FORWARD-LINE" in msg
    assert "/plugrad/autograd/" not in msg  # plugrad's own frames are left out
    assert not plugrad.autograd.anomaly_mode.is_anomaly_enabled()


def test_without_anomaly_mode_nan_gradients_pass_silently():
    z = _nan_program()
    z.backward()
    assert z.grad_fn is not None


def test_check_nan_false_and_set_detect_anomaly():
    with plugrad.autograd.detect_anomaly(check_nan=False):
        _nan_program().backward()
    with plugrad.autograd.set_detect_anomaly(True):
        assert anomaly_mode.is_anomaly_enabled()
        with pytest.raises(RuntimeError, match="nan values"):
            _nan_program().backward()
    assert not anomaly_mode.is_anomaly_enabled()


def test_detect_anomaly_as_a_decorator():
    @plugrad.autograd.detect_anomaly()
    def run():
        assert anomaly_mode.is_anomaly_enabled()
        _nan_program().backward()
    with pytest.raises(RuntimeError, match="SqrtBackward0"):
        run()


def test_error_in_a_backward_formula_reports_the_forward_trace():
    class Broken(plugrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            raise ValueError("broken backward")

    x = plugrad.ones(2, requires_grad=True)
    with plugrad.autograd.detect_anomaly():
        y = Broken.apply(x).sum()  # BROKEN-FORWARD
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(ValueError, match="broken backward"):
                y.backward()
    texts = [str(w.message) for w in caught]
    assert any("Error detected in BrokenBackward" in t and "BROKEN-FORWARD" in t for t in texts), texts


# ---- Graphviz ---------------------------------------------------------------------------------

def _seed_graph():
    x = plugrad.ones(5, requires_grad=True)
    w1 = plugrad.tensor(2.0, requires_grad=True)
    w2 = plugrad.tensor(3.0, requires_grad=True)
    y = ((x * w1 + 4.0) * w2).mean()
    return x, w1, w2, y


def _labels(dot):
    return re.findall(r'label="([^"]*)"', dot)


def test_dot_source_shows_ops_leaves_shapes_and_output():
    x, w1, w2, y = _seed_graph()
    dot = graphviz.to_dot(y, params={"x": x, "w1": w1, "w2": w2})
    assert dot.startswith('digraph "plugrad" {') and dot.rstrip().endswith("}")
    labels = _labels(dot)
    for op in ("MeanBackward0", "MulBackward0", "AddBackward0"):
        assert op in labels
    assert labels.count("MulBackward0") == 2
    assert "x\\n(5,)" in labels and "w1\\n()" in labels and "w2\\n()" in labels
    assert "output\\n()" in labels
    assert dot.count('fillcolor="lightblue"') == 3  # the three leaves are marked
    edges = re.findall(r"(n\d+) -> (n\d+|out\d+)", dot)
    assert len(edges) == 7  # x, w1 -> mul; mul -> add; add, w2 -> mul; mul -> mean; mean -> output


def test_dot_of_several_outputs_and_unnamed_leaves():
    x = plugrad.ones(4, requires_grad=True)
    a, b = x.split(2)
    dot = graphviz.to_dot([a * 2, b])
    labels = _labels(dot)
    assert "output 0\\n(2,)" in labels and "output 1\\n(2,)" in labels
    assert "SplitBackward0" in labels and "leaf\\n(4,)" in labels
    assert "(2,) [out 0]" in labels  # an edge from a multi-output node names the output
    assert labels.count("SplitBackward0") == 1


def test_dot_of_a_leaf_and_of_an_untracked_tensor():
    x = plugrad.ones(2, 3, dtype=plugrad.float64, requires_grad=True)
    assert "leaf\\n(2, 3) float64\\n(output)" in _labels(graphviz.to_dot(x))
    assert "output\\n(2,)" in _labels(graphviz.to_dot(plugrad.ones(2)))
    with pytest.raises(TypeError):
        graphviz.to_dot([x, 3])


def test_dot_of_a_deep_graph_needs_no_recursion():
    x = plugrad.ones(1, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y + 1.0
    dot = graphviz.to_dot(y)
    assert _labels(dot).count("AddBackward0") == 5000


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
@pytest.mark.parametrize("fmt, magic", [("svg", b"<svg"), ("png", b"\x89PNG")])
def test_render_writes_a_picture(tmp_path, fmt, magic):
    *_, y = _seed_graph()
    path = tmp_path / f"graph.{fmt}"
    assert graphviz.render(y, path, format=fmt) == str(path)
    data = path.read_bytes()
    assert magic in data[:400]


def test_render_without_dot_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr(graphviz.shutil, "which", lambda name: None)
    *_, y = _seed_graph()
    with pytest.raises(RuntimeError, match="Graphviz 'dot' program"):
        graphviz.render(y, tmp_path / "g.svg")
