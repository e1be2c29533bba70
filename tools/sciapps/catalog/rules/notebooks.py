"""Rules about Jupyter notebooks."""

from __future__ import annotations

import json
import warnings
from typing import Iterator

import nbformat
from nbformat.validator import get_validator

from sciapps.catalog.rules.base import Context, Finding, Rule
from sciapps.catalog.rules.files import FileTooLarge
from sciapps.safefiles import UnsafeFile


def notebook_problem(raw: bytes) -> tuple[str, int | None] | None:
    """Why `raw` is not a valid notebook (message, line), or None."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return f"is not UTF-8 text (byte 0x{raw[exc.start]:02x})", raw.count(b"\n", 0, exc.start) + 1
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"is not valid JSON: {exc.msg}", exc.lineno
    except RecursionError:
        return "nests too deeply to read", None
    if not isinstance(document, dict) or "nbformat" not in document:
        return "is JSON but not a Jupyter notebook (no nbformat field)", None
    if document.get("nbformat") != 4:
        return f"uses notebook format {document.get('nbformat')!r}; save it again with Jupyter (format 4)", None
    try:
        get_validator(version=4, version_minor=document.get("nbformat_minor", 0) or 0).validate(document)
    except nbformat.ValidationError:
        # Explain with nbformat's own full validation (slower, only for failures).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                nbformat.validate(document)
            except nbformat.ValidationError as exc:
                where = "/".join(str(p) for p in exc.absolute_path)
                message = str(exc.message) if hasattr(exc, "message") else str(exc).splitlines()[0]
                return f"is not a valid notebook (nbformat): {message}" + (f" at {where}" if where else ""), None
        return "is not a valid notebook (nbformat)", None
    return None


class InvalidNotebook(Rule):
    """A notebook is not a valid Jupyter notebook

    Every `.ipynb` file in the datalab must be a notebook in Jupyter's format 4 that
    nbformat validates, so JupyterLab opens it and CI can run it. A notebook broken by a
    merge conflict or edited by hand usually shows here with the line of the JSON error;
    open it in JupyterLab, fix it and save.
    """

    id = "DL-040"
    needs_metadata = False
    requires = (FileTooLarge,)
    hint = "open the notebook in JupyterLab and save it again, or resolve the merge conflict markers"

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        limit = ctx.config.limits.bytes("notebook_mb")
        for entry in lab.files:
            if entry.kind != "file" or not entry.path.endswith(".ipynb") or entry.size > limit:
                continue
            try:
                raw = lab.read(entry.path, limit)
            except UnsafeFile as exc:
                yield self.finding(lab, f"cannot be read ({exc})", file=entry.path, line=None)
                continue
            problem = notebook_problem(raw)
            if problem:
                yield self.finding(lab, problem[0], file=entry.path, line=problem[1])
