"""Every ```python block of the documentation runs.

The blocks of one page run in order in one namespace (a page reads as one
session), in a temporary working directory. A comment on the line before a block
changes how it runs:

* ``<!-- needs-device: TYPE -->``: runs where that device is available (it is in CI,
  which installs PoCL), and is skipped with that reason elsewhere;
* ``<!-- env: NAME=VALUE ... -->``: runs in a fresh interpreter with those
  environment variables (for switches read at ``import plugrad``);
* ``<!-- not-run: REASON -->``: skipped, and must say why.
"""

import os
import pathlib
import re
import subprocess
import sys

import pytest

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs"
FENCE = re.compile(r"^(?P<indent>[ ]*)```(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```[ ]*$", re.M | re.S)
NOT_RUN = re.compile(r"<!--\s*not-run:\s*(?P<reason>.*?)\s*-->\s*$")
DIRECTIVE = re.compile(r"<!--\s*(?P<kind>needs-device|env):\s*(?P<arg>.*?)\s*-->\s*$")


def python_blocks(text):
    """(line number, code, skip reason or None) for each ```python block of a page."""
    blocks = []
    for m in FENCE.finditer(text):
        if m.group("info").strip().split(" ")[0] != "python":
            continue
        before = text[:m.start()].rstrip().splitlines()
        skip = NOT_RUN.search(before[-1]) if before else None
        directive = DIRECTIVE.search(before[-1]) if before else None
        indent = len(m.group("indent"))
        code = "\n".join(line[indent:] for line in m.group("body").splitlines())
        blocks.append((text.count("\n", 0, m.start()) + 1, code, skip.group("reason") if skip else None,
                       (directive.group("kind"), directive.group("arg")) if directive else None))
    return blocks


def _run_in_subprocess(code, assignments, where):
    env = dict(os.environ)
    env.update(pair.split("=", 1) for pair in assignments.split())
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, f"the code block at {where} failed in a subprocess:\n{proc.stderr}"


PAGES = sorted(DOCS.rglob("*.md"))


def test_pages_have_python_blocks():
    assert sum(len(python_blocks(p.read_text())) for p in PAGES) >= 30


def test_skips_give_a_reason():
    for page in PAGES:
        for line, _, reason, _ in python_blocks(page.read_text()):
            assert reason is None or len(reason) >= 10, f"{page}:{line}: a not-run block needs a reason"


@pytest.mark.parametrize("page", [p for p in PAGES if python_blocks(p.read_text())],
                         ids=lambda p: str(p.relative_to(DOCS)))
def test_page_code_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    ran = 0
    for line, code, reason, directive in python_blocks(page.read_text()):
        if reason is not None:
            continue
        where = f"{page.relative_to(DOCS)} line {line}"
        if directive is not None and directive[0] == "env":
            _run_in_subprocess(code, directive[1], where)
            ran += 1
            continue
        if directive is not None and directive[0] == "needs-device":
            import plugrad
            if not getattr(plugrad, directive[1]).is_available():
                continue
        try:
            exec(compile(code, f"{page}:{line}", "exec"), namespace)
        except Exception as exc:
            raise AssertionError(f"the code block at {page.relative_to(DOCS)} line {line} failed: "
                                 f"{type(exc).__name__}: {exc}") from exc
        ran += 1
    assert ran > 0
