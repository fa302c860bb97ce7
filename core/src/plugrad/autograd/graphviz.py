"""A picture of the graph behind a tensor: Graphviz DOT source, and rendering with
the ``dot`` program when it is installed.

Drawn in the forward direction: leaves (blue boxes, named from ``params`` when
given) flow into the backward nodes of the ops that used them (named like
``MulBackward0``), and those into the outputs (green). Each edge carries the shape
(and dtype) of the tensor that flowed along it in the forward pass.
"""

from __future__ import annotations

import shutil
import subprocess

from ..dtypes import dtype_from_name
from ..tensor import Tensor
from .graph import AccumulateGrad

__all__ = ["to_dot", "render"]

_LEAF_STYLE = 'shape=box, style=filled, fillcolor="lightblue"'
_OUTPUT_STYLE = 'shape=box, style=filled, fillcolor="darkseagreen2"'
_OP_STYLE = 'shape=box, style="rounded,filled", fillcolor="lightgray"'


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _shape_text(shape, dtype=None) -> str:
    text = "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"
    if dtype is not None and dtype.name != "float32":
        text += " " + dtype.name
    return text


def _as_tensors(tensors):
    if isinstance(tensors, Tensor):
        return (tensors,)
    tensors = tuple(tensors)
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"to_dot() expects a Tensor or a sequence of Tensors; item {i} is {type(t).__name__}")
    return tensors


def to_dot(tensors, params=None, graph_name: str = "plugrad") -> str:
    """DOT source of the graph that produced ``tensors`` (a tensor or a sequence).

    ``params`` maps names to leaf tensors (``dict(model.named_parameters())``) so that
    leaves are labelled by name; other leaves are labelled "leaf". Backward nodes are
    labelled with their PyTorch name; edges with the forward shapes."""
    outputs = _as_tensors(tensors)
    names = {id(t): name for name, t in (params or {}).items()}
    ids = {}
    lines = [f"digraph {_quote(graph_name)} {{", '  node [fontname="Helvetica", fontsize=11];',
             '  edge [fontname="Helvetica", fontsize=9];', "  rankdir=TB;"]

    def node_id(node):
        if node not in ids:
            ids[node] = f"n{len(ids)}"
        return ids[node]

    def leaf_label(t):
        name = names.get(id(t))
        return f"{name if name else 'leaf'}\n{_shape_text(t._shape, t._dtype)}"

    stack = []
    for k, out in enumerate(outputs):
        out_id = f"out{k}"
        label = f"output {k}\n{_shape_text(out._shape, out._dtype)}" if len(outputs) > 1 else \
            f"output\n{_shape_text(out._shape, out._dtype)}"
        lines.append(f"  {out_id} [label={_quote(label)}, {_OUTPUT_STYLE}];")
        fn = out.grad_fn
        if fn is None:
            if out.requires_grad:
                lines[-1] = f"  {out_id} [label={_quote(leaf_label(out) + chr(10) + '(output)')}, {_LEAF_STYLE}];"
            continue
        if fn not in ids:
            stack.append(fn)
        lines.append(f"  {node_id(fn)} -> {out_id};")
    seen = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        nid = node_id(node)
        if type(node) is AccumulateGrad:
            lines.append(f"  {nid} [label={_quote(leaf_label(node.variable))}, {_LEAF_STYLE}];")
            continue
        lines.append(f"  {nid} [label={_quote(node.name())}, {_OP_STYLE}];")
        metas = node._in_meta
        for (nxt, nr), shape, dtype_name in zip(node.next_functions, metas[::2], metas[1::2]):
            if nxt is None:
                continue
            label = _shape_text(shape, dtype_from_name(dtype_name)) if shape is not None else ""
            if nxt.n_outputs > 1:
                label += f" [out {nr}]"
            lines.append(f"  {node_id(nxt)} -> {nid} [label={_quote(label)}];")
            if nxt not in seen:
                stack.append(nxt)
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(tensors, path, format: str = "svg", params=None) -> str:
    """Write a picture of the graph to ``path`` with Graphviz's ``dot`` (``format``
    "svg", "png", "pdf"...). Returns ``path``. Raises RuntimeError when ``dot`` is
    not installed: ``to_dot()`` still gives the source then."""
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError("render() needs the Graphviz 'dot' program, which was not found on PATH; install "
                           "Graphviz, or use plugrad.autograd.graphviz.to_dot() to get the DOT source")
    source = to_dot(tensors, params=params)
    done = subprocess.run([exe, f"-T{format}", "-o", str(path)], input=source, text=True, capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"dot failed (exit status {done.returncode}): {done.stderr.strip()}")
    return str(path)
