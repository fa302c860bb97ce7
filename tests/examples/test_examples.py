"""The example programs, run as a user runs them (a fresh interpreter, in quick mode)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TWO_LAYER = ["numpy_manual", "manual_gradients", "autograd", "nn_sequential", "nn_module_adam"]


def run_example(script: Path, *args, cwd=None, timeout=120) -> str:
    proc = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout)
    assert proc.returncode == 0, f"{script.name} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def losses(output: str) -> list:
    return [float(v) for v in re.findall(r"Loss:([-+0-9.eE]+)", output)]


@pytest.mark.parametrize("name", TWO_LAYER)
def test_two_layer_net_forms_train_and_save_their_plot(name, tmp_path):
    pytest.importorskip("matplotlib")   # without it --plot is an error (tests/test_first_hour.py)
    plot = tmp_path / f"{name}.png"
    out = run_example(EXAMPLES / "two_layer_net" / f"{name}.py", "--iterations", "5", "--print-every", "1",
                      "--device", "cpu", "--plot", str(plot), cwd=tmp_path)
    values = losses(out)
    assert len(values) == 5 and values[-1] < values[0]
    assert plot.exists() and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_autograd_and_hand_written_gradients_agree(tmp_path):
    args = ("--iterations", "5", "--print-every", "1", "--no-plot")
    auto = losses(run_example(EXAMPLES / "two_layer_net" / "autograd.py", *args, cwd=tmp_path))
    manual = losses(run_example(EXAMPLES / "two_layer_net" / "manual_gradients.py", *args, cwd=tmp_path))
    assert auto == pytest.approx(manual, rel=1e-5)


def test_module_form_prints_the_summary_table(tmp_path):
    out = run_example(EXAMPLES / "two_layer_net" / "nn_module_adam.py", "--iterations", "2", "--no-plot",
                      cwd=tmp_path)
    assert "Linear-1" in out and "[-1, 100]" in out and "Total params: 101,000" in out


def test_digits_quick_mode(tmp_path):
    pytest.importorskip("sklearn")
    out = run_example(EXAMPLES / "digits.py", "--quick", cwd=tmp_path)
    accuracies = [float(a) for a in re.findall(r"test accuracy ([0-9.]+)%", out)]
    assert len(accuracies) == 2 and all(a > 50 for a in accuracies)  # one epoch is far above chance (10%)


def test_digits_without_scikit_learn_says_how_to_install_it(tmp_path):
    code = ("import runpy, sys; sys.modules['sklearn'] = None; sys.argv = ['digits.py', '--quick']; "
            f"runpy.run_path({str(EXAMPLES / 'digits.py')!r}, run_name='__main__')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode != 0
    assert "pip install scikit-learn" in proc.stderr
