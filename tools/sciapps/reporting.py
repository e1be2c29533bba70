"""Printing findings: text for people, JSON and GitLab Code Quality for machines."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterable, TextIO

from sciapps.catalog.rules.base import ERROR, Finding
from sciapps.catalog.validate import Summary, default_jobs, validate
from sciapps.config import Config
from sciapps.errors import SciAppsError
from sciapps.safefiles import write_atomically

FORMATS = ("text", "json", "codequality")


def write_text(findings: Iterable[Finding], out: TextIO) -> None:
    for finding in findings:
        out.write(finding.format() + "\n")


def _fingerprint(finding: Finding) -> str:
    key = "\0".join((finding.rule_id, finding.file, finding.path or "", finding.message))
    return hashlib.sha256(key.encode()).hexdigest()


def codequality(findings: Iterable[Finding]) -> list[dict]:
    """GitLab Code Quality report entries (a JSON array), shown in merge requests."""
    return [
        {
            "description": f"{f.rule_id} {f.rule}: {f.message}" + (f" ({f.path})" if f.path else ""),
            "check_name": f.rule_id,
            "fingerprint": _fingerprint(f),
            "severity": "major" if f.severity == ERROR else "minor",
            "location": {"path": f.file, "lines": {"begin": f.line or 1}},
        }
        for f in findings
    ]


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def validate_and_report(
    config: Config,
    paths: tuple[Path, ...],
    fmt: str,
    output: Path | None,
    verbose: bool,
    jobs: int | None,
    out: TextIO,
    err: TextIO,
) -> Summary:
    """`sciapps validate`: check `paths` (default: the catalog), write the report in `fmt`
    to `output` or `out`, and the closing count line where a person reads it."""
    if not paths:
        if not config.catalog.is_dir():
            raise SciAppsError("no datalabs/ folder here", "run in a catalog repository or name the folders to check")
        paths = (config.catalog,)
    summary = Summary()
    stream = validate(paths, config, verbose=verbose, summary=summary, jobs=jobs or default_jobs())
    if fmt == "text" and output is None:
        write_text(stream, out)  # streamed: the first findings show at once
        findings: list[Finding] = []
    else:
        findings = list(stream)
    counts = {
        "datalabs": summary.datalabs,
        "errors": summary.errors,
        "warnings": summary.warnings,
        "by_status": summary.by_status,
    }
    if fmt == "json":
        report = json.dumps({"summary": counts, "findings": [f.as_dict() for f in findings]}, indent=2) + "\n"
    elif fmt == "codequality":
        report = json.dumps(codequality(findings), indent=2) + "\n"
    else:
        report = "".join(f.format() + "\n" for f in findings)
    if output is not None:
        write_atomically(output, report)
    else:
        out.write(report)
    statuses = ", ".join(f"{n} {status}" for status, n in sorted(summary.by_status.items()))
    line = (
        f"Checked {_count(summary.datalabs, 'datalab')}"
        + (f" ({statuses})" if statuses else "")
        + f": {_count(summary.errors, 'error')}, {_count(summary.warnings, 'warning')}."
    )
    (err if fmt != "text" and output is None else out).write(line + "\n")
    return summary
