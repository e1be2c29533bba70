"""What a merge request changes inside a notebook, for the moderator: nbdime's diff of
the old and new notebook, summarised for the Markdown report (cells added, removed and
changed, each changed cell's source diff, outputs changed, images changed or unchanged)
and written in full as a static HTML page, an artifact.

Every notebook here is merge-request content: read bounded, parsed with a bound on its
depth, diffed only up to MAX_CELLS cells, and shown escaped. The HTML page holds text
only, under a Content-Security-Policy that allows no script, no frame and no request:
a notebook's outputs (HTML, script, SVG) are shown as their source, never rendered.
"""

from __future__ import annotations

import difflib
import hashlib
import html
import io
import json
from dataclasses import dataclass, field

from sciapps.text import md_block, md_code, printable

MAX_CELLS = 2000  # beyond this, nbdime's cell matching takes too long for a report
MAX_SHOWN_CELLS = 20  # changed cells whose source diff the report shows
MAX_DIFF_LINES = 40  # lines of one cell's source diff in the report
MAX_HTML_CHARS = 2_000_000
MAX_DEPTH = 64
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml", "image/webp")
HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"


@dataclass
class NotebookDiff:
    path: str
    status: str  # added, changed, removed, unreadable
    lines: list[str] = field(default_factory=list)  # Markdown for the report
    html: str | None = None  # the full diff as a static page


def _depth(value, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of parsed JSON, without recursion: deep nesting is refused, not followed."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > limit:
            return depth
        if isinstance(item, dict):
            stack += [(v, depth + 1) for v in item.values()]
        elif isinstance(item, list):
            stack += [(v, depth + 1) for v in item]
    return deepest


def parse(text: str | None, limit_bytes: int) -> tuple[dict | None, str | None]:
    """(notebook, None) or (None, why it is not diffed)."""
    if text is None:
        return None, None
    if len(text.encode("utf-8", "surrogatepass")) > limit_bytes:
        return None, f"larger than {limit_bytes // 2**20} MiB: not diffed"
    try:
        data = json.loads(text)
    except RecursionError:
        return None, f"nested deeper than {MAX_DEPTH} levels: not diffed"
    except ValueError:
        return None, "not JSON: not diffed"
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return None, "not a notebook (no list of cells): not diffed"
    if _depth(data) > MAX_DEPTH:
        return None, f"nested deeper than {MAX_DEPTH} levels: not diffed"
    if len(data["cells"]) > MAX_CELLS:
        return None, f"{len(data['cells']):,} cells, more than the {MAX_CELLS:,} a report diffs: compare it by hand"
    for cell in data["cells"]:
        if not isinstance(cell, dict):
            return None, "a cell is not a mapping: not diffed"
    return data, None


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _images(nb: dict) -> set[str]:
    found = set()
    for cell in nb.get("cells", []):
        outputs = cell.get("outputs")
        for output in outputs if isinstance(outputs, list) else []:
            data = output.get("data") if isinstance(output, dict) else None
            if not isinstance(data, dict):
                continue
            for kind in IMAGE_TYPES:
                if kind in data:
                    value = data[kind]
                    blob = "".join(value) if isinstance(value, list) else str(value)
                    found.add(kind + ":" + hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest())
    return found


def _cells_diff(diff: list) -> list:
    return next((d.get("diff", []) for d in diff if d.get("op") == "patch" and d.get("key") == "cells"), [])


def _empty() -> dict:
    return {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def summarise(path: str, old_text: str | None, new_text: str | None, limit_bytes: int) -> NotebookDiff:
    """The diff of one notebook between the target branch (`old_text`, None when added) and
    the merge request (`new_text`, None when removed)."""
    status = "added" if old_text is None else "removed" if new_text is None else "changed"
    old, old_problem = parse(old_text, limit_bytes)
    new, new_problem = parse(new_text, limit_bytes)
    problem = new_problem or old_problem
    if problem:
        return NotebookDiff(path, "unreadable", [f"- {md_code(path)}: {printable(problem)}"])
    import nbformat
    from nbdime import diff_notebooks
    from nbformat.v4.rwbase import rejoin_lines  # sources as one text each, as nbformat.reads gives them

    old, new = (rejoin_lines(nbformat.from_dict(nb or _empty())) for nb in (old, new))

    try:
        diff = diff_notebooks(old, new)
    except Exception as exc:  # nbdime on a malformed notebook: say so, never stop the report
        return NotebookDiff(path, "unreadable", [f"- {md_code(path)}: nbdime cannot diff it ({printable(type(exc).__name__)})"])
    ops = sorted(_cells_diff(diff), key=lambda d: d.get("key", 0))
    added = sum(len(d.get("valuelist", [])) for d in ops if d.get("op") == "addrange")
    removed = sum(int(d.get("length", 0)) for d in ops if d.get("op") == "removerange")
    changed = [d for d in ops if d.get("op") == "patch"]
    outputs_changed = sum(1 for d in changed if any(p.get("key") == "outputs" for p in d.get("diff", [])))
    before, after = _images(old), _images(new)
    kept, gone, came = len(before & after), len(before - after), len(after - before)
    head = (
        f"- {md_code(path)} ({status}): {added} cell(s) added, {removed} removed, {len(changed)} changed"
        f" ({outputs_changed} with changed outputs); images: {kept} unchanged, {came} new or changed, {gone} gone"
    )
    lines = [head]
    shift_added, shift_removed = 0, 0
    shown = 0
    for d in ops:
        key = d.get("key", 0)
        if d.get("op") == "addrange":
            shift_added += len(d.get("valuelist", []))
            continue
        if d.get("op") == "removerange":
            shift_removed += int(d.get("length", 0))
            continue
        if d.get("op") != "patch" or not any(p.get("key") == "source" for p in d.get("diff", [])):
            continue
        if shown >= MAX_SHOWN_CELLS:
            lines.append(f"  - … {len(changed) - shown} more changed cell(s): see the full diff")
            break
        old_cell = old["cells"][key]
        new_index = key + shift_added - shift_removed
        new_cell = new["cells"][new_index] if 0 <= new_index < len(new["cells"]) else {}
        udiff = list(
            difflib.unified_diff(
                _source(old_cell).splitlines(), _source(new_cell).splitlines(), "before", "after", lineterm="", n=1
            )
        )[2:]
        cut = len(udiff) > MAX_DIFF_LINES
        body = "\n".join(line[:200] for line in udiff[:MAX_DIFF_LINES]) + ("\n… (cut: see the full diff)" if cut else "")
        lines += [f"  - cell {key + 1} → {new_index + 1} ({printable(str(new_cell.get('cell_type', '?')))[:20]}):", ""]
        lines += ["    " + line for line in md_block(body, limit=12_000)]
        lines.append("")
        shown += 1
    return NotebookDiff(path, status, lines, _html(path, old, new, diff))


def _html(path: str, old: dict, new: dict, diff: list) -> str:
    """nbdime's full text diff of the notebook as a static page: escaped text, no script."""
    from nbdime.prettyprint import PrettyPrintConfig, pretty_print_diff

    out = io.StringIO()
    try:
        pretty_print_diff(old, diff, "", PrettyPrintConfig(out=out, use_color=False, use_git=False, use_diff=True))
        text = out.getvalue()
    except Exception as exc:  # the summary stands; the page says why it has no full diff
        text = f"nbdime could not print this diff ({type(exc).__name__})."
    if len(text) > MAX_HTML_CHARS:
        text = text[:MAX_HTML_CHARS] + f"\n\n… cut at {MAX_HTML_CHARS:,} characters."
    title = html.escape(f"Notebook diff: {path}")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{HTML_CSP}">'
        f"<title>{title}</title>"
        "<style>body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem}pre{white-space:pre-wrap;word-break:break-all}</style>"
        f"</head><body><h1>{title}</h1><p>Merge-request content, shown as text: nothing in it is rendered or run.</p>"
        f"<pre>{html.escape(printable_block(text))}</pre></body></html>\n"
    )


def printable_block(text: str) -> str:
    """Text with its invisible and control characters shown as escapes, lines kept."""
    return "\n".join(printable(line) for line in text.split("\n"))
