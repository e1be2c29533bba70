"""Printing findings: text for people, JSON and GitLab Code Quality for machines."""

from __future__ import annotations

import hashlib
import json
from typing import Iterable, TextIO

from sciapps.catalog.rules.base import ERROR, Finding

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


def write_json(findings: list[Finding], summary: dict, out: TextIO) -> None:
    json.dump({"summary": summary, "findings": [f.as_dict() for f in findings]}, out, indent=2)
    out.write("\n")
