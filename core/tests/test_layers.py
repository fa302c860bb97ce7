"""The core reads in layers: no module-level import circle, few imports inside functions.

The sources of ``plugrad`` are parsed (nothing is imported for the checks): every
``import``/``from ... import`` that runs when a module loads is an edge of the
module graph, and that graph must have no circle (no strongly connected component
of more than one module). Imports under ``if TYPE_CHECKING:`` never run and are
ignored; a submodule importing its own parent package is no circle either, since
the parent is always loaded before its submodules. Imports inside functions are
the way a circle is usually hidden, so their number is bounded too.
"""

from __future__ import annotations

import ast
import os
import pathlib
import subprocess
import sys

import plugrad

PACKAGE = pathlib.Path(plugrad.__file__).resolve().parent
ROOT = PACKAGE.parent

#: at most this many imports inside functions in the whole core package
MAX_FUNCTION_LEVEL_IMPORTS = 42


def _modules() -> dict:
    """Dotted module name -> source path, for every module of the package."""
    mods = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = path
    return mods


def _targets(module: str, is_package: bool, node, mods: dict) -> list:
    """The package modules an import statement loads."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[:len(base) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    # `from pkg import sub` loads the submodule; `from pkg import name` loads pkg
    subs = [f"{source}.{alias.name}" for alias in node.names if f"{source}.{alias.name}" in mods]
    return subs + ([source] if len(subs) < len(node.names) else [])


def _is_type_checking(node) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _scan(module: str, is_package: bool, source: str, label: str, mods: dict):
    """(the modules ``module`` imports at module level, its function-level imports as
    ``label:line`` strings)."""
    edges, inner = set(), []

    def visit(nodes, in_function):
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(ast.iter_child_nodes(node), True)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                if in_function:
                    inner.append(f"{label}:{node.lineno}: {ast.unparse(node)}")
                elif not (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
                    edges.update(t for t in _targets(module, is_package, node, mods)
                                 if t in mods and t != module and not module.startswith(t + "."))
            elif isinstance(node, ast.If) and _is_type_checking(node):
                visit(node.orelse, in_function)
            else:
                visit(ast.iter_child_nodes(node), in_function)

    visit(ast.parse(source).body, False)
    return edges, inner


def _circles(graph: dict) -> list:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def strong(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return found


def _scan_package():
    mods = _modules()
    graph, inner = {}, []
    for name, path in mods.items():
        graph[name], found = _scan(name, path.name == "__init__.py", path.read_text(encoding="utf-8"),
                                   str(path.relative_to(ROOT)), mods)
        inner += found
    return graph, inner


def test_the_scan_itself():
    """Circles are found; TYPE_CHECKING imports, a submodule's import of its parent
    and imports of names (not submodules) are read as the rules above say."""
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    mods = dict.fromkeys(["plugrad", "plugrad.p", "plugrad.p.z", "plugrad.x", "plugrad.y"])
    source = ("from __future__ import annotations\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
              "    from ..y import Y\nfrom .. import x, helper\nfrom . import name\nclass C:\n"
              "    def f(self):\n        from ..y import g\n")
    edges, inner = _scan("plugrad.p.z", False, source, "z.py", mods)
    assert edges == {"plugrad.x"}  # `helper` and `name` are names of the parents, loaded first anyway
    assert inner == ["z.py:9: from ..y import g"]


def test_no_module_level_import_circle():
    graph, _ = _scan_package()
    circles = _circles(graph)
    assert not circles, "modules that import each other at module level: " + \
        "; ".join(" <-> ".join(c) for c in circles)


def test_few_imports_inside_functions():
    _, inner = _scan_package()
    assert len(inner) <= MAX_FUNCTION_LEVEL_IMPORTS, (
        f"{len(inner)} function-level imports in core/src/plugrad, at most {MAX_FUNCTION_LEVEL_IMPORTS} allowed "
        f"(import downward at module level, or call up through plugrad.optable.ops):\n" + "\n".join(inner))


def _fresh_python(code: str, **env_extra) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), **env_extra)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def test_import_plugrad_in_a_fresh_interpreter():
    proc = _fresh_python("import plugrad; x = plugrad.ones(2, requires_grad=True); x.sum().backward(); "
                         "print(x.grad.tolist())")
    assert proc.returncode == 0 and proc.stdout.strip() == "[1.0, 1.0]", proc.stderr


def test_import_plugrad_without_plugin_autoload():
    proc = _fresh_python("import plugrad; from plugrad.plugins import device_types; print(sorted(device_types()))",
                         PLUGRAD_AUTOLOAD="0")
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stderr
