"""Errors for names plugrad does not have, telling PyTorch's names from typos.

A program written for PyTorch that reaches ``torch.linalg.foo`` where plugrad has no
``foo`` should learn that the name is real PyTorch API that plugrad lacks (and where the
status of every name is listed), rather than suspect its own spelling. The list of
PyTorch's applicable names is ``_pytorch_names.json``, written by
``scripts/api_coverage.py generate``; namespaces (``plugrad``, ``plugrad.nn``,
``plugrad.linalg``...) call ``missing_attribute`` from their module-level ``__getattr__``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

__all__ = ["missing_attribute", "pytorch_names"]

COVERAGE_PAGE = "docs/coverage.md"


@lru_cache(maxsize=None)
def pytorch_names() -> dict:
    """``{namespace: frozenset(names)}``: namespaces as in the data file (``"torch"``,
    ``"Tensor"``, ``"nn.functional"``...)."""
    data = json.loads((Path(__file__).with_name("_pytorch_names.json")).read_text())
    return {ns: frozenset(names) for ns, names in data["namespaces"].items()}


def _namespace(module_name: str) -> str:
    if module_name == "plugrad":
        return "torch"
    return module_name[len("plugrad."):] if module_name.startswith("plugrad.") else module_name


def missing_attribute(module_name: str, name: str, type_name: str = "Tensor"):
    """Raise the AttributeError for ``module_name.name`` (``module_name`` is plugrad's
    dotted name, e.g. ``"plugrad.nn.functional"`` or ``"plugrad.Tensor"``).

    For a name PyTorch has in that namespace, the message says so and points to the
    coverage page; for any other name it is Python's usual message (for
    ``"plugrad.Tensor"``, about a ``type_name`` object: the subclass, e.g. Parameter)."""
    namespace = _namespace(module_name)
    if name in pytorch_names().get(namespace, ()):
        torch_name = "torch." + name if namespace == "torch" else f"torch.{namespace}.{name}"
        raise AttributeError(f"{module_name} has no attribute '{name}': PyTorch has {torch_name}, plugrad does not "
                             f"have it yet; the list of PyTorch names and their status is at {COVERAGE_PAGE}",
                             name=name)
    if namespace == "Tensor":
        raise AttributeError(f"'{type_name}' object has no attribute '{name}'", name=name)
    raise AttributeError(f"module '{module_name}' has no attribute '{name}'", name=name)
