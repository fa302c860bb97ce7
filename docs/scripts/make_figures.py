"""Draw the documentation's figures: docs/assets/strides.svg (a 3x4 tensor, its
transpose and a slice over one storage) and docs/assets/autograd_graph.svg (the
graph of the Autograd page, drawn by plugrad.autograd.graphviz with Graphviz's dot).

    python docs/scripts/make_figures.py
"""

import pathlib

import plugrad as torch
from plugrad.autograd import graphviz

ASSETS = pathlib.Path(__file__).resolve().parents[1] / "assets"
CELL = 34


def _cells(x0, y0, values, highlight=(), label=""):
    out = [f'<text x="{x0}" y="{y0 - 8}" font-size="13" font-family="monospace">{label}</text>']
    for i, v in enumerate(values):
        fill = "#ffd27f" if i in highlight else "#e8eef7"
        out.append(f'<rect x="{x0 + i * CELL}" y="{y0}" width="{CELL}" height="{CELL}" fill="{fill}" stroke="#333"/>')
        out.append(f'<text x="{x0 + i * CELL + CELL / 2}" y="{y0 + 22}" font-size="13" text-anchor="middle" '
                   f'font-family="monospace">{v}</text>')
    return out


def _grid(x0, y0, t, label):
    out = [f'<text x="{x0}" y="{y0 - 8}" font-size="13" font-family="monospace">{label}</text>']
    rows = t.tolist()
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            out.append(f'<rect x="{x0 + c * CELL}" y="{y0 + r * CELL}" width="{CELL}" height="{CELL}" '
                       f'fill="#ffd27f" stroke="#333"/>')
            out.append(f'<text x="{x0 + c * CELL + CELL / 2}" y="{y0 + r * CELL + 22}" font-size="13" '
                       f'text-anchor="middle" font-family="monospace">{v}</text>')
    return out


def strides_svg() -> str:
    x = torch.arange(12).reshape(3, 4)
    views = [("x", x), ("x.t()", x.t()), ("x[1:, ::2]", x[1:, ::2])]
    captions = ("Left: one storage of 12 int64 elements; the elements each view reaches are orange.",
                "Right: the tensor each view shows.")
    parts = [f'<text x="20" y="{16 + 16 * i}" font-size="12" font-family="sans-serif">{c}</text>'
             for i, c in enumerate(captions)]
    y = 68
    storage = list(range(12))
    for name, v in views:
        offset, strides = v.storage_offset(), v.stride()
        used = sorted({offset + sum(i * s for i, s in zip(idx, strides)) for idx in _indices(v.shape)})
        title = f"{name}: shape {tuple(v.shape)}, stride {strides}, offset {offset}"
        parts += _cells(20, y, storage, used, title)
        parts += _grid(20 + 12 * CELL + 40, y, v, "")
        y += max(CELL, v.shape[0] * CELL) + 50
    width = 20 + 12 * CELL + 40 + 4 * CELL + 20
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" viewBox="0 0 {width} {y}">\n'
            '<rect width="100%" height="100%" fill="white"/>\n' + "\n".join(parts) + "\n</svg>\n")


def _indices(shape):
    if not shape:
        yield ()
        return
    for i in range(shape[0]):
        for rest in _indices(shape[1:]):
            yield (i,) + rest


def autograd_graph(path):
    x = torch.tensor(3.0, requires_grad=True)
    p = torch.ones(2, 2, requires_grad=True)
    z = (2 * x + p).sum()
    return graphviz.render(z, path, params={"x": x, "p": p})


if __name__ == "__main__":
    (ASSETS / "strides.svg").write_text(strides_svg())
    autograd_graph(ASSETS / "autograd_graph.svg")
    print("wrote", ASSETS / "strides.svg", "and", ASSETS / "autograd_graph.svg")
