"""The notebook diffs of the moderation report (sciapps.review.notebooks): what nbdime finds,
summarised; and hostile notebooks, which get a bounded, escaped report and a static page
that runs nothing."""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from sciapps.review.notebooks import HTML_CSP, MAX_CELLS, summarise
from tests.conftest import XMM

LIMIT = 10 * 2**20  # the catalog's notebook_mb


def notebook(*cells, outputs=None) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    for number, cell in enumerate(nb.cells):
        cell["id"] = f"c{number}"
    for index, out in (outputs or {}).items():
        nb.cells[index].outputs = out
    return nbformat.writes(nb)


def png(data: str):
    return [nbformat.v4.new_output("display_data", data={"image/png": data})]


def test_cells_added_removed_changed_with_source_diffs_and_images():
    old = notebook("import numpy as np", "x = 1\nprint(x)", "plot()", "gone = True", outputs={2: png("AAAA")})
    new = notebook("import numpy as np", "x = 2\nprint(x)", "plot()", "added = 1", "more = 2", outputs={2: png("BBBB")})
    d = summarise("notebooks/fit.ipynb", old, new, LIMIT)
    text = "\n".join(d.lines)
    assert d.status == "changed"
    assert text.startswith("- `notebooks/fit.ipynb` (changed): ")
    assert "1 cell(s) added" in text and "changed (1 with changed outputs)" in text
    assert "images: 0 unchanged, 1 new or changed, 1 gone" in text
    assert "-x = 1\n    +x = 2" in text  # the source diff of the changed cell
    assert d.html.startswith("<!doctype html>") and HTML_CSP in d.html


def test_unchanged_images_are_said_unchanged():
    old = notebook("plot()", "a = 1", outputs={0: png("AAAA")})
    new = notebook("plot()", "a = 2", outputs={0: png("AAAA")})
    assert "images: 1 unchanged, 0 new or changed, 0 gone" in summarise("n.ipynb", old, new, LIMIT).lines[0]


def _no_active_content(page: str) -> None:
    body = page.split("<body>", 1)[1]
    assert not re.search(r"<(script|iframe|img|svg|object|embed|style|link|meta)\b", body, re.I)
    assert not re.search(r"\son\w+\s*=", body.split("<pre>", 1)[0])


HOSTILE_OUTPUT = [
    nbformat.v4.new_output(
        "display_data",
        data={
            "text/html": "<script>alert('pwned')</script><img src=x onerror=alert(1)>",
            "image/svg+xml": "<svg onload=alert(2)></svg>",
            "application/javascript": "alert(3)",
        },
    )
]


@pytest.mark.parametrize(
    "name,old,new,said",
    [
        ("script", notebook("a"), notebook("a", outputs={0: HOSTILE_OUTPUT}), "1 with changed outputs"),
        (
            "markdown injection",
            notebook("a"),
            notebook("a\n```\n</details><script>alert(1)</script>\n# Approved by the moderators\n| a | b |\n````"),
            "1 changed",
        ),
        (
            "huge output",
            notebook("a"),
            notebook("a", outputs={0: [nbformat.v4.new_output("stream", text="x" * (50 * 2**20))]}),
            "larger than 10 MiB: not diffed",
        ),
        (
            "10,000 cells",
            notebook("a"),
            notebook(*[f"c{i}" for i in range(10_000)]),
            f"more than the {MAX_CELLS:,} a report diffs",
        ),
        ("deep nesting", notebook("a"), '{"cells": [], "metadata": ' + "[" * 5000 + "]" * 5000 + "}", "nested deeper than"),
        ("not json", notebook("a"), "{" * 100_000, "not JSON"),
        ("bidi name", notebook("a"), notebook("b"), "\\u202e"),
    ],
)
def test_a_hostile_notebook_gets_a_bounded_escaped_report_and_a_page_that_runs_nothing(name, old, new, said):
    path = "notebooks/evil\u202e.ipynb" if name == "bidi name" else "notebooks/evil.ipynb"
    d = summarise(path, old, new, LIMIT)
    text = "\n".join(d.lines)
    assert said in text
    assert len(text) < 40_000  # bounded, whatever the notebook holds
    assert "\u202e" not in text
    # every line of merge-request text sits inside a code span or a fence longer than any run inside it
    stripped = [line.strip() for line in d.lines]
    fences = [i for i, line in enumerate(stripped) if re.fullmatch(r"`{3,}", line)]
    if fences:
        fence = stripped[fences[0]]
        inside = "\n".join(stripped[fences[0] + 1 : fences[-1]])
        assert stripped[fences[-1]] == fence and len(fence) > max((len(r) for r in re.findall("`+", inside)), default=0)
    if d.html is not None:
        assert len(d.html) < 2_100_000
        _no_active_content(d.html)
        assert "&lt;script&gt;" in d.html or name != "script"


def test_the_report_lists_a_changed_notebook_and_writes_its_page(tmp_path):
    import shutil

    import git

    from sciapps.config import load_config
    from sciapps.review.moderation import load_roles, report
    from tests.conftest import REPO

    root = tmp_path / "repo"
    shutil.copytree(REPO / "datalabs" / "xmm-epic-spectrum-fit", root / "datalabs" / "xmm-epic-spectrum-fit")
    for name in ("sciapps.yaml", "roles.yaml"):
        shutil.copy(REPO / name, root / name)
    repo = git.Repo.init(root)
    repo.git.add(A=True)
    actor = git.Actor("Ada", "ada@example.org")
    repo.index.commit("base", author=actor, committer=actor)
    folder = root / "datalabs" / "xmm-epic-spectrum-fit"
    nb = nbformat.read(folder / "notebooks" / "spectrum_fit.ipynb", as_version=4)
    nb.cells[2].source = nb.cells[2].source.replace("max_energy_kev = 10.0", "max_energy_kev = 9.0")
    nb.cells.append(nbformat.v4.new_markdown_cell("## <script>alert(1)</script> Notes"))
    nb.cells[-1]["id"] = "notes"
    nbformat.write(nb, folder / "notebooks" / "spectrum_fit.ipynb")
    meta = (folder / "datalab.yaml").read_text()
    (folder / "datalab.yaml").write_text(meta.replace(f"version: {XMM}", "version: 99.0.0", 1))
    config = load_config(root / "sciapps.yaml")
    text, _ = report(config, "HEAD", "jruiz", load_roles(config), tmp_path / "review-notebooks")
    assert f"| `version` | `{XMM}` | `99.0.0` |" in text
    assert "- `notebooks/spectrum_fit.ipynb` (changed): 1 cell(s) added, 0 removed, 1 changed" in text
    assert "-max_energy_kev = 10.0" in text and "+max_energy_kev = 9.0" in text
    page = (tmp_path / "review-notebooks" / "xmm-epic-spectrum-fit" / "notebooks" / "spectrum_fit.ipynb.diff.html").read_text()
    assert "max_energy_kev = 9.0" in page and "&lt;script&gt;" in page
    _no_active_content(page)
    json.dumps(text)  # plain text
