"""A newcomer's first hour: the setup scripts say what they do, the two-layer examples
say what to install for ``--plot``, Graphviz is installed where PoCL is, and the quick
benchmark's table gives information, not verdicts."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
TWO_LAYER = ROOT / "examples" / "two_layer_net"
BASH = "/bin/bash"


# ---- the setup scripts -------------------------------------------------------------

@pytest.mark.parametrize("script", sorted(p.name for p in SCRIPTS.glob("*.sh")))
def test_every_script_parses(script):
    subprocess.run([BASH, "-n", str(SCRIPTS / script)], check=True)


def _commands(path: Path) -> list:
    """The script's commands, each with its continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    return [line.split(" #")[0].strip() for line in text.splitlines() if line.strip() and
            not line.lstrip().startswith("#")]


@pytest.mark.parametrize("script", ["setup_env.sh", "setup_opencl.sh", "setup_graphviz.sh"])
def test_every_install_runs_as_a_step_that_prints_its_line(script):
    installs = [c for c in _commands(SCRIPTS / script)
                if re.search(r"PIP\[@\]\}\"? |pip install|apt_install ", c) and not c.startswith("PIP=")]
    assert installs, f"{script} installs nothing?"
    for command in installs:
        assert command.startswith("step "), f"{script}: an install outside a progress step: {command}"


def _progress(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([BASH, "-c", f"source {SCRIPTS / 'progress.sh'}; {code}"], capture_output=True, text=True)


def test_a_step_prints_one_line_with_its_time():
    proc = _progress('step "waiting" sleep 0.3; echo "status $?"')
    line, status = proc.stdout.splitlines()
    match = re.fullmatch(r"\[setup\] waiting \.\.\. (\d+)\.(\d) s", line)
    assert match and 0.3 <= float(f"{match[1]}.{match[2]}") < 10 and status == "status 0"


def test_a_failing_step_says_so_and_passes_the_status_on():
    proc = _progress('step "trying" bash -c "exit 3" || echo "status $?"')
    assert re.fullmatch(r"\[setup\] trying \.\.\. failed after \d+\.\d s\nstatus 3\n", proc.stdout)


def _fake_bin(tmp_path, *, root: bool, apt: bool, dot: bool) -> Path:
    """A PATH of its own: ``dirname``, an ``id`` that says root or not, an ``apt-get`` that
    logs its arguments and "installs" ``dot``, and ``dot`` itself, as asked."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    dirname, chmod = (shutil.which(name) for name in ("dirname", "chmod"))
    (bin_ / "dirname").symlink_to(dirname)
    scripts = {"id": f"#!{BASH}\necho {0 if root else 1000}\n"}
    if apt:
        scripts["apt-get"] = (f"#!{BASH}\necho \"$@\" >> {tmp_path / 'apt.log'}\n"
                              f"if [ \"$1\" = install ]; then printf '#!{BASH}\\n' > {bin_ / 'dot'}; "
                              f"{chmod} +x {bin_ / 'dot'}; fi\n")
    if dot:
        scripts["dot"] = f"#!{BASH}\n"
    for name, text in scripts.items():
        (bin_ / name).write_text(text)
        (bin_ / name).chmod(0o755)
    return bin_


def _setup_graphviz(bin_: Path) -> str:
    proc = subprocess.run([BASH, str(SCRIPTS / "setup_graphviz.sh")], capture_output=True, text=True,
                          env={"PATH": str(bin_), "HOME": os.environ.get("HOME", "/")}, check=True)
    return proc.stdout


def test_graphviz_is_installed_with_apt_as_pocl_is(tmp_path):
    out = _setup_graphviz(_fake_bin(tmp_path, root=True, apt=True, dot=False))
    assert re.fullmatch(r"\[setup\] installing Graphviz with apt \(graphviz\) \.\.\. \d+\.\d s\n", out)
    assert (tmp_path / "apt.log").read_text() == "install -y -qq --no-install-recommends graphviz\n"


def test_graphviz_already_there_is_left_alone(tmp_path):
    out = _setup_graphviz(_fake_bin(tmp_path, root=True, apt=True, dot=True))
    assert out == "[setup] Graphviz found: nothing to install\n" and not (tmp_path / "apt.log").exists()


@pytest.mark.parametrize("root, apt", [(False, True), (True, False)])
def test_graphviz_without_apt_says_what_is_skipped(tmp_path, root, apt):
    out = _setup_graphviz(_fake_bin(tmp_path, root=root, apt=apt, dot=False))
    assert "apt is not usable here" in out and "skipped" in out and "graphviz.org" in out
    assert not (tmp_path / "apt.log").exists()


# ---- the two-layer examples' --plot -------------------------------------------------------

def _two_layer_without_matplotlib(tmp_path, *args) -> subprocess.CompletedProcess:
    """examples/two_layer_net/autograd.py as a user runs it, in a Python without matplotlib."""
    script = TWO_LAYER / "autograd.py"
    code = (f"import runpy, sys; sys.modules['matplotlib'] = None; sys.path.insert(0, {str(TWO_LAYER)!r}); "
            f"sys.argv = ['autograd.py', *{list(args)!r}]; runpy.run_path({str(script)!r}, run_name='__main__')")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)


def test_plot_without_matplotlib_is_an_error_that_says_what_to_install(tmp_path):
    proc = _two_layer_without_matplotlib(tmp_path, "--iterations", "2", "--plot", "loss.png")
    assert proc.returncode == 2 and "pip install matplotlib" in proc.stderr and "--plot loss.png" in proc.stderr
    assert "Loss:" not in proc.stdout and not (tmp_path / "loss.png").exists()   # refused before training


def test_the_default_plot_without_matplotlib_is_skipped_with_a_note(tmp_path):
    proc = _two_layer_without_matplotlib(tmp_path, "--iterations", "2", "--print-every", "1")
    assert proc.returncode == 0 and "pip install matplotlib" in proc.stderr
    assert proc.stdout.count("Loss:") == 2 and not list(tmp_path.iterdir())


def test_no_plot_without_matplotlib_is_quiet(tmp_path):
    proc = _two_layer_without_matplotlib(tmp_path, "--iterations", "2", "--no-plot")
    assert proc.returncode == 0 and proc.stderr == ""


# ---- the quick benchmark -------------------------------------------------------------

@pytest.fixture(scope="module")
def bench_run():
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import run
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return run


def test_the_quick_benchmark_table_gives_no_verdicts(bench_run):
    data = json.loads((ROOT / "bench" / "results" / "results.json").read_text())
    quick = bench_run.to_markdown(data["results"], {**data["meta"], "mode": "quick"})
    full = bench_run.to_markdown(data["results"], {**data["meta"], "mode": "full"})
    assert "information, not a verdict" in quick
    tables = [block for block in quick.split("\n\n") if block.startswith("|")]
    assert len(tables) >= 2 and not any("target" in t or " met |" in t for t in tables)
    for table in tables:   # every row of a table has the header's cells
        assert len({line.count("|") for line in table.strip().splitlines()}) == 1
    assert " met |" in full   # the full run compares with the targets
