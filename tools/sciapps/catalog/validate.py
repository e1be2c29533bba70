"""Running the rules over a catalog, one datalab at a time."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from sciapps.catalog.loader import iter_datalabs
from sciapps.catalog.model import Datalab
from sciapps.catalog.rules import ALL_RULES
from sciapps.catalog.rules.base import ERROR, Context, Finding, Rule
from sciapps.config import Config


def _excepted(lab: Datalab) -> set[str]:
    exceptions = lab.get("exceptions")
    if not isinstance(exceptions, list):
        return set()
    return {item.get("rule") for item in exceptions if isinstance(item, dict)}


def check_datalab(lab: Datalab, rules: Iterable[Rule], ctx: Context) -> list[Finding]:
    """Findings for one datalab. A rule is skipped when a rule it requires has fired."""
    fired: set[str] = set()
    excepted = _excepted(lab)
    findings: list[Finding] = []
    for rule in rules:
        if rule.needs_metadata and lab.metadata is None:
            continue
        if any(required.id in fired for required in rule.requires):
            continue
        for finding in rule.check(lab, ctx):
            if finding.rule_id in excepted and type(rule).exceptable:
                continue
            fired.add(finding.rule_id)
            findings.append(finding)
    return findings


@dataclass
class Summary:
    datalabs: int = 0
    errors: int = 0
    warnings: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.errors > 0


def validate(paths: Iterable[Path], config: Config, verbose: bool = False, summary: Summary | None = None) -> Iterator[Finding]:
    """Findings for every datalab under `paths`, datalab after datalab; fills `summary`."""
    ctx = Context(config=config, verbose=verbose)
    rules = [rule_class() for rule_class in ALL_RULES]
    summary = summary if summary is not None else Summary()
    for lab in iter_datalabs(paths, config.limits):
        findings = check_datalab(lab, rules, ctx)
        summary.datalabs += 1
        status = lab.get("status", "draft") if lab.metadata is not None else "unreadable"
        status = status if isinstance(status, str) else "unreadable"
        summary.by_status[status] = summary.by_status.get(status, 0) + 1
        for finding in findings:
            if finding.severity == ERROR:
                summary.errors += 1
            else:
                summary.warnings += 1
        yield from findings
