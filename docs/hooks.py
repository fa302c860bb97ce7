"""MkDocs hook: the table of Tensor methods and properties on the API page of Tensor.

Most methods are bound at import time from the op functions (``plugrad/ops/methods.py``),
so a static reader of ``tensor.py`` cannot see them. The table is built by importing
plugrad, so it always lists what ``Tensor`` really has.
"""

import inspect

MARKER = "<!-- tensor-methods -->"


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


def on_page_markdown(markdown, page, config, files):
    if MARKER in markdown:
        return markdown.replace(MARKER, tensor_table())
    return markdown
