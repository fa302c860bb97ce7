"""scripts/api_coverage.py: the figure is computed from the names file and plugrad,
and every name it counts as present is really reachable; missing PyTorch names say so."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

import plugrad
from plugrad._missing import missing_attribute, pytorch_names

ROOT = Path(__file__).resolve().parents[1]


def _load_script():
    spec = importlib.util.spec_from_file_location("api_coverage", ROOT / "scripts" / "api_coverage.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


api_coverage = _load_script()


def test_report_runs_without_torch_and_prints_the_total():
    code = ("import sys; sys.modules['torch'] = None; sys.argv = ['api_coverage.py', 'report'];"
            f"import runpy; runpy.run_path({str(ROOT / 'scripts' / 'api_coverage.py')!r}, run_name='__main__')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    _, have, total = api_coverage.summary(api_coverage.status(api_coverage.load()))
    assert "total" in out and f"{have:5d} / {total:5d}" in out


def test_figure_follows_the_data(tmp_path):
    data = api_coverage.load()
    _, have, total = api_coverage.summary(api_coverage.status(data))
    more = json.loads(json.dumps(data))
    more["namespaces"]["torch"].append("no_such_function_anywhere")
    more["namespaces"]["torch"].remove("add")
    _, have2, total2 = api_coverage.summary(api_coverage.status(more))
    assert (have2, total2) == (have - 1, total)
    path = tmp_path / "names.json"
    path.write_text(json.dumps(more))
    assert api_coverage.load(path) == more
    assert "**0 of 1**" in api_coverage.markdown({"pytorch_version": "x", "namespaces": {"torch": ["nope_x"]}})


def test_every_present_name_is_reachable():
    table = api_coverage.status(api_coverage.load())
    for namespace, found in table.items():
        owner = plugrad
        for part in filter(None, api_coverage.NAMESPACES[namespace].split(".")):
            owner = getattr(owner, part, None)
        if owner is None:   # a namespace plugrad does not have yet: nothing in it counts
            assert not any(found.values()), namespace
            continue
        for name, present in found.items():
            if present:
                value = getattr(owner, name)
                assert callable(value) or isinstance(getattr(type(owner), name, None), property) or \
                    isinstance(vars(plugrad.Tensor).get(name), property), (namespace, name)


def test_names_file_matches_the_installed_pytorch():
    torch = pytest.importorskip("torch")
    data = api_coverage.load()
    assert data["pytorch_version"] == torch.__version__.split("+")[0]
    for namespace, names in data["namespaces"].items():
        assert names == sorted(set(names))
        assert all(api_coverage.excluded(namespace, n) is None for n in names)
    assert "add" in data["namespaces"]["torch"] and "Linear" in data["namespaces"]["nn"]
    assert api_coverage.excluded("torch", "cudnn_convolution") and api_coverage.excluded("torch", "_foo")


@pytest.mark.parametrize("module_name, owner", [("plugrad", lambda: plugrad), ("plugrad.nn", lambda: plugrad.nn),
                                                ("plugrad.nn.functional", lambda: plugrad.nn.functional)])
def test_missing_names_say_whether_pytorch_has_them(module_name, owner):
    namespace = "torch" if module_name == "plugrad" else module_name[len("plugrad."):]
    absent = sorted(n for n in pytorch_names()[namespace] if not hasattr(owner(), n))
    if absent:
        with pytest.raises(AttributeError, match=f"PyTorch has torch.*{absent[0]}.*docs/coverage.md"):
            getattr(owner(), absent[0])
    with pytest.raises(AttributeError, match=f"^module '{module_name}' has no attribute 'surely_not_a_name'$"):
        owner().surely_not_a_name  # noqa: B018


def test_missing_attribute_helper():
    with pytest.raises(AttributeError, match="plugrad.special has no attribute 'zeta': PyTorch has torch.special.zeta"):
        missing_attribute("plugrad.special", "zeta")
    with pytest.raises(AttributeError, match="^module 'plugrad.special' has no attribute 'zzz'$"):
        missing_attribute("plugrad.special", "zzz")


def test_tensor_attributes_pytorch_has_say_so():
    t = plugrad.ones(2)
    absent = sorted(n for n in pytorch_names()["Tensor"] if not hasattr(plugrad.Tensor, n))
    if absent:
        with pytest.raises(AttributeError, match=f"plugrad.Tensor has no attribute '{absent[0]}': PyTorch has "
                                                 f"torch.Tensor.{absent[0]}"):
            getattr(t, absent[0])
    with pytest.raises(AttributeError, match="^'Tensor' object has no attribute 'not_a_tensor_name'$"):
        t.not_a_tensor_name  # noqa: B018
    with pytest.raises(AttributeError, match="^'Parameter' object has no attribute 'nope'$"):
        plugrad.nn.Parameter(t).nope  # noqa: B018
    assert not hasattr(t, "__array_struct__") and t.grad is None
