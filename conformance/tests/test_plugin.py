"""The pytest plugin: inert in unrelated runs, complete when the suite is selected."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def _pytest(tmp_path, *args, env_extra=None):
    env = dict(os.environ, PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""), **(env_extra or {}))
    env.pop("PYTEST_ADDOPTS", None)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], capture_output=True,
                          text=True, cwd=str(tmp_path), env=env, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


def test_unrelated_runs_are_unchanged(tmp_path):
    (tmp_path / "conftest.py").write_text(
        "import pytest\n\n@pytest.fixture\ndef device():\n    return 'mine'\n")
    (tmp_path / "test_other.py").write_text(
        "def test_plain():\n    assert 1 + 1 == 2\n\n\ndef test_own_device_fixture(device):\n"
        "    assert device == 'mine'\n")
    code, out = _pytest(tmp_path, "-q")
    assert code == 0, out
    assert "2 passed" in out
    assert "conformance" not in out


def test_the_option_is_documented(tmp_path):
    code, out = _pytest(tmp_path, "--help")
    assert code == 0
    assert "--device=NAME" in out and "plugrad conformance suite" in out


def test_the_suite_runs_as_a_pytest_plugin(tmp_path):
    code, out = _pytest(tmp_path, "--pyargs", "plugrad_conformance", "--device", "cpu", "-q", "-k",
                        "abs-forward or abs-grad-")
    assert code == 0, out
    assert "plugrad conformance on device 'cpu'" in out and "FAIL" not in out


def test_the_device_can_come_from_the_environment(tmp_path):
    env = {"PLUGRAD_CONFORMANCE_DEVICE": "conformance_f32", "PYTEST_PLUGINS": "broken_backends"}
    code, out = _pytest(tmp_path, "--pyargs", "plugrad_conformance", "-q", "-k", "neg-forward-float32",
                        env_extra=env)
    assert code == 0, out
    assert "device 'conformance_f32'" in out


def test_a_failure_prints_a_one_line_reproduction(tmp_path):
    code, out = _pytest(tmp_path, "-p", "broken_backends", "--pyargs", "plugrad_conformance", "--device",
                        "conformance_broken", "-q", "-k", "cosh-forward-float32")
    assert code == 1, out
    line = next(ln for ln in out.splitlines() if "reproduce: python -c" in ln)
    snippet = line.split('python -c "', 1)[1].rstrip('"')
    assert snippet.startswith("import plugrad") and "torch.cosh(torch.tensor(" in snippet
    assert "device='conformance_broken'" in snippet
