"""The validate stage: every rule on every datalab given, by the same check as `sciapps
validate` (one door); a verdict per datalab."""

from __future__ import annotations

from typing import Sequence

from sciapps.catalog.model import Datalab
from sciapps.catalog.rules.base import ERROR
from sciapps.catalog.validate import check, default_jobs
from sciapps.config import Config
from sciapps.schema import is_datalab_id
from sciapps.results import record
from sciapps.stages.base import Log, Options, StageReport, Verdict

NAME = "validate"
GATES = True
WHOLE_CATALOG = True  # every datalab, not only the changed ones
SHOWN_AS_CHECK = False  # the review validates again with the target branch's rules
NEEDS: tuple[str, ...] = ()
LEAVES: tuple[str, ...] = ()
NEEDS_BASES = False


def argv(ids: Sequence[str], options: Options) -> list[str]:
    return ["validate"]


def run(config: Config, labs: Sequence[Datalab], options: Options, log: Log) -> StageReport:
    """`sciapps validate`'s own check (`catalog.validate.check`, the one door) of `labs`'
    folders, with one verdict recorded per datalab."""
    report = StageReport(NAME)
    warnings = 0
    for checked in check([lab.dir for lab in labs], config, jobs=default_jobs()):
        for finding in checked.findings:
            log(finding.format())
        errors = [f for f in checked.findings if f.severity == ERROR]
        warnings += len(checked.findings) - len(errors)
        words = f"{len(errors)} error(s), {len(checked.findings) - len(errors)} warning(s)"
        verdict = Verdict(
            "failed" if errors else "passed",
            ("clean" if not checked.findings else words),
            {"findings": [f.as_dict() for f in checked.findings]},
        )
        name = checked.folder.name
        if is_datalab_id(name):  # anything else names no results folder; its findings say so
            record(
                config.path_of(config.results_dir),
                name,
                NAME,
                verdict.status,
                verdict.summary,
                (checked.metadata or {}).get("version"),
                verdict.details,
            )
        (report.failed if errors else report.passed).append(name)
    log(f"Checked {len(labs)} datalab{'s' if len(labs) != 1 else ''}: {len(report.failed)} with errors, {warnings} warning(s).")
    return report
