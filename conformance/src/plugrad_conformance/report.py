"""The pass/fail matrix (op x dtype x check) as text, Markdown and HTML.

Rows are ops, grouped by family; columns are checks. A check that runs once per
dtype shows one mark per dtype, in the order of :data:`DTYPE_ORDER`. Marks:
``.`` pass, ``F`` fail, ``s`` skipped, ``x`` expected failure (declared by the
plugin), ``X`` declared failure that passed, blank: not applicable.
"""

from __future__ import annotations

import html
import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass

from .checks import CHECKS
from .streams import CHECK_DOC, CHECK_NAME
from .checks.base import PREFERRED

__all__ = ["Result", "Matrix", "MARKS", "DTYPE_ORDER"]

DTYPE_ORDER = PREFERRED
_SHORT = {"float32": "f32", "float64": "f64", "float16": "f16", "int64": "i64", "int32": "i32", "int16": "i16",
          "int8": "i8", "uint8": "u8", "bool": "b"}
MARKS = {"passed": ".", "failed": "F", "skipped": "s", "xfailed": "x", "xpassed": "X"}
_WORDS = {"passed": "pass", "failed": "FAIL", "skipped": "skip", "xfailed": "xfail", "xpassed": "xpass"}
_PER_DTYPE = ("forward", "roundtrip", "fused")


@dataclass
class Result:
    """The outcome of one case."""

    op: str
    family: str
    check: str
    dtype: str
    outcome: str          # passed | failed | skipped | xfailed | xpassed
    message: str = ""


class Matrix:
    """Results of one run, and their renderings."""

    def __init__(self, results, device: str, profile: str = "ci", seconds: float | None = None):
        self.results = list(results)
        self.device = device
        self.profile = profile
        self.seconds = seconds
        self._cells = defaultdict(dict)           # (op) -> {(check, dtype): Result}
        self._family = {}
        for r in self.results:
            self._cells[r.op][(r.check, r.dtype)] = r
            self._family[r.op] = r.family
        present = {r.check for r in self.results}
        self.checks = [c.name for c in CHECKS if c.name in present] + sorted(present - {c.name for c in CHECKS})

    # ---- summaries --------------------------------------------------------------------
    def counts(self) -> Counter:
        return Counter(r.outcome for r in self.results)

    @property
    def failed(self) -> list:
        return [r for r in self.results if r.outcome == "failed"]

    def summary(self) -> str:
        c = self.counts()
        parts = [f"{c.get(k, 0)} {_WORDS[k]}" for k in ("passed", "failed", "skipped", "xfailed", "xpassed")
                 if c.get(k)]
        t = f" in {self.seconds:.1f}s" if self.seconds is not None else ""
        return (f"plugrad conformance on device '{self.device}' (profile {self.profile}): {len(self.results)} "
                f"cases, {', '.join(parts) or 'nothing ran'}{t}")

    def _ops(self):
        return sorted(self._cells, key=lambda o: (self._family.get(o, ""), o))

    def _cell_results(self, op, check):
        cells = self._cells[op]
        return [cells[k] for k in sorted((k for k in cells if k[0] == check),
                                         key=lambda k: DTYPE_ORDER.index(k[1]) if k[1] in DTYPE_ORDER else -1)]

    def _mark(self, op, check) -> str:
        rs = self._cell_results(op, check)
        if check in _PER_DTYPE:
            by = {r.dtype: r for r in rs}
            return "".join(MARKS[by[d].outcome] if d in by else " " for d in DTYPE_ORDER) if rs else ""
        if not rs:
            return ""
        for outcome in ("failed", "xpassed", "xfailed", "passed", "skipped"):
            if any(r.outcome == outcome for r in rs):
                return MARKS[outcome]
        return "?"

    def _reasons(self, outcome) -> list:
        return [r for r in self.results if r.outcome == outcome]

    def json(self) -> str:
        """Every result, machine-readable (for CI dashboards and the suite's own tests)."""
        return json.dumps({"device": self.device, "profile": self.profile, "seconds": self.seconds,
                           "counts": dict(self.counts()), "results": [asdict(r) for r in self.results]},
                          indent=1) + "\n"

    # ---- text --------------------------------------------------------------------------
    def text(self) -> str:
        ops = self._ops()
        width = max([len(o) for o in ops] + [2]) + 1
        widths = {c: (len(DTYPE_ORDER) if c in _PER_DTYPE else max(len(c), 1)) for c in self.checks}
        head = "op".ljust(width) + " ".join(c.ljust(widths[c])[:widths[c]] for c in self.checks)
        lines = [self.summary(), "",
                 f"marks: . pass  F fail  s skip  x expected failure  X unexpected pass; per-dtype columns "
                 f"({', '.join(self.checks[i] for i in range(len(self.checks)) if self.checks[i] in _PER_DTYPE)}) "
                 f"list {' '.join(_SHORT[d] for d in DTYPE_ORDER)}", "", head]
        family = None
        for op in ops:
            if self._family.get(op) != family:
                family = self._family.get(op)
                lines.append(f"-- {family}")
            lines.append(op.ljust(width) + " ".join(self._mark(op, c).ljust(widths[c]) for c in self.checks))
        lines += self._details_text()
        return "\n".join(lines)

    def _details_text(self) -> list:
        out = []
        if self.failed:
            out += ["", f"FAILURES ({len(self.failed)})"]
            for r in self.failed:
                out.append(f"- {r.op} [{r.check}, {r.dtype}]: {r.message}")
        for outcome, title in (("xpassed", "DECLARED FAILURES THAT PASSED (remove the declaration)"),
                               ("xfailed", "EXPECTED FAILURES (declared by the device plugin)")):
            rs = self._reasons(outcome)
            if rs:
                out += ["", f"{title} ({len(rs)})"]
                out += [f"- {r.op} [{r.check}, {r.dtype}]: {r.message.splitlines()[0] if r.message else ''}"
                        for r in rs]
        skips = Counter(r.message for r in self._reasons("skipped"))
        if skips:
            out += ["", f"SKIPPED ({sum(skips.values())}), by reason"]
            out += [f"- {n} x {reason}" for reason, n in skips.most_common()]
        return out

    # ---- Markdown -------------------------------------------------------------------------
    def _word_cell(self, op, check) -> str:
        rs = self._cell_results(op, check)
        if not rs:
            return ""
        if check in _PER_DTYPE:
            groups = defaultdict(list)
            for r in rs:
                groups[r.outcome].append(_SHORT.get(r.dtype, r.dtype))
            return "; ".join(f"{_WORDS[o]} {' '.join(ds)}" for o, ds in groups.items())
        outcomes = {r.outcome for r in rs}
        word = next(_WORDS[o] for o in ("failed", "xpassed", "xfailed", "passed", "skipped") if o in outcomes)
        return word if len(rs) == 1 or rs[0].dtype in ("-", "mixed") else f"{word} ({rs[0].dtype})"

    def markdown(self) -> str:
        c = self.counts()
        lines = [f"# plugrad conformance: device `{self.device}`", "", self.summary(), "",
                 "| outcome | cases |", "| --- | --- |"]
        lines += [f"| {_WORDS[k]} | {c.get(k, 0)} |" for k in ("passed", "failed", "skipped", "xfailed", "xpassed")]
        lines += ["", "## Checks", ""] + [f"- **{name}**: {doc}" for name, doc in _check_docs() if name in self.checks]
        lines += ["", "## Matrix", "", "| op | " + " | ".join(self.checks) + " |",
                  "| --- |" + " --- |" * len(self.checks)]
        for op in self._ops():
            lines.append(f"| `{op}` | " + " | ".join(self._word_cell(op, ch) for ch in self.checks) + " |")
        if self.failed:
            lines += ["", "## Failures", ""]
            for r in self.failed:
                lines += [f"### `{r.op}` {r.check} ({r.dtype})", "", "```", r.message, "```", ""]
        for outcome, title in (("xfailed", "Expected failures"), ("xpassed", "Declared failures that passed")):
            rs = self._reasons(outcome)
            if rs:
                lines += ["", f"## {title}", ""]
                lines += [f"- `{r.op}` {r.check} ({r.dtype}): {r.message.splitlines()[0] if r.message else ''}"
                          for r in rs]
        skips = Counter(r.message for r in self._reasons("skipped"))
        if skips:
            lines += ["", "## Skipped, by reason", ""]
            lines += [f"- {n} x {reason}" for reason, n in skips.most_common()]
        return "\n".join(lines) + "\n"

    # ---- HTML ------------------------------------------------------------------------------
    def html(self) -> str:
        e = html.escape
        colors = {"passed": "#c8f0c8", "failed": "#f4a6a6", "skipped": "#e8e8e8", "xfailed": "#f6e3a1",
                  "xpassed": "#f6c98a"}
        rows = []
        for op in self._ops():
            cells = [f"<th>{e(op)}</th>"]
            for ch in self.checks:
                rs = self._cell_results(op, ch)
                if not rs:
                    cells.append("<td></td>")
                    continue
                parts = []
                for r in rs:
                    label = _SHORT.get(r.dtype, "") if ch in _PER_DTYPE or r.dtype not in ("-", "mixed") else ""
                    parts.append(f"<span class='c' style='background:{colors[r.outcome]}' "
                                 f"title='{e(r.dtype)}: {e(r.outcome)} {e(r.message)}'>"
                                 f"{e(label or MARKS[r.outcome])}</span>")
                cells.append("<td>" + "".join(parts) + "</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        details = "".join(f"<h3>{e(r.op)} {e(r.check)} ({e(r.dtype)})</h3><pre>{e(r.message)}</pre>"
                          for r in self.failed)
        skips = Counter(r.message for r in self._reasons("skipped"))
        skip_list = "".join(f"<li>{n} &times; {e(reason)}</li>" for reason, n in skips.most_common())
        legend = "".join(f"<span class='c' style='background:{colors[k]}'>{_WORDS[k]}</span> " for k in colors)
        return ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
                f"<title>plugrad conformance: {e(self.device)}</title><style>"
                "body{font-family:sans-serif} table{border-collapse:collapse} td,th{border:1px solid #ccc;"
                "padding:2px 4px;font-size:12px;text-align:left} .c{display:inline-block;min-width:1.6em;"
                "margin:0 1px;text-align:center;font-family:monospace}</style></head><body>"
                f"<h1>plugrad conformance: device <code>{e(self.device)}</code></h1><p>{e(self.summary())}</p>"
                f"<p>{legend} (hover a cell for its message)</p><ul>"
                + "".join(f"<li><b>{e(c.name)}</b>: {e(c.doc)}</li>" for c in CHECKS if c.name in self.checks)
                + "</ul>"
                "<table><tr><th>op</th>" + "".join(f"<th>{e(c)}</th>" for c in self.checks) + "</tr>"
                + "".join(rows) + "</table>"
                + (f"<h2>Failures</h2>{details}" if details else "")
                + (f"<h2>Skipped, by reason</h2><ul>{skip_list}</ul>" if skip_list else "")
                + "</body></html>\n")


def _check_docs() -> list:
    """``(name, doc)`` of every check: the matrix's op checks, then the random streams'."""
    return [(c.name, c.doc) for c in CHECKS] + [(CHECK_NAME, CHECK_DOC)]
