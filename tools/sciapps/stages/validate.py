"""The validate stage: every rule on every datalab given; a verdict per datalab."""

from __future__ import annotations

from typing import Sequence

from sciapps.catalog.model import Datalab
from sciapps.catalog.rules import ALL_RULES
from sciapps.catalog.rules.base import ERROR, Context
from sciapps.catalog.validate import check_datalab
from sciapps.config import Config
from sciapps.schema import is_datalab_id
from sciapps.stages.base import Log, Options, StageReport, Verdict, keep

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
    first: dict = {}
    for lab in labs:
        first.setdefault(lab.dir_name, lab.dir)
    ctx = Context(config=config, first_dir=first)
    rules = [rule() for rule in ALL_RULES]
    report = StageReport(NAME)
    warnings = 0
    for lab in labs:
        findings = check_datalab(lab, rules, ctx)
        for finding in findings:
            log(finding.format())
        errors = [f for f in findings if f.severity == ERROR]
        warnings += len(findings) - len(errors)
        words = f"{len(errors)} error(s), {len(findings) - len(errors)} warning(s)"
        verdict = Verdict(
            "failed" if errors else "passed", ("clean" if not findings else words), {"findings": [f.as_dict() for f in findings]}
        )
        if is_datalab_id(lab.dir_name):  # anything else names no results folder; its findings say so
            keep(config, lab, NAME, verdict)
        (report.failed if errors else report.passed).append(lab.dir_name)
    log(f"Checked {len(labs)} datalab{'s' if len(labs) != 1 else ''}: {len(report.failed)} with errors, {warnings} warning(s).")
    return report
