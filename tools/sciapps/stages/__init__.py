"""The stages of a datalab's journey, one module each, and the one list that orders them.

`STAGES` is read by `sciapps ci` (which calls each stage's `run`), by the review and the
store's Checks section (which show the verdicts in this order), and by the stage-result
schema, whose `stage` enum `sciapps schema generate` writes from it. Adding a stage is a
module of the same shape (`sciapps.stages.base.Stage`) and one entry here.
"""

from __future__ import annotations

from typing import Sequence

from sciapps.catalog.changes import changed_ids
from sciapps.catalog.loader import resolve
from sciapps.config import Config
from sciapps.stages import build, chart, scan, test, validate
from sciapps.stages.base import Log, Options, Stage, StageReport

STAGES: tuple[Stage, ...] = (validate, build, scan, test, chart)


def by_name(name: str) -> Stage:
    return next(stage for stage in STAGES if stage.NAME == name)


def run_one(
    config: Config, name: str, ids: Sequence[str], options: Options, log: Log, changed_since: str | None = None
) -> StageReport:
    """One stage on the named datalabs, or on those changed since a revision, as `sciapps
    build/scan/test/chart` run it; a changed folder that is not a datalab id is left out, with a warning."""
    if changed_since is not None:
        ids, warnings = changed_ids(config, changed_since)
        for warning in warnings:
            log(warning)
        log(f"changed since {changed_since}: {', '.join(ids) if ids else 'no datalab'}")
    report = by_name(name).run(config, resolve(config, list(ids)), options, log)
    if report.failed:
        log(f"{len(report.failed)} of {len(ids)} failed: {', '.join(report.failed)}")
    return report


def checks() -> tuple[str, ...]:
    """The stages whose verdicts are shown as checks, in order."""
    return tuple(stage.NAME for stage in STAGES if stage.SHOWN_AS_CHECK)


__all__ = ["Options", "STAGES", "Stage", "StageReport", "by_name", "checks", "run_one"]
