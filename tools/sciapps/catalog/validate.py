"""Running the rules over a catalog, one datalab at a time, in one or several processes."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from sciapps.catalog.loader import discover, load_datalab
from sciapps.catalog.model import Datalab
from sciapps.catalog.rules import ALL_RULES
from sciapps.catalog.rules.base import ERROR, Context, Finding, Rule
from sciapps.config import Config

CHUNK = 128  # datalabs per task sent to a worker process


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

    def add(self, status: str, findings: list[Finding]) -> None:
        self.datalabs += 1
        self.by_status[status] = self.by_status.get(status, 0) + 1
        for finding in findings:
            if finding.severity == ERROR:
                self.errors += 1
            else:
                self.warnings += 1


def _status(lab: Datalab) -> str:
    status = lab.get("status", "draft") if lab.metadata is not None else "unreadable"
    return status if isinstance(status, str) else "unreadable"


# ------------------------------------------------------------------ workers

_worker: tuple[list[Rule], Context] | None = None


def _start_worker(ctx: Context) -> None:
    global _worker
    _worker = ([rule_class() for rule_class in ALL_RULES], ctx)


@dataclass(frozen=True)
class Checked:
    """One datalab after validation: its findings and, when it loaded, its metadata."""

    folder: Path
    status: str
    findings: list[Finding]
    metadata: dict | None
    files: tuple

    @property
    def ok(self) -> bool:
        return self.metadata is not None and not any(f.severity == ERROR for f in self.findings)


def _check_chunk(folders: list[Path]) -> list[Checked]:
    assert _worker is not None
    rules, ctx = _worker
    out = []
    for folder in folders:
        lab = load_datalab(folder, ctx.config.limits)
        metadata = dict(lab.metadata) if lab.metadata is not None else None
        out.append(Checked(folder, _status(lab), check_datalab(lab, rules, ctx), metadata, lab.files))
    return out


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def check(paths: Iterable[Path], config: Config, verbose: bool = False, jobs: int = 1) -> Iterator[Checked]:
    """Every datalab under `paths`, checked, in catalog order.

    Datalabs are loaded and checked one at a time (memory stays flat); with `jobs` > 1
    chunks of them go to worker processes, and come back in order.
    """
    folders = discover(paths)
    first: dict[str, Path] = {}
    for folder in folders:
        first.setdefault(folder.name, folder)
    ctx = Context(config=config, verbose=verbose, first_dir=first)
    chunks = [folders[i : i + CHUNK] for i in range(0, len(folders), CHUNK)]
    if jobs > 1 and len(chunks) > 1:
        pool = ProcessPoolExecutor(max_workers=jobs, initializer=_start_worker, initargs=(ctx,))
        results = pool.map(_check_chunk, chunks)
    else:
        pool = None
        _start_worker(ctx)
        results = map(_check_chunk, chunks)
    try:
        for chunk in results:
            yield from chunk
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def validate(
    paths: Iterable[Path], config: Config, verbose: bool = False, summary: Summary | None = None, jobs: int = 1
) -> Iterator[Finding]:
    """Findings for every datalab under `paths`, in catalog order; fills `summary`."""
    summary = summary if summary is not None else Summary()
    for checked in check(paths, config, verbose, jobs):
        summary.add(checked.status, checked.findings)
        yield from checked.findings


def errors_of(lab: Datalab, config: Config) -> list[Finding]:
    """The errors every rule finds in one loaded datalab (the gate of the later stages)."""
    findings = check_datalab(lab, [rule() for rule in ALL_RULES], Context(config=config))
    return [f for f in findings if f.severity == ERROR]
