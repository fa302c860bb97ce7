"""``plugrad.extend`` is enough to write a backend: the example device proves it.

The example device ``pylist`` (examples/backends/plugrad_pylist) is written against
``plugrad.extend`` and the standard library only; these tests check that statically,
register it without installing it, and compare its IEEE edge cases with the cpu device.
"""

from __future__ import annotations

import ast
import math
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

import plugrad
import plugrad.extend as extend
from plugrad.plugins import device_types

ROOT = Path(__file__).resolve().parents[2]
PYLIST_SRC = ROOT / "examples" / "backends" / "plugrad_pylist" / "src"
CPU_SRC = ROOT / "plugins" / "cpu_numpy" / "src"


def _declared_dependencies(src: Path) -> set:
    """The import names of the distributions a plugin's pyproject.toml depends on, plugrad
    aside: its dependencies and its extras' (an extra's import is guarded by the plugin)."""
    project = tomllib.loads((src.parent / "pyproject.toml").read_text())["project"]
    deps = list(project.get("dependencies", ()))
    for extra in project.get("optional-dependencies", {}).values():
        deps += extra
    names = {re.split(r"[<>=!~ \[;]", dep, maxsplit=1)[0].strip().lower() for dep in deps}
    return names - {"plugrad"}


def _imports(path: Path):
    """(module, names) of every absolute import statement in a Python file."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, ()
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module, tuple(a.name for a in node.names)


@pytest.mark.parametrize("src, package", [(PYLIST_SRC, "plugrad_pylist"), (CPU_SRC, "plugrad_cpu")],
                         ids=["pylist", "cpu"])
def test_backend_imports_only_plugrad_extend(src, package):
    third_party = _declared_dependencies(src)
    if package == "plugrad_pylist":
        assert third_party == set(), "the example device depends on plugrad alone"
    files = sorted((src / package).rglob("*.py"))
    assert files, f"no sources under {src / package}"
    for path in files:
        for module, names in _imports(path):
            top = module.split(".")[0]
            where = f"{path.relative_to(ROOT)} imports {module}"
            if top == "plugrad":
                assert module == "plugrad.extend", f"{where}: a backend may import only plugrad.extend"
                missing = [n for n in names if n not in extend.__all__]
                assert not missing, f"{where}: {missing} are not in plugrad.extend.__all__"
            else:
                allowed = top in sys.stdlib_module_names or top == package or top in third_party
                assert allowed, f"{where}: neither the standard library nor a declared dependency"


def test_extend_exports_resolve():
    assert len(set(extend.__all__)) == len(extend.__all__)
    for name in extend.__all__:
        assert hasattr(extend, name), name
    assert set(extend.ALL_DTYPES) <= {getattr(extend, d.name if d.name != "bool" else "bool_")
                                      for d in extend.ALL_DTYPES}


def test_pylist_declares_its_entry_point():
    """Installing the distribution is what registers it: the ``plugrad`` entry-point group."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    meta = tomllib.loads((PYLIST_SRC.parent / "pyproject.toml").read_text())
    assert meta["project"]["entry-points"]["plugrad"] == {"pylist": "plugrad_pylist.plugin"}
    assert [d for d in meta["project"]["dependencies"] if not d.startswith("plugrad>")] == []


def _run(code: str, **env_extra) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(PYLIST_SRC), os.environ.get("PYTHONPATH", "")]),
               **env_extra)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True,
                          text=True, timeout=120)


def test_install_free_registration():
    """With autoloading off, ``register_plugin`` from ``plugrad.extend`` makes an
    uninstalled plugin module a working device."""
    proc = _run("""
        import plugrad, plugrad.extend, plugrad_pylist.plugin
        try:
            plugrad.zeros(1, device="pylist")
        except RuntimeError as exc:
            print("before:", exc)
        record = plugrad.extend.register_plugin(plugrad_pylist.plugin, name="pylist-by-hand")
        print("record:", record.status, record.device_types)
        x = plugrad.tensor([[1.0, 2.0], [3.0, 4.0]], device="pylist", requires_grad=True)
        y = (x @ x.t()).sum()
        y.backward()
        print("values:", y.item(), x.grad.tolist(), x.grad.device)
    """, PLUGRAD_AUTOLOAD="0")
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(": ", 1) for line in proc.stdout.splitlines())
    assert "unknown device type 'pylist'" in lines["before"]
    assert lines["record"] == "loaded ['pylist']"
    # d/dx sum(x @ x.T) = (J + J^T) x with J all ones: each row is 2 * (column sums)
    x = [[1.0, 2.0], [3.0, 4.0]]
    expected_sum = sum(sum(a * b for a, b in zip(r, s)) for r in x for s in x)
    col = [sum(r[j] for r in x) for j in range(2)]
    assert lines["values"] == f"{expected_sum} {[[2 * c for c in col]] * 2} pylist"


needs_pylist = pytest.mark.skipif("pylist" not in device_types(), reason="plugrad-pylist is not installed "
                                  "(pip install examples/backends/plugrad_pylist)")

_SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.5, 1e-30, 88.5, -104.0, 1e30, 3.0e38, math.inf, -math.inf, math.nan]
_UNARY_FLOAT = sorted(extend.UNARY_OPS - {"bitwise_not", "logical_not"})


def _close(u, v) -> bool:
    """Equal, both NaN, or within one float32 ulp (pylist rounds the double result
    correctly; NumPy's float32 kernels may be one ulp off)."""
    return u == v or (u != u and v != v) or abs(u - v) <= 2e-7 * max(abs(u), abs(v))


def _same(a, b) -> bool:
    return all(map(_close, a.reshape(-1).tolist(), b.reshape(-1).tolist()))


@needs_pylist
@pytest.mark.parametrize("dtype", [plugrad.float32, plugrad.float64], ids=str)
@pytest.mark.parametrize("op", _UNARY_FLOAT)
def test_pylist_unary_special_values_match_cpu(op, dtype):
    """Overflow, division by zero, domain errors and NaN give IEEE results, as on cpu."""
    x = plugrad.tensor(_SPECIAL, dtype=dtype)
    f = getattr(plugrad, op)
    want, got = f(x), f(x.to("pylist")).cpu()
    assert got.dtype == want.dtype
    assert _same(got, want), f"{op}({x.tolist()}): pylist {got.tolist()}, cpu {want.tolist()}"


@needs_pylist
@pytest.mark.parametrize("op", ["add", "mul", "div", "floor_divide", "remainder", "fmod", "pow",
                                "maximum", "minimum", "atan2", "eq", "lt"])
def test_pylist_binary_special_values_match_cpu(op):
    a = plugrad.tensor([[v] for v in _SPECIAL], dtype=plugrad.float32)
    b = plugrad.tensor([_SPECIAL], dtype=plugrad.float32)
    f = getattr(plugrad, op)
    want, got = f(a, b), f(a.to("pylist"), b.to("pylist")).cpu()
    bad = [(u, v, w, g) for u, row_w, row_g in zip(_SPECIAL, want.tolist(), got.tolist())
           for v, w, g in zip(_SPECIAL, row_w, row_g) if not _close(w, g)]
    assert not bad, f"{op}: (a, b, cpu, pylist) differ: {bad[:8]}"


@needs_pylist
def test_pylist_int64_wraps_and_converts_like_cpu():
    big = plugrad.tensor([2**62, -(2**63), 7, -7])
    small = plugrad.tensor([3, 1, -2, 2])
    for f in (plugrad.add, plugrad.mul, plugrad.sub, plugrad.floor_divide, plugrad.remainder, plugrad.fmod):
        assert f(big, small).tolist() == f(big.to("pylist"), small.to("pylist")).tolist(), f.__name__
    floats = plugrad.tensor([2.9, -2.9, 0.0, 1e10])
    assert floats.to("pylist").long().tolist() == floats.long().tolist()
    assert floats.to("pylist").bool().tolist() == floats.bool().tolist()
    assert (~plugrad.tensor([True, False], device="pylist")).tolist() == [False, True]


@needs_pylist
@pytest.mark.parametrize("dtype", [plugrad.uint8, plugrad.int8, plugrad.int16, plugrad.int32], ids=str)
def test_pylist_small_ints_wrap_like_cpu(dtype):
    a = plugrad.tensor([100, 127, -3, 0, 55], dtype=dtype)
    b = plugrad.tensor([100, 2, 7, -1, 9], dtype=dtype)
    for f in (plugrad.add, plugrad.mul, plugrad.sub, plugrad.bitwise_not):
        args = (a, b) if f is not plugrad.bitwise_not else (a,)
        want = f(*args)
        got = f(*(t.to("pylist") for t in args))
        assert got.dtype == want.dtype and got.tolist() == want.tolist(), f.__name__
    floats = plugrad.tensor([300.7, -1.5, 1e6])
    assert floats.to("pylist").to(dtype).tolist() == floats.to(dtype).tolist()


@needs_pylist
def test_pylist_float16_rounds_and_overflows_like_cpu():
    x = plugrad.tensor([1.0 + 2**-11, 1.0 + 3 * 2**-11, 65504.0, 65519.0, 65520.0, -1e5, 6e-8, 1e-9],
                       dtype=plugrad.float64)
    assert x.to("pylist").half().tolist() == x.half().tolist()
    h = x.half()
    assert (h.to("pylist") * 3).tolist() == (h * 3).tolist()
    assert h[:2].to("pylist").sum().tolist() == h[:2].sum().tolist()
