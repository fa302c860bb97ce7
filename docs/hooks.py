"""MkDocs hook: tables built from the code when the site is built.

* ``<!-- tensor-methods -->``: the Tensor methods and properties. Most are bound at
  import time from the op declarations (``plugrad/ops/declare.py``), so a static
  reader of ``tensor.py`` cannot see them; importing plugrad lists what ``Tensor``
  really has.
* ``<!-- declared-ops -->``: every declared op with the forms its declaration gives
  (function, method, in-place method) and the module that declares it.
* ``<!-- api-coverage -->``: PyTorch's applicable public names (the list
  ``scripts/api_coverage.py generate`` writes) with plugrad's status for each, and the
  total figure, computed from the plugrad being documented.
"""

import importlib.util
import inspect
from pathlib import Path

MARKER = "<!-- tensor-methods -->"
OPS_MARKER = "<!-- declared-ops -->"
COVERAGE_MARKER = "<!-- api-coverage -->"


def _summary(obj) -> str:
    doc = inspect.getdoc(obj) or ""
    first = doc.strip().split("\n\n")[0].replace("\n", " ")
    return first.replace("|", "\\|")


def _origin(obj) -> str:
    module = getattr(obj, "__module__", "") or ""
    name = getattr(obj, "__name__", "")
    return f"`{module}.{name}`" if module and name else ""


def tensor_table() -> str:
    import plugrad

    rows = ["| name | kind | defined in | summary |", "| --- | --- | --- | --- |"]
    for name in sorted(vars(plugrad.Tensor)):
        if name.startswith("_"):
            continue
        attr = vars(plugrad.Tensor)[name]
        if isinstance(attr, property):
            rows.append(f"| `{name}` | property | {_origin(attr.fget)} | {_summary(attr.fget)} |")
        elif callable(attr):
            rows.append(f"| `{name}()` | method | {_origin(attr)} | {_summary(attr)} |")
    return "\n".join(rows)


def declared_ops_table() -> str:
    from plugrad.ops.declare import DECLARATIONS

    rows = ["| op | function | method | in-place | declared in | summary |", "| --- | --- | --- | --- | --- | --- |"]
    for d in sorted(DECLARATIONS.values(), key=lambda d: d.name):
        functions = ", ".join(f"`plugrad.{n}`" for n in (d.name, *d.aliases)) if d.public else ""
        methods = ", ".join(f"`{n}`" for n in d.methods)
        inplace = ", ".join(f"`{n}`" for n in d.inplace)
        rows.append(f"| `{d.name}` | {functions} | {methods} | {inplace} | `{d.family}` | {_summary(d.fn)} |")
    return "\n".join(rows)


def coverage_page() -> str:
    path = Path(__file__).resolve().parents[1] / "scripts" / "api_coverage.py"
    spec = importlib.util.spec_from_file_location("api_coverage", path)
    api_coverage = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(api_coverage)
    return api_coverage.markdown(api_coverage.load())


def on_page_markdown(markdown, page, config, files):
    if MARKER in markdown:
        markdown = markdown.replace(MARKER, tensor_table())
    if OPS_MARKER in markdown:
        markdown = markdown.replace(OPS_MARKER, declared_ops_table())
    if COVERAGE_MARKER in markdown:
        markdown = markdown.replace(COVERAGE_MARKER, coverage_page())
    return markdown
